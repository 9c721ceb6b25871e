//! Where a refreshed grant goes when the store will not take it.
//!
//! A rotating authorization server kills the old refresh token the moment it answers a
//! refresh, so the answer must survive a store that fails just then (a keychain that
//! locked, a disk that filled up). It is held in this process's memory first, then
//! written to `<data_dir>/recovery/<id>.json` (0600): the next mcpauth that refreshes
//! the grant, in this process or another, finds it there and moves it into the store
//! once the store takes writes again.
//!
//! The journal file is reserved before the refresh token is spent (blank, [`RESERVED`]
//! bytes), so that on a full disk the answer can still be written over space that is
//! already the file's.

use std::collections::HashMap;
use std::io::{Seek, Write};
use std::path::PathBuf;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use super::disk::{read_optional, write_private_atomic};
use super::{GrantRecord, GrantSecrets, StoreError};

/// A refreshed grant that is not (yet) in the store.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Held {
    pub record: GrantRecord,
    pub secrets: GrantSecrets,
}

/// How much journal space a refresh reserves: a grant's tokens, even as large JWTs,
/// take a few kilobytes.
pub(crate) const RESERVED: usize = 16 * 1024;

fn is_blank(bytes: &[u8]) -> bool {
    bytes.iter().all(u8::is_ascii_whitespace)
}

pub(crate) struct Recovery {
    dir: PathBuf,
    memory: Mutex<HashMap<String, Held>>,
}

impl Recovery {
    pub(crate) fn new(dir: PathBuf) -> Self {
        Self {
            dir,
            memory: Mutex::default(),
        }
    }

    /// The journal file for grant `id` (ids are checked hex by the caller).
    pub(crate) fn path(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.json"))
    }

    fn memory(&self) -> std::sync::MutexGuard<'_, HashMap<String, Held>> {
        self.memory.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Reserves the journal file of grant `id` (unless it holds something already):
    /// done before a refresh token is spent, and the proof that the data directory takes
    /// writes.
    pub(crate) fn reserve(&self, id: &str) -> Result<(), StoreError> {
        let path = self.path(id);
        match read_optional(&path)? {
            Some(bytes) if !is_blank(&bytes) => Ok(()),
            _ => write_private_atomic(&path, &[b' '; RESERVED]),
        }
    }

    /// Keeps `held` in memory, then in the journal file (over its reserved space);
    /// returns the file's path, or why it could not be written (the memory copy stays
    /// either way).
    pub(crate) fn hold(&self, held: &Held) -> Result<PathBuf, StoreError> {
        self.memory().insert(held.record.id.clone(), held.clone());
        let path = self.path(&held.record.id);
        let bytes = serde_json::to_vec(held).expect("a held grant serializes");
        let over_reserved = (|| {
            let mut opts = std::fs::OpenOptions::new();
            opts.write(true);
            super::disk::no_follow(&mut opts);
            let mut f = opts.open(&path)?;
            let len = f.metadata()?.len() as usize;
            f.write_all(&bytes)?;
            // Blank out the rest of the reservation rather than truncating: a
            // truncate-then-grow would give the space back first.
            if len > bytes.len() {
                f.write_all(&vec![b' '; len - bytes.len()])?;
            }
            f.rewind()?;
            f.sync_all()
        })();
        match over_reserved {
            Ok(()) => Ok(path),
            // No reservation (or a broken one): a fresh file is the only way left.
            Err(_) => write_private_atomic(&path, &bytes).map(|()| path),
        }
    }

    /// What is held for grant `id`: this process's copy first (it is the newest), else
    /// the journal file.
    pub(crate) fn get(&self, id: &str) -> Result<Option<Held>, StoreError> {
        if let Some(held) = self.memory().get(id) {
            return Ok(Some(held.clone()));
        }
        let path = self.path(id);
        let Some(bytes) = read_optional(&path)? else {
            return Ok(None);
        };
        if is_blank(&bytes) {
            return Ok(None);
        }
        // A write cut off by a crash leaves half a document: that refresh is lost, but
        // it must not stand in the way of the next one. Never echo the content.
        match serde_json::from_slice(&bytes) {
            Ok(held) => Ok(Some(held)),
            Err(e) => {
                tracing::warn!(
                    "ignoring the damaged recovery file `{}` (line {})",
                    path.display(),
                    e.line()
                );
                Ok(None)
            }
        }
    }

    /// Forgets what was held for `id`, once the store has it.
    pub(crate) fn clear(&self, id: &str) -> Result<(), StoreError> {
        self.memory().remove(id);
        let path = self.path(id);
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(source) => Err(StoreError::Write { path, source }),
        }
    }
}
