//! The authorization server side of the fake: metadata (RFC 8414 / OIDC discovery), the
//! authorization endpoint with PKCE (RFC 7636) and `iss` (RFC 9207), the token endpoint
//! (RFC 6749 grants, RFC 8707 `resource`, RFC 8628 device codes), dynamic registration
//! (RFC 7591) and revocation (RFC 7009).
//!
//! It is strict where a lenient server would hide client bugs: client authentication must
//! be exactly the registered method, `redirect_uri` must match the one authorized, the
//! verifier must hash to the challenge. Each refusal is recorded with its reason.

use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{Value, json};
use sha2::Digest;

use super::fixture::{
    AuthMethod, AuthorizeOutcome, BrokenMetadata, Client, ClientKind, CodeGrant, DeviceGrant,
    DeviceState, Endpoint, Handled, Knobs, ProviderQuirks, Shared, State, TransientFailure, lock,
};
use super::http::{Incoming, Reply, form_get, loopback_get, loopback_get_as};

pub(super) fn handle_metadata(shared: &Shared, _req: &Incoming) -> Handled {
    let state = lock(shared);
    let layout = &state.layout;
    let knobs = &state.knobs;
    if knobs.broken_metadata == Some(BrokenMetadata::MalformedJson) {
        return Handled::ok(
            Endpoint::ServerMetadata,
            Reply::empty(200)
                .header("Content-Type", "application/json")
                .body(format!(
                    "{{\"issuer\": \"{}\", \"authorization_",
                    layout.issuer
                )),
        );
    }
    let issuer = match knobs.broken_metadata {
        Some(BrokenMetadata::IssuerMismatch) => format!("{}/someone-else", layout.as_origin),
        _ => layout.issuer.clone(),
    };
    let token_endpoint = match knobs.broken_metadata {
        Some(BrokenMetadata::NonLoopbackHttpEndpoint) => "http://auth.example.com/token".to_owned(),
        _ => layout.endpoint("/token"),
    };
    let methods = [
        "client_secret_basic",
        "client_secret_post",
        "private_key_jwt",
        "none",
    ];
    let mut body = json!({
        "issuer": issuer,
        "authorization_endpoint": layout.endpoint("/authorize"),
        "token_endpoint": token_endpoint,
        "revocation_endpoint": layout.endpoint("/revoke"),
        "device_authorization_endpoint": layout.endpoint("/device"),
        "response_types_supported": ["code"],
        "grant_types_supported": [
            "authorization_code",
            "refresh_token",
            "client_credentials",
            "urn:ietf:params:oauth:grant-type:device_code",
        ],
        "code_challenge_methods_supported":
            if knobs.advertise_s256 { json!(["S256"]) } else { json!(["plain"]) },
        "scopes_supported": state.known_scopes(),
        "token_endpoint_auth_methods_supported": methods,
        "revocation_endpoint_auth_methods_supported": methods,
        "token_endpoint_auth_signing_alg_values_supported": ["ES256", "RS256"],
        "authorization_response_iss_parameter_supported": knobs.iss_parameter_supported,
        "client_id_metadata_document_supported": knobs.client_id_metadata_document_supported,
    });
    if knobs.registration_endpoint {
        body["registration_endpoint"] = layout.endpoint("/register").into();
    }
    if !knobs.device_endpoint {
        let m = body.as_object_mut().expect("metadata is an object");
        m.remove("device_authorization_endpoint");
        m["grant_types_supported"] =
            json!(["authorization_code", "refresh_token", "client_credentials"]);
    }
    if layout.oidc {
        body["jwks_uri"] = layout.endpoint("/jwks").into();
        body["subject_types_supported"] = json!(["public"]);
        body["id_token_signing_alg_values_supported"] = json!(["RS256"]);
    }
    Handled::ok(Endpoint::ServerMetadata, Reply::json(200, &body))
}

/// `http://127.0.0.1`, `http://[::1]` or `http://localhost`, any port (RFC 8252 §7.3).
fn is_loopback_http(uri: &str) -> bool {
    url::Url::parse(uri).is_ok_and(|u| {
        u.scheme() == "http"
            && matches!(u.host_str(), Some("127.0.0.1" | "[::1]" | "localhost"))
            && u.fragment().is_none()
    })
}

/// Loopback redirect URIs match whatever their port; others match exactly.
fn redirect_matches(registered: &str, asked: &str) -> bool {
    if registered == asked {
        return true;
    }
    let (Ok(mut a), Ok(mut b)) = (url::Url::parse(registered), url::Url::parse(asked)) else {
        return false;
    };
    if !is_loopback_http(registered) {
        return false;
    }
    let _ = a.set_port(None);
    let _ = b.set_port(None);
    a == b
}

fn bad_authorize(why: String) -> Handled {
    Handled::refused(Endpoint::Authorize, Reply::text(400, why.clone()), why)
}

