//! The OS keychain through `keyring-core`: Secret Service on Linux, the login keychain on
//! macOS, Credential Manager on Windows.
//!
//! Every call runs on its own thread and is abandoned after a timeout: a keychain that
//! waits for a password prompt nobody will see must not hang `mcpauth token` forever.
//! A fresh thread also keeps the stores' blocking D-Bus calls away from any async
//! runtime the caller may be on (zbus in tokio mode panics when blocked on a worker).
//!
//! Errors are sorted into the cases a person acts on differently: nothing to talk to
//! (then `--store auto` may fall back to the file store), locked (unlock it, never fall
//! back), no answer in time, and anything else.
//!
//! Windows keeps at most 2,560 bytes per credential, so there a longer value is split:
//! the entry itself then holds a small header naming numbered part entries written
//! beside it. Parts carry a random generation in their names so that a reader never mixes
//! the parts of two writes.

use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use keyring_core::api::CredentialStore;
use keyring_core::{Entry, Error as KeyringError};

use super::StoreError;

/// How long one keychain call may take before we give up on it.
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(20);

/// The most one credential holds on this platform, counted in bytes of its UTF-16 form
/// (how the Windows store keeps text); `None` where there is no practical limit.
#[cfg(windows)]
pub(crate) const PART_LIMIT: Option<usize> = Some(2560);
#[cfg(not(windows))]
pub(crate) const PART_LIMIT: Option<usize> = None;

const HEADER_PREFIX: &str = "mcpauth-parts/1:";

pub(crate) struct Keychain {
    service: String,
    timeout: Duration,
    part_limit: Option<usize>,
    /// The connection, made on first use and shared by later calls.
    store: Mutex<Option<Arc<CredentialStore>>>,
    /// Linux: the plain session reads go through, made on first use; `None` inside when
    /// it could not be made (then everything goes through `store`).
    #[cfg(target_os = "linux")]
    reader: std::sync::OnceLock<Option<Arc<plain::Reader>>>,
}

impl Keychain {
    pub(crate) fn new(service: &str) -> Self {
        Self {
            service: service.to_owned(),
            timeout: DEFAULT_TIMEOUT,
            part_limit: PART_LIMIT,
            store: Mutex::new(None),
            #[cfg(target_os = "linux")]
            reader: std::sync::OnceLock::new(),
        }
    }

    pub(crate) fn set_timeout(&mut self, timeout: Duration) {
        self.timeout = timeout;
    }

    #[cfg(test)]
    pub(crate) fn set_part_limit(&mut self, limit: Option<usize>) {
        self.part_limit = limit;
    }

    /// Whether the platform keychain answers, reaching it once: later calls reuse the
    /// connection. Fails with [`StoreError::KeychainUnreachable`] when there is nothing
    /// to talk to.
    pub(crate) fn connect(&self) -> Result<(), StoreError> {
        #[cfg(target_os = "linux")]
        if self.reader()?.is_some() {
            return Ok(());
        }
        let store = self.store()?;
        // Making a macOS or Windows store does no I/O at all: only a read tells.
        if cfg!(not(target_os = "linux")) {
            let service = self.service.clone();
            timed(self.timeout, "reaching the keychain".into(), move || {
                probe(&store, &service)
            })?;
        }
        Ok(())
    }

    /// The keyring store, connected once.
    fn store(&self) -> Result<Arc<CredentialStore>, StoreError> {
        let mut slot = self.store.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(store) = slot.as_ref() {
            return Ok(store.clone());
        }
        let store = timed(self.timeout, "connecting to the keychain".into(), || {
            platform_store().map_err(unreachable_or_locked)
        })?;
        *slot = Some(store.clone());
        Ok(store)
    }

