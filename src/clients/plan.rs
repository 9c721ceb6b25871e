//! What install and uninstall do to one server table, entry by entry. Pure: the caller
//! reads and writes the files.

use serde_json::{Map, Value, json};

use super::sidecar::Sidecar;
use super::{ClientError, Target};
use crate::cli::ClientArg;

/// What became of one entry, for the person running the command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    pub name: String,
    pub changed: bool,
    pub message: String,
}

impl Note {
    fn changed(name: &str, message: impl Into<String>) -> Self {
        Note {
            name: name.to_owned(),
            changed: true,
            message: message.into(),
        }
    }
    fn kept(name: &str, message: impl Into<String>) -> Self {
        Note {
            name: name.to_owned(),
            changed: false,
            message: message.into(),
        }
    }
}

/// What an entry is, as far as install cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `url` / `serverUrl`, or an http or sse `type`.
    Remote,
    /// A local command that wraps a remote server: `npx -y mcp-remote URL ...`.
    McpRemote,
    /// Already `mcpauth ... proxy ...`.
    Proxy,
    /// Some other local command.
    Local,
}

pub fn classify(entry: &Value) -> Kind {
    let Some(obj) = entry.as_object() else {
        return Kind::Local;
    };
    let words: Vec<&str> = obj
        .get("command")
        .and_then(Value::as_str)
        .into_iter()
        .chain(
            obj.get("args")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str),
        )
        .collect();
    if let Some(first) = words.first() {
        if base_name(first) == "mcpauth" && words.contains(&"proxy") {
            return Kind::Proxy;
        }
        let wrapped = words.iter().position(|w| base_name(w) == "mcp-remote");
        let has_url = |rest: &[&str]| {
            rest.iter()
                .any(|w| w.starts_with("https://") || w.starts_with("http://"))
        };
        return match wrapped {
            Some(at) if has_url(&words[at + 1..]) => Kind::McpRemote,
            _ => Kind::Local,
        };
    }
    let typ = obj.get("type").and_then(Value::as_str).unwrap_or("");
    let has_url = ["url", "serverUrl", "httpUrl"]
        .iter()
        .any(|k| obj.get(*k).is_some());
    if has_url
        || matches!(
            typ,
            "http" | "sse" | "streamable-http" | "streamableHttp" | "streamable_http"
        )
    {
        Kind::Remote
    } else {
        Kind::Local
    }
}

/// `mcp-remote@1.2`, `/usr/bin/mcp-remote.cmd`, `mcpauth.exe` → the bare program name.
fn base_name(word: &str) -> &str {
    let base = word.rsplit(['/', '\\']).next().unwrap_or(word);
    let base = base.split('@').next().unwrap_or(base);
    [".cmd", ".exe", ".js"]
        .iter()
        .find_map(|ext| base.strip_suffix(ext))
        .unwrap_or(base)
}

/// The stdio entry that runs the proxy. In this machine's own files, `--config` points
/// the proxy at the original entry in the sidecar record, since the client's file no
/// longer holds it. In a shared project file an entry that is nothing but a URL becomes
/// `mcpauth proxy URL`, which works on every teammate's machine as it is.
///
/// MCP clients start servers with an environment of their own, without the variables
/// that told this mcpauth where its grants are: `env` (`MCPAUTH_HOME`, `MCPAUTH_STORE`
/// when set) goes into the entry, except in a shared file, where it would point a
/// teammate's mcpauth at this machine's paths.
pub fn proxy_entry(
    target: &Target,
    name: &str,
    original: &Value,
    sidecar: &Sidecar,
    env: &[(String, String)],
) -> Value {
    let args = match plain_url(original).filter(|_| target.shared) {
        Some(url) => json!(["proxy", url]),
        None => json!(["--config", sidecar.path.to_string_lossy(), "proxy", name]),
    };
    let mut entry = match target.client {
        // VS Code wants every entry typed.
        ClientArg::Vscode => json!({"type": "stdio", "command": "mcpauth", "args": args}),
        _ => json!({"command": "mcpauth", "args": args}),
    };
    if !env.is_empty() && !target.shared {
        let env: Map<String, Value> = env
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        entry["env"] = Value::Object(env);
    }
    entry
}

/// What an installed entry runs, as a person would type it.
fn command_line(entry: &Value) -> String {
    let words = entry.get("args").and_then(Value::as_array);
    std::iter::once("mcpauth".to_owned())
        .chain(
            words
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(shell_word),
        )
        .collect::<Vec<_>>()
        .join(" ")
}

