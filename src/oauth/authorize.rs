//! The browser half of the authorization code flow: a loopback listener for the redirect
//! (RFC 8252 §7.3), opening the browser, and checking what comes back.
//!
//! The listener is bound before the browser opens, so the redirect can never race it.
//! Any process on this machine can reach it, so only the redirect that carries this
//! sign-in's `state`, addressed to the listener's own `Host`, ends the wait; anything
//! else is answered 400 and the wait goes on until the timeout. The browser is told
//! plainly whether it worked, and the listener closes when this returns.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::OauthError;
use crate::escape::controls;
use crate::secret::Secret;

/// A bound loopback listener.
pub struct Listener {
    server: tiny_http::Server,
    port: u16,
}

impl Listener {
    /// Binds `127.0.0.1:port` (`0` = any free port).
    pub fn bind(port: u16) -> Result<Self, OauthError> {
        let server = tiny_http::Server::http(("127.0.0.1", port))
            .map_err(|source| OauthError::Listen { port, source })?;
        let port = server
            .server_addr()
            .to_ip()
            .map(|a| a.port())
            .unwrap_or(port);
        Ok(Self { server, port })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn redirect_uri(&self) -> String {
        format!("http://127.0.0.1:{}/callback", self.port)
    }
}

/// What the redirect must match.
pub struct Expected<'a> {
    pub state: &'a Secret,
    /// `None` when nobody said who the issuer is (endpoints given by hand): then there is
    /// nothing to hold `iss` against.
    pub issuer: Option<&'a str>,
    /// RFC 9207: the server promised `iss` in the redirect.
    pub iss_required: bool,
    /// For the browser page ("Signed in to `notion`").
    pub server_name: &'a str,
}

/// Waits for the redirect until `timeout` passes or `cancel` is set, answers the browser,
/// and returns the authorization code.
pub fn wait_for_code(
    listener: Listener,
    expected: &Expected<'_>,
    timeout: Duration,
    cancel: &AtomicBool,
) -> Result<Secret, OauthError> {
    let deadline = Instant::now() + timeout;
    let mut ignored = 0;
    loop {
        if cancel.load(Ordering::Relaxed) {
            return Err(OauthError::Interrupted);
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(OauthError::Timeout {
                waited: human_duration(timeout),
                ignored,
            });
        }
        let request = match listener
            .server
            .recv_timeout(left.min(Duration::from_millis(100)))
        {
            Ok(Some(r)) => r,
            Ok(None) => continue,
            Err(e) => {
                return Err(OauthError::Listen {
                    port: listener.port,
                    source: Box::new(e),
                });
            }
        };
        // A web page can reach the listener under a name of its own that resolves to
        // 127.0.0.1 (DNS rebinding); the browser following our redirect URI names us.
        if !addressed_to(&request, listener.port) {
            let _ = request.respond(tiny_http::Response::empty(400));
            continue;
        }
        let Some(params) = callback_params(request.url()) else {
            let _ = request.respond(tiny_http::Response::empty(404));
            continue;
        };
        if params.get("state").map(String::as_str) != Some(expected.state.expose()) {
            // Not this sign-in's redirect (a stale tab, or a local process knocking):
            // it must not end the wait for the real one.
            ignored += 1;
            tracing::info!("ignored a request to the callback without this sign-in's `state`");
            let page = page(
                "Not this sign-in",
                "This is not the redirect mcpauth is waiting for. Nothing was changed.",
            );
            let _ = request.respond(html(page, 400));
            continue;
        }
        let outcome = check_redirect(&params, expected);
        let page = match &outcome {
            Ok(_) => page(
                "Signed in",
                &format!(
                    "mcpauth is signed in to <b>{}</b>. You can close this tab and return to the terminal.",
                    html_escape(expected.server_name)
                ),
            ),
            Err(e) => page(
                "Sign-in failed",
                &format!(
                    "mcpauth could not sign in to <b>{}</b>: {}. Nothing was stored. Details are in the terminal.",
                    html_escape(expected.server_name),
                    html_escape(&e.to_string())
                ),
            ),
        };
        let _ = request.respond(html(page, if outcome.is_ok() { 200 } else { 400 }));
        return outcome;
    }
}

/// The query of a request for `/callback`, by name (the first of a repeated name wins
/// nothing: the last does, as in any form); `None` for any other path. The request
/// target comes from whatever process reached the listener.
fn callback_params(target: &str) -> Option<HashMap<String, String>> {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    (path == "/callback").then(|| {
        url::form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect()
    })
}

