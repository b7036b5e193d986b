//! The server side of an exchange, written and read byte for byte: the request head
//! exactly as HAProxy 2.6 sends it (target untouched, header order kept, names in lower
//! case, the configured lines appended at the end), bodies streamed in both directions
//! with their framing re-encoded, the response head parsed leniently as HAProxy does.
//!
//! hyper's client would normalize what HAProxy keeps as received (an absolute target
//! without a path gains a `/`, targets with `"` or `{` are refused, repeated headers are
//! regrouped, control bytes in values are refused), which the differential test showed;
//! hence this small codec.

use std::time::Duration;

use bytes::BytesMut;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::h1::{self, ChunkState, ChunkStep, Framing, RequestHead, Version};

/// Largest response head accepted (HAProxy's buffer).
const MAX_RESPONSE_HEAD: usize = 16384;

/// How a response body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyFraming {
    None,
    Length(u64),
    Chunked,
    /// Until the server closes.
    Close,
}

/// A parsed response head.
#[derive(Debug, Clone)]
pub struct ResponseHead {
    pub status: u16,
    pub reason: String,
    /// Header lines in order, names lower-cased; `connection` is kept here and dropped
    /// when the head is written to the client (except for a 101).
    pub headers: Vec<(String, Vec<u8>)>,
    pub framing: BodyFraming,
}

/// The server answered something that is not an HTTP response head (a 502).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("invalid response from the server")]
pub struct BadResponse;

/// Parses a response head at the start of `buf`. `Ok(None)`: read more. `Err`: the
/// server answered garbage (502).
pub fn parse_response(
    buf: &[u8],
    request_method: &str,
) -> Result<Option<(ResponseHead, usize)>, BadResponse> {
    let mut pos = 0;
    let mut lines: Vec<&[u8]> = Vec::new();
    let end = loop {
        let Some(nl) = buf[pos..].iter().position(|&b| b == b'\n') else {
            if buf.len() > MAX_RESPONSE_HEAD {
                return Err(BadResponse);
            }
            return Ok(None);
        };
        let mut line = &buf[pos..pos + nl];
        if let [rest @ .., b'\r'] = line {
            line = rest;
        }
        pos += nl + 1;
        if line.is_empty() {
            if lines.is_empty() {
                // Empty lines before the status line are skipped.
                continue;
            }
            break pos;
        }
        lines.push(line);
        if lines.len() > h1::MAX_HEADERS + 1 {
            return Err(BadResponse);
        }
    };
    let (status_line, hdr_lines) = lines.split_first().ok_or(BadResponse)?;
    let rest = status_line.strip_prefix(b"HTTP/").ok_or(BadResponse)?;
    let (ver, rest) = rest.split_at(rest.iter().position(|&b| b == b' ').ok_or(BadResponse)?);
    if !matches!(ver, [a, b'.', b] if a.is_ascii_digit() && b.is_ascii_digit()) {
        return Err(BadResponse);
    }
    let rest = &rest[1..];
    let (code, reason) = match rest.iter().position(|&b| b == b' ') {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (rest, &b""[..]),
    };
    if code.len() != 3 || !code.iter().all(u8::is_ascii_digit) {
        return Err(BadResponse);
    }
    let status: u16 = std::str::from_utf8(code)
        .ok()
        .and_then(|c| c.parse().ok())
        .ok_or(BadResponse)?;
    let mut headers: Vec<(String, Vec<u8>)> = Vec::with_capacity(hdr_lines.len());
    for line in hdr_lines {
        if matches!(line.first(), Some(b' ' | b'\t')) {
            let (_, v) = headers.last_mut().ok_or(BadResponse)?;
            v.extend_from_slice(b"  ");
            v.extend_from_slice(line);
            continue;
        }
        let colon = line.iter().position(|&b| b == b':').ok_or(BadResponse)?;
        let name = &line[..colon];
        if name.is_empty()
            || name
                .iter()
                .any(|b| matches!(b, b' ' | b'\t' | 0..=31 | 127))
        {
            return Err(BadResponse);
        }
        let mut value = &line[colon + 1..];
        while let [b' ' | b'\t', r @ ..] = value {
            value = r;
        }
        while let [r @ .., b' ' | b'\t'] = value {
            value = r;
        }
        headers.push((
            String::from_utf8_lossy(name).to_ascii_lowercase(),
            value.to_vec(),
        ));
    }
    let mut length: Option<u64> = None;
    let mut chunked = false;
    for (n, v) in &headers {
        if n == "content-length" {
            for part in v.split(|&b| b == b',') {
                let p = String::from_utf8_lossy(part);
                let p = p.trim();
                let l: u64 = p.parse().map_err(|_| BadResponse)?;
                if length.is_some_and(|x| x != l) {
                    return Err(BadResponse);
                }
                length = Some(l);
            }
        } else if n == "transfer-encoding" {
            chunked = v.split(|&b| b == b',').next_back().is_some_and(|t| {
                String::from_utf8_lossy(t)
                    .trim()
                    .eq_ignore_ascii_case("chunked")
            });
        }
    }
    let no_body = request_method.eq_ignore_ascii_case("HEAD")
        || status == 204
        || status == 304
        || (100..200).contains(&status);
    let framing = if no_body {
        BodyFraming::None
    } else if chunked {
        BodyFraming::Chunked
    } else if let Some(l) = length {
        if l == 0 {
            BodyFraming::None
        } else {
            BodyFraming::Length(l)
        }
    } else {
        BodyFraming::Close
    };
    Ok(Some((
        ResponseHead {
            status,
            reason: String::from_utf8_lossy(reason).into_owned(),
            headers,
            framing,
        },
        end,
    )))
}