/// RFC 6749 §4.1.2.1: once the redirect URI is known to be the client's, a refusal goes
/// back to it as `error=` (with the request's `state` and, when promised, `iss`), as real
/// authorization servers answer; only a bad client or redirect URI gets a page of its own.
fn refuse_by_redirect(
    redirect_uri: &str,
    state: Option<&str>,
    iss: Option<&str>,
    error: &str,
    why: String,
) -> Handled {
    let Ok(mut back) = url::Url::parse(redirect_uri) else {
        return bad_authorize(why);
    };
    {
        let mut pairs = back.query_pairs_mut();
        pairs.append_pair("error", error);
        pairs.append_pair("error_description", &why);
        if let Some(state) = state {
            pairs.append_pair("state", state);
        }
        if let Some(iss) = iss {
            pairs.append_pair("iss", iss);
        }
    }
    Handled::refused(Endpoint::Authorize, Reply::redirect(back.as_str()), why)
}

fn scopes_of(value: Option<&str>) -> Vec<String> {
    value
        .unwrap_or_default()
        .split(' ')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

fn is_url(s: &str) -> bool {
    s.starts_with("http://") || s.starts_with("https://")
}

pub(super) fn handle_authorize(shared: &Shared, req: &Incoming) -> Handled {
    lock(shared).counters.authorize_requests += 1;
    if req.method != "GET" {
        return bad_authorize(format!(
            "`{}` at the authorization endpoint; use GET",
            req.method
        ));
    }
    let q = |name: &str| req.query_param(name).filter(|v| !v.is_empty());
    if q("response_type") != Some("code") {
        return bad_authorize("response_type must be `code`".into());
    }
    let Some(client_id) = q("client_id") else {
        return bad_authorize("client_id is missing".into());
    };

    // A client metadata document is fetched without the lock: it may be served by this
    // very fixture, whose handler needs the lock to answer.
    let (known, fetch_document) = {
        let state = lock(shared);
        let known = state.clients.contains_key(client_id);
        (
            known,
            !known && is_url(client_id) && state.knobs.client_id_metadata_document_supported,
        )
    };
    let document = if fetch_document {
        match loopback_get(client_id) {
            Ok((200, body)) => match serde_json::from_str::<Value>(&body) {
                Ok(doc) => Some(doc),
                Err(e) => return bad_authorize(format!("client document is not JSON: {e}")),
            },
            Ok((status, _)) => {
                return bad_authorize(format!("client document fetch answered {status}"));
            }
            Err(e) => return bad_authorize(format!("client document fetch failed: {e}")),
        }
    } else {
        None
    };
    if !known && document.is_none() {
        return bad_authorize(format!("unknown client_id `{client_id}`"));
    }

    let mut state = lock(shared);
    if let Some(doc) = document {
        if doc.get("client_id").and_then(Value::as_str) != Some(client_id) {
            return bad_authorize("client document's client_id is not its URL".into());
        }
        let uris: Vec<String> = doc
            .get("redirect_uris")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        if uris.is_empty() {
            return bad_authorize("client document lists no redirect_uris".into());
        }
        state.clients.insert(
            client_id.to_owned(),
            Client {
                id: client_id.to_owned(),
                secret: None,
                method: AuthMethod::None,
                public_key: None,
                redirect_uris: uris,
                kind: ClientKind::MetadataDocument,
            },
        );
    }
    let Some(client) = state.clients.get(client_id).cloned() else {
        return bad_authorize(format!("unknown client_id `{client_id}`"));
    };

    let Some(redirect_uri) = q("redirect_uri") else {
        return bad_authorize("redirect_uri is missing".into());
    };
    if !is_loopback_http(redirect_uri) {
        return bad_authorize(format!(
            "redirect_uri `{redirect_uri}` is not loopback http"
        ));
    }
    if !client.redirect_uris.is_empty()
        && !client
            .redirect_uris
            .iter()
            .any(|r| redirect_matches(r, redirect_uri))
    {
        return bad_authorize(format!(
            "redirect_uri `{redirect_uri}` is not registered for this client"
        ));
    }
    let issuer = state.layout.issuer.clone();
    let iss = state.knobs.iss_parameter_supported.then_some(issuer);
    let refuse = |error: &str, why: String| {
        refuse_by_redirect(redirect_uri, q("state"), iss.as_deref(), error, why)
    };
    if q("code_challenge_method") != Some("S256") {
        return refuse(
            "invalid_request",
            "code_challenge_method must be `S256`".into(),
        );
    }
    let Some(challenge) = q("code_challenge") else {
        return refuse("invalid_request", "code_challenge is missing".into());
    };
    if challenge.len() != 43 {
        return refuse(
            "invalid_request",
            "code_challenge is not a base64url SHA-256".into(),
        );
    }
    let Some(client_state) = q("state") else {
        return refuse("invalid_request", "state is missing".into());
    };
    let resource = q("resource").map(str::to_owned);
    if let Err(why) = check_resource(&state, resource.as_deref()) {
        return refuse("invalid_target", why);
    }
    let scopes = scopes_of(q("scope"));
    let known = state.known_scopes();
    let entra = state.knobs.provider_quirks == Some(ProviderQuirks::Entra);
    if let Some(unknown) = scopes
        .iter()
        .find(|s| !(known.contains(s) || entra && s.ends_with("/.default")))
    {
        return refuse("invalid_scope", format!("unknown scope `{unknown}`"));
    }

    let outcome = state.knobs.authorize_outcome;
    let mut back = match url::Url::parse(redirect_uri) {
        Ok(u) => u,
        Err(e) => return bad_authorize(format!("redirect_uri: {e}")),
    };
    let code_for = |state: &mut State| {
        let code = state.mint("code");
        state.codes.insert(
            code.clone(),
            CodeGrant {
                client_id: client_id.to_owned(),
                redirect_uri: redirect_uri.to_owned(),
                challenge: challenge.to_owned(),
                resource: resource.clone(),
                scopes: scopes.clone(),
                offline_consent: q("access_type") == Some("offline")
                    && q("prompt") == Some("consent"),
                used: false,
                issued_grant: None,
            },
        );
        code
    };
    if outcome == AuthorizeOutcome::ApproveAfterStrayCallbacks {
        let forged = format!("{redirect_uri}?code=forged&state=forged");
        let real_state = format!("{redirect_uri}?code=forged&state={client_state}");
        for (url, host) in [(&forged, None), (&real_state, Some("rebound.example:80"))] {
            if let Ok((400, _)) = loopback_get_as(url, host) {
                state.counters.stray_callbacks_refused += 1;
            }
        }
    }
    {
        let mut pairs = back.query_pairs_mut();
        match outcome {
            AuthorizeOutcome::NeverRedirect => {
                drop(pairs);
                return Handled::ok(
                    Endpoint::Authorize,
                    Reply::html(200, "<html><body><p>Sign in to continue.</p></body></html>"),
                );
            }
            AuthorizeOutcome::Deny => {
                pairs.append_pair("error", "access_denied");
                pairs.append_pair("error_description", "the person declined");
                pairs.append_pair("state", client_state);
                if let Some(iss) = &iss {
                    pairs.append_pair("iss", iss);
                }
            }
            AuthorizeOutcome::Approve
            | AuthorizeOutcome::ApproveAfterStrayCallbacks
            | AuthorizeOutcome::WrongState
            | AuthorizeOutcome::WrongIss
            | AuthorizeOutcome::MissingIss => {
                pairs.append_pair("code", &code_for(&mut state));
                let sent_state = if outcome == AuthorizeOutcome::WrongState {
                    format!("{client_state}-tampered")
                } else {
                    client_state.to_owned()
                };
                pairs.append_pair("state", &sent_state);
                match (outcome, &iss) {
                    (AuthorizeOutcome::WrongIss, _) => {
                        pairs.append_pair("iss", "http://127.0.0.1:9/not-the-issuer");
                    }
                    (AuthorizeOutcome::MissingIss, _) | (_, None) => {}
                    (_, Some(iss)) => {
                        pairs.append_pair("iss", iss);
                    }
                }
            }
        }
    }
    Handled::ok(Endpoint::Authorize, Reply::redirect(back.as_str()))
}

/// RFC 8707: when required, `resource` must be sent; when sent, it must be this server.
fn check_resource(state: &State, resource: Option<&str>) -> Result<(), String> {
    match resource {
        None if state.knobs.require_resource => Err("resource is missing".into()),
        None => Ok(()),
        Some(r) if r == state.layout.mcp_url => Ok(()),
        Some(r) => Err(format!("resource `{r}` is not `{}`", state.layout.mcp_url)),
    }
}

fn token_error(status: u16, error: &str, description: &str) -> Handled {
    Handled::refused(
        Endpoint::Token,
        Reply::oauth_error(status, error, description),
        format!("{error}: {description}"),
    )
}

fn invalid_client(endpoint: Endpoint, description: &str) -> Handled {
    Handled::refused(
        endpoint,
        Reply::oauth_error(401, "invalid_client", description)
            .header("WWW-Authenticate", "Basic realm=\"mcpauth-fake\""),
        format!("invalid_client: {description}"),
    )
}

/// Client authentication at the token, revocation and device endpoints, exactly per the
/// client's registered method (RFC 6749 §2.3: one method per request).
fn authenticate(
    state: &mut State,
    req: &Incoming,
    form: &[(String, String)],
    endpoint: Endpoint,
) -> Result<Client, Handled> {
    let basic = match req.header("authorization") {
        Some(value) => {
            let Some(encoded) = value
                .split_once(' ')
                .filter(|(s, _)| s.eq_ignore_ascii_case("basic"))
                .map(|(_, e)| e.trim())
            else {
                return Err(invalid_client(endpoint, "Authorization is not Basic"));
            };
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(encoded)
                .ok()
                .and_then(|b| String::from_utf8(b).ok());
            let Some((id, secret)) = decoded.as_deref().and_then(|d| d.split_once(':')) else {
                return Err(invalid_client(endpoint, "malformed Basic credentials"));
            };
            // RFC 6749 §2.3.1: both halves are form-urlencoded before base64.
            let unform = |s: &str| -> String {
                url::form_urlencoded::parse(format!("x={s}").as_bytes())
                    .next()
                    .map(|(_, v)| v.into_owned())
                    .unwrap_or_default()
            };
            Some((unform(id), unform(secret)))
        }
        None => None,
    };
    let body_id = form_get(form, "client_id");
    let body_secret = form_get(form, "client_secret");
    if let Some(s) = body_secret {
        state.saw_secret(s);
    }
    if form_get(form, "client_assertion_type").is_some()
        || form_get(form, "client_assertion").is_some()
    {
        if basic.is_some() || body_secret.is_some() {
            return Err(invalid_client(
                endpoint,
                "two client authentication methods",
            ));
        }
        return authenticate_assertion(state, form, endpoint);
    }
    let (id, secret, used) = match (&basic, body_secret) {
        (Some(_), Some(_)) => {
            return Err(invalid_client(
                endpoint,
                "two client authentication methods",
            ));
        }
        (Some((id, secret)), None) => {
            state.saw_secret(secret);
            if body_id.is_some_and(|b| b != id) {
                return Err(invalid_client(endpoint, "client_id differs from Basic"));
            }
            (
                id.clone(),
                Some(secret.clone()),
                AuthMethod::ClientSecretBasic,
            )
        }
        (None, Some(secret)) => {
            let Some(id) = body_id else {
                return Err(invalid_client(endpoint, "client_secret without client_id"));
            };
            (
                id.to_owned(),
                Some(secret.to_owned()),
                AuthMethod::ClientSecretPost,
            )
        }
        (None, None) => {
            let Some(id) = body_id else {
                return Err(invalid_client(endpoint, "no client authentication"));
            };
            (id.to_owned(), None, AuthMethod::None)
        }
    };
    let Some(client) = state.clients.get(&id).cloned() else {
        return Err(invalid_client(endpoint, "unknown client"));
    };
    if client.method != used {
        return Err(invalid_client(
            endpoint,
            &format!(
                "client is registered for `{}`, not `{}`",
                client.method.as_str(),
                used.as_str()
            ),
        ));
    }
    if client.secret.as_deref() != secret.as_deref() {
        return Err(invalid_client(endpoint, "wrong client secret"));
    }
    Ok(client)
}

/// RFC 7523 §2.2 and §3: `client_assertion` is a JWT whose `iss` and `sub` are the
/// client, whose `aud` is this authorization server (its issuer or token endpoint),
/// that expires soon, carries a `jti` never seen before, and verifies with the public key
/// registered for the client.
fn authenticate_assertion(
    state: &mut State,
    form: &[(String, String)],
    endpoint: Endpoint,
) -> Result<Client, Handled> {
    if form_get(form, "client_assertion_type")
        != Some("urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
    {
        return Err(invalid_client(endpoint, "unknown client_assertion_type"));
    }
    let Some(assertion) = form_get(form, "client_assertion") else {
        return Err(invalid_client(endpoint, "client_assertion is missing"));
    };
    // Which client it claims to be, read before the signature is checked, only to find
    // the key that must verify it.
    let claimed = assertion
        .split('.')
        .nth(1)
        .and_then(|p| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(p)
                .ok()
        })
        .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
        .and_then(|c| c["iss"].as_str().map(str::to_owned));
    let Some(id) = claimed else {
        return Err(invalid_client(
            endpoint,
            "client_assertion is not a JWT with `iss`",
        ));
    };
    if form_get(form, "client_id").is_some_and(|b| b != id) {
        return Err(invalid_client(
            endpoint,
            "client_id differs from the assertion",
        ));
    }
    let Some(client) = state.clients.get(&id).cloned() else {
        return Err(invalid_client(endpoint, "unknown client"));
    };
    let (AuthMethod::PrivateKeyJwt, Some(public)) = (client.method, &client.public_key) else {
        return Err(invalid_client(
            endpoint,
            &format!(
                "client is registered for `{}`, not `private_key_jwt`",
                client.method.as_str()
            ),
        ));
    };
    let alg = jsonwebtoken::decode_header(assertion)
        .map(|h| h.alg)
        .unwrap_or(jsonwebtoken::Algorithm::ES256);
    let key = match alg {
        jsonwebtoken::Algorithm::ES256 => jsonwebtoken::DecodingKey::from_ec_pem(public.as_bytes()),
        jsonwebtoken::Algorithm::RS256 => {
            jsonwebtoken::DecodingKey::from_rsa_pem(public.as_bytes())
        }
        _ => {
            return Err(invalid_client(
                endpoint,
                "assertion algorithm is not ES256 or RS256",
            ));
        }
    }
    .expect("the registered public key is a PEM");
    let mut validation = jsonwebtoken::Validation::new(alg);
    validation.set_issuer(&[&id]);
    validation.sub = Some(id.clone());
    validation.set_audience(&[state.layout.issuer.clone(), state.layout.endpoint("/token")]);
    validation.set_required_spec_claims(&["iss", "sub", "aud", "exp"]);
    validation.leeway = 5;
    let claims = match jsonwebtoken::decode::<Value>(assertion, &key, &validation) {
        Ok(data) => data.claims,
        Err(e) => {
            return Err(invalid_client(
                endpoint,
                &format!("client_assertion refused: {e}"),
            ));
        }
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("the clock is after 1970")
        .as_secs() as i64;
    if claims["exp"].as_i64().is_none_or(|exp| exp > now + 600) {
        return Err(invalid_client(
            endpoint,
            "client_assertion lives longer than 10 minutes",
        ));
    }
    let Some(jti) = claims["jti"].as_str().filter(|j| !j.is_empty()) else {
        return Err(invalid_client(endpoint, "client_assertion has no `jti`"));
    };
    if !state.assertion_ids.insert(jti.to_owned()) {
        return Err(invalid_client(
            endpoint,
            "client_assertion `jti` was used before",
        ));
    }
    Ok(client)
}

fn pkce_s256(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier))
}