    pub(crate) fn get(&self, key: &str) -> Result<Option<String>, StoreError> {
        #[cfg(target_os = "linux")]
        if self.part_limit.is_none()
            && let Some(reader) = self.reader()?
        {
            let (service, user) = (self.service.clone(), key.to_owned());
            let read = timed(self.timeout, format!("reading `{key}`"), move || {
                Ok(reader.read(&service, &user))
            })?;
            match read {
                plain::Read::Found(value) if parse_header(&value).is_none() => {
                    return Ok(Some(value));
                }
                plain::Read::Missing => return Ok(None),
                plain::Read::Found(_) | plain::Read::Elsewhere => {}
            }
        }
        let (store, service, key_owned, limit) = self.prepare(key)?;
        timed(self.timeout, format!("reading `{key}`"), move || {
            read_value(&store, &service, &key_owned, limit)
        })
    }

    pub(crate) fn set(&self, key: &str, value: &str) -> Result<(), StoreError> {
        let (store, service, key_owned, limit) = self.prepare(key)?;
        let value = value.to_owned();
        timed(self.timeout, format!("writing `{key}`"), move || {
            write_value(&store, &service, &key_owned, &value, limit)
        })
    }

    /// Removes `key` (and its parts); a missing entry is not an error.
    pub(crate) fn delete(&self, key: &str) -> Result<(), StoreError> {
        let (store, service, key_owned, limit) = self.prepare(key)?;
        timed(self.timeout, format!("deleting `{key}`"), move || {
            delete_value(&store, &service, &key_owned, limit)
        })
    }

    /// What a call's thread needs, owned (the thread may outlive the call on timeout).
    fn prepare(
        &self,
        key: &str,
    ) -> Result<(Arc<CredentialStore>, String, String, Option<usize>), StoreError> {
        Ok((
            self.store()?,
            self.service.clone(),
            key.to_owned(),
            self.part_limit,
        ))
    }
}

#[cfg(target_os = "linux")]
impl Keychain {
    /// The plain-session reader, connected once; `Ok(None)` when the Secret Service
    /// would not open one (the keyring store then reports what is wrong).
    fn reader(&self) -> Result<Option<Arc<plain::Reader>>, StoreError> {
        if let Some(reader) = self.reader.get() {
            return Ok(reader.clone());
        }
        let reader = timed(self.timeout, "connecting to the keychain".into(), || {
            Ok(plain::Reader::connect()
                .inspect_err(|e| tracing::debug!("no plain Secret Service session: {e}"))
                .ok())
        })?;
        Ok(self.reader.get_or_init(|| reader).clone())
    }
}

/// Linux: reads over a plain Secret Service session.
///
/// The keyring store always opens an encrypted session, a Diffie-Hellman exchange that
/// is most of what `mcpauth token` costs. That encryption covers a secret only on its
/// way over the user's session bus, where any process of the same user may ask the
/// Secret Service for the same secret directly; so reads take the plain session that
/// the specification requires every provider to offer, and writes stay with the
/// keyring store. Items are found by the attributes the keyring store writes. Anything
/// but one unlocked match (a locked item, several matches, an error) is left to the
/// keyring store, which knows how to unlock and how to say what is wrong.
#[cfg(target_os = "linux")]
mod plain {
    use std::collections::HashMap;
    use std::sync::Mutex;

    use secret_service::EncryptionType;
    use secret_service::blocking::SecretService;

