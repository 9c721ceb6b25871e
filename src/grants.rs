//! From a server name to a usable access token: resolving the name through the configs,
//! finding the grant that covers the server, and refreshing it under the per-grant lock
//! so that any number of mcpauth processes cause one refresh per expiry.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio_util::task::TaskTracker;

use crate::config::{self, ServerEntry};
use crate::context::{Ctx, env_var};
use crate::error::{Context as _, Error, Result};
use crate::oauth::OauthError;
use crate::oauth::http::check_endpoint;
use crate::oauth::tokens::{self, ClientAuth, ClientCredentials, RequestExtras};
use crate::secret::Secret;
use crate::store::{GrantRecord, GrantSecrets, Index, Kept, Renewal};

/// A server as the user named it.
#[derive(Debug, Clone)]
pub struct Target {
    /// What the user typed: a config name or a URL. Used in messages and hints.
    pub name: String,
    pub entry: ServerEntry,
    /// The server's URL, canonical form.
    pub url: url::Url,
    pub account: Option<String>,
}

/// Resolves a name or URL to a remote server: through the configs, and for a name no
/// config defines, through the names grants were signed in under (a headless host that
/// imported its grants, a client that starts mcpauth in a directory of its own).
pub fn resolve(ctx: &Ctx, server: &str, account: Option<&str>) -> Result<Target> {
    let entry = match config::find(server, &ctx.lookup, &env_var) {
        Ok(entry) => entry,
        Err(config::ConfigError::UnknownServer(unknown)) if ctx.lookup.config_file.is_none() => {
            let index = ctx.vault.index()?;
            match signed_in_as(ctx, &index, server, account) {
                Some(entry) => entry,
                None => {
                    let unknown = with_signed_in_names(&index, unknown);
                    return Err(config::ConfigError::UnknownServer(unknown).into());
                }
            }
        }
        Err(e) => return Err(e.into()),
    };
    let raw = entry.remote_url()?.to_owned();
    let url = check_endpoint("MCP server URL", &raw)?;
    Ok(Target {
        name: server.to_owned(),
        entry,
        url,
        account: account.map(str::to_owned),
    })
}

/// The server a grant was signed in to under `name`, the newest such grant's.
fn signed_in_as(
    ctx: &Ctx,
    index: &Index,
    name: &str,
    account: Option<&str>,
) -> Option<ServerEntry> {
    let rec = index
        .grants
        .iter()
        .filter(|g| g.aliases.iter().any(|a| a == name) && g.key.account.as_deref() == account)
        .filter(|g| g.identity_provider.is_none())
        .max_by_key(|g| g.refreshed_at_ms.unwrap_or(g.obtained_at_ms))?;
    let url = rec
        .server_url
        .clone()
        .unwrap_or_else(|| rec.key.resource.clone());
    tracing::debug!(name, url = %url, "no config defines the name; using the grant's server");
    Some(ServerEntry {
        name: name.to_owned(),
        source: config::Source {
            kind: config::SourceKind::SignedIn,
            path: ctx.home.index_path(),
        },
        transport: config::Transport::Http,
        url: Some(url),
        headers: Default::default(),
        oauth: Default::default(),
        mcp_remote: None,
    })
}

/// `unknown` with the names grants were signed in under among the known ones, so that
/// the suggestion can find them too.
fn with_signed_in_names(index: &Index, unknown: config::UnknownServer) -> config::UnknownServer {
    let mut known = unknown.known;
    let servers = index
        .grants
        .iter()
        .filter(|g| g.identity_provider.is_none());
    for name in servers.flat_map(|g| g.aliases.iter()) {
        if !config::is_url(name) && !known.iter().any(|(n, _)| n == name) {
            known.push((name.clone(), "signed in".to_owned()));
        }
    }
    config::UnknownServer::new(&unknown.name, known, unknown.looked_in)
}

