//! The proxy against scripted loopback servers: byte-exact forwarding, Streamable HTTP
//! sessions and streams, token retries, session loss, broken streams, restarts, the
//! legacy SSE transport and the 2026-07-28 headers.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use futures_util::future::BoxFuture;
use tokio::sync::mpsc;

use mcpauth::proxy::{AuthUnavailable, NoAuth, ProxyOptions, TokenSource, Transport};
use mcpauth::secret::Secret;

use crate::proxy_fake::{Counters, FakeServer, Host, Recorded, Reply, script, wait_for_log};

const INIT: &str = r#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{"elicitation":{}},"clientInfo":{"name":"host","version":"1"}}}"#;
const INIT_ANSWER: &str = r#"{"jsonrpc":"2.0","id":0,"result":{"protocolVersion":"2025-11-25","capabilities":{"tools":{}},"serverInfo":{"name":"fake","version":"1"}}}"#;
const INITIALIZED: &str = r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#;

fn opts(server: &FakeServer) -> ProxyOptions {
    ProxyOptions::new(server.url(), "fake")
}

fn no_auth() -> Arc<dyn TokenSource> {
    Arc::new(NoAuth::default())
}

/// The answer to initialize that starts session `s1`.
fn session_start() -> Reply {
    Reply::Full(
        200,
        vec![
            ("content-type", "application/json".into()),
            ("mcp-session-id", "s1".into()),
        ],
        INIT_ANSWER.into(),
    )
}

/// The parts of a Streamable HTTP server every test needs: initialize hands out session
/// `s1`, notifications and responses get 202, a plain GET is not offered, DELETE is
/// accepted. Anything else (a resuming GET included) goes to `rest`.
fn mcp_server<F>(rest: F) -> crate::proxy_fake::Script
where
    F: Fn(Recorded) -> Reply + Send + Sync + 'static,
{
    script(move |r: Recorded| {
        let reply = match (r.method.as_str(), r.rpc_method().as_deref()) {
            ("POST", Some("initialize")) => session_start(),
            ("POST", Some(m)) if m.starts_with("notifications/") => Reply::status(202),
            ("GET", _) if r.header("last-event-id").is_none() => Reply::status(405),
            ("DELETE", _) => Reply::status(200),
            _ => rest(r),
        };
        async move { reply }
    })
}

async fn handshake(host: &mut Host) {
    host.send(INIT).await;
    assert_eq!(host.recv().await, INIT_ANSWER);
    host.send(INITIALIZED).await;
}

#[tokio::test]
async fn messages_pass_byte_for_byte_in_both_directions() {
    // Odd but valid JSON: unknown fields, number spellings serde would rewrite, escapes,
    // non-ASCII, a string id, key order that is not alphabetical.
    let request = r#"{"method":"tools/call","id":"id-\u00e9-1","jsonrpc":"2.0","params":{"name":"echo","arguments":{"big":123456789012345678901234567890,"f":1.0,"e":1e400,"s":"日本 \ud83d\ude00 \"q\""}},"zz_unknown":{"k":[1.50,-0e0]}}"#;
    let progress = r#"{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":"t","progress":0.50}}"#;
    let server_request = r#"{"jsonrpc":"2.0","id":99,"method":"elicitation/create","params":{"message":"ok?","requestedSchema":{"type":"object","properties":{}}}}"#;
    let answer = r#"{"jsonrpc":"2.0","id":"id-\u00e9-1","result":{"content":[{"type":"text","text":"日本"}],"n":1E+2,"extra":null}}"#;
    let batch =
        r#"[{"jsonrpc":"2.0","id":5,"method":"ping"},{"jsonrpc":"2.0","id":6,"method":"ping"}]"#;
    let batch_answer =
        r#"[{"jsonrpc":"2.0","id":6,"result":{}},{"jsonrpc":"2.0","id":5,"result":{}}]"#;
    let sse =
        format!("event: message\ndata: {progress}\n\ndata: {server_request}\n\ndata: {answer}\n\n");
    let server = FakeServer::start(mcp_server(move |r| {
        if r.body_str().starts_with('[') {
            Reply::json(batch_answer)
        } else {
            Reply::sse(sse.clone())
        }
    }))
    .await;
    let mut host = Host::start(opts(&server), no_auth());
    handshake(&mut host).await;
    host.send(request).await;
    assert_eq!(host.recv().await, progress);
    assert_eq!(host.recv().await, server_request);
    assert_eq!(host.recv().await, answer);
    host.send(batch).await;
    assert_eq!(host.recv().await, batch_answer);
    let (result, rest) = host.finish().await;
    result.unwrap();
    assert_eq!(rest, "", "nothing but answers on stdout");

    let log = server.requests();
    let posts: Vec<&Recorded> = log.iter().filter(|r| r.method == "POST").collect();
    let bodies: Vec<&str> = posts.iter().map(|r| r.body_str()).collect();
    assert_eq!(bodies, [INIT, INITIALIZED, request, batch]);
    for post in &posts {
        assert_eq!(
            post.header("accept"),
            Some("application/json, text/event-stream")
        );
        assert_eq!(post.header("content-type"), Some("application/json"));
        assert!(!post.chunked, "bodies are sent with a length");
    }
    assert_eq!(posts[0].header("mcp-session-id"), None);
    assert_eq!(posts[0].header("mcp-protocol-version"), None);
    for post in &posts[1..] {
        assert_eq!(post.header("mcp-session-id"), Some("s1"));
        assert_eq!(post.header("mcp-protocol-version"), Some("2025-11-25"));
    }
}

#[tokio::test]
async fn a_ten_megabyte_message_passes_intact() {
    let blob: String = (0..10 * 1024 * 1024)
        .map(|i| (b'a' + (i % 26) as u8) as char)
        .collect();
    let request = format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{{"name":"echo","arguments":{{"blob":"{blob}"}}}}}}"#
    );
    let answer = format!(
        r#"{{"jsonrpc":"2.0","id":1,"result":{{"content":[{{"type":"text","text":"{blob}"}}]}}}}"#
    );
    let sse_answer = format!("id: e1\ndata: {answer}\n\n");
    let server = FakeServer::start(mcp_server(move |_| Reply::sse(sse_answer.clone()))).await;
    let mut host = Host::start(opts(&server), no_auth());
    handshake(&mut host).await;
    host.send(&request).await;
    let got = host.recv().await;
    assert!(
        got == answer,
        "the 10 MB answer changed on the way ({} bytes)",
        got.len()
    );
    host.finish().await.0.unwrap();
    let log = server.requests();
    let sent = log
        .iter()
        .find(|r| r.rpc_method().as_deref() == Some("tools/call"))
        .unwrap();
    assert!(
        sent.body == request.as_bytes(),
        "the 10 MB request changed on the way"
    );
}

#[tokio::test]
async fn server_requests_on_the_get_stream_are_answered_through_post() {
    let (events, stream) = mpsc::unbounded_channel::<Vec<u8>>();
    let stream = Arc::new(Mutex::new(Some(stream)));
    let elicit = r#"{"jsonrpc":"2.0","id":"srv-1","method":"elicitation/create","params":{"message":"name?","requestedSchema":{"type":"object","properties":{"name":{"type":"string","default":"x"}}}}}"#;
    let server = FakeServer::start(script(move |r: Recorded| {
        let stream = Arc::clone(&stream);
        async move {
            match (r.method.as_str(), r.rpc_method().as_deref()) {
                ("POST", Some("initialize")) => session_start(),
                ("GET", _) => match stream.lock().unwrap().take() {
                    Some(rx) => Reply::Stream(200, vec![], rx),
                    None => Reply::status(405),
                },
                _ => Reply::status(202),
            }
        }
    }))
    .await;
    let mut host = Host::start(opts(&server), no_auth());
    handshake(&mut host).await;
    wait_for_log(&server, "the GET stream", |log| {
        log.iter().any(|r| r.method == "GET")
    })
    .await;
    events
        .send(format!("id: 1\ndata: {elicit}\n\n").into_bytes())
        .unwrap();
    assert_eq!(host.recv().await, elicit);
    let reply =
        r#"{"jsonrpc":"2.0","id":"srv-1","result":{"action":"accept","content":{"name":"x"}}}"#;
    host.send(reply).await;
    wait_for_log(&server, "the elicitation answer", |log| {
        log.iter().any(|r| r.body_str() == reply)
    })
    .await;
    host.finish().await.0.unwrap();

    let log = server.requests();
    let get = log.iter().find(|r| r.method == "GET").unwrap();
    assert_eq!(get.header("accept"), Some("text/event-stream"));
    assert_eq!(get.header("mcp-session-id"), Some("s1"));
    let posted = log.iter().find(|r| r.body_str() == reply).unwrap();
    assert_eq!(posted.header("mcp-session-id"), Some("s1"));
    // The GET went out only after the host's initialized notification.
    let initialized_at = log
        .iter()
        .position(|r| r.body_str() == INITIALIZED)
        .unwrap();
    let get_at = log.iter().position(|r| r.method == "GET").unwrap();
    assert!(initialized_at < get_at);
}

