//! `mcpauth token`: a fresh access token on stdout, for scripts and curl.
//!
//! Kept lean: it runs on every connection when used as a headers helper, so the common
//! case reads one config, the index and one keychain entry, and nothing else.

use crate::cli::TokenArgs;
use crate::context::Ctx;
use crate::error::Result;
use crate::grants;

pub async fn run(ctx: &Ctx, args: TokenArgs) -> Result<()> {
    let target = grants::resolve(ctx, &args.target.server, args.target.account.as_deref())?;
    let rec = grants::require(ctx, &target).await?;
    let (rec, secrets) = grants::fresh_token(ctx, &target.name, &rec, None).await?;
    if grants::dpop_key(&target.name, &rec, &secrets)?.is_some() {
        return Err(grants::bound_token(&target.name));
    }
    if args.json {
        let out = serde_json::json!({
            "access_token": secrets.access_token.expose(),
            "token_type": "Bearer",
            "expires_at": secrets.expires_at_ms.map(|ms| ms / 1000),
            "scopes": rec.scopes,
            "resource": rec.key.resource,
            "issuer": rec.key.issuer,
        });
        super::print_stdout(&format!("{out}\n"))
    } else {
        super::print_stdout(&format!("{}\n", secrets.access_token.expose()))
    }
}