/// The grant for `target`: one whose resource covers the server's URL, for the same
/// account. A longer (more specific) resource wins, then a usable grant, then the newest.
/// An identity provider sign-in is never a server's grant.
pub fn find<'a>(index: &'a Index, target: &Target) -> Option<&'a GrantRecord> {
    index
        .grants
        .iter()
        .filter(|g| g.key.account == target.account && g.identity_provider.is_none())
        .filter(|g| {
            url::Url::parse(&g.key.resource)
                .is_ok_and(|r| crate::oauth::http::resource_covers(&r, &target.url))
        })
        .max_by_key(|g| {
            (
                g.key.resource.len(),
                !g.needs_login,
                g.refreshed_at_ms.unwrap_or(g.obtained_at_ms),
            )
        })
}

/// How long before expiry a token counts as stale: a minute, or a quarter of its lifetime
/// for short-lived tokens, so that a 2-second token is not refreshed on every use.
fn margin_ms(rec: &GrantRecord, expires_at_ms: i64) -> i64 {
    let issued = rec.refreshed_at_ms.unwrap_or(rec.obtained_at_ms);
    let lifetime = (expires_at_ms - issued).max(0);
    (lifetime / 4).min(60_000)
}

/// Whether `secrets` are due for a refresh at `now_ms` (within the margin of their expiry).
pub fn is_stale(rec: &GrantRecord, secrets: &GrantSecrets, now_ms: i64) -> bool {
    match secrets.expires_at_ms.or(rec.expires_at_ms) {
        Some(at) => now_ms + margin_ms(rec, at) >= at,
        None => false,
    }
}

/// What this process knows about its grants' refreshes: the tasks in flight (so that
/// shutdown can wait for them rather than cut them off), one gate per grant (so that
/// callers who arrive while a refresh runs share its outcome), and the deadline.
pub struct Lifecycle {
    background: TaskTracker,
    gates: Mutex<HashMap<String, Arc<tokio::sync::Mutex<Option<Failure>>>>>,
    /// One refresh, retries included, takes at most this long.
    pub deadline: Duration,
}

/// How the last refresh of a grant ended, for those who waited on it.
#[derive(Debug, Clone)]
struct Failure {
    at: Instant,
    /// `Some(reason)` when only a login helps.
    login_required: Option<String>,
    message: String,
}

/// A failed refresh answers everyone who waited on it, and everyone who comes this soon
/// after: a proxy forwarding calls one after another must not start an attempt per call
/// against a token endpoint that just failed.
const FAILURE_SHARED_FOR: Duration = Duration::from_secs(5);

/// The default deadline of one refresh, retries included.
pub const REFRESH_DEADLINE: Duration = Duration::from_secs(30);

impl Lifecycle {
    /// With the deadline from `MCPAUTH_REFRESH_TIMEOUT` (seconds) when set.
    pub fn from_env() -> Result<Self> {
        let deadline = match std::env::var("MCPAUTH_REFRESH_TIMEOUT") {
            Ok(v) if !v.trim().is_empty() => v
                .trim()
                .parse::<u64>()
                .ok()
                .filter(|s| *s > 0)
                .map(Duration::from_secs)
                .ok_or_else(|| {
                    Error::Usage(format!(
                        "MCPAUTH_REFRESH_TIMEOUT is `{}`: expected a whole number of seconds",
                        v.escape_debug()
                    ))
                })?,
            _ => REFRESH_DEADLINE,
        };
        Ok(Self::new(deadline))
    }

    pub fn new(deadline: Duration) -> Self {
        Self {
            background: TaskTracker::new(),
            gates: Mutex::default(),
            deadline,
        }
    }

    fn gate(&self, id: &str) -> Arc<tokio::sync::Mutex<Option<Failure>>> {
        let mut gates = self.gates.lock().unwrap_or_else(|p| p.into_inner());
        Arc::clone(gates.entry(id.to_owned()).or_default())
    }

    /// Waits (at most `limit`) for the refreshes in flight to finish and be saved; for a
    /// process about to exit. No refresh can start once this is called.
    pub async fn settle(&self, limit: Duration) {
        self.background.close();
        if tokio::time::timeout(limit, self.background.wait())
            .await
            .is_err()
        {
            tracing::warn!("a refresh was still running at exit");
        }
    }
}

