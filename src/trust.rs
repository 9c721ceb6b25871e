//! Pinned authorization server metadata that the person agreed to.
//!
//! A project's `.mcp.json` comes from a repository anyone can commit to, and its
//! `oauth.authServerMetadataUrl` decides where the browser and the authorization code
//! go. When that URL is on another origin than the authorization servers the MCP server
//! names for itself, the person is shown it and asked once per file (or must pass
//! `--allow-pinned-metadata` where nobody can be asked); the answer is kept in
//! `<data_dir>/confirmed-pins.json`, keyed by the file and the exact URL, so a file that
//! later pins somewhere else is asked about again.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::context::Ctx;
use crate::error::Result;
use crate::escape::controls;
use crate::grants::Target;
use crate::oauth::OauthError;
use crate::oauth::discovery::Discovery;
use crate::store::disk;

#[derive(Debug, Default, Serialize, Deserialize)]
struct Confirmed {
    #[serde(default)]
    pins: Vec<Pin>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Pin {
    file: PathBuf,
    metadata_url: String,
}

fn path(ctx: &Ctx) -> PathBuf {
    ctx.home.data_dir.join("confirmed-pins.json")
}

/// The file as it will be named next time, whatever the working directory.
fn canonical(file: &Path) -> PathBuf {
    std::fs::canonicalize(file).unwrap_or_else(|_| file.to_path_buf())
}

fn read(ctx: &Ctx) -> Confirmed {
    // A damaged file only means being asked again.
    disk::read_optional(&path(ctx))
        .ok()
        .flatten()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default()
}

fn remember(ctx: &Ctx, pin: Pin) -> Result<()> {
    let mut all = read(ctx);
    if !all.pins.contains(&pin) {
        all.pins.push(pin);
    }
    let bytes = serde_json::to_vec_pretty(&all).expect("the confirmations serialize");
    disk::write_private_atomic(&path(ctx), &bytes)?;
    Ok(())
}

/// Goes on only when the discovered metadata is where the MCP server points, or was
/// pinned by the person (on the command line, in their own config), or its project file
/// was confirmed: now, earlier, or with `--allow-pinned-metadata`.
pub fn check_pinned(
    ctx: &Ctx,
    target: &Target,
    opts: &crate::signin::Options,
    d: &Discovery,
) -> Result<()> {
    if opts.metadata.pinned().is_some() || !target.entry.source.kind.is_project_file() {
        return Ok(());
    }
    let Some(expected) = d.pinned_elsewhere() else {
        return Ok(());
    };
    let Some(pinned) = crate::oauth::discovery::Pinned::from_settings(&target.entry.oauth) else {
        return Ok(());
    };
    let url = pinned.key();
    let shown = pinned.describe();
    let file = canonical(&target.entry.source.path);
    let pin = Pin {
        file: file.clone(),
        metadata_url: url.clone(),
    };
    if read(ctx).pins.contains(&pin) {
        tracing::debug!(file = %file.display(), "pinned metadata confirmed earlier");
        return Ok(());
    }
    let refusal = OauthError::PinnedElsewhere {
        server: target.name.clone(),
        file: file.clone(),
        url: shown.clone(),
        expected: expected.clone(),
    };
    let agreed = if opts.allow_pinned_metadata {
        eprintln!(
            "mcpauth: note: `{}` pins where `{}` signs in ({}), on another origin than the server's own authorization servers ({}); signing in there, as --allow-pinned-metadata says",
            controls(&file.display().to_string()),
            controls(&target.name),
            controls(&shown),
            listed(&expected),
        );
        true
    } else if ctx.interactive {
        eprintln!(
            "`{}` pins where `{}` signs in:\n  {}\n\
             which is not on the origin of the authorization servers the server names for itself\n  ({})\n\
             Signing in would take the browser, and the authorization code, there.",
            controls(&file.display().to_string()),
            controls(&target.name),
            controls(&shown),
            listed(&expected),
        );
        dialoguer::Confirm::new()
            .with_prompt("Sign in there anyway (asked once for this file)?")
            .default(false)
            .interact()
            .unwrap_or(false)
    } else {
        false
    };
    if !agreed {
        return Err(refusal.into());
    }
    remember(ctx, pin)
}

fn listed(urls: &[String]) -> String {
    urls.iter()
        .map(|e| format!("`{}`", controls(&crate::redact::url(e))))
        .collect::<Vec<_>>()
        .join(", ")
}
