//! Editing MCP clients' config files so that they reach remote servers through mcpauth,
//! and putting them back.
//!
//! - [`locate`] says which file and which server table a client keeps (`mcpServers` or
//!   VS Code's `servers`), following the same places the config reader looks.
//! - [`document`] reads a file without losing what it holds (key order, indentation, line
//!   endings), writes it back atomically with its mode, and shows changes as a diff.
//! - [`sidecar`] keeps the entries that were replaced, per config file and name, in
//!   mcpauth's own data directory: a client rewriting its file cannot lose them there.
//! - [`plan`] decides, entry by entry, what install and uninstall change.

pub mod document;
pub mod plan;
pub mod sidecar;

use std::path::{Path, PathBuf};

use crate::cli::{ClientArg, ClientArgs, ScopeArg};
use crate::config::Lookup;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("cannot read `{}`", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "refusing to write `{}`: it is a symbolic link, and mcpauth writes through no link it did not make (remove it if it is not yours)",
        path.display()
    )]
    Symlink { path: PathBuf },
    #[error("cannot write `{}`", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The position only: the file may hold API keys, so no text of it is quoted.
    #[error(
        "`{}`:{line}:{column}: not plain JSON ({message}); mcpauth changes nothing in a file it cannot read back exactly (comments and trailing commas included)",
        path.display()
    )]
    Malformed {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("`{}`: {what}", path.display())]
    Shape { path: PathBuf, what: String },
    #[error("{client} keeps its servers in `{}`, which does not exist", path.display())]
    NoFile { client: &'static str, path: PathBuf },
    #[error("there is no server `{name}` in `{}`{}", path.display(), known_list(known))]
    UnknownServer {
        name: String,
        path: PathBuf,
        known: Vec<String>,
    },
    #[error("server `{name}` in `{}` runs locally over stdio; there is nothing to sign in to", path.display())]
    LocalServer { name: String, path: PathBuf },
    #[error("server `{name}` in `{}` was not installed by mcpauth", path.display())]
    NotInstalled { name: String, path: PathBuf },
    #[error("{0}")]
    Usage(String),
}

fn known_list(known: &[String]) -> String {
    if known.is_empty() {
        " (it has no servers)".to_owned()
    } else {
        format!(" (it has `{}`)", known.join("`, `"))
    }
}

impl From<ClientError> for crate::error::Error {
    fn from(e: ClientError) -> Self {
        match e {
            ClientError::Usage(message) => Self::Usage(message),
            ClientError::Read { path, source } => Self::Io {
                what: format!("cannot read `{}`", path.display()),
                source,
            },
            ClientError::Write { path, source } => Self::Io {
                what: format!("cannot write `{}`", path.display()),
                source,
            },
            other => Self::Other(other.to_string()),
        }
    }
}

/// One client config file and the key of its server table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub client: ClientArg,
    pub path: PathBuf,
    /// `mcpServers`, or `servers` for VS Code.
    pub key: &'static str,
    /// A project's file, which teams commit and share: what install writes there must not
    /// name anything that exists only on this machine.
    pub shared: bool,
}

impl ClientArg {
    pub fn label(self) -> &'static str {
        match self {
            Self::ClaudeDesktop => "Claude Desktop",
            Self::ClaudeCode => "Claude Code",
            Self::Cursor => "Cursor",
            Self::Vscode => "VS Code",
        }
    }
}

/// The file `args` points at. Project files are searched from the working directory up,
/// as the clients (and mcpauth's config reader) do; user files sit under home.
pub fn locate(
    args: &ClientArgs,
    lookup: &Lookup,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Target, ClientError> {
    let client = args.client;
    if args.scope == ScopeArg::User && client != ClientArg::ClaudeCode {
        return Err(ClientError::Usage(
            "--scope applies to claude-code only".into(),
        ));
    }
    if args.global && client != ClientArg::Cursor {
        return Err(ClientError::Usage("--global applies to cursor only".into()));
    }
    let home = || {
        lookup.home.clone().ok_or_else(|| {
            ClientError::Usage("there is no home directory to find the user's config in".into())
        })
    };
    let project = |rel: &str, skip: Option<&Path>| {
        nearest(&lookup.cwd, rel, skip).unwrap_or_else(|| lookup.cwd.join(rel))
    };
    let (path, key) = match client {
        ClientArg::ClaudeDesktop => (claude_desktop_config(&home()?, env), "mcpServers"),
        ClientArg::ClaudeCode if args.scope == ScopeArg::User => {
            let path = match env("CLAUDE_CONFIG_DIR").filter(|d| !d.is_empty()) {
                Some(dir) => PathBuf::from(dir).join(".claude.json"),
                None => home()?.join(".claude.json"),
            };
            (path, "mcpServers")
        }
        ClientArg::ClaudeCode => (project(".mcp.json", None), "mcpServers"),
        ClientArg::Cursor if args.global => (home()?.join(".cursor/mcp.json"), "mcpServers"),
        ClientArg::Cursor => {
            // `~/.cursor/mcp.json` is the user's file, not a project's.
            let home = lookup.home.clone();
            (project(".cursor/mcp.json", home.as_deref()), "mcpServers")
        }
        ClientArg::Vscode => (project(".vscode/mcp.json", None), "servers"),
    };
    let shared = match client {
        ClientArg::ClaudeDesktop => false,
        ClientArg::ClaudeCode => args.scope != ScopeArg::User,
        ClientArg::Cursor => !args.global,
        ClientArg::Vscode => true,
    };
    Ok(Target {
        client,
        path,
        key,
        shared,
    })
}

/// `dir/rel` in `start` or the nearest parent that has it, skipping the directory `skip`.
fn nearest(start: &Path, rel: &str, skip: Option<&Path>) -> Option<PathBuf> {
    start
        .ancestors()
        .filter(|dir| Some(*dir) != skip)
        .map(|dir| dir.join(rel))
        .find(|path| path.exists())
}

/// Claude Desktop's config for this OS. The config reader computes the same path; it is
/// private to that module, hence this copy.
fn claude_desktop_config(home: &Path, env: &dyn Fn(&str) -> Option<String>) -> PathBuf {
    if cfg!(target_os = "macos") {
        home.join("Library/Application Support/Claude/claude_desktop_config.json")
    } else if cfg!(windows) {
        env("APPDATA")
            .filter(|d| !d.is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(|| home.join("AppData").join("Roaming"))
            .join("Claude")
            .join("claude_desktop_config.json")
    } else {
        env("XDG_CONFIG_HOME")
            .map(PathBuf::from)
            .filter(|d| d.is_absolute())
            .unwrap_or_else(|| home.join(".config"))
            .join("Claude/claude_desktop_config.json")
    }
}