/// A token for `rec` that is not about to expire. `rejected` is a token the server just
/// refused (401): it is refreshed even if it looks fresh, unless another process already
/// replaced it.
pub async fn fresh_token(
    ctx: &Ctx,
    name: &str,
    rec: &GrantRecord,
    rejected: Option<&Secret>,
) -> Result<(GrantRecord, GrantSecrets)> {
    if !rec.needs_login {
        let current = rec.clone();
        let secrets = ctx
            .blocking(move |v| v.grant_secrets(&current))
            .await?
            .ok_or_else(|| missing_secrets(name))?;
        if !needs_refresh(rec, &secrets, rejected, ctx.clock.now_ms()) {
            return Ok((rec.clone(), secrets));
        }
    }
    refresh(ctx, name, &rec.id, rejected).await
}

fn needs_refresh(
    rec: &GrantRecord,
    secrets: &GrantSecrets,
    rejected: Option<&Secret>,
    now_ms: i64,
) -> bool {
    is_stale(rec, secrets, now_ms) || rejected.is_some_and(|r| r == &secrets.access_token)
}

/// The slow path: one refresh at a time per grant in this process, run as a task of its
/// own so that a caller who goes away (a cancelled request, a closing proxy) cannot cut
/// it off between the server's answer and the save. Callers who arrived while it ran get
/// its outcome instead of starting another, and so do those who come within
/// [`FAILURE_SHARED_FOR`] of a failure.
async fn refresh(
    ctx: &Ctx,
    name: &str,
    id: &str,
    rejected: Option<&Secret>,
) -> Result<(GrantRecord, GrantSecrets)> {
    let arrived = ctx.clock.instant();
    let gate = ctx.grants.gate(id);
    let mut last = gate.lock().await;
    if let Some(f) = last
        .as_ref()
        .filter(|f| f.at > arrived || arrived.duration_since(f.at) < FAILURE_SHARED_FOR)
    {
        return Err(match &f.login_required {
            Some(reason) => Error::login_required(name, reason.clone()),
            None => Error::Other(f.message.clone()),
        });
    }
    if ctx.grants.background.is_closed() {
        return Err(Error::Other(format!(
            "not refreshing the token for `{name}`: mcpauth is shutting down"
        )));
    }
    let task = ctx.grants.background.spawn(transaction(
        ctx.clone(),
        name.to_owned(),
        id.to_owned(),
        rejected.cloned(),
    ));
    let result = task.await.unwrap_or_else(|e| {
        Err(Error::Other(format!(
            "the refresh of `{name}` stopped unexpectedly: {e}"
        )))
    });
    *last = result.as_ref().err().map(|e| Failure {
        at: ctx.clock.instant(),
        login_required: match e {
            Error::LoginRequired { reason, .. } => Some(reason.clone()),
            _ => None,
        },
        message: crate::error::inline(e),
    });
    result
}

