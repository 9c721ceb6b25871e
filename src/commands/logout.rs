//! `mcpauth logout`: revoke at the authorization server when it offers revocation
//! (RFC 7009), then forget the grant here. Forgetting happens whatever the server says:
//! a user who signs out must end up signed out.

use crate::cli::LogoutArgs;
use crate::context::Ctx;
use crate::error::{Error, Result};
use crate::grants;
use crate::oauth::tokens;

pub async fn run(ctx: &Ctx, args: LogoutArgs) -> Result<()> {
    let target = grants::resolve(ctx, &args.target.server, args.target.account.as_deref())?;
    let index = ctx.blocking(|v| v.index()).await?;
    let Some(rec) = grants::find(&index, &target).cloned() else {
        eprintln!("Not signed in to `{}`: nothing to do.", target.name);
        return Ok(());
    };

    let mut revoked = None;
    if let (Some(endpoint), false) = (&rec.revocation_endpoint, args.no_revoke) {
        // A client that cannot authenticate (its secret is gone) cannot revoke, but the
        // person still ends up signed out here.
        let creds = grants::client_credentials(ctx, &index, &rec).await;
        let current = rec.clone();
        match (
            creds,
            ctx.blocking(move |v| v.grant_secrets(&current)).await,
        ) {
            (Err(e), _) => revoked = Some(Revoked::Failed(e)),
            (Ok(creds), Ok(Some(secrets))) => {
                // The refresh token first: revoking it ends the whole grant at most servers.
                let refresh = match &secrets.refresh_token {
                    Some(rt) => {
                        tokens::revoke(ctx.http(), &creds, endpoint, rt, "refresh_token").await
                    }
                    None => Ok(()),
                };
                revoked = Some(match refresh {
                    Err(e) => Revoked::Failed(e.into()),
                    Ok(()) => {
                        let access = tokens::revoke(
                            ctx.http(),
                            &creds,
                            endpoint,
                            &secrets.access_token,
                            "access_token",
                        )
                        .await;
                        let refresh_token = secrets.refresh_token.is_some();
                        match access {
                            Ok(()) => Revoked::Both { refresh_token },
                            Err(e) if tokens::cannot_be_revoked(&e) => Revoked::AccessTokenStays {
                                refresh_token,
                                until: secrets.expires_at_ms.or(rec.expires_at_ms),
                            },
                            Err(e) => Revoked::Failed(e.into()),
                        }
                    }
                });
            }
            (Ok(_), Ok(None)) => {}
            (Ok(_), Err(e)) => {
                eprintln!("mcpauth: warning: cannot read the tokens to revoke them: {e}")
            }
        }
    }

    let id = rec.id.clone();
    ctx.blocking(move |v| v.remove_grant(&id)).await?;
    let name = &target.name;
    match revoked {
        Some(Revoked::Both {
            refresh_token: true,
        }) => eprintln!(
            "Signed out of `{name}`: the refresh and access tokens were revoked at the server, and the grant is forgotten here."
        ),
        Some(Revoked::Both {
            refresh_token: false,
        }) => eprintln!(
            "Signed out of `{name}`: the access token was revoked at the server, and the grant is forgotten here."
        ),
        Some(Revoked::AccessTokenStays {
            refresh_token,
            until,
        }) => {
            let first = if refresh_token {
                "the refresh token was revoked at the server; "
            } else {
                ""
            };
            let until = match until {
                Some(ms) => format!("expires at {}", crate::clock::local_time(ms / 1000)),
                None => "expires by itself".to_owned(),
            };
            eprintln!(
                "Signed out of `{name}`: {first}the access token cannot be revoked there and {until}. The grant is forgotten here."
            );
        }
        Some(Revoked::Failed(e)) => eprintln!(
            "Signed out of `{name}` here. The server did not confirm the revocation: {}",
            crate::escape::controls(&crate::error::inline(&e))
        ),
        None => eprintln!("Signed out of `{name}`: the grant was forgotten here."),
    }
    Ok(())
}

/// What the server did with the grant's tokens.
enum Revoked {
    /// Everything held was revoked (`refresh_token`: there was one).
    Both {
        refresh_token: bool,
    },
    /// The server cannot revoke the access token (RFC 7009 `unsupported_token_type`): it
    /// ends at its expiry.
    AccessTokenStays {
        refresh_token: bool,
        until: Option<i64>,
    },
    Failed(Error),
}
