//! The fixture: one MCP resource server and one OAuth authorization server on loopback,
//! shaped by [`Knobs`], sharing one [`State`] that records every request and every grant.
//!
//! Tests start a [`Fixture`], point mcpauth (or reqwest, in the self-tests) at
//! [`Fixture::mcp_url`], then ask the fixture what it was sent. The layout (which paths
//! serve metadata, where the endpoints live) is fixed by the [`Variant`] at start; the
//! other knobs may change while the fixture runs, through [`Fixture::update`].

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::http::{Incoming, Listener, Reply};
use super::{auth, mcp};

/// Where the resource metadata and the authorization server metadata are found: the
/// discovery paths a client must try, one variant each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    /// (a) The 401 names a resource metadata URL at a non-standard path; only there.
    HeaderNamesCustomPrm,
    /// (b) Resource metadata only at `/.well-known/oauth-protected-resource/mcp`.
    PrmPathForm,
    /// (c) Resource metadata only at the root `/.well-known/oauth-protected-resource`.
    PrmRootOnly,
    /// (d) Issuer `…/tenant1`: metadata at `/.well-known/oauth-authorization-server/tenant1`.
    IssuerWithPath,
    /// (e) OpenID Connect discovery only, issuer without a path.
    Oidc,
    /// (e) OIDC, issuer `…/tenant1`, at `/.well-known/openid-configuration/tenant1`.
    OidcPathInserted,
    /// (e) OIDC, issuer `…/tenant1`, at `/tenant1/.well-known/openid-configuration`.
    OidcPathAppended,
    /// (f) 2025-03-26: no resource metadata; the MCP origin is the authorization server
    /// and serves `/.well-known/oauth-authorization-server`.
    LegacyOriginMetadata,
    /// (f) 2025-03-26 with no metadata at all: `/authorize`, `/token`, `/register` on the
    /// MCP origin.
    LegacyNoMetadata,
    /// (g) Authorization server metadata only at a non-standard path, for a pinned URL.
    PinnedMetadataUrl,
    /// GitHub's shape: no metadata of any kind, the endpoints under `/login/oauth` on an
    /// origin of their own (none of the 2025-03-26 defaults exist), no registration.
    GitHubStyle,
}

impl Variant {
    pub const ALL: [Variant; 10] = [
        Variant::HeaderNamesCustomPrm,
        Variant::PrmPathForm,
        Variant::PrmRootOnly,
        Variant::IssuerWithPath,
        Variant::Oidc,
        Variant::OidcPathInserted,
        Variant::OidcPathAppended,
        Variant::LegacyOriginMetadata,
        Variant::LegacyNoMetadata,
        Variant::PinnedMetadataUrl,
    ];
}

/// How a client authenticates at the token endpoint (RFC 7591 names).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    ClientSecretBasic,
    ClientSecretPost,
    None,
    /// RFC 7523: a JWT signed with the client's private key; the fake holds the public key.
    PrivateKeyJwt,
}

impl AuthMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMethod::ClientSecretBasic => "client_secret_basic",
            AuthMethod::ClientSecretPost => "client_secret_post",
            AuthMethod::None => "none",
            AuthMethod::PrivateKeyJwt => "private_key_jwt",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "client_secret_basic" => Some(AuthMethod::ClientSecretBasic),
            "client_secret_post" => Some(AuthMethod::ClientSecretPost),
            "none" => Some(AuthMethod::None),
            "private_key_jwt" => Some(AuthMethod::PrivateKeyJwt),
            _ => None,
        }
    }
}

/// What `/authorize` does once every check has passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthorizeOutcome {
    /// Redirect back with a code at once (the person said yes).
    Approve,
    /// Redirect back with `error=access_denied`.
    Deny,
    /// Redirect with a code but a `state` that is not the one sent.
    WrongState,
    /// Redirect with a code and an `iss` that is not the issuer.
    WrongIss,
    /// Redirect with a code and no `iss`, even when the metadata promises it.
    MissingIss,
    /// Show a page and never redirect (the person walked away).
    NeverRedirect,
    /// First knock on the redirect URI as any local process could (a forged `state`, a
    /// foreign `Host`), counting the 400s in `stray_callbacks_refused`; then approve.
    ApproveAfterStrayCallbacks,
}

