//! Sign-ins that would go somewhere the MCP server never pointed at (issue 14, hole 4):
//! a project file pinning the authorization server metadata on another origin, and a
//! bundle whose token or revocation endpoint is not its issuer's.

use std::sync::{Arc, Mutex};

use crate::support::http::{Incoming, Listener, Reply, loopback_get};
use crate::support::{Fixture, Knobs, TestEnv};

/// A server on its own port that serves `metadata` at `/pinned.json` and records every
/// request path it gets.
fn metadata_elsewhere(metadata: String) -> (Listener, Arc<Mutex<Vec<String>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    let listener = Listener::start(move |r: &Incoming| {
        log.lock().unwrap().push(format!("{} {}", r.method, r.path));
        match r.path.as_str() {
            "/pinned.json" => Reply::empty(200)
                .header("Content-Type", "application/json")
                .body(metadata.clone()),
            _ => Reply::empty(404),
        }
    });
    (listener, seen)
}

fn pin(env: &TestEnv, fx: &Fixture, url: &str) {
    env.add_server_entry(
        "demo",
        serde_json::json!({
            "type": "http",
            "url": fx.mcp_url(),
            "oauth": { "authServerMetadataUrl": url },
        }),
    );
}

#[test]
fn a_project_pin_on_another_origin_needs_the_persons_yes() {
    // Symptom: a cloned repository's `.mcp.json` pinned `authServerMetadataUrl` on
    // another origin, and the browser and the code exchange silently went there.
    let fx = Fixture::start(Knobs::default());
    let (status, metadata) = loopback_get(&fx.server_metadata_url().unwrap()).unwrap();
    assert_eq!(status, 200);
    let (elsewhere, seen) = metadata_elsewhere(metadata);
    let pinned = format!("{}/pinned.json", elsewhere.origin());
    let env = TestEnv::new();
    pin(&env, &fx, &pinned);

    // Nobody to ask: refused before any registration or browser.
    let out = env.run(&["login", "demo"]);
    assert_eq!(out.code, Some(1), "{out:?}");
    assert!(
        out.stderr
            .contains("pins the authorization server metadata at")
            && out.stderr.contains(&pinned)
            && out.stderr.contains(&fx.issuer()),
        "the refusal shows both origins: {}",
        out.stderr
    );
    assert!(
        out.stderr.contains("--allow-pinned-metadata"),
        "{}",
        out.stderr
    );
    assert_eq!(fx.counters().registrations, 0);
    assert_eq!(fx.counters().authorize_requests, 0);
    assert!(env.browser_page().is_none(), "no browser was opened");
    assert_eq!(*seen.lock().unwrap(), ["GET /pinned.json"]);

    // The flag is the person's yes: shown, signed in, and remembered for this file.
    let out = env.run(&["login", "demo", "--allow-pinned-metadata"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(
        out.stderr.contains("as --allow-pinned-metadata says"),
        "{}",
        out.stderr
    );
    let out = env.run(&["login", "demo"]);
    assert_eq!(out.code, Some(0), "asked once per file: {}", out.stderr);
    let remembered = env.home().join("data").join("confirmed-pins.json");
    assert!(crate::support::cli::is_private_file(&remembered));

    // The same file pinning somewhere else is asked about again.
    pin(&env, &fx, &format!("{pinned}?moved=1"));
    let out = env.run(&["login", "demo"]);
    assert_eq!(out.code, Some(1), "{out:?}");
    assert!(
        out.stderr
            .contains("pins the authorization server metadata"),
        "{}",
        out.stderr
    );

    // A URL the person gives on the command line is their own choice.
    let out = env.run(&["login", "demo", "--auth-server-metadata-url", &pinned]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
}

#[test]
fn a_project_pin_on_the_servers_own_authorization_server_is_not_questioned() {
    // Symptom guarded: pinning where the server points (providers without discovery at
    // the standard paths) must keep working without a prompt.
    let fx = Fixture::start(Knobs::variant(crate::support::Variant::PinnedMetadataUrl));
    let env = TestEnv::new();
    pin(&env, &fx, &fx.server_metadata_url().unwrap());
    let out = env.run(&["login", "demo"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(!out.stderr.contains("pins"), "{}", out.stderr);
}

#[test]
fn a_bundle_endpoint_off_its_issuer_is_refused() {
    // Symptom: an imported bundle could name any token or revocation endpoint, which
    // then received its refresh token and client secret.
    use mcpauth::bundle;

    let fx = Fixture::start(Knobs::default());
    let exported = crate::support::bundles::Exported::from_laptop(&fx);
    let thief = Arc::new(Mutex::new(Vec::<String>::new()));
    let log = Arc::clone(&thief);
    let elsewhere = Listener::start(move |r: &Incoming| {
        log.lock().unwrap().push(format!("{} {}", r.method, r.path));
        Reply::empty(404)
    });
    let server = TestEnv::new();
    let import = |edit: &dyn Fn(&mut bundle::Bundle)| exported.import_edited(&server, edit);

    for what in ["token endpoint", "revocation endpoint"] {
        let foreign = format!("{}/steal", elsewhere.origin());
        let out = import(&|b| {
            let g = &mut b.grants[0].grant;
            match what {
                "token endpoint" => g.token_endpoint = foreign.clone(),
                _ => g.revocation_endpoint = Some(foreign.clone()),
            }
        });
        assert_eq!(out.code, Some(1), "{out:?}");
        assert!(
            out.stderr.contains(&format!("the {what} `{foreign}`")),
            "{}",
            out.stderr
        );
        assert_eq!(grants_held(&server), 0, "nothing was imported");
    }
    assert!(
        thief.lock().unwrap().is_empty(),
        "{:?}",
        thief.lock().unwrap()
    );

    // An endpoint on another host is fine when the issuer's own metadata names it (as
    // Google's does): re-discovered, and only then accepted.
    let token_host = format!("{}/token", elsewhere.origin());
    let named = token_host.clone();
    let issuer = Listener::start(move |r: &Incoming| {
        let origin = format!("http://{}", r.header("host").unwrap_or_default());
        match r.path.as_str() {
            "/.well-known/oauth-authorization-server" => Reply::json(
                200,
                &serde_json::json!({
                    "issuer": origin,
                    "authorization_endpoint": format!("{origin}/authorize"),
                    "token_endpoint": named,
                    "code_challenge_methods_supported": ["S256"],
                }),
            ),
            _ => Reply::empty(404),
        }
    });
    let move_to = |b: &mut bundle::Bundle, token_endpoint: &str| {
        let g = &mut b.grants[0];
        g.grant.key.issuer = issuer.origin();
        g.grant.id = g.grant.key.id();
        g.grant.token_endpoint = token_endpoint.to_owned();
        g.grant.revocation_endpoint = None;
        g.client.issuer = issuer.origin();
    };
    let out = import(&|b| move_to(b, &format!("{}/other", elsewhere.origin())));
    assert_eq!(out.code, Some(1), "not what the metadata names: {out:?}");
    assert_eq!(grants_held(&server), 0);
    let out = import(&|b| move_to(b, &token_host));
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(grants_held(&server), 1);
    assert!(
        thief.lock().unwrap().is_empty(),
        "{:?}",
        thief.lock().unwrap()
    );
}

/// How many grants the index under `env`'s home holds.
fn grants_held(env: &TestEnv) -> usize {
    let path = env.home().join("data").join("grants.json");
    std::fs::read(&path)
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .and_then(|v| v["grants"].as_array().map(Vec::len))
        .unwrap_or(0)
}
