//! Finding out how an MCP server wants to be authorized (MCP authorization 2025-11-25,
//! RFC 9728 protected resource metadata, RFC 8414 authorization server metadata, and the
//! 2025-03-26 fallbacks).
//!
//! Everything here is checked before any authorization request is sent: a resource
//! metadata document that names another resource, an issuer that does not match, an
//! endpoint on plain http off this machine, or no PKCE S256 stops the login.

use reqwest::StatusCode;
use serde::Deserialize;
use url::Url;

use super::OauthError;
use super::challenge::BearerChallenge;
use super::http::{MAX_BODY, canonical_resource, check_endpoint, read_body, resource_covers};

/// RFC 9728 protected resource metadata (the fields mcpauth reads).
#[derive(Debug, Clone, Deserialize)]
pub struct ResourceMetadata {
    pub resource: String,
    #[serde(default)]
    pub authorization_servers: Vec<String>,
    #[serde(default)]
    pub scopes_supported: Option<Vec<String>>,
    /// The DPoP algorithms the server takes proofs in (RFC 9728 §2).
    #[serde(default)]
    pub dpop_signing_alg_values_supported: Option<Vec<String>>,
    /// It takes DPoP-bound tokens only (RFC 9728 §2).
    #[serde(default)]
    pub dpop_bound_access_tokens_required: Option<bool>,
}

/// RFC 8414 authorization server metadata (the fields mcpauth reads).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AuthServerMetadata {
    pub issuer: String,
    #[serde(default)]
    pub authorization_endpoint: Option<String>,
    #[serde(default)]
    pub token_endpoint: Option<String>,
    #[serde(default)]
    pub registration_endpoint: Option<String>,
    #[serde(default)]
    pub revocation_endpoint: Option<String>,
    #[serde(default)]
    pub device_authorization_endpoint: Option<String>,
    #[serde(default)]
    pub scopes_supported: Option<Vec<String>>,
    #[serde(default)]
    pub code_challenge_methods_supported: Option<Vec<String>>,
    #[serde(default)]
    pub token_endpoint_auth_methods_supported: Option<Vec<String>>,
    #[serde(default)]
    pub grant_types_supported: Option<Vec<String>>,
    /// The algorithms it takes DPoP proofs in (RFC 9449 §5.1).
    #[serde(default)]
    pub dpop_signing_alg_values_supported: Option<Vec<String>>,
    /// Which authorization grant profiles it takes (ID-JAG names one).
    #[serde(default)]
    pub authorization_grant_profiles_supported: Option<Vec<String>>,
    #[serde(default)]
    pub authorization_response_iss_parameter_supported: Option<bool>,
    #[serde(default)]
    pub client_id_metadata_document_supported: Option<bool>,
}

/// Where the authorization server metadata came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MetadataSource {
    /// Found at a well-known URL.
    WellKnown(String),
    /// The URL the user pinned (`oauth.authServerMetadataUrl`).
    Pinned(String),
    /// No metadata anywhere: the 2025-03-26 default endpoints on the server's origin.
    Defaults,
    /// The endpoints were given by hand (`oauth.authorizationUrl`, `--token-url`).
    Explicit,
}

/// What the person (or a config) fixed instead of discovering it.
#[derive(Debug, Clone, Copy)]
pub enum Pinned<'a> {
    /// Authorization server metadata at an http(s) URL, or in a local file.
    Metadata(&'a str),
    /// The endpoints themselves; the issuer is the authorization endpoint's origin.
    Endpoints {
        authorization: &'a str,
        token: &'a str,
        revocation: Option<&'a str>,
    },
}

impl<'a> Pinned<'a> {
    /// What a server's `oauth` settings pin: endpoints before a metadata URL.
    pub fn from_settings(s: &'a crate::config::OauthSettings) -> Option<Self> {
        match (&s.authorization_url, &s.token_url) {
            (Some(authorization), Some(token)) => Some(Pinned::Endpoints {
                authorization,
                token,
                revocation: s.revocation_url.as_deref(),
            }),
            _ => s.auth_server_metadata_url.as_deref().map(Pinned::Metadata),
        }
    }