fn verifier_well_formed(v: &str) -> bool {
    (43..=128).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
}

fn token_ok(body: Value) -> Handled {
    Handled::ok(
        Endpoint::Token,
        Reply::json(200, &body)
            .header("Cache-Control", "no-store")
            .header("Pragma", "no-cache"),
    )
}

/// With `token_errors_in_200`, a refusal is re-sent the way GitHub sends it: status 200,
/// and GitHub's own error names.
pub(super) fn github_style(knobs: &Knobs, mut handled: Handled) -> Handled {
    // GitHub lists the granted scopes with commas.
    if knobs.variant == super::fixture::Variant::GitHubStyle && handled.reply.status == 200 {
        if let Ok(mut body) = serde_json::from_slice::<Value>(&handled.reply.body)
            && let Some(scopes) = body["scope"].as_str()
        {
            body["scope"] = Value::String(scopes.replace(' ', ","));
            handled.reply.body = serde_json::to_vec(&body).expect("JSON serializes");
        }
        return handled;
    }
    if !knobs.token_errors_in_200 || handled.reply.status < 400 || handled.reply.status >= 500 {
        return handled;
    }
    let Ok(mut body) = serde_json::from_slice::<Value>(&handled.reply.body) else {
        return handled;
    };
    let renamed = match body["error"].as_str() {
        Some("invalid_grant") => "bad_refresh_token",
        Some("invalid_client") => "incorrect_client_credentials",
        Some(other) => other,
        None => return handled,
    }
    .to_owned();
    body["error"] = Value::String(renamed);
    handled.reply.status = 200;
    handled.reply.body = serde_json::to_vec(&body).expect("JSON serializes");
    handled
}

