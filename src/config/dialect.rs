//! How each MCP client spells a server entry, and the one shape mcpauth reads.
//!
//! [`super::entry`] reads entries in the shape of `.mcp.json` (`type`, `url`, `headers`,
//! `command`, `args`, `env`, `oauth`). Clients with a shape of their own (Codex's TOML
//! tables, opencode's `mcp`, Zed's `context_servers`, Goose's `extensions`) are turned
//! into that shape here, for the config reader and for `install` alike, and `install`
//! writes its proxy entry back in the client's own spelling. So there is one answer to
//! "what does this entry mean", and it lives in this module.

use serde_json::{Map, Value, json};

/// The entry shapes mcpauth knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// `mcpServers` / `servers` entries: Claude Code and Desktop, Cursor, VS Code, Gemini
    /// CLI, Windsurf. Read as they are.
    McpServers,
    /// Codex's `[mcp_servers.NAME]`: `url`, `http_headers`, `env_http_headers`,
    /// `bearer_token_env_var`; `command`, `args`, `env`; `enabled`.
    Codex,
    /// opencode's `mcp.NAME`: `type: "remote"` with `url` and `headers`, or
    /// `type: "local"` with `command` as one array and `environment`; `enabled`.
    OpenCode,
    /// Zed's `context_servers.NAME`: `url` and `headers`, or `command` (a string with
    /// `args` and `env`, or the older `{path, args, env}` object). Servers that an
    /// extension provides carry only `settings`.
    Zed,
    /// Goose's `extensions.NAME`: `type: streamable_http` or `sse` with `uri` (and
    /// `headers`), `type: stdio` with `cmd`, `args` and `envs`; `enabled`.
    Goose,
}

/// What an entry is, as far as `install` cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A remote server the client talks to itself.
    Remote,
    /// A local command that wraps a remote server: `npx -y mcp-remote URL ...`.
    McpRemote,
    /// Already `mcpauth ... proxy ...`.
    Proxy,
    /// Some other local command, or an entry mcpauth cannot read.
    Local,
}

impl Dialect {
    /// The entry in the shape [`super::entry`] reads; `None` when the client has it
    /// switched off, or it is not a server mcpauth could reach (a Goose builtin, a Zed
    /// extension's server).
    pub fn entry(self, native: &Value) -> Option<Value> {
        let obj = native.as_object()?;
        if self != Dialect::McpServers && obj.get("enabled") == Some(&Value::Bool(false)) {
            return None;
        }
        let text = |key: &str| obj.get(key).and_then(Value::as_str);
        let strings = |key: &str| obj.get(key).and_then(Value::as_object).cloned();
        let mut e = Map::new();
        let remote = |e: &mut Map<String, Value>,
                      kind: &str,
                      url: &str,
                      headers: Option<Map<String, Value>>| {
            e.insert("type".into(), kind.into());
            e.insert("url".into(), url.into());
            if let Some(headers) = headers.filter(|h| !h.is_empty()) {
                e.insert("headers".into(), Value::Object(headers));
            }
        };
        // `args` is an array in every spelling that has it; absent means none.
        let local = |e: &mut Map<String, Value>,
                     command: &str,
                     args: Option<&Value>,
                     env: Option<Map<String, Value>>| {
            let args = args.and_then(Value::as_array).cloned().unwrap_or_default();
            e.insert("command".into(), command.into());
            e.insert("args".into(), Value::Array(args));
            if let Some(env) = env {
                e.insert("env".into(), Value::Object(env));
            }
        };
        match self {
            Dialect::McpServers => return Some(native.clone()),
            Dialect::Codex => {
                if let Some(url) = text("url") {
                    let mut headers = strings("http_headers").unwrap_or_default();
                    for (header, var) in strings("env_http_headers").unwrap_or_default() {
                        if let Some(var) = var.as_str() {
                            headers.insert(header, format!("${{{var}}}").into());
                        }
                    }
                    if let Some(var) = text("bearer_token_env_var") {
                        headers.insert("Authorization".into(), format!("Bearer ${{{var}}}").into());
                    }
                    remote(&mut e, "http", url, Some(headers));
                } else if let Some(command) = text("command") {
                    local(&mut e, command, obj.get("args"), strings("env"));
                }
            }
            Dialect::OpenCode => match text("type") {
                Some("remote") => {
                    remote(&mut e, "http", text("url")?, strings("headers"));
                    if let Some(id) = obj.get("oauth").and_then(|o| o.get("clientId")) {
                        e.insert("oauth".into(), json!({ "clientId": id }));
                    }
                }
                Some("local") => {
                    let words = obj.get("command")?.as_array()?;
                    let (command, args) = words.split_first()?;
                    let args = Value::Array(args.to_vec());
                    local(
                        &mut e,
                        command.as_str()?,
                        Some(&args),
                        strings("environment"),
                    );
                }
                _ => return None,
            },
            Dialect::Zed => {
                if let Some(url) = text("url") {
                    remote(&mut e, "http", url, strings("headers"));
                } else {
                    match obj.get("command")? {
                        Value::String(command) => {
                            local(&mut e, command, obj.get("args"), strings("env"));
                        }
                        Value::Object(old) => {
                            let env = old.get("env").and_then(Value::as_object).cloned();
                            let path = old.get("path")?.as_str()?;
                            local(&mut e, path, old.get("args"), env);
                        }
                        _ => return None,
                    }
                }
            }
            Dialect::Goose => match text("type")? {
                "streamable_http" => remote(&mut e, "http", text("uri")?, strings("headers")),
                "sse" => remote(&mut e, "sse", text("uri")?, strings("headers")),
                "stdio" => local(&mut e, text("cmd")?, obj.get("args"), strings("envs")),
                _ => return None,
            },
        }
        (!e.is_empty()).then_some(Value::Object(e))
    }

