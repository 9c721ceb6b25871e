//! What can go wrong while reading MCP client configs, in words a person can act on.
//!
//! No variant carries a header value or an expanded URL: headers hold API keys and some
//! services put the key in the URL path, and these messages end up in terminals, logs and
//! bug reports.

use std::fmt;
use std::io;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file exists but could not be read (permissions, a directory in its place).
    #[error("cannot read `{}`", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    /// Not JSON; the position comes from serde_json.
    #[error("`{}`:{line}:{column}: {message}", path.display())]
    Malformed {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },

    /// JSON, but not the shape an MCP config has (`what` names the key and the server).
    #[error("`{}`: {what}", path.display())]
    Shape { path: PathBuf, what: String },

    /// A `${VAR}` with no value and no default.
    #[error(
        "environment variable `{var}` is not set (server `{server}` in `{}` uses it); set it or write `${{{var}:-default}}`",
        path.display()
    )]
    UnsetVariable {
        var: String,
        server: String,
        path: PathBuf,
    },

    /// A URL that does not parse or is not http(s), after expansion. The URL itself is left
    /// out on purpose (see the module docs).
    #[error("{origin}: {problem}")]
    BadUrl { origin: String, problem: String },

    /// No source defines the name.
    #[error("{0}")]
    UnknownServer(UnknownServer),

    /// A stdio server was asked for its URL.
    #[error(
        "server `{name}` (from `{}`) runs locally over stdio; it has no OAuth for mcpauth to do",
        path.display()
    )]
    LocalServer { name: String, path: PathBuf },
}

/// The details of [`ConfigError::UnknownServer`], kept structured so a caller (shell
/// completion, `status`) can use the names without parsing the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownServer {
    pub name: String,
    /// Every name found, with a short form of where it came from, in precedence order.
    pub known: Vec<(String, String)>,
    /// The places that were searched, for when there are no names at all.
    pub looked_in: Vec<String>,
    /// A known name close to `name`.
    pub suggestion: Option<String>,
}

impl UnknownServer {
    pub(crate) fn new(name: &str, known: Vec<(String, String)>, looked_in: Vec<String>) -> Self {
        let suggestion = closest(name, known.iter().map(|(n, _)| n.as_str())).map(str::to_owned);
        Self {
            name: name.to_owned(),
            known,
            looked_in,
            suggestion,
        }
    }
}

impl fmt::Display for UnknownServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "no server `{}` was found", self.name)?;
        if let Some(suggestion) = &self.suggestion {
            write!(f, " (did you mean `{suggestion}`?)")?;
        }
        if self.known.is_empty() {
            write!(f, "; no MCP servers are configured in ")?;
            write!(f, "{}", self.looked_in.join(", "))?;
        } else {
            write!(f, "; known servers: ")?;
            for (i, (name, from)) in self.known.iter().enumerate() {
                let sep = if i == 0 { "" } else { ", " };
                write!(f, "{sep}{name} ({from})")?;
            }
        }
        Ok(())
    }
}

/// The candidate closest to `target` by edit distance, if it is close enough to be a typo:
/// at most a third of the name's length (and at least one edit). Ties go to the earlier
/// candidate, which is the one with the higher precedence.
pub(crate) fn closest<'a>(
    target: &str,
    candidates: impl Iterator<Item = &'a str>,
) -> Option<&'a str> {
    let target_lower = target.to_lowercase();
    let limit = (target.chars().count() / 3).max(1);
    let mut best: Option<(usize, &str)> = None;
    for candidate in candidates {
        let distance = edit_distance(&target_lower, &candidate.to_lowercase());
        if distance <= limit && best.is_none_or(|(d, _)| distance < d) {
            best = Some((distance, candidate));
        }
    }
    best.map(|(_, name)| name)
}

/// Levenshtein distance over chars, one row at a time.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitute = diagonal + usize::from(ca != *cb);
            diagonal = row[j + 1];
            row[j + 1] = substitute.min(row[j] + 1).min(row[j + 1] + 1);
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance_counts_edits() {
        assert_eq!(edit_distance("", ""), 0);
        assert_eq!(edit_distance("abc", ""), 3);
        assert_eq!(edit_distance("notion", "notion"), 0);
        assert_eq!(edit_distance("notion", "notoin"), 2);
        assert_eq!(edit_distance("linear", "liner"), 1);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn closest_suggests_only_near_names() {
        let names = ["notion", "linear", "github"];
        assert_eq!(closest("notoin", names.into_iter()), Some("notion"));
        assert_eq!(closest("Linear", names.into_iter()), Some("linear"));
        assert_eq!(closest("slack", names.into_iter()), None);
        assert_eq!(closest("x", names.into_iter()), None);
    }

    #[test]
    fn message_lists_known_names_with_their_origin() {
        let e = UnknownServer::new(
            "notoin",
            vec![
                ("notion".into(), "./.mcp.json".into()),
                ("linear".into(), "~/.claude.json".into()),
            ],
            vec![],
        );
        assert_eq!(
            e.to_string(),
            "no server `notoin` was found (did you mean `notion`?); known servers: \
             notion (./.mcp.json), linear (~/.claude.json)"
        );
    }
}
