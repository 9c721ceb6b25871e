//! `mcpauth token` with a valid cached grant: the cost a headers helper pays on every
//! connection. Run with `tests/keyring-session cargo bench --bench token`.
//!
//! Spawns the release binary N times per case and reports the median and p90 wall time,
//! beside `mcpauth --version` (process start alone) measured in the same run, so the
//! figures can be read as a ratio on a noisy machine.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use mcpauth::home::Home;
use mcpauth::secret::Secret;
use mcpauth::store::{GrantKey, GrantRecord, GrantSecrets, StoreChoice, StoreKind, Vault};

const RUNS: usize = 200;

fn main() {
    let bin = env!("CARGO_BIN_EXE_mcpauth");
    let mut rows = Vec::new();
    rows.push((
        "mcpauth --version (process start)",
        measure(bin, &["--version"], None),
    ));
    for (label, choice) in [
        ("mcpauth token, file store", StoreChoice::File),
        ("mcpauth token, Secret Service", StoreChoice::Keyring),
    ] {
        if choice == StoreChoice::Keyring && std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_none()
        {
            panic!("the keychain case needs a Secret Service: run through tests/keyring-session");
        }
        let dir = tempfile::tempdir().expect("temp dir");
        let store = if choice == StoreChoice::File {
            "file"
        } else {
            "keyring"
        };
        seed(dir.path(), choice);
        rows.push((
            label,
            measure(bin, &["token", "demo"], Some((dir.path(), store))),
        ));
    }
    // The reference client of the Secret Service (libsecret's secret-tool) reading one
    // secret: the floor for any program that asks the keychain.
    let mut store = Command::new("secret-tool")
        .args([
            "store",
            "--label=mcpauth bench",
            "service",
            "mcpauth-bench",
            "user",
            "u",
        ])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .expect("secret-tool is installed by tests/run");
    {
        use std::io::Write;
        store.stdin.take().unwrap().write_all(b"a-secret").unwrap();
    }
    assert!(store.wait().unwrap().success(), "secret-tool store failed");
    rows.push((
        "secret-tool lookup (libsecret)",
        measure(
            "secret-tool",
            &["lookup", "service", "mcpauth-bench", "user", "u"],
            None,
        ),
    ));

    println!(
        "{:<36} {:>10} {:>10} {:>8}",
        "case", "median", "p90", "ratio"
    );
    let base = rows[0].1.0;
    for (label, (median, p90)) in &rows {
        println!(
            "{label:<36} {:>8.2}ms {:>8.2}ms {:>7.2}x",
            ms(*median),
            ms(*p90),
            median.as_secs_f64() / base.as_secs_f64()
        );
    }
}

/// A project with one server and a grant valid for a day, stored as a login would.
fn seed(dir: &Path, choice: StoreChoice) {
    let project = dir.join("project");
    std::fs::create_dir_all(&project).unwrap();
    let url = "http://127.0.0.1:9/mcp";
    std::fs::write(
        project.join(".mcp.json"),
        format!(r#"{{"mcpServers": {{"demo": {{"type": "http", "url": "{url}"}}}}}}"#),
    )
    .unwrap();
    let home = Home::at(&dir.join("home"));
    let vault = Vault::open(&home, choice);
    let now = mcpauth::clock::system_now_ms();
    let key = GrantKey {
        resource: url.into(),
        issuer: "http://127.0.0.1:9".into(),
        client_id: "bench".into(),
        account: None,
    };
    let rec = GrantRecord {
        id: key.id(),
        key,
        aliases: vec!["demo".into()],
        server_url: None,
        send_resource: true,
        scope_on_refresh: false,
        store: if choice == StoreChoice::File {
            StoreKind::File
        } else {
            StoreKind::Keyring
        },
        token_endpoint: "http://127.0.0.1:9/token".into(),
        revocation_endpoint: None,
        auth_method: "none".into(),
        scopes: vec!["mcp".into()],
        extra_params: Default::default(),
        expires_at_ms: Some(now + 86_400_000),
        obtained_at_ms: now,
        refreshed_at_ms: None,
        has_refresh_token: true,
        needs_login: false,
        client_credentials: false,
        workload: None,
        identity_provider: None,
        through_idp: None,
        dpop: false,
    };
    let secrets = GrantSecrets {
        access_token: Secret::new("a".repeat(900)),
        refresh_token: Some(Secret::new("r".repeat(64))),
        id_token: None,
        dpop_key: None,
        expires_at_ms: Some(now + 86_400_000),
    };
    vault.save_grant(rec, &secrets).expect("seed the grant");
}

fn measure(bin: &str, args: &[&str], seeded: Option<(&Path, &str)>) -> (Duration, Duration) {
    let mut times = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let mut cmd = Command::new(bin);
        cmd.args(args);
        if let Some((dir, store)) = seeded {
            cmd.current_dir(dir.join("project"))
                .env("MCPAUTH_HOME", dir.join("home"))
                .env("MCPAUTH_STORE", store);
        }
        let start = Instant::now();
        let out = cmd.output().expect("run mcpauth");
        let took = start.elapsed();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        times.push(took);
    }
    times.sort();
    (times[RUNS / 2], times[RUNS * 9 / 10])
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
