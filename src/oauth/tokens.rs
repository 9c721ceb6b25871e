//! Token endpoint requests: the authorization code exchange, the device and client
//! credentials grants, refresh, and revocation.
//!
//! The `oauth2` crate builds and parses the requests; it goes over mcpauth's own reqwest
//! client through a small adapter that turns 5xx answers into transport errors, so that a
//! server having a bad minute is told apart from one saying no.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use oauth2::basic::{
    BasicClient, BasicErrorResponse, BasicRevocationErrorResponse, BasicTokenIntrospectionResponse,
    BasicTokenType,
};
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, DeviceAuthorizationUrl,
    ErrorResponseType, ExtraTokenFields, HttpRequest, HttpResponse, PkceCodeVerifier, RedirectUrl,
    RefreshToken, RequestTokenError, Scope, StandardDeviceAuthorizationResponse,
    StandardErrorResponse, StandardRevocableToken, StandardTokenResponse, TokenResponse, TokenUrl,
};

use super::OauthError;
use super::http::{BodyError, MAX_BODY, read_body};
use crate::clock::{Clock, system_now_ms};
use crate::secret::Secret;

/// How the client proves who it is at the token, device and revocation endpoints
/// (RFC 6749 §2.3, RFC 7523). Built once from the stored method and secret by
/// [`ClientAuth::from_stored`], so every request matches on the same value and no method
/// can fall through to another (a PEM key was once sent as a Basic password).
#[derive(Debug, Clone)]
pub enum ClientAuth {
    /// A public client: `client_id` in the body, nothing else.
    None,
    /// `client_secret_basic`: the secret in an `Authorization: Basic` header.
    Basic(Secret),
    /// `client_secret_post`: the secret in the form body.
    Post(Secret),
    /// `private_key_jwt`: the PEM private key. It never travels; each request carries a
    /// fresh assertion signed with it.
    PrivateKeyJwt(Secret),
}

impl ClientAuth {
    /// The client authentication for a stored `token_endpoint_auth_method` and secret.
    /// A method that needs a secret and has none, or a method mcpauth does not speak, is
    /// an error rather than a quieter method.
    pub fn from_stored(method: &str, secret: Option<Secret>) -> Result<Self, OauthError> {
        let needs = |make: fn(Secret) -> ClientAuth| {
            secret
                .clone()
                .map(make)
                .ok_or_else(|| OauthError::ClientAuth {
                    method: method.to_owned(),
                    reason: if method == PRIVATE_KEY_JWT {
                        "no private key is stored for this client".into()
                    } else {
                        "no client secret is stored for this client".into()
                    },
                })
        };
        match method {
            "none" => Ok(ClientAuth::None),
            "client_secret_basic" => needs(ClientAuth::Basic),
            "client_secret_post" => needs(ClientAuth::Post),
            // The key is read now, so a file that is not a usable key fails before any
            // browser opens, not at the code exchange.
            PRIVATE_KEY_JWT => needs(ClientAuth::PrivateKeyJwt).and_then(|auth| {
                if let ClientAuth::PrivateKeyJwt(pem) = &auth {
                    signing_key(pem)?;
                }
                Ok(auth)
            }),
            _ => Err(OauthError::ClientAuth {
                method: method.to_owned(),
                reason: "mcpauth speaks none, client_secret_basic, client_secret_post and private_key_jwt".into(),
            }),
        }
    }

    /// The RFC 7591 name of the method.
    pub fn method(&self) -> &'static str {
        match self {
            ClientAuth::None => "none",
            ClientAuth::Basic(_) => "client_secret_basic",
            ClientAuth::Post(_) => "client_secret_post",
            ClientAuth::PrivateKeyJwt(_) => PRIVATE_KEY_JWT,
        }
    }
}

/// The client as the token endpoint knows it.
#[derive(Debug, Clone)]
pub struct ClientCredentials {
    pub client_id: String,
    pub auth: ClientAuth,
    /// The authorization server's issuer: the `aud` of `private_key_jwt` assertions
    /// (RFC 7523 §3).
    pub issuer: String,
    /// The grant's DPoP key: every token request then carries a proof made with it.
    pub dpop: Option<super::dpop::DpopKey>,
}

impl ClientCredentials {
    /// `client_assertion_type` and a freshly signed `client_assertion` for a
    /// `private_key_jwt` client; nothing for the others (the `oauth2` crate or
    /// [`revoke`] puts their id and secret where their method says). Called for each
    /// HTTP request, device polls included: an assertion's `jti` may be used once.
    fn assertion_params(&self) -> Result<Vec<(&'static str, String)>, OauthError> {
        match &self.auth {
            ClientAuth::PrivateKeyJwt(pem) => {
                let assertion = client_assertion(&self.client_id, &self.issuer, pem)?;
                Ok(vec![
                    ("client_assertion_type", JWT_BEARER_ASSERTION.to_owned()),
                    ("client_assertion", assertion.expose().to_owned()),
                ])
            }
            ClientAuth::None | ClientAuth::Basic(_) | ClientAuth::Post(_) => Ok(Vec::new()),
        }
    }
}

