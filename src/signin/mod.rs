//! Sign-in: find out how a server wants to be authorized, choose the client to sign in
//! as, run one grant, and keep what it gave. `login`, the proxy's automatic sign-in and
//! `export` all come here with an [`Options`] value; none of them knows the grants.
//!
//! Nothing is stored until the token endpoint has answered: a sign-in that is
//! cancelled, times out, or fails a check leaves the store exactly as it was. [`obtain`]
//! does everything but the storing, so that `export` can mint a grant for another host.
//!
//! One file per way of getting the grant: [`code`] (the browser, or a pasted redirect),
//! [`device`], [`workload`], [`enterprise`] (exchanged from a sign-in to the company's
//! identity provider, [`idp`]); the client credentials grant is one request, here.

mod client;
mod code;
mod device;
pub mod enterprise;
pub mod idp;
mod options;
pub mod workload;

use std::time::Duration;

use crate::context::Ctx;
use crate::error::{Context as _, Error, Result};
use crate::escape::controls;
use crate::grants::Target;
use crate::oauth::OauthError;
use crate::oauth::discovery::{self, Discovery};
use crate::oauth::dpop;
use crate::oauth::profile::Provider;
use crate::oauth::tokens::{self, ClientAuth, ClientCredentials, RequestExtras, TokenSet};
use crate::secret::Secret;
use crate::store::{ClientRecord, GrantKey, GrantRecord, GrantSecrets};

pub use options::{ClientOptions, Flow, Metadata, Options, SecretInput};

