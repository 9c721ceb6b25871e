//! A host of the session era (2025 revisions: `initialize`, then requests) on a server
//! that speaks only 2026-07-28 (no `initialize`, a version and the client's identity in
//! every request's `_meta`). The proxy answers the host's `initialize` itself, from the
//! server's `server/discover`, keeps `notifications/initialized` to itself, and adds to
//! each later message the `_meta` the server needs, built from what the host said in its
//! `initialize`.
//!
//! A result that asks for input (`resultType: input_required`) is turned into the
//! requests a host of that era knows (elicitation, sampling, roots); their answers go back
//! to the server with the request, sent again. The server's own notifications (list
//! changes, updates of the resources the host subscribed to) come on a
//! `subscriptions/listen` stream the proxy keeps open for the host.

use bytes::Bytes;
use serde_json::value::RawValue;
use serde_json::{Map, Value, json};

/// The first revision without `initialize`.
pub const MODERN: &str = "2026-07-28";

/// A 2026-era server's refusal of `initialize`: a JSON-RPC error saying the version
/// header is missing (-32020), the version unsupported (-32022), or that there is no such
/// method (-32601: every server of the session era has it). The version to speak to it:
/// the newest it names, else [`MODERN`].
pub fn modern_refusal(body: &[u8]) -> Option<String> {
    let answer: Value = serde_json::from_slice(body).ok()?;
    let error = answer.get("error")?;
    if !matches!(error.get("code")?.as_i64()?, -32020 | -32022 | -32601) {
        return None;
    }
    let named = error
        .get("data")
        .and_then(|d| d.get("supported"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        // A revision is a date; anything else the server put there is not repeated.
        .filter(|v| v.len() == MODERN.len() && v.bytes().all(|b| b.is_ascii_digit() || b == b'-'))
        .filter(|v| *v >= MODERN)
        .max()
        .map(str::to_owned);
    Some(named.unwrap_or_else(|| MODERN.to_owned()))
}

#[derive(Debug)]
pub struct Bridge {
    /// The version the host asked for in `initialize`, which its answer names.
    host_version: String,
    /// What goes into every request's `_meta`.
    meta: Map<String, Value>,
    /// The `subscriptions/listen` filter: the list changes the server announces, and the
    /// resources the host subscribed to.
    listen: std::sync::Mutex<Map<String, Value>>,
}

impl Bridge {
    /// From the host's `initialize` line, speaking `version` to the server.
    pub fn new(initialize: &[u8], version: &str) -> Option<Bridge> {
        let init: Value = serde_json::from_slice(initialize).ok()?;
        let params = init.get("params")?;
        let mut meta = Map::new();
        meta.insert(
            "io.modelcontextprotocol/protocolVersion".into(),
            version.into(),
        );
        if let Some(info) = params.get("clientInfo") {
            meta.insert("io.modelcontextprotocol/clientInfo".into(), info.clone());
        }
        meta.insert(
            "io.modelcontextprotocol/clientCapabilities".into(),
            params.get("capabilities").cloned().unwrap_or(json!({})),
        );
        Some(Bridge {
            host_version: params
                .get("protocolVersion")
                .and_then(Value::as_str)
                .unwrap_or("2025-11-25")
                .to_owned(),
            meta,
            listen: std::sync::Mutex::new(Map::new()),
        })
    }

    /// Notes the list changes the server's capabilities announce, for the listen stream.
    pub fn announced(&self, capabilities: &Value) {
        let mut filter = self.listen.lock().expect("listen filter lock");
        for (kind, key) in [
            ("tools", "toolsListChanged"),
            ("prompts", "promptsListChanged"),
            ("resources", "resourcesListChanged"),
        ] {
            if capabilities[kind]["listChanged"] == Value::Bool(true) {
                filter.insert(key.into(), true.into());
            }
        }
    }

    /// A host's `resources/subscribe` or `resources/unsubscribe`, which the 2026 wire
    /// does with the listen stream's filter: the filter changes, and the host's request id
    /// is returned for the proxy to answer.
    pub fn subscription(&self, line: &[u8]) -> Option<Box<RawValue>> {
        #[derive(serde::Deserialize)]
        struct Request {
            id: Box<RawValue>,
            method: String,
            params: Option<Value>,
        }
        let request: Request = serde_json::from_slice(line).ok()?;
        let subscribe = match request.method.as_str() {
            "resources/subscribe" => true,
            "resources/unsubscribe" => false,
            _ => return None,
        };
        let uri = request.params.as_ref()?.get("uri")?.as_str()?.to_owned();
        let mut filter = self.listen.lock().expect("listen filter lock");
        let list = filter
            .entry("resourceSubscriptions")
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(list) = list {
            list.retain(|u| u.as_str() != Some(&uri));
            if subscribe {
                list.push(uri.into());
            }
        }
        Some(request.id)
    }

    /// The proxy's `subscriptions/listen` request, or `None` when there is nothing the
    /// host would hear of.
    pub fn listen(&self, n: u64) -> Option<Bytes> {
        let filter = self.listen.lock().expect("listen filter lock").clone();
        let wanted = filter.values().any(|v| match v {
            Value::Bool(b) => *b,
            Value::Array(a) => !a.is_empty(),
            _ => false,
        });
        wanted.then(|| {
            let line = json!({
                "jsonrpc": "2.0",
                "id": format!("mcpauth-listen-{n}"),
                "method": "subscriptions/listen",
                "params": {"_meta": self.meta, "notifications": filter},
            });
            Bytes::from(line.to_string())
        })
    }

    /// The proxy's own `server/discover`.
    pub fn discover(&self) -> Bytes {
        let line = json!({
            "jsonrpc": "2.0",
            "id": "mcpauth-bridge-discover",
            "method": "server/discover",
            "params": {"_meta": self.meta},
        });
        Bytes::from(line.to_string())
    }

    /// The answer to the host's `initialize` (id `id`) made from the server's discover
    /// result: its capabilities, identity and instructions, in the host's version.
    pub fn initialized(&self, id: &RawValue, discovered: &Value) -> Bytes {
        let server_info = discovered
            .get("serverInfo")
            .or_else(|| {
                discovered
                    .get("_meta")
                    .and_then(|m| m.get("io.modelcontextprotocol/serverInfo"))
            })
            .cloned()
            .unwrap_or_else(|| json!({"name": "mcp-server", "version": "0"}));
        let mut result = Map::new();
        result.insert("protocolVersion".into(), self.host_version.clone().into());
        result.insert(
            "capabilities".into(),
            discovered.get("capabilities").cloned().unwrap_or(json!({})),
        );
        result.insert("serverInfo".into(), server_info);
        if let Some(instructions) = discovered.get("instructions") {
            result.insert("instructions".into(), instructions.clone());
        }
        let id: Value = serde_json::from_str(id.get()).unwrap_or(Value::Null);
        Bytes::from(json!({"jsonrpc": "2.0", "id": id, "result": result}).to_string())
    }

    /// A host line as the server needs it: requests and notifications with the bridge's
    /// `_meta` added (the host's own `_meta` keys stay); `None` for what the server must
    /// not see (`notifications/initialized`). Anything else goes as it came.
    pub fn rewrite(&self, line: &Bytes) -> Option<Bytes> {
        let Ok(Value::Object(mut message)) = serde_json::from_slice::<Value>(line) else {
            return Some(line.clone());
        };
        match message.get("method").and_then(Value::as_str) {
            None => return Some(line.clone()),
            Some("notifications/initialized") => return None,
            Some(_) => {}
        }
        let params = message
            .entry("params")
            .or_insert_with(|| Value::Object(Map::new()));
        let Value::Object(params) = params else {
            return Some(line.clone());
        };
        let meta = params
            .entry("_meta")
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(meta) = meta {
            for (k, v) in &self.meta {
                meta.entry(k.clone()).or_insert_with(|| v.clone());
            }
        }
        Some(Bytes::from(Value::Object(message).to_string()))
    }
}

/// The result of a response that asks the client for input (`resultType:
/// input_required`), if it is one.
pub fn asks_for_input(message: &[u8]) -> Option<Value> {
    let answer: Value = serde_json::from_slice(message).ok()?;
    let result = answer.get("result")?;
    (result.get("resultType")?.as_str()? == "input_required").then(|| result.clone())
}

/// The questions of an `input_required` result: key, and the request to put to the host.
pub fn questions(result: &Value) -> Vec<(String, Value)> {
    result
        .get("inputRequests")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// A question as a request to the host, under the proxy's id `id`.
pub fn question_line(id: &str, question: &Value) -> Bytes {
    let mut request = json!({"jsonrpc": "2.0", "id": id, "method": question.get("method").cloned().unwrap_or_default()});
    if let Some(params) = question.get("params") {
        request["params"] = params.clone();
    }
    Bytes::from(request.to_string())
}

/// `line` sent again under `id`, with the host's answers and the server's `requestState`.
pub fn with_input(
    line: &[u8],
    id: &str,
    responses: Map<String, Value>,
    held: &Value,
) -> Option<Bytes> {
    let mut request: Map<String, Value> = serde_json::from_slice(line).ok()?;
    request.insert("id".into(), id.into());
    let params = request
        .entry("params")
        .or_insert_with(|| Value::Object(Map::new()))
        .as_object_mut()?;
    params.insert("inputResponses".into(), Value::Object(responses));
    match held.get("requestState") {
        Some(state) => params.insert("requestState".into(), state.clone()),
        None => params.remove("requestState"),
    };
    Some(Bytes::from(Value::Object(request).to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const INIT: &[u8] = br#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{"elicitation":{}},"clientInfo":{"name":"desk","version":"9"}}}"#;

    #[test]
    fn a_modern_refusal_is_told_from_other_errors() {
        assert_eq!(
            modern_refusal(br#"{"jsonrpc":"2.0","id":null,"error":{"code":-32020,"message":"Missing MCP-Protocol-Version header"}}"#),
            Some(MODERN.to_owned())
        );
        assert_eq!(
            modern_refusal(br#"{"jsonrpc":"2.0","id":0,"error":{"code":-32022,"message":"x","data":{"supported":["2026-07-28","2027-01-01"]}}}"#),
            Some("2027-01-01".to_owned())
        );
        assert_eq!(
            modern_refusal(br#"{"jsonrpc":"2.0","id":0,"error":{"code":-32022,"message":"x","data":{"supported":["2099-99-99\u001b[2J"]}}}"#),
            Some(MODERN.to_owned()),
            "what is not a revision is not repeated to the host or the log"
        );
        assert_eq!(
            modern_refusal(br#"{"jsonrpc":"2.0","id":0,"error":{"code":-32601,"message":"Method not found: initialize"}}"#),
            Some(MODERN.to_owned())
        );
        assert_eq!(
            modern_refusal(br#"{"jsonrpc":"2.0","id":0,"error":{"code":-32600,"message":"bad"}}"#),
            None
        );
        assert_eq!(
            modern_refusal(
                br#"{"jsonrpc":"2.0","id":0,"result":{"protocolVersion":"2025-11-25"}}"#
            ),
            None
        );
        assert_eq!(modern_refusal(b"Bad Request"), None);
    }

    #[test]
    fn the_host_is_answered_from_discover_and_its_messages_carry_meta() {
        let bridge = Bridge::new(INIT, MODERN).unwrap();
        let discover: Value = serde_json::from_slice(&bridge.discover()).unwrap();
        assert_eq!(
            discover["params"]["_meta"],
            json!({"io.modelcontextprotocol/protocolVersion": "2026-07-28",
                   "io.modelcontextprotocol/clientInfo": {"name": "desk", "version": "9"},
                   "io.modelcontextprotocol/clientCapabilities": {"elicitation": {}}})
        );
        let id = RawValue::from_string("0".into()).unwrap();
        let answer = bridge.initialized(
            &id,
            &json!({"resultType": "complete", "supportedVersions": ["2026-07-28"],
                    "capabilities": {"tools": {}},
                    "_meta": {"io.modelcontextprotocol/serverInfo": {"name": "s", "version": "1"}},
                    "instructions": "be kind"}),
        );
        let answer: Value = serde_json::from_slice(&answer).unwrap();
        assert_eq!(
            answer,
            json!({"jsonrpc": "2.0", "id": 0, "result": {"protocolVersion": "2025-06-18",
                   "capabilities": {"tools": {}}, "serverInfo": {"name": "s", "version": "1"},
                   "instructions": "be kind"}})
        );
        assert!(
            bridge
                .rewrite(&Bytes::from_static(
                    br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#
                ))
                .is_none()
        );
        let call = bridge
            .rewrite(&Bytes::from_static(
                br#"{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"t","_meta":{"progressToken":1}}}"#,
            ))
            .unwrap();
        let call: Value = serde_json::from_slice(&call).unwrap();
        assert_eq!(call["params"]["_meta"]["progressToken"], 1);
        assert_eq!(
            call["params"]["_meta"]["io.modelcontextprotocol/protocolVersion"],
            "2026-07-28"
        );
        let response = Bytes::from_static(br#"{"jsonrpc":"2.0","id":9,"result":{}}"#);
        assert_eq!(bridge.rewrite(&response), Some(response.clone()));
    }
}
