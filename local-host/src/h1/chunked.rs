//! The chunked transfer coding, decoded one step at a time over whatever bytes the
//! caller has read (no I/O here), and the pieces the relay re-encodes.

use super::MAX_HEAD_BYTES;

/// Chunked-body decoder state, fed with bytes from the client buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChunkState {
    /// Reading a size line.
    Size,
    /// `n` data bytes left in the current chunk.
    Data(u64),
    /// Expecting the CRLF after chunk data.
    DataEnd,
    /// Reading trailer lines after the last chunk.
    Trailers,
    Done,
}

/// One step of chunked decoding over `buf`.
#[derive(Debug, PartialEq, Eq)]
pub enum ChunkStep {
    /// Need more bytes.
    More,
    /// `consumed` bytes used, of which `data` is the payload range.
    Consumed {
        consumed: usize,
        data: Option<(usize, usize)>,
    },
    Invalid,
}

/// A trailer line that is not `name: value`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("invalid trailer line")]
pub struct BadTrailer;

/// Decodes as much as possible from `buf` in state `st`.
pub fn chunk_step(st: &mut ChunkState, buf: &[u8]) -> ChunkStep {
    match *st {
        ChunkState::Size => {
            let Some(nl) = memchr::memchr(b'\n', buf) else {
                return if buf.len() > 1024 {
                    ChunkStep::Invalid
                } else {
                    ChunkStep::More
                };
            };
            let line = &buf[..nl];
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            let hex_end = line
                .iter()
                .position(|b| !b.is_ascii_hexdigit())
                .unwrap_or(line.len());
            if hex_end == 0 || hex_end > 15 {
                return ChunkStep::Invalid;
            }
            let rest = &line[hex_end..];
            if !(rest.is_empty() || matches!(rest[0], b';' | b' ' | b'\t')) {
                return ChunkStep::Invalid;
            }
            // At most 15 hex digits: no overflow.
            let size = line[..hex_end].iter().fold(0u64, |n, &d| {
                let v = match d {
                    b'0'..=b'9' => d - b'0',
                    b'a'..=b'f' => d - b'a' + 10,
                    _ => d - b'A' + 10,
                };
                (n << 4) | u64::from(v)
            });
            *st = if size == 0 {
                ChunkState::Trailers
            } else {
                ChunkState::Data(size)
            };
            ChunkStep::Consumed {
                consumed: nl + 1,
                data: None,
            }
        }
        ChunkState::Data(left) => {
            if buf.is_empty() {
                return ChunkStep::More;
            }
            let n = (buf.len() as u64).min(left) as usize;
            *st = if left == n as u64 {
                ChunkState::DataEnd
            } else {
                ChunkState::Data(left - n as u64)
            };
            ChunkStep::Consumed {
                consumed: n,
                data: Some((0, n)),
            }
        }
        ChunkState::DataEnd => match buf {
            [b'\r', b'\n', ..] => {
                *st = ChunkState::Size;
                ChunkStep::Consumed {
                    consumed: 2,
                    data: None,
                }
            }
            [b'\n', ..] => {
                *st = ChunkState::Size;
                ChunkStep::Consumed {
                    consumed: 1,
                    data: None,
                }
            }
            [] | [b'\r'] => ChunkStep::More,
            _ => ChunkStep::Invalid,
        },
        ChunkState::Trailers => {
            let Some(nl) = memchr::memchr(b'\n', buf) else {
                return if buf.len() > MAX_HEAD_BYTES {
                    ChunkStep::Invalid
                } else {
                    ChunkStep::More
                };
            };
            let line = &buf[..nl];
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if line.is_empty() {
                *st = ChunkState::Done;
            }
            ChunkStep::Consumed {
                consumed: nl + 1,
                data: None,
            }
        }
        ChunkState::Done => ChunkStep::Consumed {
            consumed: 0,
            data: None,
        },
    }
}

/// A line without its CR (the LF is already gone).
pub(crate) fn trim_line(line: &[u8]) -> &[u8] {
    match line {
        [rest @ .., b'\r'] => rest,
        _ => line,
    }
}

/// The trailer line a [`ChunkStep::Consumed`] of `consumed` bytes read in the
/// trailers state, without its line end.
pub fn trailer_line(buf: &[u8], consumed: usize) -> &[u8] {
    trim_line(buf.get(..consumed.saturating_sub(1)).unwrap_or_default())
}

