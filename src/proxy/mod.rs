//! `mcpauth proxy`: a lossless stdio <-> Streamable HTTP / legacy SSE bridge.
//!
//! The host (Claude Desktop, Claude Code, Cursor) speaks newline-delimited JSON-RPC on
//! our stdin/stdout; the remote speaks Streamable HTTP (2025-11-25, and the stateless
//! 2026-07-28 shape) or the legacy HTTP+SSE transport (2024-11-05). Messages cross as
//! the bytes they arrived as: only `id`, `method` and a few routing fields are peeked
//! ([`message`]), never re-serialized.
//!
//! The OAuth side reaches the proxy only through [`TokenSource`], so the transport knows
//! nothing of grants, stores or browsers. [`NoAuth`] is the source for servers without
//! OAuth.
//!
//! Layout: [`stdio`] owns the host pipes, [`sse`] parses event streams, [`remote`] owns
//! everything HTTP (sessions, resumption, auth retries, the legacy transport) and
//! [`redirect`] which redirects it follows; [`run`] ties them together and handles
//! shutdown.

mod bridge;
mod headers;
mod message;
mod redirect;
mod remote;
mod sse;
mod stdio;

use std::collections::BTreeMap;
use std::future::Future;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use tokio::io::{AsyncBufRead, AsyncWrite};
use tokio::sync::mpsc;
use url::Url;

use crate::secret::Secret;

/// Why no token can be had; the proxy turns it into a JSON-RPC error for each request
/// it cannot forward, with `message` as the error message (it says what to run, e.g.
/// "not signed in to `notion`: run `mcpauth login notion`").
#[derive(Debug, Clone)]
pub struct AuthUnavailable {
    pub message: String,
}

/// Supplies bearer tokens to the proxy. Implementations refresh under the cross-process
/// lock and may open a browser; the proxy calls them from its async tasks.
pub trait TokenSource: Send + Sync + 'static {
    /// The token to send now (refreshed first when close to expiry), or `None` when the
    /// server is used without OAuth.
    fn bearer(&self) -> BoxFuture<'_, Result<Option<Secret>, AuthUnavailable>>;

    /// The server answered 401 to a request sent with `sent` (`None`: sent without a
    /// token). `challenge` is the `WWW-Authenticate` header. Refresh, or discover and sign
    /// in, and return the token to resend with; the proxy resends once.
    fn unauthorized<'a>(
        &'a self,
        sent: Option<&'a Secret>,
        challenge: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Secret, AuthUnavailable>>;

    /// The server answered 403 with `error="insufficient_scope"`: authorize again with
    /// the union of scopes and return the new token.
    fn insufficient_scope<'a>(
        &'a self,
        challenge: &'a str,
    ) -> BoxFuture<'a, Result<Secret, AuthUnavailable>>;

    /// When `token` is bound to a key (DPoP, RFC 9449): a fresh proof for sending it with
    /// `method` to `url`, carrying that origin's latest nonce. `None` sends it as a bearer
    /// token.
    fn proof(&self, _token: &Secret, _method: &str, _url: &Url) -> Option<Secret> {
        None
    }

    /// The proxy is shutting down: from now on hand out only what is already at hand,
    /// and start no refresh and no sign-in (a refresh cut off by the exit could lose a
    /// rotated refresh token).
    fn closing(&self) {}
}

/// The source for servers used without OAuth: never a token, and a 401 becomes an error
/// telling the person to sign in.
#[derive(Debug, Clone, Default)]
pub struct NoAuth {
    /// Shown when the server asks for a token, e.g. "`notion` needs a login: run ...".
    pub message: Option<String>,
}

impl TokenSource for NoAuth {
    fn bearer(&self) -> BoxFuture<'_, Result<Option<Secret>, AuthUnavailable>> {
        Box::pin(async { Ok(None) })
    }

    fn unauthorized<'a>(
        &'a self,
        _sent: Option<&'a Secret>,
        _challenge: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Secret, AuthUnavailable>> {
        Box::pin(async move {
            Err(AuthUnavailable {
                message: self
                    .message
                    .clone()
                    .unwrap_or_else(|| "the server requires authorization".to_owned()),
            })
        })
    }

    fn insufficient_scope<'a>(
        &'a self,
        _challenge: &'a str,
    ) -> BoxFuture<'a, Result<Secret, AuthUnavailable>> {
        Box::pin(async move {
            Err(AuthUnavailable {
                message: "the server requires a scope this proxy cannot request without a login"
                    .to_owned(),
            })
        })
    }
}

/// Which HTTP transport the remote speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Transport {
    /// Streamable HTTP, falling back to legacy SSE when initialize gets 400/404/405.
    #[default]
    Auto,
    /// Streamable HTTP only.
    Http,
    /// Legacy HTTP+SSE (2024-11-05) only.
    Sse,
}

impl FromStr for Transport {
    type Err = ProxyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "auto" => Ok(Self::Auto),
            "http" | "streamable-http" => Ok(Self::Http),
            "sse" => Ok(Self::Sse),
            other => Err(ProxyError::Transport(other.to_owned())),
        }
    }
}

/// Everything the proxy needs to know about the remote besides tokens.
#[derive(Debug, Clone)]
pub struct ProxyOptions {
    pub url: Url,
    /// Static headers from the server's config, sent on every request.
    pub headers: BTreeMap<String, String>,
    pub transport: Transport,
    /// The name people know the server by, used in messages.
    pub server_name: String,
    /// How long to wait for in-flight answers after stdin closes before leaving.
    pub drain: Duration,
    /// The most one message may hold, either way: a host line, a server's JSON answer
    /// or SSE event. Real tool results stay far below the default; the cap is what keeps
    /// a server (or host) from growing the proxy without end.
    pub max_message: usize,
}

