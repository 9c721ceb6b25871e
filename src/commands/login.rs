//! `mcpauth login`: discover, register (or reuse a registration), authorize (in the
//! browser, by pasting the redirect back, or with a device code), and store the grant.
//!
//! Nothing is stored until the token endpoint has answered: a login that is cancelled,
//! times out, or fails a check leaves the store exactly as it was. [`obtain`] does
//! everything but the storing, so that `export` can mint a grant for another host.

use std::time::Duration;

use crate::cli::LoginArgs;
use crate::context::Ctx;
use crate::error::{Context as _, Error, Result};
use crate::escape::controls;
use crate::grants::{self, Target};
use crate::oauth::OauthError;
use crate::oauth::authorize::{self, Expected, Listener, Opened};
use crate::oauth::discovery::{self, Discovery};
use crate::oauth::profile::Provider;
use crate::oauth::registration;
use crate::oauth::tokens::{self, ClientAuth, ClientCredentials, RequestExtras, TokenSet};
use crate::secret::Secret;
use crate::store::{ClientOrigin, ClientRecord, GrantKey, GrantRecord, GrantSecrets, Index};

pub async fn run(ctx: &Ctx, args: LoginArgs) -> Result<()> {
    let target = grants::resolve(ctx, &args.target.server, args.target.account.as_deref())?;
    if let Some(header) = target.entry.static_authorization()
        && !args.force
    {
        let name = &target.name;
        eprintln!(
            "`{name}` brings its own credential: the `{header}` header configured in `{}`. \
             There is nothing to sign in to; `mcpauth proxy {name}` sends that header as it is. \
             To use OAuth instead, run `mcpauth login {name} --force`.",
            target.entry.origin(&ctx.lookup)
        );
        return Ok(());
    }
    sign_in(ctx, &target, &args, &[]).await.map(drop)
}

/// The scopes to ask for: the command line's, else the config's, else what the server
/// names; a provider with scopes of its own (Entra's `<resource>/.default`) gets them when
/// the server named none beyond OpenID Connect's.
fn requested_scopes(
    args: &LoginArgs,
    oauth: &crate::config::OauthSettings,
    d: &Discovery,
    provider: Provider,
) -> Vec<String> {
    if !args.scopes.is_empty() {
        return args
            .scopes
            .iter()
            .flat_map(|s| crate::oauth::scope_words(s))
            .collect();
    }
    if let Some(s) = &oauth.scopes {
        return s.clone();
    }
    let mut scopes = d.default_scopes();
    let only_oidc = scopes
        .iter()
        .all(|s| ["openid", "offline_access", "profile", "email"].contains(&s.as_str()));
    if only_oidc {
        for s in provider.default_scopes(&d.resource) {
            if !scopes.contains(&s) {
                scopes.push(s);
            }
        }
    }
    scopes
}

/// What the authorization request adds to the parameters already `given`: the provider's
/// (Google's `access_type=offline`), and `prompt=consent` with `offline_access`, since
/// OpenID Connect Core §11 honours it only then and certified providers drop it silently
/// otherwise. The person's own parameters win.
fn authorize_params(
    given: &[(&str, &str)],
    provider: Provider,
    scopes: &[String],
) -> Vec<(&'static str, &'static str)> {
    let has = |key: &str| given.iter().any(|(k, _)| *k == key);
    let mut wanted: Vec<(&'static str, &'static str)> = provider
        .authorize_params()
        .iter()
        .copied()
        .filter(|(k, _)| !has(k))
        .collect();
    let prompted = has("prompt") || wanted.iter().any(|(k, _)| *k == "prompt");
    if scopes.iter().any(|s| s == "offline_access") && !prompted {
        wanted.push(("prompt", "consent"));
    }
    wanted
}

/// A server with no metadata anywhere gets the 2025-03-26 default endpoints on its
/// origin. That is said, and checked before anything is registered or a browser opens:
/// GitHub-style providers have none of them.
async fn check_defaults(ctx: &Ctx, target: &Target, d: &Discovery) -> Result<()> {
    // Only the endpoint a GET cannot disturb: a missing registration endpoint shows
    // itself in the registration, which comes before any browser too.
    let Some(missing) = d.missing_defaults(ctx.http(), false).await? else {
        return Ok(());
    };
    let name = &target.name;
    if missing.is_empty() {
        eprintln!(
            "mcpauth: note: `{name}` publishes no OAuth metadata; using the 2025-03-26 default endpoints `{}` and `{}`",
            controls(d.authorization_endpoint()),
            controls(d.token_endpoint()),
        );
        return Ok(());
    }
    Err(Error::Other(format!(
        "cannot sign in to `{name}`: it publishes no OAuth metadata, and nothing answers at {} (HTTP 404); {}",
        missing
            .iter()
            .map(|u| format!("`{}`", controls(u)))
            .collect::<Vec<_>>()
            .join(", "),
        discovery::EXPLICIT_ENDPOINTS_HINT
    )))
}

