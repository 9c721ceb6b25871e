//! Parsing `WWW-Authenticate` (RFC 9110 §11.6.1, RFC 6750 §3, RFC 9728 §5.1).
//!
//! A header may hold several challenges, each a scheme followed by either a token68 or
//! comma-separated `name=value` pairs whose values may be quoted strings with escapes
//! and commas inside. Splitting on commas is wrong; this walks the grammar.

use std::collections::BTreeMap;

/// One challenge: a scheme (lowercased) and its parameters (names lowercased).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Challenge {
    pub scheme: String,
    pub params: BTreeMap<String, String>,
}

impl Challenge {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.get(name).map(String::as_str)
    }
}

/// What mcpauth needs from a server's Bearer challenge, or its DPoP one (RFC 9449 §7.1:
/// a server that takes only DPoP-bound tokens names its metadata there).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BearerChallenge {
    pub resource_metadata: Option<String>,
    pub scope: Option<String>,
    pub error: Option<String>,
    /// The header offers the DPoP scheme (RFC 9449 §7.1): the server takes DPoP-bound
    /// tokens.
    pub dpop: bool,
}

impl BearerChallenge {
    /// The Bearer challenge among the header's challenges, else the DPoP one.
    pub fn from_header(header: &str) -> Option<Self> {
        let challenges = parse(header);
        let of = |scheme: &str| challenges.iter().find(|c| c.scheme == scheme);
        of("bearer").or_else(|| of("dpop")).map(|c| Self {
            resource_metadata: c.param("resource_metadata").map(str::to_owned),
            scope: c.param("scope").map(str::to_owned),
            error: c.param("error").map(str::to_owned),
            dpop: of("dpop").is_some(),
        })
    }

    /// Scopes named by the challenge, split on spaces.
    pub fn scopes(&self) -> Vec<String> {
        self.scope.as_deref().map(split_scopes).unwrap_or_default()
    }
}

pub fn split_scopes(s: &str) -> Vec<String> {
    s.split_ascii_whitespace().map(str::to_owned).collect()
}

/// All challenges in a header value. Malformed parts are skipped, never fatal: a
/// server's odd header must not stop discovery, which has other ways to go on.
pub fn parse(header: &str) -> Vec<Challenge> {
    let mut p = Parser {
        s: header.as_bytes(),
        i: 0,
    };
    let mut out: Vec<Challenge> = Vec::new();
    loop {
        p.skip_ws_and_commas();
        if p.done() {
            break;
        }
        let Some(token) = p.token() else {
            // Not a token where one must be: skip one byte and try again.
            p.i += 1;
            continue;
        };
        p.skip_ws();
        if p.peek() == Some(b'=') {
            // `name=value` belongs to the current challenge.
            p.i += 1;
            p.skip_ws();
            let value = p.value();
            if let Some(current) = out.last_mut() {
                current
                    .params
                    .entry(token.to_ascii_lowercase())
                    .or_insert(value);
            }
        } else {
            // A new scheme. A token68 may follow, which we keep under "" for completeness.
            out.push(Challenge {
                scheme: token.to_ascii_lowercase(),
                params: BTreeMap::new(),
            });
            let save = p.i;
            if let Some(t68) = p.token68() {
                p.skip_ws();
                if p.done() || p.peek() == Some(b',') {
                    out.last_mut().unwrap().params.insert(String::new(), t68);
                    continue;
                }
            }
            p.i = save;
        }
    }
    out
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn done(&self) -> bool {
        self.i >= self.s.len()
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.i += 1;
        }
    }

    fn skip_ws_and_commas(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b',')) {
            self.i += 1;
        }
    }

    fn token(&mut self) -> Option<String> {
        let start = self.i;
        while let Some(c) = self.peek() {
            if is_tchar(c) {
                self.i += 1;
            } else {
                break;
            }
        }
        (self.i > start).then(|| String::from_utf8_lossy(&self.s[start..self.i]).into_owned())
    }

    fn token68(&mut self) -> Option<String> {
        let start = self.i;
        while let Some(c) = self.peek() {
            if c.is_ascii_alphanumeric() || b"-._~+/".contains(&c) {
                self.i += 1;
            } else {
                break;
            }
        }
        while self.peek() == Some(b'=') {
            self.i += 1;
        }
        (self.i > start).then(|| String::from_utf8_lossy(&self.s[start..self.i]).into_owned())
    }

    /// A quoted string (with `\` escapes) or a token.
    fn value(&mut self) -> String {
        if self.peek() != Some(b'"') {
            return self.token().unwrap_or_default();
        }
        self.i += 1;
        let mut out = Vec::new();
        while let Some(c) = self.peek() {
            self.i += 1;
            match c {
                b'"' => break,
                b'\\' => {
                    if let Some(next) = self.peek() {
                        out.push(next);
                        self.i += 1;
                    }
                }
                _ => out.push(c),
            }
        }
        String::from_utf8_lossy(&out).into_owned()
    }
}

