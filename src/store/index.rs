//! The grant index file, `<data_dir>/grants.json`: `{"version":1,"grants":[...],
//! "clients":[...]}`, 0600. It holds no secret, so `status` can read it freely.
//!
//! Reads need no lock (writes are atomic renames); every read-modify-write holds
//! `<lock_dir>/index.lock`. A file we cannot understand (bad JSON, a newer version) is
//! refused with an error naming it, and never overwritten: it may be a newer mcpauth's
//! data, or a person's hand edit worth fixing rather than losing.

use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::disk::{lock_exclusive, read_optional, write_private_atomic};
use super::{ClientRecord, GrantRecord, Index, StoreError};

/// The index format this build reads and writes.
pub(crate) const INDEX_VERSION: u64 = 1;

#[derive(Serialize)]
struct IndexOut<'a> {
    version: u64,
    grants: &'a [GrantRecord],
    clients: &'a [ClientRecord],
}

#[derive(Deserialize)]
struct IndexIn {
    #[serde(default)]
    grants: Vec<GrantRecord>,
    #[serde(default)]
    clients: Vec<ClientRecord>,
}

/// Parses the index file's bytes; `path` only names the file in errors.
pub(crate) fn parse(path: &Path, bytes: &[u8]) -> Result<Index, StoreError> {
    let corrupt = |detail: String| StoreError::CorruptIndex {
        path: path.to_path_buf(),
        detail,
    };
    let value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| corrupt(format!("not JSON: {e}")))?;
    let version = match value.get("version") {
        Some(v) => v
            .as_u64()
            .ok_or_else(|| corrupt(format!("`version` is `{v}`, not a whole number")))?,
        None if value.is_object() => return Err(corrupt("it has no `version`".into())),
        None => return Err(corrupt("it is not a JSON object".into())),
    };
    if version > INDEX_VERSION {
        return Err(StoreError::NewerIndex {
            path: path.to_path_buf(),
            found: version,
            supported: INDEX_VERSION,
        });
    }
    if version == 0 {
        return Err(corrupt("`version` is 0".into()));
    }
    let parsed: IndexIn = serde_json::from_value(value).map_err(|e| corrupt(e.to_string()))?;
    Ok(Index {
        grants: parsed.grants,
        clients: parsed.clients,
    })
}

pub(crate) fn render(index: &Index) -> Vec<u8> {
    let out = IndexOut {
        version: INDEX_VERSION,
        grants: &index.grants,
        clients: &index.clients,
    };
    let mut bytes = serde_json::to_vec_pretty(&out).expect("the index always serializes");
    bytes.push(b'\n');
    bytes
}

/// The index as it is on disk; a missing file is an empty index.
pub(crate) fn load(path: &Path) -> Result<Index, StoreError> {
    match read_optional(path)? {
        Some(bytes) => parse(path, &bytes),
        None => Ok(Index::default()),
    }
}

/// Read-modify-write under the index lock. Writes only when `f` changed something, so
/// a no-op update never rewrites (or creates) the file.
pub(crate) fn update<T>(
    path: &Path,
    lock_path: &Path,
    wait: Duration,
    f: impl FnOnce(&mut Index) -> T,
) -> Result<T, StoreError> {
    let _lock = lock_exclusive(lock_path, wait)?;
    let before = load(path)?;
    let mut index = before.clone();
    let out = f(&mut index);
    if index != before {
        write_private_atomic(path, &render(&index))?;
    }
    Ok(out)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::store::{ClientOrigin, GrantKey, StoreKind};

    pub(crate) fn sample_grant(n: u32) -> GrantRecord {
        let key = GrantKey {
            resource: format!("https://mcp.example.com/{n}"),
            issuer: "https://as.example.com".into(),
            client_id: "cid".into(),
            account: None,
        };
        GrantRecord {
            id: key.id(),
            key,
            aliases: vec![format!("server{n}")],
            server_url: None,
            send_resource: true,
            scope_on_refresh: false,
            store: StoreKind::File,
            token_endpoint: "https://as.example.com/token".into(),
            revocation_endpoint: None,
            auth_method: "none".into(),
            scopes: vec!["read".into()],
            extra_params: Default::default(),
            expires_at_ms: Some(1_700_000_000),
            obtained_at_ms: 1_699_990_000,
            refreshed_at_ms: None,
            has_refresh_token: true,
            needs_login: false,
            client_credentials: false,
            workload: None,
            identity_provider: None,
            through_idp: None,
            dpop: false,
        }
    }

    fn sample_index() -> Index {
        Index {
            grants: vec![sample_grant(1), sample_grant(2)],
            clients: vec![ClientRecord {
                issuer: "https://as.example.com".into(),
                client_id: "cid".into(),
                auth_method: "client_secret_basic".into(),
                origin: ClientOrigin::Dynamic,
                redirect_uris: vec!["http://127.0.0.1/callback".into()],
                has_secret: true,
                store: StoreKind::Keyring,
                registered_at: 1_699_000_000,
                secret_expires_at: Some(0),
            }],
        }
    }

    #[test]
    fn index_round_trips_and_carries_its_version() {
        let index = sample_index();
        let bytes = render(&index);
        let value: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(value["version"], 1);
        assert_eq!(value["grants"][0]["store"], "file");
        assert_eq!(value["clients"][0]["origin"], "dynamic");
        assert_eq!(parse(Path::new("grants.json"), &bytes).unwrap(), index);
    }

    #[test]
    fn a_missing_index_is_empty_and_a_noop_update_creates_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data/grants.json");
        assert_eq!(load(&path).unwrap(), Index::default());
        let n = update(
            &path,
            &dir.path().join("locks/index.lock"),
            Duration::ZERO,
            |i| i.grants.len(),
        )
        .unwrap();
        assert_eq!(n, 0);
        assert!(!path.exists());
    }

    #[test]
    fn a_corrupt_index_is_refused_by_name_and_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("grants.json");
        for bad in [
            &b"{not json"[..],
            b"[]",
            b"{\"grants\":[]}",
            b"{\"version\":\"1\"}",
            b"{\"version\":1,\"grants\":[{\"id\":5}]}",
            b"",
        ] {
            std::fs::write(&path, bad).unwrap();
            let err = load(&path).unwrap_err();
            assert!(matches!(err, StoreError::CorruptIndex { .. }), "{err}");
            assert!(err.to_string().contains(&*path.to_string_lossy()), "{err}");
            let lock = dir.path().join("index.lock");
            let err = update(&path, &lock, Duration::ZERO, |i| i.grants.clear()).unwrap_err();
            assert!(matches!(err, StoreError::CorruptIndex { .. }), "{err}");
            assert_eq!(std::fs::read(&path).unwrap(), bad, "the file must be kept");
        }
    }

    #[test]
    fn a_newer_index_is_refused_and_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("grants.json");
        let newer = br#"{"version":2,"grants":[],"clients":[],"shiny":true}"#;
        std::fs::write(&path, newer).unwrap();
        let lock = dir.path().join("index.lock");
        let err = update(&path, &lock, Duration::ZERO, |i| {
            i.grants.push(sample_grant(1))
        })
        .unwrap_err();
        assert!(
            matches!(err, StoreError::NewerIndex { found: 2, .. }),
            "{err}"
        );
        let msg = err.to_string();
        assert!(
            msg.contains("grants.json") && msg.contains("upgrade"),
            "{msg}"
        );
        assert_eq!(std::fs::read(&path).unwrap(), newer);
    }
}
