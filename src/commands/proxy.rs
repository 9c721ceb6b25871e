//! `mcpauth proxy`: wires the transport in `crate::proxy` to the grant store.
//!
//! [`GrantTokens`] is the only thing the transport knows about OAuth. It refreshes
//! through `grants::fresh_token` (one refresh per expiry across processes), and when a
//! grant is missing, revoked or short of scopes it either signs in (at most one browser
//! login per server across all proxy processes, and not again soon after one failed) or
//! answers with a message that says which command to run.

use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};

use futures_util::future::BoxFuture;

use crate::cli::LoginMode;
use crate::context::Ctx;
use crate::error::Error;
use crate::grants::{self, Target};
use crate::oauth::authorize::has_desktop;
use crate::oauth::challenge::BearerChallenge;
use crate::proxy::{AuthUnavailable, TokenSource};
use crate::secret::Secret;
use crate::store::{GrantRecord, GrantSecrets};

/// After a failed browser login, how long before any proxy on this machine may open
/// another one for the same server.
const LOGIN_BACKOFF: Duration = Duration::from_secs(60);

pub struct GrantTokens {
    ctx: Ctx,
    target: Target,
    login: LoginMode,
    /// The grant and token in use, so that forwarding a message touches neither the
    /// index nor the keychain while the token is fresh.
    cached: Mutex<Option<Cached>>,
    /// Set when the proxy shuts down: no refresh or sign-in starts after that.
    closing: AtomicBool,
    /// Serializes logins inside this process; the login lock does it across processes.
    login_gate: tokio::sync::Mutex<()>,
}

struct Cached {
    rec: GrantRecord,
    secrets: GrantSecrets,
    /// The index file as it was when this was read: another process's refresh, logout
    /// or login changes it, and then the index is read again.
    stamp: Option<IndexStamp>,
    /// The grant's DPoP key, read once, when its tokens are bound to it.
    dpop: Option<crate::oauth::dpop::DpopKey>,
}

/// Modification time, size and (on Unix) inode of the index file: every write is an
/// atomic rename, so any change shows here.
#[derive(Debug, Clone, PartialEq, Eq)]
struct IndexStamp(SystemTime, u64, u64);

fn stamp(path: &std::path::Path) -> Option<IndexStamp> {
    let m = std::fs::metadata(path).ok()?;
    #[cfg(unix)]
    let ino = std::os::unix::fs::MetadataExt::ino(&m);
    #[cfg(not(unix))]
    let ino = 0;
    Some(IndexStamp(m.modified().ok()?, m.len(), ino))
}

impl GrantTokens {
    pub fn new(ctx: Ctx, target: Target, login: LoginMode) -> Self {
        Self {
            ctx,
            target,
            login,
            cached: Mutex::new(None),
            closing: AtomicBool::new(false),
            login_gate: tokio::sync::Mutex::new(()),
        }
    }

    fn unavailable(&self, why: &str) -> AuthUnavailable {
        let name = &self.target.name;
        AuthUnavailable {
            // Some clients mask a server's words that also appear in its command line
            // (Claude Code shows `[redacted]` for the name): `mcpauth status` needs none.
            message: format!(
                "{why}: run `mcpauth login {name}` in a terminal, then retry (`mcpauth status` lists every server and its state)"
            ),
        }
    }

    fn explain(&self, e: &Error) -> AuthUnavailable {
        match e {
            Error::LoginRequired { reason, .. } => self.unavailable(reason),
            other => AuthUnavailable {
                message: format!("mcpauth: {}", crate::error::inline(other)),
            },
        }
    }

    fn shutting_down(&self) -> Result<(), AuthUnavailable> {
        if self.closing.load(Ordering::SeqCst) {
            return Err(AuthUnavailable {
                message: "mcpauth is shutting down".into(),
            });
        }
        Ok(())
    }

    fn cached(&self) -> std::sync::MutexGuard<'_, Option<Cached>> {
        self.cached.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The cached token while it is fresh and the index has not changed: no I/O but a
    /// `stat`, no thread hop.
    fn cached_token(&self) -> Option<Secret> {
        let cached = self.cached();
        let c = cached.as_ref()?;
        let unchanged = c.stamp.is_some() && c.stamp == stamp(&self.ctx.home.index_path());
        let fresh = !grants::is_stale(&c.rec, &c.secrets, self.ctx.clock.now_ms());
        (unchanged && fresh).then(|| c.secrets.access_token.clone())
    }