/// The server URL of an entry that says nothing else (`{"type": "http", "url": URL}`, or
/// `npx -y mcp-remote URL`). Headers, OAuth settings, an environment or a `${VAR}` are
/// what the sidecar record is for.
fn plain_url(entry: &Value) -> Option<String> {
    let obj = entry.as_object()?;
    let only = |allowed: &[&str]| obj.keys().all(|k| allowed.contains(&k.as_str()));
    let url = match classify(entry) {
        Kind::Remote if only(&["type", "url"]) => obj.get("url")?.as_str()?,
        Kind::McpRemote if only(&["type", "command", "args"]) => {
            let words: Vec<&str> = std::iter::once(obj.get("command")?.as_str()?)
                .chain(
                    obj.get("args")?
                        .as_array()?
                        .iter()
                        .filter_map(Value::as_str),
                )
                .collect();
            let at = words.iter().position(|w| base_name(w) == "mcp-remote")?;
            match words[at + 1..] {
                [url] => url,
                _ => return None,
            }
        }
        _ => return None,
    };
    (!url.contains("${")).then(|| url.to_owned())
}

pub struct Install<'a> {
    pub target: &'a Target,
    pub names: &'a [String],
    pub headers_helper: bool,
    /// mcpauth's own variables as set where install runs, for the entries it writes.
    pub env: Vec<(String, String)>,
}

/// Rewrites the entries of `table` that install concerns, recording each original.
pub fn install(
    plan: &Install<'_>,
    table: &mut Map<String, Value>,
    sidecar: &mut Sidecar,
) -> Result<Vec<Note>, ClientError> {
    let target = plan.target;
    if plan.headers_helper && target.client != ClientArg::ClaudeCode {
        return Err(ClientError::Usage(
            "--headers-helper applies to claude-code only".into(),
        ));
    }
    let names = chosen(target, table, plan.names)?;
    let mut notes = Vec::new();
    for name in names {
        let current = table[&name].clone();
        if sidecar.installed.get(&name) == Some(&current) {
            notes.push(Note::kept(&name, "already installed"));
            continue;
        }
        let kind = classify(&current);
        let new = match (kind, plan.headers_helper) {
            (Kind::Proxy, _) => {
                notes.push(Note::kept(&name, "already runs `mcpauth proxy`"));
                continue;
            }
            (Kind::Local, _) if plan.names.is_empty() => continue,
            (Kind::Local, _) => {
                return Err(ClientError::LocalServer {
                    name,
                    path: target.path.clone(),
                });
            }
            (Kind::Remote, true) => {
                let mut new = current.clone();
                if let Some(obj) = new.as_object_mut() {
                    obj.insert(
                        "headersHelper".into(),
                        Value::String(format!("mcpauth headers {}", shell_word(&name))),
                    );
                }
                new
            }
            (Kind::McpRemote, true) => {
                return Err(ClientError::Usage(format!(
                    "server `{name}` runs mcp-remote, which has no headers to help with; install it without --headers-helper"
                )));
            }
            (Kind::Remote | Kind::McpRemote, false) => {
                proxy_entry(target, &name, &current, sidecar, &plan.env)
            }
        };
        let how = if plan.headers_helper {
            format!(
                "gets its token from `mcpauth headers {}`",
                shell_word(&name)
            )
        } else {
            let mut how = format!("now runs `{}`", command_line(&new));
            if let Some(env) = new.get("env").and_then(Value::as_object) {
                let names: Vec<&str> = env.keys().map(String::as_str).collect();
                how.push_str(&format!(" with {} set", names.join(" and ")));
            } else if target.shared && !plan.env.is_empty() {
                how.push_str(" (this file is shared, so MCPAUTH_HOME and MCPAUTH_STORE are not written into it)");
            }
            how
        };
        table.insert(name.clone(), new.clone());
        sidecar.record(&name, current, new);
        notes.push(Note::changed(&name, how));
    }
    Ok(notes)
}

/// Puts back the originals of the entries install replaced.
pub fn uninstall(
    target: &Target,
    names: &[String],
    table: &mut Map<String, Value>,
    sidecar: &mut Sidecar,
) -> Result<Vec<Note>, ClientError> {
    let names: Vec<String> = if names.is_empty() {
        sidecar.originals.keys().cloned().collect()
    } else {
        for name in names {
            if !sidecar.originals.contains_key(name) {
                return Err(ClientError::NotInstalled {
                    name: name.clone(),
                    path: target.path.clone(),
                });
            }
        }
        names.to_vec()
    };
    let mut notes = Vec::new();
    for name in names {
        let original = sidecar.originals[&name].clone();
        match table.get(&name) {
            Some(current) if Some(current) == sidecar.installed.get(&name) => {
                // In place: the entry keeps its position among the others.
                table.insert(name.clone(), original);
                sidecar.forget(&name);
                notes.push(Note::changed(&name, "restored"));
            }
            Some(current) if *current == original => {
                sidecar.forget(&name);
                notes.push(Note::kept(&name, "is already the original"));
            }
            Some(_) => notes.push(Note::kept(
                &name,
                "was changed since it was installed; left as it is (the original stays recorded)",
            )),
            None => {
                sidecar.forget(&name);
                notes.push(Note::kept(
                    &name,
                    "is gone from the file; nothing to restore",
                ));
            }
        }
    }
    Ok(notes)
}

