//! `find` and `list` against real files in a temporary home and project, with the
//! environment passed as a closure so no test touches the process environment.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use super::*;

/// A temporary machine: `<tmp>/home` is `~`, the project is `~/work/proj`, and the
/// process runs in `~/work/proj/sub`.
struct World {
    _tmp: tempfile::TempDir,
    home: PathBuf,
    project: PathBuf,
    cwd: PathBuf,
    vars: HashMap<String, String>,
}

impl World {
    fn new() -> Self {
        let tmp = tempfile::tempdir().expect("create a temp dir");
        // Canonical, so that paths compare equal to what a real cwd would report.
        let root = tmp.path().canonicalize().expect("canonicalize temp dir");
        let home = root.join("home");
        let project = home.join("work/proj");
        let cwd = project.join("sub");
        fs::create_dir_all(&cwd).expect("create cwd");
        let mut vars = HashMap::new();
        vars.insert("API_KEY".to_owned(), "sk-live-TOPSECRET".to_owned());
        Self {
            _tmp: tmp,
            home,
            project,
            cwd,
            vars,
        }
    }

    fn write(&self, path: &Path, text: &str) -> PathBuf {
        fs::create_dir_all(path.parent().expect("a parent")).expect("create parent");
        fs::write(path, text).expect("write file");
        path.to_path_buf()
    }

    fn lookup(&self) -> Lookup {
        Lookup {
            cwd: self.cwd.clone(),
            home: Some(self.home.clone()),
            config_file: None,
        }
    }

    fn env(&self) -> impl Fn(&str) -> Option<String> + '_ {
        |name| self.vars.get(name).cloned()
    }

    fn find(&self, target: &str) -> Result<ServerEntry, ConfigError> {
        find(target, &self.lookup(), &self.env())
    }

    /// The entries, or the first problem when there is one.
    fn list(&self) -> Result<Vec<ServerEntry>, ConfigError> {
        let listing = self.listing();
        match listing.problems.into_iter().next() {
            Some(problem) => Err(problem),
            None => Ok(listing.entries),
        }
    }

    fn listing(&self) -> Listing {
        list(&self.lookup(), &self.env())
    }

    fn desktop_path(&self) -> PathBuf {
        super::paths::claude_desktop_config(&self.home, &self.env())
    }

    /// One file per source, each defining `<tag>` and `dup`, with URLs that say where
    /// they came from. Returns the files in precedence order with their kinds.
    fn all_sources(&self) -> Vec<(SourceKind, PathBuf)> {
        let mcp = |tag: &str, key: &str| {
            format!(
                r#"{{"{key}": {{"{tag}": {{"url": "https://{tag}.example/mcp"}},
                     "dup": {{"url": "https://{tag}.example/dup"}}}}}}"#
            )
        };
        let claude = format!(
            r#"{{"numStartups": 3,
                 "projects": {{"{}": {{"allowedTools": [], "mcpServers": {{
                    "local": {{"url": "https://local.example/mcp"}},
                    "dup": {{"url": "https://local.example/dup"}}}}}}}},
                 "mcpServers": {{"user": {{"url": "https://user.example/mcp"}},
                                 "dup": {{"url": "https://user.example/dup"}}}}}}"#,
            self.project.display()
        );
        let claude_path = self.write(&self.home.join(".claude.json"), &claude);
        vec![
            (
                SourceKind::ProjectMcpJson,
                self.write(
                    &self.project.join(".mcp.json"),
                    &mcp("project", "mcpServers"),
                ),
            ),
            (SourceKind::ClaudeCodeLocal, claude_path.clone()),
            (
                SourceKind::CursorProject,
                self.write(
                    &self.project.join(".cursor/mcp.json"),
                    &mcp("cursorproject", "mcpServers"),
                ),
            ),
            (
                SourceKind::VsCodeProject,
                self.write(
                    &self.project.join(".vscode/mcp.json"),
                    &mcp("vscode", "servers"),
                ),
            ),
            (SourceKind::ClaudeCodeUser, claude_path),
            (
                SourceKind::CursorUser,
                self.write(
                    &self.home.join(".cursor/mcp.json"),
                    &mcp("cursoruser", "mcpServers"),
                ),
            ),
            (
                SourceKind::ClaudeDesktop,
                self.write(&self.desktop_path(), &mcp("desktop", "mcpServers")),
            ),
        ]
    }
}

fn url_of(entry: &ServerEntry) -> &str {
    entry.url.as_deref().expect("a remote entry")
}

