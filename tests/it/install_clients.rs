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

/// An installed entry's arguments to `mcpauth` and its environment.
type Run = (Vec<String>, Vec<(String, String)>);

/// One of the clients with a file format or entry spelling of its own.
struct NewClient {
    flags: &'static [&'static str],
    path: PathBuf,
    /// The file, with `{url}` where the fixture's MCP URL goes.
    sample: &'static str,
    /// Text of the file that install must leave exactly as it is.
    kept: &'static [&'static str],
    /// The command line and environment of an installed entry, read the way the client
    /// reads its own file (not through mcpauth's code).
    run_of: fn(&str, &str) -> Run,
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {value}"))
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

fn pairs(value: &Value) -> Vec<(String, String)> {
    value
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
        .collect()
}

/// JSON with `//` lines, as the samples write their comments.
fn jsonc(text: &str) -> Value {
    let plain: String = text
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    serde_json::from_str(&plain.replace(",\n  }", "\n  }")).unwrap()
}

/// An entry `{"command": "mcpauth", "args": [...], "env": {...}}` under `table`.
fn command_args_env(doc: &Value, table: &str, name: &str) -> Run {
    let entry = &doc[table][name];
    assert_eq!(entry["command"], "mcpauth", "{entry}");
    (strings(&entry["args"]), pairs(&entry["env"]))
}

