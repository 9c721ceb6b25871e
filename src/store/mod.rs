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
//!
//! Layout: `index.rs` (the index file), `keyring.rs` (keychain calls, timeouts, error
//! sorting, Windows splitting), `file.rs` and `memory.rs` (the other two stores),
//! `disk.rs` (file locks with a bounded wait, atomic private writes); this file ties
//! them into [`Vault`].

pub(crate) mod disk;
mod file;
mod index;
mod keyring;
mod memory;
mod recovery;

pub use recovery::Held;

pub(crate) use disk::write_private_atomic;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use self::disk::{DEFAULT_LOCK_WAIT, lock_exclusive};
use self::file::FileStore;
use self::keyring::Keychain;
use self::memory::MemoryStore;
use self::recovery::Recovery;
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
    /// The MCP server's URL at the last sign-in: where its names lead when no config
    /// defines them (a headless host that imported the grant has no config).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_url: Option<String>,
    /// Whether its requests carry the RFC 8707 `resource` (Microsoft Entra refuses it).
    #[serde(default = "always", skip_serializing_if = "is_true")]
    pub send_resource: bool,
    /// Whether a refresh names the granted scopes again (Entra wants them).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub scope_on_refresh: bool,
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
    /// Unix milliseconds (as are the two below); `None` when the server gave no lifetime.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at_ms: Option<i64>,
    pub obtained_at_ms: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refreshed_at_ms: Option<i64>,
    pub has_refresh_token: bool,
    /// Set when the authorization server said `invalid_grant`: only a login helps.
    #[serde(default)]
    pub needs_login: bool,
    /// Obtained with the client credentials grant (no user): renewed by asking again
    /// with the client's own credentials, not with a refresh token.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub client_credentials: bool,
    /// Obtained with a workload's JWT (RFC 7523): renewed by reading this source again
    /// and presenting what it gives. Only where the JWT comes from is kept, never the JWT.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workload: Option<crate::signin::workload::Source>,
    /// This grant is a sign-in to a company's identity provider (`mcpauth idp login`):
    /// its ID token is what grants for MCP servers are exchanged from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_provider: Option<IdpSignIn>,
    /// The access token is DPoP-bound (`token_type` `DPoP`): it is sent as `DPoP <token>`
    /// with a proof made with the grant's key, never on its own.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub dpop: bool,
    /// Obtained by exchanging the ID token of this identity provider sign-in (a grant id)
    /// for an ID-JAG, presented as an RFC 7523 grant; renewed by exchanging again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub through_idp: Option<String>,
}

/// What makes a grant an identity provider sign-in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdpSignIn {
    /// The name it is known by: the configured one, else its issuer.
    pub name: String,
    /// Where the ID token is read whenever one is needed, for a company whose own tool
    /// hands them out; `None` when the person signed in and the provider refreshes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token_source: Option<crate::signin::workload::Source>,
}

/// How a grant gets a new access token once its current one expires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Renewal<'a> {
    /// With the refresh token the server gave.
    RefreshToken,
    /// By asking again with the client's own credentials.
    ClientCredentials,
    /// By presenting a fresh JWT from the workload's source.
    Workload(&'a crate::signin::workload::Source),
    /// By exchanging the identity provider sign-in's ID token (this grant id) again.
    IdJag(&'a str),
    /// An identity provider's ID token read from its source again.
    IdTokenSource(&'a crate::signin::workload::Source),
    /// It cannot be renewed: the person signs in again.
    SignInAgain,
}

impl GrantRecord {
    pub fn renewal(&self) -> Renewal<'_> {
        if let Some(source) = &self.workload {
            Renewal::Workload(source)
        } else if let Some(idp) = &self.through_idp {
            Renewal::IdJag(idp)
        } else if let Some(source) = self
            .identity_provider
            .as_ref()
            .and_then(|i| i.id_token_source.as_ref())
        {
            Renewal::IdTokenSource(source)
        } else if self.client_credentials {
            Renewal::ClientCredentials
        } else if self.has_refresh_token {
            Renewal::RefreshToken
        } else {
            Renewal::SignInAgain
        }
    }

    /// Whether a new access token comes without a person: a refresh token, or a grant
    /// that can simply be asked for again.
    pub fn renews_itself(&self) -> bool {
        self.renewal() != Renewal::SignInAgain
    }
}

fn always() -> bool {
    true
}

fn is_true(b: &bool) -> bool {
    *b
}

/// The secret half of a grant: one keychain entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrantSecrets {
    pub access_token: Secret,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<Secret>,
    /// An identity provider sign-in's ID token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token: Option<Secret>,
    /// The grant's DPoP private key (PKCS#8 PEM): its tokens, and at many servers its
    /// refresh token, are good only with proofs made with it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dpop_key: Option<Secret>,
    /// Unix milliseconds; kept beside the tokens so a re-read under the refresh lock sees the
    /// expiry that belongs to exactly these tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at_ms: Option<i64>,
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

impl StoreKind {
    /// How `status` and messages name the store.
    pub fn describe(self) -> &'static str {
        match self {
            StoreKind::Keyring => "keychain",
            StoreKind::File => "file store",
            StoreKind::Memory => "memory store",
        }
    }
}