/// Metadata that a careful client must refuse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BrokenMetadata {
    /// `issuer` differs from the issuer the metadata was fetched for.
    IssuerMismatch,
    /// The body is not JSON.
    MalformedJson,
    /// `token_endpoint` is plain `http://` on a host that is not loopback.
    NonLoopbackHttpEndpoint,
}

/// A resource metadata `resource` that does not belong to the MCP server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceMismatch {
    /// Same path, another origin (the authorization server's).
    OtherOrigin,
    /// Same origin, a path that is not a prefix of the MCP path.
    OtherPath,
}

/// A failure the token endpoint gives for its next requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransientFailure {
    /// HTTP 503 with a text body and `Retry-After: 1`.
    ServiceUnavailable,
    /// HTTP 400 with `{"error": "temporarily_unavailable"}`.
    TemporarilyUnavailable,
    /// HTTP 429 with `Retry-After` of this many seconds.
    RateLimited(u64),
}

#[derive(Debug, Clone)]
pub struct Knobs {
    pub variant: Variant,
    /// Path of the MCP endpoint on the resource server.
    pub mcp_path: String,
    /// Whether the 401 names `resource_metadata`; `None` = the variant's default (only
    /// the variants whose metadata is not found by probing name it).
    pub challenge_resource_metadata: Option<bool>,
    /// `scope` in the 401 challenge.
    pub challenge_scope: Option<String>,
    /// The resource metadata's `scopes_supported`, also the scopes the server knows.
    pub scopes_supported: Vec<String>,
    pub resource_mismatch: Option<ResourceMismatch>,
    /// `/authorize`, `/token` and `/device` insist on `resource` equal to the MCP URL.
    /// When off, `resource` is still checked when sent.
    pub require_resource: bool,
    /// The server metadata lists `offline_access` in `scopes_supported`.
    pub advertise_offline_access: bool,
    /// The server metadata has a `registration_endpoint` (and `/register` answers).
    pub registration_endpoint: bool,
    /// `code_challenge_methods_supported` includes S256 (else it lists only `plain`).
    pub advertise_s256: bool,
    pub iss_parameter_supported: bool,
    pub client_id_metadata_document_supported: bool,
    pub broken_metadata: Option<BrokenMetadata>,
    pub authorize_outcome: AuthorizeOutcome,
    /// Refresh tokens rotate: each use kills the old one and issues a new one. When off,
    /// the refresh answer carries no `refresh_token` and the old one stays good.
    pub rotate_refresh_tokens: bool,
    /// A rotated-out refresh token that comes back ends its whole grant (reuse
    /// detection, as Auth0 and Okta do): two processes refreshing one grant without a
    /// shared lock lose it.
    pub revoke_family_on_refresh_reuse: bool,
    /// Issue a refresh token whether or not `offline_access` was granted.
    pub refresh_without_offline_access: bool,
    pub access_token_ttl: Duration,
    /// The next `transient_count` token requests fail with `transient_failure`.
    pub transient_failure: TransientFailure,
    pub transient_count: u32,
    /// `/register` demands `Authorization: Bearer <this>`.
    pub initial_access_token: Option<String>,
    /// `/register` answers with this method whatever was asked.
    pub registration_auth_method: Option<AuthMethod>,
    /// `tools/call` needs this scope, else 403 `insufficient_scope`.
    pub tool_scope: Option<String>,
    /// The metadata offers the device authorization grant.
    pub device_endpoint: bool,
    /// Device flow: the next N polls answer `slow_down`.
    pub device_slow_down_polls: u32,
    pub device_interval_secs: u64,
    pub device_expires_in_secs: u64,
    /// A GET of `verification_uri_complete` approves the device grant (so a "browser"
    /// that only fetches the page signs in).
    pub device_approve_on_visit: bool,
    /// MCP answers come as a one-event SSE stream instead of a JSON body.
    pub sse_responses: bool,
    /// GitHub's token endpoint: refusals come as `200 {"error": ...}`, with GitHub's
    /// names for a dead refresh token and for bad client credentials.
    pub token_errors_in_200: bool,
    /// A provider's documented refusals (see [`ProviderQuirks`]).
    pub provider_quirks: Option<ProviderQuirks>,
    /// Access tokens are self-contained, so revocation refuses them with RFC 7009's
    /// `unsupported_token_type` (refresh tokens still revoke).
    pub access_tokens_unrevocable: bool,
    /// The token endpoint waits this long before answering (a hung provider).
    pub token_delay: Duration,
    /// `/register` refuses any registration that names a `scope`.
    pub registration_refuses_scope: bool,
}

