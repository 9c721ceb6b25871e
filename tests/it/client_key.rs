//! `private_key_jwt` clients (RFC 7523): every token request of every grant carries an
//! assertion signed with the client's key, and the key itself never leaves the machine.

use std::time::Duration;

use crate::support::keys::p256_pair;
use crate::support::{Endpoint, Fixture, Knobs, Recorded, TestEnv};

const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// The PEM's base64 body lines: enough to spot the key in any encoding a request might
/// have given it (form-urlencoded, inside Basic).
fn key_lines(pem: &str) -> Vec<String> {
    pem.lines()
        .filter(|l| !l.starts_with("-----") && l.len() > 16)
        .map(str::to_owned)
        .collect()
}

/// A request that authenticated with an assertion and with nothing else.
fn assert_signed(r: &Recorded, pem: &str) {
    assert_eq!(r.status, 200, "{:?}: {:?}", r.endpoint, r.refusal);
    assert_eq!(r.header("authorization"), None, "no Basic credentials");
    assert_eq!(r.form("client_secret"), None);
    assert_eq!(r.form("client_assertion_type").as_deref(), Some(JWT_BEARER));
    assert!(r.form("client_assertion").is_some());
    let raw = format!("{:?}", r.request);
    let decoded_basic = url::form_urlencoded::parse(raw.as_bytes())
        .map(|(k, v)| format!("{k}{v}"))
        .collect::<String>();
    for line in key_lines(pem) {
        assert!(
            !raw.contains(&line) && !decoded_basic.contains(&line),
            "the private key travelled in a request to {:?}",
            r.endpoint
        );
    }
}

fn key_file(env: &TestEnv, pem: &str) -> String {
    let path = env.home().join("client-key.pem");
    std::fs::write(&path, pem).unwrap();
    path.to_str().unwrap().to_owned()
}

#[test]
fn private_key_jwt_login_never_sends_the_key_as_a_client_secret() {
    // Symptom: `login --client-id X --client-key-file k.pem` exchanged the code and
    // refreshed with HTTP Basic, the PEM as the password.
    let fx = Fixture::start(Knobs {
        registration_endpoint: false,
        ..Knobs::default()
    });
    let (private, public) = p256_pair();
    fx.add_jwt_client("jwt-app", &public);
    let env = TestEnv::new();
    env.add_server("demo", &fx.mcp_url());
    let key = key_file(&env, &private);

    let out = env.run(&[
        "login",
        "demo",
        "--client-id",
        "jwt-app",
        "--client-key-file",
        &key,
    ]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    // Past expiry, `token` refreshes with a new assertion.
    env.let_time_pass(Duration::from_secs(3600));
    let out = env.run(&["token", "demo"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(fx.access_token_valid(out.stdout.trim()));
    let out = env.run(&["logout", "demo"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(
        out.stderr.contains("revoked at the server"),
        "{}",
        out.stderr
    );

    let token = fx.requests_to(Endpoint::Token);
    let grants: Vec<_> = token.iter().filter_map(|r| r.form("grant_type")).collect();
    assert_eq!(grants, ["authorization_code", "refresh_token"]);
    let revoke = fx.requests_to(Endpoint::Revoke);
    assert!(!revoke.is_empty());
    for r in token.iter().chain(&revoke) {
        assert_signed(r, &private);
    }
    // Each assertion is fresh: the fake refuses a `jti` it has seen.
    let assertions: std::collections::HashSet<_> = token
        .iter()
        .chain(&revoke)
        .filter_map(|r| r.form("client_assertion"))
        .collect();
    assert_eq!(assertions.len(), token.len() + revoke.len());
    // Nowhere else either, nor in what mcpauth printed.
    for r in fx.requests() {
        let raw = format!("{:?}", r.request);
        for line in key_lines(&private) {
            assert!(!raw.contains(&line), "the key went to {:?}", r.endpoint);
        }
    }
}

#[test]
fn private_key_jwt_signs_the_device_and_client_credentials_grants() {
    // Symptom: only the client credentials grant signed; then the device grant's polls
    // all carried one assertion, whose `jti` a careful server refuses the second time.
    let fx = Fixture::start(Knobs {
        registration_endpoint: false,
        device_interval_secs: 1,
        ..Knobs::default()
    });
    let (private, public) = p256_pair();
    fx.add_jwt_client("jwt-app", &public);
    let env = TestEnv::new();
    env.add_server("demo", &fx.mcp_url());
    let key = key_file(&env, &private);

    // Approved only after a first poll, so at least two polls carry assertions.
    let out = std::thread::scope(|scope| {
        let login = scope.spawn(|| {
            env.run(&[
                "login",
                "demo",
                "--device",
                "--client-id",
                "jwt-app",
                "--client-key-file",
                &key,
            ])
        });
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            let polled = fx.devices().first().filter(|d| d.polls >= 1).cloned();
            if let Some(d) = polled {
                assert!(fx.approve_device(&d.user_code));
                break;
            }
            assert!(std::time::Instant::now() < deadline, "no poll within 30 s");
            std::thread::sleep(Duration::from_millis(20));
        }
        login.join().unwrap()
    });
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let out = env.run(&[
        "login",
        "demo",
        "--client-credentials",
        "--client-id",
        "jwt-app",
        "--client-key-file",
        &key,
    ]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);

    let device = fx.requests_to(Endpoint::Device);
    assert_eq!(device.len(), 1);
    assert_signed(&device[0], &private);
    let (token, pending): (Vec<_>, Vec<_>) = fx
        .requests_to(Endpoint::Token)
        .into_iter()
        .partition(|r| r.status == 200);
    // Polls before the approval got past client authentication too.
    assert!(!pending.is_empty(), "a poll before the approval");
    for r in &pending {
        let why = r.refusal.as_deref().unwrap_or_default();
        assert!(why.starts_with("authorization_pending"), "{why}");
        assert_eq!(r.form("client_assertion_type").as_deref(), Some(JWT_BEARER));
    }
    let grants: Vec<_> = token.iter().filter_map(|r| r.form("grant_type")).collect();
    assert_eq!(
        grants,
        [
            "urn:ietf:params:oauth:grant-type:device_code",
            "client_credentials"
        ]
    );
    for r in &token {
        assert_signed(r, &private);
    }
}