/// Counts calls and hands out `t1`, then `t2`, ...; refuses with `AuthUnavailable` when
/// `refuse` is set.
#[derive(Default)]
struct CountingTokens {
    issued: AtomicUsize,
    unauthorized: AtomicUsize,
    scope_upgrades: AtomicUsize,
    challenges: Mutex<Vec<String>>,
    refuse: Option<String>,
}

impl TokenSource for CountingTokens {
    fn bearer(&self) -> BoxFuture<'_, Result<Option<Secret>, AuthUnavailable>> {
        Box::pin(async move {
            if let Some(message) = &self.refuse {
                return Err(AuthUnavailable {
                    message: message.clone(),
                });
            }
            let n = self.issued.load(Ordering::SeqCst).max(1);
            self.issued.store(n, Ordering::SeqCst);
            Ok(Some(Secret::new(format!("t{n}"))))
        })
    }

    fn unauthorized<'a>(
        &'a self,
        sent: Option<&'a Secret>,
        challenge: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Secret, AuthUnavailable>> {
        Box::pin(async move {
            self.unauthorized.fetch_add(1, Ordering::SeqCst);
            self.challenges.lock().unwrap().push(format!(
                "{}|{}",
                sent.map(|s| s.expose()).unwrap_or("-"),
                challenge.unwrap_or("-")
            ));
            let n = self.issued.fetch_add(1, Ordering::SeqCst) + 1;
            Ok(Secret::new(format!("t{n}")))
        })
    }

    fn insufficient_scope<'a>(
        &'a self,
        challenge: &'a str,
    ) -> BoxFuture<'a, Result<Secret, AuthUnavailable>> {
        Box::pin(async move {
            self.scope_upgrades.fetch_add(1, Ordering::SeqCst);
            self.challenges
                .lock()
                .unwrap()
                .push(format!("scope|{challenge}"));
            let n = self.issued.fetch_add(1, Ordering::SeqCst) + 1;
            Ok(Secret::new(format!("t{n}")))
        })
    }
}