impl Default for Knobs {
    fn default() -> Self {
        Self {
            variant: Variant::PrmPathForm,
            mcp_path: "/mcp".into(),
            challenge_resource_metadata: None,
            challenge_scope: Some("mcp:tools".into()),
            scopes_supported: vec!["mcp:tools".into(), "mcp:admin".into()],
            resource_mismatch: None,
            require_resource: true,
            advertise_offline_access: true,
            registration_endpoint: true,
            advertise_s256: true,
            iss_parameter_supported: true,
            client_id_metadata_document_supported: true,
            broken_metadata: None,
            authorize_outcome: AuthorizeOutcome::Approve,
            rotate_refresh_tokens: true,
            revoke_family_on_refresh_reuse: true,
            refresh_without_offline_access: true,
            access_token_ttl: Duration::from_secs(3600),
            transient_failure: TransientFailure::ServiceUnavailable,
            transient_count: 0,
            initial_access_token: None,
            registration_auth_method: None,
            tool_scope: None,
            device_endpoint: true,
            device_slow_down_polls: 0,
            device_interval_secs: 1,
            device_expires_in_secs: 600,
            device_approve_on_visit: false,
            sse_responses: false,
            token_errors_in_200: false,
            access_tokens_unrevocable: false,
            provider_quirks: None,
            token_delay: Duration::ZERO,
            registration_refuses_scope: false,
        }
    }
}

impl Knobs {
    pub fn variant(variant: Variant) -> Self {
        Self {
            variant,
            ..Self::default()
        }
    }
}

/// Which of the two listeners a request reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Resource,
    Authorization,
}

/// What a recorded request was for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    Mcp,
    ResourceMetadata,
    ServerMetadata,
    Authorize,
    Token,
    Register,
    Revoke,
    Device,
    Activate,
    Jwks,
    ClientDocument,
    Unknown,
}

/// One request as received, with the status it was answered.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub side: Side,
    pub endpoint: Endpoint,
    pub request: Incoming,
    pub status: u16,
    /// Why the fake refused it, when it did (the text of a 400, an OAuth error code).
    pub refusal: Option<String>,
}

impl Recorded {
    /// A parameter of the form body.
    pub fn form(&self, name: &str) -> Option<String> {
        super::http::form_get(&self.request.form(), name).map(str::to_owned)
    }

    pub fn query(&self, name: &str) -> Option<String> {
        self.request.query_param(name).map(str::to_owned)
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.request.header(name).map(str::to_owned)
    }

    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_str(&self.request.body).ok()
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    /// `tools/call` requests answered with a result.
    pub tool_calls: u32,
    /// MCP requests refused with 401 or 403.
    pub mcp_auth_failures: u32,
    /// Token requests with `grant_type=refresh_token`, whatever their outcome.
    pub refresh_requests: u32,
    pub token_requests: u32,
    pub authorize_requests: u32,
    pub registrations: u32,
    /// Stray requests to the redirect URI that mcpauth's listener answered 400.
    pub stray_callbacks_refused: u32,
}

/// What two big providers refuse, as their documentation says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderQuirks {
    /// Microsoft Entra ID: a token request with `resource` is refused (AADSTS9010010), a
    /// refresh without `scope` too (AADSTS90014); `<resource>/.default` scopes are known.
    Entra,
    /// Google: a refresh token only for an authorization with `access_type=offline` and
    /// `prompt=consent`, whatever the scopes.
    Google,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientKind {
    PreRegistered,
    Dynamic,
    MetadataDocument,
}

