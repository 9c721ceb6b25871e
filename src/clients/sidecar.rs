//! What `mcpauth install` replaced, kept outside the client's file: one small JSON file per
//! client config under `<data dir>/clients/`, keyed by the config's real path.
//!
//! The file is itself a valid MCP config (`mcpServers` holds the original entries), so the
//! installed entry runs `mcpauth --config <this file> proxy NAME` and the proxy finds the
//! server's URL, headers and OAuth settings exactly as they were written. Entries can hold
//! API keys in headers, so the file is private (0600 in a 0700 directory).

use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::ClientError;
use super::document::write_atomic;

#[derive(Debug)]
pub struct Sidecar {
    /// This file.
    pub path: PathBuf,
    /// The client config it belongs to.
    pub config: PathBuf,
    /// Name → the entry as it was before install, in the shape mcpauth reads, so that
    /// `--config <this file>` finds the server.
    pub originals: Map<String, Value>,
    /// Name → the same entry in the client's own spelling, where that differs (Codex,
    /// opencode, Zed, Goose): what uninstall puts back.
    pub native: Map<String, Value>,
    /// Name → the entry install wrote, to tell later whether someone changed it since.
    pub installed: Map<String, Value>,
}

impl Sidecar {
    /// The record for `config` (empty when there is none yet).
    pub fn load(data_dir: &Path, config: &Path) -> Result<Sidecar, ClientError> {
        let config = std::fs::canonicalize(config)
            .or_else(|_| std::path::absolute(config))
            .unwrap_or_else(|_| config.to_path_buf());
        let hash = Sha256::digest(config.to_string_lossy().as_bytes());
        let hex: String = hash[..8].iter().map(|b| format!("{b:02x}")).collect();
        let file_name = config
            .file_name()
            .map(|n| n.to_string_lossy().trim_start_matches('.').to_owned())
            .unwrap_or_default();
        let path = data_dir
            .join("clients")
            .join(format!("{file_name}-{hex}.json"));
        let mut sidecar = Sidecar {
            path,
            config,
            originals: Map::new(),
            native: Map::new(),
            installed: Map::new(),
        };
        let text = match crate::files::read_string_capped(&sidecar.path, crate::files::CONFIG_LIMIT)
        {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(sidecar),
            Err(source) => {
                return Err(ClientError::Read {
                    path: sidecar.path,
                    source,
                });
            }
        };
        let shape = |what: &str| ClientError::Shape {
            path: sidecar.path.clone(),
            what: format!("{what}; mcpauth's record of installed entries is damaged"),
        };
        let Ok(Value::Object(mut root)) = serde_json::from_str::<Value>(&text) else {
            return Err(shape("not a JSON object"));
        };
        for (key, into) in [
            ("mcpServers", &mut sidecar.originals),
            ("native", &mut sidecar.native),
            ("installed", &mut sidecar.installed),
        ] {
            match root.remove(key) {
                Some(Value::Object(map)) => *into = map,
                None => {}
                Some(_) => return Err(shape(&format!("`{key}` is not an object"))),
            }
        }
        Ok(sidecar)
    }

    /// Keeps `entry` (as mcpauth reads it) and `native` (as the client wrote it) for
    /// `name`, which is now `installed`.
    pub fn record(&mut self, name: &str, entry: Value, native: Value, installed: Value) {
        if native != entry {
            self.native.insert(name.to_owned(), native);
        }
        self.originals.insert(name.to_owned(), entry);
        self.installed.insert(name.to_owned(), installed);
    }

    /// The entry to put back for `name`, which must be recorded.
    pub fn original(&self, name: &str) -> &Value {
        self.native
            .get(name)
            .unwrap_or_else(|| &self.originals[name])
    }

    pub fn forget(&mut self, name: &str) {
        self.originals.remove(name);
        self.native.remove(name);
        self.installed.remove(name);
    }

    /// Writes the record, or removes its file when nothing is left in it.
    pub fn save(&self) -> Result<(), ClientError> {
        if self.originals.is_empty() {
            return match std::fs::remove_file(&self.path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(ClientError::Write {
                    path: self.path.clone(),
                    source: e,
                }),
                _ => Ok(()),
            };
        }
        let dir = self.path.parent().expect("the record is inside clients/");
        crate::home::create_private_dir(dir).map_err(|source| ClientError::Write {
            path: dir.to_path_buf(),
            source,
        })?;
        let mut doc = json!({
            "config": self.config.to_string_lossy(),
            "mcpServers": self.originals,
            "installed": self.installed,
        });
        if !self.native.is_empty() {
            doc["native"] = Value::Object(self.native.clone());
        }
        let mut text = serde_json::to_string_pretty(&doc).expect("a Value always serializes");
        text.push('\n');
        write_atomic(&self.path, text.as_bytes(), Some(0o600))
    }
}
