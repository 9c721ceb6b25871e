//! `mcpauth proxy`: wires the transport in `crate::proxy` to the grant store.
//!
//! [`GrantTokens`] is the only thing the transport knows about OAuth. It refreshes
//! through `grants::fresh_token` (one refresh per expiry across processes), and when a
//! grant is missing, revoked or short of scopes it either signs in (at most one browser
//! login per server across all proxy processes, and not again soon after one failed) or
//! answers with a message that says which command to run.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use futures_util::future::BoxFuture;

use crate::cli::{LoginArgs, LoginMode};
use crate::context::Ctx;
use crate::error::Error;
use crate::grants::{self, Target};
use crate::oauth::authorize::has_desktop;
use crate::oauth::challenge::BearerChallenge;
use crate::proxy::{AuthUnavailable, TokenSource};
use crate::secret::Secret;

/// After a failed browser login, how long before the proxy may open another one.
const LOGIN_BACKOFF: Duration = Duration::from_secs(60);

pub struct GrantTokens {
    ctx: Ctx,
    target: Target,
    login: LoginMode,
    last_failed_login: Mutex<Option<Instant>>,
    /// Serializes logins inside this process; the grant lock does it across processes.
    login_gate: tokio::sync::Mutex<()>,
}

impl GrantTokens {
    pub fn new(ctx: Ctx, target: Target, login: LoginMode) -> Self {
        Self {
            ctx,
            target,
            login,
            last_failed_login: Mutex::new(None),
            login_gate: tokio::sync::Mutex::new(()),
        }
    }

    fn unavailable(&self, why: &str) -> AuthUnavailable {
        let name = &self.target.name;
        AuthUnavailable {
            message: format!("{why}: run `mcpauth login {name}` in a terminal, then retry"),
        }
    }

    fn explain(&self, e: &Error) -> AuthUnavailable {
        match e {
            Error::LoginRequired { reason, .. } => self.unavailable(reason),
            other => AuthUnavailable {
                message: format!("mcpauth: {}", other.render().trim_end().replace('\n', "; ")),
            },
        }
    }

    async fn current(&self) -> Result<Option<crate::store::GrantRecord>, AuthUnavailable> {
        let index = self
            .ctx
            .blocking(|v| v.index())
            .await
            .map_err(|e| self.explain(&e.into()))?;
        Ok(grants::find(&index, &self.target).cloned())
    }

    /// Signs in when allowed; otherwise says what to run.
    async fn login(&self, why: &str, scopes: Vec<String>) -> Result<Secret, AuthUnavailable> {
        let interactive_ok = match self.login {
            LoginMode::Never => false,
            LoginMode::Auto => {
                has_desktop() || std::env::var_os("MCPAUTH_BROWSER").is_some_and(|v| !v.is_empty())
            }
        };
        if !interactive_ok {
            return Err(self.unavailable(why));
        }
        let _gate = self.login_gate.lock().await;
        if self
            .last_failed_login
            .lock()
            .unwrap()
            .is_some_and(|t| t.elapsed() < LOGIN_BACKOFF)
        {
            return Err(self.unavailable(&format!("{why} (the last sign-in failed)")));
        }
        let started = crate::oauth::tokens::now_ms();
        // One login per server across processes: whoever holds the lock signs in; the
        // others wait and then use the grant it stored.
        let lock_name = format!("login-{}", short_hash(self.target.url.as_str()));
        let _lock = self
            .ctx
            .blocking(move |v| v.lock_grant(&lock_name))
            .await
            .map_err(|e| self.explain(&e.into()))?;
        if let Some(rec) = self.current().await?
            && rec.obtained_at_ms >= started
            && !rec.needs_login
            && scopes.iter().all(|s| rec.scopes.contains(s))
        {
            return self.token_of(&rec).await;
        }
        let mut args = LoginArgs::defaults(&self.target.name, self.target.account.as_deref());
        args.client_metadata_url = std::env::var("MCPAUTH_CLIENT_METADATA_URL")
            .ok()
            .filter(|u| !u.is_empty());
        match crate::commands::login::sign_in(&self.ctx, &self.target, &args, &scopes).await {
            Ok(rec) => self.token_of(&rec).await,
            Err(e) => {
                *self.last_failed_login.lock().unwrap() = Some(Instant::now());
                Err(self.explain(&e))
            }
        }
    }

