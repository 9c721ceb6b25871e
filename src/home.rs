//! Where mcpauth keeps its own state: the grant index, the file store, lock files.
//!
//! `MCPAUTH_HOME` puts everything under one directory (tests and portable installs use
//! it); otherwise the platform's directories from the `directories` crate are used.

use std::io;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct Home {
    /// Settings a person may edit.
    pub config_dir: PathBuf,
    /// The grant index and the file store.
    pub data_dir: PathBuf,
    /// Per-grant lock files; safe to delete when no mcpauth runs.
    pub lock_dir: PathBuf,
    /// The keychain service name under which this home's secrets are filed: `mcpauth`
    /// for the default home, `mcpauth@<dir>` under `MCPAUTH_HOME`, so that two homes on
    /// one machine never read or overwrite each other's secrets.
    pub keyring_service: String,
}

impl Home {
    /// From `MCPAUTH_HOME` when it is set and not empty, else the platform directories.
    pub fn from_env() -> io::Result<Self> {
        match std::env::var_os("MCPAUTH_HOME").filter(|v| !v.is_empty()) {
            Some(dir) => Ok(Self::at(Path::new(&dir))),
            None => {
                let dirs = directories::ProjectDirs::from("dev", "mcpauth", "mcpauth")
                    .ok_or_else(|| {
                        io::Error::new(
                            io::ErrorKind::NotFound,
                            "no home directory; set MCPAUTH_HOME to choose where mcpauth keeps its state",
                        )
                    })?;
                let data_dir = dirs.data_local_dir().to_path_buf();
                let lock_dir = dirs
                    .runtime_dir()
                    .map(Path::to_path_buf)
                    .unwrap_or_else(|| data_dir.join("locks"));
                Ok(Self {
                    config_dir: dirs.config_dir().to_path_buf(),
                    data_dir,
                    lock_dir,
                    keyring_service: "mcpauth".to_owned(),
                })
            }
        }
    }

    /// Everything under one directory.
    pub fn at(dir: &Path) -> Self {
        let dir = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
        Self {
            config_dir: dir.join("config"),
            data_dir: dir.join("data"),
            lock_dir: dir.join("locks"),
            keyring_service: format!("mcpauth@{}", dir.display()),
        }
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
