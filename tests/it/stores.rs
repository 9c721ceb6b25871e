//! Where secrets go: the real Secret Service of the test session, and the 0600 file store
//! when there is no bus, announced with one warning.

use crate::support::cli::is_private_file;
use crate::support::{Fixture, Knobs, TestEnv};

fn require_session_bus() {
    assert!(
        std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some(),
        "these tests talk to a real Secret Service: run them through tests/run (or \
         tests/keyring-session cargo nextest run), which starts one"
    );
}

#[test]
fn login_token_logout_on_the_real_secret_service() {
    require_session_bus();
    let fx = Fixture::start(Knobs::default());
    let mut env = TestEnv::new();
    env.env("MCPAUTH_STORE", "keyring");
    env.add_server("demo", &fx.mcp_url());
    let out = env.run(&["login", "demo"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(!out.stderr.contains("warning"), "{}", out.stderr);
    assert!(
        !env.home().join("data").join("secrets.json").exists(),
        "the keychain was reachable: no secret file may be written"
    );
    let token = env.run(&["token", "demo"]);
    assert_eq!(token.code, Some(0), "{}", token.stderr);
    assert!(fx.access_token_valid(token.stdout.trim()));

    // The secret really is in the Secret Service: another client finds it.
    let found = std::process::Command::new("secret-tool")
        .args(["search", "--all", "--unlock", "service"])
        .arg(format!("mcpauth@{}", env.home().display()))
        .output()
        .expect("secret-tool is installed by tests/run");
    let listing = String::from_utf8_lossy(&found.stdout).into_owned()
        + &String::from_utf8_lossy(&found.stderr);
    assert!(
        listing.contains("grant:"),
        "no grant entry in the Secret Service:\n{listing}"
    );

    assert_eq!(env.run(&["logout", "demo"]).code, Some(0));
    let after = std::process::Command::new("secret-tool")
        .args(["search", "--all", "service"])
        .arg(format!("mcpauth@{}", env.home().display()))
        .output()
        .unwrap();
    assert!(
        !String::from_utf8_lossy(&after.stdout).contains("grant:"),
        "logout left the grant in the keychain"
    );
}

#[test]
fn file_fallback_when_no_bus_exists_warns_once() {
    let fx = Fixture::start(Knobs::default());
    let mut env = TestEnv::new();
    env.env(
        "DBUS_SESSION_BUS_ADDRESS",
        "unix:path=/nonexistent/mcpauth-test-bus",
    );
    env.add_server("demo", &fx.mcp_url());
    let out = env.run(&["login", "demo"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(
        out.stderr
            .matches("warning: no keychain could be reached")
            .count(),
        1,
        "exactly one warning:\n{}",
        out.stderr
    );
    let secrets = env.home().join("data").join("secrets.json");
    assert!(is_private_file(&secrets), "the secret file must be 0600");
    let token = env.run(&["token", "demo"]);
    assert_eq!(token.code, Some(0), "{}", token.stderr);
    assert!(fx.access_token_valid(token.stdout.trim()));
    let status = env.run(&["status"]);
    assert!(status.stdout.contains("file"), "{}", status.stdout);
    assert_eq!(env.run(&["logout", "demo"]).code, Some(0));
    assert_eq!(env.run(&["token", "demo"]).code, Some(4));
}

#[test]
fn keyring_required_but_unreachable_is_an_error_not_a_fallback() {
    let fx = Fixture::start(Knobs::default());
    let mut env = TestEnv::new();
    env.env(
        "DBUS_SESSION_BUS_ADDRESS",
        "unix:path=/nonexistent/mcpauth-test-bus",
    );
    env.add_server("demo", &fx.mcp_url());
    let out = env.run(&["login", "demo", "--store", "keyring"]);
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    assert!(!env.home().join("data").join("secrets.json").exists());
    assert_eq!(crate::refusals::stored_grants(&env), 0);
}

/// Runs `secret-tool ARGS` on the test session's bus with `stdin`, and returns its
/// stdout when it succeeds.
fn secret_tool(args: &[&str], stdin: &str) -> Option<String> {
    use std::io::Write;
    let mut child = std::process::Command::new("secret-tool")
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("secret-tool is installed by tests/run");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

// Symptom: a test that starts a keychain of its own (tests/keyring-session inside the
// suite's session) replaced the suite's gnome-keyring; the bus started a locked one in
// its place and every later sign-in failed with "the keychain is locked".
#[test]
fn a_keyring_session_inside_another_leaves_the_outer_keychain_unlocked() {
    require_session_bus();
    let attrs = ["service", "mcpauth-test-nesting", "username", "outer"];
    let store = [&["store", "--label=mcpauth nesting test"][..], &attrs].concat();
    secret_tool(&store, "outer-secret").expect("the suite's keychain takes a secret");

    let session = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/keyring-session");
    let inner = std::process::Command::new(session)
        .args(["secret-tool", "lookup"])
        .args(attrs)
        .output()
        .expect("run tests/keyring-session");
    // The inner session is a keychain of its own: it has never seen the outer secret.
    // (Its stdout may hold what a second, bus-started daemon prints on finding the first.)
    assert!(!inner.status.success(), "{inner:?}");
    assert!(
        !String::from_utf8_lossy(&inner.stdout).contains("outer-secret"),
        "{inner:?}"
    );

    let lookup = [&["lookup"][..], &attrs].concat();
    assert_eq!(
        secret_tool(&lookup, "").as_deref(),
        Some("outer-secret"),
        "the suite's keychain no longer answers unlocked after an inner session"
    );
    let clear = [&["clear"][..], &attrs].concat();
    secret_tool(&clear, "").expect("the secret is cleared again");
}