#[test]
fn every_source_is_read() {
    let w = World::new();
    let files = w.all_sources();
    let names = [
        "project",
        "local",
        "cursorproject",
        "vscode",
        "user",
        "cursoruser",
        "desktop",
    ];
    for ((kind, path), name) in files.iter().zip(names) {
        let e = w.find(name).unwrap_or_else(|err| panic!("{name}: {err}"));
        assert_eq!(&e.source.kind, kind, "{name}");
        assert_eq!(&e.source.path, path, "{name}");
        assert_eq!(url_of(&e), format!("https://{name}.example/mcp"));
        assert_eq!(e.transport, Transport::Http);
    }
}

#[test]
fn precedence_follows_the_documented_order() {
    let w = World::new();
    let files = w.all_sources();
    let hosts = [
        "project",
        "local",
        "cursorproject",
        "vscode",
        "user",
        "cursoruser",
        "desktop",
    ];
    // Take the winning definition of `dup` away one source at a time.
    for (i, (kind, path)) in files.iter().enumerate() {
        let e = w.find("dup").unwrap();
        assert_eq!(&e.source.kind, kind);
        assert_eq!(url_of(&e), format!("https://{}.example/dup", hosts[i]));
        match kind {
            // The local scope is taken away by editing the project entry out.
            SourceKind::ClaudeCodeLocal => {
                let text = fs::read_to_string(path).unwrap();
                let edited = text.replace(
                    "\"dup\": {\"url\": \"https://local.example/dup\"}",
                    "\"x\": 1",
                );
                assert_ne!(text, edited);
                fs::write(path, edited).unwrap();
            }
            SourceKind::ClaudeCodeUser => {
                let text = fs::read_to_string(path).unwrap();
                let edited = text.replace(
                    "\"dup\": {\"url\": \"https://user.example/dup\"}",
                    "\"y\": 2",
                );
                assert_ne!(text, edited);
                fs::write(path, edited).unwrap();
            }
            _ => fs::remove_file(path).unwrap(),
        }
    }
    assert!(matches!(w.find("dup"), Err(ConfigError::UnknownServer(_))));
}

#[test]
fn list_has_every_name_once_in_precedence_order() {
    let w = World::new();
    w.all_sources();
    // Broken shapes in a losing definition must not matter: it is never interpreted.
    let names: Vec<(String, SourceKind)> = w
        .list()
        .unwrap()
        .into_iter()
        .map(|e| (e.name, e.source.kind))
        .collect();
    let expected = [
        ("project", SourceKind::ProjectMcpJson),
        ("dup", SourceKind::ProjectMcpJson),
        ("local", SourceKind::ClaudeCodeLocal),
        ("cursorproject", SourceKind::CursorProject),
        ("vscode", SourceKind::VsCodeProject),
        ("user", SourceKind::ClaudeCodeUser),
        ("cursoruser", SourceKind::CursorUser),
        ("desktop", SourceKind::ClaudeDesktop),
    ];
    let expected: Vec<(String, SourceKind)> = expected
        .into_iter()
        .map(|(n, k)| (n.to_owned(), k))
        .collect();
    assert_eq!(names, expected);
}

#[test]
fn list_skips_shadowed_definitions_without_reading_them() {
    let w = World::new();
    w.write(
        &w.cwd.join(".mcp.json"),
        r#"{"mcpServers": {"a": {"url": "https://a.example/"}}}"#,
    );
    // The same name, broken, lower down: it loses, so its shape does not matter.
    w.write(
        &w.home.join(".cursor/mcp.json"),
        r#"{"mcpServers": {"a": {"url": 42}}}"#,
    );
    let all = w.list().unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].source.kind, SourceKind::ProjectMcpJson);
}

#[test]
fn nearest_parent_wins_and_parents_are_searched() {
    let w = World::new();
    let outer = w.write(
        &w.home.join("work/.mcp.json"),
        r#"{"mcpServers": {"s": {"url": "https://outer.example/"}}}"#,
    );
    let e = w.find("s").unwrap();
    assert_eq!(e.source.path, outer);
    let inner = w.write(
        &w.project.join(".mcp.json"),
        r#"{"mcpServers": {"s": {"url": "https://inner.example/"}}}"#,
    );
    let e = w.find("s").unwrap();
    assert_eq!(e.source.path, inner);
    assert_eq!(url_of(&e), "https://inner.example/");
}

