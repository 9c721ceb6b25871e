//! The client side of MCP authorization: discovery, client registration, the
//! authorization code flow with PKCE on a loopback redirect, and token requests.
//!
//! Nothing here touches the store or the config: callers pass in what they have and
//! get back what to keep.

pub mod authorize;
pub mod challenge;
pub mod discovery;
pub mod dpop;
pub mod http;
pub mod profile;
pub mod registration;
pub mod tokens;

use crate::escape::controls;

/// The scopes in a list as people and providers write it: separated by spaces (RFC 6749)
/// or by commas (GitHub's `repo,read:user`, in its token answers too).
pub fn scope_words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| c.is_ascii_whitespace() || c == ',')
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
}

/// Errors of the OAuth layer. Messages name the endpoint or URL involved (those are not
/// secret) and never carry a token, code, verifier or client secret.
#[derive(Debug, thiserror::Error)]
pub enum OauthError {
    #[error("{what} `{}` is not a valid URL: {reason}", shown(.url))]
    BadUrl {
        what: String,
        url: String,
        reason: String,
    },
    #[error(
        "refusing to use {what} `{}`: plain http is allowed only on this machine (127.0.0.1, ::1, localhost); use https",
        shown(.url)
    )]
    InsecureEndpoint { what: String, url: String },
    #[error("cannot reach `{}`: {}", shown(.url), controls(.reason))]
    Unreachable { url: String, reason: String },
    #[error(
        "refusing the {what} from `{}`: it is larger than {}, far more than any real one",
        shown(.url),
        http::size(*.limit)
    )]
    TooLarge {
        what: String,
        url: String,
        limit: usize,
    },
    #[error(
        "`{}` did not ask for authorization and publishes no resource metadata: there is nothing to sign in to",
        shown(.server)
    )]
    NoAuthRequired { server: String },
    #[error(
        "refusing to sign in: the resource metadata at `{}` is for `{}`, which is not `{}` (a server may only ask for grants for itself)",
        shown(.metadata_url),
        shown(.resource),
        shown(.server)
    )]
    ResourceMismatch {
        metadata_url: String,
        resource: String,
        server: String,
    },
    #[error(
        "refusing to sign in: the authorization server metadata at `{}` names issuer `{}`, but `{}` was expected",
        shown(.url),
        shown(.found),
        shown(.expected)
    )]
    IssuerMismatch {
        url: String,
        expected: String,
        found: String,
    },
    #[error("malformed {what} at `{}`: {}", shown(.url), controls(.reason))]
    MalformedMetadata {
        what: String,
        url: String,
        reason: String,
    },
    #[error("no authorization server metadata found for issuer `{}` (tried {tried})", shown(.issuer))]
    NoMetadata { issuer: String, tried: String },
    #[error(
        "refusing to sign in: the authorization server `{}` does not offer PKCE with S256 (it lists: {})",
        shown(.issuer),
        controls(.methods)
    )]
    NoS256 { issuer: String, methods: String },
    #[error(
        "the authorization server `{}` offers no client registration, and no client id was given",
        shown(.issuer)
    )]
    NoClient { issuer: String },
    #[error(
        "the authorization server `{}` does not accept client ID metadata documents (client_id_metadata_document_supported is not true)",
        shown(.issuer)
    )]
    MetadataDocumentUnsupported { issuer: String },
    #[error("client registration at `{}` failed: {}", shown(.url), controls(.reason))]
    Registration { url: String, reason: String },
    /// A DPoP key that cannot be made, read or used.
    #[error("DPoP: {0}")]
    Dpop(String),
    #[error("the sign-in was declined (access_denied{})", described(.description))]
    AccessDenied { description: Option<String> },
    #[error("the authorization server answered `{}`{}", controls(.error), described(.description))]
    AuthorizationFailed {
        error: String,
        description: Option<String>,
    },
    #[error(
        "the redirect's `state` does not match this sign-in (a stale tab, or a forged request)"
    )]
    StateMismatch,
    #[error(
        "refusing the redirect from issuer `{}`: this sign-in is with `{}` (RFC 9207 mix-up protection)",
        shown(.found),
        shown(.expected)
    )]
    IssMismatch { expected: String, found: String },
    #[error(
        "refusing a redirect without `iss`: the authorization server `{}` promised to send it (RFC 9207)",
        shown(.expected)
    )]
    IssMissing { expected: String },
    #[error("the redirect carried no authorization code")]
    NoCode,
    #[error(
        "what was pasted is not the address of a redirect (copy the whole URL from the browser's address bar)"
    )]
    NotARedirect,
    #[error(
        "the authorization server `{}` does not offer the device authorization grant (no device_authorization_endpoint)",
        shown(.issuer)
    )]
    NoDeviceFlow { issuer: String },
    #[error("the device code expired before the sign-in was approved")]
    DeviceCodeExpired,
    #[error("no answer from the browser within {waited}{}", ignored_note(*.ignored))]
    Timeout { waited: String, ignored: u32 },
    #[error("interrupted")]
    Interrupted,
    #[error("cannot listen on 127.0.0.1:{port} for the browser's redirect")]
    Listen {
        port: u16,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("the token endpoint `{}` answered `{}`{}", shown(.url), controls(.error), described(.description))]
    TokenRefused {
        url: String,
        error: String,
        description: Option<String>,
    },
    #[error("the grant was revoked or has expired at the authorization server (invalid_grant)")]
    InvalidGrant,
    #[error("the token endpoint `{}` failed: {}", shown(.url), controls(.reason))]
    TokenEndpoint { url: String, reason: String },
    #[error("the revocation endpoint `{}` answered {status}{}", shown(.url), match .error {
        Some(e) => format!(" ({})", controls(e)),
        None => String::new(),
    })]
    RevocationRefused {
        url: String,
        status: u16,
        /// The RFC 7009 error code, when the answer had one.
        error: Option<String>,
    },
    #[error("the token endpoint `{url}` is busy (it answered {status}{})", match .retry_after {
        Some(d) => format!(", retry after {} s", d.as_secs()),
        None => String::new(),
    })]
    Busy {
        url: String,
        status: String,
        retry_after: Option<std::time::Duration>,
    },
    #[error(
        "the token endpoint `{url}` refused this client's credentials (`{error}`{})",
        described(.description)
    )]
    ClientRefused {
        url: String,
        error: String,
        description: Option<String>,
    },
    #[error("cannot authenticate the client with `{}`: {reason}", controls(.method))]
    ClientAuth { method: String, reason: String },
    #[error("the token endpoint `{url}` did not answer within {} s", .waited.as_secs())]
    NoAnswer {
        url: String,
        waited: std::time::Duration,
    },
    #[error("cannot start the browser command `{command}`")]
    Browser {
        command: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "refusing to sign in to `{}`: `{}` pins {}, which is not on the origin of the authorization servers the server names for itself ({})",
        controls(.server),
        controls(&.file.display().to_string()),
        controls(.url),
        .expected.iter().map(|e| format!("`{}`", shown(e))).collect::<Vec<_>>().join(", ")
    )]
    PinnedElsewhere {
        server: String,
        file: std::path::PathBuf,
        url: String,
        expected: Vec<String>,
    },
    #[error("{0}")]
    Prompt(String),
}

