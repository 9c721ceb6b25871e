//! `mcpauth doctor [NAME]`: walks every step a sign-in and the proxy depend on (the
//! config, discovery, PKCE, registration, the callback port, the keychain, the grant,
//! proxy and CA settings) and prints each with ✓, ! or ✗ and what to do about a ✗.
//! Read-only: it registers nothing, stores nothing and opens no browser.

use std::fmt::Write as _;
use std::io::IsTerminal;

use serde::Serialize;

use crate::cli::DoctorArgs;
use crate::config;
use crate::context::{Ctx, env_var};
use crate::error::{Error, Result};
use crate::escape::controls;
use crate::grants::{self, Target};
use crate::oauth::OauthError;
use crate::oauth::authorize::Listener;
use crate::oauth::discovery::{self, Discovery, MetadataSource};
use crate::store::{StoreChoice, StoreError, StoreKind};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
enum Status {
    Ok,
    Warn,
    Fail,
}

#[derive(Debug, Serialize)]
struct Check {
    check: &'static str,
    status: Status,
    detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    fix: Option<String>,
}

#[derive(Default)]
struct Report {
    checks: Vec<Check>,
}

impl Report {
    fn ok(&mut self, check: &'static str, detail: impl Into<String>) {
        self.push(check, Status::Ok, detail, None);
    }
    fn warn(&mut self, check: &'static str, detail: impl Into<String>, fix: Option<String>) {
        self.push(check, Status::Warn, detail, fix);
    }
    fn fail(&mut self, check: &'static str, detail: impl Into<String>, fix: impl Into<String>) {
        self.push(check, Status::Fail, detail, Some(fix.into()));
    }
    fn push(
        &mut self,
        check: &'static str,
        status: Status,
        detail: impl Into<String>,
        fix: Option<String>,
    ) {
        self.checks.push(Check {
            check,
            status,
            detail: detail.into(),
            fix,
        });
    }
}

pub async fn run(ctx: &Ctx, args: DoctorArgs) -> Result<()> {
    let report = examine(ctx, &args).await;
    let failed = report
        .checks
        .iter()
        .filter(|c| c.status == Status::Fail)
        .count();
    if args.json {
        let doc = serde_json::json!({
            "server": args.server,
            "ok": failed == 0,
            "checks": report.checks,
        });
        super::print_stdout(&format!(
            "{}\n",
            serde_json::to_string_pretty(&doc).expect("the report serializes")
        ))?;
    } else {
        super::print_stdout(&render(&report, colour_on_stdout()))?;
    }
    if failed > 0 {
        return Err(Error::Other(format!(
            "{failed} check{} failed (see above)",
            if failed == 1 { "" } else { "s" }
        )));
    }
    Ok(())
}

async fn examine(ctx: &Ctx, args: &DoctorArgs) -> Report {
    let mut report = Report::default();
    let target = match &args.server {
        Some(name) => match grants::resolve(ctx, name, args.account.as_deref()) {
            Ok(t) => {
                report.ok(
                    "config",
                    format!(
                        "`{}` is {} ({})",
                        t.name,
                        crate::redact::url(t.url.as_str()),
                        t.entry.source.path.display()
                    ),
                );
                Some(t)
            }
            Err(e) => {
                let fix = match &e {
                    Error::Config(config::ConfigError::UnknownServer(_)) => {
                        "use one of the names listed, or the server's URL"
                    }
                    Error::Config(config::ConfigError::LocalServer { .. }) => {
                        "a local (stdio) server needs no sign-in; nothing to fix"
                    }
                    _ => "fix the file at the place named, or give the server's URL instead",
                };
                report.fail("config", e.to_string(), fix);
                None
            }
        },
        None => {
            let listing = config::list(&ctx.lookup, &env_var);
            let entries = &listing.entries;
            let remote = entries.iter().filter(|e| e.url.is_some()).count();
            report.ok(
                "config",
                format!(
                    "{} servers in the MCP configs, {remote} of them remote",
                    entries.len()
                ),
            );
            for e in listing.problems {
                match e {
                    // The MCP client that starts the server may well set it.
                    config::ConfigError::UnsetVariable { .. } => report.warn(
                        "config",
                        e.to_string(),
                        Some("set it where mcpauth runs, or give it a default".into()),
                    ),
                    _ => report.fail("config", e.to_string(), "fix the file at the place named"),
                }
            }
            None
        }
    };

    if let Some(target) = &target {
        server_checks(ctx, target, &mut report).await;
    }
    state_check(ctx, &mut report);
    store_check(ctx, &mut report).await;
    keychain_check(ctx, &mut report).await;
    network_checks(&mut report);
    report
}

