//! `${VAR}` placeholders in config values, expanded the way Claude Code does it.
//!
//! Recognised forms, and nothing else:
//! - `${NAME}`: the environment variable `NAME`; unset is an error.
//! - `${NAME:-default}`: the variable when it is set (even to the empty string, as Claude
//!   Code does), else `default`.
//! - `${env:NAME}`: the same as `${NAME}`, spelled the VS Code and Cursor way.
//! - predefined names the caller passes in (`${workspaceFolder}` for editor configs).
//!
//! Everything else stays as written: a `$` not followed by `{`, a `${` with no closing
//! `}`, and editor placeholders such as `${input:token}` that only the editor can resolve.
//! Leaving them alone keeps a config that works in its own client from failing here.

/// A `${NAME}` whose variable is not set and has no default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Unset(pub String);

/// Expands the placeholders in `text`. `predefined` is consulted before the environment.
pub(crate) fn expand(
    text: &str,
    env: &dyn Fn(&str) -> Option<String>,
    predefined: &[(&str, String)],
) -> Result<String, Unset> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            // No closing brace anywhere after: the rest is literal text.
            out.push_str(&rest[start..]);
            return Ok(out);
        };
        let inner = &after[..end];
        match resolve(inner, env, predefined)? {
            Some(value) => out.push_str(&value),
            None => {
                out.push_str("${");
                out.push_str(inner);
                out.push('}');
            }
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// The value for one placeholder body, `None` when the body is not ours to expand.
fn resolve(
    inner: &str,
    env: &dyn Fn(&str) -> Option<String>,
    predefined: &[(&str, String)],
) -> Result<Option<String>, Unset> {
    if let Some((_, value)) = predefined.iter().find(|(name, _)| *name == inner) {
        return Ok(Some(value.clone()));
    }
    let (name, default) = match inner.split_once(":-") {
        Some((name, default)) => (name, Some(default)),
        None => (inner.strip_prefix("env:").unwrap_or(inner), None),
    };
    if !is_variable_name(name) {
        return Ok(None);
    }
    match (env(name), default) {
        (Some(value), _) => {
            // Kept out of every message that shows a URL (a key in a query string).
            crate::redact::from_environment(&value);
            Ok(Some(value))
        }
        (None, Some(default)) => Ok(Some(default.to_owned())),
        (None, None) => Err(Unset(name.to_owned())),
    }
}

fn is_variable_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "HOST" => Some("example.com".into()),
            "EMPTY" => Some(String::new()),
            "TOKEN" => Some("tok-123".into()),
            _ => None,
        }
    }

    fn ex(text: &str) -> Result<String, Unset> {
        expand(text, &env, &[])
    }

    #[test]
    fn expands_set_variables() {
        assert_eq!(
            ex("https://${HOST}/mcp").unwrap(),
            "https://example.com/mcp"
        );
        assert_eq!(ex("Bearer ${TOKEN}").unwrap(), "Bearer tok-123");
        assert_eq!(ex("${HOST}${TOKEN}").unwrap(), "example.comtok-123");
    }

    #[test]
    fn default_applies_only_when_unset() {
        assert_eq!(ex("${MISSING:-fallback}").unwrap(), "fallback");
        assert_eq!(ex("${HOST:-fallback}").unwrap(), "example.com");
        // Set to empty counts as set, as in Claude Code.
        assert_eq!(ex("a${EMPTY:-x}b").unwrap(), "ab");
        assert_eq!(ex("${MISSING:-}").unwrap(), "");
        assert_eq!(ex("${MISSING:-http://a:1/b}").unwrap(), "http://a:1/b");
    }

    #[test]
    fn unset_without_default_names_the_variable() {
        assert_eq!(ex("x ${NOPE} y"), Err(Unset("NOPE".into())));
        assert_eq!(ex("${env:NOPE}"), Err(Unset("NOPE".into())));
    }

    #[test]
    fn env_prefix_is_the_same_variable() {
        assert_eq!(ex("${env:HOST}").unwrap(), "example.com");
    }

    #[test]
    fn other_text_stays_as_written() {
        assert_eq!(ex("$HOST and $ and $$").unwrap(), "$HOST and $ and $$");
        assert_eq!(ex("${input:token}").unwrap(), "${input:token}");
        assert_eq!(ex("${not a name}").unwrap(), "${not a name}");
        assert_eq!(ex("${}").unwrap(), "${}");
        assert_eq!(ex("tail ${HOST").unwrap(), "tail ${HOST");
        assert_eq!(ex("${1ABC}").unwrap(), "${1ABC}");
    }

    #[test]
    fn predefined_names_win_over_the_environment() {
        let pre = [
            ("workspaceFolder", "/w".to_owned()),
            ("HOST", "pre".to_owned()),
        ];
        assert_eq!(
            expand("${workspaceFolder}/${HOST}", &env, &pre).unwrap(),
            "/w/pre"
        );
    }
}

#[cfg(test)]
mod props {
    use super::*;
    use proptest::prelude::*;

    fn vars(name: &str) -> Option<String> {
        name.strip_prefix("V").map(|n| format!("<{n}>"))
    }

    proptest! {
        #![proptest_config(crate::props::config(512))]

        #[test]
        fn any_text_expands_without_panicking(text in any::<String>(), like in "[${}:\\-a-zV_]{0,40}") {
            let _ = expand(&text, &vars, &[]);
            let _ = expand(&like, &vars, &[("V1", "x".into())]);
        }

        #[test]
        fn text_without_placeholders_is_left_as_written(text in "[^$]{0,60}") {
            prop_assert_eq!(expand(&text, &vars, &[]).unwrap(), text);
        }

        #[test]
        fn placeholders_become_their_values(
            parts in proptest::collection::vec(("[a-z /:.{}]{0,6}", proptest::option::of("V[a-z0-9_]{0,5}")), 0..6)
        ) {
            let mut text = String::new();
            let mut want = String::new();
            for (literal, var) in &parts {
                text.push_str(literal);
                want.push_str(literal);
                if let Some(name) = var {
                    text.push_str(&format!("${{{name}}}"));
                    want.push_str(&vars(name).unwrap());
                }
            }
            prop_assert_eq!(expand(&text, &vars, &[]).unwrap(), want);
        }
    }
}
