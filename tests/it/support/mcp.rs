//! The MCP side of the fake: a Streamable HTTP endpoint (2025-11-25) that wants a bearer
//! token issued for it, and the Protected Resource Metadata (RFC 9728) that says who
//! issues those tokens.
//!
//! Only enough MCP to exercise a client: `initialize` with a session id, one `echo`
//! tool, 202 for notifications and responses, DELETE of the session. JSON answers only
//! (no SSE), which the spec allows.

use std::time::Instant;

use serde_json::{Value, json};

use super::fixture::{Endpoint, Handled, ResourceMismatch, Shared, State, Variant, lock};
use super::http::{Incoming, Reply};

const PROTOCOL_VERSION: &str = "2025-11-25";
const KNOWN_VERSIONS: [&str; 4] = ["2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"];

pub(super) fn handle_prm(shared: &Shared, _req: &Incoming) -> Handled {
    let state = lock(shared);
    let layout = &state.layout;
    let resource = match state.knobs.resource_mismatch {
        None => layout.mcp_url.clone(),
        Some(ResourceMismatch::OtherOrigin) => {
            // The authorization server's origin is another loopback origin: a client
            // that compares only hosts, not ports, would wrongly accept it.
            let other = if layout.as_on_rs {
                "http://127.0.0.1:9".to_owned()
            } else {
                layout.as_origin.clone()
            };
            format!("{other}{}", state.knobs.mcp_path)
        }
        Some(ResourceMismatch::OtherPath) => format!("{}/elsewhere", layout.rs_origin),
    };
    let body = json!({
        "resource": resource,
        "authorization_servers": [layout.issuer],
        "scopes_supported": state.knobs.scopes_supported,
        "bearer_methods_supported": ["header"],
        "resource_name": "mcpauth fake MCP server",
    });
    Handled::ok(Endpoint::ResourceMetadata, Reply::json(200, &body))
}

/// The `resource_metadata` URL the 401 names, if it names one.
fn challenge_metadata_url(state: &State) -> Option<String> {
    let layout = &state.layout;
    let default = matches!(
        state.knobs.variant,
        Variant::HeaderNamesCustomPrm
            | Variant::IssuerWithPath
            | Variant::Oidc
            | Variant::OidcPathInserted
            | Variant::OidcPathAppended
            | Variant::PinnedMetadataUrl
    );
    if !state.knobs.challenge_resource_metadata.unwrap_or(default) {
        return None;
    }
    let path = layout.prm_paths.first().cloned().unwrap_or_else(|| {
        format!(
            "/.well-known/oauth-protected-resource{}",
            state.knobs.mcp_path
        )
    });
    Some(format!("{}{path}", layout.rs_origin))
}

fn challenge(state: &State, error: Option<(&str, &str)>, scope: Option<String>) -> String {
    let mut params = Vec::new();
    if let Some((code, description)) = error {
        params.push(format!("error=\"{code}\""));
        params.push(format!("error_description=\"{description}\""));
    }
    if let Some(url) = challenge_metadata_url(state) {
        params.push(format!("resource_metadata=\"{url}\""));
    }
    if let Some(scope) = scope {
        params.push(format!("scope=\"{scope}\""));
    }
    if params.is_empty() {
        "Bearer".to_owned()
    } else {
        format!("Bearer {}", params.join(", "))
    }
}

fn unauthorized(state: &mut State, error: Option<(&str, &str)>, why: &str) -> Handled {
    state.counters.mcp_auth_failures += 1;
    let header = challenge(state, error, state.knobs.challenge_scope.clone());
    Handled::refused(
        Endpoint::Mcp,
        Reply::text(401, "authorization required").header("WWW-Authenticate", header),
        why,
    )
}

fn rpc_result(id: &Value, result: Value) -> Value {
    json!({ "jsonrpc": "2.0", "id": id, "result": result })
}

fn rpc_error(id: &Value, code: i64, message: &str) -> Value {
    json!({ "jsonrpc": "2.0", "id": id, "error": { "code": code, "message": message } })
}

pub(super) fn handle_mcp(shared: &Shared, req: &Incoming) -> Handled {
    let mut state = lock(shared);
    let Some(token) = req.bearer() else {
        return unauthorized(&mut state, None, "no bearer token");
    };
    let grant = match state.access.get(token) {
        None => {
            return unauthorized(
                &mut state,
                Some(("invalid_token", "unknown token")),
                "unknown token",
            );
        }
        Some(g) => g.clone(),
    };
    if grant.revoked {
        return unauthorized(
            &mut state,
            Some(("invalid_token", "the token was revoked")),
            "revoked token",
        );
    }
    if grant.expires_at <= Instant::now() {
        return unauthorized(
            &mut state,
            Some(("invalid_token", "the token expired")),
            "expired token",
        );
    }
    if grant
        .resource
        .as_deref()
        .is_some_and(|r| r != state.layout.mcp_url)
    {
        return unauthorized(
            &mut state,
            Some(("invalid_token", "the token is for another resource")),
            "token for another resource",
        );
    }

    match req.method.as_str() {
        "POST" => post(&mut state, req, &grant.scopes),
        "DELETE" => match req.header("mcp-session-id") {
            None => Handled::refused(
                Endpoint::Mcp,
                Reply::text(400, "DELETE without Mcp-Session-Id"),
                "no session id",
            ),
            Some(id) if state.sessions.remove(id) => Handled::ok(Endpoint::Mcp, Reply::empty(200)),
            Some(_) => Handled::refused(
                Endpoint::Mcp,
                Reply::text(404, "no such session"),
                "unknown session",
            ),
        },
        // No server-initiated stream on this fake.
        "GET" => Handled::ok(
            Endpoint::Mcp,
            Reply::text(405, "no server stream here").header("Allow", "POST, DELETE"),
        ),
        other => Handled::refused(
            Endpoint::Mcp,
            Reply::text(405, format!("method `{other}` not allowed"))
                .header("Allow", "POST, DELETE"),
            "bad method",
        ),
    }
}

