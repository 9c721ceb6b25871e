//! A grant is never lost by accident: processes started by different MCP clients, with
//! different environments and working directories, share one grant and one lock.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::proxy_cli::{Host, echo_for};
use crate::refresh::{let_expire, signed_in};
use crate::support::{Endpoint, Fixture, Knobs, TestEnv, TransientFailure};

/// `cmd` as a client with a short environment would start it: no `MCPAUTH_HOME` (the
/// state comes from the user's home directory), and the XDG variables as given.
fn as_client(mut cmd: Command, user_home: &Path, xdg: &[(&str, &Path)]) -> Command {
    cmd.env_remove("MCPAUTH_HOME")
        .env_remove("XDG_RUNTIME_DIR")
        .env_remove("XDG_DATA_HOME")
        .env_remove("XDG_CONFIG_HOME")
        .env("HOME", user_home);
    for (k, v) in xdg {
        cmd.env(k, v);
    }
    cmd
}

// Symptom: a terminal with XDG_RUNTIME_DIR and a Codex-started proxy without it took two
// different locks on one grant, both spent the rotating refresh token, and the grant died.
#[test]
fn processes_with_different_environments_share_one_rotating_grant() {
    let ttl = Duration::from_secs(2);
    let fx = Fixture::start(Knobs {
        access_token_ttl: ttl,
        rotate_refresh_tokens: true,
        revoke_family_on_refresh_reuse: true,
        ..Knobs::default()
    });
    let env = TestEnv::new();
    env.add_server("demo", &fx.mcp_url());
    let scratch = tempfile::tempdir().unwrap();
    let dir = |name: &str| {
        let p = scratch.path().join(name);
        std::fs::create_dir_all(&p).unwrap();
        p
    };
    let user_home = dir("user");
    let (run_a, data_b, run_c, elsewhere) = (dir("run-a"), dir("data-b"), dir("run-c"), dir("cwd"));

    // A terminal with everything set signs in.
    let mut login = as_client(
        env.command(&["login", "demo"]),
        &user_home,
        &[("XDG_RUNTIME_DIR", &run_a), ("XDG_DATA_HOME", &data_b)],
    );
    login.stdin(std::process::Stdio::null());
    let out = login.output().expect("run mcpauth login");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let before_session = fx.requests_to(Endpoint::Mcp).len();

    // Two proxies: one with a runtime dir and another data dir (a terminal-started IDE),
    // one with neither, started from another directory by URL (as Codex starts servers).
    let session = Duration::from_secs(61);
    let mcp_url = fx.mcp_url();
    let hosts = vec![
        Host::spawn(as_client(
            env.command(&["proxy", "demo", "--login", "never"]),
            &user_home,
            &[("XDG_RUNTIME_DIR", &run_a), ("XDG_DATA_HOME", &data_b)],
        )),
        Host::spawn({
            let mut cmd = as_client(
                env.command(&["proxy", &mcp_url, "--login", "never"]),
                &user_home,
                &[],
            );
            cmd.current_dir(&elsewhere);
            cmd
        }),
    ];
    let workers: Vec<_> = hosts
        .into_iter()
        .enumerate()
        .map(|(n, host)| std::thread::spawn(move || echo_for(host, n, session)))
        .collect();

    // Meanwhile a script in a third environment keeps asking for tokens.
    let start = Instant::now();
    let mut tokens = 0;
    while start.elapsed() < session && tokens < 10_000 {
        let mut cmd = as_client(
            env.command(&["token", "demo"]),
            &user_home,
            &[("XDG_RUNTIME_DIR", &run_c)],
        );
        cmd.stdin(std::process::Stdio::null());
        let out = cmd.output().expect("run mcpauth token");
        assert!(
            out.status.success(),
            "`mcpauth token` failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let token = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        assert!(!token.is_empty());
        tokens += 1;
        std::thread::sleep(Duration::from_millis(200));
    }

    let mut total = 0;
    for w in workers {
        let (ok, failed) = w.join().expect("a host thread panicked");
        assert!(failed.is_empty(), "failed calls: {failed:?}");
        total += ok;
    }
    assert!(total > 200, "too few calls went through: {total}");
    assert!(tokens > 50, "too few tokens were printed: {tokens}");

    // One refresh per expiry, none presenting a refresh token twice.
    let refreshes = fx.refreshes_without_reuse() as f64;
    let lifetimes = session.as_secs_f64() / ttl.as_secs_f64();
    assert!(
        refreshes >= lifetimes * 0.9 && refreshes <= lifetimes * 1.5,
        "{refreshes} refreshes for {lifetimes:.0} token lifetimes"
    );
    let refused = fx
        .requests_to(Endpoint::Mcp)
        .iter()
        .skip(before_session)
        .filter(|r| r.refusal.is_some())
        .count();
    assert_eq!(refused, 0, "the server refused requests");
    // The XDG variables moved nothing: all state is under the user's home.
    assert!(user_home.join(".local/share/mcpauth/grants.json").is_file());
    assert!(!data_b.join("mcpauth").exists());
    assert!(std::fs::read_dir(&run_a).unwrap().next().is_none());
}

#[test]
fn status_and_doctor_say_where_the_grants_are() {
    let env = TestEnv::new();
    let out = env.run(&["status"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let index = env.home().join("data").join("grants.json");
    assert!(
        out.stderr.contains(&format!("`{}`", index.display())),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("MCPAUTH_HOME"), "{}", out.stderr);
    let out = env.run(&["doctor"]);
    assert!(
        out.stdout
            .contains(&env.home().join("data").display().to_string()),
        "{}",
        out.stdout
    );
}

// Symptom: grants kept under XDG_DATA_HOME by an earlier version vanished without a word.
#[test]
fn doctor_points_at_grants_left_under_xdg_data_home() {
    let env = TestEnv::new();
    let scratch = tempfile::tempdir().unwrap();
    let old = scratch.path().join("old-data");
    std::fs::create_dir_all(old.join("mcpauth")).unwrap();
    std::fs::write(
        old.join("mcpauth/grants.json"),
        r#"{"version":1,"grants":[],"clients":[]}"#,
    )
    .unwrap();
    let user_home = scratch.path().join("user");
    std::fs::create_dir_all(&user_home).unwrap();
    let mut cmd = as_client(
        env.command(&["doctor"]),
        &user_home,
        &[("XDG_DATA_HOME", &old)],
    );
    cmd.stdin(std::process::Stdio::null());
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&old.join("mcpauth/grants.json").display().to_string()),
        "{stdout}"
    );
    assert!(stdout.contains("no longer reads"), "{stdout}");
}

/// A grant on a rotating server whose token has expired, as far as mcpauth can tell (the
/// server would still take it).
fn expired_grant(knobs: Knobs) -> (Fixture, TestEnv) {
    let (fx, env) = signed_in(Knobs {
        rotate_refresh_tokens: true,
        revoke_family_on_refresh_reuse: true,
        ..knobs
    });
    let_expire(&env);
    (fx, env)
}

// Symptom: GitHub's `200 {"error": "bad_refresh_token"}` read as "unreadable answer",
// exit 1, and `status` kept saying the grant refreshes on use.
#[test]
fn github_style_errors_in_200_answers_are_oauth_errors() {
    let (fx, env) = expired_grant(Knobs {
        token_errors_in_200: true,
        ..Knobs::default()
    });
    fx.revoke_refresh_tokens();
    let out = env.run(&["token", "demo"]);
    assert_eq!(out.code, Some(4), "{}", out.stderr);
    assert!(
        out.stderr.contains("hint: run `mcpauth login demo`"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("unreadable"), "{}", out.stderr);
    let status = env.run(&["status", "--json"]).stdout;
    assert!(status.contains("\"needs_login\""), "{status}");

    // A client the provider no longer knows is named as such, not as a dead grant.
    let out = env.run(&["login", "demo"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let_expire(&env);
    fx.forget_clients();
    let out = env.run(&["token", "demo"]);
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    assert!(
        out.stderr
            .contains("refused this client's credentials (`incorrect_client_credentials`"),
        "{}",
        out.stderr
    );
    assert!(
        !out.stderr.contains("hint: run `mcpauth login demo`"),
        "{}",
        out.stderr
    );
}

// Symptom: a hung token endpoint kept `token` waiting 3 × 30 s.
#[test]
fn a_token_endpoint_that_never_answers_fails_within_the_deadline() {
    let (fx, mut env) = expired_grant(Knobs::default());
    env.env("MCPAUTH_REFRESH_TIMEOUT", "3");
    fx.update(|k| k.token_delay = Duration::from_secs(60));
    let before = fx.counters().refresh_requests;
    let started = Instant::now();
    let out = env.run(&["token", "demo"]);
    let took = started.elapsed();
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    assert!(
        out.stderr.contains("did not answer within 3 s"),
        "{}",
        out.stderr
    );
    assert!(took < Duration::from_secs(20), "took {took:?}");
    assert_eq!(
        fx.counters().refresh_requests - before,
        1,
        "one attempt, not three"
    );
    // Nothing was lost: once the endpoint answers again, the grant refreshes.
    fx.update(|k| k.token_delay = Duration::ZERO);
    let out = env.run(&["token", "demo"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(fx.access_token_valid(out.stdout.trim()));
}

// Symptom: three calls waiting on a hung refresh were answered after 91, 182 and 273 s,
// with nine refresh attempts between them.
#[test]
fn concurrent_proxy_calls_share_one_refresh_attempt_within_the_deadline() {
    let (fx, mut env) = expired_grant(Knobs::default());
    env.env("MCPAUTH_REFRESH_TIMEOUT", "3");
    let mut host = Host::start(&env, &["proxy", "demo", "--login", "never"]);
    // Initialize on a fresh token, then let the endpoint hang.
    assert!(host.initialize().get("result").is_some());
    fx.expire_access_tokens();
    fx.update(|k| k.token_delay = Duration::from_secs(60));
    let before = fx.counters().refresh_requests;
    let started = Instant::now();
    for n in 0..3 {
        host.send(
            &json!({"jsonrpc": "2.0", "id": 100 + n, "method": "tools/call",
                          "params": {"name": "echo", "arguments": {"text": "x"}}}),
        );
    }
    let answers: Vec<_> = (0..3).map(|_| host.next_message()).collect();
    let took = started.elapsed();
    for a in &answers {
        let message = a["error"]["message"]
            .as_str()
            .unwrap_or_else(|| panic!("{a}"));
        assert!(message.contains("did not answer within 3 s"), "{message}");
    }
    assert!(took < Duration::from_secs(15), "answered after {took:?}");
    assert_eq!(fx.counters().refresh_requests - before, 1);
    assert_eq!(host.finish(), Some(0));
}

#[test]
fn retry_after_is_honoured_within_the_deadline() {
    let (fx, env) = expired_grant(Knobs::default());
    fx.update(|k| {
        k.transient_failure = TransientFailure::RateLimited(2);
        k.transient_count = 1;
    });
    let started = Instant::now();
    let out = env.run(&["token", "demo"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "did not wait as asked"
    );

    // Asked to wait longer than the deadline: say so at once rather than hang.
    let (fx, mut env) = expired_grant(Knobs::default());
    env.env("MCPAUTH_REFRESH_TIMEOUT", "5");
    fx.update(|k| {
        k.transient_failure = TransientFailure::RateLimited(600);
        k.transient_count = 1;
    });
    let started = Instant::now();
    let out = env.run(&["token", "demo"]);
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    assert!(out.stderr.contains("retry after 600 s"), "{}", out.stderr);
    assert!(started.elapsed() < Duration::from_secs(5));
}

// Symptom: the proxy aborted in-flight tasks on shutdown, so a refresh could reach the
// server (rotating the refresh token) and never be saved.
#[test]
fn proxy_shutdown_during_a_slow_refresh_saves_it() {
    for signal in [None, Some("TERM")] {
        let (fx, env) = expired_grant(Knobs::default());
        let mut host = Host::start(&env, &["proxy", "demo", "--login", "never"]);
        fx.update(|k| {
            k.token_delay = Duration::from_secs(2);
        });
        let before = fx.counters().refresh_requests;
        host.send(&json!({"jsonrpc": "2.0", "id": 1, "method": "initialize",
                          "params": {"protocolVersion": "2025-11-25", "capabilities": {},
                                     "clientInfo": {"name": "t", "version": "1"}}}));
        // Leave while the refresh is at the server.
        let deadline = Instant::now() + Duration::from_secs(10);
        while fx.counters().refresh_requests == before {
            assert!(Instant::now() < deadline, "no refresh started");
            std::thread::sleep(Duration::from_millis(20));
        }
        if signal.is_some() {
            host.terminate();
        }
        let code = host.finish();
        assert!(code.is_some(), "{signal:?}: the proxy was killed");
        fx.update(|k| k.token_delay = Duration::ZERO);
        // The refreshed grant was saved: `token` uses it without another refresh.
        let out = env.run(&["token", "demo"]);
        assert_eq!(out.code, Some(0), "{signal:?}: {}", out.stderr);
        assert!(fx.access_token_valid(out.stdout.trim()));
        assert_eq!(fx.counters().refresh_requests - before, 1, "{signal:?}");
        fx.refreshes_without_reuse();
    }
}

// Symptom: a store write that failed after a rotating refresh lost the new refresh token,
// and the next `token` exited 4.
#[test]
fn a_refresh_the_store_refuses_is_kept_and_recovered() {
    let (fx, mut env) = expired_grant(Knobs::default());
    env.env("MCPAUTH_STORE", "file");
    // Re-sign in into the file store so the fault below hits this grant's store.
    let out = env.run(&["logout", "demo"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let out = env.run(&["login", "demo", "--store", "file"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let_expire(&env);
    let data = env.home().join("data");
    let secrets = data.join("secrets.json");
    let away = data.join("secrets.json.away");

    // The store breaks while the refresh is at the server (after mcpauth checked it).
    let out = token_with_a_fault_mid_refresh(&env, &fx, || {
        std::fs::rename(&secrets, &away).unwrap();
        std::fs::create_dir(&secrets).unwrap();
    });
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let token = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    assert!(
        fx.access_token_valid(&token),
        "the printed token does not work"
    );
    let journal = data.join("recovery");
    assert!(stderr.contains("cannot store it"), "{stderr}");
    assert!(stderr.contains(&journal.display().to_string()), "{stderr}");
    #[cfg(unix)]
    for f in std::fs::read_dir(&journal).unwrap() {
        use std::os::unix::fs::PermissionsExt;
        let mode = f.unwrap().metadata().unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }

    // The fault goes away; the next refresh recovers the kept tokens and goes on.
    std::fs::remove_dir(&secrets).unwrap();
    std::fs::rename(&away, &secrets).unwrap();
    let_expire(&env);
    let out = env.run(&["token", "demo"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(fx.access_token_valid(out.stdout.trim()));
    fx.refreshes_without_reuse();
    assert!(
        std::fs::read_dir(&journal).unwrap().next().is_none(),
        "the recovered copy stays behind"
    );

    // Nowhere to keep it at all: the token still works, and the person is told.
    let_expire(&env);
    let out = token_with_a_fault_mid_refresh(&env, &fx, || {
        std::fs::rename(&secrets, &away).unwrap();
        std::fs::create_dir(&secrets).unwrap();
        std::fs::remove_dir_all(&journal).unwrap();
        std::fs::write(&journal, b"not a directory").unwrap();
    });
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(fx.access_token_valid(String::from_utf8_lossy(&out.stdout).trim()));
    assert!(stderr.contains("cannot store it anywhere"), "{stderr}");
    assert!(stderr.contains("mcpauth login demo"), "{stderr}");
    out_has_no_secret(&stderr, &fx);
}

/// A small tmpfs mounted over a directory for one test, unmounted when dropped. Needs
/// root (tests/run runs as root, as CI does); without it the test fails and says so.
struct SmallDisk {
    at: std::path::PathBuf,
}

impl SmallDisk {
    /// Mounts `size` bytes of tmpfs over `dir`, keeping what `dir` held.
    fn mount_over(dir: &Path, size: usize) -> Self {
        let stage = tempfile::tempdir().unwrap();
        copy_dir(dir, stage.path());
        let status = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0700"),
                "tmpfs",
            ])
            .arg(dir)
            .status()
            .expect("run mount");
        assert!(
            status.success(),
            "cannot mount a small tmpfs over `{}`: this test needs root (as tests/run has)",
            dir.display()
        );
        copy_dir(stage.path(), dir);
        Self {
            at: dir.to_path_buf(),
        }
    }

    /// Writes a file until the disk says it is full; returns its path.
    fn fill(&self) -> std::path::PathBuf {
        use std::io::Write;
        let path = self.at.join("filler");
        let mut f = std::fs::File::create(&path).unwrap();
        let block = [0u8; 4096];
        for _ in 0..100_000 {
            if f.write_all(&block).and_then(|()| f.sync_all()).is_err() {
                return path;
            }
        }
        panic!("the small disk never filled up");
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.at).status();
    }
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

// Symptom: on a full disk the rotated refresh token was dropped, and the grant died.
#[test]
fn a_refresh_on_a_disk_that_fills_up_is_kept_in_its_reserved_journal() {
    let (fx, mut env) = signed_in(Knobs::default());
    env.env("MCPAUTH_STORE", "file");
    assert_eq!(env.run(&["logout", "demo"]).code, Some(0));
    let out = env.run(&["login", "demo"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let data = env.home().join("data");
    let disk = SmallDisk::mount_over(&data, 512 * 1024);
    let_expire(&env);

    let mut filler = None;
    let out = token_with_a_fault_mid_refresh(&env, &fx, || filler = Some(disk.fill()));
    let filler = filler.expect("the fault ran");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(fx.access_token_valid(String::from_utf8_lossy(&out.stdout).trim()));
    assert!(stderr.contains("cannot store it"), "{stderr}");
    assert!(stderr.contains("recovery"), "{stderr}");

    // Space comes back: the next refresh starts from the kept tokens.
    std::fs::remove_file(filler).unwrap();
    let_expire(&env);
    let out = env.run(&["token", "demo"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(fx.access_token_valid(out.stdout.trim()));
    fx.refreshes_without_reuse();
    drop(disk);
}

/// `mcpauth token` on an expired grant, with `fault` done while its refresh is at the
/// server (after mcpauth checked the store, before it saves).
fn token_with_a_fault_mid_refresh(
    env: &TestEnv,
    fx: &Fixture,
    fault: impl FnOnce(),
) -> std::process::Output {
    fx.update(|k| k.token_delay = Duration::from_secs(2));
    let before = fx.counters().refresh_requests;
    let mut cmd = env.command(&["token", "demo"]);
    cmd.stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let child = cmd.spawn().expect("start mcpauth token");
    let deadline = Instant::now() + Duration::from_secs(10);
    while fx.counters().refresh_requests == before {
        assert!(Instant::now() < deadline, "no refresh started");
        std::thread::sleep(Duration::from_millis(20));
    }
    fault();
    let out = child.wait_with_output().expect("wait for mcpauth token");
    fx.update(|k| k.token_delay = Duration::ZERO);
    out
}

fn out_has_no_secret(text: &str, fx: &Fixture) {
    for s in fx.secrets_seen() {
        assert!(!text.contains(&s), "a secret appears: {text}");
    }
}

// Symptom: `kill -9` just before the rename left a temp file holding live tokens.
#[test]
fn temp_files_left_by_a_killed_mcpauth_are_removed_on_the_next_run() {
    let (_fx, env) = signed_in(Knobs::default());
    let data = env.home().join("data");
    let stale = data.join(".secrets.json.999999999.0badf00d.tmp");
    std::fs::write(&stale, b"{\"grant:x\": \"live tokens\"}").unwrap();
    let out = env.run(&["token", "demo"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(!stale.exists(), "the stale temp file is still there");
}

// Symptom: ten proxies waiting on one server opened a tab each, in turn, after the person
// declined the first.
#[test]
fn a_declined_sign_in_is_shared_with_every_waiting_proxy() {
    use crate::support::AuthorizeOutcome;
    let fx = Fixture::start(Knobs {
        authorize_outcome: AuthorizeOutcome::Deny,
        ..Knobs::default()
    });
    let env = TestEnv::new();
    env.add_server("demo", &fx.mcp_url());
    let hosts: Vec<_> = (0..10)
        .map(|_| Host::start(&env, &["proxy", "demo"]))
        .collect();
    let workers: Vec<_> = hosts
        .into_iter()
        .map(|mut host| {
            std::thread::spawn(move || {
                let answer = host.initialize();
                assert_eq!(host.finish(), Some(0));
                answer
            })
        })
        .collect();
    for w in workers {
        let answer = w.join().expect("a host thread panicked");
        let message = answer["error"]["message"]
            .as_str()
            .unwrap_or_else(|| panic!("{answer}"));
        assert!(message.contains("mcpauth login demo"), "{message}");
    }
    assert_eq!(fx.counters().authorize_requests, 1, "one browser launch");
}

// Symptom: a certified OpenID provider dropped `offline_access` without a consent prompt,
// so no refresh token came and the person signed in again every hour.
#[test]
fn offline_access_is_asked_with_a_consent_prompt_unless_the_person_set_one() {
    let (fx, env) = signed_in(Knobs::default());
    let authorize = &fx.requests_to(Endpoint::Authorize)[0];
    let scope = authorize.query("scope").unwrap_or_default();
    assert!(scope.split(' ').any(|s| s == "offline_access"), "{scope}");
    assert_eq!(authorize.query("prompt").as_deref(), Some("consent"));
    // Not on refreshes: the prompt belongs to the browser step only.
    for r in fx.requests_to(Endpoint::Token) {
        assert_eq!(r.form("prompt"), None);
    }
    let out = env.run(&["login", "demo", "--auth-param", "prompt=login"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let authorize = fx.requests_to(Endpoint::Authorize).pop().unwrap();
    assert_eq!(authorize.query("prompt").as_deref(), Some("login"));

    // No offline_access listed: no prompt is added.
    let (fx, _env) = signed_in(Knobs {
        advertise_offline_access: false,
        ..Knobs::default()
    });
    assert_eq!(fx.requests_to(Endpoint::Authorize)[0].query("prompt"), None);
}

#[test]
fn a_sign_in_without_a_refresh_token_says_when_it_ends() {
    let fx = Fixture::start(Knobs {
        advertise_offline_access: false,
        refresh_without_offline_access: false,
        ..Knobs::default()
    });
    let env = TestEnv::new();
    env.add_server("demo", &fx.mcp_url());
    let out = env.run(&["login", "demo"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(
        out.stderr
            .contains("gave no refresh token: you will be asked to sign in again at"),
        "{}",
        out.stderr
    );
    let status = env.run(&["status"]);
    assert!(
        status.stdout.contains("no refresh token"),
        "{}",
        status.stdout
    );
}

// Symptom: registering with the resource's scopes was refused (`invalid_client_metadata`)
// by a provider that lists only `openid offline_access`, and the login ended there.
#[test]
fn registration_names_only_listed_scopes_and_retries_without_scope_when_refused() {
    let (fx, _env) = signed_in(Knobs::default());
    let listed: Vec<String> = {
        let meta: serde_json::Value = fx
            .requests_to(Endpoint::Register)
            .first()
            .and_then(|r| r.json())
            .expect("a registration");
        meta["scope"]
            .as_str()
            .unwrap_or_default()
            .split(' ')
            .map(str::to_owned)
            .collect()
    };
    assert!(!listed.is_empty());

    let (fx, env) = signed_in(Knobs {
        registration_refuses_scope: true,
        ..Knobs::default()
    });
    let registrations = fx.requests_to(Endpoint::Register);
    assert_eq!(registrations.len(), 2, "one refused, one without scope");
    assert!(registrations[1].json().unwrap().get("scope").is_none());
    // The sign-in itself still asks for the scopes.
    let authorize = &fx.requests_to(Endpoint::Authorize)[0];
    assert!(authorize.query("scope").is_some());
    assert_eq!(env.run(&["token", "demo"]).code, Some(0));
}
