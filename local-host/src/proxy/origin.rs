//! The server side of an exchange, written and read byte for byte: the request head
//! exactly as HAProxy 2.6 sends it (target untouched, header order kept, names in lower
//! case, the configured lines appended at the end), the response head parsed leniently
//! as HAProxy does and rewritten for the client. The bodies are relayed by
//! [`super::relay`] (the async part); this file does no I/O.
//!
//! hyper's client would normalize what HAProxy keeps as received (an absolute target
//! without a path gains a `/`, targets with `"` or `{` are refused, repeated headers are
//! regrouped, control bytes in values are refused), which the differential test showed;
//! hence this small codec.

use std::net::IpAddr;
use std::ops::Range;

use router_core::unstable::encoding;

use crate::access_log::IpText;
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

/// A parsed response head. The reason and the header lines live in one buffer
/// (three allocations per response, not two per header line).
#[derive(Debug, Clone)]
pub struct ResponseHead {
    pub status: u16,
    /// The version's two digits when it is below 1.1 (`0.9`, `1.0`): HAProxy 2.6
    /// writes such a version back as received, and 1.1 for any other.
    legacy_version: Option<[u8; 2]>,
    /// The reason, then each header's name (lower-cased) and value, back to back.
    text: Vec<u8>,
    reason: Range<usize>,
    /// (name, value) of each header line in `text`, in order (`connection` as
    /// received: [`client_head`] rewrites it).
    fields: Vec<(Range<usize>, Range<usize>)>,
    pub framing: BodyFraming,
    /// What `http-response` rules added to the head's size (negative: removed).
    /// HAProxy 2.6's `%B` counts the head as the server sent it.
    rules_delta: i64,
}

impl ResponseHead {
    /// The reason phrase (invalid UTF-8 replaced by U+FFFD).
    pub fn reason(&self) -> &[u8] {
        self.text.get(self.reason.clone()).unwrap_or_default()
    }

    /// What the response says about its connection, for router-core's reuse rules.
    pub fn connection(&self) -> router_core::unstable::reuse::ResponseConn {
        let (mut close, mut keep_alive) = (false, false);
        for (_, v) in self.headers().filter(|(n, _)| *n == b"connection") {
            for token in v.split(|&b| b == b',') {
                let t = token.trim_ascii();
                close |= t.eq_ignore_ascii_case(b"close");
                keep_alive |= t.eq_ignore_ascii_case(b"keep-alive");
            }
        }
        router_core::unstable::reuse::ResponseConn {
            version_11: self.legacy_version.is_none(),
            close,
            keep_alive,
            length_known: self.framing != BodyFraming::Close,
        }
    }

    /// The status and header lines as router-core's `http-response` rules read
    /// them (values as UTF-8, invalid bytes replaced).
    pub fn rule_lines(&self) -> Vec<(String, String)> {
        self.headers()
            .map(|(n, v)| {
                (
                    String::from_utf8_lossy(n).into_owned(),
                    String::from_utf8_lossy(v).into_owned(),
                )
            })
            .collect()
    }

    /// Applies what router-core's `http-response` rules decided: header edits
    /// (names written lower-cased, as HAProxy 2.6 writes them) and `set-status`
    /// (HAProxy's reason for the status when the rule gives none). The framing
    /// read from the server's head stays.
    pub fn apply_rules(&mut self, v: &router_core::unstable::rules::response::ResponseVerdict) {
        let mut lines: Vec<(Vec<u8>, Vec<u8>)> = self
            .headers()
            .map(|(n, v)| (n.to_vec(), v.to_vec()))
            .collect();
        router_core::unstable::rules::header::apply(
            &mut lines,
            &v.edits,
            |h| std::str::from_utf8(&h.0).unwrap_or(""),
            |e| {
                (
                    e.name.to_ascii_lowercase().into_bytes(),
                    e.value.clone().into_bytes(),
                )
            },
        );
        let reason: Vec<u8> = match &v.status {
            Some((s, r)) => {
                self.status = *s;
                r.as_deref()
                    .unwrap_or(router_core::unstable::answer::reason(*s))
                    .as_bytes()
                    .to_vec()
            }
            None => self.reason().to_vec(),
        };
        let size = |r: usize, lines: &mut dyn Iterator<Item = usize>| -> i64 {
            i64::try_from(r + lines.sum::<usize>()).unwrap_or(i64::MAX)
        };
        let before = size(
            self.reason().len(),
            &mut self.headers().map(|(n, v)| n.len() + v.len()),
        );
        let after = size(
            reason.len(),
            &mut lines.iter().map(|(n, v)| n.len() + v.len()),
        );
        self.rules_delta += after - before;
        let mut text = reason;
        let reason = 0..text.len();
        let mut fields = Vec::with_capacity(lines.len());
        for (n, v) in lines {
            let n0 = text.len();
            text.extend_from_slice(&n);
            let v0 = text.len();
            text.extend_from_slice(&v);
            fields.push((n0..v0, v0..text.len()));
        }
        self.text = text;
        self.reason = reason;
        self.fields = fields;
    }

