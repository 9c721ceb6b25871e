//! Self-tests of the loopback OAuth + MCP fake: a small reqwest client walks each
//! discovery variant, registration kind and grant the way the RFCs say a client should,
//! and checks that the fake answers, refuses and records faithfully. If these fail, a
//! failing mcpauth test says nothing about mcpauth.

use base64::Engine;
use serde_json::{Value, json};
use sha2::Digest;

use super::support::http::Listener;
use super::support::*;

const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
const ACCEPT_BOTH: &str = "application/json, text/event-stream";

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .expect("build reqwest client")
}

fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// (verifier, S256 challenge)
fn pkce() -> (String, String) {
    let verifier = b64url(&rand::random::<[u8; 32]>());
    let challenge = b64url(&sha2::Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

/// A quoted parameter of a `WWW-Authenticate` value; enough for the fake's own headers.
fn challenge_param(header: &str, name: &str) -> Option<String> {
    let start = header.find(&format!("{name}=\""))? + name.len() + 2;
    let end = header[start..].find('"')? + start;
    Some(header[start..end].to_owned())
}

/// What discovery found: the authorization server's endpoints and its metadata.
#[derive(Debug)]
struct Discovered {
    issuer: String,
    metadata: Option<Value>,
    authorize: String,
    token: String,
    register: Option<String>,
}

/// Client-side discovery as PROTOCOL.md lays it out, with `pinned` as the user's
/// `authServerMetadataUrl` when given.
async fn discover(fx: &Fixture, pinned: Option<String>) -> Discovered {
    let http = http();
    let mcp = url::Url::parse(&fx.mcp_url()).unwrap();
    let origin = mcp.origin().ascii_serialization();
    let first = http
        .post(fx.mcp_url())
        .header("Accept", ACCEPT_BOTH)
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {}}))
        .send()
        .await
        .expect("the MCP server answers");
    assert_eq!(first.status(), 401, "an unauthenticated request gets 401");
    let header = first.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(header.starts_with("Bearer"), "challenge: {header}");

    let mut candidates = Vec::new();
    if let Some(url) = challenge_param(&header, "resource_metadata") {
        candidates.push(url);
    }
    candidates.push(format!(
        "{origin}/.well-known/oauth-protected-resource{}",
        mcp.path()
    ));
    candidates.push(format!("{origin}/.well-known/oauth-protected-resource"));
    let mut prm = None;
    for url in candidates {
        let r = http.get(&url).send().await.unwrap();
        if r.status() == 200 {
            prm = Some(r.json::<Value>().await.expect("resource metadata is JSON"));
            break;
        }
    }

    let issuer = match &prm {
        Some(p) => {
            assert_eq!(
                p["resource"],
                fx.mcp_url(),
                "resource metadata names this server"
            );
            p["authorization_servers"][0].as_str().unwrap().to_owned()
        }
        None => origin.clone(),
    };
    let metadata_urls = match pinned {
        Some(url) => vec![url],
        None => {
            let iu = url::Url::parse(&issuer).unwrap();
            let io = iu.origin().ascii_serialization();
            let path = iu.path().trim_end_matches('/');
            if path.is_empty() {
                vec![
                    format!("{io}/.well-known/oauth-authorization-server"),
                    format!("{io}/.well-known/openid-configuration"),
                ]
            } else {
                vec![
                    format!("{io}/.well-known/oauth-authorization-server{path}"),
                    format!("{io}/.well-known/openid-configuration{path}"),
                    format!("{io}{path}/.well-known/openid-configuration"),
                ]
            }
        }
    };
    let mut metadata = None;
    for url in metadata_urls {
        let r = http.get(&url).send().await.unwrap();
        if r.status() == 200 {
            metadata = Some(r.json::<Value>().await.expect("server metadata is JSON"));
            break;
        }
    }
    match metadata {
        Some(m) => {
            assert_eq!(m["issuer"], issuer, "RFC 8414 §3.3: issuer matches");
            Discovered {
                issuer,
                authorize: m["authorization_endpoint"].as_str().unwrap().to_owned(),
                token: m["token_endpoint"].as_str().unwrap().to_owned(),
                register: m["registration_endpoint"].as_str().map(str::to_owned),
                metadata: Some(m),
            }
        }
        // 2025-03-26 with no metadata: the default paths on the MCP origin.
        None => Discovered {
            authorize: format!("{origin}/authorize"),
            token: format!("{origin}/token"),
            register: Some(format!("{origin}/register")),
            issuer,
            metadata: None,
        },
    }
}

/// A client as the token endpoint knows it.
#[derive(Debug, Clone)]
struct ClientCreds {
    id: String,
    secret: Option<String>,
    method: AuthMethod,
}

async fn register(url: &str, method: &str, iat: Option<&str>) -> reqwest::Response {
    let mut req = http().post(url).json(&json!({
        "client_name": "selftest",
        "application_type": "native",
        "redirect_uris": ["http://127.0.0.1/callback"],
        "grant_types": ["authorization_code", "refresh_token"],
        "token_endpoint_auth_method": method,
    }));
    if let Some(t) = iat {
        req = req.bearer_auth(t);
    }
    req.send().await.unwrap()
}

fn creds_from_registration(body: &Value) -> ClientCreds {
    ClientCreds {
        id: body["client_id"].as_str().unwrap().to_owned(),
        secret: body["client_secret"].as_str().map(str::to_owned),
        method: AuthMethod::parse(body["token_endpoint_auth_method"].as_str().unwrap()).unwrap(),
    }
}

/// A token endpoint POST with client authentication per `creds.method`.
async fn token_request(
    token_url: &str,
    creds: &ClientCreds,
    mut form: Vec<(&str, String)>,
) -> reqwest::Response {
    let mut req = http().post(token_url);
    match creds.method {
        AuthMethod::ClientSecretBasic => {
            // RFC 6749 §2.3.1: each half is form-urlencoded before base64.
            let enc =
                |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
            let secret = creds.secret.as_deref().map(enc);
            req = req.basic_auth(enc(&creds.id), secret);
        }
        AuthMethod::ClientSecretPost => {
            form.push(("client_id", creds.id.clone()));
            form.push(("client_secret", creds.secret.clone().unwrap_or_default()));
        }
        AuthMethod::None => form.push(("client_id", creds.id.clone())),
        AuthMethod::PrivateKeyJwt => unreachable!("the self-tests sign no assertions"),
    }
    req.form(&form).send().await.unwrap()
}

/// The redirect `/authorize` answered, with its query parameters.
struct Callback {
    location: url::Url,
}

impl Callback {
    fn get(&self, name: &str) -> Option<String> {
        self.location
            .query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }
}

const REDIRECT: &str = "http://127.0.0.1:4711/callback";

fn authorize_url(
    d: &Discovered,
    client_id: &str,
    challenge: &str,
    state: &str,
    resource: &str,
    scope: &str,
) -> String {
    let mut u = url::Url::parse(&d.authorize).unwrap();
    u.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", client_id)
        .append_pair("redirect_uri", REDIRECT)
        .append_pair("code_challenge", challenge)
        .append_pair("code_challenge_method", "S256")
        .append_pair("state", state)
        .append_pair("resource", resource)
        .append_pair("scope", scope);
    u.into()
}

