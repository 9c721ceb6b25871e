//! Codex's `config.toml` (`$CODEX_HOME/config.toml`, by default `~/.codex/config.toml`):
//! its `[mcp_servers.NAME]` tables are read into the shape of the JSON configs' entries,
//! so that one parser ([`super::entry`]) decides what every entry means.
//!
//! What is read: `url`, `http_headers`, `bearer_token_env_var` (an `Authorization: Bearer
//! ${VAR}` header), `env_http_headers` (`${VAR}` headers), and for stdio servers
//! `command`, `args`, `env`. A table with `enabled = false` is left out. Everything else
//! belongs to Codex.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};
use toml_edit::{DocumentMut, Item, TableLike};

use super::error::ConfigError;

/// Where Codex keeps its config.
pub(crate) fn config_path(
    home: Option<&Path>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Option<PathBuf> {
    match env("CODEX_HOME").filter(|v| !v.is_empty()) {
        Some(dir) => Some(PathBuf::from(dir).join("config.toml")),
        None => home.map(|h| h.join(".codex").join("config.toml")),
    }
}

/// The server table of a Codex config, as JSON config entries.
pub(crate) fn servers(path: &Path, text: &str) -> Result<Map<String, Value>, ConfigError> {
    let doc: DocumentMut = text.parse().map_err(|e: toml_edit::TomlError| {
        let (line, column) = e
            .span()
            .map(|s| line_column(text, s.start))
            .unwrap_or((1, 1));
        ConfigError::Malformed {
            path: path.to_path_buf(),
            line,
            column,
            message: e.message().to_owned(),
        }
    })?;
    let Some(table) = doc.get("mcp_servers").and_then(Item::as_table_like) else {
        return Ok(Map::new());
    };
    let mut out = Map::new();
    for (name, item) in table.iter() {
        let Some(server) = item.as_table_like() else {
            return Err(ConfigError::Shape {
                path: path.to_path_buf(),
                what: format!("server `{name}` is not a table"),
            });
        };
        if server.get("enabled").and_then(Item::as_bool) == Some(false) {
            continue;
        }
        out.insert(name.to_owned(), Value::Object(entry(server)));
    }
    Ok(out)
}

fn entry(server: &dyn TableLike) -> Map<String, Value> {
    let text = |key: &str| server.get(key).and_then(Item::as_str).map(str::to_owned);
    let strings = |key: &str| -> Option<Map<String, Value>> {
        let t = server.get(key)?.as_table_like()?;
        Some(
            t.iter()
                .filter_map(|(k, v)| Some((k.to_owned(), Value::String(v.as_str()?.to_owned()))))
                .collect(),
        )
    };
    let mut e = Map::new();
    if let Some(url) = text("url") {
        e.insert("type".into(), "http".into());
        e.insert("url".into(), url.into());
        let mut headers = strings("http_headers").unwrap_or_default();
        for (header, var) in strings("env_http_headers").unwrap_or_default() {
            if let Some(var) = var.as_str() {
                headers.insert(header, format!("${{{var}}}").into());
            }
        }
        if let Some(var) = text("bearer_token_env_var") {
            headers.insert("Authorization".into(), format!("Bearer ${{{var}}}").into());
        }
        if !headers.is_empty() {
            e.insert("headers".into(), Value::Object(headers));
        }
    }
    if let Some(command) = text("command") {
        e.insert("command".into(), command.into());
        let args: Vec<Value> = server
            .get("args")
            .and_then(Item::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(|s| Value::String(s.to_owned())))
                    .collect()
            })
            .unwrap_or_default();
        e.insert("args".into(), Value::Array(args));
        if let Some(env) = strings("env") {
            e.insert("env".into(), Value::Object(env));
        }
    }
    e
}

/// 1-based line and column of a byte offset.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codex_tables_read_as_entries() {
        let text = r#"
model = "gpt-5"

[mcp_servers.notion]
url = "https://mcp.notion.com/mcp"
bearer_token_env_var = "NOTION_TOKEN"
http_headers = { "X-Team" = "core" }
env_http_headers = { "X-Key" = "KEY_VAR" }
startup_timeout_sec = 20

[mcp_servers.files]
command = "npx"
args = ["-y", "@modelcontextprotocol/server-filesystem", "."]
[mcp_servers.files.env]
LOG = "1"

[mcp_servers.off]
url = "https://off.example/mcp"
enabled = false
"#;
        let servers = servers(Path::new("config.toml"), text).unwrap();
        assert_eq!(
            Value::Object(servers),
            serde_json::json!({
                "notion": {"type": "http", "url": "https://mcp.notion.com/mcp", "headers": {
                    "X-Team": "core", "X-Key": "${KEY_VAR}",
                    "Authorization": "Bearer ${NOTION_TOKEN}"}},
                "files": {"command": "npx",
                          "args": ["-y", "@modelcontextprotocol/server-filesystem", "."],
                          "env": {"LOG": "1"}},
            })
        );
    }

    #[test]
    fn broken_toml_is_named_with_its_place() {
        let e = servers(
            Path::new("c.toml"),
            "[mcp_servers.a]\nurl = \"x\nnext = 1\n",
        )
        .unwrap_err();
        assert!(matches!(e, ConfigError::Malformed { line: 2, .. }), "{e:?}");
        let e = servers(Path::new("c.toml"), "mcp_servers = 3\n").unwrap();
        assert!(e.is_empty());
        let e = servers(Path::new("c.toml"), "[mcp_servers]\na = 1\n").unwrap_err();
        assert!(matches!(e, ConfigError::Shape { .. }), "{e:?}");
    }
}