/// RFC 7523 §2.2's `client_assertion_type`.
pub const JWT_BEARER_ASSERTION: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// The members of a token response that mcpauth reads beyond RFC 6749's: an OpenID
/// provider's ID token, and what a token exchange (RFC 8693) says it issued.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct MoreFields {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    id_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    issued_token_type: Option<String>,
}

impl ExtraTokenFields for MoreFields {}

type TokenAnswer = StandardTokenResponse<MoreFields, BasicTokenType>;

/// The `oauth2` client of every token request, reading [`MoreFields`]; the token URL
/// is set when `HasTokenUrl` says so.
type OauthClient<HasTokenUrl = oauth2::EndpointSet> = oauth2::Client<
    BasicErrorResponse,
    TokenAnswer,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    HasTokenUrl,
>;

/// What a token endpoint handed out.
#[derive(Debug, Clone)]
pub struct TokenSet {
    pub access_token: Secret,
    pub refresh_token: Option<Secret>,
    /// An OpenID provider's ID token (the identity provider's sign-in keeps it).
    pub id_token: Option<Secret>,
    /// RFC 8693's `issued_token_type`, for a token exchange.
    pub issued_token_type: Option<String>,
    /// `token_type` is `DPoP`: the access token is bound to the key the request proved.
    pub dpop_bound: bool,
    /// Unix milliseconds, counted from when the request was sent, so never later than
    /// the server's own idea of the expiry.
    pub expires_at_ms: Option<i64>,
    /// The granted scopes, when the server said.
    pub scopes: Option<Vec<String>>,
}

/// Parameters every token request carries besides the grant itself.
#[derive(Debug, Clone, Default)]
pub struct RequestExtras<'a> {
    /// RFC 8707 resource.
    pub resource: Option<&'a str>,
    /// Per-server extra parameters (e.g. `access_type=offline`).
    pub params: Vec<(&'a str, &'a str)>,
}

/// The `oauth2` client for these credentials, with the token URL set.
fn oauth_client(creds: &ClientCredentials, token_url: &str) -> Result<OauthClient, OauthError> {
    let token_url = TokenUrl::new(token_url.to_owned()).map_err(|e| OauthError::BadUrl {
        what: "token endpoint".into(),
        url: token_url.to_owned(),
        reason: e.to_string(),
    })?;
    let client = OauthClient::<oauth2::EndpointNotSet>::new(ClientId::new(creds.client_id.clone()))
        .set_token_uri(token_url);
    // With no secret the crate sends `client_id` in the body: that is the whole of `none`,
    // and the part of `private_key_jwt` the assertion goes beside.
    let client = match &creds.auth {
        ClientAuth::None | ClientAuth::PrivateKeyJwt(_) => client,
        ClientAuth::Basic(secret) => client
            .set_auth_type(AuthType::BasicAuth)
            .set_client_secret(ClientSecret::new(secret.expose().to_owned())),
        ClientAuth::Post(secret) => client
            .set_auth_type(AuthType::RequestBody)
            .set_client_secret(ClientSecret::new(secret.expose().to_owned())),
    };
    Ok(client)
}

/// What the authorization step hands to the token request.
pub struct Authorized<'a> {
    pub code: Secret,
    /// The PKCE verifier of the request that got the code.
    pub verifier: Secret,
    /// Where the code was delivered: the token request must name it again.
    pub redirect_uri: &'a str,
}

/// Exchanges an authorization code (with its PKCE verifier) for tokens.
pub async fn exchange_code(
    http: &reqwest::Client,
    clock: &Clock,
    creds: &ClientCredentials,
    token_url: &str,
    authorized: Authorized<'_>,
    extras: &RequestExtras<'_>,
) -> Result<TokenSet, OauthError> {
    let Authorized {
        code,
        verifier,
        redirect_uri,
    } = authorized;
    let redirect = RedirectUrl::new(redirect_uri.to_owned()).map_err(|e| OauthError::BadUrl {
        what: "redirect URI".into(),
        url: redirect_uri.to_owned(),
        reason: e.to_string(),
    })?;
    let client = oauth_client(creds, token_url)?.set_redirect_uri(redirect);
    let mut req = client
        .exchange_code(AuthorizationCode::new(code.expose().to_owned()))
        .set_pkce_verifier(PkceCodeVerifier::new(verifier.expose().to_owned()));
    if let Some(r) = extras.resource {
        req = req.add_extra_param("resource", r.to_owned());
    }
    for (k, v) in &extras.params {
        req = req.add_extra_param(k.to_string(), v.to_string());
    }
    let sent_ms = clock.now_ms();
    let resp = req.request_async(&adapter(http, creds)).await;
    token_set(resp, token_url, None, sent_ms)
}

