//! Which redirects the proxy follows.
//!
//! A followed redirect carries the configured headers (often an API key) and, for 307 and
//! 308, the JSON-RPC body; reqwest strips only `Authorization` and cookies when the host
//! changes. So the proxy follows a redirect only where its token and headers already
//! go: the same origin, at or below the path of the request that was redirected (e.g.
//! `/mcp` to `/mcp/`). Any other redirect is stopped, never sent, and reported to the
//! host by where it pointed.

use crate::oauth::http::resource_covers;
use reqwest::Response;
use reqwest::header::LOCATION;
use reqwest::redirect::{Attempt, Policy};

/// Redirects followed in a row; a longer chain is stopped like a foreign one.
const MAX_HOPS: usize = 5;

/// The policy for the proxy's HTTP client.
pub fn policy() -> Policy {
    Policy::custom(|attempt| {
        if follows(&attempt) {
            attempt.follow()
        } else {
            attempt.stop()
        }
    })
}

fn follows(attempt: &Attempt<'_>) -> bool {
    let Some(first) = attempt.previous().first() else {
        return false;
    };
    attempt.previous().len() <= MAX_HOPS && resource_covers(first, attempt.url())
}

/// For an answer the policy stopped: where it pointed, fit to show (no userinfo, query
/// or fragment, which may hold secrets). `None` when the answer is no redirect.
pub fn refused(resp: &Response) -> Option<String> {
    if !resp.status().is_redirection() {
        return None;
    }
    let location = resp.headers().get(LOCATION)?.to_str().ok()?;
    let Ok(mut target) = resp.url().join(location) else {
        return Some("an invalid address".to_owned());
    };
    let _ = target.set_username("");
    let _ = target.set_password(None);
    target.set_query(None);
    target.set_fragment(None);
    Some(format!("`{target}`"))
}
