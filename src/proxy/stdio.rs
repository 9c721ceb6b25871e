//! The host side: newline-delimited JSON-RPC on stdin and stdout.
//!
//! Lines are read as bytes and handed on untouched. All writes to stdout go through one
//! task fed by a channel, so messages from concurrent HTTP exchanges never interleave
//! and stdout carries nothing but whole JSON-RPC lines.

use bytes::Bytes;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;

/// Reads the next non-blank line without its line end; `None` at end of input.
pub async fn read_line<R: AsyncBufRead + Unpin>(input: &mut R) -> std::io::Result<Option<Bytes>> {
    loop {
        let mut line = Vec::new();
        if input.read_until(b'\n', &mut line).await? == 0 {
            return Ok(None);
        }
        while matches!(line.last(), Some(b'\n' | b'\r')) {
            line.pop();
        }
        if line.iter().any(|b| !b.is_ascii_whitespace()) {
            return Ok(Some(Bytes::from(line)));
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

    #[tokio::test]
    async fn blank_lines_are_skipped_and_crlf_trimmed() {
        let mut input: &[u8] = b"\r\n  \n{\"a\":1}\r\n{\"b\":2}";
        assert_eq!(
            read_line(&mut input).await.unwrap().unwrap().as_ref(),
            b"{\"a\":1}"
        );
        assert_eq!(
            read_line(&mut input).await.unwrap().unwrap().as_ref(),
            b"{\"b\":2}"
        );
        assert!(read_line(&mut input).await.unwrap().is_none());
    }
}