#[test]
fn claude_local_scope_uses_the_nearest_project_directory() {
    let w = World::new();
    let deeper = w.cwd.join("not-an-ancestor");
    let text = serde_json::json!({
        "projects": {
            w.home.display().to_string(): {"mcpServers": {"s": {"url": "https://home.example/"}}},
            // Written with a trailing slash, as a hand-edited file might have it.
            format!("{}/", w.project.display()): {"mcpServers": {"s": {"url": "https://project.example/"}}},
            deeper.display().to_string(): {"mcpServers": {"s": {"url": "https://deeper.example/"}}},
            "/somewhere/else": {"mcpServers": {"t": {"url": "https://else.example/"}}}
        }
    });
    w.write(&w.home.join(".claude.json"), &text.to_string());
    let e = w.find("s").unwrap();
    assert_eq!(e.source.kind, SourceKind::ClaudeCodeLocal);
    assert_eq!(url_of(&e), "https://project.example/");
    // Another project's servers are not this directory's.
    assert!(matches!(w.find("t"), Err(ConfigError::UnknownServer(_))));
}

#[test]
fn claude_config_dir_moves_the_global_file() {
    let mut w = World::new();
    let elsewhere = w.home.join("alt");
    w.write(
        &elsewhere.join(".claude.json"),
        r#"{"mcpServers": {"alt": {"url": "https://alt.example/"}}}"#,
    );
    w.write(
        &w.home.join(".claude.json"),
        r#"{"mcpServers": {"home": {"url": "https://home.example/"}}}"#,
    );
    w.vars
        .insert("CLAUDE_CONFIG_DIR".into(), elsewhere.display().to_string());
    assert_eq!(
        w.find("alt").unwrap().source.path,
        elsewhere.join(".claude.json")
    );
    assert!(w.find("home").is_err());
}

#[test]
fn vscode_servers_with_comments_and_editor_placeholders() {
    let w = World::new();
    let path = w.write(
        &w.project.join(".vscode/mcp.json"),
        r#"{
  // Inputs are prompted by VS Code; mcpauth leaves them alone.
  "inputs": [{"type": "promptString", "id": "token", "password": true}],
  "servers": {
    "gh": {
      "type": "http",
      "url": "https://api.example.com/${workspaceFolder}/mcp",
      "headers": {"Authorization": "Bearer ${input:token}", "X-Key": "${env:API_KEY}"},
    },
    "local": {"type": "stdio", "command": "node", "args": ["server.js"]},
  },
}"#,
    );
    let e = w.find("gh").unwrap();
    assert_eq!(
        e.source,
        Source {
            kind: SourceKind::VsCodeProject,
            path
        }
    );
    assert_eq!(
        url_of(&e),
        format!("https://api.example.com/{}/mcp", w.project.display())
    );
    assert_eq!(e.headers["Authorization"], "Bearer ${input:token}");
    assert_eq!(e.headers["X-Key"], "sk-live-TOPSECRET");
    assert_eq!(w.find("local").unwrap().transport, Transport::Stdio);
}

#[test]
fn cursor_walk_does_not_take_the_user_file_for_a_project() {
    let w = World::new();
    w.write(
        &w.home.join(".cursor/mcp.json"),
        r#"{"mcpServers": {"c": {"url": "https://c.example/"}}}"#,
    );
    assert_eq!(w.find("c").unwrap().source.kind, SourceKind::CursorUser);
}

#[test]
fn claude_desktop_mcp_remote_entry_is_the_remote_server() {
    let w = World::new();
    w.write(
        &w.desktop_path(),
        r#"{"mcpServers": {"linear": {
            "command": "npx",
            "args": ["-y", "mcp-remote", "https://mcp.linear.example/sse", "--header", "Authorization:${AUTH_HEADER}"],
            "env": {"AUTH_HEADER": "Bearer from-env"}
        }}}"#,
    );
    let e = w.find("linear").unwrap();
    assert_eq!(e.source.kind, SourceKind::ClaudeDesktop);
    assert_eq!(e.transport, Transport::Http);
    assert_eq!(e.remote_url().unwrap(), "https://mcp.linear.example/sse");
    assert_eq!(e.headers["Authorization"], "Bearer from-env");
}

