//! The two file-system moves every store file depends on: an OS file lock taken with a
//! bounded wait, and an atomic private write (temp file in the same directory, fsync,
//! rename). Both the index and the file store go through here so that a crash or a
//! second mcpauth process never sees half a file and never loses a write.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::StoreError;
use crate::home::create_private_dir;

/// How long a lock may be held by someone else before we give up. Generous: a login
/// holding a grant lock may wait for a person in a browser.
pub(crate) const DEFAULT_LOCK_WAIT: Duration = Duration::from_secs(120);

/// Opens (creating, 0600) `path` and takes an exclusive lock on it, polling for at most
/// `wait`. `File::lock` alone would block forever behind a hung process, so we poll
/// `try_lock` with a short, growing pause.
pub(crate) fn lock_exclusive(path: &Path, wait: Duration) -> Result<File, StoreError> {
    if let Some(dir) = path.parent() {
        create_private_dir(dir).map_err(|source| StoreError::Write {
            path: dir.to_path_buf(),
            source,
        })?;
    }
    let file = open_private(path, false).map_err(|source| {
        if is_symlink_refusal(&source) {
            StoreError::Symlink {
                path: path.to_path_buf(),
            }
        } else {
            StoreError::Lock {
                path: path.to_path_buf(),
                source,
            }
        }
    })?;
    let deadline = Instant::now() + wait;
    let mut pause = Duration::from_millis(5);
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(file),
            Err(TryLockError::WouldBlock) => {}
            Err(TryLockError::Error(source)) => {
                return Err(StoreError::Lock {
                    path: path.to_path_buf(),
                    source,
                });
            }
        }
        let now = Instant::now();
        if now >= deadline {
            return Err(StoreError::LockTimeout {
                path: path.to_path_buf(),
                waited: wait,
            });
        }
        std::thread::sleep(pause.min(deadline - now));
        pause = (pause * 2).min(Duration::from_millis(250));
    }
}

/// Opens `path` for writing with mode 0600 from the start (never a window where the
/// file is readable by others).
fn open_private(path: &Path, create_new: bool) -> io::Result<File> {
    let mut opts = OpenOptions::new();
    opts.read(true).write(true);
    if create_new {
        opts.create_new(true);
    } else {
        opts.create(true).truncate(false);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    no_follow(&mut opts);
    opts.open(path)
}

/// Opening fails on a symlink rather than following it: a link planted where mcpauth
/// keeps a file would otherwise have the link's target created or written. (Temp files
/// are created with `O_EXCL`, which never follows, and renamed over the final name,
/// which replaces a link rather than writing through it.)
pub(crate) fn no_follow(opts: &mut OpenOptions) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.custom_flags(libc::O_NOFOLLOW);
    }
    #[cfg(not(unix))]
    let _ = opts;
}

/// The error [`no_follow`] gives for a symlink.
pub(crate) fn is_symlink_refusal(e: &io::Error) -> bool {
    #[cfg(unix)]
    {
        e.raw_os_error() == Some(libc::ELOOP)
    }
    #[cfg(not(unix))]
    {
        let _ = e;
        false
    }
}

