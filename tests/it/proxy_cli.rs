//! `mcpauth proxy` as a host runs it: the real binary on stdio, the loopback fixture as
//! the OAuth-protected server, tokens that expire every two seconds.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::{Endpoint, Fixture, Knobs, TestEnv};

/// How long one answer may take before the host gives up on it: longer than the
/// proxy's own limit on a keychain call (20 s), so that a stuck keychain shows as the
/// proxy's error answer rather than as silence.
const ANSWER_WAIT: Duration = Duration::from_secs(30);

/// A stdio host for one `mcpauth proxy` process, as Claude Desktop would be.
pub(crate) struct Host {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: mpsc::Receiver<String>,
    next_id: u64,
    /// The proxy's stderr at debug level, shown when an answer does not come.
    log: tempfile::NamedTempFile,
}

impl Host {
    pub(crate) fn start(env: &TestEnv, args: &[&str]) -> Self {
        Self::spawn(env.command(args))
    }

    /// A host for a proxy started with `cmd` as it is (another environment, another
    /// working directory).
    pub(crate) fn spawn(mut cmd: std::process::Command) -> Self {
        let log = tempfile::NamedTempFile::new().expect("create the proxy's log file");
        let stderr = log.reopen().expect("open the proxy's log file");
        if !cmd.get_envs().any(|(k, _)| k == "MCPAUTH_LOG") {
            cmd.env("MCPAUTH_LOG", "mcpauth=debug");
        }
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(stderr);
        let mut child = cmd.spawn().expect("start mcpauth proxy");
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Self {
            stdin: child.stdin.take(),
            child,
            lines,
            next_id: 1,
            log,
        }
    }