#[derive(Debug, Clone)]
pub struct Client {
    pub id: String,
    pub secret: Option<String>,
    pub method: AuthMethod,
    /// The SPKI PEM public key of a `private_key_jwt` client.
    pub public_key: Option<String>,
    /// Empty = any loopback redirect.
    pub redirect_uris: Vec<String>,
    pub kind: ClientKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceState {
    Pending,
    Approved,
    Denied,
    Expired,
    /// Tokens were issued; the device code is spent.
    Consumed,
}

#[derive(Debug, Clone)]
pub struct DeviceGrant {
    pub device_code: String,
    pub user_code: String,
    pub client_id: String,
    pub scopes: Vec<String>,
    pub resource: Option<String>,
    pub state: DeviceState,
    pub polls: u32,
    pub(super) expires_at: Instant,
}

#[derive(Debug, Clone)]
pub(super) struct CodeGrant {
    pub client_id: String,
    pub redirect_uri: String,
    pub challenge: String,
    pub resource: Option<String>,
    pub scopes: Vec<String>,
    /// The authorization asked `access_type=offline` with `prompt=consent`.
    pub offline_consent: bool,
    pub used: bool,
    /// The grant the code's exchange created, ended if the code comes back.
    pub issued_grant: Option<u64>,
}

#[derive(Debug, Clone)]
pub(super) struct AccessGrant {
    pub grant: u64,
    pub client_id: String,
    pub resource: Option<String>,
    pub scopes: Vec<String>,
    pub expires_at: Instant,
    pub revoked: bool,
}

#[derive(Debug, Clone)]
pub(super) struct RefreshGrant {
    pub grant: u64,
    pub client_id: String,
    pub resource: Option<String>,
    pub scopes: Vec<String>,
    pub alive: bool,
}

/// URLs and paths fixed at start from the variant and the two ports.
#[derive(Debug, Clone)]
pub struct Layout {
    pub rs_origin: String,
    pub as_origin: String,
    /// The authorization server's issuer identifier.
    pub issuer: String,
    /// The issuer's path (`""` or `/tenant1`), endpoints hang under it.
    pub issuer_path: String,
    /// The MCP endpoint URL, also the resource identifier tokens are issued for.
    pub mcp_url: String,
    /// Paths on the resource server that serve resource metadata.
    pub prm_paths: Vec<String>,
    /// Paths on the authorization side that serve server metadata.
    pub as_metadata_paths: Vec<String>,
    /// The endpoints live on the resource server (2025-03-26 variants).
    pub as_on_rs: bool,
    /// Metadata is the OpenID Connect flavour.
    pub oidc: bool,
}

impl Layout {
    fn new(variant: Variant, mcp_path: &str, rs_origin: String, as_origin: String) -> Self {
        use Variant::*;
        let path_form = format!("/.well-known/oauth-protected-resource{mcp_path}");
        let root_form = "/.well-known/oauth-protected-resource".to_owned();
        let tenant = matches!(
            variant,
            IssuerWithPath | OidcPathInserted | OidcPathAppended
        );
        let issuer_path = match variant {
            _ if tenant => "/tenant1",
            GitHubStyle => "/login/oauth",
            _ => "",
        }
        .to_owned();
        let as_on_rs = matches!(variant, LegacyOriginMetadata | LegacyNoMetadata);
        let as_origin = if as_on_rs {
            rs_origin.clone()
        } else {
            as_origin
        };
        let prm_paths = match variant {
            HeaderNamesCustomPrm => vec!["/meta/resource-info.json".to_owned()],
            PrmRootOnly => vec![root_form],
            LegacyOriginMetadata | LegacyNoMetadata | GitHubStyle => vec![],
            _ => vec![path_form],
        };
        let as_metadata_paths = match variant {
            IssuerWithPath => vec!["/.well-known/oauth-authorization-server/tenant1".to_owned()],
            Oidc => vec!["/.well-known/openid-configuration".to_owned()],
            OidcPathInserted => vec!["/.well-known/openid-configuration/tenant1".to_owned()],
            OidcPathAppended => vec!["/tenant1/.well-known/openid-configuration".to_owned()],
            LegacyNoMetadata | GitHubStyle => vec![],
            PinnedMetadataUrl => vec!["/config/pinned-oauth-metadata.json".to_owned()],
            _ => vec!["/.well-known/oauth-authorization-server".to_owned()],
        };
        Self {
            issuer: format!("{as_origin}{issuer_path}"),
            mcp_url: format!("{rs_origin}{mcp_path}"),
            rs_origin,
            as_origin,
            issuer_path,
            prm_paths,
            as_metadata_paths,
            as_on_rs,
            oidc: matches!(variant, Oidc | OidcPathInserted | OidcPathAppended),
        }
    }