fn new_clients(env: &TestEnv, home: &Path) -> Vec<NewClient> {
    let config = home.join(".config");
    vec![
        NewClient {
            flags: &["codex"],
            path: home.join(".codex/config.toml"),
            sample: r#"model = "gpt-5" # the model

# servers for work
[mcp_servers.work]
url = "{url}"
http_headers = { "X-Team" = "core" }
startup_timeout_sec = 20

[mcp_servers.files]
command = "npx"
args = ["-y", "@modelcontextprotocol/server-filesystem", "."]

[profiles.fast]
model = "gpt-5-mini"
"#,
            kept: &[
                "model = \"gpt-5\" # the model\n\n# servers for work\n[mcp_servers.work]\n",
                "[mcp_servers.files]\ncommand = \"npx\"\nargs = [\"-y\", \"@modelcontextprotocol/server-filesystem\", \".\"]\n\n[profiles.fast]\nmodel = \"gpt-5-mini\"\n",
            ],
            run_of: |text, name| {
                let doc: toml_edit::DocumentMut = text.parse().unwrap();
                let entry = &doc["mcp_servers"][name];
                assert_eq!(entry["command"].as_str(), Some("mcpauth"), "{entry}");
                assert_eq!(entry["startup_timeout_sec"].as_integer(), Some(20));
                let args = entry["args"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|a| a.as_str().unwrap().to_owned())
                    .collect();
                let env = entry["env"]
                    .as_inline_table()
                    .unwrap()
                    .iter()
                    .map(|(k, v)| (k.to_owned(), v.as_str().unwrap().to_owned()))
                    .collect();
                (args, env)
            },
        },
        NewClient {
            flags: &["gemini"],
            path: home.join(".gemini/settings.json"),
            sample: r#"{
  // Gemini CLI reads comments
  "theme": "Default",
  "mcpServers": {
    "work": {"httpUrl": "{url}", "headers": {"X-Team": "core"}, "timeout": 30000},
    "files": {"command": "node", "args": ["server.js"]}
  }
}
"#,
            kept: &[
                "{\n  // Gemini CLI reads comments\n  \"theme\": \"Default\",\n",
                "    \"files\": {\"command\": \"node\", \"args\": [\"server.js\"]}\n  }\n}\n",
            ],
            run_of: |text, name| command_args_env(&jsonc(text), "mcpServers", name),
        },
        NewClient {
            flags: &["windsurf"],
            path: home.join(".codeium/windsurf/mcp_config.json"),
            sample: r#"{
  "mcpServers": {
    "files": {"command": "node", "args": ["server.js"]},
    "work": {"serverUrl": "{url}", "headers": {"X-Team": "core"}}
  }
}
"#,
            kept: &["    \"files\": {\"command\": \"node\", \"args\": [\"server.js\"]},\n"],
            run_of: |text, name| command_args_env(&jsonc(text), "mcpServers", name),
        },
        NewClient {
            flags: &["opencode", "--global"],
            path: config.join("opencode/opencode.json"),
            sample: r#"{
  "$schema": "https://opencode.ai/config.json",
  // opencode reads comments
  "mcp": {
    "work": {"type": "remote", "url": "{url}", "headers": {"X-Team": "core"}, "enabled": true},
    "files": {"type": "local", "command": ["node", "server.js"]},
  }
}
"#,
            kept: &[
                "  \"$schema\": \"https://opencode.ai/config.json\",\n  // opencode reads comments\n",
                "    \"files\": {\"type\": \"local\", \"command\": [\"node\", \"server.js\"]},\n  }\n}\n",
            ],
            run_of: |text, name| {
                let doc = jsonc(text);
                let entry = &doc["mcp"][name];
                assert_eq!(
                    (&entry["type"], &entry["enabled"]),
                    (&json!("local"), &json!(true))
                );
                let words = strings(&entry["command"]);
                assert_eq!(words[0], "mcpauth", "{entry}");
                (words[1..].to_vec(), pairs(&entry["environment"]))
            },
        },
        NewClient {
            flags: &["opencode"],
            path: env.project().join("opencode.json"),
            sample: r#"{
  "mcp": {
    "work": {"type": "remote", "url": "{url}"}
  }
}
"#,
            kept: &[],
            run_of: |text, name| {
                let doc = jsonc(text);
                let words = strings(&doc["mcp"][name]["command"]);
                assert_eq!(words[0], "mcpauth");
                // A shared file: the proxy on the URL, and no path of this machine.
                assert_eq!(words[1], "proxy", "{words:?}");
                assert!(doc["mcp"][name].get("environment").is_none());
                (words[1..].to_vec(), Vec::new())
            },
        },
        NewClient {
            flags: &["zed"],
            path: config.join("zed/settings.json"),
            sample: r#"// Zed settings
//
// For information on how to configure Zed, see the Zed
// documentation: https://zed.dev/docs/configuring-zed
{
  "ui_font_size": 16.0,
  "context_servers": {
    "work": {"url": "{url}", "headers": {"X-Team": "core"}},
    "postgres": {"enabled": true, "settings": {}},
  },
}
"#,
            kept: &[
                "// Zed settings\n//\n// For information on how to configure Zed, see the Zed\n// documentation: https://zed.dev/docs/configuring-zed\n{\n  \"ui_font_size\": 16.0,\n",
                "    \"postgres\": {\"enabled\": true, \"settings\": {}},\n  },\n}\n",
            ],
            run_of: |text, name| {
                command_args_env(
                    &jsonc(&text.replace("},\n}", "}\n}")),
                    "context_servers",
                    name,
                )
            },
        },
        NewClient {
            flags: &["goose"],
            path: config.join("goose/config.yaml"),
            sample: r#"GOOSE_PROVIDER: openai
GOOSE_MODEL: gpt-4o
extensions:
  developer:
    bundled: true
    enabled: true
    name: developer
    timeout: 300
    type: builtin
  work:
    enabled: true
    type: streamable_http
    name: work
    uri: {url}
    headers:
      X-Team: core
    timeout: 300
    description: work tools
"#,
            kept: &[
                "GOOSE_PROVIDER: openai\nGOOSE_MODEL: gpt-4o\nextensions:\n  developer:\n    bundled: true\n    enabled: true\n    name: developer\n    timeout: 300\n    type: builtin\n",
            ],
            run_of: |text, name| {
                let doc: Value = yaml_serde::from_str(text).unwrap();
                let entry = &doc["extensions"][name];
                assert_eq!(
                    (
                        &entry["type"],
                        &entry["cmd"],
                        &entry["name"],
                        &entry["enabled"]
                    ),
                    (
                        &json!("stdio"),
                        &json!("mcpauth"),
                        &json!("work"),
                        &json!(true)
                    ),
                    "{entry}"
                );
                assert_eq!(entry["description"], "work tools");
                (strings(&entry["args"]), pairs(&entry["envs"]))
            },
        },
    ]
}

