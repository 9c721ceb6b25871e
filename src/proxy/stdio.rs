//! The host side: newline-delimited JSON-RPC on stdin and stdout.
//!
//! Lines are read as bytes and handed on untouched. All writes to stdout go through one
//! task fed by a channel, so messages from concurrent HTTP exchanges never interleave
//! and stdout carries nothing but whole JSON-RPC lines.

use bytes::Bytes;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;

/// What the host sent next.
#[derive(Debug, PartialEq, Eq)]
pub enum Input {
    /// A non-blank line, without its line end.
    Line(Bytes),
    /// A line longer than the limit, read to its end and dropped.
    TooLong,
    End,
}

/// Reads the next non-blank line of at most `limit` bytes. A longer one is consumed
/// without being kept, so a host (or whatever feeds stdin) cannot grow the proxy.
pub async fn read_line<R: AsyncBufRead + Unpin>(
    input: &mut R,
    limit: usize,
) -> std::io::Result<Input> {
    loop {
        let mut line = Vec::new();
        let mut too_long = false;
        loop {
            let buf = input.fill_buf().await?;
            if buf.is_empty() {
                if line.is_empty() && !too_long {
                    return Ok(Input::End);
                }
                break;
            }
            let (take, ended) = match buf.iter().position(|&b| b == b'\n') {
                Some(i) => (i + 1, true),
                None => (buf.len(), false),
            };
            // Room for a line end (`\r\n`), which does not count; checked exactly below.
            too_long |= line.len() + take > limit + 2;
            if too_long {
                line = Vec::new();
            } else {
                line.extend_from_slice(&buf[..take]);
            }
            input.consume(take);
            if ended {
                break;
            }
        }
        while matches!(line.last(), Some(b'\n' | b'\r')) {
            line.pop();
        }
        if too_long || line.len() > limit {
            return Ok(Input::TooLong);
        }
        if line.iter().any(|b| !b.is_ascii_whitespace()) {
            return Ok(Input::Line(Bytes::from(line)));
        }
    }
}

/// Writes each message as one line until the channel closes or stdout goes away (a
/// closed stdout means the host left, which is not an error).
pub async fn write_lines<W: AsyncWrite + Unpin>(mut output: W, mut rx: mpsc::Receiver<Bytes>) {
    while let Some(message) = rx.recv().await {
        if write_one(&mut output, &message).await.is_err() {
            tracing::debug!("stdout closed; dropping further messages");
            return;
        }
        // Flush once the queue is drained, not after every message of a burst.
        if rx.is_empty() && output.flush().await.is_err() {
            return;
        }
    }
    let _ = output.flush().await;
}

/// A JSON value may be spread over several lines by a server (pretty-printed bodies,
/// multi-line SSE data). Line ends can only be whitespace between JSON tokens (inside
/// strings they must be escaped), so turning them into spaces keeps the message intact
/// while making it one line.
async fn write_one<W: AsyncWrite + Unpin>(output: &mut W, message: &[u8]) -> std::io::Result<()> {
    let start = message.iter().position(|b| !b.is_ascii_whitespace());
    let Some(start) = start else { return Ok(()) };
    let end = message
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .unwrap_or(start)
        + 1;
    let mut rest = &message[start..end];
    while let Some(pos) = rest.iter().position(|&b| b == b'\n' || b == b'\r') {
        output.write_all(&rest[..pos]).await?;
        output.write_all(b" ").await?;
        rest = &rest[pos + 1..];
    }
    output.write_all(rest).await?;
    output.write_all(b"\n").await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn multi_line_json_becomes_one_line() {
        let mut out = Vec::new();
        write_one(&mut out, b"\n{\r\n \"a\": [1,\n2]\n}\n")
            .await
            .unwrap();
        assert_eq!(out, b"{   \"a\": [1, 2] }\n");
    }

    fn line(text: &[u8]) -> Input {
        Input::Line(Bytes::copy_from_slice(text))
    }

    #[tokio::test]
    async fn blank_lines_are_skipped_and_crlf_trimmed() {
        let mut input: &[u8] = b"\r\n  \n{\"a\":1}\r\n{\"b\":2}";
        assert_eq!(
            read_line(&mut input, 100).await.unwrap(),
            line(b"{\"a\":1}")
        );
        assert_eq!(
            read_line(&mut input, 100).await.unwrap(),
            line(b"{\"b\":2}")
        );
        assert_eq!(read_line(&mut input, 100).await.unwrap(), Input::End);
    }

    #[tokio::test]
    async fn a_line_over_the_limit_is_dropped_and_the_next_one_read() {
        // Read through a small buffer, as stdin arrives: the long line spans many fills.
        let text = [&[b'x'; 1000][..], b"\r\n12345678\r\n", &[b'y'; 9][..]].concat();
        let mut input = tokio::io::BufReader::with_capacity(16, &text[..]);
        assert_eq!(read_line(&mut input, 8).await.unwrap(), Input::TooLong);
        assert_eq!(read_line(&mut input, 8).await.unwrap(), line(b"12345678"));
        assert_eq!(read_line(&mut input, 8).await.unwrap(), Input::TooLong);
        assert_eq!(read_line(&mut input, 8).await.unwrap(), Input::End);
    }
}
