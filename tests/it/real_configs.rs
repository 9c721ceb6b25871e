//! Configs as people write them (issue 13): several kinds of server in one file, entries
//! that depend on the environment, and names that must work from anywhere.

use serde_json::{Value, json};

use crate::support::{Fixture, Knobs, TestEnv};

/// A project file in the shape MCP gateways document: a stdio server with `env`,
/// `"transport": "http"` entries, and GitHub behind a personal access token header.
fn gateway_project(env: &TestEnv, fx: &Fixture) {
    env.write_mcp_json(&json!({
        "mcpServers": {
            "filesystem": {
                "command": "npx",
                "args": ["-y", "@modelcontextprotocol/server-filesystem", "."],
                "env": {"LOG_LEVEL": "info"}
            },
            "github": {
                "transport": "http",
                "url": "https://api.githubcopilot.com/mcp/",
                "headers": {"Authorization": "Bearer ${GITHUB_PAT}"}
            },
            "demo": {"transport": "http", "url": fx.mcp_url()}
        }
    }));
}

fn status_names(out: &crate::support::RunOutput) -> Vec<String> {
    let rows: Value = serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("status --json: {e}: {}", out.stdout));
    rows.as_array()
        .expect("an array of servers")
        .iter()
        .map(|r| r["server"].as_str().unwrap_or_default().to_owned())
        .collect()
}

// Symptom: with `GITHUB_PAT` unset, `status` warned and then said "No remote MCP servers
// in the configs here", although `demo` in the same file was fine.
#[test]
fn an_unset_variable_hides_only_its_own_entry() {
    let fx = Fixture::start(Knobs::default());
    let mut env = TestEnv::new();
    gateway_project(&env, &fx);
    assert_eq!(env.run(&["login", "demo"]).code, Some(0));

    let out = env.run(&["status", "--json"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(status_names(&out), ["demo"]);
    assert!(
        out.stderr
            .contains("`GITHUB_PAT` is not set (server `github`"),
        "{}",
        out.stderr
    );
    let out = env.run(&["status"]);
    assert!(out.stdout.contains("demo"), "{}", out.stdout);
    assert!(
        !out.stdout.contains("No remote MCP servers"),
        "{}",
        out.stdout
    );

    let out = env.run(&["doctor"]);
    assert!(
        out.stdout
            .contains("2 servers in the MCP configs, 1 of them remote"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("GITHUB_PAT"), "{}", out.stdout);

    // With the variable set, every remote server is there.
    env.env("GITHUB_PAT", "ghp-not-a-real-token-1234");
    let out = env.run(&["status", "--json"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let mut names = status_names(&out);
    names.sort();
    assert_eq!(names, ["demo", "github"]);
    assert!(!out.all_output().contains("ghp-not-a-real-token-1234"));
}

// Symptom: `login --client-secret` exited 2 without `--client-id`, although the help said
// the config's `oauth.clientId` is used.
#[test]
fn a_client_secret_goes_with_the_configs_client_id() {
    let fx = Fixture::start(Knobs {
        registration_endpoint: false,
        ..Knobs::default()
    });
    fx.add_client(
        "pre-1",
        Some("s3cret-pre-1"),
        crate::support::AuthMethod::ClientSecretPost,
        &["http://127.0.0.1/callback"],
    );
    let env = TestEnv::new();
    env.add_server_entry(
        "demo",
        json!({"type": "http", "url": fx.mcp_url(), "oauth": {"clientId": "pre-1"}}),
    );
    let out = env.run_with_stdin(
        &[
            "login",
            "demo",
            "--client-secret",
            "--client-auth",
            "client_secret_post",
        ],
        "s3cret-pre-1\n",
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let exchange = fx.requests_to(crate::support::Endpoint::Token);
    let exchange = exchange.first().expect("a code exchange");
    assert_eq!(exchange.form("client_id").as_deref(), Some("pre-1"));
    assert_eq!(
        exchange.form("client_secret").as_deref(),
        Some("s3cret-pre-1")
    );
    assert_eq!(fx.counters().registrations, 0);

    // Without a client id anywhere, the same flags are a usage error before anything is
    // asked or sent.
    env.add_server("other", &fx.mcp_url());
    let before = fx.requests().len();
    for flag in ["--client-secret", "--client-credentials"] {
        let out = env.run_with_stdin(&["login", "other", flag], "never-read\n");
        assert_eq!(out.code, Some(2), "{flag}: {out:?}");
        assert!(
            out.stderr.contains(flag) && out.stderr.contains("oauth.clientId"),
            "{}",
            out.stderr
        );
    }
    assert_eq!(fx.requests().len(), before, "nothing went to the server");
}

// Symptom: a `headersHelper` needed the server's name as an argument, one line per server;
// Claude Code names the server in the helper's environment.
#[test]
fn headers_without_a_name_serves_the_server_claude_code_names() {
    let fx = Fixture::start(Knobs::default());
    let mut env = TestEnv::new();
    env.add_server("demo", &fx.mcp_url());
    let out = env.run(&["headers"]);
    assert_eq!(out.code, Some(2), "{out:?}");
    assert!(
        out.stderr.contains("CLAUDE_CODE_MCP_SERVER_NAME"),
        "{}",
        out.stderr
    );

    env.env("CLAUDE_CODE_MCP_SERVER_NAME", "demo")
        .env("CLAUDE_CODE_MCP_SERVER_URL", &fx.mcp_url());
    let out = env.run(&["headers"]);
    assert_eq!(out.code, Some(4), "not signed in yet: {out:?}");
    assert!(out.stderr.contains("mcpauth login demo"), "{}", out.stderr);

    assert_eq!(env.run(&["login", "demo"]).code, Some(0));
    let out = env.run(&["headers"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let headers: Value = serde_json::from_str(&out.stdout).unwrap();
    let bearer = headers["Authorization"].as_str().unwrap();
    assert!(fx.access_token_valid(bearer.strip_prefix("Bearer ").unwrap()));

    // The URL decides: from a directory with no config, under a name mcpauth never saw.
    let elsewhere = tempfile::tempdir().unwrap();
    let mut cmd = env.command(&["headers"]);
    cmd.current_dir(elsewhere.path())
        .env("CLAUDE_CODE_MCP_SERVER_NAME", "what-claude-calls-it");
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
