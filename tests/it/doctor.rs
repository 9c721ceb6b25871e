//! `mcpauth doctor` against the loopback fixture: a healthy server passes every check,
//! and each case the sign-in refuses shows up as its own ✗ line with what to do.

use serde_json::{Value, json};

use crate::support::{BrokenMetadata, Fixture, Knobs, ResourceMismatch, RunOutput, TestEnv};

fn doctor_json(env: &TestEnv, server: &str) -> (RunOutput, Value) {
    let out = env.run(&["doctor", server, "--json"]);
    let report: Value = serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("doctor --json printed no JSON ({e}): {out:?}"));
    (out, report)
}

fn check<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == name)
        .unwrap_or_else(|| panic!("no `{name}` check in {report:#}"))
}

#[test]
fn a_healthy_server_passes_every_check() {
    let fx = Fixture::start(Knobs::default());
    let env = TestEnv::new();
    env.add_server("demo", &fx.mcp_url());

    let (out, report) = doctor_json(&env, "demo");
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(report["ok"], true);
    assert_eq!(
        check(&report, "grant")["status"],
        "warn",
        "not signed in yet"
    );
    assert!(
        check(&report, "discovery")["detail"]
            .as_str()
            .unwrap()
            .contains(&fx.issuer())
    );

    assert_eq!(env.run(&["login", "demo"]).code, Some(0));
    let (out, report) = doctor_json(&env, "demo");
    assert_eq!(out.code, Some(0), "{out:?}");
    for c in report["checks"].as_array().unwrap() {
        assert_eq!(c["status"], "ok", "{c}");
    }
    for name in [
        "config",
        "discovery",
        "pkce",
        "registration",
        "callback",
        "grant",
        "keychain",
    ] {
        check(&report, name);
    }
    assert_eq!(
        fx.counters().registrations,
        1,
        "doctor registers nothing (the one registration is the login's)"
    );

    // The same on a terminal-less stdout, in words: ✓ lines, no colour codes.
    let text = env.run(&["doctor", "demo"]);
    assert_eq!(text.code, Some(0), "{text:?}");
    assert!(
        text.stdout.lines().all(|l| l.starts_with("✓ ")),
        "{}",
        text.stdout
    );
    assert!(!text.stdout.contains('\x1b'));
}

/// Each broken case, the check that must fail, and words its line must hold.
#[test]
fn each_refusal_of_the_sign_in_is_its_own_failed_check() {
    let cases: Vec<(&str, Knobs, &str, &str)> = vec![
        (
            "no S256",
            Knobs {
                advertise_s256: false,
                ..Knobs::default()
            },
            "pkce",
            "does not offer PKCE with S256",
        ),
        (
            "resource on another origin",
            Knobs {
                resource_mismatch: Some(ResourceMismatch::OtherOrigin),
                ..Knobs::default()
            },
            "resource",
            "which is not",
        ),
        (
            "resource on another path",
            Knobs {
                resource_mismatch: Some(ResourceMismatch::OtherPath),
                ..Knobs::default()
            },
            "resource",
            "which is not",
        ),
        (
            "issuer mismatch",
            Knobs {
                broken_metadata: Some(BrokenMetadata::IssuerMismatch),
                ..Knobs::default()
            },
            "authorization server",
            "names issuer",
        ),
        (
            "http endpoint off this machine",
            Knobs {
                broken_metadata: Some(BrokenMetadata::NonLoopbackHttpEndpoint),
                ..Knobs::default()
            },
            "https",
            "plain http is allowed only on this machine",
        ),
        (
            "malformed metadata",
            Knobs {
                broken_metadata: Some(BrokenMetadata::MalformedJson),
                ..Knobs::default()
            },
            "metadata",
            "malformed",
        ),
        (
            "no way to register",
            Knobs {
                registration_endpoint: false,
                client_id_metadata_document_supported: false,
                ..Knobs::default()
            },
            "registration",
            "offers no way for mcpauth to register",
        ),
    ];
    for (what, knobs, name, words) in cases {
        let fx = Fixture::start(knobs);
        let env = TestEnv::new();
        env.add_server("demo", &fx.mcp_url());
        let (out, report) = doctor_json(&env, "demo");
        assert_eq!(out.code, Some(1), "{what}: {out:?}");
        assert_eq!(report["ok"], false, "{what}");
        let c = check(&report, name);
        assert_eq!(c["status"], "fail", "{what}: {c}");
        assert!(c["detail"].as_str().unwrap().contains(words), "{what}: {c}");
        assert!(
            c["fix"].as_str().is_some_and(|f| !f.is_empty()),
            "{what}: no fix: {c}"
        );
        assert_eq!(fx.counters().registrations, 0, "{what}: doctor registered");
        assert_eq!(
            fx.counters().authorize_requests,
            0,
            "{what}: doctor authorized"
        );

        // In words: a ✗ line naming the check, and the fix under it.
        let text = env.run(&["doctor", "demo"]);
        let line = text
            .stdout
            .lines()
            .find(|l| l.starts_with("✗ "))
            .unwrap_or_else(|| panic!("{what}: no ✗ line in:\n{}", text.stdout));
        assert!(
            line.contains(name) && line.contains(words),
            "{what}: {line}"
        );
        assert!(text.stdout.contains("→ "), "{what}: {}", text.stdout);
    }
}

