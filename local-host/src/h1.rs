//! The client side of HTTP/1.x: request heads parsed and validated as HAProxy 2.6's
//! h1 parser does (the malformed forms it rejects get 400 here too), chunked decoding,
//! and the answers wtedge writes itself.
//!
//! Rules, each observed on HAProxy 2.6.12 with default tunables (see
//! `tests/malformed.rs`, which replays them against a real HAProxy):
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

use std::fmt::Write as _;

use router_core::unstable::upgrade;

/// Largest head HAProxy 2.6 accepts (in the cost model above).
pub const MAX_HEAD_COST: usize = 15275;
/// Most header lines HAProxy 2.6 accepts.
pub const MAX_HEADERS: usize = 100;
/// Bytes read without finding the end of the head before answering 400.
pub const MAX_HEAD_BYTES: usize = 16384;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    Http10,
    Http11,
}

impl Version {
    pub fn as_str(self) -> &'static str {
        match self {
            Version::Http10 => "HTTP/1.0",
            Version::Http11 => "HTTP/1.1",
        }
    }
}

/// How the request body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    None,
    Length(u64),
    Chunked,
}

/// A parsed, validated request head.
#[derive(Debug, Clone)]
pub struct RequestHead {
    pub method: String,
    pub target: String,
    /// The version as written in the request line (`HTTP/1.1`), for logs.
    pub version_text: String,
    pub version: Version,
    /// Header lines in order (names as received). Values that are not UTF-8 are kept
    /// lossily converted: routing on such bytes is the only place this differs.
    pub headers: Vec<(String, String)>,
    pub framing: Framing,
    /// The client wants the connection kept open after this exchange.
    pub keep_alive: bool,
    /// `Upgrade: websocket` with `Connection: upgrade`.
    pub websocket: bool,
    /// `Connection: upgrade`, for any protocol.
    pub upgrade: bool,
}

impl RequestHead {
    /// The header lines as router-core's request facts take them.
    pub fn header_pairs(&self) -> Vec<(&str, &str)> {
        self.headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect()
    }
}

