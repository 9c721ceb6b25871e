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
        id_token: None,
        dpop_key: None,
        expires_at_ms: Some(1_700_000_000),
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

// ---- Child processes: what is process-wide (the bus address, the one warning) is
// tested in a fresh copy of this test binary, so no test mutates this process's env.

/// Set in a child run; holds the home directory the parent prepared.
const CHILD_HOME: &str = "MCPAUTH_STORE_TEST_CHILD_HOME";

fn child_home() -> Option<Home> {
    std::env::var_os(CHILD_HOME).map(|d| Home::at(Path::new(&d)))
}

/// Runs one test of this binary, by exact name, as a child (optionally under
/// `wrapper`), with `envs` set on top of ours. The variables through which a keyring
/// session reaches its daemon are not passed on: a child that makes its own session
/// must not find the parent's gnome-keyring. Under a wrapper, XDG_RUNTIME_DIR goes too:
/// gnome-keyring finds (and `--replace` would take over) the daemon whose control
/// socket lives there.
fn run_child(
    test: &str,
    home_dir: &Path,
    wrapper: &[&str],
    envs: &[(&str, &std::ffi::OsStr)],
) -> std::process::Output {
    let exe = std::env::current_exe().expect("the test binary's own path");
    let mut cmd = match wrapper.split_first() {
        Some((program, args)) => {
            let mut c = Command::new(program);
            c.args(args).arg(&exe);
            c
        }
        None => Command::new(&exe),
    };
    cmd.args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_HOME, home_dir)
        .env_remove("GNOME_KEYRING_CONTROL")
        .env_remove("SSH_AUTH_SOCK");
    if !wrapper.is_empty() {
        cmd.env_remove("XDG_RUNTIME_DIR");
    }
    cmd.envs(envs.iter().copied());
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run `{}` for {test}: {e}", exe.display()));
    let ran = String::from_utf8_lossy(&out.stdout).contains("1 passed");
    assert!(
        out.status.success() && ran,
        "the child run of {test} failed ({})\n--- stdout\n{}\n--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// What the fallback children check, given the words the reason must contain.
const EXPECT_REASON: &str = "MCPAUTH_STORE_TEST_EXPECT_REASON";

/// Child body of the fallback tests: `Auto` falls back (one warning per process, the
/// reason in it), `Keyring` refuses and stores nothing.
fn fallback_child(home: &Home) {
    let vault = Vault::open(home, StoreChoice::Auto);
    let saved = vault
        .save_grant(sample_grant(1), &secrets("at-1", Some("rt-1")))
        .unwrap();
    assert_eq!(saved.store, StoreKind::File);
    let warning = vault
        .fallback_warning()
        .expect("the vault says it fell back");
    let expected = std::env::var(EXPECT_REASON).unwrap();
    assert!(
        warning.contains(&expected),
        "`{expected}` not in: {warning}"
    );
    // A second vault in the same process falls back too, but prints nothing more.
    let second = Vault::open(home, StoreChoice::Auto);
    assert_eq!(second.default_kind().unwrap(), StoreKind::File);
    // --store keyring never falls back, and stores nothing.
    let strict = Vault::open(home, StoreChoice::Keyring);
    let err = strict
        .save_grant(sample_grant(2), &secrets("at-2", None))
        .unwrap_err();
    assert!(
        matches!(err, StoreError::KeychainUnreachable { .. }),
        "{err}"
    );
    assert_eq!(strict.index().unwrap().grants.len(), 1);
}

/// Parent side of the fallback tests: exactly one warning line, and the grant in a
/// 0600 secrets file.
fn assert_fell_back(dir: &Path, out: &std::process::Output) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    let warnings: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("mcpauth: warning: no keychain could be reached"))
        .collect();
    assert_eq!(warnings.len(), 1, "exactly one warning line:\n{stderr}");
    assert!(warnings[0].contains("secrets.json") && warnings[0].contains("--store keyring"));
    let secrets_file = dir.join("data/secrets.json");
    let text = std::fs::read_to_string(&secrets_file).expect("the file store was written");
    assert!(text.contains("at-1") && !text.contains("at-2"));
    #[cfg(unix)]
    assert_eq!(mode(&secrets_file), 0o600);
}