/// The whole login for `target`, also used by the proxy when a grant is missing or needs
/// more scopes. `more_scopes` are added to the ones the login would ask for.
pub async fn sign_in(
    ctx: &Ctx,
    target: &Target,
    args: &LoginArgs,
    more_scopes: &[String],
) -> Result<GrantRecord> {
    let obtained = obtain(ctx, target, args, more_scopes).await?;
    keep(ctx, target, obtained).await
}

/// A grant fresh from the token endpoint, not stored anywhere yet.
pub struct Obtained {
    /// `store` names where [`keep`] would put it.
    pub grant: GrantRecord,
    pub secrets: GrantSecrets,
    pub client: ClientRecord,
    pub client_secret: Option<Secret>,
    /// The registration was made or typed in for this login: keep it with the grant.
    pub new_client: bool,
}

/// Discovers, registers and authorizes, and returns the grant without storing it.
pub async fn obtain(
    ctx: &Ctx,
    target: &Target,
    args: &LoginArgs,
    more_scopes: &[String],
) -> Result<Obtained> {
    let name = target.name.clone();

    // Where the grant will go is settled first: a keychain that is required but cannot be
    // reached must fail the login before a browser opens, not after.
    let kind = ctx.blocking(|v| v.default_kind()).await?;
    // So must a store that is damaged or cannot be written: found now, not after the
    // browser and a client registration that would then be orphaned.
    ctx.blocking(move |v| v.probe(kind)).await.context(|| {
        format!(
            "cannot sign in to `{}`: the store cannot keep a grant",
            target.name
        )
    })?;

    // The options about a client of one's own need its id, from the command line or the
    // config, before any secret is asked for.
    let own_client = [
        (args.client_secret, "--client-secret"),
        (args.client_auth.is_some(), "--client-auth"),
        (args.client_key_file.is_some(), "--client-key-file"),
        (args.client_credentials, "--client-credentials"),
    ];
    if let Some((_, flag)) = own_client.iter().find(|(given, _)| *given)
        && args.client_id.is_none()
        && target.entry.oauth.client_id.is_none()
    {
        return Err(Error::Usage(format!(
            "{flag} is about a client registered in advance, and there is no client id for \
             `{name}`: give --client-id, or set `oauth.clientId` in its config"
        )));
    }

    // Secrets the user types come first, before any network or browser.
    let typed_secret = match (&args.client_key_file, args.client_secret) {
        (Some(path), _) => Some(read_key_file(path)?),
        (None, true) => Some(read_secret(ctx, "Client secret")?),
        (None, false) => None,
    };
    let initial_access_token = if args.initial_access_token {
        Some(read_secret(ctx, "Initial access token")?)
    } else {
        None
    };

    let pinned = args
        .pinned()
        .or(discovery::Pinned::from_settings(&target.entry.oauth));
    let d = discovery::discover(ctx.http(), target.url.as_str(), pinned)
        .await
        .context(|| format!("cannot find out how to sign in to `{name}`"))?;
    tracing::debug!(issuer = %d.issuer, resource = %d.resource, source = ?d.metadata_source, "discovered");
    // Before any registration or browser: a project file may not send the sign-in to an
    // authorization server the MCP server never named, unless the person agreed.
    crate::trust::check_pinned(ctx, target, args, &d)?;
    check_defaults(ctx, target, &d).await?;
    if args.device && d.metadata.device_authorization_endpoint.is_none() {
        return Err(OauthError::NoDeviceFlow {
            issuer: d.issuer.clone(),
        }
        .into());
    }

    // The provider's quirks: from the config, else from the issuer.
    let oauth = &target.entry.oauth;
    let provider = oauth
        .provider
        .unwrap_or_else(|| Provider::for_issuer(&d.issuer));
    let send_resource = oauth.resource.unwrap_or(provider.sends_resource());
    if provider != Provider::Standard {
        tracing::debug!(?provider, send_resource, "provider profile");
    }

    let mut scopes = requested_scopes(args, oauth, &d, provider);
    for s in more_scopes {
        if !scopes.contains(s) {
            scopes.push(s.clone());
        }
    }

    let index = ctx.blocking(|v| v.index()).await?;
    let chosen = choose_client(
        ctx,
        args,
        target,
        &d,
        &index,
        typed_secret,
        initial_access_token.as_ref(),
        &scopes,
    )
    .await
    .context(|| format!("cannot register mcpauth with the authorization server of `{name}`"))?;
    let Chosen {
        client,
        secret,
        listener,
        save_client,
    } = chosen;

    // Sent on the authorization request and on every refresh: the config's `params`,
    // with the command line's `--auth-param` over them.
    let mut params: std::collections::BTreeMap<String, String> = oauth.params.clone();
    params.extend(args.auth_params.iter().cloned());
    let extras = RequestExtras {
        resource: send_resource.then_some(d.resource.as_str()),
        params: params
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect(),
    };
    // Settled before any browser opens: a method that cannot work fails here.
    let creds = ClientCredentials {
        client_id: client.client_id.clone(),
        auth: ClientAuth::from_stored(&client.auth_method, secret.clone())
            .context(|| format!("cannot sign in to `{name}`"))?,
        issuer: d.issuer.clone(),
    };
    let no_token = || format!("the authorization server of `{name}` did not hand out a token");
    let set = if args.client_credentials {
        drop(listener);
        if secret.is_none() {
            return Err(Error::Usage(
                "the client credentials grant needs --client-secret or --client-key-file".into(),
            ));
        }
        tokens::client_credentials(
            ctx.http(),
            &ctx.clock,
            &creds,
            d.token_endpoint(),
            &scopes,
            &extras,
        )
        .await
        .context(no_token)?
    } else if args.device {
        drop(listener);
        authorize_on_device(ctx, &name, &d, &creds, &scopes, &extras, args.timeout).await?
    } else {
        let redirect_uri = listener.redirect_uri();
        let mut authorize_extras = extras.clone();
        let wanted = authorize_params(&authorize_extras.params, provider, &scopes);
        authorize_extras.params.extend(wanted);
        let request = tokens::authorization_request(
            d.authorization_endpoint(),
            &client.client_id,
            &redirect_uri,
            &scopes,
            &authorize_extras,
        )?;
        let code = if args.no_browser {
            authorize_by_paste(ctx, &name, &d, listener, &request, args.timeout).await?
        } else {
            authorize_in_browser(ctx, &name, &d, listener, &request, args.timeout).await?
        };
        tokens::exchange_code(
            ctx.http(),
            &ctx.clock,
            &creds,
            d.token_endpoint(),
            tokens::Authorized {
                code,
                verifier: request.verifier,
                redirect_uri: &redirect_uri,
            },
            &extras,
        )
        .await
        .context(no_token)?
    };

    let key = GrantKey {
        resource: d.resource.clone(),
        issuer: d.issuer.clone(),
        client_id: client.client_id.clone(),
        account: target.account.clone(),
    };
    let id = key.id();
    let mut aliases = vec![target.entry.name.clone()];
    if let Some(old) = index.grants.iter().find(|g| g.id == id) {
        aliases.extend(
            old.aliases
                .iter()
                .filter(|a| **a != target.entry.name)
                .cloned(),
        );
    }
    let TokenSet {
        access_token,
        refresh_token,
        expires_at_ms,
        scopes: granted,
    } = set;
    let grant = GrantRecord {
        id,
        key,
        aliases,
        server_url: Some(target.url.to_string()),
        send_resource,
        scope_on_refresh: provider.scope_on_refresh(),
        store: kind,
        token_endpoint: d.token_endpoint().to_owned(),
        revocation_endpoint: d.metadata.revocation_endpoint.clone(),
        auth_method: client.auth_method.clone(),
        scopes: granted.unwrap_or(scopes),
        extra_params: params.clone(),
        expires_at_ms,
        obtained_at_ms: ctx.clock.now_ms(),
        refreshed_at_ms: None,
        has_refresh_token: refresh_token.is_some(),
        needs_login: false,
        client_credentials: args.client_credentials,
    };
    let secrets = GrantSecrets {
        access_token,
        refresh_token,
        expires_at_ms,
    };
    Ok(Obtained {
        grant,
        secrets,
        client,
        client_secret: secret,
        new_client: save_client,
    })
}