/// Refresh and save as one unit, under the grant's cross-process lock.
async fn transaction(
    ctx: Ctx,
    name: String,
    id: String,
    rejected: Option<Secret>,
) -> Result<(GrantRecord, GrantSecrets)> {
    let name = name.as_str();
    let deadline = Instant::now() + ctx.grants.deadline;
    let lock_id = id.clone();
    let _lock = ctx.blocking(move |v| v.lock_grant(&lock_id)).await?;

    // Look again under the lock: another process may have refreshed while we waited,
    // and a refresh whose save failed earlier may be waiting for recovery.
    let lookup = id.clone();
    let (index, rec, secrets) = ctx
        .blocking(move |v| -> Result<_, crate::store::StoreError> {
            let index = v.index()?;
            let Some(rec) = index.grants.iter().find(|g| g.id == lookup).cloned() else {
                return Ok((index, None, None));
            };
            let current = match v.recover(&lookup)? {
                Some(held) => Some(held),
                None => v.grant_secrets(&rec)?.map(|s| (rec, s)),
            };
            let (rec, secrets) = current.map_or((None, None), |(r, s)| (Some(r), Some(s)));
            Ok((index, rec, secrets))
        })
        .await?;
    let rec = rec.ok_or_else(|| {
        Error::login_required(name, format!("the grant for `{name}` was removed"))
    })?;
    if rec.needs_login {
        return Err(Error::login_required(
            name,
            format!("the sign-in to `{name}` is no longer valid at the authorization server"),
        ));
    }
    let secrets = secrets.ok_or_else(|| missing_secrets(name))?;
    if !needs_refresh(&rec, &secrets, rejected.as_ref(), ctx.clock.now_ms()) {
        return Ok((rec, secrets));
    }
    let refresh_token = secrets.refresh_token.clone();
    if refresh_token.is_none()
        && matches!(rec.renewal(), Renewal::RefreshToken | Renewal::SignInAgain)
    {
        return Err(Error::login_required(
            name,
            format!("the token for `{name}` has expired and the server gave no refresh token"),
        ));
    }

    // A rotating server kills the old refresh token as it answers: make sure the answer
    // can be kept before spending it.
    let probe_rec = rec.clone();
    if let Err(e) = ctx.blocking(move |v| v.check_writable(&probe_rec)).await {
        let still_good = secrets
            .expires_at_ms
            .or(rec.expires_at_ms)
            .is_some_and(|at| at > ctx.clock.now_ms());
        if still_good && rejected.as_ref() != Some(&secrets.access_token) {
            eprintln!(
                "mcpauth: warning: the store cannot take a refreshed token for `{name}` ({}); \
                 using the current one until it expires, without spending the refresh token",
                crate::error::inline(&e)
            );
            return Ok((rec, secrets));
        }
        return Err(e).context(|| {
            format!(
                "cannot refresh the token for `{name}`: the store cannot keep a new one, so \
                 the refresh token was left unspent"
            )
        });
    }

    let mut creds = client_credentials(&ctx, &index, &rec).await?;
    // A DPoP grant proves its key on the refresh too: its refresh token is bound to it.
    creds.dpop = secrets
        .dpop_key
        .as_ref()
        .map(crate::oauth::dpop::DpopKey::from_pem)
        .transpose()?;
    let set = request_tokens(&ctx, name, &rec, &creds, refresh_token.as_ref(), deadline).await?;

    // An identity provider sign-in lives by its ID token. A provider that sends no new
    // one on refresh leaves the old one, and its old expiry.
    let expires_at_ms = match (&rec.identity_provider, &set.id_token) {
        (Some(_), Some(t)) => {
            crate::signin::enterprise::id_token_expiry(t, ctx.clock.now_ms()).or(set.expires_at_ms)
        }
        (Some(_), None) => rec.expires_at_ms,
        (None, _) => set.expires_at_ms,
    };
    let id_token = set.id_token.or(secrets.id_token.clone());
    let new_secrets = GrantSecrets {
        access_token: set.access_token,
        refresh_token: set.refresh_token,
        id_token,
        dpop_key: secrets.dpop_key.clone(),
        expires_at_ms,
    };
    let mut updated = rec.clone();
    updated.expires_at_ms = expires_at_ms;
    updated.refreshed_at_ms = Some(ctx.clock.now_ms());
    updated.has_refresh_token = new_secrets.refresh_token.is_some();
    updated.dpop = set.dpop_bound && new_secrets.dpop_key.is_some();
    if let Some(scopes) = set.scopes {
        updated.scopes = scopes;
    }
    let to_keep = new_secrets.clone();
    let kept_rec = updated.clone();
    match ctx
        .blocking(move |v| v.keep_refreshed(kept_rec, &to_keep))
        .await
    {
        Kept::Saved(saved) => {
            tracing::debug!(grant = %saved.id, "refreshed");
            Ok((*saved, new_secrets))
        }
        Kept::Held { error, journal } => {
            eprintln!(
                "{}",
                held_warning(name, &error, &journal, new_secrets.expires_at_ms)
            );
            Ok((updated, new_secrets))
        }
    }
}

