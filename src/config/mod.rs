//! Where MCP servers come from: `.mcp.json` and the other MCP client configs people keep.
//!
//! CONTRACT (filled in by the config work; callers rely on these names):
//! - [`Lookup`] says where to look (cwd, home, an explicit `--config FILE`, the environment).
//! - [`find`] resolves a name (or an `http(s)://` URL) to one [`ServerEntry`].
//! - [`list`] returns every server from every source, for `status` and completion.
//! - [`ConfigError`] names the file, line and column of malformed JSON, lists the known
//!   names (with where they came from) for an unknown one, and never contains a header
//!   value (headers often hold secrets).

pub(crate) mod codex;
pub mod dialect;
mod entry;
mod error;
mod expand;
mod jsonc;
pub mod paths;
mod sources;

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

pub use error::{ConfigError, UnknownServer};
use sources::Reader;
pub(crate) use sources::nearest;
pub use sources::{Format, whole};

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
    /// Codex's `config.toml` (`$CODEX_HOME`, by default `~/.codex`), `[mcp_servers.*]`.
    Codex,
    /// Gemini CLI's `~/.gemini/settings.json` (`mcpServers`, `httpUrl` or `url`).
    GeminiUser,
    /// Windsurf's `~/.codeium/windsurf/mcp_config.json` (`mcpServers`, `serverUrl`).
    WindsurfUser,
    /// opencode's `opencode.json` in the project or a parent (`mcp`).
    OpenCodeProject,
    /// opencode's `~/.config/opencode/opencode.json`.
    OpenCodeUser,
    /// Zed's `~/.config/zed/settings.json` (`context_servers`).
    ZedUser,
    /// Goose's `~/.config/goose/config.yaml` (`extensions`).
    GooseUser,
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
    /// No config defines the name, but a grant was signed in (or imported) under it: the
    /// path is mcpauth's index.
    SignedIn,
}

impl SourceKind {
    /// A file that lives in a project and comes with it from a repository anyone can
    /// commit to: what it says about where to sign in is not the person's own choice.
    pub fn is_project_file(&self) -> bool {
        matches!(
            self,
            SourceKind::ProjectMcpJson
                | SourceKind::CursorProject
                | SourceKind::VsCodeProject
                | SourceKind::OpenCodeProject
        )
    }
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
    /// An http(s) URL, or a local file (a path relative to the config's directory is made
    /// absolute when the entry is read).
    pub auth_server_metadata_url: Option<String>,
    pub scopes: Option<Vec<String>>,
    /// Endpoints given by hand, for providers that publish no metadata (GitHub) and
    /// gateways: `authorizationUrl` and `tokenUrl` go together.
    pub authorization_url: Option<String>,
    pub token_url: Option<String>,
    pub revocation_url: Option<String>,
    /// `oauth.provider`: the provider's quirks to allow for, when its issuer does not
    /// tell (see [`crate::oauth::profile`]).
    pub provider: Option<crate::oauth::profile::Provider>,
    /// `oauth.resource: false`: never send the RFC 8707 `resource` parameter.
    pub resource: Option<bool>,
    /// `oauth.params`: extra parameters for the authorization request and refreshes, as
    /// `--auth-param` gives them.
    pub params: BTreeMap<String, String>,
}

#[derive(Clone, PartialEq, Eq)]
pub struct ServerEntry {
    /// The config name; for a URL on the command line, the URL itself.
    pub name: String,
    pub source: Source,
    pub transport: Transport,
    /// Absolute http(s) URL after `${VAR}` expansion; `None` for stdio servers.
    pub url: Option<String>,
    /// Static headers after `${VAR}` expansion (HTTP header order carries no meaning).
    pub headers: BTreeMap<String, String>,
    pub oauth: OauthSettings,
    /// For an entry that runs `mcp-remote URL`: its arguments as written, before any
    /// expansion (mcp-remote names its token files after them).
    pub mcp_remote: Option<McpRemoteArgs>,
}

/// The URL and `--header` values of an `mcp-remote` command line, unexpanded.
#[derive(Clone, PartialEq, Eq)]
pub struct McpRemoteArgs {
    pub url: String,
    pub headers: BTreeMap<String, String>,
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

impl ServerEntry {
    /// The configured `Authorization` header's name as written, when the entry has one: a
    /// server that brings its own credential (a personal access token, an API key as a
    /// bearer) and is not mcpauth's to sign in to.
    pub fn static_authorization(&self) -> Option<&str> {
        self.headers
            .keys()
            .find(|k| k.eq_ignore_ascii_case("authorization"))
            .map(String::as_str)
    }

    /// Where the entry came from, short: `./.mcp.json`, `~/.claude.json`.
    pub fn origin(&self, lookup: &Lookup) -> String {
        match self.source.kind {
            SourceKind::CommandLine => "the command line".to_owned(),
            _ => origin_label(&self.source, lookup),
        }
    }

    /// The server's URL, or an error for a stdio server: it runs on this machine and has
    /// nothing to sign in to.
    pub fn remote_url(&self) -> Result<&str, ConfigError> {
        self.url.as_deref().ok_or_else(|| ConfigError::LocalServer {
            name: self.name.clone(),
            path: self.source.path.clone(),
        })
    }
}

/// Header values are left out of `Debug`: they are where API keys live, and entries get
/// logged.
struct HeaderNames<'a>(&'a BTreeMap<String, String>);