// Acceptance 3 for the clients with files of their own: each round trip ends on the
// original bytes, what install did not mean to change stays byte for byte (comments
// included), and the installed entry, run as the client runs it (its command, its
// environment, a short environment of the client's own, another working directory),
// reaches the server.
#[test]
fn codex_gemini_opencode_windsurf_zed_and_goose_round_trip_and_their_entries_run() {
    let fx = Fixture::start(Knobs::default());
    let (mut env, home) = env_with_home();
    env.env("MCPAUTH_STORE", "file")
        .env("CODEX_HOME", home.path().join(".codex").to_str().unwrap());
    ok(&env.run(&["login", &fx.mcp_url()]));
    let elsewhere = tempfile::tempdir().unwrap();
    for client in new_clients(&env, home.path()) {
        let what = client.flags.join(" ");
        let original = client.sample.replace("{url}", &fx.mcp_url());
        write(&client.path, &original);

        let mut install = vec!["install"];
        install.extend(client.flags);
        let out = env.run(&install);
        ok(&out);
        assert!(out.stderr.contains("`work`"), "{what}: {out:?}");
        let installed = std::fs::read_to_string(&client.path).unwrap();
        for kept in client.kept {
            assert!(
                installed.contains(kept),
                "{what}: changed what it should not:\n{kept}\n--- now:\n{installed}"
            );
        }
        assert!(
            !installed.contains("X-Team"),
            "{what}: the header stays in the record only"
        );

        let (args, entry_env) = (client.run_of)(&installed, "work");
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_mcpauth"));
        cmd.env_clear()
            .env("PATH", std::env::var("PATH").unwrap())
            .env("HOME", home.path())
            .env("MCPAUTH_STORE", "file")
            .current_dir(elsewhere.path())
            .args(&args)
            .args(["--login", "never"]);
        if !client.flags.contains(&"opencode") || client.flags.contains(&"--global") {
            assert!(
                entry_env.iter().any(|(k, _)| k == "MCPAUTH_HOME"),
                "{what}: {entry_env:?}"
            );
        } else {
            // The shared file names no path of this machine: the client passes its
            // own environment, MCPAUTH_HOME included.
            cmd.env("MCPAUTH_HOME", env.home());
        }
        cmd.envs(entry_env);
        let mut host = Host::spawn(cmd);
        assert!(host.initialize().get("result").is_some(), "{what}");
        let answer = echo(&mut host, &what);
        assert_eq!(
            answer["result"]["content"][0]["text"], what,
            "{what}: {answer}"
        );
        assert_eq!(host.finish(), Some(0), "{what}");

        // The installed entry still names its server for mcpauth itself: `token`,
        // `login` and `status` find `work` in the client's file.
        let out = env.run(&["token", "work"]);
        assert_eq!(out.code, Some(0), "{what}: {out:?}");

        ok(&env.run(&install));
        assert_eq!(
            std::fs::read_to_string(&client.path).unwrap(),
            installed,
            "{what}: a second install changed the file"
        );
        let mut uninstall = vec!["uninstall"];
        uninstall.extend(client.flags);
        ok(&env.run(&uninstall));
        assert_eq!(
            std::fs::read_to_string(&client.path).unwrap(),
            original,
            "{what}: uninstall did not restore the original bytes"
        );
        // So that `work` is found in the next client's file only.
        std::fs::remove_file(&client.path).unwrap();
    }
}

#[test]
fn the_npx_launcher_writes_entries_that_start_mcpauth_from_npm() {
    let (env, _home) = env_with_home();
    let path = env.project().join(".mcp.json");
    let original = sample("mcpServers", "");
    write(&path, &original);
    let out = env.run(&["install", "claude-code", "--launcher", "npx"]);
    ok(&out);
    let doc = read_json(&path);
    // The shared file's mcp-remote entry is only a URL: the same for every teammate.
    assert_eq!(
        doc["mcpServers"]["linear"],
        json!({"command": "npx", "args": ["-y", "mcpauth", "proxy", "https://mcp.linear.example/sse"]})
    );
    assert_eq!(doc["mcpServers"]["notion"]["command"], "npx");
    assert_eq!(
        doc["mcpServers"]["notion"]["args"].as_array().unwrap()[..2],
        [json!("-y"), json!("mcpauth")]
    );
    assert!(
        out.stderr
            .contains("now runs `npx -y mcpauth proxy https://mcp.linear.example/sse`"),
        "{}",
        out.stderr
    );
    // Installed once is installed: either launcher sees the proxy.
    for launcher in ["npx", "mcpauth"] {
        let again = env.run(&["install", "claude-code", "--launcher", launcher]);
        ok(&again);
        assert!(
            again.stderr.contains("already"),
            "{launcher}: {}",
            again.stderr
        );
    }
    assert_eq!(read_json(&path), doc);
    let out = env.run(&[
        "install",
        "claude-code",
        "--launcher",
        "npx",
        "--headers-helper",
    ]);
    assert_eq!(out.code, Some(2), "{out:?}");
    ok(&env.run(&["uninstall", "claude-code"]));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), original);
}