impl std::fmt::Display for StoreKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.describe())
    }
}

/// Errors from the store. Messages never contain a secret: they name files, entries
/// (`grant:<id>`) and stores, never values.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot read `{}`", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write `{}`", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "refusing to write through the symlink `{}`: mcpauth keeps its own files there; remove the link",
        path.display()
    )]
    Symlink { path: PathBuf },
    #[error("cannot lock `{}`", path.display())]
    Lock {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "gave up after {} s waiting for `{}`, held by another mcpauth process; \
         if none is running, delete that file",
        waited.as_secs(), path.display()
    )]
    LockTimeout { path: PathBuf, waited: Duration },
    #[error(
        "the grant index `{}` is damaged ({detail}); mcpauth leaves it untouched: \
         repair it, or move it away and log in again",
        path.display()
    )]
    CorruptIndex { path: PathBuf, detail: String },
    #[error(
        "the grant index `{}` has version {found}, but this mcpauth understands only \
         version {supported}; upgrade mcpauth",
        path.display()
    )]
    NewerIndex {
        path: PathBuf,
        found: u64,
        supported: u64,
    },
    #[error(
        "the secrets file `{}` is damaged ({detail}); mcpauth leaves it untouched: \
         repair it, or move it away and log in again",
        path.display()
    )]
    CorruptSecretsFile { path: PathBuf, detail: String },
    #[error("the secrets of `{entry}` in the {store} are damaged ({detail}); log in again")]
    CorruptSecret {
        entry: String,
        store: StoreKind,
        detail: String,
    },
    #[error(
        "the keychain did not answer within {} s while {op}; it may be waiting for a \
         password prompt that nobody can see",
        waited.as_secs()
    )]
    KeychainTimeout { op: String, waited: Duration },
    #[error("the keychain is locked ({detail}); {UNLOCK_HINT}")]
    KeychainLocked { detail: String },
    #[error(
        "no keychain could be reached ({reason}); use --store file to keep secrets in a \
         file readable only by you"
    )]
    KeychainUnreachable { reason: String },
    #[error("the keychain failed while {op}: {detail}")]
    Keychain { op: String, detail: String },
    #[error("`{id}` is not a grant id (expected letters, digits, `-` and `_`)")]
    InvalidGrantId { id: String },
}

#[cfg(target_os = "macos")]
const UNLOCK_HINT: &str =
    "unlock the login keychain in Keychain Access, or run `security unlock-keychain`";
#[cfg(windows)]
const UNLOCK_HINT: &str = "log in to Windows interactively so Credential Manager is available";
#[cfg(not(any(target_os = "macos", windows)))]
const UNLOCK_HINT: &str = "log in to the desktop session, unlock the \"Login\" keyring in \
     Seahorse (Passwords and Keys), or run `gnome-keyring-daemon --unlock` and type your \
     password followed by Ctrl-D";

impl StoreError {
    /// Fills in which keychain operation failed, for errors raised deep in a call.
    fn with_op(self, op: &str) -> Self {
        match self {
            StoreError::Keychain { op: o, detail } if o.is_empty() => StoreError::Keychain {
                op: op.to_owned(),
                detail,
            },
            other => other,
        }
    }
}

/// The one line printed when `--store auto` finds no keychain.
pub fn fallback_warning(reason: &str, path: &Path) -> String {
    format!(
        "mcpauth: warning: no keychain could be reached ({reason}); keeping secrets in `{}`, \
         readable only by you (use --store keyring to require the keychain)",
        path.display()
    )
}

