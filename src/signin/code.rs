//! The authorization code grant: the browser opened here, or an address pasted back from
//! a browser anywhere, and the redirect to the loopback listener checked either way.

use std::time::Duration;

use crate::context::Ctx;
use crate::error::{Context as _, Result};
use crate::oauth::OauthError;
use crate::oauth::authorize::{self, Expected, Listener, Opened};
use crate::oauth::discovery::Discovery;
use crate::oauth::profile::Provider;
use crate::oauth::tokens::{self, ClientCredentials, RequestExtras, TokenSet};
use crate::secret::Secret;

use super::{PASTE_LIMIT, waiting};

/// Where the person approves: a browser opened here, or (`paste`) one anywhere.
pub struct Browser {
    pub listener: Listener,
    pub paste: bool,
    pub timeout: Duration,
}

/// The whole authorization code grant: the authorization request with PKCE, the
/// approval, the redirect checked, and the code exchanged.
#[allow(clippy::too_many_arguments)]
pub async fn grant(
    ctx: &Ctx,
    name: &str,
    d: &Discovery,
    browser: Browser,
    creds: &ClientCredentials,
    provider: Provider,
    scopes: &[String],
    extras: &RequestExtras<'_>,
) -> Result<TokenSet> {
    let Browser {
        listener,
        paste,
        timeout,
    } = browser;
    let redirect_uri = listener.redirect_uri();
    let mut authorize_extras = extras.clone();
    let wanted = authorize_params(&authorize_extras.params, provider, scopes);
    authorize_extras.params.extend(wanted);
    let request = tokens::authorization_request(
        d.authorization_endpoint(),
        &creds.client_id,
        &redirect_uri,
        scopes,
        &authorize_extras,
    )?;
    let code = if paste {
        authorize_by_paste(ctx, name, d, listener, &request, timeout).await?
    } else {
        authorize_in_browser(ctx, name, d, listener, &request, timeout).await?
    };
    tokens::exchange_code(
        ctx.http(),
        &ctx.clock,
        creds,
        d.token_endpoint(),
        tokens::Authorized {
            code,
            verifier: request.verifier,
            redirect_uri: &redirect_uri,
        },
        extras,
    )
    .await
    .context(|| format!("the authorization server of `{name}` did not hand out a token"))
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