/// Whether the request names the listener as `Host`, as a browser following the
/// redirect URI (`127.0.0.1:port`) does.
fn addressed_to(request: &tiny_http::Request, port: u16) -> bool {
    let expected = format!("127.0.0.1:{port}");
    let mut hosts = request.headers().iter().filter(|h| h.field.equiv("Host"));
    matches!((hosts.next(), hosts.next()), (Some(h), None) if h.value.as_str() == expected)
}

fn html(page: String, status: u16) -> tiny_http::Response<std::io::Cursor<Vec<u8>>> {
    tiny_http::Response::from_string(page)
        .with_status_code(status)
        .with_header(
            "Content-Type: text/html; charset=utf-8"
                .parse::<tiny_http::Header>()
                .expect("static header"),
        )
}

/// The code from a redirect address the person pasted (`--no-browser`), checked exactly
/// as a redirect that reached the listener would be.
pub fn code_from_pasted(pasted: &str, expected: &Expected<'_>) -> Result<Secret, OauthError> {
    let url = url::Url::parse(pasted.trim()).map_err(|_| OauthError::NotARedirect)?;
    if url.query().is_none() {
        return Err(OauthError::NotARedirect);
    }
    let params: HashMap<String, String> = url.query_pairs().into_owned().collect();
    check_redirect(&params, expected)
}

/// RFC 9207 `iss` first, then `state`, and only then the server's `error` or the code:
/// an error from a redirect that is not ours must not be believed either.
fn check_redirect(
    params: &HashMap<String, String>,
    expected: &Expected<'_>,
) -> Result<Secret, OauthError> {
    if let Some(issuer) = expected.issuer {
        match params.get("iss") {
            Some(iss) if iss != issuer => {
                return Err(OauthError::IssMismatch {
                    expected: issuer.to_owned(),
                    found: iss.clone(),
                });
            }
            None if expected.iss_required => {
                return Err(OauthError::IssMissing {
                    expected: issuer.to_owned(),
                });
            }
            _ => {}
        }
    }
    if params.get("state").map(String::as_str) != Some(expected.state.expose()) {
        return Err(OauthError::StateMismatch);
    }
    if let Some(error) = params.get("error") {
        let description = params.get("error_description").cloned();
        return Err(if error == "access_denied" {
            OauthError::AccessDenied { description }
        } else {
            OauthError::AuthorizationFailed {
                error: error.clone(),
                description,
            }
        });
    }
    match params.get("code") {
        Some(code) if !code.is_empty() => Ok(Secret::new(code.clone())),
        _ => Err(OauthError::NoCode),
    }
}

/// Whether a browser can be shown here: a desktop session that is not reached over SSH
/// without a display.
pub fn has_desktop() -> bool {
    let set = |k: &str| std::env::var_os(k).is_some_and(|v| !v.is_empty());
    if cfg!(any(target_os = "macos", target_os = "windows")) {
        !(set("SSH_CONNECTION") || set("SSH_TTY"))
    } else {
        set("DISPLAY") || set("WAYLAND_DISPLAY")
    }
}

/// How the browser was (or was not) opened.
#[derive(Debug, PartialEq, Eq)]
pub enum Opened {
    Command,
    System,
    NotOpened,
}

/// The words of an `MCPAUTH_BROWSER` command: the whole value when it names a file (a
/// path with spaces, as browsers on macOS and Windows have), else the words between
/// spaces, where quotes (`"` or `'`) keep spaces in a word. There are no escapes, so a
/// Windows path keeps its backslashes.
fn browser_words(cmd: &str, is_file: impl Fn(&str) -> bool) -> Result<Vec<String>, String> {
    let cmd = cmd.trim();
    if is_file(cmd) {
        return Ok(vec![cmd.to_owned()]);
    }
    // `word` is None between words; a quote starts a word even when it holds nothing.
    let (mut words, mut word, mut quote) = (Vec::new(), None::<String>, None);
    for c in cmd.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            None if c == '"' || c == '\'' => {
                quote = Some(c);
                word.get_or_insert_default();
            }
            None if c.is_whitespace() => words.extend(word.take()),
            _ => word.get_or_insert_default().push(c),
        }
    }
    if quote.is_some() {
        return Err("a quote is not closed".into());
    }
    words.extend(word);
    Ok(words)
}

