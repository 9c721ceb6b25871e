//! `mcpauth idp login|logout`: the sign-in to a company's identity provider that
//! grants for MCP servers are exchanged from ([`crate::signin::idp`]).

use crate::cli::{IdpCommand, IdpLoginArgs, IdpLogoutArgs};
use crate::context::Ctx;
use crate::error::Result;
use crate::escape::controls;
use crate::grants;
use crate::oauth::tokens;
use crate::signin::{ClientOptions, Flow, Options, SecretInput, enterprise, idp};

pub async fn run(ctx: &Ctx, command: IdpCommand) -> Result<()> {
    match command {
        IdpCommand::Login(args) => log_in(ctx, args).await,
        IdpCommand::Logout(args) => log_out(ctx, args).await,
    }
}

async fn log_in(ctx: &Ctx, args: IdpLoginArgs) -> Result<()> {
    let choice = idp::Choice {
        name: args.name,
        issuer: args.issuer,
        client_id: args.client_id,
        scopes: args
            .scopes
            .iter()
            .flat_map(|s| crate::oauth::scope_words(s))
            .collect(),
        id_token: args.id_token.map(|s| s.absolute()),
    };
    let (name, settings) = idp::settle(ctx, &choice)?;
    let opts = Options {
        flow: if args.device {
            Flow::Device
        } else if args.no_browser {
            Flow::Paste
        } else {
            Flow::Browser
        },
        client: ClientOptions {
            secret: match args.client_secret {
                true => SecretInput::Prompt,
                false => SecretInput::Stored,
            },
            ..ClientOptions::default()
        },
        callback_port: args.callback_port,
        timeout: args.timeout,
        // The provider itself is signed in to in the browser, never through itself.
        enterprise: enterprise::Choice::Off,
        ..Options::default()
    };
    idp::log_in(ctx, &name, &settings, &opts).await
}

async fn log_out(ctx: &Ctx, args: IdpLogoutArgs) -> Result<()> {
    let index = ctx.blocking(|v| v.index()).await?;
    let ending: Vec<_> = idp::signed_in(&index)
        .filter(|g| {
            args.name
                .as_ref()
                .is_none_or(|n| g.identity_provider.as_ref().is_some_and(|i| &i.name == n))
        })
        .cloned()
        .collect();
    if ending.is_empty() {
        match &args.name {
            Some(n) => eprintln!(
                "Not signed in to an identity provider called `{}`: nothing to do.",
                controls(n)
            ),
            None => eprintln!("Not signed in to any identity provider: nothing to do."),
        }
        return Ok(());
    }
    for sign_in in ending {
        let label = idp::idp_label(
            sign_in
                .identity_provider
                .as_ref()
                .map_or("", |i| i.name.as_str()),
        );
        // Its grants go first: none may outlive the sign-in it came from.
        let exchanged: Vec<_> = index
            .grants
            .iter()
            .filter(|g| g.through_idp.as_deref() == Some(sign_in.id.as_str()))
            .cloned()
            .collect();
        let names: Vec<String> = exchanged
            .iter()
            .map(|g| {
                g.aliases
                    .first()
                    .cloned()
                    .unwrap_or_else(|| g.key.resource.clone())
            })
            .collect();
        for g in exchanged {
            ctx.blocking(move |v| v.remove_grant(&g.id)).await?;
        }
        // The provider's refresh token is revoked where it can be; the sign-in is
        // forgotten here whatever the provider says.
        let mut revoked = false;
        if let Some(endpoint) = &sign_in.revocation_endpoint {
            let current = sign_in.clone();
            let secrets = ctx.blocking(move |v| v.grant_secrets(&current)).await;
            let creds = grants::client_credentials(ctx, &index, &sign_in).await;
            if let (Ok(Some(secrets)), Ok(creds)) = (secrets, creds)
                && let Some(rt) = &secrets.refresh_token
            {
                revoked = tokens::revoke(ctx.http(), &creds, endpoint, rt, "refresh_token")
                    .await
                    .is_ok();
            }
        }
        let id = sign_in.id.clone();
        ctx.blocking(move |v| v.remove_grant(&id)).await?;
        let also = match names.is_empty() {
            true => String::new(),
            false => format!(
                ", and the grants exchanged from it: {}",
                names
                    .iter()
                    .map(|n| format!("`{}`", controls(n)))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        let at_provider = match revoked {
            true => " (its refresh token was revoked at the provider)",
            false => "",
        };
        eprintln!("Signed out of `{label}`{at_provider}{also}.");
    }
    Ok(())
}