    /// An authorization endpoint URL, e.g. `endpoint("/token")`.
    pub fn endpoint(&self, path: &str) -> String {
        format!("{}{path}", self.issuer)
    }
}

/// Everything the fake knows; one lock, held for the whole of one request.
pub(super) struct State {
    pub knobs: Knobs,
    pub layout: Layout,
    pub log: Vec<Recorded>,
    pub clients: HashMap<String, Client>,
    pub codes: HashMap<String, CodeGrant>,
    pub access: HashMap<String, AccessGrant>,
    pub refresh: HashMap<String, RefreshGrant>,
    pub devices: Vec<DeviceGrant>,
    pub sessions: HashSet<String>,
    pub secrets: Vec<String>,
    pub counters: Counters,
    pub documents: HashMap<String, serde_json::Value>,
    pub next_grant: u64,
    /// `jti`s of client assertions accepted so far: one may not come twice (RFC 7523 §3).
    pub assertion_ids: HashSet<String>,
}

impl State {
    /// A fresh random secret with a readable prefix, remembered for the leak tests.
    /// A random identifier that is public by design (a client id travels in the
    /// authorization URL), so it is not counted among the secrets.
    pub fn mint_public(&mut self, prefix: &str) -> String {
        format!("{prefix}_{}", random_b64(24))
    }

    pub fn mint(&mut self, prefix: &str) -> String {
        let value = format!("{prefix}_{}", random_b64(24));
        self.secrets.push(value.clone());
        self.secrets.dedup();
        value
    }

    /// Remembers a secret the fake was sent (a verifier, an initial access token).
    pub fn saw_secret(&mut self, value: &str) {
        if !value.is_empty() && !self.secrets.iter().any(|s| s == value) {
            self.secrets.push(value.to_owned());
        }
    }

    /// Issues an access token (and a refresh token when `with_refresh`) for one grant and
    /// builds the token answer.
    pub fn issue_tokens(
        &mut self,
        client_id: &str,
        resource: Option<String>,
        scopes: Vec<String>,
        with_refresh: bool,
    ) -> serde_json::Value {
        self.next_grant += 1;
        let grant = self.next_grant;
        let (_, mut body) = self.issue_access(grant, client_id, resource.clone(), &scopes);
        if with_refresh {
            let refresh = self.mint("rt");
            self.refresh.insert(
                refresh.clone(),
                RefreshGrant {
                    grant,
                    client_id: client_id.to_owned(),
                    resource,
                    scopes,
                    alive: true,
                },
            );
            body["refresh_token"] = refresh.into();
        }
        body
    }

    pub fn issue_access(
        &mut self,
        grant: u64,
        client_id: &str,
        resource: Option<String>,
        scopes: &[String],
    ) -> (String, serde_json::Value) {
        let token = self.mint("at");
        let ttl = self.knobs.access_token_ttl;
        self.access.insert(
            token.clone(),
            AccessGrant {
                grant,
                client_id: client_id.to_owned(),
                resource,
                scopes: scopes.to_vec(),
                expires_at: Instant::now() + ttl,
                revoked: false,
            },
        );
        let mut body = serde_json::json!({
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": ttl.as_secs(),
        });
        if !scopes.is_empty() {
            body["scope"] = scopes.join(" ").into();
        }
        (token, body)
    }

    /// Ends a grant: its refresh tokens die and its access tokens are revoked.
    pub fn end_grant(&mut self, grant: u64) {
        for r in self.refresh.values_mut().filter(|r| r.grant == grant) {
            r.alive = false;
        }
        for a in self.access.values_mut().filter(|a| a.grant == grant) {
            a.revoked = true;
        }
    }

    /// Every scope a client may ask for.
    pub fn known_scopes(&self) -> Vec<String> {
        let mut scopes = self.knobs.scopes_supported.clone();
        if let Some(s) = &self.knobs.tool_scope
            && !scopes.contains(s)
        {
            scopes.push(s.clone());
        }
        if self.knobs.advertise_offline_access {
            scopes.push("offline_access".into());
        }
        scopes
    }
}

pub(super) fn random_b64(bytes: usize) -> String {
    use base64::Engine;
    use rand::RngCore;
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}

pub(super) type Shared = Arc<Mutex<State>>;

pub(super) fn lock(shared: &Shared) -> MutexGuard<'_, State> {
    // A panicking handler thread must not wedge every later request of the test.
    shared.lock().unwrap_or_else(|e| e.into_inner())
}

/// The running fake. Dropping it stops both listeners.
pub struct Fixture {
    shared: Shared,
    layout: Layout,
    _rs: Listener,
    _as: Listener,
}

impl Fixture {
    pub fn new(variant: Variant) -> Self {
        Self::start(Knobs::variant(variant))
    }