fn post(state: &mut State, req: &Incoming, scopes: &[String]) -> Handled {
    let refuse = |status: u16, why: &str| {
        Handled::refused(Endpoint::Mcp, Reply::text(status, why.to_owned()), why)
    };
    let accept = req.header("accept").unwrap_or_default();
    if !(accept.contains("application/json") && accept.contains("text/event-stream")) {
        return refuse(
            406,
            "Accept must list application/json and text/event-stream",
        );
    }
    if !req
        .header("content-type")
        .is_some_and(|c| c.starts_with("application/json"))
    {
        return refuse(415, "Content-Type must be application/json");
    }
    let message: Value = match serde_json::from_str(&req.body) {
        Ok(v) => v,
        Err(_) => {
            return Handled::refused(
                Endpoint::Mcp,
                Reply::json(400, &rpc_error(&Value::Null, -32700, "parse error")),
                "body is not JSON",
            );
        }
    };
    if !message.is_object() {
        return refuse(
            400,
            "one JSON-RPC message per POST (no batches in 2025-11-25)",
        );
    }
    let method = message.get("method").and_then(Value::as_str);
    let id = message.get("id").cloned();

    if method == Some("initialize") {
        let Some(id) = id else {
            return refuse(400, "initialize must be a request");
        };
        let session = super::fixture::random_b64(16);
        state.sessions.insert(session.clone());
        let result = json!({
            "protocolVersion": PROTOCOL_VERSION,
            "capabilities": { "tools": { "listChanged": false } },
            "serverInfo": { "name": "mcpauth-fake", "version": "0.0.0" },
        });
        return Handled::ok(
            Endpoint::Mcp,
            Reply::json(200, &rpc_result(&id, result)).header("Mcp-Session-Id", session),
        );
    }

    match req.header("mcp-session-id") {
        None => return refuse(400, "Mcp-Session-Id is required after initialize"),
        Some(s) if !state.sessions.contains(s) => return refuse(404, "session not found"),
        Some(_) => {}
    }
    if let Some(v) = req.header("mcp-protocol-version")
        && !KNOWN_VERSIONS.contains(&v)
    {
        return refuse(400, "unsupported MCP-Protocol-Version");
    }

    // Notifications (method, no id) and responses (no method) are accepted silently.
    let (Some(method), Some(id)) = (method, id) else {
        return Handled::ok(Endpoint::Mcp, Reply::empty(202));
    };
    let answer = match method {
        "ping" => rpc_result(&id, json!({})),
        "tools/list" => rpc_result(
            &id,
            json!({ "tools": [{
                "name": "echo",
                "description": "Answers with its `text` argument.",
                "inputSchema": {
                    "type": "object",
                    "properties": { "text": { "type": "string" } },
                    "required": ["text"],
                },
            }]}),
        ),
        "tools/call" => {
            let params = message.get("params").cloned().unwrap_or(Value::Null);
            if params.get("name").and_then(Value::as_str) != Some("echo") {
                rpc_error(&id, -32602, "unknown tool")
            } else if let Some(needed) = state
                .knobs
                .tool_scope
                .clone()
                .filter(|s| !scopes.contains(s))
            {
                state.counters.mcp_auth_failures += 1;
                let mut wanted = vec![needed];
                wanted.extend(scopes.iter().cloned());
                let header = challenge(
                    state,
                    Some(("insufficient_scope", "the echo tool needs more scope")),
                    Some(wanted.join(" ")),
                );
                return Handled::refused(
                    Endpoint::Mcp,
                    Reply::text(403, "insufficient scope").header("WWW-Authenticate", header),
                    "insufficient scope",
                );
            } else {
                let text = params
                    .pointer("/arguments/text")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned();
                state.counters.tool_calls += 1;
                rpc_result(
                    &id,
                    json!({ "content": [{ "type": "text", "text": text }], "isError": false }),
                )
            }
        }
        _ => rpc_error(&id, -32601, "method not found"),
    };
    if state.knobs.sse_responses {
        // One event carrying the answer, then the stream ends (2025-11-25 §Streamable HTTP).
        let event = format!(
            "id: {}\nevent: message\ndata: {answer}\n\n",
            id_for_event(&id)
        );
        return Handled::ok(
            Endpoint::Mcp,
            Reply::empty(200)
                .header("Content-Type", "text/event-stream")
                .header("Cache-Control", "no-cache")
                .body(event),
        );
    }
    Handled::ok(Endpoint::Mcp, Reply::json(200, &answer))
}

/// An SSE event id derived from the request id, unique enough within one stream.
fn id_for_event(id: &Value) -> String {
    match id {
        Value::String(s) => s.chars().filter(char::is_ascii_alphanumeric).collect(),
        other => other.to_string(),
    }
}
