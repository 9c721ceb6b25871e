//! A Server-Sent Events parser sized for large messages.
//!
//! Generic SSE crates re-scan their whole buffer on every chunk, which turns one 10 MB
//! event into gigabytes of scanning; this one remembers how far it looked for a line end
//! and hands out event data as slices of the receive buffer (no copy for the usual
//! one-`data:`-line event). It keeps `id` and `retry` across events as the SSE rules
//! say, since the proxy resumes broken streams with them.

use bytes::{Bytes, BytesMut};

/// One dispatched event. `data` may be empty: servers send id-only events to prime
/// resumption, and the caller still needs their `id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// The `event` field, `message` when absent.
    pub event: String,
    pub data: Bytes,
}

#[derive(Debug, Default)]
pub struct Parser {
    buf: BytesMut,
    /// Bytes of `buf` already known to hold no line end.
    scanned: usize,
    data: BytesMut,
    has_data: bool,
    event: Option<String>,
    /// The last event id seen on this stream (survives across events).
    pub last_event_id: Option<String>,
    /// The reconnection delay the server asked for, in milliseconds.
    pub retry_ms: Option<u64>,
}

impl Parser {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds received bytes.
    pub fn push(&mut self, chunk: &[u8]) {
        self.buf.extend_from_slice(chunk);
    }

    /// The next complete event, if the buffered bytes hold one.
    pub fn next_event(&mut self) -> Option<Event> {
        loop {
            let Some(rel) = self.buf[self.scanned..].iter().position(|&b| b == b'\n') else {
                self.scanned = self.buf.len();
                return None;
            };
            let end = self.scanned + rel;
            let mut line = self.buf.split_to(end + 1);
            self.scanned = 0;
            line.truncate(end);
            if line.last() == Some(&b'\r') {
                line.truncate(end - 1);
            }
            if let Some(event) = self.line(line) {
                return Some(event);
            }
        }
    }

    /// What is left when the stream ends: an event without its blank line is dropped,
    /// as the SSE rules say.
    pub fn finish(&mut self) {
        self.buf.clear();
        self.scanned = 0;
        self.data.clear();
        self.has_data = false;
        self.event = None;
    }

    fn line(&mut self, mut line: BytesMut) -> Option<Event> {
        if line.is_empty() {
            return self.dispatch();
        }
        if line[0] == b':' {
            return None;
        }
        let colon = line.iter().position(|&b| b == b':');
        let (field_len, value_start) = match colon {
            Some(c) if line.get(c + 1) == Some(&b' ') => (c, c + 2),
            Some(c) => (c, c + 1),
            None => (line.len(), line.len()),
        };
        match &line[..field_len] {
            b"data" => {
                if self.has_data {
                    self.data.extend_from_slice(b"\n");
                    self.data.extend_from_slice(&line[value_start..]);
                } else {
                    // The common case: one data line, kept without copying.
                    let _ = line.split_to(value_start);
                    self.data = line;
                    self.has_data = true;
                }
            }
            b"event" => {
                self.event = Some(String::from_utf8_lossy(&line[value_start..]).into_owned());
            }
            b"id" => {
                let value = &line[value_start..];
                if !value.contains(&0) {
                    self.last_event_id = Some(String::from_utf8_lossy(value).into_owned());
                }
            }
            b"retry" => {
                if let Ok(ms) = std::str::from_utf8(&line[value_start..])
                    .unwrap_or("")
                    .parse::<u64>()
                {
                    self.retry_ms = Some(ms);
                }
            }
            _ => {}
        }
        None
    }

    fn dispatch(&mut self) -> Option<Event> {
        let event = self.event.take().unwrap_or_else(|| "message".to_owned());
        let data = std::mem::take(&mut self.data).freeze();
        let had = std::mem::replace(&mut self.has_data, false);
        if !had && self.last_event_id.is_none() {
            return None;
        }
        Some(Event { event, data })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(p: &mut Parser) -> Vec<Event> {
        std::iter::from_fn(|| p.next_event()).collect()
    }

    #[test]
    fn events_split_anywhere_come_out_whole() {
        let text = b"retry: 1500\nid: 7\nevent: message\ndata: {\"a\":1}\n\n: comment\ndata:x\ndata: y\r\n\r\n";
        for cut in 0..text.len() {
            let mut p = Parser::new();
            p.push(&text[..cut]);
            let mut got = all(&mut p);
            p.push(&text[cut..]);
            got.extend(all(&mut p));
            assert_eq!(got.len(), 2, "cut at {cut}");
            assert_eq!(got[0].data.as_ref(), b"{\"a\":1}");
            assert_eq!(got[0].event, "message");
            assert_eq!(got[1].data.as_ref(), b"x\ny");
            assert_eq!(p.last_event_id.as_deref(), Some("7"));
            assert_eq!(p.retry_ms, Some(1500));
        }
    }

    #[test]
    fn id_only_events_are_reported_for_resumption() {
        let mut p = Parser::new();
        p.push(b"id: abc\ndata:\n\n");
        let got = all(&mut p);
        assert_eq!(got.len(), 1);
        assert!(got[0].data.is_empty());
        assert_eq!(p.last_event_id.as_deref(), Some("abc"));
    }

    #[test]
    fn endpoint_event_is_named() {
        let mut p = Parser::new();
        p.push(b"event: endpoint\ndata: /messages?sessionId=1\n\n");
        let got = all(&mut p);
        assert_eq!(got[0].event, "endpoint");
        assert_eq!(got[0].data.as_ref(), b"/messages?sessionId=1");
    }

    #[test]
    fn an_unterminated_event_is_not_dispatched() {
        let mut p = Parser::new();
        p.push(b"data: half");
        assert!(p.next_event().is_none());
        p.finish();
        p.push(b"data: whole\n\n");
        assert_eq!(all(&mut p)[0].data.as_ref(), b"whole");
    }
}