#[tokio::test]
async fn a_401_refreshes_once_and_resends() {
    let challenge = r#"Bearer error="invalid_token", resource_metadata="http://127.0.0.1/x""#;
    let server = FakeServer::start(mcp_server(move |r| {
        if r.header("authorization") == Some("Bearer t2") {
            Reply::json(r#"{"jsonrpc":"2.0","id":1,"result":{"tools":[]}}"#)
        } else {
            Reply::Full(
                401,
                vec![("www-authenticate", challenge.into())],
                Vec::new(),
            )
        }
    }))
    .await;
    let tokens = Arc::new(CountingTokens::default());
    let mut host = Host::start(opts(&server), tokens.clone());
    handshake(&mut host).await;
    host.send(r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#)
        .await;
    assert_eq!(
        host.recv().await,
        r#"{"jsonrpc":"2.0","id":1,"result":{"tools":[]}}"#
    );
    host.finish().await.0.unwrap();

    assert_eq!(tokens.unauthorized.load(Ordering::SeqCst), 1);
    assert_eq!(
        *tokens.challenges.lock().unwrap(),
        [format!("t1|{challenge}")]
    );
    let auth: Vec<Option<String>> = server
        .requests()
        .iter()
        .filter(|r| r.rpc_method().as_deref() == Some("tools/list"))
        .map(|r| r.header("authorization").map(str::to_owned))
        .collect();
    assert_eq!(
        auth,
        [Some("Bearer t1".to_owned()), Some("Bearer t2".to_owned())]
    );
    assert!(
        server
            .requests()
            .iter()
            .all(|r| r.header("authorization").is_some())
    );
}

#[tokio::test]
async fn a_second_401_is_an_error_not_a_loop() {
    let server = FakeServer::start(mcp_server(|_| Reply::status(401))).await;
    let tokens = Arc::new(CountingTokens::default());
    let mut host = Host::start(opts(&server), tokens.clone());
    handshake(&mut host).await;
    host.send(r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#)
        .await;
    let answer = host.recv_json().await;
    assert_eq!(answer["id"], 1);
    assert_eq!(answer["error"]["code"], -32000);
    assert!(
        answer["error"]["message"].as_str().unwrap().contains("401"),
        "{answer}"
    );
    host.finish().await.0.unwrap();
    assert_eq!(tokens.unauthorized.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn insufficient_scope_upgrades_at_most_twice_per_message() {
    let challenge = r#"Bearer error="insufficient_scope", scope="files:write""#;
    let server = FakeServer::start(mcp_server(move |r| {
        if r.header("authorization") == Some("Bearer t3") && r.body_str().contains(r#""id":1"#) {
            Reply::json(r#"{"jsonrpc":"2.0","id":1,"result":{}}"#)
        } else {
            Reply::Full(
                403,
                vec![("www-authenticate", challenge.into())],
                Vec::new(),
            )
        }
    }))
    .await;
    let tokens = Arc::new(CountingTokens::default());
    let mut host = Host::start(opts(&server), tokens.clone());
    handshake(&mut host).await;
    host.send(r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"w"}}"#)
        .await;
    assert_eq!(host.recv().await, r#"{"jsonrpc":"2.0","id":1,"result":{}}"#);
    assert_eq!(tokens.scope_upgrades.load(Ordering::SeqCst), 2);
    // A message the server keeps refusing stops after two upgrades (with a first sign-in,
    // three authorizations: the conformance suite's retry limit).
    host.send(r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"w"}}"#)
        .await;
    let answer = host.recv_json().await;
    assert_eq!(answer["id"], 2);
    assert!(
        answer["error"]["message"].as_str().unwrap().contains("403"),
        "{answer}"
    );
    assert_eq!(tokens.scope_upgrades.load(Ordering::SeqCst), 4);
    host.finish().await.0.unwrap();
    assert_eq!(
        tokens.challenges.lock().unwrap()[0],
        format!("scope|{challenge}")
    );
}

#[tokio::test]
async fn without_a_token_each_request_gets_an_error_and_eof_exits_cleanly() {
    let server = FakeServer::start(mcp_server(|_| Reply::status(500))).await;
    let message = "not signed in to `fake`: run `mcpauth login fake`";
    let tokens = Arc::new(CountingTokens {
        refuse: Some(message.into()),
        ..Default::default()
    });
    let mut host = Host::start(opts(&server), tokens);
    host.send(INIT).await;
    let answer = host.recv_json().await;
    assert_eq!(answer["id"], 0);
    assert_eq!(answer["error"]["code"], -32001);
    assert_eq!(answer["error"]["message"], message);
    host.send(INITIALIZED).await;
    host.send(r#"{"jsonrpc":"2.0","id":"a","method":"tools/list"}"#)
        .await;
    host.send(r#"{"jsonrpc":"2.0","id":7,"method":"ping"}"#)
        .await;
    let mut ids = vec![
        host.recv_json().await["id"].clone(),
        host.recv_json().await["id"].clone(),
    ];
    ids.sort_by_key(|v| v.to_string());
    assert_eq!(ids, [serde_json::json!("a"), serde_json::json!(7)]);
    let (result, rest) = host.finish().await;
    result.unwrap();
    assert_eq!(rest, "", "the notification is dropped, not answered");
    assert!(
        server.requests().is_empty(),
        "nothing is sent without a token"
    );
}

#[tokio::test]
async fn an_expired_session_is_replayed_without_the_host_noticing() {
    let inits = Arc::new(Counters::default());
    let counter = Arc::clone(&inits);
    let server = FakeServer::start(script(move |r: Recorded| {
        let inits = Arc::clone(&counter);
        async move {
            match (r.method.as_str(), r.rpc_method().as_deref()) {
                ("POST", Some("initialize")) => {
                    let n = inits.bump("init");
                    Reply::Full(
                        200,
                        vec![
                            ("content-type", "application/json".into()),
                            ("mcp-session-id", format!("s{n}")),
                        ],
                        INIT_ANSWER.into(),
                    )
                }
                ("GET", _) => Reply::status(405),
                ("POST", Some("notifications/initialized")) => Reply::status(202),
                // Session s1 has expired by the time the host asks for tools.
                ("POST", _) if r.header("mcp-session-id") == Some("s1") => Reply::status(404),
                ("POST", Some("tools/list")) => {
                    Reply::json(r#"{"jsonrpc":"2.0","id":3,"result":{"tools":[]}}"#)
                }
                _ => Reply::status(200),
            }
        }
    }))
    .await;
    let mut host = Host::start(opts(&server), no_auth());
    handshake(&mut host).await;
    host.send(r#"{"jsonrpc":"2.0","id":3,"method":"tools/list"}"#)
        .await;
    assert_eq!(
        host.recv().await,
        r#"{"jsonrpc":"2.0","id":3,"result":{"tools":[]}}"#
    );
    let (result, rest) = host.finish().await;
    result.unwrap();
    assert_eq!(
        rest, "",
        "the replayed initialize answer is not shown to the host"
    );

    let posts: Vec<(String, Option<String>)> = server
        .requests()
        .iter()
        .filter(|r| r.method == "POST")
        .map(|r| {
            (
                r.body_str().to_owned(),
                r.header("mcp-session-id").map(str::to_owned),
            )
        })
        .collect();
    let list = r#"{"jsonrpc":"2.0","id":3,"method":"tools/list"}"#.to_owned();
    assert_eq!(
        posts,
        [
            (INIT.to_owned(), None),
            (INITIALIZED.to_owned(), Some("s1".into())),
            (list.clone(), Some("s1".into())),
            (INIT.to_owned(), None),
            (INITIALIZED.to_owned(), Some("s2".into())),
            (list, Some("s2".into())),
        ]
    );
    let delete = server
        .requests()
        .into_iter()
        .find(|r| r.method == "DELETE")
        .expect("DELETE on exit");
    assert_eq!(delete.header("mcp-session-id"), Some("s2"));
}

#[tokio::test]
async fn a_broken_answer_stream_resumes_with_last_event_id() {
    let answer = r#"{"jsonrpc":"2.0","id":4,"result":{"content":[]}}"#;
    let progress = r#"{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":1,"progress":1}}"#;
    let server = FakeServer::start(mcp_server(move |r| {
        if r.method == "GET" {
            // Only the resumption GET reaches here (the plain one gets 405 above); it
            // has to name the last event seen.
            assert_eq!(r.header("last-event-id"), Some("ev-2"));
            Reply::sse(format!("id: ev-3\ndata: {answer}\n\n"))
        } else {
            // The stream breaks after a priming event and one progress event.
            Reply::sse(format!(
                "id: ev-1\nretry: 10\ndata:\n\nid: ev-2\ndata: {progress}\n\n"
            ))
        }
    }))
    .await;
    let mut host = Host::start(opts(&server), no_auth());
    handshake(&mut host).await;
    host.send(r#"{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"slow"}}"#)
        .await;
    assert_eq!(host.recv().await, progress);
    assert_eq!(host.recv().await, answer);
    host.finish().await.0.unwrap();
    let resumed: Vec<Recorded> = server
        .requests()
        .into_iter()
        .filter(|r| r.header("last-event-id").is_some())
        .collect();
    assert_eq!(resumed.len(), 1);
    assert_eq!(resumed[0].method, "GET");
    assert_eq!(resumed[0].header("accept"), Some("text/event-stream"));
    assert_eq!(resumed[0].header("mcp-session-id"), Some("s1"));
}

#[tokio::test]
async fn a_stream_that_breaks_without_an_event_id_becomes_an_error() {
    let server = FakeServer::start(mcp_server(|_| {
        Reply::sse(
            "data: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/message\",\"params\":{}}\n\n",
        )
    }))
    .await;
    let mut host = Host::start(opts(&server), no_auth());
    handshake(&mut host).await;
    host.send(r#"{"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"name":"x"}}"#)
        .await;
    assert_eq!(host.recv_json().await["method"], "notifications/message");
    let answer = host.recv_json().await;
    assert_eq!(answer["id"], 8);
    assert_eq!(answer["error"]["code"], -32000);
    host.finish().await.0.unwrap();
}

#[tokio::test]
async fn a_stream_ending_after_an_id_only_event_with_retry_0_is_resumed_a_bounded_number_of_times()
{
    // Symptom: such a stream was resumed thousands of times a second, for ever.
    let server = FakeServer::start(mcp_server(|_| Reply::sse("id: e1\nretry: 0\n\n"))).await;
    let mut host = Host::start(opts(&server), no_auth());
    handshake(&mut host).await;
    let started = std::time::Instant::now();
    host.send(r#"{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"x"}}"#)
        .await;
    let answer = host.recv_json().await;
    assert_eq!(answer["id"], 9);
    assert_eq!(answer["error"]["code"], -32000, "{answer}");
    let resumed = server
        .requests()
        .iter()
        .filter(|r| r.header("last-event-id") == Some("e1"))
        .count();
    assert!(
        (1..=5).contains(&resumed),
        "{resumed} resumptions of a stream that brings nothing"
    );
    // They were spaced out, `retry: 0` notwithstanding (at least 100 ms, doubling).
    assert!(
        started.elapsed() >= std::time::Duration::from_millis(100 * (resumed as u64)),
        "{resumed} resumptions in {:?}",
        started.elapsed()
    );
    host.finish().await.0.unwrap();
}

#[tokio::test]
async fn slow_requests_do_not_hold_up_others() {
    let (release, held) = mpsc::unbounded_channel::<Vec<u8>>();
    let held = Arc::new(Mutex::new(Some(held)));
    let server = FakeServer::start(mcp_server(move |r| {
        if r.body_str().contains("\"slow\"") {
            let rx = held.lock().unwrap().take().expect("one slow call");
            Reply::Stream(200, vec![], rx)
        } else {
            Reply::json(r#"{"jsonrpc":"2.0","id":2,"result":{}}"#)
        }
    }))
    .await;
    let mut host = Host::start(opts(&server), no_auth());
    handshake(&mut host).await;
    host.send(r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"slow"}}"#)
        .await;
    host.send(r#"{"jsonrpc":"2.0","id":2,"method":"ping"}"#)
        .await;
    assert_eq!(host.recv().await, r#"{"jsonrpc":"2.0","id":2,"result":{}}"#);
    release
        .send(b"data: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}\n\n".to_vec())
        .unwrap();
    assert_eq!(host.recv().await, r#"{"jsonrpc":"2.0","id":1,"result":{}}"#);
    host.finish().await.0.unwrap();
}

#[tokio::test]
async fn a_restarted_server_fails_pending_requests_then_serves_new_ones() {
    let (_keep, held) = mpsc::unbounded_channel::<Vec<u8>>();
    let held = Arc::new(Mutex::new(Some(held)));
    let first = FakeServer::start(mcp_server(move |_| {
        let rx = held.lock().unwrap().take().expect("one pending call");
        Reply::Stream(200, vec![], rx)
    }))
    .await;
    let addr = first.addr;
    let mut host = Host::start(opts(&first), no_auth());
    handshake(&mut host).await;
    host.send(r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"slow"}}"#)
        .await;
    wait_for_log(&first, "the pending call", |log| {
        log.iter().any(|r| r.body_str().contains("slow"))
    })
    .await;
    first.stop();
    let answer = host.recv_json().await;
    assert_eq!(
        answer["id"], 1,
        "the pending request is answered with an error"
    );
    assert_eq!(answer["error"]["code"], -32000);

    // The new server instance knows nothing of session s1.
    let second = FakeServer::start_at(
        addr,
        script(|r: Recorded| async move {
            match (r.method.as_str(), r.rpc_method().as_deref()) {
                ("POST", Some("initialize")) => Reply::Full(
                    200,
                    vec![
                        ("content-type", "application/json".into()),
                        ("mcp-session-id", "new".into()),
                    ],
                    INIT_ANSWER.into(),
                ),
                ("POST", _) if r.header("mcp-session-id") != Some("new") => Reply::status(404),
                ("POST", Some("ping")) => Reply::json(r#"{"jsonrpc":"2.0","id":2,"result":{}}"#),
                ("GET", _) => Reply::status(405),
                _ => Reply::status(202),
            }
        }),
    )
    .await;
    host.send(r#"{"jsonrpc":"2.0","id":2,"method":"ping"}"#)
        .await;
    assert_eq!(host.recv().await, r#"{"jsonrpc":"2.0","id":2,"result":{}}"#);
    host.finish().await.0.unwrap();
    assert!(second.requests().iter().any(|r| r.body_str() == INIT));
}

#[tokio::test]
async fn an_unreachable_server_answers_with_errors_and_the_proxy_stays_up() {
    // Bind and drop, so the port is very likely closed.
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let url: url::Url = format!("http://{addr}/mcp").parse().unwrap();
    let mut host = Host::start(ProxyOptions::new(url, "gone"), no_auth());
    host.send(INIT).await;
    let answer = host.recv_json().await;
    assert_eq!(answer["id"], 0);
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("cannot reach `gone`"),
        "{answer}"
    );
    host.send(r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#)
        .await;
    assert_eq!(host.recv_json().await["id"], 1);
    host.finish().await.0.unwrap();
}

#[tokio::test]
async fn the_session_is_deleted_on_eof_and_on_termination() {
    for terminate in [false, true] {
        let server = FakeServer::start(mcp_server(|_| Reply::status(500))).await;
        let mut host = Host::start(opts(&server), no_auth());
        handshake(&mut host).await;
        wait_for_log(&server, "initialized", |log| {
            log.iter().any(|r| r.body_str() == INITIALIZED)
        })
        .await;
        if terminate {
            host.terminate().await.unwrap();
        } else {
            host.finish().await.0.unwrap();
        }
        let deletes: Vec<Recorded> = server
            .requests()
            .into_iter()
            .filter(|r| r.method == "DELETE")
            .collect();
        assert_eq!(deletes.len(), 1, "terminate={terminate}");
        assert_eq!(deletes[0].header("mcp-session-id"), Some("s1"));
        assert_eq!(
            deletes[0].header("mcp-protocol-version"),
            Some("2025-11-25")
        );
    }
}

#[tokio::test]
async fn static_headers_go_on_every_request() {
    let server = FakeServer::start(mcp_server(|_| {
        Reply::json(r#"{"jsonrpc":"2.0","id":1,"result":{}}"#)
    }))
    .await;
    let mut options = opts(&server);
    options.headers.insert("X-Api-Key".into(), "k-123".into());
    let mut host = Host::start(options, no_auth());
    handshake(&mut host).await;
    host.send(r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#)
        .await;
    host.recv().await;
    host.finish().await.0.unwrap();
    let log = server.requests();
    assert!(log.len() >= 4, "{log:?}");
    assert!(log.iter().all(|r| r.header("x-api-key") == Some("k-123")));
    assert!(log.iter().all(|r| r.header("authorization").is_none()));
}

#[tokio::test]
async fn legacy_sse_servers_are_found_and_used() {
    legacy_server_is_used(Transport::Auto).await;
    legacy_server_is_used(Transport::Sse).await;
}

async fn legacy_server_is_used(transport: Transport) {
    let (events, stream) = mpsc::unbounded_channel::<Vec<u8>>();
    let stream = Arc::new(Mutex::new(Some(stream)));
    let events = Arc::new(events);
    let to_host = Arc::clone(&events);
    let server = FakeServer::start(script(move |r: Recorded| {
        let stream = Arc::clone(&stream);
        let events = Arc::clone(&to_host);
        async move {
            match r.method.as_str() {
                // A 2024-11-05 server knows no POST on its SSE URL.
                "POST" if r.path == "/mcp" => Reply::status(405),
                "GET" => {
                    let rx = stream.lock().unwrap().take().expect("one event stream");
                    events
                        .send(b"event: endpoint\ndata: /messages?session=abc\n\n".to_vec())
                        .unwrap();
                    Reply::Stream(200, vec![], rx)
                }
                "POST" => {
                    // Answers go out on the event stream, pretty-printed over lines.
                    let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
                    if let Some(id) = v.get("id") {
                        let answer = if v["method"] == "initialize" {
                            INIT_ANSWER.to_owned()
                        } else {
                            format!("{{\"jsonrpc\":\"2.0\",\n\"id\":{id},\n\"result\":{{}}}}")
                        };
                        let data: String = answer.lines().map(|l| format!("data: {l}\n")).collect();
                        events
                            .send(format!("event: message\n{data}\n").into_bytes())
                            .unwrap();
                    }
                    Reply::status(202)
                }
                _ => Reply::status(405),
            }
        }
    }))
    .await;
    let mut options = opts(&server);
    options.transport = transport;
    let mut host = Host::start(options, no_auth());
    handshake(&mut host).await;
    host.send(r#"{"jsonrpc":"2.0","id":"q","method":"tools/list"}"#)
        .await;
    assert_eq!(
        host.recv().await,
        r#"{"jsonrpc":"2.0", "id":"q", "result":{}}"#
    );
    host.finish().await.0.unwrap();
    let log = server.requests();
    let to_endpoint: Vec<&str> = log
        .iter()
        .filter(|r| r.path == "/messages?session=abc")
        .map(|r| r.body_str())
        .collect();
    assert_eq!(
        to_endpoint,
        [
            INIT,
            INITIALIZED,
            r#"{"jsonrpc":"2.0","id":"q","method":"tools/list"}"#
        ]
    );
    let first_get = log.iter().position(|r| r.method == "GET").unwrap();
    // Auto mode learns from a refused initialize POST; `--transport sse` goes straight
    // to the event stream.
    assert_eq!(first_get, if transport == Transport::Auto { 1 } else { 0 });
    assert_eq!(log[first_get].header("accept"), Some("text/event-stream"));
}

#[tokio::test]
async fn stateless_2026_requests_carry_routing_headers_and_no_session() {
    let server = FakeServer::start(script(|r: Recorded| async move {
        let id = serde_json::from_slice::<serde_json::Value>(&r.body).unwrap()["id"].clone();
        Reply::json(format!(r#"{{"jsonrpc":"2.0","id":{id},"result":{{}}}}"#))
    }))
    .await;
    let mut host = Host::start(opts(&server), no_auth());
    let call = r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_weather","arguments":{},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}}"#;
    let read = r#"{"jsonrpc":"2.0","id":2,"method":"resources/read","params":{"uri":"file:///a.txt","_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}}"#;
    host.send(call).await;
    assert_eq!(host.recv_json().await["id"], 1);
    host.send(read).await;
    assert_eq!(host.recv_json().await["id"], 2);
    host.finish().await.0.unwrap();
    let log = server.requests();
    assert_eq!(log.len(), 2, "no GET stream, no DELETE: {log:?}");
    assert_eq!(log[0].header("mcp-method"), Some("tools/call"));
    assert_eq!(log[0].header("mcp-name"), Some("get_weather"));
    assert_eq!(log[0].header("mcp-protocol-version"), Some("2026-07-28"));
    assert_eq!(log[1].header("mcp-method"), Some("resources/read"));
    assert_eq!(log[1].header("mcp-name"), Some("file:///a.txt"));
    assert!(log.iter().all(|r| r.header("mcp-session-id").is_none()));
}

// Symptom: on the 2026-07-28 wire no `Mcp-Param-*` header was sent for arguments a tool
// marks with `x-mcp-header`, a tool with invalid marks reached the host, and a tool
// name that is not plain ASCII went without its `Mcp-Name` header.
#[tokio::test]
async fn tool_arguments_marked_for_headers_are_mirrored_and_bad_marks_drop_the_tool() {
    const TOOLS: &str = r#"{"jsonrpc":"2.0","id":1,"result":{"tools":[
        {"name":"wetter-zürich","inputSchema":{"type":"object","properties":{
            "region":{"type":"string","x-mcp-header":"Region"},
            "days":{"type":"integer","x-mcp-header":"Days"},
            "note":{"type":"string","x-mcp-header":"Note"},
            "query":{"type":"string"}}}},
        {"name":"broken","inputSchema":{"type":"object","properties":{
            "n":{"type":"number","x-mcp-header":"N"}}}},
        {"name":"plain","inputSchema":{"type":"object"}}]}}"#;
    let server = FakeServer::start(script(|r: Recorded| async move {
        let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        let id = body["id"].clone();
        if body["method"] == "tools/list" {
            return Reply::json(TOOLS.replace('\n', ""));
        }
        Reply::json(format!(
            r#"{{"jsonrpc":"2.0","id":{id},"result":{{"content":[]}}}}"#
        ))
    }))
    .await;
    let mut host = Host::start(opts(&server), no_auth());
    let meta = r#""_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}"#;
    host.send(&format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{{{meta}}}}}"#
    ))
    .await;
    let listed = host.recv_json().await;
    let names: Vec<&str> = listed["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["wetter-zürich", "plain"], "{listed}");
    host.send(&format!(
        r#"{{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{{"name":"wetter-zürich","arguments":{{"region":"eu-west","days":3,"note":" größer","query":"rain"}},{meta}}}}}"#
    ))
    .await;
    assert_eq!(host.recv_json().await["id"], 2);
    host.send(&format!(
        r#"{{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{{"name":"plain","arguments":{{"region":"x"}},{meta}}}}}"#
    ))
    .await;
    assert_eq!(host.recv_json().await["id"], 3);
    host.finish().await.0.unwrap();

    let log = server.requests();
    let call = &log[1];
    assert_eq!(
        call.header("mcp-name"),
        Some("=?base64?d2V0dGVyLXrDvHJpY2g=?=")
    );
    assert_eq!(call.header("mcp-param-region"), Some("eu-west"));
    assert_eq!(call.header("mcp-param-days"), Some("3"));
    assert_eq!(
        call.header("mcp-param-note"),
        Some("=?base64?IGdyw7bDn2Vy?=")
    );
    assert_eq!(call.header("mcp-param-query"), None, "an unmarked argument");
    assert_eq!(log[2].header("mcp-name"), Some("plain"));
    assert_eq!(
        log[2].header("mcp-param-region"),
        None,
        "marks are per tool"
    );
}

#[tokio::test]
async fn a_header_mismatch_lists_the_tools_again_and_resends_the_call_once() {
    // The server's marks changed after the host listed its tools: `region` is mirrored
    // now. Its list has two pages.
    let lists = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&lists);
    let server = FakeServer::start(script(move |r: Recorded| {
        let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        let id = body["id"].clone();
        let reply = match body["method"].as_str() {
            Some("tools/list") if seen.fetch_add(1, Ordering::SeqCst) == 0 => Reply::json(format!(
                r#"{{"jsonrpc":"2.0","id":{id},"result":{{"tools":[{{"name":"sql","inputSchema":{{"type":"object"}}}}]}}}}"#
            )),
            Some("tools/list") if body["params"]["cursor"].is_null() => Reply::json(format!(
                r#"{{"jsonrpc":"2.0","id":{id},"result":{{"tools":[{{"name":"other","inputSchema":{{}}}}],"nextCursor":"p2"}}}}"#
            )),
            Some("tools/list") => Reply::json(format!(
                r#"{{"jsonrpc":"2.0","id":{id},"result":{{"tools":[{{"name":"sql","inputSchema":{{"type":"object","properties":{{"region":{{"type":"string","x-mcp-header":"Region"}}}}}}}}]}}}}"#
            )),
            _ if r.header("mcp-param-region") == Some("eu") => Reply::json(format!(
                r#"{{"jsonrpc":"2.0","id":{id},"result":{{"content":[]}}}}"#
            )),
            _ => Reply::Full(
                400,
                vec![("content-type", "application/json".into())],
                format!(r#"{{"jsonrpc":"2.0","id":{id},"error":{{"code":-32020,"message":"Header mismatch"}}}}"#).into(),
            ),
        };
        async move { reply }
    }))
    .await;
    let mut host = Host::start(opts(&server), no_auth());
    let meta = r#""_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientInfo":{"name":"host","version":"1"}}"#;
    host.send(&format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{{{meta}}}}}"#
    ))
    .await;
    assert_eq!(host.recv_json().await["id"], 1);
    host.send(&format!(
        r#"{{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{{"name":"sql","arguments":{{"region":"eu"}},{meta}}}}}"#
    ))
    .await;
    let answer = host.recv_json().await;
    assert_eq!(
        answer["result"]["content"],
        serde_json::json!([]),
        "{answer}"
    );
    // A mismatch that persists is the server's answer, after one retry only.
    host.send(&format!(
        r#"{{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{{"name":"sql","arguments":{{"region":"us"}},{meta}}}}}"#
    ))
    .await;
    let answer = host.recv_json().await;
    assert_eq!(answer["error"]["code"], -32020, "{answer}");
    host.finish().await.0.unwrap();

    let log = server.requests();
    let methods: Vec<String> = log.iter().filter_map(|r| r.rpc_method()).collect();
    assert_eq!(
        methods,
        [
            "tools/list",
            "tools/call",
            "tools/list",
            "tools/list",
            "tools/call",
            "tools/call",
            "tools/list",
            "tools/list",
            "tools/call"
        ],
        "listed again (both pages), resent once, each time"
    );
    let relist: serde_json::Value = serde_json::from_slice(&log[3].body).unwrap();
    assert_eq!(relist["params"]["cursor"], "p2");
    assert_eq!(
        relist["params"]["_meta"]["io.modelcontextprotocol/clientInfo"]["name"], "host",
        "the proxy's own request carries the host's _meta"
    );
}

// Symptom: on the 2026-07-28 wire a broken answer stream was "resumed" with a GET and
// `Last-Event-ID`, which that wire does not have, so the host got an error.
#[tokio::test]
async fn a_broken_answer_stream_on_the_2026_wire_is_sent_again_under_a_new_id() {
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&calls);
    let progress = r#"{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":"t","progress":1}}"#;
    let server = FakeServer::start(script(move |r: Recorded| {
        let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap_or_default();
        let id = body["id"].clone();
        let reply = if r.method != "POST" {
            Reply::status(405)
        } else if seen.fetch_add(1, Ordering::SeqCst) == 0 {
            // A progress event, then the stream is cut before the answer.
            Reply::sse(format!("id: e1\ndata: {progress}\n\n"))
        } else {
            Reply::json(format!(
                r#"{{"jsonrpc":"2.0","id":{id},"result":{{"content":[],"resultType":"complete"}}}}"#
            ))
        };
        async move { reply }
    }))
    .await;
    let mut host = Host::start(opts(&server), no_auth());
    host.send(r#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"slow","arguments":{},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","progressToken":"t"}}}"#)
        .await;
    assert_eq!(host.recv().await, progress);
    let answer = host.recv_json().await;
    assert_eq!(
        answer["id"], 7,
        "the answer goes back under the host's id: {answer}"
    );
    assert_eq!(answer["result"]["resultType"], "complete");
    host.finish().await.0.unwrap();

    let log = server.requests();
    assert!(
        log.iter().all(|r| r.method == "POST"),
        "no GET, no resuming: {log:?}"
    );
    let ids: Vec<serde_json::Value> = log
        .iter()
        .map(|r| serde_json::from_slice::<serde_json::Value>(&r.body).unwrap()["id"].clone())
        .collect();
    assert_eq!(ids.len(), 2, "{ids:?}");
    assert_eq!(ids[0], 7);
    assert!(
        ids[1]
            .as_str()
            .is_some_and(|id| id.starts_with("mcpauth-reissued-")),
        "a new id: {ids:?}"
    );
}

// Symptom: a host of the 2025 revisions (most of today's Claude Desktop, Cursor and VS
// Code builds) could not use a server that speaks only 2026-07-28 through the proxy: it
// got the server's refusal of `initialize`.
#[tokio::test]
async fn a_2025_host_is_bridged_onto_a_server_that_speaks_only_2026() {
    let server = FakeServer::start(script(|r: Recorded| async move {
        let refuse = || {
            Reply::Full(
                400,
                vec![("content-type", "application/json".into())],
                br#"{"jsonrpc":"2.0","id":null,"error":{"code":-32020,"message":"Missing MCP-Protocol-Version header","data":{"supported":["2026-07-28"]}}}"#.to_vec(),
            )
        };
        let Ok(body) = serde_json::from_slice::<serde_json::Value>(&r.body) else {
            return Reply::status(405);
        };
        let meta = &body["params"]["_meta"];
        if r.header("mcp-protocol-version") != Some("2026-07-28")
            || meta["io.modelcontextprotocol/protocolVersion"] != "2026-07-28"
        {
            return refuse();
        }
        let id = body["id"].clone();
        let result = match body["method"].as_str().unwrap_or_default() {
            "server/discover" => serde_json::json!({"resultType": "complete",
                "supportedVersions": ["2026-07-28"], "capabilities": {"tools": {}},
                "instructions": "only the new era",
                "_meta": {"io.modelcontextprotocol/serverInfo": {"name": "modern", "version": "2"}}}),
            "tools/list" => serde_json::json!({"resultType": "complete",
                "tools": [{"name": "whoami", "inputSchema": {"type": "object"}}]}),
            "tools/call" => serde_json::json!({"resultType": "complete", "content": [{"type": "text",
                "text": meta["io.modelcontextprotocol/clientInfo"]["name"].clone()}]}),
            _ => return Reply::status(202),
        };
        Reply::json(serde_json::json!({"jsonrpc": "2.0", "id": id, "result": result}).to_string())
    }))
    .await;
    let mut host = Host::start(opts(&server), no_auth());
    host.send(INIT).await;
    let init = host.recv_json().await;
    assert_eq!(
        init["result"],
        serde_json::json!({"protocolVersion": "2025-11-25", "capabilities": {"tools": {}},
            "serverInfo": {"name": "modern", "version": "2"}, "instructions": "only the new era"}),
        "{init}"
    );
    assert_eq!(init["id"], 0);
    host.send(INITIALIZED).await;
    host.send(r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#)
        .await;
    let listed = host.recv_json().await;
    assert_eq!(listed["result"]["tools"][0]["name"], "whoami", "{listed}");
    host.send(r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"whoami","arguments":{}}}"#)
        .await;
    let called = host.recv_json().await;
    assert_eq!(
        called["result"]["content"][0]["text"], "host",
        "the server knows the host from its initialize: {called}"
    );
    host.finish().await.0.unwrap();

    let methods: Vec<String> = server
        .requests()
        .iter()
        .filter_map(|r| r.rpc_method())
        .collect();
    assert_eq!(
        methods,
        ["initialize", "server/discover", "tools/list", "tools/call"],
        "notifications/initialized stays with the proxy"
    );
    assert!(server.requests().iter().all(|r| r.method == "POST"));
}

// On the 2026-07-28 wire a request is cancelled by closing its answer stream; the host's
// `notifications/cancelled` must do that, not travel as a message the server has no use
// for while the stream (and the server's work) goes on.
#[tokio::test]
async fn a_cancelled_request_on_the_2026_wire_closes_its_stream() {
    let (held_tx, mut held_rx) = mpsc::unbounded_channel::<mpsc::UnboundedSender<Vec<u8>>>();
    let server = FakeServer::start(script(move |r: Recorded| {
        let held_tx = held_tx.clone();
        async move {
            let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap_or_default();
            let id = body["id"].clone();
            match body["params"]["name"].as_str() {
                Some("slow") => {
                    // An answer stream that stays open; the test keeps its sender.
                    let (tx, rx) = mpsc::unbounded_channel();
                    tx.send(b": working\n\n".to_vec()).unwrap();
                    held_tx.send(tx).unwrap();
                    Reply::Stream(200, vec![], rx)
                }
                _ => Reply::json(format!(
                    r#"{{"jsonrpc":"2.0","id":{id},"result":{{"content":[]}}}}"#
                )),
            }
        }
    }))
    .await;
    let mut host = Host::start(opts(&server), no_auth());
    let meta = r#""_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}"#;
    host.send(&format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{{"name":"slow","arguments":{{}},{meta}}}}}"#
    ))
    .await;
    let stream = tokio::time::timeout(std::time::Duration::from_secs(10), held_rx.recv())
        .await
        .expect("the slow call reached the server")
        .unwrap();
    host.send(&format!(
        r#"{{"jsonrpc":"2.0","method":"notifications/cancelled","params":{{"requestId":1,{meta}}}}}"#
    ))
    .await;
    // The server sees its stream closed: writing to it fails soon (bounded).
    let mut closed = false;
    for _ in 0..200 {
        if stream.send(b": still working\n\n".to_vec()).is_err() {
            closed = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert!(
        closed,
        "the answer stream of the cancelled request is still open"
    );
    // The proxy carries on, and the cancelled request gets no answer.
    host.send(&format!(
        r#"{{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{{"name":"fast","arguments":{{}},{meta}}}}}"#
    ))
    .await;
    assert_eq!(host.recv_json().await["id"], 2);
    host.finish().await.0.unwrap();
    let methods: Vec<String> = server
        .requests()
        .iter()
        .filter_map(|r| r.rpc_method())
        .collect();
    assert_eq!(
        methods,
        ["tools/call", "tools/call"],
        "the notification stays with the proxy"
    );
}

// A 2026 server asks for input with an `input_required` result; a host of the session
// era knows only elicitation requests. Through the bridge it gets one, and its answer
// goes back with the request, sent again under a new id.
#[tokio::test]
async fn a_bridged_host_answers_a_servers_request_for_input_as_an_elicitation() {
    let server = FakeServer::start(script(|r: Recorded| async move {
        let Ok(body) = serde_json::from_slice::<serde_json::Value>(&r.body) else {
            return Reply::status(405);
        };
        let id = body["id"].clone();
        let params = &body["params"];
        let result = match body["method"].as_str().unwrap_or_default() {
            "initialize" => {
                return Reply::Full(
                    400,
                    vec![("content-type", "application/json".into())],
                    br#"{"jsonrpc":"2.0","id":null,"error":{"code":-32020,"message":"Missing MCP-Protocol-Version header"}}"#.to_vec(),
                );
            }
            "server/discover" => serde_json::json!({"resultType": "complete",
                "supportedVersions": ["2026-07-28"], "capabilities": {"tools": {}}}),
            "tools/call" if params["inputResponses"].is_null() => serde_json::json!({
                "resultType": "input_required", "requestState": "st-1",
                "inputRequests": {"confirm": {"method": "elicitation/create", "params": {
                    "message": "Delete it?", "requestedSchema": {"type": "object",
                    "properties": {"ok": {"type": "boolean"}}}}}}}),
            "tools/call" => serde_json::json!({"resultType": "complete", "content": [{"type": "text",
                "text": format!("{} {} {}", params["requestState"], params["inputResponses"]["confirm"]["action"], id)}]}),
            _ => return Reply::status(202),
        };
        Reply::json(serde_json::json!({"jsonrpc": "2.0", "id": id, "result": result}).to_string())
    }))
    .await;
    let mut host = Host::start(opts(&server), no_auth());
    host.send(INIT).await;
    assert!(host.recv_json().await["result"].is_object());
    host.send(INITIALIZED).await;
    host.send(r#"{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"delete","arguments":{}}}"#)
        .await;
    let question = host.recv_json().await;
    assert_eq!(question["method"], "elicitation/create", "{question}");
    assert_eq!(question["params"]["message"], "Delete it?");
    let qid = question["id"].clone();
    host.send(&serde_json::json!({"jsonrpc": "2.0", "id": qid, "result": {"action": "accept", "content": {"ok": true}}}).to_string())
        .await;
    let answer = host.recv_json().await;
    assert_eq!(answer["id"], 5, "{answer}");
    let text = answer["result"]["content"][0]["text"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        text.starts_with(r#""st-1" "accept" "mcpauth-retry-"#),
        "state echoed, answer sent, a new id: {text}"
    );
    host.finish().await.0.unwrap();
    let methods: Vec<String> = server
        .requests()
        .iter()
        .filter_map(|r| r.rpc_method())
        .collect();
    assert_eq!(
        methods,
        ["initialize", "server/discover", "tools/call", "tools/call"],
        "the host's answer is not forwarded"
    );
}

// Through the bridge, what a 2026 server says on its own (list changes, updates of
// subscribed resources) comes on a `subscriptions/listen` stream; a host of the session
// era gets the notifications and subscribes with `resources/subscribe` as it always has.
#[tokio::test]
async fn a_bridged_host_hears_the_servers_notifications_and_subscribes_as_before() {
    // The listen streams stay open while their senders are kept here.
    let open: Arc<Mutex<Vec<EventSender>>> = Arc::default();
    let keep = Arc::clone(&open);
    let server = FakeServer::start(script(move |r: Recorded| {
        let keep = Arc::clone(&keep);
        async move {
        let Ok(body) = serde_json::from_slice::<serde_json::Value>(&r.body) else {
            return Reply::status(405);
        };
        let id = body["id"].clone();
        let filter = &body["params"]["notifications"];
        let result = match body["method"].as_str().unwrap_or_default() {
            "initialize" => {
                return Reply::Full(
                    400,
                    vec![("content-type", "application/json".into())],
                    br#"{"jsonrpc":"2.0","id":null,"error":{"code":-32022,"message":"Unsupported protocol version","data":{"supported":["2026-07-28"]}}}"#.to_vec(),
                );
            }
            "server/discover" => serde_json::json!({"resultType": "complete",
                "supportedVersions": ["2026-07-28"],
                "capabilities": {"tools": {"listChanged": true}, "resources": {"subscribe": true}}}),
            "subscriptions/listen" => {
                let (tx, rx) = mpsc::unbounded_channel();
                let ack = serde_json::json!({"jsonrpc": "2.0", "method": "notifications/subscriptions/acknowledged", "params": {"notifications": filter}});
                tx.send(format!("data: {ack}\n\n").into_bytes()).unwrap();
                let said = match filter["resourceSubscriptions"][0].as_str() {
                    Some(uri) => serde_json::json!({"jsonrpc": "2.0", "method": "notifications/resources/updated", "params": {"uri": uri}}),
                    None => serde_json::json!({"jsonrpc": "2.0", "method": "notifications/tools/list_changed"}),
                };
                tx.send(format!("data: {said}\n\n").into_bytes()).unwrap();
                keep.lock().unwrap().push(tx);
                return Reply::Stream(200, vec![], rx);
            }
            _ => return Reply::status(202),
        };
        Reply::json(serde_json::json!({"jsonrpc": "2.0", "id": id, "result": result}).to_string())
        }
    }))
    .await;
    let mut host = Host::start(opts(&server), no_auth());
    host.send(INIT).await;
    assert!(host.recv_json().await["result"]["capabilities"]["tools"]["listChanged"] == true);
    host.send(INITIALIZED).await;
    assert_eq!(
        host.recv_json().await["method"],
        "notifications/tools/list_changed"
    );
    host.send(r#"{"jsonrpc":"2.0","id":3,"method":"resources/subscribe","params":{"uri":"file:///notes"}}"#)
        .await;
    assert_eq!(
        host.recv_json().await,
        serde_json::json!({"jsonrpc": "2.0", "id": 3, "result": {}})
    );
    let updated = host.recv_json().await;
    assert_eq!(
        updated["method"], "notifications/resources/updated",
        "{updated}"
    );
    assert_eq!(updated["params"]["uri"], "file:///notes");
    host.finish().await.0.unwrap();

    let listens: Vec<serde_json::Value> = server
        .requests()
        .iter()
        .filter(|r| r.rpc_method().as_deref() == Some("subscriptions/listen"))
        .map(|r| {
            serde_json::from_slice::<serde_json::Value>(&r.body).unwrap()["params"]["notifications"]
                .clone()
        })
        .collect();
    assert_eq!(
        listens,
        [
            serde_json::json!({"toolsListChanged": true}),
            serde_json::json!({"toolsListChanged": true, "resourceSubscriptions": ["file:///notes"]})
        ]
    );
    drop(open);
}

// The 2026-07-28 wire takes one message per POST; a host's batch goes as its messages,
// and the host gets its answers back as one batch.
#[tokio::test]
async fn a_batch_on_the_2026_wire_is_split_and_answered_as_one() {
    let server = FakeServer::start(script(|r: Recorded| async move {
        let body: serde_json::Value = match serde_json::from_slice(&r.body) {
            Ok(serde_json::Value::Object(m)) => serde_json::Value::Object(m),
            _ => return Reply::status(400),
        };
        if body.get("id").is_none() {
            return Reply::status(202);
        }
        let id = body["id"].clone();
        Reply::json(format!(
            r#"{{"jsonrpc":"2.0","id":{id},"result":{{"method":{}}}}}"#,
            body["method"]
        ))
    }))
    .await;
    let mut host = Host::start(opts(&server), no_auth());
    let meta = r#""_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}"#;
    host.send(&format!(
        r#"[{{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{{{meta}}}}},{{"jsonrpc":"2.0","method":"notifications/roots/list_changed","params":{{{meta}}}}},{{"jsonrpc":"2.0","id":2,"method":"prompts/list","params":{{{meta}}}}}]"#
    ))
    .await;
    let answers = host.recv_json().await;
    let mut ids: Vec<i64> = answers
        .as_array()
        .unwrap_or_else(|| panic!("one batch of answers: {answers}"))
        .iter()
        .map(|a| a["id"].as_i64().unwrap())
        .collect();
    ids.sort();
    assert_eq!(ids, [1, 2], "{answers}");
    host.finish().await.0.unwrap();
    let log = server.requests();
    assert_eq!(log.len(), 3, "one POST per message");
    assert!(
        log.iter().all(|r| r.body.first() == Some(&b'{')),
        "no batch on the wire"
    );
    let mut methods: Vec<String> = log
        .iter()
        .map(|r| r.header("mcp-method").unwrap().to_owned())
        .collect();
    methods.sort();
    assert_eq!(
        methods,
        [
            "notifications/roots/list_changed",
            "prompts/list",
            "tools/list"
        ]
    );
}

type EventSender = mpsc::UnboundedSender<Vec<u8>>;

#[tokio::test]
async fn a_lost_legacy_stream_fails_pending_requests_and_reconnects() {
    // Event streams by session number; dropping a sender cuts that stream.
    let streams: Arc<Mutex<Vec<Option<EventSender>>>> = Arc::default();
    let server_streams = Arc::clone(&streams);
    let server = FakeServer::start(script(move |r: Recorded| {
        let streams = Arc::clone(&server_streams);
        async move {
            if r.method == "GET" {
                let (tx, rx) = mpsc::unbounded_channel();
                let mut streams = streams.lock().unwrap();
                let n = streams.len() + 1;
                tx.send(format!("event: endpoint\ndata: /messages?session={n}\n\n").into_bytes())
                    .unwrap();
                streams.push(Some(tx));
                return Reply::Stream(200, vec![], rx);
            }
            let Some(n) = r.path.strip_prefix("/messages?session=") else {
                return Reply::status(405);
            };
            let n: usize = n.parse().unwrap();
            let streams = streams.lock().unwrap();
            let Some(Some(tx)) = streams.get(n - 1) else {
                return Reply::status(404);
            };
            let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
            let answer = match v["method"].as_str() {
                Some("initialize") => Some(INIT_ANSWER.to_owned()),
                Some("tools/list") => Some(format!(
                    r#"{{"jsonrpc":"2.0","id":{},"result":{{"session":{n}}}}}"#,
                    v["id"]
                )),
                _ => None,
            };
            if let Some(answer) = answer {
                tx.send(format!("event: message\ndata: {answer}\n\n").into_bytes())
                    .unwrap();
            }
            Reply::status(202)
        }
    }))
    .await;
    let mut options = opts(&server);
    options.transport = Transport::Sse;
    let mut host = Host::start(options, no_auth());
    handshake(&mut host).await;
    host.send(r#"{"jsonrpc":"2.0","id":"p","method":"tools/call","params":{"name":"never"}}"#)
        .await;
    wait_for_log(&server, "the pending call", |log| {
        log.iter().any(|r| r.body_str().contains("never"))
    })
    .await;
    streams.lock().unwrap()[0] = None;
    let lost = host.recv_json().await;
    assert_eq!(lost["id"], "p");
    assert_eq!(lost["error"]["code"], -32000);
    wait_for_log(&server, "the replayed handshake", |log| {
        log.iter()
            .any(|r| r.path == "/messages?session=2" && r.body_str() == INITIALIZED)
    })
    .await;
    host.send(r#"{"jsonrpc":"2.0","id":9,"method":"tools/list"}"#)
        .await;
    assert_eq!(
        host.recv().await,
        r#"{"jsonrpc":"2.0","id":9,"result":{"session":2}}"#
    );
    let (result, rest) = host.finish().await;
    result.unwrap();
    assert_eq!(rest, "", "the replayed initialize answer stays hidden");
    let replayed: Vec<&str> = server
        .requests()
        .iter()
        .filter(|r| r.path == "/messages?session=2")
        .map(|r| match r.body_str() {
            INIT => "init",
            INITIALIZED => "initialized",
            _ => "other",
        })
        .collect();
    assert_eq!(replayed, ["init", "initialized", "other"]);
}

#[tokio::test]
async fn forced_sse_transport_never_posts_to_the_server_url() {
    // `--transport sse` against a server whose event stream is refused: the host gets
    // an error, and the Streamable HTTP POST is not tried behind its back.
    let server = FakeServer::start(script(|_| async { Reply::status(404) })).await;
    let mut options = opts(&server);
    options.transport = Transport::Sse;
    let mut host = Host::start(options, no_auth());
    host.send(INIT).await;
    let answer = host.recv_json().await;
    assert_eq!(answer["id"], 0);
    assert!(
        answer["error"]["message"].as_str().unwrap().contains("404"),
        "{answer}"
    );
    host.finish().await.0.unwrap();
    let methods: Vec<String> = server.requests().iter().map(|r| r.method.clone()).collect();
    assert_eq!(methods, ["GET"]);
}

#[tokio::test]
async fn the_server_stream_is_open_before_the_hosts_next_request_goes() {
    // Symptom: a request the server sent on its GET stream right after `initialized`
    // (elicitation, sampling, roots) was lost and the tool call waiting on it hung: the
    // host's next request went out before the stream was open.
    let elicit = r#"{"jsonrpc":"2.0","id":7,"method":"elicitation/create","params":{"message":"ok?","requestedSchema":{"type":"object","properties":{}}}}"#;
    let call =
        r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"ask","arguments":{}}}"#;
    let answer = r#"{"jsonrpc":"2.0","id":1,"result":{"content":[]}}"#;
    let events: Arc<Mutex<Vec<&'static str>>> = Arc::default();
    let streams: Arc<Mutex<Vec<mpsc::UnboundedSender<Vec<u8>>>>> = Arc::default();
    let (log, open) = (Arc::clone(&events), Arc::clone(&streams));
    let server = FakeServer::start(script(move |r: Recorded| {
        let (log, open) = (Arc::clone(&log), Arc::clone(&open));
        async move {
            match (r.method.as_str(), r.rpc_method().as_deref()) {
                ("POST", Some("initialize")) => session_start(),
                ("POST", Some(m)) if m.starts_with("notifications/") => Reply::status(202),
                ("GET", _) => {
                    // A server that takes a moment to answer its stream.
                    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
                    log.lock().unwrap().push("stream answered");
                    let (tx, rx) = mpsc::unbounded_channel();
                    tx.send(format!("data: {elicit}\n\n").into_bytes()).unwrap();
                    open.lock().unwrap().push(tx);
                    Reply::Stream(200, vec![], rx)
                }
                ("POST", Some("tools/call")) => {
                    log.lock().unwrap().push("call");
                    Reply::json(answer)
                }
                ("DELETE", _) => Reply::status(200),
                _ => Reply::status(400),
            }
        }
    }))
    .await;
    let mut host = Host::start(opts(&server), no_auth());
    handshake(&mut host).await;
    host.send(call).await;
    let mut got = vec![host.recv().await, host.recv().await];
    got.sort();
    let mut want = vec![elicit.to_owned(), answer.to_owned()];
    want.sort();
    assert_eq!(
        got, want,
        "the host gets the server's request and its answer"
    );
    assert_eq!(
        *events.lock().unwrap(),
        ["stream answered", "call"],
        "the call went out before the server's stream was open"
    );
    host.finish().await.0.expect("the proxy ends cleanly");
}

#[tokio::test]
async fn a_server_stream_that_never_answers_holds_the_host_back_only_briefly() {
    let call =
        r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","arguments":{}}}"#;
    let answer = r#"{"jsonrpc":"2.0","id":1,"result":{"content":[]}}"#;
    let server = FakeServer::start(script(move |r: Recorded| async move {
        match (r.method.as_str(), r.rpc_method().as_deref()) {
            ("POST", Some("initialize")) => Reply::json(INIT_ANSWER),
            ("POST", Some(m)) if m.starts_with("notifications/") => Reply::status(202),
            ("GET", _) => {
                // Longer than the test may run: the answer never comes in time.
                tokio::time::sleep(crate::proxy_fake::WAIT * 2).await;
                Reply::status(405)
            }
            _ => Reply::json(answer),
        }
    }))
    .await;
    let mut host = Host::start(opts(&server), no_auth());
    handshake(&mut host).await;
    let sent = std::time::Instant::now();
    host.send(call).await;
    assert_eq!(host.recv().await, answer);
    // The proxy waits 2 s for the stream; the rest is slack for a loaded machine.
    assert!(
        sent.elapsed() < std::time::Duration::from_secs(10),
        "the call waited {:?} on the server's stream",
        sent.elapsed()
    );
    host.finish().await.0.expect("the proxy ends cleanly");
}

#[tokio::test]
async fn a_probe_refused_by_a_2025_server_then_initialize_gets_the_session_era() {
    // Symptom: FastMCP and the Python SDK 2.x probe with `server/discover` first; the
    // proxy took that probe for the 2026 era and stayed there after the 2025-era server
    // refused it and the host initialized: no GET stream (no log messages, no resource
    // updates, no `roots/list`) and no session headers.
    let probe = r#"{"jsonrpc":"2.0","id":0,"method":"server/discover","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}}"#;
    let log = r#"{"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","data":"hello"}}"#;
    let call =
        r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"x","arguments":{}}}"#;
    let answer = r#"{"jsonrpc":"2.0","id":2,"result":{"content":[]}}"#;
    let streams: Arc<Mutex<Vec<mpsc::UnboundedSender<Vec<u8>>>>> = Arc::default();
    let open = Arc::clone(&streams);
    let server = FakeServer::start(script(move |r: Recorded| {
        let open = Arc::clone(&open);
        async move {
            let session = r.header("mcp-session-id") == Some("s1");
            match (r.method.as_str(), r.rpc_method().as_deref()) {
                ("POST", Some("initialize")) => session_start(),
                // What the TypeScript SDK's 2025 server answers a message before
                // initialize: its own error, addressed to no request.
                ("POST", _) if !session => Reply::Full(
                    400,
                    vec![("content-type", "application/json".into())],
                    br#"{"jsonrpc":"2.0","error":{"code":-32000,"message":"Bad Request: Server not initialized"},"id":null}"#.to_vec(),
                ),
                ("POST", Some(m)) if m.starts_with("notifications/") => Reply::status(202),
                ("GET", _) if session => {
                    let (tx, rx) = mpsc::unbounded_channel();
                    tx.send(format!("data: {log}\n\n").into_bytes()).unwrap();
                    open.lock().unwrap().push(tx);
                    Reply::Stream(200, vec![], rx)
                }
                ("POST", Some("tools/call")) => Reply::json(answer),
                ("DELETE", _) => Reply::status(200),
                _ => Reply::status(400),
            }
        }
    }))
    .await;
    let mut host = Host::start(opts(&server), no_auth());
    host.send(probe).await;
    assert_eq!(
        host.recv().await,
        r#"{"jsonrpc":"2.0","id":0,"error":{"code":-32000,"message":"Bad Request: Server not initialized"}}"#,
        "the server's own error, addressed to the probe"
    );
    handshake(&mut host).await;
    assert_eq!(
        host.recv().await,
        log,
        "the server's GET stream reaches the host"
    );
    host.send(call).await;
    assert_eq!(host.recv().await, answer);
    let log = server.requests();
    let sent = log
        .iter()
        .find(|r| r.rpc_method().as_deref() == Some("tools/call"))
        .expect("the call reached the server");
    assert_eq!(sent.header("mcp-session-id"), Some("s1"));
    assert_eq!(sent.header("mcp-protocol-version"), Some("2025-11-25"));
    host.finish().await.0.expect("the proxy ends cleanly");
}

#[tokio::test]
async fn a_json_rpc_error_in_a_4xx_reaches_the_host_as_the_server_wrote_it() {
    let missing =
        r#"{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"gone","arguments":{}}}"#;
    let missing_answer = r#"{"jsonrpc":"2.0","id":5,"error":{"code":-32601,"message":"Method not found","data":{"why":"gone"}}}"#;
    let html =
        r#"{"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"name":"html","arguments":{}}}"#;
    let server = FakeServer::start(mcp_server(move |r| {
        if r.body_str().contains("\"gone\"") {
            // The content type is wrong; the body is what counts.
            Reply::Full(
                400,
                vec![("content-type", "text/plain".into())],
                missing_answer.into(),
            )
        } else {
            Reply::Full(
                400,
                vec![("content-type", "text/html".into())],
                b"<h1>Bad Request</h1>".to_vec(),
            )
        }
    }))
    .await;
    let mut host = Host::start(opts(&server), no_auth());
    handshake(&mut host).await;
    host.send(missing).await;
    assert_eq!(host.recv().await, missing_answer);
    host.send(html).await;
    let v = host.recv_json().await;
    assert_eq!(v["id"], 6);
    let message = v["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("400"),
        "the proxy's error names the status: {v}"
    );
    host.finish().await.0.expect("the proxy ends cleanly");
}

#[tokio::test]
async fn a_404_that_carries_a_json_rpc_error_is_no_lost_session() {
    let call = r#"{"jsonrpc":"2.0","id":3,"method":"tools/nonesuch","params":{}}"#;
    let refusal =
        r#"{"jsonrpc":"2.0","id":3,"error":{"code":-32601,"message":"Method not found"}}"#;
    let server = FakeServer::start(mcp_server(move |_| {
        Reply::Full(
            404,
            vec![("content-type", "application/json".into())],
            refusal.into(),
        )
    }))
    .await;
    let mut host = Host::start(opts(&server), no_auth());
    handshake(&mut host).await;
    host.send(call).await;
    assert_eq!(host.recv().await, refusal);
    let inits = server
        .requests()
        .iter()
        .filter(|r| r.rpc_method().as_deref() == Some("initialize"))
        .count();
    assert_eq!(
        inits, 1,
        "the proxy replayed the session on a method-not-found"
    );
    host.finish().await.0.expect("the proxy ends cleanly");
}

#[tokio::test]
async fn a_refused_initialize_with_a_json_rpc_error_is_no_reason_for_legacy_sse() {
    // Symptom: a 2026-only server refused a 2025 host's initialize with 400 and its own
    // JSON-RPC error; the proxy tried the legacy transport and told the host the server
    // "answered HTTP 404 Not Found".
    let refusal = r#"{"jsonrpc":"2.0","id":0,"error":{"code":-32020,"message":"Missing MCP-Protocol-Version header","data":{"supported":["2026-07-28"]}}}"#;
    let server = FakeServer::start(script(move |r: Recorded| async move {
        match r.method.as_str() {
            "POST" => Reply::Full(
                400,
                vec![("content-type", "application/json".into())],
                refusal.into(),
            ),
            _ => Reply::status(404),
        }
    }))
    .await;
    let mut host = Host::start(opts(&server), no_auth());
    host.send(INIT).await;
    assert_eq!(host.recv().await, refusal);
    assert!(
        server.requests().iter().all(|r| r.method == "POST"),
        "the proxy tried another transport: {:?}",
        crate::proxy_fake::summary(&server.requests())
    );
    host.finish().await.0.expect("the proxy ends cleanly");
}
