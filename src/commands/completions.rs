//! `mcpauth completions SHELL`: a completion script on stdout.

use crate::cli::CompletionsArgs;
use crate::context::Ctx;
use crate::error::Result;

pub fn run(_ctx: &Ctx, args: CompletionsArgs) -> Result<()> {
    let script = crate::generated::completion(args.shell);
    super::print_stdout(&String::from_utf8_lossy(&script))
}
