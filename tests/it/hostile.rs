//! Hostile servers, configs and bundles (issue 14): each test plays an attacker on
//! loopback and checks that mcpauth gives it nothing.

use std::sync::Arc;

use mcpauth::proxy::{NoAuth, ProxyOptions, TokenSource};

use crate::proxy_fake::{FakeServer, Host, Recorded, Reply, script};
use crate::support::http::{Incoming, Listener, Reply as HttpReply};
use crate::support::{AuthorizeOutcome, Endpoint, Fixture, Knobs, RunOutput, TestEnv};

const INIT: &str = r#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"host","version":"1"}}}"#;
const INIT_ANSWER: &str = r#"{"jsonrpc":"2.0","id":0,"result":{"protocolVersion":"2025-11-25","capabilities":{},"serverInfo":{"name":"fake","version":"1"}}}"#;
const API_KEY: &str = "k-secret-api-key-7731";

fn no_auth() -> Arc<dyn TokenSource> {
    Arc::new(NoAuth::default())
}

fn with_api_key(url: url::Url) -> ProxyOptions {
    let mut opts = ProxyOptions::new(url, "fake");
    opts.headers.insert("X-Api-Key".into(), API_KEY.into());
    opts
}

fn redirect_to(location: String) -> Reply {
    Reply::Full(307, vec![("location", location)], Vec::new())
}

#[tokio::test]
async fn proxy_follows_no_redirect_to_another_origin() {
    // Symptom: a 307 to another port got the config's `X-Api-Key` and the JSON-RPC body.
    let elsewhere = FakeServer::start(script(|_| async { Reply::json(INIT_ANSWER) })).await;
    let target = format!("http://{}/mcp?token=from-the-redirect", elsewhere.addr);
    let hostile = FakeServer::start(script(move |_| {
        let reply = redirect_to(target.clone());
        async move { reply }
    }))
    .await;
    let mut host = Host::start(with_api_key(hostile.url()), no_auth());
    host.send(INIT).await;
    let answer = host.recv_json().await;
    let message = answer["error"]["message"].as_str().unwrap_or_default();
    assert_eq!(answer["error"]["code"], -32000, "{answer}");
    assert!(
        message.contains(&format!("redirected to `http://{}/mcp`", elsewhere.addr)),
        "the error names the redirect: {message}"
    );
    assert!(!message.contains("from-the-redirect"), "{message}");
    assert!(!message.contains(API_KEY), "{message}");
    host.finish().await.0.unwrap();
    assert_eq!(
        hostile.requests().len(),
        1,
        "the refused redirect is not retried"
    );
    assert!(
        elsewhere.requests().is_empty(),
        "the other origin got: {:?}",
        elsewhere.requests()
    );
}

#[tokio::test]
async fn proxy_still_follows_a_redirect_below_its_own_url() {
    // Symptom guarded: servers that redirect `/mcp` to `/mcp/` (Starlette mounts) must work.
    let server = FakeServer::start(script(|r: Recorded| async move {
        if r.path == "/mcp" {
            Reply::Full(307, vec![("location", "/mcp/".into())], Vec::new())
        } else {
            Reply::json(INIT_ANSWER)
        }
    }))
    .await;
    let mut host = Host::start(with_api_key(server.url()), no_auth());
    host.send(INIT).await;
    assert_eq!(host.recv().await, INIT_ANSWER);
    host.finish().await.0.unwrap();
    let log = server.requests();
    let followed = log
        .iter()
        .find(|r| r.path == "/mcp/")
        .expect("the redirect was followed");
    assert_eq!(followed.body_str(), INIT);
    assert_eq!(followed.header("x-api-key"), Some(API_KEY));
}