    /// Header lines in order: names lower-cased (invalid UTF-8 replaced by U+FFFD),
    /// values as received (an obs-fold continuation appended with two spaces).
    pub fn headers(&self) -> impl Iterator<Item = (&[u8], &[u8])> + '_ {
        self.fields.iter().map(|(n, v)| {
            (
                self.text.get(n.clone()).unwrap_or_default(),
                self.text.get(v.clone()).unwrap_or_default(),
            )
        })
    }
}

/// The server answered something that is not an HTTP response head (a 502).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("invalid response from the server")]
pub struct BadResponse;

pub(super) fn trim_line(line: &[u8]) -> &[u8] {
    match line {
        [rest @ .., b'\r'] => rest,
        _ => line,
    }
}

/// Appends `bytes` as `String::from_utf8_lossy(bytes)` would write them.
fn push_lossy(out: &mut Vec<u8>, bytes: &[u8]) {
    if bytes.is_ascii() {
        out.extend_from_slice(bytes);
    } else {
        out.extend_from_slice(String::from_utf8_lossy(bytes).as_bytes());
    }
}

/// Parses a response head at the start of `buf`. `Ok(None)`: read more. `Err`: the
/// server answered garbage (502).
pub fn parse_response(
    buf: &[u8],
    request_method: &str,
) -> Result<Option<(ResponseHead, usize)>, BadResponse> {
    // The lines up to the empty one (empty lines before the status line are skipped);
    // nothing is judged before the head is complete, except its size.
    let mut spans = [(0usize, 0usize); h1::MAX_HEADERS + 1];
    let mut count = 0;
    let mut pos = 0;
    let end = loop {
        let Some(nl) = memchr::memchr(b'\n', &buf[pos..]) else {
            if buf.len() > MAX_RESPONSE_HEAD {
                return Err(BadResponse);
            }
            return Ok(None);
        };
        let line = trim_line(&buf[pos..pos + nl]);
        let span = (pos, pos + line.len());
        pos += nl + 1;
        if line.is_empty() {
            if count == 0 {
                continue;
            }
            break pos;
        }
        // A bare CR inside a line (HAProxy 2.6: 502, as it refuses it in requests).
        if memchr::memchr(b'\r', line).is_some() {
            return Err(BadResponse);
        }
        let Some(slot) = spans.get_mut(count) else {
            return Err(BadResponse);
        };
        *slot = span;
        count += 1;
    };
    let line = |i: usize| -> &[u8] {
        let (a, b) = spans[i];
        &buf[a..b]
    };
    let status_line = line(0);
    let rest = status_line.strip_prefix(b"HTTP/").ok_or(BadResponse)?;
    let (ver, rest) = rest.split_at(rest.iter().position(|&b| b == b' ').ok_or(BadResponse)?);
    if !matches!(ver, [a, b'.', b] if a.is_ascii_digit() && b.is_ascii_digit()) {
        return Err(BadResponse);
    }
    let legacy_version = match ver {
        [maj @ (b'0' | b'1'), b'.', min] if (*maj, *min) < (b'1', b'1') => Some([*maj, *min]),
        _ => None,
    };
    let rest = &rest[1..];
    let (code, reason) = match rest.iter().position(|&b| b == b' ') {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (rest, &b""[..]),
    };
    let [a, b, c] = code else {
        return Err(BadResponse);
    };
    if !(a.is_ascii_digit() && b.is_ascii_digit() && c.is_ascii_digit()) {
        return Err(BadResponse);
    }
    let status = u16::from(a - b'0') * 100 + u16::from(b - b'0') * 10 + u16::from(c - b'0');
    // HAProxy 2.6's limit, the request's (h1.rs): 15275 in this cost model, probed
    // with a raw origin (one header or forty, the same sum).
    let mut cost = 8 + code.len() + reason.len();
    let mut text = Vec::with_capacity(end);
    push_lossy(&mut text, reason);
    let reason = 0..text.len();
    let mut fields: Vec<(Range<usize>, Range<usize>)> = Vec::with_capacity(count - 1);
    for i in 1..count {
        let line = line(i);
        if matches!(line.first(), Some(b' ' | b'\t')) {
            // The last value is at the end of `text`.
            let (_, v) = fields.last_mut().ok_or(BadResponse)?;
            text.extend_from_slice(b"  ");
            text.extend_from_slice(line);
            v.end = text.len();
            cost += 2 + line.len();
            continue;
        }
        let colon = memchr::memchr(b':', line).ok_or(BadResponse)?;
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
        cost += name.len() + value.len() + 8;
        let n0 = text.len();
        push_lossy(&mut text, name);
        text[n0..].make_ascii_lowercase();
        let v0 = text.len();
        text.extend_from_slice(value);
        fields.push((n0..v0, v0..text.len()));
    }
    if cost > h1::MAX_HEAD_COST {
        return Err(BadResponse);
    }
    let head = ResponseHead {
        status,
        legacy_version,
        text,
        reason,
        fields,
        rules_delta: 0,
        framing: BodyFraming::None,
    };
    let framing = body_framing(request_method, status, head.headers())?;
    Ok(Some((ResponseHead { framing, ..head }, end)))
}