#[test]
fn explicit_file_is_the_only_source_and_takes_either_key() {
    let w = World::new();
    w.all_sources();
    let file = w.write(
        &w.home.join("elsewhere/custom.json"),
        r#"{"servers": {"x": {"url": "https://x.example/"}}, "mcpServers": {"y": {"url": "https://y.example/"}}}"#,
    );
    let lookup = Lookup {
        config_file: Some(file.clone()),
        ..w.lookup()
    };
    let env = w.env();
    for name in ["x", "y"] {
        let e = find(name, &lookup, &env).unwrap();
        assert_eq!(
            e.source,
            Source {
                kind: SourceKind::ExplicitFile,
                path: file.clone()
            }
        );
    }
    // `project` is in ./.mcp.json, which `--config` rules out.
    match find("project", &lookup, &env) {
        Err(ConfigError::UnknownServer(u)) => {
            assert_eq!(u.known.len(), 2);
            assert!(
                u.known
                    .iter()
                    .all(|(_, from)| from == "~/elsewhere/custom.json"),
                "{u:?}"
            );
        }
        other => panic!("expected unknown server, got {other:?}"),
    }
    assert_eq!(list(&lookup, &env).entries.len(), 2);

    let missing = Lookup {
        config_file: Some(w.home.join("nope.json")),
        ..w.lookup()
    };
    match find("x", &missing, &env) {
        Err(ConfigError::Read { path, .. }) => assert_eq!(path, w.home.join("nope.json")),
        other => panic!("expected a read error, got {other:?}"),
    }
}

#[test]
fn malformed_json_reports_file_line_and_column() {
    let w = World::new();
    let path = w.write(
        &w.project.join(".mcp.json"),
        "{\n  \"mcpServers\": {\n    \"a\": {\"url\": \"https://a/\"}\n    \"b\": {}\n  }\n}\n",
    );
    for result in [w.find("a").map(|_| ()), w.list().map(|_| ())] {
        match result {
            Err(ConfigError::Malformed {
                path: p,
                line,
                column,
                message,
            }) => {
                assert_eq!(p, path);
                assert_eq!((line, column), (4, 5));
                assert_eq!(message, "expected `,` or `}`");
            }
            other => panic!("expected malformed, got {other:?}"),
        }
    }
    let text = w.find("a").unwrap_err().to_string();
    assert_eq!(
        text,
        format!("`{}`:4:5: expected `,` or `}}`", path.display())
    );
}

#[test]
fn malformed_claude_json_reports_its_position_too() {
    let w = World::new();
    w.write(
        &w.home.join(".claude.json"),
        "{\"projects\": {},\n \"mcpServers\": [}\n",
    );
    match w.find("a") {
        Err(ConfigError::Malformed { line, column, .. }) => assert_eq!((line, column), (2, 17)),
        other => panic!("expected malformed, got {other:?}"),
    }
}

