
use builtin;
use str;

set edit:completion:arg-completer[mcpauth] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'mcpauth'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'mcpauth'= {
            cand --config 'Read servers from this file only (any MCP client''s config format)'
            cand --store 'Where to keep secrets: the OS keychain, or a file readable only by you. [default: the keychain when one can be reached, else the file]'
            cand -v 'More detail on stderr (-v, -vv); or set MCPAUTH_LOG (e.g. `mcpauth=debug`)'
            cand --verbose 'More detail on stderr (-v, -vv); or set MCPAUTH_LOG (e.g. `mcpauth=debug`)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand login 'Sign in to a server in the browser and store the grant'
            cand status 'Show every known server and grant: state, expiry, issuer, scopes, where stored'
            cand token 'Print a fresh access token on stdout, refreshing it first when needed'
            cand headers 'Print `{"Authorization": "Bearer ..."}` for a server (a `headersHelper`)'
            cand logout 'Revoke a grant at the server when it can, and forget it here'
            cand proxy 'Run as a stdio MCP server that forwards to the remote server with fresh tokens'
            cand export 'Write grants into an encrypted bundle for another host (a server, CI, a container), where `mcpauth import` reads them'
            cand import 'Store the grants of a bundle from `mcpauth export`, or (`--from mcp-remote`) the grants mcp-remote keeps in plaintext files'
            cand completions 'Print a shell completion script on stdout'
            cand man 'Write the man pages: `mcpauth.1` and one page per command'
            cand generate 'Rewrite the committed `completions/` and `man/` directories from this definition'
            cand install 'Point an MCP client at `mcpauth proxy` for its remote servers'
            cand uninstall 'Put back the entries that `mcpauth install` replaced in a client''s config'
            cand idp 'Sign in once to your company''s identity provider; servers it allows then need no browser'
            cand doctor 'Check everything a sign-in and the proxy depend on, and say what to fix'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'mcpauth;login'= {
            cand --account 'Which of several accounts on the same server'
            cand --client-id 'Use this pre-registered OAuth client id (else the config''s `oauth.clientId`, a stored registration, or dynamic registration)'
            cand --client-auth 'How the client authenticates at the token endpoint'
            cand --client-key-file 'Authenticate the client with a JWT signed by this private key (PEM, EC P-256 or RSA; `private_key_jwt`). The key is copied into the keychain'
            cand --client-metadata-url 'Use this client ID metadata document URL as the client id, when the authorization server accepts them'
            cand --auth-server-metadata-url 'Use this authorization server metadata instead of discovering it: an http(s) URL, or a local JSON file'
            cand --authorization-url 'The authorization endpoint, for a provider that publishes no metadata (GitHub: `https://github.com/login/oauth/authorize`); goes with --token-url'
            cand --token-url 'The token endpoint that goes with --authorization-url'
            cand --revocation-url 'The revocation endpoint, used by `logout`, with --authorization-url'
            cand --scope 'Scopes to ask for (repeat or separate with spaces) [default: what the server asks for]'
            cand --auth-param 'Extra authorization parameter, sent on the authorization request and on every refresh (e.g. `access_type=offline`)'
            cand --callback-port 'The loopback port for the browser''s redirect [default: any free port, or the config''s `oauth.callbackPort`]'
            cand --workload 'Sign in as a workload with the JWT its platform issues it (workload identity federation): `file:PATH` (a Kubernetes projected token), `env:NAME`, or `command:CMD` (run by the shell; prints the JWT). No browser and no refresh token: the source is read again whenever the access token expires, by whichever mcpauth process needs the token (a variable must be in that process''s environment too)'
            cand --idp 'Sign in through this identity provider sign-in (`mcpauth idp login NAME`) [default: the one there is, when the server''s authorization server takes ID-JAGs]'
            cand --timeout 'How long to wait for the browser (e.g. `90s`, `5m`)'
            cand --config 'Read servers from this file only (any MCP client''s config format)'
            cand --store 'Where to keep secrets: the OS keychain, or a file readable only by you. [default: the keychain when one can be reached, else the file]'
            cand --force 'Sign in with OAuth even when the server''s config brings its own `Authorization` header (the proxy then sends the OAuth token instead)'
            cand --client-secret 'Ask for the client secret of `--client-id` or the config''s `oauth.clientId` (a hidden prompt, or one line on stdin). Never given on the command line'
            cand --client-credentials 'Get a token for the client itself (the client credentials grant): no browser, no user; renewed the same way when it expires. Needs a client id (--client-id or `oauth.clientId`) and a secret or key'
            cand --initial-access-token 'Ask for an initial access token for dynamic registration (a hidden prompt, or a line on stdin after the client secret)'
            cand --allow-pinned-metadata 'Sign in even though the project''s config pins the authorization server metadata on another origin than the server''s own authorization servers (asked once per file on a terminal; remembered either way)'
            cand --no-idp 'Sign in as the other options say even where the identity provider could'
            cand --device 'Sign in with a code shown here and approved on any other device (the OAuth device authorization grant), when the authorization server offers it'
            cand --no-browser 'Open no browser here: print the authorization URL to open on any machine, then paste back the address the browser ended on. Works over SSH'
            cand -v 'More detail on stderr (-v, -vv); or set MCPAUTH_LOG (e.g. `mcpauth=debug`)'
            cand --verbose 'More detail on stderr (-v, -vv); or set MCPAUTH_LOG (e.g. `mcpauth=debug`)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'mcpauth;status'= {
            cand --config 'Read servers from this file only (any MCP client''s config format)'
            cand --store 'Where to keep secrets: the OS keychain, or a file readable only by you. [default: the keychain when one can be reached, else the file]'
            cand --json 'Print JSON on stdout'
            cand -v 'More detail on stderr (-v, -vv); or set MCPAUTH_LOG (e.g. `mcpauth=debug`)'
            cand --verbose 'More detail on stderr (-v, -vv); or set MCPAUTH_LOG (e.g. `mcpauth=debug`)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'mcpauth;token'= {
            cand --account 'Which of several accounts on the same server'
            cand --config 'Read servers from this file only (any MCP client''s config format)'
            cand --store 'Where to keep secrets: the OS keychain, or a file readable only by you. [default: the keychain when one can be reached, else the file]'
            cand --json 'Print JSON (`access_token`, `token_type`, `expires_at`, `scopes`) instead of the bare token'
            cand -v 'More detail on stderr (-v, -vv); or set MCPAUTH_LOG (e.g. `mcpauth=debug`)'
            cand --verbose 'More detail on stderr (-v, -vv); or set MCPAUTH_LOG (e.g. `mcpauth=debug`)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'mcpauth;headers'= {
            cand --account 'Which of several accounts on the same server'
            cand --url 'For a DPoP-bound token: the one request the headers are for, whose method and URL the `DPoP` proof names (a proof is good for that request only)'
            cand --method 'The method of the request --url names'
            cand --config 'Read servers from this file only (any MCP client''s config format)'
            cand --store 'Where to keep secrets: the OS keychain, or a file readable only by you. [default: the keychain when one can be reached, else the file]'
            cand -v 'More detail on stderr (-v, -vv); or set MCPAUTH_LOG (e.g. `mcpauth=debug`)'
            cand --verbose 'More detail on stderr (-v, -vv); or set MCPAUTH_LOG (e.g. `mcpauth=debug`)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'mcpauth;logout'= {
            cand --account 'Which of several accounts on the same server'
            cand --config 'Read servers from this file only (any MCP client''s config format)'
            cand --store 'Where to keep secrets: the OS keychain, or a file readable only by you. [default: the keychain when one can be reached, else the file]'
            cand --no-revoke 'Forget the grant without asking the server to revoke it'
            cand -v 'More detail on stderr (-v, -vv); or set MCPAUTH_LOG (e.g. `mcpauth=debug`)'
            cand --verbose 'More detail on stderr (-v, -vv); or set MCPAUTH_LOG (e.g. `mcpauth=debug`)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'mcpauth;proxy'= {
            cand --account 'Which of several accounts on the same server'
            cand --transport 'Which remote transport to speak [default: Streamable HTTP, falling back to the legacy HTTP+SSE transport when the server only speaks that]'
            cand --login 'When there is no usable grant: `auto` opens the browser once (only on a desktop); `never` answers each request with an error saying to run `mcpauth login`'
            cand --config 'Read servers from this file only (any MCP client''s config format)'
            cand --store 'Where to keep secrets: the OS keychain, or a file readable only by you. [default: the keychain when one can be reached, else the file]'
            cand -v 'More detail on stderr (-v, -vv); or set MCPAUTH_LOG (e.g. `mcpauth=debug`)'
            cand --verbose 'More detail on stderr (-v, -vv); or set MCPAUTH_LOG (e.g. `mcpauth=debug`)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'mcpauth;export'= {
            cand --account 'Which of several accounts on the named servers'
            cand -o 'Write the bundle to FILE (created readable only by you) instead of stdout'
            cand --out 'Write the bundle to FILE (created readable only by you) instead of stdout'
            cand --recipient 'Encrypt to this public key instead of a passphrase: `age1...`, or an SSH key (`ssh-ed25519 ...`, `ssh-rsa ...`), e.g. the other host''s. Repeatable'
            cand --recipient-file 'Encrypt to every public key in FILE (one per line; a `.pub` or `authorized_keys` file works). Repeatable'
            cand --passphrase-file 'Read the passphrase from the first line of FILE instead of asking'
            cand --config 'Read servers from this file only (any MCP client''s config format)'
            cand --store 'Where to keep secrets: the OS keychain, or a file readable only by you. [default: the keychain when one can be reached, else the file]'
            cand --copy 'Put this host''s own grant into the bundle: both hosts then share one refresh token, and with rotation the first to refresh ends the other''s grant'
            cand --move 'Hand this host''s grant over and forget it here once the bundle is written (to a file: needs --out)'
            cand --device 'Sign the fresh grant in with the device authorization grant (RFC 8628)'
            cand --no-browser 'Sign the fresh grant in without a browser here: open the printed URL anywhere, then paste back the address the browser ended on'
            cand -v 'More detail on stderr (-v, -vv); or set MCPAUTH_LOG (e.g. `mcpauth=debug`)'
            cand --verbose 'More detail on stderr (-v, -vv); or set MCPAUTH_LOG (e.g. `mcpauth=debug`)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'mcpauth;import'= {
            cand --passphrase-file 'Read the passphrase from the first line of FILE instead of asking'
            cand --identity 'The private key for a bundle made with --recipient: an age identity file or an SSH private key without a passphrase'
            cand --from 'Import from another tool instead of a bundle'
            cand --url 'With --from: a server URL to match the tool''s files against, for servers that no MCP config names any more. Repeatable'
            cand --config 'Read servers from this file only (any MCP client''s config format)'
            cand --store 'Where to keep secrets: the OS keychain, or a file readable only by you. [default: the keychain when one can be reached, else the file]'
            cand --force 'Replace grants already held here for the same servers without asking'
            cand --delete-originals 'With --from: delete the tool''s plaintext files once their grant is stored [default: ask on a terminal, else keep them]'
            cand --keep-originals 'With --from: keep the tool''s files without asking'
            cand -v 'More detail on stderr (-v, -vv); or set MCPAUTH_LOG (e.g. `mcpauth=debug`)'
            cand --verbose 'More detail on stderr (-v, -vv); or set MCPAUTH_LOG (e.g. `mcpauth=debug`)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'mcpauth;completions'= {
            cand --config 'Read servers from this file only (any MCP client''s config format)'
            cand --store 'Where to keep secrets: the OS keychain, or a file readable only by you. [default: the keychain when one can be reached, else the file]'
            cand -v 'More detail on stderr (-v, -vv); or set MCPAUTH_LOG (e.g. `mcpauth=debug`)'
            cand --verbose 'More detail on stderr (-v, -vv); or set MCPAUTH_LOG (e.g. `mcpauth=debug`)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'mcpauth;man'= {
            cand --out 'The directory to write the pages into (created when missing)'
            cand --config 'Read servers from this file only (any MCP client''s config format)'
            cand --store 'Where to keep secrets: the OS keychain, or a file readable only by you. [default: the keychain when one can be reached, else the file]'
            cand -v 'More detail on stderr (-v, -vv); or set MCPAUTH_LOG (e.g. `mcpauth=debug`)'
            cand --verbose 'More detail on stderr (-v, -vv); or set MCPAUTH_LOG (e.g. `mcpauth=debug`)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'mcpauth;generate'= {
            cand --root 'The source tree whose `completions/` and `man/` to rewrite'
            cand --config 'Read servers from this file only (any MCP client''s config format)'
            cand --store 'Where to keep secrets: the OS keychain, or a file readable only by you. [default: the keychain when one can be reached, else the file]'
            cand -v 'More detail on stderr (-v, -vv); or set MCPAUTH_LOG (e.g. `mcpauth=debug`)'
            cand --verbose 'More detail on stderr (-v, -vv); or set MCPAUTH_LOG (e.g. `mcpauth=debug`)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'mcpauth;install'= {
            cand --scope 'Claude Code: the project''s `.mcp.json`, or `~/.claude.json` for your user'
            cand --launcher 'How entries start mcpauth: the installed `mcpauth`, or `npx -y mcpauth` (from npm, for a shared project file that works for teammates who installed nothing)'
            cand --config 'Read servers from this file only (any MCP client''s config format)'
            cand --store 'Where to keep secrets: the OS keychain, or a file readable only by you. [default: the keychain when one can be reached, else the file]'
            cand --global 'Cursor and opencode: the user''s file instead of the project''s'
            cand --dry-run 'Print the change as a unified diff and write nothing'
            cand --headers-helper 'Claude Code: keep the http entry and add `"headersHelper": "mcpauth headers NAME"` instead of going through the proxy'
            cand -v 'More detail on stderr (-v, -vv); or set MCPAUTH_LOG (e.g. `mcpauth=debug`)'
            cand --verbose 'More detail on stderr (-v, -vv); or set MCPAUTH_LOG (e.g. `mcpauth=debug`)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'mcpauth;uninstall'= {
            cand --scope 'Claude Code: the project''s `.mcp.json`, or `~/.claude.json` for your user'
            cand --config 'Read servers from this file only (any MCP client''s config format)'
            cand --store 'Where to keep secrets: the OS keychain, or a file readable only by you. [default: the keychain when one can be reached, else the file]'
            cand --global 'Cursor and opencode: the user''s file instead of the project''s'
            cand --dry-run 'Print the change as a unified diff and write nothing'
            cand -v 'More detail on stderr (-v, -vv); or set MCPAUTH_LOG (e.g. `mcpauth=debug`)'
            cand --verbose 'More detail on stderr (-v, -vv); or set MCPAUTH_LOG (e.g. `mcpauth=debug`)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'mcpauth;idp'= {
            cand --config 'Read servers from this file only (any MCP client''s config format)'
            cand --store 'Where to keep secrets: the OS keychain, or a file readable only by you. [default: the keychain when one can be reached, else the file]'
            cand -v 'More detail on stderr (-v, -vv); or set MCPAUTH_LOG (e.g. `mcpauth=debug`)'
            cand --verbose 'More detail on stderr (-v, -vv); or set MCPAUTH_LOG (e.g. `mcpauth=debug`)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand login 'Sign in to the identity provider in the browser (or with --device, --no-browser), or take its ID tokens from a source (--id-token)'
            cand logout 'End identity provider sign-ins, and every grant exchanged from them'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'mcpauth;idp;login'= {
            cand --issuer 'The provider''s issuer URL'
            cand --client-id 'mcpauth''s client at the provider [default: the configured `clientId`, else dynamic registration]'
            cand --scope 'Scopes to ask for [default: `openid offline_access`]'
            cand --id-token 'Take ID tokens from `file:PATH`, `env:NAME` or `command:CMD` (a company''s own sign-in tool) instead of signing in; read again for every exchange'
            cand --callback-port 'The loopback port for the browser''s redirect [default: any free port]'
            cand --timeout 'How long to wait for the browser (e.g. `90s`, `5m`)'
            cand --config 'Read servers from this file only (any MCP client''s config format)'
            cand --store 'Where to keep secrets: the OS keychain, or a file readable only by you. [default: the keychain when one can be reached, else the file]'
            cand --client-secret 'Ask for the client''s secret (a hidden prompt, or one line on stdin)'
            cand --device 'Sign in with a code approved on another device'
            cand --no-browser 'Print the authorization URL and paste back the address the browser ended on'
            cand -v 'More detail on stderr (-v, -vv); or set MCPAUTH_LOG (e.g. `mcpauth=debug`)'
            cand --verbose 'More detail on stderr (-v, -vv); or set MCPAUTH_LOG (e.g. `mcpauth=debug`)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'mcpauth;idp;logout'= {
            cand --config 'Read servers from this file only (any MCP client''s config format)'
            cand --store 'Where to keep secrets: the OS keychain, or a file readable only by you. [default: the keychain when one can be reached, else the file]'
            cand -v 'More detail on stderr (-v, -vv); or set MCPAUTH_LOG (e.g. `mcpauth=debug`)'
            cand --verbose 'More detail on stderr (-v, -vv); or set MCPAUTH_LOG (e.g. `mcpauth=debug`)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'mcpauth;idp;help'= {
            cand login 'Sign in to the identity provider in the browser (or with --device, --no-browser), or take its ID tokens from a source (--id-token)'
            cand logout 'End identity provider sign-ins, and every grant exchanged from them'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'mcpauth;idp;help;login'= {
        }
        &'mcpauth;idp;help;logout'= {
        }
        &'mcpauth;idp;help;help'= {
        }
        &'mcpauth;doctor'= {
            cand --account 'Which of several accounts on the server'
            cand --config 'Read servers from this file only (any MCP client''s config format)'
            cand --store 'Where to keep secrets: the OS keychain, or a file readable only by you. [default: the keychain when one can be reached, else the file]'
            cand --json 'Print JSON (`server`, `ok`, and `checks`: `check`, `status`, `detail`, `fix`)'
            cand -v 'More detail on stderr (-v, -vv); or set MCPAUTH_LOG (e.g. `mcpauth=debug`)'
            cand --verbose 'More detail on stderr (-v, -vv); or set MCPAUTH_LOG (e.g. `mcpauth=debug`)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'mcpauth;help'= {
            cand login 'Sign in to a server in the browser and store the grant'
            cand status 'Show every known server and grant: state, expiry, issuer, scopes, where stored'
            cand token 'Print a fresh access token on stdout, refreshing it first when needed'
            cand headers 'Print `{"Authorization": "Bearer ..."}` for a server (a `headersHelper`)'
            cand logout 'Revoke a grant at the server when it can, and forget it here'
            cand proxy 'Run as a stdio MCP server that forwards to the remote server with fresh tokens'
            cand export 'Write grants into an encrypted bundle for another host (a server, CI, a container), where `mcpauth import` reads them'
            cand import 'Store the grants of a bundle from `mcpauth export`, or (`--from mcp-remote`) the grants mcp-remote keeps in plaintext files'
            cand completions 'Print a shell completion script on stdout'
            cand man 'Write the man pages: `mcpauth.1` and one page per command'
            cand generate 'Rewrite the committed `completions/` and `man/` directories from this definition'
            cand install 'Point an MCP client at `mcpauth proxy` for its remote servers'
            cand uninstall 'Put back the entries that `mcpauth install` replaced in a client''s config'
            cand idp 'Sign in once to your company''s identity provider; servers it allows then need no browser'
            cand doctor 'Check everything a sign-in and the proxy depend on, and say what to fix'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'mcpauth;help;login'= {
        }
        &'mcpauth;help;status'= {
        }
        &'mcpauth;help;token'= {
        }
        &'mcpauth;help;headers'= {
        }
        &'mcpauth;help;logout'= {
        }
        &'mcpauth;help;proxy'= {
        }
        &'mcpauth;help;export'= {
        }
        &'mcpauth;help;import'= {
        }
        &'mcpauth;help;completions'= {
        }
        &'mcpauth;help;man'= {
        }
        &'mcpauth;help;generate'= {
        }
        &'mcpauth;help;install'= {
        }
        &'mcpauth;help;uninstall'= {
        }
        &'mcpauth;help;idp'= {
            cand login 'Sign in to the identity provider in the browser (or with --device, --no-browser), or take its ID tokens from a source (--id-token)'
            cand logout 'End identity provider sign-ins, and every grant exchanged from them'
        }
        &'mcpauth;help;idp;login'= {
        }
        &'mcpauth;help;idp;logout'= {
        }
        &'mcpauth;help;doctor'= {
        }
        &'mcpauth;help;help'= {
        }
    ]
    $completions[$command]
}