/// Where the grants are, and whether another place holds some that this mcpauth does not
/// read (an index left under `XDG_DATA_HOME` by an earlier version).
fn state_check(ctx: &Ctx, report: &mut Report) {
    let home = &ctx.home;
    let here = format!("`{}` ({})", home.data_dir.display(), home.decided_by);
    match home.stray_indexes().first() {
        None => report.ok("state", format!("grants are kept in {here}")),
        Some(stray) => report.warn(
            "state",
            format!(
                "grants are kept in {here}, but `{}` also holds some that mcpauth no longer reads",
                stray.display()
            ),
            Some(format!(
                "move the files from `{}` to `{}` (or set MCPAUTH_HOME for every client)",
                stray.parent().unwrap_or(stray).display(),
                home.data_dir.display()
            )),
        ),
    }
}

/// Whether the index and the secrets file read, and the data directory takes a write:
/// a damaged store is named with its file and what to do, never with its content.
async fn store_check(ctx: &Ctx, report: &mut Report) {
    let recover = "move the file named away (keep it, in case it can be repaired) and log in again to the servers it held";
    if let Err(e) = ctx.blocking(|v| v.index()).await {
        report.fail("store", e.to_string(), recover);
        return;
    }
    let entries = match ctx.blocking(|v| v.file_entries()).await {
        Ok(entries) => entries.len(),
        Err(e) => {
            report.fail("store", e.to_string(), recover);
            return;
        }
    };
    // A home never used has nothing to be damaged, and doctor creates nothing.
    if ctx.home.data_dir.exists()
        && let Err(e) = ctx.blocking(|v| v.probe(StoreKind::Memory)).await
    {
        report.fail(
            "store",
            crate::error::inline(&e),
            format!(
                "`{}` must be a directory mcpauth can write to",
                ctx.home.data_dir.display()
            ),
        );
        return;
    }
    report.ok(
        "store",
        match entries {
            0 => "the grant index reads and takes writes".to_owned(),
            n => format!(
                "the grant index and the secrets file ({n} entr{}) read and take writes",
                if n == 1 { "y" } else { "ies" }
            ),
        },
    );
}

