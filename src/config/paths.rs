//! Where each MCP client keeps its user-level config, for the config reader and for
//! `install` alike.

use std::path::{Path, PathBuf};

/// The operating systems whose client config locations differ. The paths are computed
/// for any of them, so each one's rules are tested on every build.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Os {
    Linux,
    Mac,
    Windows,
}

impl Os {
    /// The one this binary runs on (the BSDs follow Linux's XDG rules).
    pub const HERE: Os = if cfg!(target_os = "macos") {
        Os::Mac
    } else if cfg!(windows) {
        Os::Windows
    } else {
        Os::Linux
    };
}

/// The user-level files that sit under the home or a config directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserFile {
    /// `~/.gemini/settings.json`.
    Gemini,
    /// `~/.codeium/windsurf/mcp_config.json`.
    Windsurf,
    /// `$XDG_CONFIG_HOME/opencode/opencode.json` (on Windows too).
    OpenCode,
    /// `$XDG_CONFIG_HOME/zed/settings.json` (`~/.config/zed` on macOS),
    /// `%APPDATA%\Zed\settings.json` on Windows.
    Zed,
    /// `$XDG_CONFIG_HOME/goose/config.yaml` (`~/.config/goose` on macOS),
    /// `%APPDATA%\Block\goose\config\config.yaml` on Windows, or
    /// `$GOOSE_PATH_ROOT/config/config.yaml` anywhere.
    Goose,
}

pub fn user_file(file: UserFile, home: &Path, env: &dyn Fn(&str) -> Option<String>) -> PathBuf {
    user_file_on(Os::HERE, file, home, env)
}

