//! RFC 7591 dynamic client registration, and the choice of token endpoint auth method.
//!
//! Which registration path to take (pre-registered, metadata document, stored, dynamic,
//! prompt) is decided by the login command, which knows the store and the terminal; this
//! module only speaks to the registration endpoint.

use serde::Deserialize;

use super::OauthError;
use super::discovery::AuthServerMetadata;
use super::http::{MAX_BODY, read_body};
use super::tokens;
use crate::secret::Secret;

/// What the registration endpoint gave back.
#[derive(Debug, Clone)]
pub struct Registered {
    pub client_id: String,
    pub client_secret: Option<Secret>,
    pub auth_method: String,
    /// Unix seconds, when the server set a lifetime on the secret.
    pub secret_expires_at: Option<i64>,
}

#[derive(Deserialize)]
struct RegistrationResponse {
    client_id: String,
    #[serde(default)]
    client_secret: Option<Secret>,
    #[serde(default)]
    token_endpoint_auth_method: Option<String>,
    #[serde(default)]
    client_secret_expires_at: Option<i64>,
}

/// The auth method to ask for: a public client (`none`) when the server allows it, as a
/// native app cannot keep a secret from its user; otherwise what the server lists.
pub fn preferred_auth_method(m: &AuthServerMetadata) -> &'static str {
    match &m.token_endpoint_auth_methods_supported {
        None => "none",
        Some(list) => {
            let has = |x: &str| list.iter().any(|m| m == x);
            if has("none") {
                "none"
            } else if has("client_secret_basic") {
                "client_secret_basic"
            } else if has("client_secret_post") {
                "client_secret_post"
            } else {
                "none"
            }
        }
    }
}

/// Registers mcpauth as a native client with loopback `redirect_uris`.
/// The code and refresh grants, and the device grant where the server has it, so that one
/// registration serves `login` and `login --device` alike.
fn grant_types(metadata: &AuthServerMetadata) -> Vec<&'static str> {
    let mut types = vec!["authorization_code", "refresh_token"];
    if metadata.device_authorization_endpoint.is_some()
        && metadata
            .grant_types_supported
            .as_ref()
            .is_some_and(|g| g.iter().any(|t| t == tokens::DEVICE_CODE_GRANT))
    {
        types.push(tokens::DEVICE_CODE_GRANT);
    }
    types
}

pub async fn register(
    http: &reqwest::Client,
    endpoint: &str,
    metadata: &AuthServerMetadata,
    redirect_uris: &[String],
    scopes: &[String],
    initial_access_token: Option<&Secret>,
) -> Result<Registered, OauthError> {
    let asked = preferred_auth_method(metadata);
    let mut body = serde_json::json!({
        "client_name": "mcpauth",
        "application_type": "native",
        "redirect_uris": redirect_uris,
        "grant_types": grant_types(metadata),
        "response_types": ["code"],
        "token_endpoint_auth_method": asked,
        "software_id": "mcpauth",
        "software_version": env!("CARGO_PKG_VERSION"),
    });
    let listed = registrable_scopes(metadata, scopes);
    if !listed.is_empty() {
        body["scope"] = listed.join(" ").into();
    }
    let fail = |reason: String| OauthError::Registration {
        url: endpoint.to_owned(),
        reason,
    };
    let (status, bytes) = match send(http, endpoint, &body, initial_access_token).await? {
        // Providers refuse scopes they do not hand to clients by registration; the
        // scope of a registration is optional, so ask once more without it.
        (status, bytes)
            if status == reqwest::StatusCode::BAD_REQUEST
                && body.get("scope").is_some()
                && refusal(&bytes).is_some_and(|e| e.error == "invalid_client_metadata") =>
        {
            tracing::info!(
                "the registration with scope `{}` was refused; retrying without `scope`",
                listed.join(" ")
            );
            body.as_object_mut().expect("an object").remove("scope");
            send(http, endpoint, &body, initial_access_token).await?
        }
        other => other,
    };
    if !status.is_success() {
        // RFC 7591 §3.2.2 error bodies carry no secrets; show the error code if any.
        let reason = match refusal(&bytes) {
            Some(e) => match e.error_description {
                Some(d) => format!("{status}: {}: {d}", e.error),
                None => format!("{status}: {}", e.error),
            },
            None => format!("it answered {status}"),
        };
        let hint = if status == reqwest::StatusCode::UNAUTHORIZED && initial_access_token.is_none()
        {
            " (the server may require an initial access token: pass --initial-access-token)"
        } else {
            ""
        };
        return Err(fail(format!("{reason}{hint}")));
    }
    let r: RegistrationResponse = serde_json::from_slice(&bytes)
        .map_err(|e| fail(format!("unreadable answer: {}", e.classify_message())))?;
    let auth_method = r.token_endpoint_auth_method.unwrap_or_else(|| {
        if r.client_secret.is_some() && asked == "none" {
            "client_secret_basic".to_owned()
        } else {
            asked.to_owned()
        }
    });
    Ok(Registered {
        client_id: r.client_id,
        client_secret: r.client_secret.filter(|s| !s.is_empty()),
        auth_method,
        secret_expires_at: r.client_secret_expires_at.filter(|&t| t > 0),
    })
}

