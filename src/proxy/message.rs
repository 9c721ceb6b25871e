//! Looking into JSON-RPC lines without owning them.
//!
//! The proxy forwards every message as the exact bytes it received. To route a message it
//! needs only a few fields (`id`, `method`, `params.name` / `params.uri`, the
//! initialize result's `protocolVersion`), which are read here through borrowed
//! [`RawValue`]s, so nothing is re-serialized and unknown fields, number spellings and
//! key order are untouched. The one thing this module writes is the proxy's own JSON-RPC
//! error answer, which embeds the request's `id` verbatim.

use serde::Deserialize;
use serde_json::value::RawValue;

/// What one line (an object or a batch) is, as far as routing cares.
#[derive(Debug)]
pub struct Peek<'a> {
    /// The `method` of the first (or only) message.
    pub method: Option<String>,
    /// The ids of the requests in this line: the ones that expect an answer.
    pub request_ids: Vec<&'a RawValue>,
    /// The ids this line answers (responses), used to match server answers.
    pub response_ids: Vec<&'a RawValue>,
    /// `params.name`, else `params.uri`, of the first message.
    pub name: Option<String>,
    /// `params.arguments` of the first message.
    pub arguments: Option<&'a RawValue>,
    /// A protocol version named in `params._meta` of the first message.
    pub meta_version: Option<String>,
    /// `params._meta` of the first message, as written.
    pub meta: Option<&'a RawValue>,
    /// `result.protocolVersion`: present on an initialize answer.
    pub result_version: Option<String>,
    /// The line is a JSON array.
    pub batch: bool,
    /// The line did not parse as JSON-RPC; it is forwarded as it is anyway.
    pub opaque: bool,
    /// Some message in the line has a `jsonrpc` member: it is JSON-RPC, not some other
    /// JSON a server put in a body (`{}`, `"Accepted"`).
    pub jsonrpc: bool,
}

#[derive(Deserialize)]
struct RawMessage<'a> {
    #[serde(borrow, default)]
    jsonrpc: Option<&'a RawValue>,
    #[serde(borrow, default)]
    id: Option<&'a RawValue>,
    #[serde(borrow, default)]
    method: Option<&'a RawValue>,
    #[serde(borrow, default)]
    params: Option<&'a RawValue>,
    #[serde(borrow, default)]
    result: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct RawParams<'a> {
    #[serde(borrow, default)]
    name: Option<&'a RawValue>,
    #[serde(borrow, default)]
    uri: Option<&'a RawValue>,
    #[serde(borrow, default)]
    arguments: Option<&'a RawValue>,
    #[serde(borrow, default, rename = "_meta")]
    meta: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct RawResult<'a> {
    #[serde(borrow, default, rename = "protocolVersion")]
    protocol_version: Option<&'a RawValue>,
}

impl<'a> Peek<'a> {
    /// Reads the routing fields of `line`; never fails: a line that is not JSON-RPC is
    /// marked `opaque` and still forwarded.
    pub fn of(line: &'a [u8]) -> Self {
        let mut peek = Peek {
            method: None,
            request_ids: Vec::new(),
            response_ids: Vec::new(),
            name: None,
            arguments: None,
            meta_version: None,
            meta: None,
            result_version: None,
            batch: false,
            opaque: false,
            jsonrpc: false,
        };
        let first = line.iter().find(|b| !b.is_ascii_whitespace());
        if first == Some(&b'[') {
            peek.batch = true;
            match serde_json::from_slice::<Vec<RawMessage<'a>>>(line) {
                Ok(messages) => {
                    for (i, m) in messages.into_iter().enumerate() {
                        peek.add(m, i == 0);
                    }
                }
                Err(_) => peek.opaque = true,
            }
        } else {
            match serde_json::from_slice::<RawMessage<'a>>(line) {
                Ok(m) => peek.add(m, true),
                Err(_) => peek.opaque = true,
            }
        }
        peek
    }

    fn add(&mut self, m: RawMessage<'a>, first: bool) {
        self.jsonrpc |= m.jsonrpc.is_some();
        let method = m.method.and_then(as_str);
        // A null id is no id: nothing can be matched against it.
        let id = m.id.filter(|id| id.get() != "null");
        match (&method, id) {
            (Some(_), Some(id)) => self.request_ids.push(id),
            (None, Some(id)) => self.response_ids.push(id),
            _ => {}
        }
        if !first {
            return;
        }
        if let Some(params) = m.params
            && let Ok(p) = serde_json::from_str::<RawParams>(params.get())
        {
            self.name = p.name.and_then(as_str).or_else(|| p.uri.and_then(as_str));
            self.arguments = p.arguments;
            self.meta_version = p.meta.and_then(meta_version);
            self.meta = p.meta;
        }
        if let Some(result) = m.result
            && let Ok(r) = serde_json::from_str::<RawResult>(result.get())
        {
            self.result_version = r.protocol_version.and_then(as_str);
        }
        self.method = method;
    }

    pub fn method_is(&self, name: &str) -> bool {
        self.method.as_deref() == Some(name)
    }
}