/// The request head for the server. `connection` (and `proxy-connection`) are dropped
/// except on upgrades, `accept-encoding` is dropped from upgrades, the configured
/// lines are appended, then `connection: close` when the server connection must not
/// be kept (`http-server-close` without `http-pretend-keepalive`) or
/// `connection: keep-alive` for HTTP/1.0.
pub fn request_head(
    head: &RequestHead,
    appended: &[(&str, String)],
    announce_close: bool,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(256 + head.target.len());
    out.extend_from_slice(head.method.as_bytes());
    out.push(b' ');
    out.extend_from_slice(head.target.as_bytes());
    out.push(b' ');
    out.extend_from_slice(head.version.as_str().as_bytes());
    out.extend_from_slice(b"\r\n");
    for (n, v) in &head.headers {
        let drop = if head.websocket {
            n.eq_ignore_ascii_case("accept-encoding")
        } else {
            n.eq_ignore_ascii_case("connection") || n.eq_ignore_ascii_case("proxy-connection")
        };
        if drop {
            continue;
        }
        out.extend(n.bytes().map(|b| b.to_ascii_lowercase()));
        out.extend_from_slice(b": ");
        out.extend_from_slice(v.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    for (n, v) in appended {
        out.extend(n.bytes().map(|b| b.to_ascii_lowercase()));
        out.extend_from_slice(b": ");
        out.extend_from_slice(v.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    if !head.websocket {
        if announce_close {
            out.extend_from_slice(b"connection: close\r\n");
        } else if head.version == Version::Http10 {
            out.extend_from_slice(b"connection: keep-alive\r\n");
        }
    }
    out.extend_from_slice(b"\r\n");
    out
}

/// The response head for the client and HAProxy's `%B` count for it.
pub fn client_head(resp: &ResponseHead, req: &RequestHead, close: bool) -> (u64, Vec<u8>) {
    let mut out = Vec::with_capacity(256);
    out.extend_from_slice(b"HTTP/1.1 ");
    out.extend_from_slice(format!("{:03}", resp.status).as_bytes());
    out.push(b' ');
    out.extend_from_slice(resp.reason.as_bytes());
    out.extend_from_slice(b"\r\n");
    let tunnel = resp.status == 101;
    let mut counted = 0usize;
    for (n, v) in &resp.headers {
        if !tunnel && n == "connection" {
            continue;
        }
        counted += n.len() + v.len();
        out.extend_from_slice(n.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(v);
        out.extend_from_slice(b"\r\n");
    }
    if !tunnel && (100..200).contains(&resp.status) {
        // Interim answers carry no connection header.
    } else if !tunnel {
        if close || resp.framing == BodyFraming::Close {
            out.extend_from_slice(b"connection: close\r\n");
        } else if req.version == Version::Http10 {
            out.extend_from_slice(b"connection: keep-alive\r\n");
        }
    }
    out.extend_from_slice(b"\r\n");
    let bytes = 21 + 8 + 3 + resp.reason.len() as u64 + counted as u64;
    (bytes, out)
}

/// Why a body transfer stopped early.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// The reading side sent something that is not valid framing.
    Invalid,
    /// The reading side closed too early.
    Closed,
    /// The reading side was silent for too long.
    Timeout,
    /// The writing side failed.
    WriteFailed,
}

async fn fill<R: AsyncRead + Unpin>(
    r: &mut R,
    buf: &mut BytesMut,
    idle: Duration,
) -> Result<(), Stop> {
    if buf.capacity() - buf.len() < 4096 {
        buf.reserve(16 * 1024);
    }
    match tokio::time::timeout(idle, r.read_buf(buf)).await {
        Err(_) => Err(Stop::Timeout),
        Ok(Ok(0)) | Ok(Err(_)) => Err(Stop::Closed),
        Ok(Ok(_)) => Ok(()),
    }
}

async fn put<W: AsyncWrite + Unpin>(w: &mut W, data: &[u8], idle: Duration) -> Result<(), Stop> {
    match tokio::time::timeout(idle, w.write_all(data)).await {
        Ok(Ok(())) => Ok(()),
        _ => Err(Stop::WriteFailed),
    }
}

/// Copies a body from `r` (bytes in `buf` first) to `w`, re-encoding chunks.
/// `out` holds bytes to send before the body (the head), sent with the first data.
/// Returns the payload size.
#[allow(clippy::too_many_arguments)]
pub async fn relay<R, W>(
    r: &mut R,
    buf: &mut BytesMut,
    w: &mut W,
    mut out: Vec<u8>,
    framing: BodyFraming,
    read_idle: Duration,
    write_idle: Duration,
    progress: &mut u64,
) -> Result<u64, Stop>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let flush_at = 64 * 1024;
    match framing {
        BodyFraming::None => {}
        BodyFraming::Length(mut left) => {
            while left > 0 {
                if buf.is_empty() {
                    if !out.is_empty() {
                        put(w, &out, write_idle).await?;
                        out.clear();
                    }
                    fill(r, buf, read_idle).await?;
                }
                let n = (buf.len() as u64).min(left) as usize;
                out.extend_from_slice(&buf[..n]);
                let _ = buf.split_to(n);
                left -= n as u64;
                *progress += n as u64;
                if out.len() >= flush_at {
                    put(w, &out, write_idle).await?;
                    out.clear();
                }
            }
        }
        BodyFraming::Chunked => {
            let mut st = ChunkState::Size;
            while st != ChunkState::Done {
                match h1::chunk_step(&mut st, buf) {
                    ChunkStep::More => {
                        if !out.is_empty() {
                            put(w, &out, write_idle).await?;
                            out.clear();
                        }
                        fill(r, buf, read_idle).await?;
                    }
                    ChunkStep::Invalid => {
                        if !out.is_empty() {
                            let _ = put(w, &out, write_idle).await;
                        }
                        return Err(Stop::Invalid);
                    }
                    ChunkStep::Consumed { consumed, data } => {
                        if let Some((a, b)) = data {
                            let len = b - a;
                            out.extend_from_slice(format!("{len:x}\r\n").as_bytes());
                            out.extend_from_slice(&buf[a..b]);
                            out.extend_from_slice(b"\r\n");
                            *progress += len as u64;
                        }
                        let _ = buf.split_to(consumed);
                        if out.len() >= flush_at {
                            put(w, &out, write_idle).await?;
                            out.clear();
                        }
                    }
                }
            }
            out.extend_from_slice(b"0\r\n\r\n");
        }
        BodyFraming::Close => loop {
            if !buf.is_empty() {
                out.extend_from_slice(buf);
                *progress += buf.len() as u64;
                buf.clear();
            }
            if !out.is_empty() {
                put(w, &out, write_idle).await?;
                out.clear();
            }
            match fill(r, buf, read_idle).await {
                Ok(()) => {}
                Err(Stop::Closed) => break,
                Err(e) => return Err(e),
            }
        },
    }
    if !out.is_empty() {
        put(w, &out, write_idle).await?;
    }
    Ok(*progress)
}

/// The request body framing as a response-style framing (for [`relay`]).
pub fn request_framing(f: Framing) -> BodyFraming {
    match f {
        Framing::None => BodyFraming::None,
        Framing::Length(n) => BodyFraming::Length(n),
        Framing::Chunked => BodyFraming::Chunked,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_responses() {
        let (h, n) = parse_response(
            b"HTTP/1.1 200 Yay Fine\r\nX-B: 1\r\nConnection: close\r\n\r\nbody",
            "GET",
        )
        .unwrap()
        .unwrap();
        assert_eq!((h.status, h.reason.as_str(), n), (200, "Yay Fine", 52));
        assert_eq!(h.framing, BodyFraming::Close);
        assert_eq!(h.headers[0], ("x-b".to_string(), b"1".to_vec()));
        let (h, _) = parse_response(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
            "GET",
        )
        .unwrap()
        .unwrap();
        assert_eq!(h.framing, BodyFraming::Chunked);
        let (h, _) = parse_response(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", "HEAD")
            .unwrap()
            .unwrap();
        assert_eq!(h.framing, BodyFraming::None);
        let (h, _) = parse_response(b"HTTP/1.0 204\r\n\r\n", "GET")
            .unwrap()
            .unwrap();
        assert_eq!((h.status, h.reason.as_str()), (204, ""));
        assert!(
            parse_response(b"HTTP/1.1 200 OK\r\n", "GET")
                .unwrap()
                .is_none()
        );
        assert!(parse_response(b"garbage\r\n\r\n", "GET").is_err());
        assert!(parse_response(b"HTTP/1.1 2000 OK\r\n\r\n", "GET").is_err());
        assert!(
            parse_response(
                b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
                "GET"
            )
            .is_err()
        );
    }

    #[test]
    fn request_heads_as_haproxy_sends_them() {
        let (head, _) = h1::parse_request(
            b"GET http://example.com HTTP/1.1\r\nHost: example.com\r\nX-Forwarded-For: 1.2.3.4\r\nConnection: keep-alive\r\nX-A: a\x01b\r\n\r\n",
        )
        .unwrap()
        .unwrap();
        let out = request_head(
            &head,
            &[
                ("X-Forwarded-For", "127.0.0.1".into()),
                ("X-Original-To", "127.0.0.1".into()),
            ],
            false,
        );
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "GET http://example.com HTTP/1.1\r\nhost: example.com\r\nx-forwarded-for: 1.2.3.4\r\nx-a: a\x01b\r\nx-forwarded-for: 127.0.0.1\r\nx-original-to: 127.0.0.1\r\n\r\n"
        );
    }
}
