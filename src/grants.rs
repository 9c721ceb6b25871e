//! From a server name to a usable access token: resolving the name through the configs,
//! finding the grant that covers the server, and refreshing it under the per-grant lock
//! so that any number of mcpauth processes cause one refresh per expiry.

use std::time::Duration;

use crate::config::{self, ServerEntry};
use crate::context::{Ctx, env_var};
use crate::error::{Context as _, Error, Result};
use crate::oauth::OauthError;
use crate::oauth::http::check_endpoint;
use crate::oauth::tokens::{self, ClientCredentials, RequestExtras, now_ms};
use crate::secret::Secret;
use crate::store::{GrantRecord, GrantSecrets, Index};

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

/// Resolves a name or URL to a remote server.
pub fn resolve(ctx: &Ctx, server: &str, account: Option<&str>) -> Result<Target> {
    let entry = config::find(server, &ctx.lookup, &env_var)?;
    let raw = entry.remote_url()?.to_owned();
    let url = check_endpoint("MCP server URL", &raw)?;
    Ok(Target {
        name: server.to_owned(),
        entry,
        url,
        account: account.map(str::to_owned),
    })
}

/// The grant for `target`: one whose resource covers the server's URL, for the same
/// account. A longer (more specific) resource wins, then a usable grant, then the newest.
pub fn find<'a>(index: &'a Index, target: &Target) -> Option<&'a GrantRecord> {
    index
        .grants
        .iter()
        .filter(|g| g.key.account == target.account)
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

fn is_stale(rec: &GrantRecord, secrets: &GrantSecrets) -> bool {
    match secrets.expires_at_ms.or(rec.expires_at_ms) {
        Some(at) => now_ms() + margin_ms(rec, at) >= at,
        None => false,
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
    let needs_refresh = |rec: &GrantRecord, s: &GrantSecrets| {
        is_stale(rec, s) || rejected.is_some_and(|r| r == &s.access_token)
    };

    if !rec.needs_login {
        let current = rec.clone();
        let secrets = ctx
            .blocking(move |v| v.grant_secrets(&current))
            .await?
            .ok_or_else(|| missing_secrets(name))?;
        if !needs_refresh(rec, &secrets) {
            return Ok((rec.clone(), secrets));
        }
    }

    // Stale: take the grant's lock, then look again, since another process may have
    // refreshed while we waited.
    let id = rec.id.clone();
    let _lock = ctx.blocking(move |v| v.lock_grant(&id)).await?;
    let id = rec.id.clone();
    let (index, rec) = ctx
        .blocking(move |v| {
            let index = v.index()?;
            let rec = index.grants.iter().find(|g| g.id == id).cloned();
            Ok::<_, crate::store::StoreError>((index, rec))
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
    let current = rec.clone();
    let secrets = ctx
        .blocking(move |v| v.grant_secrets(&current))
        .await?
        .ok_or_else(|| missing_secrets(name))?;
    if !needs_refresh(&rec, &secrets) {
        return Ok((rec, secrets));
    }
    let refresh_token = secrets.refresh_token.clone();
    if refresh_token.is_none() && !rec.client_credentials {
        return Err(Error::login_required(
            name,
            format!("the token for `{name}` has expired and the server gave no refresh token"),
        ));
    }

    let creds = client_credentials(ctx, &index, &rec).await?;
    let extras = RequestExtras {
        resource: Some(&rec.key.resource),
        params: rec
            .extra_params
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect(),
    };
    let mut attempt = 0;
    let set = loop {
        attempt += 1;
        let result = match &refresh_token {
            Some(rt) => {
                tokens::refresh(ctx.http(), &creds, &rec.token_endpoint, rt, &[], &extras).await
            }
            // A client credentials grant is renewed by asking again.
            None => {
                tokens::client_credentials(
                    ctx.http(),
                    &creds,
                    &rec.token_endpoint,
                    &rec.key.issuer,
                    &rec.scopes,
                    &extras,
                )
                .await
            }
        };
        match result {
            Ok(set) => break set,
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
            // A transient failure deletes nothing: try a few times, then report it.
            Err(e) if e.is_transient() && attempt < 3 => {
                tracing::debug!(attempt, "refresh failed, retrying: {e}");
                tokio::time::sleep(Duration::from_millis(300 * attempt)).await;
            }
            Err(e) => {
                return Err(e).context(|| format!("cannot refresh the token for `{name}`"));
            }
        }
    };

    let new_secrets = GrantSecrets {
        access_token: set.access_token,
        refresh_token: set.refresh_token,
        expires_at_ms: set.expires_at_ms,
    };
    let mut updated = rec.clone();
    updated.expires_at_ms = set.expires_at_ms;
    updated.refreshed_at_ms = Some(now_ms());
    updated.has_refresh_token = new_secrets.refresh_token.is_some();
    if let Some(scopes) = set.scopes {
        updated.scopes = scopes;
    }
    let to_save = new_secrets.clone();
    let saved = ctx
        .blocking(move |v| v.save_grant(updated, &to_save))
        .await
        .context(|| format!("refreshed the token for `{name}` but cannot store it"))?;
    tracing::debug!(grant = %saved.id, "refreshed");
    Ok((saved, new_secrets))
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
        client_secret,
        auth_method: rec.auth_method.clone(),
    })
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
        let t = now_ms();
        let sec = 1000;
        let mut r = rec("https://r", None, t);
        let s = |exp: i64| GrantSecrets {
            access_token: Secret::new("a"),
            refresh_token: None,
            expires_at_ms: Some(exp),
        };
        // A one-hour token is stale a minute before it expires.
        assert!(!is_stale(&r, &s(t + 3600 * sec)));
        r.obtained_at_ms = t - 3570 * sec;
        assert!(is_stale(&r, &s(t + 30 * sec)));
        // A 20-second token is good for 15 of them.
        r.obtained_at_ms = t;
        assert!(!is_stale(&r, &s(t + 20 * sec)));
        r.obtained_at_ms = t - 16 * sec;
        assert!(is_stale(&r, &s(t + 4 * sec)));
        // A 2-second token is good for a second and a half, not refreshed on every use.
        r.obtained_at_ms = t;
        assert!(!is_stale(&r, &s(t + 2 * sec)));
        r.obtained_at_ms = t - 1600;
        assert!(is_stale(&r, &s(t + 400)));
        // No expiry: never stale by the clock.
        let mut none = s(0);
        none.expires_at_ms = None;
        assert!(!is_stale(&r, &none));
    }
}
