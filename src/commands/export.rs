//! `mcpauth export`: grants for another host (a server, a container, CI), in one
//! encrypted bundle that `mcpauth import` reads there.
//!
//! By default each grant in the bundle is a fresh one, approved in the browser here, so
//! the two hosts never hold the same refresh token: with rotation, the first host to
//! refresh a shared token would end the other's grant. `--copy` shares the grant anyway
//! (and says what that means); `--move` hands it over and forgets it here.

use std::path::Path;

use age::secrecy::SecretString;

use crate::bundle::{self, Bundle, BundledGrant, Lock};
use crate::cli::ExportArgs;
use crate::context::Ctx;
use crate::error::{Context as _, Error, Result};
use crate::grants::{self, Target};
use crate::signin;
use crate::store::{ClientOrigin, ClientRecord, GrantRecord, Index};

pub async fn run(ctx: &Ctx, args: ExportArgs) -> Result<()> {
    // The lock is settled first: a bad recipient or an unconfirmed passphrase must fail
    // before anyone approves a sign-in in the browser.
    let to_file = args.out.as_deref().filter(|p| *p != Path::new("-"));
    if args.r#move && to_file.is_none() {
        return Err(Error::Usage(
            "--move needs --out FILE: a grant forgotten here must be safe in a file first \
             (a pipe can break after mcpauth has written to it)"
                .into(),
        ));
    }
    let lock = choose_lock(ctx, &args)?;
    let index = ctx.blocking(|v| v.index()).await?;
    let picked = pick(ctx, &index, &args)?;

    let mut grants = Vec::new();
    for (target, rec) in &picked {
        if let Some(source) = &rec.workload {
            return Err(Error::Usage(format!(
                "`{}` signs in as a workload (`{}`), whose token belongs to this platform: \
                 on the other host, run `mcpauth login {} --workload SOURCE` with that host's own token",
                target.name,
                crate::escape::controls(&source.to_string()),
                target.name
            )));
        }
        if rec.through_idp.is_some() || rec.identity_provider.is_some() {
            return Err(Error::Usage(format!(
                "`{}` signs in through your company's identity provider, which stays with                  the sign-in on this machine: on the other host, run `mcpauth idp login` and                  `mcpauth login {}`",
                target.name, target.name
            )));
        }
        let shared = args.copy || args.r#move || rec.client_credentials;
        let bundled = if shared {
            current(ctx, &index, target, rec).await?
        } else {
            fresh(ctx, target, rec, &args).await?
        };
        grants.push(bundled);
    }
    let bundle = Bundle::new(grants);

    let mut sealed = Vec::new();
    bundle::seal(&bundle, &lock, &mut sealed)?;
    match to_file {
        Some(path) => {
            let path = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
            crate::store::write_private_atomic(&path, &sealed)
                .context(|| format!("cannot write the bundle to `{}`", path.display()))?;
            eprintln!(
                "Wrote {} to `{}`; on the other host: mcpauth import {}",
                count(picked.len()),
                path.display(),
                path.file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default()
            );
        }
        None => super::print_stdout(std::str::from_utf8(&sealed).expect("armor is ASCII"))?,
    }

    if args.copy {
        eprintln!(
            "mcpauth: warning: both hosts now hold the same refresh token. If the server \
             rotates refresh tokens, the first host to refresh ends the other's grant \
             (leave out --copy to give the other host a grant of its own)."
        );
    }
    if args.r#move {
        // Only now that the bundle is written (and synced, for a file) is it safe to forget.
        for (target, rec) in &picked {
            let id = rec.id.clone();
            ctx.blocking(move |v| v.remove_grant(&id))
                .await
                .context(|| {
                    format!("the bundle is written, but `{}` is still here", target.name)
                })?;
        }
        eprintln!(
            "Moved {}: forgotten here, usable only where the bundle is imported.",
            count(picked.len())
        );
    }
    Ok(())
}

fn count(n: usize) -> String {
    if n == 1 {
        "1 grant".to_owned()
    } else {
        format!("{n} grants")
    }
}

