//! The in-process store behind `Vault::in_memory`: lets tests of the layers above run
//! the real index and locks without a keychain. Entries are process-wide and filed under
//! the home's keyring service name, like a keychain would, so two vaults opened on one
//! home see each other's secrets and two temp homes never do.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

type Entries = HashMap<(String, String), String>;

fn entries() -> std::sync::MutexGuard<'static, Entries> {
    static ENTRIES: OnceLock<Mutex<Entries>> = OnceLock::new();
    ENTRIES
        .get_or_init(Default::default)
        .lock()
        // A panic in another test thread cannot leave a HashMap half-updated in a way
        // that matters here.
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

pub(crate) struct MemoryStore {
    service: String,
}

impl MemoryStore {
    pub(crate) fn new(service: &str) -> Self {
        Self {
            service: service.to_owned(),
        }
    }

    pub(crate) fn get(&self, key: &str) -> Option<String> {
        entries()
            .get(&(self.service.clone(), key.to_owned()))
            .cloned()
    }

    pub(crate) fn set(&self, key: &str, value: &str) {
        entries().insert((self.service.clone(), key.to_owned()), value.to_owned());
    }

    pub(crate) fn delete(&self, key: &str) {
        entries().remove(&(self.service.clone(), key.to_owned()));
    }
}
