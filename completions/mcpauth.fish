# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_mcpauth_global_optspecs
    string join \n config= store= v/verbose h/help V/version
end

function __fish_mcpauth_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_mcpauth_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_mcpauth_using_subcommand
    set -l cmd (__fish_mcpauth_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c mcpauth -n "__fish_mcpauth_needs_command" -l config -d 'Read servers from this file only (any MCP client\'s config format)' -r -F
complete -c mcpauth -n "__fish_mcpauth_needs_command" -l store -d 'Where to keep secrets: the OS keychain, or a file readable only by you. [default: the keychain when one can be reached, else the file]' -r -f -a "keyring\t''
file\t''"
complete -c mcpauth -n "__fish_mcpauth_needs_command" -s v -l verbose -d 'More detail on stderr (-v, -vv); or set MCPAUTH_LOG (e.g. `mcpauth=debug`)'
complete -c mcpauth -n "__fish_mcpauth_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcpauth -n "__fish_mcpauth_needs_command" -s V -l version -d 'Print version'
complete -c mcpauth -n "__fish_mcpauth_needs_command" -f -a "login" -d 'Sign in to a server in the browser and store the grant'
complete -c mcpauth -n "__fish_mcpauth_needs_command" -f -a "status" -d 'Show every known server and grant: state, expiry, issuer, scopes, where stored'
complete -c mcpauth -n "__fish_mcpauth_needs_command" -f -a "token" -d 'Print a fresh access token on stdout, refreshing it first when needed'
complete -c mcpauth -n "__fish_mcpauth_needs_command" -f -a "headers" -d 'Print `{"Authorization": "Bearer ..."}` for a server (a `headersHelper`)'
complete -c mcpauth -n "__fish_mcpauth_needs_command" -f -a "logout" -d 'Revoke a grant at the server when it can, and forget it here'
complete -c mcpauth -n "__fish_mcpauth_needs_command" -f -a "proxy" -d 'Run as a stdio MCP server that forwards to the remote server with fresh tokens'
complete -c mcpauth -n "__fish_mcpauth_needs_command" -f -a "export" -d 'Write grants into an encrypted bundle for another host (a server, CI, a container), where `mcpauth import` reads them'
complete -c mcpauth -n "__fish_mcpauth_needs_command" -f -a "import" -d 'Store the grants of a bundle from `mcpauth export`, or (`--from mcp-remote`) the grants mcp-remote keeps in plaintext files'
complete -c mcpauth -n "__fish_mcpauth_needs_command" -f -a "completions" -d 'Print a shell completion script on stdout'
complete -c mcpauth -n "__fish_mcpauth_needs_command" -f -a "man" -d 'Write the man pages: `mcpauth.1` and one page per command'
complete -c mcpauth -n "__fish_mcpauth_needs_command" -f -a "generate" -d 'Rewrite the committed `completions/` and `man/` directories from this definition'
complete -c mcpauth -n "__fish_mcpauth_needs_command" -f -a "install" -d 'Point an MCP client at `mcpauth proxy` for its remote servers'
complete -c mcpauth -n "__fish_mcpauth_needs_command" -f -a "uninstall" -d 'Put back the entries that `mcpauth install` replaced in a client\'s config'
complete -c mcpauth -n "__fish_mcpauth_needs_command" -f -a "idp" -d 'Sign in once to your company\'s identity provider; servers it allows then need no browser'
complete -c mcpauth -n "__fish_mcpauth_needs_command" -f -a "doctor" -d 'Check everything a sign-in and the proxy depend on, and say what to fix'
complete -c mcpauth -n "__fish_mcpauth_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mcpauth -n "__fish_mcpauth_using_subcommand login" -l account -d 'Which of several accounts on the same server' -r
complete -c mcpauth -n "__fish_mcpauth_using_subcommand login" -l client-id -d 'Use this pre-registered OAuth client id (else the config\'s `oauth.clientId`, a stored registration, or dynamic registration)' -r
complete -c mcpauth -n "__fish_mcpauth_using_subcommand login" -l client-auth -d 'How the client authenticates at the token endpoint' -r -f -a "none\t'A public client: no secret'
client_secret_basic\t'HTTP Basic with the client id and secret'
client_secret_post\t'The client id and secret in the request body'"
complete -c mcpauth -n "__fish_mcpauth_using_subcommand login" -l client-key-file -d 'Authenticate the client with a JWT signed by this private key (PEM, EC P-256 or RSA; `private_key_jwt`). The key is copied into the keychain' -r -F
complete -c mcpauth -n "__fish_mcpauth_using_subcommand login" -l client-metadata-url -d 'Use this client ID metadata document URL as the client id, when the authorization server accepts them' -r
complete -c mcpauth -n "__fish_mcpauth_using_subcommand login" -l auth-server-metadata-url -d 'Use this authorization server metadata instead of discovering it: an http(s) URL, or a local JSON file' -r
complete -c mcpauth -n "__fish_mcpauth_using_subcommand login" -l authorization-url -d 'The authorization endpoint, for a provider that publishes no metadata (GitHub: `https://github.com/login/oauth/authorize`); goes with --token-url' -r
complete -c mcpauth -n "__fish_mcpauth_using_subcommand login" -l token-url -d 'The token endpoint that goes with --authorization-url' -r
complete -c mcpauth -n "__fish_mcpauth_using_subcommand login" -l revocation-url -d 'The revocation endpoint, used by `logout`, with --authorization-url' -r
complete -c mcpauth -n "__fish_mcpauth_using_subcommand login" -l scope -d 'Scopes to ask for (repeat or separate with spaces) [default: what the server asks for]' -r
complete -c mcpauth -n "__fish_mcpauth_using_subcommand login" -l auth-param -d 'Extra authorization parameter, sent on the authorization request and on every refresh (e.g. `access_type=offline`)' -r
complete -c mcpauth -n "__fish_mcpauth_using_subcommand login" -l callback-port -d 'The loopback port for the browser\'s redirect [default: any free port, or the config\'s `oauth.callbackPort`]' -r
complete -c mcpauth -n "__fish_mcpauth_using_subcommand login" -l workload -d 'Sign in as a workload with the JWT its platform issues it (workload identity federation): `file:PATH` (a Kubernetes projected token), `env:NAME`, or `command:CMD` (run by the shell; prints the JWT). No browser and no refresh token: the source is read again whenever the access token expires, by whichever mcpauth process needs the token (a variable must be in that process\'s environment too)' -r
complete -c mcpauth -n "__fish_mcpauth_using_subcommand login" -l idp -d 'Sign in through this identity provider sign-in (`mcpauth idp login NAME`) [default: the one there is, when the server\'s authorization server takes ID-JAGs]' -r
complete -c mcpauth -n "__fish_mcpauth_using_subcommand login" -l timeout -d 'How long to wait for the browser (e.g. `90s`, `5m`)' -r
complete -c mcpauth -n "__fish_mcpauth_using_subcommand login" -l config -d 'Read servers from this file only (any MCP client\'s config format)' -r -F
complete -c mcpauth -n "__fish_mcpauth_using_subcommand login" -l store -d 'Where to keep secrets: the OS keychain, or a file readable only by you. [default: the keychain when one can be reached, else the file]' -r -f -a "keyring\t''
file\t''"
complete -c mcpauth -n "__fish_mcpauth_using_subcommand login" -l force -d 'Sign in with OAuth even when the server\'s config brings its own `Authorization` header (the proxy then sends the OAuth token instead)'
complete -c mcpauth -n "__fish_mcpauth_using_subcommand login" -l client-secret -d 'Ask for the client secret of `--client-id` or the config\'s `oauth.clientId` (a hidden prompt, or one line on stdin). Never given on the command line'
complete -c mcpauth -n "__fish_mcpauth_using_subcommand login" -l client-credentials -d 'Get a token for the client itself (the client credentials grant): no browser, no user; renewed the same way when it expires. Needs a client id (--client-id or `oauth.clientId`) and a secret or key'
complete -c mcpauth -n "__fish_mcpauth_using_subcommand login" -l initial-access-token -d 'Ask for an initial access token for dynamic registration (a hidden prompt, or a line on stdin after the client secret)'
complete -c mcpauth -n "__fish_mcpauth_using_subcommand login" -l allow-pinned-metadata -d 'Sign in even though the project\'s config pins the authorization server metadata on another origin than the server\'s own authorization servers (asked once per file on a terminal; remembered either way)'
complete -c mcpauth -n "__fish_mcpauth_using_subcommand login" -l no-idp -d 'Sign in as the other options say even where the identity provider could'
complete -c mcpauth -n "__fish_mcpauth_using_subcommand login" -l device -d 'Sign in with a code shown here and approved on any other device (the OAuth device authorization grant), when the authorization server offers it'
complete -c mcpauth -n "__fish_mcpauth_using_subcommand login" -l no-browser -d 'Open no browser here: print the authorization URL to open on any machine, then paste back the address the browser ended on. Works over SSH'
complete -c mcpauth -n "__fish_mcpauth_using_subcommand login" -s v -l verbose -d 'More detail on stderr (-v, -vv); or set MCPAUTH_LOG (e.g. `mcpauth=debug`)'
complete -c mcpauth -n "__fish_mcpauth_using_subcommand login" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcpauth -n "__fish_mcpauth_using_subcommand status" -l config -d 'Read servers from this file only (any MCP client\'s config format)' -r -F
complete -c mcpauth -n "__fish_mcpauth_using_subcommand status" -l store -d 'Where to keep secrets: the OS keychain, or a file readable only by you. [default: the keychain when one can be reached, else the file]' -r -f -a "keyring\t''
file\t''"
complete -c mcpauth -n "__fish_mcpauth_using_subcommand status" -l json -d 'Print JSON on stdout'
complete -c mcpauth -n "__fish_mcpauth_using_subcommand status" -s v -l verbose -d 'More detail on stderr (-v, -vv); or set MCPAUTH_LOG (e.g. `mcpauth=debug`)'
complete -c mcpauth -n "__fish_mcpauth_using_subcommand status" -s h -l help -d 'Print help'
complete -c mcpauth -n "__fish_mcpauth_using_subcommand token" -l account -d 'Which of several accounts on the same server' -r
complete -c mcpauth -n "__fish_mcpauth_using_subcommand token" -l config -d 'Read servers from this file only (any MCP client\'s config format)' -r -F
complete -c mcpauth -n "__fish_mcpauth_using_subcommand token" -l store -d 'Where to keep secrets: the OS keychain, or a file readable only by you. [default: the keychain when one can be reached, else the file]' -r -f -a "keyring\t''
file\t''"
complete -c mcpauth -n "__fish_mcpauth_using_subcommand token" -l json -d 'Print JSON (`access_token`, `token_type`, `expires_at`, `scopes`) instead of the bare token'
complete -c mcpauth -n "__fish_mcpauth_using_subcommand token" -s v -l verbose -d 'More detail on stderr (-v, -vv); or set MCPAUTH_LOG (e.g. `mcpauth=debug`)'
complete -c mcpauth -n "__fish_mcpauth_using_subcommand token" -s h -l help -d 'Print help'
complete -c mcpauth -n "__fish_mcpauth_using_subcommand headers" -l account -d 'Which of several accounts on the same server' -r
complete -c mcpauth -n "__fish_mcpauth_using_subcommand headers" -l url -d 'For a DPoP-bound token: the one request the headers are for, whose method and URL the `DPoP` proof names (a proof is good for that request only)' -r
complete -c mcpauth -n "__fish_mcpauth_using_subcommand headers" -l method -d 'The method of the request --url names' -r
complete -c mcpauth -n "__fish_mcpauth_using_subcommand headers" -l config -d 'Read servers from this file only (any MCP client\'s config format)' -r -F
complete -c mcpauth -n "__fish_mcpauth_using_subcommand headers" -l store -d 'Where to keep secrets: the OS keychain, or a file readable only by you. [default: the keychain when one can be reached, else the file]' -r -f -a "keyring\t''
file\t''"
complete -c mcpauth -n "__fish_mcpauth_using_subcommand headers" -s v -l verbose -d 'More detail on stderr (-v, -vv); or set MCPAUTH_LOG (e.g. `mcpauth=debug`)'
complete -c mcpauth -n "__fish_mcpauth_using_subcommand headers" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcpauth -n "__fish_mcpauth_using_subcommand logout" -l account -d 'Which of several accounts on the same server' -r
complete -c mcpauth -n "__fish_mcpauth_using_subcommand logout" -l config -d 'Read servers from this file only (any MCP client\'s config format)' -r -F
complete -c mcpauth -n "__fish_mcpauth_using_subcommand logout" -l store -d 'Where to keep secrets: the OS keychain, or a file readable only by you. [default: the keychain when one can be reached, else the file]' -r -f -a "keyring\t''
file\t''"
complete -c mcpauth -n "__fish_mcpauth_using_subcommand logout" -l no-revoke -d 'Forget the grant without asking the server to revoke it'
complete -c mcpauth -n "__fish_mcpauth_using_subcommand logout" -s v -l verbose -d 'More detail on stderr (-v, -vv); or set MCPAUTH_LOG (e.g. `mcpauth=debug`)'
complete -c mcpauth -n "__fish_mcpauth_using_subcommand logout" -s h -l help -d 'Print help'
complete -c mcpauth -n "__fish_mcpauth_using_subcommand proxy" -l account -d 'Which of several accounts on the same server' -r
complete -c mcpauth -n "__fish_mcpauth_using_subcommand proxy" -l transport -d 'Which remote transport to speak [default: Streamable HTTP, falling back to the legacy HTTP+SSE transport when the server only speaks that]' -r -f -a "auto\t''
http\t'Streamable HTTP (MCP 2025-03-26 and later)'
sse\t'HTTP+SSE (MCP 2024-11-05)'"
complete -c mcpauth -n "__fish_mcpauth_using_subcommand proxy" -l login -d 'When there is no usable grant: `auto` opens the browser once (only on a desktop); `never` answers each request with an error saying to run `mcpauth login`' -r -f -a "auto\t''
never\t''"
complete -c mcpauth -n "__fish_mcpauth_using_subcommand proxy" -l config -d 'Read servers from this file only (any MCP client\'s config format)' -r -F
complete -c mcpauth -n "__fish_mcpauth_using_subcommand proxy" -l store -d 'Where to keep secrets: the OS keychain, or a file readable only by you. [default: the keychain when one can be reached, else the file]' -r -f -a "keyring\t''
file\t''"
complete -c mcpauth -n "__fish_mcpauth_using_subcommand proxy" -s v -l verbose -d 'More detail on stderr (-v, -vv); or set MCPAUTH_LOG (e.g. `mcpauth=debug`)'
complete -c mcpauth -n "__fish_mcpauth_using_subcommand proxy" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcpauth -n "__fish_mcpauth_using_subcommand export" -l account -d 'Which of several accounts on the named servers' -r
complete -c mcpauth -n "__fish_mcpauth_using_subcommand export" -s o -l out -d 'Write the bundle to FILE (created readable only by you) instead of stdout' -r -F
complete -c mcpauth -n "__fish_mcpauth_using_subcommand export" -l recipient -d 'Encrypt to this public key instead of a passphrase: `age1...`, or an SSH key (`ssh-ed25519 ...`, `ssh-rsa ...`), e.g. the other host\'s. Repeatable' -r
complete -c mcpauth -n "__fish_mcpauth_using_subcommand export" -l recipient-file -d 'Encrypt to every public key in FILE (one per line; a `.pub` or `authorized_keys` file works). Repeatable' -r -F
complete -c mcpauth -n "__fish_mcpauth_using_subcommand export" -l passphrase-file -d 'Read the passphrase from the first line of FILE instead of asking' -r -F
complete -c mcpauth -n "__fish_mcpauth_using_subcommand export" -l config -d 'Read servers from this file only (any MCP client\'s config format)' -r -F
complete -c mcpauth -n "__fish_mcpauth_using_subcommand export" -l store -d 'Where to keep secrets: the OS keychain, or a file readable only by you. [default: the keychain when one can be reached, else the file]' -r -f -a "keyring\t''
file\t''"
complete -c mcpauth -n "__fish_mcpauth_using_subcommand export" -l copy -d 'Put this host\'s own grant into the bundle: both hosts then share one refresh token, and with rotation the first to refresh ends the other\'s grant'
complete -c mcpauth -n "__fish_mcpauth_using_subcommand export" -l move -d 'Hand this host\'s grant over and forget it here once the bundle is written (to a file: needs --out)'
complete -c mcpauth -n "__fish_mcpauth_using_subcommand export" -l device -d 'Sign the fresh grant in with the device authorization grant (RFC 8628)'
complete -c mcpauth -n "__fish_mcpauth_using_subcommand export" -l no-browser -d 'Sign the fresh grant in without a browser here: open the printed URL anywhere, then paste back the address the browser ended on'
complete -c mcpauth -n "__fish_mcpauth_using_subcommand export" -s v -l verbose -d 'More detail on stderr (-v, -vv); or set MCPAUTH_LOG (e.g. `mcpauth=debug`)'
complete -c mcpauth -n "__fish_mcpauth_using_subcommand export" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcpauth -n "__fish_mcpauth_using_subcommand import" -l passphrase-file -d 'Read the passphrase from the first line of FILE instead of asking' -r -F
complete -c mcpauth -n "__fish_mcpauth_using_subcommand import" -l identity -d 'The private key for a bundle made with --recipient: an age identity file or an SSH private key without a passphrase' -r -F
complete -c mcpauth -n "__fish_mcpauth_using_subcommand import" -l from -d 'Import from another tool instead of a bundle' -r -f -a "mcp-remote\t'mcp-remote (npm): `~/.mcp-auth/mcp-remote-*/<hash>_tokens.json`'"
complete -c mcpauth -n "__fish_mcpauth_using_subcommand import" -l url -d 'With --from: a server URL to match the tool\'s files against, for servers that no MCP config names any more. Repeatable' -r
complete -c mcpauth -n "__fish_mcpauth_using_subcommand import" -l config -d 'Read servers from this file only (any MCP client\'s config format)' -r -F
complete -c mcpauth -n "__fish_mcpauth_using_subcommand import" -l store -d 'Where to keep secrets: the OS keychain, or a file readable only by you. [default: the keychain when one can be reached, else the file]' -r -f -a "keyring\t''
file\t''"
complete -c mcpauth -n "__fish_mcpauth_using_subcommand import" -l force -d 'Replace grants already held here for the same servers without asking'
complete -c mcpauth -n "__fish_mcpauth_using_subcommand import" -l delete-originals -d 'With --from: delete the tool\'s plaintext files once their grant is stored [default: ask on a terminal, else keep them]'
complete -c mcpauth -n "__fish_mcpauth_using_subcommand import" -l keep-originals -d 'With --from: keep the tool\'s files without asking'
complete -c mcpauth -n "__fish_mcpauth_using_subcommand import" -s v -l verbose -d 'More detail on stderr (-v, -vv); or set MCPAUTH_LOG (e.g. `mcpauth=debug`)'
complete -c mcpauth -n "__fish_mcpauth_using_subcommand import" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcpauth -n "__fish_mcpauth_using_subcommand completions" -l config -d 'Read servers from this file only (any MCP client\'s config format)' -r -F
complete -c mcpauth -n "__fish_mcpauth_using_subcommand completions" -l store -d 'Where to keep secrets: the OS keychain, or a file readable only by you. [default: the keychain when one can be reached, else the file]' -r -f -a "keyring\t''
file\t''"
complete -c mcpauth -n "__fish_mcpauth_using_subcommand completions" -s v -l verbose -d 'More detail on stderr (-v, -vv); or set MCPAUTH_LOG (e.g. `mcpauth=debug`)'
complete -c mcpauth -n "__fish_mcpauth_using_subcommand completions" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcpauth -n "__fish_mcpauth_using_subcommand man" -l out -d 'The directory to write the pages into (created when missing)' -r -F
complete -c mcpauth -n "__fish_mcpauth_using_subcommand man" -l config -d 'Read servers from this file only (any MCP client\'s config format)' -r -F
complete -c mcpauth -n "__fish_mcpauth_using_subcommand man" -l store -d 'Where to keep secrets: the OS keychain, or a file readable only by you. [default: the keychain when one can be reached, else the file]' -r -f -a "keyring\t''
file\t''"
complete -c mcpauth -n "__fish_mcpauth_using_subcommand man" -s v -l verbose -d 'More detail on stderr (-v, -vv); or set MCPAUTH_LOG (e.g. `mcpauth=debug`)'
complete -c mcpauth -n "__fish_mcpauth_using_subcommand man" -s h -l help -d 'Print help'
complete -c mcpauth -n "__fish_mcpauth_using_subcommand generate" -l root -d 'The source tree whose `completions/` and `man/` to rewrite' -r -F
complete -c mcpauth -n "__fish_mcpauth_using_subcommand generate" -l config -d 'Read servers from this file only (any MCP client\'s config format)' -r -F
complete -c mcpauth -n "__fish_mcpauth_using_subcommand generate" -l store -d 'Where to keep secrets: the OS keychain, or a file readable only by you. [default: the keychain when one can be reached, else the file]' -r -f -a "keyring\t''
file\t''"
complete -c mcpauth -n "__fish_mcpauth_using_subcommand generate" -s v -l verbose -d 'More detail on stderr (-v, -vv); or set MCPAUTH_LOG (e.g. `mcpauth=debug`)'
complete -c mcpauth -n "__fish_mcpauth_using_subcommand generate" -s h -l help -d 'Print help'
complete -c mcpauth -n "__fish_mcpauth_using_subcommand install" -l scope -d 'Claude Code: the project\'s `.mcp.json`, or `~/.claude.json` for your user' -r -f -a "project\t'The project\'s `.mcp.json`'
user\t'`~/.claude.json`, for every project'"
complete -c mcpauth -n "__fish_mcpauth_using_subcommand install" -l launcher -d 'How entries start mcpauth: the installed `mcpauth`, or `npx -y mcpauth` (from npm, for a shared project file that works for teammates who installed nothing)' -r -f -a "mcpauth\t'`mcpauth proxy ...`: the binary on the client\'s PATH'
npx\t'`npx -y mcpauth proxy ...`: npm fetches mcpauth the first time'"
complete -c mcpauth -n "__fish_mcpauth_using_subcommand install" -l config -d 'Read servers from this file only (any MCP client\'s config format)' -r -F
complete -c mcpauth -n "__fish_mcpauth_using_subcommand install" -l store -d 'Where to keep secrets: the OS keychain, or a file readable only by you. [default: the keychain when one can be reached, else the file]' -r -f -a "keyring\t''
file\t''"
complete -c mcpauth -n "__fish_mcpauth_using_subcommand install" -l global -d 'Cursor and opencode: the user\'s file instead of the project\'s'
complete -c mcpauth -n "__fish_mcpauth_using_subcommand install" -l dry-run -d 'Print the change as a unified diff and write nothing'
complete -c mcpauth -n "__fish_mcpauth_using_subcommand install" -l headers-helper -d 'Claude Code: keep the http entry and add `"headersHelper": "mcpauth headers NAME"` instead of going through the proxy'
complete -c mcpauth -n "__fish_mcpauth_using_subcommand install" -s v -l verbose -d 'More detail on stderr (-v, -vv); or set MCPAUTH_LOG (e.g. `mcpauth=debug`)'
complete -c mcpauth -n "__fish_mcpauth_using_subcommand install" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcpauth -n "__fish_mcpauth_using_subcommand uninstall" -l scope -d 'Claude Code: the project\'s `.mcp.json`, or `~/.claude.json` for your user' -r -f -a "project\t'The project\'s `.mcp.json`'
user\t'`~/.claude.json`, for every project'"
complete -c mcpauth -n "__fish_mcpauth_using_subcommand uninstall" -l config -d 'Read servers from this file only (any MCP client\'s config format)' -r -F
complete -c mcpauth -n "__fish_mcpauth_using_subcommand uninstall" -l store -d 'Where to keep secrets: the OS keychain, or a file readable only by you. [default: the keychain when one can be reached, else the file]' -r -f -a "keyring\t''
file\t''"
complete -c mcpauth -n "__fish_mcpauth_using_subcommand uninstall" -l global -d 'Cursor and opencode: the user\'s file instead of the project\'s'
complete -c mcpauth -n "__fish_mcpauth_using_subcommand uninstall" -l dry-run -d 'Print the change as a unified diff and write nothing'
complete -c mcpauth -n "__fish_mcpauth_using_subcommand uninstall" -s v -l verbose -d 'More detail on stderr (-v, -vv); or set MCPAUTH_LOG (e.g. `mcpauth=debug`)'
complete -c mcpauth -n "__fish_mcpauth_using_subcommand uninstall" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcpauth -n "__fish_mcpauth_using_subcommand idp; and not __fish_seen_subcommand_from login logout help" -l config -d 'Read servers from this file only (any MCP client\'s config format)' -r -F
complete -c mcpauth -n "__fish_mcpauth_using_subcommand idp; and not __fish_seen_subcommand_from login logout help" -l store -d 'Where to keep secrets: the OS keychain, or a file readable only by you. [default: the keychain when one can be reached, else the file]' -r -f -a "keyring\t''
file\t''"
complete -c mcpauth -n "__fish_mcpauth_using_subcommand idp; and not __fish_seen_subcommand_from login logout help" -s v -l verbose -d 'More detail on stderr (-v, -vv); or set MCPAUTH_LOG (e.g. `mcpauth=debug`)'
complete -c mcpauth -n "__fish_mcpauth_using_subcommand idp; and not __fish_seen_subcommand_from login logout help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcpauth -n "__fish_mcpauth_using_subcommand idp; and not __fish_seen_subcommand_from login logout help" -f -a "login" -d 'Sign in to the identity provider in the browser (or with --device, --no-browser), or take its ID tokens from a source (--id-token)'
complete -c mcpauth -n "__fish_mcpauth_using_subcommand idp; and not __fish_seen_subcommand_from login logout help" -f -a "logout" -d 'End identity provider sign-ins, and every grant exchanged from them'
complete -c mcpauth -n "__fish_mcpauth_using_subcommand idp; and not __fish_seen_subcommand_from login logout help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mcpauth -n "__fish_mcpauth_using_subcommand idp; and __fish_seen_subcommand_from login" -l issuer -d 'The provider\'s issuer URL' -r
complete -c mcpauth -n "__fish_mcpauth_using_subcommand idp; and __fish_seen_subcommand_from login" -l client-id -d 'mcpauth\'s client at the provider [default: the configured `clientId`, else dynamic registration]' -r
complete -c mcpauth -n "__fish_mcpauth_using_subcommand idp; and __fish_seen_subcommand_from login" -l scope -d 'Scopes to ask for [default: `openid offline_access`]' -r
complete -c mcpauth -n "__fish_mcpauth_using_subcommand idp; and __fish_seen_subcommand_from login" -l id-token -d 'Take ID tokens from `file:PATH`, `env:NAME` or `command:CMD` (a company\'s own sign-in tool) instead of signing in; read again for every exchange' -r
complete -c mcpauth -n "__fish_mcpauth_using_subcommand idp; and __fish_seen_subcommand_from login" -l callback-port -d 'The loopback port for the browser\'s redirect [default: any free port]' -r
complete -c mcpauth -n "__fish_mcpauth_using_subcommand idp; and __fish_seen_subcommand_from login" -l timeout -d 'How long to wait for the browser (e.g. `90s`, `5m`)' -r
complete -c mcpauth -n "__fish_mcpauth_using_subcommand idp; and __fish_seen_subcommand_from login" -l config -d 'Read servers from this file only (any MCP client\'s config format)' -r -F
complete -c mcpauth -n "__fish_mcpauth_using_subcommand idp; and __fish_seen_subcommand_from login" -l store -d 'Where to keep secrets: the OS keychain, or a file readable only by you. [default: the keychain when one can be reached, else the file]' -r -f -a "keyring\t''
file\t''"
complete -c mcpauth -n "__fish_mcpauth_using_subcommand idp; and __fish_seen_subcommand_from login" -l client-secret -d 'Ask for the client\'s secret (a hidden prompt, or one line on stdin)'
complete -c mcpauth -n "__fish_mcpauth_using_subcommand idp; and __fish_seen_subcommand_from login" -l device -d 'Sign in with a code approved on another device'
complete -c mcpauth -n "__fish_mcpauth_using_subcommand idp; and __fish_seen_subcommand_from login" -l no-browser -d 'Print the authorization URL and paste back the address the browser ended on'
complete -c mcpauth -n "__fish_mcpauth_using_subcommand idp; and __fish_seen_subcommand_from login" -s v -l verbose -d 'More detail on stderr (-v, -vv); or set MCPAUTH_LOG (e.g. `mcpauth=debug`)'
complete -c mcpauth -n "__fish_mcpauth_using_subcommand idp; and __fish_seen_subcommand_from login" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcpauth -n "__fish_mcpauth_using_subcommand idp; and __fish_seen_subcommand_from logout" -l config -d 'Read servers from this file only (any MCP client\'s config format)' -r -F
complete -c mcpauth -n "__fish_mcpauth_using_subcommand idp; and __fish_seen_subcommand_from logout" -l store -d 'Where to keep secrets: the OS keychain, or a file readable only by you. [default: the keychain when one can be reached, else the file]' -r -f -a "keyring\t''
file\t''"
complete -c mcpauth -n "__fish_mcpauth_using_subcommand idp; and __fish_seen_subcommand_from logout" -s v -l verbose -d 'More detail on stderr (-v, -vv); or set MCPAUTH_LOG (e.g. `mcpauth=debug`)'
complete -c mcpauth -n "__fish_mcpauth_using_subcommand idp; and __fish_seen_subcommand_from logout" -s h -l help -d 'Print help'
complete -c mcpauth -n "__fish_mcpauth_using_subcommand idp; and __fish_seen_subcommand_from help" -f -a "login" -d 'Sign in to the identity provider in the browser (or with --device, --no-browser), or take its ID tokens from a source (--id-token)'
complete -c mcpauth -n "__fish_mcpauth_using_subcommand idp; and __fish_seen_subcommand_from help" -f -a "logout" -d 'End identity provider sign-ins, and every grant exchanged from them'
complete -c mcpauth -n "__fish_mcpauth_using_subcommand idp; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mcpauth -n "__fish_mcpauth_using_subcommand doctor" -l account -d 'Which of several accounts on the server' -r
complete -c mcpauth -n "__fish_mcpauth_using_subcommand doctor" -l config -d 'Read servers from this file only (any MCP client\'s config format)' -r -F
complete -c mcpauth -n "__fish_mcpauth_using_subcommand doctor" -l store -d 'Where to keep secrets: the OS keychain, or a file readable only by you. [default: the keychain when one can be reached, else the file]' -r -f -a "keyring\t''
file\t''"
complete -c mcpauth -n "__fish_mcpauth_using_subcommand doctor" -l json -d 'Print JSON (`server`, `ok`, and `checks`: `check`, `status`, `detail`, `fix`)'
complete -c mcpauth -n "__fish_mcpauth_using_subcommand doctor" -s v -l verbose -d 'More detail on stderr (-v, -vv); or set MCPAUTH_LOG (e.g. `mcpauth=debug`)'
complete -c mcpauth -n "__fish_mcpauth_using_subcommand doctor" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcpauth -n "__fish_mcpauth_using_subcommand help; and not __fish_seen_subcommand_from login status token headers logout proxy export import completions man generate install uninstall idp doctor help" -f -a "login" -d 'Sign in to a server in the browser and store the grant'
complete -c mcpauth -n "__fish_mcpauth_using_subcommand help; and not __fish_seen_subcommand_from login status token headers logout proxy export import completions man generate install uninstall idp doctor help" -f -a "status" -d 'Show every known server and grant: state, expiry, issuer, scopes, where stored'
complete -c mcpauth -n "__fish_mcpauth_using_subcommand help; and not __fish_seen_subcommand_from login status token headers logout proxy export import completions man generate install uninstall idp doctor help" -f -a "token" -d 'Print a fresh access token on stdout, refreshing it first when needed'
complete -c mcpauth -n "__fish_mcpauth_using_subcommand help; and not __fish_seen_subcommand_from login status token headers logout proxy export import completions man generate install uninstall idp doctor help" -f -a "headers" -d 'Print `{"Authorization": "Bearer ..."}` for a server (a `headersHelper`)'
complete -c mcpauth -n "__fish_mcpauth_using_subcommand help; and not __fish_seen_subcommand_from login status token headers logout proxy export import completions man generate install uninstall idp doctor help" -f -a "logout" -d 'Revoke a grant at the server when it can, and forget it here'
complete -c mcpauth -n "__fish_mcpauth_using_subcommand help; and not __fish_seen_subcommand_from login status token headers logout proxy export import completions man generate install uninstall idp doctor help" -f -a "proxy" -d 'Run as a stdio MCP server that forwards to the remote server with fresh tokens'
complete -c mcpauth -n "__fish_mcpauth_using_subcommand help; and not __fish_seen_subcommand_from login status token headers logout proxy export import completions man generate install uninstall idp doctor help" -f -a "export" -d 'Write grants into an encrypted bundle for another host (a server, CI, a container), where `mcpauth import` reads them'
complete -c mcpauth -n "__fish_mcpauth_using_subcommand help; and not __fish_seen_subcommand_from login status token headers logout proxy export import completions man generate install uninstall idp doctor help" -f -a "import" -d 'Store the grants of a bundle from `mcpauth export`, or (`--from mcp-remote`) the grants mcp-remote keeps in plaintext files'
complete -c mcpauth -n "__fish_mcpauth_using_subcommand help; and not __fish_seen_subcommand_from login status token headers logout proxy export import completions man generate install uninstall idp doctor help" -f -a "completions" -d 'Print a shell completion script on stdout'
complete -c mcpauth -n "__fish_mcpauth_using_subcommand help; and not __fish_seen_subcommand_from login status token headers logout proxy export import completions man generate install uninstall idp doctor help" -f -a "man" -d 'Write the man pages: `mcpauth.1` and one page per command'
complete -c mcpauth -n "__fish_mcpauth_using_subcommand help; and not __fish_seen_subcommand_from login status token headers logout proxy export import completions man generate install uninstall idp doctor help" -f -a "generate" -d 'Rewrite the committed `completions/` and `man/` directories from this definition'
complete -c mcpauth -n "__fish_mcpauth_using_subcommand help; and not __fish_seen_subcommand_from login status token headers logout proxy export import completions man generate install uninstall idp doctor help" -f -a "install" -d 'Point an MCP client at `mcpauth proxy` for its remote servers'
complete -c mcpauth -n "__fish_mcpauth_using_subcommand help; and not __fish_seen_subcommand_from login status token headers logout proxy export import completions man generate install uninstall idp doctor help" -f -a "uninstall" -d 'Put back the entries that `mcpauth install` replaced in a client\'s config'
complete -c mcpauth -n "__fish_mcpauth_using_subcommand help; and not __fish_seen_subcommand_from login status token headers logout proxy export import completions man generate install uninstall idp doctor help" -f -a "idp" -d 'Sign in once to your company\'s identity provider; servers it allows then need no browser'
complete -c mcpauth -n "__fish_mcpauth_using_subcommand help; and not __fish_seen_subcommand_from login status token headers logout proxy export import completions man generate install uninstall idp doctor help" -f -a "doctor" -d 'Check everything a sign-in and the proxy depend on, and say what to fix'
complete -c mcpauth -n "__fish_mcpauth_using_subcommand help; and not __fish_seen_subcommand_from login status token headers logout proxy export import completions man generate install uninstall idp doctor help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mcpauth -n "__fish_mcpauth_using_subcommand help; and __fish_seen_subcommand_from idp" -f -a "login" -d 'Sign in to the identity provider in the browser (or with --device, --no-browser), or take its ID tokens from a source (--id-token)'
complete -c mcpauth -n "__fish_mcpauth_using_subcommand help; and __fish_seen_subcommand_from idp" -f -a "logout" -d 'End identity provider sign-ins, and every grant exchanged from them'
