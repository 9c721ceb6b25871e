//! DPoP-bound tokens (RFC 9449, SEP-1932) against a certified OpenID provider with its
//! DPoP feature on (tests/peers/dpop.mjs), which verifies the proofs of every token
//! request and demands its own nonces, in front of an MCP server that verifies every
//! part of every proof, `ath` and its own rotating nonces included, and refuses replays.

use std::time::Duration;

use serde_json::{Value, json};

use crate::oidc::{Peer, chromium};
use crate::proxy_cli::{Host, echo, echo_through_proxy};
use crate::support::TestEnv;
use crate::support::cli::RunOutput;
use crate::support::http::{loopback_get, loopback_post};
use age::secrecy::ExposeSecret as _;

fn ok(out: RunOutput) -> RunOutput {
    assert_eq!(out.code, Some(0), "{}\n{}", out.stdout, out.stderr);
    out
}

fn stats(peer: &Peer) -> Value {
    let (status, body) = loopback_get(&peer.at("/stats")).unwrap();
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

fn refused(peer: &Peer, reason: &str) -> u64 {
    stats(peer)["refused"][reason].as_u64().unwrap_or(0)
}

// Symptom to avoid: a token the server bound to a key sent as a bearer token (refused),
// a proof without the server's new nonce failing the call, or one refused proof ending
// the session.
#[test]
fn dpop_bound_tokens_are_proven_on_every_request_through_nonces_refusals_and_a_refresh() {
    let peer = Peer::start(
        "dpop.mjs",
        &["--access-ttl", "3600", "--rs-nonce-every", "3"],
    );
    let mcp = peer.at("/mcp");
    let env = chromium("");
    env.add_server("bound", &mcp);
    let mut outputs = Vec::new();

    // The provider verified a proof on the token request, after asking for its nonce.
    outputs.push(ok(env.run(&["login", "bound"])));
    let at_token = stats(&peer)["token_endpoint"].clone();
    assert!(
        at_token["nonce_challenges"].as_u64() >= Some(1),
        "{at_token}"
    );
    assert_eq!(at_token["issued"]["DPoP"], json!(1), "{at_token}");
    let status = ok(env.run(&["status", "--json"]));
    let rows: Value = serde_json::from_str(&status.stdout).unwrap();
    assert_eq!(rows[0]["dpop"], json!(true), "{rows}");
    outputs.push(status);

    // A bare token is of no use, and mcpauth says why instead of printing it.
    let out = env.run(&["token", "bound"]);
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(
        out.stderr.contains("bound to a key (DPoP)"),
        "{}",
        out.stderr
    );
    outputs.push(out);

    // Through the proxy: every request proven, the server's nonce followed as it
    // rotates every third request, one key throughout.
    let mut host = Host::start(&env, &["proxy", "bound", "--login", "never"]);
    assert!(host.initialize().get("result").is_some());
    for i in 0..12 {
        let text = format!("call {i}");
        let answer = echo(&mut host, &text);
        assert_eq!(
            answer["result"]["content"][0]["text"],
            json!(text),
            "{answer}"
        );
    }
    let seen = stats(&peer);
    assert!(seen["verified"].as_u64() >= Some(14), "{seen}");
    assert_eq!(
        seen["seen_jkts"].as_array().map(Vec::len),
        Some(1),
        "{seen}"
    );
    for reason in [
        "bearer_scheme",
        "ath_mismatch",
        "htu_mismatch",
        "htm_mismatch",
        "replayed",
    ] {
        assert_eq!(refused(&peer, reason), 0, "{reason}: {seen}");
    }

    // A proof the server takes for a replay is answered with a fresh one.
    let (status, _, body) =
        loopback_post(&format!("{}/replay-next", peer.at("/control")), &[], "").unwrap();
    assert_eq!(status, 200, "{body}");
    let answer = echo(&mut host, "after a refused proof");
    assert_eq!(
        answer["result"]["content"][0]["text"],
        json!("after a refused proof"),
        "{answer}"
    );
    assert_eq!(refused(&peer, "replay_forced"), 1);

    // And the server does refuse a replay: the headers of one request, sent twice.
    let out = ok(env.run(&["headers", "bound", "--method", "POST", "--url", &mcp]));
    let headers: Value = serde_json::from_str(&out.stdout).unwrap();
    assert!(
        headers["Authorization"]
            .as_str()
            .unwrap()
            .starts_with("DPoP "),
        "{headers}"
    );
    let sent = [
        ("Authorization", headers["Authorization"].as_str().unwrap()),
        ("DPoP", headers["DPoP"].as_str().unwrap()),
        ("Accept", "application/json, text/event-stream"),
    ];
    let ping = r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#;
    let replays_before = refused(&peer, "replayed");
    let mut answers = Vec::new();
    for _ in 0..2 {
        let (status, head, _) = loopback_post(&mcp, &sent, ping).unwrap();
        answers.push((status, head));
    }
    assert_eq!(answers[1].0, 401, "a replayed proof was taken: {answers:?}");
    assert!(answers[1].1.contains("invalid_dpop_proof"), "{answers:?}");
    assert_eq!(refused(&peer, "replayed"), replays_before + 1);
    let out = env.run(&["headers", "bound"]);
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(out.stderr.contains("--url"), "{}", out.stderr);

    // A refresh proves the same key (the provider bound the refresh token to it), and
    // a proxy started later (its clock past the expiry) goes on with the new token.
    assert_eq!(host.finish(), Some(0));
    env.let_time_pass(Duration::from_secs(2 * 3600));
    let mut host = Host::start(&env, &["proxy", "bound", "--login", "never"]);
    assert!(host.initialize().get("result").is_some());
    let answer = echo(&mut host, "after a refresh");
    assert_eq!(
        answer["result"]["content"][0]["text"],
        json!("after a refresh"),
        "{answer}"
    );
    assert_eq!(host.finish(), Some(0));
    let seen = stats(&peer);
    assert_eq!(
        seen["token_endpoint"]["issued"]["DPoP"],
        json!(2),
        "no refresh: {seen}"
    );
    assert_eq!(
        seen["seen_jkts"].as_array().map(Vec::len),
        Some(1),
        "{seen}"
    );

    // The private key is never shown.
    for out in &outputs {
        assert!(
            !out.all_output().contains("PRIVATE KEY"),
            "{}",
            out.all_output()
        );
    }
}

/// `mcpauth export bound EXTRA` from `laptop` for the age identity, imported on a new
/// host, which is returned.
fn carried_over(laptop: &TestEnv, extra: &[&str]) -> TestEnv {
    let identity = age::x25519::Identity::generate();
    let recipient = identity.to_public().to_string();
    let mut args = vec!["export", "bound", "--recipient", &recipient];
    args.extend_from_slice(extra);
    let out = ok(laptop.run(&args));
    assert!(!out.all_output().contains("PRIVATE KEY"));
    let server = TestEnv::new();
    let key_file = server.home().join("key.txt");
    std::fs::create_dir_all(server.home()).unwrap();
    std::fs::write(&key_file, identity.to_string().expose_secret()).unwrap();
    let bundle = server.home().join("bundle.age");
    std::fs::write(&bundle, out.stdout.as_bytes()).unwrap();
    let out = ok(server.run(&[
        "import",
        bundle.to_str().unwrap(),
        "--identity",
        key_file.to_str().unwrap(),
    ]));
    assert!(!out.all_output().contains("PRIVATE KEY"));
    server
}

// Symptom to avoid: a grant carried to a server without its key (every call refused
// there), or two hosts proving one key, so that neither can be told apart or revoked
// alone.
#[test]
fn an_exported_dpop_grant_carries_its_key_and_a_fresh_one_gets_its_own() {
    let peer = Peer::start("dpop.mjs", &[]);
    let laptop = chromium("");
    laptop.add_server("bound", &peer.at("/mcp"));
    ok(laptop.run(&["login", "bound"]));
    echo_through_proxy(&laptop, "bound", "on the laptop");
    let keys = |peer: &Peer| stats(peer)["seen_jkts"].as_array().unwrap().len();
    assert_eq!(keys(&peer), 1);

    // A fresh grant for the server (approved in the browser here) has a key of its own.
    let fresh = carried_over(&laptop, &[]);
    echo_through_proxy(&fresh, "bound", "on the server");
    assert_eq!(keys(&peer), 2);

    // `--copy` shares the laptop's grant, key and all.
    let copied = carried_over(&laptop, &["--copy"]);
    echo_through_proxy(&copied, "bound", "on a copy");
    echo_through_proxy(&laptop, "bound", "on the laptop again");
    assert_eq!(keys(&peer), 2);
}
