//! What install and uninstall do to one server table, entry by entry. Pure: the caller
//! reads and writes the files.

use serde_json::{Map, Value};

use super::sidecar::Sidecar;
use super::{ClientError, Target};
use crate::cli::{ClientArg, Launcher};
use crate::config::dialect::{Kind, kind};
use crate::config::paths::Os;

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

/// The stdio entry that runs the proxy. In this machine's own files, `--config` points
/// the proxy at the original entry in the sidecar record, since the client's file no
/// longer holds it. In a shared project file an entry that is nothing but a URL becomes
/// `mcpauth proxy URL`, which works on every teammate's machine as it is.
///
/// MCP clients start servers with an environment of their own, without the variables
/// that told this mcpauth where its grants are: `env` (`MCPAUTH_HOME`, `MCPAUTH_STORE`
/// when set) goes into the entry, except in a shared file, where it would point a
/// teammate's mcpauth at this machine's paths.
pub fn proxy_entry(plan: &Install<'_>, name: &str, original: &Value, sidecar: &Sidecar) -> Value {
    let target = plan.target;
    let url = target
        .dialect
        .entry(original)
        .and_then(|entry| plain_url(&entry))
        .filter(|_| target.shared);
    let args: Vec<String> = match url {
        Some(url) => vec!["proxy".into(), url],
        None => vec![
            "--config".into(),
            sidecar.path.to_string_lossy().into_owned(),
            "proxy".into(),
            name.to_owned(),
        ],
    };
    let env: Map<String, Value> = plan
        .env
        .iter()
        .filter(|_| !target.shared)
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    let (program, before) = plan.launcher.argv();
    let program = plan.full_path.as_deref().unwrap_or(program);
    let args: Vec<String> = before.iter().map(|w| (*w).to_owned()).chain(args).collect();
    let entry = target.dialect.stdio(original, program, &args, &env);
    match (target.client, entry) {
        // VS Code wants every entry typed.
        (ClientArg::Vscode, Value::Object(rest)) => {
            let mut typed = Map::new();
            typed.insert("type".into(), "stdio".into());
            typed.extend(rest);
            Value::Object(typed)
        }
        (_, entry) => entry,
    }
}

/// What an installed entry runs, as a person would type it.
fn command_line(target: &Target, native: &Value) -> String {
    let entry = target.dialect.entry(native).unwrap_or_default();
    let program = entry.get("command").and_then(Value::as_str);
    let words = entry.get("args").and_then(Value::as_array);
    std::iter::once(shell_word(program.unwrap_or("mcpauth")))
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

/// The server URL of an entry (in `.mcp.json` shape) that says nothing else
/// (`{"type": "http", "url": URL}`, or `npx -y mcp-remote URL`). Headers, OAuth settings,
/// an environment or a `${VAR}` are what the sidecar record is for.
fn plain_url(entry: &Value) -> Option<String> {
    let obj = entry.as_object()?;
    let only = |allowed: &[&str]| obj.keys().all(|k| allowed.contains(&k.as_str()));
    let url = match kind(entry) {
        Kind::Remote if only(&["type", "url"]) => obj.get("url")?.as_str()?.to_owned(),
        Kind::McpRemote if only(&["type", "command", "args"]) => {
            let args: Vec<String> = obj
                .get("args")?
                .as_array()?
                .iter()
                .filter_map(|a| a.as_str().map(str::to_owned))
                .collect();
            // Nothing after the URL: no headers, no callback port.
            if args.last().is_none_or(|last| !crate::config::is_url(last)) {
                return None;
            }
            args.last()?.clone()
        }
        _ => return None,
    };
    (!url.contains("${")).then_some(url)
}

pub struct Install<'a> {
    pub target: &'a Target,
    pub names: &'a [String],
    pub headers_helper: bool,
    pub launcher: Launcher,
    /// mcpauth's own variables as set where install runs, for the entries it writes.
    pub env: Vec<(String, String)>,
    /// This binary's full path, for a client that starts servers with a PATH it may not
    /// be on (see [`needs_full_path`]); else entries run `mcpauth` by name.
    pub full_path: Option<String>,
}

