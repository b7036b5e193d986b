//! The client side of HTTP/1.x: request heads parsed and validated as HAProxy 2.6's
//! h1 parser does (the malformed forms it rejects get 400 here too).
//!
//! Rules, each observed on HAProxy 2.6.12 with default tunables (see
//! `tests/tests/e2e_sockets.rs`, `malformed_requests_get_haproxys_status`, which replays
//! them against a real HAProxy):
//! - empty lines before the request line are skipped; bare LF line ends are accepted;
//! - request line: exactly three space-separated words; method made of token characters
//!   (any case); target bytes in `0x21..=0x7e` except `#`; version `HTTP/<d>.<d>`
//!   (upper case), `HTTP/1.0` is kept, any other (0.9, 2.0...) is treated as `HTTP/1.1`;
//!   a bare CR inside any line is refused;
//! - header names are non-empty tokens with no space before the colon; values may hold
//!   any byte but CR/LF (HAProxy forwards NUL and DEL); an obs-fold line is unfolded
//!   (CR and LF become spaces);
//! - at most 100 header lines; the head must fit in HAProxy's buffer minus its rewrite
//!   reserve: `len(method)+len(target)+len(version)+sum(len(name)+len(value)+8) <= 15275`;
//! - `Content-Length`: digits only, several values must all be equal (merged into one);
//!   `Transfer-Encoding` must end with `chunked` and then wins over `Content-Length`,
//!   which is dropped;
//! - several `Host` lines must agree; an absolute-form target's authority must equal
//!   `Host` (an empty authority is not checked); a WebSocket upgrade (the last `Upgrade`
//!   line names `websocket`) must carry a 24-byte `Sec-WebSocket-Key`, unless the
//!   request has a body: then its `Upgrade` lines are dropped and it is a plain request;
//! - a target that starts with neither `/` nor `*` is read as HAProxy 2.6 reads it: an
//!   optional `scheme://`, then an authority up to the first `/` (userinfo dropped),
//!   which must equal `Host` as above (`GET app` with `Host: x` is 400; without `Host`,
//!   or with `Host: app`, it is forwarded);
//! - an HTTP/1.0 `GET`, `HEAD` or `DELETE` (case-sensitive) with a body (a non-zero
//!   `Content-Length` or chunked) is 413 (`mux_h1.c`: "HTTP/1.0 GET/HEAD/DELETE request
//!   with a payload forbidden").
//!
//! The head keeps the bytes it was read from ([`bytes::Bytes`], split off the read
//! buffer without a copy) and offsets into them: what HAProxy's parser rewrites
//! (an unfolded or non-UTF-8 value, merged `Content-Length`, the default port
//! dropped from the target and `Host`) goes to a small side buffer, empty for
//! ordinary requests. A request is then a few allocations, not two per header line.

use bytes::{Bytes, BytesMut};
use router_core::unstable::upgrade;

use super::authority::{self, Absolute};
use super::{Framing, MAX_HEAD_BYTES, MAX_HEAD_COST, MAX_HEADERS, Span, Version, errors};

/// A parsed, validated request head.
#[derive(Debug, Clone)]
pub struct RequestHead {
    /// The head as read: request line, header lines, the empty line.
    raw: Bytes,
    /// Text the parser wrote itself; a span at or past `raw.len()` points here.
    own: Vec<u8>,
    method: Span,
    target: Span,
    version_text: Span,
    /// (name, value) of each header line, in order (names as received; values
    /// valid UTF-8: one that was not is kept lossily converted, which only routing
    /// on such bytes could tell).
    fields: Vec<(Span, Span)>,
    pub version: Version,
    pub framing: Framing,
    /// The client wants the connection kept open after this exchange.
    pub keep_alive: bool,
    /// `Upgrade: websocket` with `Connection: upgrade`.
    pub websocket: bool,
    /// `Connection: upgrade`, for any protocol.
    pub upgrade: bool,
}

/// The bytes of `s`, in `raw` or (past its end) in `own`.
fn bytes_of<'a>(raw: &'a [u8], own: &'a [u8], s: Span) -> &'a [u8] {
    let r = raw.len();
    if s.start as usize >= r {
        Span::new(s.start as usize - r, s.end as usize - r).of(own)
    } else {
        s.of(raw)
    }
}

/// `s` as text. Every span of a head is valid UTF-8 (checked when parsed).
fn str_of<'a>(raw: &'a [u8], own: &'a [u8], s: Span) -> &'a str {
    std::str::from_utf8(bytes_of(raw, own, s)).unwrap_or_default()
}

