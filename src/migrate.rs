//! `mcpauth import --from mcp-remote`: moves the grants that mcp-remote keeps as plaintext
//! JSON under `~/.mcp-auth` into mcpauth's store, so that nobody has to sign in again.
//!
//! mcp-remote names its files `<hash>_tokens.json` and `<hash>_client_info.json`, where the
//! hash is an MD5 over the server URL and the options that change the grant (`--resource`,
//! `--header`s, ...), joined by `|`. The files do not say which server they belong to, so
//! each hash is matched against the servers in the user's configs (and `--url`s). The
//! files do not name the token endpoint either: discovery on the server URL finds it, and
//! an issuer recorded by mcp-remote must agree with the one discovery finds.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::Deserialize;

use crate::config::{self, ServerEntry};
use crate::context::{Ctx, env_var};
use crate::error::{Context as _, Error, Result};
use crate::grants::{self, Target};
use crate::oauth::discovery;
use crate::oauth::http::check_endpoint;
use crate::secret::Secret;
use crate::store::{ClientOrigin, ClientRecord, GrantKey, GrantRecord, GrantSecrets, StoreKind};

/// What `import --from mcp-remote` was asked to do.
#[derive(Debug, Default)]
pub struct Options {
    /// Server URLs to match beyond those in the configs.
    pub urls: Vec<String>,
    /// Delete mcp-remote's files for each grant once it is stored; `None` asks on a
    /// terminal and keeps them elsewhere.
    pub delete_originals: Option<bool>,
    /// Replace a grant mcpauth already holds for the same server.
    pub force: bool,
}

/// One grant mcp-remote left behind: its token file and, when it registered the client
/// itself, the client file beside it.
#[derive(Debug)]
struct Found {
    dir: PathBuf,
    hash: String,
    tokens: PathBuf,
    client: Option<PathBuf>,
    modified: SystemTime,
}

/// `<hash>_tokens.json` as mcp-remote writes it: the token response plus `expires_at`
/// (Unix milliseconds) and, in newer versions, the issuer and the scope it asked for.
#[derive(Deserialize)]
struct TokenFile {
    access_token: Secret,
    #[serde(default)]
    refresh_token: Option<Secret>,
    #[serde(default)]
    expires_at: Option<f64>,
    #[serde(default)]
    scope: Option<String>,
    #[serde(default)]
    requested_scope: Option<String>,
    #[serde(default)]
    issuer: Option<String>,
}

/// `<hash>_client_info.json`: the RFC 7591 registration response.
#[derive(Deserialize)]
struct ClientFile {
    client_id: String,
    #[serde(default)]
    client_secret: Option<Secret>,
    #[serde(default)]
    token_endpoint_auth_method: Option<String>,
    #[serde(default)]
    redirect_uris: Vec<String>,
    #[serde(default)]
    client_id_issued_at: Option<i64>,
    #[serde(default)]
    client_secret_expires_at: Option<i64>,
    #[serde(default)]
    issuer: Option<String>,
}

/// How one grant fared, for the summary.
enum Outcome {
    Imported { kind: StoreKind, deleted: bool },
    Skipped(String),
}

pub async fn run(ctx: &Ctx, opts: Options) -> Result<()> {
    let base = config_dir()?;
    let found = scan(&base)?;
    if found.is_empty() {
        eprintln!(
            "No mcp-remote tokens in `{}`: nothing to import.",
            base.display()
        );
        return Ok(());
    }

    let targets = candidates(ctx, &opts.urls)?;
    let mut imported = 0;
    let mut failed = 0;
    let mut kept = Vec::new();
    for f in &found {
        let label = f.tokens.display().to_string();
        let Some(target) = targets
            .iter()
            .find(|(hashes, _)| hashes.contains(&f.hash))
            .map(|(_, t)| t)
        else {
            eprintln!(
                "mcpauth: skipped `{label}`: no server in your MCP configs has this hash; \
                 name its URL with --url"
            );
            failed += 1;
            continue;
        };
        match import_one(ctx, f, target, &opts).await {
            Ok(Outcome::Imported { kind, deleted }) => {
                imported += 1;
                let originals = if deleted {
                    "; mcp-remote's plaintext copy is deleted"
                } else {
                    kept.push(f);
                    ""
                };
                eprintln!(
                    "Imported `{}` from mcp-remote into the {}{originals}.",
                    target.name,
                    kind.describe()
                );
            }
            Ok(Outcome::Skipped(why)) => eprintln!("mcpauth: skipped `{}`: {why}", target.name),
            Err(e) => {
                failed += 1;
                eprintln!(
                    "mcpauth: cannot import `{}` from `{label}`: {e}",
                    target.name
                );
            }
        }
    }

    if !kept.is_empty() {
        eprintln!(
            "mcp-remote's plaintext copies remain in `{}` (`--delete-originals` removes them). \
             While mcp-remote still runs, both tools share these grants, and a server that \
             rotates refresh tokens ends one of them at the next refresh: switch the client \
             to `mcpauth proxy` (`mcpauth install`) first.",
            base.display()
        );
    }
    if failed > 0 {
        return Err(Error::Other(format!(
            "{failed} of {} mcp-remote grants were not imported ({imported} were)",
            found.len()
        )));
    }
    Ok(())
}

