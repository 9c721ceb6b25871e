//! Test doubles for the proxy tests: a loopback HTTP/1.1 server that records every
//! request byte for byte and answers through a script, and a host that drives
//! `proxy::run_until` over in-memory pipes.
//!
//! The server is hand-written on a TcpListener (not a framework) because the tests need
//! what frameworks hide: the raw request body and framing, streams that are cut
//! mid-answer, and connections dropped on purpose.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::future::BoxFuture;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader, DuplexStream};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};

use mcpauth::proxy::{self, ProxyError, ProxyOptions, TokenSource};

/// How long any single wait in these tests may take before the test fails: a hang is a
/// failure with a reason, never a stuck run.
pub const WAIT: Duration = Duration::from_secs(20);

/// One request as the server received it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    /// Header names lowercased, in arrival order.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The body came with `Transfer-Encoding: chunked` rather than a length.
    pub chunked: bool,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn body_str(&self) -> &str {
        std::str::from_utf8(&self.body).expect("utf-8 body")
    }

    /// The `method` of the JSON-RPC body, read loosely for assertions.
    pub fn rpc_method(&self) -> Option<String> {
        let v: serde_json::Value = serde_json::from_slice(&self.body).ok()?;
        v.get("method")?.as_str().map(str::to_owned)
    }
}

/// What the script answers.
pub enum Reply {
    /// A complete answer: status, extra headers, body.
    Full(u16, Vec<(&'static str, String)>, Vec<u8>),
    /// A streamed answer (`text/event-stream`): bytes are written as they arrive on the
    /// channel; when the channel closes the connection is closed (a cut).
    Stream(
        u16,
        Vec<(&'static str, String)>,
        mpsc::UnboundedReceiver<Vec<u8>>,
    ),
}

impl Reply {
    pub fn json(body: impl Into<Vec<u8>>) -> Self {
        Reply::Full(
            200,
            vec![("content-type", "application/json".into())],
            body.into(),
        )
    }

    pub fn status(code: u16) -> Self {
        Reply::Full(code, vec![], Vec::new())
    }

    /// A whole SSE answer in one go.
    pub fn sse(text: impl Into<Vec<u8>>) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        tx.send(text.into()).unwrap();
        Reply::Stream(200, vec![], rx)
    }
}

pub type Script = Arc<dyn Fn(Recorded) -> BoxFuture<'static, Reply> + Send + Sync>;

pub struct FakeServer {
    pub addr: SocketAddr,
    pub log: Arc<Mutex<Vec<Recorded>>>,
    task: tokio::task::JoinHandle<()>,
}

impl FakeServer {
    pub async fn start(script: Script) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1");
        Self::serve(listener, script)
    }

    /// Binds a given address again (a restarted server on the same port).
    pub async fn start_at(addr: SocketAddr, script: Script) -> Self {
        let mut tries = 0;
        let listener = loop {
            match TcpListener::bind(addr).await {
                Ok(l) => break l,
                Err(e) if tries < 50 => {
                    tries += 1;
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(e) => panic!("cannot bind {addr} again: {e}"),
            }
        };
        Self::serve(listener, script)
    }

    fn serve(listener: TcpListener, script: Script) -> Self {
        let addr = listener.local_addr().unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let task_log = Arc::clone(&log);
        let task = tokio::spawn(async move {
            let mut conns = tokio::task::JoinSet::new();
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                conns.spawn(connection(
                    stream,
                    Arc::clone(&script),
                    Arc::clone(&task_log),
                ));
            }
        });
        FakeServer { addr, log, task }
    }

    pub fn url(&self) -> url::Url {
        format!("http://{}/mcp", self.addr).parse().unwrap()
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.log.lock().unwrap().clone()
    }

    /// Stops listening and drops every open connection.
    pub fn stop(self) {
        self.task.abort();
    }
}

async fn connection(stream: TcpStream, script: Script, log: Arc<Mutex<Vec<Recorded>>>) {
    let mut stream = BufReader::new(stream);
    loop {
        let Some(request) = read_request(&mut stream).await else {
            return;
        };
        log.lock().unwrap().push(request.clone());
        let reply = script(request).await;
        let out = stream.get_mut();
        match reply {
            Reply::Full(status, headers, body) => {
                let mut head = format!("HTTP/1.1 {status} X\r\ncontent-length: {}\r\n", body.len());
                for (name, value) in headers {
                    head.push_str(&format!("{name}: {value}\r\n"));
                }
                head.push_str("\r\n");
                if out.write_all(head.as_bytes()).await.is_err()
                    || out.write_all(&body).await.is_err()
                {
                    return;
                }
            }
            Reply::Stream(status, headers, mut rx) => {
                let mut head = format!(
                    "HTTP/1.1 {status} X\r\ncontent-type: text/event-stream\r\nconnection: close\r\n"
                );
                for (name, value) in headers {
                    head.push_str(&format!("{name}: {value}\r\n"));
                }
                head.push_str("\r\n");
                if out.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                while let Some(chunk) = rx.recv().await {
                    if out.write_all(&chunk).await.is_err() || out.flush().await.is_err() {
                        return;
                    }
                }
                return;
            }
        }
    }
}

async fn read_request(stream: &mut BufReader<TcpStream>) -> Option<Recorded> {
    let mut line = String::new();
    if stream.read_line(&mut line).await.ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_owned();
    let path = parts.next()?.to_owned();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        stream.read_line(&mut h).await.ok()?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (name, value) = h.split_once(':')?;
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
    }
    let get = |n: &str| headers.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
    let chunked = get("transfer-encoding").is_some_and(|v| v.contains("chunked"));
    let mut body = Vec::new();
    if chunked {
        loop {
            let mut size = String::new();
            stream.read_line(&mut size).await.ok()?;
            let size = usize::from_str_radix(size.trim(), 16).ok()?;
            let mut chunk = vec![0; size + 2];
            stream.read_exact(&mut chunk).await.ok()?;
            if size == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..size]);
        }
    } else if let Some(len) = get("content-length") {
        body = vec![0; len.parse().ok()?];
        stream.read_exact(&mut body).await.ok()?;
    }
    Some(Recorded {
        method,
        path,
        headers,
        body,
        chunked,
    })
}

