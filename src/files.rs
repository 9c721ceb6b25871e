//! Reading files with a limit on how much is read: a config, a key or the store's own
//! file can be replaced by something huge (or by `/dev/zero`), and no read of mcpauth's
//! may then take all the memory there is.

use std::io::{self, BufRead, Read};
use std::path::Path;

/// MCP client configs. Claude Code's `~/.claude.json` keeps project history and grows to
/// megabytes; this is well beyond any seen.
pub const CONFIG_LIMIT: u64 = 64 << 20;

/// The store's index and secrets file.
pub const STORE_LIMIT: u64 = 64 << 20;

/// Keys, passphrases, recipient lists and single-grant token files.
pub const SMALL_LIMIT: u64 = 1 << 20;

/// The whole file, or an `InvalidData` error when it holds more than `limit` bytes.
pub fn read_capped(path: &Path, limit: u64) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(limit.saturating_add(1))
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "the file holds more than {}, more than mcpauth reads from such a file",
                size(limit)
            ),
        ));
    }
    Ok(bytes)
}

/// [`read_capped`] for text: invalid UTF-8 is an `InvalidData` error.
pub fn read_string_capped(path: &Path, limit: u64) -> io::Result<String> {
    String::from_utf8(read_capped(path, limit)?).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            "the file is not UTF-8 text".to_owned(),
        )
    })
}

/// One line (with its newline, if any) of at most `limit` bytes; `Ok(0)` at the end of
/// input. A longer line is an `InvalidData` error, its rest left unread.
pub fn read_line_capped(input: impl BufRead, line: &mut String, limit: u64) -> io::Result<usize> {
    let n = input.take(limit.saturating_add(1)).read_line(line)?;
    if n as u64 > limit {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("the line is longer than {}", size(limit)),
        ));
    }
    Ok(n)
}

fn size(bytes: u64) -> String {
    if bytes >= 1 << 20 {
        format!("{} MiB", bytes >> 20)
    } else {
        format!("{bytes} bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_over_the_limit_is_refused_and_one_at_it_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, vec![b'x'; 2048]).unwrap();
        assert_eq!(read_capped(&path, 2048).unwrap().len(), 2048);
        let e = read_capped(&path, 2047).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidData);
        assert!(e.to_string().contains("more than 2047 bytes"), "{e}");
        std::fs::write(&path, [0xff, 0xfe]).unwrap();
        assert!(read_string_capped(&path, 10).is_err());
        let missing = read_capped(&dir.path().join("none"), 10).unwrap_err();
        assert_eq!(missing.kind(), io::ErrorKind::NotFound);
    }

    #[test]
    fn a_line_over_the_limit_is_refused() {
        let mut line = String::new();
        let mut input = &b"short\nmuch too long\n"[..];
        assert_eq!(read_line_capped(&mut input, &mut line, 8).unwrap(), 6);
        assert_eq!(line, "short\n");
        line.clear();
        let e = read_line_capped(&mut input, &mut line, 8).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidData);
    }

    #[cfg(unix)]
    #[test]
    fn an_endless_file_is_cut_off() {
        let e = read_capped(Path::new("/dev/zero"), SMALL_LIMIT).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidData);
    }
}