    pub fn start(knobs: Knobs) -> Self {
        // The handlers need the state and the state needs the ports: bind first with a
        // slot that is filled before any request can matter.
        let slot: Arc<Mutex<Option<Shared>>> = Arc::new(Mutex::new(None));
        let rs = {
            let slot = Arc::clone(&slot);
            Listener::start(move |req| route(&slot, Side::Resource, req))
        };
        let az = {
            let slot = Arc::clone(&slot);
            Listener::start(move |req| route(&slot, Side::Authorization, req))
        };
        let layout = Layout::new(knobs.variant, &knobs.mcp_path, rs.origin(), az.origin());
        let shared = Arc::new(Mutex::new(State {
            knobs,
            layout: layout.clone(),
            log: Vec::new(),
            clients: HashMap::new(),
            codes: HashMap::new(),
            access: HashMap::new(),
            refresh: HashMap::new(),
            devices: Vec::new(),
            sessions: HashSet::new(),
            secrets: Vec::new(),
            counters: Counters::default(),
            documents: HashMap::new(),
            next_grant: 0,
            assertion_ids: HashSet::new(),
        }));
        *slot.lock().unwrap() = Some(Arc::clone(&shared));
        Self {
            shared,
            layout,
            _rs: rs,
            _as: az,
        }
    }

    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// The MCP endpoint, e.g. `http://127.0.0.1:41234/mcp`; also the resource identifier.
    pub fn mcp_url(&self) -> String {
        self.layout.mcp_url.clone()
    }

    pub fn issuer(&self) -> String {
        self.layout.issuer.clone()
    }

    /// An authorization endpoint URL, e.g. `endpoint("/token")`.
    pub fn endpoint(&self, path: &str) -> String {
        self.layout.endpoint(path)
    }

    /// Where the resource metadata lives, when there is any.
    pub fn prm_url(&self) -> Option<String> {
        let path = self.layout.prm_paths.first()?;
        Some(format!("{}{path}", self.layout.rs_origin))
    }

    /// Where the server metadata lives (the URL to pin for [`Variant::PinnedMetadataUrl`]).
    pub fn server_metadata_url(&self) -> Option<String> {
        let path = self.layout.as_metadata_paths.first()?;
        Some(format!("{}{path}", self.layout.as_origin))
    }

    /// Changes knobs while the fixture runs. The variant and MCP path are fixed at start.
    pub fn update(&self, f: impl FnOnce(&mut Knobs)) {
        let mut state = lock(&self.shared);
        let (variant, path) = (state.knobs.variant, state.knobs.mcp_path.clone());
        f(&mut state.knobs);
        state.knobs.variant = variant;
        state.knobs.mcp_path = path;
    }

    pub fn knobs(&self) -> Knobs {
        lock(&self.shared).knobs.clone()
    }

    /// Registers a client out of band, as an administrator would.
    pub fn add_client(
        &self,
        id: &str,
        secret: Option<&str>,
        method: AuthMethod,
        redirect_uris: &[&str],
    ) {
        let mut state = lock(&self.shared);
        if let Some(s) = secret {
            state.saw_secret(s);
        }
        state.clients.insert(
            id.to_owned(),
            Client {
                id: id.to_owned(),
                secret: secret.map(str::to_owned),
                method,
                public_key: None,
                redirect_uris: redirect_uris.iter().map(|s| s.to_string()).collect(),
                kind: ClientKind::PreRegistered,
            },
        );
    }

    /// Registers a `private_key_jwt` client out of band with its public key (SPKI PEM):
    /// its requests must carry assertions that this key verifies.
    pub fn add_jwt_client(&self, id: &str, public_key_pem: &str) {
        lock(&self.shared).clients.insert(
            id.to_owned(),
            Client {
                id: id.to_owned(),
                secret: None,
                method: AuthMethod::PrivateKeyJwt,
                public_key: Some(public_key_pem.to_owned()),
                redirect_uris: Vec::new(),
                kind: ClientKind::PreRegistered,
            },
        );
    }

    pub fn client(&self, id: &str) -> Option<Client> {
        lock(&self.shared).clients.get(id).cloned()
    }

    pub fn clients(&self) -> Vec<Client> {
        lock(&self.shared).clients.values().cloned().collect()
    }

    /// The provider deletes every client registration (an admin removed the app).
    pub fn forget_clients(&self) {
        lock(&self.shared).clients.clear();
    }