fn is_tchar(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_with_quoted_params() {
        let c = BearerChallenge::from_header(
            r#"Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp", scope="files:read files:write""#,
        )
        .unwrap();
        assert_eq!(
            c.resource_metadata.as_deref(),
            Some("https://mcp.example.com/.well-known/oauth-protected-resource/mcp")
        );
        assert_eq!(c.scopes(), ["files:read", "files:write"]);
        assert_eq!(c.error, None);
    }

    #[test]
    fn commas_and_escapes_inside_quotes() {
        let all = parse(r#"Bearer realm="a, \"b\", c", error=invalid_token"#);
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].param("realm"), Some(r#"a, "b", c"#));
        assert_eq!(all[0].param("error"), Some("invalid_token"));
    }

    #[test]
    fn several_challenges_in_one_header() {
        let all = parse(
            r#"Basic realm="x", Bearer error="insufficient_scope", scope="a b", resource_metadata="https://r/m""#,
        );
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].scheme, "basic");
        let b = BearerChallenge::from_header(
            r#"Basic realm="x", Bearer error="insufficient_scope", scope="a b", resource_metadata="https://r/m""#,
        )
        .unwrap();
        assert_eq!(b.error.as_deref(), Some("insufficient_scope"));
        assert_eq!(b.resource_metadata.as_deref(), Some("https://r/m"));
        assert_eq!(b.scopes(), ["a", "b"]);
    }

    #[test]
    fn scheme_and_names_are_case_insensitive() {
        let b = BearerChallenge::from_header(r#"bEaReR Resource_Metadata="u""#).unwrap();
        assert_eq!(b.resource_metadata.as_deref(), Some("u"));
    }

    #[test]
    fn bare_bearer_and_token68() {
        assert_eq!(
            BearerChallenge::from_header("Bearer"),
            Some(BearerChallenge::default())
        );
        let all = parse("Negotiate abc123==, Bearer");
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].param(""), Some("abc123=="));
    }

    #[test]
    fn garbage_does_not_panic() {
        for h in [
            "",
            ",,,",
            "=\"",
            "Bearer =",
            "Bearer a=\"unterminated",
            "\u{0}\u{7f}é",
        ] {
            let _ = parse(h);
            let _ = BearerChallenge::from_header(h);
        }
        assert_eq!(BearerChallenge::from_header("Basic realm=x"), None);
    }
}

#[cfg(test)]
mod props {
    use super::*;
    use proptest::prelude::*;

    /// Text made mostly of the grammar's own characters, where a parser goes wrong.
    fn header_like() -> impl Strategy<Value = String> {
        proptest::string::string_regex("[ a-zA-Z0-9=,\"\\\t!#$%&'*+.^_`|~/-]{0,80}").unwrap()
    }

    fn token() -> impl Strategy<Value = String> {
        proptest::string::string_regex("[a-z][a-z0-9_-]{0,10}").unwrap()
    }

    fn quoted(value: &str) -> String {
        let mut out = String::from("\"");
        for c in value.chars() {
            if c == '"' || c == '\\' {
                out.push('\\');
            }
            out.push(c);
        }
        out.push('"');
        out
    }

    proptest! {
        #![proptest_config(crate::props::config(512))]

        #[test]
        fn any_header_parses_without_panicking(text in any::<String>(), like in header_like()) {
            let _ = parse(&text);
            let _ = parse(&like);
            let _ = BearerChallenge::from_header(&like).map(|c| c.scopes());
        }

        #[test]
        fn quoted_parameters_come_back_as_written(
            params in proptest::collection::btree_map(token(), any::<String>(), 0..5),
            before in proptest::option::of(token()),
        ) {
            let list = params
                .iter()
                .map(|(k, v)| format!("{k}={}", quoted(v)))
                .collect::<Vec<_>>()
                .join(", ");
            let header = match &before {
                // Another challenge first, with a comma inside its quoted realm.
                Some(scheme) => format!("{scheme} realm=\"a, b\", Bearer {list}"),
                None => format!("Bearer {list}"),
            };
            let found = parse(&header);
            let bearer = found.iter().find(|c| c.scheme == "bearer").expect("a Bearer challenge");
            if before.as_deref() != Some("bearer") {
                prop_assert_eq!(&bearer.params, &params);
            }
        }
    }
}
