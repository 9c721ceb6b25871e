//! The top-level error: what went wrong, why, what to do about it, and the exit code.
//! Rendered once, in `main`.

use std::fmt::Write as _;

use crate::config::ConfigError;
use crate::escape::controls;
use crate::oauth::OauthError;
use crate::store::StoreError;

/// Exit codes are part of the interface (see the man page).
pub mod exit {
    pub const OK: u8 = 0;
    pub const FAILURE: u8 = 1;
    pub const USAGE: u8 = 2;
    pub const LOGIN_REQUIRED: u8 = 4;
    pub const INTERRUPTED: u8 = 130;
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Oauth(#[from] OauthError),
    #[error(transparent)]
    Proxy(#[from] crate::proxy::ProxyError),
    #[error(transparent)]
    Bundle(#[from] crate::bundle::BundleError),
    /// A step that failed, with the failure below it.
    #[error("{message}")]
    Context {
        message: String,
        #[source]
        source: Box<Error>,
    },
    /// No usable grant: only a login helps.
    #[error("{reason}")]
    LoginRequired { server: String, reason: String },
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Other(String),
    #[error("{what}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn login_required(server: &str, reason: impl Into<String>) -> Self {
        Self::LoginRequired {
            server: server.to_owned(),
            reason: reason.into(),
        }
    }

    pub fn exit_code(&self) -> u8 {
        match self {
            Self::LoginRequired { .. } => exit::LOGIN_REQUIRED,
            Self::Usage(_) => exit::USAGE,
            Self::Oauth(OauthError::Interrupted) => exit::INTERRUPTED,
            Self::Context { source, .. } => source.exit_code(),
            _ => exit::FAILURE,
        }
    }

    /// What the user can do next, when there is something specific.
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::LoginRequired { server, .. } => Some(match server.strip_prefix("idp:") {
                Some(idp) => format!("run `mcpauth idp login {idp}`"),
                None => format!("run `mcpauth login {server}`"),
            }),
            Self::Context { source, .. } => source.hint(),
            Self::Oauth(OauthError::Timeout { .. }) => Some(
                "open the printed URL in a browser on this machine, or raise --timeout".into(),
            ),
            Self::Oauth(OauthError::NoDeviceFlow { .. }) => Some(
                "sign in with --no-browser instead: it works over SSH too".into(),
            ),
            Self::Oauth(OauthError::DeviceCodeExpired) => {
                Some("run the login again and approve it sooner".into())
            }
            Self::Oauth(OauthError::ClientRefused { .. }) => Some(
                "the provider no longer accepts this client: check the client id and secret given to mcpauth, or log out and log in again to register anew".into(),
            ),
            Self::Oauth(OauthError::PinnedElsewhere { server, .. }) => Some(format!(
                "if you trust this file, run `mcpauth login {server}` on a terminal to confirm it, or add --allow-pinned-metadata"
            )),
            Self::Store(StoreError::Write { path, .. } | StoreError::Lock { path, .. }) => {
                Some(format!(
                    "`{}` must be a directory mcpauth can write to (a file or a read-only mount in its place stops every sign-in)",
                    path.parent().unwrap_or(path).display()
                ))
            }
            Self::Oauth(OauthError::NoClient { .. }) => Some(
                "register an OAuth app with the provider and pass --client-id (and --client-secret)"
                    .into(),
            ),
            _ => None,
        }
    }

    /// The whole report for stderr: the error, its causes, and a hint. Messages quote
    /// what servers and files said, so each is printed with its control characters
    /// escaped.
    pub fn render(&self) -> String {
        let mut last = self.to_string();
        let mut out = format!("mcpauth: error: {}\n", controls(&last));
        let mut source = std::error::Error::source(self);
        while let Some(s) = source {
            let text = s.to_string();
            // `transparent` wrappers repeat their inner message: say each thing once.
            if text != last {
                let _ = writeln!(out, "  caused by: {}", controls(&text));
                last = text;
            }
            source = s.source();
        }
        if let Some(hint) = self.hint() {
            let _ = writeln!(out, "hint: {}", controls(&hint));
        }
        out
    }
}

/// An error and its causes on one line, `first: cause: cause`, each said once: for
/// places that have one line to give (a JSON-RPC error, a warning).
pub fn inline(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut last = out.clone();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if text != last {
            out.push_str(": ");
            out.push_str(&text);
            last = text;
        }
        source = s.source();
    }
    out
}

/// Adds a line of context to an error.
pub trait Context<T> {
    fn context(self, message: impl FnOnce() -> String) -> Result<T>;
}

impl<T, E: Into<Error>> Context<T> for std::result::Result<T, E> {
    fn context(self, message: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|e| {
            let source = e.into();
            Error::Context {
                message: message(),
                source: Box::new(source),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_lists_causes_once_and_the_hint() {
        let e: Result<()> = Err(Error::login_required("linear", "the grant is gone"));
        let e = e
            .context(|| "cannot refresh the token for `linear`".into())
            .unwrap_err();
        assert_eq!(e.exit_code(), exit::LOGIN_REQUIRED);
        assert_eq!(
            e.render(),
            "mcpauth: error: cannot refresh the token for `linear`\n  caused by: the grant is gone\nhint: run `mcpauth login linear`\n"
        );
    }

    #[test]
    fn interrupted_exits_130() {
        assert_eq!(
            Error::Oauth(OauthError::Interrupted).exit_code(),
            exit::INTERRUPTED
        );
    }
}