fn as_str(raw: &RawValue) -> Option<String> {
    serde_json::from_str::<String>(raw.get()).ok()
}

/// The protocol version a message names in its `_meta` (2026-07-28 carries it per
/// request). Any key ending in `protocolVersion` counts, so a vendor prefix does not
/// matter.
fn meta_version(meta: &RawValue) -> Option<String> {
    let map: serde_json::Map<String, serde_json::Value> = serde_json::from_str(meta.get()).ok()?;
    map.iter()
        .find(|(k, _)| k.ends_with("protocolVersion"))
        .and_then(|(_, v)| v.as_str().map(str::to_owned))
}

/// A comparable form of an id: `1`, `1.0` and ` 1` from two peers must match, and
/// strings compare by value, not by escape spelling.
pub fn id_key(id: &RawValue) -> String {
    match serde_json::from_str::<serde_json::Value>(id.get()) {
        Ok(serde_json::Value::Number(n)) => match n.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => format!("{}", f as i64),
            _ => n.to_string(),
        },
        Ok(v) => v.to_string(),
        Err(_) => id.get().trim().to_owned(),
    }
}

/// A line from the host that is not JSON (RFC 8259 JSON is UTF-8 text): no server can
/// make sense of it, so the proxy answers it itself rather than forwarding it.
#[derive(Debug)]
pub struct NotJson {
    /// Where reading stopped, for the log; never the content, which may hold a secret.
    pub reason: String,
    /// The id the line seems to carry, so the request it was meant to be gets an answer.
    pub id: Option<Box<RawValue>>,
}

/// JSON-RPC's code for a message that does not parse.
pub const PARSE_ERROR: i64 = -32700;

/// `Ok` for any JSON value (JSON-RPC or not: those are forwarded as they are), else why
/// not and the id a person would read in it.
pub fn check_json(line: &[u8]) -> Result<(), NotJson> {
    // First: skipping a string does not check its bytes, so serde alone lets bad UTF-8
    // inside strings through.
    let reason = match std::str::from_utf8(line) {
        Err(u) => format!("not UTF-8 (at byte {})", u.valid_up_to()),
        Ok(text) => match serde_json::from_str::<serde::de::IgnoredAny>(text) {
            Ok(_) => return Ok(()),
            Err(e) => format!("not JSON (at line {}, column {})", e.line(), e.column()),
        },
    };
    Err(NotJson {
        reason,
        id: salvage_id(line),
    })
}

