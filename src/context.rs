//! What every command reaches the outside world through: the home directory, the store,
//! the HTTP client, where configs are looked up, and what the terminal can do. Tests build
//! one pointed at temp directories and loopback servers.

use std::io::IsTerminal;
use std::sync::Arc;

use crate::cli::{Global, StoreArg};
use crate::clock::Clock;
use crate::config::Lookup;
use crate::error::{Error, Result};
use crate::home::Home;
use crate::store::{StoreChoice, Vault};

#[derive(Clone)]
pub struct Ctx {
    pub home: Home,
    pub vault: Arc<Vault>,
    /// Built on first use: loading the system's CA certificates costs more than the
    /// whole of a `token` call that needs no network.
    http: Arc<std::sync::OnceLock<reqwest::Client>>,
    pub lookup: Lookup,
    /// stdin and stderr are both terminals: prompts are possible.
    pub interactive: bool,
    /// stderr is a terminal: spinners and colour are welcome there.
    pub stderr_tty: bool,
    /// Refreshes in flight in this process, and what each grant's last one ended in.
    pub grants: Arc<crate::grants::Lifecycle>,
    /// The time as expiry, margins and cool-downs see it.
    pub clock: Clock,
}

impl Ctx {
    pub fn from_env(global: &Global) -> Result<Self> {
        let home = Home::from_env().map_err(|source| Error::Io {
            what: "cannot find a home directory for mcpauth's state".into(),
            source,
        })?;
        let choice = match global.store {
            None => StoreChoice::Auto,
            Some(StoreArg::Keyring) => StoreChoice::Keyring,
            Some(StoreArg::File) => StoreChoice::File,
        };
        let vault = Arc::new(Vault::open(&home, choice));
        let stderr_tty = std::io::stderr().is_terminal();
        Ok(Self {
            home,
            vault,
            http: Arc::default(),
            lookup: Lookup::from_env(global.config.clone()),
            interactive: stderr_tty && std::io::stdin().is_terminal(),
            stderr_tty,
            grants: Arc::new(crate::grants::Lifecycle::from_env()?),
            clock: Clock::from_env()?,
        })
    }

    /// A context for a program that uses mcpauth as a library (and for tests): the state
    /// under `home`, configs found through `lookup`, no terminal, and `clock`.
    pub fn new(home: Home, choice: StoreChoice, lookup: Lookup, clock: Clock) -> Self {
        let vault = Arc::new(Vault::open(&home, choice));
        Self {
            home,
            vault,
            http: Arc::default(),
            lookup,
            interactive: false,
            stderr_tty: false,
            grants: Arc::new(crate::grants::Lifecycle::new(
                crate::grants::REFRESH_DEADLINE,
            )),
            clock,
        }
    }

    /// The HTTP client for OAuth requests.
    pub fn http(&self) -> &reqwest::Client {
        self.http.get_or_init(crate::oauth::http::client)
    }

    /// Runs a blocking store call off the async workers (keychain calls block).
    pub async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Vault) -> T + Send + 'static,
    ) -> T {
        let vault = Arc::clone(&self.vault);
        tokio::task::spawn_blocking(move || f(&vault))
            .await
            .expect("store calls do not panic")
    }
}

/// The process environment, for `${VAR}` expansion in configs.
pub fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok()
}
