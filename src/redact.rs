//! URLs shown in messages without the credentials a config may put in them.
//!
//! `https://user:password@host/` is a valid way to configure a server (or a token as the
//! user name), and messages reach terminals, logs and bug reports, so the userinfo of a
//! URL is shown as `***`.

use std::borrow::Cow;

/// `url` with its userinfo, if any, replaced by `***`. Works on the text, so a URL that
/// does not parse (the very one an error is about) is masked too.
pub fn url(url: &str) -> Cow<'_, str> {
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
}