    /// Serves a client ID metadata document on the resource server's origin and returns
    /// its URL, which is the client id. (The spec wants https; the fake takes loopback
    /// http because the tests have no TLS.)
    pub fn publish_client_document(&self, name: &str, redirect_uris: &[&str]) -> String {
        let url = self.client_document_url(name);
        self.publish_client_document_raw(
            name,
            serde_json::json!({
                "client_id": url,
                "client_name": format!("mcpauth test client {name}"),
                "redirect_uris": redirect_uris,
                "grant_types": ["authorization_code", "refresh_token"],
                "response_types": ["code"],
                "token_endpoint_auth_method": "none",
            }),
        );
        url
    }

    /// Serves any JSON as a client document (for hostile or broken documents).
    pub fn publish_client_document_raw(&self, name: &str, document: serde_json::Value) -> String {
        lock(&self.shared)
            .documents
            .insert(format!("/clients/{name}.json"), document);
        self.client_document_url(name)
    }

    fn client_document_url(&self, name: &str) -> String {
        format!("{}/clients/{name}.json", self.layout.rs_origin)
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<Recorded> {
        lock(&self.shared).log.clone()
    }

    pub fn requests_to(&self, endpoint: Endpoint) -> Vec<Recorded> {
        lock(&self.shared)
            .log
            .iter()
            .filter(|r| r.endpoint == endpoint)
            .cloned()
            .collect()
    }

    /// Every token, code, client secret, device code, verifier and initial access token
    /// the fake issued or was sent: none of them may appear in mcpauth's output.
    pub fn secrets_seen(&self) -> Vec<String> {
        let state = lock(&self.shared);
        let mut all = state.secrets.clone();
        if let Some(iat) = &state.knobs.initial_access_token {
            all.push(iat.clone());
        }
        all
    }

    /// How many refresh requests came, after checking that none of them presented a
    /// refresh token that an earlier one had: with rotation, a second use of one is the
    /// race that ends a grant.
    pub fn refreshes_without_reuse(&self) -> usize {
        let presented: Vec<String> = self
            .requests_to(Endpoint::Token)
            .iter()
            .filter(|r| r.form("grant_type").as_deref() == Some("refresh_token"))
            .filter_map(|r| r.form("refresh_token"))
            .collect();
        let mut distinct = presented.clone();
        distinct.sort();
        distinct.dedup();
        assert_eq!(
            distinct.len(),
            presented.len(),
            "a refresh token was used twice"
        );
        presented.len()
    }

    pub fn counters(&self) -> Counters {
        lock(&self.shared).counters
    }

    /// Issues an access token for the MCP resource without a flow.
    pub fn mint_access_token(&self, client_id: &str, scopes: &[&str]) -> String {
        self.mint_access_token_for(&self.layout.mcp_url, client_id, scopes)
    }

    /// Issues an access token whose audience is `resource` (which need not be this MCP
    /// server: the resource server must refuse it then).
    pub fn mint_access_token_for(
        &self,
        resource: &str,
        client_id: &str,
        scopes: &[&str],
    ) -> String {
        let mut state = lock(&self.shared);
        let resource = Some(resource.to_owned());
        state.next_grant += 1;
        let grant = state.next_grant;
        let scopes: Vec<String> = scopes.iter().map(|s| s.to_string()).collect();
        state.issue_access(grant, client_id, resource, &scopes).0
    }

    /// Makes every access token issued so far expired, without waiting.
    pub fn expire_access_tokens(&self) {
        let now = Instant::now();
        for grant in lock(&self.shared).access.values_mut() {
            grant.expires_at = now;
        }
    }

    pub fn access_token_valid(&self, token: &str) -> bool {
        lock(&self.shared)
            .access
            .get(token)
            .is_some_and(|g| !g.revoked && g.expires_at > Instant::now())
    }

    /// Kills every refresh token, as an administrator revoking the grants would: the next
    /// refresh answers `invalid_grant`.
    pub fn revoke_refresh_tokens(&self) {
        for grant in lock(&self.shared).refresh.values_mut() {
            grant.alive = false;
        }
    }

    pub fn refresh_token_alive(&self, token: &str) -> bool {
        lock(&self.shared)
            .refresh
            .get(token)
            .is_some_and(|g| g.alive)
    }

    /// The scopes an access token was granted.
    pub fn access_token_scopes(&self, token: &str) -> Option<Vec<String>> {
        lock(&self.shared)
            .access
            .get(token)
            .map(|g| g.scopes.clone())
    }

    pub fn devices(&self) -> Vec<DeviceGrant> {
        lock(&self.shared).devices.clone()
    }

    /// The person approves the device grant with this user code. False if unknown.
    pub fn approve_device(&self, user_code: &str) -> bool {
        self.set_device(user_code, DeviceState::Approved)
    }

    pub fn deny_device(&self, user_code: &str) -> bool {
        self.set_device(user_code, DeviceState::Denied)
    }

    pub fn expire_device(&self, user_code: &str) -> bool {
        self.set_device(user_code, DeviceState::Expired)
    }

    fn set_device(&self, user_code: &str, to: DeviceState) -> bool {
        let mut state = lock(&self.shared);
        match state.devices.iter_mut().find(|d| d.user_code == user_code) {
            Some(d) if d.state == DeviceState::Pending => {
                d.state = to;
                true
            }
            _ => false,
        }
    }

    /// Forgets every MCP session, as a restarted server does: the next request with an
    /// old session id gets 404.
    pub fn drop_sessions(&self) {
        lock(&self.shared).sessions.clear();
    }

    pub fn sessions(&self) -> usize {
        lock(&self.shared).sessions.len()
    }
}

/// What a handler hands back: the reply, which endpoint it was, and why it refused.
pub(super) struct Handled {
    pub endpoint: Endpoint,
    pub reply: Reply,
    pub refusal: Option<String>,
}

impl Handled {
    pub fn ok(endpoint: Endpoint, reply: Reply) -> Self {
        Self {
            endpoint,
            reply,
            refusal: None,
        }
    }