/// The scopes to ask for: the command line's, else the config's, else what the server
/// names; a provider with scopes of its own (Entra's `<resource>/.default`) gets them when
/// the server named none beyond OpenID Connect's.
fn requested_scopes(
    opts: &Options,
    oauth: &crate::config::OauthSettings,
    d: &Discovery,
    provider: Provider,
) -> Vec<String> {
    if !opts.scopes.is_empty() {
        return opts
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
    opts: &Options,
    more_scopes: &[String],
) -> Result<GrantRecord> {
    let obtained = obtain(ctx, target, opts, more_scopes).await?;
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
    opts: &Options,
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
        (opts.client.secret == SecretInput::Prompt, "--client-secret"),
        (opts.client.auth_method.is_some(), "--client-auth"),
        (
            matches!(opts.client.secret, SecretInput::KeyFile(_)),
            "--client-key-file",
        ),
        (opts.flow == Flow::ClientCredentials, "--client-credentials"),
    ];
    if let Some((_, flag)) = own_client.iter().find(|(given, _)| *given)
        && opts.client.id.is_none()
        && target.entry.oauth.client_id.is_none()
    {
        return Err(Error::Usage(format!(
            "{flag} is about a client registered in advance, and there is no client id for \
             `{name}`: give --client-id, or set `oauth.clientId` in its config"
        )));
    }

    // Secrets the user types come first, before any network or browser.
    let typed_secret = match &opts.client.secret {
        SecretInput::KeyFile(path) => Some(client::read_key_file(path)?),
        SecretInput::Prompt => Some(read_secret(ctx, "Client secret")?),
        SecretInput::Stored => None,
    };
    let initial_access_token = if opts.client.initial_access_token {
        Some(read_secret(ctx, "Initial access token")?)
    } else {
        None
    };
    // So is a workload's JWT: a source that gives none fails before any request.
    let workload_jwt = match &opts.flow {
        Flow::Workload(source) => Some(workload::assertion(source).await?),
        _ => None,
    };

    let pinned = opts
        .metadata
        .pinned()
        .or(discovery::Pinned::from_settings(&target.entry.oauth));
    let d = match &opts.metadata {
        Metadata::Issuer(issuer) => discovery::discover_issuer(ctx.http(), issuer).await,
        _ => discovery::discover(ctx.http(), target.url.as_str(), pinned).await,
    }
    .context(|| format!("cannot find out how to sign in to `{name}`"))?;
    tracing::debug!(issuer = %d.issuer, resource = %d.resource, source = ?d.metadata_source, "discovered");
    // Before any registration or browser: a project file may not send the sign-in to an
    // authorization server the MCP server never named, unless the person agreed.
    crate::trust::check_pinned(ctx, target, opts, &d)?;
    check_defaults(ctx, target, &d).await?;
    if opts.flow == Flow::Device && d.metadata.device_authorization_endpoint.is_none() {
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

    let mut scopes = requested_scopes(opts, oauth, &d, provider);
    for s in more_scopes {
        if !scopes.contains(s) {
            scopes.push(s.clone());
        }
    }

    let index = ctx.blocking(|v| v.index()).await?;
    // A company's identity provider speaks for the person wherever the server takes it,
    // unless another way was asked for.
    let enterprise_choice = match opts.flow {
        Flow::Browser => &opts.enterprise,
        _ => &enterprise::Choice::Off,
    };
    let via_idp = enterprise::sign_in_for(&index, enterprise_choice, &d)?.cloned();
    if let Some(idp) = &via_idp {
        tracing::debug!(idp = %idp.key.issuer, "signing in through the identity provider");
    }
    let chosen = client::choose(
        ctx,
        opts,
        target,
        &d,
        &index,
        typed_secret,
        initial_access_token.as_ref(),
        &scopes,
    )
    .await
    .context(|| format!("cannot register mcpauth with the authorization server of `{name}`"))?;
    let client::Chosen {
        client,
        secret,
        listener,
        save_client,
    } = chosen;

    // Sent on the authorization request and on every refresh: the config's `params`,
    // with the command line's `--auth-param` over them.
    let mut params: std::collections::BTreeMap<String, String> = oauth.params.clone();
    params.extend(opts.params.iter().cloned());
    let extras = RequestExtras {
        resource: send_resource.then_some(d.resource.as_str()),
        params: params
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect(),
    };
    // A key of the grant's own where the servers bind tokens to one (DPoP): a new one for
    // every sign-in, so that no two grants, and no two hosts, share a key.
    let dpop_key = match dpop::wanted(&d) {
        true => Some(dpop::DpopKey::generate()?),
        false => None,
    };
    // Settled before any browser opens: a method that cannot work fails here.
    let creds = ClientCredentials {
        client_id: client.client_id.clone(),
        auth: ClientAuth::from_stored(&client.auth_method, secret.clone())
            .context(|| format!("cannot sign in to `{name}`"))?,
        issuer: d.issuer.clone(),
        dpop: dpop_key.clone(),
    };
    let no_token = || format!("the authorization server of `{name}` did not hand out a token");
    let set = match &opts.flow {
        _ if let Some(idp) = &via_idp => {
            let request = enterprise::Request {
                name: &name,
                audience: &d.issuer,
                resource: &d.resource,
                scopes: &scopes,
            };
            enterprise::grant(
                ctx,
                &index,
                idp,
                &request,
                &creds,
                d.token_endpoint(),
                &extras,
            )
            .await?
        }
        Flow::ClientCredentials => {
            if secret.is_none() {
                return Err(Error::Usage(
                    "the client credentials grant needs --client-secret or --client-key-file"
                        .into(),
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
        }
        Flow::Workload(_) => {
            let assertion = workload_jwt.ok_or_else(|| {
                Error::Other("the workload's JWT was not read before the sign-in".into())
            })?;
            tokens::jwt_bearer(
                ctx.http(),
                &ctx.clock,
                &creds,
                d.token_endpoint(),
                &assertion,
                &scopes,
                &extras,
            )
            .await
            .context(|| match creds.client_id.is_empty() {
                // Many servers tie a workload to a client registered for it.
                true => format!(
                    "{}; only the workload's JWT was sent: if the server expects a client, add --client-id",
                    no_token()
                ),
                false => no_token(),
            })?
        }
        Flow::Device => {
            device::grant(ctx, &name, &d, &creds, &scopes, &extras, opts.timeout).await?
        }
        Flow::Browser | Flow::Paste => {
            let listener = listener.ok_or_else(|| {
                Error::Other("no loopback listener was bound for the browser's redirect".into())
            })?;
            let browser = code::Browser {
                listener,
                paste: opts.flow == Flow::Paste,
                timeout: opts.timeout,
            };
            code::grant(ctx, &name, &d, browser, &creds, provider, &scopes, &extras).await?
        }
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
        id_token,
        expires_at_ms,
        scopes: granted,
        dpop_bound,
        ..
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
        client_credentials: opts.flow == Flow::ClientCredentials,
        workload: match &opts.flow {
            Flow::Workload(source) => Some(source.clone()),
            _ => None,
        },
        identity_provider: None,
        through_idp: via_idp.map(|g| g.id),
        dpop: dpop_bound && dpop_key.is_some(),
    };
    let secrets = GrantSecrets {
        access_token,
        refresh_token,
        id_token,
        dpop_key: dpop_key.map(|k| k.pem().clone()),
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

    if saved.through_idp.is_some() {
        eprintln!(
            "Signed in to `{name}` through your company's identity provider, with no browser; the exchange runs again whenever the access token expires."
        );
        return Ok(saved);
    }
    if let Some(source) = &saved.workload {
        eprintln!(
            "Signed in to `{name}` as a workload, with the token from `{}`; it is read again whenever the access token expires.",
            controls(&source.to_string())
        );
        return Ok(saved);
    }
    if saved.client_credentials {
        eprintln!(
            "Signed in to `{name}` as client `{}` (client credentials); the token is renewed automatically.",
            saved.key.client_id
        );
        return Ok(saved);
    }
    let until = match saved.expires_at_ms {
        Some(ms) => format!(
            "the token is valid until {}",
            crate::clock::local_time(ms / 1000)
        ),
        None => "the token has no stated expiry".to_owned(),
    };
    let refresh = match (saved.has_refresh_token, saved.expires_at_ms) {
        (true, _) => "; it is refreshed automatically".to_owned(),
        (false, Some(ms)) => format!(
            ".\nThis server gave no refresh token: you will be asked to sign in again at {}",
            crate::clock::local_time(ms / 1000)
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