async fn authorize(url: &str) -> Callback {
    let r = http().get(url).send().await.unwrap();
    let status = r.status();
    let body_or_location = r
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_owned());
    match body_or_location {
        Some(l) if status == 302 => Callback {
            location: url::Url::parse(&l).unwrap(),
        },
        _ => panic!("authorize answered {status}: {}", r.text().await.unwrap()),
    }
}

/// Tokens from a complete authorization code flow.
#[derive(Debug)]
struct Tokens {
    access: String,
    refresh: Option<String>,
    body: Value,
}

async fn code_flow(fx: &Fixture, d: &Discovered, creds: &ClientCreds, scope: &str) -> Tokens {
    let (verifier, challenge) = pkce();
    let state = b64url(&rand::random::<[u8; 16]>());
    let cb = authorize(&authorize_url(
        d,
        &creds.id,
        &challenge,
        &state,
        &fx.mcp_url(),
        scope,
    ))
    .await;
    assert_eq!(cb.location.as_str().split('?').next().unwrap(), REDIRECT);
    assert_eq!(cb.get("state").as_deref(), Some(state.as_str()));
    if d.metadata
        .as_ref()
        .is_some_and(|m| m["authorization_response_iss_parameter_supported"] == true)
    {
        assert_eq!(
            cb.get("iss").as_deref(),
            Some(d.issuer.as_str()),
            "RFC 9207 iss"
        );
    }
    let code = cb.get("code").expect("a code");
    let r = token_request(
        &d.token,
        creds,
        vec![
            ("grant_type", "authorization_code".into()),
            ("code", code),
            ("redirect_uri", REDIRECT.into()),
            ("code_verifier", verifier),
            ("resource", fx.mcp_url()),
        ],
    )
    .await;
    assert_eq!(r.status(), 200, "code exchange");
    assert_eq!(r.headers()["cache-control"], "no-store");
    let body: Value = r.json().await.unwrap();
    Tokens {
        access: body["access_token"].as_str().unwrap().to_owned(),
        refresh: body["refresh_token"].as_str().map(str::to_owned),
        body,
    }
}

async fn mcp_post(
    fx: &Fixture,
    token: Option<&str>,
    session: Option<&str>,
    msg: Value,
) -> reqwest::Response {
    let mut req = http()
        .post(fx.mcp_url())
        .header("Accept", ACCEPT_BOTH)
        .json(&msg);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(s) = session {
        req = req
            .header("Mcp-Session-Id", s)
            .header("MCP-Protocol-Version", "2025-11-25");
    }
    req.send().await.unwrap()
}

/// initialize, initialized, tools/list, tools/call echo; returns the session id.
async fn mcp_session(fx: &Fixture, token: &str) -> String {
    let init = mcp_post(
        fx,
        Some(token),
        None,
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {},
            "clientInfo": {"name": "selftest", "version": "0"}}}),
    )
    .await;
    assert_eq!(init.status(), 200);
    let session = init.headers()["mcp-session-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let body: Value = init.json().await.unwrap();
    assert_eq!(body["result"]["protocolVersion"], "2025-11-25");
    let note = mcp_post(
        fx,
        Some(token),
        Some(&session),
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
    )
    .await;
    assert_eq!(note.status(), 202);
    let list: Value = mcp_post(
        fx,
        Some(token),
        Some(&session),
        json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(list["result"]["tools"][0]["name"], "echo");
    let call = echo(fx, token, &session, "hello").await;
    assert_eq!(call.status(), 200);
    let call: Value = call.json().await.unwrap();
    assert_eq!(call["result"]["content"][0]["text"], "hello");
    session
}

async fn echo(fx: &Fixture, token: &str, session: &str, text: &str) -> reqwest::Response {
    mcp_post(
        fx,
        Some(token),
        Some(session),
        json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call",
               "params": {"name": "echo", "arguments": {"text": text}}}),
    )
    .await
}

/// Discovery, DCR, PKCE, code exchange and an MCP session for one variant.
async fn full_flow(variant: Variant) {
    let fx = Fixture::new(variant);
    let pinned = (variant == Variant::PinnedMetadataUrl).then(|| fx.server_metadata_url().unwrap());
    let d = discover(&fx, pinned).await;
    assert_eq!(d.issuer, fx.issuer());
    let reg = register(d.register.as_deref().unwrap(), "none", None).await;
    assert_eq!(reg.status(), 201);
    let creds = creds_from_registration(&reg.json().await.unwrap());
    assert_eq!(creds.method, AuthMethod::None);
    let tokens = code_flow(&fx, &d, &creds, "mcp:tools offline_access").await;
    assert_eq!(tokens.body["scope"], "mcp:tools offline_access");
    assert!(tokens.refresh.is_some());
    mcp_session(&fx, &tokens.access).await;
    let c = fx.counters();
    assert_eq!(c.tool_calls, 1);
    assert_eq!(c.registrations, 1);
    assert_eq!(c.token_requests, 1);

    // The recording shows what was sent, and where the metadata was found.
    let authz = fx.requests_to(Endpoint::Authorize);
    assert_eq!(authz.len(), 1);
    assert_eq!(authz[0].query("resource"), Some(fx.mcp_url()));
    assert_eq!(
        authz[0].query("code_challenge_method").as_deref(),
        Some("S256")
    );
    let token = &fx.requests_to(Endpoint::Token)[0];
    assert_eq!(token.form("client_id"), Some(creds.id.clone()));
    assert!(token.form("code_verifier").is_some());
    let metadata_hits: Vec<_> = fx
        .requests_to(Endpoint::ServerMetadata)
        .into_iter()
        .map(|r| r.request.path)
        .collect();
    let served: Vec<_> = fx.layout().as_metadata_paths.clone();
    assert_eq!(
        metadata_hits, served,
        "metadata fetched only where it lives"
    );
    let not_found = fx.requests_to(Endpoint::Unknown);
    assert!(
        not_found
            .iter()
            .all(|r| r.request.path.contains("/.well-known/")),
        "only discovery probes may miss: {:?}",
        not_found
            .iter()
            .map(|r| &r.request.path)
            .collect::<Vec<_>>()
    );
}

macro_rules! variant_flows {
    ($($name:ident => $variant:ident,)*) => {$(
        #[tokio::test]
        async fn $name() {
            full_flow(Variant::$variant).await;
        }
    )*};
}

variant_flows! {
    flow_a_header_names_custom_prm => HeaderNamesCustomPrm,
    flow_b_prm_path_form => PrmPathForm,
    flow_c_prm_root_only => PrmRootOnly,
    flow_d_issuer_with_path => IssuerWithPath,
    flow_e_oidc => Oidc,
    flow_e_oidc_path_inserted => OidcPathInserted,
    flow_e_oidc_path_appended => OidcPathAppended,
    flow_f_legacy_origin_metadata => LegacyOriginMetadata,
    flow_f_legacy_no_metadata => LegacyNoMetadata,
    flow_g_pinned_metadata_url => PinnedMetadataUrl,
}

