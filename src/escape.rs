//! Text from outside (a server's answer, a config or bundle file, a request to the
//! callback listener) made safe to print on a terminal.
//!
//! A terminal obeys the control characters it is sent: ESC starts sequences that move
//! the cursor, rewrite the title, plant hyperlinks or clear the screen; BEL rings; C1
//! codes do the same on terminals that honour 8-bit controls; a newline can forge a line
//! of mcpauth's own. Every such character is shown as its Rust escape instead (`\u{1b}`,
//! `\n`), which is visible, unambiguous, and harmless.

use std::borrow::Cow;

/// `text` with every control character (C0, DEL, C1) escaped; the rest unchanged.
pub fn controls(text: &str) -> Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_control() {
            out.extend(c.escape_debug());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_are_shown_not_obeyed() {
        assert!(matches!(controls("plain text, é 日本"), Cow::Borrowed(_)));
        assert_eq!(
            controls("a\u{1b}[2Jb\u{7}c\nd\u{7f}e\u{9b}31mf\u{0}"),
            r"a\u{1b}[2Jb\u{7}c\nd\u{7f}e\u{9b}31mf\0"
        );
        let hostile = "\u{1b}]8;;https://evil\u{7}link\u{1b}]8;;\u{7}\r\t";
        assert!(!controls(hostile).chars().any(char::is_control));
    }
}
