//! The plumbing under the fake servers: a tiny_http listener on 127.0.0.1 port 0 that
//! hands every request to its own thread, a parsed view of a request, a reply builder,
//! and a one-shot loopback HTTP GET (for fetching client metadata documents).
//!
//! A thread per request matters: mcpauth's proxy tests run eight and more clients at once,
//! and a single-threaded fake would serialise them and hide lock contention bugs.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// A request as the fake sees it, fully read.
#[derive(Debug, Clone)]
pub struct Incoming {
    pub method: String,
    /// The path without the query string.
    pub path: String,
    /// Query parameters, decoded, in order.
    pub query: Vec<(String, String)>,
    /// Header names lowercased, in order.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Incoming {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body read as `application/x-www-form-urlencoded`.
    pub fn form(&self) -> Vec<(String, String)> {
        parse_form(&self.body)
    }

    /// The token from `Authorization: Bearer ...`; the scheme is case-insensitive.
    pub fn bearer(&self) -> Option<&str> {
        let value = self.header("authorization")?;
        let (scheme, rest) = value.split_once(' ')?;
        scheme
            .eq_ignore_ascii_case("bearer")
            .then(|| rest.trim())
            .filter(|t| !t.is_empty())
    }
}

pub fn parse_form(text: &str) -> Vec<(String, String)> {
    url::form_urlencoded::parse(text.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

pub fn form_get<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
    form.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// What a handler answers.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn empty(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    pub fn text(status: u16, text: impl Into<String>) -> Self {
        Self::empty(status)
            .header("Content-Type", "text/plain; charset=utf-8")
            .body(text.into())
    }

    pub fn html(status: u16, html: impl Into<String>) -> Self {
        Self::empty(status)
            .header("Content-Type", "text/html; charset=utf-8")
            .body(html.into())
    }

    pub fn json(status: u16, value: &serde_json::Value) -> Self {
        Self::empty(status)
            .header("Content-Type", "application/json")
            .body(value.to_string())
    }

    /// An OAuth error body (RFC 6749 §5.2); token answers are never cached.
    pub fn oauth_error(status: u16, error: &str, description: &str) -> Self {
        Self::json(
            status,
            &serde_json::json!({ "error": error, "error_description": description }),
        )
        .header("Cache-Control", "no-store")
    }

    pub fn redirect(location: &str) -> Self {
        Self::empty(302).header("Location", location)
    }

    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_owned(), value.into()));
        self
    }

    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }
}

/// One listening fake. Dropping it stops the accept loop; requests in flight finish on
/// their own threads.
pub struct Listener {
    server: Arc<tiny_http::Server>,
    addr: SocketAddr,
    accept: Option<JoinHandle<()>>,
}

impl Listener {
    /// Binds 127.0.0.1 port 0 and serves `handler` on a thread per request.
    pub fn start<H>(handler: H) -> Self
    where
        H: Fn(&Incoming) -> Reply + Send + Sync + 'static,
    {
        let server = tiny_http::Server::http("127.0.0.1:0")
            .unwrap_or_else(|e| panic!("fake server: cannot bind 127.0.0.1:0: {e}"));
        let addr = server
            .server_addr()
            .to_ip()
            .expect("fake server: a TCP listener has an IP address");
        let server = Arc::new(server);
        let handler = Arc::new(handler);
        let accept = {
            let server = Arc::clone(&server);
            std::thread::Builder::new()
                .name(format!("fake-accept-{}", addr.port()))
                .spawn(move || {
                    for request in server.incoming_requests() {
                        let handler = Arc::clone(&handler);
                        // A failed spawn only loses this one request; the test that sent
                        // it sees a dropped connection and fails with that.
                        let _ = std::thread::Builder::new()
                            .name("fake-request".into())
                            .spawn(move || serve_one(request, &*handler));
                    }
                })
                .expect("fake server: spawn the accept thread")
        };
        Self {
            server,
            addr,
            accept: Some(accept),
        }
    }

    pub fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
    }
}

