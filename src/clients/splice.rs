//! Finding one server entry in a config file's text, so that a change replaces exactly
//! that entry's bytes and nothing else: comments, key order, number spellings and the
//! layout of every other entry stay as the person (or the client) wrote them.
//!
//! The finders only locate; [`super::document`] checks every splice by reading the result
//! back, so a finder that is wrong for some odd file makes install refuse, not corrupt.

use std::ops::Range;

/// The bytes of `root[key][name]`'s value in a JSON text whose comments and trailing
/// commas were blanked out (see `config::jsonc`), so that offsets match the real file.
/// With a key written twice, the last one counts, as it does for the parser.
pub fn json_value(blank: &str, key: &str, name: &str) -> Option<Range<usize>> {
    let b = blank.as_bytes();
    let bom = if blank.starts_with('\u{feff}') { 3 } else { 0 };
    let root = skip_ws(b, bom);
    let table = member(blank, root, key)?;
    member(blank, table.start, name)
}

/// The value of member `wanted` of the object that starts at `at`.
fn member(text: &str, at: usize, wanted: &str) -> Option<Range<usize>> {
    let b = text.as_bytes();
    if b.get(at) != Some(&b'{') {
        return None;
    }
    let mut i = skip_ws(b, at + 1);
    let mut found = None;
    while b.get(i) == Some(&b'"') {
        let key_end = string_end(b, i)?;
        let key: String = serde_json::from_str(&text[i..key_end]).ok()?;
        i = skip_ws(b, key_end);
        if b.get(i) != Some(&b':') {
            return None;
        }
        let start = skip_ws(b, i + 1);
        let end = value_end(b, start)?;
        if key == wanted {
            found = Some(start..end);
        }
        i = skip_ws(b, end);
        match b.get(i) {
            Some(b',') => i = skip_ws(b, i + 1),
            Some(b'}') => return found,
            _ => return None,
        }
    }
    (b.get(i) == Some(&b'}')).then_some(found).flatten()
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while b.get(i).is_some_and(u8::is_ascii_whitespace) {
        i += 1;
    }
    i
}

/// Just past the closing quote of the string that starts at `i`.
fn string_end(b: &[u8], mut i: usize) -> Option<usize> {
    i += 1;
    loop {
        match b.get(i)? {
            b'"' => return Some(i + 1),
            b'\\' => i += 2,
            _ => i += 1,
        }
    }
}

/// Just past the value that starts at `i`.
fn value_end(b: &[u8], i: usize) -> Option<usize> {
    match b.get(i)? {
        b'"' => string_end(b, i),
        open @ (b'{' | b'[') => {
            let close = if *open == b'{' { b'}' } else { b']' };
            let mut j = skip_ws(b, i + 1);
            if b.get(j) == Some(&close) {
                return Some(j + 1);
            }
            loop {
                if *open == b'{' {
                    j = skip_ws(b, string_end(b, j)?);
                    if b.get(j) != Some(&b':') {
                        return None;
                    }
                    j = skip_ws(b, j + 1);
                }
                j = skip_ws(b, value_end(b, j)?);
                match b.get(j)? {
                    b',' => j = skip_ws(b, j + 1),
                    c if *c == close => return Some(j + 1),
                    _ => return None,
                }
            }
        }
        _ => {
            let mut j = i;
            while b
                .get(j)
                .is_some_and(|c| !matches!(c, b',' | b']' | b'}') && !c.is_ascii_whitespace())
            {
                j += 1;
            }
            (j > i).then_some(j)
        }
    }
}

/// One entry of a block-style YAML mapping under a top-level key: the lines it spans
/// (its key line and everything indented deeper, up to its last non-blank line), the
/// indentation of its key, and the key as written (quotes kept).
pub struct YamlEntry {
    pub lines: Range<usize>,
    pub indent: usize,
    pub key: String,
}

