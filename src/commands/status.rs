//! `mcpauth status`: every remote server from the configs and every stored grant, with
//! its state. Reads the index, and the secrets file for grants kept there (to tell a
//! damaged or incomplete file from a healthy one): no keychain access, no network, and
//! no secret printed.

use serde::Serialize;

use crate::cli::StatusArgs;
use crate::config::{self, ServerEntry, Transport};
use crate::context::{Ctx, env_var};
use crate::error::Result;
use crate::escape::controls;
use crate::grants::{self, Target};
use crate::store::{GrantRecord, Renewal, StoreKind};

#[derive(Debug, Serialize)]
struct Row {
    server: String,
    url: Option<String>,
    /// `valid`, `expiring`, `expired`, `needs_login`, `signed_out`, `static_header`,
    /// `store_damaged`.
    state: &'static str,
    /// Human text for the state column.
    detail: String,
    issuer: Option<String>,
    scopes: Vec<String>,
    store: Option<StoreKind>,
    expires_at_ms: Option<i64>,
    account: Option<String>,
    /// How a new token comes: `refresh_token`, `client_credentials`, `workload`,
    /// `identity_provider` (exchanged again from the company's sign-in), `id_token_source`
    /// (an identity provider's ID tokens, read again), or `sign_in` (only by signing in
    /// again).
    #[serde(skip_serializing_if = "Option::is_none")]
    renewal: Option<&'static str>,
    /// The company's identity provider: the one this sign-in is to, or the one the grant
    /// was exchanged from.
    #[serde(skip_serializing_if = "Option::is_none")]
    identity_provider: Option<String>,
    /// The token is bound to the grant's key (DPoP): useless without it.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    dpop: bool,
}

pub async fn run(ctx: &Ctx, args: StatusArgs) -> Result<()> {
    let index = ctx.blocking(|v| v.index()).await?;
    let now = ctx.clock.now_ms();
    // Only grants in the file store are checked: reaching the keychain could prompt.
    let files = if index.grants.iter().any(|g| g.store == StoreKind::File) {
        let read = ctx.blocking(|v| v.file_entries()).await;
        if let Err(e) = &read {
            eprintln!("mcpauth: warning: {}", controls(&e.to_string()));
        }
        Some(read)
    } else {
        None
    };
    let row = |name: &str, url: Option<&url::Url>, g: &GrantRecord| {
        let mut r = row(name, url, g, now);
        // The sign-in itself, or the one the grant was exchanged from.
        let sign_in = match &g.through_idp {
            Some(id) => index.grants.iter().find(|i| &i.id == id),
            None => Some(g),
        };
        r.identity_provider = sign_in
            .and_then(|i| i.identity_provider.as_ref())
            .map(|i| i.name.clone());
        if g.dpop {
            r.detail.push_str(", DPoP-bound");
        }
        if let (Some(idp), Some(_)) = (&r.identity_provider, &g.through_idp) {
            r.detail
                .push_str(&format!(", through idp:{}", controls(idp)));
        }
        if g.store == StoreKind::File {
            match &files {
                Some(Err(_)) => {
                    r.state = "store_damaged";
                    r.detail = "secrets file damaged (see the warning)".into();
                }
                Some(Ok(entries)) if !entries.contains(&crate::store::grant_entry(&g.id)) => {
                    r.state = "needs_login";
                    r.detail = "tokens missing from the secrets file, needs login".into();
                }
                _ => {}
            }
        }
        r
    };

    // Servers from the configs. A broken config or entry must not hide the rest, nor the
    // grants: warn and go on.
    let entries: Vec<ServerEntry> = match &args.server {
        Some(name) => vec![config::find(name, &ctx.lookup, &env_var)?],
        None => {
            let listing = config::list(&ctx.lookup, &env_var);
            for e in &listing.problems {
                eprintln!("mcpauth: warning: {}", controls(&e.to_string()));
            }
            listing.entries
        }
    };

    let mut rows = Vec::new();
    let mut shown = std::collections::HashSet::new();
    for entry in entries.iter().filter(|e| e.transport != Transport::Stdio) {
        let Some(url) = entry.url.as_deref().and_then(|u| url::Url::parse(u).ok()) else {
            continue;
        };
        let target = Target {
            name: entry.name.clone(),
            entry: entry.clone(),
            url,
            account: None,
        };
        // Every account on this server, or a "signed out" row.
        let mut any = false;
        for g in index.grants.iter().filter(|g| {
            url::Url::parse(&g.key.resource)
                .is_ok_and(|r| crate::oauth::http::resource_covers(&r, &target.url))
        }) {
            let best = grants::find(
                &index,
                &Target {
                    account: g.key.account.clone(),
                    ..target.clone()
                },
            );
            if best.map(|b| &b.id) != Some(&g.id) {
                continue;
            }
            shown.insert(g.id.clone());
            rows.push(row(&entry.name, Some(&target.url), g));
            any = true;
        }
        if !any {
            let (state, detail) = match entry.static_authorization() {
                Some(header) => (
                    "static_header",
                    format!("`{header}` header from {}", entry.origin(&ctx.lookup)),
                ),
                None => ("signed_out", "not signed in".to_owned()),
            };
            rows.push(Row {
                server: entry.name.clone(),
                url: entry
                    .url
                    .as_deref()
                    .map(|u| crate::redact::url(u).into_owned()),
                state,
                detail,
                issuer: None,
                scopes: vec![],
                store: None,
                expires_at_ms: None,
                account: None,
                renewal: None,
                identity_provider: None,
                dpop: false,
            });
        }
    }
    // Grants no config names any more (renamed or removed servers, URLs used directly).
    if args.server.is_none() {
        for g in index.grants.iter().filter(|g| !shown.contains(&g.id)) {
            let name = g
                .aliases
                .first()
                .cloned()
                .unwrap_or_else(|| g.key.resource.clone());
            rows.push(row(&name, None, g));
        }
    }

    if args.json {
        return super::print_stdout(&format!(
            "{}\n",
            serde_json::to_string_pretty(&rows).expect("rows serialize")
        ));
    }
    // People-talk on stderr: where the grants were looked for, since a client that
    // starts mcpauth elsewhere must find the same ones.
    let looked = format!(
        "Grants: `{}` ({}).",
        ctx.home.index_path().display(),
        ctx.home.decided_by
    );
    if rows.is_empty() {
        eprintln!(
            "No remote MCP servers in the configs here and no stored grants. Sign in with `mcpauth login NAME|URL`.\n{looked}"
        );
        return Ok(());
    }
    super::print_stdout(&table(&rows))?;
    eprintln!("{looked}");
    Ok(())
}