/// Uses a refresh token. The returned set keeps `refresh` when the server sent no new one
/// (no rotation).
pub async fn refresh(
    http: &reqwest::Client,
    clock: &Clock,
    creds: &ClientCredentials,
    token_url: &str,
    refresh: &Secret,
    scopes: &[String],
    extras: &RequestExtras<'_>,
) -> Result<TokenSet, OauthError> {
    let client = oauth_client(creds, token_url)?;
    let rt = RefreshToken::new(refresh.expose().to_owned());
    let mut req = client.exchange_refresh_token(&rt);
    if !scopes.is_empty() {
        req = req.add_scopes(scopes.iter().cloned().map(Scope::new));
    }
    if let Some(r) = extras.resource {
        req = req.add_extra_param("resource", r.to_owned());
    }
    for (k, v) in &extras.params {
        req = req.add_extra_param(k.to_string(), v.to_string());
    }
    let sent_ms = clock.now_ms();
    let resp = req.request_async(&adapter(http, creds)).await;
    token_set(resp, token_url, Some(refresh), sent_ms)
}

/// The client credentials grant (RFC 6749 §4.4): a token for the client itself, no user.
/// The client authenticates as for any token request (a `private_key_jwt` client with an
/// assertion for its issuer).
pub async fn client_credentials(
    http: &reqwest::Client,
    clock: &Clock,
    creds: &ClientCredentials,
    token_url: &str,
    scopes: &[String],
    extras: &RequestExtras<'_>,
) -> Result<TokenSet, OauthError> {
    let client = oauth_client(creds, token_url)?;
    let mut req = client.exchange_client_credentials();
    if !scopes.is_empty() {
        req = req.add_scopes(scopes.iter().cloned().map(Scope::new));
    }
    if let Some(r) = extras.resource {
        req = req.add_extra_param("resource", r.to_owned());
    }
    for (k, v) in &extras.params {
        req = req.add_extra_param(k.to_string(), v.to_string());
    }
    let sent_ms = clock.now_ms();
    let resp = req.request_async(&adapter(http, creds)).await;
    token_set(resp, token_url, None, sent_ms)
}

/// RFC 7523 §2.1's grant type: a JWT as the authorization grant.
pub const JWT_BEARER_GRANT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// The JWT bearer grant (RFC 7523 §2.1): `assertion` is the grant, issued by someone the
/// authorization server trusts (a workload's platform, SEP-1933). A client id, when
/// there is one, authenticates as for any token request; with none, only the assertion
/// speaks for the caller.
pub async fn jwt_bearer(
    http: &reqwest::Client,
    clock: &Clock,
    creds: &ClientCredentials,
    token_url: &str,
    assertion: &Secret,
    scopes: &[String],
    extras: &RequestExtras<'_>,
) -> Result<TokenSet, OauthError> {
    let grant = [
        ("grant_type", JWT_BEARER_GRANT),
        ("assertion", assertion.expose()),
    ];
    grant_request(http, clock, creds, token_url, &grant, scopes, extras).await
}

/// RFC 8693's grant type, and the token types of enterprise-managed authorization.
pub const TOKEN_EXCHANGE_GRANT: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
pub const ID_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:id_token";
pub const ID_JAG_TYPE: &str = "urn:ietf:params:oauth:token-type:id-jag";

/// Asks an identity provider to exchange the person's ID token for an identity assertion
/// JWT authorization grant (an ID-JAG; RFC 8693 with the MCP enterprise-managed
/// authorization extension) meant for the authorization server `audience`, for
/// `extras.resource`. The ID-JAG comes back as the set's access token.
#[allow(clippy::too_many_arguments)]
pub async fn exchange_for_id_jag(
    http: &reqwest::Client,
    clock: &Clock,
    creds: &ClientCredentials,
    token_url: &str,
    id_token: &Secret,
    audience: &str,
    scopes: &[String],
    extras: &RequestExtras<'_>,
) -> Result<TokenSet, OauthError> {
    let grant = [
        ("grant_type", TOKEN_EXCHANGE_GRANT),
        ("requested_token_type", ID_JAG_TYPE),
        ("subject_token", id_token.expose()),
        ("subject_token_type", ID_TOKEN_TYPE),
        ("audience", audience),
    ];
    let set = grant_request(http, clock, creds, token_url, &grant, scopes, extras).await?;
    match set.issued_token_type.as_deref() {
        Some(ID_JAG_TYPE) | None => Ok(set),
        Some(other) => Err(OauthError::TokenEndpoint {
            url: token_url.to_owned(),
            reason: format!(
                "the exchange issued a `{}`, not an ID-JAG",
                crate::escape::controls(other)
            ),
        }),
    }
}

