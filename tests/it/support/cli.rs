//! The harness for running the real `mcpauth` binary: a private `MCPAUTH_HOME`, a project
//! directory holding `.mcp.json`, a "browser" that is `curl` following redirects into
//! mcpauth's loopback listener, and a runner that kills the child after a deadline.
//!
//! `HOME` stays as it is (rustup needs it); desktop variables are removed so no real
//! browser ever opens, and proxy variables are removed so loopback traffic stays direct.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// How long a run may take before the runner kills it.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

pub struct TestEnv {
    root: tempfile::TempDir,
    extra_env: Vec<(String, String)>,
    /// How far ahead of the system's time the next run's clock is: see
    /// [`TestEnv::let_time_pass`].
    clock_ahead_ms: std::sync::atomic::AtomicU64,
    pub timeout: Duration,
}

#[derive(Debug)]
pub struct RunOutput {
    /// The exit code; `None` when killed by a signal or by the runner's deadline.
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub timed_out: bool,
}

impl RunOutput {
    /// stdout and stderr together, for "no secret appears anywhere" checks.
    pub fn all_output(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }

    /// Panics with both streams when no secret may show but one does.
    pub fn assert_no_secret(&self, secrets: &[String]) {
        let all = self.all_output();
        for s in secrets {
            assert!(
                !all.contains(s.as_str()),
                "a secret starting `{}` appears in the output:\n{all}",
                &s[..s.len().min(6)]
            );
        }
    }
}

impl Default for TestEnv {
    fn default() -> Self {
        Self::new()
    }
}

