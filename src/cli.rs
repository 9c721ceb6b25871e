//! The command line, as clap types. The doc comments are the help text, the man pages
//! and the completions; nothing here does I/O.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Sign in to OAuth-protected MCP servers and keep the tokens fresh.
///
/// Servers are named as in `.mcp.json` and the other MCP client configs (Claude Code,
/// Claude Desktop, Cursor, VS Code, Codex, Gemini CLI, Windsurf), or given as an https URL.
#[derive(Debug, Parser)]
#[command(name = "mcpauth", version, max_term_width = 100)]
#[command(after_help = "Exit codes: 0 ok, 1 failure, 2 usage, 4 login required, 130 interrupted.")]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct Global {
    /// Read servers from this file only (any MCP client's config format).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Where to keep secrets: the OS keychain, or a file readable only by you.
    /// [default: the keychain when one can be reached, else the file]
    #[arg(long, global = true, env = "MCPAUTH_STORE", value_name = "STORE")]
    pub store: Option<StoreArg>,

    /// More detail on stderr (-v, -vv); or set MCPAUTH_LOG (e.g. `mcpauth=debug`).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StoreArg {
    Keyring,
    File,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Sign in to a server in the browser and store the grant.
    Login(LoginArgs),
    /// Show every known server and grant: state, expiry, issuer, scopes, where stored.
    Status(StatusArgs),
    /// Print a fresh access token on stdout, refreshing it first when needed.
    Token(TokenArgs),
    /// Print `{"Authorization": "Bearer ..."}` for a server (a `headersHelper`).
    ///
    /// Without SERVER, the server is the one Claude Code names when it runs a
    /// `headersHelper` (`CLAUDE_CODE_MCP_SERVER_URL`, `CLAUDE_CODE_MCP_SERVER_NAME`), so
    /// one `"headersHelper": "mcpauth headers"` serves every server.
    Headers(HeadersArgs),
    /// Revoke a grant at the server when it can, and forget it here.
    Logout(LogoutArgs),
    /// Run as a stdio MCP server that forwards to the remote server with fresh tokens.
    ///
    /// Put `{"command": "mcpauth", "args": ["proxy", "NAME"]}` into Claude Desktop,
    /// Claude Code, Cursor or any MCP client's config.
    Proxy(ProxyArgs),
    /// Write grants into an encrypted bundle for another host (a server, CI, a
    /// container), where `mcpauth import` reads them.
    ///
    /// Each grant in the bundle is a fresh one, approved in the browser here, so that the
    /// two hosts never share a refresh token (`--copy` shares it; `--move` hands it over).
    Export(ExportArgs),
    /// Store the grants of a bundle from `mcpauth export`, or (`--from mcp-remote`) the
    /// grants mcp-remote keeps in plaintext files.
    Import(ImportArgs),
    /// Print a shell completion script on stdout.
    ///
    /// For example `mcpauth completions bash > ~/.local/share/bash-completion/completions/mcpauth`.
    Completions(CompletionsArgs),
    /// Write the man pages: `mcpauth.1` and one page per command.
    Man(ManArgs),
    /// Rewrite the committed `completions/` and `man/` directories from this definition.
    #[command(hide = true)]
    Generate(GenerateArgs),
    /// Point an MCP client at `mcpauth proxy` for its remote servers.
    ///
    /// Each remote (http, sse or `npx mcp-remote`) entry of the client's config, or each
    /// one named, becomes an entry that runs `mcpauth ... proxy ...`, written the way
    /// that client writes a local server. Only those entries' bytes change: comments and
    /// the rest of the file stay. The replaced entries are kept in mcpauth's data
    /// directory for `mcpauth uninstall`, and the proxy reads them from there; in a
    /// project's file, which teams share, an entry that is nothing but a URL becomes
    /// `mcpauth proxy URL` instead, which works on any machine. `login`, `status` and
    /// `token` still find the server under its name. The file is copied to
    /// `FILE.mcpauth-backup` before its first change.
    Install(InstallArgs),
    /// Put back the entries that `mcpauth install` replaced in a client's config.
    Uninstall(UninstallArgs),
    /// Sign in once to your company's identity provider; servers it allows then need no
    /// browser.
    ///
    /// Where an MCP server's authorization server takes identity assertion grants
    /// (enterprise-managed authorization), `mcpauth login` and the proxy exchange this
    /// sign-in's ID token at the provider for one, and renew the same way.
    #[command(subcommand)]
    Idp(IdpCommand),
    /// Check everything a sign-in and the proxy depend on, and say what to fix.
    ///
    /// With a server: the config entry, discovery, PKCE, registration, the callback port
    /// and the grant; always: the keychain, proxy and CA settings. Read-only: registers
    /// nothing, stores nothing, opens no browser. Exits 1 when a check fails.
    Doctor(DoctorArgs),
}

