//! Signing in where there is no browser: the device authorization grant (`--device`),
//! pasting the redirect back (`--no-browser`), and the client credentials grant. The real
//! binary against the loopback fixture, which plays the person approving or declining.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::support::{AuthMethod, DeviceGrant, Endpoint, Fixture, Knobs, TestEnv};

const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// An `mcpauth` run whose stderr is read line by line as it comes.
pub(crate) struct Live {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Live {
    pub(crate) fn start(env: &TestEnv, args: &[&str]) -> Self {
        let mut child = env
            .command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start mcpauth");
        let stderr = child.stderr.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Self {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// The first stderr line matching `pred`, waiting at most 30 s.
    pub(crate) fn line(&mut self, pred: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if pred(&line) {
                        return line;
                    }
                }
                Err(_) => panic!(
                    "mcpauth never printed the line; it said:\n{}",
                    self.seen.join("\n")
                ),
            }
        }
    }

    pub(crate) fn paste(&mut self, text: &str) {
        let stdin = self.child.stdin.as_mut().unwrap();
        writeln!(stdin, "{text}").unwrap();
        stdin.flush().unwrap();
    }

    /// Exit code and the rest of stderr; killed after 60 s.
    pub(crate) fn finish(mut self) -> (Option<i32>, String) {
        let deadline = Instant::now() + Duration::from_secs(60);
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("mcpauth did not finish; it said:\n{}", self.seen.join("\n"));
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(5)) {
            self.seen.push(line);
        }
        (status.code(), self.seen.join("\n"))
    }
}

fn signed_in(env: &TestEnv, fx: &Fixture) -> bool {
    let out = env.run(&["token", "demo"]);
    out.code == Some(0) && fx.access_token_valid(out.stdout.trim())
}

fn nothing_stored(env: &TestEnv) {
    let out = env.run(&["token", "demo"]);
    assert_eq!(out.code, Some(4), "a grant was stored:\n{}", out.stderr);
}