pub(super) fn handle_token(shared: &Shared, req: &Incoming) -> Handled {
    let form = req.form();
    let grant_type = form_get(&form, "grant_type").unwrap_or_default().to_owned();
    let delay = {
        let mut state = lock(shared);
        state.counters.token_requests += 1;
        if grant_type == "refresh_token" {
            state.counters.refresh_requests += 1;
        }
        state.knobs.token_delay
    };
    if !delay.is_zero() {
        // Counted on arrival, answered later. Bounded by the knob; only this request's
        // thread waits.
        std::thread::sleep(delay);
    }
    let mut state = lock(shared);
    if state.knobs.transient_count > 0 {
        state.knobs.transient_count -= 1;
        return match state.knobs.transient_failure {
            TransientFailure::ServiceUnavailable => Handled::refused(
                Endpoint::Token,
                Reply::text(503, "try again soon").header("Retry-After", "1"),
                "transient 503",
            ),
            TransientFailure::TemporarilyUnavailable => token_error(
                400,
                "temporarily_unavailable",
                "the server is busy; try again",
            ),
            TransientFailure::RateLimited(secs) => Handled::refused(
                Endpoint::Token,
                Reply::text(429, "slow down").header("Retry-After", secs.to_string()),
                "rate limited",
            ),
        };
    }
    if req.method != "POST" {
        return token_error(400, "invalid_request", "use POST");
    }
    if !req
        .header("content-type")
        .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"))
    {
        return token_error(
            400,
            "invalid_request",
            "Content-Type must be application/x-www-form-urlencoded",
        );
    }
    let client = match authenticate(&mut state, req, &form, Endpoint::Token) {
        Ok(c) => c,
        Err(h) => return h,
    };
    let resource = form_get(&form, "resource").map(str::to_owned);
    if state.knobs.provider_quirks == Some(ProviderQuirks::Entra) {
        if resource.is_some() {
            return token_error(
                400,
                "invalid_target",
                "AADSTS9010010: The resource parameter provided in the request doesn't match with the requested scopes.",
            );
        }
        if grant_type == "refresh_token" && form_get(&form, "scope").is_none() {
            return token_error(
                400,
                "invalid_request",
                "AADSTS90014: The required field 'scope' is missing from the credential.",
            );
        }
    }
    match grant_type.as_str() {
        "authorization_code" => {
            let (Some(code), Some(redirect_uri), Some(verifier)) = (
                form_get(&form, "code"),
                form_get(&form, "redirect_uri"),
                form_get(&form, "code_verifier"),
            ) else {
                return token_error(
                    400,
                    "invalid_request",
                    "code, redirect_uri and code_verifier are required",
                );
            };
            state.saw_secret(verifier);
            let Some(grant) = state.codes.get(code).cloned() else {
                return token_error(400, "invalid_grant", "unknown code");
            };
            if grant.used {
                // RFC 6749 §4.1.2: a code used twice ends what it granted.
                if let Some(g) = grant.issued_grant {
                    state.end_grant(g);
                }
                return token_error(400, "invalid_grant", "code already used");
            }
            if grant.client_id != client.id {
                return token_error(400, "invalid_grant", "code was issued to another client");
            }
            if grant.redirect_uri != redirect_uri {
                return token_error(400, "invalid_grant", "redirect_uri differs");
            }
            if !verifier_well_formed(verifier) || pkce_s256(verifier) != grant.challenge {
                return token_error(400, "invalid_grant", "code_verifier does not match");
            }
            if let Err(why) = check_resource(&state, resource.as_deref()) {
                return token_error(400, "invalid_target", &why);
            }
            if resource.is_some() && grant.resource.is_some() && resource != grant.resource {
                return token_error(400, "invalid_target", "resource differs from authorization");
            }
            let with_refresh = match state.knobs.provider_quirks {
                Some(ProviderQuirks::Google) => grant.offline_consent,
                _ => {
                    state.knobs.refresh_without_offline_access
                        || grant.scopes.iter().any(|s| s == "offline_access")
                }
            };
            let body = state.issue_tokens(
                &client.id,
                resource.or(grant.resource),
                grant.scopes,
                with_refresh,
            );
            let issued = state.next_grant;
            if let Some(g) = state.codes.get_mut(code) {
                g.used = true;
                g.issued_grant = Some(issued);
            }
            token_ok(body)
        }
        "refresh_token" => {
            let Some(presented) = form_get(&form, "refresh_token") else {
                return token_error(400, "invalid_request", "refresh_token is required");
            };
            let Some(grant) = state.refresh.get(presented).cloned() else {
                return token_error(400, "invalid_grant", "unknown refresh token");
            };
            if !grant.alive {
                if state.knobs.revoke_family_on_refresh_reuse {
                    state.end_grant(grant.grant);
                }
                return token_error(400, "invalid_grant", "refresh token is no longer valid");
            }
            if grant.client_id != client.id {
                return token_error(400, "invalid_grant", "refresh token of another client");
            }
            if let Err(why) = check_resource(&state, resource.as_deref()) {
                return token_error(400, "invalid_target", &why);
            }
            let asked = scopes_of(form_get(&form, "scope"));
            if let Some(extra) = asked.iter().find(|s| !grant.scopes.contains(s)) {
                return token_error(400, "invalid_scope", &format!("`{extra}` was not granted"));
            }
            let scopes = if asked.is_empty() {
                grant.scopes.clone()
            } else {
                asked
            };
            let (_, mut body) = state.issue_access(
                grant.grant,
                &client.id,
                resource.or(grant.resource.clone()),
                &scopes,
            );
            if state.knobs.rotate_refresh_tokens {
                if let Some(old) = state.refresh.get_mut(presented) {
                    old.alive = false;
                }
                let fresh = state.mint("rt");
                state.refresh.insert(
                    fresh.clone(),
                    super::fixture::RefreshGrant {
                        alive: true,
                        ..grant
                    },
                );
                body["refresh_token"] = fresh.into();
            }
            token_ok(body)
        }
        "client_credentials" => {
            if client.method == AuthMethod::None {
                return token_error(
                    400,
                    "unauthorized_client",
                    "public clients cannot use client_credentials",
                );
            }
            if let Err(why) = check_resource(&state, resource.as_deref()) {
                return token_error(400, "invalid_target", &why);
            }
            let scopes = scopes_of(form_get(&form, "scope"));
            let body = state.issue_tokens(&client.id, resource, scopes, false);
            token_ok(body)
        }
        "urn:ietf:params:oauth:grant-type:device_code" => {
            let Some(device_code) = form_get(&form, "device_code") else {
                return token_error(400, "invalid_request", "device_code is required");
            };
            let slow_down = state.knobs.device_slow_down_polls > 0;
            let Some(device) = state
                .devices
                .iter_mut()
                .find(|d| d.device_code == device_code)
            else {
                return token_error(400, "invalid_grant", "unknown device_code");
            };
            if device.client_id != client.id {
                return token_error(400, "invalid_grant", "device_code of another client");
            }
            device.polls += 1;
            if device.state == DeviceState::Pending && device.expires_at <= Instant::now() {
                device.state = DeviceState::Expired;
            }
            match device.state {
                DeviceState::Expired => {
                    token_error(400, "expired_token", "the device code expired")
                }
                DeviceState::Denied => token_error(400, "access_denied", "the person declined"),
                DeviceState::Consumed => {
                    token_error(400, "invalid_grant", "the device code was already used")
                }
                DeviceState::Pending if slow_down => {
                    state.knobs.device_slow_down_polls -= 1;
                    token_error(400, "slow_down", "poll less often")
                }
                DeviceState::Pending => {
                    token_error(400, "authorization_pending", "waiting for the person")
                }
                DeviceState::Approved => {
                    device.state = DeviceState::Consumed;
                    let (scopes, resource) = (device.scopes.clone(), device.resource.clone());
                    let with_refresh = state.knobs.refresh_without_offline_access
                        || scopes.iter().any(|s| s == "offline_access");
                    token_ok(state.issue_tokens(&client.id, resource, scopes, with_refresh))
                }
            }
        }
        "" => token_error(400, "invalid_request", "grant_type is missing"),
        other => token_error(
            400,
            "unsupported_grant_type",
            &format!("`{other}` is not supported"),
        ),
    }
}