/// How the response body is delimited (RFC 9112 6.3, as HAProxy 2.6 reads it):
/// none for HEAD, 1xx, 204 and 304; chunked with Transfer-Encoding (which
/// overrides Content-Length); else Content-Length (every value must agree); else
/// until close. HAProxy 2.6.12 answers 502 to a response whose transfer codings,
/// over all its Transfer-Encoding lines, are anything but one `chunked` (`gzip`,
/// `gzip, chunked`, `chunked, chunked`: probed), so they are refused here too.
/// `headers` are (lowercase name, value) pairs.
fn body_framing<'h>(
    request_method: &str,
    status: u16,
    headers: impl Iterator<Item = (&'h [u8], &'h [u8])>,
) -> Result<BodyFraming, BadResponse> {
    let mut length: Option<u64> = None;
    // Transfer codings seen: how many are `chunked`, whether any other is.
    let (mut chunked, mut other_coding, mut te) = (0u32, false, false);
    for (n, v) in headers {
        if n == b"content-length" {
            for part in v.split(|&b| b == b',') {
                // Digits only (HAProxy 2.6: 502 to `+2`, as to `-2`).
                let p = part.trim_ascii();
                if p.is_empty() || !p.iter().all(u8::is_ascii_digit) {
                    return Err(BadResponse);
                }
                let l: u64 = String::from_utf8_lossy(p)
                    .parse()
                    .map_err(|_| BadResponse)?;
                if length.is_some_and(|x| x != l) {
                    return Err(BadResponse);
                }
                length = Some(l);
            }
        } else if n == b"transfer-encoding" {
            te = true;
            for coding in v.split(|&b| b == b',') {
                if String::from_utf8_lossy(coding)
                    .trim()
                    .eq_ignore_ascii_case("chunked")
                {
                    chunked += 1;
                } else {
                    other_coding = true;
                }
            }
        }
    }
    if te && (other_coding || chunked != 1) {
        return Err(BadResponse);
    }
    // Methods are case-sensitive in HAProxy 2.6: `head` is another method, whose
    // answer has a body.
    let no_body =
        request_method == "HEAD" || status == 204 || status == 304 || (100..200).contains(&status);
    Ok(if no_body {
        BodyFraming::None
    } else if te {
        BodyFraming::Chunked
    } else {
        match length {
            Some(0) => BodyFraming::None,
            Some(l) => BodyFraming::Length(l),
            None => BodyFraming::Close,
        }
    })
}

