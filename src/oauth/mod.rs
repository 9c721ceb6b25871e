//! The client side of MCP authorization: discovery, client registration, the
//! authorization code flow with PKCE on a loopback redirect, and token requests.
//!
//! Nothing here touches the store or the config: callers pass in what they have and
//! get back what to keep.

pub mod authorize;
pub mod challenge;
pub mod discovery;
pub mod http;
pub mod registration;
pub mod tokens;

use crate::escape::controls;

/// Errors of the OAuth layer. Messages name the endpoint or URL involved (those are not
/// secret) and never carry a token, code, verifier or client secret.
#[derive(Debug, thiserror::Error)]
pub enum OauthError {
    #[error("{what} `{url}` is not a valid URL: {reason}")]
    BadUrl {
        what: String,
        url: String,
        reason: String,
    },
    #[error(
        "refusing to use {what} `{url}`: plain http is allowed only on this machine (127.0.0.1, ::1, localhost); use https"
    )]
    InsecureEndpoint { what: String, url: String },
    #[error("cannot reach `{url}`: {reason}")]
    Unreachable { url: String, reason: String },
    #[error(
        "`{server}` did not ask for authorization and publishes no resource metadata: there is nothing to sign in to"
    )]
    NoAuthRequired { server: String },
    #[error(
        "refusing to sign in: the resource metadata at `{metadata_url}` is for `{}`, which is not `{server}` (a server may only ask for grants for itself)",
        controls(.resource)
    )]
    ResourceMismatch {
        metadata_url: String,
        resource: String,
        server: String,
    },
    #[error(
        "refusing to sign in: the authorization server metadata at `{url}` names issuer `{}`, but `{}` was expected",
        controls(.found),
        controls(.expected)
    )]
    IssuerMismatch {
        url: String,
        expected: String,
        found: String,
    },
    #[error("malformed {what} at `{url}`: {}", controls(.reason))]
    MalformedMetadata {
        what: String,
        url: String,
        reason: String,
    },
    #[error("no authorization server metadata found for issuer `{issuer}` (tried {tried})")]
    NoMetadata { issuer: String, tried: String },
    #[error(
        "refusing to sign in: the authorization server `{}` does not offer PKCE with S256 (it lists: {})",
        controls(.issuer),
        controls(.methods)
    )]
    NoS256 { issuer: String, methods: String },
    #[error(
        "the authorization server `{issuer}` offers no client registration, and no client id was given"
    )]
    NoClient { issuer: String },
    #[error(
        "the authorization server `{issuer}` does not accept client ID metadata documents (client_id_metadata_document_supported is not true)"
    )]
    MetadataDocumentUnsupported { issuer: String },
    #[error("client registration at `{url}` failed: {}", controls(.reason))]
    Registration { url: String, reason: String },
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
        controls(.found),
        controls(.expected)
    )]
    IssMismatch { expected: String, found: String },
    #[error(
        "refusing a redirect without `iss`: the authorization server `{expected}` promised to send it (RFC 9207)"
    )]
    IssMissing { expected: String },
    #[error("the redirect carried no authorization code")]
    NoCode,
    #[error(
        "what was pasted is not the address of a redirect (copy the whole URL from the browser's address bar)"
    )]
    NotARedirect,
    #[error(
        "the authorization server `{issuer}` does not offer the device authorization grant (no device_authorization_endpoint)"
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
    #[error("the token endpoint `{url}` answered `{}`{}", controls(.error), described(.description))]
    TokenRefused {
        url: String,
        error: String,
        description: Option<String>,
    },
    #[error("the grant was revoked or has expired at the authorization server (invalid_grant)")]
    InvalidGrant,
    #[error("the token endpoint `{url}` failed: {}", controls(.reason))]
    TokenEndpoint { url: String, reason: String },
    #[error("cannot start the browser command `{command}`")]
    Browser {
        command: String,
        #[source]
        source: std::io::Error,
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

    /// Failures worth retrying later: the network, a 5xx, `temporarily_unavailable`.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Unreachable { .. } | Self::TokenEndpoint { .. } => true,
            Self::TokenRefused { error, .. } => {
                error == "temporarily_unavailable" || error == "server_error"
            }
            _ => false,
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
