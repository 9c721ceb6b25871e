//! What a request says in its headers besides its body (SEP-2243, 2026-07-28): `Mcp-Method`,
//! `Mcp-Name`, and `Mcp-Param-{Name}` for the tool arguments a tool's input schema marks
//! with `x-mcp-header`. A stdio host knows nothing of HTTP, so the proxy does this for it:
//! it learns the marks from each `tools/list` answer and mirrors the arguments of each
//! `tools/call`. A tool whose marks break the rules is not offered to the host at all,
//! since a client must not call it.

use std::collections::{HashMap, HashSet};

use base64::Engine as _;
use bytes::Bytes;
use reqwest::header::{HeaderName, HeaderValue};
use serde_json::Value;

const MARK: &str = "x-mcp-header";

/// A value as a header carries it: as it is when it is printable ASCII without spaces at
/// either end, else (or when it looks like an encoded value itself) `=?base64?…?=` of its
/// UTF-8 bytes.
pub fn encoded(value: &str) -> HeaderValue {
    let plain = value.bytes().all(|b| (0x20..=0x7e).contains(&b))
        && value.trim_matches([' ', '\t']) == value
        && !(value.starts_with("=?base64?") && value.ends_with("?="));
    let text = if plain {
        value.to_owned()
    } else {
        format!(
            "=?base64?{}?=",
            base64::engine::general_purpose::STANDARD.encode(value)
        )
    };
    HeaderValue::from_str(&text).expect("printable ASCII is a valid header value")
}

/// One argument a tool mirrors: where it sits in `arguments`, and its header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mirror {
    path: Vec<String>,
    header: HeaderName,
}

/// Tool name → the arguments it mirrors.
pub type Mirrors = HashMap<String, Vec<Mirror>>;

/// Reads the tools of a `tools/list` result: what each mirrors, and the names of the tools
/// whose marks are invalid (on a non-primitive or unreachable property, not an HTTP token,
/// or twice the same name).
pub fn scan(result: &Value) -> (Mirrors, Vec<String>) {
    let mut mirrors = Mirrors::new();
    let mut invalid = Vec::new();
    for tool in result
        .get("tools")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let Some(name) = tool.get("name").and_then(Value::as_str) else {
            continue;
        };
        let schema = tool.get("inputSchema").unwrap_or(&Value::Null);
        let mut found = Vec::new();
        if walk(schema, &mut Vec::new(), &mut found) && unique(&found) {
            if !found.is_empty() {
                mirrors.insert(name.to_owned(), found);
            }
        } else {
            invalid.push(name.to_owned());
        }
    }
    (mirrors, invalid)
}

/// Collects the marks reachable from `schema` through `properties` alone; false when a
/// mark is anywhere else or invalid.
fn walk(schema: &Value, path: &mut Vec<String>, found: &mut Vec<Mirror>) -> bool {
    let Some(obj) = schema.as_object() else {
        return true;
    };
    for (key, sub) in obj {
        if key == "properties" {
            let Some(props) = sub.as_object() else {
                return !has_mark(sub);
            };
            for (prop, prop_schema) in props {
                path.push(prop.clone());
                if let Some(mark) = prop_schema.get(MARK) {
                    match mirror(mark, prop_schema, path) {
                        Some(m) => found.push(m),
                        None => return false,
                    }
                }
                let ok = walk(prop_schema, path, found);
                path.pop();
                if !ok {
                    return false;
                }
            }
        } else if key != MARK && has_mark(sub) {
            // Under `items`, `anyOf`, `$defs`, `if` ...: not statically reachable.
            return false;
        }
    }
    // A mark on the schema itself (the root, or an object) names no argument.
    !(path.is_empty() && obj.contains_key(MARK))
}

fn has_mark(value: &Value) -> bool {
    match value {
        Value::Object(map) => map.contains_key(MARK) || map.values().any(has_mark),
        Value::Array(items) => items.iter().any(has_mark),
        _ => false,
    }
}

/// The mirror for a property marked `mark`, if the mark and the property's type allow it.
fn mirror(mark: &Value, schema: &Value, path: &[String]) -> Option<Mirror> {
    let name = mark.as_str()?;
    let token = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
    let primitive = |t: &str| matches!(t, "string" | "integer" | "boolean");
    let typed = match schema.get("type")? {
        Value::String(t) => primitive(t),
        // `["string", "null"]`: an optional argument of one primitive type.
        Value::Array(types) => {
            let named: Vec<&str> = types
                .iter()
                .filter_map(Value::as_str)
                .filter(|t| *t != "null")
                .collect();
            named.len() == 1 && primitive(named[0]) && named.len() + 1 >= types.len()
        }
        _ => false,
    };
    (token && typed).then(|| Mirror {
        path: path.to_vec(),
        header: HeaderName::from_bytes(format!("mcp-param-{name}").as_bytes())
            .expect("a token makes a header name"),
    })
}

fn unique(found: &[Mirror]) -> bool {
    let mut seen = HashSet::new();
    found.iter().all(|m| seen.insert(m.header.clone()))
}