/// mcp-remote's base directory: `MCP_REMOTE_CONFIG_DIR`, else `~/.mcp-auth`.
fn config_dir() -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os("MCP_REMOTE_CONFIG_DIR").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    directories::BaseDirs::new()
        .map(|b| b.home_dir().join(".mcp-auth"))
        .ok_or_else(|| Error::Other("cannot find your home directory".into()))
}

/// Every `<hash>_tokens.json` under `base/mcp-remote-*/` (one directory per store version:
/// `mcp-remote-v1` now, `mcp-remote-0.1.x` before). When several versions hold the same
/// hash, the most recently written one wins.
fn scan(base: &Path) -> Result<Vec<Found>> {
    let read_dir = |dir: &Path| {
        std::fs::read_dir(dir).map_err(|source| Error::Io {
            what: format!("cannot read `{}`", dir.display()),
            source,
        })
    };
    if !base.exists() {
        return Ok(Vec::new());
    }
    let mut found: BTreeMap<String, Found> = BTreeMap::new();
    for dir in read_dir(base)?.flatten() {
        let dir = dir.path();
        let versioned = dir
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with("mcp-remote-"));
        if !versioned || !dir.is_dir() {
            continue;
        }
        for file in read_dir(&dir)?.flatten() {
            let name = file.file_name();
            let Some(hash) = name.to_str().and_then(|n| n.strip_suffix("_tokens.json")) else {
                continue;
            };
            if hash.len() != 32 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
                continue;
            }
            let modified = file
                .metadata()
                .and_then(|m| m.modified())
                .unwrap_or(SystemTime::UNIX_EPOCH);
            let client = dir.join(format!("{hash}_client_info.json"));
            let candidate = Found {
                dir: dir.clone(),
                hash: hash.to_owned(),
                tokens: file.path(),
                client: client.is_file().then_some(client),
                modified,
            };
            match found.get(hash) {
                Some(seen) if seen.modified >= modified => {}
                _ => {
                    found.insert(hash.to_owned(), candidate);
                }
            }
        }
    }
    Ok(found.into_values().collect())
}

/// The servers a hash may belong to, each with the hashes mcp-remote would have used for
/// it: from the `mcp-remote` arguments as written, and from the URL with and without the
/// headers the config sends (for servers moved out of mcp-remote already).
fn candidates(ctx: &Ctx, urls: &[String]) -> Result<Vec<(Vec<String>, Target)>> {
    let mut out = Vec::new();
    for url in urls {
        let target = grants::resolve(ctx, url, None)?;
        let hashes = hashes_for(url, &target.entry.headers);
        out.push((hashes, target));
    }
    // What cannot be read is named, and the rest is matched.
    let listing = config::list(&ctx.lookup, &env_var);
    for e in &listing.problems {
        eprintln!(
            "mcpauth: warning: {}",
            crate::escape::controls(&e.to_string())
        );
    }
    for entry in listing.entries {
        if let Some(target) = remote_target(entry) {
            let mut hashes = Vec::new();
            // mcp-remote hashes its arguments as written, before it expands `${VAR}`.
            if let Some(written) = &target.entry.mcp_remote {
                hashes = hashes_for(&written.url, &written.headers);
            }
            let url = target.entry.url.clone().unwrap_or_default();
            hashes.extend(hashes_for(&url, &target.entry.headers));
            out.push((hashes, target));
        }
    }
    Ok(out)
}

