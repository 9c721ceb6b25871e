//! The config files, where each one lives and how its server table is read.
//!
//! Files are read one at a time, in precedence order, only when the caller gets to them:
//! `find` stops at the first file that defines the name, so `~/.claude.json` (which holds
//! Claude Code's whole history and can run to megabytes) is not read at all when the name
//! is in the project's `.mcp.json`. When it is read, only its top level and the one
//! matching project are parsed into values; the rest is checked for syntax and skipped.

use std::io;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::dialect::Dialect;
use super::error::ConfigError;
use super::jsonc;
use super::paths::{self, UserFile};
use super::{Lookup, Source, SourceKind};

/// The sources in precedence order, when no `--config` file is given.
const ORDER: [SourceKind; 14] = [
    SourceKind::ProjectMcpJson,
    SourceKind::ClaudeCodeLocal,
    SourceKind::CursorProject,
    SourceKind::VsCodeProject,
    SourceKind::OpenCodeProject,
    SourceKind::ClaudeCodeUser,
    SourceKind::CursorUser,
    SourceKind::ClaudeDesktop,
    SourceKind::Codex,
    SourceKind::GeminiUser,
    SourceKind::WindsurfUser,
    SourceKind::OpenCodeUser,
    SourceKind::ZedUser,
    SourceKind::GooseUser,
];

/// The user-level files under home, and how each holds its servers.
fn user_source(kind: &SourceKind) -> Option<(UserFile, Key)> {
    Some(match kind {
        // Gemini CLI reads its settings with comments allowed.
        SourceKind::GeminiUser => (
            UserFile::Gemini,
            Key::Dialect("mcpServers", Dialect::McpServers),
        ),
        SourceKind::WindsurfUser => (UserFile::Windsurf, Key::McpServers),
        SourceKind::OpenCodeUser => (UserFile::OpenCode, Key::Dialect("mcp", Dialect::OpenCode)),
        SourceKind::ZedUser => (UserFile::Zed, Key::Dialect("context_servers", Dialect::Zed)),
        SourceKind::GooseUser => (UserFile::Goose, Key::Yaml("extensions", Dialect::Goose)),
        _ => return None,
    })
}

/// One file's servers, in file order.
pub(crate) struct Loaded {
    pub source: Source,
    pub servers: Map<String, Value>,
    /// Editor variables the file may use (`${workspaceFolder}`, `${userHome}`).
    pub predefined: Vec<(&'static str, String)>,
}

/// Reads sources on demand and remembers `~/.claude.json`, which feeds two of them.
pub(crate) struct Reader<'a> {
    lookup: &'a Lookup,
    env: &'a dyn Fn(&str) -> Option<String>,
    claude: Option<ClaudeServers>,
}

/// The two server tables of `~/.claude.json` that concern this directory.
struct ClaudeServers {
    path: PathBuf,
    local: Option<Map<String, Value>>,
    user: Option<Map<String, Value>>,
}

impl<'a> Reader<'a> {
    pub fn new(lookup: &'a Lookup, env: &'a dyn Fn(&str) -> Option<String>) -> Self {
        Self {
            lookup,
            env,
            claude: None,
        }
    }

    pub fn kinds(&self) -> Vec<SourceKind> {
        match self.lookup.config_file {
            Some(_) => vec![SourceKind::ExplicitFile],
            None => ORDER.to_vec(),
        }
    }

