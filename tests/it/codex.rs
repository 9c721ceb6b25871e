//! Codex itself as the MCP client (npm `@openai/codex`, pinned in tests/peers). `codex mcp
//! list` only prints the config; `codex app-server` starts every configured server and
//! reports each one's tools (`mcpServerStatus/list`) without an API key or a model. So it
//! shows whether the entry `mcpauth install codex` wrote works in the real client, with
//! the short environment Codex gives the servers it starts.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::json;

use crate::proxy_cli::Host;
use crate::support::{Fixture, Knobs, TestEnv};

fn codex() -> PathBuf {
    crate::proxy_peers::peer_bin("codex", "Codex")
}

// Symptom: Codex starts stdio servers in `$CODEX_HOME` with an environment of its own,
// so `mcpauth proxy NAME` found no config and no keychain there. The entry install writes
// names the record, MCPAUTH_HOME, and the variables Codex must pass on (`env_vars`).
#[test]
fn codex_connects_through_the_entry_mcpauth_install_codex_wrote() {
    let fx = Fixture::start(Knobs::default());
    let user_home = tempfile::tempdir().unwrap();
    let codex_home = user_home.path().join(".codex");
    let mut env = TestEnv::new();
    env.env("HOME", user_home.path().to_str().unwrap())
        .env("CODEX_HOME", codex_home.to_str().unwrap());
    std::fs::create_dir_all(&codex_home).unwrap();
    let config = codex_home.join("config.toml");
    std::fs::write(
        &config,
        format!(
            "# written by hand\n[mcp_servers.work]\nurl = \"{}\"\nhttp_headers = {{ \"X-Team\" = \"core\" }}\nstartup_timeout_sec = 30\n",
            fx.mcp_url()
        ),
    )
    .unwrap();
    // Signed in by name, from the Codex file itself.
    let out = env.run(&["login", "work"]);
    assert_eq!(out.code, Some(0), "{out:?}");
    let out = env.run(&["install", "codex"]);
    assert_eq!(out.code, Some(0), "{out:?}");
    let written = std::fs::read_to_string(&config).unwrap();
    assert!(written.contains("command = \"mcpauth\""), "{written}");

    // What a person's shell gives Codex: HOME, PATH with mcpauth on it, the keychain's
    // session bus. Codex passes on only what the entry names.
    let mcpauth = Path::new(env!("CARGO_BIN_EXE_mcpauth"));
    let path = format!(
        "{}:{}",
        mcpauth.parent().unwrap().display(),
        std::env::var("PATH").unwrap()
    );
    let elsewhere = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(codex());
    cmd.arg("app-server")
        .env_clear()
        .env("HOME", user_home.path())
        .env("CODEX_HOME", &codex_home)
        .env("PATH", path)
        .env(
            "DBUS_SESSION_BUS_ADDRESS",
            std::env::var("DBUS_SESSION_BUS_ADDRESS")
                .expect("a keychain session: run the tests through tests/run"),
        )
        .env("NO_PROXY", "127.0.0.1,localhost,::1")
        .current_dir(elsewhere.path());
    let mut host = Host::spawn(cmd);
    let init = host.call(
        "initialize",
        json!({"clientInfo": {"name": "mcpauth-tests", "version": "1"}}),
    );
    assert!(init.get("result").is_some(), "{init}");
    host.send(&json!({"method": "initialized"}));
    let status = host.call(
        "mcpServerStatus/list",
        json!({"detail": "toolsAndAuthOnly"}),
    );
    let servers = status["result"]["data"]
        .as_array()
        .unwrap_or_else(|| panic!("{status}"));
    let work = servers
        .iter()
        .find(|s| s["name"] == "work")
        .unwrap_or_else(|| panic!("no `work`: {status}"));
    assert_eq!(work["toolsError"], json!(null), "{work}");
    assert!(
        work["tools"].get("echo").is_some(),
        "the fixture's tools came through the proxy: {work}"
    );
    assert_eq!(host.finish(), Some(0), "codex app-server on stdin closing");
}