#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// The server to check, by name or URL.
    #[arg(value_name = "SERVER")]
    pub server: Option<String>,

    /// Which of several accounts on the server.
    #[arg(long, value_name = "NAME")]
    pub account: Option<String>,

    /// Print JSON (`server`, `ok`, and `checks`: `check`, `status`, `detail`, `fix`).
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The servers whose grants to export [default: every grant held here].
    #[arg(value_name = "SERVER")]
    pub servers: Vec<String>,

    /// Which of several accounts on the named servers.
    #[arg(long, value_name = "NAME")]
    pub account: Option<String>,

    /// Write the bundle to FILE (created readable only by you) instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub out: Option<PathBuf>,

    /// Put this host's own grant into the bundle: both hosts then share one refresh
    /// token, and with rotation the first to refresh ends the other's grant.
    #[arg(long, conflicts_with = "move")]
    pub copy: bool,

    /// Hand this host's grant over and forget it here once the bundle is written (to a
    /// file: needs --out).
    #[arg(long = "move")]
    pub r#move: bool,

    /// Encrypt to this public key instead of a passphrase: `age1...`, or an SSH key
    /// (`ssh-ed25519 ...`, `ssh-rsa ...`), e.g. the other host's. Repeatable.
    #[arg(long = "recipient", value_name = "KEY")]
    pub recipients: Vec<String>,

    /// Encrypt to every public key in FILE (one per line; a `.pub` or
    /// `authorized_keys` file works). Repeatable.
    #[arg(long = "recipient-file", value_name = "FILE")]
    pub recipient_files: Vec<PathBuf>,

    /// Read the passphrase from the first line of FILE instead of asking.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["recipients", "recipient_files"])]
    pub passphrase_file: Option<PathBuf>,

    /// Sign the fresh grant in with the device authorization grant (RFC 8628).
    #[arg(long, conflicts_with_all = ["copy", "move", "no_browser"])]
    pub device: bool,

    /// Sign the fresh grant in without a browser here: open the printed URL anywhere,
    /// then paste back the address the browser ended on.
    #[arg(long, conflicts_with_all = ["copy", "move"])]
    pub no_browser: bool,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The bundle, or `-` for stdin [default: stdin].
    #[arg(value_name = "FILE", conflicts_with = "from")]
    pub file: Option<PathBuf>,

    /// Read the passphrase from the first line of FILE instead of asking.
    #[arg(long, value_name = "FILE")]
    pub passphrase_file: Option<PathBuf>,

    /// The private key for a bundle made with --recipient: an age identity file or an
    /// SSH private key without a passphrase.
    #[arg(long, value_name = "FILE", conflicts_with = "passphrase_file")]
    pub identity: Option<PathBuf>,

    /// Replace grants already held here for the same servers without asking.
    #[arg(long)]
    pub force: bool,

    /// Import from another tool instead of a bundle.
    #[arg(long, value_name = "TOOL")]
    pub from: Option<ImportSource>,

    /// With --from: a server URL to match the tool's files against, for servers that no
    /// MCP config names any more. Repeatable.
    #[arg(long = "url", value_name = "URL", requires = "from")]
    pub urls: Vec<String>,

    /// With --from: delete the tool's plaintext files once their grant is stored
    /// [default: ask on a terminal, else keep them].
    #[arg(long, requires = "from")]
    pub delete_originals: bool,

    /// With --from: keep the tool's files without asking.
    #[arg(long, requires = "from", conflicts_with = "delete_originals")]
    pub keep_originals: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ImportSource {
    /// mcp-remote (npm): `~/.mcp-auth/mcp-remote-*/<hash>_tokens.json`.
    McpRemote,
}