/// Whether entries name this binary by its full path: Claude Desktop on macOS, opened
/// from the Dock, starts servers with the system's PATH alone (`/usr/bin:/bin:/usr/sbin:
/// /sbin`), where neither Homebrew's nor cargo's `mcpauth` is. Never in a shared file
/// (the path is this machine's), nor for `--launcher npx`.
pub fn needs_full_path(target: &Target, os: Os, launcher: Launcher) -> bool {
    target.client == ClientArg::ClaudeDesktop
        && os == Os::Mac
        && !target.shared
        && launcher == Launcher::Mcpauth
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
        let Some(entry) = target.dialect.entry(&current) else {
            if plan.names.is_empty() {
                continue;
            }
            return Err(ClientError::Unreachable {
                name,
                path: target.path.clone(),
            });
        };
        let new = match (kind(&entry), plan.headers_helper) {
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
            (Kind::Remote | Kind::McpRemote, false) => proxy_entry(plan, &name, &current, sidecar),
        };
        let how = if plan.headers_helper {
            format!(
                "gets its token from `mcpauth headers {}`",
                shell_word(&name)
            )
        } else {
            let mut how = format!("now runs `{}`", command_line(target, &new));
            let set: Vec<&str> = plan
                .env
                .iter()
                .map(|(k, _)| k.as_str())
                .filter(|_| !target.shared)
                .collect();
            if !set.is_empty() {
                how.push_str(&format!(" with {} set", set.join(" and ")));
            } else if target.shared && !plan.env.is_empty() {
                how.push_str(" (this file is shared, so MCPAUTH_HOME and MCPAUTH_STORE are not written into it)");
            }
            how
        };
        table.insert(name.clone(), new.clone());
        sidecar.record(&name, entry, current, new);
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
        let original = sidecar.original(&name).clone();
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

/// A copy of a server table with what may be secret blanked out, for showing as a diff:
/// header and environment values, and the word after mcp-remote's `--header`.
pub fn redacted(table: &Map<String, Value>) -> Map<String, Value> {
    let mut table = table.clone();
    for entry in table.values_mut().filter_map(Value::as_object_mut) {
        for block in ["headers", "http_headers", "env", "environment", "envs"] {
            if let Some(Value::Object(map)) = entry.get_mut(block) {
                for value in map.values_mut() {
                    *value = Value::String("(redacted)".into());
                }
            }
        }
        for words in ["args", "command"] {
            if let Some(Value::Array(args)) = entry.get_mut(words) {
                let mut after_header = false;
                for arg in args.iter_mut() {
                    if after_header {
                        *arg = Value::String("(redacted)".into());
                    }
                    after_header = arg.as_str() == Some("--header");
                }
            }
        }
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn target(client: ClientArg, shared: bool) -> Target {
        Target {
            client,
            path: "/u/ada/Library/Application Support/Claude/claude_desktop_config.json".into(),
            key: "mcpServers",
            format: super::super::Format::Json,
            dialect: crate::config::dialect::Dialect::McpServers,
            shared,
        }
    }

    #[test]
    fn claude_desktop_on_macos_runs_this_binary_by_its_full_path() {
        let desktop = target(ClientArg::ClaudeDesktop, false);
        assert!(needs_full_path(&desktop, Os::Mac, Launcher::Mcpauth));
        for os in [Os::Linux, Os::Windows] {
            assert!(!needs_full_path(&desktop, os, Launcher::Mcpauth), "{os:?}");
        }
        assert!(!needs_full_path(&desktop, Os::Mac, Launcher::Npx));
        assert!(!needs_full_path(
            &target(ClientArg::Cursor, false),
            Os::Mac,
            Launcher::Mcpauth
        ));
        assert!(!needs_full_path(
            &target(ClientArg::ClaudeDesktop, true),
            Os::Mac,
            Launcher::Mcpauth
        ));

        let dir = tempfile::tempdir().unwrap();
        let sidecar = Sidecar::load(dir.path(), &desktop.path).unwrap();
        let mut plan = Install {
            target: &desktop,
            names: &[],
            headers_helper: false,
            launcher: Launcher::Mcpauth,
            env: Vec::new(),
            full_path: Some("/opt/homebrew/bin/mcpauth".into()),
        };
        let original = json!({"type": "http", "url": "https://mcp.notion.example/mcp"});
        let entry = proxy_entry(&plan, "notion", &original, &sidecar);
        assert_eq!(entry["command"], "/opt/homebrew/bin/mcpauth", "{entry}");
        assert_eq!(entry["args"][2], "proxy", "{entry}");
        plan.full_path = None;
        let entry = proxy_entry(&plan, "notion", &original, &sidecar);
        assert_eq!(entry["command"], "mcpauth", "{entry}");
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
        let table = json!({
            "a": {"url": "https://a/", "headers": {"Authorization": "Bearer sekrit"}},
            "b": {"command": "npx", "args": ["mcp-remote", "https://b/", "--header", "X-Key:sekrit"], "env": {"K": "sekrit"}},
            "c": {"type": "local", "command": ["npx", "mcp-remote", "https://c/", "--header", "sekrit"], "environment": {"K": "sekrit"}},
            "d": {"type": "stdio", "cmd": "npx", "envs": {"K": "sekrit"}}
        });
        let out = Value::Object(redacted(table.as_object().unwrap())).to_string();
        assert!(!out.contains("sekrit"), "{out}");
        assert!(out.contains("https://b/"), "{out}");
    }
}