/// Opens `url`: with `MCPAUTH_BROWSER` (a command, see [`browser_words`], given the URL
/// as its last argument) when set, else the system browser when there is a desktop.
pub fn open_browser(url: &str) -> Result<Opened, OauthError> {
    if let Some(cmd) = std::env::var("MCPAUTH_BROWSER")
        .ok()
        .filter(|c| !c.trim().is_empty())
    {
        let words =
            browser_words(&cmd, |p| Path::new(p).is_file()).map_err(|why| OauthError::Browser {
                command: controls(&cmd).into_owned(),
                source: std::io::Error::new(std::io::ErrorKind::InvalidInput, why),
            })?;
        let Some((program, args)) = words.split_first() else {
            return Ok(Opened::NotOpened);
        };
        let mut child = std::process::Command::new(program)
            .args(args)
            .arg(url)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .spawn()
            .map_err(|source| OauthError::Browser {
                command: controls(program).into_owned(),
                source,
            })?;
        // Reap it whenever it ends, without making the login wait for it.
        std::thread::spawn(move || child.wait());
        return Ok(Opened::Command);
    }
    if has_desktop() && open::that_detached(url).is_ok() {
        return Ok(Opened::System);
    }
    Ok(Opened::NotOpened)
}

/// Shared flag for Ctrl-C during a wait.
pub fn cancel_flag() -> Arc<AtomicBool> {
    Arc::new(AtomicBool::new(false))
}

