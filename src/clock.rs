//! The time as mcpauth's own decisions see it: when a token counts as stale, when it was
//! obtained, how long a failed refresh is shared. It reaches the code through the
//! context, so that tests move it instead of sleeping.
//!
//! Only the time mcpauth keeps for itself goes through it. What is said to another party
//! (the `iat` of a client assertion) and the waits on the network (deadlines, polling
//! intervals) use the system's time.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::error::{Error, Result};

/// For tests that run the binary: how far ahead of the system's time the process's
/// clock runs, in milliseconds. A test "lets an hour pass" by starting the next process
/// an hour ahead.
pub const AHEAD_VAR: &str = "MCPAUTH_TEST_CLOCK_AHEAD_MS";

/// The system's time, plus however far a test moved it. Clones share one clock.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    ahead_ms: Arc<AtomicU64>,
}

impl Clock {
    /// The system's time.
    pub fn system() -> Self {
        Self::default()
    }

    /// The system's time, moved ahead by [`AHEAD_VAR`] when that is set.
    pub fn from_env() -> Result<Self> {
        let clock = Self::system();
        match std::env::var(AHEAD_VAR) {
            Ok(v) if !v.trim().is_empty() => {
                let ms = v.trim().parse::<u64>().map_err(|_| {
                    Error::Usage(format!(
                        "{AHEAD_VAR} is `{}`: expected a whole number of milliseconds",
                        v.escape_debug()
                    ))
                })?;
                clock.advance(Duration::from_millis(ms));
            }
            _ => {}
        }
        Ok(clock)
    }

    /// Moves the clock forward (for every clone).
    pub fn advance(&self, by: Duration) {
        let ms = u64::try_from(by.as_millis()).unwrap_or(u64::MAX);
        self.ahead_ms.fetch_add(ms, Ordering::Relaxed);
    }

    fn ahead(&self) -> Duration {
        Duration::from_millis(self.ahead_ms.load(Ordering::Relaxed))
    }

    /// Unix milliseconds: token lifetimes can be a few seconds, so expiry is kept finer
    /// than whole seconds.
    pub fn now_ms(&self) -> i64 {
        let ahead = i64::try_from(self.ahead_ms.load(Ordering::Relaxed)).unwrap_or(i64::MAX);
        system_now_ms().saturating_add(ahead)
    }

    /// Unix seconds.
    pub fn now_secs(&self) -> i64 {
        self.now_ms() / 1000
    }

    /// A point on the monotonic clock, moved as [`Clock::now_ms`] is: for measuring how
    /// long ago something happened in this process.
    pub fn instant(&self) -> Instant {
        let now = Instant::now();
        now.checked_add(self.ahead()).unwrap_or(now)
    }
}

/// Unix milliseconds by the system's clock, for what is said to others.
pub fn system_now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// A unix time as local wall-clock time, e.g. `2026-11-24 15:05`.
pub fn local_time(unix: i64) -> String {
    match jiff::Timestamp::from_second(unix) {
        Ok(ts) => ts
            .to_zoned(jiff::tz::TimeZone::system())
            .strftime("%Y-%m-%d %H:%M %Z")
            .to_string(),
        Err(_) => unix.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_moved_clock_moves_for_every_clone_and_both_kinds_of_time() {
        let clock = Clock::system();
        let other = clock.clone();
        let (wall, mono) = (clock.now_ms(), clock.instant());
        other.advance(Duration::from_secs(3600));
        assert!(clock.now_ms() - wall >= 3_600_000);
        assert!(clock.instant().duration_since(mono) >= Duration::from_secs(3600));
        // The system's own time did not move.
        assert!(system_now_ms() < clock.now_ms() - 3_000_000);
    }
}