    /// How it reads in a message (userinfo masked).
    pub fn describe(&self) -> String {
        use crate::redact::url as masked;
        match self {
            Pinned::Metadata(url) => {
                format!("the authorization server metadata at `{}`", masked(url))
            }
            Pinned::Endpoints {
                authorization,
                token,
                ..
            } => format!(
                "the endpoints `{}` and `{}`",
                masked(authorization),
                masked(token)
            ),
        }
    }

    /// Exactly what is pinned, as one string: what a confirmation is kept under.
    pub fn key(&self) -> String {
        match self {
            Pinned::Metadata(url) => (*url).to_owned(),
            Pinned::Endpoints {
                authorization,
                token,
                ..
            } => format!("{authorization} {token}"),
        }
    }
}

/// The local file a pinned metadata location names (`file:///…`, or anything that is not
/// an http(s) URL), or `None` for a URL.
pub fn metadata_file(pinned: &str) -> Option<std::path::PathBuf> {
    if let Some(rest) = pinned.strip_prefix("file://") {
        return Some(std::path::PathBuf::from(rest));
    }
    (!crate::config::is_url(pinned)).then(|| std::path::PathBuf::from(pinned))
}

/// The outcome of discovery: everything needed to register and authorize.
#[derive(Debug, Clone)]
pub struct Discovery {
    /// The MCP server URL as configured.
    pub server_url: String,
    /// The RFC 8707 resource to ask tokens for.
    pub resource: String,
    pub resource_metadata: Option<ResourceMetadata>,
    /// The server's 401 challenge, when it sent one.
    pub challenge: Option<BearerChallenge>,
    pub issuer: String,
    pub metadata: AuthServerMetadata,
    pub metadata_source: MetadataSource,
}

impl Discovery {
    pub fn authorization_endpoint(&self) -> &str {
        self.metadata
            .authorization_endpoint
            .as_deref()
            .unwrap_or_default()
    }

    /// The issuer, when metadata named it; with endpoints given by hand it is only the
    /// authorization endpoint's origin, standing in as the grant's key.
    pub fn known_issuer(&self) -> Option<&str> {
        (self.metadata_source != MetadataSource::Explicit).then_some(self.issuer.as_str())
    }

    pub fn token_endpoint(&self) -> &str {
        self.metadata.token_endpoint.as_deref().unwrap_or_default()
    }

    /// For metadata pinned by a URL: the authorization servers the MCP server names for
    /// itself (its own origin for a 2025-03-26 server, which names none), when the pinned
    /// URL is on the origin of none of them. The browser and the code would go to a
    /// server the MCP server never pointed at.
    pub fn pinned_elsewhere(&self) -> Option<Vec<String>> {
        // What is checked: the metadata's own URL, or, for metadata from a file and for
        // endpoints given by hand, where the browser and the code go.
        let checked: Vec<&str> = match &self.metadata_source {
            MetadataSource::Pinned(pinned) if metadata_file(pinned).is_none() => vec![pinned],
            MetadataSource::Pinned(_) | MetadataSource::Explicit => {
                vec![self.authorization_endpoint(), self.token_endpoint()]
            }
            MetadataSource::WellKnown(_) | MetadataSource::Defaults => return None,
        };
        let expected = match &self.resource_metadata {
            Some(m) if !m.authorization_servers.is_empty() => m.authorization_servers.clone(),
            _ => vec![
                Url::parse(&self.server_url)
                    .ok()?
                    .origin()
                    .ascii_serialization(),
            ],
        };
        let origin = |u: &str| Url::parse(u).ok().map(|u| u.origin());
        let ours = |u: &str| {
            let Some(at) = origin(u) else { return false };
            expected
                .iter()
                .any(|e| origin(e).is_some_and(|o| o.is_tuple() && o == at))
        };
        (!checked.iter().all(|u| ours(u))).then_some(expected)
    }

