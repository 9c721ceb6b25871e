//! One server entry of a config file, from its JSON to a [`ServerEntry`].
//!
//! The clients agree on the core (`type`, `url`, `headers`, `command`, `args`) and differ at
//! the edges; unknown keys are ignored so that a file written for any of them reads here.
//! A stdio entry that only wraps a remote server in `mcp-remote` is read as that remote
//! server, because that is how people put OAuth servers into Claude Desktop.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::error::ConfigError;
use super::expand::{Unset, expand};
use super::{McpRemoteArgs, OauthSettings, ServerEntry, Source, Transport};

/// What an entry needs to know about the file it sits in.
pub(crate) struct Context<'a> {
    pub source: &'a Source,
    pub env: &'a dyn Fn(&str) -> Option<String>,
    /// Editor variables such as `${workspaceFolder}`, for the sources that define them.
    pub predefined: &'a [(&'static str, String)],
}

impl Context<'_> {
    fn shape(&self, what: String) -> ConfigError {
        ConfigError::Shape {
            path: self.source.path.clone(),
            what,
        }
    }

    fn unset(&self, server: &str, Unset(var): Unset) -> ConfigError {
        ConfigError::UnsetVariable {
            var,
            server: server.to_owned(),
            path: self.source.path.clone(),
        }
    }
}

pub(crate) fn parse(name: &str, value: &Value, cx: &Context) -> Result<ServerEntry, ConfigError> {
    parse_at(name, value, cx, true)
}

/// `follow`: whether an entry that runs `mcpauth proxy` is read as the server it proxies
/// (once: what it leads to is not followed again).
fn parse_at(
    name: &str,
    value: &Value,
    cx: &Context,
    follow: bool,
) -> Result<ServerEntry, ConfigError> {
    let obj = value
        .as_object()
        .ok_or_else(|| cx.shape(format!("server `{name}` is not an object")))?;
    let str_field = |key: &str| -> Result<Option<&str>, ConfigError> {
        match obj.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(cx.shape(format!("server `{name}`: `{key}` is not a string"))),
        }
    };
    // The spellings other clients use: `transport` (MCP gateways), `httpUrl` (Gemini CLI),
    // `serverUrl` (Windsurf), `streamableHttp` and `streamable_http` (Cline and others).
    let kind = match str_field("type")? {
        Some(kind) => Some(kind),
        None => str_field("transport")?,
    };
    let url = match str_field("url")? {
        Some(url) => Some(url),
        None => match str_field("httpUrl")? {
            Some(url) => Some(url),
            None => str_field("serverUrl")?,
        },
    };
    let command = str_field("command")?;
    let oauth = parse_oauth(name, obj, cx)?;

    let transport = match kind {
        Some("http" | "streamable-http" | "streamableHttp" | "streamable_http") => Transport::Http,
        Some("sse") => Transport::Sse,
        Some("stdio") => Transport::Stdio,
        Some(other) => {
            return Err(cx.shape(format!(
                "server `{name}` has type `{other}`; expected `http`, `streamable-http`, `sse` or `stdio`"
            )));
        }
        None if url.is_some() => Transport::Http,
        None if command.is_some() => Transport::Stdio,
        None => {
            return Err(cx.shape(format!("server `{name}` has neither `url` nor `command`")));
        }
    };

    if transport == Transport::Stdio {
        let args = string_list(name, obj, "args", cx)?;
        if let Some(remote) = command.and_then(|command| mcp_remote(command, &args)) {
            return remote_from_wrapper(name, obj, remote, oauth, cx);
        }
        // What `mcpauth install` wrote still names its server: `proxy URL`, or the
        // original entry in install's record. So `login`, `status` and `doctor` keep
        // finding it in the client's file.
        if let Some(proxied) = command
            .filter(|_| follow)
            .and_then(|command| proxied(command, &args))
        {
            let original = match proxied {
                Proxied::Url(url) => Some(serde_json::json!({ "type": "http", "url": url })),
                Proxied::Recorded { record, name } => {
                    super::sources::recorded_entry(&record, &name)
                }
            };
            if let Some(original) = original {
                return parse_at(name, &original, cx, false);
            }
        }
        return Ok(ServerEntry {
            name: name.to_owned(),
            source: cx.source.clone(),
            transport,
            url: None,
            headers: BTreeMap::new(),
            oauth,
            mcp_remote: None,
        });
    }

    let url = url.ok_or_else(|| {
        cx.shape(format!(
            "server `{name}` is a remote server (type `{}`) but has no `url`",
            kind.unwrap_or("http")
        ))
    })?;
    let url = expand(url, cx.env, cx.predefined).map_err(|e| cx.unset(name, e))?;
    check_url(&url, || {
        format!("server `{name}` in `{}`", cx.source.path.display())
    })?;

    let mut headers = BTreeMap::new();
    match obj.get("headers") {
        None | Some(Value::Null) => {}
        Some(Value::Object(map)) => {
            for (header, value) in map {
                let Value::String(value) = value else {
                    return Err(cx.shape(format!(
                        "server `{name}`: header `{header}` is not a string"
                    )));
                };
                let value = expand(value, cx.env, cx.predefined).map_err(|e| cx.unset(name, e))?;
                headers.insert(header.clone(), value);
            }
        }
        Some(_) => {
            return Err(cx.shape(format!("server `{name}`: `headers` is not an object")));
        }
    }

    Ok(ServerEntry {
        name: name.to_owned(),
        source: cx.source.clone(),
        transport,
        url: Some(url),
        headers,
        oauth,
        mcp_remote: None,
    })
}