#[tokio::test]
async fn variants_serve_metadata_only_where_they_say() {
    // (b) has resource metadata only in path form; the root form is absent.
    let fx = Fixture::new(Variant::PrmPathForm);
    let origin = url::Url::parse(&fx.mcp_url())
        .unwrap()
        .origin()
        .ascii_serialization();
    let root = http()
        .get(format!("{origin}/.well-known/oauth-protected-resource"))
        .send()
        .await
        .unwrap();
    assert_eq!(root.status(), 404);
    // (g) has nothing at the well-known server metadata paths.
    let fx = Fixture::new(Variant::PinnedMetadataUrl);
    for path in [
        "/.well-known/oauth-authorization-server",
        "/.well-known/openid-configuration",
    ] {
        let r = http()
            .get(format!("{}{path}", fx.issuer()))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404, "{path}");
    }
    // (f) has no resource metadata, and no `resource_metadata` in the challenge.
    let fx = Fixture::new(Variant::LegacyNoMetadata);
    let r = mcp_post(
        &fx,
        None,
        None,
        json!({"jsonrpc": "2.0", "id": 1, "method": "ping"}),
    )
    .await;
    let header = r.headers()["www-authenticate"].to_str().unwrap().to_owned();
    assert!(!header.contains("resource_metadata"), "{header}");
    assert!(fx.prm_url().is_none() && fx.server_metadata_url().is_none());
}

async fn preregistered_flow(method: AuthMethod, secret: Option<&str>) {
    let fx = Fixture::new(Variant::PrmPathForm);
    fx.add_client("app", secret, method, &["http://127.0.0.1/callback"]);
    let d = discover(&fx, None).await;
    let creds = ClientCreds {
        id: "app".into(),
        secret: secret.map(str::to_owned),
        method,
    };
    let tokens = code_flow(&fx, &d, &creds, "mcp:tools").await;
    mcp_session(&fx, &tokens.access).await;
    let token = &fx.requests_to(Endpoint::Token)[0];
    match method {
        AuthMethod::ClientSecretBasic => {
            assert!(token.header("authorization").unwrap().starts_with("Basic "));
            assert_eq!(token.form("client_secret"), None);
        }
        AuthMethod::ClientSecretPost => {
            assert_eq!(token.header("authorization"), None);
            assert_eq!(token.form("client_secret").as_deref(), secret);
        }
        AuthMethod::None => {
            assert_eq!(token.header("authorization"), None);
            assert_eq!(token.form("client_secret"), None);
            assert_eq!(token.form("client_id").as_deref(), Some("app"));
        }
        AuthMethod::PrivateKeyJwt => unreachable!(),
    }
}

#[tokio::test]
async fn preregistered_client_secret_basic() {
    preregistered_flow(AuthMethod::ClientSecretBasic, Some("s3cret:with/odd+chars")).await;
}

#[tokio::test]
async fn preregistered_client_secret_post() {
    preregistered_flow(AuthMethod::ClientSecretPost, Some("s3cret")).await;
}

#[tokio::test]
async fn preregistered_public_client() {
    preregistered_flow(AuthMethod::None, None).await;
}