    /// Scopes to ask for when the user named none: the challenge's, else the resource
    /// metadata's, plus `offline_access` when the authorization server lists it.
    pub fn default_scopes(&self) -> Vec<String> {
        let mut scopes = match &self.challenge {
            Some(c) if c.scope.is_some() => c.scopes(),
            _ => self
                .resource_metadata
                .as_ref()
                .and_then(|m| m.scopes_supported.clone())
                .unwrap_or_default(),
        };
        let offers_offline = self
            .metadata
            .scopes_supported
            .as_ref()
            .is_some_and(|s| s.iter().any(|s| s == "offline_access"));
        if offers_offline && !scopes.iter().any(|s| s == "offline_access") {
            scopes.push("offline_access".to_owned());
        }
        scopes
    }
}

/// Runs discovery for the MCP server at `server_url`. `pinned` (metadata or endpoints the
/// user gave) replaces the search for the authorization server's metadata.
pub async fn discover(
    http: &reqwest::Client,
    server_url: &str,
    pinned: Option<Pinned<'_>>,
) -> Result<Discovery, OauthError> {
    let server = check_endpoint("MCP server URL", server_url)?;
    let probe = probe(http, &server).await?;

    let resource_metadata = find_resource_metadata(http, &server, &probe).await?;
    if resource_metadata.is_none() && !probe.unauthorized && pinned.is_none() {
        return Err(OauthError::NoAuthRequired {
            server: server_url.to_owned(),
        });
    }

    let resource = match &resource_metadata {
        Some((_, m)) => m.resource.clone(),
        None => canonical_resource(&server),
    };

    let (issuer, metadata, metadata_source) = if let Some(Pinned::Endpoints {
        authorization,
        token,
        revocation,
    }) = pinned
    {
        let at = check_endpoint("authorization endpoint", authorization)?;
        let issuer = at.origin().ascii_serialization();
        let m = AuthServerMetadata {
            issuer: issuer.clone(),
            authorization_endpoint: Some(authorization.to_owned()),
            token_endpoint: Some(token.to_owned()),
            revocation_endpoint: revocation.map(str::to_owned),
            ..Default::default()
        };
        (issuer, m, MetadataSource::Explicit)
    } else if let Some(Pinned::Metadata(pinned)) = pinned {
        let m = match metadata_file(pinned) {
            Some(path) => read_metadata_file(&path)?,
            None => {
                let url = check_endpoint("authorization server metadata URL", pinned)?;
                fetch_json::<AuthServerMetadata>(http, &url, "authorization server metadata")
                    .await?
                    .ok_or_else(|| OauthError::NoMetadata {
                        issuer: pinned.to_owned(),
                        tried: format!("`{pinned}`"),
                    })?
            }
        };
        (
            m.issuer.clone(),
            m,
            MetadataSource::Pinned(pinned.to_owned()),
        )
    } else {
        let issuer = match &resource_metadata {
            Some((url, m)) => m.authorization_servers.first().cloned().ok_or_else(|| {
                OauthError::MalformedMetadata {
                    what: "resource metadata".to_owned(),
                    url: url.clone(),
                    reason: "`authorization_servers` is empty".to_owned(),
                }
            })?,
            // 2025-03-26: the MCP server's origin is the authorization server.
            None => server.origin().ascii_serialization(),
        };
        let issuer_url = check_endpoint("issuer", &issuer)?;
        match find_auth_server_metadata(http, &issuer_url).await? {
            // 2025-03-26 servers (no resource metadata) predate the issuer rule: their
            // metadata may name an issuer with a path on the same origin.
            Some((url, m))
                if resource_metadata.is_none()
                    && Url::parse(&m.issuer).is_ok_and(|i| i.origin() == issuer_url.origin()) =>
            {
                (m.issuer.clone(), m, MetadataSource::WellKnown(url))
            }
            Some((url, m)) => {
                if m.issuer != issuer {
                    return Err(OauthError::IssuerMismatch {
                        url,
                        expected: issuer,
                        found: m.issuer,
                    });
                }
                (issuer, m, MetadataSource::WellKnown(url))
            }
            None if resource_metadata.is_none() => {
                let origin = issuer.trim_end_matches('/');
                let m = AuthServerMetadata {
                    issuer: issuer.clone(),
                    authorization_endpoint: Some(format!("{origin}/authorize")),
                    token_endpoint: Some(format!("{origin}/token")),
                    registration_endpoint: Some(format!("{origin}/register")),
                    ..Default::default()
                };
                (issuer, m, MetadataSource::Defaults)
            }
            None => return Err(no_metadata(&issuer_url, issuer)),
        }
    };

    check_metadata(&metadata, &issuer)?;

    Ok(Discovery {
        server_url: server_url.to_owned(),
        resource,
        resource_metadata: resource_metadata.map(|(_, m)| m),
        challenge: probe.challenge,
        issuer,
        metadata,
        metadata_source,
    })
}