#[test]
fn a_stray_request_to_the_callback_does_not_end_the_sign_in() {
    // Symptom: any local process hitting `/callback` without the `state` aborted the login.
    let fx = Fixture::start(Knobs {
        authorize_outcome: AuthorizeOutcome::ApproveAfterStrayCallbacks,
        ..Knobs::default()
    });
    let env = TestEnv::new();
    env.add_server("demo", &fx.mcp_url());
    let out = env.run(&["login", "demo"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(
        fx.counters().stray_callbacks_refused,
        2,
        "a forged state and a foreign Host are both answered 400"
    );
    let page = env
        .browser_page()
        .expect("the browser reached the callback");
    assert!(page.contains("signed in to <b>demo</b>"), "{page}");
    let exchanged: Vec<_> = fx
        .requests_to(Endpoint::Token)
        .iter()
        .filter_map(|r| r.form("code"))
        .collect();
    assert!(
        !exchanged.iter().any(|c| c == "forged"),
        "a stray request's code was exchanged"
    );
}

#[cfg(unix)]
#[test]
fn install_writes_no_backup_through_a_planted_symlink() {
    // Symptom: a dangling `.mcp.json.mcpauth-backup` link in a cloned repository made
    // `install` create the link's target, outside the project, with the project's config.
    let env = TestEnv::new();
    let config = env.project().join(".mcp.json");
    let text = r#"{"mcpServers": {"team": {"type": "http", "url": "https://mcp.team.example/mcp", "headers": {"X-Team": "k-team"}}}}"#;
    std::fs::write(&config, text).unwrap();
    let outside = env
        .home()
        .parent()
        .unwrap()
        .join("outside-the-project.json");
    std::os::unix::fs::symlink(&outside, env.project().join(".mcp.json.mcpauth-backup")).unwrap();

    let out = env.run(&["install", "claude-code"]);
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    assert!(
        out.stderr.contains(".mcp.json.mcpauth-backup") && out.stderr.contains("symbolic link"),
        "{}",
        out.stderr
    );
    assert!(!outside.exists(), "the link's target was created");
    assert_eq!(
        std::fs::read_to_string(&config).unwrap(),
        text,
        "the config changed"
    );
    assert!(
        !env.home().join("data").join("clients").exists(),
        "a record was written for an install that did not happen"
    );
}

/// Terminal controls a hostile server puts in what it says: a title change ended by BEL,
/// a screen clear, a C1 CSI.
const CONTROLS: &str = "\u{1b}]0;owned\u{7}\u{1b}[2J\u{9b}31m";

/// Fails when `out` holds a control character other than a line end.
fn assert_shows_no_controls(what: &str, out: &RunOutput) {
    for (stream, text) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
        assert!(
            !text.chars().any(|c| c.is_control() && c != '\n'),
            "{what}: raw control characters on {stream}: {text:?}"
        );
    }
}

/// An MCP server with its own authorization server whose every free-text field carries
/// [`CONTROLS`]: the issuer (in a path, where a URL parser keeps it), the PKCE methods,
/// and the token endpoint's `error_description`.
fn controls_server(methods: &'static [&'static str]) -> Listener {
    Listener::start(move |r: &Incoming| {
        let origin = format!("http://{}", r.header("host").unwrap_or_default());
        let issuer = format!("{origin}/{CONTROLS}");
        match (r.method.as_str(), r.path.as_str()) {
            ("POST", "/mcp") => HttpReply::empty(401).header(
                "WWW-Authenticate",
                format!(
                    r#"Bearer resource_metadata="{origin}/.well-known/oauth-protected-resource/mcp""#
                ),
            ),
            ("GET", p) if p.starts_with("/.well-known/oauth-protected-resource") => {
                HttpReply::json(
                    200,
                    &serde_json::json!({
                        "resource": format!("{origin}/mcp"),
                        "authorization_servers": [issuer],
                    }),
                )
            }
            ("GET", p) if p.starts_with("/.well-known/oauth-authorization-server") => {
                HttpReply::json(
                    200,
                    &serde_json::json!({
                        "issuer": issuer,
                        "authorization_endpoint": format!("{origin}/authorize"),
                        "token_endpoint": format!("{origin}/token"),
                        "code_challenge_methods_supported": methods,
                        "grant_types_supported": ["authorization_code", "client_credentials"],
                    }),
                )
            }
            ("POST", "/token") => HttpReply::oauth_error(
                400,
                "invalid_client",
                &format!("no client here{CONTROLS}"),
            ),
            _ => HttpReply::empty(404),
        }
    })
}