/// Appends `text` to the side buffer of a head whose raw part is `raw_len` bytes
/// long; returns its span.
fn push_own(own: &mut Vec<u8>, raw_len: usize, text: &[u8]) -> Span {
    let start = raw_len + own.len();
    own.extend_from_slice(text);
    Span::new(start, raw_len + own.len())
}

impl RequestHead {
    /// Gives the head bytes of its own: a parsed head shares the connection's read
    /// buffer, which a head kept for a long time (a tunnel's log line) would keep
    /// whole.
    pub fn detach(&mut self) {
        self.raw = Bytes::copy_from_slice(&self.raw);
    }

    fn text(&self, s: Span) -> &str {
        str_of(&self.raw, &self.own, s)
    }

    pub fn method(&self) -> &str {
        self.text(self.method)
    }

    pub fn target(&self) -> &str {
        self.text(self.target)
    }

    /// The version as written in the request line (`HTTP/1.1`), for logs.
    pub fn version_text(&self) -> &str {
        self.text(self.version_text)
    }

    /// Header lines in order, names as received.
    pub fn headers(&self) -> impl ExactSizeIterator<Item = (&str, &str)> + Clone + '_ {
        self.fields
            .iter()
            .map(|&(n, v)| (self.text(n), self.text(v)))
    }

    /// About how many bytes the head takes when written again (a capacity hint).
    pub fn size_hint(&self) -> usize {
        self.raw.len() + self.own.len()
    }

    /// How many header lines there are.
    pub fn header_count(&self) -> usize {
        self.fields.len()
    }

    /// The header lines as router-core's request facts take them.
    pub fn header_pairs(&self) -> Vec<(&str, &str)> {
        self.headers().collect()
    }

    /// The first `name` line's value (names compared ignoring case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// Parses the head at the start of `buf`, copying it. `Ok(None)`: incomplete,
    /// read more. `Ok(Some((head, n)))`: `n` bytes used (leading empty lines
    /// included). The proxy uses [`parse_request`], which takes the bytes out of
    /// its read buffer instead.
    pub fn parse(buf: &[u8]) -> Result<Option<(RequestHead, usize)>, HeadError> {
        Ok(parse_at(buf)?.map(|(mut head, end)| {
            head.raw = Bytes::copy_from_slice(&buf[..end]);
            (head, end)
        }))
    }
}

/// Why a head was refused (all answered 400, HAProxy's `PR--`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum HeadError {
    #[error("bad request line")]
    RequestLine,
    #[error("bad header line")]
    HeaderLine,
    #[error("too many headers")]
    TooManyHeaders,
    #[error("request head too large")]
    TooLarge,
    #[error("bad content-length")]
    ContentLength,
    #[error("bad transfer-encoding")]
    TransferEncoding,
    #[error("conflicting host")]
    Host,
    #[error("websocket upgrade without key")]
    WebSocketKey,
    #[error("HTTP/1.0 GET/HEAD/DELETE request with a payload")]
    PayloadForbidden,
}

impl HeadError {
    /// HAProxy's answer: 413 to a forbidden payload, 400 to everything else.
    pub fn answer(self) -> (u16, Vec<u8>) {
        match self {
            HeadError::PayloadForbidden => (413, errors::too_large()),
            _ => (400, errors::early(400)),
        }
    }
}

