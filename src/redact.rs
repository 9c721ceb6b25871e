//! URLs shown in messages without the credentials a config may put in them.
//!
//! `https://user:password@host/` is a valid way to configure a server (or a token as the
//! user name), and so is `https://host/mcp?key=${API_KEY}`; messages reach terminals,
//! logs and bug reports, so the userinfo of a URL, and every value a config took from
//! the environment, is shown as `***`.

use std::borrow::Cow;

/// Values `${VAR}` expansion put into configs in this process.
#[cfg(not(test))]
static FROM_ENVIRONMENT: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

// Unit tests share one process: each test thread keeps its own values, so that one
// test's `${HOST}` does not mask another test's URLs.
#[cfg(test)]
thread_local! {
    static FROM_ENVIRONMENT: std::cell::RefCell<Vec<String>> = const { std::cell::RefCell::new(Vec::new()) };
}

fn with_values<R>(f: impl FnOnce(&mut Vec<String>) -> R) -> R {
    #[cfg(not(test))]
    {
        f(&mut FROM_ENVIRONMENT.lock().unwrap_or_else(|p| p.into_inner()))
    }
    #[cfg(test)]
    {
        FROM_ENVIRONMENT.with(|v| f(&mut v.borrow_mut()))
    }
}

/// Values this short are not masked: they hide nothing worth hiding, and masking them
/// (a port, `v1`) would garble every URL that happens to contain them.
const SHORTEST_MASKED: usize = 4;

/// Remembers a value that a config took from the environment, so that [`url`] never
/// shows it: variables are where people keep keys they do not want in the file.
pub fn from_environment(value: &str) {
    if value.len() < SHORTEST_MASKED {
        return;
    }
    with_values(|all| {
        if !all.iter().any(|v| v == value) {
            all.push(value.to_owned());
            // Longest first, so a value that contains another is masked whole.
            all.sort_by_key(|v| std::cmp::Reverse(v.len()));
        }
    });
}

/// `url` with its userinfo, if any, and every value from the environment replaced by
/// `***`. Works on the text, so a URL that does not parse (the very one an error is
/// about) is masked too.
pub fn url(url: &str) -> Cow<'_, str> {
    let masked = userinfo(url);
    with_values(|values| {
        if !values.iter().any(|v| masked.contains(v.as_str())) {
            return masked;
        }
        let mut out = masked.into_owned();
        for v in values.iter() {
            out = out.replace(v.as_str(), "***");
        }
        Cow::Owned(out)
    })
}

fn userinfo(url: &str) -> Cow<'_, str> {
    let Some(start) = url.find("://").map(|i| i + 3) else {
        return Cow::Borrowed(url);
    };
    let authority = &url[start..];
    let authority = &authority[..authority.find(['/', '?', '#']).unwrap_or(authority.len())];
    // The last `@` ends the userinfo, as URL parsers read it.
    match authority.rfind('@') {
        Some(at) => Cow::Owned(format!("{}***{}", &url[..start], &url[start + at..])),
        None => Cow::Borrowed(url),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn userinfo_is_masked_and_nothing_else_changes() {
        assert_eq!(
            url("https://user:pa%40ss@mcp.example.com:8443/mcp?q=a@b"),
            "https://***@mcp.example.com:8443/mcp?q=a@b"
        );
        assert_eq!(url("http://tok-123@127.0.0.1/x"), "http://***@127.0.0.1/x");
        assert_eq!(url("https://a:b@c@host"), "https://***@host");
        assert!(matches!(
            url("https://mcp.example.com/u@x"),
            Cow::Borrowed("https://mcp.example.com/u@x")
        ));
        assert!(matches!(url("not a url"), Cow::Borrowed(_)));
    }

    #[test]
    fn values_from_the_environment_are_masked() {
        from_environment("k-from-env-0042");
        from_environment("80");
        assert_eq!(
            url("https://mcp.example.com:8080/mcp?key=k-from-env-0042"),
            "https://mcp.example.com:8080/mcp?key=***"
        );
    }
}
