//! What a sign-in is asked to do, in the sign-in's own terms: which grant, which client,
//! where the authorization server's metadata comes from, and how to reach the person.
//! `login` builds one from its flags; the proxy and `export` start from the defaults.

use std::path::PathBuf;
use std::time::Duration;

use crate::oauth::discovery::Pinned;

use super::{enterprise, workload};

#[derive(Debug, Clone)]
pub struct Options {
    pub flow: Flow,
    pub client: ClientOptions,
    pub metadata: Metadata,
    /// Sign in where a project file pins the metadata on another origin, without asking.
    pub allow_pinned_metadata: bool,
    /// Scopes to ask for; empty means the config's, else what the server names.
    pub scopes: Vec<String>,
    /// Extra parameters for the authorization request and every token request, over the
    /// config's `oauth.params`.
    pub params: Vec<(String, String)>,
    /// The loopback port of the redirect; `None` is the config's, else any free port.
    pub callback_port: Option<u16>,
    /// How long the person has to approve.
    pub timeout: Duration,
    /// Whether the grant is exchanged from a sign-in to the company's identity provider.
    pub enterprise: enterprise::Choice,
}

/// How the grant is obtained.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Flow {
    /// The authorization code grant in a browser opened here.
    Browser,
    /// The authorization code grant in a browser anywhere; the address it ends on is
    /// pasted back.
    Paste,
    /// The device authorization grant (RFC 8628).
    Device,
    /// A token for the client itself (RFC 6749 §4.4), renewed by asking again.
    ClientCredentials,
    /// A platform's JWT presented as an RFC 7523 grant, fetched again on every renewal.
    Workload(workload::Source),
}

/// The client to sign in as, when it is not left to registration.
#[derive(Debug, Clone, Default)]
pub struct ClientOptions {
    /// A client registered in advance.
    pub id: Option<String>,
    pub secret: SecretInput,
    /// How it authenticates at the token endpoint, by its RFC 7591 name; `None` is the
    /// stored registration's, or what the server takes.
    pub auth_method: Option<&'static str>,
    /// A client ID metadata document URL, used where the server takes them.
    pub metadata_url: Option<String>,
    /// Ask for an initial access token for dynamic registration.
    pub initial_access_token: bool,
}

/// Where the client's secret comes from; never the command line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum SecretInput {
    /// A stored one, if any.
    #[default]
    Stored,
    /// A hidden prompt, or one line on stdin.
    Prompt,
    /// A PEM private key for `private_key_jwt`, copied into the store.
    KeyFile(PathBuf),
}

/// Where the authorization server's metadata comes from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Metadata {
    /// The config's pins, else discovery from the server.
    #[default]
    Discover,
    /// A metadata document at an http(s) URL, or in a local file.
    At(String),
    /// The endpoints themselves, for a provider that publishes no metadata.
    Endpoints {
        authorization: String,
        token: String,
        revocation: Option<String>,
    },
    /// An OpenID provider's own metadata, from its issuer: a sign-in to the provider
    /// itself, with no MCP server in front of it.
    Issuer(String),
}

impl Metadata {
    /// What the person pinned for this sign-in, in discovery's terms.
    pub fn pinned(&self) -> Option<Pinned<'_>> {
        match self {
            Metadata::Discover | Metadata::Issuer(_) => None,
            Metadata::At(url) => Some(Pinned::Metadata(url)),
            Metadata::Endpoints {
                authorization,
                token,
                revocation,
            } => Some(Pinned::Endpoints {
                authorization,
                token,
                revocation: revocation.as_deref(),
            }),
        }
    }
}

impl Default for Options {
    /// A sign-in in the browser with every choice left to the config and the server, as
    /// the proxy starts one.
    fn default() -> Self {
        Self {
            flow: Flow::Browser,
            client: ClientOptions::default(),
            metadata: Metadata::Discover,
            allow_pinned_metadata: false,
            scopes: Vec::new(),
            params: Vec::new(),
            callback_port: None,
            timeout: Duration::from_secs(300),
            enterprise: enterprise::Choice::Auto,
        }
    }
}
