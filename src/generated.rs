//! Shell completions and man pages, rendered from the clap definition in `crate::cli`.
//!
//! The committed copies under `completions/` and `man/` are produced here too (by the
//! hidden `mcpauth generate`), so what packagers ship, what `mcpauth man` writes and what
//! the staleness test compares are one rendering.

use std::io;

use clap::CommandFactory;
use clap_complete::Shell;

use crate::cli::Cli;

/// The command that rewrites the committed copies; named by the staleness test.
pub const REGENERATE: &str = "cargo run -- generate";

/// The shells `mcpauth completions` knows, with the file name each one's script is
/// committed under (the name the shell looks for when it loads completions lazily).
pub const SHELLS: [(Shell, &str); 5] = [
    (Shell::Bash, "mcpauth.bash"),
    (Shell::Zsh, "_mcpauth"),
    (Shell::Fish, "mcpauth.fish"),
    (Shell::PowerShell, "_mcpauth.ps1"),
    (Shell::Elvish, "mcpauth.elv"),
];

/// One shell's completion script.
pub fn completion(shell: Shell) -> Vec<u8> {
    let mut cmd = Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut cmd, "mcpauth", &mut out);
    out
}

/// Every completion script, as `(file name, contents)`.
pub fn completion_files() -> Vec<(&'static str, Vec<u8>)> {
    SHELLS
        .iter()
        .map(|&(shell, file)| (file, completion(shell)))
        .collect()
}

/// `mcpauth.1` and one page per visible subcommand (`mcpauth-login.1`, ...), as
/// `(file name, roff)`.
pub fn man_pages() -> io::Result<Vec<(String, Vec<u8>)>> {
    let mut cmd = Cli::command().disable_help_subcommand(true);
    // Building propagates the global options (`--config`, `--store`, `-v`) into every
    // subcommand and gives each one its `mcpauth-NAME` display name.
    cmd.build();
    let mut pages = vec![page(&cmd, true)?];
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        pages.push(page(sub, false)?);
    }
    Ok(pages)
}

fn page(cmd: &clap::Command, top: bool) -> io::Result<(String, Vec<u8>)> {
    let man = clap_mangen::Man::new(cmd.clone()).manual("mcpauth manual");
    let mut out = Vec::new();
    man.render_title(&mut out)?;
    man.render_name_section(&mut out)?;
    man.render_synopsis_section(&mut out)?;
    man.render_description_section(&mut out)?;
    if cmd.get_arguments().any(|a| !a.is_hide_set()) {
        man.render_options_section(&mut out)?;
    }
    if top {
        man.render_subcommands_section(&mut out)?;
    }
    // clap's `after_help` (the exit codes line of `--help`) is left out: the sections
    // below say the same thing at length.
    out.extend_from_slice(EXIT_STATUS.as_bytes());
    out.extend_from_slice(ENVIRONMENT.as_bytes());
    out.extend_from_slice(see_also(top).as_bytes());
    if top {
        man.render_version_section(&mut out)?;
    }
    Ok((man.get_filename(), out))
}

const EXIT_STATUS: &str = r#".SH "EXIT STATUS"
.TP
\fB0\fR
Success.
.TP
\fB1\fR
Failure: a network, server, store or config error. The message on standard error says
what failed and why.
.TP
\fB2\fR
Usage: the command line could not be understood.
.TP
\fB4\fR
Login required: there is no usable grant for the server, or the server no longer
accepts it. Run \fBmcpauth login\fR \fINAME\fR.
.TP
\fB130\fR
Interrupted, for example by Ctrl\-C while waiting for the browser.
"#;

const ENVIRONMENT: &str = r#".SH ENVIRONMENT
.TP
\fBMCPAUTH_HOME\fR
Keep all of mcpauth's own state (grant index, file store, locks) under this
directory instead of the platform's data directories. Secrets kept in the keychain
are filed under a service name that includes the directory.
.TP
\fBMCPAUTH_STORE\fR
Where to keep secrets: \fBkeyring\fR (the OS keychain) or \fBfile\fR (a file
readable only by you). The same as \fB\-\-store\fR.
.TP
\fBMCPAUTH_BROWSER\fR
A command to run with the authorization URL instead of opening the desktop's
browser: a program and its arguments, separated by spaces. Put a word with spaces
in quotes (\fB"C:\\Program Files\\Firefox\\firefox.exe" \-private\fR); a path to
a program needs none.
.TP
\fBMCPAUTH_LOG\fR
A log filter for diagnostics on standard error, for example \fBmcpauth=debug\fR.
Tokens and other secrets are never logged.
.TP
\fBNO_COLOR\fR
When set to a non\-empty value, no colour is used in any output.
"#;

/// The top page points at every subcommand page, where the details are; those point back.
fn see_also(top: bool) -> String {
    let refs: Vec<String> = if top {
        subcommand_names()
            .into_iter()
            .map(|n| format!(".BR mcpauth\\-{n} (1)"))
            .collect()
    } else {
        vec![".BR mcpauth (1)".to_owned()]
    };
    // `.BR` lines need commas between them; the last one has none.
    let last = refs.len() - 1;
    let body: Vec<String> = refs
        .into_iter()
        .enumerate()
        .map(|(i, r)| if i < last { format!("{r},") } else { r })
        .collect();
    format!(".SH \"SEE ALSO\"\n{}\n", body.join("\n"))
}

/// The visible subcommands, in definition order.
pub fn subcommand_names() -> Vec<String> {
    Cli::command()
        .get_subcommands()
        .filter(|s| !s.is_hide_set() && s.get_name() != "help")
        .map(|s| s.get_name().to_owned())
        .collect()
}
