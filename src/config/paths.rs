//! Where each MCP client keeps its user-level config, for the config reader and for
//! `install` alike.

use std::path::{Path, PathBuf};

/// The user-level files that sit under the home or XDG config directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserFile {
    /// `~/.gemini/settings.json`.
    Gemini,
    /// `~/.codeium/windsurf/mcp_config.json`.
    Windsurf,
    /// `$XDG_CONFIG_HOME/opencode/opencode.json`.
    OpenCode,
    /// `$XDG_CONFIG_HOME/zed/settings.json`.
    Zed,
    /// `$XDG_CONFIG_HOME/goose/config.yaml`.
    Goose,
}

pub fn user_file(file: UserFile, home: &Path, env: &dyn Fn(&str) -> Option<String>) -> PathBuf {
    match file {
        UserFile::Gemini => home.join(".gemini/settings.json"),
        UserFile::Windsurf => home.join(".codeium/windsurf/mcp_config.json"),
        UserFile::OpenCode => xdg_config(home, env).join("opencode/opencode.json"),
        UserFile::Zed => xdg_config(home, env).join("zed/settings.json"),
        UserFile::Goose => xdg_config(home, env).join("goose/config.yaml"),
    }
}

/// `$XDG_CONFIG_HOME` when it is an absolute path, else `~/.config`. opencode, Zed and
/// Goose use it on macOS too.
fn xdg_config(home: &Path, env: &dyn Fn(&str) -> Option<String>) -> PathBuf {
    env("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .filter(|d| d.is_absolute())
        .unwrap_or_else(|| home.join(".config"))
}

/// Where Codex keeps its config: `$CODEX_HOME/config.toml`, by default under `~/.codex`.
pub fn codex_config(home: Option<&Path>, env: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
    match env("CODEX_HOME").filter(|v| !v.is_empty()) {
        Some(dir) => Some(PathBuf::from(dir).join("config.toml")),
        None => home.map(|h| h.join(".codex").join("config.toml")),
    }
}

/// Claude Desktop's config file for this OS, computed from `home` and the environment.
pub fn claude_desktop_config(home: &Path, env: &dyn Fn(&str) -> Option<String>) -> PathBuf {
    let file = "Claude/claude_desktop_config.json";
    if cfg!(target_os = "macos") {
        home.join("Library/Application Support").join(file)
    } else if cfg!(windows) {
        let appdata = env("APPDATA")
            .filter(|d| !d.is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(|| home.join("AppData").join("Roaming"));
        appdata.join("Claude").join("claude_desktop_config.json")
    } else {
        // No official Linux build; the community ones follow XDG like Electron does.
        xdg_config(home, env).join(file)
    }
}