/// A token request for a grant type the `oauth2` crate has no builder for, sent through
/// the same adapter (and so the same size cap, 5xx handling and client assertions) and
/// read into the same [`TokenSet`] and errors as the others.
async fn grant_request(
    http: &reqwest::Client,
    clock: &Clock,
    creds: &ClientCredentials,
    token_url: &str,
    grant: &[(&str, &str)],
    scopes: &[String],
    extras: &RequestExtras<'_>,
) -> Result<TokenSet, OauthError> {
    let request = grant_http_request(creds, token_url, grant, scopes, extras)?;
    let sent_ms = clock.now_ms();
    let resp = match adapter(http, creds)(request).await {
        Ok(resp) => resp,
        Err(e) => {
            let e: RequestTokenError<_, BasicErrorResponse> = RequestTokenError::Request(e);
            return Err(token_error(e, token_url));
        }
    };
    let body = resp.body();
    if resp.status().is_success() {
        // The body holds tokens: an unreadable one is described, never shown.
        let parsed: TokenAnswer =
            serde_json::from_slice(body).map_err(|_| OauthError::TokenEndpoint {
                url: token_url.to_owned(),
                reason: "unreadable answer (not a token response)".into(),
            })?;
        return Ok(token_set_of(&parsed, None, sent_ms));
    }
    match serde_json::from_slice::<BasicErrorResponse>(body) {
        Ok(refusal) => Err(token_error(
            RequestTokenError::ServerResponse(refusal),
            token_url,
        )),
        Err(_) => Err(OauthError::TokenEndpoint {
            url: token_url.to_owned(),
            reason: format!("HTTP {} with no OAuth error in the answer", resp.status()),
        }),
    }
}

/// The form POST of [`grant_request`], with the client authenticated as its method says.
fn grant_http_request(
    creds: &ClientCredentials,
    token_url: &str,
    grant: &[(&str, &str)],
    scopes: &[String],
    extras: &RequestExtras<'_>,
) -> Result<HttpRequest, OauthError> {
    use oauth2::http::{Method, Request, header};
    let mut form = url::form_urlencoded::Serializer::new(String::new());
    form.extend_pairs(grant);
    if !scopes.is_empty() {
        form.append_pair("scope", &scopes.join(" "));
    }
    if let Some(r) = extras.resource {
        form.append_pair("resource", r);
    }
    form.extend_pairs(&extras.params);
    let mut request = Request::builder()
        .method(Method::POST)
        .uri(token_url)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "application/json");
    match &creds.auth {
        ClientAuth::Basic(secret) => {
            use base64::Engine as _;
            // RFC 6749 §2.3.1: both parts are form-urlencoded before Basic encoding.
            let enc =
                |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
            let pair = format!("{}:{}", enc(&creds.client_id), enc(secret.expose()));
            let basic = base64::engine::general_purpose::STANDARD.encode(pair);
            request = request.header(header::AUTHORIZATION, format!("Basic {basic}"));
        }
        ClientAuth::Post(secret) => {
            form.append_pair("client_id", &creds.client_id);
            form.append_pair("client_secret", secret.expose());
        }
        // The adapter adds a private key client's assertion beside its id.
        ClientAuth::None | ClientAuth::PrivateKeyJwt(_) if !creds.client_id.is_empty() => {
            form.append_pair("client_id", &creds.client_id);
        }
        ClientAuth::None | ClientAuth::PrivateKeyJwt(_) => {}
    }
    request
        .body(form.finish().into_bytes())
        .map_err(|e| OauthError::BadUrl {
            what: "token endpoint".into(),
            url: token_url.to_owned(),
            reason: e.to_string(),
        })
}

/// The `token_endpoint_auth_method` of clients that sign a JWT with a private key.
pub const PRIVATE_KEY_JWT: &str = "private_key_jwt";

/// An RFC 7523 client assertion: `iss` and `sub` are the client, `aud` the issuer, valid
/// for five minutes, with a fresh `jti`. EC P-256 keys sign ES256, RSA keys RS256.
fn client_assertion(client_id: &str, audience: &str, pem: &Secret) -> Result<Secret, OauthError> {
    let (alg, key) = signing_key(pem)?;
    let iat = system_now_ms() / 1000;
    let jti: String = {
        use rand::RngCore;
        let mut b = [0u8; 16];
        rand::rng().fill_bytes(&mut b);
        b.iter().map(|x| format!("{x:02x}")).collect()
    };
    let claims = serde_json::json!({
        "iss": client_id,
        "sub": client_id,
        "aud": audience,
        "iat": iat,
        "exp": iat + 300,
        "jti": jti,
    });
    jsonwebtoken::encode(&jsonwebtoken::Header::new(alg), &claims, &key)
        .map(Secret::new)
        .map_err(bad_key)
}

/// The algorithm and key for a PEM private key: EC P-256 signs ES256, RSA RS256.
fn signing_key(
    pem: &Secret,
) -> Result<(jsonwebtoken::Algorithm, jsonwebtoken::EncodingKey), OauthError> {
    use jsonwebtoken::{Algorithm, EncodingKey};
    let pem_bytes = pem.expose().as_bytes();
    match EncodingKey::from_ec_pem(pem_bytes) {
        Ok(k) => Ok((Algorithm::ES256, k)),
        Err(_) => EncodingKey::from_rsa_pem(pem_bytes)
            .map(|k| (Algorithm::RS256, k))
            .map_err(bad_key),
    }
}