    /// The last lines the proxy logged, for a failure message.
    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(self.log.path()).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }

    pub(crate) fn send(&mut self, msg: &Value) {
        let stdin = self.stdin.as_mut().expect("stdin is open");
        writeln!(stdin, "{msg}").expect("write to the proxy");
        stdin.flush().unwrap();
    }

    /// The next message the proxy writes, whatever it is.
    pub(crate) fn next_message(&mut self) -> Value {
        let line = self.lines.recv_timeout(ANSWER_WAIT).unwrap_or_else(|_| {
            panic!(
                "no message within {ANSWER_WAIT:?}; the proxy logged:\n{}",
                self.log_tail()
            )
        });
        serde_json::from_str(&line).expect("the proxy writes JSON lines")
    }

    /// Sends SIGTERM, as a host does when it shuts a server down.
    pub(crate) fn terminate(&mut self) {
        let status = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -TERM failed");
    }

    /// Sends a request and returns its answer (skipping anything else the server sent).
    pub(crate) fn call(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        let deadline = Instant::now() + ANSWER_WAIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = self.lines.recv_timeout(left).unwrap_or_else(|_| {
                panic!(
                    "no answer to `{method}` within {ANSWER_WAIT:?}; the proxy logged:\n{}",
                    self.log_tail()
                )
            });
            let v: Value = serde_json::from_str(&line).expect("the proxy writes JSON lines");
            if v["id"] == json!(id) {
                return v;
            }
        }
    }

    pub(crate) fn initialize(&mut self) -> Value {
        let answer = self.call(
            "initialize",
            json!({"protocolVersion": "2025-11-25", "capabilities": {},
                   "clientInfo": {"name": "test-host", "version": "1"}}),
        );
        self.send(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
        answer
    }

    /// Closes stdin and waits (bounded) for the proxy to exit; returns its exit code.
    pub(crate) fn finish(mut self) -> Option<i32> {
        drop(self.stdin.take());
        self.exit_status().code()
    }

    /// Waits (bounded) for the proxy to exit, with stdin left as it is (open after
    /// [`Host::terminate`]).
    pub(crate) fn exit_status(mut self) -> std::process::ExitStatus {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!(
                    "the proxy did not exit within 10 s; it logged:\n{}",
                    self.log_tail()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

pub(crate) fn echo(host: &mut Host, text: &str) -> Value {
    host.call(
        "tools/call",
        json!({"name": "echo", "arguments": {"text": text}}),
    )
}

/// A proxy for `server` in `env`, started as a host starts it, passes one `echo` of
/// `text` to the server and back, and exits 0 when stdin closes.
pub(crate) fn echo_through_proxy(env: &TestEnv, server: &str, text: &str) {
    let mut host = Host::start(env, &["proxy", server, "--login", "never"]);
    assert!(host.initialize().get("result").is_some());
    let answer = echo(&mut host, text);
    assert_eq!(
        answer["result"]["content"][0]["text"],
        json!(text),
        "{answer}"
    );
    assert_eq!(host.finish(), Some(0));
}

/// Initializes `host`, then calls `echo` every 50 ms for `session` (and at most 100,000
/// times), and closes it; returns the good answers' count and the bad answers.
pub(crate) fn echo_for(mut host: Host, n: usize, session: Duration) -> (u32, Vec<Value>) {
    let init = host.initialize();
    assert!(init.get("result").is_some(), "initialize failed: {init}");
    let (mut ok, mut failed) = (0u32, Vec::new());
    let start = Instant::now();
    while start.elapsed() < session && ok + (failed.len() as u32) < 100_000 {
        let text = format!("proxy {n} call {ok}");
        let answer = echo(&mut host, &text);
        if answer["result"]["content"][0]["text"] == json!(text) {
            ok += 1;
        } else {
            failed.push(answer);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(host.finish(), Some(0));
    (ok, failed)
}

#[test]
fn four_proxies_call_tools_for_a_minute_across_two_second_tokens() {
    let ttl = Duration::from_secs(2);
    let fx = Fixture::start(Knobs {
        access_token_ttl: ttl,
        rotate_refresh_tokens: true,
        ..Knobs::default()
    });
    let env = TestEnv::new();
    env.add_server("demo", &fx.mcp_url());
    let out = env.run(&["login", "demo"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    // The login's own probe (a request without a token, for the challenge) is not part
    // of the session.
    let before_session = fx.requests_to(Endpoint::Mcp).len();

    let session = Duration::from_secs(61);
    let workers: Vec<_> = (0..4)
        .map(|n| {
            let host = Host::start(&env, &["proxy", "demo", "--login", "never"]);
            std::thread::spawn(move || echo_for(host, n, session))
        })
        .collect();
    let mut total = 0;
    for w in workers {
        let (ok, failed) = w.join().expect("a host thread panicked");
        assert!(failed.is_empty(), "failed calls: {failed:?}");
        total += ok;
    }
    assert!(total > 400, "too few calls went through: {total}");

    // One refresh per expiry: every refresh used a different refresh token (with
    // rotation, a second use of one would have ended the grant), and there were about
    // as many refreshes as token lifetimes in the session.
    let refreshes = fx.refreshes_without_reuse() as f64;
    let lifetimes = session.as_secs_f64() / ttl.as_secs_f64();
    assert!(
        refreshes >= lifetimes * 0.9 && refreshes <= lifetimes * 1.5,
        "{refreshes} refreshes for {lifetimes:.0} token lifetimes"
    );
    let refused: Vec<String> = fx
        .requests_to(Endpoint::Mcp)
        .iter()
        .skip(before_session)
        .filter_map(|r| {
            let method = r.json().map(|j| j["method"].to_string());
            r.refusal.as_ref().map(|why| format!("{method:?}: {why}"))
        })
        .collect();
    assert!(
        refused.is_empty(),
        "the server refused requests: {refused:?}"
    );
}

#[test]
fn login_never_answers_each_request_with_the_command_to_run() {
    let fx = Fixture::start(Knobs::default());
    let env = TestEnv::new();
    env.add_server("demo", &fx.mcp_url());
    let mut host = Host::start(&env, &["proxy", "demo", "--login", "never"]);
    for answer in [
        host.call(
            "initialize",
            json!({"protocolVersion": "2025-11-25", "capabilities": {},
                                        "clientInfo": {"name": "t", "version": "1"}}),
        ),
        host.call("tools/list", json!({})),
    ] {
        let message = answer["error"]["message"]
            .as_str()
            .unwrap_or_else(|| panic!("{answer}"));
        assert!(message.contains("mcpauth login demo"), "{message}");
    }
    assert_eq!(
        host.finish(),
        Some(0),
        "the proxy exits cleanly on stdin EOF"
    );
    assert!(
        fx.requests_to(Endpoint::Authorize).is_empty(),
        "--login never opened a login"
    );
}

#[test]
fn proxies_without_a_grant_sign_in_once_together() {
    // Four hosts start at once with no grant: one browser login, not four tabs.
    let fx = Fixture::start(Knobs::default());
    let env = TestEnv::new();
    env.add_server("demo", &fx.mcp_url());
    let hosts: Vec<_> = (0..4)
        .map(|_| {
            let mut host = Host::start(&env, &["proxy", "demo"]);
            std::thread::spawn(move || {
                let init = host.initialize();
                let tools = host.call("tools/list", json!({}));
                assert_eq!(host.finish(), Some(0));
                (init, tools)
            })
        })
        .collect();
    for h in hosts {
        let (init, tools) = h.join().unwrap();
        assert!(init.get("result").is_some(), "{init}");
        assert!(tools["result"]["tools"].is_array(), "{tools}");
    }
    assert_eq!(
        fx.requests_to(Endpoint::Authorize).len(),
        1,
        "each grant gets at most one browser login across processes"
    );
}

#[test]
fn a_revoked_grant_mid_session_turns_into_errors_not_a_crash() {
    let fx = Fixture::start(Knobs::default());
    let env = TestEnv::new();
    env.add_server("demo", &fx.mcp_url());
    assert_eq!(env.run(&["login", "demo"]).code, Some(0));
    let mut host = Host::start(&env, &["proxy", "demo", "--login", "never"]);
    assert!(host.initialize().get("result").is_some());
    assert!(echo(&mut host, "before")["result"].is_object());
    // The whole grant ends at the server: the token the proxy holds is refused, and so
    // is the refresh token it tries next.
    fx.revoke_refresh_tokens();
    fx.expire_access_tokens();
    let answer = echo(&mut host, "after");
    let message = answer["error"]["message"]
        .as_str()
        .unwrap_or_else(|| panic!("{answer}"));
    assert!(message.contains("mcpauth login demo"), "{message}");
    assert_eq!(host.finish(), Some(0));
}