/// The scopes to name in a registration: only those the authorization server lists, and
/// none when it lists none (a resource's own scopes are often unknown to it).
fn registrable_scopes(metadata: &AuthServerMetadata, wanted: &[String]) -> Vec<String> {
    let Some(listed) = &metadata.scopes_supported else {
        return Vec::new();
    };
    wanted
        .iter()
        .filter(|s| listed.contains(s))
        .cloned()
        .collect()
}

/// An RFC 7591 §3.2.2 error body.
#[derive(Deserialize)]
struct Refusal {
    error: String,
    #[serde(default)]
    error_description: Option<String>,
}

fn refusal(bytes: &[u8]) -> Option<Refusal> {
    serde_json::from_slice(bytes).ok()
}

async fn send(
    http: &reqwest::Client,
    endpoint: &str,
    body: &serde_json::Value,
    initial_access_token: Option<&Secret>,
) -> Result<(reqwest::StatusCode, bytes::Bytes), OauthError> {
    let mut req = http.post(endpoint).json(body);
    if let Some(iat) = initial_access_token {
        req = req.bearer_auth(iat.expose());
    }
    let resp = req
        .send()
        .await
        .map_err(|e| OauthError::unreachable(endpoint, e))?;
    let status = resp.status();
    let bytes = read_body(resp, MAX_BODY)
        .await
        .map_err(|e| OauthError::body(e, "client registration answer", endpoint))?;
    Ok((status, bytes))
}

trait ClassifyMessage {
    fn classify_message(&self) -> String;
}

impl ClassifyMessage for serde_json::Error {
    /// serde_json's message may quote part of the input, which here could be a secret:
    /// keep only the kind of problem and its position.
    fn classify_message(&self) -> String {
        format!(
            "{:?} error at line {} column {}",
            self.classify(),
            self.line(),
            self.column()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registers_only_scopes_the_server_lists() {
        let wanted: Vec<String> = ["mcp:tools", "offline_access"].map(String::from).into();
        let mut m = AuthServerMetadata::default();
        assert!(registrable_scopes(&m, &wanted).is_empty());
        m.scopes_supported = Some(vec!["openid".into(), "offline_access".into()]);
        assert_eq!(registrable_scopes(&m, &wanted), ["offline_access"]);
    }

    #[test]
    fn prefers_a_public_client() {
        let mut m = AuthServerMetadata::default();
        assert_eq!(preferred_auth_method(&m), "none");
        m.token_endpoint_auth_methods_supported =
            Some(vec!["client_secret_post".into(), "none".into()]);
        assert_eq!(preferred_auth_method(&m), "none");
        m.token_endpoint_auth_methods_supported = Some(vec![
            "client_secret_post".into(),
            "client_secret_basic".into(),
        ]);
        assert_eq!(preferred_auth_method(&m), "client_secret_basic");
        m.token_endpoint_auth_methods_supported = Some(vec!["client_secret_post".into()]);
        assert_eq!(preferred_auth_method(&m), "client_secret_post");
    }
}