/// The default [`ProxyOptions::max_message`]: 64 MiB.
pub const MAX_MESSAGE: usize = 64 << 20;

impl ProxyOptions {
    pub fn new(url: Url, server_name: impl Into<String>) -> Self {
        Self {
            url,
            headers: BTreeMap::new(),
            transport: Transport::Auto,
            server_name: server_name.into(),
            drain: Duration::from_millis(300),
            max_message: MAX_MESSAGE,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    #[error("unknown transport `{0}` (expected `auto`, `http` or `sse`)")]
    Transport(String),
    /// The value is left out on purpose: configured headers often hold API keys.
    #[error("the configured header `{name}` is not a valid HTTP header")]
    Header { name: String },
    #[error("cannot set up the HTTP client")]
    Client(#[source] reqwest::Error),
    #[error("cannot read from stdin")]
    Stdin(#[source] std::io::Error),
}

/// Runs the proxy until stdin ends or SIGTERM/SIGINT arrives, then closes the remote
/// session. This is what `mcpauth proxy` calls with the process's stdin and stdout.
pub async fn run(
    opts: ProxyOptions,
    tokens: Arc<dyn TokenSource>,
    input: impl AsyncBufRead + Unpin + Send,
    output: impl AsyncWrite + Unpin + Send + 'static,
) -> Result<(), ProxyError> {
    run_until(opts, tokens, input, output, termination()).await
}

/// [`run`] with the stop signal supplied by the caller (tests, embedders).
pub async fn run_until(
    opts: ProxyOptions,
    tokens: Arc<dyn TokenSource>,
    mut input: impl AsyncBufRead + Unpin + Send,
    output: impl AsyncWrite + Unpin + Send + 'static,
    stop: impl Future<Output = ()> + Send,
) -> Result<(), ProxyError> {
    let drain = opts.drain;
    let max_line = opts.max_message;
    let (out_tx, out_rx) = mpsc::channel(64);
    let writer = tokio::spawn(stdio::write_lines(output, out_rx));
    // The proxy's own answers to lines that are not JSON.
    let parse_errors = out_tx.clone();
    let remote = remote::Remote::new(opts, Arc::clone(&tokens), out_tx)?;

    let mut tasks = tokio::task::JoinSet::new();
    let mut failed = None;
    let pump = async {
        loop {
            // Reap finished exchanges so the set does not grow with the session.
            while tasks.try_join_next().is_some() {}
            match stdio::read_line(&mut input, max_line).await {
                Ok(stdio::Input::Line(line)) => match message::check_json(&line) {
                    Ok(()) => remote.dispatch(line, &mut tasks).await,
                    Err(bad) => answer_parse_error(&parse_errors, bad).await,
                },
                Ok(stdio::Input::TooLong) => eprintln!(
                    "mcpauth: warning: dropped a line from the host larger than {}, the most the proxy passes on in one message",
                    crate::oauth::http::size(max_line)
                ),
                Ok(stdio::Input::End) => return true,
                Err(e) => {
                    failed = Some(e);
                    return true;
                }
            }
        }
    };
    let stdin_ended = tokio::select! {
        ended = pump => ended,
        () = stop => false,
    };
    if stdin_ended && !tasks.is_empty() {
        // Give answers already on their way a moment to reach the host.
        let _ =
            tokio::time::timeout(drain, async { while tasks.join_next().await.is_some() {} }).await;
    }
    tokens.closing();
    tasks.abort_all();
    remote.close().await;
    drop(remote);
    drop(parse_errors);
    // The writer ends once every sender is gone; stdout gets what was queued.
    let _ = tokio::time::timeout(Duration::from_millis(200), writer).await;
    match failed {
        Some(e) => Err(ProxyError::Stdin(e)),
        None => Ok(()),
    }
}

/// A line from the host that is not JSON is not sent on (no server can read it): it is
/// told on stderr and, when an id can be read in it, answered with a parse error so the
/// host's request does not wait for ever. Without an id there is nothing to answer.
async fn answer_parse_error(out: &mpsc::Sender<bytes::Bytes>, bad: message::NotJson) {
    // stderr, not the log: logging is off unless asked for, and hosts keep stderr.
    eprintln!(
        "mcpauth: warning: dropped a line from the host that is {}{}",
        bad.reason,
        if bad.id.is_some() {
            "; answered it with a parse error"
        } else {
            ", with no id to answer"
        }
    );
    if let Some(id) = bad.id {
        let text = format!("the proxy cannot read this message: it is {}", bad.reason);
        let answer = message::error_response(&id, message::PARSE_ERROR, &text);
        let _ = out.send(bytes::Bytes::from(answer)).await;
    }
}

/// Resolves on SIGTERM or SIGINT; on Windows on Ctrl-C, Ctrl-Break, the console closing
/// or the system shutting down.
async fn termination() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) {
            (Ok(mut term), Ok(mut int)) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = int.recv() => {}
                }
            }
            _ => std::future::pending().await,
        }
    }
    #[cfg(windows)]
    {
        use tokio::signal::windows::{ctrl_break, ctrl_c, ctrl_close, ctrl_shutdown};
        // A console closing or the system shutting down stops a proxy as SIGTERM does.
        match (ctrl_c(), ctrl_break(), ctrl_close(), ctrl_shutdown()) {
            (Ok(mut c), Ok(mut b), Ok(mut x), Ok(mut s)) => {
                tokio::select! {
                    _ = c.recv() => {}
                    _ = b.recv() => {}
                    _ = x.recv() => {}
                    _ = s.recv() => {}
                }
            }
            _ => std::future::pending().await,
        }
    }
    #[cfg(not(any(unix, windows)))]
    {
        std::future::pending::<()>().await
    }
}