#[derive(Debug, Args)]
pub struct ProxyArgs {
    #[command(flatten)]
    pub target: ServerArgs,

    /// Which remote transport to speak [default: Streamable HTTP, falling back to the
    /// legacy HTTP+SSE transport when the server only speaks that].
    #[arg(long, value_name = "TRANSPORT", default_value = "auto")]
    pub transport: TransportArg,

    /// When there is no usable grant: `auto` opens the browser once (only on a
    /// desktop); `never` answers each request with an error saying to run
    /// `mcpauth login`.
    #[arg(long, value_name = "WHEN", default_value = "auto")]
    pub login: LoginMode,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TransportArg {
    Auto,
    /// Streamable HTTP (MCP 2025-03-26 and later).
    Http,
    /// HTTP+SSE (MCP 2024-11-05).
    Sse,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LoginMode {
    Auto,
    Never,
}

/// Which server, and which account on it.
#[derive(Debug, Args)]
pub struct ServerArgs {
    /// A server name from the MCP configs, or its URL.
    #[arg(value_name = "SERVER")]
    pub server: String,

    /// Which of several accounts on the same server.
    #[arg(long, value_name = "NAME")]
    pub account: Option<String>,
}

#[derive(Debug, Args)]
pub struct HeadersArgs {
    /// A server name from the MCP configs, or its URL; by default the one Claude Code
    /// names in the helper's environment.
    #[arg(value_name = "SERVER")]
    pub server: Option<String>,

    /// Which of several accounts on the same server.
    #[arg(long, value_name = "NAME")]
    pub account: Option<String>,

    /// For a DPoP-bound token: the one request the headers are for, whose method and
    /// URL the `DPoP` proof names (a proof is good for that request only).
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,

    /// The method of the request --url names.
    #[arg(long, value_name = "METHOD", default_value = "POST", requires = "url")]
    pub method: String,
}

#[derive(Debug, Args)]
pub struct LoginArgs {
    #[command(flatten)]
    pub target: ServerArgs,

    /// Sign in with OAuth even when the server's config brings its own `Authorization`
    /// header (the proxy then sends the OAuth token instead).
    #[arg(long)]
    pub force: bool,

    /// Use this pre-registered OAuth client id (else the config's `oauth.clientId`, a
    /// stored registration, or dynamic registration).
    #[arg(long, value_name = "ID")]
    pub client_id: Option<String>,

    /// Ask for the client secret of `--client-id` or the config's `oauth.clientId` (a
    /// hidden prompt, or one line on stdin). Never given on the command line.
    #[arg(long)]
    pub client_secret: bool,

    /// How the client authenticates at the token endpoint.
    #[arg(long, value_name = "METHOD")]
    pub client_auth: Option<ClientAuth>,

    /// Authenticate the client with a JWT signed by this private key (PEM, EC P-256 or
    /// RSA; `private_key_jwt`). The key is copied into the keychain.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["client_secret", "client_auth"])]
    pub client_key_file: Option<PathBuf>,

    /// Get a token for the client itself (the client credentials grant): no browser,
    /// no user; renewed the same way when it expires. Needs a client id (--client-id or
    /// `oauth.clientId`) and a secret or key.
    #[arg(long)]
    pub client_credentials: bool,

    /// Use this client ID metadata document URL as the client id, when the
    /// authorization server accepts them.
    #[arg(
        long,
        value_name = "URL",
        env = "MCPAUTH_CLIENT_METADATA_URL",
        conflicts_with = "client_id"
    )]
    pub client_metadata_url: Option<String>,

