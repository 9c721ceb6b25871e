//! `mcpauth install CLIENT` / `mcpauth uninstall CLIENT` on sample configs of each MCP
//! client, in a temporary HOME and project: round trips back to the original bytes,
//! mcp-remote entries converted, unrelated keys kept, idempotence, dry runs, malformed
//! files refused untouched; and an installed entry that really runs.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::proxy_cli::{Host, echo};
use crate::support::{Fixture, Knobs, RunOutput, TestEnv};

/// A TestEnv whose HOME (where user-scope configs live) is its own temp directory.
fn env_with_home() -> (TestEnv, tempfile::TempDir) {
    let home = tempfile::tempdir().unwrap();
    let mut env = TestEnv::new();
    env.env("HOME", home.path().to_str().unwrap())
        .env(
            "XDG_CONFIG_HOME",
            home.path().join(".config").to_str().unwrap(),
        )
        .env("CLAUDE_CONFIG_DIR", "");
    (env, home)
}

/// The servers every sample holds: a remote one with a header, one behind mcp-remote, a
/// local one; written compactly, with a number spelled in a way serde would not.
fn sample(key: &str, extra_top: &str) -> String {
    format!(
        r#"{{
  {extra_top}"{key}": {{
    "notion": {{"type": "http", "url": "https://mcp.notion.example/mcp", "headers": {{"X-Key": "key-123"}}}},
    "linear": {{"command": "npx", "args": ["-y", "mcp-remote", "https://mcp.linear.example/sse"]}},
    "local": {{"command": "node", "args": ["server.js"], "env": {{"DEBUG": "1"}}}}
  }},
  "theme": {{"size": 2.50, "names": ["a", "b"]}}
}}
"#
    )
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn ok(out: &RunOutput) {
    assert_eq!(out.code, Some(0), "{out:?}");
}

/// Each client, where its file lives, the key of its server table, and the flags that
/// select it.
fn clients(
    env: &TestEnv,
    home: &Path,
) -> Vec<(Vec<&'static str>, PathBuf, &'static str, &'static str)> {
    let project = env.project();
    vec![
        (
            vec!["claude-code"],
            project.join(".mcp.json"),
            "mcpServers",
            "",
        ),
        (
            vec!["claude-code", "--scope", "user"],
            home.join(".claude.json"),
            "mcpServers",
            r#""projects": {"/work/x": {"mcpServers": {}}}, "numStartups": 7,
  "#,
        ),
        (
            vec!["claude-desktop"],
            home.join(".config/Claude/claude_desktop_config.json"),
            "mcpServers",
            "",
        ),
        (
            vec!["cursor"],
            project.join(".cursor/mcp.json"),
            "mcpServers",
            "",
        ),
        (
            vec!["cursor", "--global"],
            home.join(".cursor/mcp.json"),
            "mcpServers",
            "",
        ),
        (
            vec!["vscode"],
            project.join(".vscode/mcp.json"),
            "servers",
            r#""inputs": [],
  "#,
        ),
    ]
}

#[test]
fn every_client_round_trips_to_its_original_bytes() {
    let (env, home) = env_with_home();
    for (flags, path, key, extra) in clients(&env, home.path()) {
        let what = flags.join(" ");
        let original = sample(key, extra);
        write(&path, &original);

        let mut install = vec!["install"];
        install.extend(&flags);
        let out = env.run(&install);
        ok(&out);
        assert!(
            !out.all_output().contains("key-123"),
            "{what}: a header value shown: {out:?}"
        );
        let doc = read_json(&path);
        let table = &doc[key];
        for name in ["notion", "linear"] {
            let entry = &table[name];
            assert_eq!(entry["command"], "mcpauth", "{what}: {name}: {entry}");
            let args: Vec<&str> = entry["args"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a.as_str().unwrap())
                .collect();
            // In a project's shared file, an entry that is only a URL runs the proxy on the
            // URL (portable); one with headers keeps them in this machine's record.
            let shared =
                !what.contains("user") && !what.contains("global") && !what.contains("desktop");
            let last = if shared && name == "linear" {
                "https://mcp.linear.example/sse"
            } else {
                name
            };
            assert_eq!(&args[args.len() - 2..], ["proxy", last], "{what}: {entry}");
            assert_eq!(
                args.contains(&"--config"),
                last == name,
                "{what}: a machine-specific path only where needed: {entry}"
            );
            if key == "servers" {
                assert_eq!(entry["type"], "stdio", "{what}: VS Code types its entries");
            }
        }
        assert_eq!(
            table["local"]["command"], "node",
            "{what}: a local server is left alone"
        );
        assert_eq!(
            doc["theme"]["names"],
            json!(["a", "b"]),
            "{what}: unrelated keys kept"
        );
        if key == "mcpServers" && what.contains("user") {
            assert_eq!(doc["numStartups"], 7);
            assert!(doc["projects"].is_object());
        }
        let mut backup = path.as_os_str().to_owned();
        backup.push(".mcpauth-backup");
        assert_eq!(
            std::fs::read_to_string(PathBuf::from(&backup)).unwrap(),
            original,
            "{what}: the backup is the original"
        );

        // Idempotent: a second install changes nothing.
        let installed = std::fs::read(&path).unwrap();
        ok(&env.run(&install));
        assert_eq!(
            std::fs::read(&path).unwrap(),
            installed,
            "{what}: not idempotent"
        );

        let mut uninstall = vec!["uninstall"];
        uninstall.extend(&flags);
        ok(&env.run(&uninstall));
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            original,
            "{what}: uninstall did not restore the original"
        );
    }
}

