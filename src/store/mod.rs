//! Keeping grants: secrets in the OS keychain (or a 0600 file when there is none), and
//! the non-secret facts about each grant in an index file so that `status` reads no
//! secret.
//!
//! CONTRACT (the store work fills in the bodies; callers rely on these names and types,
//! which may gain fields and methods but should not change shape):
//! - The index (`<data_dir>/grants.json`, 0600, versioned) holds [`GrantRecord`]s and
//!   [`ClientRecord`]s. Every read-modify-write of it happens under an OS file lock and
//!   ends in an atomic rename, so concurrent mcpauth processes never lose each other's
//!   writes.
//! - Secrets live in one of two stores, chosen per grant and remembered in the record:
//!   the OS keychain through `keyring-core` (Secret Service on Linux, Keychain on macOS,
//!   Credential Manager on Windows, values over 2,560 bytes split into parts there), or
//!   `<data_dir>/secrets.json` (0600, atomic writes) when no keychain can be reached.
//! - [`GrantSecrets`] is one keychain entry, written in one call, so an access token and
//!   the refresh token that came with it never get out of step.
//! - Every keychain call runs under a timeout; a locked keychain says so and how to
//!   unlock it. All calls here are blocking: async callers use `spawn_blocking`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::secret::Secret;

/// Where a grant's or a client's secrets live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StoreKind {
    Keyring,
    File,
    /// In-process only; tests of code above the store.
    Memory,
}

/// What the user asked for with `--store` / `MCPAUTH_STORE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StoreChoice {
    /// The keychain when it can be reached, else the file store with one warning.
    #[default]
    Auto,
    Keyring,
    File,
}

/// What identifies a grant. Config names are only aliases, so renaming a server or
/// changing an unrelated header signs nobody out.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct GrantKey {
    /// The canonical MCP server URL (RFC 8707 resource).
    pub resource: String,
    pub issuer: String,
    pub client_id: String,
    /// `--account`, for two accounts on one server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
}

impl GrantKey {
    /// A stable id for file names and keychain entries: 16 hex digits of SHA-256 over
    /// the fields, NUL-separated.
    pub fn id(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        for part in [
            self.resource.as_str(),
            self.issuer.as_str(),
            self.client_id.as_str(),
            self.account.as_deref().unwrap_or(""),
        ] {
            h.update(part.as_bytes());
            h.update([0]);
        }
        let digest = h.finalize();
        digest[..8].iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// Non-secret facts about one grant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrantRecord {
    pub id: String,
    #[serde(flatten)]
    pub key: GrantKey,
    /// Config names that resolved to this grant, most recent first.
    #[serde(default)]
    pub aliases: Vec<String>,
    pub store: StoreKind,
    pub token_endpoint: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revocation_endpoint: Option<String>,
    /// The client's token endpoint auth method: `none`, `client_secret_basic`,
    /// `client_secret_post`.
    pub auth_method: String,
    /// Granted scopes (the token response's, else the requested ones).
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Extra parameters sent on authorization and refresh (e.g. `access_type=offline`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extra_params: BTreeMap<String, String>,
    /// Unix seconds; `None` when the server gave no lifetime.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
    pub obtained_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refreshed_at: Option<i64>,
    pub has_refresh_token: bool,
    /// Set when the authorization server said `invalid_grant`: only a login helps.
    #[serde(default)]
    pub needs_login: bool,
}

/// The secret half of a grant: one keychain entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrantSecrets {
    pub access_token: Secret,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<Secret>,
    /// Unix seconds; kept beside the tokens so a re-read under the refresh lock sees the
    /// expiry that belongs to exactly these tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
}

/// How a client registration came about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientOrigin {
    /// `--client-id` or the config's `oauth.clientId`.
    Preregistered,
    /// A client ID metadata document URL.
    MetadataDocument,
    /// RFC 7591 dynamic registration.
    Dynamic,
    /// Typed in at the interactive prompt.
    Prompted,
}

/// A client registration at one authorization server; reused for every resource that
/// server protects, never across servers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientRecord {
    pub issuer: String,
    pub client_id: String,
    pub auth_method: String,
    pub origin: ClientOrigin,
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    pub has_secret: bool,
    pub store: StoreKind,
    pub registered_at: i64,
    /// Unix seconds when a dynamically issued secret expires (RFC 7591
    /// `client_secret_expires_at`, 0 = never).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_expires_at: Option<i64>,
}

/// Everything in the index file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Index {
    pub grants: Vec<GrantRecord>,
    pub clients: Vec<ClientRecord>,
}

/// Errors from the store. Messages never contain a secret.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("todo")]
    Todo,
}

/// The store as the rest of mcpauth sees it. Opening it touches nothing: the index is
/// read, and the keychain reached, only when a call needs them.
pub struct Vault {
    _private: (),
}

/// Holds the per-grant OS file lock until dropped.
pub struct GrantLock {
    _file: std::fs::File,
}

#[allow(unused_variables)]
impl Vault {
    pub fn open(home: &crate::home::Home, choice: StoreChoice) -> Vault {
        todo!()
    }

    /// The index as it is now (empty when there is no index file yet).
    pub fn index(&self) -> Result<Index, StoreError> {
        todo!()
    }

    /// Read-modify-write of the index under its lock, saved atomically when `f` returns.
    pub fn update_index<T>(&self, f: impl FnOnce(&mut Index) -> T) -> Result<T, StoreError> {
        todo!()
    }

    /// The secrets of `rec`, from the store the record names.
    pub fn grant_secrets(&self, rec: &GrantRecord) -> Result<Option<GrantSecrets>, StoreError> {
        todo!()
    }

    /// Stores `secrets` (a new grant goes to the default store, an existing one stays
    /// where it is), then puts `rec` into the index in place of any record with its id.
    /// Returns the record as saved (with its `store` set).
    pub fn save_grant(
        &self,
        rec: GrantRecord,
        secrets: &GrantSecrets,
    ) -> Result<GrantRecord, StoreError> {
        todo!()
    }

    /// Forgets a grant: its secrets, then its record. Returns the record that was there.
    pub fn remove_grant(&self, id: &str) -> Result<Option<GrantRecord>, StoreError> {
        todo!()
    }

    pub fn client_secret(&self, rec: &ClientRecord) -> Result<Option<Secret>, StoreError> {
        todo!()
    }

    /// Stores the client's secret (if any) and its record, replacing a record with the
    /// same issuer and client id.
    pub fn save_client(
        &self,
        rec: ClientRecord,
        secret: Option<&Secret>,
    ) -> Result<ClientRecord, StoreError> {
        todo!()
    }

    /// Takes the exclusive per-grant lock (`<lock_dir>/<id>.lock`), waiting for another
    /// process that holds it.
    pub fn lock_grant(&self, id: &str) -> Result<GrantLock, StoreError> {
        todo!()
    }

    /// Where new secrets go: resolves `Auto` by reaching the keychain once (cached), and
    /// prints the one warning when it falls back to the file store.
    pub fn default_kind(&self) -> Result<StoreKind, StoreError> {
        todo!()
    }
}