    /// The client's entry that runs `mcpauth ARGS` with `env` set, in place of
    /// `original`. What belongs to the client alone (Codex's timeouts and tool lists,
    /// Goose's name and description, `enabled`) is kept; how the old entry reached its
    /// server is not.
    pub fn stdio(
        self,
        original: &Value,
        program: &str,
        args: &[String],
        env: &Map<String, Value>,
    ) -> Value {
        let args: Vec<Value> = args.iter().map(|a| Value::String(a.clone())).collect();
        let kept = |drop: &[&str]| -> Map<String, Value> {
            original
                .as_object()
                .map(|o| {
                    o.iter()
                        .filter(|(k, _)| !drop.contains(&k.as_str()))
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect()
                })
                .unwrap_or_default()
        };
        let env = (!env.is_empty()).then(|| Value::Object(env.clone()));
        let mut e = match self {
            Dialect::McpServers => Map::new(),
            Dialect::Codex => kept(&[
                "url",
                "bearer_token_env_var",
                "http_headers",
                "env_http_headers",
                "command",
                "args",
                "env",
                "env_vars",
                "cwd",
            ]),
            Dialect::OpenCode => {
                kept(&["type", "url", "headers", "oauth", "command", "environment"])
            }
            Dialect::Zed => kept(&[
                "url", "headers", "oauth", "command", "args", "env", "settings", "source",
            ]),
            Dialect::Goose => kept(&["type", "uri", "headers", "cmd", "args", "envs", "env_keys"]),
        };
        match self {
            Dialect::McpServers | Dialect::Codex | Dialect::Zed => {
                e.insert("command".into(), program.into());
                e.insert("args".into(), Value::Array(args));
                if let Some(env) = env {
                    e.insert("env".into(), env);
                }
                if self == Dialect::Codex {
                    e.insert("env_vars".into(), codex_env_vars(original).into());
                }
            }
            Dialect::OpenCode => {
                e.insert("type".into(), "local".into());
                let mut words = vec![Value::String(program.into())];
                words.extend(args);
                e.insert("command".into(), Value::Array(words));
                if let Some(env) = env {
                    e.insert("environment".into(), env);
                }
            }
            Dialect::Goose => {
                // Goose drops an entry it cannot parse, and `enabled` is required.
                e.entry("enabled").or_insert(Value::Bool(true));
                e.insert("type".into(), "stdio".into());
                e.insert("cmd".into(), program.into());
                e.insert("args".into(), Value::Array(args));
                e.insert("envs".into(), env.unwrap_or_else(|| json!({})));
                e.insert("env_keys".into(), json!([]));
            }
        }
        Value::Object(e)
    }
}