#[test]
fn dry_run_shows_a_redacted_diff_and_writes_nothing() {
    let (env, _home) = env_with_home();
    let path = env.project().join(".mcp.json");
    let original = sample("mcpServers", "");
    write(&path, &original);
    let out = env.run(&["install", "claude-code", "--dry-run"]);
    ok(&out);
    assert!(out.stdout.starts_with("---"), "a unified diff: {out:?}");
    assert!(
        out.stdout.contains("+") && out.stdout.contains("\"mcpauth\""),
        "{out:?}"
    );
    assert!(
        !out.all_output().contains("key-123"),
        "a header value shown: {out:?}"
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), original);
    assert!(!env.project().join(".mcp.json.mcpauth-backup").exists());
    assert!(
        !env.home().join("data/clients").exists(),
        "no record written"
    );
}

#[test]
fn a_malformed_config_is_refused_and_left_untouched() {
    let (env, _home) = env_with_home();
    let path = env.project().join(".mcp.json");
    let broken =
        "{\n  \"mcpServers\": {\n    \"notion\": {\"url\": \"https://x.example/mcp\",}\n  }\n}\n";
    write(&path, broken);
    let out = env.run(&["install", "claude-code"]);
    assert_eq!(out.code, Some(1), "{out:?}");
    assert!(
        out.stderr.contains(".mcp.json`:3:"),
        "names the file and line: {out:?}"
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), broken);
    assert!(!env.project().join(".mcp.json.mcpauth-backup").exists());

    // A client with no file at all: said plainly, nothing created.
    let out = env.run(&["install", "vscode"]);
    assert_eq!(out.code, Some(1), "{out:?}");
    assert!(out.stderr.contains("does not exist"), "{out:?}");
    assert!(!env.project().join(".vscode").exists());
}

#[test]
fn only_the_named_servers_and_the_headers_helper_form() {
    let (env, _home) = env_with_home();
    let path = env.project().join(".mcp.json");
    let original = sample("mcpServers", "");
    write(&path, &original);
    ok(&env.run(&["install", "claude-code", "notion", "--headers-helper"]));
    let doc = read_json(&path);
    let notion = &doc["mcpServers"]["notion"];
    assert_eq!(notion["url"], "https://mcp.notion.example/mcp", "{notion}");
    assert_eq!(
        notion["headersHelper"], "mcpauth headers notion",
        "{notion}"
    );
    assert_eq!(
        doc["mcpServers"]["linear"]["command"], "npx",
        "not named, not changed"
    );

    let out = env.run(&["install", "claude-code", "nope"]);
    assert_eq!(out.code, Some(1), "{out:?}");
    assert!(out.stderr.contains("no server `nope`"), "{out:?}");
    ok(&env.run(&["uninstall", "claude-code"]));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), original);
}

/// Runs installed entry `name` of `doc` as the client would (its args, `--login never`)
/// and checks that `text` comes back through it.
fn run_installed(env: &TestEnv, doc: &Value, name: &str, text: &str) {
    let args: Vec<String> = doc["mcpServers"][name]["args"]
        .as_array()
        .unwrap_or_else(|| panic!("{name} was not installed: {doc}"))
        .iter()
        .map(|a| a.as_str().unwrap().to_owned())
        .collect();
    let mut argv: Vec<&str> = args.iter().map(String::as_str).collect();
    argv.extend(["--login", "never"]);
    let mut host = Host::start(env, &argv);
    let init = host.initialize();
    assert!(init.get("result").is_some(), "{name}: {init}");
    let answer = echo(&mut host, text);
    assert_eq!(
        answer["result"]["content"][0]["text"], text,
        "{name}: {answer}"
    );
    assert_eq!(host.finish(), Some(0));
}

