//! `mcpauth headers`: `{"Authorization": "Bearer ..."}` on stdout, the shape Claude
//! Code's `headersHelper` expects.

use crate::cli::ServerArgs;
use crate::context::Ctx;
use crate::error::Result;
use crate::grants;

pub async fn run(ctx: &Ctx, args: ServerArgs) -> Result<()> {
    let target = grants::resolve(ctx, &args.server, args.account.as_deref())?;
    let rec = grants::require(ctx, &target).await?;
    let (_, secrets) = grants::fresh_token(ctx, &target.name, &rec, None).await?;
    let out = serde_json::json!({
        "Authorization": format!("Bearer {}", secrets.access_token.expose()),
    });
    super::print_stdout(&format!("{out}\n"))
}