pub(super) fn handle_register(shared: &Shared, req: &Incoming) -> Handled {
    let mut state = lock(shared);
    state.counters.registrations += 1;
    let refuse = |status: u16, error: &str, description: &str| {
        Handled::refused(
            Endpoint::Register,
            Reply::oauth_error(status, error, description),
            format!("{error}: {description}"),
        )
    };
    if req.method != "POST" {
        return refuse(405, "invalid_request", "use POST");
    }
    if let Some(expected) = state.knobs.initial_access_token.clone()
        && req.bearer() != Some(expected.as_str())
    {
        let mut h = refuse(401, "invalid_token", "an initial access token is required");
        h.reply = h
            .reply
            .header("WWW-Authenticate", "Bearer error=\"invalid_token\"");
        return h;
    }
    let Ok(asked) = serde_json::from_str::<Value>(&req.body) else {
        return refuse(400, "invalid_client_metadata", "the body is not JSON");
    };
    if !asked.is_object() {
        return refuse(
            400,
            "invalid_client_metadata",
            "the body is not a JSON object",
        );
    }
    let uris: Option<Vec<String>> = asked
        .get("redirect_uris")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        });
    let Some(uris) = uris.filter(|u| !u.is_empty()) else {
        return refuse(400, "invalid_redirect_uri", "redirect_uris is required");
    };
    if state.knobs.registration_refuses_scope && asked.get("scope").is_some() {
        return refuse(
            400,
            "invalid_client_metadata",
            "scope is not allowed for dynamically registered clients",
        );
    }
    if let Some(bad) = uris.iter().find(|u| !is_loopback_http(u)) {
        return refuse(
            400,
            "invalid_redirect_uri",
            &format!("`{bad}` is not a loopback http redirect"),
        );
    }
    let requested = asked
        .get("token_endpoint_auth_method")
        .and_then(Value::as_str);
    let method = match (state.knobs.registration_auth_method, requested) {
        (Some(m), _) => m,
        // RFC 7591 §2: the default is client_secret_basic.
        (None, None) => AuthMethod::ClientSecretBasic,
        (None, Some(r)) => match AuthMethod::parse(r) {
            // A key-signing client registers its keys (`jwks`), which this fake does not
            // take: such clients are added out of band.
            Some(m) if m != AuthMethod::PrivateKeyJwt => m,
            _ => {
                return refuse(
                    400,
                    "invalid_client_metadata",
                    &format!("token_endpoint_auth_method `{r}` is not supported"),
                );
            }
        },
    };
    let id = state.mint_public("client");
    let secret = (method != AuthMethod::None).then(|| state.mint("cs"));
    state.clients.insert(
        id.clone(),
        Client {
            id: id.clone(),
            secret: secret.clone(),
            method,
            public_key: None,
            redirect_uris: uris.clone(),
            kind: ClientKind::Dynamic,
        },
    );
    let mut body = json!({
        "client_id": id,
        "client_id_issued_at": 1_700_000_000u64,
        "token_endpoint_auth_method": method.as_str(),
        "redirect_uris": uris,
        "grant_types": asked.get("grant_types").cloned().unwrap_or(json!(["authorization_code"])),
        "response_types": asked.get("response_types").cloned().unwrap_or(json!(["code"])),
    });
    for echoed in ["client_name", "application_type", "scope", "client_uri"] {
        if let Some(v) = asked.get(echoed) {
            body[echoed] = v.clone();
        }
    }
    if let Some(secret) = secret {
        body["client_secret"] = secret.into();
        body["client_secret_expires_at"] = 0.into();
    }
    Handled::ok(
        Endpoint::Register,
        Reply::json(201, &body).header("Cache-Control", "no-store"),
    )
}