/// How to sign in at an OpenID provider itself, with no MCP server in front of it (a
/// company's identity provider): its metadata from the issuer's well-known addresses,
/// which must name that issuer. The issuer stands in as the resource.
pub async fn discover_issuer(
    http: &reqwest::Client,
    issuer: &str,
) -> Result<Discovery, OauthError> {
    let issuer_url = check_endpoint("issuer", issuer)?;
    let Some((url, metadata)) = find_auth_server_metadata(http, &issuer_url).await? else {
        return Err(no_metadata(&issuer_url, issuer.to_owned()));
    };
    if metadata.issuer != issuer {
        return Err(OauthError::IssuerMismatch {
            url,
            expected: issuer.to_owned(),
            found: metadata.issuer,
        });
    }
    check_metadata(&metadata, issuer)?;
    Ok(Discovery {
        server_url: issuer.to_owned(),
        resource: issuer.to_owned(),
        resource_metadata: None,
        challenge: None,
        issuer: issuer.to_owned(),
        metadata,
        metadata_source: MetadataSource::WellKnown(url),
    })
}

/// What the server said to an MCP request sent without a token.
struct Probe {
    unauthorized: bool,
    challenge: Option<BearerChallenge>,
}

async fn probe(http: &reqwest::Client, server: &Url) -> Result<Probe, OauthError> {
    // A real initialize, as a client would send first; a server that answers it without
    // asking for a token may still offer OAuth through resource metadata.
    let body = serde_json::json!({
        "jsonrpc": "2.0",
        "id": 0,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-11-25",
            "capabilities": {},
            "clientInfo": {"name": "mcpauth", "version": env!("CARGO_PKG_VERSION")}
        }
    });
    let resp = http
        .post(server.clone())
        .header("Accept", "application/json, text/event-stream")
        .json(&body)
        .send()
        .await
        .map_err(|e| OauthError::unreachable(server.as_str(), e))?;
    let mut status = resp.status();
    let mut header = www_authenticate(&resp);
    if let Some(session) = resp.headers().get("mcp-session-id").cloned() {
        // The probe opened a session we will not use: close it again, best effort.
        let _ = http
            .delete(server.clone())
            .header("mcp-session-id", session)
            .send()
            .await;
    }
    drop(resp);
    if matches!(
        status,
        StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED | StatusCode::BAD_REQUEST
    ) {
        // Perhaps a legacy HTTP+SSE server, which is opened with a GET.
        if let Ok(resp) = http
            .get(server.clone())
            .header("Accept", "text/event-stream")
            .send()
            .await
        {
            status = resp.status();
            header = www_authenticate(&resp);
        }
    }
    let unauthorized = status == StatusCode::UNAUTHORIZED;
    Ok(Probe {
        unauthorized,
        challenge: header.as_deref().and_then(BearerChallenge::from_header),
    })
}

fn www_authenticate(resp: &reqwest::Response) -> Option<String> {
    let values: Vec<&str> = resp
        .headers()
        .get_all("www-authenticate")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    (!values.is_empty()).then(|| values.join(", "))
}