    fn remember(
        &self,
        rec: GrantRecord,
        secrets: GrantSecrets,
        stamp: Option<IndexStamp>,
    ) -> Secret {
        let token = secrets.access_token.clone();
        let dpop = grants::dpop_key(&self.target.name, &rec, &secrets)
            .inspect_err(|e| tracing::warn!("the grant's DPoP key: {e}"))
            .ok()
            .flatten();
        *self.cached() = Some(Cached {
            rec,
            secrets,
            stamp,
            dpop,
        });
        token
    }

    async fn current(&self) -> Result<Option<(GrantRecord, Option<IndexStamp>)>, AuthUnavailable> {
        let path = self.ctx.home.index_path();
        // The stamp is taken before the read: a write in between only causes one more
        // read later, never a missed one.
        let (index, stamp) = self
            .ctx
            .blocking(move |v| {
                let stamp = stamp(&path);
                v.index().map(|i| (i, stamp))
            })
            .await
            .map_err(|e| self.explain(&e.into()))?;
        Ok(grants::find(&index, &self.target)
            .cloned()
            .map(|g| (g, stamp)))
    }

    /// A fresh token for `rec` (refreshing when due, or when `rejected` was refused),
    /// kept in the cache.
    async fn fresh(
        &self,
        rec: &GrantRecord,
        stamp: Option<IndexStamp>,
        rejected: Option<&Secret>,
    ) -> Result<Secret, Error> {
        let (rec, secrets) =
            grants::fresh_token(&self.ctx, &self.target.name, rec, rejected).await?;
        // Our own refresh rewrote the index, so the stamp from before it costs one more
        // read later; a stamp taken now could miss another process's write.
        Ok(self.remember(rec, secrets, stamp))
    }

    /// Without refreshing: the stored token while it has not expired (for the session's
    /// closing DELETE).
    async fn at_hand(&self) -> Option<Secret> {
        if let Some(c) = self.cached().as_ref() {
            return Some(c.secrets.access_token.clone());
        }
        let (rec, _) = self.current().await.ok().flatten()?;
        let secrets = self
            .ctx
            .blocking(move |v| v.grant_secrets(&rec))
            .await
            .ok()
            .flatten()?;
        let now = self.ctx.clock.now_ms();
        secrets
            .expires_at_ms
            .is_none_or(|at| at > now)
            .then_some(secrets.access_token)
    }

    /// Whether there is an identity provider sign-in to exchange from.
    async fn signed_in_to_an_idp(&self) -> bool {
        self.ctx
            .blocking(|v| v.index())
            .await
            .is_ok_and(|i| crate::signin::idp::signed_in(&i).next().is_some())
    }