    /// Ask for an initial access token for dynamic registration (a hidden prompt, or a
    /// line on stdin after the client secret).
    #[arg(long)]
    pub initial_access_token: bool,

    /// Use this authorization server metadata instead of discovering it: an http(s) URL,
    /// or a local JSON file.
    #[arg(long, value_name = "URL|FILE")]
    pub auth_server_metadata_url: Option<String>,

    /// The authorization endpoint, for a provider that publishes no metadata (GitHub:
    /// `https://github.com/login/oauth/authorize`); goes with --token-url.
    #[arg(
        long,
        value_name = "URL",
        requires = "token_url",
        conflicts_with = "auth_server_metadata_url"
    )]
    pub authorization_url: Option<String>,

    /// The token endpoint that goes with --authorization-url.
    #[arg(long, value_name = "URL", requires = "authorization_url")]
    pub token_url: Option<String>,

    /// The revocation endpoint, used by `logout`, with --authorization-url.
    #[arg(long, value_name = "URL", requires = "authorization_url")]
    pub revocation_url: Option<String>,

    /// Sign in even though the project's config pins the authorization server metadata
    /// on another origin than the server's own authorization servers (asked once per
    /// file on a terminal; remembered either way).
    #[arg(long)]
    pub allow_pinned_metadata: bool,

    /// Scopes to ask for (repeat or separate with spaces) [default: what the server
    /// asks for].
    #[arg(long = "scope", value_name = "SCOPE")]
    pub scopes: Vec<String>,

    /// Extra authorization parameter, sent on the authorization request and on every
    /// refresh (e.g. `access_type=offline`).
    #[arg(long = "auth-param", value_name = "KEY=VALUE", value_parser = parse_key_value)]
    pub auth_params: Vec<(String, String)>,

    /// The loopback port for the browser's redirect [default: any free port, or the
    /// config's `oauth.callbackPort`].
    #[arg(long, value_name = "PORT")]
    pub callback_port: Option<u16>,

    /// Sign in as a workload with the JWT its platform issues it (workload identity
    /// federation): `file:PATH` (a Kubernetes projected token), `env:NAME`, or
    /// `command:CMD` (run by the shell; prints the JWT). No browser and no refresh
    /// token: the source is read again whenever the access token expires, by whichever
    /// mcpauth process needs the token (a variable must be in that process's
    /// environment too).
    #[arg(
        long,
        value_name = "SOURCE",
        conflicts_with_all = ["client_credentials", "device", "no_browser", "client_metadata_url"]
    )]
    pub workload: Option<crate::signin::workload::Source>,

    /// Sign in through this identity provider sign-in (`mcpauth idp login NAME`) [default:
    /// the one there is, when the server's authorization server takes ID-JAGs].
    #[arg(
        long,
        value_name = "NAME",
        conflicts_with_all = ["client_credentials", "device", "no_browser", "workload"]
    )]
    pub idp: Option<String>,

    /// Sign in as the other options say even where the identity provider could.
    #[arg(long, conflicts_with = "idp")]
    pub no_idp: bool,

    /// Sign in with a code shown here and approved on any other device (the OAuth device
    /// authorization grant), when the authorization server offers it.
    #[arg(long, conflicts_with_all = ["client_credentials", "no_browser"])]
    pub device: bool,

    /// Open no browser here: print the authorization URL to open on any machine, then
    /// paste back the address the browser ended on. Works over SSH.
    #[arg(long, conflicts_with = "client_credentials")]
    pub no_browser: bool,

    /// How long to wait for the browser (e.g. `90s`, `5m`).
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = parse_duration)]
    pub timeout: Duration,
}