impl TestEnv {
    pub fn new() -> Self {
        let root = tempfile::Builder::new()
            .prefix("mcpauth-it-")
            .tempdir()
            .expect("create a temp dir for the test");
        for dir in ["home", "project", "browser"] {
            std::fs::create_dir_all(root.path().join(dir)).expect("create test dirs");
        }
        Self {
            root,
            extra_env: Vec::new(),
            clock_ahead_ms: std::sync::atomic::AtomicU64::new(0),
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// `MCPAUTH_HOME`.
    pub fn home(&self) -> PathBuf {
        self.root.path().join("home")
    }

    /// The working directory of every run; `.mcp.json` lives here.
    pub fn project(&self) -> PathBuf {
        self.root.path().join("project")
    }

    fn page_path(&self) -> PathBuf {
        self.root.path().join("browser").join("page.html")
    }

    /// The command mcpauth runs with the authorization URL appended.
    pub fn browser_command(&self) -> String {
        format!(
            "curl -sS -L --max-time 30 -o {}",
            self.page_path().display()
        )
    }

    /// Sets an extra environment variable for every run.
    pub fn env(&mut self, key: &str, value: &str) -> &mut Self {
        self.extra_env.push((key.to_owned(), value.to_owned()));
        self
    }

    /// Lets `by` pass for every later run of mcpauth, without waiting: each run's clock
    /// (`MCPAUTH_TEST_CLOCK_AHEAD_MS`) is that much further ahead of the system's. The
    /// fixture's authorization server keeps the real time, so its tokens stay good there;
    /// what moves is mcpauth's idea of when its own tokens expire.
    pub fn let_time_pass(&self, by: Duration) {
        let ms = u64::try_from(by.as_millis()).expect("a test's time fits");
        self.clock_ahead_ms
            .fetch_add(ms, std::sync::atomic::Ordering::Relaxed);
    }

    /// Writes `.mcp.json` with one HTTP server.
    pub fn add_server(&self, name: &str, url: &str) {
        self.add_server_entry(name, json!({ "type": "http", "url": url }));
    }

    /// Adds (or replaces) one entry under `mcpServers` in `.mcp.json`.
    pub fn add_server_entry(&self, name: &str, entry: Value) {
        let path = self.project().join(".mcp.json");
        let mut doc = std::fs::read_to_string(&path)
            .ok()
            .and_then(|t| serde_json::from_str::<Value>(&t).ok())
            .unwrap_or_else(|| json!({ "mcpServers": {} }));
        doc["mcpServers"][name] = entry;
        self.write_mcp_json(&doc);
    }

    pub fn write_mcp_json(&self, doc: &Value) {
        let text = serde_json::to_string_pretty(doc).expect("JSON serialises");
        std::fs::write(self.project().join(".mcp.json"), text).expect("write .mcp.json");
    }

    /// The page the "browser" landed on after the last sign-in, if it got anywhere.
    pub fn browser_page(&self) -> Option<String> {
        std::fs::read_to_string(self.page_path()).ok()
    }

    /// Does what mcpauth does with `MCPAUTH_BROWSER`: split on whitespace, append the URL,
    /// run it. For self-tests of the browser stand-in.
    pub fn open_in_browser(&self, url: &str) -> RunOutput {
        let command = self.browser_command();
        let mut parts = command.split_whitespace();
        let program = parts.next().expect("a browser command");
        let mut args: Vec<String> = parts.map(str::to_owned).collect();
        args.push(url.to_owned());
        let mut cmd = Command::new(program);
        cmd.args(&args);
        self.scrub(&mut cmd);
        run_bounded(cmd, None::<&str>, self.timeout)
    }

    /// A `Command` for the mcpauth binary with this environment; for tests that need to
    /// drive stdin/stdout themselves (the proxy).
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_mcpauth"));
        cmd.args(args);
        self.scrub(&mut cmd);
        cmd.env("MCPAUTH_HOME", self.home())
            .env("MCPAUTH_BROWSER", self.browser_command())
            .env(
                mcpauth::clock::AHEAD_VAR,
                self.clock_ahead_ms
                    .load(std::sync::atomic::Ordering::Relaxed)
                    .to_string(),
            );
        for (k, v) in &self.extra_env {
            cmd.env(k, v);
        }
        cmd
    }

    fn scrub(&self, cmd: &mut Command) {
        cmd.current_dir(self.project());
        for var in [
            "DISPLAY",
            "WAYLAND_DISPLAY",
            "BROWSER",
            "http_proxy",
            "https_proxy",
            "all_proxy",
            "HTTP_PROXY",
            "HTTPS_PROXY",
            "ALL_PROXY",
            "MCPAUTH_HOME",
            "MCPAUTH_BROWSER",
        ] {
            cmd.env_remove(var);
        }
        cmd.env("NO_PROXY", "127.0.0.1,localhost,::1");
    }

    /// Runs `mcpauth ARGS` to completion (or the deadline).
    pub fn run(&self, args: &[&str]) -> RunOutput {
        run_bounded(self.command(args), None::<&str>, self.timeout)
    }

    /// Runs `mcpauth ARGS` with `stdin` written to it and then closed.
    pub fn run_with_stdin(&self, args: &[&str], stdin: &str) -> RunOutput {
        run_bounded(self.command(args), Some(stdin), self.timeout)
    }

    /// [`TestEnv::run_with_stdin`] with bytes that need not be UTF-8.
    pub fn run_with_stdin_bytes(&self, args: &[&str], stdin: &[u8]) -> RunOutput {
        run_bounded(self.command(args), Some(stdin), self.timeout)
    }
}

/// Runs `cmd`, feeding `stdin` if given, and kills it at `timeout`. The wait loop is
/// bounded by the deadline; the output readers run on their own threads so a chatty
/// child never blocks on a full pipe.
pub fn run_bounded(
    mut cmd: Command,
    stdin: Option<&(impl AsRef<[u8]> + ?Sized)>,
    timeout: Duration,
) -> RunOutput {
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let program = cmd.get_program().to_string_lossy().into_owned();
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start `{program}`: {e}"));
    if let Some(text) = stdin {
        let mut pipe = child.stdin.take().expect("stdin is piped");
        let bytes = text.as_ref().to_vec();
        std::thread::spawn(move || {
            let _ = pipe.write_all(&bytes);
        });
    }
    let reader = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = pipe.read_to_end(&mut buf);
            String::from_utf8_lossy(&buf).into_owned()
        })
    };
    let out = reader(Box::new(child.stdout.take().expect("stdout is piped")));
    let err = reader(Box::new(child.stderr.take().expect("stderr is piped")));
    let deadline = Instant::now() + timeout;
    let mut timed_out = false;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if Instant::now() >= deadline => {
                timed_out = true;
                let _ = child.kill();
                break child.wait().ok();
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => panic!("waiting for `{program}`: {e}"),
        }
    };
    RunOutput {
        code: status.and_then(|s| s.code()),
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
        timed_out,
    }
}

/// True when `path` exists and only its owner may read it (secret files are 0600).
#[cfg(unix)]
pub fn is_private_file(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o077 == 0)
}
