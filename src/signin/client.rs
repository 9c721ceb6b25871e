//! Which client mcpauth signs in as: one registered in advance, a client ID metadata
//! document, a registration kept from an earlier sign-in, a new dynamic registration,
//! or, last, one the person types in.

use crate::context::Ctx;
use crate::error::{Error, Result};
use crate::escape::controls;
use crate::grants::Target;
use crate::oauth::OauthError;
use crate::oauth::authorize::Listener;
use crate::oauth::discovery::Discovery;
use crate::oauth::registration;
use crate::oauth::tokens;
use crate::secret::Secret;
use crate::store::{ClientOrigin, ClientRecord, Index};

use super::{Flow, Options, SecretInput};

pub struct Chosen {
    pub client: ClientRecord,
    pub secret: Option<Secret>,
    /// Bound for every client that can take a redirect; a workload needs none.
    pub listener: Option<Listener>,
    /// A registration made or typed in now, to be kept once the login succeeds.
    pub save_client: bool,
}

/// Picks the client in the order PROTOCOL.md gives: pre-registered, client metadata
/// document, a registration stored for this issuer, dynamic registration, and last a
/// prompt. The loopback listener is bound here, since registrations name its port.
///
/// A workload with no client id of its own signs in as nobody in particular: SEP-1933's
/// authorization servers know it by its JWT, and nothing is registered.
#[allow(clippy::too_many_arguments)]
pub async fn choose(
    ctx: &Ctx,
    opts: &Options,
    target: &Target,
    d: &Discovery,
    index: &Index,
    typed_secret: Option<Secret>,
    initial_access_token: Option<&Secret>,
    scopes: &[String],
) -> Result<Chosen> {
    let pinned_port = opts.callback_port.or(target.entry.oauth.callback_port);
    let issuer = d.issuer.as_str();
    let stored = |client_id: &str| {
        index
            .clients
            .iter()
            .find(|c| c.issuer == issuer && c.client_id == client_id)
            .cloned()
    };

    // 1. Pre-registered: the command line, then the config.
    let preregistered = opts
        .client
        .id
        .clone()
        .or(target.entry.oauth.client_id.clone());
    if preregistered.is_none() && matches!(opts.flow, Flow::Workload(_)) {
        return Ok(Chosen {
            client: ClientRecord {
                issuer: issuer.to_owned(),
                client_id: String::new(),
                auth_method: "none".into(),
                origin: ClientOrigin::Preregistered,
                redirect_uris: Vec::new(),
                has_secret: false,
                store: crate::store::StoreKind::Memory,
                registered_at: ctx.clock.now_secs(),
                secret_expires_at: None,
            },
            secret: None,
            listener: None,
            save_client: false,
        });
    }
    if let Some(client_id) = preregistered {
        let listener = Listener::bind(pinned_port.unwrap_or(0))?;
        let previous = stored(&client_id);
        let secret = match typed_secret {
            Some(s) => Some(s),
            None => match previous.clone().filter(|c| c.has_secret) {
                Some(c) => ctx.blocking(move |v| v.client_secret(&c)).await?,
                None => None,
            },
        };
        let auth_method = match (opts.client.auth_method, &secret) {
            _ if matches!(opts.client.secret, SecretInput::KeyFile(_)) => {
                tokens::PRIVATE_KEY_JWT.to_owned()
            }
            (Some(m), _) => m.to_owned(),
            (None, None) => "none".to_owned(),
            (None, Some(_)) => previous
                .as_ref()
                .filter(|c| c.auth_method != "none")
                .map(|c| c.auth_method.clone())
                .unwrap_or_else(|| secret_method(d).to_owned()),
        };
        if auth_method != "none" && secret.is_none() {
            return Err(Error::Usage(format!(
                "`{auth_method}` needs a client secret: add --client-secret"
            )));
        }
        let client = ClientRecord {
            issuer: issuer.to_owned(),
            client_id,
            auth_method,
            origin: ClientOrigin::Preregistered,
            redirect_uris: vec![listener.redirect_uri()],
            has_secret: secret.is_some(),
            store: crate::store::StoreKind::Memory,
            registered_at: ctx.clock.now_secs(),
            secret_expires_at: None,
        };
        return Ok(Chosen {
            client,
            secret,
            listener: Some(listener),
            save_client: true,
        });
    }

    // 2. A client ID metadata document, where the server takes them.
    let takes_documents = d.metadata.client_id_metadata_document_supported == Some(true);
    if let Some(url) = opts
        .client
        .metadata_url
        .as_ref()
        .filter(|_| !takes_documents)
    {
        eprintln!(
            "mcpauth: note: `{}` does not accept client ID metadata documents, so `{url}` is not used",
            controls(issuer)
        );
    }
    if let Some(url) = opts
        .client
        .metadata_url
        .as_ref()
        .filter(|_| takes_documents)
    {
        crate::oauth::http::check_endpoint("client metadata document URL", url)?;
        let listener = Listener::bind(pinned_port.unwrap_or(0))?;
        let client = ClientRecord {
            issuer: issuer.to_owned(),
            client_id: url.clone(),
            auth_method: "none".into(),
            origin: ClientOrigin::MetadataDocument,
            redirect_uris: vec![listener.redirect_uri()],
            has_secret: false,
            store: crate::store::StoreKind::Memory,
            registered_at: ctx.clock.now_secs(),
            secret_expires_at: None,
        };
        return Ok(Chosen {
            client,
            secret: None,
            listener: Some(listener),
            save_client: true,
        });
    }

    // 3. A registration made earlier with this issuer, on the port it names.
    let reusable = index.clients.iter().rev().find(|c| {
        c.issuer == issuer
            && matches!(c.origin, ClientOrigin::Dynamic | ClientOrigin::Prompted)
            && c.secret_expires_at
                .is_none_or(|t| t > ctx.clock.now_secs() + 60)
    });
    if let Some(c) = reusable {
        let port = pinned_port.or_else(|| port_of(c.redirect_uris.first()?));
        match Listener::bind(port.unwrap_or(0)) {
            Ok(listener) if c.redirect_uris.contains(&listener.redirect_uri()) => {
                let c = c.clone();
                let secret = if c.has_secret {
                    let c2 = c.clone();
                    ctx.blocking(move |v| v.client_secret(&c2)).await?
                } else {
                    None
                };
                return Ok(Chosen {
                    client: c,
                    secret,
                    listener: Some(listener),
                    save_client: false,
                });
            }
            // The port is taken now (or pinned elsewhere): register again below.
            _ => tracing::debug!("stored registration's port is not available"),
        }
    }

    // 4. Dynamic client registration.
    if let Some(endpoint) = &d.metadata.registration_endpoint {
        let listener = Listener::bind(pinned_port.unwrap_or(0))?;
        let redirect_uris = vec![listener.redirect_uri()];
        let r = registration::register(
            ctx.http(),
            endpoint,
            &d.metadata,
            &redirect_uris,
            scopes,
            initial_access_token,
        )
        .await?;
        let client = ClientRecord {
            issuer: issuer.to_owned(),
            client_id: r.client_id,
            auth_method: r.auth_method,
            origin: ClientOrigin::Dynamic,
            redirect_uris,
            has_secret: r.client_secret.is_some(),
            store: crate::store::StoreKind::Memory,
            registered_at: ctx.clock.now_secs(),
            secret_expires_at: r.secret_expires_at,
        };
        return Ok(Chosen {
            client,
            secret: r.client_secret,
            listener: Some(listener),
            save_client: true,
        });
    }

    // 5. Ask the person.
    if !ctx.interactive {
        return Err(OauthError::NoClient {
            issuer: issuer.to_owned(),
        }
        .into());
    }
    let listener = Listener::bind(pinned_port.unwrap_or(0))?;
    eprintln!(
        "The authorization server `{}` does not let mcpauth register itself, and no client id is configured.\n\
         Register an OAuth app there with the redirect URI {} and enter its credentials\n\
         (next time, pin the port with --callback-port so the redirect URI stays the same).",
        controls(issuer),
        listener.redirect_uri()
    );
    let client_id: String = dialoguer::Input::new()
        .with_prompt("Client id")
        .interact_text()
        .map_err(|e| OauthError::Prompt(e.to_string()))?;
    let secret: String = dialoguer::Password::new()
        .with_prompt("Client secret (empty for none)")
        .allow_empty_password(true)
        .interact()
        .map_err(|e| OauthError::Prompt(e.to_string()))?;
    let secret = (!secret.is_empty()).then(|| Secret::new(secret));
    let client = ClientRecord {
        issuer: issuer.to_owned(),
        client_id: client_id.trim().to_owned(),
        auth_method: if secret.is_some() {
            secret_method(d).to_owned()
        } else {
            "none".to_owned()
        },
        origin: ClientOrigin::Prompted,
        redirect_uris: vec![listener.redirect_uri()],
        has_secret: secret.is_some(),
        store: crate::store::StoreKind::Memory,
        registered_at: ctx.clock.now_secs(),
        secret_expires_at: None,
    };
    Ok(Chosen {
        client,
        secret,
        listener: Some(listener),
        save_client: true,
    })
}

/// A private key for `private_key_jwt`, read from a file (never from argv).
pub fn read_key_file(path: &std::path::Path) -> Result<Secret> {
    let text =
        crate::files::read_string_capped(path, crate::files::SMALL_LIMIT).map_err(|source| {
            Error::Io {
                what: format!("cannot read the client key `{}`", path.display()),
                source,
            }
        })?;
    if !text.contains("-----BEGIN") {
        return Err(Error::Usage(format!(
            "`{}` is not a PEM private key",
            path.display()
        )));
    }
    Ok(Secret::new(text))
}

/// For a client with a secret: Basic unless the server lists only the body form.
fn secret_method(d: &Discovery) -> &'static str {
    match &d.metadata.token_endpoint_auth_methods_supported {
        Some(m)
            if m.iter().any(|x| x == "client_secret_post")
                && !m.iter().any(|x| x == "client_secret_basic") =>
        {
            "client_secret_post"
        }
        _ => "client_secret_basic",
    }
}

fn port_of(uri: &str) -> Option<u16> {
    url::Url::parse(uri).ok()?.port()
}
