//! Comments and trailing commas in VS Code's `mcp.json`.
//!
//! VS Code reads its settings files as "JSON with comments", and its own templates put
//! `//` lines in `.vscode/mcp.json`, so a strict parser would reject real files. Rather than
//! a second parser, comments and trailing commas are blanked out with spaces: every other
//! byte keeps its place, so serde_json's line and column still point into the real file.

use std::borrow::Cow;

/// `text` with `//` and `/* */` comments and trailing commas replaced by spaces (newlines
/// inside block comments are kept). Text that has none comes back borrowed.
pub(crate) fn blank_out(text: &str) -> Cow<'_, str> {
    if !text.contains("//") && !text.contains("/*") && !text.contains(',') {
        return Cow::Borrowed(text);
    }
    let bytes = text.as_bytes();
    let mut out = bytes.to_vec();
    let mut i = 0;
    // Position of a comma that may turn out to be trailing, if only blanks followed so far.
    let mut pending_comma: Option<usize> = None;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                pending_comma = None;
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    out[i] = b' ';
                    i += 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                let end = text[i + 2..]
                    .find("*/")
                    .map_or(bytes.len(), |e| i + 2 + e + 2);
                for b in &mut out[i..end] {
                    if *b != b'\n' {
                        *b = b' ';
                    }
                }
                i = end;
            }
            b',' => {
                pending_comma = Some(i);
                i += 1;
            }
            b'}' | b']' => {
                if let Some(at) = pending_comma.take() {
                    out[at] = b' ';
                }
                i += 1;
            }
            b if b.is_ascii_whitespace() => i += 1,
            _ => {
                pending_comma = None;
                i += 1;
            }
        }
    }
    // Only ASCII bytes outside strings were replaced by ASCII spaces, so this stays UTF-8.
    Cow::Owned(String::from_utf8(out).expect("blanking ASCII keeps UTF-8 valid"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_and_trailing_commas_become_spaces() {
        let text = "{\n  // a server\n  \"a\": 1, /* note */\n  \"b\": [1, 2,],\n}\n";
        let blanked = blank_out(text);
        assert_eq!(blanked.len(), text.len());
        let v: serde_json::Value = serde_json::from_str(&blanked).unwrap();
        assert_eq!(v, serde_json::json!({"a": 1, "b": [1, 2]}));
    }

    #[test]
    fn strings_are_left_alone() {
        let text = r#"{"url": "https://x/a//b", "h": "a /* b */ c", "q": "say \"hi,\" }"}"#;
        assert_eq!(blank_out(text), text);
    }

    #[test]
    fn positions_survive_a_block_comment_over_lines() {
        let text = "{ /* one\ntwo */ \"a\": }";
        let err = serde_json::from_str::<serde_json::Value>(&blank_out(text)).unwrap_err();
        assert_eq!((err.line(), err.column()), (2, 13));
    }
}

#[cfg(test)]
mod props {
    use super::*;
    use proptest::prelude::*;
    use serde_json::Value;

    fn json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            // Strings full of what a comment scanner could mistake for syntax.
            proptest::string::string_regex("[a-z/*,\"\\{}\\[\\] \n]{0,12}")
                .unwrap()
                .prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 32, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                proptest::collection::btree_map("[a-z/,*]{1,6}", inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    /// `value` pretty-printed with a comment on every line and a trailing comma after
    /// every last element, as VS Code's files have them. Line ends of pretty JSON are
    /// all outside strings (inside, they are escaped), so this is safe to do by line.
    fn with_comments(value: &Value) -> String {
        let pretty = serde_json::to_string_pretty(value).unwrap();
        let lines: Vec<&str> = pretty.lines().collect();
        let mut out = String::from("// leading comment\n");
        for (i, line) in lines.iter().enumerate() {
            out.push_str(line);
            let next = lines.get(i + 1).map(|l| l.trim_start());
            let closes = next.is_some_and(|n| n.starts_with('}') || n.starts_with(']'));
            if closes && !line.ends_with('{') && !line.ends_with('[') {
                out.push(',');
            }
            out.push_str(" /* note, with a comma */ // and one more\n");
        }
        out
    }

    proptest! {
        #![proptest_config(crate::props::config(256))]

        #[test]
        fn any_text_is_blanked_without_panicking_and_keeps_its_length(text in any::<String>()) {
            let out = blank_out(&text);
            prop_assert_eq!(out.len(), text.len());
            let again = blank_out(&out).into_owned();
            prop_assert_eq!(again, out.into_owned(), "blanking twice changes nothing");
        }

        #[test]
        fn json_with_comments_and_trailing_commas_reads_as_the_json(value in json()) {
            let text = with_comments(&value);
            let blanked = blank_out(&text);
            let read: Value = serde_json::from_str(&blanked)
                .map_err(|e| TestCaseError::fail(format!("{e} in {text}")))?;
            prop_assert_eq!(read, value);
        }
    }
}