/// Stores what [`obtain`] got (the registration first, if it is new) and says so.
pub async fn keep(ctx: &Ctx, target: &Target, obtained: Obtained) -> Result<GrantRecord> {
    let name = &target.name;
    let Obtained {
        grant,
        secrets,
        mut client,
        client_secret,
        new_client,
    } = obtained;
    if new_client {
        client.store = grant.store;
        ctx.blocking(move |v| v.save_client(client, client_secret.as_ref()))
            .await
            .context(|| "cannot store the client registration".to_owned())?;
    }
    let saved = ctx
        .blocking(move |v| v.save_grant(grant, &secrets))
        .await
        .context(|| format!("signed in to `{name}` but cannot store the grant"))?;

    if saved.client_credentials {
        eprintln!(
            "Signed in to `{name}` as client `{}` (client credentials); the token is renewed automatically.",
            saved.key.client_id
        );
        return Ok(saved);
    }
    let until = match saved.expires_at_ms {
        Some(ms) => format!("the token is valid until {}", local_time(ms / 1000)),
        None => "the token has no stated expiry".to_owned(),
    };
    let refresh = match (saved.has_refresh_token, saved.expires_at_ms) {
        (true, _) => "; it is refreshed automatically".to_owned(),
        (false, Some(ms)) => format!(
            ".\nThis server gave no refresh token: you will be asked to sign in again at {}",
            local_time(ms / 1000)
        ),
        (false, None) => {
            ".\nThis server gave no refresh token: when it stops accepting this one, sign in again"
                .to_owned()
        }
    };
    let account = match &saved.key.account {
        Some(a) => format!(" as account `{a}`"),
        None => String::new(),
    };
    eprintln!(
        "Signed in to `{name}`{account} through `{}`: {until}{refresh}.",
        controls(&saved.key.issuer)
    );
    Ok(saved)
}

