//! `login` → `token` → `status` → `headers` → `logout` end to end: the real binary
//! against the loopback fixture, once per discovery variant and registration kind, with
//! the grant in the real Secret Service of the test session.

use serde_json::Value;

use crate::support::{AuthMethod, Endpoint, Fixture, Knobs, TestEnv, Variant};

/// What a full round trip must show, whatever the variant.
fn round_trip(fx: &Fixture, env: &TestEnv, login: &[&str], stdin: &str) {
    env.add_server("demo", &fx.mcp_url());

    let mut args = vec!["login", "demo"];
    args.extend_from_slice(login);
    let out = env.run_with_stdin(&args, stdin);
    assert_eq!(out.code, Some(0), "login failed:\n{}", out.stderr);
    assert!(
        out.stderr.contains("Signed in to `demo`"),
        "login says nothing useful:\n{}",
        out.stderr
    );
    let page = env
        .browser_page()
        .expect("the browser reached the callback");
    assert!(page.contains("signed in to <b>demo</b>"), "{page}");

    // The authorization request carried PKCE S256, state and the resource.
    let authorize = fx.requests_to(Endpoint::Authorize);
    let a = authorize.last().expect("an authorization request was made");
    assert_eq!(a.query("code_challenge_method").as_deref(), Some("S256"));
    assert!(a.query("state").is_some());
    assert_eq!(a.query("resource").as_deref(), Some(fx.mcp_url().as_str()));

    let out = env.run(&["token", "demo"]);
    assert_eq!(out.code, Some(0), "token failed:\n{}", out.stderr);
    let token = out.stdout.trim().to_owned();
    assert!(
        fx.access_token_valid(&token),
        "`token` printed a token the server does not know"
    );

    let out = env.run(&["headers", "demo"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let headers: Value = serde_json::from_str(&out.stdout).expect("headers prints JSON");
    assert_eq!(headers["Authorization"], format!("Bearer {token}"));

    let out = env.run(&["status", "--json"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let rows: Value = serde_json::from_str(&out.stdout).expect("status --json prints JSON");
    let row = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["server"] == "demo")
        .expect("status lists demo");
    assert_eq!(row["state"], "valid", "{row}");
    assert_eq!(row["issuer"], fx.issuer());
    assert_eq!(
        row["store"], "keyring",
        "the test session has a Secret Service"
    );
    assert!(!out.stdout.contains(&token), "status must not print tokens");

    let out = env.run(&["logout", "demo"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(
        out.stderr.contains("Signed out of `demo`"),
        "{}",
        out.stderr
    );
    // Servers with no metadata (2025-03-26 defaults) have no revocation endpoint.
    if fx.knobs().variant != Variant::LegacyNoMetadata {
        assert!(
            !fx.requests_to(Endpoint::Revoke).is_empty(),
            "logout revokes at the server"
        );
        assert!(
            !fx.access_token_valid(&token),
            "the revoked token still works"
        );
    }

    let out = env.run(&["token", "demo"]);
    assert_eq!(out.code, Some(4), "token after logout: {}", out.stderr);
    assert!(
        out.stderr.contains("hint: run `mcpauth login demo`"),
        "{}",
        out.stderr
    );
}

fn variant_round_trip(variant: Variant) {
    let fx = Fixture::new(variant);
    let env = TestEnv::new();
    let pinned;
    let mut login = Vec::new();
    if variant == Variant::PinnedMetadataUrl {
        pinned = fx
            .server_metadata_url()
            .expect("the variant serves metadata");
        login = vec!["--auth-server-metadata-url", pinned.as_str()];
    }
    round_trip(&fx, &env, &login, "");
    // Dynamic registration happened exactly once, at the server the variant names.
    assert_eq!(fx.counters().registrations, 1);
}

#[test]
fn discovery_from_the_challenge_header() {
    variant_round_trip(Variant::HeaderNamesCustomPrm);
}

#[test]
fn discovery_through_the_path_well_known() {
    variant_round_trip(Variant::PrmPathForm);
}

#[test]
fn discovery_through_the_root_well_known() {
    variant_round_trip(Variant::PrmRootOnly);
}

#[test]
fn discovery_of_an_issuer_with_a_path() {
    variant_round_trip(Variant::IssuerWithPath);
}

#[test]
fn discovery_through_openid_configuration() {
    variant_round_trip(Variant::Oidc);
    variant_round_trip(Variant::OidcPathInserted);
    variant_round_trip(Variant::OidcPathAppended);
}

#[test]
fn discovery_falls_back_to_2025_03_26_origin_metadata() {
    variant_round_trip(Variant::LegacyOriginMetadata);
}

#[test]
fn discovery_falls_back_to_2025_03_26_default_endpoints() {
    variant_round_trip(Variant::LegacyNoMetadata);
}

#[test]
fn discovery_with_a_pinned_metadata_url() {
    variant_round_trip(Variant::PinnedMetadataUrl);
}

fn preregistered(method: AuthMethod) {
    let fx = Fixture::start(Knobs {
        registration_endpoint: false,
        ..Knobs::default()
    });
    fx.add_client(
        "pre-1",
        Some("s3cret-pre-1"),
        method,
        &["http://127.0.0.1/callback"],
    );
    let env = TestEnv::new();
    round_trip(
        &fx,
        &env,
        &[
            "--client-id",
            "pre-1",
            "--client-secret",
            "--client-auth",
            method.as_str(),
        ],
        "s3cret-pre-1\n",
    );
    assert_eq!(fx.counters().registrations, 0);
    let token_requests = fx.requests_to(Endpoint::Token);
    let exchange = token_requests.first().expect("a code exchange");
    match method {
        AuthMethod::ClientSecretBasic => {
            assert!(
                exchange
                    .request
                    .header("authorization")
                    .is_some_and(|h| h.starts_with("Basic "))
            );
            assert_eq!(exchange.form("client_secret"), None);
        }
        AuthMethod::ClientSecretPost => {
            assert_eq!(exchange.request.header("authorization"), None);
            assert_eq!(
                exchange.form("client_secret").as_deref(),
                Some("s3cret-pre-1")
            );
        }
        AuthMethod::None | AuthMethod::PrivateKeyJwt => unreachable!(),
    }
}

#[test]
fn preregistered_client_with_basic_auth() {
    preregistered(AuthMethod::ClientSecretBasic);
}

#[test]
fn preregistered_client_with_post_auth() {
    preregistered(AuthMethod::ClientSecretPost);
}

#[test]
fn preregistered_client_id_from_the_config_oauth_block() {
    let fx = Fixture::start(Knobs {
        registration_endpoint: false,
        ..Knobs::default()
    });
    fx.add_client(
        "public-1",
        None,
        AuthMethod::None,
        &["http://127.0.0.1/callback"],
    );
    let env = TestEnv::new();
    env.add_server_entry(
        "demo",
        serde_json::json!({"type": "http", "url": fx.mcp_url(), "oauth": {"clientId": "public-1"}}),
    );
    let out = env.run(&["login", "demo"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let a = fx.requests_to(Endpoint::Authorize);
    assert_eq!(a[0].query("client_id").as_deref(), Some("public-1"));
}

#[test]
fn client_id_metadata_document() {
    let fx = Fixture::start(Knobs {
        registration_endpoint: false,
        ..Knobs::default()
    });
    let doc = fx.publish_client_document("mcpauth", &["http://127.0.0.1/callback"]);
    let env = TestEnv::new();
    round_trip(&fx, &env, &["--client-metadata-url", &doc], "");
    let a = fx.requests_to(Endpoint::Authorize);
    assert_eq!(a[0].query("client_id").as_deref(), Some(doc.as_str()));
    assert!(
        !fx.requests_to(Endpoint::ClientDocument).is_empty(),
        "the server fetched the document"
    );
}

#[test]
fn dynamic_registration_without_an_initial_access_token() {
    let fx = Fixture::new(Variant::PrmPathForm);
    let env = TestEnv::new();
    round_trip(&fx, &env, &[], "");
    let reg = fx.requests_to(Endpoint::Register);
    assert_eq!(reg.len(), 1);
    let body = reg[0].json().unwrap();
    assert_eq!(body["application_type"], "native");
    assert_eq!(body["token_endpoint_auth_method"], "none");
    assert!(
        body["redirect_uris"][0]
            .as_str()
            .unwrap()
            .starts_with("http://127.0.0.1:")
    );
}

#[test]
fn dynamic_registration_with_an_initial_access_token() {
    let fx = Fixture::start(Knobs {
        initial_access_token: Some("iat-5b1c".into()),
        ..Knobs::default()
    });
    let env = TestEnv::new();
    round_trip(&fx, &env, &["--initial-access-token"], "iat-5b1c\n");
    let reg = fx.requests_to(Endpoint::Register);
    assert_eq!(
        reg[0].request.header("authorization"),
        Some("Bearer iat-5b1c")
    );
}

#[test]
fn dynamic_registration_with_a_confidential_answer_uses_the_returned_method() {
    let fx = Fixture::start(Knobs {
        registration_auth_method: Some(AuthMethod::ClientSecretPost),
        ..Knobs::default()
    });
    let env = TestEnv::new();
    round_trip(&fx, &env, &[], "");
    let exchange = &fx.requests_to(Endpoint::Token)[0];
    assert!(
        exchange.form("client_secret").is_some(),
        "post auth puts the secret in the body"
    );
}

#[test]
fn a_second_login_reuses_the_registration() {
    let fx = Fixture::new(Variant::PrmPathForm);
    let env = TestEnv::new();
    env.add_server("demo", &fx.mcp_url());
    for _ in 0..2 {
        let out = env.run(&["login", "demo"]);
        assert_eq!(out.code, Some(0), "{}", out.stderr);
    }
    assert_eq!(
        fx.counters().registrations,
        1,
        "the registration is kept per issuer"
    );
}

#[test]
fn renaming_a_server_keeps_the_grant() {
    // Grants are keyed by resource, issuer and client: the config name is only an alias.
    let fx = Fixture::new(Variant::PrmPathForm);
    let env = TestEnv::new();
    env.add_server("demo", &fx.mcp_url());
    assert_eq!(env.run(&["login", "demo"]).code, Some(0));
    env.write_mcp_json(&serde_json::json!({"mcpServers": {"renamed": {
        "type": "http", "url": fx.mcp_url(), "headers": {"X-Unrelated": "1"}
    }}}));
    let out = env.run(&["token", "renamed"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(fx.access_token_valid(out.stdout.trim()));
}

#[test]
fn a_url_works_where_a_name_does() {
    let fx = Fixture::new(Variant::PrmPathForm);
    let env = TestEnv::new();
    let url = fx.mcp_url();
    assert_eq!(env.run(&["login", &url]).code, Some(0));
    let out = env.run(&["token", &url]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(fx.access_token_valid(out.stdout.trim()));
}

#[test]
fn two_accounts_on_one_server() {
    let fx = Fixture::new(Variant::PrmPathForm);
    let env = TestEnv::new();
    env.add_server("demo", &fx.mcp_url());
    assert_eq!(env.run(&["login", "demo"]).code, Some(0));
    assert_eq!(
        env.run(&["login", "demo", "--account", "work"]).code,
        Some(0)
    );
    let a = env.run(&["token", "demo"]).stdout;
    let b = env.run(&["token", "demo", "--account", "work"]).stdout;
    assert_ne!(a, b);
    assert!(fx.access_token_valid(a.trim()) && fx.access_token_valid(b.trim()));
    assert_eq!(
        env.run(&["logout", "demo", "--account", "work"]).code,
        Some(0)
    );
    assert!(
        fx.access_token_valid(a.trim()),
        "the other account stays signed in"
    );
}

// Browsers on macOS and Windows live under paths with spaces ("Google Chrome.app",
// "Program Files"): MCPAUTH_BROWSER takes such a path as it is, or quoted with arguments.
#[test]
fn a_browser_command_with_spaces_in_its_path_is_run() {
    let fx = Fixture::start(Knobs::default());
    let mut env = TestEnv::new();
    env.add_server("demo", &fx.mcp_url());
    let dir = tempfile::tempdir().unwrap();
    let apps = dir.path().join("My Browsers");
    std::fs::create_dir(&apps).unwrap();
    let browser = apps.join("Fake Browser");
    let curl = env.browser_command();
    // It takes the URL, the last argument, as curl would.
    let script = format!("#!/bin/sh\nfor url; do :; done\nexec {curl} \"$url\"\n");
    std::fs::write(&browser, script).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&browser, std::fs::Permissions::from_mode(0o755)).unwrap();

    let path = browser.display().to_string();
    for command in [path.clone(), format!("'{path}' --new-window")] {
        env.env("MCPAUTH_BROWSER", &command);
        let out = env.run(&["login", "demo"]);
        assert_eq!(out.code, Some(0), "{command}: {}", out.stderr);
        assert!(out.stderr.contains("Signed in to `demo`"), "{}", out.stderr);
    }
    env.env("MCPAUTH_BROWSER", "'unclosed --new-window");
    let out = env.run(&["login", "demo"]);
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    assert!(
        out.stderr.contains("a quote is not closed"),
        "{}",
        out.stderr
    );
}
