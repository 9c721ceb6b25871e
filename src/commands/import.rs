//! `mcpauth import`: stores the grants of a bundle made by `mcpauth export`, or with
//! `--from mcp-remote`, the grants mcp-remote left in plaintext files.
//!
//! A bundle is imported whole or not at all: it is decrypted, parsed and checked, and
//! every grant it would replace is agreed to, before anything is written; a write that
//! fails midway puts back what was there.

use crate::bundle::{self, Bundle, BundleError, Key};
use crate::cli::{ImportArgs, ImportSource};
use crate::context::Ctx;
use crate::error::{Context as _, Error, Result};
use crate::escape::controls;
use crate::oauth::discovery::AuthServerMetadata;
use crate::oauth::http::check_endpoint;
use crate::store::{GrantRecord, GrantSecrets, Index, StoreError, Vault};

pub async fn run(ctx: &Ctx, args: ImportArgs) -> Result<()> {
    if let Some(ImportSource::McpRemote) = args.from {
        let delete_originals = match (args.delete_originals, args.keep_originals) {
            (true, _) => Some(true),
            (_, true) => Some(false),
            _ => None,
        };
        let opts = crate::migrate::Options {
            urls: args.urls,
            delete_originals,
            force: args.force,
        };
        return crate::migrate::run(ctx, opts).await;
    }

    if args.file.is_none() && std::io::IsTerminal::is_terminal(&std::io::stdin()) {
        return Err(Error::Usage(
            "give the bundle: `mcpauth import FILE`, or pipe it in (`mcpauth import -`)".into(),
        ));
    }
    let sealed = bundle::read_sealed(args.file.as_deref())?;
    let key = match &args.identity {
        Some(path) => bundle::identities_from_file(path)?,
        None if !bundle::needs_passphrase(&sealed)? => {
            return Err(BundleError::NeedsIdentity.into());
        }
        None => match &args.passphrase_file {
            Some(path) => Key::Passphrase(bundle::passphrase_from_file(path)?),
            None if ctx.interactive => Key::Passphrase(
                dialoguer::Password::new()
                    .with_prompt("Passphrase of the bundle")
                    .interact()
                    .map_err(|e| Error::Other(format!("cannot read the passphrase: {e}")))?
                    .into(),
            ),
            None => return Err(BundleError::NeedsPassphrase.into()),
        },
    };
    let bundle = bundle::open(&sealed, &key)?;
    check(&bundle)?;
    check_endpoints(ctx, &bundle).await?;

    let index = ctx.blocking(|v| v.index()).await?;
    for g in &bundle.grants {
        let replaced = replaced_by(&index, &g.grant);
        if replaced.is_empty() || args.force {
            continue;
        }
        let name = label(&g.grant);
        let agreed = ctx.interactive
            && dialoguer::Confirm::new()
                .with_prompt(format!("Replace the grant for `{name}` held here?"))
                .default(false)
                .interact()
                .unwrap_or(false);
        if !agreed {
            return Err(Error::Usage(format!(
                "a grant for `{name}` is already held here; nothing was imported \
                 (--force replaces it)"
            )));
        }
    }

    // A client registration that other grants here depend on is never replaced by a
    // different one: refresh would then fail for them with `invalid_client`.
    let checked = std::sync::Arc::new(bundle);
    let clients = std::sync::Arc::clone(&checked);
    let reuse = ctx.blocking(move |v| client_plan(v, &clients)).await?;
    let bundle = std::sync::Arc::into_inner(checked).expect("the check let go of the bundle");

    let summary: Vec<(String, String)> = bundle
        .grants
        .iter()
        .map(|g| {
            (
                label(&g.grant),
                controls(&g.grant.key.resource).into_owned(),
            )
        })
        .collect();
    let kinds = ctx
        .blocking(move |v| store_all(v, bundle, &reuse))
        .await
        .context(|| "cannot store the bundle's grants; nothing was imported".to_owned())?;
    for ((name, resource), kind) in summary.iter().zip(kinds) {
        if *name == *resource {
            eprintln!("Imported `{name}` into the {}.", kind.describe());
        } else {
            eprintln!(
                "Imported `{name}` ({resource}) into the {}.",
                kind.describe()
            );
        }
    }
    Ok(())
}

/// What a bundle must hold before any of it is stored.
fn check(bundle: &Bundle) -> Result<()> {
    let bad = |detail: String| Error::from(BundleError::NotABundle { detail });
    if bundle.grants.is_empty() {
        return Err(bad("it holds no grants".into()));
    }
    for g in &bundle.grants {
        let rec = &g.grant;
        if rec.id != rec.key.id() {
            return Err(bad(format!(
                "the grant for `{}` does not match its id",
                label(rec)
            )));
        }
        if g.client.issuer != rec.key.issuer || g.client.client_id != rec.key.client_id {
            return Err(bad(format!(
                "the client of `{}` is not the grant's",
                label(rec)
            )));
        }
        check_endpoint("resource", &rec.key.resource)?;
        check_endpoint("token endpoint", &rec.token_endpoint)?;
        if let Some(e) = &rec.revocation_endpoint {
            check_endpoint("revocation endpoint", e)?;
        }
    }
    Ok(())
}