    /// Signs in when allowed; otherwise says what to run.
    async fn login(&self, why: &str, scopes: Vec<String>) -> Result<Secret, AuthUnavailable> {
        self.shutting_down()?;
        let interactive_ok = match self.login {
            LoginMode::Never => false,
            LoginMode::Auto => {
                has_desktop()
                    || std::env::var_os("MCPAUTH_BROWSER").is_some_and(|v| !v.is_empty())
                    // The company's identity provider signs in with no browser at all.
                    || self.signed_in_to_an_idp().await
            }
        };
        if !interactive_ok {
            return Err(self.unavailable(why));
        }
        let _gate = self.login_gate.lock().await;
        let started = self.ctx.clock.now_ms();
        // One login per server across processes: whoever holds the lock signs in; the
        // others wait and then use the grant it stored, or its failure.
        let lock_name = format!("login-{}", short_hash(self.target.url.as_str()));
        let marker = self.ctx.home.lock_dir.join(format!("{lock_name}.failed"));
        let _lock = self
            .ctx
            .blocking(move |v| v.lock_grant(&lock_name))
            .await
            .map_err(|e| self.explain(&e.into()))?;
        if let Some((rec, stamp)) = self.current().await?
            && rec.obtained_at_ms >= started
            && !rec.needs_login
            && scopes.iter().all(|s| rec.scopes.contains(s))
        {
            return self
                .fresh(&rec, stamp, None)
                .await
                .map_err(|e| self.explain(&e));
        }
        if let Some((failed, ago)) = recent_failure(&marker) {
            return Err(self.unavailable(&format!(
                "{why} (a sign-in failed {} s ago: {failed})",
                ago.as_secs()
            )));
        }
        self.shutting_down()?;
        let mut opts = crate::signin::Options::default();
        opts.client.metadata_url = std::env::var("MCPAUTH_CLIENT_METADATA_URL")
            .ok()
            .filter(|u| !u.is_empty());
        match crate::signin::sign_in(&self.ctx, &self.target, &opts, &scopes).await {
            Ok(rec) => {
                let _ = std::fs::remove_file(&marker);
                let stamp = stamp(&self.ctx.home.index_path());
                self.fresh(&rec, stamp, None)
                    .await
                    .map_err(|e| self.explain(&e))
            }
            Err(e) => {
                // Shared with every proxy waiting on the lock: a decline or a timeout
                // opens no second tab for a while.
                let line = crate::error::inline(&e);
                if let Err(w) = crate::store::write_private_atomic(&marker, line.as_bytes()) {
                    tracing::warn!("cannot record the failed sign-in: {w}");
                }
                Err(match e {
                    Error::LoginRequired { .. } => self.explain(&e),
                    _ => self.unavailable(&format!("{why} (the sign-in failed: {line})")),
                })
            }
        }
    }
}

/// The failure recorded at `marker` and how long ago it was, while that is recent.
fn recent_failure(marker: &Path) -> Option<(String, Duration)> {
    use std::io::Read;
    let file = std::fs::File::open(marker).ok()?;
    let ago = file.metadata().ok()?.modified().ok()?.elapsed().ok()?;
    if ago >= LOGIN_BACKOFF {
        return None;
    }
    let mut text = String::new();
    file.take(4096).read_to_string(&mut text).ok()?;
    Some((text.trim().to_owned(), ago))
}