/// `name` under the top-level block mapping `key` (`extensions:` in Goose's file).
pub fn yaml_entry(text: &str, key: &str, name: &str) -> Option<YamlEntry> {
    // Byte offset of each line's start, and the line without its ending.
    let mut lines = Vec::new();
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        lines.push((at, line.trim_end_matches(['\n', '\r'])));
        at += line.len();
    }
    let indent_of = |l: &str| l.len() - l.trim_start_matches(' ').len();
    let meaningful = |l: &str| !l.trim().is_empty() && !l.trim_start().starts_with('#');
    let top = lines
        .iter()
        .position(|(_, l)| yaml_key(l).is_some_and(|k| k == key) && indent_of(l) == 0)?;
    let mut found = None;
    let mut child_indent = None;
    let mut i = top + 1;
    while i < lines.len() {
        let line = lines[i].1;
        if !meaningful(line) {
            i += 1;
            continue;
        }
        let indent = indent_of(line);
        if indent == 0 {
            break;
        }
        let child = *child_indent.get_or_insert(indent);
        if indent != child {
            return None;
        }
        // The entry runs to its last meaningful line indented deeper than its key.
        let mut last = i;
        let mut j = i + 1;
        while j < lines.len() {
            let next = lines[j].1;
            if !next.trim().is_empty() {
                if indent_of(next) <= child {
                    break;
                }
                last = j;
            }
            j += 1;
        }
        let written = yaml_key(line)?;
        if written == name {
            let end = lines.get(last + 1).map_or(text.len(), |(start, _)| *start);
            let key_text = line.trim_start().split(':').next().unwrap_or_default();
            found = Some(YamlEntry {
                lines: lines[i].0..end,
                indent: child,
                key: key_text.to_owned(),
            });
        }
        i = j;
    }
    found
}

/// The key of a `key:` or `key: value` line, unquoted; `None` for anything else.
fn yaml_key(line: &str) -> Option<String> {
    let body = line.trim_start();
    let (key, rest) = if let Some(quote @ ('"' | '\'')) = body.chars().next() {
        let close = body[1..].find(quote)? + 1;
        let key: String = yaml_serde::from_str(&body[..=close]).ok()?;
        (key, &body[close + 1..])
    } else {
        let colon = body.find(':')?;
        (body[..colon].trim_end().to_owned(), &body[colon..])
    };
    (rest.starts_with(':') && (rest.len() == 1 || rest[1..].starts_with([' ', '\t'])))
        .then_some(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_finds_the_entry_wherever_it_is_written() {
        let text = r#"{
  // comment with "quotes" and {braces}
  "a": [1, {"x": "}"}],
  "mcpServers": {
    "one": {"url": "https://a/"} ,
    "two": {
      "command": "x", "args": ["y\"z"]
    },
    "one": 3
  }
}"#;
        let blank = crate::config::blank_comments(text);
        let span = json_value(&blank, "mcpServers", "two").unwrap();
        assert_eq!(
            &text[span],
            "{\n      \"command\": \"x\", \"args\": [\"y\\\"z\"]\n    }"
        );
        let span = json_value(&blank, "mcpServers", "one").unwrap();
        assert_eq!(&text[span], "3", "the last of a repeated key");
        assert!(json_value(&blank, "mcpServers", "three").is_none());
        assert!(json_value(&blank, "servers", "one").is_none());
        assert!(json_value("[1]", "mcpServers", "one").is_none());
        assert!(json_value("{\"mcpServers\": {\"one\": ", "mcpServers", "one").is_none());
    }

    #[test]
    fn yaml_finds_an_entry_block() {
        let text = "GOOSE_MODEL: x\nextensions:\n  developer:\n    enabled: true\n    type: builtin\n\n  'git hub':\n    type: sse\n    args:\n    - a\n    # note\n\n  last: {type: sse}\nother: 1\n";
        let e = yaml_entry(text, "extensions", "git hub").unwrap();
        assert_eq!(
            &text[e.lines.clone()],
            "  'git hub':\n    type: sse\n    args:\n    - a\n    # note\n"
        );
        assert_eq!((e.indent, e.key.as_str()), (2, "'git hub'"));
        let e = yaml_entry(text, "extensions", "last").unwrap();
        assert_eq!(&text[e.lines], "  last: {type: sse}\n");
        assert!(yaml_entry(text, "extensions", "GOOSE_MODEL").is_none());
        assert!(yaml_entry(text, "nothing", "last").is_none());
    }
}