    /// The servers of one source; `None` when its file does not exist.
    pub fn load(&mut self, kind: &SourceKind) -> Result<Option<Loaded>, ConfigError> {
        let lookup = self.lookup;
        let home = lookup.home.as_deref();
        let user_home = || {
            home.map(|h| ("userHome", h.display().to_string()))
                .into_iter()
                .collect::<Vec<_>>()
        };
        let editor_vars = |dir: &Path| {
            let mut vars = vec![("workspaceFolder", dir.display().to_string())];
            vars.extend(user_home());
            vars
        };
        let (path, key, predefined) = match kind {
            SourceKind::ProjectMcpJson => match nearest(&lookup.cwd, ".mcp.json", None) {
                Some(path) => (path, Key::McpServers, Vec::new()),
                None => return Ok(None),
            },
            SourceKind::CursorProject => {
                // `~/.cursor/mcp.json` is the user file, not a project's, even when the
                // walk up from cwd passes through home.
                match nearest(&lookup.cwd, ".cursor/mcp.json", home) {
                    Some(path) => {
                        let vars = editor_vars(project_dir(&path));
                        (path, Key::McpServers, vars)
                    }
                    None => return Ok(None),
                }
            }
            SourceKind::VsCodeProject => match nearest(&lookup.cwd, ".vscode/mcp.json", None) {
                Some(path) => {
                    let vars = editor_vars(project_dir(&path));
                    (path, Key::Servers, vars)
                }
                None => return Ok(None),
            },
            SourceKind::CursorUser => match home {
                Some(home) => (home.join(".cursor/mcp.json"), Key::McpServers, user_home()),
                None => return Ok(None),
            },
            SourceKind::GeminiUser
            | SourceKind::WindsurfUser
            | SourceKind::OpenCodeUser
            | SourceKind::ZedUser
            | SourceKind::GooseUser => match (home, user_source(kind)) {
                (Some(home), Some((file, key))) => {
                    (paths::user_file(file, home, self.env), key, Vec::new())
                }
                _ => return Ok(None),
            },
            SourceKind::OpenCodeProject => match nearest(&lookup.cwd, "opencode.json", None) {
                Some(path) => (path, Key::Dialect("mcp", Dialect::OpenCode), Vec::new()),
                None => return Ok(None),
            },
            SourceKind::ClaudeDesktop => match home {
                Some(home) => (
                    paths::claude_desktop_config(home, self.env),
                    Key::McpServers,
                    Vec::new(),
                ),
                None => return Ok(None),
            },
            SourceKind::ExplicitFile => match &lookup.config_file {
                Some(path) => (path.clone(), Key::Either, Vec::new()),
                None => return Ok(None),
            },
            SourceKind::ClaudeCodeLocal | SourceKind::ClaudeCodeUser => {
                return self.load_claude(kind);
            }
            SourceKind::Codex => {
                let Some(path) = super::paths::codex_config(home, self.env) else {
                    return Ok(None);
                };
                let Some(text) = read(&path, false)? else {
                    return Ok(None);
                };
                let servers = super::codex::servers(&path, &text)?;
                return Ok(Some(Loaded {
                    source: Source {
                        kind: kind.clone(),
                        path,
                    },
                    servers,
                    predefined: Vec::new(),
                }));
            }
            SourceKind::CommandLine | SourceKind::SignedIn => return Ok(None),
        };
        let required = *kind == SourceKind::ExplicitFile;
        let Some(text) = read(&path, required)? else {
            return Ok(None);
        };
        // `--config` takes a Codex file too.
        let servers = if path.extension().is_some_and(|e| e == "toml") {
            super::codex::servers(&path, &text)?
        } else {
            server_table(&path, &text, key)?
        };
        Ok(Some(Loaded {
            source: Source {
                kind: kind.clone(),
                path,
            },
            servers,
            predefined,
        }))
    }

    fn load_claude(&mut self, kind: &SourceKind) -> Result<Option<Loaded>, ConfigError> {
        if self.claude.is_none() {
            let Some(path) = claude_json(self.lookup.home.as_deref(), self.env) else {
                return Ok(None);
            };
            let Some(text) = read(&path, false)? else {
                return Ok(None);
            };
            let (local, user) = claude_tables(&path, &text, &self.lookup.cwd)?;
            self.claude = Some(ClaudeServers { path, local, user });
        }
        let claude = self.claude.as_ref().expect("loaded above");
        let table = if *kind == SourceKind::ClaudeCodeLocal {
            &claude.local
        } else {
            &claude.user
        };
        Ok(table.as_ref().map(|servers| Loaded {
            source: Source {
                kind: kind.clone(),
                path: claude.path.clone(),
            },
            servers: servers.clone(),
            predefined: Vec::new(),
        }))
    }

