//! Claude Code itself as the MCP client (npm `@anthropic-ai/claude-code`, pinned in
//! tests/peers): `claude mcp list` connects to every server in its config without an API
//! key, so it shows whether an entry mcpauth wrote, or a `headersHelper` line, works in
//! the real client with the environment it gives.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::json;

use crate::support::cli::{RunOutput, run_bounded};
use crate::support::{Fixture, Knobs, TestEnv};

pub(crate) fn claude() -> PathBuf {
    crate::proxy_peers::peer_bin("claude", "Claude Code")
}

/// `claude mcp list` with what a person's shell gives Claude Code: HOME, PATH with
/// mcpauth on it, the session bus of the keychain, and `mcpauth_home` as MCPAUTH_HOME;
/// run in a directory of no project. Its exit status is checked.
pub(crate) fn mcp_list(user_home: &Path, mcpauth_home: Option<&Path>) -> RunOutput {
    let mcpauth = env!("CARGO_BIN_EXE_mcpauth");
    let bin_dir = Path::new(mcpauth).parent().unwrap();
    let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap());
    let elsewhere = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(claude());
    cmd.args(["mcp", "list"])
        .env_clear()
        .env("HOME", user_home)
        .env("PATH", path)
        .env(
            "DBUS_SESSION_BUS_ADDRESS",
            std::env::var("DBUS_SESSION_BUS_ADDRESS")
                .expect("a keychain session: run the tests through tests/run"),
        )
        .env("NO_PROXY", "127.0.0.1,localhost,::1")
        .env("DISABLE_AUTOUPDATER", "1")
        .env("DISABLE_TELEMETRY", "1")
        .current_dir(elsewhere.path());
    if let Some(home) = mcpauth_home {
        cmd.env("MCPAUTH_HOME", home);
    }
    let out = run_bounded(cmd, None::<&str>, std::time::Duration::from_secs(90));
    assert_eq!(out.code, Some(0), "{out:?}");
    out
}

/// Checks that `claude mcp list` printed `name: ... ✔ Connected`.
pub(crate) fn assert_connected(out: &RunOutput, name: &str) {
    let line = out
        .stdout
        .lines()
        .find(|l| l.starts_with(&format!("{name}: ")))
        .unwrap_or_else(|| panic!("no line for `{name}`: {}", out.stdout));
    assert!(line.ends_with("✔ Connected"), "{line}\n{}", out.stdout);
}

// Symptom: Claude Code showed only "! Needs authentication" for a server behind mcpauth,
// and each server needed a helper line of its own.
#[test]
fn claude_code_connects_through_an_installed_proxy_and_an_argument_less_headers_helper() {
    let fx = Fixture::start(Knobs::default());
    let user_home = tempfile::tempdir().unwrap();
    let mut env = TestEnv::new();
    env.env("HOME", user_home.path().to_str().unwrap());
    env.add_server("demo", &fx.mcp_url());
    assert_eq!(env.run(&["login", "demo"]).code, Some(0));

    let mcpauth = env!("CARGO_BIN_EXE_mcpauth");
    let claude_json = user_home.path().join(".claude.json");
    std::fs::write(
        &claude_json,
        serde_json::to_string_pretty(&json!({"mcpServers": {
            "proxied": {"type": "http", "url": fx.mcp_url()},
            "helped": {"type": "http", "url": fx.mcp_url(),
                       "headersHelper": format!("{mcpauth} headers")},
        }}))
        .unwrap(),
    )
    .unwrap();
    let out = env.run(&["install", "claude-code", "--scope", "user", "proxied"]);
    assert_eq!(out.code, Some(0), "{out:?}");

    // MCPAUTH_HOME reaches the helper; the proxy entry carries its own.
    let out = mcp_list(user_home.path(), Some(&env.home()));
    for name in ["proxied", "helped"] {
        assert_connected(&out, name);
    }
    // The fixture answers 401 to a request without a valid token, which Claude Code
    // shows as "Needs authentication": "Connected" means the token got there.
}