/// Sets a cancel flag when dropped: a wait that is given up (Ctrl-C, a pasted address
/// that won the race) stops its listener thread too.
pub struct CancelOnDrop(pub Arc<AtomicBool>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

pub fn human_duration(d: Duration) -> String {
    let s = d.as_secs();
    match (s / 60, s % 60) {
        (0, s) => format!("{s} s"),
        (m, 0) => format!("{m} min"),
        (m, s) => format!("{m} min {s} s"),
    }
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>mcpauth: {title}</title>\
         <style>body{{font:16px system-ui,sans-serif;max-width:36em;margin:4em auto;padding:0 1em}}</style>\
         </head><body><h1>{title}</h1><p>{body}</p></body></html>"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_browser_command_is_split_on_spaces_outside_quotes_and_a_file_is_whole() {
        let none = |_: &str| false;
        let words = |cmd| browser_words(cmd, none).unwrap();
        assert_eq!(words("  firefox  --new-tab "), ["firefox", "--new-tab"]);
        assert_eq!(
            words(r#""C:\Program Files\Firefox\firefox.exe" -private"#),
            [r"C:\Program Files\Firefox\firefox.exe", "-private"]
        );
        assert_eq!(
            words("'/Applications/Google Chrome.app/Contents/MacOS/Google Chrome' --incognito"),
            [
                "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
                "--incognito"
            ]
        );
        assert_eq!(words(r#"open -a "" x"#), ["open", "-a", "", "x"]);
        assert_eq!(words(r#"a"b c"d e"#), ["ab cd", "e"]);
        assert!(words("   ").is_empty());
        assert!(browser_words(r#"open "half"#, none).is_err());
        // A path with spaces that is a file is the program, unquoted.
        let chrome = "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome";
        assert_eq!(browser_words(chrome, |p| p == chrome).unwrap(), [chrome]);
    }

    fn params(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn expected(state: &Secret, iss_required: bool) -> Expected<'_> {
        Expected {
            state,
            issuer: Some("https://as.example.com"),
            iss_required,
            server_name: "notion",
        }
    }

    #[test]
    fn a_matching_redirect_yields_the_code() {
        let state = Secret::new("s1");
        let code = check_redirect(
            &params(&[
                ("code", "c1"),
                ("state", "s1"),
                ("iss", "https://as.example.com"),
            ]),
            &expected(&state, true),
        )
        .unwrap();
        assert_eq!(code.expose(), "c1");
    }

    #[test]
    fn iss_is_checked_before_state_and_error() {
        let state = Secret::new("s1");
        let e = check_redirect(
            &params(&[
                ("error", "access_denied"),
                ("state", "s1"),
                ("iss", "https://evil"),
            ]),
            &expected(&state, false),
        )
        .unwrap_err();
        assert!(matches!(e, OauthError::IssMismatch { .. }), "{e}");
        let e = check_redirect(
            &params(&[("code", "c"), ("state", "s1")]),
            &expected(&state, true),
        )
        .unwrap_err();
        assert!(matches!(e, OauthError::IssMissing { .. }), "{e}");
    }

    #[test]
    fn a_wrong_state_is_refused_even_with_an_error() {
        let state = Secret::new("s1");
        for p in [
            params(&[("code", "c"), ("state", "s2")]),
            params(&[("error", "access_denied"), ("state", "s2")]),
            params(&[("code", "c")]),
        ] {
            let e = check_redirect(&p, &expected(&state, false)).unwrap_err();
            assert!(matches!(e, OauthError::StateMismatch), "{e}");
        }
    }

    #[test]
    fn access_denied_and_other_errors() {
        let state = Secret::new("s1");
        let e = check_redirect(
            &params(&[("error", "access_denied"), ("state", "s1")]),
            &expected(&state, false),
        )
        .unwrap_err();
        assert!(matches!(e, OauthError::AccessDenied { .. }));
        let e = check_redirect(
            &params(&[
                ("error", "server_error"),
                ("state", "s1"),
                ("error_description", "x"),
            ]),
            &expected(&state, false),
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "the authorization server answered `server_error`: x"
        );
    }

    #[test]
    fn the_listener_ignores_stray_requests_and_returns_the_code() {
        let listener = Listener::bind(0).unwrap();
        let port = listener.port();
        let state = Secret::new("st");
        let cancel = AtomicBool::new(false);
        let browser = std::thread::spawn(move || {
            use std::io::{Read, Write};
            let get = |path: &str, host: &str| {
                let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
                write!(
                    s,
                    "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
                )
                .unwrap();
                let mut out = String::new();
                s.read_to_string(&mut out).unwrap();
                out
            };
            let ours = format!("127.0.0.1:{port}");
            let favicon = get("/favicon.ico", &ours);
            let stray = [
                get("/callback?code=forged&state=other", &ours),
                get("/callback?error=access_denied", &ours),
                get("/callback?code=abc&state=st", "rebound.example:80"),
            ];
            let page = get("/callback?code=abc&state=st", &ours);
            (favicon, stray, page)
        });
        let code = wait_for_code(
            listener,
            &Expected {
                state: &state,
                issuer: Some("x"),
                iss_required: false,
                server_name: "<notion>",
            },
            Duration::from_secs(30),
            &cancel,
        )
        .unwrap();
        assert_eq!(code.expose(), "abc");
        let (favicon, stray, page) = browser.join().unwrap();
        assert!(favicon.starts_with("HTTP/1.1 404"), "{favicon}");
        for answer in stray {
            assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
        }
        assert!(page.starts_with("HTTP/1.1 200"), "{page}");
        assert!(
            page.contains("signed in to <b>&lt;notion&gt;</b>"),
            "{page}"
        );
        assert!(!page.contains("abc"), "the page must not echo the code");
    }

    #[test]
    fn cancel_stops_the_wait() {
        let listener = Listener::bind(0).unwrap();
        let state = Secret::new("st");
        let cancel = AtomicBool::new(true);
        let e = wait_for_code(
            listener,
            &expected(&state, false),
            Duration::from_secs(30),
            &cancel,
        )
        .unwrap_err();
        assert!(matches!(e, OauthError::Interrupted));
    }
}

#[cfg(test)]
mod props {
    use super::*;
    use proptest::prelude::*;

    fn expected(state: &Secret, iss_required: bool) -> Expected<'_> {
        Expected {
            state,
            issuer: Some("https://as.example.com"),
            iss_required,
            server_name: "demo",
        }
    }

    proptest! {
        #![proptest_config(crate::props::config(512))]

        #[test]
        fn any_request_target_is_read_without_panicking(target in any::<String>(), like in "[/a-z?&=%+#]{0,40}") {
            let _ = callback_params(&target);
            let _ = callback_params(&like);
            if let Some(p) = callback_params(&format!("/callback?{like}")) {
                let state = Secret::new("s");
                let _ = check_redirect(&p, &expected(&state, true));
            }
        }

        #[test]
        fn the_query_comes_back_as_the_browser_sent_it(
            params in proptest::collection::hash_map("[a-z_]{1,8}", any::<String>(), 0..6)
        ) {
            let query = url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(&params)
                .finish();
            prop_assert_eq!(callback_params(&format!("/callback?{query}")), Some(params));
            prop_assert_eq!(callback_params(&format!("/other?{query}")), None);
        }

        #[test]
        fn only_this_sign_ins_state_and_issuer_yield_a_code(
            state in proptest::option::of(prop_oneof!["[a-z0-9]{0,4}", Just("the-state".to_owned())]),
            iss in proptest::option::of(prop_oneof![".{0,8}", Just("https://as.example.com".to_owned())]),
            code in proptest::option::of(".{0,6}"),
            error in proptest::option::of("[a-z_]{1,12}"),
            iss_required in any::<bool>(),
        ) {
            let mut params = HashMap::new();
            for (k, v) in [("state", &state), ("iss", &iss), ("code", &code), ("error", &error)] {
                if let Some(v) = v {
                    params.insert(k.to_owned(), v.clone());
                }
            }
            let ours = Secret::new("the-state");
            let result = check_redirect(&params, &expected(&ours, iss_required));
            let right_iss = match &iss {
                Some(i) => i == "https://as.example.com",
                None => !iss_required,
            };
            let should = right_iss
                && state.as_deref() == Some("the-state")
                && error.is_none()
                && code.as_deref().is_some_and(|c| !c.is_empty());
            prop_assert_eq!(result.is_ok(), should, "{:?}", params);
        }
    }
}