/// The request head for the server. `connection` loses its `close` and `keep-alive`
/// tokens ([`h1::connection_kept`]), `accept-encoding` is dropped from WebSocket
/// upgrades, the configured lines are appended, then, unless the request asks for an upgrade, `connection: close` when
/// the server connection must not be kept (`http-server-close` without
/// `http-pretend-keepalive`; nothing for HTTP/1.0, which closes by default, as HAProxy
/// 2.6 does) or `connection: keep-alive` for HTTP/1.0.
pub fn request_head(
    head: &RequestHead,
    appended: &[(&str, IpAddr)],
    announce_close: bool,
) -> Vec<u8> {
    let size = head.method.len()
        + head.target.len()
        + head
            .headers
            .iter()
            .map(|(n, v)| n.len() + v.len() + 4)
            .sum::<usize>()
        + appended
            .iter()
            .map(|(n, _)| n.len() + 4 + 45)
            .sum::<usize>()
        + 64;
    let mut out = Vec::with_capacity(size);
    out.extend_from_slice(head.method.as_bytes());
    out.push(b' ');
    out.extend_from_slice(head.target.as_bytes());
    out.push(b' ');
    out.extend_from_slice(head.version.as_str().as_bytes());
    out.extend_from_slice(b"\r\n");
    // router-core's rule: no encoding is asked for on a WebSocket upgrade.
    let drop_accept_encoding = matches!(
        encoding::accept_encoding(encoding::Platform::Socket, head.websocket, None),
        encoding::AcceptEncoding::Remove
    );
    for (n, v) in &head.headers {
        if drop_accept_encoding && n.eq_ignore_ascii_case("accept-encoding") {
            continue;
        }
        let kept;
        let v = if n.eq_ignore_ascii_case("connection") {
            kept = h1::connection_kept(v.as_bytes());
            if kept.is_empty() {
                continue;
            }
            &kept[..]
        } else {
            v.as_bytes()
        };
        out.extend(n.bytes().map(|b| b.to_ascii_lowercase()));
        out.extend_from_slice(b": ");
        out.extend_from_slice(v);
        out.extend_from_slice(b"\r\n");
    }
    for (n, v) in appended {
        out.extend(n.bytes().map(|b| b.to_ascii_lowercase()));
        out.extend_from_slice(b": ");
        out.extend_from_slice(IpText::new(*v).as_str().as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    if !head.upgrade {
        if announce_close {
            if head.version != Version::Http10 {
                out.extend_from_slice(b"connection: close\r\n");
            }
        } else if head.version == Version::Http10 {
            out.extend_from_slice(b"connection: keep-alive\r\n");
        }
    }
    out.extend_from_slice(b"\r\n");
    out
}

/// Whether the exchange becomes a byte tunnel after this response: a `101`, or a
/// `2xx` to `CONNECT`.
pub fn is_tunnel(resp: &ResponseHead, req: &RequestHead) -> bool {
    resp.status == 101
        || ((200..300).contains(&resp.status) && req.method.eq_ignore_ascii_case("CONNECT"))
}

/// The response head for the client and HAProxy's `%B` count for it, as HAProxy 2.6
/// rewrites it: the version kept only when below 1.1; `connection` without its `close`
/// and `keep-alive` tokens, then one written for the client connection (`close` for a 1.1 answer, or
/// `keep-alive` when the request or the answer is 1.0); `content-length` and
/// `transfer-encoding` dropped from 1xx and 204 answers; `content-length` dropped
/// beside `transfer-encoding`, and several merged into one.
pub fn client_head(resp: &ResponseHead, req: &RequestHead, close: bool) -> (u64, Vec<u8>) {
    let mut out = Vec::with_capacity(256 + resp.text.len() + 4 * resp.fields.len());
    match resp.legacy_version {
        Some([maj, min]) => {
            out.extend_from_slice(&[b'H', b'T', b'T', b'P', b'/', maj, b'.', min, b' '])
        }
        None => out.extend_from_slice(b"HTTP/1.1 "),
    }
    // `{:03}`: the status has three digits.
    let s = resp.status;
    out.extend_from_slice(&[
        b'0' + (s / 100 % 10) as u8,
        b'0' + (s / 10 % 10) as u8,
        b'0' + (s % 10) as u8,
        b' ',
    ]);
    out.extend_from_slice(resp.reason());
    out.extend_from_slice(b"\r\n");
    let tunnel = is_tunnel(resp, req);
    let interim = (100..200).contains(&resp.status) && !tunnel;
    let no_length = interim || resp.status == 204;
    let chunked = resp.headers().any(|(n, _)| n == b"transfer-encoding");
    let mut length_written = false;
    let mut counted = 0usize;
    for (n, mut v) in resp.headers() {
        let kept;
        if n == b"connection" {
            kept = h1::connection_kept(v);
            if kept.is_empty() {
                continue;
            }
            v = &kept;
        }
        if n == b"content-length" || n == b"transfer-encoding" {
            if no_length {
                continue;
            }
            if n == b"content-length" {
                if chunked || length_written {
                    continue;
                }
                length_written = true;
                // The values agree (`parse_response`): the first one, alone.
                v = v
                    .split(|&b| b == b',')
                    .next()
                    .unwrap_or_default()
                    .trim_ascii();
            }
        }
        counted += n.len() + v.len();
        out.extend_from_slice(n);
        out.extend_from_slice(b": ");
        out.extend_from_slice(v);
        out.extend_from_slice(b"\r\n");
    }
    let legacy = resp.legacy_version.is_some();
    if !tunnel && !interim {
        if close || resp.framing == BodyFraming::Close {
            if !legacy {
                out.extend_from_slice(b"connection: close\r\n");
            }
        } else if req.version == Version::Http10 || legacy {
            out.extend_from_slice(b"connection: keep-alive\r\n");
        }
    }
    out.extend_from_slice(b"\r\n");
    let bytes = (21 + 8 + 3 + resp.reason().len() as u64 + counted as u64)
        .saturating_add_signed(-resp.rules_delta);
    (bytes, out)
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
        match h1::chunk_step(&mut st, &buf[pos..]) {
            ChunkStep::Invalid => return true,
            ChunkStep::More => return false,
            ChunkStep::Consumed { consumed, .. } => {
                let line = buf.get(pos..(pos + consumed).saturating_sub(1));
                if in_trailers
                    && push_trailer(&mut Vec::new(), trim_line(line.unwrap_or_default())).is_err()
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

/// Appends a trailer line (`name: value`, the name in lower case) to `out`.
pub(super) fn push_trailer(out: &mut Vec<u8>, line: &[u8]) -> Result<(), BadResponse> {
    if line.is_empty() {
        return Ok(());
    }
    let colon = memchr::memchr(b':', line).ok_or(BadResponse)?;
    let (name, value) = line.split_at(colon);
    out.extend(name.iter().map(u8::to_ascii_lowercase));
    out.extend_from_slice(b": ");
    out.extend_from_slice(value.get(1..).unwrap_or_default().trim_ascii());
    out.extend_from_slice(b"\r\n");
    Ok(())
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
    /// The framing rule on its own (RFC 9112 section 6.3; HAProxy 2.6 answers 502
    /// to a response whose Content-Length values disagree).
    #[test]
    fn body_framing_follows_rfc_9112() {
        let f = |method: &str, status: u16, headers: &[(&str, &str)]| {
            body_framing(
                method,
                status,
                headers.iter().map(|(n, v)| (n.as_bytes(), v.as_bytes())),
            )
        };
        let cl = [("content-length", "12")];
        assert_eq!(f("GET", 200, &cl), Ok(BodyFraming::Length(12)));
        assert_eq!(f("HEAD", 200, &cl), Ok(BodyFraming::None));
        for status in [100, 101, 204, 304] {
            assert_eq!(f("GET", status, &cl), Ok(BodyFraming::None), "{status}");
        }
        assert_eq!(
            f("GET", 200, &[("content-length", "0")]),
            Ok(BodyFraming::None)
        );
        assert_eq!(f("GET", 200, &[]), Ok(BodyFraming::Close));
        assert_eq!(
            f("GET", 200, &[("content-length", "7, 7")]),
            Ok(BodyFraming::Length(7))
        );
        assert_eq!(
            f("GET", 200, &[("content-length", "7, 8")]),
            Err(BadResponse)
        );
        assert_eq!(
            f(
                "GET",
                200,
                &[("content-length", "7"), ("content-length", "8")]
            ),
            Err(BadResponse)
        );
        assert_eq!(f("GET", 200, &[("content-length", "x")]), Err(BadResponse));
        // Transfer-Encoding overrides Content-Length; HAProxy 2.6.12 (probed with
        // a raw origin) forwards `chunked`/`Chunked` and answers 502 to any other
        // set of codings.
        let te = |v| [("transfer-encoding", v), ("content-length", "3")];
        assert_eq!(f("GET", 200, &te("Chunked")), Ok(BodyFraming::Chunked));
        for bad in ["gzip", "gzip, chunked", "chunked, gzip", "chunked, chunked"] {
            assert_eq!(f("GET", 200, &te(bad)), Err(BadResponse), "{bad}");
        }
        let two_lines = [
            ("transfer-encoding", "gzip"),
            ("transfer-encoding", "chunked"),
        ];
        assert_eq!(f("GET", 200, &two_lines), Err(BadResponse));
    }

    #[test]
    fn parses_responses() {
        let (h, n) = parse_response(
            b"HTTP/1.1 200 Yay Fine\r\nX-B: 1\r\nConnection: close\r\n\r\nbody",
            "GET",
        )
        .unwrap()
        .unwrap();
        assert_eq!((h.status, h.reason(), n), (200, &b"Yay Fine"[..], 52));
        assert_eq!(h.framing, BodyFraming::Close);
        let headers: Vec<(&[u8], &[u8])> = h.headers().collect();
        assert_eq!(
            headers,
            [
                (&b"x-b"[..], &b"1"[..]),
                (&b"connection"[..], &b"close"[..])
            ]
        );
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
        assert_eq!((h.status, h.reason()), (204, &b""[..]));
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

    /// Observed on HAProxy 2.6.12 with a raw origin (tests/tests/e2e_responses.rs).
    #[test]
    fn client_heads_as_haproxy_rewrites_them() {
        let req = |raw: &[u8]| h1::parse_request(raw).unwrap().unwrap().0;
        let get11 = req(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        let get10 = req(b"GET / HTTP/1.0\r\n\r\n");
        let out = |raw: &[u8], r: &RequestHead, close: bool| {
            let (h, _) = parse_response(raw, &r.method).unwrap().unwrap();
            String::from_utf8(client_head(&h, r, close).1).unwrap()
        };
        // (server's head, request, close, what the client gets)
        let cases: [(&[u8], &RequestHead, bool, &str); 7] = [
            (
                b"HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\ncontent-length: 2\r\n\r\n",
                &get11,
                false,
                "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n",
            ),
            (
                b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\nTransfer-Encoding: chunked\r\n\r\n",
                &get11,
                true,
                "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n",
            ),
            (
                b"HTTP/1.1 204 No Content\r\nContent-Length: 5\r\nX: y\r\n\r\n",
                &get11,
                false,
                "HTTP/1.1 204 No Content\r\nx: y\r\n\r\n",
            ),
            (
                b"HTTP/1.1 103 Early Hints\r\nConnection: keep-alive\r\nLink: </a>\r\n\r\n",
                &get10,
                true,
                "HTTP/1.1 103 Early Hints\r\nlink: </a>\r\n\r\n",
            ),
            (
                b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\n",
                &get11,
                false,
                "HTTP/1.0 200 OK\r\ncontent-length: 2\r\nconnection: keep-alive\r\n\r\n",
            ),
            (
                b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\n",
                &get11,
                true,
                "HTTP/1.0 200 OK\r\ncontent-length: 2\r\n\r\n",
            ),
            (
                b"HTTP/2.0 200 OK\r\nContent-Length: 2\r\n\r\n",
                &get10,
                false,
                "HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: keep-alive\r\n\r\n",
            ),
        ];
        for (raw, r, close, expected) in cases {
            assert_eq!(out(raw, r, close), expected);
        }
        let connect = req(b"CONNECT x:443 HTTP/1.1\r\nHost: x:443\r\n\r\n");
        assert_eq!(connect.header("host"), Some("x"));
        assert_eq!(
            out(b"HTTP/1.1 200 OK\r\n\r\n", &connect, false),
            "HTTP/1.1 200 OK\r\n\r\n"
        );
    }

    #[test]
    fn refuses_what_haproxy_refuses_in_responses() {
        let bad = |raw: &[u8]| parse_response(raw, "GET").is_err();
        assert!(bad(b"HTTP/1.1 200 OK\r\nX-A: a\rb\r\n\r\n"));
        let head = |n: usize| {
            format!(
                "HTTP/1.1 200 OK\r\nX-Big: {}\r\ncontent-length: 2\r\n\r\n",
                "v".repeat(n)
            )
        };
        assert!(!bad(head(15226).as_bytes()));
        assert!(bad(head(15227).as_bytes()));
        assert!(chunked_start_invalid(b"zz\r\nok\r\n"));
        assert!(!chunked_start_invalid(b"2\r\nok\r\n0\r\n\r\n"));
        assert!(!chunked_start_invalid(b"2\r\no"));
    }

    /// What the parser returned before it kept the head in one buffer.
    #[derive(Debug, PartialEq)]
    struct Reference {
        status: u16,
        reason: String,
        headers: Vec<(String, Vec<u8>)>,
        framing: BodyFraming,
    }

    fn reference_parse(
        buf: &[u8],
        request_method: &str,
    ) -> Result<Option<(Reference, usize)>, BadResponse> {
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
            if line.contains(&b'\r') {
                return Err(BadResponse);
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
        // The framing rule itself is shared (`body_framing`): the reference checks
        // the line splitting and header storage of the one-buffer parser.
        let framing = body_framing(
            request_method,
            status,
            headers.iter().map(|(n, v)| (n.as_bytes(), v.as_slice())),
        )?;
        Ok(Some((
            Reference {
                status,
                reason: String::from_utf8_lossy(reason).into_owned(),
                headers,
                framing,
            },
            end,
        )))
    }

    fn as_reference(h: &ResponseHead) -> Reference {
        Reference {
            status: h.status,
            reason: String::from_utf8(h.reason().to_vec()).unwrap(),
            headers: h
                .headers()
                .map(|(n, v)| (String::from_utf8(n.to_vec()).unwrap(), v.to_vec()))
                .collect(),
            framing: h.framing,
        }
    }

    #[test]
    fn parses_as_the_reference_parser() {
        let mut inputs: Vec<Vec<u8>> = vec![
            b"HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Length: 5\r\nConnection: keep-alive\r\n\r\nhello".to_vec(),
            b"\r\n\nHTTP/1.0 302 Moved  Here\nLocation: /x\n X-Fold: y\n\tz\nTransfer-Encoding: gzip, chunked\n\n".to_vec(),
            b"HTTP/1.1 200 \xff\xfeOK\r\nX-\xc3\xa9T\xffe: \xff v \t\r\nContent-Length: 3, 3\r\n\r\n".to_vec(),
            b"HTTP/1.1 099 Low\r\nContent-Length:  \xc2\xa07\r\n\r\n".to_vec(),
            b"HTTP/1.1 204\r\nContent-Length: 9\r\n\r\n".to_vec(),
            b"HTTP/1.1 200 OK\r\n X-Fold-First: x\r\n\r\n".to_vec(),
            b"HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n".to_vec(),
            b"HTTP/1.1 200 OK\r\nNoColon\r\n\r\n".to_vec(),
            b"HTTP/1.1 20x OK\r\n\r\n".to_vec(),
            b"HTTP/x.1 200 OK\r\n\r\n".to_vec(),
            b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n".to_vec(),
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n".to_vec(),
        ];
        let mut many = b"HTTP/1.1 200 OK\r\n".to_vec();
        for i in 0..h1::MAX_HEADERS {
            many.extend_from_slice(format!("X-{i}: {i}\r\n").as_bytes());
        }
        let mut too_many = many.clone();
        too_many.extend_from_slice(b"X-Last: 1\r\n");
        many.extend_from_slice(b"\r\n");
        inputs.push(many);
        inputs.push(too_many.clone());
        too_many.extend_from_slice(b"\r\n");
        inputs.push(too_many);
        inputs.push(vec![b'a'; MAX_RESPONSE_HEAD + 1]);
        // Mutations of the first ones: bytes replaced, cut short.
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let alphabet = b"\r\n :\t\xffaZ0-,";
        for _ in 0..3000 {
            let base = inputs[(next() % 6) as usize].clone();
            let mut m = base;
            for _ in 0..(next() % 4) {
                let i = (next() as usize) % m.len();
                m[i] = alphabet[(next() as usize) % alphabet.len()];
            }
            let cut = (next() as usize) % (m.len() + 1);
            m.truncate(cut.max(m.len() / 2));
            inputs.push(m);
        }
        for input in &inputs {
            for method in ["GET", "HEAD"] {
                let new =
                    parse_response(input, method).map(|o| o.map(|(h, n)| (as_reference(&h), n)));
                let old = reference_parse(input, method);
                assert_eq!(new, old, "{:?}", String::from_utf8_lossy(input));
            }
        }
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
                ("X-Forwarded-For", IpAddr::from([127, 0, 0, 1])),
                ("X-Original-To", IpAddr::from([127, 0, 0, 1])),
            ],
            false,
        );
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "GET http://example.com HTTP/1.1\r\nhost: example.com\r\nx-forwarded-for: 1.2.3.4\r\nx-a: a\x01b\r\nx-forwarded-for: 127.0.0.1\r\nx-original-to: 127.0.0.1\r\n\r\n"
        );
    }
}
