//! A Server-Sent Events parser sized for large messages.
//!
//! Generic SSE crates re-scan their whole buffer on every chunk, which turns one 10 MB
//! event into gigabytes of scanning; this one remembers how far it looked for a line end
//! and hands out event data as slices of the receive buffer (no copy for the usual
//! one-`data:`-line event). It keeps `id` and `retry` across events as the SSE rules
//! say, since the proxy resumes broken streams with them.
//!
//! One event may hold at most `limit` bytes, counting a line still waiting for its end:
//! a server that sends a line without end, or endless `data:` lines, gets the event
//! reported as [`Oversized`] at once and the rest of it skipped, so what the parser
//! holds stays bounded.

use bytes::{Bytes, BytesMut};

/// One dispatched event. `data` may be empty: servers send id-only events to prime
/// resumption, and the caller still needs their `id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// The `event` field, `message` when absent.
    pub event: String,
    pub data: Bytes,
}

/// An event that passed the parser's limit; its data is gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Oversized;

#[derive(Debug)]
pub struct Parser {
    limit: usize,
    buf: BytesMut,
    /// Bytes of `buf` already known to hold no line end.
    scanned: usize,
    data: BytesMut,
    has_data: bool,
    event: Option<String>,
    /// The current event passed the limit: its lines are dropped until it ends.
    skipping: bool,
    /// The line in progress passed the limit: bytes are dropped until its end.
    skipping_line: bool,
    /// The last event id seen on this stream (survives across events).
    pub last_event_id: Option<String>,
    /// The reconnection delay the server asked for, in milliseconds.
    pub retry_ms: Option<u64>,
}

impl Parser {
    /// A parser for events of at most `limit` bytes.
    pub fn new(limit: usize) -> Self {
        Self {
            limit,
            buf: BytesMut::new(),
            scanned: 0,
            data: BytesMut::new(),
            has_data: false,
            event: None,
            skipping: false,
            skipping_line: false,
            last_event_id: None,
            retry_ms: None,
        }
    }

    /// Adds received bytes. Call [`Self::next_event`] until it says `None` before the
    /// next push: that is what keeps the buffer within the limit.
    pub fn push(&mut self, chunk: &[u8]) {
        self.buf.extend_from_slice(chunk);
    }

    /// The next complete event if the buffered bytes hold one, or `Err` once for an
    /// event that passed the limit.
    pub fn next_event(&mut self) -> Option<Result<Event, Oversized>> {
        loop {
            let Some(rel) = self.buf[self.scanned..].iter().position(|&b| b == b'\n') else {
                if self.skipping_line {
                    self.buf.clear();
                    self.scanned = 0;
                    return None;
                }
                self.scanned = self.buf.len();
                if self.buf.len() + self.data.len() > self.limit {
                    self.buf.clear();
                    self.scanned = 0;
                    self.skipping_line = true;
                    return self.overflow();
                }
                return None;
            };
            let end = self.scanned + rel;
            let mut line = self.buf.split_to(end + 1);
            self.scanned = 0;
            if std::mem::take(&mut self.skipping_line) {
                continue;
            }
            line.truncate(end);
            if line.last() == Some(&b'\r') {
                line.truncate(end - 1);
            }
            if let Some(event) = self.line(line) {
                return Some(event);
            }
        }
    }

