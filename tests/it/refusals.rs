//! Every way a login must refuse: a clear one-line reason, a non-zero exit, nothing
//! stored, and (for what discovery catches) no authorization request ever sent.

use std::time::Duration;

use crate::support::{
    AuthorizeOutcome, BrokenMetadata, Endpoint, Fixture, Knobs, ResourceMismatch, RunOutput,
    TestEnv,
};

/// How many grants the index holds (0 when there is no index at all).
pub fn stored_grants(env: &TestEnv) -> usize {
    let path = env.home().join("data").join("grants.json");
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let v: serde_json::Value = serde_json::from_str(&text).expect("the index is JSON");
            v["grants"].as_array().map_or(0, Vec::len)
        }
        Err(_) => 0,
    }
}

fn refused(knobs: Knobs, expect: &str) -> (Fixture, TestEnv, RunOutput) {
    let fx = Fixture::start(knobs);
    let mut env = TestEnv::new();
    env.timeout = Duration::from_secs(30);
    env.add_server("demo", &fx.mcp_url());
    let out = env.run(&["login", "demo", "--timeout", "3s"]);
    assert_eq!(
        out.code,
        Some(1),
        "login should fail with: {expect}\n{}",
        out.stderr
    );
    assert!(
        out.stderr.contains(expect),
        "expected `{expect}` in:\n{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("\nmcpauth: error: ") || out.stderr.starts_with("mcpauth: error: "),
        "{}",
        out.stderr
    );
    assert_eq!(stored_grants(&env), 0, "a refused login stored a grant");
    out.assert_no_secret(&fx.secrets_seen());
    (fx, env, out)
}

fn refused_before_authorizing(knobs: Knobs, expect: &str) {
    let (fx, _env, _) = refused(knobs, expect);
    assert!(
        fx.requests_to(Endpoint::Authorize).is_empty(),
        "an authorization request was sent before the refusal"
    );
    assert_eq!(
        fx.counters().registrations,
        0,
        "registered with a server it refused"
    );
}

#[test]
fn metadata_without_s256() {
    refused_before_authorizing(
        Knobs {
            advertise_s256: false,
            ..Knobs::default()
        },
        "does not offer PKCE with S256",
    );
}

#[test]
fn resource_metadata_for_another_origin() {
    refused_before_authorizing(
        Knobs {
            resource_mismatch: Some(ResourceMismatch::OtherOrigin),
            ..Knobs::default()
        },
        "a server may only ask for grants for itself",
    );
}

#[test]
fn resource_metadata_for_another_path() {
    refused_before_authorizing(
        Knobs {
            resource_mismatch: Some(ResourceMismatch::OtherPath),
            ..Knobs::default()
        },
        "a server may only ask for grants for itself",
    );
}

#[test]
fn issuer_mismatch() {
    refused_before_authorizing(
        Knobs {
            broken_metadata: Some(BrokenMetadata::IssuerMismatch),
            ..Knobs::default()
        },
        "names issuer",
    );
}

#[test]
fn http_endpoint_on_another_host() {
    refused_before_authorizing(
        Knobs {
            broken_metadata: Some(BrokenMetadata::NonLoopbackHttpEndpoint),
            ..Knobs::default()
        },
        "plain http is allowed only on this machine",
    );
}

#[test]
fn malformed_metadata() {
    refused_before_authorizing(
        Knobs {
            broken_metadata: Some(BrokenMetadata::MalformedJson),
            ..Knobs::default()
        },
        "malformed authorization server metadata",
    );
}

#[test]
fn iss_mismatch_on_the_callback() {
    let (_, env, _) = refused(
        Knobs {
            authorize_outcome: AuthorizeOutcome::WrongIss,
            ..Knobs::default()
        },
        "RFC 9207",
    );
    let page = env.browser_page().unwrap();
    assert!(page.contains("Sign-in failed"), "{page}");
}

