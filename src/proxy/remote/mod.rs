//! The HTTP side of the proxy: everything between a host line and the remote server.
//!
//! One [`Remote`] per proxy process owns the session (`Mcp-Session-Id`, the negotiated
//! `MCP-Protocol-Version`, the host's own initialize for replay), the server's GET
//! stream, and the auth retries through [`TokenSource`]. Requests run as independent
//! tasks so a slow tool call never holds up others; notifications and responses are sent
//! in line, in stdin order. What only the 2026-07-28 wire needs (the bridge for hosts of
//! the session era, re-issuing, batches) is in [`modern`]; the legacy HTTP+SSE transport
//! is in [`legacy`]; the SEP-2243 headers are built by `super::headers`.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, HeaderMap, HeaderName};
use reqwest::header::{HeaderValue, WWW_AUTHENTICATE};
use reqwest::{Method, Response, StatusCode};
use serde_json::value::RawValue;
use tokio::sync::{mpsc, oneshot};
use tokio::task::{AbortHandle, JoinSet};
use url::Url;

mod legacy;
mod modern;

use super::bridge::{self, Bridge};
use super::headers;
use super::message::{Peek, error_code, error_response, error_with_id, id_key, unrouted_error};
use super::redirect;
use super::sse::{Oversized, Parser};
use super::{ProxyError, ProxyOptions, TokenSource, Transport};
use crate::oauth::http::{BodyError, read_body, size};
use crate::secret::Secret;

const SESSION_ID: &str = "mcp-session-id";
const PROTOCOL_VERSION: &str = "mcp-protocol-version";
const LAST_EVENT_ID: &str = "last-event-id";
const MCP_METHOD: &str = "mcp-method";
const MCP_NAME: &str = "mcp-name";
/// The error a 2026-07-28 server answers when headers and body disagree.
const HEADER_MISMATCH: i64 = -32020;
const ACCEPT_BOTH: &str = "application/json, text/event-stream";
const EVENT_STREAM: &str = "text/event-stream";

/// JSON-RPC error codes the proxy answers with on the server's behalf.
const AUTH_ERROR: i64 = -32001;
const TRANSPORT_ERROR: i64 = -32000;

/// Connection attempts for one message while the server is unreachable, and the first
/// delay between them (doubling).
const CONNECT_TRIES: u32 = 5;
const CONNECT_BACKOFF: Duration = Duration::from_millis(200);
/// Resumptions of one broken answer stream in a row without any message arriving.
const RESUME_TRIES: u32 = 5;
/// Resumptions of one answer stream in all: a server that sends a message and breaks
/// the stream every time must not keep the proxy reconnecting for ever.
const RESUME_LIMIT: u32 = 100;
/// The SSE reconnection delay when the server names none.
const DEFAULT_RETRY: Duration = Duration::from_millis(1000);
/// The shortest pause before reconnecting, whatever `retry` says: `retry: 0` on a stream
/// that ends at once would otherwise be thousands of reconnections a second.
const MIN_RETRY: Duration = Duration::from_millis(100);
const MAX_RETRY: Duration = Duration::from_secs(30);
/// How long a legacy server may take to name its message endpoint.
const ENDPOINT_WAIT: Duration = Duration::from_secs(30);
const DELETE_WAIT: Duration = Duration::from_millis(500);
/// How long the host's next message may wait for the server to answer the GET stream
/// opened after `initialized`.
const LISTENER_WAIT: Duration = Duration::from_secs(2);

/// Why a message could not be delivered; becomes a JSON-RPC error for each request in it.
#[derive(Debug)]
enum Failure {
    Auth(String),
    Unreachable(String),
    Status(StatusCode),
    /// A redirect the proxy would not follow, by where it pointed.
    Redirect(String),
    /// An answer over the limit for one message.
    TooLarge(usize),
    StreamLost,
    /// 2026-07-28: the answer stream broke, and there is no resuming it on that wire.
    StreamBroken,
    /// Auto mode: the server does not speak Streamable HTTP.
    NotStreamable,
    /// The server refused `initialize` as a 2026-era server does: it speaks only this
    /// version.
    ModernOnly(String),
}

impl Failure {
    fn code(&self) -> i64 {
        match self {
            Failure::Auth(_) => AUTH_ERROR,
            _ => TRANSPORT_ERROR,
        }
    }