    /// Drops what the current event holds and skips the rest of it; reported once.
    fn overflow(&mut self) -> Option<Result<Event, Oversized>> {
        self.data = BytesMut::new();
        self.has_data = false;
        self.event = None;
        if std::mem::replace(&mut self.skipping, true) {
            None
        } else {
            Some(Err(Oversized))
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
        self.skipping = false;
        self.skipping_line = false;
    }

    fn line(&mut self, mut line: BytesMut) -> Option<Result<Event, Oversized>> {
        if line.is_empty() {
            if std::mem::take(&mut self.skipping) {
                self.event = None;
                return None;
            }
            return self.dispatch().map(Ok);
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
            b"data" if self.skipping => {}
            b"data" if self.data.len() + line.len() > self.limit => return self.overflow(),
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
        std::iter::from_fn(|| p.next_event())
            .map(|e| e.expect("within the limit"))
            .collect()
    }

    #[test]
    fn events_split_anywhere_come_out_whole() {
        let text = b"retry: 1500\nid: 7\nevent: message\ndata: {\"a\":1}\n\n: comment\ndata:x\ndata: y\r\n\r\n";
        for cut in 0..text.len() {
            let mut p = Parser::new(1 << 20);
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
        let mut p = Parser::new(1 << 20);
        p.push(b"id: abc\ndata:\n\n");
        let got = all(&mut p);
        assert_eq!(got.len(), 1);
        assert!(got[0].data.is_empty());
        assert_eq!(p.last_event_id.as_deref(), Some("abc"));
    }

    #[test]
    fn endpoint_event_is_named() {
        let mut p = Parser::new(1 << 20);
        p.push(b"event: endpoint\ndata: /messages?sessionId=1\n\n");
        let got = all(&mut p);
        assert_eq!(got[0].event, "endpoint");
        assert_eq!(got[0].data.as_ref(), b"/messages?sessionId=1");
    }

    #[test]
    fn an_unterminated_event_is_not_dispatched() {
        let mut p = Parser::new(1 << 20);
        p.push(b"data: half");
        assert!(p.next_event().is_none());
        p.finish();
        p.push(b"data: whole\n\n");
        assert_eq!(all(&mut p)[0].data.as_ref(), b"whole");
    }

    #[test]
    fn an_event_over_the_limit_is_reported_once_and_skipped() {
        // One line without end, then a long run of data lines: each is reported once,
        // the buffer never holds much more than the limit, and the next event is whole.
        let mut p = Parser::new(100);
        p.push(b"data: ");
        for _ in 0..50 {
            p.push(&[b'x'; 64]);
            match p.next_event() {
                None | Some(Err(Oversized)) => {}
                Some(Ok(e)) => panic!("an oversized event came out: {e:?}"),
            }
            assert!(p.buf.len() <= 100 + 64, "{}", p.buf.len());
        }
        p.push(b"x\ndata: more\n\nid: 9\ndata: ok\n\n");
        assert_eq!(all(&mut p)[0].data.as_ref(), b"ok");

        let mut p = Parser::new(100);
        let mut reports = 0;
        for _ in 0..20 {
            p.push(b"data: 0123456789\n");
            while let Some(e) = p.next_event() {
                assert_eq!(e, Err(Oversized));
                reports += 1;
            }
            assert!(p.data.len() <= 100);
        }
        assert_eq!(reports, 1);
        p.push(b"\ndata: next\n\n");
        assert_eq!(all(&mut p)[0].data.as_ref(), b"next");
    }
}

#[cfg(test)]
mod props {
    use super::*;
    use proptest::prelude::*;

    /// Everything `bytes` gives when pushed in pieces cut at `cuts`, draining between
    /// pushes as the proxy does; and the id and retry the parser ends with.
    fn run(
        limit: usize,
        bytes: &[u8],
        cuts: &[usize],
    ) -> (Vec<Result<Event, Oversized>>, Option<String>, Option<u64>) {
        let mut p = Parser::new(limit);
        let mut out = Vec::new();
        let mut at = 0;
        let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
        cuts.sort_unstable();
        cuts.push(bytes.len());
        for cut in cuts {
            p.push(&bytes[at..cut]);
            at = cut;
            while let Some(e) = p.next_event() {
                out.push(e);
            }
            // What the parser holds stays bounded by the limit and one push.
            assert!(p.buf.len() <= limit + bytes.len() + 2);
            assert!(p.data.len() <= limit);
        }
        (out, p.last_event_id.clone(), p.retry_ms)
    }

    /// SSE-looking bytes: field names, colons, line ends of every kind.
    fn stream_like() -> impl Strategy<Value = Vec<u8>> {
        proptest::collection::vec(
            prop_oneof![
                Just(b"data: ".to_vec()),
                Just(b"data:".to_vec()),
                Just(b"id: ".to_vec()),
                Just(b"retry: ".to_vec()),
                Just(b"event: ".to_vec()),
                Just(b": ".to_vec()),
                Just(b"\n".to_vec()),
                Just(b"\r\n".to_vec()),
                Just(b"\r".to_vec()),
                Just(vec![0]),
                "[0-9a-z{}\" ]{0,8}".prop_map(String::into_bytes),
            ],
            0..40,
        )
        .prop_map(|parts| parts.concat())
    }

    proptest! {
        #![proptest_config(crate::props::config(512))]

        #[test]
        fn any_bytes_in_any_pieces_parse_without_panicking(
            bytes in proptest::collection::vec(any::<u8>(), 0..300),
            like in stream_like(),
            cuts in proptest::collection::vec(any::<usize>(), 0..8),
            limit in 1usize..64,
        ) {
            run(limit, &bytes, &cuts);
            run(limit, &like, &cuts);
        }

        #[test]
        fn where_the_stream_is_cut_changes_nothing(
            like in stream_like(),
            cuts in proptest::collection::vec(any::<usize>(), 0..8),
        ) {
            // With room for everything, events do not depend on how bytes arrive.
            let whole = run(1 << 20, &like, &[]);
            let pieces = run(1 << 20, &like, &cuts);
            prop_assert_eq!(whole, pieces);
        }

        #[test]
        fn events_come_back_as_sent(
            events in proptest::collection::vec(
                ("[a-z]{1,8}", proptest::collection::vec("[^\r\n]{0,12}", 1..4), proptest::option::of("[a-z0-9]{1,6}")),
                0..6,
            ),
            cuts in proptest::collection::vec(any::<usize>(), 0..8),
        ) {
            let mut text = String::new();
            for (name, lines, id) in &events {
                text.push_str(&format!("event: {name}\n"));
                if let Some(id) = id {
                    text.push_str(&format!("id: {id}\n"));
                }
                for line in lines {
                    text.push_str(&format!("data: {line}\n"));
                }
                text.push('\n');
            }
            let (got, last_id, _) = run(1 << 20, text.as_bytes(), &cuts);
            let got: Vec<(String, String)> = got
                .into_iter()
                .map(|e| e.map(|e| (e.event, String::from_utf8(e.data.to_vec()).unwrap())))
                .collect::<Result<_, _>>()
                .map_err(|_| TestCaseError::fail("an event over the limit"))?;
            let want: Vec<(String, String)> = events
                .iter()
                .map(|(name, lines, _)| (name.clone(), lines.join("\n")))
                .collect();
            prop_assert_eq!(got, want);
            prop_assert_eq!(last_id, events.iter().rev().find_map(|(_, _, id)| id.clone()));
        }
    }
}