/// The loud line when a refresh could not be saved: what was kept where, and what to do.
fn held_warning(
    name: &str,
    error: &crate::store::StoreError,
    journal: &std::result::Result<std::path::PathBuf, crate::store::StoreError>,
    expires_at_ms: Option<i64>,
) -> String {
    let cause = crate::error::inline(error);
    match journal {
        Ok(path) => format!(
            "mcpauth: warning: refreshed the token for `{name}` but cannot store it ({cause}); \
             the new tokens are kept in `{}` (readable only by you) and move into the store \
             on the next refresh once it takes writes again",
            path.display()
        ),
        Err(j) => {
            let until = expires_at_ms
                .map(|ms| format!(" after {}", crate::clock::local_time(ms / 1000)))
                .unwrap_or_default();
            format!(
                "mcpauth: warning: refreshed the token for `{name}` but cannot store it anywhere \
                 ({cause}; nor in the recovery file: {}); only this process holds the new \
                 refresh token: free the store (disk space, keychain) while it runs, or run \
                 `mcpauth login {name}`{until}",
                crate::error::inline(j)
            )
        }
    }
}

/// Asks the token endpoint for new tokens, retrying transient failures with backoff (or
/// the server's `Retry-After`) until `deadline`. `invalid_grant` marks the grant as
/// needing a login.
async fn request_tokens(
    ctx: &Ctx,
    name: &str,
    rec: &GrantRecord,
    creds: &ClientCredentials,
    refresh_token: Option<&Secret>,
    deadline: Instant,
) -> Result<tokens::TokenSet> {
    let extras = RequestExtras {
        resource: rec.send_resource.then_some(rec.key.resource.as_str()),
        params: rec
            .extra_params
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect(),
    };
    let started = Instant::now();
    let no_answer = || OauthError::NoAnswer {
        url: rec.token_endpoint.clone(),
        waited: ctx.grants.deadline,
    };
    let fail = |e: OauthError| -> Error {
        Error::Context {
            message: format!("cannot refresh the token for `{name}`"),
            source: Box::new(e.into()),
        }
    };
    // Read once per renewal: a platform's JWT and an ID-JAG are good for minutes,
    // retries included.
    let assertion = match rec.renewal() {
        Renewal::Workload(source) => Some(
            crate::signin::workload::assertion(source)
                .await
                .context(|| format!("cannot renew the token for `{name}`"))?,
        ),
        Renewal::IdJag(idp) => Some(crate::signin::enterprise::renewal(ctx, name, rec, idp).await?),
        _ => None,
    };
    let mut attempt: u32 = 0;
    loop {
        attempt += 1;
        let request = async {
            if let Some(assertion) = &assertion {
                return tokens::jwt_bearer(
                    ctx.http(),
                    &ctx.clock,
                    creds,
                    &rec.token_endpoint,
                    assertion,
                    &rec.scopes,
                    &extras,
                )
                .await;
            }
            match refresh_token {
                Some(rt) => {
                    let scopes: &[String] = if rec.scope_on_refresh {
                        &rec.scopes
                    } else {
                        &[]
                    };
                    tokens::refresh(
                        ctx.http(),
                        &ctx.clock,
                        creds,
                        &rec.token_endpoint,
                        rt,
                        scopes,
                        &extras,
                    )
                    .await
                }
                // A client credentials grant is renewed by asking again.
                None => {
                    tokens::client_credentials(
                        ctx.http(),
                        &ctx.clock,
                        creds,
                        &rec.token_endpoint,
                        &rec.scopes,
                        &extras,
                    )
                    .await
                }
            }
        };
        let result = match tokio::time::timeout_at(deadline.into(), request).await {
            Ok(r) => r,
            Err(_) => return Err(fail(no_answer())),
        };
        match result {
            Ok(set) => return Ok(set),
            // The source gives a new JWT each time: nothing is marked, and the next use
            // reads it again.
            Err(OauthError::InvalidGrant) if let Renewal::Workload(source) = rec.renewal() => {
                return Err(Error::Other(format!(
                    "cannot renew the token for `{name}`: the authorization server refused the workload token from `{}` (invalid_grant): check what the source gives, and the server's trust in its issuer",
                    crate::escape::controls(&source.to_string())
                )));
            }
            // So does the identity provider: the next use exchanges again.
            Err(OauthError::InvalidGrant) if assertion.is_some() => {
                return Err(Error::Other(format!(
                    "cannot renew the token for `{name}`: its authorization server refused the grant from your identity provider (invalid_grant)"
                )));
            }
            Err(OauthError::InvalidGrant) => {
                let id = rec.id.clone();
                ctx.blocking(move |v| {
                    v.update_index(|index| {
                        if let Some(g) = index.grants.iter_mut().find(|g| g.id == id) {
                            g.needs_login = true;
                        }
                    })
                })
                .await?;
                return Err(Error::login_required(
                    name,
                    format!(
                        "the sign-in to `{name}` was revoked or has expired at the authorization server"
                    ),
                ));
            }
            // A transient failure deletes nothing: wait as asked (or back off) and try
            // again while the deadline allows.
            Err(e) if e.is_transient() => {
                let backoff = Duration::from_millis(250) * 2u32.pow(attempt.min(6) - 1);
                let pause = e
                    .retry_after()
                    .unwrap_or(backoff.min(Duration::from_secs(8)));
                if Instant::now() + pause >= deadline {
                    tracing::debug!(attempt, elapsed = ?started.elapsed(), "giving up");
                    return Err(fail(e));
                }
                tracing::debug!(attempt, ?pause, "refresh failed, retrying: {e}");
                tokio::time::sleep(pause).await;
            }
            Err(e) => return Err(fail(e)),
        }
    }
}

