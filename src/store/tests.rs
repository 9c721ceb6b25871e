//! Tests of the vault as its callers use it: the memory and file stores with the real
//! index and locks, the real Secret Service (run through `tests/keyring-session`), and
//! child processes for what is process-wide (the bus address, the one warning).

use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};
use std::time::Duration;

use super::index::tests::sample_grant;
use super::*;
use crate::home::Home;

fn secrets(access: &str, refresh: Option<&str>) -> GrantSecrets {
    GrantSecrets {
        access_token: Secret::new(access),
        refresh_token: refresh.map(Secret::new),
        expires_at: Some(1_700_000_000),
    }
}

fn client(issuer: &str) -> ClientRecord {
    ClientRecord {
        issuer: issuer.into(),
        client_id: "client-1".into(),
        auth_method: "client_secret_post".into(),
        origin: ClientOrigin::Dynamic,
        redirect_uris: vec!["http://127.0.0.1/callback".into()],
        has_secret: false,
        store: StoreKind::Memory,
        registered_at: 1_699_000_000,
        secret_expires_at: None,
    }
}

fn temp_home() -> (tempfile::TempDir, Home) {
    let dir = tempfile::tempdir().unwrap();
    let home = Home::at(dir.path());
    (dir, home)
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn opening_a_vault_touches_nothing() {
    let (dir, home) = temp_home();
    let vault = Vault::open(&home, StoreChoice::Auto);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    assert_eq!(vault.index().unwrap(), Index::default());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn memory_vault_saves_reads_and_removes_a_grant() {
    let (_dir, home) = temp_home();
    let vault = Vault::in_memory(&home);
    let mut rec = sample_grant(1);
    rec.id.clear();
    rec.has_refresh_token = false;
    let saved = vault
        .save_grant(rec.clone(), &secrets("at-1", Some("rt-1")))
        .unwrap();
    assert_eq!(saved.id, rec.key.id(), "an empty id is filled from the key");
    assert_eq!(saved.store, StoreKind::Memory);
    assert!(saved.has_refresh_token, "follows the secrets");
    assert_eq!(vault.index().unwrap().grants, vec![saved.clone()]);

    // A second vault on the same home sees it, as a second process would.
    let other = Vault::in_memory(&home);
    let got = other.grant_secrets(&saved).unwrap().unwrap();
    assert_eq!(got, secrets("at-1", Some("rt-1")));

    // Saving again replaces in place.
    let again = vault
        .save_grant(saved.clone(), &secrets("at-2", None))
        .unwrap();
    assert!(!again.has_refresh_token);
    assert_eq!(vault.index().unwrap().grants.len(), 1);
    assert_eq!(
        vault.grant_secrets(&again).unwrap().unwrap().access_token,
        Secret::new("at-2")
    );

    assert_eq!(vault.remove_grant(&saved.id).unwrap(), Some(again));
    assert_eq!(vault.grant_secrets(&saved).unwrap(), None);
    assert!(vault.index().unwrap().grants.is_empty());
    assert_eq!(vault.remove_grant(&saved.id).unwrap(), None);
}

#[test]
fn file_vault_keeps_secrets_and_index_private() {
    let (dir, home) = temp_home();
    let vault = Vault::open(&home, StoreChoice::File);
    let saved = vault
        .save_grant(sample_grant(1), &secrets("at-file", Some("rt-file")))
        .unwrap();
    assert_eq!(saved.store, StoreKind::File);
    let secrets_path = dir.path().join("data/secrets.json");
    let map: BTreeMap<String, String> =
        serde_json::from_slice(&std::fs::read(&secrets_path).unwrap()).unwrap();
    let stored: GrantSecrets = serde_json::from_str(&map[&grant_entry(&saved.id)]).unwrap();
    assert_eq!(stored, secrets("at-file", Some("rt-file")));
    let index_text = std::fs::read_to_string(dir.path().join("data/grants.json")).unwrap();
    assert!(!index_text.contains("at-file") && !index_text.contains("rt-file"));
    #[cfg(unix)]
    {
        assert_eq!(mode(&secrets_path), 0o600);
        assert_eq!(mode(&dir.path().join("data/grants.json")), 0o600);
        assert_eq!(mode(&dir.path().join("data")), 0o700);
    }
    assert!(vault.location(StoreKind::File).contains("secrets.json"));
}

#[test]
fn a_record_is_read_from_its_own_store_whatever_the_default() {
    let (_dir, home) = temp_home();
    let file_vault = Vault::open(&home, StoreChoice::File);
    let saved = file_vault
        .save_grant(sample_grant(1), &secrets("at-1", None))
        .unwrap();
    // Now the default is memory, but the grant stays in the file store.
    let mem_vault = Vault::in_memory(&home);
    assert_eq!(
        mem_vault
            .grant_secrets(&saved)
            .unwrap()
            .unwrap()
            .access_token
            .expose(),
        "at-1"
    );
    let resaved = mem_vault
        .save_grant(saved.clone(), &secrets("at-2", None))
        .unwrap();
    assert_eq!(resaved.store, StoreKind::File);
    assert_eq!(
        file_vault
            .grant_secrets(&saved)
            .unwrap()
            .unwrap()
            .access_token
            .expose(),
        "at-2"
    );
}

#[test]
fn a_failed_secret_delete_keeps_the_record() {
    let (dir, home) = temp_home();
    let vault = Vault::open(&home, StoreChoice::File);
    let saved = vault
        .save_grant(sample_grant(1), &secrets("at-1", None))
        .unwrap();
    // Damage the file store: deleting from it must fail, and the record must stay.
    std::fs::write(dir.path().join("data/secrets.json"), b"{oops").unwrap();
    let err = vault.remove_grant(&saved.id).unwrap_err();
    assert!(
        matches!(err, StoreError::CorruptSecretsFile { .. }),
        "{err}"
    );
    assert_eq!(vault.index().unwrap().grants, vec![saved]);
}

#[test]
fn a_missing_secret_does_not_stop_a_removal() {
    let (_dir, home) = temp_home();
    let vault = Vault::open(&home, StoreChoice::File);
    let mut rec = sample_grant(1);
    rec.store = StoreKind::File;
    vault.update_index(|i| i.grants.push(rec.clone())).unwrap();
    assert_eq!(vault.remove_grant(&rec.id).unwrap(), Some(rec));
    assert!(vault.index().unwrap().grants.is_empty());
}

#[test]
fn client_secrets_round_trip_and_public_clients_store_none() {
    let (_dir, home) = temp_home();
    let vault = Vault::open(&home, StoreChoice::File);
    let saved = vault
        .save_client(client("https://as.example.com"), Some(&Secret::new("cs-1")))
        .unwrap();
    assert!(saved.has_secret);
    assert_eq!(saved.store, StoreKind::File);
    assert_eq!(
        vault.client_secret(&saved).unwrap().unwrap().expose(),
        "cs-1"
    );

    // The same client again, now public: the record says so and the secret goes.
    let public = vault
        .save_client(client("https://as.example.com"), None)
        .unwrap();
    assert!(!public.has_secret);
    assert_eq!(vault.index().unwrap().clients, vec![public.clone()]);
    assert_eq!(vault.client_secret(&public).unwrap(), None);
    let mut probe = public.clone();
    probe.has_secret = true;
    assert_eq!(
        vault.client_secret(&probe).unwrap(),
        None,
        "old secret deleted"
    );

    // A client at another issuer is another record.
    vault
        .save_client(client("https://other.example.com"), None)
        .unwrap();
    assert_eq!(vault.index().unwrap().clients.len(), 2);
}

#[test]
fn entry_names_carry_no_url_or_secret() {
    let name = client_entry("https://as.example.com/tenant", "client-1");
    assert!(
        name.starts_with("client:") && !name.contains("example"),
        "{name}"
    );
    assert_eq!(name.len(), "client:".len() + 16 + 1 + 16);
    assert_ne!(
        name,
        client_entry("https://as.example.com/other", "client-1")
    );
    assert_eq!(grant_entry("abc"), "grant:abc");
}

#[test]
fn concurrent_index_updates_lose_nothing() {
    let (_dir, home) = temp_home();
    let threads = 4;
    let per_thread = 8;
    let start = Arc::new(Barrier::new(threads));
    std::thread::scope(|scope| {
        for t in 0..threads {
            let home = &home;
            let start = start.clone();
            scope.spawn(move || {
                // A vault per thread: each takes the OS lock as a separate process would.
                let vault = Vault::open(home, StoreChoice::File);
                start.wait();
                for i in 0..per_thread {
                    vault
                        .update_index(|idx| idx.grants.push(sample_grant((t * 100 + i) as u32)))
                        .unwrap();
                }
            });
        }
    });
    let index = Vault::open(&home, StoreChoice::File).index().unwrap();
    assert_eq!(index.grants.len(), threads * per_thread);
}

#[test]
fn grant_lock_excludes_other_holders_until_dropped() {
    let (_dir, home) = temp_home();
    let vault = Vault::open(&home, StoreChoice::File).with_lock_wait(Duration::from_millis(50));
    let held = vault.lock_grant("g1").unwrap();
    let err = vault
        .lock_grant("g1")
        .err()
        .expect("second taker must not get it");
    assert!(matches!(err, StoreError::LockTimeout { .. }), "{err}");
    assert!(err.to_string().contains("g1.lock"), "{err}");
    let other = vault
        .lock_grant("g2")
        .expect("other grants are independent");
    drop(other);

    // A waiter gets the lock once the holder lets go, and only then.
    let released = AtomicBool::new(false);
    let patient = Vault::open(&home, StoreChoice::File).with_lock_wait(Duration::from_secs(60));
    std::thread::scope(|scope| {
        let waiter = scope.spawn(|| {
            let _lock = patient.lock_grant("g1").unwrap();
            released.load(Ordering::SeqCst)
        });
        std::thread::sleep(Duration::from_millis(20));
        released.store(true, Ordering::SeqCst);
        drop(held);
        assert!(
            waiter.join().unwrap(),
            "the waiter ran before the holder let go"
        );
    });
}

#[test]
fn grant_ids_that_could_escape_the_lock_dir_are_refused() {
    let (dir, home) = temp_home();
    let vault = Vault::open(&home, StoreChoice::File);
    for bad in ["", "../x", "a/b", "a.b", &"x".repeat(65)] {
        let err = vault.lock_grant(bad).err().expect(bad);
        assert!(matches!(err, StoreError::InvalidGrantId { .. }), "{err}");
    }
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn damaged_secrets_are_reported_without_their_content() {
    let (dir, home) = temp_home();
    let vault = Vault::open(&home, StoreChoice::File);
    let saved = vault
        .save_grant(sample_grant(1), &secrets("at-1", None))
        .unwrap();
    let mut map = BTreeMap::new();
    map.insert(
        grant_entry(&saved.id),
        "{\"access_token\": 5, \"x\": \"tok-SECRET-9\"".to_owned(),
    );
    std::fs::write(
        dir.path().join("data/secrets.json"),
        serde_json::to_vec(&map).unwrap(),
    )
    .unwrap();
    let err = vault.grant_secrets(&saved).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains(&grant_entry(&saved.id)), "{msg}");
    assert!(!msg.contains("SECRET"), "{msg}");
    assert!(!format!("{err:?}").contains("SECRET"));
}

#[test]
fn store_error_messages_name_the_problem_and_carry_no_secret() {
    let path = PathBuf::from("/home/u/.local/share/mcpauth/grants.json");
    let cases = [
        StoreError::KeychainLocked {
            detail: "collection locked".into(),
        },
        StoreError::KeychainUnreachable {
            reason: "no D-Bus session bus".into(),
        },
        StoreError::KeychainTimeout {
            op: "reading `grant:abc`".into(),
            waited: Duration::from_secs(20),
        },
        StoreError::NewerIndex {
            path: path.clone(),
            found: 2,
            supported: 1,
        },
    ];
    let texts: Vec<String> = cases.iter().map(|e| e.to_string()).collect();
    assert!(
        texts[0].contains("locked") && texts[0].contains("unlock"),
        "{}",
        texts[0]
    );
    #[cfg(target_os = "linux")]
    assert!(texts[0].contains("Seahorse") && texts[0].contains("gnome-keyring-daemon --unlock"));
    assert!(texts[1].contains("--store file"), "{}", texts[1]);
    assert!(
        texts[2].contains("20 s") && texts[2].contains("grant:abc"),
        "{}",
        texts[2]
    );
    assert!(texts[3].contains("grants.json"), "{}", texts[3]);
    for t in &texts {
        assert!(t.chars().next().unwrap().is_lowercase(), "{t}");
    }
}

#[test]
fn the_fallback_warning_is_one_line_naming_the_file() {
    let line = fallback_warning("no D-Bus session bus", Path::new("/d/secrets.json"));
    assert_eq!(
        line,
        "mcpauth: warning: no keychain could be reached (no D-Bus session bus); keeping \
         secrets in `/d/secrets.json`, readable only by you (use --store keyring to require \
         the keychain)"
    );
    assert!(!line.contains('\n'));
}
