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
            (Err(e), _) => revoked = Some(Err(e)),
            (Ok(creds), Ok(Some(secrets))) => {
                // The refresh token first: revoking it ends the whole grant at most servers.
                let mut result = Ok(());
                if let Some(rt) = &secrets.refresh_token {
                    result =
                        tokens::revoke(ctx.http(), &creds, endpoint, rt, "refresh_token").await;
                }
                if result.is_ok() {
                    result = tokens::revoke(
                        ctx.http(),
                        &creds,
                        endpoint,
                        &secrets.access_token,
                        "access_token",
                    )
                    .await;
                }
                revoked = Some(result.map_err(Error::from));
            }
            (Ok(_), Ok(None)) => {}
            (Ok(_), Err(e)) => {
                eprintln!("mcpauth: warning: cannot read the tokens to revoke them: {e}")
            }
        }
    }

    let id = rec.id.clone();
    ctx.blocking(move |v| v.remove_grant(&id)).await?;
    match revoked {
        Some(Ok(())) => eprintln!(
            "Signed out of `{}`: the grant was revoked at the server and forgotten here.",
            target.name
        ),
        Some(Err(e)) => eprintln!(
            "Signed out of `{}` here. The server did not confirm the revocation: {}",
            target.name,
            crate::escape::controls(&crate::error::inline(&e))
        ),
        None => eprintln!(
            "Signed out of `{}`: the grant was forgotten here.",
            target.name
        ),
    }
    Ok(())
}