/// RFC 9728 §3.1: the well-known URLs for a resource, path form first.
pub fn resource_metadata_urls(server: &Url) -> Vec<String> {
    let origin = server.origin().ascii_serialization();
    let path = server.path().trim_end_matches('/');
    let mut urls = Vec::new();
    if !path.is_empty() {
        urls.push(format!(
            "{origin}/.well-known/oauth-protected-resource{path}"
        ));
    }
    urls.push(format!("{origin}/.well-known/oauth-protected-resource"));
    urls
}

/// RFC 8414 §3.1 and OpenID Connect Discovery, in the order the MCP spec gives.
fn no_metadata(issuer_url: &Url, issuer: String) -> OauthError {
    OauthError::NoMetadata {
        tried: auth_server_metadata_urls(issuer_url)
            .iter()
            .map(|u| format!("`{u}`"))
            .collect::<Vec<_>>()
            .join(", "),
        issuer,
    }
}

pub fn auth_server_metadata_urls(issuer: &Url) -> Vec<String> {
    let origin = issuer.origin().ascii_serialization();
    let path = issuer.path().trim_end_matches('/');
    if path.is_empty() {
        vec![
            format!("{origin}/.well-known/oauth-authorization-server"),
            format!("{origin}/.well-known/openid-configuration"),
        ]
    } else {
        vec![
            format!("{origin}/.well-known/oauth-authorization-server{path}"),
            format!("{origin}/.well-known/openid-configuration{path}"),
            format!("{origin}{path}/.well-known/openid-configuration"),
        ]
    }
}

async fn find_resource_metadata(
    http: &reqwest::Client,
    server: &Url,
    probe: &Probe,
) -> Result<Option<(String, ResourceMetadata)>, OauthError> {
    let from_header = probe
        .challenge
        .as_ref()
        .and_then(|c| c.resource_metadata.clone());
    let candidates = match from_header {
        Some(url) => vec![url],
        None => resource_metadata_urls(server),
    };
    for url in candidates {
        let parsed = check_endpoint("resource metadata URL", &url)?;
        let Some(m) = fetch_json::<ResourceMetadata>(http, &parsed, "resource metadata").await?
        else {
            continue;
        };
        let resource = Url::parse(&m.resource).map_err(|e| OauthError::MalformedMetadata {
            what: "resource metadata".to_owned(),
            url: url.clone(),
            reason: format!("`resource` is not a URL: {e}"),
        })?;
        if !resource_covers(&resource, server) {
            return Err(OauthError::ResourceMismatch {
                metadata_url: url,
                resource: m.resource,
                server: server.to_string(),
            });
        }
        return Ok(Some((url, m)));
    }
    Ok(None)
}

/// The metadata an issuer publishes at its well-known URLs, checked to be its own
/// (RFC 8414 §3.3); `None` when it publishes none.
pub async fn issuer_metadata(
    http: &reqwest::Client,
    issuer: &str,
) -> Result<Option<AuthServerMetadata>, OauthError> {
    let issuer_url = check_endpoint("issuer", issuer)?;
    match find_auth_server_metadata(http, &issuer_url).await? {
        Some((url, m)) if m.issuer != issuer => Err(OauthError::IssuerMismatch {
            url,
            expected: issuer.to_owned(),
            found: m.issuer,
        }),
        found => Ok(found.map(|(_, m)| m)),
    }
}

async fn find_auth_server_metadata(
    http: &reqwest::Client,
    issuer: &Url,
) -> Result<Option<(String, AuthServerMetadata)>, OauthError> {
    let mut malformed = None;
    for url in auth_server_metadata_urls(issuer) {
        let parsed = Url::parse(&url).expect("built from a parsed URL");
        match fetch_json::<AuthServerMetadata>(http, &parsed, "authorization server metadata").await
        {
            Ok(Some(m)) => return Ok(Some((url, m))),
            Ok(None) => {}
            // Some hosts answer every path with an HTML page: try the next form, and
            // report the malformed answer only if no form works.
            Err(e @ OauthError::MalformedMetadata { .. }) => {
                malformed.get_or_insert(e);
            }
            Err(e) => return Err(e),
        }
    }
    match malformed {
        Some(e) => Err(e),
        None => Ok(None),
    }
}