    /// Where each source would be, in short form, for "no servers are configured" errors.
    pub fn looked_in(&self) -> Vec<String> {
        let lookup = self.lookup;
        let home = lookup.home.as_deref();
        self.kinds()
            .iter()
            .filter_map(|kind| match kind {
                SourceKind::ProjectMcpJson => Some("./.mcp.json (and parents)".to_owned()),
                SourceKind::CursorProject => Some("./.cursor/mcp.json (and parents)".to_owned()),
                SourceKind::VsCodeProject => Some("./.vscode/mcp.json (and parents)".to_owned()),
                SourceKind::ClaudeCodeLocal => None,
                SourceKind::ClaudeCodeUser => {
                    claude_json(home, self.env).map(|p| short_path(&p, lookup))
                }
                SourceKind::CursorUser => {
                    home.map(|h| short_path(&h.join(".cursor/mcp.json"), lookup))
                }
                SourceKind::GeminiUser
                | SourceKind::WindsurfUser
                | SourceKind::OpenCodeUser
                | SourceKind::ZedUser
                | SourceKind::GooseUser => {
                    let (file, _) = user_source(kind)?;
                    home.map(|h| short_path(&paths::user_file(file, h, self.env), lookup))
                }
                SourceKind::OpenCodeProject => Some("./opencode.json (and parents)".to_owned()),
                SourceKind::ClaudeDesktop => {
                    home.map(|h| short_path(&paths::claude_desktop_config(h, self.env), lookup))
                }
                SourceKind::ExplicitFile => {
                    lookup.config_file.as_deref().map(|p| short_path(p, lookup))
                }
                SourceKind::Codex => {
                    super::paths::codex_config(home, self.env).map(|p| short_path(&p, lookup))
                }
                SourceKind::CommandLine | SourceKind::SignedIn => None,
            })
            .collect()
    }
}