#[test]
fn server_text_reaches_the_terminal_escaped() {
    // Symptom: ESC/BEL from a server's issuer, PKCE methods and error_description were
    // written to the terminal raw (title changed, screen cleared).
    let methods: &[&str] = &["S256", "plain\u{1b}[5m"];
    let server = controls_server(methods);
    let env = TestEnv::new();
    env.add_server("demo", &format!("{}/mcp", server.origin()));

    let out = env.run_with_stdin(
        &[
            "login",
            "demo",
            "--client-id",
            "c1",
            "--client-secret",
            "--client-credentials",
        ],
        "s1\n",
    );
    assert_eq!(out.code, Some(1), "{out:?}");
    assert!(
        out.stderr.contains(r"no client here\u{1b}]0;owned\u{7}"),
        "{}",
        out.stderr
    );
    assert_shows_no_controls("login", &out);

    let out = env.run(&["doctor", "demo"]);
    assert!(out.stdout.contains(r"plain\u{1b}[5m"), "{out:?}");
    assert!(
        out.stdout.contains(r"owned\u{7}"),
        "the issuer is shown: {out:?}"
    );
    assert_shows_no_controls("doctor", &out);

    let no_s256 = controls_server(&["plain\u{1b}[5m\u{7}"]);
    env.add_server("weak", &format!("{}/mcp", no_s256.origin()));
    let out = env.run(&["login", "weak"]);
    assert!(
        out.stderr.contains("does not offer PKCE with S256"),
        "{out:?}"
    );
    assert_shows_no_controls("login without S256", &out);
}

#[test]
fn bundle_aliases_and_scopes_reach_the_terminal_escaped() {
    // Symptom: a bundle's alias and scopes were printed raw by `import` and `status`.
    let fx = Fixture::start(Knobs::default());
    let exported = crate::support::bundles::Exported::from_laptop(&fx);
    let server = TestEnv::new();
    let out = exported.import_edited(&server, |hostile| {
        hostile.grants[0].grant.aliases = vec![format!("demo{CONTROLS}")];
        hostile.grants[0].grant.scopes = vec![format!("read{CONTROLS}")];
    });
    assert_eq!(out.code, Some(0), "{out:?}");
    assert!(out.stderr.contains(r"demo\u{1b}]0;owned"), "{out:?}");
    assert_shows_no_controls("import", &out);

    let out = server.run(&["status"]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert!(out.stdout.contains(r"read\u{1b}]0;owned"), "{out:?}");
    assert_shows_no_controls("status", &out);
}

#[test]
fn urls_in_messages_show_no_userinfo() {
    // Symptom: `doctor` and "cannot reach" errors printed `user:password@` from the config.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port();
    let env = TestEnv::new();
    env.add_server(
        "demo",
        &format!("http://someone:pw-in-url-4411@127.0.0.1:{port}/mcp"),
    );
    for args in [
        &["login", "demo"][..],
        &["doctor", "demo"],
        &["status", "--json"],
    ] {
        let out = env.run(args);
        assert!(
            !out.stdout.contains("pw-in-url-4411") && !out.stderr.contains("pw-in-url-4411"),
            "{args:?}: {out:?}"
        );
        assert!(
            out.stdout.contains("http://***@127.0.0.1")
                || out.stderr.contains("http://***@127.0.0.1"),
            "{args:?} names the server masked: {out:?}"
        );
    }
}

/// Which OAuth answer [`oversized_server`] makes 2 MiB long.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Oversized {
    /// Streamed without a length, as a server that never stops would send it.
    Metadata,
    Registration,
    /// With a `Content-Length` that says so at once.
    Token,
}