/// Accepts only absolute http(s) URLs. `origin` says where the URL came from; the URL
/// itself never goes into the error.
pub(crate) fn check_url(url: &str, origin: impl FnOnce() -> String) -> Result<(), ConfigError> {
    let problem = match url::Url::parse(url) {
        Ok(parsed) if matches!(parsed.scheme(), "http" | "https") => return Ok(()),
        Ok(parsed) => format!(
            "the URL must start with http:// or https://, not `{}:`",
            parsed.scheme()
        ),
        Err(e) => format!("the URL is not valid ({e})"),
    };
    Err(ConfigError::BadUrl {
        origin: origin(),
        problem,
    })
}

fn string_list(
    name: &str,
    obj: &Map<String, Value>,
    key: &str,
    cx: &Context,
) -> Result<Vec<String>, ConfigError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| match item {
                Value::String(s) => Ok(s.clone()),
                _ => Err(cx.shape(format!("server `{name}`: `{key}` must hold only strings"))),
            })
            .collect(),
        Some(_) => Err(cx.shape(format!("server `{name}`: `{key}` is not an array"))),
    }
}

/// Claude Code's `oauth` block. Unknown keys are ignored like everywhere else.
fn parse_oauth(
    name: &str,
    obj: &Map<String, Value>,
    cx: &Context,
) -> Result<OauthSettings, ConfigError> {
    let block = match obj.get("oauth") {
        None | Some(Value::Null) => return Ok(OauthSettings::default()),
        Some(Value::Object(block)) => block,
        Some(_) => return Err(cx.shape(format!("server `{name}`: `oauth` is not an object"))),
    };
    let text = |key: &str| -> Result<Option<String>, ConfigError> {
        match block.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(cx.shape(format!("server `{name}`: `oauth.{key}` is not a string"))),
        }
    };
    let callback_port = match block.get("callbackPort") {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => Some(
            n.as_u64()
                .and_then(|n| u16::try_from(n).ok())
                .filter(|&n| n != 0)
                .ok_or_else(|| {
                    cx.shape(format!(
                        "server `{name}`: `oauth.callbackPort` must be a port number from 1 to 65535, not {n}"
                    ))
                })?,
        ),
        Some(_) => {
            return Err(cx.shape(format!(
                "server `{name}`: `oauth.callbackPort` is not a number"
            )));
        }
    };
    let scopes = match block.get("scopes") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(crate::oauth::scope_words(s).collect()),
        Some(Value::Array(items)) => Some(
            items
                .iter()
                .map(|item| item.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| {
                    cx.shape(format!(
                        "server `{name}`: `oauth.scopes` must hold only strings"
                    ))
                })?,
        ),
        Some(_) => {
            return Err(cx.shape(format!(
                "server `{name}`: `oauth.scopes` must be an array of strings or one space-separated string"
            )));
        }
    };
    let authorization_url = text("authorizationUrl")?;
    let token_url = text("tokenUrl")?;
    if authorization_url.is_some() != token_url.is_some() {
        return Err(cx.shape(format!(
            "server `{name}`: `oauth.authorizationUrl` and `oauth.tokenUrl` go together"
        )));
    }
    // A metadata file named relative to the config is found beside it, wherever the
    // client runs from.
    let auth_server_metadata_url = text("authServerMetadataUrl")?.map(|pinned| {
        match crate::oauth::discovery::metadata_file(&pinned) {
            Some(path) if path.is_relative() => cx
                .source
                .path
                .parent()
                .map_or(path.clone(), |dir| dir.join(&path))
                .to_string_lossy()
                .into_owned(),
            _ => pinned,
        }
    });
    let provider = match text("provider")? {
        None => None,
        Some(p) => Some(crate::oauth::profile::Provider::parse(&p).ok_or_else(|| {
            cx.shape(format!(
                "server `{name}`: `oauth.provider` is `{}`; expected `entra`, `google` or `standard`",
                p.escape_debug()
            ))
        })?),
    };
    let resource = match block.get("resource") {
        None | Some(Value::Null) => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(_) => {
            return Err(cx.shape(format!(
                "server `{name}`: `oauth.resource` must be true or false"
            )));
        }
    };
    let params = match block.get("params") {
        None | Some(Value::Null) => BTreeMap::new(),
        Some(Value::Object(m)) => m
            .iter()
            .map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_owned())))
            .collect::<Option<BTreeMap<_, _>>>()
            .ok_or_else(|| {
                cx.shape(format!(
                    "server `{name}`: `oauth.params` must map names to strings"
                ))
            })?,
        Some(_) => {
            return Err(cx.shape(format!("server `{name}`: `oauth.params` must be an object")));
        }
    };
    Ok(OauthSettings {
        provider,
        resource,
        params,
        client_id: text("clientId")?,
        callback_port,
        auth_server_metadata_url,
        scopes,
        authorization_url,
        token_url,
        revocation_url: text("revocationUrl")?,
    })
}