impl TokenSource for GrantTokens {
    fn bearer(&self) -> BoxFuture<'_, Result<Option<Secret>, AuthUnavailable>> {
        Box::pin(async move {
            if let Some(token) = self.cached_token() {
                return Ok(Some(token));
            }
            if self.closing.load(Ordering::SeqCst) {
                return Ok(self.at_hand().await);
            }
            // No grant: send without a token; a server that wants one answers 401.
            let Some((rec, stamp)) = self.current().await? else {
                *self.cached() = None;
                return Ok(None);
            };
            match self.fresh(&rec, stamp, None).await {
                Ok(token) => Ok(Some(token)),
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
            self.shutting_down()?;
            let scopes = challenge
                .and_then(BearerChallenge::from_header)
                .map(|c| c.scopes())
                .unwrap_or_default();
            let name = &self.target.name;
            let Some((rec, stamp)) = self.current().await? else {
                return self
                    .login(&format!("not signed in to `{name}`"), scopes)
                    .await;
            };
            match self.fresh(&rec, stamp, sent).await {
                Ok(token) if Some(&token) != sent => Ok(token),
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
            self.shutting_down()?;
            let wanted = BearerChallenge::from_header(challenge)
                .map(|c| c.scopes())
                .unwrap_or_default();
            let mut scopes = match self.current().await? {
                Some((rec, _)) => rec.scopes,
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

    fn proof(&self, token: &Secret, method: &str, url: &url::Url) -> Option<Secret> {
        let cached = self.cached();
        let key = cached
            .as_ref()
            .filter(|c| &c.secrets.access_token == token)?
            .dpop
            .clone()?;
        drop(cached);
        let nonce = crate::oauth::dpop::nonce_for(url);
        // This machine's real time: the server holds the proof against its own clock.
        let now = crate::clock::system_now_ms() / 1000;
        key.proof(method, url, Some(token), nonce.as_deref(), now)
            .inspect_err(|e| tracing::warn!("cannot make a DPoP proof: {e}"))
            .ok()
    }

    fn closing(&self) {
        self.closing.store(true, Ordering::SeqCst);
    }
}

fn short_hash(s: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(s.as_bytes())[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// For a server whose config brings its own `Authorization` header and that has no OAuth
/// grant here (`login --force` makes one): what to tell the host when the server refuses
/// that header. The proxy then never signs in or refreshes for it.
async fn static_credential(ctx: &Ctx, target: &Target) -> crate::error::Result<Option<String>> {
    let Some(header) = target.entry.static_authorization() else {
        return Ok(None);
    };
    let index = ctx.blocking(|v| v.index()).await?;
    if grants::find(&index, target).is_some() {
        return Ok(None);
    }
    let name = &target.name;
    Ok(Some(format!(
        "`{name}` refused the `{header}` header configured in `{}`: check the credential \
         it holds (mcpauth does not sign in to a server that brings its own; \
         `mcpauth login {name} --force` would use OAuth instead)",
        target.entry.origin(&ctx.lookup)
    )))
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
    let lifecycle = std::sync::Arc::clone(&ctx.grants);
    let tokens: std::sync::Arc<dyn crate::proxy::TokenSource> =
        match static_credential(&ctx, &target).await? {
            Some(refused) => std::sync::Arc::new(crate::proxy::NoAuth {
                message: Some(refused),
            }),
            None => std::sync::Arc::new(GrantTokens::new(ctx, target, args.login)),
        };
    let stdin = tokio::io::BufReader::with_capacity(64 * 1024, host_stdin());
    tracing::debug!(server = %crate::redact::url(opts.url.as_str()), name = %opts.server_name, "proxying");
    let result = crate::proxy::run(opts, tokens, stdin, host_stdout()).await;
    tracing::debug!("proxy finished");
    // A refresh the host's requests started finishes and is saved before we leave.
    lifecycle
        .settle(lifecycle.deadline + Duration::from_secs(5))
        .await;
    result?;
    Ok(())
}

type HostRead = Box<dyn tokio::io::AsyncRead + Unpin + Send>;
type HostWrite = Box<dyn tokio::io::AsyncWrite + Unpin + Send>;

/// stdin as the host gave it. tokio's own stdin reads through the blocking pool, a thread
/// hand-off per read; a pipe or a socket (what hosts give their servers) is read directly
/// instead, readiness-driven. A terminal or a file keeps tokio's.
fn host_stdin() -> HostRead {
    #[cfg(unix)]
    if let Some(r) = unix_stdio::reader() {
        return r;
    }
    Box::new(tokio::io::stdin())
}

/// stdout as the host gave it, the same way as [`host_stdin`].
fn host_stdout() -> HostWrite {
    #[cfg(unix)]
    if let Some(w) = unix_stdio::writer() {
        return w;
    }
    Box::new(tokio::io::stdout())
}

#[cfg(unix)]
mod unix_stdio {
    use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
    use std::os::unix::fs::FileTypeExt;

    use super::{HostRead, HostWrite};

    enum Kind {
        Fifo(std::fs::File),
        Socket(tokio::net::UnixStream),
    }

    /// A duplicate of `fd` made non-blocking, when it is a pipe or a Unix socket.
    fn open(fd: BorrowedFd<'_>) -> Option<Kind> {
        let file = std::fs::File::from(fd.try_clone_to_owned().ok()?);
        let kind = file.metadata().ok()?.file_type();
        if kind.is_fifo() {
            return Some(Kind::Fifo(file));
        }
        if kind.is_socket() {
            let socket = std::os::unix::net::UnixStream::from(OwnedFd::from(file));
            socket.set_nonblocking(true).ok()?;
            return tokio::net::UnixStream::from_std(socket)
                .ok()
                .map(Kind::Socket);
        }
        None
    }

    pub(super) fn reader() -> Option<HostRead> {
        match open(std::io::stdin().as_fd())? {
            Kind::Fifo(f) => tokio::net::unix::pipe::Receiver::from_file(f)
                .ok()
                .map(|r| Box::new(r) as HostRead),
            Kind::Socket(s) => Some(Box::new(s)),
        }
    }

    pub(super) fn writer() -> Option<HostWrite> {
        match open(std::io::stdout().as_fd())? {
            Kind::Fifo(f) => tokio::net::unix::pipe::Sender::from_file(f)
                .ok()
                .map(|w| Box::new(w) as HostWrite),
            Kind::Socket(s) => Some(Box::new(s)),
        }
    }
}
