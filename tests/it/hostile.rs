//! Hostile servers, configs and bundles (issue 14): each test plays an attacker on
//! loopback and checks that mcpauth gives it nothing.

use std::sync::Arc;

use mcpauth::proxy::{NoAuth, ProxyOptions, TokenSource};

use crate::proxy_fake::{FakeServer, Host, Recorded, Reply, script};
use crate::support::{AuthorizeOutcome, Endpoint, Fixture, Knobs, TestEnv};

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