#[test]
fn missing_iss_when_promised() {
    refused(
        Knobs {
            authorize_outcome: AuthorizeOutcome::MissingIss,
            ..Knobs::default()
        },
        "refusing a redirect without `iss`",
    );
}

#[test]
fn wrong_state() {
    let (fx, _, _) = refused(
        Knobs {
            authorize_outcome: AuthorizeOutcome::WrongState,
            ..Knobs::default()
        },
        "does not match this sign-in",
    );
    assert!(
        fx.requests_to(Endpoint::Token).is_empty(),
        "a code from a wrong-state redirect was exchanged"
    );
}

#[test]
fn access_denied() {
    let (_, env, _) = refused(
        Knobs {
            authorize_outcome: AuthorizeOutcome::Deny,
            ..Knobs::default()
        },
        "sign-in was declined",
    );
    assert!(env.browser_page().unwrap().contains("Nothing was stored"));
}

#[test]
fn timeout_closes_the_listener() {
    let (fx, _, out) = refused(
        Knobs {
            authorize_outcome: AuthorizeOutcome::NeverRedirect,
            ..Knobs::default()
        },
        "no answer from the browser within 3 s",
    );
    assert!(out.stderr.contains("hint:"), "{}", out.stderr);
    // The redirect URI the login used must be closed now.
    let a = &fx.requests_to(Endpoint::Authorize)[0];
    let redirect = url::Url::parse(&a.query("redirect_uri").unwrap()).unwrap();
    let port = redirect.port().unwrap();
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "the loopback listener is still open after the timeout"
    );
}

#[test]
fn malformed_config_names_file_line_and_column() {
    let env = TestEnv::new();
    std::fs::write(
        env.project().join(".mcp.json"),
        "{\n  \"mcpServers\": {\n    \"demo\": {\"url\": \"http://127.0.0.1:9/mcp\",}\n  }\n}\n",
    )
    .unwrap();
    let out = env.run(&["login", "demo"]);
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    assert!(out.stderr.contains(".mcp.json`:3:"), "{}", out.stderr);
    assert_eq!(stored_grants(&env), 0);
}

#[test]
fn unknown_server_lists_the_known_ones() {
    let env = TestEnv::new();
    env.add_server("notion", "http://127.0.0.1:9/mcp");
    let out = env.run(&["login", "notoin"]);
    assert_eq!(out.code, Some(1));
    assert!(out.stderr.contains("notion"), "{}", out.stderr);
    assert!(out.stderr.contains(".mcp.json"), "{}", out.stderr);
}

#[test]
fn stdio_server_has_nothing_to_sign_in_to() {
    let env = TestEnv::new();
    env.add_server_entry("local", serde_json::json!({"command": "my-mcp-server"}));
    let out = env.run(&["login", "local"]);
    assert_eq!(out.code, Some(1));
    assert!(out.stderr.contains("local"), "{}", out.stderr);
    assert_eq!(stored_grants(&env), 0);
}

#[test]
fn dead_server() {
    let env = TestEnv::new();
    // A port nothing listens on: bind, note the port, close.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    env.add_server("dead", &format!("http://127.0.0.1:{port}/mcp"));
    let out = env.run(&["login", "dead"]);
    assert_eq!(out.code, Some(1));
    assert!(out.stderr.contains("cannot reach"), "{}", out.stderr);
}

#[test]
fn a_failed_login_keeps_the_existing_grant() {
    let fx = Fixture::start(Knobs::default());
    let env = TestEnv::new();
    env.add_server("demo", &fx.mcp_url());
    assert_eq!(env.run(&["login", "demo"]).code, Some(0));
    let before = env.run(&["token", "demo"]).stdout;
    fx.update(|k| k.authorize_outcome = AuthorizeOutcome::Deny);
    assert_eq!(env.run(&["login", "demo"]).code, Some(1));
    let after = env.run(&["token", "demo"]);
    assert_eq!(after.code, Some(0), "{}", after.stderr);
    assert_eq!(
        after.stdout, before,
        "a failed login must not touch the stored grant"
    );
}