/// What an `mcp-remote` command line says about the server it wraps.
#[derive(Debug, PartialEq, Eq)]
struct McpRemote {
    url: String,
    /// `--header Name:value` pairs, values not yet expanded.
    headers: Vec<(String, String)>,
    /// mcp-remote's optional second positional argument, its OAuth callback port.
    callback_port: Option<u16>,
}

/// Recognises `npx -y mcp-remote URL ...`, `mcp-remote URL ...` and wrappers around them
/// (`cmd /c npx ...` on Windows): the first `mcp-remote` word, then its arguments as
/// mcp-remote reads them: `--header V` pairs anywhere, the URL first among the rest.
fn mcp_remote(command: &str, args: &[String]) -> Option<McpRemote> {
    let words: Vec<&str> = std::iter::once(command)
        .chain(args.iter().map(String::as_str))
        .collect();
    let at = words.iter().position(|w| is_mcp_remote(w))?;
    let mut headers = Vec::new();
    let mut positional = Vec::new();
    let mut rest = words[at + 1..].iter();
    while let Some(word) = rest.next() {
        if *word == "--header" {
            // mcp-remote skips a header it cannot parse (it logs a warning); so do we.
            if let Some((header, value)) = rest.next().and_then(|v| split_header(v)) {
                headers.push((header.to_owned(), value.to_owned()));
            }
        } else {
            positional.push(*word);
        }
    }
    let url = *positional.first()?;
    let lower = url.to_ascii_lowercase();
    if !lower.starts_with("http://") && !lower.starts_with("https://") {
        return None;
    }
    let callback_port = positional
        .get(1)
        .filter(|p| p.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|p| p.parse::<u16>().ok())
        .filter(|&p| p != 0);
    Some(McpRemote {
        url: url.to_owned(),
        headers,
        callback_port,
    })
}

/// The server an entry that runs `mcpauth ... proxy TARGET` reaches.
enum Proxied {
    Url(String),
    /// `mcpauth --config RECORD proxy NAME`.
    Recorded {
        record: std::path::PathBuf,
        name: String,
    },
}

fn proxied(command: &str, args: &[String]) -> Option<Proxied> {
    if program(command) != "mcpauth" {
        return None;
    }
    let at = args.iter().position(|a| a == "proxy")?;
    let target = args.get(at + 1)?;
    if super::is_url(target) {
        return Some(Proxied::Url(target.clone()));
    }
    let config = args[..at]
        .iter()
        .position(|a| a == "--config")
        .and_then(|i| args.get(i + 1))?;
    Some(Proxied::Recorded {
        record: config.into(),
        name: target.clone(),
    })
}

