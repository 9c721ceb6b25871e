//! `mcpauth headers`: `{"Authorization": "Bearer ..."}` on stdout, the shape Claude
//! Code's `headersHelper` expects; for a DPoP-bound token, with `--url`, the
//! `Authorization` and `DPoP` headers of that one request.

use crate::cli::HeadersArgs;
use crate::context::{Ctx, env_var};
use crate::error::{Error, Result};
use crate::grants;

/// What Claude Code sets in a `headersHelper`'s environment: the server's name in its
/// config, and its URL.
const CLAUDE_CODE_NAME: &str = "CLAUDE_CODE_MCP_SERVER_NAME";
const CLAUDE_CODE_URL: &str = "CLAUDE_CODE_MCP_SERVER_URL";

pub async fn run(ctx: &Ctx, args: HeadersArgs) -> Result<()> {
    let target = match &args.server {
        Some(server) => grants::resolve(ctx, server, args.account.as_deref())?,
        None => from_claude_code(ctx, args.account.as_deref())?,
    };
    let rec = grants::require(ctx, &target).await?;
    let (rec, secrets) = grants::fresh_token(ctx, &target.name, &rec, None).await?;
    let Some(key) = grants::dpop_key(&target.name, &rec, &secrets)? else {
        let out = serde_json::json!({
            "Authorization": format!("Bearer {}", secrets.access_token.expose()),
        });
        return super::print_stdout(&format!("{out}\n"));
    };
    // A proof is for one request: a helper whose headers go on every request cannot use
    // one, and is told so rather than handed headers the server will refuse.
    let Some(url) = &args.url else {
        return Err(grants::bound_token(&target.name));
    };
    let url = crate::oauth::http::check_endpoint("--url", url)?;
    let method = args.method.to_ascii_uppercase();
    let nonce = crate::oauth::dpop::nonce_for(&url);
    let proof = key.proof(
        &method,
        &url,
        Some(&secrets.access_token),
        nonce.as_deref(),
        crate::clock::system_now_ms() / 1000,
    )?;
    let out = serde_json::json!({
        "Authorization": format!("DPoP {}", secrets.access_token.expose()),
        "DPoP": proof.expose(),
    });
    super::print_stdout(&format!("{out}\n"))
}

/// The server Claude Code asks about. Its URL decides which grant (Claude Code and mcpauth
/// may read different configs from different directories); its name is what messages
/// say, so that the person sees the name they configured.
fn from_claude_code(ctx: &Ctx, account: Option<&str>) -> Result<grants::Target> {
    let name = env_var(CLAUDE_CODE_NAME).filter(|v| !v.is_empty());
    let url = env_var(CLAUDE_CODE_URL).filter(|v| !v.is_empty());
    let mut target = match (&url, &name) {
        (Some(url), _) => grants::resolve(ctx, url, account)?,
        (None, Some(name)) => grants::resolve(ctx, name, account)?,
        (None, None) => {
            return Err(Error::Usage(format!(
                "which server? Give its name or URL, or run this as Claude Code's \
                 `headersHelper`, which sets {CLAUDE_CODE_NAME} and {CLAUDE_CODE_URL}"
            )));
        }
    };
    if let Some(name) = name {
        target.name = name;
    }
    Ok(target)
}
