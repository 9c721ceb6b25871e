//! `mcpauth install` and `mcpauth uninstall`.

use crate::cli::{InstallArgs, UninstallArgs};
use crate::context::Ctx;
use crate::error::{Error, Result};

pub fn run(_ctx: &Ctx, _args: InstallArgs) -> Result<()> {
    Err(Error::Other("not yet".into()))
}

pub fn run_uninstall(_ctx: &Ctx, _args: UninstallArgs) -> Result<()> {
    Err(Error::Other("not yet".into()))
}
