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

/// When an ID token received at `received_ms` expires, on mcpauth's clock: its own
/// lifetime (`exp` - `iat`) from when it came, so that a provider whose clock is off
/// does not make every token look stale or fresh; `exp` itself when there is no `iat`.
/// Read without checking the signature: it only decides when to ask for a new one.
pub fn id_token_expiry(jwt: &Secret, received_ms: i64) -> Option<i64> {
    use base64::Engine as _;
    let payload = jwt.expose().split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    let exp = claims["exp"].as_i64()?;
    Some(match claims["iat"].as_i64() {
        Some(iat) => received_ms.saturating_add(exp.saturating_sub(iat).saturating_mul(1000)),
        None => exp.saturating_mul(1000),
    })
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
    // Refreshed first when stale; a provider that refreshes without a new ID token
    // leaves the old one, which it then refuses to exchange (`invalid_grant`).
    let (_, secrets) = grants::fresh_token(ctx, &label, idp, None).await?;
    secrets.id_token.ok_or_else(|| {
        Error::login_required(
            &label,
            format!("the sign-in to `{label}` holds no ID token"),
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
    index: &Index,
    idp: &GrantRecord,
    request: &Request<'_>,
    creds: &ClientCredentials,
    token_endpoint: &str,
    extras: &RequestExtras<'_>,
) -> Result<TokenSet> {
    let assertion = id_jag(ctx, index, idp, request).await?;
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
    id_jag(ctx, &index, idp, &request)
        .await
        .map_err(|e| match e {
            // Says itself which sign-in to renew.
            Error::LoginRequired { .. } => e,
            e => Error::Context {
                message: format!(
                    "cannot renew the token for `{name}` through your identity provider"
                ),
                source: Box::new(e),
            },
        })
}

/// The ID-JAG for `request`, from the identity provider sign-in `idp`.
/// `index` is the one the caller read: only its client registrations are used.
async fn id_jag(
    ctx: &Ctx,
    index: &Index,
    idp: &GrantRecord,
    request: &Request<'_>,
) -> Result<Secret> {
    let subject = id_token(ctx, idp).await?;
    let creds = grants::client_credentials(ctx, index, idp).await?;
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
            "your company's identity provider (`{label}`) does not allow `{}`{}: this is the company's policy, not a sign-in to retry; ask your administrator for access (for a server outside the company, sign in with `mcpauth login {} --no-idp`)",
            request.name,
            description
                .map(|d| format!(" ({})", controls(&d)))
                .unwrap_or_default(),
            request.name,
        )),
        OauthError::InvalidGrant => Error::login_required(
            &label,
            format!("`{label}` no longer takes your sign-in (invalid_grant)"),
        ),
        e => Error::Context {
            message: format!(
                "`{label}` did not exchange your sign-in for `{}` (for a server outside the company, sign in with `mcpauth login {} --no-idp`)",
                request.name, request.name
            ),
            source: Box::new(e.into()),
        },
    })?;
    Ok(set.access_token)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(claims: serde_json::Value) -> Secret {
        use base64::Engine as _;
        let part = |v: &serde_json::Value| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
        };
        Secret::new(format!(
            "{}.{}.c2ln",
            part(&serde_json::json!({"alg": "RS256"})),
            part(&claims)
        ))
    }

    #[test]
    fn an_id_token_lives_its_own_lifetime_on_this_clock() {
        // Issued by a provider whose clock is a day ahead: an hour from now here.
        let day = 86_400;
        let token = jwt(serde_json::json!({"iat": 1_000_000 + day, "exp": 1_000_000 + day + 3600}));
        assert_eq!(id_token_expiry(&token, 5_000), Some(5_000 + 3_600_000));
        // With no `iat`, only `exp` can say.
        let token = jwt(serde_json::json!({"exp": 2_000}));
        assert_eq!(id_token_expiry(&token, 5_000), Some(2_000_000));
        for garbage in ["", "a.b.c", "a.%%%.c", "only-one-part"] {
            assert_eq!(id_token_expiry(&Secret::new(garbage), 0), None, "{garbage}");
        }
        let token = jwt(serde_json::json!({"exp": "tomorrow"}));
        assert_eq!(id_token_expiry(&token, 0), None);
    }
}