    pub(super) struct Reader(Mutex<SecretService<'static>>);

    pub(super) enum Read {
        Found(String),
        Missing,
        /// For the keyring store to answer.
        Elsewhere,
    }

    impl Reader {
        pub(super) fn connect() -> Result<std::sync::Arc<Reader>, secret_service::Error> {
            let ss = SecretService::connect(EncryptionType::Plain)?;
            Ok(std::sync::Arc::new(Reader(Mutex::new(ss))))
        }

        pub(super) fn read(&self, service: &str, user: &str) -> Read {
            let ss = self.0.lock().unwrap_or_else(|p| p.into_inner());
            let attributes = HashMap::from([("service", service), ("username", user)]);
            let Ok(found) = ss.search_items(attributes) else {
                return Read::Elsewhere;
            };
            match (found.unlocked.as_slice(), found.locked.is_empty()) {
                ([], true) => Read::Missing,
                ([item], true) => item
                    .get_secret()
                    .ok()
                    .and_then(|bytes| String::from_utf8(bytes).ok())
                    .map_or(Read::Elsewhere, Read::Found),
                _ => Read::Elsewhere,
            }
        }
    }
}

#[cfg(target_os = "linux")]
fn platform_store() -> keyring_core::Result<Arc<CredentialStore>> {
    Ok(zbus_secret_service_keyring_store::Store::new()?)
}

#[cfg(target_os = "macos")]
fn platform_store() -> keyring_core::Result<Arc<CredentialStore>> {
    Ok(apple_native_keyring_store::keychain::Store::new()?)
}

#[cfg(windows)]
fn platform_store() -> keyring_core::Result<Arc<CredentialStore>> {
    Ok(windows_native_keyring_store::Store::new()?)
}

#[cfg(not(any(target_os = "linux", target_os = "macos", windows)))]
fn platform_store() -> keyring_core::Result<Arc<CredentialStore>> {
    Err(KeyringError::NotSupportedByStore(
        "mcpauth has no keychain support on this platform".into(),
    ))
}

/// Runs `f` on a fresh thread and waits at most `timeout` for it. On timeout the thread
/// is left to finish or hang on its own; it holds nothing the caller needs.
fn timed<T: Send + 'static>(
    timeout: Duration,
    op: String,
    f: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    let (tx, rx) = mpsc::sync_channel(1);
    std::thread::Builder::new()
        .name("mcpauth-keychain".into())
        .spawn(move || {
            let _ = tx.send(f());
        })
        .map_err(|e| StoreError::Keychain {
            op: op.clone(),
            detail: format!("cannot start a thread: {e}"),
        })?;
    match rx.recv_timeout(timeout) {
        Ok(result) => result.map_err(|e| e.with_op(&op)),
        Err(RecvTimeoutError::Timeout) => Err(StoreError::KeychainTimeout {
            op,
            waited: timeout,
        }),
        Err(RecvTimeoutError::Disconnected) => Err(StoreError::Keychain {
            op,
            detail: "the keychain library panicked".into(),
        }),
    }
}

/// A failure to connect: locked stays locked, anything else means there is no
/// keychain to talk to.
fn unreachable_or_locked(err: KeyringError) -> StoreError {
    match err {
        KeyringError::NoStorageAccess(e) => StoreError::KeychainLocked {
            detail: e.to_string(),
        },
        other => StoreError::KeychainUnreachable {
            reason: unreachable_reason(&other),
        },
    }
}

/// Says in plain words why the keychain could not be reached: no bus at all, or a bus
/// with no Secret Service on it.
fn unreachable_reason(err: &KeyringError) -> String {
    let KeyringError::PlatformFailure(inner) = err else {
        return describe(err);
    };
    let text = inner.to_string();
    let text = text.strip_prefix("zbus error: ").unwrap_or(&text);
    let mut io_failure = false;
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(inner.as_ref());
    while let Some(e) = source {
        io_failure |= e.is::<std::io::Error>();
        source = e.source();
    }
    let unset =
        if cfg!(target_os = "linux") && std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_none() {
            "DBUS_SESSION_BUS_ADDRESS is not set; "
        } else {
            ""
        };
    if io_failure || text.contains("Failed to connect") {
        format!("no D-Bus session bus: {unset}{text}")
    } else if text.contains("ServiceUnknown") || text.contains("NameHasNoOwner") {
        format!("no Secret Service on the D-Bus session bus: {text}")
    } else if text.contains("no secret service provider") {
        format!("no D-Bus session bus or no Secret Service on it: {unset}{text}")
    } else {
        text.to_owned()
    }
}

