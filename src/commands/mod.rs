//! One file per subcommand, each a `run(ctx, args)`.

pub mod completions;
pub mod doctor;
pub mod export;
pub mod generate;
pub mod headers;
pub mod idp;
pub mod import;
pub mod install;
pub mod login;
pub mod logout;
pub mod man;
pub mod proxy;
pub mod status;
pub mod token;

use std::io::Write;

use crate::cli::{Cli, Command};
use crate::context::Ctx;
use crate::error::{Error, Result};

pub async fn run(cli: Cli) -> Result<()> {
    let ctx = Ctx::from_env(&cli.global)?;
    match cli.command {
        Command::Login(args) => login::run(&ctx, args).await,
        Command::Status(args) => status::run(&ctx, args).await,
        Command::Token(args) => token::run(&ctx, args).await,
        Command::Headers(args) => headers::run(&ctx, args).await,
        Command::Logout(args) => logout::run(&ctx, args).await,
        Command::Proxy(args) => proxy::run(ctx, args).await,
        Command::Export(args) => export::run(&ctx, args).await,
        Command::Import(args) => import::run(&ctx, args).await,
        Command::Completions(args) => completions::run(&ctx, args),
        Command::Man(args) => man::run(&ctx, args),
        Command::Generate(args) => generate::run(&ctx, args),
        Command::Install(args) => install::run(&ctx, args),
        Command::Uninstall(args) => install::run_uninstall(&ctx, args),
        Command::Idp(command) => idp::run(&ctx, command).await,
        Command::Doctor(args) => doctor::run(&ctx, args).await,
    }
}

/// Writes data to stdout. A closed pipe (`mcpauth token x | head -c0`) is not an error.
pub fn print_stdout(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Error::Io {
            what: "cannot write to stdout".into(),
            source: e,
        }),
        _ => Ok(()),
    }
}