    fn message(&self, server: &str) -> String {
        match self {
            Failure::Auth(message) => message.clone(),
            Failure::Unreachable(why) => format!("cannot reach `{server}`: {why}"),
            Failure::Status(status) => format!("`{server}` answered HTTP {status}"),
            Failure::TooLarge(limit) => format!(
                "the answer from `{server}` is larger than {}, the most the proxy passes on in one message",
                size(*limit)
            ),
            Failure::Redirect(to) => format!(
                "`{server}` redirected to {to}: the proxy follows no redirect away from the server's address, as it would carry the configured headers"
            ),
            Failure::StreamLost | Failure::StreamBroken => {
                format!("the connection to `{server}` broke before the answer arrived")
            }
            Failure::NotStreamable => format!("`{server}` does not speak Streamable HTTP"),
            Failure::ModernOnly(version) => {
                format!("`{server}` speaks only MCP {version}, and bridging to it failed")
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Mode {
    /// Nothing sent yet.
    Undecided,
    Streamable,
    /// 2026-07-28: no initialize, no session; routing headers on every message.
    Stateless,
    Legacy {
        endpoint: Url,
    },
}

/// Where messages read from the remote go: to the host, or nowhere (the answers to a
/// replayed initialize, which the host already had once).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sink {
    Host,
    Swallow,
}

#[derive(Debug)]
struct State {
    mode: Mode,
    session: Option<HeaderValue>,
    /// Bumped whenever the session changes, so concurrent 404s replay only once.
    generation: u64,
    protocol_version: Option<String>,
    init_line: Option<Bytes>,
    initialized_line: Option<Bytes>,
    /// Legacy transport: requests sent whose answers have not come back on the stream.
    legacy_pending: HashMap<String, Box<RawValue>>,
    /// Legacy transport: ids of replayed requests whose answers must not reach the host.
    swallow: HashSet<String>,
    /// 2026-07-28: the arguments each tool mirrors into headers, from `tools/list`.
    mirrors: headers::Mirrors,
    /// The `nextCursor` of the last `tools/list` answer, for the proxy's own re-listing.
    tools_cursor: Option<String>,
    /// A session-era host bridged onto a 2026-only server.
    bridge: Option<Arc<Bridge>>,
    /// 2026-07-28: the tasks of the requests in flight, by id, for cancelling.
    in_flight: HashMap<String, Option<AbortHandle>>,
    /// Bridge: `input_required` results held back from the host, by request id.
    input_required: HashMap<String, serde_json::Value>,
    /// Bridge: questions put to the host for such a result, by the proxy's id.
    questions: HashMap<String, oneshot::Sender<serde_json::Value>>,
    questions_asked: u64,
}

/// What routing needs from one host line, owned so it can move into a task.
#[derive(Debug, Clone, Default)]
struct Info {
    ids: Vec<Box<RawValue>>,
    method: Option<String>,
    name: Option<String>,
    meta_version: Option<String>,
    /// A request the proxy re-issued under an id of its own: the host's id, which its
    /// answer goes back under.
    answer_as: Option<Box<RawValue>>,
    /// A message of a host's batch, split for the 2026 wire: where its answers gather.
    batch: Option<Arc<Mutex<Vec<Bytes>>>>,
    is_init: bool,
}

impl Info {
    fn of(peek: &Peek<'_>) -> Self {
        Info {
            ids: peek.request_ids.iter().map(|id| (*id).to_owned()).collect(),
            method: peek.method.clone(),
            name: peek.name.clone(),
            meta_version: peek.meta_version.clone(),
            answer_as: None,
            batch: None,
            is_init: !peek.batch && peek.method_is("initialize"),
        }
    }
}

/// Fires once the request body has been handed to the connection, so the dispatcher
/// can read the next line knowing this request went out first.
struct Sent(Mutex<Option<oneshot::Sender<()>>>);

impl Sent {
    fn none() -> Self {
        Sent(Mutex::new(None))
    }

    fn body(&self, line: &Bytes) -> reqwest::Body {
        let Some(tx) = self.0.lock().expect("sent signal lock").take() else {
            return reqwest::Body::from(line.clone());
        };
        let mut tx = Some(tx);
        let first =
            futures_util::stream::once(std::future::ready(Ok::<_, std::io::Error>(line.clone())));
        let after = futures_util::stream::poll_fn(move |_| {
            if let Some(tx) = tx.take() {
                let _ = tx.send(());
            }
            std::task::Poll::Ready(None::<Result<Bytes, std::io::Error>>)
        });
        reqwest::Body::wrap_stream(first.chain(after))
    }
}

pub struct Remote {
    inner: Arc<Inner>,
}

struct Inner {
    server: String,
    url: Url,
    transport: Transport,
    static_headers: HeaderMap,
    /// The most one message from the server may hold.
    max_message: usize,
    client: reqwest::Client,
    tokens: Arc<dyn TokenSource>,
    out: mpsc::Sender<Bytes>,
    state: Mutex<State>,
    /// Held while a lost session is being re-established; new messages wait for it.
    reinit: tokio::sync::Mutex<()>,
    /// The GET stream (Streamable HTTP) or the event stream (legacy).
    listener: Mutex<Option<AbortHandle>>,
}

impl Remote {
    pub fn new(
        opts: ProxyOptions,
        tokens: Arc<dyn TokenSource>,
        out: mpsc::Sender<Bytes>,
    ) -> Result<Self, ProxyError> {
        let mut static_headers = HeaderMap::new();
        for (name, value) in &opts.headers {
            let bad = || ProxyError::Header { name: name.clone() };
            let header = HeaderName::from_bytes(name.as_bytes()).map_err(|_| bad())?;
            let mut value = HeaderValue::from_str(value).map_err(|_| bad())?;
            value.set_sensitive(true);
            static_headers.insert(header, value);
        }
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .redirect(redirect::policy())
            .build()
            .map_err(ProxyError::Client)?;
        Ok(Remote {
            inner: Arc::new(Inner {
                server: opts.server_name,
                url: opts.url,
                transport: opts.transport,
                static_headers,
                max_message: opts.max_message,
                client,
                tokens,
                out,
                state: Mutex::new(State {
                    mode: Mode::Undecided,
                    session: None,
                    generation: 0,
                    protocol_version: None,
                    init_line: None,
                    initialized_line: None,
                    legacy_pending: HashMap::new(),
                    swallow: HashSet::new(),
                    mirrors: headers::Mirrors::new(),
                    tools_cursor: None,
                    bridge: None,
                    in_flight: HashMap::new(),
                    input_required: HashMap::new(),
                    questions: HashMap::new(),
                    questions_asked: 0,
                }),
                reinit: tokio::sync::Mutex::new(()),
                listener: Mutex::new(None),
            }),
        })
    }

    /// Sends one host line on its way. Returns once later lines may be sent: requests
    /// continue in `tasks`, everything else is delivered before this returns.
    pub async fn dispatch(&self, line: Bytes, tasks: &mut JoinSet<()>) {
        let inner = &self.inner;
        let bridge = inner.lock().bridge.clone();
        if bridge.is_some() && inner.answers_a_question(&line) {
            return;
        }
        if let Some(id) = bridge.as_ref().and_then(|b| b.subscription(&line)) {
            // The 2026 wire subscribes through the listen stream's filter.
            inner
                .emit(Bytes::from(format!(
                    "{{\"jsonrpc\":\"2.0\",\"id\":{},\"result\":{{}}}}",
                    id.get()
                )))
                .await;
            inner.open_bridge_listener();
            return;
        }
        let line = match &bridge {
            // A host of the session era on a 2026-only server: `_meta` on each message.
            Some(bridge) if !Peek::of(&line).method_is("initialize") => {
                match bridge.rewrite(&line) {
                    Some(line) => line,
                    None => return,
                }
            }
            _ => line,
        };
        let peek = Peek::of(&line);
        let info = Info::of(&peek);
        drop(peek);

        if info.is_init && bridge.is_some() {
            let result = inner.start_bridge(&line, &info, bridge::MODERN).await;
            inner.settle(&info, result).await;
            return;
        }
        if info.is_init {
            inner.lock().init_line = Some(line.clone());
        }
        if inner.mode() == Mode::Undecided
            && let Err(failure) = inner.decide(&info).await
        {
            // Undecided still: the next message tries again.
            inner.settle(&info, Err(failure)).await;
            return;
        }
        if let Mode::Legacy { .. } = inner.mode() {
            let result = inner.legacy_post(&line, &info, Sink::Host).await;
            inner.settle(&info, result).await;
            if info.method.as_deref() == Some("notifications/initialized") {
                inner.lock().initialized_line = Some(line);
            }
            return;
        }
        if info.is_init && inner.mode() == Mode::Stateless {
            // The host probed with a 2026 message (`server/discover`), was refused by a
            // server of the session era, and initializes now: follow it there, with the
            // session's headers and its GET stream.
            tracing::debug!(server = %inner.server, "initialize after a probe: the session era");
            inner.lock().mode = Mode::Streamable;
        }
        if info.is_init {
            let result = inner
                .exchange(&line, &info, Sink::Host, &Sent::none())
                .await;
            if let Err(Failure::ModernOnly(version)) = result {
                tracing::info!(server = %inner.server, "the server speaks only {version}: bridging the host's session to it");
                let result = inner.start_bridge(&line, &info, &version).await;
                inner.settle(&info, result).await;
                return;
            }
            if let Err(Failure::NotStreamable) = result {
                tracing::info!(server = %inner.server, "falling back to the legacy HTTP+SSE transport");
                match inner.connect_legacy().await {
                    Ok(()) => {
                        let result = inner.legacy_post(&line, &info, Sink::Host).await;
                        inner.settle(&info, result).await;
                    }
                    Err(failure) => inner.settle(&info, Err(failure)).await,
                }
                return;
            }
            inner.settle(&info, result).await;
            return;
        }
        if inner.mode() == Mode::Stateless && Peek::of(&line).batch {
            tasks.spawn(Arc::clone(inner).split_batch(line));
            return;
        }
        if inner.mode() == Mode::Stateless
            && info.method.as_deref() == Some("notifications/cancelled")
        {
            Self::cancel(inner, &line);
            return;
        }
        if info.ids.is_empty() {
            let result = inner
                .exchange(&line, &info, Sink::Host, &Sent::none())
                .await;
            let initialized = info.method.as_deref() == Some("notifications/initialized");
            let ok = result.is_ok();
            inner.settle(&info, result).await;
            if initialized && inner.mode() == Mode::Streamable {
                inner.lock().initialized_line = Some(line);
                if ok {
                    inner.open_listener().await;
                }
            }
            return;
        }
        // On the 2026 wire a request is cancelled by closing its stream: the task that
        // holds it is kept by the request's id. The slot is taken before the task starts,
        // so a task that ends at once leaves nothing behind.
        let cancellable =
            (inner.mode() == Mode::Stateless && info.ids.len() == 1).then(|| id_key(&info.ids[0]));
        if let Some(key) = &cancellable {
            inner.lock().in_flight.insert(key.clone(), None);
        }
        let (tx, rx) = oneshot::channel();
        let task_inner = Arc::clone(inner);
        let key = cancellable.clone();
        let handle = tasks.spawn(async move {
            let sent = Sent(Mutex::new(Some(tx)));
            let mut result = task_inner.exchange(&line, &info, Sink::Host, &sent).await;
            if result.is_ok() {
                result = task_inner.fulfil_input(&line, &info).await;
            }
            task_inner.settle(&info, result).await;
            if let Some(key) = key {
                task_inner.lock().in_flight.remove(&key);
            }
        });
        if let Some(key) = cancellable
            && let Some(slot) = inner.lock().in_flight.get_mut(&key)
        {
            *slot = Some(handle);
        }
        // Either the body went out or the attempt ended; both let the next line go.
        let _ = rx.await;
    }

    /// 2026-07-28: the host's `notifications/cancelled` closes the stream of the request it
    /// names, which is how that wire cancels; the notification itself goes no further.
    fn cancel(inner: &Inner, line: &Bytes) {
        let request = serde_json::from_slice::<serde_json::Value>(line)
            .ok()
            .and_then(|m| m.get("params")?.get("requestId").cloned());
        let Some(request) = request else { return };
        let Ok(raw) = serde_json::value::to_raw_value(&request) else {
            return;
        };
        if let Some(Some(handle)) = inner.lock().in_flight.remove(&id_key(&raw)) {
            tracing::debug!(server = %inner.server, "request cancelled: closing its stream");
            handle.abort();
        }
    }

    /// Ends the session: stops the streams and DELETEs the session (405 is fine).
    pub async fn close(&self) {
        let inner = &self.inner;
        if let Some(handle) = inner.listener.lock().expect("listener lock").take() {
            handle.abort();
        }
        let (session, version) = {
            let state = inner.lock();
            (state.session.clone(), state.protocol_version.clone())
        };
        let Some(session) = session else { return };
        // One deadline for token and request together: the host expects us gone
        // within a second of closing stdin or sending SIGTERM.
        let delete = async {
            let token = inner.tokens.bearer().await.ok().flatten();
            let mut headers = inner.base_headers(token.as_ref());
            headers.insert(SESSION_ID, session);
            if let Some(v) = version.and_then(|v| HeaderValue::from_str(&v).ok()) {
                headers.insert(PROTOCOL_VERSION, v);
            }
            let request = inner.client.delete(inner.url.clone()).headers(headers);
            inner.dispatch(request, token.as_ref()).await
        };
        match tokio::time::timeout(DELETE_WAIT, delete).await {
            Ok(Ok(resp)) => tracing::debug!(status = %resp.status(), "session closed"),
            Ok(Err(e)) => tracing::debug!(error = %e.without_url(), "closing the session failed"),
            Err(_) => tracing::debug!("closing the session timed out"),
        }
    }
}

impl Inner {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().expect("proxy state lock")
    }

    fn mode(&self) -> Mode {
        self.lock().mode.clone()
    }

    /// Picks the transport from the first message. A host that starts without
    /// initialize and names a protocol version in `_meta` speaks 2026-07-28.
    async fn decide(self: &Arc<Self>, info: &Info) -> Result<(), Failure> {
        if self.transport == Transport::Sse {
            return self.connect_legacy().await;
        }
        self.lock().mode = if !info.is_init && info.meta_version.is_some() {
            Mode::Stateless
        } else {
            Mode::Streamable
        };
        Ok(())
    }

    /// Reports the outcome of delivering a line: errors for its requests, a log line
    /// for anything else.
    async fn settle(&self, info: &Info, result: Result<(), Failure>) {
        let Err(failure) = result else { return };
        let message = failure.message(&self.server);
        if info.ids.is_empty() {
            tracing::warn!(server = %self.server, method = info.method.as_deref().unwrap_or("-"), "message dropped: {message}");
            return;
        }
        for id in &info.ids {
            let error = Bytes::from(error_response(id, failure.code(), &message));
            self.answer(info, error).await;
        }
    }

    /// Sends the host an answer to the request of `info`, or keeps it for the batch the
    /// request came in (see [`Self::split_batch`]).
    async fn answer(&self, info: &Info, message: Bytes) {
        match &info.batch {
            Some(batch) => batch.lock().expect("batch lock").push(message),
            None => self.emit(message).await,
        }
    }

    async fn emit(&self, message: Bytes) {
        if self.out.send(message).await.is_err() {
            tracing::debug!("stdout writer gone");
        }
    }

    fn base_headers(&self, token: Option<&Secret>) -> HeaderMap {
        let mut headers = self.static_headers.clone();
        if let Some(token) = token
            && let Ok(mut value) = HeaderValue::from_str(&format!("Bearer {}", token.expose()))
        {
            value.set_sensitive(true);
            headers.insert(AUTHORIZATION, value);
        }
        headers
    }

    /// Sends `request`. A token bound to a key goes as `DPoP <token>` with a proof for
    /// this very request; the nonce the answer carries is kept for the next one.
    async fn dispatch(
        &self,
        request: reqwest::RequestBuilder,
        token: Option<&Secret>,
    ) -> reqwest::Result<Response> {
        let mut request = request.build()?;
        let proof = token.and_then(|t| {
            self.tokens
                .proof(t, request.method().as_str(), request.url())
                .map(|p| (t, p))
        });
        let bound = proof.is_some();
        if let Some((token, proof)) = proof {
            let headers = request.headers_mut();
            for (name, value) in [
                (AUTHORIZATION, format!("DPoP {}", token.expose())),
                (HeaderName::from_static("dpop"), proof.expose().to_owned()),
            ] {
                if let Ok(mut value) = HeaderValue::from_str(&value) {
                    value.set_sensitive(true);
                    headers.insert(name, value);
                }
            }
        }
        let url = request.url().clone();
        let resp = self.client.execute(request).await?;
        if bound {
            crate::oauth::dpop::remember_nonce(&url, resp.headers());
        }
        Ok(resp)
    }

    /// Sends a request built by `make` with the current token, handling 401 and 403
    /// `insufficient_scope` as [`Tries`] allows (refresh or sign in, then resend) and an
    /// unreachable server (a few tries with backoff). Any other answer is returned.
    async fn send(
        &self,
        make: &(dyn Fn(Option<&Secret>) -> reqwest::RequestBuilder + Send + Sync),
    ) -> Result<Response, Failure> {
        let mut token = self
            .tokens
            .bearer()
            .await
            .map_err(|e| Failure::Auth(e.message))?;
        let mut tries = Tries::default();
        let mut connect_failures = 0;
        loop {
            let resp = match self.dispatch(make(token.as_ref()), token.as_ref()).await {
                Ok(resp) => resp,
                Err(e) if e.is_connect() && connect_failures + 1 < CONNECT_TRIES => {
                    let delay = CONNECT_BACKOFF * 2u32.pow(connect_failures);
                    connect_failures += 1;
                    tracing::debug!(server = %self.server, "server unreachable; retrying in {delay:?}");
                    tokio::time::sleep(delay).await;
                    continue;
                }
                Err(e) => return Err(Failure::Unreachable(e.without_url().to_string())),
            };
            if let Some(to) = redirect::refused(&resp) {
                return Err(Failure::Redirect(to));
            }
            let challenge = resp
                .headers()
                .get(WWW_AUTHENTICATE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            match tries.next(resp.status(), challenge.as_deref()) {
                // The token stands; the next proof carries the nonce the answer brought,
                // or is simply new.
                Retry::NewProof => {
                    tracing::debug!(server = %self.server, "the server wants a new DPoP proof");
                }
                Retry::NewToken => {
                    tracing::info!(server = %self.server, "the server wants a new token");
                    let fresh = self
                        .tokens
                        .unauthorized(token.as_ref(), challenge.as_deref())
                        .await
                        .map_err(|e| Failure::Auth(e.message))?;
                    token = Some(fresh);
                }
                Retry::MoreScopes => {
                    tracing::info!(server = %self.server, "the server wants more scopes");
                    let fresh = self
                        .tokens
                        .insufficient_scope(challenge.as_deref().unwrap_or_default())
                        .await
                        .map_err(|e| Failure::Auth(e.message))?;
                    token = Some(fresh);
                }
                Retry::Done => return Ok(resp),
            }
        }
    }

    /// Headers for a message POST in the current mode and session.
    fn message_headers(
        &self,
        token: Option<&Secret>,
        session: Option<&HeaderValue>,
        version: Option<&str>,
        info: &Info,
        stateless: bool,
        params: &[(HeaderName, HeaderValue)],
    ) -> HeaderMap {
        let mut headers = self.base_headers(token);
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert(ACCEPT, HeaderValue::from_static(ACCEPT_BOTH));
        if let Some(session) = session {
            headers.insert(SESSION_ID, session.clone());
        }
        let version = if stateless {
            info.meta_version.as_deref()
        } else {
            version
        };
        if let Some(v) = version.and_then(|v| HeaderValue::from_str(v).ok()) {
            headers.insert(PROTOCOL_VERSION, v);
        }
        // SEP-2243's headers go on the wire of either era: the current revision requires
        // them, and a server of the session era ignores headers it does not know.
        if let Some(method) = info.method.as_deref() {
            headers.insert(MCP_METHOD, headers::encoded(method));
            let named = matches!(method, "tools/call" | "resources/read" | "prompts/get");
            if let Some(name) = info.name.as_deref().filter(|_| named) {
                headers.insert(MCP_NAME, headers::encoded(name));
            }
        }
        headers.extend(params.iter().cloned());
        headers
    }

    /// The `Mcp-Param-*` headers of a `tools/call` line, for the arguments its tool marks
    /// (see [`headers`]). The arguments are read only for a tool that marks any.
    fn param_headers(&self, line: &[u8], info: &Info) -> Vec<(HeaderName, HeaderValue)> {
        if info.method.as_deref() != Some("tools/call") {
            return Vec::new();
        }
        let Some(mirrors) = info
            .name
            .as_deref()
            .and_then(|tool| self.lock().mirrors.get(tool).cloned())
        else {
            return Vec::new();
        };
        let peek = Peek::of(line);
        match peek.arguments.map(|a| serde_json::from_str(a.get())) {
            Some(Ok(arguments)) if !peek.batch => headers::params(&mirrors, &arguments),
            _ => Vec::new(),
        }
    }

    /// POSTs a line and handles the answer (Streamable HTTP and 2026-07-28).
    async fn exchange(
        self: &Arc<Self>,
        line: &Bytes,
        info: &Info,
        sink: Sink,
        sent: &Sent,
    ) -> Result<(), Failure> {
        let mut replayed = false;
        let mut relisted = false;
        loop {
            if sink == Sink::Host {
                // Wait out a session replay in progress rather than racing it.
                drop(self.reinit.lock().await);
            }
            let (session, generation, version, stateless) = {
                let state = self.lock();
                (
                    state.session.clone(),
                    state.generation,
                    state.protocol_version.clone(),
                    state.mode == Mode::Stateless,
                )
            };
            let len = line.len();
            let params = self.param_headers(line, info);
            let make = |token: Option<&Secret>| {
                let mut headers = self.message_headers(
                    token,
                    session.as_ref(),
                    version.as_deref(),
                    info,
                    stateless,
                    &params,
                );
                headers.insert(CONTENT_LENGTH, HeaderValue::from(len));
                self.client
                    .post(self.url.clone())
                    .headers(headers)
                    .body(sent.body(line))
            };
            let resp = self.send(&make).await?;
            let status = resp.status();
            if status.is_success() {
                if info.is_init {
                    let mut state = self.lock();
                    let session = resp.headers().get(SESSION_ID).cloned();
                    // The id itself is the session's bearer of sorts: not logged.
                    tracing::debug!(
                        server = %self.server,
                        "initialized ({})",
                        if session.is_some() { "a session" } else { "no session id" }
                    );
                    if session.is_some() {
                        state.session = session;
                    }
                    state.generation += 1;
                }
                return match self.consume(resp, info, sink).await {
                    Err(Failure::StreamBroken)
                        if sink == Sink::Host && info.answer_as.is_none() =>
                    {
                        self.reissue(line, info, sent).await
                    }
                    other => other,
                };
            }
            let body = self.collect(resp).await.ok();
            // SEP-2243: the tool's marks changed since they were listed. Learn them again
            // and resend once; the server refused before doing anything.
            if !relisted
                && sink == Sink::Host
                && info.method.as_deref() == Some("tools/call")
                && body.as_deref().and_then(error_code) == Some(HEADER_MISMATCH)
            {
                relisted = true;
                tracing::info!(server = %self.server, "the server's header marks changed; listing its tools again");
                self.relist(line).await;
                continue;
            }
            if info.is_init
                && sink == Sink::Host
                && let Some(version) = body.as_deref().and_then(bridge::modern_refusal)
            {
                return Err(Failure::ModernOnly(version));
            }
            let spoke = body.as_deref().is_some_and(|b| Peek::of(b).jsonrpc);
            let seen = Refused {
                status,
                spoke,
                init: info.is_init,
                auto: self.transport == Transport::Auto,
                session: session.is_some(),
            };
            match seen.meaning() {
                Meaning::SessionLost if sink == Sink::Host && !replayed => {
                    tracing::info!(server = %self.server, "session expired; starting a new one");
                    replayed = true;
                    self.replay(generation).await?;
                    continue;
                }
                Meaning::OlderTransport if sink == Sink::Host => {
                    return Err(Failure::NotStreamable);
                }
                _ => return self.reject(status, body, info, sink).await,
            }
        }
    }

    /// A 2xx answer: nothing (202), one JSON message, or an event stream that is resumed
    /// when it breaks before the answers to `info.ids` arrived.
    async fn consume(&self, resp: Response, info: &Info, sink: Sink) -> Result<(), Failure> {
        if resp.status() == StatusCode::ACCEPTED {
            return Ok(());
        }
        if !is_event_stream(&resp) {
            let body = self.collect(resp).await?;
            // Some 2026-only servers refuse `initialize` with a 200 and an error.
            if info.is_init
                && sink == Sink::Host
                && let Some(version) = bridge::modern_refusal(&body)
            {
                return Err(Failure::ModernOnly(version));
            }
            if !body.iter().all(u8::is_ascii_whitespace) {
                self.deliver(body, Some(info), sink, None).await;
            }
            return Ok(());
        }
        let mut waiting: HashSet<String> = info.ids.iter().map(|id| id_key(id)).collect();
        let mut parser = Parser::new(self.max_message);
        let mut resp = resp;
        let mut quiet_resumes: u32 = 0;
        let mut resumes: u32 = 0;
        loop {
            // Only a message counts as progress: an event with an id and no data (a
            // priming event) costs the server nothing to send again and again.
            let mut progress = false;
            let mut body = resp.bytes_stream();
            while let Some(chunk) = body.next().await {
                let Ok(chunk) = chunk else { break };
                parser.push(&chunk);
                while let Some(event) = parser.next_event() {
                    let Ok(event) = event else {
                        return Err(Failure::TooLarge(self.max_message));
                    };
                    if event.data.is_empty() {
                        continue;
                    }
                    progress = true;
                    self.deliver(event.data, Some(info), sink, Some(&mut waiting))
                        .await;
                }
                if !info.ids.is_empty() && waiting.is_empty() {
                    return Ok(());
                }
            }
            parser.finish();
            if waiting.is_empty() {
                return Ok(());
            }
            if self.mode() == Mode::Stateless {
                return Err(Failure::StreamBroken);
            }
            quiet_resumes = if progress { 0 } else { quiet_resumes + 1 };
            resumes += 1;
            let Some(last) = parser.last_event_id.clone() else {
                return Err(Failure::StreamLost);
            };
            if quiet_resumes >= RESUME_TRIES || resumes > RESUME_LIMIT {
                tracing::debug!(server = %self.server, resumes, "giving up on a stream that keeps breaking");
                return Err(Failure::StreamLost);
            }
            let delay = reconnect_delay(parser.retry_ms, quiet_resumes);
            tracing::debug!(server = %self.server, "answer stream broke; resuming in {delay:?}");
            tokio::time::sleep(delay).await;
            resp = match self.get_stream(Some(&last)).await {
                Ok(resp) if resp.status().is_success() => resp,
                Ok(resp) => {
                    tracing::debug!(status = %resp.status(), "resumption refused");
                    return Err(Failure::StreamLost);
                }
                Err(failure) => return Err(failure),
            };
        }
    }

    /// A 4xx or 5xx and its body (when it could be read): the server's own JSON-RPC
    /// answer when the body is one (whatever its content type says), else the proxy's
    /// error naming the status. An error the server addressed to no request
    /// (`"id": null`) goes to the one request sent.
    async fn reject(
        &self,
        status: StatusCode,
        body: Option<Bytes>,
        info: &Info,
        sink: Sink,
    ) -> Result<(), Failure> {
        let Some(body) = body else {
            return Err(Failure::Status(status));
        };
        let answer = {
            let peek = Peek::of(&body);
            let answers: HashSet<String> = peek.response_ids.iter().map(|id| id_key(id)).collect();
            let all =
                !info.ids.is_empty() && info.ids.iter().all(|id| answers.contains(&id_key(id)));
            if all {
                Some(body.clone())
            } else if let ([id], Some(error)) = (info.ids.as_slice(), unrouted_error(&body)) {
                Some(Bytes::from(error_with_id(id, error)))
            } else {
                None
            }
        };
        let Some(mut answer) = answer else {
            return Err(Failure::Status(status));
        };
        if let Some(host_id) = info.answer_as.as_deref() {
            answer = answered_as(answer, host_id);
        }
        if sink == Sink::Host {
            self.answer(info, answer).await;
        }
        Ok(())
    }

    /// Passes one message from the remote on, noting which awaited answers it carries and
    /// the protocol version an initialize answer names.
    async fn deliver(
        &self,
        mut message: Bytes,
        request: Option<&Info>,
        sink: Sink,
        waiting: Option<&mut HashSet<String>>,
    ) {
        let answers;
        {
            let peek = Peek::of(&message);
            if !peek.jsonrpc {
                // stdout is for JSON-RPC only; a stray body would break the host.
                tracing::debug!(server = %self.server, "ignoring a non-JSON-RPC message");
                return;
            }
            answers = !peek.response_ids.is_empty();
            if let Some(waiting) = waiting {
                for id in &peek.response_ids {
                    waiting.remove(&id_key(id));
                }
            }
            if request.is_some_and(|r| r.is_init)
                && let Some(version) = peek.result_version.clone()
            {
                self.lock().protocol_version = Some(version);
            }
        }
        let bridged = answers && self.lock().bridge.is_some();
        if bridged
            && let Some(request) = request
            && let Some(held) = bridge::asks_for_input(&message)
        {
            // The host of the session era knows nothing of this: the proxy asks it the
            // questions and sends the request again (`fulfil_input`).
            if let [id] = request.ids.as_slice() {
                self.lock().input_required.insert(id_key(id), held);
                return;
            }
        }
        if answers && let Some(host_id) = request.and_then(|r| r.answer_as.as_deref()) {
            message = answered_as(message, host_id);
        }
        let listed = request.is_some_and(|r| r.method.as_deref() == Some("tools/list"));
        if listed && answers {
            message = self.learn_mirrors(message);
        }
        match request.filter(|_| answers) {
            Some(request) if sink == Sink::Host => self.answer(request, message).await,
            _ if sink == Sink::Host => self.emit(message).await,
            _ => {}
        }
    }

    /// Opens the server's GET stream, optionally resuming after `last_event_id`.
    async fn get_stream(&self, last_event_id: Option<&str>) -> Result<Response, Failure> {
        let (session, version) = {
            let state = self.lock();
            (state.session.clone(), state.protocol_version.clone())
        };
        let make = |token: Option<&Secret>| {
            let mut headers = self.base_headers(token);
            headers.insert(ACCEPT, HeaderValue::from_static(EVENT_STREAM));
            if let Some(session) = &session {
                headers.insert(SESSION_ID, session.clone());
            }
            if let Some(v) = version
                .as_deref()
                .and_then(|v| HeaderValue::from_str(v).ok())
            {
                headers.insert(PROTOCOL_VERSION, v);
            }
            if let Some(id) = last_event_id.and_then(|id| HeaderValue::from_str(id).ok()) {
                headers.insert(LAST_EVENT_ID, id);
            }
            self.client
                .request(Method::GET, self.url.clone())
                .headers(headers)
        };
        self.send(&make).await
    }

    /// Re-establishes a lost session: the host's initialize and
    /// `notifications/initialized` again, answers swallowed. Concurrent callers that
    /// saw the same lost session wait for the first one instead of replaying twice.
    async fn replay(self: &Arc<Self>, lost_generation: u64) -> Result<(), Failure> {
        let _guard = self.reinit.lock().await;
        let (init, initialized) = {
            let mut state = self.lock();
            if state.generation != lost_generation {
                return Ok(());
            }
            state.session = None;
            state.generation += 1;
            (state.init_line.clone(), state.initialized_line.clone())
        };
        let Some(init) = init else { return Ok(()) };
        let init_info = Info::of(&Peek::of(&init));
        Box::pin(self.exchange(&init, &init_info, Sink::Swallow, &Sent::none())).await?;
        if let Some(initialized) = initialized {
            let info = Info::of(&Peek::of(&initialized));
            Box::pin(self.exchange(&initialized, &info, Sink::Swallow, &Sent::none())).await?;
            self.open_listener().await;
        }
        Ok(())
    }

    /// Starts the server's GET stream and waits (at most [`LISTENER_WAIT`]) until the
    /// server has answered it, so that a request the server sends right after
    /// `initialized` (elicitation, sampling, roots) finds the stream open instead of
    /// racing the host's next message.
    async fn open_listener(self: &Arc<Self>) {
        let (ready, answered) = oneshot::channel();
        let task = tokio::spawn(Arc::clone(self).listen(Some(ready)));
        self.replace_listener(task.abort_handle());
        if tokio::time::timeout(LISTENER_WAIT, answered).await.is_err() {
            tracing::debug!(server = %self.server, "the server stream did not answer within {LISTENER_WAIT:?}; going on");
        }
    }

    /// Installs a new stream task and stops the old one, unless the old one is the
    /// caller itself (a legacy stream reconnecting), which ends on its own.
    fn replace_listener(&self, new: AbortHandle) {
        let old = self.listener.lock().expect("listener lock").replace(new);
        if let Some(old) = old
            && Some(old.id()) != tokio::task::try_id()
        {
            old.abort();
        }
    }

    /// The server's own stream: requests and notifications not tied to a host request.
    /// Reconnects (resuming where it can) until the server says it offers none.
    /// `ready` hears when the first attempt has its answer, whatever it is.
    async fn listen(self: Arc<Self>, mut ready: Option<oneshot::Sender<()>>) {
        let mut parser = Parser::new(self.max_message);
        let mut failures: u32 = 0;
        loop {
            // A connection that ends without a message is a failure too, so a stream
            // that closes at once is reconnected ever more slowly.
            let mut delivered = false;
            let answer = self.get_stream(parser.last_event_id.as_deref()).await;
            if let Some(ready) = ready.take() {
                let _ = ready.send(());
            }
            match answer {
                Ok(resp) if resp.status() == StatusCode::METHOD_NOT_ALLOWED => {
                    tracing::debug!(server = %self.server, "no server stream offered");
                    return;
                }
                Ok(resp) if resp.status() == StatusCode::NOT_FOUND => {
                    // The session is gone; the next message replays and restarts us.
                    return;
                }
                Ok(resp) if resp.status().is_success() => {
                    tracing::debug!(server = %self.server, "server stream open");
                    let mut body = resp.bytes_stream();
                    while let Some(Ok(chunk)) = body.next().await {
                        parser.push(&chunk);
                        while let Some(event) = parser.next_event() {
                            match event {
                                Ok(event) if event.data.is_empty() => {}
                                Ok(event) => {
                                    delivered = true;
                                    self.deliver(event.data, None, Sink::Host, None).await;
                                }
                                Err(Oversized) => self.dropped_oversized(),
                            }
                        }
                    }
                    parser.finish();
                    failures = if delivered { 0 } else { failures + 1 };
                }
                Ok(resp) => {
                    tracing::debug!(status = %resp.status(), "server stream refused");
                    failures += 1;
                }
                Err(Failure::Auth(message)) => {
                    tracing::warn!(server = %self.server, "server stream closed: {message}");
                    return;
                }
                Err(_) => failures += 1,
            }
            tokio::time::sleep(reconnect_delay(parser.retry_ms, failures)).await;
        }
    }
}

impl Inner {
    /// Reads a whole body, up to the limit for one message. Used for single JSON
    /// answers, which have to be complete before they can be written as one line anyway.
    async fn collect(&self, resp: Response) -> Result<Bytes, Failure> {
        read_body(resp, self.max_message)
            .await
            .map_err(|e| match e {
                BodyError::TooLarge { limit } => Failure::TooLarge(limit),
                BodyError::Transport(_) => Failure::StreamLost,
            })
    }

    /// A message on a stream that answers no request of the host's was over the limit.
    fn dropped_oversized(&self) {
        tracing::warn!(
            server = %self.server,
            "dropped a message larger than {}, the most the proxy passes on in one message",
            size(self.max_message)
        );
    }
}

/// A POST the server did not take, as far as deciding what it means goes.
struct Refused {
    status: StatusCode,
    /// The body is a JSON-RPC message: the server speaks this transport.
    spoke: bool,
    /// The POST was the host's `initialize`.
    init: bool,
    /// `--transport auto`: the legacy transport may be tried.
    auto: bool,
    /// The POST carried a session id.
    session: bool,
}

#[derive(Debug, PartialEq, Eq)]
enum Meaning {
    /// The session is gone: initialize again and resend.
    SessionLost,
    /// The server may speak only the legacy HTTP+SSE transport.
    OlderTransport,
    /// An answer to pass on: the server's own JSON-RPC message, or the status.
    Answer,
}

impl Refused {
    /// A JSON-RPC body is the server speaking this transport: a 404 that carries one
    /// (`-32601`) is no lost session, and a refused initialize that carries one (a
    /// 2026-only server's `-32020`) is no reason to try the legacy transport.
    fn meaning(&self) -> Meaning {
        if self.spoke {
            Meaning::Answer
        } else if self.status == StatusCode::NOT_FOUND && self.session {
            Meaning::SessionLost
        } else if self.init && self.auto && matches!(self.status.as_u16(), 400 | 404 | 405) {
            Meaning::OlderTransport
        } else {
            Meaning::Answer
        }
    }
}

/// Whether an answer is an event stream rather than one JSON message.
fn is_event_stream(resp: &Response) -> bool {
    resp.headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with(EVENT_STREAM))
}

/// A JSON string as a raw id.
fn raw_string(text: &str) -> Box<RawValue> {
    serde_json::value::to_raw_value(text).expect("a string serializes")
}

/// A response with its `id` replaced by `id`.
fn answered_as(message: Bytes, id: &RawValue) -> Bytes {
    let Ok(mut answer) =
        serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(&message)
    else {
        return message;
    };
    let Ok(id) = serde_json::from_str(id.get()) else {
        return message;
    };
    answer.insert("id".into(), id);
    serde_json::to_vec(&answer).map_or(message, Bytes::from)
}

/// What one message's answers so far allow: a new token once after a 401, wider scopes
/// twice after a 403 `insufficient_scope` (so that, with the first sign-in, one message
/// never causes more than three authorizations), then the answer stands.
#[derive(Debug, Default)]
struct Tries {
    reauthorized: bool,
    upgrades: u32,
    reproved: u32,
}

#[derive(Debug, PartialEq, Eq)]
enum Retry {
    /// A DPoP server wants a proof with its new nonce, or refused the proof itself
    /// (taken for a replay): the same token with a new proof.
    NewProof,
    NewToken,
    MoreScopes,
    Done,
}

impl Tries {
    const MAX_UPGRADES: u32 = 2;
    /// A nonce, then a proof refused as a replay: each can happen once to a request.
    const MAX_PROOFS: u32 = 2;

    fn next(&mut self, status: StatusCode, challenge: Option<&str>) -> Retry {
        // Parsed only for a 401: every other answer goes by untouched.
        let about_the_proof = || {
            challenge.is_some_and(|c| {
                crate::oauth::challenge::parse(c).iter().any(|c| {
                    c.scheme == "dpop"
                        && matches!(
                            c.param("error"),
                            Some("use_dpop_nonce" | "invalid_dpop_proof")
                        )
                })
            })
        };
        match status {
            StatusCode::UNAUTHORIZED if self.reproved < Self::MAX_PROOFS && about_the_proof() => {
                self.reproved += 1;
                Retry::NewProof
            }
            StatusCode::UNAUTHORIZED if !self.reauthorized => {
                self.reauthorized = true;
                Retry::NewToken
            }
            StatusCode::FORBIDDEN
                if self.upgrades < Self::MAX_UPGRADES
                    && challenge.is_some_and(|c| c.contains("insufficient_scope")) =>
            {
                self.upgrades += 1;
                Retry::MoreScopes
            }
            _ => Retry::Done,
        }
    }
}

/// The pause before reconnecting a stream: the server's `retry` (or the default), never
/// under [`MIN_RETRY`], doubled for each attempt in a row that brought nothing, and never
/// over [`MAX_RETRY`].
fn reconnect_delay(retry_ms: Option<u64>, fruitless: u32) -> Duration {
    let base = retry_ms
        .map(Duration::from_millis)
        .unwrap_or(DEFAULT_RETRY)
        .max(MIN_RETRY);
    // `retry` comes from the server: a huge one must not overflow.
    base.saturating_mul(2u32.pow(fruitless.saturating_sub(1).min(5)))
        .min(MAX_RETRY)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_means_what_its_status_and_body_say() {
        let refused = |status: u16, spoke, init, auto, session| {
            Refused {
                status: StatusCode::from_u16(status).unwrap(),
                spoke,
                init,
                auto,
                session,
            }
            .meaning()
        };
        // status, JSON-RPC body, initialize, --transport auto, session id
        assert_eq!(refused(404, false, false, true, true), Meaning::SessionLost);
        assert_eq!(refused(404, true, false, true, true), Meaning::Answer);
        assert_eq!(refused(404, false, false, true, false), Meaning::Answer);
        for status in [400, 404, 405] {
            assert_eq!(
                refused(status, false, true, true, false),
                Meaning::OlderTransport
            );
            assert_eq!(refused(status, true, true, true, false), Meaning::Answer);
            assert_eq!(refused(status, false, true, false, false), Meaning::Answer);
        }
        assert_eq!(refused(401, false, true, true, false), Meaning::Answer);
        assert_eq!(refused(500, false, true, true, false), Meaning::Answer);
        assert_eq!(refused(400, false, false, true, true), Meaning::Answer);
    }

    #[test]
    fn a_message_is_retried_once_for_a_token_and_twice_for_scopes() {
        let scope = Some(r#"Bearer error="insufficient_scope", scope="a b""#);
        let mut tries = Tries::default();
        assert_eq!(tries.next(StatusCode::UNAUTHORIZED, None), Retry::NewToken);
        assert_eq!(tries.next(StatusCode::FORBIDDEN, scope), Retry::MoreScopes);
        assert_eq!(tries.next(StatusCode::FORBIDDEN, scope), Retry::MoreScopes);
        assert_eq!(
            tries.next(StatusCode::FORBIDDEN, scope),
            Retry::Done,
            "no third upgrade"
        );
        assert_eq!(
            tries.next(StatusCode::UNAUTHORIZED, None),
            Retry::Done,
            "no second token"
        );

        let mut tries = Tries::default();
        assert_eq!(
            tries.next(
                StatusCode::FORBIDDEN,
                Some("Bearer error=\"invalid_token\"")
            ),
            Retry::Done,
            "a 403 that asks for no scope is the answer"
        );
        assert_eq!(tries.next(StatusCode::FORBIDDEN, None), Retry::Done);
        assert_eq!(tries.next(StatusCode::OK, None), Retry::Done);
        assert_eq!(tries.next(StatusCode::UNAUTHORIZED, None), Retry::NewToken);
    }

    #[test]
    fn a_dpop_server_gets_two_new_proofs_before_the_token_is_doubted() {
        let nonce = Some(r#"DPoP error="use_dpop_nonce", algs="ES256""#);
        let replay = Some(r#"DPoP error="invalid_dpop_proof", error_description="replayed""#);
        let mut tries = Tries::default();
        assert_eq!(tries.next(StatusCode::UNAUTHORIZED, nonce), Retry::NewProof);
        assert_eq!(
            tries.next(StatusCode::UNAUTHORIZED, replay),
            Retry::NewProof
        );
        // A third refusal of the proof is a refusal of the token.
        assert_eq!(tries.next(StatusCode::UNAUTHORIZED, nonce), Retry::NewToken);
        assert_eq!(tries.next(StatusCode::UNAUTHORIZED, nonce), Retry::Done);
        // A Bearer challenge with the same words is not about a proof.
        let mut tries = Tries::default();
        let bearer = Some(r#"Bearer error="invalid_dpop_proof""#);
        assert_eq!(
            tries.next(StatusCode::UNAUTHORIZED, bearer),
            Retry::NewToken
        );
    }

    #[test]
    fn reconnecting_waits_at_least_the_floor_and_backs_off() {
        assert_eq!(reconnect_delay(Some(0), 0), MIN_RETRY);
        assert_eq!(reconnect_delay(Some(0), 1), MIN_RETRY);
        assert_eq!(reconnect_delay(Some(0), 3), MIN_RETRY * 4);
        assert_eq!(reconnect_delay(None, 0), DEFAULT_RETRY);
        assert_eq!(reconnect_delay(Some(10_000), 9), MAX_RETRY);
        assert_eq!(reconnect_delay(Some(u64::MAX), 0), MAX_RETRY);
        assert_eq!(reconnect_delay(Some(u64::MAX), 9), MAX_RETRY);
    }
}