/// GETs a JSON document. `Ok(None)` when the server says it has none (4xx).
/// Whether anything answers at an endpoint the 2025-03-26 defaults assume: GitHub-style
/// providers publish no metadata and have none of them, and the person would otherwise
/// wait out a sign-in on a 404 page. Only "not found" counts as absent; a 400 or a
/// redirect to a login page is an endpoint at work.
pub async fn default_endpoint_exists(
    http: &reqwest::Client,
    url: &str,
) -> Result<bool, OauthError> {
    let url = check_endpoint("endpoint", url)?;
    let resp = http
        .get(url.clone())
        .send()
        .await
        .map_err(|e| OauthError::unreachable(url.as_str(), e))?;
    Ok(!matches!(
        resp.status(),
        StatusCode::NOT_FOUND | StatusCode::GONE
    ))
}

impl Discovery {
    /// For the 2025-03-26 defaults: the default endpoints that are not there, or `None`
    /// when the metadata came from anywhere else. Registration is checked only when it
    /// would be used (no client id of one's own).
    pub async fn missing_defaults(
        &self,
        http: &reqwest::Client,
        registers: bool,
    ) -> Result<Option<Vec<String>>, OauthError> {
        if self.metadata_source != MetadataSource::Defaults {
            return Ok(None);
        }
        let mut wanted = vec![self.authorization_endpoint()];
        if registers {
            wanted.extend(self.metadata.registration_endpoint.as_deref());
        }
        let mut missing = Vec::new();
        for url in wanted {
            if !default_endpoint_exists(http, url).await? {
                missing.push(url.to_owned());
            }
        }
        Ok(Some(missing))
    }
}

/// What to do about a provider without metadata whose default endpoints are missing.
pub const EXPLICIT_ENDPOINTS_HINT: &str = "give its endpoints by hand: `oauth.authorizationUrl` and `oauth.tokenUrl` in the server's config, or --authorization-url and --token-url (and a client registered with the provider, --client-id)";

/// Authorization server metadata kept in a local file.
fn read_metadata_file(path: &std::path::Path) -> Result<AuthServerMetadata, OauthError> {
    let shown = path.display().to_string();
    let bytes = crate::files::read_capped(path, MAX_BODY as u64).map_err(|e| {
        OauthError::MalformedMetadata {
            what: "authorization server metadata".to_owned(),
            url: shown.clone(),
            reason: e.to_string(),
        }
    })?;
    serde_json::from_slice(&bytes).map_err(|e| OauthError::MalformedMetadata {
        what: "authorization server metadata".to_owned(),
        url: shown,
        reason: e.to_string(),
    })
}

async fn fetch_json<T: serde::de::DeserializeOwned>(
    http: &reqwest::Client,
    url: &Url,
    what: &str,
) -> Result<Option<T>, OauthError> {
    let resp = http
        .get(url.clone())
        .header("Accept", "application/json")
        .send()
        .await
        .map_err(|e| OauthError::unreachable(url.as_str(), e))?;
    let status = resp.status();
    if status.is_client_error() || status.is_redirection() {
        return Ok(None);
    }
    let malformed = |reason: String| OauthError::MalformedMetadata {
        what: what.to_owned(),
        url: url.to_string(),
        reason,
    };
    if !status.is_success() {
        return Err(malformed(format!("the server answered {status}")));
    }
    let body = read_body(resp, MAX_BODY)
        .await
        .map_err(|e| OauthError::body(e, what, url.as_str()))?;
    serde_json::from_slice(&body)
        .map(Some)
        .map_err(|e| malformed(e.to_string()))
}