/// What Codex must pass on to the proxy by name: it starts servers with a short list of
/// variables of its own (`HOME`, `PATH`, ...). The proxy also needs where the keychain and
/// the XDG directories are, and the variables the old entry's headers named.
fn codex_env_vars(original: &Value) -> Vec<Value> {
    let mut vars: Vec<Value> = [
        "DBUS_SESSION_BUS_ADDRESS",
        "XDG_RUNTIME_DIR",
        "XDG_DATA_HOME",
        "XDG_CONFIG_HOME",
    ]
    .into_iter()
    .map(Value::from)
    .collect();
    if let Some(var) = original.get("bearer_token_env_var") {
        vars.push(var.clone());
    }
    if let Some(Value::Object(headers)) = original.get("env_http_headers") {
        vars.extend(headers.values().cloned());
    }
    vars.retain(Value::is_string);
    vars
}

/// Whether `command args` starts mcpauth: itself, or through `npx [-y] mcpauth[@version]`
/// (`mcpauth install --launcher npx`).
fn runs_mcpauth(command: &str, args: &[String]) -> bool {
    use super::entry::program;
    match program(command) {
        "mcpauth" => true,
        "npx" => args
            .iter()
            .find(|a| !a.starts_with('-'))
            .is_some_and(|a| a == "mcpauth" || a.starts_with("mcpauth@")),
        _ => false,
    }
}

