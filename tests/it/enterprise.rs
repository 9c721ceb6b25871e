//! Enterprise-managed authorization (SEP-990) against real software on both sides
//! (tests/peers/enterprise.mjs): a certified OpenID provider as the company's identity
//! provider, whose RFC 8693 token exchange issues ID-JAGs for the servers the company
//! allows, and a second one as the MCP servers' authorization server, whose jwt-bearer
//! grant takes only ID-JAGs signed by the first. The person signs in once, in Chromium;
//! every server after that needs no browser.

use std::time::Duration;

use serde_json::{Value, json};

use crate::oidc::{Peer, chromium};
use crate::proxy_cli::{Host, echo};
use crate::support::TestEnv;
use crate::support::cli::RunOutput;
use crate::support::http::loopback_get;

const CLIENT_SECRET: &str = "enterprise-secret";

fn ok(out: RunOutput) -> RunOutput {
    assert_eq!(out.code, Some(0), "{}\n{}", out.stdout, out.stderr);
    out
}

fn stats(url: &str) -> Value {
    let (status, body) = loopback_get(url).unwrap();
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

/// How many ID-JAGs the provider issued for `server`, and how many the authorization
/// server took for it.
fn exchanges(company: &Peer, server: &str) -> (u64, u64) {
    let resource = company.at(&format!("/mcp/{server}"));
    let idp = stats(&company.at("/idp_stats"));
    let at_as = stats(&company.at("/as_stats"));
    (
        idp["exchanges"][&resource].as_u64().unwrap_or(0),
        at_as["grants"][&resource].as_u64().unwrap_or(0),
    )
}

/// A home whose config names the company's identity provider `acme` and its three MCP
/// servers (with mcpauth's client at their authorization server), signed in to `acme`
/// in Chromium. After that there is no browser, and no desktop to open one on.
fn signed_in_to_the_company(company: &Peer) -> TestEnv {
    let mut env = chromium("");
    let config = env.home().join("config");
    std::fs::create_dir_all(&config).unwrap();
    std::fs::write(
        config.join("identity-providers.json"),
        json!({ "acme": { "issuer": company.at("/idp"), "clientId": company.at("/idp_client_id") } })
            .to_string(),
    )
    .unwrap();
    for server in ["a", "b", "denied"] {
        env.add_server_entry(
            server,
            json!({
                "type": "http",
                "url": company.at(&format!("/mcp/{server}")),
                "oauth": { "clientId": company.at("/client_id") },
            }),
        );
    }
    let out = ok(env.run(&["idp", "login"]));
    assert!(
        out.stderr.contains("Signed in to `idp:acme`"),
        "{}",
        out.stderr
    );
    assert_eq!(stats(&company.at("/idp_stats"))["sign_ins"], json!(1));
    env.env("MCPAUTH_BROWSER", "");
    env
}

// Symptom to avoid: each MCP server asking the person to sign in again in the browser,
// although the company's identity provider already speaks for them; a server the
// company forbids looking like a sign-in to retry.
#[test]
fn one_sign_in_to_the_company_signs_in_to_every_allowed_server_without_a_browser() {
    let company = Peer::start("enterprise.mjs", &[]);
    let env = signed_in_to_the_company(&company);
    let mut outputs = Vec::new();

    // The first server: mcpauth's client secret at the authorization server, once.
    let out = ok(env.run_with_stdin(
        &["login", "a", "--client-secret"],
        &format!("{CLIENT_SECRET}\n"),
    ));
    assert!(
        out.stderr
            .contains("through your company's identity provider"),
        "{}",
        out.stderr
    );
    outputs.push(out);
    assert_eq!(exchanges(&company, "a"), (1, 1));

    // The second needs nothing more: the proxy signs in by itself, on a machine with no
    // browser.
    let mut host = Host::start(&env, &["proxy", "b"]);
    assert!(host.initialize().get("result").is_some());
    let answer = echo(&mut host, "through the company");
    assert_eq!(
        answer["result"]["content"][0]["text"],
        json!("through the company"),
        "{answer}"
    );
    assert_eq!(host.finish(), Some(0));
    assert_eq!(exchanges(&company, "b"), (1, 1));
    assert_eq!(
        stats(&company.at("/idp_stats"))["sign_ins"],
        json!(1),
        "a browser sign-in happened again"
    );

    // The company does not allow the third: that is its policy, not a sign-in to retry,
    // and nothing is stored.
    let out = env.run(&["login", "denied"]);
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    assert!(
        out.stderr.contains("does not allow `denied`"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("company's policy"), "{}", out.stderr);
    outputs.push(out);
    assert_eq!(env.run(&["token", "denied"]).code, Some(4));
    assert_eq!(exchanges(&company, "denied"), (0, 0));

    // `status` says which grants come from the identity provider.
    let status = ok(env.run(&["status", "--json"]));
    let rows: Vec<Value> = serde_json::from_str(&status.stdout).unwrap();
    let row = |name: &str| rows.iter().find(|r| r["server"] == json!(name)).cloned();
    for server in ["a", "b"] {
        let r = row(server).unwrap_or_else(|| panic!("no row for {server}: {rows:?}"));
        assert_eq!(r["renewal"], json!("identity_provider"), "{r}");
        assert_eq!(r["identity_provider"], json!("acme"), "{r}");
    }
    let idp = row("idp:acme").unwrap_or_else(|| panic!("no row for the sign-in: {rows:?}"));
    assert_eq!(idp["renewal"], json!("refresh_token"), "{idp}");
    outputs.push(status);

    // Ending the sign-in ends every grant that came from it.
    let tokens: Vec<String> = ["a", "b"]
        .iter()
        .map(|s| ok(env.run(&["token", s])).stdout.trim().to_owned())
        .collect();
    let out = ok(env.run(&["idp", "logout"]));
    assert!(
        out.stderr.contains("Signed out of `idp:acme`"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("`a`") && out.stderr.contains("`b`"),
        "{}",
        out.stderr
    );
    outputs.push(out);
    for server in ["a", "b"] {
        assert_eq!(
            env.run(&["token", server]).code,
            Some(4),
            "{server} outlived the sign-in"
        );
    }

    let mut secrets = tokens;
    secrets.push(CLIENT_SECRET.to_owned());
    for out in &outputs {
        out.assert_no_secret(&secrets);
    }
}

// Symptom to avoid: every process that finds the token expired running its own
// exchange (an identity provider rate-limits them), or an ID token gone stale at the
// provider failing the exchange instead of being refreshed first.
#[test]
fn each_expiry_exchanges_once_across_processes_and_refreshes_a_stale_id_token_first() {
    let company = Peer::start(
        "enterprise.mjs",
        &["--access-ttl", "3600", "--id-token-ttl", "86400"],
    );
    let env = signed_in_to_the_company(&company);
    let first = ok(env.run_with_stdin(
        &["login", "a", "--client-secret"],
        &format!("{CLIENT_SECRET}\n"),
    ));
    drop(first);
    let mut last = ok(env.run(&["token", "a"])).stdout;
    assert_eq!(exchanges(&company, "a"), (1, 1));

    // Three processes at once, after the access token (not the ID token) expired, and
    // then after both did: one exchange each time, and one refresh at the provider the
    // second time.
    for (passed, expected_exchanges, expected_refreshes) in [
        (Duration::from_secs(2 * 3600), 2, 0),
        (Duration::from_secs(2 * 86400), 3, 1),
    ] {
        env.let_time_pass(passed);
        let runs: Vec<RunOutput> = std::thread::scope(|s| {
            let runs: Vec<_> = (0..3)
                .map(|_| s.spawn(|| env.run(&["token", "a"])))
                .collect();
            runs.into_iter().map(|r| ok(r.join().unwrap())).collect()
        });
        assert!(
            runs.iter().all(|r| r.stdout == runs[0].stdout),
            "the processes got different tokens"
        );
        assert_ne!(runs[0].stdout, last, "the token was not renewed");
        last = runs[0].stdout.clone();
        assert_eq!(
            exchanges(&company, "a"),
            (expected_exchanges, expected_exchanges),
            "not one exchange for one expiry"
        );
        assert_eq!(
            stats(&company.at("/idp_stats"))["refreshes"],
            json!(expected_refreshes)
        );
    }
    // The renewed token works at the server.
    let mut host = Host::start(&env, &["proxy", "a", "--login", "never"]);
    assert!(host.initialize().get("result").is_some());
    let answer = echo(&mut host, "renewed");
    assert_eq!(
        answer["result"]["content"][0]["text"],
        json!("renewed"),
        "{answer}"
    );
    assert_eq!(host.finish(), Some(0));
}

// Symptom to avoid: an MCP client that starts the proxy with a short environment and no
// desktop getting "needs a login" for a server the company's identity provider could
// have signed in to without anyone.
#[test]
fn claude_code_reaches_a_new_server_through_the_company_sign_in() {
    let company = Peer::start("enterprise.mjs", &[]);
    let user_home = tempfile::tempdir().unwrap();
    let mut env = signed_in_to_the_company(&company);
    env.env("HOME", user_home.path().to_str().unwrap());
    // mcpauth's client at the servers' authorization server, set up once.
    ok(env.run_with_stdin(
        &["login", "a", "--client-secret"],
        &format!("{CLIENT_SECRET}\n"),
    ));

    let entry = |server: &str| {
        json!({"type": "http", "url": company.at(&format!("/mcp/{server}")),
               "oauth": {"clientId": company.at("/client_id")}})
    };
    std::fs::write(
        user_home.path().join(".claude.json"),
        json!({"mcpServers": {"b": entry("b")}}).to_string(),
    )
    .unwrap();
    ok(env.run(&["install", "claude-code", "--scope", "user", "b"]));

    // The proxy Claude Code starts has no browser and no desktop; its entry carries
    // MCPAUTH_HOME.
    let out = crate::claude_code::mcp_list(user_home.path(), None);
    crate::claude_code::assert_connected(&out, "b");
    assert_eq!(exchanges(&company, "b"), (1, 1));
    assert_eq!(stats(&company.at("/idp_stats"))["sign_ins"], json!(1));
}

// Symptom to avoid: a company that hands out one environment variable (a CI image, a
// managed shell profile) still having every person write a config file.
#[test]
fn the_identity_provider_can_come_from_the_environment_alone() {
    let company = Peer::start("enterprise.mjs", &[]);
    let mut env = chromium("");
    env.env("MCPAUTH_IDP", &company.at("/idp"));
    env.env("MCPAUTH_IDP_CLIENT_ID", &company.at("/idp_client_id"));
    env.add_server_entry(
        "a",
        json!({"type": "http", "url": company.at("/mcp/a"),
               "oauth": {"clientId": company.at("/client_id")}}),
    );
    let out = ok(env.run(&["idp", "login"]));
    assert!(
        out.stderr.contains("Signed in to `idp:127.0.0.1`"),
        "{}",
        out.stderr
    );
    env.env("MCPAUTH_BROWSER", "");
    ok(env.run_with_stdin(
        &["login", "a", "--client-secret"],
        &format!("{CLIENT_SECRET}\n"),
    ));
    assert_eq!(exchanges(&company, "a"), (1, 1));

    // Without it, and with nothing configured, the command says where a provider comes
    // from.
    let bare = TestEnv::new();
    let out = bare.run(&["idp", "login"]);
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(
        out.stderr.contains("--issuer") && out.stderr.contains("MCPAUTH_IDP"),
        "{}",
        out.stderr
    );
}
