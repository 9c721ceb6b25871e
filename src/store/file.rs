//! The file store: `<data_dir>/secrets.json`, a JSON map from entry name (`grant:<id>`,
//! `client:...`) to the same value the keychain would hold. 0600, written atomically
//! under `<lock_dir>/secrets.lock`, so it is as safe as the user's own files and no
//! safer: used when chosen, or when no keychain can be reached (and then announced).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::StoreError;
use super::disk::{lock_exclusive, read_optional, write_private_atomic};

pub(crate) struct FileStore {
    path: PathBuf,
    lock_path: PathBuf,
    lock_wait: Duration,
}

impl FileStore {
    pub(crate) fn new(path: PathBuf, lock_path: PathBuf, lock_wait: Duration) -> Self {
        Self {
            path,
            lock_path,
            lock_wait,
        }
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn set_lock_wait(&mut self, wait: Duration) {
        self.lock_wait = wait;
    }

    pub(crate) fn get(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(self.load()?.remove(key))
    }

    pub(crate) fn set(&self, key: &str, value: &str) -> Result<(), StoreError> {
        self.update(|map| {
            map.insert(key.to_owned(), value.to_owned());
        })
    }

    /// Removes `key`; a missing key is not an error.
    pub(crate) fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.update(|map| {
            map.remove(key);
        })
    }

    /// The entry names, or why the file cannot be read.
    pub(crate) fn entries(&self) -> Result<Vec<String>, StoreError> {
        Ok(self.load()?.into_keys().collect())
    }

    fn update(&self, f: impl FnOnce(&mut BTreeMap<String, String>)) -> Result<(), StoreError> {
        let _lock = lock_exclusive(&self.lock_path, self.lock_wait)?;
        let before = self.load()?;
        let mut map = before.clone();
        f(&mut map);
        if map != before {
            let mut bytes = serde_json::to_vec_pretty(&map).expect("a string map serializes");
            bytes.push(b'\n');
            write_private_atomic(&self.path, &bytes)?;
        }
        Ok(())
    }

    fn load(&self) -> Result<BTreeMap<String, String>, StoreError> {
        let Some(bytes) = read_optional(&self.path)? else {
            return Ok(BTreeMap::new());
        };
        // serde's messages may quote the offending value, which here may be a token:
        // keep only where the problem is.
        serde_json::from_slice(&bytes).map_err(|e| StoreError::CorruptSecretsFile {
            path: self.path.clone(),
            detail: format!(
                "not a JSON map of strings (line {}, column {})",
                e.line(),
                e.column()
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(dir: &Path) -> FileStore {
        FileStore::new(
            dir.join("data/secrets.json"),
            dir.join("locks/secrets.lock"),
            Duration::from_secs(10),
        )
    }

    #[test]
    fn file_store_sets_gets_and_deletes() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path());
        assert_eq!(s.get("grant:a").unwrap(), None);
        s.set("grant:a", "one").unwrap();
        s.set("grant:b", "two").unwrap();
        s.set("grant:a", "three").unwrap();
        assert_eq!(s.get("grant:a").unwrap().as_deref(), Some("three"));
        s.delete("grant:a").unwrap();
        s.delete("grant:missing").unwrap();
        assert_eq!(s.get("grant:a").unwrap(), None);
        assert_eq!(s.get("grant:b").unwrap().as_deref(), Some("two"));
    }

    #[cfg(unix)]
    #[test]
    fn file_store_is_0600_in_a_0700_dir() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path());
        s.set("grant:a", "v").unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(s.path()), 0o600);
        assert_eq!(mode(s.path().parent().unwrap()), 0o700);
        assert_eq!(mode(&dir.path().join("locks/secrets.lock")), 0o600);
    }

    #[test]
    fn a_corrupt_secrets_file_is_named_but_its_content_is_not_echoed() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path());
        std::fs::create_dir_all(s.path().parent().unwrap()).unwrap();
        std::fs::write(s.path(), br#"{"grant:a": ["tok-SECRET-123"]}"#).unwrap();
        let err = s.get("grant:a").unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("secrets.json"), "{msg}");
        assert!(!msg.contains("SECRET"), "{msg}");
        // and a write does not paper over it
        assert!(s.set("grant:b", "x").is_err());
    }

    #[test]
    fn concurrent_file_store_writers_lose_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().to_path_buf();
        std::thread::scope(|scope| {
            for t in 0..4 {
                let path = &path;
                scope.spawn(move || {
                    let s = store(path);
                    for i in 0..10 {
                        s.set(&format!("k{t}-{i}"), "v").unwrap();
                    }
                });
            }
        });
        let map = store(&path).load().unwrap();
        assert_eq!(map.len(), 40);
    }
}