fn check_metadata(m: &AuthServerMetadata, issuer: &str) -> Result<(), OauthError> {
    let missing = |field: &str| OauthError::MalformedMetadata {
        what: "authorization server metadata".to_owned(),
        url: issuer.to_owned(),
        reason: format!("`{field}` is missing"),
    };
    let auth = m
        .authorization_endpoint
        .as_deref()
        .ok_or_else(|| missing("authorization_endpoint"))?;
    let token = m
        .token_endpoint
        .as_deref()
        .ok_or_else(|| missing("token_endpoint"))?;
    check_endpoint("authorization endpoint", auth)?;
    check_endpoint("token endpoint", token)?;
    for (what, url) in [
        ("registration endpoint", &m.registration_endpoint),
        ("revocation endpoint", &m.revocation_endpoint),
        (
            "device authorization endpoint",
            &m.device_authorization_endpoint,
        ),
    ] {
        if let Some(url) = url {
            check_endpoint(what, url)?;
        }
    }
    if let Some(methods) = &m.code_challenge_methods_supported
        && !methods.iter().any(|x| x == "S256")
    {
        return Err(OauthError::NoS256 {
            issuer: issuer.to_owned(),
            methods: methods.join(", "),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn resource_metadata_urls_path_form_first() {
        assert_eq!(
            resource_metadata_urls(&u("https://mcp.example.com/v1/mcp")),
            [
                "https://mcp.example.com/.well-known/oauth-protected-resource/v1/mcp",
                "https://mcp.example.com/.well-known/oauth-protected-resource",
            ]
        );
        assert_eq!(
            resource_metadata_urls(&u("https://mcp.example.com/")),
            ["https://mcp.example.com/.well-known/oauth-protected-resource"]
        );
    }

    #[test]
    fn auth_server_urls_for_issuer_with_and_without_path() {
        assert_eq!(
            auth_server_metadata_urls(&u("https://as.example.com/tenant1")),
            [
                "https://as.example.com/.well-known/oauth-authorization-server/tenant1",
                "https://as.example.com/.well-known/openid-configuration/tenant1",
                "https://as.example.com/tenant1/.well-known/openid-configuration",
            ]
        );
        assert_eq!(
            auth_server_metadata_urls(&u("https://as.example.com")),
            [
                "https://as.example.com/.well-known/oauth-authorization-server",
                "https://as.example.com/.well-known/openid-configuration",
            ]
        );
    }

    fn meta() -> AuthServerMetadata {
        AuthServerMetadata {
            issuer: "https://as".into(),
            authorization_endpoint: Some("https://as/authorize".into()),
            token_endpoint: Some("https://as/token".into()),
            ..Default::default()
        }
    }

    #[test]
    fn metadata_without_s256_is_refused() {
        let mut m = meta();
        m.code_challenge_methods_supported = Some(vec!["plain".into()]);
        assert!(matches!(
            check_metadata(&m, "https://as"),
            Err(OauthError::NoS256 { .. })
        ));
        m.code_challenge_methods_supported = Some(vec!["plain".into(), "S256".into()]);
        assert!(check_metadata(&m, "https://as").is_ok());
    }

    #[test]
    fn metadata_with_http_endpoint_off_machine_is_refused() {
        let mut m = meta();
        m.token_endpoint = Some("http://as.example.com/token".into());
        assert!(matches!(
            check_metadata(&m, "https://as"),
            Err(OauthError::InsecureEndpoint { .. })
        ));
    }

    #[test]
    fn default_scopes_prefer_the_challenge_and_add_offline_access_only_when_listed() {
        let mut d = Discovery {
            server_url: "https://r/mcp".into(),
            resource: "https://r/mcp".into(),
            resource_metadata: Some(ResourceMetadata {
                resource: "https://r/mcp".into(),
                authorization_servers: vec![],
                scopes_supported: Some(vec!["read".into(), "write".into()]),
                dpop_signing_alg_values_supported: None,
                dpop_bound_access_tokens_required: None,
            }),
            challenge: None,
            issuer: "https://as".into(),
            metadata: meta(),
            metadata_source: MetadataSource::Defaults,
        };
        assert_eq!(d.default_scopes(), ["read", "write"]);
        d.challenge = Some(BearerChallenge {
            scope: Some("read".into()),
            ..Default::default()
        });
        assert_eq!(d.default_scopes(), ["read"]);
        d.metadata.scopes_supported = Some(vec!["read".into(), "offline_access".into()]);
        assert_eq!(d.default_scopes(), ["read", "offline_access"]);
    }
}