/// The headers for a `tools/call` with `arguments`: one per mirrored argument that is
/// there and not null.
pub fn params(mirrors: &[Mirror], arguments: &Value) -> Vec<(HeaderName, HeaderValue)> {
    mirrors
        .iter()
        .filter_map(|m| {
            let value = m.path.iter().try_fold(arguments, |v, key| v.get(key))?;
            let text = match value {
                Value::String(s) => return Some((m.header.clone(), encoded(s))),
                Value::Bool(b) => b.to_string(),
                Value::Number(n) => match (n.as_i64(), n.as_f64()) {
                    (Some(i), _) => i.to_string(),
                    // 42.0 is the integer 42.
                    (None, Some(f)) if f.fract() == 0.0 && f.abs() < 9_007_199_254_740_992.0 => {
                        format!("{f:.0}")
                    }
                    _ => n.to_string(),
                },
                _ => return None,
            };
            Some((m.header.clone(), encoded(&text)))
        })
        .collect()
}

/// A `tools/list` answer without the tools named in `drop`; `None` when it is not one.
pub fn without(message: &[u8], drop: &[String]) -> Option<Bytes> {
    let mut answer: Value = serde_json::from_slice(message).ok()?;
    let tools = answer.get_mut("result")?.get_mut("tools")?.as_array_mut()?;
    tools.retain(|t| {
        t.get("name")
            .and_then(Value::as_str)
            .is_none_or(|n| !drop.iter().any(|d| d == n))
    });
    serde_json::to_vec(&answer).ok().map(Bytes::from)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn values_are_sent_as_they_are_only_when_plain() {
        let cases = [
            ("get_weather", "get_weather"),
            ("file:///a b.txt", "file:///a b.txt"),
            ("wetter-zürich", "=?base64?d2V0dGVyLXrDvHJpY2g=?="),
            (" padded", "=?base64?IHBhZGRlZA==?="),
            ("line\r\nbreak", "=?base64?bGluZQ0KYnJlYWs=?="),
            ("=?base64?literal?=", "=?base64?PT9iYXNlNjQ/bGl0ZXJhbD89?="),
            ("", ""),
        ];
        for (value, sent) in cases {
            assert_eq!(encoded(value), sent, "{value:?}");
        }
    }

    #[test]
    fn marks_are_read_where_they_may_be_and_bad_ones_drop_the_tool() {
        let result = json!({"tools": [
            {"name": "sql", "inputSchema": {"type": "object", "properties": {
                "region": {"type": "string", "x-mcp-header": "Region"},
                "query": {"type": "string"},
                "options": {"type": "object", "properties": {
                    "limit": {"type": "integer", "x-mcp-header": "Limit"},
                    "dry": {"type": ["boolean", "null"], "x-mcp-header": "Dry"}}}}}},
            {"name": "plain", "inputSchema": {"type": "object", "properties": {"a": {"type": "string"}}}},
            {"name": "number", "inputSchema": {"properties": {"n": {"type": "number", "x-mcp-header": "N"}}}},
            {"name": "object", "inputSchema": {"properties": {"o": {"type": "object", "x-mcp-header": "O"}}}},
            {"name": "untyped", "inputSchema": {"properties": {"u": {"x-mcp-header": "U"}}}},
            {"name": "space", "inputSchema": {"properties": {"s": {"type": "string", "x-mcp-header": "Has Space"}}}},
            {"name": "twice", "inputSchema": {"properties": {
                "a": {"type": "string", "x-mcp-header": "Same"},
                "b": {"type": "string", "x-mcp-header": "same"}}}},
            {"name": "in-items", "inputSchema": {"properties": {"list": {"type": "array",
                "items": {"type": "object", "properties": {"x": {"type": "string", "x-mcp-header": "X"}}}}}}},
            {"name": "in-anyof", "inputSchema": {"anyOf": [{"properties": {"x": {"type": "string", "x-mcp-header": "X"}}}]}},
            {"name": "on-root", "inputSchema": {"type": "object", "x-mcp-header": "Root"}},
        ]});
        let (mirrors, mut invalid) = scan(&result);
        invalid.sort();
        assert_eq!(
            invalid,
            [
                "in-anyof", "in-items", "number", "object", "on-root", "space", "twice", "untyped"
            ]
        );
        assert_eq!(mirrors.len(), 1, "{mirrors:?}");
        let sent = params(
            &mirrors["sql"],
            &json!({"region": "eu-west", "query": "select", "options": {"limit": 42.0, "dry": null}}),
        );
        let sent: Vec<(String, String)> = sent
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap().to_owned()))
            .collect();
        assert_eq!(
            sent,
            [
                ("mcp-param-region".to_owned(), "eu-west".to_owned()),
                ("mcp-param-limit".to_owned(), "42".to_owned()),
            ],
            "a null argument sends no header"
        );
        let flags = params(&mirrors["sql"], &json!({"options": {"dry": true}}));
        assert_eq!(flags.len(), 1);
        assert_eq!(flags[0].1, "true");
    }

    #[test]
    fn an_answer_loses_only_the_dropped_tools() {
        let answer = br#"{"jsonrpc":"2.0","id":3,"result":{"tools":[{"name":"a"},{"name":"bad"},{"name":"c"}],"nextCursor":"x"}}"#;
        let out = without(answer, &["bad".to_owned()]).unwrap();
        let out: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(
            out,
            json!({"jsonrpc": "2.0", "id": 3, "result": {"tools": [{"name": "a"}, {"name": "c"}], "nextCursor": "x"}})
        );
        assert!(without(br#"{"jsonrpc":"2.0","id":3,"error":{}}"#, &[]).is_none());
    }
}