/// Where a source's servers are kept.
#[derive(Clone, Copy)]
enum Key {
    /// `mcpServers` (Claude Code, Cursor, Claude Desktop, Gemini CLI, Windsurf).
    McpServers,
    /// `servers` (VS Code); such files may have comments.
    Servers,
    /// A `--config` file: either key, and comments allowed.
    Either,
    /// A JSON file (comments allowed) whose table under this key is in a client's own
    /// dialect: opencode, Zed.
    Dialect(&'static str, Dialect),
    /// A YAML file, likewise: Goose.
    Yaml(&'static str, Dialect),
}

/// `dir/rel` in `start` or the nearest parent that has it, skipping `skip`. A path that
/// exists but cannot be inspected counts as found, so that reading it reports the problem.
pub(crate) fn nearest(start: &Path, rel: &str, skip: Option<&Path>) -> Option<PathBuf> {
    start
        .ancestors()
        .filter(|dir| Some(*dir) != skip)
        .map(|dir| dir.join(rel))
        .find(|path| match std::fs::metadata(path) {
            Ok(_) => true,
            Err(e) => !is_missing(&e),
        })
}

/// The project directory of `<dir>/.vscode/mcp.json` or `<dir>/.cursor/mcp.json`.
fn project_dir(path: &Path) -> &Path {
    path.parent()
        .and_then(Path::parent)
        .unwrap_or(Path::new("."))
}

fn is_missing(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
    )
}

/// The file's text; `None` when it does not exist and is not `required`.
fn read(path: &Path, required: bool) -> Result<Option<String>, ConfigError> {
    match crate::files::read_string_capped(path, crate::files::CONFIG_LIMIT) {
        Ok(text) => Ok(Some(text)),
        Err(e) if is_missing(&e) && !required => Ok(None),
        Err(source) => Err(ConfigError::Read {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// Claude Code's global file: `$CLAUDE_CONFIG_DIR/.claude.json` when that is set (Claude
/// Code moves the file with it), else `~/.claude.json`.
fn claude_json(home: Option<&Path>, env: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
    match env("CLAUDE_CONFIG_DIR").filter(|d| !d.is_empty()) {
        Some(dir) => Some(PathBuf::from(dir).join(".claude.json")),
        None => home.map(|h| h.join(".claude.json")),
    }
}

/// `./x` under cwd, `~/x` under home, else the path as is.
pub(crate) fn short_path(path: &Path, lookup: &Lookup) -> String {
    let home = lookup.home.as_deref();
    // Relative to the working directory only when that is a project: from `~` or from
    // above it, `~/.claude.json` reads better than `./.claude.json` or `./root/...`.
    let in_project = home.is_none_or(|h| {
        !path.starts_with(h)
            || lookup
                .cwd
                .strip_prefix(h)
                .is_ok_and(|r| !r.as_os_str().is_empty())
    });
    if let Ok(rel) = path.strip_prefix(&lookup.cwd)
        && in_project
    {
        return format!(".{}{}", std::path::MAIN_SEPARATOR, rel.display());
    }
    if let Some(rel) = lookup
        .home
        .as_deref()
        .and_then(|h| path.strip_prefix(h).ok())
    {
        return format!("~{}{}", std::path::MAIN_SEPARATOR, rel.display());
    }
    path.display().to_string()
}

fn malformed(path: &Path, e: &serde_json::Error) -> ConfigError {
    // serde_json appends " at line L column C" to its message; the position goes in front
    // instead, in the `file:line:col` form editors jump to.
    let message = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    let message = message.strip_suffix(&suffix).unwrap_or(&message).to_owned();
    ConfigError::Malformed {
        path: path.to_path_buf(),
        line: e.line(),
        column: e.column(),
        message,
    }
}

fn shape(path: &Path, what: impl Into<String>) -> ConfigError {
    ConfigError::Shape {
        path: path.to_path_buf(),
        what: what.into(),
    }
}

/// A BOM is not JSON, but Windows editors write one.
fn strip_bom(text: &str) -> &str {
    text.strip_prefix('\u{feff}').unwrap_or(text)
}

/// The whole file as a JSON object. Parsed as an untyped value on purpose: serde_json's
/// syntax errors never quote the input, while its type errors do, and the input may hold
/// a header with an API key.
fn parse_object(path: &Path, text: &str) -> Result<Map<String, Value>, ConfigError> {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(shape(path, "the file is not a JSON object")),
        Err(e) => Err(malformed(path, &e)),
    }
}

/// The languages client configs are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Plain JSON, as Claude Code, Claude Desktop, Cursor and Windsurf read it: a comment
    /// there is a mistake the client would trip over too.
    Json,
    /// JSON with comments and trailing commas, which VS Code, Zed, opencode and Gemini
    /// CLI allow.
    Jsonc,
    /// Codex's `config.toml`.
    Toml,
    /// Goose's `config.yaml`.
    Yaml,
}

/// A whole config file as a JSON object, whatever its language.
pub fn whole(path: &Path, text: &str, format: Format) -> Result<Map<String, Value>, ConfigError> {
    let text = strip_bom(text);
    match format {
        Format::Json => parse_object(path, text),
        Format::Jsonc => parse_object(path, &jsonc::blank_out(text)),
        Format::Yaml => parse_yaml(path, text),
        Format::Toml => match super::codex::to_json(super::codex::parse(path, text)?.as_item()) {
            Value::Object(root) => Ok(root),
            _ => Err(shape(path, "the file is not a table at the top")),
        },
    }
}

fn server_table(path: &Path, text: &str, key: Key) -> Result<Map<String, Value>, ConfigError> {
    let format = match key {
        Key::McpServers => Format::Json,
        Key::Yaml(..) => Format::Yaml,
        Key::Servers | Key::Either | Key::Dialect(..) => Format::Jsonc,
    };
    let mut doc = whole(path, text, format)?;
    let keys: &[&str] = match key {
        Key::McpServers => &["mcpServers"],
        Key::Servers => &["servers"],
        Key::Either => &["mcpServers", "servers"],
        Key::Dialect(key, dialect) | Key::Yaml(key, dialect) => {
            return in_dialect(path, doc.remove(key), dialect);
        }
    };
    let mut servers = Map::new();
    for key in keys {
        match doc.remove(*key) {
            None | Some(Value::Null) => {}
            Some(Value::Object(table)) => {
                for (name, entry) in table {
                    // With both keys in one file, the first one's entry stands.
                    servers.entry(name).or_insert(entry);
                }
            }
            Some(_) => return Err(shape(path, format!("`{key}` is not an object"))),
        }
    }
    Ok(servers)
}

/// Entry `name` of the record `mcpauth install` keeps (an `mcpServers` file), or `None`
/// when the record or the entry is gone.
pub(crate) fn recorded_entry(path: &Path, name: &str) -> Option<Value> {
    let text = read(path, false).ok()??;
    server_table(path, &text, Key::Either).ok()?.remove(name)
}

/// A client's own table, each entry read into the one shape; entries the client has
/// switched off, or that mcpauth could not reach, are left out.
fn in_dialect(
    path: &Path,
    table: Option<Value>,
    dialect: Dialect,
) -> Result<Map<String, Value>, ConfigError> {
    match table {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(table)) => Ok(table
            .into_iter()
            .filter_map(|(name, native)| Some((name, dialect.entry(&native)?)))
            .collect()),
        Some(_) => Err(shape(path, "the server table is not a map")),
    }
}

/// A YAML file as a JSON object. Its parser's messages can quote the input, so only the
/// position is told.
fn parse_yaml(path: &Path, text: &str) -> Result<Map<String, Value>, ConfigError> {
    match yaml_serde::from_str::<Value>(text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(Value::Null) => Ok(Map::new()),
        Ok(_) => Err(shape(path, "the file is not a map at the top")),
        Err(e) => {
            let (line, column) = e.location().map_or((1, 1), |l| (l.line(), l.column()));
            Err(ConfigError::Malformed {
                path: path.to_path_buf(),
                line,
                column,
                message: "not valid YAML".into(),
            })
        }
    }
}

#[derive(Deserialize)]
struct ClaudeTop<'a> {
    #[serde(rename = "mcpServers", borrow)]
    mcp_servers: Option<&'a RawValue>,
    #[serde(borrow, default)]
    projects: Projects<'a>,
}

#[derive(Deserialize)]
struct ClaudeProject<'a> {
    #[serde(rename = "mcpServers", borrow)]
    mcp_servers: Option<&'a RawValue>,
}

