//! The HTTP client mcpauth uses for OAuth, and the rule for which URLs it may talk to.

use std::net::IpAddr;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use url::Url;

use super::OauthError;

/// The most mcpauth reads of one OAuth answer (metadata, a registration, a token
/// response). Real ones are a few kilobytes; a server sending more is broken or hostile,
/// and must not make a sign-in hold whatever it sends.
pub const MAX_BODY: usize = 1 << 20;

/// Why a body could not be read whole.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    #[error("the connection failed")]
    Transport(#[source] reqwest::Error),
    #[error("the answer is larger than {}", size(*.limit))]
    TooLarge { limit: usize },
}

/// Reads a whole body, refusing it once it passes `limit` bytes (at once when its
/// `Content-Length` says so), so no more than `limit` is ever held.
pub async fn read_body(resp: reqwest::Response, limit: usize) -> Result<Bytes, BodyError> {
    if resp.content_length().is_some_and(|n| n > limit as u64) {
        return Err(BodyError::TooLarge { limit });
    }
    // Within the limit, checked above: a 10 MB message is copied once, not regrown.
    let mut buf = BytesMut::with_capacity(resp.content_length().unwrap_or(0) as usize);
    let mut body = resp.bytes_stream();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(BodyError::Transport)?;
        if buf.len() + chunk.len() > limit {
            return Err(BodyError::TooLarge { limit });
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf.freeze())
}

/// A byte count for messages: `1 MiB`, `64 MiB`, `4096 bytes`.
pub fn size(bytes: usize) -> String {
    const MIB: usize = 1 << 20;
    if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{} MiB", bytes / MIB)
    } else {
        format!("{bytes} bytes")
    }
}

/// Builds the client shared by discovery, registration and token requests. Redirects are
/// not followed: a token endpoint that redirects could send a code or secret elsewhere.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .user_agent(concat!("mcpauth/", env!("CARGO_PKG_VERSION")))
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(30))
        .build()
        .expect("the TLS backend is compiled in")
}

/// True for hosts that never leave this machine: 127.0.0.0/8, ::1 and `localhost`.
pub fn is_loopback_host(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// Parses an endpoint URL and checks that it is `https`, or `http` on a loopback host
/// (so that servers on this machine work). `what` names the endpoint for the message.
pub fn check_endpoint(what: &str, url: &str) -> Result<Url, OauthError> {
    let parsed = Url::parse(url).map_err(|e| OauthError::BadUrl {
        what: what.to_owned(),
        url: url.to_owned(),
        reason: e.to_string(),
    })?;
    match parsed.scheme() {
        "https" => Ok(parsed),
        "http" if is_loopback_host(&parsed) => Ok(parsed),
        _ => Err(OauthError::InsecureEndpoint {
            what: what.to_owned(),
            url: url.to_owned(),
        }),
    }
}

/// The canonical form of a resource URL (RFC 8707, MCP "canonical server URI"): scheme
/// and host lowercased, default port dropped, no fragment, no trailing slash on a bare
/// origin's empty path.
pub fn canonical_resource(url: &Url) -> String {
    let mut u = url.clone();
    u.set_fragment(None);
    let s = u.to_string();
    if u.path() == "/" && u.query().is_none() {
        s.trim_end_matches('/').to_owned()
    } else {
        s
    }
}

/// Whether `resource` (from resource metadata) belongs to the server at `server`: the
/// same origin, and a path that is a prefix of the server's on segment boundaries.
pub fn resource_covers(resource: &Url, server: &Url) -> bool {
    if resource.origin() != server.origin() {
        return false;
    }
    let r = resource.path().trim_end_matches('/');
    let s = server.path().trim_end_matches('/');
    r.is_empty() || s == r || s.starts_with(&format!("{r}/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_anywhere_http_only_on_loopback() {
        assert!(check_endpoint("token endpoint", "https://as.example.com/token").is_ok());
        for ok in [
            "http://127.0.0.1:8080/t",
            "http://127.1.2.3/t",
            "http://[::1]:9/t",
            "http://localhost/t",
            "http://LOCALHOST:1/t",
        ] {
            assert!(check_endpoint("x", ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://as.example.com/token",
            "http://10.0.0.1/t",
            "http://localhost.evil.com/t",
            "ftp://127.0.0.1/t",
            "javascript:alert(1)",
        ] {
            let e = check_endpoint("token endpoint", bad).unwrap_err();
            assert!(
                matches!(e, OauthError::InsecureEndpoint { .. }),
                "{bad}: {e}"
            );
        }
        assert!(matches!(
            check_endpoint("x", "not a url").unwrap_err(),
            OauthError::BadUrl { .. }
        ));
    }

    #[test]
    fn canonical_resource_forms() {
        let c = |s: &str| canonical_resource(&Url::parse(s).unwrap());
        assert_eq!(
            c("HTTPS://MCP.Example.com:443/mcp#x"),
            "https://mcp.example.com/mcp"
        );
        assert_eq!(c("https://mcp.example.com/"), "https://mcp.example.com");
        assert_eq!(c("https://mcp.example.com"), "https://mcp.example.com");
        assert_eq!(
            c("http://127.0.0.1:3000/mcp/"),
            "http://127.0.0.1:3000/mcp/"
        );
    }

    #[test]
    fn resource_must_be_a_prefix_on_the_same_origin() {
        let u = |s: &str| Url::parse(s).unwrap();
        let server = u("https://mcp.example.com/v1/mcp");
        assert!(resource_covers(&u("https://mcp.example.com"), &server));
        assert!(resource_covers(&u("https://mcp.example.com/v1"), &server));
        assert!(resource_covers(
            &u("https://mcp.example.com/v1/mcp"),
            &server
        ));
        assert!(!resource_covers(&u("https://mcp.example.com/v"), &server));
        assert!(!resource_covers(
            &u("https://mcp.example.com/v1/mcp/x"),
            &server
        ));
        assert!(!resource_covers(
            &u("https://evil.example.com/v1/mcp"),
            &server
        ));
        assert!(!resource_covers(
            &u("http://mcp.example.com/v1/mcp"),
            &server
        ));
        assert!(!resource_covers(
            &u("https://mcp.example.com:8443/v1/mcp"),
            &server
        ));
    }
}