/// What an entry in `.mcp.json` shape (see [`Dialect::entry`]) is. The proxy's own entry
/// and mcp-remote are told apart by the program names, as [`super::entry`] reads them.
pub fn kind(entry: &Value) -> Kind {
    let Some(obj) = entry.as_object() else {
        return Kind::Local;
    };
    if let Some(command) = obj.get("command").and_then(Value::as_str) {
        let args: Vec<String> = obj
            .get("args")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|a| a.as_str().map(str::to_owned))
            .collect();
        if runs_mcpauth(command, &args) && args.iter().any(|a| a == "proxy") {
            return Kind::Proxy;
        }
        return match super::entry::wrapped_url(command, &args) {
            Some(_) => Kind::McpRemote,
            None => Kind::Local,
        };
    }
    let typ = obj.get("type").and_then(Value::as_str);
    let url = ["url", "serverUrl", "httpUrl"]
        .iter()
        .any(|k| obj.get(*k).is_some());
    match typ {
        Some("http" | "sse" | "streamable-http" | "streamableHttp" | "streamable_http") => {
            Kind::Remote
        }
        None if url => Kind::Remote,
        _ => Kind::Local,
    }
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
            (json!({"type": "stdio", "url": "https://a/"}), Kind::Local),
            (json!("nonsense"), Kind::Local),
        ];
        for (entry, want) in cases {
            assert_eq!(kind(&entry), want, "{entry}");
        }
    }

    #[test]
    fn each_clients_entries_read_in_one_shape() {
        let cases = [
            (
                Dialect::Codex,
                json!({"url": "https://n/mcp", "bearer_token_env_var": "TOK",
                       "http_headers": {"X-Team": "core"}, "env_http_headers": {"X-Key": "KEY"},
                       "startup_timeout_sec": 20}),
                Some(json!({"type": "http", "url": "https://n/mcp", "headers": {
                    "X-Team": "core", "X-Key": "${KEY}", "Authorization": "Bearer ${TOK}"}})),
            ),
            (
                Dialect::Codex,
                json!({"command": "npx", "args": ["-y", "mcp-remote", "https://l/sse"], "env": {"A": "1"}}),
                Some(
                    json!({"command": "npx", "args": ["-y", "mcp-remote", "https://l/sse"], "env": {"A": "1"}}),
                ),
            ),
            (
                Dialect::Codex,
                json!({"url": "https://off/", "enabled": false}),
                None,
            ),
            (
                Dialect::OpenCode,
                json!({"type": "remote", "url": "https://n/mcp", "headers": {"X": "1"},
                       "oauth": {"clientId": "abc", "clientSecret": "s"}, "enabled": true}),
                Some(
                    json!({"type": "http", "url": "https://n/mcp", "headers": {"X": "1"},
                            "oauth": {"clientId": "abc"}}),
                ),
            ),
            (
                Dialect::OpenCode,
                json!({"type": "local", "command": ["npx", "-y", "mcp-remote", "https://l/"],
                       "environment": {"K": "v"}}),
                Some(
                    json!({"command": "npx", "args": ["-y", "mcp-remote", "https://l/"], "env": {"K": "v"}}),
                ),
            ),
            (
                Dialect::OpenCode,
                json!({"type": "remote", "url": "https://x/", "enabled": false}),
                None,
            ),
            (
                Dialect::Zed,
                json!({"url": "https://n/mcp", "headers": {"Authorization": "Bearer ${T}"}}),
                Some(
                    json!({"type": "http", "url": "https://n/mcp", "headers": {"Authorization": "Bearer ${T}"}}),
                ),
            ),
            (
                Dialect::Zed,
                json!({"source": "custom", "command": "npx", "args": ["mcp-remote", "https://l/"], "env": {}}),
                Some(json!({"command": "npx", "args": ["mcp-remote", "https://l/"], "env": {}})),
            ),
            (
                Dialect::Zed,
                json!({"command": {"path": "npx", "args": ["mcp-remote", "https://l/"]}, "settings": {}}),
                Some(json!({"command": "npx", "args": ["mcp-remote", "https://l/"]})),
            ),
            (
                Dialect::Zed,
                json!({"source": "extension", "settings": {"k": 1}}),
                None,
            ),
            (
                Dialect::Goose,
                json!({"type": "streamable_http", "uri": "https://n/mcp", "headers": {}, "name": "n", "enabled": true}),
                Some(json!({"type": "http", "url": "https://n/mcp"})),
            ),
            (
                Dialect::Goose,
                json!({"type": "stdio", "cmd": "npx", "args": ["mcp-remote", "https://l/"], "envs": {"A": "b"}}),
                Some(
                    json!({"command": "npx", "args": ["mcp-remote", "https://l/"], "env": {"A": "b"}}),
                ),
            ),
            (
                Dialect::Goose,
                json!({"type": "builtin", "name": "developer"}),
                None,
            ),
            (
                Dialect::Goose,
                json!({"type": "sse", "uri": "https://s/", "enabled": false}),
                None,
            ),
        ];
        for (dialect, native, want) in cases {
            assert_eq!(dialect.entry(&native), want, "{dialect:?} {native}");
        }
    }

    #[test]
    fn the_proxy_entry_keeps_what_is_the_clients_own() {
        let args = ["proxy".to_owned(), "n".to_owned()];
        let env: Map<String, Value> = [("MCPAUTH_HOME".to_owned(), json!("/h"))]
            .into_iter()
            .collect();
        let codex = Dialect::Codex.stdio(
            &json!({"url": "https://n/", "bearer_token_env_var": "T", "startup_timeout_sec": 20}),
            "mcpauth",
            &args,
            &env,
        );
        assert_eq!(
            codex,
            json!({"startup_timeout_sec": 20, "command": "mcpauth", "args": ["proxy", "n"],
                   "env": {"MCPAUTH_HOME": "/h"}, "env_vars": ["DBUS_SESSION_BUS_ADDRESS",
                   "XDG_RUNTIME_DIR", "XDG_DATA_HOME", "XDG_CONFIG_HOME", "T"]})
        );
        let opencode = Dialect::OpenCode.stdio(
            &json!({"type": "remote", "url": "https://n/", "enabled": true}),
            "mcpauth",
            &args,
            &Map::new(),
        );
        assert_eq!(
            opencode,
            json!({"enabled": true, "type": "local", "command": ["mcpauth", "proxy", "n"]})
        );
        let goose = Dialect::Goose.stdio(
            &json!({"type": "sse", "uri": "https://n/", "name": "n", "timeout": 300}),
            "mcpauth",
            &args,
            &Map::new(),
        );
        assert_eq!(
            goose,
            json!({"name": "n", "timeout": 300, "enabled": true, "type": "stdio",
                   "cmd": "mcpauth", "args": ["proxy", "n"], "envs": {}, "env_keys": []})
        );
        // Every written entry reads back as the proxy.
        for dialect in [
            Dialect::McpServers,
            Dialect::Codex,
            Dialect::OpenCode,
            Dialect::Zed,
            Dialect::Goose,
        ] {
            let written = dialect.stdio(&json!({}), "mcpauth", &args, &env);
            let read = dialect.entry(&written).unwrap();
            assert_eq!(kind(&read), Kind::Proxy, "{dialect:?}: {written}");
            // And through npx, as `install --launcher npx` writes it.
            let npx_args: Vec<String> = ["-y", "mcpauth", "proxy", "n"].map(String::from).into();
            let written = dialect.stdio(&json!({}), "npx", &npx_args, &env);
            let read = dialect.entry(&written).unwrap();
            assert_eq!(kind(&read), Kind::Proxy, "{dialect:?}: {written}");
        }
        // npx starting anything else is not the proxy.
        let other = json!({"command": "npx", "args": ["-y", "mcpauth-lookalike", "proxy"]});
        assert_eq!(kind(&other), Kind::Local);
    }
}
