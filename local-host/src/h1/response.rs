//! The server's response head, read leniently as HAProxy 2.6 reads it, and how its
//! body is delimited. The head keeps its bytes (one copy of the head: the server
//! buffer they came in goes back to the pool while the head lives on for the log)
//! and offsets into them; names are compared ignoring case and written in lower
//! case by [`super::writer::client_head`], as HAProxy writes them.

use bytes::Bytes;

use super::chunked::trim_line;
use super::{Framing, MAX_HEAD_COST, MAX_HEADERS, RequestHead, Span};

/// Largest response head accepted (HAProxy's buffer).
pub(crate) const MAX_RESPONSE_HEAD: usize = 16384;

/// How a response body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyFraming {
    None,
    Length(u64),
    Chunked,
    /// Until the server closes.
    Close,
}

/// A parsed response head: its bytes and offsets into them (three allocations per
/// response, not two per header line).
#[derive(Debug, Clone)]
pub struct ResponseHead {
    pub status: u16,
    /// The version's two digits when it is below 1.1 (`0.9`, `1.0`): HAProxy 2.6
    /// writes such a version back as received, and 1.1 for any other.
    pub(super) legacy_version: Option<[u8; 2]>,
    /// The head as the server sent it.
    raw: Bytes,
    /// Text written here instead: a reason or name that is not UTF-8 (replaced
    /// lossily), an unfolded value, the lines `http-response` rules left. A span
    /// at or past `raw.len()` points here.
    own: Vec<u8>,
    reason: Span,
    /// (name, value) of each header line, in order (names as received,
    /// `connection` as received: [`super::client_head`] rewrites it).
    fields: Vec<(Span, Span)>,
    pub framing: BodyFraming,
    /// What `http-response` rules added to the head's size (negative: removed).
    /// HAProxy 2.6's `%B` counts the head as the server sent it.
    pub(super) rules_delta: i64,
}

impl ResponseHead {
    fn bytes(&self, s: Span) -> &[u8] {
        let r = self.raw.len();
        if s.start as usize >= r {
            Span::new(s.start as usize - r, s.end as usize - r).of(&self.own)
        } else {
            s.of(&self.raw)
        }
    }

    /// The reason phrase (invalid UTF-8 replaced by U+FFFD).
    pub fn reason(&self) -> &[u8] {
        self.bytes(self.reason)
    }

