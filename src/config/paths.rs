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
    /// `$XDG_CONFIG_HOME/goose/config.yaml`, or `$GOOSE_PATH_ROOT/config/config.yaml`.
    Goose,
}

pub fn user_file(file: UserFile, home: &Path, env: &dyn Fn(&str) -> Option<String>) -> PathBuf {
    match file {
        UserFile::Gemini => home.join(".gemini/settings.json"),
        UserFile::Windsurf => home.join(".codeium/windsurf/mcp_config.json"),
        UserFile::OpenCode => xdg_config(home, env).join("opencode/opencode.json"),
        UserFile::Zed => xdg_config(home, env).join("zed/settings.json"),
        // Goose moves all of its files under `GOOSE_PATH_ROOT` when that is set.
        UserFile::Goose => match env("GOOSE_PATH_ROOT").map(PathBuf::from) {
            Some(root) if root.is_absolute() => root.join("config/config.yaml"),
            _ => xdg_config(home, env).join("goose/config.yaml"),
        },
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_files_follow_the_variables_their_clients_read() {
        let home = Path::new("/home/ada");
        let vars = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        let none = vars(&[]);
        assert_eq!(
            user_file(UserFile::Goose, home, &none),
            Path::new("/home/ada/.config/goose/config.yaml")
        );
        let moved = vars(&[
            ("GOOSE_PATH_ROOT", "/srv/goose"),
            ("XDG_CONFIG_HOME", "/xdg"),
        ]);
        assert_eq!(
            user_file(UserFile::Goose, home, &moved),
            Path::new("/srv/goose/config/config.yaml")
        );
        assert_eq!(
            user_file(UserFile::Zed, home, &moved),
            Path::new("/xdg/zed/settings.json")
        );
        let relative = vars(&[("XDG_CONFIG_HOME", "rel"), ("GOOSE_PATH_ROOT", "rel")]);
        assert_eq!(
            user_file(UserFile::OpenCode, home, &relative),
            Path::new("/home/ada/.config/opencode/opencode.json")
        );
        assert_eq!(
            user_file(UserFile::Goose, home, &relative),
            Path::new("/home/ada/.config/goose/config.yaml")
        );
    }
}