#[tokio::test]
async fn client_metadata_document_client() {
    let fx = Fixture::new(Variant::PrmPathForm);
    let id = fx.publish_client_document("cli", &["http://127.0.0.1/callback"]);
    let d = discover(&fx, None).await;
    assert_eq!(
        d.metadata.as_ref().unwrap()["client_id_metadata_document_supported"],
        true
    );
    let creds = ClientCreds {
        id: id.clone(),
        secret: None,
        method: AuthMethod::None,
    };
    let tokens = code_flow(&fx, &d, &creds, "mcp:tools").await;
    mcp_session(&fx, &tokens.access).await;
    assert_eq!(
        fx.requests_to(Endpoint::ClientDocument).len(),
        1,
        "the document was fetched"
    );
    assert_eq!(fx.client(&id).unwrap().kind, ClientKind::MetadataDocument);

    // A document whose client_id is not its own URL, or that lacks the redirect, is refused.
    let bad = fx.publish_client_document_raw(
        "liar",
        json!({"client_id": "http://127.0.0.1:1/other.json", "redirect_uris": [REDIRECT]}),
    );
    let (_, challenge) = pkce();
    let r = http()
        .get(authorize_url(
            &d,
            &bad,
            &challenge,
            "st",
            &fx.mcp_url(),
            "mcp:tools",
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("client_id"));
    let narrow = fx.publish_client_document("narrow", &["http://127.0.0.1/elsewhere"]);
    let r = http()
        .get(authorize_url(
            &d,
            &narrow,
            &challenge,
            "st",
            &fx.mcp_url(),
            "mcp:tools",
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("redirect_uri"));
    // With the knob off, a URL client id is just an unknown client.
    fx.update(|k| k.client_id_metadata_document_supported = false);
    let other = fx.publish_client_document("late", &[REDIRECT]);
    let r = http()
        .get(authorize_url(
            &d,
            &other,
            &challenge,
            "st",
            &fx.mcp_url(),
            "mcp:tools",
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("unknown client_id"));
}

async fn dcr_public(fx: &Fixture) -> (Discovered, ClientCreds) {
    let d = discover(fx, None).await;
    let reg = register(d.register.as_deref().unwrap(), "none", None).await;
    assert_eq!(reg.status(), 201);
    let creds = creds_from_registration(&reg.json().await.unwrap());
    (d, creds)
}

async fn refresh(fx: &Fixture, d: &Discovered, creds: &ClientCreds, rt: &str) -> reqwest::Response {
    token_request(
        &d.token,
        creds,
        vec![
            ("grant_type", "refresh_token".into()),
            ("refresh_token", rt.into()),
            ("resource", fx.mcp_url()),
        ],
    )
    .await
}

#[tokio::test]
async fn refresh_rotation_kills_the_old_token() {
    let fx = Fixture::new(Variant::PrmPathForm);
    let (d, creds) = dcr_public(&fx).await;
    let first = code_flow(&fx, &d, &creds, "mcp:tools").await;
    let rt1 = first.refresh.unwrap();
    let r = refresh(&fx, &d, &creds, &rt1).await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    let rt2 = body["refresh_token"]
        .as_str()
        .expect("a rotated refresh token")
        .to_owned();
    assert_ne!(rt1, rt2);
    assert_eq!(body["scope"], "mcp:tools");
    assert!(!fx.refresh_token_alive(&rt1) && fx.refresh_token_alive(&rt2));
    let access2 = body["access_token"].as_str().unwrap().to_owned();
    mcp_session(&fx, &access2).await;

    // Refresh must name the resource again (RFC 8707 on every refresh).
    let no_resource = token_request(
        &d.token,
        &creds,
        vec![
            ("grant_type", "refresh_token".into()),
            ("refresh_token", rt2.clone()),
        ],
    )
    .await;
    assert_eq!(no_resource.status(), 400);
    assert_eq!(
        no_resource.json::<Value>().await.unwrap()["error"],
        "invalid_target"
    );
    assert!(
        fx.refresh_token_alive(&rt2),
        "a refused refresh kills nothing"
    );

    let reuse = refresh(&fx, &d, &creds, &rt1).await;
    assert_eq!(reuse.status(), 400);
    assert_eq!(
        reuse.json::<Value>().await.unwrap()["error"],
        "invalid_grant"
    );
    assert_eq!(fx.counters().refresh_requests, 3);
    let refusals: Vec<_> = fx
        .requests_to(Endpoint::Token)
        .into_iter()
        .filter_map(|r| r.refusal)
        .collect();
    assert_eq!(refusals.len(), 2);
    assert!(refusals[1].starts_with("invalid_grant"), "{refusals:?}");
    // Reuse detection ends the whole grant.
    assert!(!fx.refresh_token_alive(&rt2));
    assert!(!fx.access_token_valid(&access2));
}

#[tokio::test]
async fn refresh_reuse_without_family_revocation_spares_the_new_token() {
    let fx = Fixture::start(Knobs {
        revoke_family_on_refresh_reuse: false,
        ..Knobs::default()
    });
    let (d, creds) = dcr_public(&fx).await;
    let rt1 = code_flow(&fx, &d, &creds, "mcp:tools")
        .await
        .refresh
        .unwrap();
    let body: Value = refresh(&fx, &d, &creds, &rt1).await.json().await.unwrap();
    let rt2 = body["refresh_token"].as_str().unwrap().to_owned();
    assert_eq!(refresh(&fx, &d, &creds, &rt1).await.status(), 400);
    assert!(fx.refresh_token_alive(&rt2));
    assert_eq!(refresh(&fx, &d, &creds, &rt2).await.status(), 200);
}

#[tokio::test]
async fn refresh_without_rotation_keeps_the_token() {
    let fx = Fixture::start(Knobs {
        rotate_refresh_tokens: false,
        ..Knobs::default()
    });
    let (d, creds) = dcr_public(&fx).await;
    let rt = code_flow(&fx, &d, &creds, "mcp:tools")
        .await
        .refresh
        .unwrap();
    for _ in 0..2 {
        let r = refresh(&fx, &d, &creds, &rt).await;
        assert_eq!(r.status(), 200);
        let body: Value = r.json().await.unwrap();
        assert!(
            body.get("refresh_token").is_none(),
            "no new refresh token: {body}"
        );
    }
    assert!(fx.refresh_token_alive(&rt));
    assert_eq!(fx.counters().refresh_requests, 2);
}

#[tokio::test]
async fn refresh_tokens_only_with_offline_access_when_knobbed() {
    let fx = Fixture::start(Knobs {
        refresh_without_offline_access: false,
        ..Knobs::default()
    });
    let (d, creds) = dcr_public(&fx).await;
    assert!(
        code_flow(&fx, &d, &creds, "mcp:tools")
            .await
            .refresh
            .is_none()
    );
    assert!(
        code_flow(&fx, &d, &creds, "mcp:tools offline_access")
            .await
            .refresh
            .is_some()
    );
    // Not advertised: asking for it is an unknown scope.
    fx.update(|k| k.advertise_offline_access = false);
    let d = discover(&fx, None).await;
    let scopes = d.metadata.as_ref().unwrap()["scopes_supported"].to_string();
    assert!(!scopes.contains("offline_access"), "{scopes}");
    let (_, challenge) = pkce();
    let r = http()
        .get(authorize_url(
            &d,
            &creds.id,
            &challenge,
            "s",
            &fx.mcp_url(),
            "offline_access",
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 302, "refused back to the redirect URI");
    let location = r.headers()["location"].to_str().unwrap();
    assert!(location.contains("error=invalid_scope"), "{location}");
}

#[tokio::test]
async fn dcr_with_and_without_initial_access_token() {
    let fx = Fixture::start(Knobs {
        initial_access_token: Some("iat-123".into()),
        ..Knobs::default()
    });
    let d = discover(&fx, None).await;
    let url = d.register.as_deref().unwrap();
    let without = register(url, "none", None).await;
    assert_eq!(without.status(), 401);
    assert!(
        without.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("invalid_token")
    );
    let wrong = register(url, "none", Some("nope")).await;
    assert_eq!(wrong.status(), 401);
    let with = register(url, "client_secret_post", Some("iat-123")).await;
    assert_eq!(with.status(), 201);
    let body: Value = with.json().await.unwrap();
    assert_eq!(body["token_endpoint_auth_method"], "client_secret_post");
    assert!(body["client_secret"].is_string());
    assert_eq!(body["application_type"], "native");

    let regs = fx.requests_to(Endpoint::Register);
    assert_eq!(regs.len(), 3);
    assert_eq!(
        regs[2].header("authorization").as_deref(),
        Some("Bearer iat-123")
    );
    assert_eq!(
        regs[2].json().unwrap()["redirect_uris"][0],
        "http://127.0.0.1/callback"
    );
    assert!(regs[0].refusal.is_some() && regs[2].refusal.is_none());
    assert!(fx.secrets_seen().contains(&"iat-123".to_owned()));

    // Without the knob, no token is needed.
    let open = Fixture::new(Variant::PrmPathForm);
    let d = discover(&open, None).await;
    assert_eq!(
        register(d.register.as_deref().unwrap(), "none", None)
            .await
            .status(),
        201
    );
}

#[tokio::test]
async fn dcr_answers_the_method_the_knob_picks() {
    let fx = Fixture::start(Knobs {
        registration_auth_method: Some(AuthMethod::ClientSecretBasic),
        ..Knobs::default()
    });
    let d = discover(&fx, None).await;
    let r = register(d.register.as_deref().unwrap(), "none", None).await;
    let creds = creds_from_registration(&r.json().await.unwrap());
    assert_eq!(creds.method, AuthMethod::ClientSecretBasic);
    assert!(creds.secret.is_some());
    // A client that uses the method the response gave works.
    let tokens = code_flow(&fx, &d, &creds, "mcp:tools").await;
    mcp_session(&fx, &tokens.access).await;

    // Non-loopback redirects and unknown methods are refused; no endpoint when off.
    let bad = http()
        .post(d.register.as_deref().unwrap())
        .json(&json!({"redirect_uris": ["https://example.com/cb"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    assert_eq!(
        bad.json::<Value>().await.unwrap()["error"],
        "invalid_redirect_uri"
    );
    fx.update(|k| k.registration_endpoint = false);
    let d = discover(&fx, None).await;
    assert!(d.register.is_none());
    assert_eq!(
        register(&fx.endpoint("/register"), "none", None)
            .await
            .status(),
        404
    );
}

#[tokio::test]
async fn client_auth_method_is_enforced() {
    let fx = Fixture::new(Variant::PrmPathForm);
    fx.add_client("basic", Some("sb"), AuthMethod::ClientSecretBasic, &[]);
    fx.add_client("post", Some("sp"), AuthMethod::ClientSecretPost, &[]);
    fx.add_client("public", None, AuthMethod::None, &[]);
    let d = discover(&fx, None).await;
    let cc = |id: &str, secret: Option<&str>, method| ClientCreds {
        id: id.into(),
        secret: secret.map(str::to_owned),
        method,
    };
    let attempts = [
        (cc("basic", Some("sb"), AuthMethod::ClientSecretPost), 401),
        (cc("basic", None, AuthMethod::None), 401),
        (
            cc("basic", Some("wrong"), AuthMethod::ClientSecretBasic),
            401,
        ),
        (cc("post", Some("sp"), AuthMethod::ClientSecretBasic), 401),
        (cc("public", Some("x"), AuthMethod::ClientSecretPost), 401),
        (cc("nobody", None, AuthMethod::None), 401),
        // Right method, so authentication passes and the grant decides.
        (cc("basic", Some("sb"), AuthMethod::ClientSecretBasic), 200),
        (cc("post", Some("sp"), AuthMethod::ClientSecretPost), 200),
    ];
    for (creds, want) in attempts {
        let r = token_request(
            &d.token,
            &creds,
            vec![
                ("grant_type", "client_credentials".into()),
                ("resource", fx.mcp_url()),
            ],
        )
        .await;
        let status = r.status().as_u16();
        let body: Value = r.json().await.unwrap();
        assert_eq!(status, want, "{creds:?}: {body}");
        if want == 401 {
            assert_eq!(body["error"], "invalid_client");
        }
    }
    // Basic and a body secret together is two methods at once.
    let r = http()
        .post(&d.token)
        .basic_auth("basic", Some("sb"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_secret", "sb"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    // Public clients cannot use client_credentials.
    let r = token_request(
        &d.token,
        &cc("public", None, AuthMethod::None),
        vec![
            ("grant_type", "client_credentials".into()),
            ("resource", fx.mcp_url()),
        ],
    )
    .await;
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"],
        "unauthorized_client"
    );
}

#[tokio::test]
async fn code_exchange_checks_verifier_redirect_resource_and_reuse() {
    let fx = Fixture::new(Variant::PrmPathForm);
    let (d, creds) = dcr_public(&fx).await;
    let exchange = |code: String, redirect: &str, verifier: String, resource: String| {
        let (d, creds) = (&d, &creds);
        let redirect = redirect.to_owned();
        async move {
            let r = token_request(
                &d.token,
                creds,
                vec![
                    ("grant_type", "authorization_code".into()),
                    ("code", code),
                    ("redirect_uri", redirect),
                    ("code_verifier", verifier),
                    ("resource", resource),
                ],
            )
            .await;
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    let new_code = || async {
        let (verifier, challenge) = pkce();
        let cb = authorize(&authorize_url(
            &d,
            &creds.id,
            &challenge,
            "st",
            &fx.mcp_url(),
            "mcp:tools",
        ))
        .await;
        (cb.get("code").unwrap(), verifier)
    };
    let (code, _) = new_code().await;
    let (wrong_verifier, _) = pkce();
    let (s, b) = exchange(code, REDIRECT, wrong_verifier, fx.mcp_url()).await;
    assert_eq!((s, b["error"].as_str()), (400, Some("invalid_grant")));
    let (code, verifier) = new_code().await;
    let (s, b) = exchange(
        code,
        "http://127.0.0.1:4712/callback",
        verifier,
        fx.mcp_url(),
    )
    .await;
    assert_eq!((s, b["error"].as_str()), (400, Some("invalid_grant")));
    let (code, verifier) = new_code().await;
    let (s, b) = exchange(code, REDIRECT, verifier, format!("{}x", fx.mcp_url())).await;
    assert_eq!((s, b["error"].as_str()), (400, Some("invalid_target")));
    let (code, verifier) = new_code().await;
    let (s, first) = exchange(code.clone(), REDIRECT, verifier.clone(), fx.mcp_url()).await;
    assert_eq!(s, 200);
    let access = first["access_token"].as_str().unwrap().to_owned();
    assert!(fx.access_token_valid(&access));
    let (s, b) = exchange(code, REDIRECT, verifier, fx.mcp_url()).await;
    assert_eq!(
        (s, b["error"].as_str()),
        (400, Some("invalid_grant")),
        "a code works once"
    );
    assert!(
        !fx.access_token_valid(&access),
        "a replayed code ends its grant"
    );
}

#[tokio::test]
async fn sse_responses_knob_wraps_answers_in_one_event() {
    let fx = Fixture::start(Knobs {
        sse_responses: true,
        ..Knobs::default()
    });
    let token = fx.mint_access_token("x", &["mcp:tools"]);
    let init = mcp_post(
        &fx,
        Some(&token),
        None,
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {}}),
    )
    .await;
    let session = init.headers()["mcp-session-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let r = echo(&fx, &token, &session, "streamed").await;
    assert_eq!(r.headers()["content-type"], "text/event-stream");
    let text = r.text().await.unwrap();
    let data = text
        .lines()
        .find_map(|l| l.strip_prefix("data: "))
        .expect("a data line");
    let msg: Value = serde_json::from_str(data).unwrap();
    assert_eq!(msg["result"]["content"][0]["text"], "streamed");
    assert!(text.contains("event: message") && text.ends_with("\n\n"));
}

#[tokio::test]
async fn authorize_refuses_bad_requests_saying_which_check() {
    let fx = Fixture::new(Variant::PrmPathForm);
    let (d, creds) = dcr_public(&fx).await;
    let (_, challenge) = pkce();
    let good = authorize_url(&d, &creds.id, &challenge, "st", &fx.mcp_url(), "mcp:tools");
    let tweak = |name: &str, value: Option<&str>| {
        let mut u = url::Url::parse(&good).unwrap();
        let pairs: Vec<(String, String)> = u
            .query_pairs()
            .filter(|(k, _)| k != name)
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let mut q = u.query_pairs_mut();
        q.clear();
        for (k, v) in &pairs {
            q.append_pair(k, v);
        }
        if let Some(v) = value {
            q.append_pair(name, v);
        }
        drop(q);
        u.to_string()
    };
    // Until the client and its redirect URI check out, a page; after that, back to the
    // redirect URI with `error=` (RFC 6749 §4.1.2.1). `None`: the page.
    let cases = [
        (tweak("response_type", Some("token")), "response_type", None),
        (
            tweak("client_id", Some("stranger")),
            "unknown client_id",
            None,
        ),
        (
            tweak("redirect_uri", Some("https://example.com/cb")),
            "not loopback",
            None,
        ),
        (
            tweak("redirect_uri", Some("http://127.0.0.1:5/other")),
            "not registered",
            None,
        ),
        (
            tweak("code_challenge_method", Some("plain")),
            "code_challenge_method",
            Some("invalid_request"),
        ),
        (
            tweak("code_challenge", None),
            "code_challenge is missing",
            Some("invalid_request"),
        ),
        (
            tweak("state", None),
            "state is missing",
            Some("invalid_request"),
        ),
        (
            tweak("resource", None),
            "resource is missing",
            Some("invalid_target"),
        ),
        (
            tweak("resource", Some("http://127.0.0.1:1/mcp")),
            "resource `",
            Some("invalid_target"),
        ),
        (
            tweak("scope", Some("root")),
            "unknown scope",
            Some("invalid_scope"),
        ),
    ];
    for (url, why, error) in &cases {
        let r = http().get(url).send().await.unwrap();
        match error {
            None => {
                assert_eq!(r.status(), 400, "{why}");
                let text = r.text().await.unwrap();
                assert!(text.contains(why), "wanted `{why}`, got `{text}`");
            }
            Some(error) => {
                assert_eq!(r.status(), 302, "{why}");
                let location = url::Url::parse(r.headers()["location"].to_str().unwrap()).unwrap();
                let q: std::collections::HashMap<_, _> = location.query_pairs().collect();
                assert_eq!(q.get("error").map(|e| e.as_ref()), Some(*error), "{why}");
                assert!(q["error_description"].contains(why), "{why}: {location}");
            }
        }
    }
    let refused = fx.requests_to(Endpoint::Authorize);
    assert_eq!(refused.len(), cases.len());
    assert!(refused.iter().all(|r| r.refusal.is_some()));
    // A different loopback port is fine (RFC 8252 §7.3).
    let moved = tweak("redirect_uri", Some("http://127.0.0.1:55555/callback"));
    assert_eq!(http().get(&moved).send().await.unwrap().status(), 302);
}

#[tokio::test]
async fn authorize_outcomes() {
    let fx = Fixture::new(Variant::PrmPathForm);
    let (d, creds) = dcr_public(&fx).await;
    let (_, challenge) = pkce();
    let url = authorize_url(&d, &creds.id, &challenge, "st8", &fx.mcp_url(), "mcp:tools");
    let iss = fx.issuer();

    fx.update(|k| k.authorize_outcome = AuthorizeOutcome::Deny);
    let cb = authorize(&url).await;
    assert_eq!(cb.get("error").as_deref(), Some("access_denied"));
    assert_eq!(cb.get("state").as_deref(), Some("st8"));
    assert_eq!(cb.get("iss"), Some(iss.clone()));
    assert!(cb.get("code").is_none());

    fx.update(|k| k.authorize_outcome = AuthorizeOutcome::WrongState);
    let cb = authorize(&url).await;
    assert!(cb.get("code").is_some());
    assert_ne!(cb.get("state").as_deref(), Some("st8"));

    fx.update(|k| k.authorize_outcome = AuthorizeOutcome::WrongIss);
    let cb = authorize(&url).await;
    assert!(cb.get("iss").is_some_and(|i| i != iss));

    fx.update(|k| k.authorize_outcome = AuthorizeOutcome::MissingIss);
    let cb = authorize(&url).await;
    assert!(cb.get("code").is_some() && cb.get("iss").is_none());

    fx.update(|k| {
        k.authorize_outcome = AuthorizeOutcome::Approve;
        k.iss_parameter_supported = false;
    });
    let cb = authorize(&url).await;
    assert!(cb.get("iss").is_none(), "no iss when not advertised");

    fx.update(|k| k.authorize_outcome = AuthorizeOutcome::NeverRedirect);
    let r = http().get(&url).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers().get("location").is_none());
    assert_eq!(fx.counters().authorize_requests, 6);
}

async fn device_start(fx: &Fixture, d: &Discovered, creds: &ClientCreds) -> Value {
    let url = d.metadata.as_ref().unwrap()["device_authorization_endpoint"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = token_request(
        &url,
        creds,
        vec![("scope", "mcp:tools".into()), ("resource", fx.mcp_url())],
    )
    .await;
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

async fn device_poll(d: &Discovered, creds: &ClientCreds, dc: &str) -> (u16, Value) {
    let r = token_request(
        &d.token,
        creds,
        vec![
            ("grant_type", DEVICE_GRANT.into()),
            ("device_code", dc.into()),
        ],
    )
    .await;
    (r.status().as_u16(), r.json().await.unwrap())
}

#[tokio::test]
async fn device_flow_states() {
    let fx = Fixture::start(Knobs {
        device_slow_down_polls: 1,
        ..Knobs::default()
    });
    let (d, creds) = dcr_public(&fx).await;
    let start = device_start(&fx, &d, &creds).await;
    for field in [
        "device_code",
        "user_code",
        "verification_uri",
        "verification_uri_complete",
    ] {
        assert!(start[field].is_string(), "{field}: {start}");
    }
    assert!(start["interval"].is_u64() && start["expires_in"].is_u64());
    let dc = start["device_code"].as_str().unwrap();
    let uc = start["user_code"].as_str().unwrap();
    assert_eq!(device_poll(&d, &creds, dc).await.1["error"], "slow_down");
    assert_eq!(
        device_poll(&d, &creds, dc).await.1["error"],
        "authorization_pending"
    );
    assert!(fx.approve_device(uc));
    let (s, body) = device_poll(&d, &creds, dc).await;
    assert_eq!(s, 200, "{body}");
    mcp_session(&fx, body["access_token"].as_str().unwrap()).await;
    assert_eq!(
        device_poll(&d, &creds, dc).await.1["error"],
        "invalid_grant"
    );
    assert_eq!(fx.devices()[0].state, DeviceState::Consumed);
    assert_eq!(fx.devices()[0].polls, 4);

    let start = device_start(&fx, &d, &creds).await;
    assert!(fx.deny_device(start["user_code"].as_str().unwrap()));
    let dc = start["device_code"].as_str().unwrap();
    assert_eq!(
        device_poll(&d, &creds, dc).await.1["error"],
        "access_denied"
    );

    let start = device_start(&fx, &d, &creds).await;
    assert!(fx.expire_device(start["user_code"].as_str().unwrap()));
    let dc = start["device_code"].as_str().unwrap();
    assert_eq!(
        device_poll(&d, &creds, dc).await.1["error"],
        "expired_token"
    );

    // A visit to verification_uri_complete approves when knobbed.
    fx.update(|k| k.device_approve_on_visit = true);
    let start = device_start(&fx, &d, &creds).await;
    let page = http()
        .get(start["verification_uri_complete"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert!(page.text().await.unwrap().contains("approved"));
    let (s, _) = device_poll(&d, &creds, start["device_code"].as_str().unwrap()).await;
    assert_eq!(s, 200);
}

#[tokio::test]
async fn mcp_challenges_and_token_checks() {
    let fx = Fixture::new(Variant::HeaderNamesCustomPrm);
    let ping = json!({"jsonrpc": "2.0", "id": 1, "method": "ping"});
    let r = mcp_post(&fx, None, None, ping.clone()).await;
    assert_eq!(r.status(), 401);
    let h = r.headers()["www-authenticate"].to_str().unwrap().to_owned();
    assert_eq!(challenge_param(&h, "resource_metadata"), fx.prm_url());
    assert_eq!(challenge_param(&h, "scope").as_deref(), Some("mcp:tools"));
    assert!(!h.contains("error="));

    fx.update(|k| {
        k.challenge_resource_metadata = Some(false);
        k.challenge_scope = None;
    });
    let r = mcp_post(&fx, None, None, ping.clone()).await;
    assert_eq!(r.headers()["www-authenticate"], "Bearer");

    let r = mcp_post(&fx, Some("made-up"), None, ping.clone()).await;
    assert_eq!(r.status(), 401);
    let h = r.headers()["www-authenticate"].to_str().unwrap().to_owned();
    assert_eq!(
        challenge_param(&h, "error").as_deref(),
        Some("invalid_token")
    );

    let token = fx.mint_access_token("x", &["mcp:tools"]);
    let session = mcp_session(&fx, &token).await;
    fx.expire_access_tokens();
    let r = echo(&fx, &token, &session, "late").await;
    assert_eq!(r.status(), 401);
    let h = r.headers()["www-authenticate"].to_str().unwrap().to_owned();
    assert_eq!(
        challenge_param(&h, "error").as_deref(),
        Some("invalid_token")
    );

    // A token this server's issuer made for another resource is not accepted here.
    let foreign = fx.mint_access_token_for("http://127.0.0.1:9/mcp", "x", &["mcp:tools"]);
    assert!(fx.access_token_valid(&foreign));
    let r = mcp_post(&fx, Some(&foreign), None, ping).await;
    assert_eq!(r.status(), 401);
    let h = r.headers()["www-authenticate"].to_str().unwrap().to_owned();
    assert_eq!(
        challenge_param(&h, "error").as_deref(),
        Some("invalid_token")
    );
    let last = fx.requests_to(Endpoint::Mcp).pop().unwrap();
    assert_eq!(last.refusal.as_deref(), Some("token for another resource"));
    assert_eq!(fx.counters().mcp_auth_failures, 5);
    assert_eq!(fx.counters().tool_calls, 1);
}

#[tokio::test]
async fn access_token_ttl_knob_sets_expires_in() {
    let fx = Fixture::start(Knobs {
        access_token_ttl: std::time::Duration::from_secs(2),
        ..Knobs::default()
    });
    let (d, creds) = dcr_public(&fx).await;
    let tokens = code_flow(&fx, &d, &creds, "mcp:tools").await;
    assert_eq!(tokens.body["expires_in"], 2);
    assert_eq!(tokens.body["token_type"], "Bearer");
}

#[tokio::test]
async fn insufficient_scope_names_the_needed_scope() {
    let fx = Fixture::start(Knobs {
        tool_scope: Some("mcp:admin".into()),
        ..Knobs::default()
    });
    let token = fx.mint_access_token("x", &["mcp:tools"]);
    let init = mcp_post(
        &fx,
        Some(&token),
        None,
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {}}),
    )
    .await;
    let session = init.headers()["mcp-session-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let r = echo(&fx, &token, &session, "hi").await;
    assert_eq!(r.status(), 403);
    let h = r.headers()["www-authenticate"].to_str().unwrap().to_owned();
    assert_eq!(
        challenge_param(&h, "error").as_deref(),
        Some("insufficient_scope")
    );
    assert_eq!(
        challenge_param(&h, "scope").as_deref(),
        Some("mcp:admin mcp:tools")
    );
    let wider = fx.mint_access_token("x", &["mcp:tools", "mcp:admin"]);
    assert_eq!(echo(&fx, &wider, &session, "hi").await.status(), 200);
    assert_eq!(fx.counters().tool_calls, 1);
}

#[tokio::test]
async fn transient_token_failures_then_recovery() {
    let fx = Fixture::new(Variant::PrmPathForm);
    let (d, creds) = dcr_public(&fx).await;
    let rt = code_flow(&fx, &d, &creds, "mcp:tools")
        .await
        .refresh
        .unwrap();
    fx.update(|k| k.transient_count = 2);
    let r = refresh(&fx, &d, &creds, &rt).await;
    assert_eq!(r.status(), 503);
    assert_eq!(r.headers()["retry-after"], "1");
    fx.update(|k| k.transient_failure = TransientFailure::TemporarilyUnavailable);
    let r = refresh(&fx, &d, &creds, &rt).await;
    assert_eq!(r.status(), 400);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"],
        "temporarily_unavailable"
    );
    // The refresh token survived both failures.
    assert!(fx.refresh_token_alive(&rt));
    assert_eq!(refresh(&fx, &d, &creds, &rt).await.status(), 200);
    assert_eq!(fx.counters().refresh_requests, 3);
}

#[tokio::test]
async fn revocation_invalidates_tokens() {
    let fx = Fixture::new(Variant::PrmPathForm);
    let (d, creds) = dcr_public(&fx).await;
    let tokens = code_flow(&fx, &d, &creds, "mcp:tools").await;
    let revoke = d.metadata.as_ref().unwrap()["revocation_endpoint"]
        .as_str()
        .unwrap()
        .to_owned();
    let rt = tokens.refresh.unwrap();
    let r = token_request(
        &revoke,
        &creds,
        vec![
            ("token", rt.clone()),
            ("token_type_hint", "refresh_token".into()),
        ],
    )
    .await;
    assert_eq!(r.status(), 200);
    assert!(!fx.refresh_token_alive(&rt));
    assert!(
        !fx.access_token_valid(&tokens.access),
        "the grant's access token ends too"
    );
    let r = refresh(&fx, &d, &creds, &rt).await;
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "invalid_grant");
    // Unknown tokens still answer 200 (RFC 7009 §2.2).
    let r = token_request(&revoke, &creds, vec![("token", "nope".into())]).await;
    assert_eq!(r.status(), 200);
    let rec = &fx.requests_to(Endpoint::Revoke)[0];
    assert_eq!(rec.form("token"), Some(rt));
}

#[tokio::test]
async fn broken_metadata_knobs() {
    let get = |url: String| async move { http().get(url).send().await.unwrap() };
    let fx = Fixture::start(Knobs {
        broken_metadata: Some(BrokenMetadata::MalformedJson),
        ..Knobs::default()
    });
    let r = get(fx.server_metadata_url().unwrap()).await;
    assert_eq!(r.status(), 200);
    assert!(serde_json::from_str::<Value>(&r.text().await.unwrap()).is_err());

    fx.update(|k| k.broken_metadata = Some(BrokenMetadata::IssuerMismatch));
    let m: Value = get(fx.server_metadata_url().unwrap())
        .await
        .json()
        .await
        .unwrap();
    assert_ne!(m["issuer"], fx.issuer());

    fx.update(|k| k.broken_metadata = Some(BrokenMetadata::NonLoopbackHttpEndpoint));
    let m: Value = get(fx.server_metadata_url().unwrap())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(m["issuer"], fx.issuer());
    assert!(
        m["token_endpoint"]
            .as_str()
            .unwrap()
            .starts_with("http://auth.example.com")
    );

    fx.update(|k| {
        k.broken_metadata = None;
        k.advertise_s256 = false;
        k.iss_parameter_supported = false;
        k.client_id_metadata_document_supported = false;
    });
    let m: Value = get(fx.server_metadata_url().unwrap())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(m["code_challenge_methods_supported"], json!(["plain"]));
    assert_eq!(m["authorization_response_iss_parameter_supported"], false);
    assert_eq!(m["client_id_metadata_document_supported"], false);
}

#[tokio::test]
async fn resource_mismatch_knob() {
    for (mismatch, check) in [
        (ResourceMismatch::OtherOrigin, "origin"),
        (ResourceMismatch::OtherPath, "path"),
    ] {
        let fx = Fixture::start(Knobs {
            resource_mismatch: Some(mismatch),
            ..Knobs::default()
        });
        let prm: Value = http()
            .get(fx.prm_url().unwrap())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let got = url::Url::parse(prm["resource"].as_str().unwrap()).unwrap();
        let mcp = url::Url::parse(&fx.mcp_url()).unwrap();
        match check {
            "origin" => assert_ne!(got.origin(), mcp.origin()),
            _ => {
                assert_eq!(got.origin(), mcp.origin());
                assert!(!mcp.path().starts_with(got.path()));
            }
        }
    }
}

#[tokio::test]
async fn secrets_seen_lists_everything_issued_and_sent() {
    let fx = Fixture::new(Variant::PrmPathForm);
    let d = discover(&fx, None).await;
    let reg = register(d.register.as_deref().unwrap(), "client_secret_basic", None).await;
    let creds = creds_from_registration(&reg.json().await.unwrap());
    let tokens = code_flow(&fx, &d, &creds, "mcp:tools").await;
    let seen = fx.secrets_seen();
    let token_rec = &fx.requests_to(Endpoint::Token)[0];
    for s in [
        creds.secret.clone().unwrap(),
        tokens.access.clone(),
        tokens.refresh.clone().unwrap(),
        token_rec.form("code").unwrap(),
        token_rec.form("code_verifier").unwrap(),
    ] {
        assert!(
            seen.contains(&s),
            "secrets_seen lacks one starting `{}`",
            &s[..4]
        );
    }
    // The leak check helper catches a leak.
    let leaky = RunOutput {
        code: Some(0),
        stdout: format!("token: {}", tokens.access),
        stderr: String::new(),
        timed_out: false,
    };
    let caught = std::panic::catch_unwind(|| leaky.assert_no_secret(&seen));
    assert!(caught.is_err());
}

#[tokio::test]
async fn serves_concurrent_clients() {
    let fx = std::sync::Arc::new(Fixture::new(Variant::PrmPathForm));
    let token = fx.mint_access_token("x", &["mcp:tools"]);
    let session = mcp_session(&fx, &token).await;
    let mut tasks = Vec::new();
    for i in 0..16 {
        let (fx, token, session) = (fx.clone(), token.clone(), session.clone());
        tasks.push(tokio::spawn(async move {
            let r = echo(&fx, &token, &session, &format!("n{i}")).await;
            let body: Value = r.json().await.unwrap();
            body["result"]["content"][0]["text"]
                .as_str()
                .unwrap()
                .to_owned()
        }));
    }
    for (i, t) in tasks.into_iter().enumerate() {
        assert_eq!(t.await.unwrap(), format!("n{i}"));
    }
    assert_eq!(fx.counters().tool_calls, 17);
}

#[tokio::test]
async fn mcp_sessions_and_transport_rules() {
    let fx = Fixture::new(Variant::PrmPathForm);
    let token = fx.mint_access_token("x", &["mcp:tools"]);
    let session = mcp_session(&fx, &token).await;
    assert_eq!(fx.sessions(), 1);

    // Missing Accept types: 406; no session id: 400; unknown protocol version: 400.
    let r = http()
        .post(fx.mcp_url())
        .bearer_auth(&token)
        .header("Accept", "application/json")
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "ping"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 406);
    let r = mcp_post(
        &fx,
        Some(&token),
        None,
        json!({"jsonrpc": "2.0", "id": 1, "method": "ping"}),
    )
    .await;
    assert_eq!(r.status(), 400);
    let r = http()
        .post(fx.mcp_url())
        .bearer_auth(&token)
        .header("Accept", ACCEPT_BOTH)
        .header("Mcp-Session-Id", &session)
        .header("MCP-Protocol-Version", "1999-01-01")
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "ping"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    // A response from the client gets 202.
    let r = mcp_post(
        &fx,
        Some(&token),
        Some(&session),
        json!({"jsonrpc": "2.0", "id": 9, "result": {}}),
    )
    .await;
    assert_eq!(r.status(), 202);
    // GET has no stream here.
    let r = http()
        .get(fx.mcp_url())
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);

    let del = || {
        http()
            .delete(fx.mcp_url())
            .bearer_auth(&token)
            .header("Mcp-Session-Id", &session)
            .send()
    };
    assert_eq!(del().await.unwrap().status(), 200);
    assert_eq!(fx.sessions(), 0);
    assert_eq!(del().await.unwrap().status(), 404);
    assert_eq!(
        echo(&fx, &token, &session, "x").await.status(),
        404,
        "session gone"
    );

    let session = mcp_session(&fx, &token).await;
    fx.drop_sessions();
    assert_eq!(echo(&fx, &token, &session, "x").await.status(), 404);
}

#[tokio::test]
async fn browser_stand_in_follows_the_redirect_into_the_listener() {
    let fx = Fixture::new(Variant::PrmPathForm);
    let (d, creds) = dcr_public(&fx).await;
    // Stand-in for mcpauth's loopback callback listener.
    let callback = Listener::start(|req| {
        http::Reply::html(
            200,
            format!("signed in, code={}", req.query_param("code").is_some()),
        )
    });
    let redirect = format!("{}/callback", callback.origin());
    let (_, challenge) = pkce();
    let mut url = url::Url::parse(&authorize_url(
        &d,
        &creds.id,
        &challenge,
        "st",
        &fx.mcp_url(),
        "mcp:tools",
    ))
    .unwrap();
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| {
            let v = if k == "redirect_uri" {
                redirect.clone()
            } else {
                v.into_owned()
            };
            (k.into_owned(), v)
        })
        .collect();
    url.query_pairs_mut().clear().extend_pairs(pairs);

    let env = TestEnv::new();
    assert!(env.browser_page().is_none());
    let run = env.open_in_browser(url.as_str());
    assert_eq!(run.code, Some(0), "curl failed: {}", run.stderr);
    assert_eq!(env.browser_page().as_deref(), Some("signed in, code=true"));
    assert_eq!(fx.requests_to(Endpoint::Authorize)[0].status, 302);
}

#[test]
fn runner_captures_output_and_kills_at_the_deadline() {
    let mut cmd = std::process::Command::new("sh");
    cmd.args(["-c", "cat; echo err >&2; exit 3"]);
    let out = cli::run_bounded(cmd, Some("from stdin"), std::time::Duration::from_secs(30));
    assert_eq!(out.code, Some(3));
    assert_eq!(out.stdout, "from stdin");
    assert_eq!(out.stderr, "err\n");
    assert!(!out.timed_out);

    let mut cmd = std::process::Command::new("sleep");
    cmd.arg("30");
    let out = cli::run_bounded(cmd, None::<&str>, std::time::Duration::from_millis(200));
    assert!(out.timed_out);
    assert_eq!(out.code, None);
}

#[test]
fn test_env_writes_mcp_json_and_scrubs_the_environment() {
    let env = TestEnv::new();
    env.add_server("one", "http://127.0.0.1:1/mcp");
    env.add_server_entry(
        "two",
        json!({"type": "http", "url": "http://127.0.0.1:2/mcp", "oauth": {"clientId": "c"}}),
    );
    let doc: Value =
        serde_json::from_str(&std::fs::read_to_string(env.project().join(".mcp.json")).unwrap())
            .unwrap();
    assert_eq!(doc["mcpServers"]["one"]["url"], "http://127.0.0.1:1/mcp");
    assert_eq!(doc["mcpServers"]["two"]["oauth"]["clientId"], "c");
    let cmd = env.command(&["status"]);
    let envs: Vec<_> = cmd.get_envs().collect();
    let value = |k: &str| {
        envs.iter()
            .find(|(key, _)| *key == k)
            .map(|(_, v)| v.map(|v| v.to_string_lossy().into_owned()))
    };
    assert_eq!(value("DISPLAY"), Some(None), "DISPLAY removed");
    assert_eq!(value("WAYLAND_DISPLAY"), Some(None));
    assert_eq!(
        value("MCPAUTH_HOME"),
        Some(Some(env.home().display().to_string()))
    );
    assert!(
        value("MCPAUTH_BROWSER")
            .unwrap()
            .unwrap()
            .starts_with("curl -sS -L")
    );
    assert_eq!(cmd.get_current_dir(), Some(env.project().as_path()));
}