fn choose_lock(ctx: &Ctx, args: &ExportArgs) -> Result<Lock> {
    let mut recipients = Vec::new();
    for r in &args.recipients {
        recipients.push(bundle::parse_recipient(r)?);
    }
    for file in &args.recipient_files {
        recipients.extend(bundle::recipients_from_file(file)?);
    }
    if !recipients.is_empty() {
        return Ok(Lock::Recipients(recipients));
    }
    if let Some(file) = &args.passphrase_file {
        return Ok(Lock::Passphrase(bundle::passphrase_from_file(file)?));
    }
    if !ctx.interactive {
        return Err(Error::Usage(
            "the bundle needs a passphrase or a recipient: give --passphrase-file FILE, \
             --recipient KEY or --recipient-file FILE (no terminal to ask on)"
                .into(),
        ));
    }
    let passphrase = dialoguer::Password::new()
        .with_prompt("Passphrase for the bundle")
        .with_confirmation("Again", "the two passphrases differ")
        .interact()
        .map_err(|e| Error::Other(format!("cannot read the passphrase: {e}")))?;
    if passphrase.is_empty() {
        return Err(bundle::BundleError::EmptyPassphrase.into());
    }
    Ok(Lock::Passphrase(SecretString::from(passphrase)))
}

/// The grants to export: those of the named servers, or every grant held.
fn pick(ctx: &Ctx, index: &Index, args: &ExportArgs) -> Result<Vec<(Target, GrantRecord)>> {
    let account = args.account.as_deref();
    if args.servers.is_empty() {
        if index.grants.is_empty() {
            return Err(Error::Other(
                "no grants to export: sign in with `mcpauth login NAME` first".into(),
            ));
        }
        return index
            .grants
            .iter()
            .map(|rec| {
                // A name from the configs reads better in messages; the resource always works.
                let target = rec
                    .aliases
                    .iter()
                    .find_map(|a| grants::resolve(ctx, a, rec.key.account.as_deref()).ok())
                    .filter(|t| grants::find(index, t).is_some_and(|g| g.id == rec.id))
                    .map_or_else(
                        || grants::resolve(ctx, &rec.key.resource, rec.key.account.as_deref()),
                        Ok,
                    )?;
                Ok((target, rec.clone()))
            })
            .collect();
    }
    let mut picked: Vec<(Target, GrantRecord)> = Vec::new();
    for name in &args.servers {
        let target = grants::resolve(ctx, name, account)?;
        let rec = grants::find(index, &target)
            .cloned()
            .ok_or_else(|| Error::login_required(name, format!("not signed in to `{name}`")))?;
        if !picked.iter().any(|(_, r)| r.id == rec.id) {
            picked.push((target, rec));
        }
    }
    Ok(picked)
}

/// The grant as it is here, with its client registration.
async fn current(
    ctx: &Ctx,
    index: &Index,
    target: &Target,
    rec: &GrantRecord,
) -> Result<BundledGrant> {
    let name = target.name.clone();
    let r = rec.clone();
    let secrets = ctx
        .blocking(move |v| v.grant_secrets(&r))
        .await?
        .ok_or_else(|| {
            Error::login_required(&name, format!("the stored tokens for `{name}` are missing"))
        })?;
    let client = client_of(index, rec);
    let c = client.clone();
    let client_secret = ctx.blocking(move |v| v.client_secret(&c)).await?;
    Ok(BundledGrant {
        grant: rec.clone(),
        secrets,
        client,
        client_secret,
    })
}

/// A new grant for the other host: the whole sign-in again, stored nowhere here.
async fn fresh(
    ctx: &Ctx,
    target: &Target,
    rec: &GrantRecord,
    args: &ExportArgs,
) -> Result<BundledGrant> {
    eprintln!(
        "Signing in to `{}` once more, for the other host's own grant (--copy shares this one instead).",
        target.name
    );
    let opts = signin::Options {
        flow: if args.device {
            signin::Flow::Device
        } else if args.no_browser {
            signin::Flow::Paste
        } else {
            signin::Flow::Browser
        },
        params: rec.extra_params.clone().into_iter().collect(),
        ..signin::Options::default()
    };
    let obtained = signin::obtain(ctx, target, &opts, &rec.scopes)
        .await
        .context(|| format!("cannot sign in to `{}` for the bundle", target.name))?;
    let mut client = obtained.client;
    client.store = obtained.grant.store;
    Ok(BundledGrant {
        grant: obtained.grant,
        secrets: obtained.secrets,
        client,
        client_secret: obtained.client_secret,
    })
}

/// The stored registration of the grant's client; a public client that was never stored
/// is described from the grant itself.
fn client_of(index: &Index, rec: &GrantRecord) -> ClientRecord {
    index
        .clients
        .iter()
        .find(|c| c.issuer == rec.key.issuer && c.client_id == rec.key.client_id)
        .cloned()
        .unwrap_or_else(|| ClientRecord {
            issuer: rec.key.issuer.clone(),
            client_id: rec.key.client_id.clone(),
            auth_method: rec.auth_method.clone(),
            origin: ClientOrigin::Preregistered,
            redirect_uris: Vec::new(),
            has_secret: false,
            store: rec.store,
            registered_at: rec.obtained_at_ms / 1000,
            secret_expires_at: None,
        })
}