impl fmt::Debug for HeaderNames<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.0.keys().map(|k| (k, format_args!("(redacted)"))))
            .finish()
    }
}

impl fmt::Debug for McpRemoteArgs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("McpRemoteArgs")
            .field("url", &self.url)
            .field("headers", &HeaderNames(&self.headers))
            .finish()
    }
}

impl fmt::Debug for ServerEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerEntry")
            .field("name", &self.name)
            .field("source", &self.source)
            .field("transport", &self.transport)
            .field("url", &self.url)
            .field("headers", &HeaderNames(&self.headers))
            .field("oauth", &self.oauth)
            .field("mcp_remote", &self.mcp_remote)
            .finish()
    }
}

impl Lookup {
    /// Where this process runs: its working directory and the user's home (from the
    /// platform, falling back to `HOME`).
    pub fn from_env(config_file: Option<PathBuf>) -> Lookup {
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
        let home = directories::BaseDirs::new()
            .map(|dirs| dirs.home_dir().to_path_buf())
            .or_else(|| {
                std::env::var_os("HOME")
                    .filter(|h| !h.is_empty())
                    .map(PathBuf::from)
            });
        Lookup {
            cwd,
            home,
            config_file,
        }
    }
}

/// Resolves `target`, a server name or an `http(s)://` URL, to one server.
///
/// A URL is taken as is (an entry from [`SourceKind::CommandLine`]), without reading any
/// config. A name is looked up source by source in precedence order, reading each file
/// only when the earlier ones do not define it; only the matching entry is interpreted,
/// so a broken entry elsewhere in the same file does not stand in the way.
pub fn find(
    target: &str,
    lookup: &Lookup,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<ServerEntry, ConfigError> {
    if is_url(target) {
        entry::check_url(target, || "the URL on the command line".to_owned())?;
        return Ok(ServerEntry {
            name: target.to_owned(),
            source: Source {
                kind: SourceKind::CommandLine,
                path: PathBuf::new(),
            },
            transport: Transport::Http,
            url: Some(target.to_owned()),
            headers: BTreeMap::new(),
            oauth: OauthSettings::default(),
            mcp_remote: None,
        });
    }
    let mut reader = Reader::new(lookup, env);
    let mut known: Vec<(String, String)> = Vec::new();
    for kind in reader.kinds() {
        let Some(loaded) = reader.load(&kind)? else {
            continue;
        };
        if let Some(value) = loaded.servers.get(target) {
            let cx = entry::Context {
                source: &loaded.source,
                env,
                predefined: &loaded.predefined,
            };
            return entry::parse(target, value, &cx);
        }
        let from = origin_label(&loaded.source, lookup);
        for name in loaded.servers.keys() {
            if !known.iter().any(|(n, _)| n == name) {
                known.push((name.clone(), from.clone()));
            }
        }
    }
    Err(ConfigError::UnknownServer(UnknownServer::new(
        target,
        known,
        reader.looked_in(),
    )))
}

/// Every server of every source, in precedence order. A name defined in several sources
/// appears once, from the source that wins; the losing definitions are not interpreted.
pub fn list(lookup: &Lookup, env: &dyn Fn(&str) -> Option<String>) -> Listing {
    let mut reader = Reader::new(lookup, env);
    let mut listing = Listing::default();
    // Names already taken, by an entry or by a broken one: as with `find`, the first
    // file that names a server decides what the name means.
    let mut seen = std::collections::HashSet::new();
    for kind in reader.kinds() {
        let loaded = match reader.load(&kind) {
            Ok(Some(loaded)) => loaded,
            Ok(None) => continue,
            Err(e) => {
                // Two sources can live in one file (Claude Code's `~/.claude.json`).
                let text = e.to_string();
                if !listing.problems.iter().any(|p| p.to_string() == text) {
                    listing.problems.push(e);
                }
                continue;
            }
        };
        let cx = entry::Context {
            source: &loaded.source,
            env,
            predefined: &loaded.predefined,
        };
        for (name, value) in &loaded.servers {
            if !seen.insert(name.clone()) {
                continue;
            }
            match entry::parse(name, value, &cx) {
                Ok(entry) => listing.entries.push(entry),
                Err(e) => listing.problems.push(e),
            }
        }
    }
    listing
}

/// What the configs hold: every entry that reads, and what kept the others (a file that
/// does not parse, an entry with an unset `${VAR}`) from reading. One broken entry hides
/// nothing else.
#[derive(Debug, Default)]
pub struct Listing {
    pub entries: Vec<ServerEntry>,
    pub problems: Vec<ConfigError>,
}

/// `text` with JSON comments and trailing commas blanked out, every other byte in place.
pub(crate) fn blank_comments(text: &str) -> std::borrow::Cow<'_, str> {
    jsonc::blank_out(text)
}

/// Whether a command-line target (or a name, or a pinned location) is an http(s) URL.
pub(crate) fn is_url(target: &str) -> bool {
    let head = target.get(..8).unwrap_or(target).to_ascii_lowercase();
    head.starts_with("http://") || head.starts_with("https://")
}

/// Where a server came from, short enough for a list: `./.mcp.json`, `~/.claude.json`.
fn origin_label(source: &Source, lookup: &Lookup) -> String {
    let path = sources::short_path(&source.path, lookup);
    match source.kind {
        SourceKind::ClaudeCodeLocal => format!("{path}, this project"),
        _ => path,
    }
}

#[cfg(test)]
mod tests;