#[derive(Debug, Subcommand)]
pub enum IdpCommand {
    /// Sign in to the identity provider in the browser (or with --device, --no-browser),
    /// or take its ID tokens from a source (--id-token).
    ///
    /// The provider is NAME from `identity-providers.json` in mcpauth's config directory
    /// (`{"NAME": {"issuer": URL, "clientId": ID}}`), --issuer, or `MCPAUTH_IDP` (a name
    /// or an issuer; `MCPAUTH_IDP_CLIENT_ID` gives the client id with an issuer).
    Login(IdpLoginArgs),
    /// End identity provider sign-ins, and every grant exchanged from them.
    Logout(IdpLogoutArgs),
}

#[derive(Debug, Args)]
pub struct IdpLoginArgs {
    /// A configured provider [default: MCPAUTH_IDP, or the only one configured].
    pub name: Option<String>,

    /// The provider's issuer URL.
    #[arg(long, value_name = "URL")]
    pub issuer: Option<String>,

    /// mcpauth's client at the provider [default: the configured `clientId`, else
    /// dynamic registration].
    #[arg(long, value_name = "ID")]
    pub client_id: Option<String>,

    /// Ask for the client's secret (a hidden prompt, or one line on stdin).
    #[arg(long)]
    pub client_secret: bool,

    /// Scopes to ask for [default: `openid offline_access`].
    #[arg(long = "scope", value_name = "SCOPE")]
    pub scopes: Vec<String>,

    /// Take ID tokens from `file:PATH`, `env:NAME` or `command:CMD` (a company's own
    /// sign-in tool) instead of signing in; read again for every exchange.
    #[arg(long, value_name = "SOURCE", conflicts_with_all = ["device", "no_browser", "client_secret"])]
    pub id_token: Option<crate::signin::workload::Source>,

    /// Sign in with a code approved on another device.
    #[arg(long, conflicts_with = "no_browser")]
    pub device: bool,

    /// Print the authorization URL and paste back the address the browser ended on.
    #[arg(long)]
    pub no_browser: bool,

    /// The loopback port for the browser's redirect [default: any free port].
    #[arg(long, value_name = "PORT")]
    pub callback_port: Option<u16>,

    /// How long to wait for the browser (e.g. `90s`, `5m`).
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = parse_duration)]
    pub timeout: Duration,
}

#[derive(Debug, Args)]
pub struct IdpLogoutArgs {
    /// The sign-in to end [default: all of them].
    pub name: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ClientAuth {
    /// A public client: no secret.
    #[value(name = "none")]
    None,
    /// HTTP Basic with the client id and secret.
    #[value(name = "client_secret_basic")]
    ClientSecretBasic,
    /// The client id and secret in the request body.
    #[value(name = "client_secret_post")]
    ClientSecretPost,
}

impl ClientAuth {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::ClientSecretBasic => "client_secret_basic",
            Self::ClientSecretPost => "client_secret_post",
        }
    }
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Only this server.
    #[arg(value_name = "SERVER")]
    pub server: Option<String>,

    /// Print JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct TokenArgs {
    #[command(flatten)]
    pub target: ServerArgs,

    /// Print JSON (`access_token`, `token_type`, `expires_at`, `scopes`) instead of the
    /// bare token.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct LogoutArgs {
    #[command(flatten)]
    pub target: ServerArgs,

    /// Forget the grant without asking the server to revoke it.
    #[arg(long)]
    pub no_revoke: bool,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_name = "SHELL")]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// The directory to write the pages into (created when missing).
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// The source tree whose `completions/` and `man/` to rewrite.
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub root: PathBuf,
}

/// Which MCP client, and which of its config files.
#[derive(Debug, Args)]
pub struct ClientArgs {
    /// The MCP client whose config to change.
    #[arg(value_name = "CLIENT")]
    pub client: ClientArg,

    /// Only these servers [default: every remote server in the file].
    #[arg(value_name = "NAME")]
    pub names: Vec<String>,

    /// Claude Code: the project's `.mcp.json`, or `~/.claude.json` for your user.
    #[arg(long, value_name = "SCOPE", default_value = "project")]
    pub scope: ScopeArg,