impl OauthError {
    /// A transport failure, told by its innermost cause ("connection refused"), which is
    /// the part a person can act on; reqwest's outer layers only repeat "request failed".
    pub fn unreachable(url: &str, source: reqwest::Error) -> Self {
        let reason = if source.is_timeout() {
            "no answer in time".to_owned()
        } else {
            let mut inner: &dyn std::error::Error = &source;
            while let Some(next) = inner.source() {
                inner = next;
            }
            inner.to_string()
        };
        Self::Unreachable {
            url: url.to_owned(),
            reason,
        }
    }

    /// A body that could not be read: the network failed, or it was too large.
    pub fn body(e: http::BodyError, what: &str, url: &str) -> Self {
        match e {
            http::BodyError::Transport(source) => Self::unreachable(url, source),
            http::BodyError::TooLarge { limit } => Self::TooLarge {
                what: what.to_owned(),
                url: url.to_owned(),
                limit,
            },
        }
    }

    /// Failures worth retrying later: the network, a 5xx, `temporarily_unavailable`.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Unreachable { .. } | Self::TokenEndpoint { .. } | Self::Busy { .. } => true,
            Self::TokenRefused { error, .. } => {
                error == "temporarily_unavailable" || error == "server_error"
            }
            _ => false,
        }
    }

    /// How long the server asked us to wait before trying again.
    pub fn retry_after(&self) -> Option<std::time::Duration> {
        match self {
            Self::Busy { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

fn ignored_note(ignored: u32) -> String {
    match ignored {
        0 => String::new(),
        1 => {
            " (ignored 1 request to the callback whose `state` does not match this sign-in)".into()
        }
        n => format!(
            " (ignored {n} requests to the callback whose `state` does not match this sign-in)"
        ),
    }
}

/// A URL or issuer as messages show it: no userinfo, no control characters.
fn shown(url: &str) -> String {
    controls(&crate::redact::url(url)).into_owned()
}

/// A server's `error_description`, which is its free text: shown, never obeyed.
fn described(description: &Option<String>) -> String {
    match description {
        Some(d) if !d.is_empty() => format!(": {}", controls(d)),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_in_messages_show_no_userinfo() {
        let url = || "https://user:pw-5150@mcp.example.com/mcp".to_owned();
        for e in [
            OauthError::Unreachable {
                url: url(),
                reason: "connection refused".into(),
            },
            OauthError::BadUrl {
                what: "MCP server URL".into(),
                url: "https://user:pw-5150@[bad/".into(),
                reason: "invalid IPv6 address".into(),
            },
            OauthError::InsecureEndpoint {
                what: "MCP server URL".into(),
                url: url(),
            },
            OauthError::NoAuthRequired { server: url() },
            OauthError::ResourceMismatch {
                metadata_url: url(),
                resource: url(),
                server: url(),
            },
            OauthError::TokenEndpoint {
                url: url(),
                reason: "it answered 502".into(),
            },
        ] {
            let text = e.to_string();
            assert!(
                !text.contains("pw-5150") && !text.contains("user:"),
                "{text}"
            );
            assert!(text.contains("https://***@"), "{text}");
        }
    }

    #[test]
    fn server_text_in_messages_is_escaped() {
        let hostile = || "x\u{1b}]0;owned\u{7}\u{9b}2J".to_owned();
        for e in [
            OauthError::TokenRefused {
                url: "https://as/token".into(),
                error: hostile(),
                description: Some(hostile()),
            },
            OauthError::AuthorizationFailed {
                error: hostile(),
                description: Some(hostile()),
            },
            OauthError::AccessDenied {
                description: Some(hostile()),
            },
            OauthError::IssMismatch {
                expected: "https://as".into(),
                found: hostile(),
            },
            OauthError::IssuerMismatch {
                url: "https://as/.well-known/oauth-authorization-server".into(),
                expected: hostile(),
                found: hostile(),
            },
            OauthError::NoS256 {
                issuer: hostile(),
                methods: hostile(),
            },
            OauthError::Registration {
                url: "https://as/register".into(),
                reason: hostile(),
            },
        ] {
            let text = e.to_string();
            assert!(!text.chars().any(char::is_control), "{text:?}");
            assert!(text.contains(r"x\u{1b}]0;owned\u{7}\u{9b}2J"), "{text}");
        }
    }
}
