//! Editing MCP clients' config files so that they reach remote servers through mcpauth,
//! and putting them back.
//!
//! - [`locate`] says which file and which server table a client keeps, in which format
//!   and entry dialect, following the same places the config reader looks.
//! - [`document`] changes single entries of a JSON, TOML or YAML file and nothing else,
//!   writes it back atomically with its mode, and shows changes as a diff.
//! - [`sidecar`] keeps the entries that were replaced, per config file and name, in
//!   mcpauth's own data directory: a client rewriting its file cannot lose them there.
//! - [`plan`] decides, entry by entry, what install and uninstall change.

pub mod document;
pub mod plan;
pub mod sidecar;
mod splice;

use std::path::{Path, PathBuf};

use clap::ValueEnum as _;

use crate::cli::{ClientArg, ClientArgs, ScopeArg};
use crate::config::dialect::Dialect;
use crate::config::paths::{self, UserFile};
use crate::config::{Lookup, nearest};
use document::Format;

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
        "`{}`:{line}:{column}: cannot be read ({message}); mcpauth changes nothing in a file it cannot read",
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
    #[error(
        "server `{name}` in `{}` is switched off there, or is not a server mcpauth can reach (a built-in or an extension's)",
        path.display()
    )]
    Unreachable { name: String, path: PathBuf },
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
    /// `mcpServers`, `servers` (VS Code), `mcp_servers` (Codex), `mcp` (opencode),
    /// `context_servers` (Zed) or `extensions` (Goose).
    pub key: &'static str,
    pub format: Format,
    /// How the client spells an entry.
    pub dialect: Dialect,
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
            Self::Codex => "Codex",
            Self::Gemini => "Gemini CLI",
            Self::Opencode => "opencode",
            Self::Windsurf => "Windsurf",
            Self::Zed => "Zed",
            Self::Goose => "Goose",
        }
    }

    /// The word on the command line.
    pub fn word(self) -> String {
        self.to_possible_value()
            .map(|v| v.get_name().to_owned())
            .unwrap_or_default()
    }
}

/// The file `args` points at. Project files are searched from the working directory up,
/// as the clients (and mcpauth's config reader) do; user files sit under home, where the
/// config reader looks for them.
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
    if args.global && !matches!(client, ClientArg::Cursor | ClientArg::Opencode) {
        return Err(ClientError::Usage(
            "--global applies to cursor and opencode only".into(),
        ));
    }
    let home = || {
        lookup.home.clone().ok_or_else(|| {
            ClientError::Usage("there is no home directory to find the user's config in".into())
        })
    };
    let project = |rel: &str, skip: Option<&Path>| {
        nearest(&lookup.cwd, rel, skip).unwrap_or_else(|| lookup.cwd.join(rel))
    };
    let user = |file: UserFile| Ok::<_, ClientError>(paths::user_file(file, &home()?, env));
    let json = |path: PathBuf, key| (path, key, Format::Json, Dialect::McpServers);
    let jsonc = |path: PathBuf, key| (path, key, Format::Jsonc, Dialect::McpServers);
    let (path, key, format, dialect) = match client {
        ClientArg::ClaudeDesktop => json(paths::claude_desktop_config(&home()?, env), "mcpServers"),
        ClientArg::ClaudeCode if args.scope == ScopeArg::User => {
            let path = match env("CLAUDE_CONFIG_DIR").filter(|d| !d.is_empty()) {
                Some(dir) => PathBuf::from(dir).join(".claude.json"),
                None => home()?.join(".claude.json"),
            };
            json(path, "mcpServers")
        }
        ClientArg::ClaudeCode => json(project(".mcp.json", None), "mcpServers"),
        ClientArg::Cursor if args.global => json(home()?.join(".cursor/mcp.json"), "mcpServers"),
        ClientArg::Cursor => {
            // `~/.cursor/mcp.json` is the user's file, not a project's.
            let home = lookup.home.clone();
            json(project(".cursor/mcp.json", home.as_deref()), "mcpServers")
        }
        ClientArg::Vscode => jsonc(project(".vscode/mcp.json", None), "servers"),
        ClientArg::Gemini => jsonc(user(UserFile::Gemini)?, "mcpServers"),
        ClientArg::Windsurf => json(user(UserFile::Windsurf)?, "mcpServers"),
        ClientArg::Codex => {
            let path = paths::codex_config(Some(&home()?), env).expect("home is known");
            (path, "mcp_servers", Format::Toml, Dialect::Codex)
        }
        ClientArg::Opencode => {
            let path = if args.global {
                user(UserFile::OpenCode)?
            } else {
                project("opencode.json", None)
            };
            (path, "mcp", Format::Jsonc, Dialect::OpenCode)
        }
        ClientArg::Zed => (
            user(UserFile::Zed)?,
            "context_servers",
            Format::Jsonc,
            Dialect::Zed,
        ),
        ClientArg::Goose => (
            user(UserFile::Goose)?,
            "extensions",
            Format::Yaml,
            Dialect::Goose,
        ),
    };
    let shared = match client {
        ClientArg::ClaudeCode => args.scope != ScopeArg::User,
        ClientArg::Cursor | ClientArg::Opencode => !args.global,
        ClientArg::Vscode => true,
        _ => false,
    };
    Ok(Target {
        client,
        path,
        key,
        format,
        dialect,
        shared,
    })
}