fn row(name: &str, url: Option<&url::Url>, g: &GrantRecord, now_ms: i64) -> Row {
    let (state, detail) = state_of(g, now_ms);
    Row {
        server: match &g.key.account {
            Some(a) => format!("{name} ({a})"),
            None => name.to_owned(),
        },
        url: Some(
            url.map(|u| crate::redact::url(u.as_str()).into_owned())
                .unwrap_or_else(|| g.key.resource.clone()),
        ),
        state,
        detail,
        issuer: Some(g.key.issuer.clone()),
        scopes: g.scopes.clone(),
        store: Some(g.store),
        expires_at_ms: g.expires_at_ms,
        account: g.key.account.clone(),
        renewal: Some(match g.renewal() {
            Renewal::RefreshToken => "refresh_token",
            Renewal::ClientCredentials => "client_credentials",
            Renewal::Workload(_) => "workload",
            Renewal::IdJag(_) => "identity_provider",
            Renewal::IdTokenSource(_) => "id_token_source",
            Renewal::SignInAgain => "sign_in",
        }),
        identity_provider: None,
        dpop: g.dpop,
    }
}

/// What a grant is good for at `now_ms`, as a word for `--json` and a phrase for people.
pub(crate) fn state_of(g: &GrantRecord, now_ms: i64) -> (&'static str, String) {
    if g.needs_login {
        return ("needs_login", "needs login".into());
    }
    let Some(at) = g.expires_at_ms else {
        return ("valid", "valid".into());
    };
    let left = (at - now_ms) / 1000;
    if left > 0 {
        let then = if g.renews_itself() {
            ""
        } else {
            ", no refresh token"
        };
        (
            "valid",
            format!("valid, expires in {}{then}", short_duration(left)),
        )
    } else if g.renews_itself() {
        ("expired", "expired, refreshes on use".into())
    } else {
        ("needs_login", "expired, needs login".into())
    }
}

fn short_duration(secs: i64) -> String {
    match secs {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m", s / 60),
        s if s < 86400 => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
        s => format!("{}d", s / 86400),
    }
}

/// The rows for a terminal. Names, issuers and scopes came from configs, servers and
/// bundles, so their control characters are escaped (before measuring, so columns align).
fn table(rows: &[Row]) -> String {
    let header = ["SERVER", "STATE", "ISSUER", "SCOPES", "STORE"];
    let shown = |s: &str| controls(s).into_owned();
    let cells: Vec<[String; 5]> = rows
        .iter()
        .map(|r| {
            [
                shown(&r.server),
                r.detail.clone(),
                r.issuer.as_deref().map_or_else(|| "-".into(), shown),
                if r.scopes.is_empty() {
                    "-".into()
                } else {
                    shown(&r.scopes.join(" "))
                },
                match r.store {
                    Some(StoreKind::Keyring) => "keychain".into(),
                    Some(StoreKind::File) => "file".into(),
                    Some(StoreKind::Memory) => "memory".into(),
                    None => "-".into(),
                },
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for c in &cells {
        for (w, cell) in widths.iter_mut().zip(c) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |c: &[String]| {
        let mut s = String::new();
        for (i, (cell, w)) in c.iter().zip(widths).enumerate() {
            if i + 1 == c.len() {
                s.push_str(cell);
            } else {
                s.push_str(&format!("{cell:<w$}  "));
            }
        }
        s.push('\n');
        s
    };
    let mut out = line(&header.map(String::from));
    for c in &cells {
        out.push_str(&line(c));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(short_duration(5), "5s");
        assert_eq!(short_duration(12 * 60 + 5), "12m");
        assert_eq!(short_duration(3 * 3600 + 7 * 60), "3h07m");
        assert_eq!(short_duration(3 * 86400), "3d");
    }
}