/// The client as the token endpoint knows it, with its secret from the store.
pub async fn client_credentials(
    ctx: &Ctx,
    index: &Index,
    rec: &GrantRecord,
) -> Result<ClientCredentials> {
    let client = index
        .clients
        .iter()
        .find(|c| c.issuer == rec.key.issuer && c.client_id == rec.key.client_id)
        .cloned();
    let client_secret = match client {
        Some(c) if c.has_secret => ctx.blocking(move |v| v.client_secret(&c)).await?,
        _ => None,
    };
    Ok(ClientCredentials {
        client_id: rec.key.client_id.clone(),
        auth: ClientAuth::from_stored(&rec.auth_method, client_secret)?,
        issuer: rec.key.issuer.clone(),
        dpop: None,
    })
}

/// The key `rec`'s tokens are bound to (DPoP), if they are.
pub fn dpop_key(
    name: &str,
    rec: &GrantRecord,
    secrets: &GrantSecrets,
) -> Result<Option<crate::oauth::dpop::DpopKey>> {
    match (rec.dpop, &secrets.dpop_key) {
        (false, _) => Ok(None),
        (true, Some(pem)) => Ok(Some(crate::oauth::dpop::DpopKey::from_pem(pem)?)),
        (true, None) => Err(Error::login_required(
            name,
            format!("the DPoP key of the grant for `{name}` is missing from the store"),
        )),
    }
}

/// Why a DPoP-bound token is not handed out bare.
pub fn bound_token(name: &str) -> Error {
    Error::Usage(format!(
        "the token for `{name}` is bound to a key (DPoP): the server refuses it without a \
         proof signed with that key for each request, and the key stays in mcpauth's store. \
         Use `mcpauth proxy {name}`, or `mcpauth headers {name} --method POST --url URL` for \
         the headers of one request"
    ))
}

fn missing_secrets(name: &str) -> Error {
    Error::login_required(
        name,
        format!("the stored tokens for `{name}` are missing from the keychain"),
    )
}