/// Polls the fixture (bounded) until `pred` holds for its one device grant.
fn wait_for_device(fx: &Fixture, pred: impl Fn(&DeviceGrant) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(d) = fx.devices().into_iter().find(|d| pred(d)) {
            return d.user_code;
        }
        assert!(
            Instant::now() < deadline,
            "the device grant never got there"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn device_login_approved_in_a_browser_elsewhere() {
    let fx = Fixture::start(Knobs {
        device_approve_on_visit: true,
        ..Knobs::default()
    });
    let env = TestEnv::new();
    env.add_server("demo", &fx.mcp_url());
    // The "browser" is curl visiting verification_uri_complete, which approves.
    let out = env.run(&["login", "demo", "--device"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let device = &fx.devices()[0];
    assert!(
        out.stderr.contains(&device.user_code) && out.stderr.contains("/activate"),
        "the code and where to enter it are shown:\n{}",
        out.stderr
    );
    assert!(signed_in(&env, &fx));
    // Registered for the device grant too, and the device request named the resource.
    let reg = fx.requests_to(Endpoint::Register);
    let asked = reg[0].json().unwrap();
    assert!(
        asked["grant_types"].to_string().contains(DEVICE_GRANT),
        "{asked}"
    );
    let dev = fx.requests_to(Endpoint::Device);
    assert_eq!(
        dev[0].form("resource").as_deref(),
        Some(fx.mcp_url().as_str())
    );
    // No authorization code flow took place.
    assert!(fx.requests_to(Endpoint::Authorize).is_empty());
    out.assert_no_secret(&fx.secrets_seen());
}

#[test]
fn device_login_slows_down_when_told() {
    let fx = Fixture::start(Knobs {
        device_slow_down_polls: 1,
        device_interval_secs: 1,
        ..Knobs::default()
    });
    let env = TestEnv::new();
    env.add_server("demo", &fx.mcp_url());
    let live = Live::start(&env, &["login", "demo", "--device"]);
    // The first poll is answered slow_down; the next must come at least 5 s later
    // (interval 1 s + 5 s, RFC 8628 §3.5). A lower bound: a slow machine cannot break it.
    let code = wait_for_device(&fx, |d| d.polls >= 1);
    let first = Instant::now();
    assert!(fx.approve_device(&code));
    wait_for_device(&fx, |d| d.polls >= 2);
    let gap = first.elapsed();
    let (status, said) = live.finish();
    assert_eq!(status, Some(0), "{said}");
    assert!(gap >= Duration::from_secs(5), "polled again after {gap:?}");
    assert_eq!(fx.devices()[0].polls, 2, "one slow_down, then the token");
    assert!(signed_in(&env, &fx));
}

#[test]
fn device_login_declined_stores_nothing() {
    let fx = Fixture::start(Knobs::default());
    let env = TestEnv::new();
    env.add_server("demo", &fx.mcp_url());
    let live = Live::start(&env, &["login", "demo", "--device"]);
    let code = wait_for_device(&fx, |d| d.polls >= 1);
    assert!(fx.deny_device(&code));
    let (status, said) = live.finish();
    assert_eq!(status, Some(1), "{said}");
    assert!(said.contains("declined"), "{said}");
    nothing_stored(&env);
}

#[test]
fn device_login_stops_when_the_code_expires() {
    let fx = Fixture::start(Knobs::default());
    let env = TestEnv::new();
    env.add_server("demo", &fx.mcp_url());
    let live = Live::start(&env, &["login", "demo", "--device"]);
    let code = wait_for_device(&fx, |d| d.polls >= 1);
    // The server says expired_token on the next poll.
    assert!(fx.expire_device(&code));
    let (status, said) = live.finish();
    assert_eq!(status, Some(1), "{said}");
    assert!(said.contains("device code expired"), "{said}");
    assert!(said.contains("hint:"), "{said}");
    nothing_stored(&env);
}

#[test]
fn device_login_where_the_server_has_no_device_endpoint() {
    let fx = Fixture::start(Knobs {
        device_endpoint: false,
        ..Knobs::default()
    });
    let env = TestEnv::new();
    env.add_server("demo", &fx.mcp_url());
    let out = env.run(&["login", "demo", "--device"]);
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    assert!(
        out.stderr.contains("device authorization grant"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("--no-browser"), "{}", out.stderr);
    assert_eq!(
        fx.counters().registrations,
        0,
        "nothing was set up for nothing"
    );
}

/// Where the authorization server sends the browser: the loopback redirect, which a
/// browser on another machine cannot reach. curl does not follow it.
fn redirect_target(authorization_url: &str) -> String {
    let out = std::process::Command::new("curl")
        .args([
            "-sS",
            "-o",
            "/dev/null",
            "-w",
            "%{redirect_url}",
            "--max-time",
            "30",
        ])
        .arg(authorization_url)
        .env("NO_PROXY", "127.0.0.1,localhost,::1")
        .output()
        .expect("curl runs");
    let url = String::from_utf8(out.stdout).unwrap();
    assert!(
        url.contains("/callback?"),
        "no redirect to the callback: {url}"
    );
    url
}

fn paste_login(
    fx: &Fixture,
    env: &TestEnv,
    edit: impl Fn(String) -> String,
) -> (Option<i32>, String) {
    env.add_server("demo", &fx.mcp_url());
    let mut live = Live::start(env, &["login", "demo", "--no-browser"]);
    let url = live.line(|l| l.trim_start().starts_with("http") && l.contains("/authorize"));
    let landed = redirect_target(url.trim());
    live.paste(&edit(landed));
    live.finish()
}

#[test]
fn no_browser_login_takes_the_pasted_redirect() {
    let fx = Fixture::start(Knobs::default());
    let env = TestEnv::new();
    let (status, said) = paste_login(&fx, &env, |url| url);
    assert_eq!(status, Some(0), "{said}");
    assert!(said.contains("Signed in to `demo`"), "{said}");
    assert!(signed_in(&env, &fx));
    // The pasted address holds the code: it is never echoed.
    for secret in fx.secrets_seen() {
        assert!(!said.contains(&secret), "a secret appears in the output");
    }
}

#[test]
fn no_browser_login_refuses_a_pasted_redirect_with_another_state() {
    let fx = Fixture::start(Knobs::default());
    let env = TestEnv::new();
    let (status, said) = paste_login(&fx, &env, |url| {
        let mut u = url::Url::parse(&url).unwrap();
        let pairs: Vec<(String, String)> = u
            .query_pairs()
            .map(|(k, v)| {
                let v = if k == "state" {
                    format!("{v}x")
                } else {
                    v.into_owned()
                };
                (k.into_owned(), v)
            })
            .collect();
        u.query_pairs_mut().clear().extend_pairs(pairs);
        u.to_string()
    });
    assert_eq!(status, Some(1), "{said}");
    assert!(said.contains("`state` does not match"), "{said}");
    assert!(
        fx.requests_to(Endpoint::Token).is_empty(),
        "the code was not exchanged"
    );
    nothing_stored(&env);
}

#[test]
fn no_browser_login_refuses_something_that_is_not_a_redirect() {
    let fx = Fixture::start(Knobs::default());
    let env = TestEnv::new();
    let (status, said) = paste_login(&fx, &env, |_| "the code was 1234".into());
    assert_eq!(status, Some(1), "{said}");
    assert!(said.contains("not the address of a redirect"), "{said}");
    assert!(!said.contains("1234"), "what was pasted is not echoed");
    nothing_stored(&env);
}

fn client_credentials(method: AuthMethod) {
    let fx = Fixture::start(Knobs::default());
    fx.add_client("machine-1", Some("s3cret-m1"), method, &[]);
    let env = TestEnv::new();
    env.add_server("demo", &fx.mcp_url());
    let out = env.run_with_stdin(
        &[
            "login",
            "demo",
            "--client-credentials",
            "--client-id",
            "machine-1",
            "--client-secret",
            "--client-auth",
            method.as_str(),
        ],
        "s3cret-m1\n",
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(out.stderr.contains("client credentials"), "{}", out.stderr);
    assert!(
        fx.requests_to(Endpoint::Authorize).is_empty(),
        "no browser, no user"
    );
    let first = env.run(&["token", "demo"]).stdout.trim().to_owned();
    assert!(fx.access_token_valid(&first));

    // Past expiry, the same grant renews it: no refresh token, no prompt.
    env.let_time_pass(Duration::from_secs(3600));
    let out = env.run(&["token", "demo"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let second = out.stdout.trim().to_owned();
    assert_ne!(first, second);
    assert!(fx.access_token_valid(&second));

    let grants: Vec<_> = fx
        .requests_to(Endpoint::Token)
        .into_iter()
        .filter(|r| r.form("grant_type").as_deref() == Some("client_credentials"))
        .collect();
    assert_eq!(grants.len(), 2, "one to sign in, one to renew");
    for r in &grants {
        assert_eq!(r.form("resource").as_deref(), Some(fx.mcp_url().as_str()));
        match method {
            AuthMethod::ClientSecretBasic => {
                assert!(
                    r.header("authorization")
                        .is_some_and(|h| h.starts_with("Basic "))
                );
                assert_eq!(r.form("client_secret"), None);
            }
            AuthMethod::ClientSecretPost => {
                assert_eq!(r.header("authorization"), None);
                assert_eq!(r.form("client_secret").as_deref(), Some("s3cret-m1"));
            }
            AuthMethod::None | AuthMethod::PrivateKeyJwt => unreachable!(),
        }
    }
    let status = env.run(&["status"]);
    assert!(!status.all_output().contains("s3cret-m1"));
}

#[test]
fn client_credentials_with_client_secret_basic() {
    client_credentials(AuthMethod::ClientSecretBasic);
}

#[test]
fn client_credentials_with_client_secret_post() {
    client_credentials(AuthMethod::ClientSecretPost);
}

#[test]
fn ctrl_c_during_a_login_stores_nothing_and_closes_the_listener() {
    let fx = Fixture::start(Knobs::default());
    let env = TestEnv::new();
    env.add_server("demo", &fx.mcp_url());
    let mut live = Live::start(&env, &["login", "demo", "--no-browser"]);
    let url = live.line(|l| l.trim_start().starts_with("http") && l.contains("/authorize"));
    let callback = url::Url::parse(&redirect_target(url.trim())).unwrap();
    let port = callback
        .port()
        .expect("the redirect names the listener's port");
    let pid = live.child.id().to_string();
    let kill = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .expect("kill runs");
    assert!(kill.success());
    let (status, said) = live.finish();
    assert_eq!(status, Some(130), "{said}");
    assert!(said.contains("interrupted"), "{said}");
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "the loopback listener is still open"
    );
    nothing_stored(&env);
}