fn serve_one(mut request: tiny_http::Request, handler: &dyn Fn(&Incoming) -> Reply) {
    let mut body = String::new();
    let reply = match request.as_reader().read_to_string(&mut body) {
        Ok(_) => {
            let (path, query) = match request.url().split_once('?') {
                Some((p, q)) => (p.to_owned(), parse_form(q)),
                None => (request.url().to_owned(), Vec::new()),
            };
            let incoming = Incoming {
                method: request.method().as_str().to_owned(),
                path,
                query,
                headers: request
                    .headers()
                    .iter()
                    .map(|h| {
                        (
                            h.field.as_str().as_str().to_ascii_lowercase(),
                            h.value.as_str().to_owned(),
                        )
                    })
                    .collect(),
                body,
            };
            handler(&incoming)
        }
        Err(e) => Reply::text(400, format!("the request body is not UTF-8 text: {e}")),
    };
    let mut response = tiny_http::Response::from_data(reply.body).with_status_code(reply.status);
    for (name, value) in &reply.headers {
        match tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes()) {
            Ok(h) => response.add_header(h),
            Err(()) => panic!("fake server: bad header `{name}`"),
        }
    }
    // The client may have gone away (a timeout test); nothing to do about it.
    let _ = request.respond(response);
}

/// A plain HTTP/1.0 GET to a loopback `http://` URL, as an authorization server does when
/// it fetches a client metadata document. Returns (status, body).
pub fn loopback_get(url: &str) -> Result<(u16, String), String> {
    loopback_get_as(url, None)
}

/// [`loopback_get`] with the `Host` header of someone else's choosing (as a page that
/// reached a loopback port through DNS rebinding would send).
pub fn loopback_get_as(url: &str, host_header: Option<&str>) -> Result<(u16, String), String> {
    let host = host_header.map(|h| ("Host", h));
    loopback_request("GET", url, host.as_slice(), "").map(|(status, _, body)| (status, body))
}

/// A plain HTTP/1.0 POST of `body` (JSON) to a loopback `http://` URL with `headers`.
/// Returns (status, header block, body).
pub fn loopback_post(
    url: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Result<(u16, String, String), String> {
    loopback_request("POST", url, headers, body)
}

fn loopback_request(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Result<(u16, String, String), String> {
    let parsed = url::Url::parse(url).map_err(|e| format!("`{url}` is not a URL: {e}"))?;
    if parsed.scheme() != "http" {
        return Err(format!(
            "`{url}`: the fake fetches only http:// on loopback"
        ));
    }
    let host = parsed.host_str().unwrap_or_default();
    if !matches!(host, "127.0.0.1" | "localhost" | "[::1]") {
        return Err(format!("`{url}` is not on loopback"));
    }
    let addrs = parsed
        .socket_addrs(|| Some(80))
        .map_err(|e| format!("`{url}`: {e}"))?;
    let addr = addrs
        .first()
        .ok_or_else(|| format!("`{url}`: no address"))?;
    let mut stream = TcpStream::connect_timeout(addr, Duration::from_secs(5))
        .map_err(|e| format!("cannot connect to `{url}`: {e}"))?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(|e| e.to_string())?;
    let mut target = parsed.path().to_owned();
    if let Some(q) = parsed.query() {
        target.push('?');
        target.push_str(q);
    }
    let mut head = format!("{method} {target} HTTP/1.0\r\n");
    if !headers.iter().any(|(n, _)| n.eq_ignore_ascii_case("host")) {
        head.push_str(&format!("Host: {}\r\n", parsed.authority()));
    }
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if !headers
        .iter()
        .any(|(n, _)| n.eq_ignore_ascii_case("accept"))
    {
        head.push_str("Accept: application/json\r\n");
    }
    if method != "GET" {
        head.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    write!(stream, "{head}Connection: close\r\n\r\n{body}")
        .map_err(|e| format!("cannot send to `{url}`: {e}"))?;
    let mut raw = Vec::new();
    stream
        .read_to_end(&mut raw)
        .map_err(|e| format!("cannot read from `{url}`: {e}"))?;
    let raw = String::from_utf8(raw).map_err(|_| format!("`{url}` answered non-UTF-8"))?;
    let (head, body) = raw
        .split_once("\r\n\r\n")
        .ok_or_else(|| format!("`{url}` answered without a header block"))?;
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("`{url}` answered a bad status line"))?;
    Ok((status, head.to_owned(), body.to_owned()))
}