#[test]
fn wrong_shapes_name_the_file() {
    let w = World::new();
    let path = w.write(&w.project.join(".mcp.json"), r#"{"mcpServers": ["a"]}"#);
    let text = w.find("a").unwrap_err().to_string();
    assert_eq!(
        text,
        format!("`{}`: `mcpServers` is not an object", path.display())
    );

    fs::write(&path, r#"["not", "an", "object"]"#).unwrap();
    let text = w.find("a").unwrap_err().to_string();
    assert!(text.ends_with("the file is not a JSON object"), "{text}");

    fs::write(&path, r#"{"mcpServers": {"a": {"url": ["https://a/"]}}}"#).unwrap();
    let text = w.find("a").unwrap_err().to_string();
    assert_eq!(
        text,
        format!("`{}`: server `a`: `url` is not a string", path.display())
    );
    assert!(w.list().is_err());

    fs::remove_file(&path).unwrap();
    let claude = w.write(&w.home.join(".claude.json"), r#"{"projects": "oops"}"#);
    let text = w.find("a").unwrap_err().to_string();
    assert_eq!(
        text,
        format!("`{}`:1:19: `projects` is not an object", claude.display())
    );
}

#[test]
fn unreadable_file_is_an_error_not_a_skip() {
    let w = World::new();
    // A directory where the file should be cannot be read, even by root.
    fs::create_dir_all(w.project.join(".mcp.json")).unwrap();
    match w.find("a") {
        Err(e @ ConfigError::Read { .. }) => {
            assert!(e.to_string().contains(".mcp.json"), "{e}");
        }
        other => panic!("expected a read error, got {other:?}"),
    }
    fs::remove_dir(w.project.join(".mcp.json")).unwrap();
    // Not UTF-8 is unreadable too.
    fs::write(
        w.project.join(".mcp.json"),
        b"{\"mcpServers\": {\"\xff\": {}}}",
    )
    .unwrap();
    assert!(matches!(w.find("a"), Err(ConfigError::Read { .. })));
}

#[test]
fn a_hit_in_mcp_json_does_not_read_claude_json() {
    let w = World::new();
    w.write(
        &w.project.join(".mcp.json"),
        r#"{"mcpServers": {"a": {"url": "https://a.example/"}}}"#,
    );
    // Unparseable and unreadable: if `find` touched it, it would fail.
    fs::create_dir_all(w.home.join(".claude.json")).unwrap();
    assert_eq!(w.find("a").unwrap().source.kind, SourceKind::ProjectMcpJson);
    // …while `list`, which must read everything, names it and lists the rest.
    let listing = w.listing();
    assert!(matches!(listing.problems[..], [ConfigError::Read { .. }]));
    assert_eq!(listing.entries.len(), 1);

    fs::remove_dir(w.home.join(".claude.json")).unwrap();
    w.write(&w.home.join(".claude.json"), "{ this is not json");
    assert!(w.find("a").is_ok());
    let listing = w.listing();
    assert!(matches!(
        listing.problems[..],
        [ConfigError::Malformed { .. }]
    ));
    assert_eq!(listing.entries.len(), 1);
    // A name further down does run into it.
    assert!(matches!(w.find("zzz"), Err(ConfigError::Malformed { .. })));
}

#[test]
fn a_broken_sibling_entry_does_not_stop_find() {
    let w = World::new();
    w.write(
        &w.project.join(".mcp.json"),
        r#"{"mcpServers": {"good": {"url": "https://a.example/"}, "bad": {"url": 1}}}"#,
    );
    assert!(w.find("good").is_ok());
    assert!(matches!(w.find("bad"), Err(ConfigError::Shape { .. })));
}

#[test]
fn unknown_name_lists_what_exists_and_suggests() {
    let w = World::new();
    w.write(
        &w.project.join(".mcp.json"),
        r#"{"mcpServers": {"notion": {"url": "https://n.example/"}}}"#,
    );
    w.write(
        &w.home.join(".claude.json"),
        r#"{"mcpServers": {"linear": {"url": "https://l.example/"}, "notion": {"url": "https://x/"}}}"#,
    );
    let e = w.find("notoin").unwrap_err();
    let ConfigError::UnknownServer(u) = &e else {
        panic!("expected unknown server, got {e:?}");
    };
    assert_eq!(u.suggestion.as_deref(), Some("notion"));
    assert_eq!(
        u.known,
        vec![
            ("notion".to_owned(), "~/work/proj/.mcp.json".to_owned()),
            ("linear".to_owned(), "~/.claude.json".to_owned()),
        ]
    );
    assert_eq!(
        e.to_string(),
        "no server `notoin` was found (did you mean `notion`?); known servers: \
         notion (~/work/proj/.mcp.json), linear (~/.claude.json)"
    );
    let e = w.find("github").unwrap_err().to_string();
    assert!(!e.contains("did you mean"), "{e}");
}

#[test]
fn unknown_name_with_no_servers_says_where_it_looked() {
    let w = World::new();
    let text = w.find("anything").unwrap_err().to_string();
    assert!(
        text.starts_with("no server `anything` was found; no MCP servers are configured in "),
        "{text}"
    );
    for place in [
        "./.mcp.json (and parents)",
        "~/.claude.json",
        "./.vscode/mcp.json",
        "~/.cursor/mcp.json",
    ] {
        assert!(text.contains(place), "{place} missing from: {text}");
    }
    assert!(text.contains("claude_desktop_config.json"), "{text}");
}

#[test]
fn url_target_is_a_command_line_entry() {
    let w = World::new();
    w.write(
        &w.project.join(".mcp.json"),
        r#"{"mcpServers": {"a": {"url": "https://a.example/mcp", "headers": {"X": "y"}}}}"#,
    );
    let e = w.find("https://a.example/mcp").unwrap();
    assert_eq!(e.name, "https://a.example/mcp");
    assert_eq!(
        e.source,
        Source {
            kind: SourceKind::CommandLine,
            path: PathBuf::new()
        }
    );
    assert_eq!(e.transport, Transport::Http);
    assert!(e.headers.is_empty());
    assert!(w.find("HTTP://127.0.0.1:8080/mcp").is_ok());
    let e = w.find("https://exa mple.com/secret-path").unwrap_err();
    assert!(matches!(e, ConfigError::BadUrl { .. }));
    assert!(!e.to_string().contains("secret-path"), "{e}");
}

#[test]
fn stdio_server_has_no_remote_url() {
    let w = World::new();
    let path = w.write(
        &w.project.join(".mcp.json"),
        r#"{"mcpServers": {"fs": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-filesystem", "."]}}}"#,
    );
    let e = w.find("fs").unwrap();
    assert_eq!(e.transport, Transport::Stdio);
    let err = e.remote_url().unwrap_err().to_string();
    assert_eq!(
        err,
        format!(
            "server `fs` (from `{}`) runs locally over stdio; it has no OAuth for mcpauth to do",
            path.display()
        )
    );
}

#[test]
fn expansion_in_url_and_headers_with_defaults_and_the_unset_error() {
    let mut w = World::new();
    w.vars.insert("MCP_HOST".into(), "mcp.example.com".into());
    let path = w.write(
        &w.project.join(".mcp.json"),
        r#"{"mcpServers": {
            "ok": {"url": "https://${MCP_HOST}/${MCP_PATH:-mcp}", "headers": {"X-Api-Key": "${API_KEY}", "X-Region": "${REGION:-eu}", "X-Literal": "$API_KEY"}},
            "unset": {"url": "https://a.example/", "headers": {"Authorization": "Bearer ${API_KEY}${NOT_SET}"}}
        }}"#,
    );
    let e = w.find("ok").unwrap();
    assert_eq!(url_of(&e), "https://mcp.example.com/mcp");
    assert_eq!(e.headers["X-Api-Key"], "sk-live-TOPSECRET");
    assert_eq!(e.headers["X-Region"], "eu");
    assert_eq!(e.headers["X-Literal"], "$API_KEY");

    let err = w.find("unset").unwrap_err();
    assert!(
        matches!(&err, ConfigError::UnsetVariable { var, server, path: p }
        if var == "NOT_SET" && server == "unset" && p == &path),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(
        text.contains("`NOT_SET`") && text.contains("`unset`"),
        "{text}"
    );
    assert!(text.contains(&path.display().to_string()), "{text}");
    assert!(
        !text.contains("TOPSECRET") && !text.contains("Bearer"),
        "{text}"
    );
    assert!(matches!(w.list(), Err(ConfigError::UnsetVariable { .. })));
}

#[test]
fn no_error_text_contains_a_header_value() {
    let w = World::new();
    let secret = "sk-live-TOPSECRET";
    let cases = [
        // A sibling header that is not a string, next to a secret one.
        format!(
            r#"{{"mcpServers": {{"a": {{"url": "https://a/", "headers": {{"K": "{secret}", "N": 1}}}}}}}}"#
        ),
        // A bad URL in an entry whose headers hold the secret.
        format!(
            r#"{{"mcpServers": {{"a": {{"url": "ftp://{secret}/", "headers": {{"K": "{secret}"}}}}}}}}"#
        ),
        // Broken JSON right after the secret.
        format!(
            "{{\"mcpServers\": {{\"a\": {{\"url\": \"https://a/\", \"headers\": {{\"K\": \"{secret}\" \"L\"}}}}}}}}"
        ),
        // A file that is one string, the secret.
        format!("\"{secret}\""),
        // An unknown type, with the secret in headers.
        format!(
            r#"{{"mcpServers": {{"a": {{"type": "ws", "url": "https://a/", "headers": {{"K": "{secret}"}}}}}}}}"#
        ),
        // An unset variable next to the secret.
        format!(
            r#"{{"mcpServers": {{"a": {{"url": "https://a/", "headers": {{"K": "{secret} ${{NOPE}}"}}}}}}}}"#
        ),
    ];
    for (i, text) in cases.iter().enumerate() {
        w.write(&w.project.join(".mcp.json"), text);
        let err = w.find("a").expect_err(&format!("case {i} should fail"));
        let shown = format!("{err} / {err:?}");
        assert!(!shown.contains(secret), "case {i} leaks: {shown}");
        assert!(!shown.contains("TOPSECRET"), "case {i} leaks: {shown}");
    }
    // The secret in ~/.claude.json when `projects` is a string.
    fs::remove_file(w.project.join(".mcp.json")).unwrap();
    w.write(
        &w.home.join(".claude.json"),
        &format!(r#"{{"projects": "{secret}"}}"#),
    );
    let err = w.find("a").unwrap_err();
    assert!(!format!("{err} {err:?}").contains(secret));
    w.write(&w.home.join(".claude.json"), &format!("\"{secret}\""));
    let err = w.find("a").unwrap_err();
    assert!(!format!("{err} {err:?}").contains(secret));
}

#[test]
fn debug_output_hides_header_values() {
    let w = World::new();
    w.write(
        &w.project.join(".mcp.json"),
        r#"{"mcpServers": {"a": {"url": "https://a/", "headers": {"X-Api-Key": "${API_KEY}"}}}}"#,
    );
    let e = w.find("a").unwrap();
    assert_eq!(e.headers["X-Api-Key"], "sk-live-TOPSECRET");
    let shown = format!("{e:?}");
    assert!(shown.contains("X-Api-Key"), "{shown}");
    assert!(!shown.contains("TOPSECRET"), "{shown}");
}

#[test]
fn from_env_uses_the_process_directory() {
    let lookup = Lookup::from_env(Some(PathBuf::from("x.json")));
    assert_eq!(lookup.cwd, std::env::current_dir().unwrap());
    assert_eq!(lookup.config_file, Some(PathBuf::from("x.json")));
    assert!(lookup.home.is_some(), "this machine has a home directory");
}

// Symptom: with `GITHUB_PAT` unset, `status` warned and then said there were no servers,
// although the others in the same file read fine.
#[test]
fn one_broken_entry_hides_nothing_else() {
    let w = World::new();
    let path = w.write(
        &w.project.join(".mcp.json"),
        r#"{"mcpServers": {
            "github": {"type": "http", "url": "https://api.githubcopilot.com/mcp/",
                       "headers": {"Authorization": "Bearer ${GITHUB_PAT}"}},
            "notion": {"type": "http", "url": "https://mcp.notion.com/mcp"},
            "broken": {"url": 42},
            "local": {"command": "npx", "args": ["server"]}
        }}"#,
    );
    // A broken entry in a file with higher precedence still takes its name.
    w.write(
        &w.home.join(".cursor/mcp.json"),
        r#"{"mcpServers": {"github": {"url": "https://shadowed.example/"}}}"#,
    );
    let listing = w.listing();
    let names: Vec<&str> = listing.entries.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["notion", "local"]);
    assert_eq!(listing.problems.len(), 2, "{:?}", listing.problems);
    assert!(listing.problems.iter().any(|p| matches!(p,
        ConfigError::UnsetVariable { var, server, path: at }
        if var == "GITHUB_PAT" && server == "github" && at == &path)));
    assert!(
        listing
            .problems
            .iter()
            .any(|p| matches!(p, ConfigError::Shape { .. }))
    );
}

// Symptom: run from `/`, the known-servers list showed `./root/.claude.json`.
#[cfg(unix)]
#[test]
fn short_paths_use_tilde_for_the_home_and_dot_inside_a_project() {
    let lookup = |cwd: &str| Lookup {
        cwd: PathBuf::from(cwd),
        home: Some(PathBuf::from("/home/ada")),
        config_file: None,
    };
    let user = Path::new("/home/ada/.claude.json");
    let project = Path::new("/home/ada/work/app/.mcp.json");
    for cwd in ["/", "/home", "/home/ada", "/home/ada/work/app", "/srv"] {
        assert_eq!(
            sources::short_path(user, &lookup(cwd)),
            "~/.claude.json",
            "{cwd}"
        );
    }
    assert_eq!(
        sources::short_path(project, &lookup("/home/ada/work/app")),
        "./.mcp.json"
    );
    assert_eq!(
        sources::short_path(project, &lookup("/")),
        "~/work/app/.mcp.json"
    );
    assert_eq!(
        sources::short_path(Path::new("/srv/app/.mcp.json"), &lookup("/srv/app")),
        "./.mcp.json"
    );
    assert_eq!(
        sources::short_path(Path::new("/etc/mcp.json"), &lookup("/srv")),
        "/etc/mcp.json"
    );
}

#[test]
fn gemini_and_windsurf_user_files_are_read_in_their_own_spellings() {
    let w = World::new();
    w.write(
        &w.home.join(".gemini/settings.json"),
        r#"{"theme": "Default", "mcpServers": {"g": {"httpUrl": "https://g.example/mcp"}}}"#,
    );
    w.write(
        &w.home.join(".codeium/windsurf/mcp_config.json"),
        r#"{"mcpServers": {"w": {"serverUrl": "https://w.example/mcp"}}}"#,
    );
    let g = w.find("g").unwrap();
    assert_eq!(g.source.kind, SourceKind::GeminiUser);
    assert_eq!(g.url.as_deref(), Some("https://g.example/mcp"));
    let s = w.find("w").unwrap();
    assert_eq!(s.source.kind, SourceKind::WindsurfUser);
    assert_eq!(s.url.as_deref(), Some("https://w.example/mcp"));
    let names: Vec<String> = w.list().unwrap().into_iter().map(|e| e.name).collect();
    assert_eq!(names, ["g", "w"]);
}

#[test]
fn opencode_zed_and_goose_files_are_read_in_their_own_dialects() {
    let w = World::new();
    // XDG_CONFIG_HOME unset: `~/.config` is where all three keep their user files.
    w.write(
        &w.home.join(".config/opencode/opencode.json"),
        r#"{
  "$schema": "https://opencode.ai/config.json",
  // opencode allows comments
  "mcp": {
    "oc": {"type": "remote", "url": "https://oc.example/mcp", "headers": {"X-Key": "${API_KEY}"}},
    "oc-off": {"type": "remote", "url": "https://off.example/mcp", "enabled": false},
    "oc-local": {"type": "local", "command": ["npx", "-y", "mcp-remote", "https://ocl.example/sse"]},
  }
}"#,
    );
    w.write(
        &w.project.join("opencode.json"),
        r#"{"mcp": {"oc-project": {"type": "remote", "url": "https://ocp.example/mcp"}}}"#,
    );
    w.write(
        &w.home.join(".config/zed/settings.json"),
        r#"// Zed settings
{
  "theme": "One Dark",
  "context_servers": {
    "zed-remote": {"url": "https://z.example/mcp"},
    "zed-old": {"command": {"path": "npx", "args": ["mcp-remote", "https://zo.example/mcp"]}, "settings": {}},
    "zed-ext": {"source": "extension", "settings": {}},
  },
}"#,
    );
    w.write(
        &w.home.join(".config/goose/config.yaml"),
        "GOOSE_PROVIDER: openai\nextensions:\n  developer:\n    type: builtin\n    name: developer\n    enabled: true\n  goose-remote:\n    type: streamable_http\n    name: goose-remote\n    uri: https://g.example/mcp\n    enabled: true\n    headers: {}\n  goose-sse:\n    type: sse\n    uri: https://gs.example/sse\n    enabled: false\n",
    );
    let oc = w.find("oc").unwrap();
    assert_eq!(oc.source.kind, SourceKind::OpenCodeUser);
    assert_eq!(oc.headers["X-Key"], "sk-live-TOPSECRET");
    assert_eq!(
        w.find("oc-local").unwrap().url.as_deref(),
        Some("https://ocl.example/sse")
    );
    let project = w.find("oc-project").unwrap();
    assert_eq!(project.source.kind, SourceKind::OpenCodeProject);
    assert!(project.source.kind.is_project_file());
    assert_eq!(
        w.find("zed-old").unwrap().url.as_deref(),
        Some("https://zo.example/mcp")
    );
    let goose = w.find("goose-remote").unwrap();
    assert_eq!(goose.source.kind, SourceKind::GooseUser);
    assert_eq!(goose.url.as_deref(), Some("https://g.example/mcp"));
    let names: Vec<String> = w.list().unwrap().into_iter().map(|e| e.name).collect();
    assert_eq!(
        names,
        [
            "oc-project",
            "oc",
            "oc-local",
            "zed-remote",
            "zed-old",
            "goose-remote"
        ],
        "switched-off entries, extensions and builtins are left out"
    );
}