/// Text for a keyring error that never includes stored bytes (some variants carry the
/// raw value, which may be a token).
fn describe(err: &KeyringError) -> String {
    match err {
        KeyringError::PlatformFailure(e) => e.to_string(),
        KeyringError::NoStorageAccess(e) => format!("no access to the keychain: {e}"),
        KeyringError::NoEntry => "no such entry".into(),
        KeyringError::BadEncoding(_) => "the stored value is not UTF-8 text".into(),
        KeyringError::BadDataFormat(..) => "the stored value is not in the expected format".into(),
        KeyringError::BadStoreFormat(why) => {
            format!("the keychain is not in the expected format: {why}")
        }
        KeyringError::TooLong(what, limit) => {
            format!("`{what}` is longer than the keychain allows ({limit})")
        }
        KeyringError::Invalid(what, why) => format!("invalid `{what}`: {why}"),
        KeyringError::Ambiguous(entries) => format!(
            "{} keychain entries match; remove all but one (Seahorse, Keychain Access or Credential Manager)",
            entries.len()
        ),
        KeyringError::NoDefaultStore => "no keychain store is set up".into(),
        KeyringError::NotSupportedByStore(why) => why.clone(),
        _ => "an error the keychain library did not describe".into(),
    }
}

/// macOS's errSecInteractionNotAllowed: the keychain is locked and no password prompt
/// can be shown (an SSH session, a launch agent before login).
const MAC_INTERACTION_NOT_ALLOWED: i32 = -25308;

/// The OSStatus of a macOS keychain error, read from its `Debug` text
/// (`Error { code: -25308, message: "…" }`): the store crate passes on only the codes it
/// knows, and hands the rest over as a boxed error that cannot be downcast from here.
fn mac_status(debug: &str) -> Option<i32> {
    let rest = &debug[debug.find("code: ")? + "code: ".len()..];
    let end = rest
        .char_indices()
        .find(|&(i, c)| !(c.is_ascii_digit() || (i == 0 && c == '-')))
        .map_or(rest.len(), |(i, _)| i);
    rest[..end].parse().ok()
}

/// Maps an error from an entry operation (after a successful connect).
fn entry_error(err: KeyringError) -> StoreError {
    match err {
        KeyringError::NoStorageAccess(e) => StoreError::KeychainLocked {
            detail: e.to_string(),
        },
        KeyringError::PlatformFailure(e)
            if cfg!(target_os = "macos")
                && mac_status(&format!("{e:?}")) == Some(MAC_INTERACTION_NOT_ALLOWED) =>
        {
            StoreError::KeychainLocked {
                detail: e.to_string(),
            }
        }
        other => StoreError::Keychain {
            op: String::new(),
            detail: describe(&other),
        },
    }
}

fn entry(store: &Arc<CredentialStore>, service: &str, user: &str) -> Result<Entry, StoreError> {
    Entry::new_in_store(store, service, user).map_err(entry_error)
}

/// Reads an entry that is never written, to learn whether the keychain answers (macOS
/// and Windows). Being refused access there means this session has no keychain at all
/// (Windows: a service, or SSH with a key; macOS: no login keychain, or one that is not
/// valid): nothing a person could unlock, so the file store may stand in. A locked macOS
/// keychain stays locked.
fn probe(store: &Arc<CredentialStore>, service: &str) -> Result<(), StoreError> {
    let no_access = |e: KeyringError| match e {
        KeyringError::NoStorageAccess(e) => StoreError::KeychainUnreachable {
            reason: format!("{NO_KEYCHAIN_HERE} ({e})"),
        },
        other => entry_error(other),
    };
    let entry = Entry::new_in_store(store, service, "mcpauth-connect-probe").map_err(no_access)?;
    match entry.get_password() {
        Ok(_) | Err(KeyringError::NoEntry) => Ok(()),
        Err(e) => Err(no_access(e)),
    }
}

#[cfg(windows)]
const NO_KEYCHAIN_HERE: &str = "this logon session has no credential store";
#[cfg(not(windows))]
const NO_KEYCHAIN_HERE: &str = "this session has no usable keychain";