/// `projects`, read in the same pass as the rest of the file: directory keys with their
/// entries left as raw text, since only one entry (at most) is ever looked at.
#[derive(Default)]
struct Projects<'a>(Vec<(String, &'a RawValue)>);

impl<'de: 'a, 'a> Deserialize<'de> for Projects<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // The visitor yields `Projects<'de>`, which shortens to `Projects<'a>`.
        d.deserialize_any(ProjectsVisitor)
    }
}

struct ProjectsVisitor;

impl<'de> serde::de::Visitor<'de> for ProjectsVisitor {
    type Value = Projects<'de>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an object")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut projects = Vec::new();
        while let Some(entry) = map.next_entry::<String, &'de RawValue>()? {
            projects.push(entry);
        }
        Ok(Projects(projects))
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
        Ok(Projects::default())
    }

    // serde's default error for these quotes the string; it could be anything.
    fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Err(E::custom("`projects` is not an object"))
    }
}

/// The servers of the project that `cwd` belongs to and the user's servers, from
/// `~/.claude.json`. Everything else in the file is checked for syntax only.
type ClaudeTables = (Option<Map<String, Value>>, Option<Map<String, Value>>);

fn claude_tables(path: &Path, text: &str, cwd: &Path) -> Result<ClaudeTables, ConfigError> {
    let text = strip_bom(text);
    // The typed parse below would quote a non-object top level in its error; the untyped
    // one reports it without the content.
    if !starts_with_brace(text) {
        parse_object(path, text)?;
    }
    let top: ClaudeTop = serde_json::from_str(text).map_err(|e| malformed(path, &e))?;
    let user = servers_of(path, top.mcp_servers, "`mcpServers`")?;

    // The deepest directory with an entry wins: Claude Code keys projects by the
    // directory it was started in, and a subdirectory belongs to that project.
    let found = top
        .projects
        .0
        .iter()
        .filter_map(|(dir, raw)| {
            let depth = cwd.ancestors().position(|a| a == Path::new(dir))?;
            Some((depth, dir, *raw))
        })
        .min_by_key(|(depth, _, _)| *depth);
    let mut local = None;
    if let Some((_, dir, raw)) = found {
        let what = format!("`projects[\"{dir}\"]`");
        if !starts_with_brace(raw.get()) {
            return Err(shape(path, format!("{what} is not an object")));
        }
        let project: ClaudeProject =
            serde_json::from_str(raw.get()).map_err(|e| malformed(path, &e))?;
        local = servers_of(path, project.mcp_servers, &format!("{what}.mcpServers"))?;
    }
    Ok((local, user))
}

fn starts_with_brace(text: &str) -> bool {
    text.trim_start().starts_with('{')
}

fn servers_of(
    path: &Path,
    raw: Option<&RawValue>,
    what: &str,
) -> Result<Option<Map<String, Value>>, ConfigError> {
    let Some(raw) = raw.filter(|raw| raw.get() != "null") else {
        return Ok(None);
    };
    match serde_json::from_str::<Value>(raw.get()) {
        Ok(Value::Object(map)) => Ok(Some(map)),
        Ok(_) => Err(shape(path, format!("{what} is not an object"))),
        Err(e) => Err(malformed(path, &e)),
    }
}
