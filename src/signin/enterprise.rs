//! Enterprise-managed authorization (the MCP `ext-auth` extension, SEP-990): the person
//! signs in once to the company's identity provider ([`super::idp`]); for each MCP
//! server, mcpauth exchanges that sign-in's ID token at the provider for an identity
//! assertion JWT authorization grant (ID-JAG, RFC 8693) addressed to the server's
//! authorization server, and presents it there as an RFC 7523 grant. No browser opens,
//! and there is no refresh token: when the access token expires, the exchange runs
//! again, under the grant's lock like any refresh.
//!
//! The provider decides which servers the company allows. Its `access_denied` is that
//! policy, said as such; signing in again would not change it.

use crate::context::Ctx;
use crate::error::{Error, Result};
use crate::escape::controls;
use crate::grants;
use crate::oauth::OauthError;
use crate::oauth::discovery::Discovery;
use crate::oauth::tokens::{self, ClientCredentials, RequestExtras, TokenSet};
use crate::secret::Secret;
use crate::store::{GrantRecord, Index, Renewal};

use super::{idp, workload};

/// The authorization grant profile an authorization server names when it takes ID-JAGs.
pub const ID_JAG_PROFILE: &str = "urn:ietf:params:oauth:grant-profile:id-jag";

/// Whether the authorization server takes ID-JAGs: it names their profile, or the JWT
/// bearer grant they are presented with.
pub fn takes_id_jags(d: &Discovery) -> bool {
    let named = |list: &Option<Vec<String>>, value: &str| {
        list.as_ref().is_some_and(|l| l.iter().any(|v| v == value))
    };
    named(
        &d.metadata.authorization_grant_profiles_supported,
        ID_JAG_PROFILE,
    ) || named(&d.metadata.grant_types_supported, tokens::JWT_BEARER_GRANT)
}

/// Which identity provider sign-in a server's grant is exchanged from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Choice {
    /// The one there is, when the server's authorization server takes ID-JAGs.
    #[default]
    Auto,
    /// This one, by name.
    Named(String),
    /// None: sign in as the other options say.
    Off,
}

/// The identity provider sign-in to use for a server whose metadata is `d`, if any.
pub fn sign_in_for<'a>(
    index: &'a Index,
    choice: &Choice,
    d: &Discovery,
) -> Result<Option<&'a GrantRecord>> {
    let mut signed_in = idp::signed_in(index);
    match choice {
        Choice::Off => Ok(None),
        Choice::Named(name) => signed_in
            .find(|g| {
                g.identity_provider
                    .as_ref()
                    .is_some_and(|i| &i.name == name)
            })
            .map(Some)
            .ok_or_else(|| {
                Error::Usage(format!(
                    "not signed in to an identity provider called `{}`: run `mcpauth idp login {}`",
                    controls(name),
                    controls(name)
                ))
            }),
        Choice::Auto if !takes_id_jags(d) => Ok(None),
        Choice::Auto => {
            let first = signed_in.next();
            if signed_in.next().is_some() {
                return Err(Error::Usage(format!(
                    "`{}` takes sign-ins from an identity provider, and you are signed in to several: choose one with --idp NAME, or sign in in the browser with --no-idp",
                    controls(&d.issuer)
                )));
            }
            Ok(first)
        }
    }
}

/// When a JWT says it expires (its `exp`, in Unix milliseconds). Read without checking
/// the signature: it only decides when to ask for a new one.
pub fn id_token_expiry(jwt: &Secret) -> Option<i64> {
    use base64::Engine as _;
    let payload = jwt.expose().split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    claims["exp"].as_i64().map(|s| s.saturating_mul(1000))
}

/// A current ID token of the identity provider sign-in `idp`: read from its source, or
/// the stored one, refreshed first when it is about to expire.
async fn id_token(ctx: &Ctx, idp: &GrantRecord) -> Result<Secret> {
    let name = idp
        .identity_provider
        .as_ref()
        .map_or(idp.key.issuer.as_str(), |i| i.name.as_str());
    let label = idp::idp_label(name);
    if let Renewal::IdTokenSource(source) = idp.renewal() {
        return workload::read_jwt(source, "ID token").await;
    }
    let (_, secrets) = grants::fresh_token(ctx, &label, idp, None).await?;
    let now = ctx.clock.now_ms();
    secrets
        .id_token
        .filter(|t| id_token_expiry(t).is_none_or(|exp| exp > now))
        .ok_or_else(|| {
            Error::login_required(
                &label,
                format!("the ID token of `{label}` has expired and the provider gave no new one"),
            )
        })
}