fn bad_key(e: jsonwebtoken::errors::Error) -> OauthError {
    OauthError::ClientAuth {
        method: PRIVATE_KEY_JWT.into(),
        reason: format!("the client's private key is not a PEM EC P-256 or RSA key: {e}"),
    }
}

/// RFC 7009 revocation, best effort: the caller forgets the grant whatever happens, so
/// this only reports whether the server confirmed.
pub async fn revoke(
    http: &reqwest::Client,
    creds: &ClientCredentials,
    revocation_url: &str,
    token: &Secret,
    hint: &str,
) -> Result<(), OauthError> {
    let assertion = creds.assertion_params()?;
    let mut form = vec![("token", token.expose()), ("token_type_hint", hint)];
    let mut req = http.post(revocation_url);
    match &creds.auth {
        ClientAuth::Basic(secret) => {
            // RFC 6749 §2.3.1: both parts are form-urlencoded before Basic encoding.
            let enc =
                |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
            req = req.basic_auth(enc(&creds.client_id), Some(enc(secret.expose())));
        }
        ClientAuth::Post(secret) => {
            form.push(("client_id", &creds.client_id));
            form.push(("client_secret", secret.expose()));
        }
        // A workload with no client of its own has no id to name.
        ClientAuth::None | ClientAuth::PrivateKeyJwt(_) => {
            if !creds.client_id.is_empty() {
                form.push(("client_id", &creds.client_id));
            }
            form.extend(assertion.iter().map(|(k, v)| (*k, v.as_str())));
        }
    }
    let resp = req
        .form(&form)
        .send()
        .await
        .map_err(|e| OauthError::unreachable(revocation_url, e))?;
    let status = resp.status();
    if status.is_success() {
        return Ok(());
    }
    // RFC 7009 §2.2.1: an error answer is an OAuth error object, `unsupported_token_type`
    // for a token the server cannot revoke (a self-contained JWT access token, often).
    let error = read_body(resp, MAX_BODY)
        .await
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .and_then(|v| v.get("error")?.as_str().map(str::to_owned));
    Err(OauthError::RevocationRefused {
        url: revocation_url.to_owned(),
        status: status.as_u16(),
        error,
    })
}

/// A token the server says it cannot revoke: not a failure of the logout, since it ends
/// by itself at its expiry.
pub fn cannot_be_revoked(e: &OauthError) -> bool {
    matches!(e, OauthError::RevocationRefused { error: Some(code), .. } if code == "unsupported_token_type")
}

pub const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// The device authorization grant (RFC 8628) once started: what the person is shown,
/// and the device code (kept inside) to poll with.
pub struct DeviceStart {
    pub verification_uri: String,
    /// The verification URL with the user code in it, when the server gives one.
    pub verification_uri_complete: Option<String>,
    pub user_code: String,
    pub expires_in: Duration,
    response: StandardDeviceAuthorizationResponse,
}

/// Asks the device authorization endpoint for a device code and a user code.
pub async fn device_start(
    http: &reqwest::Client,
    creds: &ClientCredentials,
    device_url: &str,
    token_url: &str,
    scopes: &[String],
    extras: &RequestExtras<'_>,
) -> Result<DeviceStart, OauthError> {
    let client = oauth_client(creds, token_url)?.set_device_authorization_url(
        DeviceAuthorizationUrl::new(device_url.to_owned()).map_err(|e| OauthError::BadUrl {
            what: "device authorization endpoint".into(),
            url: device_url.to_owned(),
            reason: e.to_string(),
        })?,
    );
    let mut req = client
        .exchange_device_code()
        .add_scopes(scopes.iter().cloned().map(Scope::new));
    if let Some(r) = extras.resource {
        req = req.add_extra_param("resource", r.to_owned());
    }
    for (k, v) in &extras.params {
        req = req.add_extra_param(k.to_string(), v.to_string());
    }
    let response: StandardDeviceAuthorizationResponse = req
        .request_async(&adapter(http, creds))
        .await
        .map_err(|e| token_error(e, device_url))?;
    Ok(DeviceStart {
        verification_uri: response.verification_uri().to_string(),
        verification_uri_complete: response
            .verification_uri_complete()
            .map(|u| u.secret().to_owned()),
        user_code: response.user_code().secret().to_owned(),
        expires_in: response.expires_in(),
        response,
    })
}