/// An MCP server and authorization server on one origin that answer one document with
/// 2 MiB of JSON, twice the most mcpauth reads.
async fn oversized_server(which: Oversized) -> FakeServer {
    FakeServer::start(script(move |r: Recorded| async move {
        let origin = format!("http://{}", r.header("host").unwrap_or_default());
        let pad = "x".repeat(2 << 20);
        let json = |value: serde_json::Value| Reply::json(value.to_string());
        match (r.method.as_str(), r.path.as_str()) {
            ("POST", "/mcp") => Reply::Full(
                401,
                vec![(
                    "www-authenticate",
                    format!(
                        r#"Bearer resource_metadata="{origin}/.well-known/oauth-protected-resource""#
                    ),
                )],
                Vec::new(),
            ),
            ("GET", "/.well-known/oauth-protected-resource") => json(serde_json::json!({
                "resource": format!("{origin}/mcp"),
                "authorization_servers": [origin],
            })),
            ("GET", "/.well-known/oauth-authorization-server") => {
                let metadata = serde_json::json!({
                    "issuer": origin,
                    "authorization_endpoint": format!("{origin}/authorize"),
                    "token_endpoint": format!("{origin}/token"),
                    "registration_endpoint": format!("{origin}/register"),
                    "code_challenge_methods_supported": ["S256"],
                });
                if which != Oversized::Metadata {
                    return json(metadata);
                }
                let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
                let text = format!(r#"{{"pad": "{pad}", "issuer": "{origin}"}}"#);
                for piece in text.as_bytes().chunks(64 << 10) {
                    let _ = tx.send(piece.to_vec());
                }
                Reply::Stream(200, vec![], rx)
            }
            ("POST", "/register") if which == Oversized::Registration => {
                json(serde_json::json!({ "client_id": "c1", "pad": pad }))
            }
            ("POST", "/token") if which == Oversized::Token => json(serde_json::json!({
                "access_token": "t",
                "token_type": "Bearer",
                "pad": pad,
            })),
            _ => Reply::status(404),
        }
    }))
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn oauth_answers_over_a_mebibyte_are_refused() {
    // Symptom: a 1 GB metadata document took `login` to 1 GB of memory.
    for (which, what) in [
        (Oversized::Metadata, "authorization server metadata"),
        (Oversized::Registration, "client registration answer"),
        (Oversized::Token, "token response"),
    ] {
        let server = oversized_server(which).await;
        let url = server.url().to_string();
        let out = tokio::task::spawn_blocking(move || {
            let env = TestEnv::new();
            env.add_server("demo", &url);
            match which {
                Oversized::Token => env.run_with_stdin(
                    &[
                        "login",
                        "demo",
                        "--client-id",
                        "c1",
                        "--client-secret",
                        "--client-credentials",
                    ],
                    "s1\n",
                ),
                _ => env.run(&["login", "demo", "--timeout", "5s"]),
            }
        })
        .await
        .unwrap();
        assert_eq!(out.code, Some(1), "{which:?}: {out:?}");
        assert!(
            out.stderr
                .contains(&format!("refusing the {what} from `http://{}", server.addr))
                && out.stderr.contains("larger than 1 MiB"),
            "{which:?}: {}",
            out.stderr
        );
    }
}

#[tokio::test]
async fn proxy_caps_each_message_and_the_session_goes_on() {
    // Symptom: an SSE line with no end grew the proxy by everything sent (1 GB in, 1 GB
    // resident); so did a long JSON answer or stdin line.
    const CAP: usize = 64 << 10;
    let open_streams = Arc::new(std::sync::Mutex::new(Vec::new()));
    let held = Arc::clone(&open_streams);
    let server = FakeServer::start(script(move |r: Recorded| {
        let id = serde_json::from_slice::<serde_json::Value>(&r.body)
            .ok()
            .and_then(|v| v.get("id").and_then(serde_json::Value::as_i64));
        let reply = match (r.method.as_str(), r.rpc_method().as_deref(), id) {
            ("POST", Some("initialize"), _) => Reply::json(INIT_ANSWER),
            ("POST", Some(m), _) if m.starts_with("notifications/") => Reply::status(202),
            // A line that never ends, on a stream the server keeps open.
            ("POST", _, Some(1)) => {
                let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
                tx.send(b"data: ".to_vec()).unwrap();
                for _ in 0..16 {
                    tx.send(vec![b'x'; 64 << 10]).unwrap();
                }
                held.lock().unwrap().push(tx);
                Reply::Stream(200, vec![], rx)
            }
            ("POST", _, Some(2)) => Reply::json(format!(
                r#"{{"jsonrpc":"2.0","id":2,"result":{{"pad":"{}"}}}}"#,
                "x".repeat(2 * CAP)
            )),
            // Many short data lines that add up to more than the cap.
            ("POST", _, Some(3)) => Reply::sse(format!(
                "{}\n",
                "data: 0123456789abcdef0123456789abcdef\n".repeat(4 * CAP / 32)
            )),
            ("POST", _, Some(id)) => {
                Reply::json(format!(r#"{{"jsonrpc":"2.0","id":{id},"result":{{}}}}"#))
            }
            ("GET", _, _) => Reply::status(405),
            _ => Reply::status(200),
        };
        async move { reply }
    }))
    .await;
    let mut opts = ProxyOptions::new(server.url(), "fake");
    opts.max_message = CAP;
    let mut host = Host::start(opts, no_auth());
    host.send(INIT).await;
    assert_eq!(host.recv().await, INIT_ANSWER);
    for id in 1..=3 {
        host.send(&format!(
            r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/call","params":{{"name":"big"}}}}"#
        ))
        .await;
        let answer = host.recv_json().await;
        assert_eq!(answer["id"], id, "{answer}");
        assert_eq!(answer["error"]["code"], -32000, "{answer}");
        let message = answer["error"]["message"].as_str().unwrap_or_default();
        assert!(
            message.contains("answer from `fake` is larger than 65536 bytes"),
            "{id}: {message}"
        );
    }
    // A host line over the cap is dropped; the next one goes through.
    let long = format!(
        r#"{{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{{"pad":"{}"}}}}"#,
        "y".repeat(2 * CAP)
    );
    host.send(&long).await;
    host.send(r#"{"jsonrpc":"2.0","id":4,"method":"ping"}"#)
        .await;
    assert_eq!(host.recv().await, r#"{"jsonrpc":"2.0","id":4,"result":{}}"#);
    host.finish().await.0.unwrap();
    assert!(
        !server.requests().iter().any(|r| r.body.len() > CAP),
        "the long host line was sent on"
    );
}

#[test]
fn lines_from_the_host_that_are_not_json_get_a_parse_error_and_a_line_on_stderr() {
    // Symptom: invalid UTF-8 or garbage on stdin was sent on to the server and the host's
    // request never got an answer.
    let fx = Fixture::start(Knobs::default());
    let env = TestEnv::new();
    let mut input = Vec::new();
    input.extend_from_slice(
        b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"s\":\"\xff\"}}\n",
    );
    input.extend_from_slice(b"{\"jsonrpc\":\"2.0\",\"id\":\"two\",\"method\":\n");
    input.extend_from_slice(b"\x00\x01 garbage\n");
    let out = env.run_with_stdin_bytes(&["proxy", &fx.mcp_url(), "--login", "never"], &input);
    assert_eq!(out.code, Some(0), "{out:?}");
    let answers: Vec<serde_json::Value> = out
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("stdout carries JSON-RPC only"))
        .collect();
    assert_eq!(answers.len(), 2, "{}", out.stdout);
    for (answer, id) in answers
        .iter()
        .zip([serde_json::json!(1), serde_json::json!("two")])
    {
        assert_eq!(answer["id"], id, "{answer}");
        assert_eq!(answer["error"]["code"], -32700, "{answer}");
    }
    let told = out
        .stderr
        .matches("dropped a line from the host that is")
        .count();
    assert_eq!(told, 3, "{}", out.stderr);
    assert!(out.stderr.contains("not UTF-8"), "{}", out.stderr);
    assert!(
        fx.requests_to(Endpoint::Mcp).is_empty(),
        "nothing unreadable is sent on"
    );
}

#[test]
fn an_error_sent_to_the_host_has_one_prefix_and_one_separator() {
    // Symptom: the host read `mcpauth: mcpauth: error: …;   caused by: …`.
    let fx = Fixture::start(Knobs::default());
    let env = TestEnv::new();
    env.add_server("demo", &fx.mcp_url());
    assert_eq!(env.run(&["login", "demo"]).code, Some(0));
    // The provider forgets the client: the refresh fails with `invalid_client`, a
    // failure with causes that no sign-in of the person fixes.
    fx.forget_clients();
    env.let_time_pass(std::time::Duration::from_secs(3600));
    let mut host = crate::proxy_cli::Host::start(&env, &["proxy", "demo", "--login", "never"]);
    let answer = host.initialize();
    let message = answer["error"]["message"]
        .as_str()
        .unwrap_or_else(|| panic!("{answer}"));
    assert!(
        message.starts_with("mcpauth: cannot refresh the token for `demo`: "),
        "{message}"
    );
    assert_eq!(message.matches("mcpauth:").count(), 1, "{message}");
    for doubled in ["error:", "caused by", ";", "\n", "  "] {
        assert!(!message.contains(doubled), "`{doubled}` in: {message}");
    }
    assert!(
        message.contains("invalid_client"),
        "the cause is there: {message}"
    );
    assert_eq!(host.finish(), Some(0));
}

#[test]
fn log_lines_carry_colour_only_on_a_terminal_and_never_with_no_color() {
    // Symptom: log lines carried ANSI colour into the files MCP clients write a server's
    // stderr to.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}/mcp");
    let mut env = TestEnv::new();
    env.env("MCPAUTH_LOG", "debug");
    let piped = env.run(&["login", &url]);
    assert!(piped.stderr.contains("DEBUG"), "{piped:?}");
    assert!(!piped.stderr.contains('\u{1b}'), "{:?}", piped.stderr);

    // On a terminal (a pseudo-terminal from `script`), colour; with NO_COLOR, none.
    let on_a_terminal = |no_color: Option<&str>| {
        let mut cmd = std::process::Command::new("script");
        cmd.args([
            "-qec",
            &format!("'{}' login '{url}'", env!("CARGO_BIN_EXE_mcpauth")),
            "/dev/null",
        ])
        .env("MCPAUTH_HOME", env.home())
        .env("MCPAUTH_LOG", "debug")
        .env_remove("NO_COLOR");
        if let Some(v) = no_color {
            cmd.env("NO_COLOR", v);
        }
        crate::support::cli::run_bounded(cmd, None::<&str>, std::time::Duration::from_secs(30))
    };
    let coloured = on_a_terminal(None);
    assert!(coloured.stdout.contains("DEBUG"), "{coloured:?}");
    assert!(coloured.stdout.contains("\u{1b}["), "{coloured:?}");
    let plain = on_a_terminal(Some("1"));
    assert!(plain.stdout.contains("DEBUG"), "{plain:?}");
    assert!(!plain.stdout.contains('\u{1b}'), "{plain:?}");
}

#[test]
fn urls_in_messages_show_no_value_from_the_environment() {
    // Symptom: `doctor` and "cannot reach" errors printed the expanded `${VAR}` of a URL.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port();
    let mut env = TestEnv::new();
    env.env("MCP_KEY", "key-from-env-6047");
    env.add_server(
        "demo",
        &format!("http://127.0.0.1:{port}/mcp?key=${{MCP_KEY}}"),
    );
    for args in [
        &["login", "demo"][..],
        &["doctor", "demo"],
        &["status", "--json"],
        &["login", "demo", "-vv"],
    ] {
        let out = env.run(args);
        assert!(
            !out.all_output().contains("key-from-env-6047"),
            "{args:?}: {out:?}"
        );
        assert!(
            out.all_output().contains("/mcp?key=***"),
            "{args:?} names the server masked: {out:?}"
        );
    }
}
