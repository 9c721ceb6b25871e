
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'mcpauth' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'mcpauth'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'mcpauth' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Read servers from this file only (any MCP client''s config format)')
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'Where to keep secrets: the OS keychain, or a file readable only by you. [default: the keychain when one can be reached, else the file]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (-v, -vv); or set MCPAUTH_LOG (e.g. `mcpauth=debug`)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (-v, -vv); or set MCPAUTH_LOG (e.g. `mcpauth=debug`)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('login', 'login', [CompletionResultType]::ParameterValue, 'Sign in to a server in the browser and store the grant')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show every known server and grant: state, expiry, issuer, scopes, where stored')
            [CompletionResult]::new('token', 'token', [CompletionResultType]::ParameterValue, 'Print a fresh access token on stdout, refreshing it first when needed')
            [CompletionResult]::new('headers', 'headers', [CompletionResultType]::ParameterValue, 'Print `{"Authorization": "Bearer ..."}` for a server (a `headersHelper`)')
            [CompletionResult]::new('logout', 'logout', [CompletionResultType]::ParameterValue, 'Revoke a grant at the server when it can, and forget it here')
            [CompletionResult]::new('proxy', 'proxy', [CompletionResultType]::ParameterValue, 'Run as a stdio MCP server that forwards to the remote server with fresh tokens')
            [CompletionResult]::new('export', 'export', [CompletionResultType]::ParameterValue, 'Write grants into an encrypted bundle for another host (a server, CI, a container), where `mcpauth import` reads them')
            [CompletionResult]::new('import', 'import', [CompletionResultType]::ParameterValue, 'Store the grants of a bundle from `mcpauth export`, or (`--from mcp-remote`) the grants mcp-remote keeps in plaintext files')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script on stdout')
            [CompletionResult]::new('man', 'man', [CompletionResultType]::ParameterValue, 'Write the man pages: `mcpauth.1` and one page per command')
            [CompletionResult]::new('generate', 'generate', [CompletionResultType]::ParameterValue, 'Rewrite the committed `completions/` and `man/` directories from this definition')
            [CompletionResult]::new('install', 'install', [CompletionResultType]::ParameterValue, 'Point an MCP client at `mcpauth proxy` for its remote servers')
            [CompletionResult]::new('uninstall', 'uninstall', [CompletionResultType]::ParameterValue, 'Put back the entries that `mcpauth install` replaced in a client''s config')
            [CompletionResult]::new('idp', 'idp', [CompletionResultType]::ParameterValue, 'Sign in once to your company''s identity provider; servers it allows then need no browser')
            [CompletionResult]::new('doctor', 'doctor', [CompletionResultType]::ParameterValue, 'Check everything a sign-in and the proxy depend on, and say what to fix')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'mcpauth;login' {
            [CompletionResult]::new('--account', '--account', [CompletionResultType]::ParameterName, 'Which of several accounts on the same server')
            [CompletionResult]::new('--client-id', '--client-id', [CompletionResultType]::ParameterName, 'Use this pre-registered OAuth client id (else the config''s `oauth.clientId`, a stored registration, or dynamic registration)')
            [CompletionResult]::new('--client-auth', '--client-auth', [CompletionResultType]::ParameterName, 'How the client authenticates at the token endpoint')
            [CompletionResult]::new('--client-key-file', '--client-key-file', [CompletionResultType]::ParameterName, 'Authenticate the client with a JWT signed by this private key (PEM, EC P-256 or RSA; `private_key_jwt`). The key is copied into the keychain')
            [CompletionResult]::new('--client-metadata-url', '--client-metadata-url', [CompletionResultType]::ParameterName, 'Use this client ID metadata document URL as the client id, when the authorization server accepts them')
            [CompletionResult]::new('--auth-server-metadata-url', '--auth-server-metadata-url', [CompletionResultType]::ParameterName, 'Use this authorization server metadata instead of discovering it: an http(s) URL, or a local JSON file')
            [CompletionResult]::new('--authorization-url', '--authorization-url', [CompletionResultType]::ParameterName, 'The authorization endpoint, for a provider that publishes no metadata (GitHub: `https://github.com/login/oauth/authorize`); goes with --token-url')
            [CompletionResult]::new('--token-url', '--token-url', [CompletionResultType]::ParameterName, 'The token endpoint that goes with --authorization-url')
            [CompletionResult]::new('--revocation-url', '--revocation-url', [CompletionResultType]::ParameterName, 'The revocation endpoint, used by `logout`, with --authorization-url')
            [CompletionResult]::new('--scope', '--scope', [CompletionResultType]::ParameterName, 'Scopes to ask for (repeat or separate with spaces) [default: what the server asks for]')
            [CompletionResult]::new('--auth-param', '--auth-param', [CompletionResultType]::ParameterName, 'Extra authorization parameter, sent on the authorization request and on every refresh (e.g. `access_type=offline`)')
            [CompletionResult]::new('--callback-port', '--callback-port', [CompletionResultType]::ParameterName, 'The loopback port for the browser''s redirect [default: any free port, or the config''s `oauth.callbackPort`]')
            [CompletionResult]::new('--workload', '--workload', [CompletionResultType]::ParameterName, 'Sign in as a workload with the JWT its platform issues it (workload identity federation): `file:PATH` (a Kubernetes projected token), `env:NAME`, or `command:CMD` (run by the shell; prints the JWT). No browser and no refresh token: the source is read again whenever the access token expires, by whichever mcpauth process needs the token (a variable must be in that process''s environment too)')
            [CompletionResult]::new('--idp', '--idp', [CompletionResultType]::ParameterName, 'Sign in through this identity provider sign-in (`mcpauth idp login NAME`) [default: the one there is, when the server''s authorization server takes ID-JAGs]')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'How long to wait for the browser (e.g. `90s`, `5m`)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Read servers from this file only (any MCP client''s config format)')
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'Where to keep secrets: the OS keychain, or a file readable only by you. [default: the keychain when one can be reached, else the file]')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Sign in with OAuth even when the server''s config brings its own `Authorization` header (the proxy then sends the OAuth token instead)')
            [CompletionResult]::new('--client-secret', '--client-secret', [CompletionResultType]::ParameterName, 'Ask for the client secret of `--client-id` or the config''s `oauth.clientId` (a hidden prompt, or one line on stdin). Never given on the command line')
            [CompletionResult]::new('--client-credentials', '--client-credentials', [CompletionResultType]::ParameterName, 'Get a token for the client itself (the client credentials grant): no browser, no user; renewed the same way when it expires. Needs a client id (--client-id or `oauth.clientId`) and a secret or key')
            [CompletionResult]::new('--initial-access-token', '--initial-access-token', [CompletionResultType]::ParameterName, 'Ask for an initial access token for dynamic registration (a hidden prompt, or a line on stdin after the client secret)')
            [CompletionResult]::new('--allow-pinned-metadata', '--allow-pinned-metadata', [CompletionResultType]::ParameterName, 'Sign in even though the project''s config pins the authorization server metadata on another origin than the server''s own authorization servers (asked once per file on a terminal; remembered either way)')
            [CompletionResult]::new('--no-idp', '--no-idp', [CompletionResultType]::ParameterName, 'Sign in as the other options say even where the identity provider could')
            [CompletionResult]::new('--device', '--device', [CompletionResultType]::ParameterName, 'Sign in with a code shown here and approved on any other device (the OAuth device authorization grant), when the authorization server offers it')
            [CompletionResult]::new('--no-browser', '--no-browser', [CompletionResultType]::ParameterName, 'Open no browser here: print the authorization URL to open on any machine, then paste back the address the browser ended on. Works over SSH')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (-v, -vv); or set MCPAUTH_LOG (e.g. `mcpauth=debug`)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (-v, -vv); or set MCPAUTH_LOG (e.g. `mcpauth=debug`)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'mcpauth;status' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Read servers from this file only (any MCP client''s config format)')
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'Where to keep secrets: the OS keychain, or a file readable only by you. [default: the keychain when one can be reached, else the file]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON on stdout')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (-v, -vv); or set MCPAUTH_LOG (e.g. `mcpauth=debug`)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (-v, -vv); or set MCPAUTH_LOG (e.g. `mcpauth=debug`)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'mcpauth;token' {
            [CompletionResult]::new('--account', '--account', [CompletionResultType]::ParameterName, 'Which of several accounts on the same server')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Read servers from this file only (any MCP client''s config format)')
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'Where to keep secrets: the OS keychain, or a file readable only by you. [default: the keychain when one can be reached, else the file]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON (`access_token`, `token_type`, `expires_at`, `scopes`) instead of the bare token')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (-v, -vv); or set MCPAUTH_LOG (e.g. `mcpauth=debug`)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (-v, -vv); or set MCPAUTH_LOG (e.g. `mcpauth=debug`)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'mcpauth;headers' {
            [CompletionResult]::new('--account', '--account', [CompletionResultType]::ParameterName, 'Which of several accounts on the same server')
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'For a DPoP-bound token: the one request the headers are for, whose method and URL the `DPoP` proof names (a proof is good for that request only)')
            [CompletionResult]::new('--method', '--method', [CompletionResultType]::ParameterName, 'The method of the request --url names')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Read servers from this file only (any MCP client''s config format)')
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'Where to keep secrets: the OS keychain, or a file readable only by you. [default: the keychain when one can be reached, else the file]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (-v, -vv); or set MCPAUTH_LOG (e.g. `mcpauth=debug`)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (-v, -vv); or set MCPAUTH_LOG (e.g. `mcpauth=debug`)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'mcpauth;logout' {
            [CompletionResult]::new('--account', '--account', [CompletionResultType]::ParameterName, 'Which of several accounts on the same server')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Read servers from this file only (any MCP client''s config format)')
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'Where to keep secrets: the OS keychain, or a file readable only by you. [default: the keychain when one can be reached, else the file]')
            [CompletionResult]::new('--no-revoke', '--no-revoke', [CompletionResultType]::ParameterName, 'Forget the grant without asking the server to revoke it')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (-v, -vv); or set MCPAUTH_LOG (e.g. `mcpauth=debug`)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (-v, -vv); or set MCPAUTH_LOG (e.g. `mcpauth=debug`)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'mcpauth;proxy' {
            [CompletionResult]::new('--account', '--account', [CompletionResultType]::ParameterName, 'Which of several accounts on the same server')
            [CompletionResult]::new('--transport', '--transport', [CompletionResultType]::ParameterName, 'Which remote transport to speak [default: Streamable HTTP, falling back to the legacy HTTP+SSE transport when the server only speaks that]')
            [CompletionResult]::new('--login', '--login', [CompletionResultType]::ParameterName, 'When there is no usable grant: `auto` opens the browser once (only on a desktop); `never` answers each request with an error saying to run `mcpauth login`')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Read servers from this file only (any MCP client''s config format)')
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'Where to keep secrets: the OS keychain, or a file readable only by you. [default: the keychain when one can be reached, else the file]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (-v, -vv); or set MCPAUTH_LOG (e.g. `mcpauth=debug`)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (-v, -vv); or set MCPAUTH_LOG (e.g. `mcpauth=debug`)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'mcpauth;export' {
            [CompletionResult]::new('--account', '--account', [CompletionResultType]::ParameterName, 'Which of several accounts on the named servers')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Write the bundle to FILE (created readable only by you) instead of stdout')
            [CompletionResult]::new('--out', '--out', [CompletionResultType]::ParameterName, 'Write the bundle to FILE (created readable only by you) instead of stdout')
            [CompletionResult]::new('--recipient', '--recipient', [CompletionResultType]::ParameterName, 'Encrypt to this public key instead of a passphrase: `age1...`, or an SSH key (`ssh-ed25519 ...`, `ssh-rsa ...`), e.g. the other host''s. Repeatable')
            [CompletionResult]::new('--recipient-file', '--recipient-file', [CompletionResultType]::ParameterName, 'Encrypt to every public key in FILE (one per line; a `.pub` or `authorized_keys` file works). Repeatable')
            [CompletionResult]::new('--passphrase-file', '--passphrase-file', [CompletionResultType]::ParameterName, 'Read the passphrase from the first line of FILE instead of asking')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Read servers from this file only (any MCP client''s config format)')
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'Where to keep secrets: the OS keychain, or a file readable only by you. [default: the keychain when one can be reached, else the file]')
            [CompletionResult]::new('--copy', '--copy', [CompletionResultType]::ParameterName, 'Put this host''s own grant into the bundle: both hosts then share one refresh token, and with rotation the first to refresh ends the other''s grant')
            [CompletionResult]::new('--move', '--move', [CompletionResultType]::ParameterName, 'Hand this host''s grant over and forget it here once the bundle is written (to a file: needs --out)')
            [CompletionResult]::new('--device', '--device', [CompletionResultType]::ParameterName, 'Sign the fresh grant in with the device authorization grant (RFC 8628)')
            [CompletionResult]::new('--no-browser', '--no-browser', [CompletionResultType]::ParameterName, 'Sign the fresh grant in without a browser here: open the printed URL anywhere, then paste back the address the browser ended on')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (-v, -vv); or set MCPAUTH_LOG (e.g. `mcpauth=debug`)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (-v, -vv); or set MCPAUTH_LOG (e.g. `mcpauth=debug`)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'mcpauth;import' {
            [CompletionResult]::new('--passphrase-file', '--passphrase-file', [CompletionResultType]::ParameterName, 'Read the passphrase from the first line of FILE instead of asking')
            [CompletionResult]::new('--identity', '--identity', [CompletionResultType]::ParameterName, 'The private key for a bundle made with --recipient: an age identity file or an SSH private key without a passphrase')
            [CompletionResult]::new('--from', '--from', [CompletionResultType]::ParameterName, 'Import from another tool instead of a bundle')
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'With --from: a server URL to match the tool''s files against, for servers that no MCP config names any more. Repeatable')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Read servers from this file only (any MCP client''s config format)')
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'Where to keep secrets: the OS keychain, or a file readable only by you. [default: the keychain when one can be reached, else the file]')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Replace grants already held here for the same servers without asking')
            [CompletionResult]::new('--delete-originals', '--delete-originals', [CompletionResultType]::ParameterName, 'With --from: delete the tool''s plaintext files once their grant is stored [default: ask on a terminal, else keep them]')
            [CompletionResult]::new('--keep-originals', '--keep-originals', [CompletionResultType]::ParameterName, 'With --from: keep the tool''s files without asking')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (-v, -vv); or set MCPAUTH_LOG (e.g. `mcpauth=debug`)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (-v, -vv); or set MCPAUTH_LOG (e.g. `mcpauth=debug`)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'mcpauth;completions' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Read servers from this file only (any MCP client''s config format)')
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'Where to keep secrets: the OS keychain, or a file readable only by you. [default: the keychain when one can be reached, else the file]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (-v, -vv); or set MCPAUTH_LOG (e.g. `mcpauth=debug`)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (-v, -vv); or set MCPAUTH_LOG (e.g. `mcpauth=debug`)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'mcpauth;man' {
            [CompletionResult]::new('--out', '--out', [CompletionResultType]::ParameterName, 'The directory to write the pages into (created when missing)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Read servers from this file only (any MCP client''s config format)')
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'Where to keep secrets: the OS keychain, or a file readable only by you. [default: the keychain when one can be reached, else the file]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (-v, -vv); or set MCPAUTH_LOG (e.g. `mcpauth=debug`)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (-v, -vv); or set MCPAUTH_LOG (e.g. `mcpauth=debug`)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'mcpauth;generate' {
            [CompletionResult]::new('--root', '--root', [CompletionResultType]::ParameterName, 'The source tree whose `completions/` and `man/` to rewrite')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Read servers from this file only (any MCP client''s config format)')
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'Where to keep secrets: the OS keychain, or a file readable only by you. [default: the keychain when one can be reached, else the file]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (-v, -vv); or set MCPAUTH_LOG (e.g. `mcpauth=debug`)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (-v, -vv); or set MCPAUTH_LOG (e.g. `mcpauth=debug`)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'mcpauth;install' {
            [CompletionResult]::new('--scope', '--scope', [CompletionResultType]::ParameterName, 'Claude Code: the project''s `.mcp.json`, or `~/.claude.json` for your user')
            [CompletionResult]::new('--launcher', '--launcher', [CompletionResultType]::ParameterName, 'How entries start mcpauth: the installed `mcpauth`, or `npx -y mcpauth` (from npm, for a shared project file that works for teammates who installed nothing)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Read servers from this file only (any MCP client''s config format)')
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'Where to keep secrets: the OS keychain, or a file readable only by you. [default: the keychain when one can be reached, else the file]')
            [CompletionResult]::new('--global', '--global', [CompletionResultType]::ParameterName, 'Cursor and opencode: the user''s file instead of the project''s')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Print the change as a unified diff and write nothing')
            [CompletionResult]::new('--headers-helper', '--headers-helper', [CompletionResultType]::ParameterName, 'Claude Code: keep the http entry and add `"headersHelper": "mcpauth headers NAME"` instead of going through the proxy')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (-v, -vv); or set MCPAUTH_LOG (e.g. `mcpauth=debug`)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (-v, -vv); or set MCPAUTH_LOG (e.g. `mcpauth=debug`)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'mcpauth;uninstall' {
            [CompletionResult]::new('--scope', '--scope', [CompletionResultType]::ParameterName, 'Claude Code: the project''s `.mcp.json`, or `~/.claude.json` for your user')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Read servers from this file only (any MCP client''s config format)')
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'Where to keep secrets: the OS keychain, or a file readable only by you. [default: the keychain when one can be reached, else the file]')
            [CompletionResult]::new('--global', '--global', [CompletionResultType]::ParameterName, 'Cursor and opencode: the user''s file instead of the project''s')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Print the change as a unified diff and write nothing')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (-v, -vv); or set MCPAUTH_LOG (e.g. `mcpauth=debug`)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (-v, -vv); or set MCPAUTH_LOG (e.g. `mcpauth=debug`)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'mcpauth;idp' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Read servers from this file only (any MCP client''s config format)')
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'Where to keep secrets: the OS keychain, or a file readable only by you. [default: the keychain when one can be reached, else the file]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (-v, -vv); or set MCPAUTH_LOG (e.g. `mcpauth=debug`)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (-v, -vv); or set MCPAUTH_LOG (e.g. `mcpauth=debug`)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('login', 'login', [CompletionResultType]::ParameterValue, 'Sign in to the identity provider in the browser (or with --device, --no-browser), or take its ID tokens from a source (--id-token)')
            [CompletionResult]::new('logout', 'logout', [CompletionResultType]::ParameterValue, 'End identity provider sign-ins, and every grant exchanged from them')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'mcpauth;idp;login' {
            [CompletionResult]::new('--issuer', '--issuer', [CompletionResultType]::ParameterName, 'The provider''s issuer URL')
            [CompletionResult]::new('--client-id', '--client-id', [CompletionResultType]::ParameterName, 'mcpauth''s client at the provider [default: the configured `clientId`, else dynamic registration]')
            [CompletionResult]::new('--scope', '--scope', [CompletionResultType]::ParameterName, 'Scopes to ask for [default: `openid offline_access`]')
            [CompletionResult]::new('--id-token', '--id-token', [CompletionResultType]::ParameterName, 'Take ID tokens from `file:PATH`, `env:NAME` or `command:CMD` (a company''s own sign-in tool) instead of signing in; read again for every exchange')
            [CompletionResult]::new('--callback-port', '--callback-port', [CompletionResultType]::ParameterName, 'The loopback port for the browser''s redirect [default: any free port]')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'How long to wait for the browser (e.g. `90s`, `5m`)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Read servers from this file only (any MCP client''s config format)')
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'Where to keep secrets: the OS keychain, or a file readable only by you. [default: the keychain when one can be reached, else the file]')
            [CompletionResult]::new('--client-secret', '--client-secret', [CompletionResultType]::ParameterName, 'Ask for the client''s secret (a hidden prompt, or one line on stdin)')
            [CompletionResult]::new('--device', '--device', [CompletionResultType]::ParameterName, 'Sign in with a code approved on another device')
            [CompletionResult]::new('--no-browser', '--no-browser', [CompletionResultType]::ParameterName, 'Print the authorization URL and paste back the address the browser ended on')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (-v, -vv); or set MCPAUTH_LOG (e.g. `mcpauth=debug`)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (-v, -vv); or set MCPAUTH_LOG (e.g. `mcpauth=debug`)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'mcpauth;idp;logout' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Read servers from this file only (any MCP client''s config format)')
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'Where to keep secrets: the OS keychain, or a file readable only by you. [default: the keychain when one can be reached, else the file]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (-v, -vv); or set MCPAUTH_LOG (e.g. `mcpauth=debug`)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (-v, -vv); or set MCPAUTH_LOG (e.g. `mcpauth=debug`)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'mcpauth;idp;help' {
            [CompletionResult]::new('login', 'login', [CompletionResultType]::ParameterValue, 'Sign in to the identity provider in the browser (or with --device, --no-browser), or take its ID tokens from a source (--id-token)')
            [CompletionResult]::new('logout', 'logout', [CompletionResultType]::ParameterValue, 'End identity provider sign-ins, and every grant exchanged from them')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'mcpauth;idp;help;login' {
            break
        }
        'mcpauth;idp;help;logout' {
            break
        }
        'mcpauth;idp;help;help' {
            break
        }
        'mcpauth;doctor' {
            [CompletionResult]::new('--account', '--account', [CompletionResultType]::ParameterName, 'Which of several accounts on the server')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Read servers from this file only (any MCP client''s config format)')
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'Where to keep secrets: the OS keychain, or a file readable only by you. [default: the keychain when one can be reached, else the file]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON (`server`, `ok`, and `checks`: `check`, `status`, `detail`, `fix`)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (-v, -vv); or set MCPAUTH_LOG (e.g. `mcpauth=debug`)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (-v, -vv); or set MCPAUTH_LOG (e.g. `mcpauth=debug`)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'mcpauth;help' {
            [CompletionResult]::new('login', 'login', [CompletionResultType]::ParameterValue, 'Sign in to a server in the browser and store the grant')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show every known server and grant: state, expiry, issuer, scopes, where stored')
            [CompletionResult]::new('token', 'token', [CompletionResultType]::ParameterValue, 'Print a fresh access token on stdout, refreshing it first when needed')
            [CompletionResult]::new('headers', 'headers', [CompletionResultType]::ParameterValue, 'Print `{"Authorization": "Bearer ..."}` for a server (a `headersHelper`)')
            [CompletionResult]::new('logout', 'logout', [CompletionResultType]::ParameterValue, 'Revoke a grant at the server when it can, and forget it here')
            [CompletionResult]::new('proxy', 'proxy', [CompletionResultType]::ParameterValue, 'Run as a stdio MCP server that forwards to the remote server with fresh tokens')
            [CompletionResult]::new('export', 'export', [CompletionResultType]::ParameterValue, 'Write grants into an encrypted bundle for another host (a server, CI, a container), where `mcpauth import` reads them')
            [CompletionResult]::new('import', 'import', [CompletionResultType]::ParameterValue, 'Store the grants of a bundle from `mcpauth export`, or (`--from mcp-remote`) the grants mcp-remote keeps in plaintext files')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script on stdout')
            [CompletionResult]::new('man', 'man', [CompletionResultType]::ParameterValue, 'Write the man pages: `mcpauth.1` and one page per command')
            [CompletionResult]::new('generate', 'generate', [CompletionResultType]::ParameterValue, 'Rewrite the committed `completions/` and `man/` directories from this definition')
            [CompletionResult]::new('install', 'install', [CompletionResultType]::ParameterValue, 'Point an MCP client at `mcpauth proxy` for its remote servers')
            [CompletionResult]::new('uninstall', 'uninstall', [CompletionResultType]::ParameterValue, 'Put back the entries that `mcpauth install` replaced in a client''s config')
            [CompletionResult]::new('idp', 'idp', [CompletionResultType]::ParameterValue, 'Sign in once to your company''s identity provider; servers it allows then need no browser')
            [CompletionResult]::new('doctor', 'doctor', [CompletionResultType]::ParameterValue, 'Check everything a sign-in and the proxy depend on, and say what to fix')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'mcpauth;help;login' {
            break
        }
        'mcpauth;help;status' {
            break
        }
        'mcpauth;help;token' {
            break
        }
        'mcpauth;help;headers' {
            break
        }
        'mcpauth;help;logout' {
            break
        }
        'mcpauth;help;proxy' {
            break
        }
        'mcpauth;help;export' {
            break
        }
        'mcpauth;help;import' {
            break
        }
        'mcpauth;help;completions' {
            break
        }
        'mcpauth;help;man' {
            break
        }
        'mcpauth;help;generate' {
            break
        }
        'mcpauth;help;install' {
            break
        }
        'mcpauth;help;uninstall' {
            break
        }
        'mcpauth;help;idp' {
            [CompletionResult]::new('login', 'login', [CompletionResultType]::ParameterValue, 'Sign in to the identity provider in the browser (or with --device, --no-browser), or take its ID tokens from a source (--id-token)')
            [CompletionResult]::new('logout', 'logout', [CompletionResultType]::ParameterValue, 'End identity provider sign-ins, and every grant exchanged from them')
            break
        }
        'mcpauth;help;idp;login' {
            break
        }
        'mcpauth;help;idp;logout' {
            break
        }
        'mcpauth;help;doctor' {
            break
        }
        'mcpauth;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
