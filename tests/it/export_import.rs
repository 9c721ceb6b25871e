//! `mcpauth export` on one host and `mcpauth import` on another. Two `MCPAUTH_HOME`s on
//! this machine stand for the laptop (with the test's Secret Service) and the server (no
//! D-Bus at all, so the file store), against one loopback authorization server that
//! rotates refresh tokens and ends a grant whose rotated-out token comes back.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use age::secrecy::ExposeSecret;
use serde_json::{Value, json};

use crate::proxy_cli::{Host, echo};
use crate::support::{Fixture, Knobs, RunOutput, TestEnv};

const PASSPHRASE: &str = "correct horse battery staple";

struct Hosts {
    fx: Fixture,
    laptop: TestEnv,
    server: TestEnv,
    /// Where bundles, keys and passphrase files go: neither host's home.
    scratch: tempfile::TempDir,
}

impl Hosts {
    fn new(ttl: Duration) -> Self {
        let fx = Fixture::start(Knobs {
            access_token_ttl: ttl,
            rotate_refresh_tokens: true,
            revoke_family_on_refresh_reuse: true,
            ..Knobs::default()
        });
        let laptop = TestEnv::new();
        laptop.add_server("demo", &fx.mcp_url());
        let mut server = TestEnv::new();
        server.env(
            "DBUS_SESSION_BUS_ADDRESS",
            "unix:path=/nonexistent/mcpauth-test-bus",
        );
        server.add_server("demo", &fx.mcp_url());
        let scratch = tempfile::tempdir().unwrap();
        std::fs::write(scratch.path().join("pass"), format!("{PASSPHRASE}\n")).unwrap();
        let login = laptop.run(&["login", "demo"]);
        assert_eq!(login.code, Some(0), "{login:?}");
        Self {
            fx,
            laptop,
            server,
            scratch,
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.scratch.path().join(name)
    }

    fn pass(&self) -> String {
        self.path("pass").display().to_string()
    }

    /// `mcpauth export demo EXTRA --out bundle --passphrase-file pass` on the laptop.
    fn export(&self, extra: &[&str]) -> RunOutput {
        let bundle = self.path("bundle.age").display().to_string();
        let pass = self.pass();
        let mut args = vec![
            "export",
            "demo",
            "--out",
            &bundle,
            "--passphrase-file",
            &pass,
        ];
        args.extend_from_slice(extra);
        self.laptop.run(&args)
    }

    /// `mcpauth import bundle --passphrase-file pass EXTRA` on the server.
    fn import(&self, extra: &[&str]) -> RunOutput {
        let bundle = self.path("bundle.age").display().to_string();
        let pass = self.pass();
        let mut args = vec!["import", &bundle, "--passphrase-file", &pass];
        args.extend_from_slice(extra);
        self.server.run(&args)
    }
}

fn token(env: &TestEnv) -> RunOutput {
    env.run(&["token", "demo"])
}

/// Every file under `dir`, with its bytes: the store as a whole, to compare.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                todo.push(path);
            } else {
                files.insert(path.clone(), std::fs::read(&path).unwrap());
            }
        }
    }
    files
}