#[cfg(target_os = "linux")]
#[test]
fn auto_falls_back_to_the_file_store_without_a_bus() {
    if let Some(home) = child_home() {
        return fallback_child(&home);
    }
    let (dir, _home) = temp_home();
    let dead = format!("unix:path={}/no-bus-here", dir.path().display());
    let out = run_child(
        "store::tests::auto_falls_back_to_the_file_store_without_a_bus",
        dir.path(),
        &[],
        &[
            ("DBUS_SESSION_BUS_ADDRESS", dead.as_ref()),
            (EXPECT_REASON, "no D-Bus session bus".as_ref()),
        ],
    );
    assert_fell_back(dir.path(), &out);
}

/// Needs `dbus-run-session` (package dbus-daemon); .ci/run installs it.
#[cfg(target_os = "linux")]
#[test]
fn auto_falls_back_when_the_bus_has_no_secret_service() {
    if let Some(home) = child_home() {
        return fallback_child(&home);
    }
    let (dir, _home) = temp_home();
    // A private session bus that can start no services at all: a real bus on which
    // nobody owns org.freedesktop.secrets.
    let config = dir.path().join("bus.conf");
    std::fs::write(
        &config,
        format!(
            r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir={}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"#,
            dir.path().display()
        ),
    )
    .unwrap();
    let config_arg = format!("--config-file={}", config.display());
    let out = run_child(
        "store::tests::auto_falls_back_when_the_bus_has_no_secret_service",
        dir.path(),
        &["dbus-run-session", &config_arg, "--"],
        &[(EXPECT_REASON, "Secret Service".as_ref())],
    );
    assert_fell_back(dir.path(), &out);
}

