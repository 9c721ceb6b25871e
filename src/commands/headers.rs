//! `mcpauth headers`: `{"Authorization": "Bearer ..."}` on stdout, the shape Claude
//! Code's `headersHelper` expects.

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
    let (_, secrets) = grants::fresh_token(ctx, &target.name, &rec, None).await?;
    let out = serde_json::json!({
        "Authorization": format!("Bearer {}", secrets.access_token.expose()),
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