#[test]
fn the_installed_entry_runs_the_proxy_against_the_real_server() {
    let fx = Fixture::start(Knobs::default());
    let (env, _home) = env_with_home();
    let path = env.project().join(".mcp.json");
    // One entry that is only a URL (installed as `proxy URL`), one with a header (installed
    // as `--config <record> proxy NAME`).
    write(
        &path,
        &serde_json::to_string_pretty(&json!({"mcpServers": {
            "demo": {"command": "npx", "args": ["-y", "mcp-remote", fx.mcp_url()]},
            "team": {"type": "http", "url": fx.mcp_url(), "headers": {"X-Team": "a"}}
        }}))
        .unwrap(),
    );
    ok(&env.run(&["login", "demo"]));
    ok(&env.run(&["install", "claude-code"]));

    // Run exactly what the client would: each entry's command line.
    let doc = read_json(&path);
    for name in ["demo", "team"] {
        run_installed(&env, &doc, name, "through the installed entry");
    }
}

// Symptoms: MCP clients do not pass MCPAUTH_HOME or MCPAUTH_STORE to the servers they
// start, so an installed entry looked for grants in the wrong place; and install said it
// "now runs `mcpauth proxy NAME`" whatever it wrote.
#[test]
fn an_installed_entry_carries_mcpauths_home_and_store_and_runs_from_anywhere() {
    let fx = Fixture::start(Knobs::default());
    let (mut env, home) = env_with_home();
    env.env("MCPAUTH_STORE", "file");
    let user_file = home.path().join(".claude.json");
    write(
        &user_file,
        &serde_json::to_string_pretty(&json!({"mcpServers": {
            "demo": {"type": "http", "url": fx.mcp_url(), "headers": {"X-Team": "a"}}
        }}))
        .unwrap(),
    );
    ok(&env.run(&["login", "demo"]));
    let out = env.run(&["install", "claude-code", "--scope", "user"]);
    ok(&out);
    let entry = read_json(&user_file)["mcpServers"]["demo"].clone();
    assert_eq!(
        entry["env"],
        json!({"MCPAUTH_HOME": env.home().to_str().unwrap(), "MCPAUTH_STORE": "file"}),
        "{entry}"
    );
    let sidecar = entry["args"][1].as_str().unwrap().to_owned();
    assert!(
        out.stderr.contains(&format!(
            "now runs `mcpauth --config {sidecar} proxy demo` with MCPAUTH_HOME and MCPAUTH_STORE set"
        )),
        "{}",
        out.stderr
    );

    // As a client starts it: its command, its args, its env, a short environment of the
    // client's own, and a working directory that is not the project.
    let elsewhere = tempfile::tempdir().unwrap();
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_mcpauth"));
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap())
        .env("HOME", home.path())
        .current_dir(elsewhere.path());
    for a in entry["args"].as_array().unwrap() {
        cmd.arg(a.as_str().unwrap());
    }
    for (k, v) in entry["env"].as_object().unwrap() {
        cmd.env(k, v.as_str().unwrap());
    }
    cmd.args(["--login", "never"]);
    let mut host = Host::spawn(cmd);
    assert!(host.initialize().get("result").is_some());
    let answer = echo(&mut host, "from the client's own directory");
    assert_eq!(
        answer["result"]["content"][0]["text"], "from the client's own directory",
        "{answer}"
    );
    assert_eq!(host.finish(), Some(0));

    // A shared project file gets no paths of this machine, and install says so.
    let project_file = env.project().join(".mcp.json");
    write(
        &project_file,
        &serde_json::to_string_pretty(&json!({"mcpServers": {
            "shared": {"type": "http", "url": fx.mcp_url()}
        }}))
        .unwrap(),
    );
    let out = env.run(&["install", "claude-code"]);
    ok(&out);
    let shared = read_json(&project_file)["mcpServers"]["shared"].clone();
    assert!(shared.get("env").is_none(), "{shared}");
    let url = fx.mcp_url();
    assert!(
        out.stderr.contains(&format!(
            "now runs `mcpauth proxy {url}` (this file is shared"
        )),
        "{}",
        out.stderr
    );
}

// Symptom: install rewrote `serverUrl` and `streamableHttp` entries (Windsurf's and
// Cline's spellings) into proxy entries that the proxy could not read.
#[test]
fn entries_in_other_clients_spellings_install_and_run() {
    let fx = Fixture::start(Knobs::default());
    let (env, _home) = env_with_home();
    let path = env.project().join(".mcp.json");
    write(
        &path,
        &serde_json::to_string_pretty(&json!({"mcpServers": {
            "windsurfish": {"serverUrl": fx.mcp_url()},
            "clineish": {"type": "streamableHttp", "url": fx.mcp_url()},
            "geminiish": {"httpUrl": fx.mcp_url()},
        }}))
        .unwrap(),
    );
    ok(&env.run(&["login", "windsurfish"]));
    ok(&env.run(&["install", "claude-code"]));
    let doc = read_json(&path);
    for name in ["windsurfish", "clineish", "geminiish"] {
        run_installed(&env, &doc, name, name);
    }
}