fn remote_target(entry: ServerEntry) -> Option<Target> {
    let raw = entry.remote_url().ok()?.to_owned();
    let url = check_endpoint("MCP server URL", &raw).ok()?;
    Some(Target {
        name: entry.name.clone(),
        entry,
        url,
        account: None,
    })
}

fn hashes_for(url: &str, headers: &BTreeMap<String, String>) -> Vec<String> {
    let mut hashes = vec![server_url_hash(url, headers)];
    if !headers.is_empty() {
        hashes.push(server_url_hash(url, &BTreeMap::new()));
    }
    hashes
}

/// mcp-remote's file-name hash for a server URL and the headers given with `--header`:
/// MD5 over `url|{"Name":"value",...}` (the headers as compact JSON, keys sorted), or over
/// the URL alone when there are none.
pub fn server_url_hash(url: &str, headers: &BTreeMap<String, String>) -> String {
    use md5::{Digest, Md5};
    let mut text = url.to_owned();
    if !headers.is_empty() {
        text.push('|');
        text.push_str(&serde_json::to_string(headers).expect("a string map serializes"));
    }
    Md5::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

async fn import_one(ctx: &Ctx, f: &Found, target: &Target, opts: &Options) -> Result<Outcome> {
    let tokens: TokenFile = read_json(&f.tokens)?;
    let Some(client_path) = &f.client else {
        return Ok(Outcome::Skipped(
            "mcp-remote kept no client registration for it (it was given a static client), \
             so the grant cannot be refreshed; run `mcpauth login` instead"
                .into(),
        ));
    };
    let client_file: ClientFile = read_json(client_path)?;

    let index = ctx.blocking(|v| v.index()).await?;
    let existing = grants::find(&index, target).map(|g| g.id.clone());
    if existing.is_some() && !opts.force {
        return Ok(Outcome::Skipped(
            "mcpauth already holds a grant for it (--force replaces it)".into(),
        ));
    }

    let pinned = discovery::Pinned::from_settings(&target.entry.oauth);
    let d = discovery::discover(ctx.http(), target.url.as_str(), pinned)
        .await
        .context(|| format!("cannot find out how `{}` signs in", target.name))?;
    for recorded in [&tokens.issuer, &client_file.issuer].into_iter().flatten() {
        if recorded != &d.issuer {
            return Err(Error::Other(format!(
                "mcp-remote got this grant from `{recorded}`, but the server now names \
                 `{}` as its authorization server; run `mcpauth login {}`",
                d.issuer, target.name
            )));
        }
    }

    let auth_method = client_file
        .token_endpoint_auth_method
        .clone()
        .unwrap_or_else(|| match client_file.client_secret {
            Some(_) => "client_secret_basic".into(),
            None => "none".into(),
        });
    let client = ClientRecord {
        issuer: d.issuer.clone(),
        client_id: client_file.client_id.clone(),
        auth_method: auth_method.clone(),
        origin: ClientOrigin::Dynamic,
        redirect_uris: client_file.redirect_uris.clone(),
        has_secret: client_file.client_secret.is_some(),
        store: StoreKind::Memory,
        registered_at: client_file
            .client_id_issued_at
            .unwrap_or_else(|| ctx.clock.now_secs()),
        secret_expires_at: client_file.client_secret_expires_at.filter(|&t| t != 0),
    };
    let key = GrantKey {
        resource: d.resource.clone(),
        issuer: d.issuer.clone(),
        client_id: client_file.client_id.clone(),
        account: None,
    };
    let expires_at_ms = tokens.expires_at.map(|ms| ms as i64);
    let scopes = tokens
        .scope
        .as_deref()
        .or(tokens.requested_scope.as_deref())
        .map(|s| s.split_ascii_whitespace().map(str::to_owned).collect())
        .unwrap_or_default();
    let obtained_at_ms = f
        .modified
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or_else(|_| ctx.clock.now_ms(), |d| d.as_millis() as i64);
    let grant = GrantRecord {
        id: key.id(),
        key,
        aliases: vec![target.entry.name.clone()],
        server_url: Some(target.url.to_string()),
        send_resource: true,
        scope_on_refresh: false,
        store: StoreKind::Memory,
        token_endpoint: d.token_endpoint().to_owned(),
        revocation_endpoint: d.metadata.revocation_endpoint.clone(),
        auth_method,
        scopes,
        extra_params: BTreeMap::new(),
        expires_at_ms,
        obtained_at_ms,
        refreshed_at_ms: None,
        has_refresh_token: tokens.refresh_token.is_some(),
        needs_login: false,
        client_credentials: false,
        workload: None,
        identity_provider: None,
        through_idp: None,
        dpop: false,
    };
    let secrets = GrantSecrets {
        access_token: tokens.access_token,
        refresh_token: tokens.refresh_token,
        id_token: None,
        dpop_key: None,
        expires_at_ms,
    };

    // The replaced grant goes only once the new one is stored, so a failed import loses
    // nothing.
    let client_secret = client_file.client_secret;
    let saved = ctx
        .blocking(move |v| {
            v.save_client(client, client_secret.as_ref())?;
            let saved = v.save_grant(grant, &secrets)?;
            if let Some(old) = existing.filter(|old| *old != saved.id) {
                v.remove_grant(&old)?;
            }
            Ok::<_, crate::store::StoreError>(saved)
        })
        .await
        .context(|| format!("cannot store the grant for `{}`", target.name))?;

    let delete = match opts.delete_originals {
        Some(d) => d,
        None if ctx.interactive => dialoguer::Confirm::new()
            .with_prompt(format!(
                "Delete mcp-remote's plaintext copy of the `{}` tokens?",
                target.name
            ))
            .default(false)
            .interact()
            .unwrap_or(false),
        None => false,
    };
    if delete {
        delete_originals(f)?;
    }
    Ok(Outcome::Imported {
        kind: saved.store,
        deleted: delete,
    })
}

/// Reads one of mcp-remote's files. A parse error names the position only: serde's
/// message may quote a value, and the values here are tokens.
fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T> {
    let text =
        crate::files::read_string_capped(path, crate::files::SMALL_LIMIT).map_err(|source| {
            Error::Io {
                what: format!("cannot read `{}`", path.display()),
                source,
            }
        })?;
    serde_json::from_str(&text).map_err(|e| {
        Error::Other(format!(
            "`{}` is not what mcp-remote writes (at line {}, column {})",
            path.display(),
            e.line(),
            e.column()
        ))
    })
}

/// Deletes every file mcp-remote keeps for this hash: tokens, client, and the leftovers
/// of unfinished sign-ins (code verifiers, discovery state, locks).
fn delete_originals(f: &Found) -> Result<()> {
    let prefix = format!("{}_", f.hash);
    let entries = std::fs::read_dir(&f.dir).map_err(|source| Error::Io {
        what: format!("cannot read `{}`", f.dir.display()),
        source,
    })?;
    for entry in entries.flatten() {
        let ours = entry
            .file_name()
            .to_str()
            .is_some_and(|n| n.starts_with(&prefix));
        if ours {
            std::fs::remove_file(entry.path()).map_err(|source| Error::Io {
                what: format!("cannot delete `{}`", entry.path().display()),
                source,
            })?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The expected values were computed under node with the steps of mcp-remote 0.15.1's
    /// `getServerUrlHash`, so a change in key order, separators or escaping shows here.
    /// (tests/it/migrate.rs checks the real thing: files written by mcp-remote itself.)
    #[test]
    fn hash_matches_mcp_remote() {
        assert_eq!(
            server_url_hash("https://mcp.example.com/mcp", &BTreeMap::new()),
            "94baabe3c3fadb285b26c035e4e86046"
        );
        let headers = BTreeMap::from([
            ("X-Team".to_owned(), "é \"q\"".to_owned()),
            ("Authorization".to_owned(), "Bearer abc".to_owned()),
        ]);
        assert_eq!(
            server_url_hash("https://mcp.example.com/mcp", &headers),
            "1b3efbd955f8a92c3c1c4fcd77db4658"
        );
    }
}
