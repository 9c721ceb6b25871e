//! Codex's `config.toml` (`$CODEX_HOME/config.toml`, by default `~/.codex/config.toml`):
//! its `[mcp_servers.NAME]` tables are read into the shape of the JSON configs' entries,
//! so that one parser ([`super::entry`]) decides what every entry means.
//!
//! What each table means is [`Dialect::Codex`]'s to say; this module only reads TOML.

use std::path::Path;

use serde_json::{Map, Value};
use toml_edit::{DocumentMut, Item};

use super::dialect::Dialect;
use super::error::ConfigError;

/// The server table of a Codex config, as JSON config entries.
pub(crate) fn servers(path: &Path, text: &str) -> Result<Map<String, Value>, ConfigError> {
    let doc = parse(path, text)?;
    let mut out = Map::new();
    for (name, native) in native_table(path, &doc)? {
        if let Some(entry) = Dialect::Codex.entry(&native) {
            out.insert(name, entry);
        }
    }
    Ok(out)
}

/// The file as a TOML document; a syntax error is named with its line and column.
pub(crate) fn parse(path: &Path, text: &str) -> Result<DocumentMut, ConfigError> {
    text.parse().map_err(|e: toml_edit::TomlError| {
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
    })
}

/// `[mcp_servers]` as Codex wrote it, each table as a JSON object.
pub(crate) fn native_table(
    path: &Path,
    doc: &DocumentMut,
) -> Result<Map<String, Value>, ConfigError> {
    let Some(table) = doc.get("mcp_servers").and_then(Item::as_table_like) else {
        return Ok(Map::new());
    };
    let mut out = Map::new();
    for (name, item) in table.iter() {
        match to_json(item) {
            Value::Object(server) => out.insert(name.to_owned(), Value::Object(server)),
            _ => {
                return Err(ConfigError::Shape {
                    path: path.to_path_buf(),
                    what: format!("server `{name}` is not a table"),
                });
            }
        };
    }
    Ok(out)
}

/// A TOML item as JSON: tables (standard, inline or dotted) become objects, dates their
/// TOML spelling.
pub(crate) fn to_json(item: &Item) -> Value {
    match item {
        Item::None => Value::Null,
        Item::Value(value) => value_to_json(value),
        Item::Table(table) => Value::Object(
            table
                .iter()
                .map(|(k, v)| (k.to_owned(), to_json(v)))
                .collect(),
        ),
        Item::ArrayOfTables(tables) => Value::Array(
            tables
                .iter()
                .map(|t| to_json(&Item::Table(t.clone())))
                .collect(),
        ),
    }
}

fn value_to_json(value: &toml_edit::Value) -> Value {
    use toml_edit::Value as V;
    match value {
        V::String(s) => Value::String(s.value().clone()),
        V::Integer(i) => Value::from(*i.value()),
        V::Float(f) => serde_json::Number::from_f64(*f.value()).map_or(Value::Null, Value::Number),
        V::Boolean(b) => Value::Bool(*b.value()),
        V::Datetime(d) => Value::String(d.value().to_string()),
        V::Array(a) => Value::Array(a.iter().map(value_to_json).collect()),
        V::InlineTable(t) => Value::Object(
            t.iter()
                .map(|(k, v)| (k.to_owned(), value_to_json(v)))
                .collect(),
        ),
    }
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