#[test]
fn a_fresh_grant_on_the_server_and_the_laptop_both_keep_refreshing() {
    let ttl = Duration::from_secs(3);
    let hosts = Hosts::new(ttl);
    let laptop_token = token(&hosts.laptop).stdout.trim().to_owned();
    let authorizations = hosts.fx.counters().authorize_requests;

    let out = hosts.export(&[]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(
        hosts.fx.counters().authorize_requests,
        authorizations + 1,
        "one more approval in the browser, for the server's own grant"
    );
    let bundle = std::fs::read_to_string(hosts.path("bundle.age")).unwrap();
    assert!(bundle.starts_with("-----BEGIN AGE ENCRYPTED FILE-----"));
    assert!(!bundle.contains(&laptop_token));

    let out = hosts.import(&[]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert!(out.stderr.contains("Imported `demo`"), "{out:?}");
    assert!(out.stderr.contains("file store"), "{out:?}");
    assert_eq!(
        out.stderr.matches("no keychain could be reached").count(),
        1,
        "one notice that the file store is used: {out:?}"
    );
    let server_token = token(&hosts.server).stdout.trim().to_owned();
    assert!(hosts.fx.access_token_valid(&server_token));
    assert_ne!(server_token, laptop_token, "two grants, not one");
    let status = hosts.server.run(&["status", "--json"]);
    let status: Value = serde_json::from_str(&status.stdout).expect("status --json");
    // A 3-second token can expire between the import and this line on a loaded machine
    // (it did once); usable is what counts, and the calls below show it refreshes.
    let state = status[0]["state"].as_str().unwrap_or_default();
    assert!(matches!(state, "valid" | "expired"), "{status}");
    assert_eq!(status[0]["store"], "file");

    // 30 s: the server's proxy calls tools while the laptop asks for tokens.
    let session = Duration::from_secs(31);
    let mut host = Host::start(&hosts.server, &["proxy", "demo", "--login", "never"]);
    let init = host.initialize();
    assert!(init.get("result").is_some(), "{init}");
    let start = Instant::now();
    let (mut calls, mut laptop_tokens) = (0u32, Vec::new());
    let mut round = 0u32;
    while start.elapsed() < session && round < 10_000 {
        round += 1;
        let text = format!("call {round}");
        let answer = echo(&mut host, &text);
        assert_eq!(
            answer["result"]["content"][0]["text"],
            json!(text),
            "{answer}"
        );
        calls += 1;
        if round.is_multiple_of(10) {
            let t = token(&hosts.laptop);
            assert_eq!(t.code, Some(0), "the laptop lost its grant: {t:?}");
            let t = t.stdout.trim().to_owned();
            assert!(
                hosts.fx.access_token_valid(&t),
                "the laptop got a dead token"
            );
            laptop_tokens.push(t);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(host.finish(), Some(0));
    assert!(calls > 100, "only {calls} calls");
    laptop_tokens.dedup();
    assert!(
        laptop_tokens.len() >= 5,
        "the laptop refreshed its own grant across the session: {} tokens",
        laptop_tokens.len()
    );

    // Several refreshes on both sides, and no refresh token used twice (with reuse
    // detection on, that would have ended a grant).
    let refreshes = hosts.fx.refreshes_without_reuse() as f64;
    let lifetimes = session.as_secs_f64() / ttl.as_secs_f64();
    assert!(
        refreshes >= lifetimes * 1.5,
        "{refreshes} refreshes for two hosts over {lifetimes:.0} lifetimes"
    );
    for env in [&hosts.laptop, &hosts.server] {
        let t = token(env);
        assert_eq!(t.code, Some(0), "{t:?}");
        assert!(hosts.fx.access_token_valid(t.stdout.trim()));
    }
}

/// One tool call through a proxy on `env`, after the server has stopped taking the
/// current access tokens: the proxy must refresh. Returns the answer.
fn call_after_expiry(hosts: &Hosts, env: &TestEnv) -> Value {
    hosts.fx.expire_access_tokens();
    let mut host = Host::start(env, &["proxy", "demo", "--login", "never"]);
    host.initialize();
    let answer = echo(&mut host, "after expiry");
    assert_eq!(host.finish(), Some(0));
    answer
}

#[test]
fn copy_shares_the_grant_and_the_first_refresh_ends_the_other() {
    let hosts = Hosts::new(Duration::from_secs(3600));
    let authorizations = hosts.fx.counters().authorize_requests;
    let out = hosts.export(&["--copy"]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert!(
        out.stderr.contains("same refresh token"),
        "the warning: {out:?}"
    );
    assert_eq!(
        hosts.fx.counters().authorize_requests,
        authorizations,
        "no new sign-in"
    );
    assert_eq!(hosts.import(&[]).code, Some(0));
    assert_eq!(
        token(&hosts.server).stdout,
        token(&hosts.laptop).stdout,
        "one grant on two hosts"
    );

    // What the warning says: the server refreshes first, and the laptop's refresh token
    // is then a rotated-out one, which ends the grant when it comes back.
    let answer = call_after_expiry(&hosts, &hosts.server);
    assert!(
        answer.get("result").is_some(),
        "the server refreshed: {answer}"
    );
    let answer = call_after_expiry(&hosts, &hosts.laptop);
    assert!(
        answer["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("mcpauth login demo")),
        "the laptop's grant is gone: {answer}"
    );
    let t = token(&hosts.laptop);
    assert_eq!(t.code, Some(4), "{t:?}");
}

#[test]
fn move_hands_the_grant_over_and_forgets_it_here() {
    let hosts = Hosts::new(Duration::from_secs(3600));
    let before = token(&hosts.laptop).stdout.trim().to_owned();
    // Not into a pipe: it could break after the grant is forgotten here.
    let pass = hosts.pass();
    let out = hosts
        .laptop
        .run(&["export", "demo", "--move", "--passphrase-file", &pass]);
    assert_eq!(out.code, Some(2), "{out:?}");
    assert!(out.stderr.contains("--move needs --out"), "{out:?}");
    assert_eq!(token(&hosts.laptop).stdout.trim(), before, "still here");

    let out = hosts.export(&["--move"]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert!(out.stderr.contains("forgotten here"), "{out:?}");
    let t = token(&hosts.laptop);
    assert_eq!(t.code, Some(4), "nothing left on the laptop: {t:?}");

    assert_eq!(hosts.import(&[]).code, Some(0));
    assert_eq!(token(&hosts.server).stdout.trim(), before, "the same grant");
    let answer = call_after_expiry(&hosts, &hosts.server);
    assert!(
        answer.get("result").is_some(),
        "the sole holder refreshes: {answer}"
    );
    let t = token(&hosts.server).stdout.trim().to_owned();
    assert_ne!(t, before);
    assert!(hosts.fx.access_token_valid(&t));
}

#[test]
fn an_ssh_key_bundle_goes_through_a_pipe() {
    let hosts = Hosts::new(Duration::from_secs(3600));
    let key = hosts.path("id_ed25519");
    let keygen = std::process::Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(&key)
        .status()
        .expect("ssh-keygen is needed (openssh-client; tests/run installs it)");
    assert!(keygen.success());
    let pubkey = format!("{}.pub", key.display());

    // `mcpauth export demo --recipient-file KEY.pub | ssh host mcpauth import - --identity KEY`
    let out = hosts
        .laptop
        .run(&["export", "demo", "--copy", "--recipient-file", &pubkey]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert!(out.stdout.starts_with("-----BEGIN AGE ENCRYPTED FILE-----"));
    let key_path = key.display().to_string();
    let imported = hosts
        .server
        .run_with_stdin(&["import", "-", "--identity", &key_path], &out.stdout);
    assert_eq!(imported.code, Some(0), "{imported:?}");
    assert_eq!(token(&hosts.server).stdout, token(&hosts.laptop).stdout);
}

/// An age-encrypted JSON document, as a newer or a hostile mcpauth could write it.
fn seal_raw(plaintext: &str, passphrase: &str) -> String {
    let encryptor = age::Encryptor::with_user_passphrase(passphrase.to_owned().into());
    let mut out = Vec::new();
    let armor =
        age::armor::ArmoredWriter::wrap_output(&mut out, age::armor::Format::AsciiArmor).unwrap();
    let mut w = encryptor.wrap_output(armor).unwrap();
    w.write_all(plaintext.as_bytes()).unwrap();
    w.finish().unwrap().finish().unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn bad_bundles_are_refused_and_leave_the_store_as_it_was() {
    let hosts = Hosts::new(Duration::from_secs(3600));
    // The server already holds a grant for demo, so there is a store to disturb.
    assert_eq!(hosts.export(&["--copy"]).code, Some(0));
    assert_eq!(hosts.import(&[]).code, Some(0));
    let good = std::fs::read_to_string(hosts.path("bundle.age")).unwrap();
    let held = token(&hosts.server).stdout;
    let before = snapshot(&hosts.server.home());
    assert!(
        before.keys().any(|p| p.ends_with("secrets.json")),
        "{before:?}"
    );

    let age_key = age::x25519::Identity::generate();
    let other_key = age::x25519::Identity::generate();
    std::fs::write(
        hosts.path("other.key"),
        other_key.to_string().expose_secret(),
    )
    .unwrap();
    let recipient = age_key.to_public().to_string();
    let to_key = hosts
        .laptop
        .run(&["export", "demo", "--copy", "--recipient", &recipient]);
    assert_eq!(to_key.code, Some(0), "{to_key:?}");

    let lines: Vec<&str> = good.lines().collect();
    let truncated = lines[..lines.len() / 2].join("\n");
    let mut altered = good.clone().into_bytes();
    // A character in the middle of the base64 body: the same length, other bits.
    let at = altered.len() / 2;
    altered[at] = if altered[at] == b'A' { b'B' } else { b'A' };
    let altered = String::from_utf8(altered).unwrap();
    let newer = seal_raw(
        r#"{"format": "mcpauth-bundle", "version": 2, "created_at_ms": 0, "grants": [], "vaults": {}}"#,
        PASSPHRASE,
    );
    std::fs::write(hosts.path("wrong-pass"), "not the passphrase\n").unwrap();

    let other_key_path = hosts.path("other.key").display().to_string();
    let wrong_pass = hosts.path("wrong-pass").display().to_string();
    let pass = hosts.pass();
    let cases: Vec<(&str, String, Vec<&str>, &str)> = vec![
        (
            "wrong passphrase",
            good.clone(),
            vec!["--passphrase-file", &wrong_pass],
            "wrong passphrase",
        ),
        (
            "wrong key",
            to_key.stdout.clone(),
            vec!["--identity", &other_key_path],
            "none of the keys",
        ),
        (
            "truncated",
            truncated,
            vec!["--passphrase-file", &pass],
            "damaged",
        ),
        (
            "altered",
            altered,
            vec!["--passphrase-file", &pass],
            "damaged",
        ),
        (
            "newer format",
            newer,
            vec!["--passphrase-file", &pass],
            "newer mcpauth",
        ),
        (
            "not a bundle",
            "hello\n".into(),
            vec!["--passphrase-file", &pass],
            "not an mcpauth bundle",
        ),
        (
            "already held",
            good.clone(),
            vec!["--passphrase-file", &pass],
            "--force",
        ),
    ];
    for (what, bundle, args, message) in cases {
        let mut argv = vec!["import", "-"];
        argv.extend(args);
        let out = hosts.server.run_with_stdin(&argv, &bundle);
        assert_ne!(out.code, Some(0), "{what}: accepted: {out:?}");
        assert!(
            out.stderr.contains(message),
            "{what}: expected `{message}` in: {}",
            out.stderr
        );
        assert!(!out.stderr.contains("panicked"), "{what}: {out:?}");
        assert_eq!(
            snapshot(&hosts.server.home()),
            before,
            "{what}: the store changed"
        );
    }
    assert_eq!(token(&hosts.server).stdout, held);

    // And --force does replace it.
    let out = hosts.server.run_with_stdin(
        &["import", "-", "--passphrase-file", &pass, "--force"],
        &good,
    );
    assert_eq!(out.code, Some(0), "{out:?}");
}

#[test]
fn no_secret_in_export_or_import_output() {
    let hosts = Hosts::new(Duration::from_secs(3600));
    let outputs = [
        hosts.export(&[]),
        hosts.import(&[]),
        hosts.export(&["--copy"]),
        hosts.import(&["--force", "-v"]),
    ];
    let secrets: Vec<String> = hosts
        .fx
        .secrets_seen()
        .into_iter()
        .chain([PASSPHRASE.to_owned()])
        .collect();
    assert!(secrets.len() > 3, "{secrets:?}");
    for out in &outputs {
        assert_eq!(out.code, Some(0), "{out:?}");
        out.assert_no_secret(&secrets);
    }
}

// Symptom: a bundle whose client had the issuer and id of a confidential client stored
// here replaced it and deleted its secret; the other grants on it then failed with
// `invalid_client`.
#[test]
fn a_bundled_client_that_differs_from_one_in_use_here_is_refused() {
    use crate::support::AuthMethod;
    let fx = Fixture::start(Knobs {
        registration_auth_method: Some(AuthMethod::ClientSecretBasic),
        ..Knobs::default()
    });
    let server = TestEnv::new();
    server.add_server("demo", &fx.mcp_url());
    let out = server.run(&["login", "demo", "--store", "file"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let index: Value = serde_json::from_slice(
        &std::fs::read(server.home().join("data").join("grants.json")).unwrap(),
    )
    .unwrap();
    let held_client = index["clients"][0].clone();
    assert_eq!(held_client["has_secret"], json!(true));

    // The same client id, as a public client, for another account on the server.
    let mut grant = index["grants"][0].clone();
    grant["account"] = json!("work");
    let key: mcpauth::store::GrantKey = serde_json::from_value(grant.clone()).unwrap();
    grant["id"] = json!(key.id());
    let mut client = held_client.clone();
    client["auth_method"] = json!("none");
    client["has_secret"] = json!(false);
    let bundle = json!({
        "format": "mcpauth-bundle", "version": 1, "created_at_ms": 0,
        "grants": [{
            "grant": grant,
            "secrets": {"access_token": "imported-access", "refresh_token": "imported-refresh"},
            "client": client,
        }],
    });
    let scratch = tempfile::tempdir().unwrap();
    let pass = scratch.path().join("pass");
    std::fs::write(&pass, format!("{PASSPHRASE}\n")).unwrap();
    let sealed = scratch.path().join("bundle");
    std::fs::write(&sealed, seal_raw(&bundle.to_string(), PASSPHRASE)).unwrap();
    let before = snapshot(&server.home());
    let out = server.run(&[
        "import",
        &sealed.display().to_string(),
        "--passphrase-file",
        &pass.display().to_string(),
    ]);
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(
        out.stderr
            .contains("differs from the registration held here"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("`demo`"), "{}", out.stderr);
    assert_eq!(
        snapshot(&server.home()),
        before,
        "the refused import changed the store"
    );

    // The grant on the stored client still refreshes.
    server.let_time_pass(Duration::from_secs(3600));
    let refreshes = fx.counters().refresh_requests;
    let out = token(&server);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(fx.access_token_valid(out.stdout.trim()));
    assert_eq!(fx.counters().refresh_requests, refreshes + 1);
}

// Symptom: on a headless host with no MCP config, `import` said "Imported `demo`" and
// `status` listed `demo`, but `token demo` and `proxy demo` said "no server `demo` was
// found"; only the URL worked.
#[test]
fn an_imported_grant_works_by_its_name_with_no_config_and_from_anywhere() {
    let hosts = Hosts::new(Duration::from_secs(3600));
    std::fs::remove_file(hosts.server.project().join(".mcp.json")).unwrap();
    assert_eq!(hosts.export(&[]).code, Some(0));
    let out = hosts.import(&[]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert!(out.stderr.contains("Imported `demo`"), "{out:?}");

    let out = token(&hosts.server);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(hosts.fx.access_token_valid(out.stdout.trim()));

    // Started the way Codex starts servers: in a directory of the client's own.
    let elsewhere = tempfile::tempdir().unwrap();
    let mut cmd = hosts.server.command(&["proxy", "demo", "--login", "never"]);
    cmd.current_dir(elsewhere.path());
    let mut host = Host::spawn(cmd);
    assert!(host.initialize().get("result").is_some());
    let answer = crate::proxy_cli::echo(&mut host, "by name");
    assert_eq!(
        answer["result"]["content"][0]["text"],
        json!("by name"),
        "{answer}"
    );
    assert_eq!(host.finish(), Some(0));

    // A name nobody signed in under is still unknown, with the signed-in one suggested.
    let out = hosts.server.run(&["token", "dem0"]);
    assert_eq!(out.code, Some(1), "{out:?}");
    assert!(
        out.stderr.contains("did you mean `demo`?"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("demo (signed in)"), "{}", out.stderr);
}