async fn server_checks(ctx: &Ctx, target: &Target, report: &mut Report) {
    // A server that brings its own credential has nothing to sign in to, unless a
    // `login --force` made an OAuth grant for it anyway.
    if let Some(header) = target.entry.static_authorization() {
        let signed_in = ctx
            .blocking(|v| v.index())
            .await
            .is_ok_and(|index| grants::find(&index, target).is_some());
        if !signed_in {
            report.ok(
                "credential",
                format!(
                    "the `{header}` header from {} is sent as it is; nothing to sign in to",
                    target.entry.origin(&ctx.lookup)
                ),
            );
            return;
        }
    }
    let pinned = discovery::Pinned::from_settings(&target.entry.oauth);
    match discovery::discover(ctx.http(), target.url.as_str(), pinned).await {
        Ok(d) => {
            let how = match &d.metadata_source {
                MetadataSource::WellKnown(url) => format!("metadata at {url}"),
                MetadataSource::Pinned(url) => {
                    format!("pinned metadata at {}", crate::redact::url(url))
                }
                MetadataSource::Defaults => "no metadata: the 2025-03-26 default endpoints".into(),
                MetadataSource::Explicit => "endpoints given by hand".into(),
            };
            report.ok(
                "discovery",
                format!("issuer {} ({how}); resource {}", d.issuer, d.resource),
            );
            let registers = target.entry.oauth.client_id.is_none();
            match d.missing_defaults(ctx.http(), registers).await {
                Ok(Some(missing)) if !missing.is_empty() => {
                    report.fail(
                        "endpoints",
                        format!(
                            "the server publishes no OAuth metadata, and nothing answers at {}",
                            missing
                                .iter()
                                .map(|u| format!("`{u}`"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                        discovery::EXPLICIT_ENDPOINTS_HINT,
                    );
                    return;
                }
                Ok(_) => {}
                Err(e) => report.warn("endpoints", e.to_string(), None),
            }
            let methods = d
                .metadata
                .code_challenge_methods_supported
                .clone()
                .unwrap_or_default();
            if methods.is_empty() {
                report.warn(
                    "pkce",
                    "the metadata lists no PKCE methods; mcpauth sends S256 regardless",
                    None,
                );
            } else {
                report.ok("pkce", format!("S256 (offered: {})", methods.join(", ")));
            }
            registration_check(ctx, target, &d, report).await;
        }
        Err(OauthError::NoAuthRequired { .. }) => {
            report.ok(
                "discovery",
                "the server asks for no authorization: `mcpauth proxy` works without a sign-in",
            );
        }
        Err(e) => {
            let (check, fix) = discovery_failure(&e);
            report.fail(check, e.to_string(), fix);
        }
    }

    let port = target.entry.oauth.callback_port.unwrap_or(0);
    match Listener::bind(port) {
        Ok(listener) => report.ok(
            "callback",
            match port {
                0 => format!("can listen on 127.0.0.1 (port {} was free)", listener.port()),
                p => format!("can listen on 127.0.0.1:{p}, the pinned port"),
            },
        ),
        Err(e) => report.fail(
            "callback",
            e.to_string(),
            "stop what holds the port, or pin another with `oauth.callbackPort` / --callback-port (and register it with the provider)",
        ),
    }

    match ctx.blocking(|v| v.index()).await {
        Ok(index) => match grants::find(&index, target) {
            Some(g) => {
                let now = ctx.clock.now_ms();
                let (state, detail) = super::status::state_of(g, now);
                let detail = format!("{detail}; in the {}", g.store.describe());
                let login = format!("run `mcpauth login {}`", target.name);
                let g = g.clone();
                match state {
                    "needs_login" => report.fail("grant", detail, login),
                    // A record is not a grant: its tokens must read too (never shown).
                    _ => match ctx.blocking(move |v| v.grant_secrets(&g)).await {
                        Ok(Some(_)) => report.ok("grant", detail),
                        Ok(None) => report.fail(
                            "grant",
                            format!("{detail}, but its tokens are missing from there"),
                            login,
                        ),
                        Err(e) => report.fail(
                            "grant",
                            format!("{detail}, but its tokens cannot be read: {e}"),
                            login,
                        ),
                    },
                }
            }
            None => report.warn(
                "grant",
                "not signed in",
                Some(format!("run `mcpauth login {}`", target.name)),
            ),
        },
        Err(e) => report.fail(
            "grant",
            e.to_string(),
            "see the file named; `mcpauth logout` then `login` starts over",
        ),
    }
}

/// Which check a discovery failure belongs to, and what to do about it.
fn discovery_failure(e: &OauthError) -> (&'static str, &'static str) {
    match e {
        OauthError::Unreachable { .. } => (
            "reachable",
            "check the URL, your connection, and HTTPS_PROXY / NO_PROXY",
        ),
        OauthError::ResourceMismatch { .. } => (
            "resource",
            "the server publishes metadata for another resource: check the URL (path and host) with its operator",
        ),
        OauthError::IssuerMismatch { .. } | OauthError::NoMetadata { .. } => (
            "authorization server",
            "the authorization server's metadata does not check out; pin the right one with `oauth.authServerMetadataUrl`, or tell its operator",
        ),
        OauthError::MalformedMetadata { .. } => (
            "metadata",
            "the server published metadata mcpauth cannot read; tell its operator",
        ),
        OauthError::NoS256 { .. } => (
            "pkce",
            "the authorization server must offer PKCE with S256; mcpauth does not sign in without it",
        ),
        OauthError::InsecureEndpoint { .. } => (
            "https",
            "every endpoint off this machine must be https; tell the server's operator",
        ),
        _ => ("discovery", "run `mcpauth login NAME -v` for the details"),
    }
}

async fn registration_check(ctx: &Ctx, target: &Target, d: &Discovery, report: &mut Report) {
    if let Some(id) = &target.entry.oauth.client_id {
        report.ok(
            "registration",
            format!("pre-registered client `{id}` from the config"),
        );
        return;
    }
    let stored = ctx
        .blocking(|v| v.index())
        .await
        .ok()
        .and_then(|i| i.clients.into_iter().find(|c| c.issuer == d.issuer));
    let mut ways = Vec::new();
    if let Some(c) = &stored {
        ways.push(format!("a stored registration (client `{}`)", c.client_id));
    }
    if d.metadata.registration_endpoint.is_some() {
        ways.push("dynamic registration (RFC 7591)".into());
    }
    if d.metadata.client_id_metadata_document_supported == Some(true) {
        ways.push("client ID metadata documents (--client-metadata-url)".into());
    }
    if ways.is_empty() {
        report.fail(
            "registration",
            format!("`{}` offers no way for mcpauth to register itself", d.issuer),
            "register an OAuth app with the provider (redirect URI http://127.0.0.1/callback) and pass --client-id",
        );
    } else {
        report.ok("registration", ways.join("; "));
    }
    if d.metadata.device_authorization_endpoint.is_some() {
        report.ok(
            "headless",
            "device codes offered: `mcpauth login --device` works without a browser here",
        );
    }
}

async fn keychain_check(ctx: &Ctx, report: &mut Report) {
    if ctx.vault.choice() == StoreChoice::File {
        report.ok(
            "keychain",
            "not used: --store file keeps secrets in a file readable only by you",
        );
        return;
    }
    match ctx.blocking(|v| v.probe_keychain()).await {
        Ok(()) => report.ok("keychain", "reachable"),
        Err(StoreError::KeychainUnreachable { reason }) => report.warn(
            "keychain",
            format!("unreachable ({reason}); secrets go to a file readable only by you"),
            Some(NO_KEYCHAIN_FIX.into()),
        ),
        Err(e @ StoreError::KeychainLocked { .. }) => report.fail(
            "keychain",
            e.to_string(),
            "unlock it as said, then run doctor again",
        ),
        Err(e) => report.fail(
            "keychain",
            e.to_string(),
            "run doctor again; if it stays, add --store file",
        ),
    }
}

#[cfg(target_os = "macos")]
const NO_KEYCHAIN_FIX: &str = "log in to the Mac's desktop once so the login keychain exists; over SSH or in a launch daemon the file store is expected";
#[cfg(windows)]
const NO_KEYCHAIN_FIX: &str = "sign in to Windows interactively so Credential Manager is available; in a service the file store is expected";
#[cfg(not(any(target_os = "macos", windows)))]
const NO_KEYCHAIN_FIX: &str = "on a desktop, start the keyring (GNOME Keyring, KWallet); on a server the file store is expected";

fn network_checks(report: &mut Report) {
    let proxy = ["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"]
        .iter()
        .find_map(|v| env_var(v).filter(|s| !s.is_empty()).map(|s| (*v, s)));
    match proxy {
        Some((var, value)) => match url::Url::parse(&value) {
            Ok(u) => report.ok(
                "proxy",
                format!(
                    "{var} sends https through {}:{}{}",
                    u.host_str().unwrap_or("?"),
                    u.port_or_known_default().unwrap_or(0),
                    env_var("NO_PROXY")
                        .or_else(|| env_var("no_proxy"))
                        .map(|n| format!(", except {n}"))
                        .unwrap_or_default()
                ),
            ),
            Err(_) => report.fail(
                "proxy",
                format!("{var} is not a URL"),
                format!("set {var} to a URL such as http://proxy.example:3128"),
            ),
        },
        None => report.ok("proxy", "none: connections go direct"),
    }
    for var in ["SSL_CERT_FILE", "SSL_CERT_DIR"] {
        if let Some(path) = env_var(var).filter(|s| !s.is_empty()) {
            if std::path::Path::new(&path).exists() {
                report.ok(
                    "certificates",
                    format!("from {var}={path}, in place of the system's"),
                );
            } else {
                report.fail(
                    "certificates",
                    format!("{var}={path} does not exist"),
                    format!("point {var} at your CA bundle, or unset it"),
                );
            }
            return;
        }
    }
    report.ok("certificates", "the system's CA certificates");
}

/// Colour only for a terminal, and never with `NO_COLOR` set (<https://no-color.org>).
fn colour_on_stdout() -> bool {
    std::io::stdout().is_terminal() && env_var("NO_COLOR").is_none_or(|v| v.is_empty())
}

fn render(report: &Report, colour: bool) -> String {
    let width = report
        .checks
        .iter()
        .map(|c| c.check.len())
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    for c in &report.checks {
        let (mark, code) = match c.status {
            Status::Ok => ("✓", "32"),
            Status::Warn => ("!", "33"),
            Status::Fail => ("✗", "31"),
        };
        let mark = if colour {
            format!("\x1b[{code}m{mark}\x1b[0m")
        } else {
            mark.to_owned()
        };
        // Details quote servers (an issuer, the PKCE methods) and configs: shown, not obeyed.
        let _ = writeln!(out, "{mark} {:width$}  {}", c.check, controls(&c.detail));
        if let Some(fix) = &c.fix {
            let _ = writeln!(out, "  {:width$}  → {}", "", controls(fix));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_align_and_colour_only_when_asked() {
        let mut r = Report::default();
        r.ok("config", "fine");
        r.fail("pkce", "no S256", "ask the operator");
        let plain = render(&r, false);
        assert_eq!(
            plain,
            "✓ config  fine\n✗ pkce    no S256\n          → ask the operator\n"
        );
        assert!(!plain.contains('\x1b'));
        r.warn("discovery", "issuer \x1b]0;owned\x07", None);
        assert!(render(&r, false).ends_with("! discovery  issuer \\u{1b}]0;owned\\u{7}\n"));
        assert!(render(&r, true).contains("\x1b[31m✗\x1b[0m"));
    }
}
