//! `mcpauth proxy`: a lossless stdio <-> Streamable HTTP / legacy SSE bridge.
//!
//! CONTRACT (the proxy work fills this in): the OAuth side reaches the proxy only through
//! [`TokenSource`], so the transport knows nothing of grants, stores or browsers.

use futures_util::future::BoxFuture;

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
}