fn user_file_on(
    os: Os,
    file: UserFile,
    home: &Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> PathBuf {
    match file {
        UserFile::Gemini => home.join(".gemini").join("settings.json"),
        UserFile::Windsurf => home
            .join(".codeium")
            .join("windsurf")
            .join("mcp_config.json"),
        // opencode reads the XDG variables on every OS.
        UserFile::OpenCode => xdg_config(home, env).join("opencode").join("opencode.json"),
        UserFile::Zed => match os {
            Os::Windows => appdata(home, env).join("Zed"),
            Os::Mac => home.join(".config").join("zed"),
            Os::Linux => env("FLATPAK_XDG_CONFIG_HOME")
                .map(PathBuf::from)
                .filter(|d| d.is_absolute())
                .unwrap_or_else(|| xdg_config(home, env))
                .join("zed"),
        }
        .join("settings.json"),
        // Goose moves all of its files under `GOOSE_PATH_ROOT` when that is set.
        UserFile::Goose => match env("GOOSE_PATH_ROOT").map(PathBuf::from) {
            Some(root) if root.is_absolute() => root.join("config"),
            _ if os == Os::Windows => appdata(home, env)
                .join("Block")
                .join("goose")
                .join("config"),
            _ => xdg_config(home, env).join("goose"),
        }
        .join("config.yaml"),
    }
}

/// `$XDG_CONFIG_HOME` when it is an absolute path, else `~/.config`.
fn xdg_config(home: &Path, env: &dyn Fn(&str) -> Option<String>) -> PathBuf {
    env("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .filter(|d| d.is_absolute())
        .unwrap_or_else(|| home.join(".config"))
}

/// A Windows known folder: the variable that names it, else where it is by default in
/// the profile (`AppData\{default}`).
fn windows_folder(
    var: &str,
    default: &str,
    home: &Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> PathBuf {
    env(var)
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| home.join("AppData").join(default))
}

/// Windows' roaming application data: `%APPDATA%`.
fn appdata(home: &Path, env: &dyn Fn(&str) -> Option<String>) -> PathBuf {
    windows_folder("APPDATA", "Roaming", home, env)
}

/// Where Codex keeps its config: `$CODEX_HOME/config.toml`, by default under `~/.codex`
/// (`%USERPROFILE%\.codex` on Windows).
pub fn codex_config(home: Option<&Path>, env: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
    match env("CODEX_HOME").filter(|v| !v.is_empty()) {
        Some(dir) => Some(PathBuf::from(dir).join("config.toml")),
        None => home.map(|h| h.join(".codex").join("config.toml")),
    }
}

/// The Microsoft Store (MSIX) build of Claude Desktop's package family: Windows keeps
/// that build's roaming files in the package's own folder instead of `%APPDATA%`.
const CLAUDE_MSIX_FAMILY: &str = "Claude_pzs8sxrjxfjjc";

/// Claude Desktop's config file for this OS, computed from `home` and the environment.
pub fn claude_desktop_config(home: &Path, env: &dyn Fn(&str) -> Option<String>) -> PathBuf {
    claude_desktop_config_on(Os::HERE, home, env, &|dir| dir.is_dir())
}

/// `is_dir` tells whether the Store build's folder exists: its config is there when the
/// app came from the Store (or WinGet, or an MSIX installer), and in `%APPDATA%` when it
/// came from the .exe installer.
fn claude_desktop_config_on(
    os: Os,
    home: &Path,
    env: &dyn Fn(&str) -> Option<String>,
    is_dir: &dyn Fn(&Path) -> bool,
) -> PathBuf {
    let file = "claude_desktop_config.json";
    match os {
        Os::Mac => home
            .join("Library")
            .join("Application Support")
            .join("Claude")
            .join(file),
        Os::Windows => {
            let packaged = windows_folder("LOCALAPPDATA", "Local", home, env)
                .join("Packages")
                .join(CLAUDE_MSIX_FAMILY)
                .join("LocalCache")
                .join("Roaming")
                .join("Claude");
            match is_dir(&packaged) {
                true => packaged.join(file),
                false => appdata(home, env).join("Claude").join(file),
            }
        }
        // No official Linux build; the community ones follow XDG like Electron does.
        Os::Linux => xdg_config(home, env).join("Claude").join(file),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_files_follow_the_variables_their_clients_read() {
        let home = Path::new("/home/ada");
        let user_file = |file, home, env: &dyn Fn(&str) -> Option<String>| {
            user_file_on(Os::Linux, file, home, env)
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

    fn vars(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k: &str| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn each_os_has_its_own_places_for_zed_and_goose() {
        let home = Path::new("/u/ada");
        let xdg = vars(&[("XDG_CONFIG_HOME", "/xdg"), ("APPDATA", "/roaming")]);
        let on = |os, file| user_file_on(os, file, home, &xdg);
        assert_eq!(
            on(Os::Linux, UserFile::Zed),
            Path::new("/xdg/zed/settings.json")
        );
        // Zed on macOS reads no XDG variable; Goose and opencode do.
        assert_eq!(
            on(Os::Mac, UserFile::Zed),
            Path::new("/u/ada/.config/zed/settings.json")
        );
        assert_eq!(
            on(Os::Mac, UserFile::Goose),
            Path::new("/xdg/goose/config.yaml")
        );
        assert_eq!(
            on(Os::Windows, UserFile::Zed),
            Path::new("/roaming/Zed/settings.json")
        );
        assert_eq!(
            on(Os::Windows, UserFile::Goose),
            Path::new("/roaming/Block/goose/config/config.yaml")
        );
        assert_eq!(
            on(Os::Windows, UserFile::OpenCode),
            Path::new("/xdg/opencode/opencode.json")
        );
        assert_eq!(
            on(Os::Windows, UserFile::Gemini),
            Path::new("/u/ada/.gemini/settings.json")
        );
        let flatpak = vars(&[("FLATPAK_XDG_CONFIG_HOME", "/var/app/zed/config")]);
        assert_eq!(
            user_file_on(Os::Linux, UserFile::Zed, home, &flatpak),
            Path::new("/var/app/zed/config/zed/settings.json")
        );
        assert_eq!(
            user_file_on(Os::Mac, UserFile::Zed, home, &flatpak),
            Path::new("/u/ada/.config/zed/settings.json")
        );
        // Without APPDATA, the default under the profile.
        assert_eq!(
            user_file_on(Os::Windows, UserFile::Zed, home, &vars(&[])),
            Path::new("/u/ada/AppData/Roaming/Zed/settings.json")
        );
    }

    #[test]
    fn claude_desktop_is_found_per_os_and_per_windows_installer() {
        let home = Path::new("/u/ada");
        let none = vars(&[]);
        let absent = |_: &Path| false;
        let on = |os, env: &dyn Fn(&str) -> Option<String>| {
            claude_desktop_config_on(os, home, env, &absent)
        };
        assert_eq!(
            on(Os::Mac, &none),
            Path::new("/u/ada/Library/Application Support/Claude/claude_desktop_config.json")
        );
        assert_eq!(
            on(Os::Linux, &none),
            Path::new("/u/ada/.config/Claude/claude_desktop_config.json")
        );
        let xdg = vars(&[("XDG_CONFIG_HOME", "/xdg")]);
        assert_eq!(
            on(Os::Linux, &xdg),
            Path::new("/xdg/Claude/claude_desktop_config.json")
        );
        // The .exe installer's build keeps it in %APPDATA%.
        let windows = vars(&[("APPDATA", "/roaming"), ("LOCALAPPDATA", "/local")]);
        assert_eq!(
            on(Os::Windows, &windows),
            Path::new("/roaming/Claude/claude_desktop_config.json")
        );
        assert_eq!(
            on(Os::Windows, &none),
            Path::new("/u/ada/AppData/Roaming/Claude/claude_desktop_config.json")
        );
        // The Store's build keeps it in its package folder, once it has one.
        let packaged = Path::new("/local/Packages/Claude_pzs8sxrjxfjjc/LocalCache/Roaming/Claude");
        let store_build = |dir: &Path| dir == packaged;
        assert_eq!(
            claude_desktop_config_on(Os::Windows, home, &windows, &store_build),
            packaged.join("claude_desktop_config.json")
        );
        assert_eq!(
            claude_desktop_config_on(Os::Linux, home, &windows, &store_build),
            Path::new("/u/ada/.config/Claude/claude_desktop_config.json")
        );
    }
}