/// The id of a message that does not parse: read properly when only its bytes are
/// wrong (invalid UTF-8 in a string), else the value after the first `"id":` when that
/// is a string or a number.
fn salvage_id(line: &[u8]) -> Option<Box<RawValue>> {
    let text = String::from_utf8_lossy(line);
    // A string or a number, and not one whose bytes were replaced above: the host would
    // not know that id.
    let usable = |id: &RawValue| {
        let v = id.get().trim_start();
        (v.starts_with(['"', '-']) || v.starts_with(|c: char| c.is_ascii_digit()))
            && !v.contains(char::REPLACEMENT_CHARACTER)
    };
    if let Ok(m) = serde_json::from_str::<RawMessage>(&text) {
        return m.id.filter(|id| usable(id)).map(RawValue::to_owned);
    }
    let mut rest: &str = &text;
    while let Some(at) = rest.find("\"id\"") {
        rest = &rest[at + 4..];
        let Some(value) = rest.trim_start().strip_prefix(':') else {
            continue;
        };
        let found = serde_json::Deserializer::from_str(value.trim_start())
            .into_iter::<Box<RawValue>>()
            .next();
        if let Some(Ok(id)) = found
            && usable(&id)
        {
            return Some(id);
        }
    }
    None
}

/// The JSON-RPC error answer the proxy writes itself, with the request's id copied byte
/// for byte.
pub fn error_response(id: &RawValue, code: i64, message: &str) -> Vec<u8> {
    let message = serde_json::to_string(message).unwrap_or_else(|_| "\"error\"".to_owned());
    format!(
        "{{\"jsonrpc\":\"2.0\",\"id\":{},\"error\":{{\"code\":{code},\"message\":{message}}}}}",
        id.get()
    )
    .into_bytes()
}

/// The `error.code` of a JSON-RPC error message.
pub fn error_code(body: &[u8]) -> Option<i64> {
    #[derive(Deserialize)]
    struct Code {
        code: i64,
    }
    #[derive(Deserialize)]
    struct ErrorMessage {
        error: Code,
    }
    serde_json::from_slice::<ErrorMessage>(body)
        .ok()
        .map(|m| m.error.code)
}

/// The `error` member of `body` when it is one JSON-RPC error that names no request (its
/// `id` null or missing), as servers answer a request they refused before reading it.
pub fn unrouted_error(body: &[u8]) -> Option<&RawValue> {
    #[derive(Deserialize)]
    struct ErrorMessage<'a> {
        #[serde(borrow)]
        jsonrpc: &'a RawValue,
        #[serde(borrow, default)]
        id: Option<&'a RawValue>,
        #[serde(borrow)]
        error: &'a RawValue,
    }
    let m: ErrorMessage<'_> = serde_json::from_slice(body).ok()?;
    let _ = m.jsonrpc;
    let unrouted = m.id.is_none_or(|id| id.get() == "null");
    (unrouted && m.error.get().starts_with('{')).then_some(m.error)
}