/// The grant for a target, or the error that says to sign in.
pub async fn require(ctx: &Ctx, target: &Target) -> Result<GrantRecord> {
    let index = ctx.blocking(|v| v.index()).await?;
    find(&index, target).cloned().ok_or_else(|| {
        Error::login_required(&target.name, format!("not signed in to `{}`", target.name))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{GrantKey, StoreKind};

    fn rec(resource: &str, account: Option<&str>, obtained: i64) -> GrantRecord {
        let key = GrantKey {
            resource: resource.into(),
            issuer: "https://as".into(),
            client_id: "c".into(),
            account: account.map(Into::into),
        };
        GrantRecord {
            id: key.id(),
            key,
            aliases: vec![],
            server_url: None,
            send_resource: true,
            scope_on_refresh: false,
            store: StoreKind::Memory,
            token_endpoint: "https://as/token".into(),
            revocation_endpoint: None,
            auth_method: "none".into(),
            scopes: vec![],
            extra_params: Default::default(),
            expires_at_ms: None,
            obtained_at_ms: obtained,
            refreshed_at_ms: None,
            has_refresh_token: true,
            needs_login: false,
            client_credentials: false,
            workload: None,
            identity_provider: None,
            through_idp: None,
            dpop: false,
        }
    }

    fn target(url: &str, account: Option<&str>) -> Target {
        Target {
            name: "x".into(),
            entry: crate::config::ServerEntry {
                name: "x".into(),
                source: crate::config::Source {
                    kind: crate::config::SourceKind::CommandLine,
                    path: Default::default(),
                },
                transport: crate::config::Transport::Http,
                url: Some(url.into()),
                headers: Default::default(),
                oauth: Default::default(),
                mcp_remote: None,
            },
            url: url::Url::parse(url).unwrap(),
            account: account.map(Into::into),
        }
    }

    #[test]
    fn the_most_specific_covering_grant_for_the_account_wins() {
        let index = Index {
            grants: vec![
                rec("https://mcp.example.com", None, 1),
                rec("https://mcp.example.com/v1/mcp", None, 0),
                rec("https://mcp.example.com/v1/mcp", Some("work"), 5),
                rec("https://other.example.com/v1/mcp", None, 9),
            ],
            clients: vec![],
        };
        let g = find(&index, &target("https://mcp.example.com/v1/mcp", None)).unwrap();
        assert_eq!(g.key.resource, "https://mcp.example.com/v1/mcp");
        assert_eq!(g.key.account, None);
        let g = find(
            &index,
            &target("https://mcp.example.com/v1/mcp", Some("work")),
        )
        .unwrap();
        assert_eq!(g.key.account.as_deref(), Some("work"));
        let g = find(&index, &target("https://mcp.example.com/v2", None)).unwrap();
        assert_eq!(g.key.resource, "https://mcp.example.com");
        assert!(find(&index, &target("https://third.example.com/mcp", None)).is_none());
    }

    #[test]
    fn staleness_uses_a_margin_proportional_to_short_lifetimes() {
        // Any fixed time will do: staleness depends only on the time it is given.
        let t = 1_800_000_000_000;
        let sec = 1000;
        let mut r = rec("https://r", None, t);
        let s = |exp: i64| GrantSecrets {
            access_token: Secret::new("a"),
            refresh_token: None,
            id_token: None,
            dpop_key: None,
            expires_at_ms: Some(exp),
        };
        // A one-hour token is stale a minute before it expires.
        assert!(!is_stale(&r, &s(t + 3600 * sec), t));
        r.obtained_at_ms = t - 3570 * sec;
        assert!(is_stale(&r, &s(t + 30 * sec), t));
        // A 20-second token is good for 15 of them.
        r.obtained_at_ms = t;
        assert!(!is_stale(&r, &s(t + 20 * sec), t));
        r.obtained_at_ms = t - 16 * sec;
        assert!(is_stale(&r, &s(t + 4 * sec), t));
        // A 2-second token is good for a second and a half, not refreshed on every use.
        r.obtained_at_ms = t;
        assert!(!is_stale(&r, &s(t + 2 * sec), t));
        r.obtained_at_ms = t - 1600;
        assert!(is_stale(&r, &s(t + 400), t));
        // No expiry: never stale by the clock.
        let mut none = s(0);
        none.expires_at_ms = None;
        assert!(!is_stale(&r, &none, t));
    }
}