struct Chosen {
    client: ClientRecord,
    secret: Option<Secret>,
    listener: Listener,
    /// A registration made or typed in now, to be kept once the login succeeds.
    save_client: bool,
}

/// Picks the client in the order PROTOCOL.md gives: pre-registered, client metadata
/// document, a registration stored for this issuer, dynamic registration, and last a
/// prompt. The loopback listener is bound here, since registrations name its port.
#[allow(clippy::too_many_arguments)]
async fn choose_client(
    ctx: &Ctx,
    args: &LoginArgs,
    target: &Target,
    d: &Discovery,
    index: &Index,
    typed_secret: Option<Secret>,
    initial_access_token: Option<&Secret>,
    scopes: &[String],
) -> Result<Chosen> {
    let pinned_port = args.callback_port.or(target.entry.oauth.callback_port);
    let issuer = d.issuer.as_str();
    let stored = |client_id: &str| {
        index
            .clients
            .iter()
            .find(|c| c.issuer == issuer && c.client_id == client_id)
            .cloned()
    };

    // 1. Pre-registered: the command line, then the config.
    if let Some(client_id) = args
        .client_id
        .clone()
        .or(target.entry.oauth.client_id.clone())
    {
        let listener = Listener::bind(pinned_port.unwrap_or(0))?;
        let previous = stored(&client_id);
        let secret = match typed_secret {
            Some(s) => Some(s),
            None => match previous.clone().filter(|c| c.has_secret) {
                Some(c) => ctx.blocking(move |v| v.client_secret(&c)).await?,
                None => None,
            },
        };
        let auth_method = match (args.client_auth, &secret) {
            _ if args.client_key_file.is_some() => tokens::PRIVATE_KEY_JWT.to_owned(),
            (Some(m), _) => m.as_str().to_owned(),
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
            listener,
            save_client: true,
        });
    }

    // 2. A client ID metadata document, where the server takes them.
    let takes_documents = d.metadata.client_id_metadata_document_supported == Some(true);
    if let Some(url) = args
        .client_metadata_url
        .as_ref()
        .filter(|_| !takes_documents)
    {
        eprintln!(
            "mcpauth: note: `{}` does not accept client ID metadata documents, so `{url}` is not used",
            controls(issuer)
        );
    }
    if let Some(url) = args
        .client_metadata_url
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
            listener,
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
                    listener,
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
            listener,
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
        listener,
        save_client: true,
    })
}

