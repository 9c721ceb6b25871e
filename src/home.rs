//! Where mcpauth keeps its own state: the grant index, the file store, lock files.
//!
//! Every process that touches a grant must agree on this place, whatever environment
//! its MCP client started it with. Clients start servers with short environments (Codex,
//! the SDKs' stdio clients and the Inspector pass no `XDG_RUNTIME_DIR`, often no
//! `XDG_DATA_HOME` either; Codex also changes the working directory), so the location is
//! decided by two things only:
//! - `MCPAUTH_HOME`, when set and not empty: everything under that one directory (tests
//!   and portable installs use it);
//! - otherwise the user's home directory: `~/.local/share/mcpauth` and `~/.config/mcpauth`
//!   on Linux and the BSDs, the platform's application directories elsewhere (which do
//!   not depend on environment variables).
//!
//! `XDG_DATA_HOME`, `XDG_CONFIG_HOME` and `XDG_RUNTIME_DIR` are deliberately not read: a
//! terminal that sets them and an MCP client that strips them would otherwise see two
//! different sets of grants, and take two different locks on the same one. Lock files
//! live beside the data they guard, in `<data_dir>/locks`.

use std::io;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct Home {
    /// Settings a person may edit.
    pub config_dir: PathBuf,
    /// The grant index and the file store.
    pub data_dir: PathBuf,
    /// Per-grant lock files, inside `data_dir`; safe to delete when no mcpauth runs.
    pub lock_dir: PathBuf,
    /// The keychain service name under which this home's secrets are filed: `mcpauth`
    /// for the default home, `mcpauth@<dir>` under `MCPAUTH_HOME`, so that two homes on
    /// one machine never read or overwrite each other's secrets.
    pub keyring_service: String,
    /// What decided the location, for `status` and `doctor`.
    pub decided_by: DecidedBy,
}

/// Why mcpauth's state is where it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecidedBy {
    /// `MCPAUTH_HOME`.
    Variable,
    /// The user's home directory.
    UserHome,
}

impl std::fmt::Display for DecidedBy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            DecidedBy::Variable => "set by MCPAUTH_HOME",
            DecidedBy::UserHome => "from your home directory; MCPAUTH_HOME moves it",
        })
    }
}

impl Home {
    /// From `MCPAUTH_HOME` when it is set and not empty, else the user's home directory.
    pub fn from_env() -> io::Result<Self> {
        match std::env::var_os("MCPAUTH_HOME").filter(|v| !v.is_empty()) {
            Some(dir) => Ok(Self::at(Path::new(&dir))),
            None => Self::default_for_user(),
        }
    }

    /// The directory `MCPAUTH_HOME` named (made absolute), when it decided this home.
    pub fn chosen_dir(&self) -> Option<&Path> {
        match self.decided_by {
            DecidedBy::Variable => self.data_dir.parent(),
            DecidedBy::UserHome => None,
        }
    }

    /// Everything under one directory.
    pub fn at(dir: &Path) -> Self {
        let dir = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
        let data_dir = dir.join("data");
        Self {
            config_dir: dir.join("config"),
            lock_dir: data_dir.join("locks"),
            data_dir,
            keyring_service: format!("mcpauth@{}", dir.display()),
            decided_by: DecidedBy::Variable,
        }
    }

    fn default_for_user() -> io::Result<Self> {
        let none = || {
            io::Error::new(
                io::ErrorKind::NotFound,
                "no home directory; set MCPAUTH_HOME to choose where mcpauth keeps its state",
            )
        };
        let (config_dir, data_dir) = if cfg!(any(target_os = "macos", windows)) {
            let dirs =
                directories::ProjectDirs::from("dev", "mcpauth", "mcpauth").ok_or_else(none)?;
            (
                dirs.config_dir().to_path_buf(),
                dirs.data_local_dir().to_path_buf(),
            )
        } else {
            let base = directories::BaseDirs::new().ok_or_else(none)?;
            let home = base.home_dir();
            (
                home.join(".config").join("mcpauth"),
                home.join(".local").join("share").join("mcpauth"),
            )
        };
        Ok(Self {
            config_dir,
            lock_dir: data_dir.join("locks"),
            data_dir,
            keyring_service: "mcpauth".to_owned(),
            decided_by: DecidedBy::UserHome,
        })
    }

    /// The grant index.
    pub fn index_path(&self) -> PathBuf {
        self.data_dir.join("grants.json")
    }

    /// Grant indexes this home does not read but an earlier mcpauth (which followed
    /// `XDG_DATA_HOME`) may have left: `doctor` points at them so that nothing is lost
    /// silently.
    pub fn stray_indexes(&self) -> Vec<PathBuf> {
        if self.decided_by != DecidedBy::UserHome {
            return Vec::new();
        }
        std::env::var_os("XDG_DATA_HOME")
            .filter(|v| !v.is_empty())
            .map(|d| PathBuf::from(d).join("mcpauth").join("grants.json"))
            .filter(|p| p.is_file() && *p != self.index_path())
            .into_iter()
            .collect()
    }
}

/// Creates `dir` and its parents, private to the current user where the OS has modes.
pub fn create_private_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
    }
    #[cfg(not(unix))]
    {
        std::fs::create_dir_all(dir)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_sit_inside_the_data_they_guard() {
        let home = Home::at(Path::new("/tmp/some-home"));
        assert!(home.lock_dir.starts_with(&home.data_dir));
        assert_eq!(home.decided_by, DecidedBy::Variable);
    }
}