/// Polls the token endpoint at the server's interval (longer after each `slow_down`)
/// until the person approves or declines, the code expires, or `timeout` passes.
pub async fn device_finish(
    http: &reqwest::Client,
    clock: &Clock,
    creds: &ClientCredentials,
    token_url: &str,
    start: &DeviceStart,
    extras: &RequestExtras<'_>,
    timeout: Duration,
) -> Result<TokenSet, OauthError> {
    let client = oauth_client(creds, token_url)?;
    let mut req = client.exchange_device_access_token(&start.response);
    if let Some(r) = extras.resource {
        req = req.add_extra_param("resource", r.to_owned());
    }
    for (k, v) in &extras.params {
        req = req.add_extra_param(k.to_string(), v.to_string());
    }
    // The crate polls by itself; the sleep is the last thing before each poll, so the
    // time it ends is when the winning request went out.
    let last_poll = std::sync::Arc::new(std::sync::atomic::AtomicI64::new(clock.now_ms()));
    let polled = last_poll.clone();
    let poll_clock = clock.clone();
    let sleep = move |d: Duration| {
        let (polled, clock) = (polled.clone(), poll_clock.clone());
        async move {
            tokio::time::sleep(d).await;
            polled.store(clock.now_ms(), std::sync::atomic::Ordering::Relaxed);
        }
    };
    let resp = req
        .request_async(
            &adapter(http, creds),
            sleep,
            Some(timeout.min(start.expires_in)),
        )
        .await
        .map_err(|e| token_error(e, token_url))?;
    Ok(token_set_of(
        &resp,
        None,
        last_poll.load(std::sync::atomic::Ordering::Relaxed),
    ))
}

fn token_set(
    resp: Result<TokenAnswer, RequestTokenError<AdapterError, BasicErrorResponse>>,
    token_url: &str,
    previous_refresh: Option<&Secret>,
    sent_ms: i64,
) -> Result<TokenSet, OauthError> {
    let resp = resp.map_err(|e| token_error(e, token_url))?;
    Ok(token_set_of(&resp, previous_refresh, sent_ms))
}

fn token_set_of(resp: &TokenAnswer, previous_refresh: Option<&Secret>, sent_ms: i64) -> TokenSet {
    let more = resp.extra_fields();
    TokenSet {
        access_token: Secret::new(resp.access_token().secret().clone()),
        refresh_token: resp
            .refresh_token()
            .map(|t| Secret::new(t.secret().clone()))
            .or_else(|| previous_refresh.cloned()),
        id_token: more.id_token.clone().map(Secret::new),
        issued_token_type: more.issued_token_type.clone(),
        dpop_bound: resp.token_type().as_ref().eq_ignore_ascii_case("dpop"),
        expires_at_ms: resp
            .expires_in()
            .map(|d| sent_ms.saturating_add(d.as_millis() as i64)),
        scopes: resp
            .scopes()
            .map(|s| s.iter().flat_map(|s| super::scope_words(s)).collect()),
    }
}