/// What the exchange is for.
pub struct Request<'a> {
    /// The server, for messages.
    pub name: &'a str,
    /// The server's authorization server: the ID-JAG's audience.
    pub audience: &'a str,
    /// The MCP server (RFC 9728's resource).
    pub resource: &'a str,
    pub scopes: &'a [String],
}

/// Exchanges the sign-in's ID token for an ID-JAG, then presents it to the server's
/// authorization server as `creds`.
pub async fn grant(
    ctx: &Ctx,
    idp: &GrantRecord,
    request: &Request<'_>,
    creds: &ClientCredentials,
    token_endpoint: &str,
    extras: &RequestExtras<'_>,
) -> Result<TokenSet> {
    let assertion = id_jag(ctx, idp, request).await?;
    tokens::jwt_bearer(
        ctx.http(),
        &ctx.clock,
        creds,
        token_endpoint,
        &assertion,
        request.scopes,
        extras,
    )
    .await
    .map_err(|e| Error::Context {
        message: format!(
            "the authorization server of `{}` did not take the grant from your identity provider",
            request.name
        ),
        source: Box::new(e.into()),
    })
}

/// A new ID-JAG for the grant `rec`, exchanged from the identity provider sign-in
/// `idp_id` it came from, to renew its access token.
///
/// Boxed, with its type spelled out: renewing a grant may renew the sign-in first, which
/// is the same refresh code again, and a future cannot contain itself.
pub fn renewal<'a>(
    ctx: &'a Ctx,
    name: &'a str,
    rec: &'a GrantRecord,
    idp_id: &'a str,
) -> std::pin::Pin<Box<dyn Future<Output = Result<Secret>> + Send + 'a>> {
    Box::pin(renew(ctx, name, rec, idp_id))
}

async fn renew(ctx: &Ctx, name: &str, rec: &GrantRecord, idp_id: &str) -> Result<Secret> {
    let index = ctx.blocking(|v| v.index()).await?;
    let Some(idp) = idp::signed_in(&index).find(|g| g.id == idp_id) else {
        return Err(Error::login_required(
            name,
            format!(
                "the grant for `{name}` came from an identity provider sign-in that has ended: run `mcpauth idp login`, then sign in to `{name}` again"
            ),
        ));
    };
    let request = Request {
        name,
        audience: &rec.key.issuer,
        resource: &rec.key.resource,
        scopes: &rec.scopes,
    };
    id_jag(ctx, idp, &request).await
}

/// The ID-JAG for `request`, from the identity provider sign-in `idp`.
async fn id_jag(ctx: &Ctx, idp: &GrantRecord, request: &Request<'_>) -> Result<Secret> {
    let subject = id_token(ctx, idp).await?;
    let index = ctx.blocking(|v| v.index()).await?;
    let creds = grants::client_credentials(ctx, &index, idp).await?;
    let label = idp::idp_label(
        idp.identity_provider
            .as_ref()
            .map_or(idp.key.issuer.as_str(), |i| i.name.as_str()),
    );
    let extras = RequestExtras {
        resource: Some(request.resource),
        params: Vec::new(),
    };
    let set = tokens::exchange_for_id_jag(
        ctx.http(),
        &ctx.clock,
        &creds,
        &idp.token_endpoint,
        &subject,
        request.audience,
        request.scopes,
        &extras,
    )
    .await
    .map_err(|e| match e {
        OauthError::AccessDenied { description } => Error::Other(format!(
            "your company's identity provider (`{label}`) does not allow `{}`{}: this is the company's policy, not a sign-in to retry; ask your administrator for access",
            request.name,
            description
                .map(|d| format!(" ({})", controls(&d)))
                .unwrap_or_default()
        )),
        OauthError::InvalidGrant => Error::login_required(
            &label,
            format!("`{label}` no longer takes your sign-in (invalid_grant)"),
        ),
        e => Error::Context {
            message: format!("`{label}` did not exchange your sign-in for `{}`", request.name),
            source: Box::new(e.into()),
        },
    })?;
    Ok(set.access_token)
}