/// Needs `dbus-run-session` and gnome-keyring; .ci/run installs them.
#[cfg(target_os = "linux")]
#[test]
fn a_keychain_with_no_unlocked_collection_is_an_error_not_a_fallback() {
    if let Some(home) = child_home() {
        // Child: a fresh bus whose Secret Service is started on demand, with no
        // unlocked login keyring and no way to prompt for one.
        let vault = Vault::open(&home, StoreChoice::Auto);
        assert_eq!(vault.default_kind().unwrap(), StoreKind::Keyring);
        let err = vault
            .save_grant(sample_grant(1), &secrets("at-LOCKED", None))
            .unwrap_err();
        assert!(matches!(err, StoreError::KeychainLocked { .. }), "{err}");
        let msg = err.to_string();
        eprintln!("child: {msg}");
        assert!(
            msg.contains("unlock") && !msg.contains("at-LOCKED"),
            "{msg}"
        );
        assert!(vault.fallback_warning().is_none());
        assert!(
            vault.index().unwrap().grants.is_empty(),
            "no record without secrets"
        );
        return;
    }
    let (dir, _home) = temp_home();
    let data = dir.path().join("xdg-data");
    let runtime = dir.path().join("xdg-run");
    crate::home::create_private_dir(&data).unwrap();
    crate::home::create_private_dir(&runtime).unwrap();
    let out = run_child(
        "store::tests::a_keychain_with_no_unlocked_collection_is_an_error_not_a_fallback",
        dir.path(),
        &["dbus-run-session", "--"],
        &[
            ("XDG_DATA_HOME", data.as_os_str()),
            ("XDG_RUNTIME_DIR", runtime.as_os_str()),
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("mcpauth: warning"), "{stderr}");
    assert!(!dir.path().join("data/secrets.json").exists());
}

#[test]
fn a_grant_lock_held_here_excludes_another_process() {
    if let Some(home) = child_home() {
        let vault =
            Vault::open(&home, StoreChoice::File).with_lock_wait(Duration::from_millis(100));
        let err = vault
            .lock_grant("shared")
            .err()
            .expect("the parent holds it");
        assert!(matches!(err, StoreError::LockTimeout { .. }), "{err}");
        vault
            .lock_grant("other")
            .expect("a different grant is free");
        return;
    }
    let (dir, home) = temp_home();
    let vault = Vault::open(&home, StoreChoice::File);
    let _held = vault.lock_grant("shared").unwrap();
    run_child(
        "store::tests::a_grant_lock_held_here_excludes_another_process",
        dir.path(),
        &[],
        &[],
    );
}

/// Needs tests/keyring-session's tools (dbus-run-session, gnome-keyring, dbus-send).
#[cfg(target_os = "linux")]
#[test]
fn a_keychain_that_stops_answering_times_out_and_is_not_a_fallback() {
    if let Some(home) = child_home() {
        // Child, in its own keyring session: prove the keychain works, then freeze
        // the daemon (SIGSTOP) so it takes calls and never answers.
        let working = Vault::open(&home, StoreChoice::Keyring);
        let saved = working
            .save_grant(sample_grant(1), &secrets("at-1", None))
            .unwrap();
        let out = Command::new("dbus-send")
            .args([
                "--session",
                "--print-reply",
                "--dest=org.freedesktop.DBus",
                "/org/freedesktop/DBus",
                "org.freedesktop.DBus.GetConnectionUnixProcessID",
                "string:org.freedesktop.secrets",
            ])
            .output()
            .expect("dbus-send (package dbus-bin) runs");
        let reply = String::from_utf8_lossy(&out.stdout);
        let pid = reply
            .split_whitespace()
            .skip_while(|w| *w != "uint32")
            .nth(1)
            .unwrap_or_else(|| panic!("no pid in dbus-send's reply: {reply}"))
            .to_owned();
        let signal = |sig: &str| {
            let ok = Command::new("kill").args([sig, &pid]).status().unwrap();
            assert!(ok.success(), "kill {sig} {pid}");
        };
        signal("-STOP");
        let short = Duration::from_millis(500);
        let frozen = Vault::open(&home, StoreChoice::Keyring).with_keychain_timeout(short);
        let read = frozen.grant_secrets(&saved);
        let auto = Vault::open(&home, StoreChoice::Auto).with_keychain_timeout(short);
        let resolved = auto.default_kind();
        signal("-CONT");
        let err = read.unwrap_err();
        assert!(matches!(err, StoreError::KeychainTimeout { .. }), "{err}");
        assert!(err.to_string().contains("did not answer"), "{err}");
        let err = resolved.unwrap_err();
        assert!(matches!(err, StoreError::KeychainTimeout { .. }), "{err}");
        assert!(auto.fallback_warning().is_none());
        return;
    }
    let (dir, _home) = temp_home();
    let session = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/keyring-session");
    run_child(
        "store::tests::a_keychain_that_stops_answering_times_out_and_is_not_a_fallback",
        dir.path(),
        &[session],
        &[],
    );
    assert!(!dir.path().join("data/secrets.json").exists());
}

// ---- The real Secret Service, through tests/keyring-session.

#[cfg(target_os = "linux")]
mod secret_service {
    use super::*;

    const NEEDS_SESSION: &str = "run the tests through tests/keyring-session (see .ci/run)";

    /// A home whose keychain service name is unique to this test, on the session bus
    /// that tests/keyring-session set up. Fails (never skips) without one.
    fn session_home() -> (tempfile::TempDir, Home) {
        let bus = std::env::var_os("DBUS_SESSION_BUS_ADDRESS").filter(|v| !v.is_empty());
        assert!(
            bus.is_some(),
            "DBUS_SESSION_BUS_ADDRESS is not set: {NEEDS_SESSION}"
        );
        temp_home()
    }

    /// Reads an entry the way another program would, through libsecret's CLI.
    fn lookup(service: &str, user: &str) -> Option<String> {
        let out = Command::new("secret-tool")
            .args(["lookup", "service", service, "username", user])
            .output()
            .unwrap_or_else(|e| panic!("cannot run secret-tool (libsecret-tools): {e}"));
        out.status
            .success()
            .then(|| String::from_utf8(out.stdout).unwrap())
    }

    #[test]
    fn keyring_round_trip_on_real_secret_service() {
        let (_dir, home) = session_home();
        let vault = Vault::open(&home, StoreChoice::Keyring);
        let saved = vault
            .save_grant(sample_grant(1), &secrets("at-ss", Some("rt-ss")))
            .unwrap();
        assert_eq!(saved.store, StoreKind::Keyring);
        let raw = lookup(&home.keyring_service, &grant_entry(&saved.id))
            .expect("the entry is in the Secret Service under the home's service name");
        let raw: GrantSecrets = serde_json::from_str(&raw).unwrap();
        assert_eq!(raw, secrets("at-ss", Some("rt-ss")));
        assert_eq!(
            vault.grant_secrets(&saved).unwrap(),
            Some(secrets("at-ss", Some("rt-ss")))
        );
        // Replaced in one write: the new pair, never half of each.
        vault
            .save_grant(saved.clone(), &secrets("at-ss-2", Some("rt-ss-2")))
            .unwrap();
        assert_eq!(
            vault.grant_secrets(&saved).unwrap(),
            Some(secrets("at-ss-2", Some("rt-ss-2")))
        );
        assert!(vault.remove_grant(&saved.id).unwrap().is_some());
        assert_eq!(lookup(&home.keyring_service, &grant_entry(&saved.id)), None);
        assert_eq!(vault.grant_secrets(&saved).unwrap(), None);
    }

    #[test]
    fn keyring_is_what_auto_picks_when_reachable() {
        let (_dir, home) = session_home();
        let vault = Vault::open(&home, StoreChoice::Auto);
        assert_eq!(vault.default_kind().unwrap(), StoreKind::Keyring);
        assert_eq!(vault.fallback_warning(), None);
        let saved = vault
            .save_client(
                client("https://as.example.com"),
                Some(&Secret::new("cs-ss")),
            )
            .unwrap();
        assert_eq!(saved.store, StoreKind::Keyring);
        let entry = client_entry(&saved.issuer, &saved.client_id);
        assert_eq!(
            lookup(&home.keyring_service, &entry).as_deref(),
            Some("cs-ss")
        );
        assert_eq!(
            vault.client_secret(&saved).unwrap().unwrap().expose(),
            "cs-ss"
        );
        vault
            .save_client(client("https://as.example.com"), None)
            .unwrap();
        assert_eq!(lookup(&home.keyring_service, &entry), None);
    }

    #[test]
    fn keyring_homes_do_not_see_each_other() {
        let (_d1, home1) = session_home();
        let (_d2, home2) = session_home();
        let v1 = Vault::open(&home1, StoreChoice::Keyring);
        let v2 = Vault::open(&home2, StoreChoice::Keyring);
        let saved = v1
            .save_grant(sample_grant(1), &secrets("at-home1", None))
            .unwrap();
        assert_eq!(v2.grant_secrets(&saved).unwrap(), None);
        v1.remove_grant(&saved.id).unwrap();
    }

    #[test]
    fn keyring_splits_long_values_when_the_platform_needs_it() {
        // Windows' limit, shrunk so a real Secret Service exercises the same path.
        let (_dir, home) = session_home();
        let service = &home.keyring_service;
        let mut kc = keyring::Keychain::new(service);
        kc.set_part_limit(Some(64));
        let long = format!("{{\"access_token\":\"{}\"}}", "é".repeat(100));
        kc.set("grant:split", &long).unwrap();
        let head = lookup(service, "grant:split").unwrap();
        let (generation, count) = keyring::parse_header(&head).expect("a parts header");
        assert_eq!(count, keyring::split_value(&long, 64).len());
        assert_eq!(
            kc.get("grant:split").unwrap().as_deref(),
            Some(long.as_str())
        );

        // A short value replaces the header, and the old parts go.
        kc.set("grant:split", "short").unwrap();
        assert_eq!(lookup(service, "grant:split").as_deref(), Some("short"));
        for i in 1..=count {
            let part = keyring::part_name("grant:split", &generation, i);
            assert_eq!(lookup(service, &part), None, "{part} left behind");
        }
        // Deleting a split value deletes every part.
        kc.set("grant:split", &long).unwrap();
        let head = lookup(service, "grant:split").unwrap();
        let (generation, count) = keyring::parse_header(&head).unwrap();
        kc.delete("grant:split").unwrap();
        assert_eq!(kc.get("grant:split").unwrap(), None);
        for i in 1..=count {
            let part = keyring::part_name("grant:split", &generation, i);
            assert_eq!(lookup(service, &part), None, "{part} left behind");
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn keyring_calls_work_from_spawn_blocking_and_from_async_workers() {
        let (_dir, home) = session_home();
        let vault = Arc::new(Vault::open(&home, StoreChoice::Keyring));
        let v = vault.clone();
        let saved = tokio::task::spawn_blocking(move || {
            v.save_grant(sample_grant(1), &secrets("at-tokio", None))
        })
        .await
        .unwrap()
        .unwrap();
        // Blocking a worker is poor form, but must not panic inside zbus either.
        assert_eq!(
            vault
                .grant_secrets(&saved)
                .unwrap()
                .unwrap()
                .access_token
                .expose(),
            "at-tokio"
        );
        vault.remove_grant(&saved.id).unwrap();
    }
}