pub(super) fn handle_revoke(shared: &Shared, req: &Incoming) -> Handled {
    let mut state = lock(shared);
    let form = req.form();
    let client = match authenticate(&mut state, req, &form, Endpoint::Revoke) {
        Ok(c) => c,
        Err(h) => return h,
    };
    let Some(token) = form_get(&form, "token") else {
        return Handled::refused(
            Endpoint::Revoke,
            Reply::oauth_error(400, "invalid_request", "token is required"),
            "no token",
        );
    };
    // RFC 7009 §2.2: an unknown token still answers 200. Revoking a refresh token also
    // ends the access tokens of its grant.
    if let Some(r) = state.refresh.get(token)
        && r.client_id == client.id
    {
        let grant = r.grant;
        state.end_grant(grant);
    }
    if state.knobs.access_tokens_unrevocable && state.access.contains_key(token) {
        return Handled::refused(
            Endpoint::Revoke,
            Reply::oauth_error(400, "unsupported_token_type", "access tokens are JWTs here"),
            "access token",
        );
    }
    if let Some(a) = state.access.get_mut(token)
        && a.client_id == client.id
    {
        a.revoked = true;
    }
    Handled::ok(Endpoint::Revoke, Reply::empty(200))
}

pub(super) fn handle_device(shared: &Shared, req: &Incoming) -> Handled {
    let mut state = lock(shared);
    let form = req.form();
    if req.method != "POST" {
        return Handled::refused(
            Endpoint::Device,
            Reply::oauth_error(400, "invalid_request", "use POST"),
            "not POST",
        );
    }
    let client = match authenticate(&mut state, req, &form, Endpoint::Device) {
        Ok(c) => c,
        Err(h) => return h,
    };
    let resource = form_get(&form, "resource").map(str::to_owned);
    if let Err(why) = check_resource(&state, resource.as_deref()) {
        return Handled::refused(
            Endpoint::Device,
            Reply::oauth_error(400, "invalid_target", &why),
            why,
        );
    }
    let scopes = scopes_of(form_get(&form, "scope"));
    let device_code = state.mint("dc");
    let user_code = {
        let raw = super::fixture::random_b64(12).to_ascii_uppercase();
        let letters: String = raw
            .chars()
            .filter(char::is_ascii_alphabetic)
            .take(8)
            .collect();
        let letters = format!("{letters:A<8}");
        format!("{}-{}", &letters[..4], &letters[4..8])
    };
    let expires_in = state.knobs.device_expires_in_secs;
    let interval = state.knobs.device_interval_secs;
    state.devices.push(DeviceGrant {
        device_code: device_code.clone(),
        user_code: user_code.clone(),
        client_id: client.id,
        scopes,
        resource,
        state: DeviceState::Pending,
        polls: 0,
        expires_at: Instant::now() + Duration::from_secs(expires_in),
    });
    let verify = state.layout.endpoint("/activate");
    let body = json!({
        "device_code": device_code,
        "user_code": user_code,
        "verification_uri": verify,
        "verification_uri_complete": format!("{verify}?user_code={user_code}"),
        "expires_in": expires_in,
        "interval": interval,
    });
    Handled::ok(
        Endpoint::Device,
        Reply::json(200, &body).header("Cache-Control", "no-store"),
    )
}

pub(super) fn handle_activate(shared: &Shared, req: &Incoming) -> Handled {
    let mut state = lock(shared);
    let approve = state.knobs.device_approve_on_visit;
    let code = req.query_param("user_code").unwrap_or_default().to_owned();
    let device = state
        .devices
        .iter_mut()
        .find(|d| d.user_code == code && d.state == DeviceState::Pending);
    let page = match device {
        Some(d) if approve => {
            d.state = DeviceState::Approved;
            "Device approved. You may close this page."
        }
        Some(_) => "Confirm the code shown on your device.",
        None => "Enter the code shown on your device.",
    };
    Handled::ok(
        Endpoint::Activate,
        Reply::html(200, format!("<html><body><p>{page}</p></body></html>")),
    )
}