/// The URL of the remote server an `mcp-remote` command line wraps.
pub(crate) fn wrapped_url(command: &str, args: &[String]) -> Option<String> {
    mcp_remote(command, args).map(|remote| remote.url)
}

/// `mcp-remote@1.2.3`, `/usr/bin/mcp-remote.cmd`, `mcpauth.exe` → the bare program name.
pub(crate) fn program(word: &str) -> &str {
    let base = word.rsplit(['/', '\\']).next().unwrap_or(word);
    let base = base.split('@').next().unwrap_or(base);
    [".cmd", ".exe", ".js"]
        .iter()
        .find_map(|ext| base.strip_suffix(ext))
        .unwrap_or(base)
}

fn is_mcp_remote(word: &str) -> bool {
    program(word) == "mcp-remote"
}

/// `Name: value`, with the header name limited to what mcp-remote accepts.
fn split_header(arg: &str) -> Option<(&str, &str)> {
    let (header, value) = arg.split_once(':')?;
    let valid = !header.is_empty()
        && header
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    valid.then(|| (header, value.trim_start()))
}

fn remote_from_wrapper(
    name: &str,
    obj: &Map<String, Value>,
    remote: McpRemote,
    mut oauth: OauthSettings,
    cx: &Context,
) -> Result<ServerEntry, ConfigError> {
    // mcp-remote expands `${VAR}` in headers from its own environment, which is the
    // entry's `env` block on top of the client's: people keep the key in `env` so that
    // the argument has no spaces (Windows clients split on them).
    let entry_env: BTreeMap<String, String> = match obj.get("env") {
        Some(Value::Object(vars)) => vars
            .iter()
            .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_owned())))
            .collect(),
        _ => BTreeMap::new(),
    };
    let env = |var: &str| entry_env.get(var).cloned().or_else(|| (cx.env)(var));
    let url = expand(&remote.url, &env, cx.predefined).map_err(|e| cx.unset(name, e))?;
    check_url(&url, || {
        format!(
            "server `{name}` in `{}` (the mcp-remote argument)",
            cx.source.path.display()
        )
    })?;
    let mut headers = BTreeMap::new();
    for (header, value) in &remote.headers {
        let value = expand(value, &env, cx.predefined).map_err(|e| cx.unset(name, e))?;
        headers.insert(header.clone(), value);
    }
    let written = McpRemoteArgs {
        url: remote.url,
        headers: remote.headers.into_iter().collect(),
    };
    if oauth.callback_port.is_none() {
        oauth.callback_port = remote.callback_port;
    }
    Ok(ServerEntry {
        name: name.to_owned(),
        source: cx.source.clone(),
        transport: Transport::Http,
        url: Some(url),
        headers,
        oauth,
        mcp_remote: Some(written),
    })
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use serde_json::json;

    use super::*;
    use crate::config::SourceKind;

    fn source() -> Source {
        Source {
            kind: SourceKind::ProjectMcpJson,
            path: PathBuf::from("/p/.mcp.json"),
        }
    }

    fn env(var: &str) -> Option<String> {
        match var {
            "API_KEY" => Some("sk-live-SECRET".into()),
            "HOST" => Some("mcp.example.com".into()),
            _ => None,
        }
    }

    fn parse_json(value: Value) -> Result<ServerEntry, ConfigError> {
        let source = source();
        let cx = Context {
            source: &source,
            env: &env,
            predefined: &[],
        };
        parse("srv", &value, &cx)
    }

    fn shape_of(value: Value) -> String {
        match parse_json(value) {
            Err(ConfigError::Shape { what, .. }) => what,
            other => panic!("expected a shape error, got {other:?}"),
        }
    }

    #[test]
    fn type_is_inferred_from_url_or_command() {
        let e = parse_json(json!({"url": "https://a.example/mcp"})).unwrap();
        assert_eq!(e.transport, Transport::Http);
        assert_eq!(e.url.as_deref(), Some("https://a.example/mcp"));
        let e = parse_json(json!({"command": "node", "args": ["server.js"]})).unwrap();
        assert_eq!(e.transport, Transport::Stdio);
        assert_eq!(e.url, None);
    }

    #[test]
    fn explicit_types() {
        for (kind, transport) in [
            ("http", Transport::Http),
            ("streamable-http", Transport::Http),
            ("sse", Transport::Sse),
        ] {
            let e = parse_json(json!({"type": kind, "url": "http://127.0.0.1:1/sse"})).unwrap();
            assert_eq!(e.transport, transport, "{kind}");
        }
        for spelled in [
            json!({"type": "streamableHttp", "url": "https://a/mcp"}),
            json!({"type": "streamable_http", "url": "https://a/mcp"}),
            json!({"transport": "http", "url": "https://a/mcp"}),
            json!({"httpUrl": "https://a/mcp"}),
            json!({"serverUrl": "https://a/mcp"}),
        ] {
            let e = parse_json(spelled.clone()).unwrap();
            assert_eq!(e.transport, Transport::Http, "{spelled}");
            assert_eq!(e.url.as_deref(), Some("https://a/mcp"), "{spelled}");
        }
        let e = parse_json(json!({"transport": "sse", "serverUrl": "https://a/sse"})).unwrap();
        assert_eq!(e.transport, Transport::Sse);
        let e = parse_json(json!({"type": "stdio", "command": "x", "url": "https://a/"})).unwrap();
        assert_eq!(e.transport, Transport::Stdio);
        assert_eq!(e.url, None);
    }

    #[test]
    fn headers_expand_and_unknown_keys_are_ignored() {
        let e = parse_json(json!({
            "type": "http",
            "url": "https://${HOST}/mcp",
            "headers": {"X-Api-Key": "${API_KEY}", "X-Team": "${TEAM:-core}"},
            "alwaysAllow": ["x"],
            "disabled": false,
        }))
        .unwrap();
        assert_eq!(e.url.as_deref(), Some("https://mcp.example.com/mcp"));
        assert_eq!(e.headers["X-Api-Key"], "sk-live-SECRET");
        assert_eq!(e.headers["X-Team"], "core");
    }

    #[test]
    fn oauth_block_with_array_scopes() {
        let e = parse_json(json!({
            "url": "https://a.example/mcp",
            "oauth": {
                "clientId": "abc",
                "callbackPort": 8976,
                "authServerMetadataUrl": "https://as.example/.well-known/oauth-authorization-server",
                "scopes": ["read", "write"],
                "somethingNew": true
            }
        }))
        .unwrap();
        assert_eq!(
            e.oauth,
            OauthSettings {
                client_id: Some("abc".into()),
                callback_port: Some(8976),
                auth_server_metadata_url: Some(
                    "https://as.example/.well-known/oauth-authorization-server".into()
                ),
                scopes: Some(vec!["read".into(), "write".into()]),
                ..Default::default()
            }
        );
    }

    #[test]
    fn oauth_scopes_as_one_string() {
        let e =
            parse_json(json!({"url": "https://a/", "oauth": {"scopes": " read  write\tadmin "}}))
                .unwrap();
        assert_eq!(
            e.oauth.scopes,
            Some(vec!["read".into(), "write".into(), "admin".into()])
        );
    }

    #[test]
    fn oauth_wrong_shapes() {
        assert!(
            shape_of(json!({"url": "https://a/", "oauth": "x"}))
                .contains("`oauth` is not an object")
        );
        assert!(
            shape_of(json!({"url": "https://a/", "oauth": {"callbackPort": 70000}}))
                .contains("65535")
        );
        assert!(
            shape_of(json!({"url": "https://a/", "oauth": {"callbackPort": "80"}}))
                .contains("not a number")
        );
        assert!(
            shape_of(json!({"url": "https://a/", "oauth": {"scopes": [1]}}))
                .contains("only strings")
        );
        assert!(
            shape_of(json!({"url": "https://a/", "oauth": {"clientId": 5}}))
                .contains("`oauth.clientId`")
        );
    }

    #[test]
    fn wrong_shapes_name_the_server_and_key() {
        assert_eq!(
            shape_of(json!("https://a/")),
            "server `srv` is not an object"
        );
        assert_eq!(
            shape_of(json!({"url": 5})),
            "server `srv`: `url` is not a string"
        );
        assert_eq!(
            shape_of(json!({"url": "https://a/", "headers": []})),
            "server `srv`: `headers` is not an object"
        );
        assert_eq!(
            shape_of(json!({"url": "https://a/", "headers": {"Authorization": 12345}})),
            "server `srv`: header `Authorization` is not a string"
        );
        assert!(shape_of(json!({"type": "websocket", "url": "wss://a/"})).contains("`websocket`"));
        assert!(shape_of(json!({})).contains("neither `url` nor `command`"));
        assert!(shape_of(json!({"type": "sse"})).contains("no `url`"));
        assert!(shape_of(json!({"command": "x", "args": "y"})).contains("`args` is not an array"));
    }

    #[test]
    fn bad_urls_are_errors_without_the_url() {
        for url in [
            "ftp://a.example/mcp",
            "not a url",
            "https://",
            "/relative/path",
        ] {
            match parse_json(json!({"url": url, "headers": {"A": "${API_KEY}"}})) {
                Err(e @ ConfigError::BadUrl { .. }) => {
                    let text = e.to_string();
                    assert!(text.contains("server `srv` in `/p/.mcp.json`"), "{text}");
                    assert!(!text.contains(url), "{text}");
                }
                other => panic!("{url}: expected BadUrl, got {other:?}"),
            }
        }
        let text = parse_json(json!({"url": "ftp://a/"}))
            .unwrap_err()
            .to_string();
        assert!(text.contains("not `ftp:`"), "{text}");
    }

    #[test]
    fn unset_variable_names_variable_server_and_file_but_not_the_value() {
        let e = parse_json(json!({
            "url": "https://a/",
            "headers": {"Authorization": "Bearer ${MISSING_TOKEN} and ${API_KEY}"}
        }))
        .unwrap_err();
        let text = e.to_string();
        assert!(text.contains("`MISSING_TOKEN`"), "{text}");
        assert!(text.contains("server `srv`"), "{text}");
        assert!(text.contains("/p/.mcp.json"), "{text}");
        assert!(!text.contains("Bearer"), "{text}");
        assert!(!text.contains("sk-live-SECRET"), "{text}");
    }

    #[test]
    fn mcp_remote_through_npx_is_the_remote_server() {
        let e = parse_json(json!({
            "command": "npx",
            "args": ["-y", "mcp-remote@latest", "https://mcp.linear.app/sse", "--header", "Authorization:Bearer ${AUTH}", "--header", "X-Team: core"],
            "env": {"AUTH": "from-env-block"}
        }))
        .unwrap();
        assert_eq!(e.transport, Transport::Http);
        assert_eq!(e.url.as_deref(), Some("https://mcp.linear.app/sse"));
        assert_eq!(e.headers["Authorization"], "Bearer from-env-block");
        assert_eq!(e.headers["X-Team"], "core");
    }

    #[test]
    fn mcp_remote_forms() {
        let words = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let r = mcp_remote(
            "mcp-remote",
            &words(&["https://a.example/mcp", "3334", "--transport", "http-only"]),
        )
        .unwrap();
        assert_eq!(r.url, "https://a.example/mcp");
        assert_eq!(r.callback_port, Some(3334));
        let r = mcp_remote(
            "cmd",
            &words(&[
                "/c",
                "npx",
                "-y",
                "mcp-remote",
                "--header",
                "A:b",
                "https://a.example/",
            ]),
        )
        .unwrap();
        assert_eq!(r.url, "https://a.example/");
        assert_eq!(r.headers, vec![("A".to_owned(), "b".to_owned())]);
        let r = mcp_remote(
            "/usr/local/bin/mcp-remote.cmd",
            &words(&["http://127.0.0.1:9/mcp"]),
        )
        .unwrap();
        assert_eq!(r.callback_port, None);
        // Not a remote wrapper: no URL after mcp-remote, or no mcp-remote at all.
        assert_eq!(mcp_remote("npx", &words(&["-y", "mcp-remote"])), None);
        assert_eq!(
            mcp_remote("npx", &words(&["-y", "mcp-remote", "--debug"])),
            None
        );
        assert_eq!(
            mcp_remote("npx", &words(&["-y", "server-everything", "https://a/"])),
            None
        );
        assert_eq!(
            mcp_remote("npx", &words(&["https://a/", "mcp-remote-ish"])),
            None
        );
    }

    #[test]
    fn mcp_remote_callback_port_fills_oauth() {
        let e = parse_json(
            json!({"command": "npx", "args": ["mcp-remote", "https://a.example/", "9876"]}),
        )
        .unwrap();
        assert_eq!(e.oauth.callback_port, Some(9876));
    }

    #[test]
    fn plain_stdio_server_has_no_url() {
        let e = parse_json(
            json!({"command": "npx", "args": ["-y", "@modelcontextprotocol/server-everything"]}),
        )
        .unwrap();
        assert_eq!(e.transport, Transport::Stdio);
        assert_eq!(e.url, None);
        assert!(e.headers.is_empty());
    }
}
