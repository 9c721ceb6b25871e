//! The proxy against a real server: `tests/peers/server.mjs`, built on the official MCP
//! TypeScript SDK, in its Streamable HTTP (SSE and JSON answers) and legacy SSE forms.
//! These tests need `npm ci --prefix tests/peers`; without it they fail and say so.

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use mcpauth::proxy::{NoAuth, ProxyOptions};

use crate::proxy_fake::{Host, WAIT};

/// A running `server.mjs`; killed when dropped.
pub(crate) struct SdkServer {
    _child: Child,
    pub(crate) url: url::Url,
}

pub(crate) fn peers_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/peers")
}

/// The command `bin` of an npm peer in tests/peers (`what` names it when it is missing).
pub(crate) fn peer_bin(bin: &str, what: &str) -> PathBuf {
    let path = peers_dir().join("node_modules/.bin").join(bin);
    assert!(
        path.exists(),
        "{what} is missing: run `npm ci --prefix tests/peers` (tests/run does)"
    );
    path
}

pub(crate) async fn sdk_server(args: &[&str]) -> SdkServer {
    let dir = peers_dir();
    assert!(
        dir.join("node_modules/@modelcontextprotocol/sdk").is_dir(),
        "the MCP SDK is not installed: run `npm ci --prefix tests/peers` (see .ci/run)"
    );
    let mut child = Command::new("node")
        .arg(dir.join("server.mjs"))
        .args(args)
        .current_dir(&dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start `node` for tests/peers/server.mjs: {e}"));
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    tokio::time::timeout(WAIT, stdout.read_line(&mut line))
        .await
        .expect("server.mjs printed no port in time")
        .expect("reading server.mjs stdout");
    let port: u16 = line
        .trim()
        .strip_prefix("PORT ")
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("server.mjs printed `{line}` instead of its port"));
    SdkServer {
        _child: child,
        url: format!("http://127.0.0.1:{port}/mcp").parse().unwrap(),
    }
}

fn request(id: u64, method: &str, params: Value) -> String {
    json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}).to_string()
}

/// Reads stdout until the answer to `id`, returning it and whatever came before.
async fn answer_to(host: &mut Host, id: u64) -> (Value, Vec<Value>) {
    let mut before = Vec::new();
    for _ in 0..50 {
        let message = host.recv_json().await;
        if message["id"] == id && message.get("method").is_none() {
            return (message, before);
        }
        before.push(message);
    }
    panic!("no answer to request {id}; saw {before:?}");
}

fn text_of(answer: &Value) -> &str {
    answer["result"]["content"][0]["text"]
        .as_str()
        .unwrap_or_else(|| panic!("no text in {answer}"))
}

/// `streams`: the server can send messages tied to a call (not so with JSON answers,
/// where the SDK has no channel for them).
async fn session_against(server: &SdkServer, streams: bool) {
    let mut host = Host::start(
        ProxyOptions::new(server.url.clone(), "sdk"),
        Arc::new(NoAuth::default()),
    );
    host.send(&request(
        0,
        "initialize",
        json!({"protocolVersion": "2025-11-25", "capabilities": {"elicitation": {"form": {}}},
               "clientInfo": {"name": "proxy-test", "version": "1"}}),
    ))
    .await;
    let (init, _) = answer_to(&mut host, 0).await;
    assert_eq!(init["result"]["serverInfo"]["name"], "mcpauth-test-server");
    host.send(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#)
        .await;

    host.send(&request(1, "tools/list", json!({}))).await;
    let (tools, _) = answer_to(&mut host, 1).await;
    let mut names: Vec<&str> = tools["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["ask", "big", "echo", "notify", "roots", "touch"]);

    let text = "日本語 \u{1F600} \"quoted\" \\ back";
    host.send(&request(
        2,
        "tools/call",
        json!({"name": "echo", "arguments": {"text": text}}),
    ))
    .await;
    assert_eq!(text_of(&answer_to(&mut host, 2).await.0), text);

    host.send(&request(
        3,
        "tools/call",
        json!({"name": "notify", "arguments": {}}),
    ))
    .await;
    let (done, before) = answer_to(&mut host, 3).await;
    assert_eq!(text_of(&done), "done");
    assert_eq!(
        before
            .iter()
            .any(|m| m["method"] == "notifications/message"),
        streams,
        "the log notification reaches the host: {before:?}"
    );

    // The server asks the host mid-call; the host's answer goes back through the proxy.
    if streams {
        ask(&mut host).await;
    }

    let size = 10 * 1024 * 1024;
    host.send(&request(
        5,
        "tools/call",
        json!({"name": "big", "arguments": {"size": size}}),
    ))
    .await;
    assert_eq!(text_of(&answer_to(&mut host, 5).await.0).len(), size);

    let (result, rest) = host.finish().await;
    result.unwrap();
    assert_eq!(rest, "");
}

async fn ask(host: &mut Host) {
    host.send(&request(
        4,
        "tools/call",
        json!({"name": "ask", "arguments": {}}),
    ))
    .await;
    let elicit = host.recv_json().await;
    assert_eq!(elicit["method"], "elicitation/create", "{elicit}");
    let reply = json!({"jsonrpc": "2.0", "id": elicit["id"],
                       "result": {"action": "accept", "content": {"name": "nobody"}}});
    host.send(&reply.to_string()).await;
    assert_eq!(text_of(&answer_to(host, 4).await.0), "hello nobody");
}

#[tokio::test]
async fn sdk_server_with_sse_answers() {
    session_against(&sdk_server(&[]).await, true).await;
}

#[tokio::test]
async fn sdk_server_with_json_answers() {
    session_against(&sdk_server(&["--json"]).await, false).await;
}

#[tokio::test]
async fn sdk_legacy_sse_server() {
    session_against(&sdk_server(&["--legacy"]).await, true).await;
}