pub(crate) fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Parses the head at the start of `buf`. `Ok(None)`: incomplete, read more (`buf`
/// untouched). `Ok(Some(head))`: the head's bytes (leading empty lines included)
/// were split off `buf`, which keeps what follows (a body, a pipelined request).
pub fn parse_request(buf: &mut BytesMut) -> Result<Option<RequestHead>, HeadError> {
    Ok(parse_at(buf)?.map(|(mut head, end)| {
        head.raw = buf.split_to(end).freeze();
        head
    }))
}

/// Lines HAProxy would never accept: stop collecting (obs-folds are rare).
const MAX_LINES: usize = MAX_HEADERS + 1 + 64;

/// The parser. The head it returns has its spans set relative to `buf`'s start
/// (side buffer past `end`) and an empty `raw`, which the caller fills with
/// `buf[..end]`.
fn parse_at(buf: &[u8]) -> Result<Option<(RequestHead, usize)>, HeadError> {
    // Skip empty lines before the request line.
    let mut start = 0;
    loop {
        match buf.get(start..) {
            Some([b'\r', b'\n', ..]) => start += 2,
            Some([b'\n', ..]) => start += 1,
            Some([b'\r']) | Some([]) => return Ok(None),
            _ => break,
        }
    }
    // Split into lines up to the empty one.
    let mut lines = [Span::default(); MAX_LINES + 1];
    let mut count = 0;
    let mut pos = start;
    let end = loop {
        let Some(nl) = memchr::memchr(b'\n', &buf[pos..]) else {
            if buf.len() > MAX_HEAD_BYTES {
                return Err(HeadError::TooLarge);
            }
            return Ok(None);
        };
        let mut line = &buf[pos..pos + nl];
        if let [rest @ .., b'\r'] = line {
            line = rest;
        }
        let span = Span::new(pos, pos + line.len());
        pos += nl + 1;
        if line.is_empty() {
            break pos;
        }
        if memchr::memchr(b'\r', line).is_some() {
            // A bare CR inside a line (HAProxy 2.6: 400).
            return Err(if count == 0 {
                HeadError::RequestLine
            } else {
                HeadError::HeaderLine
            });
        }
        let slot = lines.get_mut(count).ok_or(HeadError::TooManyHeaders)?;
        *slot = span;
        count += 1;
        if count > MAX_LINES {
            return Err(HeadError::TooManyHeaders);
        }
    };
    if end > MAX_HEAD_BYTES + start {
        return Err(HeadError::TooLarge);
    }
    let (reqline, hdr_lines) = lines[..count].split_first().ok_or(HeadError::RequestLine)?;

    // Request line: three words.
    let mut words = [Span::default(); 3];
    let mut n_words = 0;
    let mut i = reqline.start as usize;
    let line_end = reqline.end as usize;
    while i < line_end {
        if buf[i] == b' ' {
            i += 1;
            continue;
        }
        let w = i;
        while i < line_end && buf[i] != b' ' {
            i += 1;
        }
        let slot = words.get_mut(n_words).ok_or(HeadError::RequestLine)?;
        *slot = Span::new(w, i);
        n_words += 1;
    }
    if n_words != 3 {
        return Err(HeadError::RequestLine);
    }
    let [method_s, target_s, version_s] = words;
    let method = method_s.of(buf);
    let target = target_s.of(buf);
    let version = version_s.of(buf);
    if !method.iter().all(|&b| is_tchar(b)) {
        return Err(HeadError::RequestLine);
    }
    if !target
        .iter()
        .all(|&b| (0x21..=0x7e).contains(&b) && b != b'#')
    {
        return Err(HeadError::RequestLine);
    }
    let v = match version {
        [b'H', b'T', b'T', b'P', b'/', maj, b'.', min]
            if maj.is_ascii_digit() && min.is_ascii_digit() =>
        {
            (*maj - b'0', *min - b'0')
        }
        _ => return Err(HeadError::RequestLine),
    };
    // HAProxy 2.6 accepts any `HTTP/d.d` (even 0.9 and 2.0) and speaks 1.1 for all
    // but 1.0.
    let version_kind = match v {
        (1, 0) => Version::Http10,
        _ => Version::Http11,
    };

    // Header lines (with obs-fold unfolding into the side buffer).
    let mut own: Vec<u8> = Vec::new();
    let mut fields: Vec<(Span, Span)> = Vec::with_capacity(hdr_lines.len());
    for &line_s in hdr_lines {
        let line = line_s.of(buf);
        if matches!(line.first(), Some(b' ' | b'\t')) {
            let Some((_, value)) = fields.last_mut() else {
                return Err(HeadError::HeaderLine);
            };
            let v0 = if value.start as usize >= end {
                // Already unfolded: the last thing in the side buffer.
                own.truncate(value.end as usize - end);
                value.start as usize - end
            } else {
                let v0 = own.len();
                own.extend_from_slice(value.of(buf));
                v0
            };
            own.extend_from_slice(b"  ");
            own.extend_from_slice(line);
            while own.len() > v0 && matches!(own.last(), Some(b' ' | b'\t')) {
                own.pop();
            }
            *value = Span::new(end + v0, end + own.len());
            continue;
        }
        let colon = memchr::memchr(b':', line).ok_or(HeadError::HeaderLine)?;
        let name = &line[..colon];
        if name.is_empty() || !name.iter().all(|&b| is_tchar(b)) {
            return Err(HeadError::HeaderLine);
        }
        let base = line_s.start as usize;
        let (mut v0, mut v1) = (colon + 1, line.len());
        while v0 < v1 && matches!(line[v0], b' ' | b'\t') {
            v0 += 1;
        }
        while v1 > v0 && matches!(line[v1 - 1], b' ' | b'\t') {
            v1 -= 1;
        }
        fields.push((
            Span::new(base, base + colon),
            Span::new(base + v0, base + v1),
        ));
    }
    if fields.len() > MAX_HEADERS {
        return Err(HeadError::TooManyHeaders);
    }
    let cost = method.len()
        + target.len()
        + version.len()
        + fields
            .iter()
            .map(|(n, v)| n.len() + v.len() + 8)
            .sum::<usize>();
    if cost > MAX_HEAD_COST {
        return Err(HeadError::TooLarge);
    }
    let raw = &buf[..end];
    // Values that are not UTF-8: lossily converted, into the side buffer.
    for (_, v) in fields.iter_mut() {
        let bytes = bytes_of(raw, &own, *v);
        if bytes.is_ascii() || std::str::from_utf8(bytes).is_ok() {
            continue;
        }
        let lossy = String::from_utf8_lossy(bytes).into_owned();
        *v = push_own(&mut own, end, lossy.as_bytes());
    }
    let is = |s: Span, name: &str| s.of(raw).eq_ignore_ascii_case(name.as_bytes());

    // Content-Length / Transfer-Encoding.
    let mut length: Option<u64> = None;
    let mut te_seen = false;
    let mut te_chunked_last = false;
    for &(n, v) in &fields {
        if is(n, "content-length") {
            for part in str_of(raw, &own, v).split(',') {
                let p = part.trim_matches([' ', '\t']);
                if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(HeadError::ContentLength);
                }
                let n: u64 = p.parse().map_err(|_| HeadError::ContentLength)?;
                match length {
                    Some(l) if l != n => return Err(HeadError::ContentLength),
                    _ => length = Some(n),
                }
            }
        } else if is(n, "transfer-encoding") {
            for part in str_of(raw, &own, v).split(',') {
                let p = part.trim_matches([' ', '\t']);
                if p.is_empty() {
                    continue;
                }
                if te_chunked_last {
                    // Something after `chunked`.
                    return Err(HeadError::TransferEncoding);
                }
                te_seen = true;
                te_chunked_last = p.eq_ignore_ascii_case("chunked");
            }
        }
    }
    if te_seen && !te_chunked_last {
        return Err(HeadError::TransferEncoding);
    }
    let framing = if te_seen {
        fields.retain(|&(n, _)| !is(n, "content-length"));
        Framing::Chunked
    } else if let Some(l) = length {
        // Merge duplicates into one line, its value the number as digits.
        let digits = l.to_string();
        let mut seen = false;
        fields.retain(|&(n, _)| {
            if !is(n, "content-length") {
                return true;
            }
            !std::mem::replace(&mut seen, true)
        });
        if let Some(i) = fields.iter().position(|&(n, _)| is(n, "content-length"))
            && bytes_of(raw, &own, fields[i].1) != digits.as_bytes()
        {
            fields[i].1 = push_own(&mut own, end, digits.as_bytes());
        }
        if l == 0 {
            Framing::None
        } else {
            Framing::Length(l)
        }
    } else {
        Framing::None
    };

    // Host consistency (HAProxy 2.6's h1 parser): several Host lines must agree (the
    // repeated ones are dropped), an absolute-form authority must match Host (a
    // default port on either side is allowed), a CONNECT authority needs a port.
    let mut host: Option<Span> = None;
    let mut dup = false;
    for &(n, v) in &fields {
        if is(n, "host") {
            match host {
                Some(h) if !bytes_of(raw, &own, h).eq_ignore_ascii_case(bytes_of(raw, &own, v)) => {
                    return Err(HeadError::Host);
                }
                Some(_) => dup = true,
                None => host = Some(v),
            }
        }
    }
    if dup {
        let mut first = true;
        fields.retain(|&(n, _)| !is(n, "host") || std::mem::replace(&mut first, false));
    }
    let mut target_span = target_s;
    // Target bytes are 0x21..=0x7e: ASCII.
    let target = std::str::from_utf8(target).map_err(|_| HeadError::RequestLine)?;
    let host_str = host.map(|h| str_of(raw, &own, h));
    let rewrite = if method.eq_ignore_ascii_case(b"CONNECT") {
        if !authority::connect_authority_ok(target, host_str) {
            return Err(HeadError::Host);
        }
        // HAProxy 2.6 forwards a CONNECT's target as written but its Host without a
        // default port (probed: `Host: x:443` and `x:80` reach the server as `x`,
        // `x:8443` stays): router-core's scheme-based normalization gives that host.
        router_core::unstable::normalize::scheme_based("CONNECT", target).map(|rw| (None, rw.host))
    } else if let Some(abs) = Absolute::parse(target) {
        if let Some(h) = host_str
            && !authority::matches_host(&target[..abs.scheme_end], &target[abs.authority], h)
        {
            return Err(HeadError::Host);
        }
        // Scheme-based normalization (router-core's): a default port leaves the
        // target and Host.
        router_core::unstable::normalize::scheme_based("", target)
            .map(|rw| (Some(rw.target), rw.host))
    } else {
        // No scheme: HAProxy 2.6 takes the target's start as an authority all the
        // same (`/` and `*` targets have none).
        if !target.starts_with(['/', '*'])
            && let Some(h) = host_str
            && !authority::matches_host("", authority::bare_authority(target), h)
        {
            return Err(HeadError::Host);
        }
        None
    };
    if let Some((new_target, new_host)) = rewrite {
        if let Some(t) = new_target {
            target_span = push_own(&mut own, end, t.as_bytes());
        }
        // Every Host line takes the host without its default port.
        let host_span = push_own(&mut own, end, new_host.as_bytes());
        for (n, v) in fields.iter_mut() {
            if is(*n, "host") {
                *v = host_span;
            }
        }
    }

    // Connection semantics.
    let mut conn_close = false;
    let mut conn_keep = false;
    let mut conn_upgrade = false;
    let mut upgrade_ws = false;
    let mut ws_key = false;
    for &(n, v) in &fields {
        if is(n, "connection") {
            for t in str_of(raw, &own, v).split(',').map(|t| t.trim()) {
                conn_close |= t.eq_ignore_ascii_case("close");
                conn_keep |= t.eq_ignore_ascii_case("keep-alive");
                conn_upgrade |= t.eq_ignore_ascii_case("upgrade");
            }
        } else if is(n, "upgrade") {
            // Each `Upgrade` line decides anew: the last wins.
            upgrade_ws = upgrade::names_websocket(str_of(raw, &own, v));
        } else if is(n, "sec-websocket-key") {
            ws_key |= upgrade::key_valid(bytes_of(raw, &own, v));
        }
    }
    // HAProxy's reading of the upgrade headers is router-core's.
    let websocket = match upgrade::handshake(upgrade::UpgradeHeaders {
        connection_upgrade: conn_upgrade,
        upgrade_websocket: upgrade_ws,
        key: ws_key,
        body: framing != Framing::None,
    }) {
        upgrade::Handshake::WebSocket => true,
        upgrade::Handshake::MissingKey => return Err(HeadError::WebSocketKey),
        upgrade::Handshake::PlainWithoutUpgrade => {
            fields.retain(|&(n, _)| !is(n, "upgrade"));
            false
        }
        _ => false,
    };
    // After every parsing error (HAProxy checks this once its parser is done: a
    // conflicting Host is still a 400).
    if version_kind == Version::Http10
        && framing != Framing::None
        && matches!(method, b"GET" | b"HEAD" | b"DELETE")
    {
        return Err(HeadError::PayloadForbidden);
    }
    let keep_alive = match version_kind {
        Version::Http11 => !conn_close,
        Version::Http10 => conn_keep && !conn_close,
    };
    let head = RequestHead {
        raw: Bytes::new(),
        own,
        method: method_s,
        target: target_span,
        version_text: version_s,
        fields,
        version: version_kind,
        framing,
        keep_alive,
        websocket,
        upgrade: conn_upgrade,
    };
    Ok(Some((head, end)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &[u8]) -> Result<Option<(RequestHead, usize)>, HeadError> {
        RequestHead::parse(s)
    }

    fn ok(s: &[u8]) -> RequestHead {
        match p(s) {
            Ok(Some((h, n))) => {
                assert_eq!(n, s.len());
                h
            }
            other => panic!("{other:?} for {:?}", String::from_utf8_lossy(s)),
        }
    }

    fn bad(s: &[u8]) -> HeadError {
        match p(s) {
            Err(e) => e,
            other => panic!("{other:?} for {:?}", String::from_utf8_lossy(s)),
        }
    }

    #[test]
    fn accepts_what_haproxy_accepts() {
        let h = ok(b"GET /a?wtd=wt1x%41/../b HTTP/1.1\r\nHost: x\r\nX-A:  v \r\n\r\n");
        assert_eq!(h.target(), "/a?wtd=wt1x%41/../b");
        assert_eq!(h.headers().nth(1), Some(("X-A", "v")));
        assert!(h.keep_alive);
        let h = ok(b"\r\n\nget  http://x/p?q   HTTP/2.0\nHost: x\n\n");
        assert_eq!((h.method(), h.version), ("get", Version::Http11));
        assert!(!ok(b"GET / HTTP/1.0\r\n\r\n").keep_alive);
        assert!(ok(b"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").keep_alive);
        let h = ok(b"GET / HTTP/1.1\r\nX-A: a\r\n b\r\n\r\n");
        assert_eq!(h.headers().next(), Some(("X-A", "a   b")));
        assert_eq!(
            ok(b"GET / HTTP/1.1\r\nX: a\x00\x01\x7fb\r\n\r\n").header("x"),
            Some("a\0\x01\x7fb")
        );
        let h = ok(b"POST / HTTP/1.1\r\nContent-Length: 2\r\ncontent-length: 2\r\n\r\n");
        assert_eq!((h.framing, h.header_count()), (Framing::Length(2), 1));
        let h = ok(b"POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n");
        assert_eq!((h.framing, h.header_count()), (Framing::Chunked, 1));
        assert!(ok(b"OPTIONS * HTTP/1.1\r\n\r\n").keep_alive);
        // An empty authority is not compared with Host; target and Host stay as sent.
        let h = ok(b"GET https:///static?wtd=wt1 HTTP/1.1\r\nHost: x:443\r\n\r\n");
        assert_eq!(
            (h.target(), h.header("host")),
            ("https:///static?wtd=wt1", Some("x:443"))
        );
        ok(b"CONNECT x:443 HTTP/1.1\r\n\r\n");
        // Probed on HAProxy 2.6.12: forwarded as written.
        for r in [
            "GET app HTTP/1.1\r\n\r\n",
            "GET x HTTP/1.1\r\nHost: X\r\n\r\n",
            "GET u@x/p HTTP/1.1\r\nHost: x\r\n\r\n",
            "GET *x HTTP/1.1\r\nHost: x\r\n\r\n",
            "get / HTTP/1.0\r\nContent-Length: 2\r\n\r\n",
            "POST / HTTP/1.0\r\nContent-Length: 2\r\n\r\n",
            "GET / HTTP/1.0\r\nContent-Length: 0\r\n\r\n",
        ] {
            assert_eq!(p(r.as_bytes()).map(|o| o.is_some()), Ok(true), "{r}");
        }
        ok(b"GET /\"<> HTTP/1.1\r\n\r\n");
        assert_eq!(ok(b"GET / HTTP/0.9\r\n\r\n").version, Version::Http11);
        let ws = ok(b"GET /?wtd=a HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n");
        assert!(ws.websocket && ws.upgrade);
        // With a body, no upgrade (HAProxy 2.6 answered the server's 200 to these):
        // the `Upgrade` lines go, `Connection: Upgrade` stays.
        for body in ["Content-Length: 7", "Transfer-Encoding: chunked"] {
            let r = format!(
                "POST /app HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n{body}\r\n\r\n"
            );
            let h = ok(r.as_bytes());
            assert!(!h.websocket && h.upgrade, "{body}");
            assert!(h.header("upgrade").is_none() && h.header("connection") == Some("Upgrade"));
        }
        // The last `Upgrade` line decides whether it is a WebSocket handshake.
        let h = ok(
            b"GET / HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nUpgrade: h2c\r\n\r\n",
        );
        assert!(!h.websocket && h.header("upgrade") == Some("websocket"));
        let hs: Vec<u8> = (0..99)
            .flat_map(|i| format!("X-{i}: a\r\n").into_bytes())
            .collect();
        ok(&[b"GET / HTTP/1.1\r\nHost: x\r\n".as_slice(), &hs, b"\r\n"].concat());
    }

    #[test]
    fn refuses_what_haproxy_refuses() {
        use HeadError::*;
        assert_eq!(bad(b"GET / HTTP/1.x\r\n\r\n"), RequestLine);
        assert_eq!(bad(b"GET / http/1.1\r\n\r\n"), RequestLine);
        assert_eq!(bad(b"GET /\r\n\r\n"), RequestLine);
        assert_eq!(bad(b"GET /a b HTTP/1.1\r\n\r\n"), RequestLine);
        assert_eq!(bad(b"G(T / HTTP/1.1\r\n\r\n"), RequestLine);
        for c in [0u8, 1, 0x7f, 0xc3, b'#'] {
            assert_eq!(
                bad(&[b"GET /".as_slice(), &[c], b" HTTP/1.1\r\n\r\n"].concat()),
                RequestLine
            );
        }
        assert_eq!(bad(b"GET / HTTP/1.1\r\nX-A : a\r\n\r\n"), HeaderLine);
        assert_eq!(bad(b"GET / HTTP/1.1\r\nX-A: a\rb\r\n\r\n"), HeaderLine);
        assert_eq!(bad(b"GET / HTTP/1.1\r\nX-A: a\r\n\r\r\n"), HeaderLine);
        assert_eq!(bad(b"GET / HTTP/1.1\rHost: x\r\n\r\n"), RequestLine);
        assert_eq!(bad(b"GET / HTTP/1.1\r\nX(A: a\r\n\r\n"), HeaderLine);
        assert_eq!(bad(b"GET / HTTP/1.1\r\nXA\r\n\r\n"), HeaderLine);
        assert_eq!(bad(b"GET / HTTP/1.1\r\n: a\r\n\r\n"), HeaderLine);
        for cl in ["1\r\nContent-Length: 2", "1, 2", "-1", "1a", "+2", ""] {
            let r = format!("POST / HTTP/1.1\r\nContent-Length: {cl}\r\n\r\n");
            assert_eq!(bad(r.as_bytes()), ContentLength, "{cl}");
        }
        assert_eq!(
            bad(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n"),
            TransferEncoding
        );
        assert_eq!(
            bad(b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n"),
            TransferEncoding
        );
        assert_eq!(bad(b"GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n"), Host);
        assert_eq!(bad(b"GET http://h/p HTTP/1.1\r\nHost: x\r\n\r\n"), Host);
        assert_eq!(bad(b"GET https://:443/p HTTP/1.1\r\nHost: x\r\n\r\n"), Host);
        // Probed on HAProxy 2.6.12: a target without scheme or `/` is an authority,
        // compared with Host.
        assert_eq!(bad(b"GET app HTTP/1.1\r\nHost: x\r\n\r\n"), Host);
        assert_eq!(bad(b"GET x:80 HTTP/1.1\r\nHost: x\r\n\r\n"), Host);
        assert_eq!(bad(b"GET x?q HTTP/1.1\r\nHost: x\r\n\r\n"), Host);
        // HTTP/1.0 GET/HEAD/DELETE with a body: 413.
        for r in [
            "GET / HTTP/1.0\r\nContent-Length: 2\r\n\r\n",
            "HEAD / HTTP/1.0\r\nContent-Length: 7\r\nConnection: Upgrade\r\n\r\n",
            "DELETE / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
        ] {
            assert_eq!(bad(r.as_bytes()), PayloadForbidden, "{r}");
            assert_eq!(PayloadForbidden.answer().0, 413);
        }
        assert_eq!(
            bad(b"GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\nContent-Length: 2\r\n\r\n"),
            Host
        );
        assert_eq!(
            bad(b"GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"),
            WebSocketKey
        );
        // Probed on HAProxy 2.6.12: an empty body, a key that is not 24 bytes, and
        // `websocket` on the last `Upgrade` line are refused too.
        for r in [
            "GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nContent-Length: 0\r\n\r\n",
            "GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: k\r\n\r\n",
            "GET / HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: h2c\r\nUpgrade: websocket\r\n\r\n",
        ] {
            assert_eq!(bad(r.as_bytes()), WebSocketKey, "{r}");
        }
        let hs: Vec<u8> = (0..100)
            .flat_map(|i| format!("X-{i}: a\r\n").into_bytes())
            .collect();
        assert_eq!(
            bad(&[b"GET / HTTP/1.1\r\nHost: x\r\n".as_slice(), &hs, b"\r\n"].concat()),
            TooManyHeaders
        );
    }

    #[test]
    fn size_limit_matches_haproxy_measurements() {
        // Largest accepted raw sizes measured on HAProxy 2.6.12 (see module doc).
        let uri_req = |total: usize| {
            let base = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n".len();
            format!(
                "GET /{} HTTP/1.1\r\nHost: x\r\n\r\n",
                "a".repeat(total - base)
            )
        };
        assert!(ok(uri_req(15277).as_bytes()).keep_alive);
        assert_eq!(bad(uri_req(15278).as_bytes()), HeadError::TooLarge);
        let val_req = |total: usize| {
            let base = b"GET / HTTP/1.1\r\nHost: x\r\nX-L: \r\n\r\n".len();
            format!(
                "GET / HTTP/1.1\r\nHost: x\r\nX-L: {}\r\n\r\n",
                "v".repeat(total - base)
            )
        };
        ok(val_req(15273).as_bytes());
        assert_eq!(bad(val_req(15274).as_bytes()), HeadError::TooLarge);
        // An endless head is refused once past the buffer.
        let endless = vec![b'a'; MAX_HEAD_BYTES + 10];
        let mut r = b"GET / HTTP/1.1\r\nX: ".to_vec();
        r.extend_from_slice(&endless);
        assert_eq!(bad(&r), HeadError::TooLarge);
    }

    #[test]
    fn incomplete_heads_ask_for_more() {
        assert!(p(b"").unwrap().is_none());
        assert!(p(b"\r").unwrap().is_none());
        assert!(p(b"GET / HTTP/1.1\r\nHost: x\r\n").unwrap().is_none());
        let (_, n) = p(b"GET / HTTP/1.1\r\n\r\nGET /2").unwrap().unwrap();
        assert_eq!(n, 18);
    }

    /// Observed on HAProxy 2.6.12 (tests/corpus/cases/probe-hdr.toml, probe-seed2.toml,
    /// probe-redirect.toml).
    #[test]
    fn absolute_form_and_host_as_haproxy() {
        let h = ok(b"GET http://sample.com:80/?wtd=wt1x HTTP/1.1\r\nHost: sample.com\r\n\r\n");
        assert_eq!(h.target(), "http://sample.com/?wtd=wt1x");
        let h = ok(b"GET http://n.test/ HTTP/1.1\r\nHost: n.test:80\r\n\r\n");
        assert_eq!(
            (h.target(), h.header("host")),
            ("http://n.test/", Some("n.test:80"))
        );
        let h = ok(b"GET https://n.test:443/ HTTP/1.1\r\nHost: n.test:443\r\n\r\n");
        assert_eq!(
            (h.target(), h.header("host")),
            ("https://n.test/", Some("n.test"))
        );
        let h = ok(b"GET http://n.test:080/ HTTP/1.1\r\nHost: n.test:080\r\n\r\n");
        assert_eq!(h.target(), "http://n.test:080/");
        let h = ok(b"GET http://user@sample.com/?a HTTP/1.1\r\nHost: sample.com\r\n\r\n");
        assert_eq!(h.target(), "http://user@sample.com/?a");
        assert_eq!(
            bad(b"GET http://sample.com?wtd=x HTTP/1.1\r\nHost: sample.com\r\n\r\n"),
            HeadError::Host
        );
        ok(b"GET http://sample.com?wtd=x HTTP/1.1\r\n\r\n");
        ok(b"CONNECT h:443 HTTP/1.1\r\n\r\n");
        ok(b"CONNECT h:8443 HTTP/1.1\r\nHost: h:8443\r\n\r\n");
        assert_eq!(
            bad(b"CONNECT h:443 HTTP/1.1\r\nHost: other:443\r\n\r\n"),
            HeadError::Host
        );
        assert_eq!(
            bad(b"CONNECT h HTTP/1.1\r\nHost: h\r\n\r\n"),
            HeadError::Host
        );
        let h = ok(b"GET / HTTP/1.1\r\nHost: a\r\nX: 1\r\nhost: A\r\n\r\n");
        assert_eq!(h.header_count(), 2, "a repeated identical Host is dropped");
    }

    /// The proxy's entry point takes the head out of its read buffer and leaves
    /// what follows; what the parser rewrote reads as HAProxy forwards it.
    #[test]
    fn heads_split_off_the_read_buffer() {
        let mut buf = BytesMut::from(
            &b"\r\nPOST http://x:80/p HTTP/1.1\r\nHost: x:80\r\nX-F: a\r\n b \r\n\tc\r\nX-U: \xff\r\nContent-Length: 003\r\n\r\nabcGET /2"[..],
        );
        let Ok(Some(h)) = parse_request(&mut buf) else {
            panic!("not parsed");
        };
        assert_eq!(&buf[..], b"abcGET /2");
        assert_eq!(
            (h.method(), h.target(), h.version_text()),
            ("POST", "http://x/p", "HTTP/1.1")
        );
        let lines: Vec<(&str, &str)> = h.headers().collect();
        assert_eq!(
            lines,
            [
                ("Host", "x"),
                ("X-F", "a   b  \tc"),
                ("X-U", "\u{fffd}"),
                ("Content-Length", "3")
            ]
        );
        assert_eq!(h.framing, Framing::Length(3));
        let mut part = BytesMut::from(&b"GET / HTTP/1.1\r\nHost: x\r\n"[..]);
        assert!(parse_request(&mut part).unwrap().is_none());
        assert_eq!(part.len(), 25, "an incomplete head stays in the buffer");
    }
}