    /// Cursor and opencode: the user's file instead of the project's.
    #[arg(long)]
    pub global: bool,

    /// Print the change as a unified diff and write nothing.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct InstallArgs {
    #[command(flatten)]
    pub client: ClientArgs,

    /// Claude Code: keep the http entry and add `"headersHelper": "mcpauth headers NAME"`
    /// instead of going through the proxy.
    #[arg(long)]
    pub headers_helper: bool,

    /// How entries start mcpauth: the installed `mcpauth`, or `npx -y mcpauth` (from
    /// npm, for a shared project file that works for teammates who installed nothing)
    #[arg(long, value_enum, default_value_t = Launcher::Mcpauth, conflicts_with = "headers_helper")]
    pub launcher: Launcher,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum Launcher {
    /// `mcpauth proxy ...`: the binary on the client's PATH.
    #[default]
    Mcpauth,
    /// `npx -y mcpauth proxy ...`: npm fetches mcpauth the first time.
    Npx,
}

impl Launcher {
    /// The program and the words before mcpauth's own arguments.
    pub fn argv(self) -> (&'static str, &'static [&'static str]) {
        match self {
            Launcher::Mcpauth => ("mcpauth", &[]),
            Launcher::Npx => ("npx", &["-y", "mcpauth"]),
        }
    }
}

#[derive(Debug, Args)]
pub struct UninstallArgs {
    #[command(flatten)]
    pub client: ClientArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ClientArg {
    /// Claude Desktop's `claude_desktop_config.json`.
    ClaudeDesktop,
    /// Claude Code: `.mcp.json`, or `~/.claude.json` with `--scope user`.
    ClaudeCode,
    /// Cursor: `.cursor/mcp.json`, or `~/.cursor/mcp.json` with `--global`.
    Cursor,
    /// VS Code: `.vscode/mcp.json`.
    Vscode,
    /// Codex: `$CODEX_HOME/config.toml` (`~/.codex/config.toml`).
    Codex,
    /// Gemini CLI: `~/.gemini/settings.json`.
    Gemini,
    /// opencode: the project's `opencode.json`, or `~/.config/opencode/opencode.json`
    /// with `--global`.
    Opencode,
    /// Windsurf: `~/.codeium/windsurf/mcp_config.json`.
    Windsurf,
    /// Zed: `~/.config/zed/settings.json` (`context_servers`).
    Zed,
    /// Goose: `~/.config/goose/config.yaml` (`extensions`).
    Goose,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ScopeArg {
    /// The project's `.mcp.json`.
    Project,
    /// `~/.claude.json`, for every project.
    User,
}

fn parse_key_value(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_owned(), v.to_owned())),
        _ => Err(format!("expected KEY=VALUE, got `{s}`")),
    }
}

/// `90`, `90s`, `5m`, `1h`, `1m30s`.
fn parse_duration(s: &str) -> Result<Duration, String> {
    let bad = || format!("expected a duration like `90s` or `5m`, got `{s}`");
    let mut total = 0u64;
    let mut digits = String::new();
    for c in s.trim().chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let n: u64 = digits.parse().map_err(|_| bad())?;
        digits.clear();
        total += n * match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            _ => return Err(bad()),
        };
    }
    if !digits.is_empty() {
        total += digits.parse::<u64>().map_err(|_| bad())?;
    }
    if total == 0 {
        return Err(bad());
    }
    Ok(Duration::from_secs(total))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("2h"), Ok(Duration::from_secs(7200)));
        for bad in ["", "0", "5x", "m", "-1s"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn key_values() {
        assert_eq!(
            parse_key_value("access_type=offline"),
            Ok(("access_type".into(), "offline".into()))
        );
        assert_eq!(parse_key_value("a=b=c"), Ok(("a".into(), "b=c".into())));
        assert!(parse_key_value("=x").is_err());
        assert!(parse_key_value("x").is_err());
    }
}
