//! A client config file whose server table can change entry by entry while every other
//! byte stays the file's own: comments, key order, number spellings, indentation, line
//! endings. JSON (with comments where the client allows them), Codex's TOML and Goose's
//! YAML. Writes are atomic and keep the file's mode.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::{Map, Value};

use super::ClientError;
pub use crate::config::Format;

#[derive(Debug)]
pub struct Document {
    /// The path as the user knows it.
    pub path: PathBuf,
    /// Where the bytes are: a symlinked config (dotfile managers do this) is written
    /// through, not replaced by a plain file.
    real_path: PathBuf,
    pub text: String,
    format: Format,
    /// The top-level key of the server table.
    key: &'static str,
    /// The whole file as JSON, to check every change against.
    whole: Map<String, Value>,
    /// The server table as read: each entry in the client's own spelling.
    pub table: Map<String, Value>,
}

impl Document {
    /// Reads and parses `path`. A file that is not a map at the top, or whose `key` is not
    /// a map, is refused, and the file is not touched.
    pub fn read(
        path: &Path,
        format: Format,
        key: &'static str,
    ) -> Result<Option<Document>, ClientError> {
        let text = match crate::files::read_string_capped(path, crate::files::CONFIG_LIMIT) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(ClientError::Read {
                    path: path.to_path_buf(),
                    source,
                });
            }
        };
        let real_path = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        let whole = parse(path, format, &text)?;
        let table = match whole.get(key) {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(table)) => table.clone(),
            Some(_) => {
                return Err(ClientError::Shape {
                    path: path.to_path_buf(),
                    what: format!("`{key}` is not a map"),
                });
            }
        };
        Ok(Some(Document {
            path: path.to_path_buf(),
            real_path,
            text,
            format,
            key,
            whole,
            table,
        }))
    }

    /// The file's text with the entries of `table` that differ from those read put in
    /// their place; every other byte is the file's own. The result is read back and must
    /// say exactly what was meant, or nothing is written.
    pub fn render(&self, table: &Map<String, Value>) -> Result<String, ClientError> {
        let changed: Vec<(&String, &Value)> = table
            .iter()
            .filter(|(name, value)| self.table.get(*name) != Some(*value))
            .collect();
        if changed.is_empty() && table.len() == self.table.len() {
            return Ok(self.text.clone());
        }
        let refuse = |name: &str| ClientError::Shape {
            path: self.path.clone(),
            what: format!(
                "mcpauth cannot change entry `{name}` here without touching the rest of the file; nothing was written (the entry can be changed by hand to `mcpauth proxy {name}`)"
            ),
        };
        if table.len() != self.table.len() {
            return Err(refuse(self.key));
        }
        let text = match self.format {
            Format::Json | Format::Jsonc => {
                let mut text = self.text.clone();
                for (name, value) in &changed {
                    let blank = crate::config::blank_comments(&text);
                    let span = super::splice::json_value(&blank, self.key, name)
                        .ok_or_else(|| refuse(name))?;
                    let rendered = json_at(&text, span.start, value);
                    text.replace_range(span, &rendered);
                }
                text
            }
            Format::Yaml => {
                let mut text = self.text.clone();
                for (name, value) in &changed {
                    let entry = super::splice::yaml_entry(&text, self.key, name)
                        .ok_or_else(|| refuse(name))?;
                    let rendered = yaml_entry(&text, &entry, value).ok_or_else(|| refuse(name))?;
                    text.replace_range(entry.lines, &rendered);
                }
                text
            }
            Format::Toml => toml_with(&self.path, &self.text, self.key, &changed)
                .ok_or_else(|| refuse(changed[0].0))?,
        };
        let mut expected = self.whole.clone();
        expected.insert(self.key.to_owned(), Value::Object(table.clone()));
        match parse(&self.path, self.format, &text) {
            Ok(read_back) if read_back == expected => Ok(text),
            _ => Err(refuse(changed[0].0)),
        }
    }

    /// Writes `text` in place of the file: a temporary file beside it with the same mode,
    /// flushed to disk, then renamed over it, so that a reader (or a crash) never sees
    /// half a config.
    pub fn write(&self, text: &str) -> Result<(), ClientError> {
        write_atomic(&self.real_path, text.as_bytes(), None)
    }

    fn backup_path(&self) -> PathBuf {
        let mut name = self.path.as_os_str().to_owned();
        name.push(".mcpauth-backup");
        PathBuf::from(name)
    }

    /// The text to write once uninstall has put the entries of `table` back: the
    /// backup's own bytes when they say exactly the same, so that a round trip leaves the
    /// file as it was, even entries the client had written on one line; else
    /// [`Self::render`].
    pub fn render_restored(&self, table: &Map<String, Value>) -> Result<String, ClientError> {
        let new = self.render(table)?;
        let same =
            crate::files::read_string_capped(&self.backup_path(), crate::files::CONFIG_LIMIT)
                .ok()
                .filter(|backup| {
                    let read = |text: &str| parse(&self.path, self.format, text).ok();
                    read(backup).is_some_and(|b| Some(b) == read(&new))
                });
        Ok(same.unwrap_or(new))
    }

    /// Copies the file to `<file>.mcpauth-backup` unless a backup is already there: the
    /// first backup is the one from before mcpauth ever touched the file. A link at that
    /// name is refused: in a cloned repository it may point anywhere, and following it
    /// would write the project's config there.
    pub fn backup(&self) -> Result<Option<PathBuf>, ClientError> {
        let backup = self.backup_path();
        let bytes = crate::files::read_capped(&self.real_path, crate::files::CONFIG_LIMIT)
            .map_err(|source| ClientError::Read {
                path: self.real_path.clone(),
                source,
            })?;
        // The config's permission bits: a 0600 config gets a 0600 backup.
        #[cfg(unix)]
        let mode = {
            use std::os::unix::fs::PermissionsExt;
            std::fs::metadata(&self.real_path)
                .ok()
                .map(|m| m.permissions().mode() & 0o7777)
        };
        #[cfg(not(unix))]
        let mode = None;
        let mut file = match create_new(&backup, mode) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                return match std::fs::symlink_metadata(&backup) {
                    Ok(meta) if meta.file_type().is_symlink() => {
                        Err(ClientError::Symlink { path: backup })
                    }
                    _ => Ok(None),
                };
            }
            Err(source) => {
                return Err(ClientError::Write {
                    path: backup,
                    source,
                });
            }
        };
        file.write_all(&bytes)
            .and_then(|()| file.sync_all())
            .map_err(|source| ClientError::Write {
                path: backup.clone(),
                source,
            })?;
        Ok(Some(backup))
    }
}