impl RequestHead {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
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

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Parses the head at the start of `buf`. `Ok(None)`: incomplete, read more.
/// `Ok(Some((head, n)))`: `n` bytes consumed (leading empty lines included).
pub fn parse_request(buf: &[u8]) -> Result<Option<(RequestHead, usize)>, HeadError> {
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
    let mut lines: Vec<&[u8]> = Vec::with_capacity(16);
    let mut pos = start;
    let end = loop {
        let Some(nl) = buf[pos..].iter().position(|&b| b == b'\n') else {
            if buf.len() > MAX_HEAD_BYTES {
                return Err(HeadError::TooLarge);
            }
            return Ok(None);
        };
        let mut line = &buf[pos..pos + nl];
        if let [rest @ .., b'\r'] = line {
            line = rest;
        }
        pos += nl + 1;
        if line.is_empty() {
            break pos;
        }
        if line.contains(&b'\r') {
            // A bare CR inside a line (HAProxy 2.6: 400).
            return Err(if lines.is_empty() {
                HeadError::RequestLine
            } else {
                HeadError::HeaderLine
            });
        }
        lines.push(line);
        if lines.len() > MAX_HEADERS + 1 + 64 {
            // Far past any limit; stop collecting (obs-folds are rare).
            return Err(HeadError::TooManyHeaders);
        }
    };
    if end > MAX_HEAD_BYTES + start {
        return Err(HeadError::TooLarge);
    }
    let (reqline, hdr_lines) = lines.split_first().ok_or(HeadError::RequestLine)?;

    // Request line.
    let words: Vec<&[u8]> = reqline
        .split(|&b| b == b' ')
        .filter(|w| !w.is_empty())
        .collect();
    let [method, target, version] = words[..] else {
        return Err(HeadError::RequestLine);
    };
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

    // Header lines (with obs-fold unfolding).
    let mut headers: Vec<(String, Vec<u8>)> = Vec::with_capacity(hdr_lines.len());
    for line in hdr_lines {
        if matches!(line.first(), Some(b' ' | b'\t')) {
            let Some((_, value)) = headers.last_mut() else {
                return Err(HeadError::HeaderLine);
            };
            value.extend_from_slice(b"  ");
            value.extend_from_slice(line);
            while matches!(value.last(), Some(b' ' | b'\t')) {
                value.pop();
            }
            continue;
        }
        let colon = line
            .iter()
            .position(|&b| b == b':')
            .ok_or(HeadError::HeaderLine)?;
        let name = &line[..colon];
        if name.is_empty() || !name.iter().all(|&b| is_tchar(b)) {
            return Err(HeadError::HeaderLine);
        }
        let mut value = &line[colon + 1..];
        while let [b' ' | b'\t', rest @ ..] = value {
            value = rest;
        }
        while let [rest @ .., b' ' | b'\t'] = value {
            value = rest;
        }
        // Names are tchars, hence ASCII.
        headers.push((String::from_utf8_lossy(name).into_owned(), value.to_vec()));
    }
    if headers.len() > MAX_HEADERS {
        return Err(HeadError::TooManyHeaders);
    }
    let cost = method.len()
        + target.len()
        + version.len()
        + headers
            .iter()
            .map(|(n, v)| n.len() + v.len() + 8)
            .sum::<usize>();
    if cost > MAX_HEAD_COST {
        return Err(HeadError::TooLarge);
    }
    let mut headers: Vec<(String, String)> = headers
        .into_iter()
        .map(|(n, v)| {
            let v = match String::from_utf8(v) {
                Ok(s) => s,
                Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
            };
            (n, v)
        })
        .collect();

    // Content-Length / Transfer-Encoding.
    let mut length: Option<u64> = None;
    let mut te_seen = false;
    let mut te_chunked_last = false;
    for (n, v) in &headers {
        if n.eq_ignore_ascii_case("content-length") {
            for part in v.split(',') {
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
        } else if n.eq_ignore_ascii_case("transfer-encoding") {
            for part in v.split(',') {
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
        headers.retain(|(n, _)| !n.eq_ignore_ascii_case("content-length"));
        Framing::Chunked
    } else if let Some(l) = length {
        // Merge duplicates into one line.
        let mut seen = false;
        headers.retain_mut(|(n, v)| {
            if !n.eq_ignore_ascii_case("content-length") {
                return true;
            }
            if seen {
                return false;
            }
            seen = true;
            *v = l.to_string();
            true
        });
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
    let mut host: Option<String> = None;
    let mut seen_host = false;
    let mut dup = false;
    for (n, v) in &headers {
        if n.eq_ignore_ascii_case("host") {
            match &host {
                Some(h) if !h.eq_ignore_ascii_case(v) => return Err(HeadError::Host),
                Some(_) => dup = true,
                None => host = Some(v.clone()),
            }
            seen_host = true;
        }
    }
    if dup {
        let mut first = true;
        headers.retain(|(n, _)| {
            if !n.eq_ignore_ascii_case("host") {
                return true;
            }
            std::mem::replace(&mut first, false)
        });
    }
    let _ = seen_host;
    let mut target = String::from_utf8_lossy(target).into_owned();
    if method.eq_ignore_ascii_case(b"CONNECT") {
        if !connect_authority_ok(&target, host.as_deref()) {
            return Err(HeadError::Host);
        }
        // HAProxy 2.6 forwards a CONNECT's target as written but its Host without a
        // default port (probed: `Host: x:443` and `x:80` reach the server as `x`,
        // `x:8443` stays): router-core's scheme-based normalization gives that host.
        if let Some(rw) = router_core::unstable::normalize::scheme_based("CONNECT", &target) {
            set_hosts(&mut headers, &rw.host);
        }
    } else if let Some(abs) = Absolute::parse(&target) {
        let authority = &target[abs.authority.clone()];
        // An empty authority (`https:///p`) is not compared with Host (HAProxy 2.6's
        // h1 parser checks only a non-empty one).
        if let Some(h) = host.as_deref()
            && !authority.is_empty()
            && !h.eq_ignore_ascii_case(authority)
            && !mismatch_allowed(&target[..abs.scheme_end], authority, h)
        {
            return Err(HeadError::Host);
        }
        // Scheme-based normalization (router-core's): a default port leaves the
        // target and Host.
        if let Some(rw) = router_core::unstable::normalize::scheme_based("", &target) {
            target = rw.target;
            set_hosts(&mut headers, &rw.host);
        }
    } else if !target.starts_with(['/', '*']) {
        // No scheme: HAProxy 2.6 takes the target's start as an authority all the same.
        let end = target.find('/').unwrap_or(target.len());
        let start = target[..end].rfind('@').map_or(0, |a| a + 1);
        let authority = &target[start..end];
        if let Some(h) = host.as_deref()
            && !authority.is_empty()
            && !h.eq_ignore_ascii_case(authority)
            && !mismatch_allowed("", authority, h)
        {
            return Err(HeadError::Host);
        }
    }

    // Connection semantics.
    let mut conn_close = false;
    let mut conn_keep = false;
    let mut conn_upgrade = false;
    let mut upgrade_ws = false;
    let mut ws_key = false;
    for (n, v) in &headers {
        if n.eq_ignore_ascii_case("connection") {
            for t in v.split(',').map(|t| t.trim()) {
                conn_close |= t.eq_ignore_ascii_case("close");
                conn_keep |= t.eq_ignore_ascii_case("keep-alive");
                conn_upgrade |= t.eq_ignore_ascii_case("upgrade");
            }
        } else if n.eq_ignore_ascii_case("upgrade") {
            // Each `Upgrade` line decides anew: the last wins.
            upgrade_ws = upgrade::names_websocket(v);
        } else if n.eq_ignore_ascii_case("sec-websocket-key") {
            ws_key |= upgrade::key_valid(v.as_bytes());
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
            headers.retain(|(n, _)| !n.eq_ignore_ascii_case("upgrade"));
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
        method: String::from_utf8_lossy(method).into_owned(),
        target,
        version_text: String::from_utf8_lossy(version).into_owned(),
        version: version_kind,
        headers,
        framing,
        keep_alive,
        websocket,
        upgrade: conn_upgrade,
    };
    Ok(Some((head, end)))
}

/// A `Connection` value as HAProxy 2.6 forwards it, both ways
/// (`h1_parse_connection_header` with `H1_MF_CLEAN_CONN_HDR`): the `close` and
/// `keep-alive` tokens removed. Until one is removed the value is kept as written (up
/// to the end of the last token kept); after that, each token kept is appended after a
/// bare `,`. Empty: the line is dropped.
pub fn connection_kept(value: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut as_written = true;
    let mut i = 0;
    while i < value.len() {
        if matches!(value[i], b' ' | b'\t') {
            i += 1;
            continue;
        }
        let end = memchr::memchr(b',', &value[i..]).map_or(value.len(), |p| i + p);
        let mut word = &value[i..end];
        while let [rest @ .., b' ' | b'\t'] = word {
            word = rest;
        }
        if word.eq_ignore_ascii_case(b"close") || word.eq_ignore_ascii_case(b"keep-alive") {
            as_written = false;
        } else if as_written {
            out.clear();
            out.extend_from_slice(&value[..end]);
        } else {
            if !out.is_empty() {
                out.push(b',');
            }
            out.extend_from_slice(word);
        }
        i = end + 1;
    }
    out
}

/// Where the parts of an absolute-form target are (HAProxy's `http_parse_scheme` and
/// `http_parse_authority` with userinfo skipped: the authority ends at the first `/`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Absolute {
    /// End of `scheme://`.
    pub scheme_end: usize,
    /// The authority without userinfo.
    pub authority: std::ops::Range<usize>,
}

impl Absolute {
    pub fn parse(target: &str) -> Option<Absolute> {
        let b = target.as_bytes();
        if !b.first()?.is_ascii_alphabetic() {
            return None;
        }
        let mut i = 1;
        while i < b.len() && (b[i].is_ascii_alphanumeric() || matches!(b[i], b'+' | b'-' | b'.')) {
            i += 1;
        }
        if !target[i..].starts_with("://") {
            return None;
        }
        let scheme_end = i + 3;
        let end = target[scheme_end..]
            .find('/')
            .map_or(target.len(), |e| scheme_end + e);
        let start = target[scheme_end..end]
            .rfind('@')
            .map_or(scheme_end, |a| scheme_end + a + 1);
        Some(Absolute {
            scheme_end,
            authority: start..end,
        })
    }
}

/// The authority of an absolute-form target (`http://u@host:port/p` -> `host:port`).
pub fn absolute_authority(target: &str) -> Option<&str> {
    Absolute::parse(target).map(|a| &target[a.authority])
}

/// Gives every Host line the value `host`.
fn set_hosts(headers: &mut [(String, String)], host: &str) {
    for (n, v) in headers.iter_mut() {
        if n.eq_ignore_ascii_case("host") {
            host.clone_into(v);
        }
    }
}

/// HAProxy's `http_is_default_port`: empty, or 80 with `http://`, or 443 with `https://`.
fn is_default_port(scheme: &str, port: &str) -> bool {
    port.is_empty()
        || (port == "80" && scheme.eq_ignore_ascii_case("http://"))
        || (port == "443" && scheme.eq_ignore_ascii_case("https://"))
}

/// `host:port` -> (`host`, Some(`port`)) when the part after the last `:` is digits.
fn split_port(a: &str) -> (&str, Option<&str>) {
    match a.rfind(':') {
        Some(i) if a[i + 1..].bytes().all(|b| b.is_ascii_digit()) => (&a[..i], Some(&a[i + 1..])),
        _ => (a, None),
    }
}

/// HAProxy 2.6's `h1_validate_mismatch_authority`: authority and Host differ, which is
/// accepted only when they differ by a default port.
fn mismatch_allowed(scheme: &str, authority: &str, host: &str) -> bool {
    let (uh, up) = split_port(authority);
    let (hh, hp) = split_port(host);
    match (up, hp) {
        (None, None) => false,
        (Some(p), _) if !is_default_port(scheme, p) => false,
        (_, Some(p)) if !is_default_port(scheme, p) => false,
        _ => uh.eq_ignore_ascii_case(hh),
    }
}

/// HAProxy 2.6's `h1_validate_connect_authority`: `host:port` with a port, and a Host
/// header, if any, naming the same.
fn connect_authority_ok(authority: &str, host: Option<&str>) -> bool {
    let (ah, ap) = split_port(authority);
    if ap.is_none_or(str::is_empty) || ah.is_empty() {
        return false;
    }
    match host {
        None => true,
        Some(h) => match split_port(h) {
            (_, Some(_)) => h.eq_ignore_ascii_case(authority),
            (hh, None) => hh.eq_ignore_ascii_case(ah),
        },
    }
}

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

/// Decodes as much as possible from `buf` in state `st`.
pub fn chunk_step(st: &mut ChunkState, buf: &[u8]) -> ChunkStep {
    match *st {
        ChunkState::Size => {
            let Some(nl) = buf.iter().position(|&b| b == b'\n') else {
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
            let Ok(size) =
                u64::from_str_radix(std::str::from_utf8(&line[..hex_end]).unwrap_or("x"), 16)
            else {
                return ChunkStep::Invalid;
            };
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
            let Some(nl) = buf.iter().position(|&b| b == b'\n') else {
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

/// HAProxy 2.6's own error answers (bytes as it sends them), with router-core's pages.
pub mod errors {
    use router_core::unstable::answer::error_page;

    /// An answer to a request HAProxy could not read (400, 408): capitalized header
    /// names and `Connection: close`, as HAProxy 2.6 sends these before any
    /// forwarding.
    pub fn early(status: u16) -> Vec<u8> {
        let page = error_page(status);
        format!(
            "HTTP/1.1 {status} {}\r\nContent-length: {}\r\nCache-Control: no-cache\r\nConnection: close\r\nContent-Type: text/html\r\n\r\n{}",
            page.reason,
            page.body.len(),
            page.body
        )
        .into_bytes()
    }

    /// HAProxy 2.6's 413 to a request whose method forbids a body (HTTP/1.0 GET,
    /// HEAD, DELETE with one): as [`early`] but without `Connection: close`.
    pub fn too_large() -> Vec<u8> {
        let page = error_page(413);
        format!(
            "HTTP/1.1 413 {}\r\nContent-length: {}\r\nCache-Control: no-cache\r\nContent-Type: text/html\r\n\r\n{}",
            page.reason,
            page.body.len(),
            page.body
        )
        .into_bytes()
    }

    /// The whole answer for a forwarding error (502/503/504...). `close` adds
    /// `connection: close` (HTTP/1.0 clients and closing connections).
    pub fn forwarding(status: u16, close: bool) -> Vec<u8> {
        let page = error_page(status);
        let mut out = format!(
            "HTTP/1.1 {status} {}\r\ncontent-length: {}\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n",
            page.reason,
            page.body.len()
        );
        if close {
            out.push_str("connection: close\r\n");
        }
        out.push_str("\r\n");
        out.push_str(page.body);
        out.into_bytes()
    }
}

/// The answer to a `redirect` rule, as HAProxy 2.6 writes it.
pub fn redirect(code: u16, location: &str, close: bool, keep_alive_10: bool) -> Vec<u8> {
    let reason = router_core::unstable::answer::redirect_reason(code);
    let mut out = String::with_capacity(96 + location.len());
    let _ = write!(
        out,
        "HTTP/1.1 {code} {reason}\r\ncontent-length: 0\r\nlocation: {location}\r\n"
    );
    if router_core::unstable::answer::redirect_no_cache(code) {
        out.push_str("cache-control: no-cache\r\n");
    }
    if close {
        out.push_str("connection: close\r\n");
    } else if keep_alive_10 {
        out.push_str("connection: keep-alive\r\n");
    }
    out.push_str("\r\n");
    out.into_bytes()
}

/// The answer to an `http-request return` rule, as HAProxy 2.6 writes it: the
/// rule's header lines, `content-length` (none on 1xx and 204), `content-type`,
/// then the body.
pub fn returned(
    a: &router_core::unstable::rules::Answer,
    close: bool,
    keep_alive_10: bool,
) -> Vec<u8> {
    let reason = router_core::unstable::answer::reason(a.status);
    let mut out = String::with_capacity(96 + a.body.len());
    let _ = write!(out, "HTTP/1.1 {} {reason}\r\n", a.status);
    for (n, v) in &a.headers {
        out.push_str(&n.to_ascii_lowercase());
        out.push_str(": ");
        out.push_str(v);
        out.push_str("\r\n");
    }
    if a.has_length() {
        let _ = write!(out, "content-length: {}\r\n", a.body.len());
    }
    if let Some(t) = &a.content_type {
        let _ = write!(out, "content-type: {t}\r\n");
    }
    if close {
        out.push_str("connection: close\r\n");
    } else if keep_alive_10 {
        out.push_str("connection: keep-alive\r\n");
    }
    out.push_str("\r\n");
    out.push_str(&a.body);
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &[u8]) -> Result<Option<(RequestHead, usize)>, HeadError> {
        parse_request(s)
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
        assert_eq!(h.target, "/a?wtd=wt1x%41/../b");
        assert_eq!(h.headers[1], ("X-A".into(), "v".into()));
        assert!(h.keep_alive);
        let h = ok(b"\r\n\nget  http://x/p?q   HTTP/2.0\nHost: x\n\n");
        assert_eq!((h.method.as_str(), h.version), ("get", Version::Http11));
        assert!(!ok(b"GET / HTTP/1.0\r\n\r\n").keep_alive);
        assert!(ok(b"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").keep_alive);
        let h = ok(b"GET / HTTP/1.1\r\nX-A: a\r\n b\r\n\r\n");
        assert_eq!(h.headers[0].1, "a   b");
        assert_eq!(
            ok(b"GET / HTTP/1.1\r\nX: a\x00\x01\x7fb\r\n\r\n").headers[0].1,
            "a\0\x01\x7fb"
        );
        let h = ok(b"POST / HTTP/1.1\r\nContent-Length: 2\r\ncontent-length: 2\r\n\r\n");
        assert_eq!((h.framing, h.headers.len()), (Framing::Length(2), 1));
        let h = ok(b"POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n");
        assert_eq!((h.framing, h.headers.len()), (Framing::Chunked, 1));
        assert!(ok(b"OPTIONS * HTTP/1.1\r\n\r\n").keep_alive);
        // An empty authority is not compared with Host; target and Host stay as sent.
        let h = ok(b"GET https:///static?wtd=wt1 HTTP/1.1\r\nHost: x:443\r\n\r\n");
        assert_eq!(
            (h.target.as_str(), h.header("host")),
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
    }

    /// Observed on HAProxy 2.6.12 (tests/tests/e2e_responses.rs, `connection` cases).
    #[test]
    fn connection_values_as_haproxy_cleans_them() {
        for (v, kept) in [
            ("close", ""),
            ("Keep-Alive , X-Foo", "X-Foo"),
            ("X-Foo,X-Bar ,close", "X-Foo,X-Bar "),
            ("keep-alive, Upgrade", "Upgrade"),
            ("Upgrade, HTTP2-Settings", "Upgrade, HTTP2-Settings"),
            ("X-Foo, close, X-Bar,  X-Baz", "X-Foo,X-Bar,X-Baz"),
        ] {
            assert_eq!(connection_kept(v.as_bytes()), kept.as_bytes(), "{v}");
        }
    }

    #[test]
    fn absolute_authorities() {
        assert_eq!(absolute_authority("http://h:80/p?q"), Some("h:80"));
        assert_eq!(absolute_authority("HTTP://h"), Some("h"));
        assert_eq!(absolute_authority("http://user@h/x"), Some("h"));
        assert_eq!(absolute_authority("http://h?q=1"), Some("h?q=1"));
        assert_eq!(absolute_authority("/p"), None);
    }

    /// Observed on HAProxy 2.6.12 (tests/corpus/cases/probe-hdr.toml, probe-seed2.toml,
    /// probe-redirect.toml).
    #[test]
    fn absolute_form_and_host_as_haproxy() {
        let h = ok(b"GET http://sample.com:80/?wtd=wt1x HTTP/1.1\r\nHost: sample.com\r\n\r\n");
        assert_eq!(h.target, "http://sample.com/?wtd=wt1x");
        let h = ok(b"GET http://n.test/ HTTP/1.1\r\nHost: n.test:80\r\n\r\n");
        assert_eq!(
            (h.target.as_str(), h.header("host")),
            ("http://n.test/", Some("n.test:80"))
        );
        let h = ok(b"GET https://n.test:443/ HTTP/1.1\r\nHost: n.test:443\r\n\r\n");
        assert_eq!(
            (h.target.as_str(), h.header("host")),
            ("https://n.test/", Some("n.test"))
        );
        let h = ok(b"GET http://n.test:080/ HTTP/1.1\r\nHost: n.test:080\r\n\r\n");
        assert_eq!(h.target, "http://n.test:080/");
        let h = ok(b"GET http://user@sample.com/?a HTTP/1.1\r\nHost: sample.com\r\n\r\n");
        assert_eq!(h.target, "http://user@sample.com/?a");
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
        assert_eq!(h.headers.len(), 2, "a repeated identical Host is dropped");
    }

    #[test]
    fn the_413_is_haproxys() {
        // HAProxy 2.6.12's bytes for an HTTP/1.0 GET with a body (captured).
        assert_eq!(
            errors::too_large(),
            b"HTTP/1.1 413 Payload Too Large\r\nContent-length: 106\r\nCache-Control: no-cache\r\nContent-Type: text/html\r\n\r\n<html><body><h1>413 Payload Too Large</h1>\nThe request entity exceeds the maximum allowed.\n</body></html>\n"
        );
    }

    #[test]
    fn answers_match_haproxy_bytes() {
        assert_eq!(
            String::from_utf8(redirect(302, "/wt1", false, false)).unwrap(),
            "HTTP/1.1 302 Found\r\ncontent-length: 0\r\nlocation: /wt1\r\ncache-control: no-cache\r\n\r\n"
        );
        assert_eq!(
            String::from_utf8(redirect(301, "/x", true, false)).unwrap(),
            "HTTP/1.1 301 Moved Permanently\r\ncontent-length: 0\r\nlocation: /x\r\nconnection: close\r\n\r\n"
        );
        let e = String::from_utf8(errors::forwarding(503, false)).unwrap();
        assert_eq!(
            e,
            "HTTP/1.1 503 Service Unavailable\r\ncontent-length: 107\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>503 Service Unavailable</h1>\nNo server is available to handle this request.\n</body></html>\n"
        );
        assert_eq!(errors::forwarding(502, false).len(), 206);
        assert_eq!(errors::forwarding(504, false).len(), 195);
    }
}
