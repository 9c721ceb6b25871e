//! The committed completions and man pages are what `src/cli.rs` renders today, and the
//! man pages are clean roff.

use std::path::{Path, PathBuf};
use std::process::Command;

use mcpauth::generated::{REGENERATE, completion_files, man_pages};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every file that should be there, with its rendering.
fn expected() -> Vec<(PathBuf, Vec<u8>)> {
    let mut files: Vec<(PathBuf, Vec<u8>)> = completion_files()
        .into_iter()
        .map(|(name, text)| (Path::new("completions").join(name), text))
        .collect();
    files.extend(
        man_pages()
            .expect("rendering into memory does not fail")
            .into_iter()
            .map(|(name, text)| (Path::new("man").join(name), text)),
    );
    files
}

#[test]
fn committed_completions_and_man_pages_are_current() {
    let mut stale = Vec::new();
    for (rel, text) in expected() {
        match std::fs::read(root().join(&rel)) {
            Ok(committed) if committed == text => {}
            Ok(_) => stale.push(format!("{} differs", rel.display())),
            Err(e) => stale.push(format!("{} cannot be read: {e}", rel.display())),
        }
    }
    // A page whose subcommand was removed must go too.
    for dir in ["completions", "man"] {
        let wanted: Vec<PathBuf> = expected().into_iter().map(|(p, _)| p).collect();
        for entry in std::fs::read_dir(root().join(dir)).expect("the directory is committed") {
            let rel = Path::new(dir).join(entry.unwrap().file_name());
            if !wanted.contains(&rel) {
                stale.push(format!(
                    "{} is no longer generated: delete it",
                    rel.display()
                ));
            }
        }
    }
    assert!(
        stale.is_empty(),
        "generated files are stale:\n  {}\nrun `{REGENERATE}` and commit the result",
        stale.join("\n  ")
    );
}

#[test]
fn man_pages_render_without_warnings() {
    let pages: Vec<PathBuf> = man_pages()
        .unwrap()
        .into_iter()
        .map(|(name, _)| root().join("man").join(name))
        .collect();
    assert!(pages.len() > 5, "a page per subcommand: {pages:?}");
    for page in pages {
        let out = Command::new("man")
            .args(["--warnings=all", "-E", "UTF-8", "-l"])
            .arg(&page)
            .env("MANWIDTH", "80")
            .output()
            .expect("man (man-db) is installed; tests/run installs it");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success(),
            "man failed on {}: {stderr}",
            page.display()
        );
        assert!(
            stderr.is_empty(),
            "roff warnings in {}:\n{stderr}",
            page.display()
        );
        let text = plain(&String::from_utf8_lossy(&out.stdout));
        for section in [
            "SYNOPSIS",
            "EXIT STATUS",
            "ENVIRONMENT",
            "MCPAUTH_HOME",
            "NO_COLOR",
        ] {
            assert!(text.contains(section), "{} lacks {section}", page.display());
        }
    }
}

/// The page without grotty's overstriking (`X\x08X` for bold, `_\x08X` for underline).
fn plain(text: &str) -> String {
    let mut out: Vec<char> = Vec::with_capacity(text.len());
    for c in text.chars() {
        if c == '\u{8}' {
            out.pop();
            continue;
        }
        out.push(c);
    }
    out.into_iter().collect()
}

#[test]
fn the_top_page_documents_every_exit_code() {
    let (_, top) = man_pages()
        .unwrap()
        .into_iter()
        .find(|(name, _)| name == "mcpauth.1")
        .expect("the top page");
    let top = String::from_utf8(top).unwrap();
    for code in ["0", "1", "2", "4", "130"] {
        assert!(
            top.contains(&format!(".TP\n\\fB{code}\\fR\n")),
            "exit code {code}"
        );
    }
}

#[test]
fn completions_command_prints_each_shell_script() {
    for (shell, file) in [
        ("bash", "mcpauth.bash"),
        ("zsh", "_mcpauth"),
        ("fish", "mcpauth.fish"),
        ("powershell", "_mcpauth.ps1"),
        ("elvish", "mcpauth.elv"),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_mcpauth"))
            .args(["completions", shell])
            .env(
                "MCPAUTH_HOME",
                std::env::temp_dir().join("mcpauth-it-unused"),
            )
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{shell}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let committed = std::fs::read(root().join("completions").join(file)).unwrap();
        assert_eq!(
            out.stdout, committed,
            "`mcpauth completions {shell}` and completions/{file}"
        );
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("install"),
            "{shell} knows `install`"
        );
    }
    let bad = Command::new(env!("CARGO_BIN_EXE_mcpauth"))
        .args(["completions", "tcsh"])
        .output()
        .unwrap();
    assert_eq!(
        bad.status.code(),
        Some(2),
        "an unknown shell is a usage error"
    );
}

#[test]
fn man_command_writes_the_pages_into_a_new_directory() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("deep").join("man1");
    let out = Command::new(env!("CARGO_BIN_EXE_mcpauth"))
        .args(["man", "--out"])
        .arg(&out_dir)
        .env("MCPAUTH_HOME", dir.path().join("home"))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for (name, text) in man_pages().unwrap() {
        assert_eq!(std::fs::read(out_dir.join(&name)).unwrap(), text, "{name}");
    }
    assert!(out_dir.join("mcpauth-login.1").exists());
}