/// An error answer to `id` carrying `error` (a JSON object) byte for byte.
pub fn error_with_id(id: &RawValue, error: &RawValue) -> Vec<u8> {
    format!(
        "{{\"jsonrpc\":\"2.0\",\"id\":{},\"error\":{}}}",
        id.get(),
        error.get()
    )
    .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_for_no_request_is_found_and_readdressed_as_it_came() {
        let body = br#"{"jsonrpc":"2.0","error":{"code":-32000,"message":"Bad Request: Server not initialized","data":{"x":1.50}},"id":null}"#;
        let error = unrouted_error(body).expect("an unrouted error");
        let id: Box<RawValue> = serde_json::from_str("7").unwrap();
        assert_eq!(
            std::str::from_utf8(&error_with_id(&id, error)).unwrap(),
            r#"{"jsonrpc":"2.0","id":7,"error":{"code":-32000,"message":"Bad Request: Server not initialized","data":{"x":1.50}}}"#
        );
        assert!(unrouted_error(br#"{"jsonrpc":"2.0","error":{"code":1,"message":"m"}}"#).is_some());
        // An answer to some request, a result, no JSON-RPC, an error that is no object.
        for other in [
            &br#"{"jsonrpc":"2.0","id":3,"error":{"code":1,"message":"m"}}"#[..],
            br#"{"jsonrpc":"2.0","id":null,"result":{}}"#,
            br#"{"error":{"code":1,"message":"m"},"id":null}"#,
            br#"{"jsonrpc":"2.0","id":null,"error":"nope"}"#,
            b"Bad Request",
        ] {
            assert!(
                unrouted_error(other).is_none(),
                "{}",
                String::from_utf8_lossy(other)
            );
        }
    }

    #[test]
    fn reads_request_fields_without_touching_the_rest() {
        let line = br#"{"jsonrpc":"2.0","id":"a\u0062","method":"tools/call","params":{"name":"echo","arguments":{"x":1e400},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}},"extra":[1.0]}"#;
        let p = Peek::of(line);
        assert!(!p.opaque);
        assert_eq!(p.method.as_deref(), Some("tools/call"));
        assert_eq!(p.request_ids.len(), 1);
        assert_eq!(p.request_ids[0].get(), r#""a\u0062""#);
        assert_eq!(id_key(p.request_ids[0]), "\"ab\"");
        assert_eq!(p.name.as_deref(), Some("echo"));
        assert_eq!(p.meta_version.as_deref(), Some("2026-07-28"));
    }

    #[test]
    fn batches_collect_every_id() {
        let line = br#"[{"jsonrpc":"2.0","id":1,"method":"a"},{"jsonrpc":"2.0","method":"n"},{"jsonrpc":"2.0","id":7,"result":{}}]"#;
        let p = Peek::of(line);
        assert!(p.batch);
        assert_eq!(p.request_ids.len(), 1);
        assert_eq!(p.response_ids.len(), 1);
        assert_eq!(id_key(p.response_ids[0]), "7");
    }

    #[test]
    fn initialize_answer_gives_the_version() {
        let p = Peek::of(br#"{"jsonrpc":"2.0","id":0,"result":{"protocolVersion":"2025-11-25"}}"#);
        assert_eq!(p.result_version.as_deref(), Some("2025-11-25"));
        assert_eq!(p.response_ids.len(), 1);
    }

    #[test]
    fn odd_fields_do_not_break_the_peek() {
        // A method whose params.name is not a string is still routed.
        let p = Peek::of(br#"{"jsonrpc":"2.0","id":2,"method":"x/y","params":{"name":{"a":1}}}"#);
        assert!(!p.opaque);
        assert!(p.name.is_none());
        assert_eq!(p.request_ids.len(), 1);
        assert!(p.jsonrpc);
        let p = Peek::of(b"not json");
        assert!(p.opaque);
        assert!(!p.jsonrpc);
        assert!(!Peek::of(b"{}").jsonrpc);
        assert!(!Peek::of(b"\"Accepted\"").jsonrpc);
        assert!(p.request_ids.is_empty());
    }

    #[test]
    fn numeric_ids_match_across_spellings() {
        let a: Box<RawValue> = serde_json::from_str("1.0").unwrap();
        let b: Box<RawValue> = serde_json::from_str("1").unwrap();
        assert_eq!(id_key(&a), id_key(&b));
        let big: Box<RawValue> = serde_json::from_str("123456789012345678901234567890").unwrap();
        assert_eq!(id_key(&big), "1.2345678901234568e+29");
    }

    #[test]
    fn lines_that_are_not_json_are_told_with_the_id_they_carry() {
        let id = |line: &[u8]| check_json(line).unwrap_err().id.map(|i| i.get().to_owned());
        // Valid but for one byte: read properly, id and all.
        assert_eq!(
            id(b"{\"jsonrpc\":\"2.0\",\"id\":\"a\xffb\",\"method\":\"x\",\"params\":{\"s\":\"\xfe\"}}").as_deref(),
            None,
            "an id that is itself broken is no id"
        );
        assert_eq!(
            id(b"{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"x\",\"params\":{\"s\":\"\xfe\"}}")
                .as_deref(),
            Some("7")
        );
        // Broken JSON: the value after the first `"id":`.
        assert_eq!(
            id(br#"{"jsonrpc":"2.0", "id" : "r-1", "method":"tools/call", "params":{"#).as_deref(),
            Some(r#""r-1""#)
        );
        assert_eq!(id(br#"{"id":12,"method":}"#).as_deref(), Some("12"));
        assert_eq!(id(br#"{"id":null,"method":}"#), None);
        assert_eq!(id(b"garbage"), None);
        assert_eq!(id(b"\xff\xfe"), None);
        assert!(check_json(b"{}").is_ok());
        assert!(check_json(b"42").is_ok());
        let e = check_json(br#"{"token":"sekret"#).unwrap_err();
        assert!(!e.reason.contains("sekret"), "{}", e.reason);
    }

    #[test]
    fn error_response_keeps_the_id_bytes() {
        let id: Box<RawValue> = serde_json::from_str(r#""x\"y""#).unwrap();
        let out = error_response(&id, -32001, "not signed in to `a`: run \"x\"");
        assert_eq!(
            std::str::from_utf8(&out).unwrap(),
            r#"{"jsonrpc":"2.0","id":"x\"y","error":{"code":-32001,"message":"not signed in to `a`: run \"x\""}}"#
        );
    }
}

#[cfg(test)]
mod props {
    use super::*;
    use proptest::prelude::*;
    use serde_json::{Value, json};

    fn id() -> impl Strategy<Value = Value> {
        prop_oneof![
            any::<i64>().prop_map(Value::from),
            "[a-zA-Z0-9 _\"\\\\-]{0,10}".prop_map(Value::from),
        ]
    }

    fn params() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(Value::from),
            any::<String>().prop_map(Value::from),
        ];
        leaf.prop_recursive(3, 16, 3, |inner| {
            proptest::collection::btree_map("[a-z_]{1,5}", inner, 0..3)
                .prop_map(|m| Value::Object(m.into_iter().collect()))
        })
    }

    proptest! {
        #![proptest_config(crate::props::config(512))]

        #[test]
        fn any_line_is_peeked_and_checked_without_panicking(line in proptest::collection::vec(any::<u8>(), 0..200), text in any::<String>()) {
            let _ = Peek::of(&line);
            let _ = check_json(&line);
            let _ = Peek::of(text.as_bytes());
            let _ = check_json(text.as_bytes());
        }

        #[test]
        fn requests_and_answers_are_routed_by_their_id(id in id(), method in "[a-z/]{1,12}", params in params(), answer in any::<bool>()) {
            // The id first, as hosts write it, so cut lines below still show it.
            let message = if answer {
                json!({"jsonrpc": "2.0", "id": id, "result": params})
            } else {
                json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})
            };
            let line = serde_json::to_vec(&message).unwrap();
            let peek = Peek::of(&line);
            prop_assert!(!peek.opaque && peek.jsonrpc);
            let ids = if answer { &peek.response_ids } else { &peek.request_ids };
            prop_assert_eq!(ids.len(), 1);
            let want: Box<RawValue> = serde_json::from_value(id.clone()).unwrap();
            prop_assert_eq!(id_key(ids[0]), id_key(&want));
            if !answer {
                prop_assert_eq!(peek.method.as_deref(), Some(method.as_str()));
            }
            prop_assert!(check_json(&line).is_ok());

            // Cut anywhere, the line is not JSON; once the cut is past the id, the id
            // is still found for the parse error.
            let id_text = serde_json::to_string(&id).unwrap();
            let id_end = line.windows(id_text.len()).position(|w| w == id_text.as_bytes()).unwrap() + id_text.len();
            for cut in [line.len() - 1, line.len() / 2, id_end + 1] {
                if cut >= line.len() {
                    continue;
                }
                let bad = check_json(&line[..cut]).unwrap_err();
                if cut > id_end {
                    let found = bad.id.map(|i| id_key(&i));
                    prop_assert_eq!(found, Some(id_key(&want)));
                }
            }
        }
    }
}