/// Appends a trailer line (`name: value`, the name in lower case, as HAProxy 2.6
/// forwards trailers) to `out`.
pub fn push_trailer(out: &mut Vec<u8>, line: &[u8]) -> Result<(), BadTrailer> {
    if line.is_empty() {
        return Ok(());
    }
    let colon = memchr::memchr(b':', line).ok_or(BadTrailer)?;
    let (name, value) = line.split_at(colon);
    out.extend(name.iter().map(u8::to_ascii_lowercase));
    out.extend_from_slice(b": ");
    out.extend_from_slice(value.get(1..).unwrap_or_default().trim_ascii());
    out.extend_from_slice(b"\r\n");
    Ok(())
}

/// Appends a chunk's size line (`{len:x}\r\n`) without formatting machinery.
pub fn push_size(out: &mut Vec<u8>, len: usize) {
    let mut digits = [0u8; 16];
    let mut i = digits.len();
    let mut n = len;
    loop {
        i -= 1;
        digits[i] = b"0123456789abcdef"[n & 15];
        n >>= 4;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
    out.extend_from_slice(b"\r\n");
}

/// The chunked body bytes that came with a response head are already invalid: HAProxy
/// 2.6 parses what it read with the head before it forwards the head, and answers 502
/// (probed with a raw origin sending `zz` as the first chunk size, or a trailer line
/// without a colon).
pub fn chunked_start_invalid(buf: &[u8]) -> bool {
    let mut st = ChunkState::Size;
    let mut pos = 0;
    loop {
        let in_trailers = st == ChunkState::Trailers;
        match chunk_step(&mut st, &buf[pos..]) {
            ChunkStep::Invalid => return true,
            ChunkStep::More => return false,
            ChunkStep::Consumed { consumed, .. } => {
                if in_trailers
                    && push_trailer(&mut Vec::new(), trailer_line(&buf[pos..], consumed)).is_err()
                {
                    return true;
                }
                if consumed == 0 || st == ChunkState::Done {
                    return false;
                }
                pos += consumed;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunked_decoding() {
        let body = b"3\r\nabc\r\n10;ext=1\r\n0123456789abcdef\r\n0\r\nX-T: 1\r\n\r\nNEXT";
        let mut st = ChunkState::Size;
        let mut pos = 0;
        let mut out = Vec::new();
        while st != ChunkState::Done {
            match chunk_step(&mut st, &body[pos..]) {
                ChunkStep::Consumed { consumed, data } => {
                    if let Some((a, b)) = data {
                        out.extend_from_slice(&body[pos + a..pos + b]);
                    }
                    pos += consumed;
                }
                other => panic!("{other:?} at {pos}"),
            }
        }
        assert_eq!(out, b"abc0123456789abcdef");
        assert_eq!(&body[pos..], b"NEXT");
        let mut st = ChunkState::Size;
        assert_eq!(chunk_step(&mut st, b"zz\r\n"), ChunkStep::Invalid);
        let mut st = ChunkState::DataEnd;
        assert_eq!(chunk_step(&mut st, b"xx"), ChunkStep::Invalid);
        let mut st = ChunkState::Size;
        chunk_step(&mut st, b"FfFfFfFfFfFfFfF\r\n");
        assert_eq!(st, ChunkState::Data(0xfff_ffff_ffff_ffff));
        let mut st = ChunkState::Size;
        assert_eq!(
            chunk_step(&mut st, b"1000000000000000\r\n"),
            ChunkStep::Invalid
        );
    }

    #[test]
    fn size_lines_as_format_writes_them() {
        for n in [1usize, 9, 10, 15, 16, 255, 4096, 65535, 1 << 40] {
            let mut out = Vec::new();
            push_size(&mut out, n);
            assert_eq!(out, format!("{n:x}\r\n").into_bytes());
        }
    }

    #[test]
    fn trailers_lower_cased() {
        let mut out = Vec::new();
        assert_eq!(push_trailer(&mut out, b"X-T:  1 "), Ok(()));
        assert_eq!(out, b"x-t: 1\r\n");
        assert_eq!(push_trailer(&mut out, b"nocolon"), Err(BadTrailer));
    }
}