/// The host side: writes stdin lines, reads stdout lines of a proxy running in-process.
pub struct Host {
    stdin: Option<DuplexStream>,
    stdout: BufReader<DuplexStream>,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<Result<(), ProxyError>>,
}

impl Host {
    pub fn start(opts: ProxyOptions, tokens: Arc<dyn TokenSource>) -> Self {
        let (stdin, proxy_in) = tokio::io::duplex(1 << 16);
        let (proxy_out, stdout) = tokio::io::duplex(1 << 16);
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(proxy::run_until(
            opts,
            tokens,
            BufReader::new(proxy_in),
            proxy_out,
            async move {
                let _ = stopped.await;
            },
        ));
        Host {
            stdin: Some(stdin),
            stdout: BufReader::new(stdout),
            stop: Some(stop),
            task,
        }
    }

    pub async fn send(&mut self, line: &str) {
        self.send_bytes(line.as_bytes()).await;
    }

    pub async fn send_bytes(&mut self, line: &[u8]) {
        let stdin = self.stdin.as_mut().expect("stdin still open");
        stdin.write_all(line).await.expect("write to proxy stdin");
        stdin.write_all(b"\n").await.expect("write to proxy stdin");
    }

    /// The next stdout line, without its newline; fails the test after [`WAIT`].
    pub async fn recv(&mut self) -> String {
        let mut line = Vec::new();
        match tokio::time::timeout(WAIT, self.stdout.read_until(b'\n', &mut line)).await {
            Ok(Ok(n)) if n > 0 => {}
            Ok(Ok(_)) => panic!("proxy stdout closed while a line was expected"),
            Ok(Err(e)) => panic!("reading proxy stdout: {e}"),
            Err(_) => panic!("no line on proxy stdout within {WAIT:?}"),
        }
        assert_eq!(line.pop(), Some(b'\n'));
        String::from_utf8(line).expect("utf-8 stdout line")
    }

    pub async fn recv_json(&mut self) -> serde_json::Value {
        let line = self.recv().await;
        serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("stdout line is not JSON ({e}): {line}"))
    }

    /// Closes stdin and waits for the proxy to finish; returns what it returned and
    /// anything it still wrote.
    pub async fn finish(mut self) -> (Result<(), ProxyError>, String) {
        self.stdin.take();
        let result = tokio::time::timeout(WAIT, &mut self.task)
            .await
            .expect("proxy did not exit after stdin closed")
            .expect("proxy task panicked");
        let mut rest = String::new();
        let _ = self.stdout.read_to_string(&mut rest).await;
        (result, rest)
    }

    /// Signals termination (as SIGTERM would) and waits for the proxy to finish.
    pub async fn terminate(mut self) -> Result<(), ProxyError> {
        let _ = self.stop.take().unwrap().send(());
        tokio::time::timeout(WAIT, &mut self.task)
            .await
            .expect("proxy did not exit after termination")
            .expect("proxy task panicked")
    }
}

/// Waits until the server log satisfies `done`, failing the test after [`WAIT`].
pub async fn wait_for_log(server: &FakeServer, what: &str, done: impl Fn(&[Recorded]) -> bool) {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        if done(&server.requests()) {
            return;
        }
        if tokio::time::Instant::now() > deadline {
            panic!(
                "the server never saw {what}; it got: {:#?}",
                summary(&server.requests())
            );
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub fn summary(log: &[Recorded]) -> Vec<String> {
    log.iter()
        .map(|r| {
            format!(
                "{} {} {}",
                r.method,
                r.path,
                String::from_utf8_lossy(&r.body)
                    .chars()
                    .take(120)
                    .collect::<String>()
            )
        })
        .collect()
}

/// Shared, countable state for scripts.
#[derive(Default)]
pub struct Counters(Mutex<HashMap<String, usize>>);

impl Counters {
    pub fn bump(&self, key: &str) -> usize {
        let mut map = self.0.lock().unwrap();
        let n = map.entry(key.to_owned()).or_default();
        *n += 1;
        *n
    }
}

pub fn script<F, Fut>(f: F) -> Script
where
    F: Fn(Recorded) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Reply> + Send + 'static,
{
    Arc::new(move |r| Box::pin(f(r)))
}
