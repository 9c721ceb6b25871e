//! Configs as people write them (issue 13): several kinds of server in one file, entries
//! that depend on the environment, and names that must work from anywhere.

use serde_json::{Value, json};

use crate::proxy_cli::{Host, echo};
use crate::support::cli::run_bounded;
use crate::support::{Fixture, Knobs, TestEnv};

/// agent-mcp-gateway's `config/.mcp.json.example`, byte for byte but for Notion's URL
/// (pointed at the fixture), with the GitHub entry of its PAT workaround added: stdio
/// servers with `env`, a `"transport": "http"` entry, and GitHub behind
/// `Bearer ${GITHUB_PAT}`.
fn gateway_project(env: &TestEnv, fx: &Fixture) {
    let example = r#"{
  "mcpServers": {
    "brave-search": {
      "command": "npx",
      "args": ["-y", "@modelcontextprotocol/server-brave-search"],
      "env": {
        "BRAVE_API_KEY": "${BRAVE_API_KEY}"
      }
    },
    "postgres": {
      "command": "uvx",
      "args": ["mcp-server-postgres"],
      "env": {
        "POSTGRES_URL": "${POSTGRES_URL}"
      }
    },
    "filesystem": {
      "command": "npx",
      "args": ["-y", "@modelcontextprotocol/server-filesystem", "/workspace"]
    },
    "notion": {
      "url": "https://mcp.notion.com/mcp",
      "transport": "http"
    }
  }
}
"#;
    let github = r#",
    "github": {
      "url": "https://api.githubcopilot.com/mcp/",
      "headers": {"Authorization": "Bearer ${GITHUB_PAT}"}
    }
  }
}
"#;
    let text = example
        .replace("https://mcp.notion.com/mcp", &fx.mcp_url())
        .replace("\n  }\n}\n", github);
    std::fs::write(env.project().join(".mcp.json"), text).unwrap();
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
    assert_eq!(env.run(&["login", "notion"]).code, Some(0));

    let out = env.run(&["status", "--json"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(status_names(&out), ["notion"]);
    assert!(
        out.stderr
            .contains("`GITHUB_PAT` is not set (server `github`"),
        "{}",
        out.stderr
    );
    let out = env.run(&["status"]);
    assert!(out.stdout.contains("notion"), "{}", out.stdout);
    assert!(
        !out.stdout.contains("No remote MCP servers"),
        "{}",
        out.stdout
    );

    let out = env.run(&["doctor"]);
    assert!(
        out.stdout
            .contains("4 servers in the MCP configs, 1 of them remote"),
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
    assert_eq!(names, ["github", "notion"]);
    let rows: Value = serde_json::from_str(&out.stdout).unwrap();
    let github = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["server"] == "github")
        .unwrap();
    assert_eq!(github["state"], "static_header", "{rows}");
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
    let out = run_bounded(cmd, None::<&str>, env.timeout);
    assert_eq!(out.code, Some(0), "{out:?}");
}

// Symptom: a server configured with `"Authorization": "Bearer ${GITHUB_PAT}"` showed as
// "not signed in", `login` tried dynamic registration (a 404 at GitHub), and with a wrong
// PAT the proxy tried to sign in and told the client "client registration … 404".
#[test]
fn a_server_that_brings_its_own_credential_is_never_signed_in_to() {
    let fx = Fixture::start(Knobs::default());
    let pat = fx.mint_access_token("a-pat", &[]);
    let mut env = TestEnv::new();
    env.add_server_entry(
        "github",
        json!({"transport": "http", "url": fx.mcp_url(),
               "headers": {"Authorization": "Bearer ${GITHUB_PAT}"}}),
    );
    env.env("GITHUB_PAT", &pat);
    let oauth_requests = || {
        fx.requests()
            .iter()
            .filter(|r| r.endpoint != crate::support::Endpoint::Mcp)
            .count()
    };

    let out = env.run(&["status", "--json"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let rows: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(rows[0]["state"], "static_header", "{rows}");
    assert!(
        rows[0]["detail"].as_str().unwrap().contains("./.mcp.json"),
        "{rows}"
    );

    let out = env.run(&["login", "github"]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert!(
        out.stderr.contains("There is nothing to sign in to"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("--force"), "{}", out.stderr);

    let out = env.run(&["doctor", "github"]);
    assert!(
        out.stdout
            .contains("is sent as it is; nothing to sign in to"),
        "{}",
        out.stdout
    );
    assert!(
        !out.stdout.contains("mcpauth login github"),
        "{}",
        out.stdout
    );

    // The proxy sends the header as it is.
    let mut host = Host::start(&env, &["proxy", "github"]);
    assert!(host.initialize().get("result").is_some());
    let answer = echo(&mut host, "with the PAT");
    assert_eq!(
        answer["result"]["content"][0]["text"], "with the PAT",
        "{answer}"
    );
    assert_eq!(host.finish(), Some(0));

    // A wrong PAT: the host is told the configured header was refused; nothing else.
    env.env("GITHUB_PAT", "not-the-pat");
    let mut host = Host::start(&env, &["proxy", "github"]);
    let answer = host.initialize();
    let message = answer["error"]["message"]
        .as_str()
        .unwrap_or_else(|| panic!("{answer}"));
    assert!(
        message.contains("refused the `Authorization` header configured in `./.mcp.json`"),
        "{message}"
    );
    assert_eq!(host.finish(), Some(0));
    assert_eq!(
        oauth_requests(),
        0,
        "mcpauth went to the authorization server"
    );
    assert!(!out.all_output().contains(&pat));

    // `--force` signs in with OAuth after all, and the proxy then sends its token.
    let out = env.run(&["login", "github", "--force"]);
    assert_eq!(out.code, Some(0), "{out:?}");
    let mut host = Host::start(&env, &["proxy", "github", "--login", "never"]);
    assert!(host.initialize().get("result").is_some());
    let answer = echo(&mut host, "with OAuth");
    assert_eq!(
        answer["result"]["content"][0]["text"], "with OAuth",
        "{answer}"
    );
    assert_eq!(host.finish(), Some(0));
}

// Symptoms: with a provider that publishes no metadata (GitHub), `doctor` claimed dynamic
// registration while `/register` was a 404, `login --client-id X` fell back to
// `{origin}/authorize` without a word and waited out its timeout on a 404 page, and there
// was no way to give the endpoints by hand; GitHub's `repo,read:user` scopes read as one.
#[test]
fn a_provider_without_metadata_is_named_as_such_and_signs_in_with_its_endpoints() {
    use crate::support::{AuthMethod, Endpoint, Variant};
    let fx = Fixture::start(Knobs {
        variant: Variant::GitHubStyle,
        registration_endpoint: false,
        ..Knobs::default()
    });
    fx.add_client(
        "gh-app",
        Some("gh-secret"),
        AuthMethod::ClientSecretPost,
        &["http://127.0.0.1/callback"],
    );
    let env = TestEnv::new();
    env.add_server_entry(
        "github",
        json!({"type": "http", "url": fx.mcp_url(), "oauth": {"scopes": "mcp:tools,mcp:admin"}}),
    );

    let out = env.run(&["doctor", "github"]);
    assert_eq!(out.code, Some(1), "{out:?}");
    assert!(
        out.stdout
            .contains("publishes no OAuth metadata, and nothing answers at")
            && out.stdout.contains("oauth.authorizationUrl"),
        "{}",
        out.stdout
    );
    assert!(
        !out.stdout.contains("dynamic registration"),
        "{}",
        out.stdout
    );

    let out = env.run_with_stdin(
        &[
            "login",
            "github",
            "--client-id",
            "gh-app",
            "--client-secret",
        ],
        "gh-secret\n",
    );
    assert_eq!(out.code, Some(1), "{out:?}");
    assert!(
        out.stderr.contains("publishes no OAuth metadata") && out.stderr.contains("--token-url"),
        "{}",
        out.stderr
    );
    assert_eq!(
        fx.counters().authorize_requests,
        0,
        "no browser was sent anywhere"
    );

    // With the endpoints given by hand it signs in, and refreshes.
    let authorization = fx.endpoint("/authorize");
    let token = fx.endpoint("/token");
    let out = env.run_with_stdin(
        &[
            "login",
            "github",
            "--client-id",
            "gh-app",
            "--client-secret",
            "--client-auth",
            "client_secret_post",
            "--authorization-url",
            &authorization,
            "--token-url",
            &token,
        ],
        "gh-secret\n",
    );
    assert_eq!(out.code, Some(0), "{out:?}");
    let asked = fx.requests_to(Endpoint::Authorize);
    assert_eq!(
        asked[0].query("scope").as_deref(),
        Some("mcp:tools mcp:admin")
    );
    let status: Value = serde_json::from_str(&env.run(&["status", "--json"]).stdout).unwrap();
    assert_eq!(
        status[0]["scopes"],
        json!(["mcp:tools", "mcp:admin"]),
        "GitHub's comma-separated answer is two scopes: {status}"
    );
    env.let_time_pass(std::time::Duration::from_secs(3600));
    let out = env.run(&["token", "github"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(fx.access_token_valid(out.stdout.trim()));
    assert_eq!(fx.counters().refresh_requests, 1);
}

// The same endpoints in a project's config: they send the browser to another origin than
// the MCP server's, so the person is asked first, as for pinned metadata.
#[test]
fn endpoints_pinned_by_a_project_file_are_confirmed_before_use() {
    use crate::support::{AuthMethod, Variant};
    let fx = Fixture::start(Knobs {
        variant: Variant::GitHubStyle,
        registration_endpoint: false,
        ..Knobs::default()
    });
    fx.add_client(
        "gh-app",
        None,
        AuthMethod::None,
        &["http://127.0.0.1/callback"],
    );
    let env = TestEnv::new();
    env.add_server_entry(
        "github",
        json!({"type": "http", "url": fx.mcp_url(), "oauth": {
            "clientId": "gh-app",
            "authorizationUrl": fx.endpoint("/authorize"),
            "tokenUrl": fx.endpoint("/token"),
        }}),
    );
    let out = env.run(&["login", "github"]);
    assert_eq!(out.code, Some(1), "{out:?}");
    assert!(out.stderr.contains("pins the endpoints"), "{}", out.stderr);
    assert_eq!(fx.counters().authorize_requests, 0);

    let out = env.run(&["login", "github", "--allow-pinned-metadata"]);
    assert_eq!(out.code, Some(0), "{out:?}");
    let out = env.run(&["token", "github"]);
    assert!(fx.access_token_valid(out.stdout.trim()), "{out:?}");

    // A metadata file beside the config works as a pinned URL does.
    let metadata = json!({
        "issuer": fx.issuer(),
        "authorization_endpoint": fx.endpoint("/authorize"),
        "token_endpoint": fx.endpoint("/token"),
        "code_challenge_methods_supported": ["S256"],
    });
    std::fs::write(
        env.project().join("github-oauth.json"),
        metadata.to_string(),
    )
    .unwrap();
    env.add_server_entry(
        "github",
        json!({"type": "http", "url": fx.mcp_url(), "oauth": {
            "clientId": "gh-app",
            "authServerMetadataUrl": "github-oauth.json",
        }}),
    );
    let elsewhere = tempfile::tempdir().unwrap();
    let mut cmd = env.command(&[
        "--config",
        env.project().join(".mcp.json").to_str().unwrap(),
        "login",
        "github",
        "--allow-pinned-metadata",
    ]);
    cmd.current_dir(elsewhere.path());
    let out = run_bounded(cmd, None::<&str>, env.timeout);
    assert_eq!(out.code, Some(0), "{out:?}");
}

// Symptom: logout said the revocation failed when the server could not revoke a JWT access
// token, and called the revocation endpoint "the token endpoint".
#[test]
fn logout_says_which_tokens_were_revoked_and_which_cannot_be() {
    let fx = Fixture::start(Knobs::default());
    let env = TestEnv::new();
    env.add_server("demo", &fx.mcp_url());
    assert_eq!(env.run(&["login", "demo"]).code, Some(0));
    let out = env.run(&["logout", "demo"]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert!(
        out.stderr
            .contains("the refresh and access tokens were revoked at the server"),
        "{}",
        out.stderr
    );

    fx.update(|k| k.access_tokens_unrevocable = true);
    assert_eq!(env.run(&["login", "demo"]).code, Some(0));
    let out = env.run(&["logout", "demo"]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert!(
        out.stderr.contains(
            "the refresh token was revoked at the server; the access token cannot be revoked there and expires at "
        ),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("token endpoint"), "{}", out.stderr);

    // A refusal of another kind is named for the endpoint it came from.
    fx.update(|k| k.access_tokens_unrevocable = false);
    assert_eq!(env.run(&["login", "demo"]).code, Some(0));
    fx.forget_clients();
    let out = env.run(&["logout", "demo"]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert!(
        out.stderr
            .contains("did not confirm the revocation: the revocation endpoint"),
        "{}",
        out.stderr
    );
}

// Symptom: Claude Code masks the words of a server's command line in its errors, so
// "run `mcpauth login [redacted]`" was all the person saw; the message now also names a
// command that needs no argument.
#[test]
fn errors_sent_to_the_client_name_a_command_without_arguments() {
    let fx = Fixture::start(Knobs::default());
    let env = TestEnv::new();
    env.add_server("demo", &fx.mcp_url());
    let mut host = Host::start(&env, &["proxy", "demo", "--login", "never"]);
    let answer = host.initialize();
    let message = answer["error"]["message"]
        .as_str()
        .unwrap_or_else(|| panic!("{answer}"));
    assert!(message.contains("`mcpauth status`"), "{message}");
    assert_eq!(host.finish(), Some(0));
}

/// Signs in to `demo` with the given `oauth` block; returns the run.
fn login_with(fx: &Fixture, oauth: Value) -> (TestEnv, crate::support::RunOutput) {
    let env = TestEnv::new();
    env.add_server_entry(
        "demo",
        json!({"type": "http", "url": fx.mcp_url(), "oauth": oauth}),
    );
    let out = env.run(&["login", "demo"]);
    (env, out)
}

// Symptom: Entra ID refuses `resource` beside v2 scopes (AADSTS9010010) and a refresh
// without `scope` (AADSTS90014); its API scopes are `<resource>/.default`.
#[test]
fn entra_gets_its_default_scope_no_resource_and_the_scope_again_on_refresh() {
    use crate::support::{Endpoint, ProviderQuirks};
    let fx = Fixture::start(Knobs {
        provider_quirks: Some(ProviderQuirks::Entra),
        // The server names no scopes: Entra's own `.default` is what is asked for.
        scopes_supported: vec![],
        challenge_scope: None,
        require_resource: false,
        ..Knobs::default()
    });
    // As a standard server: the documented refusal.
    let (_, out) = login_with(&fx, json!({}));
    assert_eq!(out.code, Some(1), "{out:?}");
    assert!(out.stderr.contains("AADSTS9010010"), "{}", out.stderr);

    let (env, out) = login_with(&fx, json!({"provider": "entra"}));
    assert_eq!(out.code, Some(0), "{out:?}");
    let asked = fx.requests_to(Endpoint::Authorize);
    let last = asked.last().unwrap();
    let scope = last.query("scope").unwrap_or_default();
    let mut asked_scopes: Vec<&str> = scope.split(' ').collect();
    asked_scopes.sort();
    let default = format!("{}/.default", fx.mcp_url());
    assert_eq!(asked_scopes, [default.as_str(), "offline_access"]);
    assert_eq!(last.query("resource"), None);
    env.let_time_pass(std::time::Duration::from_secs(3600));
    let out = env.run(&["token", "demo"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let refresh = fx.requests_to(Endpoint::Token);
    let refresh = refresh.last().unwrap();
    assert_eq!(refresh.form("grant_type").as_deref(), Some("refresh_token"));
    assert!(
        refresh
            .form("scope")
            .is_some_and(|s| s.contains("/.default"))
    );
    assert_eq!(refresh.form("resource"), None);
}

// Symptom: Google gives a refresh token only with `access_type=offline` and
// `prompt=consent`, so the person signed in again every hour.
#[test]
fn google_is_asked_for_offline_access_its_own_way() {
    use crate::support::{Endpoint, ProviderQuirks};
    let fx = Fixture::start(Knobs {
        provider_quirks: Some(ProviderQuirks::Google),
        // Google has no use for RFC 8707, so `resource: false` below is no loss.
        require_resource: false,
        ..Knobs::default()
    });
    let (_, out) = login_with(&fx, json!({}));
    assert_eq!(out.code, Some(0), "{out:?}");
    assert!(
        out.stderr.contains("gave no refresh token"),
        "as a standard server: {}",
        out.stderr
    );
    let (_, out) = login_with(&fx, json!({"provider": "google"}));
    assert_eq!(out.code, Some(0), "{out:?}");
    assert!(
        out.stderr.contains("refreshed automatically"),
        "{}",
        out.stderr
    );
    let asked = fx.requests_to(Endpoint::Authorize);
    let last = asked.last().unwrap();
    assert_eq!(last.query("access_type").as_deref(), Some("offline"));
    assert_eq!(last.query("prompt").as_deref(), Some("consent"));

    // Each is the server's to override: `resource: false`, and parameters of its own.
    let (env, out) = login_with(
        &fx,
        json!({"provider": "google", "resource": false, "params": {"hd": "example.com"}}),
    );
    assert_eq!(out.code, Some(0), "{out:?}");
    let asked = fx.requests_to(Endpoint::Authorize);
    let last = asked.last().unwrap();
    assert_eq!(last.query("resource"), None);
    assert_eq!(last.query("hd").as_deref(), Some("example.com"));
    env.let_time_pass(std::time::Duration::from_secs(3600));
    assert_eq!(env.run(&["token", "demo"]).code, Some(0));
    let refresh = fx.requests_to(Endpoint::Token);
    let refresh = refresh.last().unwrap();
    assert_eq!(refresh.form("hd").as_deref(), Some("example.com"));
    assert_eq!(refresh.form("resource"), None);
}

// Symptom: servers configured for Codex (`[mcp_servers.NAME]` in `$CODEX_HOME/config.toml`)
// were unknown to mcpauth, and Codex starts its servers in `$CODEX_HOME`.
#[test]
fn codex_servers_are_read_from_its_config_toml() {
    let fx = Fixture::start(Knobs::default());
    let codex_home = tempfile::tempdir().unwrap();
    std::fs::write(
        codex_home.path().join("config.toml"),
        format!(
            "model = \"gpt-5\"\n\n[mcp_servers.demo]\nurl = \"{}\"\nstartup_timeout_sec = 20\n\n\
             [mcp_servers.files]\ncommand = \"npx\"\nargs = [\"-y\", \"server-filesystem\"]\n",
            fx.mcp_url()
        ),
    )
    .unwrap();
    let mut env = TestEnv::new();
    env.env("CODEX_HOME", codex_home.path().to_str().unwrap());
    let out = env.run(&["login", "demo"]);
    assert_eq!(out.code, Some(0), "{out:?}");
    let out = env.run(&["status", "--json"]);
    let rows: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(rows[0]["server"], "demo", "{rows}");
    assert_eq!(rows[0]["state"], "valid", "{rows}");

    // Started as Codex starts it: in CODEX_HOME, by name.
    let mut cmd = env.command(&["proxy", "demo", "--login", "never"]);
    cmd.current_dir(codex_home.path());
    let mut host = Host::spawn(cmd);
    assert!(host.initialize().get("result").is_some());
    let answer = echo(&mut host, "from codex");
    assert_eq!(
        answer["result"]["content"][0]["text"], "from codex",
        "{answer}"
    );
    assert_eq!(host.finish(), Some(0));

    // A broken config.toml is named with its place, and hides nothing else.
    std::fs::write(codex_home.path().join("config.toml"), "[mcp_servers.demo\n").unwrap();
    env.add_server("other", &fx.mcp_url());
    let out = env.run(&["status", "--json"]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert!(out.stderr.contains("config.toml`:1:"), "{}", out.stderr);
    assert!(out.stdout.contains("\"other\""), "{}", out.stdout);
}

// Symptom: `-v` on a whole proxy session logged one line ("session closed").
#[test]
fn a_verbose_proxy_session_says_what_happened() {
    let fx = Fixture::start(Knobs::default());
    let env = TestEnv::new();
    env.add_server("demo", &fx.mcp_url());
    assert_eq!(env.run(&["login", "demo"]).code, Some(0));
    crate::refresh::let_expire(&env);
    let session = [
        json!({"jsonrpc": "2.0", "id": 0, "method": "initialize",
               "params": {"protocolVersion": "2025-11-25", "capabilities": {},
                          "clientInfo": {"name": "t", "version": "1"}}}),
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
        json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}),
    ]
    .map(|m| format!("{m}\n"))
    .concat();
    let out = env.run_with_stdin(&["-v", "proxy", "demo", "--login", "never"], &session);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert!(out.stdout.contains("\"tools\""), "{}", out.stdout);
    let mut at = 0;
    for step in [
        "proxying",
        "refreshed",
        "initialized (a session)",
        "proxy finished",
    ] {
        let found = out.stderr[at..]
            .find(step)
            .unwrap_or_else(|| panic!("no `{step}` after the steps before it:\n{}", out.stderr));
        at += found;
    }
    out.assert_no_secret(&fx.secrets_seen());
}

// The fixture used to answer a refused authorization request (an unknown scope) with a
// page of its own, so `login` waited out its timeout; real servers send the browser back
// with `error=`, and mcpauth then says why at once.
#[test]
fn a_refused_authorization_request_ends_the_login_with_the_servers_reason() {
    let fx = Fixture::start(Knobs::default());
    let env = TestEnv::new();
    env.add_server("demo", &fx.mcp_url());
    let started = std::time::Instant::now();
    let out = env.run(&["login", "demo", "--scope", "not-a-scope"]);
    assert_eq!(out.code, Some(1), "{out:?}");
    assert!(out.stderr.contains("invalid_scope"), "{}", out.stderr);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(30),
        "the login waited for a redirect that was never coming"
    );
    let out = env.run(&["token", "demo"]);
    assert_eq!(out.code, Some(4), "nothing was stored: {out:?}");
}
