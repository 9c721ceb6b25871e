//! Keeping the grant fresh: one refresh per expiry across processes, transient failures
//! that delete nothing, and a dead grant that says to log in again.

use std::time::Duration;

use crate::support::{Fixture, Knobs, TestEnv, TransientFailure};

pub(crate) fn signed_in(knobs: Knobs) -> (Fixture, TestEnv) {
    let fx = Fixture::start(knobs);
    let env = TestEnv::new();
    env.add_server("demo", &fx.mcp_url());
    let out = env.run(&["login", "demo"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    (fx, env)
}

/// Waits (bounded) until a token issued with a `ttl` lifetime is stale for mcpauth.
fn let_expire(ttl: Duration) {
    std::thread::sleep(ttl + Duration::from_millis(300));
}

#[test]
fn eight_processes_on_an_expired_token_refresh_once() {
    let ttl = Duration::from_secs(2);
    let (fx, env) = signed_in(Knobs {
        access_token_ttl: ttl,
        rotate_refresh_tokens: true,
        ..Knobs::default()
    });
    let first = env.run(&["token", "demo"]).stdout;
    let_expire(ttl);
    assert!(!fx.access_token_valid(first.trim()));
    let before = fx.counters().refresh_requests;
    // The refreshed token must stay fresh while eight processes take the lock in turn,
    // however slowly a loaded machine runs them: 8 s, of which 6 s before its margin.
    let refreshed_ttl = Duration::from_secs(8);
    fx.update(|k| k.access_token_ttl = refreshed_ttl);

    // Start all eight before waiting on any.
    let children: Vec<_> = (0..8)
        .map(|_| {
            let mut cmd = env.command(&["token", "demo"]);
            cmd.stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped());
            cmd.spawn().expect("spawn mcpauth token")
        })
        .collect();
    let outputs: Vec<_> = children
        .into_iter()
        .map(|c| c.wait_with_output().expect("wait for mcpauth token"))
        .collect();
    for o in &outputs {
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let tokens: Vec<String> = outputs
        .iter()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .collect();
    assert_eq!(
        fx.counters().refresh_requests - before,
        1,
        "exactly one refresh must reach the server"
    );
    assert!(
        tokens.iter().all(|t| t == &tokens[0]),
        "all eight print the same token"
    );
    assert_ne!(tokens[0], first.trim());
    assert!(fx.access_token_valid(&tokens[0]));

    // The rotated refresh token was kept: the grant still refreshes afterwards.
    let_expire(refreshed_ttl);
    let out = env.run(&["token", "demo"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(fx.access_token_valid(out.stdout.trim()));
    assert_eq!(fx.counters().refresh_requests - before, 2);
}

#[test]
fn a_valid_token_is_not_refreshed() {
    let (fx, env) = signed_in(Knobs::default());
    for _ in 0..3 {
        assert_eq!(env.run(&["token", "demo"]).code, Some(0));
    }
    assert_eq!(fx.counters().refresh_requests, 0);
}

#[test]
fn transient_failures_are_retried_and_delete_nothing() {
    let ttl = Duration::from_secs(2);
    for failure in [
        TransientFailure::ServiceUnavailable,
        TransientFailure::TemporarilyUnavailable,
    ] {
        let (fx, mut env) = signed_in(Knobs {
            access_token_ttl: ttl,
            ..Knobs::default()
        });
        env.env("MCPAUTH_REFRESH_TIMEOUT", "3");
        let_expire(ttl);
        // Failing for longer than the refresh deadline: the call fails, the grant survives.
        fx.update(|k| {
            k.transient_failure = failure;
            k.transient_count = 1000;
        });
        let out = env.run(&["token", "demo"]);
        assert_eq!(out.code, Some(1), "{failure:?}: {}", out.stderr);
        assert!(
            out.stderr.contains("cannot refresh the token for `demo`"),
            "{}",
            out.stderr
        );
        assert!(
            !out.stderr.contains("hint: run `mcpauth login"),
            "{}",
            out.stderr
        );
        // Two failures, then an answer, within the deadline: the call succeeds.
        fx.update(|k| k.transient_count = 2);
        let out = env.run(&["token", "demo"]);
        assert_eq!(out.code, Some(0), "{failure:?}: {}", out.stderr);
        assert!(fx.access_token_valid(out.stdout.trim()));
    }
}

#[test]
fn invalid_grant_exits_4_with_a_hint() {
    let ttl = Duration::from_secs(2);
    let (fx, env) = signed_in(Knobs {
        access_token_ttl: ttl,
        ..Knobs::default()
    });
    assert_eq!(env.run(&["token", "demo"]).code, Some(0));
    let_expire(ttl);
    // The authorization server forgets the grant (an admin revoked it).
    fx.revoke_refresh_tokens();
    let out = env.run(&["token", "demo"]);
    assert_eq!(out.code, Some(4), "{}", out.stderr);
    assert!(
        out.stderr.contains("hint: run `mcpauth login demo`"),
        "{}",
        out.stderr
    );
    let status = env.run(&["status", "--json"]).stdout;
    assert!(status.contains("\"needs_login\""), "{status}");
    // The record is kept (nothing lost) and a new login replaces it.
    let out = env.run(&["login", "demo"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(env.run(&["token", "demo"]).code, Some(0));
}