#[test]
fn config_port_grant_and_dead_server_failures() {
    // A malformed config: the file, line and column.
    let env = TestEnv::new();
    std::fs::write(
        env.project().join(".mcp.json"),
        "{\n  \"mcpServers\": {\n    \"demo\": {\"url\": \"http://127.0.0.1:9/mcp\",}\n  }\n}\n",
    )
    .unwrap();
    let (out, report) = doctor_json(&env, "demo");
    assert_eq!(out.code, Some(1), "{out:?}");
    let c = check(&report, "config");
    assert_eq!(c["status"], "fail");
    assert!(c["detail"].as_str().unwrap().contains(".mcp.json"), "{c}");

    // An unknown name lists the known ones.
    let env = TestEnv::new();
    env.add_server("notion", "http://127.0.0.1:9/mcp");
    let (_, report) = doctor_json(&env, "nope");
    assert!(
        check(&report, "config")["detail"]
            .as_str()
            .unwrap()
            .contains("notion")
    );

    // Nothing listening.
    let (out, report) = doctor_json(&env, "notion");
    assert_eq!(out.code, Some(1));
    assert_eq!(check(&report, "reachable")["status"], "fail", "{report:#}");

    // The pinned callback port is taken; and a grant the server has revoked.
    let fx = Fixture::start(Knobs::default());
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let env = TestEnv::new();
    env.add_server_entry(
        "demo",
        json!({"type": "http", "url": fx.mcp_url(), "oauth": {"callbackPort": port}}),
    );
    let (_, report) = doctor_json(&env, "demo");
    let c = check(&report, "callback");
    assert_eq!(c["status"], "fail", "{c}");
    assert!(
        c["detail"].as_str().unwrap().contains(&port.to_string()),
        "{c}"
    );
    drop(taken);

    assert_eq!(env.run(&["login", "demo"]).code, Some(0));
    fx.revoke_refresh_tokens();
    env.let_time_pass(std::time::Duration::from_secs(3600));
    let t = env.run(&["token", "demo"]);
    assert_eq!(t.code, Some(4), "{t:?}");
    let (_, report) = doctor_json(&env, "demo");
    let c = check(&report, "grant");
    assert_eq!(c["status"], "fail", "{c}");
    assert!(
        c["fix"].as_str().unwrap().contains("mcpauth login demo"),
        "{c}"
    );
}

#[test]
fn no_colour_when_no_color_is_set_or_not_a_terminal() {
    let fx = Fixture::start(Knobs {
        advertise_s256: false,
        ..Knobs::default()
    });
    let mut env = TestEnv::new();
    env.add_server("demo", &fx.mcp_url());
    env.env("NO_COLOR", "1");
    let out = env.run(&["doctor", "demo"]);
    assert!(out.stdout.contains("✗ pkce"), "{out:?}");
    assert!(!out.all_output().contains('\x1b'), "{out:?}");
}