    /// What the response says about its connection, for router-core's reuse rules.
    pub fn connection(&self) -> router_core::unstable::reuse::ResponseConn {
        let (mut close, mut keep_alive) = (false, false);
        for (_, v) in self
            .headers()
            .filter(|(n, _)| n.eq_ignore_ascii_case(b"connection"))
        {
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
    /// them (names lower-cased, values as UTF-8, invalid bytes replaced).
    pub fn rule_lines(&self) -> Vec<(String, String)> {
        self.headers()
            .map(|(n, v)| {
                (
                    String::from_utf8_lossy(n).to_ascii_lowercase(),
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
        let mut lines: Vec<(&[u8], &[u8])> = self.headers().collect();
        router_core::unstable::rules::header::apply(
            &mut lines,
            &v.edits,
            |h| std::str::from_utf8(h.0).unwrap_or(""),
            |e| (e.name.as_bytes(), e.value.as_bytes()),
        );
        let reason: &[u8] = match &v.status {
            Some((s, r)) => r
                .as_deref()
                .unwrap_or(router_core::unstable::answer::reason(*s))
                .as_bytes(),
            None => self.reason(),
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
        // The new head, all in the side buffer.
        let base = self.raw.len();
        let mut own = Vec::with_capacity(
            reason.len() + lines.iter().map(|(n, v)| n.len() + v.len()).sum::<usize>(),
        );
        own.extend_from_slice(reason);
        let reason_span = Span::new(base, base + own.len());
        let mut fields = Vec::with_capacity(lines.len());
        for (n, v) in lines {
            let n0 = base + own.len();
            own.extend(n.iter().map(u8::to_ascii_lowercase));
            let v0 = base + own.len();
            own.extend_from_slice(v);
            fields.push((Span::new(n0, v0), Span::new(v0, base + own.len())));
        }
        if let Some((s, _)) = &v.status {
            self.status = *s;
        }
        self.rules_delta += after - before;
        self.own = own;
        self.reason = reason_span;
        self.fields = fields;
    }

    /// Header lines in order: names as received (invalid UTF-8 replaced by
    /// U+FFFD), values as received (an obs-fold continuation appended with two
    /// spaces).
    pub fn headers(&self) -> impl Iterator<Item = (&[u8], &[u8])> + '_ {
        self.fields
            .iter()
            .map(|&(n, v)| (self.bytes(n), self.bytes(v)))
    }

    /// The first `name` line's value (names compared ignoring case).
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers()
            .find(|(n, _)| n.eq_ignore_ascii_case(name.as_bytes()))
            .map(|(_, v)| v)
    }

    /// How many bytes the reason and header lines take (a capacity hint).
    pub(super) fn text_len(&self) -> usize {
        self.reason.len()
            + self
                .fields
                .iter()
                .map(|(n, v)| n.len() + v.len())
                .sum::<usize>()
    }

    pub(super) fn field_count(&self) -> usize {
        self.fields.len()
    }
}

/// The server answered something that is not an HTTP response head (a 502).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("invalid response from the server")]
pub struct BadResponse;

/// `bytes` as a span of the head: in place when UTF-8 (always, for ASCII), else
/// as `String::from_utf8_lossy(bytes)` would write them, in the side buffer.
fn lossy_span(own: &mut Vec<u8>, base: usize, at: usize, bytes: &[u8]) -> Span {
    if bytes.is_ascii() || std::str::from_utf8(bytes).is_ok() {
        return Span::new(at, at + bytes.len());
    }
    let start = base + own.len();
    own.extend_from_slice(String::from_utf8_lossy(bytes).as_bytes());
    Span::new(start, base + own.len())
}

/// Parses a response head at the start of `buf`. `Ok(None)`: read more. `Err`: the
/// server answered garbage (502). `Ok(Some((head, n)))`: the head took `n` bytes.
pub fn parse_response(
    buf: &[u8],
    request_method: &str,
) -> Result<Option<(ResponseHead, usize)>, BadResponse> {
    // The lines up to the empty one (empty lines before the status line are skipped);
    // nothing is judged before the head is complete, except its size.
    let mut spans = [(0usize, 0usize); MAX_HEADERS + 1];
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
    let line = |i: usize| -> (usize, &[u8]) {
        let (a, b) = spans[i];
        (a, &buf[a..b])
    };
    let (status_at, status_line) = line(0);
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
    // HAProxy 2.6's limit, the request's (request.rs): 15275 in this cost model,
    // probed with a raw origin (one header or forty, the same sum).
    let mut cost = 8 + code.len() + reason.len();
    let mut own = Vec::new();
    let reason_at = status_at + (status_line.len() - reason.len());
    let reason = lossy_span(&mut own, end, reason_at, reason);
    let mut fields: Vec<(Span, Span)> = Vec::with_capacity(count - 1);
    for i in 1..count {
        let (at, line) = line(i);
        if matches!(line.first(), Some(b' ' | b'\t')) {
            let (_, v) = fields.last_mut().ok_or(BadResponse)?;
            if (v.start as usize) < end {
                // Moved to the side buffer, where the continuation follows it.
                let start = end + own.len();
                own.extend_from_slice(v.of(buf));
                *v = Span::new(start, end + own.len());
            }
            // The value being unfolded is the last thing in the side buffer.
            own.extend_from_slice(b"  ");
            own.extend_from_slice(line);
            *v = Span::new(v.start as usize, end + own.len());
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
        let (mut v0, mut v1) = (colon + 1, line.len());
        while v0 < v1 && matches!(line[v0], b' ' | b'\t') {
            v0 += 1;
        }
        while v1 > v0 && matches!(line[v1 - 1], b' ' | b'\t') {
            v1 -= 1;
        }
        cost += name.len() + (v1 - v0) + 8;
        let name = lossy_span(&mut own, end, at, name);
        fields.push((name, Span::new(at + v0, at + v1)));
    }
    if cost > MAX_HEAD_COST {
        return Err(BadResponse);
    }
    let head = ResponseHead {
        status,
        legacy_version,
        raw: Bytes::copy_from_slice(&buf[..end]),
        own,
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
/// `headers` are (name, value) pairs, names compared ignoring case.
pub(crate) fn body_framing<'h>(
    request_method: &str,
    status: u16,
    headers: impl Iterator<Item = (&'h [u8], &'h [u8])>,
) -> Result<BodyFraming, BadResponse> {
    let mut length: Option<u64> = None;
    // Transfer codings seen: how many are `chunked`, whether any other is.
    let (mut chunked, mut other_coding, mut te) = (0u32, false, false);
    for (n, v) in headers {
        if n.eq_ignore_ascii_case(b"content-length") {
            for part in v.split(|&b| b == b',') {
                // Digits only (HAProxy 2.6: 502 to `+2`, as to `-2`).
                let p = part.trim_ascii();
                if p.is_empty() || !p.iter().all(u8::is_ascii_digit) {
                    return Err(BadResponse);
                }
                let l: u64 = std::str::from_utf8(p)
                    .map_err(|_| BadResponse)?
                    .parse()
                    .map_err(|_| BadResponse)?;
                if length.is_some_and(|x| x != l) {
                    return Err(BadResponse);
                }
                length = Some(l);
            }
        } else if n.eq_ignore_ascii_case(b"transfer-encoding") {
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

/// Whether the exchange becomes a byte tunnel after this response: a `101`, or a
/// `2xx` to `CONNECT`.
pub fn is_tunnel(resp: &ResponseHead, req: &RequestHead) -> bool {
    resp.status == 101
        || ((200..300).contains(&resp.status) && req.method().eq_ignore_ascii_case("CONNECT"))
}

/// The request body framing as a response-style framing (for the relay).
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
    use crate::h1::chunked_start_invalid;
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
                (&b"X-B"[..], &b"1"[..]),
                (&b"Connection"[..], &b"close"[..])
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
            if lines.len() > MAX_HEADERS + 1 {
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
                .map(|(n, v)| {
                    (
                        String::from_utf8(n.to_vec()).unwrap().to_ascii_lowercase(),
                        v.to_vec(),
                    )
                })
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
        for i in 0..MAX_HEADERS {
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
}
