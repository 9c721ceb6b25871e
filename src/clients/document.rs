//! A client config file as JSON that goes back to disk looking the way it came: same key
//! order (serde_json's `preserve_order`), same indentation, line endings, byte order mark
//! and final newline. Writes are atomic and keep the file's mode.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::{Map, Value};

use super::ClientError;

/// How the file was laid out, so that a rewrite changes only what was meant to change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Style {
    /// `None` for a file on one line.
    indent: Option<String>,
    crlf: bool,
    bom: bool,
    final_newline: bool,
}

#[derive(Debug)]
pub struct Document {
    /// The path as the user knows it.
    pub path: PathBuf,
    /// Where the bytes are: a symlinked config (dotfile managers do this) is written
    /// through, not replaced by a plain file.
    real_path: PathBuf,
    pub text: String,
    pub root: Map<String, Value>,
    /// `root` as read, for showing what changed.
    pub original: Map<String, Value>,
    style: Style,
}

impl Document {
    /// Reads and parses `path`. Anything but a JSON object is refused, and the file is
    /// not touched.
    pub fn read(path: &Path) -> Result<Option<Document>, ClientError> {
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
        let body = text.strip_prefix('\u{feff}').unwrap_or(&text);
        let root = match serde_json::from_str::<Value>(body) {
            Ok(Value::Object(root)) => root,
            Ok(_) => {
                return Err(ClientError::Shape {
                    path: path.to_path_buf(),
                    what: "the file is not a JSON object".into(),
                });
            }
            Err(e) => {
                // serde_json's syntax messages never quote the input; its position suffix
                // moves to the front, where editors look for it.
                let message = e.to_string();
                let suffix = format!(" at line {} column {}", e.line(), e.column());
                return Err(ClientError::Malformed {
                    path: path.to_path_buf(),
                    line: e.line(),
                    column: e.column(),
                    message: message.strip_suffix(&suffix).unwrap_or(&message).to_owned(),
                });
            }
        };
        let style = Style::of(&text);
        Ok(Some(Document {
            path: path.to_path_buf(),
            real_path,
            text,
            original: root.clone(),
            root,
            style,
        }))
    }

    /// The server table under `key`, created when missing.
    pub fn table_mut(&mut self, key: &str) -> Result<&mut Map<String, Value>, ClientError> {
        let path = self.path.clone();
        let table = self
            .root
            .entry(key)
            .or_insert_with(|| Value::Object(Map::new()));
        match table {
            Value::Object(table) => Ok(table),
            _ => Err(ClientError::Shape {
                path,
                what: format!("`{key}` is not an object"),
            }),
        }
    }

    /// The text the document would be written as.
    pub fn render(&self) -> String {
        self.render_root(&self.root)
    }

    /// Any document in this file's layout.
    pub fn render_root(&self, root: &Map<String, Value>) -> String {
        self.style.render(&Value::Object(root.clone()))
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

    /// The text to write once uninstall has put the entries back: the backup's own bytes
    /// when they say exactly the same, so that a round trip leaves the file as it was,
    /// layout and number spellings included; else the usual rendering.
    pub fn render_restored(&self) -> String {
        let same =
            crate::files::read_string_capped(&self.backup_path(), crate::files::CONFIG_LIMIT)
                .ok()
                .filter(|text| {
                    serde_json::from_str::<Map<String, Value>>(text).is_ok_and(|b| b == self.root)
                });
        same.unwrap_or_else(|| self.render())
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

impl Style {
    fn of(text: &str) -> Style {
        let body = text.strip_prefix('\u{feff}').unwrap_or(text);
        let trimmed = body.trim_end();
        let indent = if trimmed.contains('\n') {
            // The first indented line sets the unit; a file is rarely mixed.
            let found = trimmed
                .lines()
                .skip(1)
                .map(|l| &l[..l.len() - l.trim_start().len()])
                .find(|ws| !ws.is_empty() && !ws.contains('\r'));
            Some(found.unwrap_or("  ").to_owned())
        } else {
            None
        };
        Style {
            indent,
            crlf: body.contains("\r\n"),
            bom: text.starts_with('\u{feff}'),
            final_newline: body.ends_with('\n'),
        }
    }

    fn render(&self, value: &Value) -> String {
        let mut out = Vec::new();
        match &self.indent {
            Some(indent) => {
                let formatter = serde_json::ser::PrettyFormatter::with_indent(indent.as_bytes());
                let mut ser = serde_json::Serializer::with_formatter(&mut out, formatter);
                value
                    .serialize(&mut ser)
                    .expect("a Value always serializes");
            }
            None => serde_json::to_writer(&mut out, value).expect("a Value always serializes"),
        }
        let mut text = String::from_utf8(out).expect("serde_json writes UTF-8");
        if self.final_newline {
            text.push('\n');
        }
        if self.crlf {
            text = text.replace('\n', "\r\n");
        }
        if self.bom {
            text.insert(0, '\u{feff}');
        }
        text
    }
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

    fn round_trip(text: &str) -> String {
        let style = Style::of(text);
        let body = text.strip_prefix('\u{feff}').unwrap_or(text);
        style.render(&serde_json::from_str(body).unwrap())
    }

    #[test]
    fn layouts_survive_a_rewrite() {
        for text in [
            "{\n  \"a\": 1,\n  \"b\": {\n    \"c\": [\n      1\n    ]\n  }\n}\n",
            "{\n    \"z\": true,\n    \"a\": null\n}",
            "{\n\t\"mcpServers\": {\n\t\t\"x\": {}\n\t}\n}\n",
            "{\r\n  \"a\": \"\u{e9}\"\r\n}\r\n",
            "\u{feff}{\n  \"a\": 1\n}\n",
            "{\"a\":1,\"b\":[1,2]}",
        ] {
            assert_eq!(round_trip(text), text, "{text:?}");
        }
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
