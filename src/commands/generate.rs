//! `mcpauth generate` (hidden): rewrites the committed `completions/` and `man/` of a
//! source tree, so that one command brings both up to date with `src/cli.rs`.

use crate::cli::GenerateArgs;
use crate::context::Ctx;
use crate::error::Result;

pub fn run(_ctx: &Ctx, args: GenerateArgs) -> Result<()> {
    let completions = args.root.join("completions");
    for (name, text) in crate::generated::completion_files() {
        let path = super::man::write_file(&completions, name, &text)?;
        eprintln!("wrote {}", path.display());
    }
    for path in super::man::write_pages(&args.root.join("man"))? {
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}