/// Prints `line` on stderr unless this process already printed a fallback warning.
fn warn_once(line: &str) {
    static WARNED: AtomicBool = AtomicBool::new(false);
    if !WARNED.swap(true, Ordering::SeqCst) {
        eprintln!("{line}");
    }
}

/// The prefix of the keychain entry [`Vault::probe`] writes and deletes again.
const PROBE_ENTRY: &str = "probe:writable";

/// The keychain entry / file store key of a grant's secrets.
pub fn grant_entry(id: &str) -> String {
    format!("grant:{id}")
}

/// The keychain entry / file store key of a client secret: hashes, so that entry names
/// carry no URL and stay short.
pub fn client_entry(issuer: &str, client_id: &str) -> String {
    format!("client:{}:{}", short_hash(issuer), short_hash(client_id))
}

fn short_hash(s: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(s.as_bytes())[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn valid_grant_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The store as the rest of mcpauth sees it. Opening it touches nothing: the index is
/// read, and the keychain reached, only when a call needs them.
pub struct Vault {
    choice: StoreChoice,
    /// `Vault::in_memory`: new secrets go to the memory store.
    in_memory: bool,
    index_path: PathBuf,
    index_lock: PathBuf,
    lock_dir: PathBuf,
    lock_wait: Duration,
    keyring_service: String,
    keychain: Keychain,
    file: FileStore,
    memory: MemoryStore,
    /// Where new secrets go, once known.
    resolved: Mutex<Option<StoreKind>>,
    /// The warning, when `Auto` fell back to the file store.
    fell_back: Mutex<Option<String>>,
    data_dir: PathBuf,
    /// Refreshed grants the store did not take.
    recovery: Recovery,
    /// Leftover temp files are swept once per process, on the first index read.
    swept: std::sync::Once,
}

/// What became of a refreshed grant.
#[derive(Debug)]
pub enum Kept {
    /// In the store, as usual.
    Saved(Box<GrantRecord>),
    /// The store refused it (`error`); it is held in this process and, unless
    /// `journal` says why not, in a journal file that the next refresh recovers from.
    Held {
        error: StoreError,
        journal: Result<PathBuf, StoreError>,
    },
}

/// Holds the per-grant OS file lock until dropped.
pub struct GrantLock {
    _file: std::fs::File,
}

impl Vault {
    pub fn open(home: &crate::home::Home, choice: StoreChoice) -> Vault {
        Vault {
            choice,
            in_memory: false,
            index_path: home.data_dir.join("grants.json"),
            index_lock: home.lock_dir.join("index.lock"),
            lock_dir: home.lock_dir.clone(),
            lock_wait: DEFAULT_LOCK_WAIT,
            keyring_service: home.keyring_service.clone(),
            keychain: Keychain::new(&home.keyring_service),
            file: FileStore::new(
                home.data_dir.join("secrets.json"),
                home.lock_dir.join("secrets.lock"),
                DEFAULT_LOCK_WAIT,
            ),
            memory: MemoryStore::new(&home.keyring_service),
            resolved: Mutex::new(None),
            fell_back: Mutex::new(None),
            data_dir: home.data_dir.clone(),
            recovery: Recovery::new(home.data_dir.join("recovery")),
            swept: std::sync::Once::new(),
        }
    }

    /// A vault whose new secrets stay in this process (shared by vaults on the same
    /// home); the index and locks are the real files under `home`. For tests of the
    /// code above the store.
    pub fn in_memory(home: &crate::home::Home) -> Vault {
        Vault {
            in_memory: true,
            ..Vault::open(home, StoreChoice::Auto)
        }
    }

    /// How long to wait for a lock another process holds (default 2 minutes).
    pub fn with_lock_wait(mut self, wait: Duration) -> Vault {
        self.lock_wait = wait;
        self.file.set_lock_wait(wait);
        self
    }

    /// How long one keychain call may take (default 20 s).
    pub fn with_keychain_timeout(mut self, timeout: Duration) -> Vault {
        self.keychain.set_timeout(timeout);
        self
    }

    /// Where `kind` keeps secrets, for people: `status` shows this.
    pub fn location(&self, kind: StoreKind) -> String {
        match kind {
            StoreKind::Keyring => format!("keychain, service `{}`", self.keyring_service),
            StoreKind::File => format!("file `{}`", self.file.path().display()),
            StoreKind::Memory => "memory (this process only)".to_owned(),
        }
    }

    /// What `--store` / `MCPAUTH_STORE` asked for.
    pub fn choice(&self) -> StoreChoice {
        self.choice
    }

    /// Reaches the OS keychain without storing or reading anything, and without the
    /// fallback warning: for `mcpauth doctor`.
    pub fn probe_keychain(&self) -> Result<(), StoreError> {
        self.keychain.connect().map(drop)
    }

    /// Whether this store can keep a grant in `kind`, asked before a sign-in starts, so
    /// that a damaged or unwritable store is found before the browser and a new client
    /// registration rather than after: the index reads, the index lock can be taken, the
    /// data directory takes a write (an empty probe file, removed at once), and `kind`
    /// itself answers (the secrets file parses; the keychain takes and drops a probe
    /// entry). Writes nothing secret.
    pub fn probe(&self, kind: StoreKind) -> Result<(), StoreError> {
        self.index()?;
        drop(lock_exclusive(&self.index_lock, self.lock_wait)?);
        let probe = self.data_dir.join("write-probe");
        write_private_atomic(&probe, b"")?;
        let _ = std::fs::remove_file(&probe);
        match kind {
            StoreKind::File => self.file.entries().map(drop),
            StoreKind::Keyring => {
                // One entry per process: logins run side by side (a host starting several
                // proxies), and two that wrote and deleted one shared entry would trip
                // over each other's delete.
                let entry = format!(
                    "{PROBE_ENTRY}:{}:{:08x}",
                    std::process::id(),
                    rand::random::<u32>()
                );
                self.keychain.set(&entry, "probe")?;
                // The write is what had to work; a probe left behind is only clutter.
                if let Err(e) = self.keychain.delete(&entry) {
                    tracing::warn!("could not delete the keychain probe `{entry}`: {e}");
                }
                Ok(())
            }
            StoreKind::Memory => Ok(()),
        }
    }

    /// The entry names the secrets file holds (none when there is no file), or why it
    /// cannot be read: for `status` and `doctor`, which must tell a damaged file store
    /// from a healthy one. Values are read but never returned.
    pub fn file_entries(&self) -> Result<Vec<String>, StoreError> {
        self.file.entries()
    }

    /// The warning line, if this vault fell back from the keychain to the file store.
    pub fn fallback_warning(&self) -> Option<String> {
        self.fell_back
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The index as it is now (empty when there is no index file yet).
    pub fn index(&self) -> Result<Index, StoreError> {
        // A killed mcpauth can leave a temp file holding secrets: the first read of the
        // run removes those whose writer is gone.
        self.swept.call_once(|| {
            disk::sweep_stale_temp_files(&self.data_dir);
            disk::sweep_stale_temp_files(&self.data_dir.join("recovery"));
        });
        index::load(&self.index_path)
    }

    /// Whether a refreshed grant could be kept right now, asked before a refresh token
    /// is spent: the grant's recovery file is reserved in the data directory, which
    /// proves the directory takes writes and gives the answer a place even if the disk
    /// fills up or the keychain locks meanwhile. (Rewriting a keychain entry here as
    /// well would double the keychain's writes for nothing the reservation misses; a
    /// keychain that refuses the save is caught by the recovery file.)
    pub fn check_writable(&self, rec: &GrantRecord) -> Result<(), StoreError> {
        if !valid_grant_id(&rec.id) {
            return Err(StoreError::InvalidGrantId { id: rec.id.clone() });
        }
        self.recovery.reserve(&rec.id)
    }

    /// Saves a refreshed grant; when the store refuses, holds it for recovery instead
    /// (memory, then a journal file), so the new refresh token is never simply dropped.
    pub fn keep_refreshed(&self, rec: GrantRecord, secrets: &GrantSecrets) -> Kept {
        let id = rec.id.clone();
        match self.save_grant(rec.clone(), secrets) {
            Ok(saved) => {
                // An older held copy is superseded by what the store now has.
                if let Err(e) = self.recovery.clear(&id) {
                    tracing::warn!("could not remove the recovered copy of `{id}`: {e}");
                }
                Kept::Saved(Box::new(saved))
            }
            Err(error) => {
                let journal = self.recovery.hold(&Held {
                    record: rec,
                    secrets: secrets.clone(),
                });
                Kept::Held { error, journal }
            }
        }
    }

    /// A refreshed grant held for recovery, moved into the store when the store takes it
    /// now. `None` when nothing is held. Called under the grant's lock.
    pub fn recover(&self, id: &str) -> Result<Option<(GrantRecord, GrantSecrets)>, StoreError> {
        let Some(held) = self.recovery.get(id)? else {
            return Ok(None);
        };
        match self.save_grant(held.record.clone(), &held.secrets) {
            Ok(saved) => {
                self.recovery.clear(id)?;
                tracing::info!(grant = %id, "moved a held refresh into the store");
                Ok(Some((saved, held.secrets)))
            }
            Err(e) => {
                tracing::debug!(grant = %id, "the store still refuses the held refresh: {e}");
                Ok(Some((held.record, held.secrets)))
            }
        }
    }

    /// Read-modify-write of the index under its lock, saved atomically when `f` returns
    /// (and only if `f` changed something).
    pub fn update_index<T>(&self, f: impl FnOnce(&mut Index) -> T) -> Result<T, StoreError> {
        index::update(&self.index_path, &self.index_lock, self.lock_wait, f)
    }

    /// The secrets of `rec`, from the store the record names.
    pub fn grant_secrets(&self, rec: &GrantRecord) -> Result<Option<GrantSecrets>, StoreError> {
        let entry = grant_entry(&rec.id);
        let Some(text) = self.get(rec.store, &entry)? else {
            return Ok(None);
        };
        // serde's message could quote part of a token: keep only the position.
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| StoreError::CorruptSecret {
                entry,
                store: rec.store,
                detail: format!(
                    "not the expected JSON at line {}, column {}",
                    e.line(),
                    e.column()
                ),
            })
    }

    /// Stores `secrets` (a new grant goes to the default store, an existing one stays
    /// where it is), then puts `rec` into the index in place of any record with its id.
    /// Returns the record as saved (with its `store` set, its `id` filled in from its
    /// key when empty, and `has_refresh_token` matching `secrets`).
    pub fn save_grant(
        &self,
        mut rec: GrantRecord,
        secrets: &GrantSecrets,
    ) -> Result<GrantRecord, StoreError> {
        if rec.id.is_empty() {
            rec.id = rec.key.id();
        }
        let existing = self.index()?.grants.into_iter().find(|g| g.id == rec.id);
        rec.store = match existing {
            Some(old) => old.store,
            None => self.default_kind()?,
        };
        rec.has_refresh_token = secrets.refresh_token.is_some();
        let value = serde_json::to_string(secrets).expect("grant secrets serialize");
        self.put(rec.store, &grant_entry(&rec.id), &value)?;
        let saved = rec.clone();
        self.update_index(
            move |idx| match idx.grants.iter_mut().find(|g| g.id == rec.id) {
                Some(slot) => *slot = rec,
                None => idx.grants.push(rec),
            },
        )?;
        Ok(saved)
    }

    /// Forgets a grant: its secrets, then its record. Returns the record that was there.
    /// When the secrets cannot be deleted the record stays, so nothing is orphaned
    /// without a trace.
    pub fn remove_grant(&self, id: &str) -> Result<Option<GrantRecord>, StoreError> {
        let Some(rec) = self.index()?.grants.into_iter().find(|g| g.id == id) else {
            return Ok(None);
        };
        self.delete(rec.store, &grant_entry(id))?;
        let removed = self.update_index(|idx| {
            let at = idx.grants.iter().position(|g| g.id == id)?;
            Some(idx.grants.remove(at))
        })?;
        Ok(removed.or(Some(rec)))
    }

    pub fn client_secret(&self, rec: &ClientRecord) -> Result<Option<Secret>, StoreError> {
        if !rec.has_secret {
            return Ok(None);
        }
        let entry = client_entry(&rec.issuer, &rec.client_id);
        Ok(self.get(rec.store, &entry)?.map(Secret::from))
    }

    /// Stores the client's secret (if any) and its record, replacing a record with the
    /// same issuer and client id. A client without a secret never reaches the keychain.
    pub fn save_client(
        &self,
        mut rec: ClientRecord,
        secret: Option<&Secret>,
    ) -> Result<ClientRecord, StoreError> {
        let same = |c: &ClientRecord, rec: &ClientRecord| {
            c.issuer == rec.issuer && c.client_id == rec.client_id
        };
        let existing = self.index()?.clients.into_iter().find(|c| same(c, &rec));
        let entry = client_entry(&rec.issuer, &rec.client_id);
        rec.has_secret = secret.is_some();
        rec.store = match (&existing, secret) {
            (Some(old), _) if old.has_secret => old.store,
            (_, Some(_)) => self.default_kind()?,
            (Some(old), None) => old.store,
            (None, None) => self.nominal_kind(),
        };
        if let Some(secret) = secret {
            self.put(rec.store, &entry, secret.expose())?;
        }
        let saved = rec.clone();
        self.update_index(
            move |idx| match idx.clients.iter_mut().find(|c| same(c, &rec)) {
                Some(slot) => *slot = rec,
                None => idx.clients.push(rec),
            },
        )?;
        if let (Some(old), None) = (existing, secret)
            && old.has_secret
        {
            // The record no longer claims a secret; a leftover one is only clutter, so
            // failing to delete it does not fail the save.
            if let Err(e) = self.delete(old.store, &entry) {
                tracing::warn!("could not delete the old client secret `{entry}`: {e}");
            }
        }
        Ok(saved)
    }

    /// Takes the exclusive per-grant lock (`<lock_dir>/<id>.lock`), waiting for another
    /// process that holds it (at most the lock wait, then an error).
    pub fn lock_grant(&self, id: &str) -> Result<GrantLock, StoreError> {
        if !valid_grant_id(id) {
            return Err(StoreError::InvalidGrantId { id: id.to_owned() });
        }
        let path = self.lock_dir.join(format!("{id}.lock"));
        Ok(GrantLock {
            _file: lock_exclusive(&path, self.lock_wait)?,
        })
    }

    /// Where new secrets go: resolves `Auto` by reaching the keychain once (cached), and
    /// prints the one warning when it falls back to the file store.
    pub fn default_kind(&self) -> Result<StoreKind, StoreError> {
        if self.in_memory {
            return Ok(StoreKind::Memory);
        }
        match self.choice {
            StoreChoice::File => return Ok(StoreKind::File),
            StoreChoice::Keyring => return Ok(StoreKind::Keyring),
            StoreChoice::Auto => {}
        }
        let mut resolved = self.resolved.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(kind) = *resolved {
            return Ok(kind);
        }
        let kind = match self.keychain.connect() {
            Ok(_) => StoreKind::Keyring,
            Err(StoreError::KeychainUnreachable { reason }) => {
                let line = fallback_warning(&reason, self.file.path());
                warn_once(&line);
                *self.fell_back.lock().unwrap_or_else(|p| p.into_inner()) = Some(line);
                StoreKind::File
            }
            // Locked or hung: the keychain is there, so say so rather than quietly
            // moving secrets into a file.
            Err(e) => return Err(e),
        };
        *resolved = Some(kind);
        Ok(kind)
    }

    /// A store to name in a record that has no secret, without reaching anything.
    fn nominal_kind(&self) -> StoreKind {
        if self.in_memory {
            return StoreKind::Memory;
        }
        match self.choice {
            StoreChoice::File => StoreKind::File,
            StoreChoice::Keyring => StoreKind::Keyring,
            StoreChoice::Auto => self
                .resolved
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .unwrap_or(StoreKind::Keyring),
        }
    }

    fn get(&self, kind: StoreKind, entry: &str) -> Result<Option<String>, StoreError> {
        match kind {
            StoreKind::Keyring => self.keychain.get(entry),
            StoreKind::File => self.file.get(entry),
            StoreKind::Memory => Ok(self.memory.get(entry)),
        }
    }

    fn put(&self, kind: StoreKind, entry: &str, value: &str) -> Result<(), StoreError> {
        match kind {
            StoreKind::Keyring => self.keychain.set(entry, value),
            StoreKind::File => self.file.set(entry, value),
            StoreKind::Memory => {
                self.memory.set(entry, value);
                Ok(())
            }
        }
    }

    fn delete(&self, kind: StoreKind, entry: &str) -> Result<(), StoreError> {
        match kind {
            StoreKind::Keyring => self.keychain.delete(entry),
            StoreKind::File => self.file.delete(entry),
            StoreKind::Memory => {
                self.memory.delete(entry);
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests;
