//! Where MCP servers come from: `.mcp.json` and the other MCP client configs people keep.
//!
//! CONTRACT (filled in by the config work; callers rely on these names):
//! - [`Lookup`] says where to look (cwd, home, an explicit `--config FILE`, the environment).
//! - [`find`] resolves a name (or an `http(s)://` URL) to one [`ServerEntry`].
//! - [`list`] returns every server from every source, for `status` and completion.
//! - [`ConfigError`] names the file, line and column of malformed JSON, lists the known
//!   names (with where they came from) for an unknown one, and never contains a header
//!   value (headers often hold secrets).

use std::collections::BTreeMap;
use std::path::PathBuf;

/// How the server is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// Streamable HTTP (`"type": "http"`, also `"streamable-http"`, or a `url` with no type).
    Http,
    /// Legacy HTTP+SSE (`"type": "sse"`).
    Sse,
    /// A local process (`command`): nothing for mcpauth to sign in to.
    Stdio,
}

/// Which config file a server came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceKind {
    /// `.mcp.json` in the current directory or the nearest parent (Claude Code, project).
    ProjectMcpJson,
    /// `~/.claude.json`, `projects[<dir>].mcpServers` (Claude Code, local scope).
    ClaudeCodeLocal,
    /// `~/.claude.json`, top-level `mcpServers` (Claude Code, user scope).
    ClaudeCodeUser,
    /// Claude Desktop's `claude_desktop_config.json`.
    ClaudeDesktop,
    /// `.cursor/mcp.json` in the project.
    CursorProject,
    /// `~/.cursor/mcp.json`.
    CursorUser,
    /// `.vscode/mcp.json` (key `servers`).
    VsCodeProject,
    /// The one file named by `--config`.
    ExplicitFile,
    /// A URL given on the command line instead of a name.
    CommandLine,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub kind: SourceKind,
    /// The file; empty for [`SourceKind::CommandLine`].
    pub path: PathBuf,
}

/// The `oauth` block of a Claude Code entry (all optional).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OauthSettings {
    pub client_id: Option<String>,
    pub callback_port: Option<u16>,
    pub auth_server_metadata_url: Option<String>,
    pub scopes: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerEntry {
    /// The config name; for a URL on the command line, the URL itself.
    pub name: String,
    pub source: Source,
    pub transport: Transport,
    /// Absolute http(s) URL after `${VAR}` expansion; `None` for stdio servers.
    pub url: Option<String>,
    /// Static headers after `${VAR}` expansion, in file order.
    pub headers: BTreeMap<String, String>,
    pub oauth: OauthSettings,
}

/// Where to look for configs.
#[derive(Debug, Clone)]
pub struct Lookup {
    pub cwd: PathBuf,
    /// The user's home directory (`~`); `None` when there is none.
    pub home: Option<PathBuf>,
    /// `--config FILE`: read this file only.
    pub config_file: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("todo")]
    Todo,
}
