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

/// Moves mcpauth's clock past the expiry of every token the fixture hands out (an hour
/// by default): no sleeping, and no race with a loaded machine.
pub(crate) fn let_expire(env: &TestEnv) {
    env.let_time_pass(Duration::from_secs(3600));
}

#[test]
fn eight_processes_on_an_expired_token_refresh_once() {
    let (fx, env) = signed_in(Knobs {
        rotate_refresh_tokens: true,
        ..Knobs::default()
    });
    let first = env.run(&["token", "demo"]).stdout;
    let_expire(&env);
    let before = fx.counters().refresh_requests;

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
    let_expire(&env);
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
    for failure in [
        TransientFailure::ServiceUnavailable,
        TransientFailure::TemporarilyUnavailable,
    ] {
        let (fx, mut env) = signed_in(Knobs::default());
        env.env("MCPAUTH_REFRESH_TIMEOUT", "3");
        let_expire(&env);
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
    let (fx, env) = signed_in(Knobs::default());
    assert_eq!(env.run(&["token", "demo"]).code, Some(0));
    let_expire(&env);
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

/// The grant lifecycle in this process, on a clock the test moves: when a token counts as
/// stale, and how long a failed refresh answers for the next callers, without sleeping.
#[tokio::test(flavor = "current_thread")]
async fn staleness_and_a_shared_failure_follow_the_clock() {
    use mcpauth::clock::Clock;
    use mcpauth::context::Ctx;
    use mcpauth::grants::{Lifecycle, fresh_token};

    let (fx, env) = signed_in(Knobs::default());
    let clock = Clock::system();
    let mut ctx = Ctx::new(
        mcpauth::home::Home::at(&env.home()),
        mcpauth::store::StoreChoice::Auto,
        mcpauth::config::Lookup::from_env(None),
        clock.clone(),
    );
    // A refresh that cannot succeed gives up after a second.
    ctx.grants = std::sync::Arc::new(Lifecycle::new(Duration::from_secs(1)));
    let grant = || {
        let index = ctx.vault.index().expect("read the index");
        assert_eq!(index.grants.len(), 1);
        index.grants[0].clone()
    };
    let refreshes = || fx.counters().refresh_requests;

    // An hour-long token: good after 58 minutes, stale within its last minute.
    let (_, signed_in_with) = fresh_token(&ctx, "demo", &grant(), None).await.unwrap();
    clock.advance(Duration::from_secs(58 * 60));
    let (_, same) = fresh_token(&ctx, "demo", &grant(), None).await.unwrap();
    assert_eq!(same.access_token, signed_in_with.access_token);
    assert_eq!(refreshes(), 0);
    clock.advance(Duration::from_secs(61));
    let (_, refreshed) = fresh_token(&ctx, "demo", &grant(), None).await.unwrap();
    assert_ne!(refreshed.access_token, signed_in_with.access_token);
    assert!(fx.access_token_valid(refreshed.access_token.expose()));
    assert_eq!(refreshes(), 1);

    // The token endpoint fails for a while: one attempt, and callers within five seconds
    // of its failure get the same error without another.
    clock.advance(Duration::from_secs(3600));
    fx.update(|k| {
        k.transient_failure = TransientFailure::ServiceUnavailable;
        k.transient_count = 1000;
    });
    let first = fresh_token(&ctx, "demo", &grant(), None).await.unwrap_err();
    let tried = refreshes();
    assert!(tried > 1, "no refresh was attempted");
    clock.advance(Duration::from_secs(4));
    let shared = fresh_token(&ctx, "demo", &grant(), None).await.unwrap_err();
    assert_eq!(shared.to_string(), mcpauth::error::inline(&first));
    assert_eq!(
        refreshes(),
        tried,
        "a caller within the window started another"
    );

    // Past the window, the next caller tries again, and succeeds once the server does.
    fx.update(|k| k.transient_count = 0);
    clock.advance(Duration::from_secs(2));
    let (_, after) = fresh_token(&ctx, "demo", &grant(), None).await.unwrap();
    assert!(fx.access_token_valid(after.access_token.expose()));
    assert_eq!(refreshes(), tried + 1);
}
