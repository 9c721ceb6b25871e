//! `mcpauth install CLIENT [NAME...]` and `mcpauth uninstall CLIENT [NAME...]`: point a
//! client's remote servers at `mcpauth proxy` (or, for Claude Code, at
//! `mcpauth headers`), and put them back.
//!
//! Order of writes on install: the backup, then the sidecar record, then the config; so
//! whatever fails midway, the original entries are on disk somewhere mcpauth can find.

use crate::cli::{ClientArgs, InstallArgs, UninstallArgs};
use crate::clients::document::{Document, diff};
use crate::clients::plan::{self, Note};
use crate::clients::sidecar::Sidecar;
use crate::clients::{ClientError, Target, locate};
use crate::config::paths::Os;
use crate::context::{Ctx, env_var};
use crate::error::Result;
use serde_json::{Map, Value};

pub fn run(ctx: &Ctx, args: InstallArgs) -> Result<()> {
    let (target, doc, mut sidecar) = open(ctx, &args.client)?;
    let mut table = doc.table.clone();
    let plan = plan::Install {
        target: &target,
        names: &args.client.names,
        headers_helper: args.headers_helper,
        launcher: args.launcher,
        env: own_env(ctx),
        full_path: plan::needs_full_path(&target, Os::HERE, args.launcher)
            .then(this_binary)
            .flatten(),
    };
    let notes = plan::install(&plan, &mut table, &mut sidecar)?;
    let new = doc.render(&table)?;
    finish(
        &target,
        &doc,
        &table,
        new,
        &notes,
        args.client.dry_run,
        |doc| {
            if let Some(backup) = doc.backup()? {
                eprintln!(
                    "backed up `{}` to `{}`",
                    doc.path.display(),
                    backup.display()
                );
            }
            sidecar.save()
        },
    )?;
    if notes.iter().any(|n| n.changed) && !args.client.dry_run && !args.headers_helper {
        eprintln!(
            "the originals are kept in `{}`; `mcpauth uninstall {}` puts them back",
            sidecar.path.display(),
            client_word(&args.client)
        );
    }
    Ok(())
}

/// This binary as the person's PATH names it (a Homebrew or cargo link stays right
/// across upgrades), else where it runs from.
fn this_binary() -> Option<String> {
    let exe = std::env::current_exe().ok()?;
    let real = std::fs::canonicalize(&exe).ok()?;
    let name = exe.file_name()?;
    let on_path = env_var("PATH")
        .map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .map(|dir| dir.join(name))
        .find(|c| c.is_absolute() && std::fs::canonicalize(c).is_ok_and(|c| c == real));
    Some(on_path.unwrap_or(exe).to_string_lossy().into_owned())
}

/// `MCPAUTH_HOME` (absolute, as this home resolved it: the client starts servers
/// elsewhere) and `MCPAUTH_STORE`, when set here.
fn own_env(ctx: &Ctx) -> Vec<(String, String)> {
    let mut env = Vec::new();
    if let Some(home) = ctx.home.chosen_dir() {
        env.push((
            "MCPAUTH_HOME".to_owned(),
            home.to_string_lossy().into_owned(),
        ));
    }
    if let Some(store) = env_var("MCPAUTH_STORE").filter(|v| !v.is_empty()) {
        env.push(("MCPAUTH_STORE".to_owned(), store));
    }
    env
}

pub fn run_uninstall(ctx: &Ctx, args: UninstallArgs) -> Result<()> {
    let (target, doc, mut sidecar) = open(ctx, &args.client)?;
    let mut table = doc.table.clone();
    let notes = plan::uninstall(&target, &args.client.names, &mut table, &mut sidecar)?;
    if notes.is_empty() {
        eprintln!(
            "nothing to uninstall: mcpauth installed nothing in `{}`",
            target.path.display()
        );
        return Ok(());
    }
    let new = doc.render_restored(&table)?;
    finish(
        &target,
        &doc,
        &table,
        new,
        &notes,
        args.client.dry_run,
        |_| Ok(()),
    )?;
    // The record changes only once the config no longer needs what it drops.
    if !args.client.dry_run {
        sidecar.save()?;
    }
    Ok(())
}

/// The client's file, parsed, and mcpauth's record for it. A missing or malformed file
/// is an error, and nothing is written.
fn open(ctx: &Ctx, args: &ClientArgs) -> Result<(Target, Document, Sidecar)> {
    let target = locate(args, &ctx.lookup, &env_var)?;
    let doc = Document::read(&target.path, target.format, target.key)?.ok_or_else(|| {
        ClientError::NoFile {
            client: target.client.label(),
            path: target.path.clone(),
        }
    })?;
    let sidecar = Sidecar::load(&ctx.home.data_dir, &target.path)?;
    Ok((target, doc, sidecar))
}

/// Says what happened to each entry, then shows (`--dry-run`) or writes `new`.
/// `before_write` runs only when the file is about to change.
fn finish(
    target: &Target,
    doc: &Document,
    table: &Map<String, Value>,
    new: String,
    notes: &[Note],
    dry_run: bool,
    before_write: impl FnOnce(&Document) -> Result<(), ClientError>,
) -> Result<()> {
    let file = target.path.display();
    for note in notes {
        eprintln!("`{}` in `{file}` {}", note.name, note.message);
    }
    if new == doc.text || !notes.iter().any(|n| n.changed) {
        eprintln!("`{file}` is unchanged");
        return Ok(());
    }
    if dry_run {
        // Rendered from copies without header and env values: a diff ends up in
        // terminals and bug reports.
        let old = doc.render(&plan::redacted(&doc.table))?;
        let new = doc.render(&plan::redacted(table))?;
        super::print_stdout(&diff(&target.path, &old, &new))?;
        eprintln!("dry run: nothing was written");
        return Ok(());
    }
    before_write(doc)?;
    doc.write(&new)?;
    eprintln!("updated `{file}`");
    Ok(())
}

fn client_word(args: &ClientArgs) -> String {
    let mut word = args.client.word();
    if args.scope == crate::cli::ScopeArg::User {
        word.push_str(" --scope user");
    }
    if args.global {
        word.push_str(" --global");
    }
    word
}