    pub fn refused(endpoint: Endpoint, reply: Reply, why: impl Into<String>) -> Self {
        Self {
            endpoint,
            reply,
            refusal: Some(why.into()),
        }
    }
}

fn route(slot: &Mutex<Option<Shared>>, side: Side, req: &Incoming) -> Reply {
    let Some(shared) = slot.lock().unwrap_or_else(|e| e.into_inner()).clone() else {
        return Reply::text(503, "fake server is still starting");
    };
    let handled = dispatch(&shared, side, req);
    let mut state = lock(&shared);
    let status = handled.reply.status;
    state.log.push(Recorded {
        side,
        endpoint: handled.endpoint,
        request: req.clone(),
        status,
        refusal: handled.refusal,
    });
    handled.reply
}

fn dispatch(shared: &Shared, side: Side, req: &Incoming) -> Handled {
    let (layout, knobs) = {
        let state = lock(shared);
        (state.layout.clone(), state.knobs.clone())
    };
    let path = req.path.as_str();
    let on_auth_side = match side {
        Side::Authorization => !layout.as_on_rs,
        Side::Resource => layout.as_on_rs,
    };
    if side == Side::Resource {
        if path == knobs.mcp_path {
            return mcp::handle_mcp(shared, req);
        }
        if layout.prm_paths.iter().any(|p| p == path) {
            return mcp::handle_prm(shared, req);
        }
        if path.starts_with("/clients/") {
            let doc = lock(shared).documents.get(path).cloned();
            return match doc {
                Some(d) => Handled::ok(Endpoint::ClientDocument, Reply::json(200, &d)),
                None => Handled::refused(
                    Endpoint::ClientDocument,
                    Reply::text(404, "no such client document"),
                    "unknown document",
                ),
            };
        }
    }
    if on_auth_side {
        if layout.as_metadata_paths.iter().any(|p| p == path) {
            return auth::handle_metadata(shared, req);
        }
        if let Some(rest) = path.strip_prefix(layout.issuer_path.as_str()) {
            let handled = match rest {
                "/authorize" => Some(auth::handle_authorize(shared, req)),
                "/token" => Some(auth::github_style(&knobs, auth::handle_token(shared, req))),
                "/register" if knobs.registration_endpoint => {
                    Some(auth::handle_register(shared, req))
                }
                "/revoke" => Some(auth::handle_revoke(shared, req)),
                "/device" => Some(auth::handle_device(shared, req)),
                "/activate" => Some(auth::handle_activate(shared, req)),
                "/jwks" if layout.oidc => Some(Handled::ok(
                    Endpoint::Jwks,
                    Reply::json(200, &serde_json::json!({ "keys": [] })),
                )),
                _ => None,
            };
            if let Some(h) = handled {
                return h;
            }
        }
    }
    Handled::refused(
        Endpoint::Unknown,
        Reply::text(404, format!("nothing at `{path}`")),
        "not found",
    )
}
