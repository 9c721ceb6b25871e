//! `mcpauth man [--out DIR]`: writes `mcpauth.1` and one page per subcommand.

use std::path::Path;

use crate::cli::ManArgs;
use crate::context::Ctx;
use crate::error::{Error, Result};

pub fn run(_ctx: &Ctx, args: ManArgs) -> Result<()> {
    for path in write_pages(&args.out)? {
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}

/// Writes every page into `dir`, creating it; returns the files written.
pub fn write_pages(dir: &Path) -> Result<Vec<std::path::PathBuf>> {
    let pages = crate::generated::man_pages().map_err(|source| Error::Io {
        what: "cannot render the man pages".into(),
        source,
    })?;
    let mut written = Vec::new();
    for (name, text) in pages {
        written.push(write_file(dir, &name, &text)?);
    }
    Ok(written)
}

/// `dir/name`, with `dir` created when missing.
pub(crate) fn write_file(dir: &Path, name: &str, text: &[u8]) -> Result<std::path::PathBuf> {
    let io = |what: String| move |source| Error::Io { what, source };
    std::fs::create_dir_all(dir).map_err(io(format!("cannot create `{}`", dir.display())))?;
    let path = dir.join(name);
    std::fs::write(&path, text).map_err(io(format!("cannot write `{}`", path.display())))?;
    Ok(path)
}