#[test]
fn an_entry_mcpauth_install_wrote_reads_as_the_server_it_proxies() {
    let w = World::new();
    let record = w.write(
        &w.home.join("record.json"),
        r#"{"mcpServers": {
            "rec": {"type": "http", "url": "https://rec.example/mcp", "headers": {"X-Key": "${API_KEY}"}},
            "loop": {"command": "mcpauth", "args": ["--config", "RECORD", "proxy", "loop"]}
        }}"#,
    );
    let text = fs::read_to_string(&record)
        .unwrap()
        .replace("RECORD", record.to_str().unwrap());
    fs::write(&record, text).unwrap();
    let record = record.to_str().unwrap();
    w.write(
        &w.project.join(".mcp.json"),
        &serde_json::json!({"mcpServers": {
            "rec": {"command": "mcpauth", "args": ["--config", record, "proxy", "rec"]},
            "url": {"command": "/usr/local/bin/mcpauth", "args": ["proxy", "https://u.example/mcp"]},
            "gone": {"command": "mcpauth", "args": ["--config", "/nonexistent/record.json", "proxy", "gone"]},
            "loop": {"command": "mcpauth", "args": ["--config", record, "proxy", "loop"]},
        }})
        .to_string(),
    );
    let rec = w.find("rec").unwrap();
    assert_eq!(rec.url.as_deref(), Some("https://rec.example/mcp"));
    assert_eq!(rec.headers["X-Key"], "sk-live-TOPSECRET");
    assert_eq!(
        rec.source.kind,
        SourceKind::ProjectMcpJson,
        "found where the client has it"
    );
    assert_eq!(
        w.find("url").unwrap().url.as_deref(),
        Some("https://u.example/mcp")
    );
    // A record that is gone, or an entry that leads to another proxy entry, is what it
    // says it is: a local command.
    for name in ["gone", "loop"] {
        assert_eq!(w.find(name).unwrap().transport, Transport::Stdio, "{name}");
    }
}