    async fn token_of(&self, rec: &crate::store::GrantRecord) -> Result<Secret, AuthUnavailable> {
        grants::fresh_token(&self.ctx, &self.target.name, rec, None)
            .await
            .map(|(_, s)| s.access_token)
            .map_err(|e| self.explain(&e))
    }
}

impl TokenSource for GrantTokens {
    fn bearer(&self) -> BoxFuture<'_, Result<Option<Secret>, AuthUnavailable>> {
        Box::pin(async move {
            // No grant: send without a token; a server that wants one answers 401.
            let Some(rec) = self.current().await? else {
                return Ok(None);
            };
            match grants::fresh_token(&self.ctx, &self.target.name, &rec, None).await {
                Ok((_, s)) => Ok(Some(s.access_token)),
                Err(Error::LoginRequired { reason, .. }) => {
                    self.login(&reason, Vec::new()).await.map(Some)
                }
                Err(e) => Err(self.explain(&e)),
            }
        })
    }

    fn unauthorized<'a>(
        &'a self,
        sent: Option<&'a Secret>,
        challenge: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Secret, AuthUnavailable>> {
        Box::pin(async move {
            let scopes = challenge
                .and_then(BearerChallenge::from_header)
                .map(|c| c.scopes())
                .unwrap_or_default();
            let name = &self.target.name;
            let Some(rec) = self.current().await? else {
                return self
                    .login(&format!("not signed in to `{name}`"), scopes)
                    .await;
            };
            match grants::fresh_token(&self.ctx, name, &rec, sent).await {
                Ok((_, s)) if Some(&s.access_token) != sent => Ok(s.access_token),
                Ok(_) => {
                    self.login(&format!("`{name}` refused its token"), scopes)
                        .await
                }
                Err(Error::LoginRequired { reason, .. }) => self.login(&reason, scopes).await,
                Err(e) => Err(self.explain(&e)),
            }
        })
    }

    fn insufficient_scope<'a>(
        &'a self,
        challenge: &'a str,
    ) -> BoxFuture<'a, Result<Secret, AuthUnavailable>> {
        Box::pin(async move {
            let wanted = BearerChallenge::from_header(challenge)
                .map(|c| c.scopes())
                .unwrap_or_default();
            let mut scopes = match self.current().await? {
                Some(rec) => rec.scopes,
                None => Vec::new(),
            };
            for s in wanted {
                if !scopes.contains(&s) {
                    scopes.push(s);
                }
            }
            let name = &self.target.name;
            self.login(
                &format!("`{name}` needs more scopes ({})", scopes.join(" ")),
                scopes,
            )
            .await
        })
    }
}

fn short_hash(s: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(s.as_bytes())[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Runs the proxy until stdin ends or the process is told to stop.
pub async fn run(ctx: Ctx, args: crate::cli::ProxyArgs) -> crate::error::Result<()> {
    use crate::cli::TransportArg;
    use crate::config::Transport as Configured;
    use crate::proxy::{ProxyOptions, Transport};

    let target = grants::resolve(&ctx, &args.target.server, args.target.account.as_deref())?;
    let mut opts = ProxyOptions::new(target.url.clone(), target.name.clone());
    opts.headers = target.entry.headers.clone();
    opts.transport = match (args.transport, target.entry.transport) {
        (TransportArg::Http, _) => Transport::Http,
        (TransportArg::Sse, _) | (TransportArg::Auto, Configured::Sse) => Transport::Sse,
        (TransportArg::Auto, _) => Transport::Auto,
    };
    let tokens = std::sync::Arc::new(GrantTokens::new(ctx, target, args.login));
    let stdin = tokio::io::BufReader::with_capacity(64 * 1024, tokio::io::stdin());
    crate::proxy::run(opts, tokens, stdin, tokio::io::stdout()).await?;
    Ok(())
}
