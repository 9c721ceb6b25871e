//! `mcpauth login`: the command line's choices, handed to [`crate::signin`] as its
//! options.

use crate::cli::LoginArgs;
use crate::context::Ctx;
use crate::error::Result;
use crate::grants;
use crate::signin::{self, ClientOptions, Flow, Metadata, Options, SecretInput, enterprise};

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
    signin::sign_in(ctx, &target, &options(args), &[])
        .await
        .map(drop)
}

fn options(args: LoginArgs) -> Options {
    let flow = if let Some(source) = args.workload {
        Flow::Workload(source.absolute())
    } else if args.client_credentials {
        Flow::ClientCredentials
    } else if args.device {
        Flow::Device
    } else if args.no_browser {
        Flow::Paste
    } else {
        Flow::Browser
    };
    let secret = match (args.client_key_file, args.client_secret) {
        (Some(path), _) => SecretInput::KeyFile(path),
        (None, true) => SecretInput::Prompt,
        (None, false) => SecretInput::Stored,
    };
    let metadata = match (args.authorization_url, args.token_url) {
        (Some(authorization), Some(token)) => Metadata::Endpoints {
            authorization,
            token,
            revocation: args.revocation_url,
        },
        _ => args
            .auth_server_metadata_url
            .map_or(Metadata::Discover, Metadata::At),
    };
    Options {
        flow,
        client: ClientOptions {
            id: args.client_id,
            secret,
            auth_method: args.client_auth.map(|m| m.as_str()),
            metadata_url: args.client_metadata_url,
            initial_access_token: args.initial_access_token,
        },
        metadata,
        allow_pinned_metadata: args.allow_pinned_metadata,
        scopes: args.scopes,
        params: args.auth_params,
        callback_port: args.callback_port,
        timeout: args.timeout,
        enterprise: match (args.idp, args.no_idp) {
            (Some(name), _) => enterprise::Choice::Named(name),
            (None, true) => enterprise::Choice::Off,
            (None, false) => enterprise::Choice::Auto,
        },
    }
}