fn read_raw(
    store: &Arc<CredentialStore>,
    service: &str,
    user: &str,
) -> Result<Option<String>, StoreError> {
    match entry(store, service, user)?.get_password() {
        Ok(v) => Ok(Some(v)),
        Err(KeyringError::NoEntry) => Ok(None),
        Err(e) => Err(entry_error(e)),
    }
}

fn write_raw(
    store: &Arc<CredentialStore>,
    service: &str,
    user: &str,
    value: &str,
) -> Result<(), StoreError> {
    entry(store, service, user)?
        .set_password(value)
        .map_err(entry_error)
}

fn delete_raw(store: &Arc<CredentialStore>, service: &str, user: &str) -> Result<(), StoreError> {
    match entry(store, service, user)?.delete_credential() {
        Ok(()) | Err(KeyringError::NoEntry) => Ok(()),
        Err(e) => Err(entry_error(e)),
    }
}

fn read_value(
    store: &Arc<CredentialStore>,
    service: &str,
    key: &str,
    limit: Option<usize>,
) -> Result<Option<String>, StoreError> {
    // Two tries: a writer may replace the header (and drop the old parts) between our
    // reading the header and reading its parts; its new header names parts that exist.
    for _ in 0..2 {
        let Some(head) = read_raw(store, service, key)? else {
            return Ok(None);
        };
        let Some((generation, count)) = parse_header(&head) else {
            return Ok(Some(head));
        };
        let mut parts = Vec::with_capacity(count);
        for i in 1..=count {
            match read_raw(store, service, &part_name(key, &generation, i))? {
                Some(part) => parts.push(part),
                None => break,
            }
        }
        if parts.len() == count {
            return Ok(Some(join_parts(&parts)));
        }
        if limit.is_none() {
            break;
        }
    }
    Err(StoreError::Keychain {
        op: String::new(),
        detail: "the entry is split into parts and some are missing; log in again".into(),
    })
}

fn write_value(
    store: &Arc<CredentialStore>,
    service: &str,
    key: &str,
    value: &str,
    limit: Option<usize>,
) -> Result<(), StoreError> {
    let Some(limit) = limit else {
        return write_raw(store, service, key, value);
    };
    let old = read_raw(store, service, key)?.and_then(|h| parse_header(&h));
    if stored_len(value) <= limit {
        write_raw(store, service, key, value)?;
    } else {
        let generation = format!("{:08x}", rand::random::<u32>());
        let parts = split_value(value, limit);
        for (i, part) in parts.iter().enumerate() {
            write_raw(store, service, &part_name(key, &generation, i + 1), part)?;
        }
        write_raw(store, service, key, &header(&generation, parts.len()))?;
    }
    if let Some((generation, count)) = old {
        delete_parts(store, service, key, &generation, count)?;
    }
    Ok(())
}

fn delete_value(
    store: &Arc<CredentialStore>,
    service: &str,
    key: &str,
    limit: Option<usize>,
) -> Result<(), StoreError> {
    let old = match limit {
        Some(_) => read_raw(store, service, key)?.and_then(|h| parse_header(&h)),
        None => None,
    };
    delete_raw(store, service, key)?;
    if let Some((generation, count)) = old {
        delete_parts(store, service, key, &generation, count)?;
    }
    Ok(())
}

fn delete_parts(
    store: &Arc<CredentialStore>,
    service: &str,
    key: &str,
    generation: &str,
    count: usize,
) -> Result<(), StoreError> {
    for i in 1..=count {
        delete_raw(store, service, &part_name(key, generation, i))?;
    }
    Ok(())
}

/// Bytes of `s` as the Windows store keeps it (UTF-16).
pub(crate) fn stored_len(s: &str) -> usize {
    s.encode_utf16().count() * 2
}

