//! The device authorization grant (RFC 8628): a code shown here, approved on any device.

use std::time::Duration;

use crate::context::Ctx;
use crate::error::{Context as _, Result};
use crate::oauth::OauthError;
use crate::oauth::authorize;
use crate::oauth::discovery::Discovery;
use crate::oauth::tokens::{self, ClientCredentials, RequestExtras, TokenSet};

use super::waiting;

/// `--device`: the person approves on any device with the code shown here.
pub async fn grant(
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
