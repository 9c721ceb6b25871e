//! mcpauth: sign in to OAuth-protected MCP servers, keep the grants in the OS keychain,
//! and bridge those servers to stdio MCP clients.

pub mod bundle;
pub mod cli;
pub mod clients;
pub mod clock;
pub mod commands;
pub mod config;
pub mod context;
pub mod error;
pub mod escape;
pub mod files;
pub mod generated;
pub mod grants;
pub mod home;
pub mod migrate;
pub mod oauth;
pub mod proxy;
pub mod redact;
pub mod secret;
pub mod signin;
pub mod store;
pub mod trust;

#[cfg(test)]
mod props;

use std::process::ExitCode;

use clap::Parser;

/// Parses the command line, runs the command, renders any error, and gives the exit code.
pub fn main() -> ExitCode {
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() {
                error::exit::USAGE
            } else {
                error::exit::OK
            });
        }
    };
    init_logging(cli.global.verbose);
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("mcpauth: error: cannot start: {e}");
            return ExitCode::from(error::exit::FAILURE);
        }
    };
    let result = runtime.block_on(commands::run(cli));
    // A read of stdin on the blocking pool cannot be cancelled (on Windows it is always
    // there, on Unix when stdin is a terminal): dropping the runtime would wait for the
    // host to close stdin, though the proxy was told to stop. Other blocking work (a
    // keychain call that outlived its timeout) gets a moment to finish.
    runtime.shutdown_timeout(std::time::Duration::from_secs(2));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprint!("{}", e.render());
            ExitCode::from(e.exit_code())
        }
    }
}

/// Diagnostics go to stderr, only when asked for with `-v` or `MCPAUTH_LOG`.
fn init_logging(verbose: u8) {
    let from_env = std::env::var("MCPAUTH_LOG").ok().filter(|v| !v.is_empty());
    let filter = match (from_env, verbose) {
        (Some(f), _) => f,
        (None, 0) => return,
        (None, 1) => "mcpauth=debug".to_owned(),
        (None, _) => "mcpauth=trace,info".to_owned(),
    };
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_target(false)
        .with_ansi(colour_on_stderr())
        .try_init();
}

/// Colour in log lines only on a terminal, and never with `NO_COLOR` set
/// (<https://no-color.org>): MCP clients write a server's stderr to log files, where
/// escape codes are noise.
fn colour_on_stderr() -> bool {
    use std::io::IsTerminal;
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}