/// What a token endpoint's refusal means for the person. The error codes come from
/// RFC 6749 and, for the device grant, RFC 8628.
fn token_error<T>(
    e: RequestTokenError<AdapterError, StandardErrorResponse<T>>,
    url: &str,
) -> OauthError
where
    T: ErrorResponseType + AsRef<str> + std::fmt::Display + Send + Sync + 'static,
{
    match e {
        RequestTokenError::ServerResponse(resp) => {
            let error = resp.error().as_ref().to_owned();
            match error.as_str() {
                // GitHub's name for a dead refresh token.
                "invalid_grant" | "bad_refresh_token" => return OauthError::InvalidGrant,
                // The client itself was refused: no sign-in of the person fixes that.
                "invalid_client" | "incorrect_client_credentials" | "unauthorized_client" => {
                    return OauthError::ClientRefused {
                        url: url.to_owned(),
                        error,
                        description: resp.error_description().cloned(),
                    };
                }
                "access_denied" => {
                    return OauthError::AccessDenied {
                        description: resp.error_description().cloned(),
                    };
                }
                "expired_token" => return OauthError::DeviceCodeExpired,
                _ => {}
            }
            OauthError::TokenRefused {
                url: url.to_owned(),
                error,
                description: resp.error_description().cloned(),
            }
        }
        RequestTokenError::Request(AdapterError::Transport(source)) => {
            OauthError::unreachable(url, source)
        }
        RequestTokenError::Request(AdapterError::ClientAuth(e)) => e,
        RequestTokenError::Request(AdapterError::Body(e)) => {
            OauthError::body(e, "token response", url)
        }
        RequestTokenError::Request(AdapterError::Busy {
            status,
            retry_after,
        }) => OauthError::Busy {
            url: url.to_owned(),
            status: status.to_string(),
            retry_after,
        },
        // The body may hold tokens: report where parsing failed, never the body.
        RequestTokenError::Parse(err, _body) => OauthError::TokenEndpoint {
            url: url.to_owned(),
            reason: format!("unreadable answer (at `{}`)", err.path()),
        },
        RequestTokenError::Other(reason) => OauthError::TokenEndpoint {
            url: url.to_owned(),
            reason,
        },
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AdapterError {
    #[error("transport")]
    Transport(#[source] reqwest::Error),
    /// A 5xx or a 429: the server is having a bad minute, and may say when to come back.
    #[error("status {status}")]
    Busy {
        status: reqwest::StatusCode,
        retry_after: Option<Duration>,
    },
    #[error("body")]
    Body(#[source] BodyError),
    #[error("client authentication")]
    ClientAuth(#[source] OauthError),
}

type AdapterFuture = Pin<Box<dyn Future<Output = Result<HttpResponse, AdapterError>> + Send>>;

/// Sends the crate's requests over our client. A 5xx or 429 becomes an error of its own
/// (with `Retry-After`); a 2xx whose JSON body has an `error` member is an OAuth error
/// answer whatever its status (GitHub answers `200 {"error": "bad_refresh_token"}`), so
/// it is handed on as a 400 for the crate to read as one.
fn adapter<'a>(
    http: &'a reqwest::Client,
    creds: &ClientCredentials,
) -> impl Fn(HttpRequest) -> AdapterFuture + 'a {
    let creds = creds.clone();
    move |req: HttpRequest| {
        let http = http.clone();
        let creds = creds.clone();
        Box::pin(async move {
            let (parts, body) = req.into_parts();
            let url = parts.uri.to_string();
            let proof_url = creds.dpop.as_ref().and_then(|_| url::Url::parse(&url).ok());
            // One more try when the server asks for a DPoP nonce it had not given yet
            // (RFC 9449 §8); the proof and any client assertion are made anew.
            let mut nonce_asked = false;
            let resp = loop {
                // Signed here, per request, rather than once per grant: the crate polls
                // the device grant with one request value, and each assertion and each
                // proof may be used once.
                let assertion = creds.assertion_params().map_err(AdapterError::ClientAuth)?;
                let mut body = body.clone();
                if !assertion.is_empty() {
                    let mut form = url::form_urlencoded::Serializer::new(String::new());
                    form.extend_pairs(&assertion);
                    if !body.is_empty() {
                        body.push(b'&');
                    }
                    body.extend_from_slice(form.finish().as_bytes());
                }
                let mut headers = parts.headers.clone();
                if let (Some(key), Some(at)) = (&creds.dpop, &proof_url) {
                    let nonce = super::dpop::nonce_for(at);
                    let proof = key
                        .proof(
                            parts.method.as_str(),
                            at,
                            None,
                            nonce.as_deref(),
                            system_now_ms() / 1000,
                        )
                        .map_err(AdapterError::ClientAuth)?;
                    let mut value = reqwest::header::HeaderValue::from_str(proof.expose())
                        .map_err(|_| {
                            AdapterError::ClientAuth(OauthError::Dpop(
                                "a proof is not a header value".into(),
                            ))
                        })?;
                    value.set_sensitive(true);
                    headers.insert(super::dpop::PROOF_HEADER, value);
                }
                let resp = http
                    .request(parts.method.clone(), &url)
                    .headers(headers)
                    .body(body)
                    .send()
                    .await
                    .map_err(AdapterError::Transport)?;
                if let Some(at) = &proof_url {
                    let new_nonce = super::dpop::remember_nonce(at, resp.headers());
                    if new_nonce
                        && !nonce_asked
                        && resp.status() == reqwest::StatusCode::BAD_REQUEST
                    {
                        let headers = resp.headers().clone();
                        let status = resp.status();
                        let bytes = read_body(resp, MAX_BODY)
                            .await
                            .map_err(AdapterError::Body)?;
                        if error_code(&bytes).as_deref() == Some("use_dpop_nonce") {
                            nonce_asked = true;
                            continue;
                        }
                        break Answer::Read(status, headers, bytes);
                    }
                }
                break Answer::Pending(resp);
            };
            let (mut status, headers, bytes) = match resp {
                Answer::Read(status, headers, bytes) => (status, headers, bytes),
                Answer::Pending(resp) => {
                    let status = resp.status();
                    if status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS
                    {
                        return Err(AdapterError::Busy {
                            status,
                            retry_after: retry_after(resp.headers()),
                        });
                    }
                    let headers = resp.headers().clone();
                    let bytes = read_body(resp, MAX_BODY)
                        .await
                        .map_err(AdapterError::Body)?;
                    (status, headers, bytes)
                }
            };
            if status.is_success() && has_error_member(&bytes) {
                status = reqwest::StatusCode::BAD_REQUEST;
            }
            let mut out = HttpResponse::new(bytes.to_vec());
            *out.status_mut() = status;
            *out.headers_mut() = headers;
            Ok(out)
        })
    }
}

/// A token endpoint's answer: still to be read, or read already (to look at its error).
enum Answer {
    Pending(reqwest::Response),
    Read(
        reqwest::StatusCode,
        reqwest::header::HeaderMap,
        bytes::Bytes,
    ),
}

/// The `error` member of an OAuth error answer.
fn error_code(body: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Probe {
        error: Option<String>,
    }
    serde_json::from_slice::<Probe>(body).ok()?.error
}

fn has_error_member(body: &[u8]) -> bool {
    #[derive(serde::Deserialize)]
    struct Probe {
        error: Option<serde::de::IgnoredAny>,
    }
    serde_json::from_slice::<Probe>(body).is_ok_and(|p| p.error.is_some())
}

/// `Retry-After` in seconds (RFC 9110 §10.2.3; the HTTP-date form is rare on token
/// endpoints and is treated as absent).
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

/// The authorization URL parameters for a PKCE S256 authorization request.
pub struct AuthorizationRequest {
    pub url: String,
    pub state: Secret,
    pub verifier: Secret,
}

/// Builds the authorization URL: code flow, PKCE S256, a random state, the resource and
/// any extra parameters.
pub fn authorization_request(
    authorization_endpoint: &str,
    client_id: &str,
    redirect_uri: &str,
    scopes: &[String],
    extras: &RequestExtras<'_>,
) -> Result<AuthorizationRequest, OauthError> {
    let bad = |what: &str, url: &str, e: url::ParseError| OauthError::BadUrl {
        what: what.into(),
        url: url.to_owned(),
        reason: e.to_string(),
    };
    let client = BasicClient::new(ClientId::new(client_id.to_owned()))
        .set_auth_uri(
            AuthUrl::new(authorization_endpoint.to_owned())
                .map_err(|e| bad("authorization endpoint", authorization_endpoint, e))?,
        )
        .set_redirect_uri(
            RedirectUrl::new(redirect_uri.to_owned())
                .map_err(|e| bad("redirect URI", redirect_uri, e))?,
        );
    let (challenge, verifier) = oauth2::PkceCodeChallenge::new_random_sha256();
    let mut req = client
        .authorize_url(oauth2::CsrfToken::new_random)
        .set_pkce_challenge(challenge)
        .add_scopes(scopes.iter().cloned().map(Scope::new));
    if let Some(r) = extras.resource {
        req = req.add_extra_param("resource", r.to_owned());
    }
    for (k, v) in &extras.params {
        req = req.add_extra_param(k.to_string(), v.to_string());
    }
    let (url, state) = req.url();
    Ok(AuthorizationRequest {
        url: url.to_string(),
        state: Secret::new(state.secret().clone()),
        verifier: Secret::new(verifier.secret().clone()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_auth_never_falls_through_to_another_method() {
        let s = || Some(Secret::new("s"));
        let pem = {
            use p256::pkcs8::{EncodePrivateKey, LineEnding};
            let key = p256::SecretKey::from_slice(&[7u8; 32]).unwrap();
            key.to_pkcs8_pem(LineEnding::LF).unwrap().to_string()
        };
        assert!(matches!(
            ClientAuth::from_stored(PRIVATE_KEY_JWT, Some(Secret::new(pem))),
            Ok(ClientAuth::PrivateKeyJwt(_))
        ));
        // A key file that is no key fails when the method is built, before any browser.
        let e = ClientAuth::from_stored(PRIVATE_KEY_JWT, s()).unwrap_err();
        assert!(
            e.to_string().contains("not a PEM EC P-256 or RSA key"),
            "{e}"
        );
        assert!(matches!(
            ClientAuth::from_stored("client_secret_post", s()),
            Ok(ClientAuth::Post(_))
        ));
        // A public client sends no secret even when one is stored.
        assert!(matches!(
            ClientAuth::from_stored("none", s()),
            Ok(ClientAuth::None)
        ));
        // A method that needs a secret without one, or an unknown method, is an error,
        // never a quieter method.
        for (method, secret) in [
            ("client_secret_basic", None),
            (PRIVATE_KEY_JWT, None),
            ("client_secret_jwt", s()),
            ("tls_client_auth", s()),
        ] {
            let e = ClientAuth::from_stored(method, secret).unwrap_err();
            assert!(e.to_string().contains(method), "{e}");
        }
    }

    #[test]
    fn authorization_url_carries_pkce_state_resource_and_extras() {
        let req = authorization_request(
            "https://as.example.com/authorize?tenant=x",
            "client-1",
            "http://127.0.0.1:4321/callback",
            &["read".into(), "offline_access".into()],
            &RequestExtras {
                resource: Some("https://mcp.example.com/mcp"),
                params: vec![("access_type", "offline")],
            },
        )
        .unwrap();
        let url = url::Url::parse(&req.url).unwrap();
        let q: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
        assert_eq!(q["tenant"], "x");
        assert_eq!(q["response_type"], "code");
        assert_eq!(q["client_id"], "client-1");
        assert_eq!(q["redirect_uri"], "http://127.0.0.1:4321/callback");
        assert_eq!(q["code_challenge_method"], "S256");
        assert_eq!(q["scope"], "read offline_access");
        assert_eq!(q["resource"], "https://mcp.example.com/mcp");
        assert_eq!(q["access_type"], "offline");
        assert_eq!(q["state"], req.state.expose());
        // The challenge is the S256 of the verifier, and the verifier is not in the URL.
        use base64::Engine;
        use sha2::Digest;
        let expected = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(sha2::Sha256::digest(req.verifier.expose().as_bytes()));
        assert_eq!(q["code_challenge"], expected);
        assert!(!req.url.contains(req.verifier.expose()));
    }
}