/// A private key for `private_key_jwt`, read from a file (never from argv).
fn read_key_file(path: &std::path::Path) -> Result<Secret> {
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

/// Opens the browser on the authorization URL and waits for the redirect, with a
/// spinner on a terminal, a timeout, and Ctrl-C.
async fn authorize_in_browser(
    ctx: &Ctx,
    name: &str,
    d: &Discovery,
    listener: Listener,
    request: &tokens::AuthorizationRequest,
    timeout: Duration,
) -> Result<Secret> {
    match authorize::open_browser(&request.url)? {
        Opened::NotOpened => eprintln!(
            "No desktop session to open a browser in. Open this URL in a browser on this machine to sign in to `{name}`\n\
             (or sign in with --no-browser, or --device, from elsewhere):\n\n  {}\n",
            request.url
        ),
        Opened::Command | Opened::System => eprintln!(
            "Opening the browser to sign in to `{name}`. If it does not open, visit:\n\n  {}\n",
            request.url
        ),
    }
    let redirect = wait_for_redirect(name, d, listener, request, timeout);
    waiting(ctx, "Waiting for the browser", redirect)
        .await
        .context(|| format!("cannot sign in to `{name}`"))
}

/// `--no-browser`: the person opens the URL wherever they like and pastes back the
/// address the browser ended on. A redirect that reaches the listener (a browser on this
/// machine after all) is taken just the same.
async fn authorize_by_paste(
    ctx: &Ctx,
    name: &str,
    d: &Discovery,
    listener: Listener,
    request: &tokens::AuthorizationRequest,
    timeout: Duration,
) -> Result<Secret> {
    eprintln!(
        "Open this URL in a browser on any machine to sign in to `{name}`:\n\n  {}\n\n\
         After you approve, the browser goes to {}... and may show an error page there\n\
         (it cannot reach this machine). Copy that whole address from the address bar and paste it here.",
        request.url,
        listener.redirect_uri()
    );
    let (tx, rx) = tokio::sync::oneshot::channel();
    // A plain thread: a read on stdin cannot be cancelled, and must not keep the runtime
    // from shutting down when the listener wins.
    std::thread::spawn(move || {
        let mut stdin = std::io::stdin().lock();
        let mut line = String::new();
        // Blank lines are skipped; at the end of input there is nothing to paste, and
        // only the listener can still finish the sign-in.
        let pasted = loop {
            line.clear();
            match crate::files::read_line_capped(&mut stdin, &mut line, PASTE_LIMIT) {
                Ok(0) | Err(_) => break None,
                Ok(_) if line.trim().is_empty() => continue,
                Ok(_) => break Some(line),
            }
        };
        let _ = tx.send(pasted);
    });
    let expected_issuer = d.known_issuer().map(str::to_owned);
    let iss_required = d.metadata.authorization_response_iss_parameter_supported == Some(true);
    let state = request.state.clone();
    let pasted = async move {
        match rx.await {
            Ok(Some(line)) => authorize::code_from_pasted(
                &line,
                &Expected {
                    state: &state,
                    issuer: expected_issuer.as_deref(),
                    iss_required,
                    server_name: name,
                },
            ),
            _ => std::future::pending().await,
        }
    };
    let redirect = wait_for_redirect(name, d, listener, request, timeout);
    let either = async {
        tokio::select! {
            r = redirect => r,
            r = pasted => r,
        }
    };
    waiting(ctx, "Waiting for the pasted address", either)
        .await
        .context(|| format!("cannot sign in to `{name}`"))
}

/// The redirect to the loopback listener, checked; waits in a blocking thread that stops
/// when this future is dropped.
async fn wait_for_redirect(
    name: &str,
    d: &Discovery,
    listener: Listener,
    request: &tokens::AuthorizationRequest,
    timeout: Duration,
) -> std::result::Result<Secret, OauthError> {
    let cancel = authorize::cancel_flag();
    let _stop = authorize::CancelOnDrop(cancel.clone());
    let state = request.state.clone();
    let issuer = d.known_issuer().map(str::to_owned);
    let iss_required = d.metadata.authorization_response_iss_parameter_supported == Some(true);
    let server_name = name.to_owned();
    tokio::task::spawn_blocking(move || {
        authorize::wait_for_code(
            listener,
            &Expected {
                state: &state,
                issuer: issuer.as_deref(),
                iss_required,
                server_name: &server_name,
            },
            timeout,
            &cancel,
        )
    })
    .await
    .expect("the wait does not panic")
}

/// `--device`: the person approves on any device with the code shown here.
async fn authorize_on_device(
    ctx: &Ctx,
    name: &str,
    d: &Discovery,
    creds: &ClientCredentials,
    scopes: &[String],
    extras: &RequestExtras<'_>,
    timeout: Duration,
) -> Result<TokenSet> {
    let endpoint = d
        .metadata
        .device_authorization_endpoint
        .as_deref()
        .ok_or_else(|| OauthError::NoDeviceFlow {
            issuer: d.issuer.clone(),
        })?;
    crate::oauth::http::check_endpoint("device authorization endpoint", endpoint)?;
    let start = tokens::device_start(
        ctx.http(),
        creds,
        endpoint,
        d.token_endpoint(),
        scopes,
        extras,
    )
    .await
    .context(|| format!("cannot start a device sign-in to `{name}`"))?;
    eprintln!(
        "To sign in to `{name}`, open {} on any device and enter the code\n\n  {}\n",
        start.verification_uri, start.user_code
    );
    if let Some(complete) = &start.verification_uri_complete {
        eprintln!("(or open {complete}, which has the code in it)\n");
    }
    // Where a browser can be shown here, show the page; only a web address, though: the
    // server chose it, and it goes to a program.
    let page = start
        .verification_uri_complete
        .as_deref()
        .unwrap_or(&start.verification_uri);
    if crate::oauth::http::check_endpoint("verification URL", page).is_ok() {
        authorize::open_browser(page)?;
    }
    let approved = tokens::device_finish(
        ctx.http(),
        &ctx.clock,
        creds,
        d.token_endpoint(),
        &start,
        extras,
        timeout,
    );
    waiting(ctx, "Waiting for approval", approved)
        .await
        .context(|| format!("cannot sign in to `{name}`"))
}

/// Waits for `work` with a spinner on a terminal; Ctrl-C gives up as `Interrupted`.
async fn waiting<T>(
    ctx: &Ctx,
    message: &'static str,
    work: impl Future<Output = std::result::Result<T, OauthError>>,
) -> std::result::Result<T, OauthError> {
    let spinner = ctx.stderr_tty.then(|| {
        let s = indicatif::ProgressBar::new_spinner();
        s.set_message(format!("{message} (Ctrl-C to cancel)"));
        s.enable_steady_tick(Duration::from_millis(120));
        s
    });
    let outcome = tokio::select! {
        r = work => r,
        _ = tokio::signal::ctrl_c() => Err(OauthError::Interrupted),
    };
    if let Some(s) = spinner {
        s.finish_and_clear();
    }
    outcome
}

/// The longest line read from stdin: a pasted redirect URL or a secret.
const PASTE_LIMIT: u64 = 64 << 10;

/// Reads a secret: a hidden prompt on a terminal, else one line of stdin.
fn read_secret(ctx: &Ctx, prompt: &str) -> Result<Secret> {
    let value = if ctx.interactive {
        dialoguer::Password::new()
            .with_prompt(prompt)
            .interact()
            .map_err(|e| OauthError::Prompt(e.to_string()))?
    } else {
        let mut line = String::new();
        crate::files::read_line_capped(std::io::stdin().lock(), &mut line, PASTE_LIMIT).map_err(
            |source| Error::Io {
                what: format!("cannot read the {} from stdin", prompt.to_lowercase()),
                source,
            },
        )?;
        line.trim_end_matches(['\r', '\n']).to_owned()
    };
    if value.is_empty() {
        return Err(Error::Usage(format!(
            "no {} given on stdin",
            prompt.to_lowercase()
        )));
    }
    Ok(Secret::new(value))
}

/// A unix time as local wall-clock time, e.g. `2026-11-24 15:05`.
pub fn local_time(unix: i64) -> String {
    match jiff::Timestamp::from_second(unix) {
        Ok(ts) => ts
            .to_zoned(jiff::tz::TimeZone::system())
            .strftime("%Y-%m-%d %H:%M %Z")
            .to_string(),
        Err(_) => unix.to_string(),
    }
}