/// The names to install: those given (each must exist), else every entry.
fn chosen(
    target: &Target,
    table: &Map<String, Value>,
    names: &[String],
) -> Result<Vec<String>, ClientError> {
    if names.is_empty() {
        return Ok(table.keys().cloned().collect());
    }
    for name in names {
        if !table.contains_key(name) {
            return Err(ClientError::UnknownServer {
                name: name.clone(),
                path: target.path.clone(),
                known: table.keys().cloned().collect(),
            });
        }
    }
    Ok(names.to_vec())
}

/// A name as one word for the shell that runs `headersHelper`.
fn shell_word(name: &str) -> String {
    let plain = name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-_.@:/".contains(&b));
    if plain && !name.is_empty() {
        name.to_owned()
    } else {
        format!("'{}'", name.replace('\'', r"'\''"))
    }
}

/// A copy of the document with what may be secret blanked out, for showing as a diff:
/// header and environment values, and mcp-remote's `--header` arguments.
pub fn redacted(root: &Map<String, Value>, key: &str) -> Map<String, Value> {
    let mut root = root.clone();
    let Some(Value::Object(table)) = root.get_mut(key) else {
        return root;
    };
    for entry in table.values_mut().filter_map(Value::as_object_mut) {
        for block in ["headers", "env"] {
            if let Some(Value::Object(map)) = entry.get_mut(block) {
                for value in map.values_mut() {
                    *value = Value::String("(redacted)".into());
                }
            }
        }
        if let Some(Value::Array(args)) = entry.get_mut("args") {
            let mut after_header = false;
            for arg in args.iter_mut() {
                if after_header {
                    *arg = Value::String("(redacted)".into());
                }
                after_header = arg.as_str() == Some("--header");
            }
        }
    }
    root
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds() {
        let cases = [
            (
                json!({"type": "http", "url": "https://a/mcp"}),
                Kind::Remote,
            ),
            (json!({"url": "https://a/sse"}), Kind::Remote),
            (json!({"serverUrl": "https://a/mcp"}), Kind::Remote),
            (json!({"type": "sse"}), Kind::Remote),
            (
                json!({"command": "npx", "args": ["-y", "mcp-remote@latest", "https://a/sse"]}),
                Kind::McpRemote,
            ),
            (
                json!({"command": "npx", "args": ["-y", "mcp-remote"]}),
                Kind::Local,
            ),
            (
                json!({"command": "mcpauth", "args": ["proxy", "a"]}),
                Kind::Proxy,
            ),
            (
                json!({"command": "/usr/local/bin/mcpauth", "args": ["--config", "/x", "proxy", "a"]}),
                Kind::Proxy,
            ),
            (
                json!({"command": "uvx", "args": ["mcp-server-git"]}),
                Kind::Local,
            ),
            (json!("nonsense"), Kind::Local),
        ];
        for (entry, kind) in cases {
            assert_eq!(classify(&entry), kind, "{entry}");
        }
    }

    #[test]
    fn shell_words() {
        assert_eq!(shell_word("linear"), "linear");
        assert_eq!(shell_word("my server"), "'my server'");
        assert_eq!(shell_word("it's"), r"'it'\''s'");
        assert_eq!(shell_word("a;rm -rf"), "'a;rm -rf'");
    }

    #[test]
    fn redaction_blanks_headers_env_and_header_args() {
        let root = json!({"mcpServers": {
            "a": {"url": "https://a/", "headers": {"Authorization": "Bearer sekrit"}},
            "b": {"command": "npx", "args": ["mcp-remote", "https://b/", "--header", "X-Key:sekrit"], "env": {"K": "sekrit"}}
        }});
        let out = Value::Object(redacted(root.as_object().unwrap(), "mcpServers")).to_string();
        assert!(!out.contains("sekrit"), "{out}");
        assert!(out.contains("https://b/"), "{out}");
    }
}