/// Creates a file that must not exist yet, with `mode` from the first moment. `O_EXCL`
/// also means a link at `path`, even a dangling one, is never followed.
fn create_new(path: &Path, mode: Option<u32>) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    if let Some(mode) = mode {
        // Created with the final mode, so a private file is never readable by others,
        // not even for a moment.
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(mode);
    }
    let file = options.open(path)?;
    #[cfg(unix)]
    if let Some(mode) = mode {
        // The umask trimmed the mode at creation; set it exactly.
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(mode))?;
    }
    #[cfg(not(unix))]
    let _ = mode;
    Ok(file)
}

/// Writes `bytes` to `path` through a temporary file and a rename. The mode is `mode`, or
/// else the existing file's, or else the default for new files. Neither step follows a
/// link planted in the directory: the temporary file is created new, and the rename
/// replaces whatever is at `path` rather than writing through it.
pub fn write_atomic(path: &Path, bytes: &[u8], mode: Option<u32>) -> Result<(), ClientError> {
    let err = |source| ClientError::Write {
        path: path.to_path_buf(),
        source,
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
    let tmp = dir.join(format!(
        ".{}.mcpauth-{}.tmp",
        name.unwrap_or_default(),
        std::process::id()
    ));
    #[cfg(unix)]
    let mode = {
        use std::os::unix::fs::PermissionsExt;
        mode.or_else(|| {
            std::fs::metadata(path)
                .ok()
                .map(|m| m.permissions().mode() & 0o7777)
        })
    };
    let result = (|| {
        let mut file = create_new(&tmp, mode)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(err)
}

/// The whole file as JSON: what every rewrite is checked against.
fn parse(path: &Path, format: Format, text: &str) -> Result<Map<String, Value>, ClientError> {
    crate::config::whole(path, text, format).map_err(|e| match e {
        crate::config::ConfigError::Malformed {
            line,
            column,
            message,
            ..
        } => ClientError::Malformed {
            path: path.to_path_buf(),
            line,
            column,
            message,
        },
        crate::config::ConfigError::Shape { what, .. } => ClientError::Shape {
            path: path.to_path_buf(),
            what,
        },
        // `whole` only reads text and says what is wrong with it.
        other => ClientError::Usage(other.to_string()),
    })
}

/// `value` as JSON to stand at byte `at` of `text`: on one line in a file written on one
/// line, else indented as the file is, continuing at the indentation of the line it
/// starts on, with the file's line endings.
fn json_at(text: &str, at: usize, value: &Value) -> String {
    let body = text.strip_prefix('\u{feff}').unwrap_or(text);
    if !body.trim_end().contains('\n') {
        return serde_json::to_string(value).expect("a Value always serializes");
    }
    // The first indented line sets the unit; a file is rarely mixed.
    let unit = body
        .lines()
        .skip(1)
        .map(|l| &l[..l.len() - l.trim_start().len()])
        .find(|ws| !ws.is_empty() && !ws.contains('\r'))
        .unwrap_or("  ");
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let line = &text[line_start..at];
    let base = &line[..line.len() - line.trim_start().len()];
    let mut out = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(unit.as_bytes());
    let mut ser = serde_json::Serializer::with_formatter(&mut out, formatter);
    value
        .serialize(&mut ser)
        .expect("a Value always serializes");
    let newline = if body.contains("\r\n") { "\r\n" } else { "\n" };
    String::from_utf8(out)
        .expect("serde_json writes UTF-8")
        .replace('\n', &format!("{newline}{base}"))
}

/// The lines of a YAML mapping entry `KEY:` holding `value` in block style, at the
/// entry's indentation.
fn yaml_entry(text: &str, entry: &super::splice::YamlEntry, value: &Value) -> Option<String> {
    let newline = if text.contains("\r\n") { "\r\n" } else { "\n" };
    let pad = " ".repeat(entry.indent);
    let body = yaml_serde::to_string(value).ok()?;
    let mut out = format!("{pad}{}:{newline}", entry.key);
    for line in body.lines() {
        out.push_str(&format!("{pad}  {line}{newline}"));
    }
    Some(out)
}

/// The TOML text with the tables of `changed` in place of those under `key`: a table
/// keeps its place in the file and the comments above it.
fn toml_with(path: &Path, text: &str, key: &str, changed: &[(&String, &Value)]) -> Option<String> {
    use toml_edit::{Item, Table};
    let mut doc = crate::config::codex::parse(path, text).ok()?;
    let servers = doc.get_mut(key)?.as_table_like_mut()?;
    for (name, value) in changed {
        let Value::Object(entry) = value else {
            return None;
        };
        let old = servers.get(name)?;
        let mut table = Table::new();
        for (k, v) in entry {
            table.insert(k, Item::Value(toml_value(v)?));
        }
        let new = match old {
            Item::Table(old) => {
                table.set_position(old.position());
                *table.decor_mut() = old.decor().clone();
                Item::Table(table)
            }
            _ => Item::Value(toml_edit::Value::InlineTable(table.into_inline_table())),
        };
        servers.insert(name, new);
    }
    Some(doc.to_string())
}

fn toml_value(value: &Value) -> Option<toml_edit::Value> {
    Some(match value {
        Value::String(s) => s.as_str().into(),
        Value::Bool(b) => (*b).into(),
        Value::Number(n) => match n.as_i64() {
            Some(i) => i.into(),
            None => n.as_f64()?.into(),
        },
        Value::Array(items) => {
            toml_edit::Value::Array(items.iter().map(toml_value).collect::<Option<_>>()?)
        }
        Value::Object(map) => {
            let mut table = toml_edit::InlineTable::new();
            for (k, v) in map {
                table.insert(k, toml_value(v)?);
            }
            toml_edit::Value::InlineTable(table)
        }
        Value::Null => return None,
    })
}

/// A unified diff of two texts, for `--dry-run`.
pub fn diff(path: &Path, old: &str, new: &str) -> String {
    let name = path.display().to_string();
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(&name, &name)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(format: Format, key: &'static str, text: &str) -> (tempfile::TempDir, Document) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        std::fs::write(&path, text).unwrap();
        let doc = Document::read(&path, format, key).unwrap().unwrap();
        (dir, doc)
    }

    /// `name` changed to `{"command": "mcpauth"}`, then back.
    fn swap(format: Format, key: &'static str, text: &str, name: &str) -> String {
        let (_dir, d) = doc(format, key, text);
        let mut table = d.table.clone();
        table.insert(name.to_owned(), serde_json::json!({"command": "mcpauth"}));
        let changed = d.render(&table).unwrap();
        let (_dir, d) = doc(format, key, &changed);
        assert_eq!(
            d.render(&d.table).unwrap(),
            changed,
            "nothing changed, nothing moves"
        );
        changed
    }

    #[test]
    fn json_changes_only_the_entry_and_keeps_comments_and_layout() {
        let text = "// Zed settings\n{\n\t\"theme\": 2.50, // mine\n\t\"context_servers\": {\n\t\t\"a\": {\"url\": \"https://a/\"},\n\t\t\"b\": {\"command\": \"x\",},\n\t},\n}\n";
        let out = swap(Format::Jsonc, "context_servers", text, "a");
        assert_eq!(
            out,
            "// Zed settings\n{\n\t\"theme\": 2.50, // mine\n\t\"context_servers\": {\n\t\t\"a\": {\n\t\t\t\"command\": \"mcpauth\"\n\t\t},\n\t\t\"b\": {\"command\": \"x\",},\n\t},\n}\n"
        );
        let out = swap(
            Format::Json,
            "mcpServers",
            "{\"mcpServers\":{\"a\":{\"url\":\"u\"}}}",
            "a",
        );
        assert_eq!(out, "{\"mcpServers\":{\"a\":{\"command\":\"mcpauth\"}}}");
        let crlf =
            "\u{feff}{\r\n  \"mcpServers\": {\r\n    \"a\": {\"url\": \"u\"}\r\n  }\r\n}\r\n";
        let out = swap(Format::Json, "mcpServers", crlf, "a");
        assert_eq!(
            out,
            "\u{feff}{\r\n  \"mcpServers\": {\r\n    \"a\": {\r\n      \"command\": \"mcpauth\"\r\n    }\r\n  }\r\n}\r\n"
        );
    }

    #[test]
    fn toml_keeps_the_tables_place_and_comments() {
        let text = "model = \"x\"\n\n# notion, for work\n[mcp_servers.notion]\nurl = \"https://n/\"\n\n[mcp_servers.files]\ncommand = \"npx\"\n\n[profiles.a]\nmodel = \"y\"\n";
        let out = swap(Format::Toml, "mcp_servers", text, "notion");
        assert_eq!(
            out,
            "model = \"x\"\n\n# notion, for work\n[mcp_servers.notion]\ncommand = \"mcpauth\"\n\n[mcp_servers.files]\ncommand = \"npx\"\n\n[profiles.a]\nmodel = \"y\"\n"
        );
    }

    #[test]
    fn yaml_replaces_the_entry_block() {
        let text = "GOOSE_MODEL: x\nextensions:\n  a:\n    type: sse\n    uri: https://a/\n  b:\n    type: builtin\n";
        let out = swap(Format::Yaml, "extensions", text, "a");
        assert_eq!(
            out,
            "GOOSE_MODEL: x\nextensions:\n  a:\n    command: mcpauth\n  b:\n    type: builtin\n"
        );
    }

    #[test]
    fn a_change_that_would_not_read_back_is_refused() {
        // A key the finder cannot see (here: only in a flow mapping) is not guessed at.
        let (_dir, d) = doc(Format::Yaml, "extensions", "extensions: {a: {type: sse}}\n");
        let mut table = d.table.clone();
        table.insert("a".into(), serde_json::json!({"command": "mcpauth"}));
        let e = d.render(&table).unwrap_err();
        assert!(e.to_string().contains("nothing was written"), "{e}");
    }

    #[test]
    fn diff_shows_only_the_change() {
        let d = diff(
            Path::new("f.json"),
            "{\n  \"a\": 1\n}\n",
            "{\n  \"a\": 2\n}\n",
        );
        assert!(d.contains("-  \"a\": 1\n+  \"a\": 2\n"), "{d}");
        assert!(d.starts_with("--- f.json\n+++ f.json\n"), "{d}");
    }
}