/// Reads a whole file; `None` when it does not exist.
pub(crate) fn read_optional(path: &Path) -> Result<Option<Vec<u8>>, StoreError> {
    match crate::files::read_capped(path, crate::files::STORE_LIMIT) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(StoreError::Read {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// Replaces `path` with `bytes` atomically: a reader sees the old file or the new one,
/// never a mix, and after a crash the old one survives. The file is 0600.
pub(crate) fn write_private_atomic(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    let err = |source| StoreError::Write {
        path: path.to_path_buf(),
        source,
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    create_private_dir(dir).map_err(err)?;
    let tmp = temp_path(path);
    let result = (|| {
        let mut f = open_private(&tmp, true)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, path)?;
        // The rename itself lives in the directory: sync it so it survives a crash. Best
        // effort: the new file is in place whatever this says, and some file systems
        // refuse (macOS's F_FULLFSYNC on SMB or exFAT volumes).
        #[cfg(unix)]
        if let Err(e) = File::open(dir).and_then(|d| d.sync_all()) {
            tracing::debug!("could not sync {}: {e}", dir.display());
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(err)
}

/// Removes temp files in `dir` left by writers that are gone (a killed mcpauth): they may
/// hold secrets. Best effort; a file a live process is writing is left alone.
pub(crate) fn sweep_stale_temp_files(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(temp_file_owner) else {
            continue;
        };
        if pid != std::process::id() && writer_gone(pid, &entry) {
            match std::fs::remove_file(entry.path()) {
                Ok(()) => {
                    tracing::debug!(file = %entry.path().display(), "removed a stale temp file")
                }
                Err(e) => {
                    tracing::debug!(file = %entry.path().display(), "cannot remove a stale temp file: {e}")
                }
            }
        }
    }
}

/// The writer's pid, from a name made by [`temp_path`]: `.<name>.<pid>.<8 hex>.tmp`.
fn temp_file_owner(name: &str) -> Option<u32> {
    let rest = name.strip_prefix('.')?.strip_suffix(".tmp")?;
    let mut parts = rest.rsplitn(3, '.');
    let nonce = parts.next()?;
    let pid = parts.next()?;
    parts.next().filter(|n| !n.is_empty())?;
    (nonce.len() == 8 && nonce.bytes().all(|b| b.is_ascii_hexdigit())).then_some(())?;
    pid.parse().ok()
}

/// Whether the process that made a temp file is gone: on Linux by its /proc entry,
/// elsewhere by age (no write takes a minute).
fn writer_gone(pid: u32, entry: &std::fs::DirEntry) -> bool {
    if cfg!(target_os = "linux") {
        return !Path::new("/proc").join(pid.to_string()).exists();
    }
    entry
        .metadata()
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.elapsed().ok())
        .is_some_and(|age| age > Duration::from_secs(60))
}

/// A temp name in the same directory (so the rename stays on one file system), unique
/// per process and call.
fn temp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let nonce: u32 = rand::random();
    path.with_file_name(format!(".{name}.{}.{nonce:08x}.tmp", std::process::id()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_content_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join("f.json");
        write_private_atomic(&path, b"one").unwrap();
        write_private_atomic(&path, b"two").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        let names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("f.json")]);
    }

    #[cfg(unix)]
    #[test]
    fn atomic_write_makes_a_0600_file_even_over_a_wider_one() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.json");
        std::fs::write(&path, b"old").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        write_private_atomic(&path, b"new").unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }

    // Symptom: `kill -9` just before the rename left `.secrets.json.PID.N.tmp`, holding
    // live tokens, behind for good.
    #[test]
    fn temp_files_of_dead_writers_are_swept_and_live_ones_kept() {
        let dir = tempfile::tempdir().unwrap();
        let dead = dir.path().join(".secrets.json.999999999.0000abcd.tmp");
        let mine = temp_path(&dir.path().join("secrets.json"));
        let other = dir.path().join("notes.tmp");
        for f in [&dead, &mine, &other] {
            std::fs::write(f, b"x").unwrap();
        }
        sweep_stale_temp_files(dir.path());
        assert!(!dead.exists(), "a dead writer's temp file stays");
        assert!(mine.exists(), "a live writer's temp file was removed");
        assert!(other.exists(), "a file that is not ours was removed");
        assert_eq!(temp_file_owner(".grants.json.42.deadbeef.tmp"), Some(42));
        assert_eq!(temp_file_owner(".x.42.nothex!.tmp"), None);
    }

    #[test]
    fn a_held_lock_makes_a_second_taker_give_up_with_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("locks").join("x.lock");
        let held = lock_exclusive(&path, Duration::ZERO).unwrap();
        let err = lock_exclusive(&path, Duration::from_millis(50)).unwrap_err();
        assert!(matches!(err, StoreError::LockTimeout { .. }), "{err}");
        assert!(err.to_string().contains("x.lock"), "{err}");
        drop(held);
        lock_exclusive(&path, Duration::ZERO).expect("free once the holder is gone");
    }
}