/// A bundle's token and revocation endpoints receive its refresh token and client
/// secret, and anyone can write a bundle: each must be on its issuer's origin, or be
/// what the issuer's own metadata names (providers such as Google keep their token
/// endpoint on another host).
async fn check_endpoints(ctx: &Ctx, bundle: &Bundle) -> Result<()> {
    let origin = |u: &str| url::Url::parse(u).ok().map(|u| u.origin());
    for g in &bundle.grants {
        let rec = &g.grant;
        let issuer = &rec.key.issuer;
        type Listed = fn(&AuthServerMetadata) -> Option<&String>;
        let endpoints: [(&'static str, Option<&String>, Listed); 2] = [
            ("token endpoint", Some(&rec.token_endpoint), |m| {
                m.token_endpoint.as_ref()
            }),
            (
                "revocation endpoint",
                rec.revocation_endpoint.as_ref(),
                |m| m.revocation_endpoint.as_ref(),
            ),
        ];
        let foreign: Vec<_> = endpoints
            .into_iter()
            .filter_map(|(what, url, listed)| Some((what, url?, listed)))
            .filter(|(_, url, _)| {
                !origin(url).is_some_and(|o| o.is_tuple() && Some(&o) == origin(issuer).as_ref())
            })
            .collect();
        if foreign.is_empty() {
            continue;
        }
        let metadata = crate::oauth::discovery::issuer_metadata(ctx.http(), issuer)
            .await
            .context(|| {
                format!(
                    "cannot check the endpoints of `{}` against its issuer; nothing was imported",
                    label(rec)
                )
            })?;
        for (what, url, listed) in foreign {
            if metadata.as_ref().is_none_or(|m| listed(m) != Some(url)) {
                return Err(BundleError::ForeignEndpoint {
                    grant: label(rec),
                    what,
                    url: url.clone(),
                    issuer: issuer.clone(),
                }
                .into());
            }
        }
    }
    Ok(())
}

/// Which bundled clients are already registered here exactly as bundled (kept as they
/// are, secret included), or an error when one differs from a registration that grants
/// outside the bundle still use.
fn client_plan(v: &Vault, bundle: &Bundle) -> Result<Vec<(String, String)>> {
    let index = v.index()?;
    let mut reuse = Vec::new();
    for g in &bundle.grants {
        let c = &g.client;
        let Some(here) = index
            .clients
            .iter()
            .find(|h| h.issuer == c.issuer && h.client_id == c.client_id)
        else {
            continue;
        };
        let same = here.auth_method == c.auth_method
            && here.has_secret == g.client_secret.is_some()
            && v.client_secret(here)? == g.client_secret;
        if same {
            reuse.push((c.issuer.clone(), c.client_id.clone()));
            continue;
        }
        let users: Vec<String> = index
            .grants
            .iter()
            .filter(|u| u.key.issuer == c.issuer && u.key.client_id == c.client_id)
            .filter(|u| !bundle.grants.iter().any(|b| replaced_by_one(u, &b.grant)))
            .map(label)
            .collect();
        if !users.is_empty() {
            return Err(Error::Usage(format!(
                "the bundle's client `{}` at `{}` differs from the registration held here \
                 (its authentication method or secret), which {} still use{}; nothing was \
                 imported: export a fresh grant for this host instead (`mcpauth export` \
                 without --copy)",
                c.client_id,
                c.issuer,
                users
                    .iter()
                    .map(|u| format!("`{u}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
                if users.len() == 1 { "s" } else { "" },
            )));
        }
    }
    Ok(reuse)
}

/// A name for messages: the first config name the grant had, else its resource. Both
/// come from the bundle, which anyone can write: shown with control characters escaped.
fn label(rec: &GrantRecord) -> String {
    let name = rec.aliases.first().unwrap_or(&rec.key.resource);
    controls(name).into_owned()
}

/// Grants held here that `incoming` takes the place of: the same one, or another for the
/// same server and account.
fn replaced_by(index: &Index, incoming: &GrantRecord) -> Vec<GrantRecord> {
    index
        .grants
        .iter()
        .filter(|g| replaced_by_one(g, incoming))
        .cloned()
        .collect()
}

fn replaced_by_one(here: &GrantRecord, incoming: &GrantRecord) -> bool {
    here.id == incoming.id
        || (here.key.resource == incoming.key.resource && here.key.account == incoming.key.account)
}

/// Stores every grant of the bundle; on a failure, restores what was there and removes
/// what was written, so the store ends as it began. Returns where each grant went.
fn store_all(
    v: &Vault,
    bundle: Bundle,
    reuse: &[(String, String)],
) -> Result<Vec<crate::store::StoreKind>, StoreError> {
    // What was there before, to put back on failure.
    let mut before: Vec<(GrantRecord, Option<GrantSecrets>)> = Vec::new();
    let mut written: Vec<String> = Vec::new();
    let mut kinds = Vec::new();
    let result = (|| {
        for g in bundle.grants {
            let index = v.index()?;
            let replaced = replaced_by(&index, &g.grant);
            for old in &replaced {
                before.push((old.clone(), v.grant_secrets(old)?));
            }
            let known = (g.client.issuer.clone(), g.client.client_id.clone());
            if !reuse.contains(&known) {
                v.save_client(g.client, g.client_secret.as_ref())?;
            }
            let mut rec = g.grant;
            rec.needs_login = false;
            let saved = v.save_grant(rec, &g.secrets)?;
            written.push(saved.id.clone());
            for old in replaced.iter().filter(|old| old.id != saved.id) {
                v.remove_grant(&old.id)?;
            }
            kinds.push(saved.store);
        }
        Ok(())
    })();
    if let Err(e) = result {
        for id in &written {
            let _ = v.remove_grant(id);
        }
        for (rec, secrets) in before {
            if let Some(secrets) = secrets {
                let _ = v.save_grant(rec, &secrets);
            }
        }
        return Err(e);
    }
    Ok(kinds)
}