/// Cuts `value` into pieces of at most `limit` stored bytes each, never inside a
/// character. `limit` must hold the widest character (4 bytes).
pub(crate) fn split_value(value: &str, limit: usize) -> Vec<&str> {
    assert!(limit >= 4, "a part must hold at least one character");
    let mut parts = Vec::new();
    let mut start = 0;
    let mut used = 0;
    for (at, ch) in value.char_indices() {
        let width = ch.len_utf16() * 2;
        if used + width > limit {
            parts.push(&value[start..at]);
            start = at;
            used = 0;
        }
        used += width;
    }
    if start < value.len() || parts.is_empty() {
        parts.push(&value[start..]);
    }
    parts
}

pub(crate) fn join_parts(parts: &[String]) -> String {
    parts.concat()
}

pub(crate) fn header(generation: &str, count: usize) -> String {
    format!("{HEADER_PREFIX}{generation}:{count}")
}

/// `Some((generation, count))` when `value` is a parts header. Real values are JSON
/// objects or client secrets, neither of which looks like this.
pub(crate) fn parse_header(value: &str) -> Option<(String, usize)> {
    let rest = value.strip_prefix(HEADER_PREFIX)?;
    let (generation, count) = rest.split_once(':')?;
    let count: usize = count.parse().ok()?;
    let sane = !generation.is_empty()
        && generation.bytes().all(|b| b.is_ascii_hexdigit())
        && (1..=1000).contains(&count);
    sane.then(|| (generation.to_owned(), count))
}

pub(crate) fn part_name(key: &str, generation: &str, i: usize) -> String {
    format!("{key}#{generation}.{i}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_keeps_every_part_within_the_limit_and_joins_back() {
        let long_ascii = "x".repeat(6000);
        let mixed = "aé€😀".repeat(500);
        for value in [long_ascii.as_str(), mixed.as_str(), "short", ""] {
            for limit in [4, 5, 64, 2560] {
                let parts = split_value(value, limit);
                assert!(!parts.is_empty());
                for p in &parts {
                    assert!(
                        stored_len(p) <= limit,
                        "part of {} > {limit}",
                        stored_len(p)
                    );
                }
                let owned: Vec<String> = parts.iter().map(|p| p.to_string()).collect();
                assert_eq!(join_parts(&owned), value);
            }
        }
        assert_eq!(split_value(&long_ascii, 2560).len(), 5); // 1280 characters each
        assert_eq!(split_value("short", 2560), vec!["short"]);
    }

    #[test]
    fn headers_round_trip_and_real_values_are_not_headers() {
        let h = header("0badcafe", 3);
        assert_eq!(parse_header(&h), Some(("0badcafe".into(), 3)));
        assert!(stored_len(&h) <= 2560);
        for not in [
            r#"{"access_token":"x"}"#,
            "mcpauth-parts/1:",
            "mcpauth-parts/1:zz:2",
            "mcpauth-parts/1:ab:0",
            "mcpauth-parts/1:ab:many",
            "plain-client-secret",
        ] {
            assert_eq!(parse_header(not), None, "{not}");
        }
        assert_eq!(
            part_name("grant:abc", "0badcafe", 2),
            "grant:abc#0badcafe.2"
        );
    }

    #[test]
    fn the_status_of_a_mac_keychain_error_is_read_from_its_debug_text() {
        let locked = r#"Error { code: -25308, message: "User interaction is not allowed." }"#;
        assert_eq!(mac_status(locked), Some(MAC_INTERACTION_NOT_ALLOWED));
        assert_eq!(mac_status("Error { code: 7 }"), Some(7));
        for none in ["", "code: ", "code: -", "code: x1", "no code here"] {
            assert_eq!(mac_status(none), None, "{none}");
        }
        assert_eq!(mac_status("code: 1-2"), Some(1));
        assert_eq!(mac_status("code: 99999999999"), None);
    }

    #[test]
    fn keyring_error_text_never_carries_stored_bytes() {
        let secret = b"tok-SECRET-1".to_vec();
        for err in [
            KeyringError::BadEncoding(secret.clone()),
            KeyringError::BadDataFormat(secret.clone(), "bad".into()),
        ] {
            let msg = entry_error(err).to_string();
            assert!(!msg.contains("SECRET"), "{msg}");
        }
    }
}
