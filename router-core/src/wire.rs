//! The compact binary encoding of the per-request path between a host and the
//! router-core WebAssembly module (see [`crate::abi`] for the exports). Both
//! directions are encoded and decoded here, so the host and the module can
//! never disagree on the layout. All integers are little-endian.
//!
//! Request (host to module):
//!
//! ```text
//! offset
//!  0 u8  mode                   0 = route, 1 = route with trace, 2 = redispatch
//!  1 u8  has-health             0 = keep the states of the previous request
//!  2 u16 frontend
//!  4 u16 backend                (redispatch: the backend of the failed attempt; else 0)
//!  6 u16 header count n
//!  8 u32 server                 (redispatch: the server that failed; else 0)
//! 12 u32 health length h        (0 without health)
//! 16 u8[16] src address         (IPv4: the first 4 bytes, the rest 0)
//! 32 u16 src port
//! 34 u8  src family, 35 u8 dst family   (4 | 6)
//! 36 u8[16] dst address
//! 52 u16 dst port
//! 54 u8  tls                  1 = the client connection is TLS (`ssl_fc`)
//! 55 u8  0
//! 56 h bytes of health          one byte per server (1 = UP)
//!    u32 end[3 + 2n]            where each string ends in `text`, in order:
//!                               method, target, version, then name, value per header
//!    text                       the strings back to back (UTF-8), end[last] bytes
//! ```
//!
//! The fixed head is read with one length check, the strings sit together so
//! that the module validates UTF-8 once per request, and the health bytes are
//! only sent when they changed since the instance last saw them: in wasmtime,
//! a check or call per field cost more than the routing decision itself.
//!
//! Decision (module to host):
//!
//! ```text
//! u8 0 redirect:  u16 code, str32 location, u8 has-backend [u16 backend]   (a backend's rule)
//! u8 1 forward:   u16 frontend, u16 backend, u32 server, u8 balanced,
//!                 u8 upstream (0 socket: addr | 1 name: u16 port; the name is the server's),
//!                 u8 has-forwarded-for [addr-ip], u8 has-original-to [addr-ip]
//!                 (the header names are the backend's option, else the frontend's:
//!                 the host takes them from its copy of the configuration)
//!                 u16 edit count, per edit: u8 op (0 set, 1 add, 2 del, 3 replace [u32 nth]),
//!                 str32 name, str32 value;
//!                 u8 has-method [str32 method], u8 has-target [str32 target],
//!                 u16 variable count, str32 name, str32 value per variable
//! u8 2 respond:   u16 status, u8 has-backend [u16 backend]   (the backend chosen, if any)
//! u8 3 none:      (redispatch found no other server)
//! u8 4 answer:    u8 kind (0 deny, 1 return), u16 status, u8 has-backend [u16 backend],
//!                 u8 has-content-type [str32], str32 body, u16 header count, str32 name, str32 value per header
//! then u32 trace step count and the steps (see `encode_step`)
//! ```
//! `str32` is a u32 length followed by UTF-8 bytes; `addr-ip` is an addr without port.

use alloc::borrow::Cow;
use alloc::vec::Vec;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use crate::acl::AclRef;
use crate::config::model::{Config, ProxyId, ServerHost, ServerId};
use crate::decision::{Decision, Forward, HeaderAppend, Upstream};
use crate::header_interest::HeaderInterest;
use crate::health::HealthSnapshot;
use crate::request::RequestFacts;
use crate::rules::{Answer, AnswerKind, EditOp, HeaderEdit};
use crate::trace::{Trace, TraceStep};
use alloc::string::String;

/// Why a buffer could not be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum WireError {
    /// The buffer ends before the value at this offset.
    Truncated(usize),
    /// A byte at this offset has a value the layout does not allow.
    BadTag(usize),
    /// A string at this offset is not UTF-8.
    NotUtf8(usize),
    /// An id does not exist in the configuration.
    UnknownId,
}

/// What the module is asked to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// [`crate::decide`].
    Route {
        /// Record a trace.
        trace: bool,
    },
    /// [`crate::redispatch`] away from a failed server.
    Redispatch {
        /// The backend of the failed attempt.
        backend: ProxyId,
        /// The server that could not be reached.
        server: ServerId,
    },
}

/// A decoded request, borrowing the buffer.
#[derive(Debug)]
pub struct WireRequest<'a> {
    /// What to do.
    pub mode: Mode,
    /// The frontend that received the request.
    pub frontend: ProxyId,
    /// Method.
    pub method: &'a str,
    /// Target as received.
    pub target: &'a str,
    /// Version.
    pub version: &'a str,
    /// Headers in order: the first [`INLINE_HEADERS`] without allocating.
    inline: [(&'a str, &'a str); INLINE_HEADERS],
    /// How many of `inline` are used, when `spilled` is empty.
    inline_len: usize,
    /// All headers, when there are more than [`INLINE_HEADERS`].
    spilled: Vec<(&'a str, &'a str)>,
    /// Client address.
    pub src: SocketAddr,
    /// Local address.
    pub dst: SocketAddr,
    /// One byte per server; `None`: unchanged since the previous request.
    pub health: Option<&'a [u8]>,
    /// The client connection is TLS.
    pub tls: bool,
}

/// Headers a decoded request holds without allocating (most requests have fewer).
pub const INLINE_HEADERS: usize = 24;

impl<'a> WireRequest<'a> {
    /// The headers, in order.
    pub fn headers(&self) -> &[(&'a str, &'a str)] {
        if self.spilled.is_empty() {
            &self.inline[..self.inline_len]
        } else {
            &self.spilled
        }
    }

    /// The request facts (borrowing this request's header list).
    pub fn facts(&self) -> RequestFacts<'_> {
        RequestFacts {
            method: self.method,
            target: self.target,
            version: self.version,
            headers: self.headers(),
            src: self.src,
            dst: self.dst,
            tls: self.tls,
        }
    }
}

fn put_u16(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn put_u32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

/// A u32 length and the bytes (a location longer than 4 GiB is cut at a char
/// boundary; hosts refuse such requests long before).
fn put_str(out: &mut Vec<u8>, s: &str) {
    let mut len = s.len().min(u32::MAX as usize);
    while !s.is_char_boundary(len) {
        len -= 1;
    }
    put_u32(out, len as u32);
    out.extend_from_slice(&s.as_bytes()[..len]);
}

fn put_ip(out: &mut Vec<u8>, ip: IpAddr) {
    // One append per address (each append checks the capacity).
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            out.extend_from_slice(&[4, o[0], o[1], o[2], o[3]]);
        }
        IpAddr::V6(v6) => {
            let mut b = [6u8; 17];
            b[1..].copy_from_slice(&v6.octets());
            out.extend_from_slice(&b);
        }
    }
}

fn put_addr(out: &mut Vec<u8>, a: SocketAddr) {
    put_ip(out, a.ip());
    put_u16(out, a.port());
}

/// Encodes a request for the module into `out` (cleared first). `health`:
/// one byte per server, or `None` when the module already has these states.
pub fn encode_request(
    out: &mut Vec<u8>,
    mode: Mode,
    frontend: ProxyId,
    req: &RequestFacts<'_>,
    health: Option<&[u8]>,
) {
    out.clear();
    out.resize(request_len(req, health), 0);
    let n = write_request(out, mode, frontend, req, health, &HeaderInterest::All);
    out.truncate(n);
}

/// Size of a request's fixed head.
const HEAD: usize = 56;

/// A size [`write_request`] needs at most for this request (all headers counted).
pub fn request_len(req: &RequestFacts<'_>, health: Option<&[u8]>) -> usize {
    let headers = req.headers.len().min(usize::from(u16::MAX));
    let text: usize = req.headers[..headers]
        .iter()
        .map(|(n, v)| n.len() + v.len())
        .sum();
    HEAD + health.map_or(0, <[u8]>::len)
        + 4 * (3 + 2 * headers)
        + req.method.len()
        + req.target.len()
        + req.version.len()
        + text
}

/// Writes a request into `out` (at least [`request_len`] bytes: hosts write
/// straight into the module's input buffer) and returns the length written;
/// 0 when `out` is too small or the text exceeds 4 GiB (hosts refuse such
/// requests long before: HAProxy's buffer is 16 KB). Only the headers
/// `interest` wants are sent ([`HeaderInterest::of`] the loaded config: the
/// decision is the same).
pub fn write_request(
    out: &mut [u8],
    mode: Mode,
    frontend: ProxyId,
    req: &RequestFacts<'_>,
    health: Option<&[u8]>,
    interest: &HeaderInterest,
) -> usize {
    // One pass decides which headers go (a bit each for the first 128: the
    // write below does not compare names again).
    let (mut count, mut headers_text, mut sent) = (0usize, 0usize, 0u128);
    for (i, (n, v)) in req.headers.iter().enumerate() {
        if count < usize::from(u16::MAX) && interest.wants(n) {
            count += 1;
            headers_text += n.len() + v.len();
            if i < 128 {
                sent |= 1 << i;
            }
        }
    }
    let goes = |i: usize, n: &str| {
        if i < 128 {
            sent & (1 << i) != 0
        } else {
            interest.wants(n)
        }
    };
    let text = req.method.len() + req.target.len() + req.version.len() + headers_text;
    let has_health = health.is_some();
    let health = health.unwrap_or(&[]);
    let (Ok(_), Ok(hlen)) = (u32::try_from(text), u32::try_from(health.len())) else {
        return 0;
    };
    let mut head = [0u8; HEAD];
    let (tag, backend, server) = match mode {
        Mode::Route { trace } => (u8::from(trace), 0, 0),
        Mode::Redispatch { backend, server } => (2, backend.0, server.0),
    };
    head[0] = tag;
    head[1] = u8::from(has_health);
    head[2..4].copy_from_slice(&frontend.0.to_le_bytes());
    head[4..6].copy_from_slice(&backend.to_le_bytes());
    head[6..8].copy_from_slice(&(count as u16).to_le_bytes());
    head[8..12].copy_from_slice(&server.to_le_bytes());
    head[12..16].copy_from_slice(&hlen.to_le_bytes());
    let (src_ip, src_family) = ip_bytes(req.src.ip());
    let (dst_ip, dst_family) = ip_bytes(req.dst.ip());
    head[16..32].copy_from_slice(&src_ip);
    head[32..34].copy_from_slice(&req.src.port().to_le_bytes());
    head[34] = src_family;
    head[35] = dst_family;
    head[36..52].copy_from_slice(&dst_ip);
    head[52..54].copy_from_slice(&req.dst.port().to_le_bytes());
    head[54] = u8::from(req.tls);
    let mut w = Writer {
        buf: out,
        pos: 0,
        short: false,
    };
    w.fixed(head);
    w.put(health);
    let mut table = w.pos;
    w.pos += 4 * (3 + 2 * count);
    let mut end: u32 = 0;
    let mut string = |w: &mut Writer<'_>, s: &str| {
        w.put(s.as_bytes());
        // No overflow: the total was checked above.
        end += s.len() as u32;
        w.fixed_at(table, end.to_le_bytes());
        table += 4;
    };
    string(&mut w, req.method);
    string(&mut w, req.target);
    string(&mut w, req.version);
    let mut written = 0;
    for (i, (n, v)) in req.headers.iter().enumerate() {
        if written < count && goes(i, n) {
            string(&mut w, n);
            string(&mut w, v);
            written += 1;
        }
    }
    if w.short { 0 } else { w.pos }
}

/// An address as 16 bytes (IPv4 in the first 4) and its family (4 or 6).
fn ip_bytes(ip: IpAddr) -> ([u8; 16], u8) {
    match ip {
        IpAddr::V4(v4) => {
            let mut b = [0u8; 16];
            b[..4].copy_from_slice(&v4.octets());
            (b, 4)
        }
        IpAddr::V6(v6) => (v6.octets(), 6),
    }
}

/// An address written by [`ip_bytes`].
fn ip_from(b: &[u8; 16], family: u8) -> Option<IpAddr> {
    match family {
        4 => Some(IpAddr::V4(Ipv4Addr::new(b[0], b[1], b[2], b[3]))),
        6 => Some(IpAddr::V6(Ipv6Addr::from(*b))),
        _ => None,
    }
}

/// A cursor writing into a slice; a write past its end marks it `short`.
struct Writer<'a> {
    buf: &'a mut [u8],
    pos: usize,
    short: bool,
}

impl Writer<'_> {
    fn put(&mut self, bytes: &[u8]) {
        self.put_at(self.pos, bytes);
        self.pos += bytes.len();
    }

    fn put_at(&mut self, at: usize, bytes: &[u8]) {
        match self.buf.get_mut(at..at + bytes.len()) {
            Some(dst) => dst.copy_from_slice(bytes),
            None => self.short = true,
        }
    }

    /// A fixed-size write: plain stores, no `memcpy` call.
    fn fixed<const N: usize>(&mut self, bytes: [u8; N]) {
        self.fixed_at(self.pos, bytes);
        self.pos += N;
    }

    fn fixed_at<const N: usize>(&mut self, at: usize, bytes: [u8; N]) {
        match self.buf.get_mut(at..at + N) {
            Some(dst) => dst.copy_from_slice(&bytes),
            None => self.short = true,
        }
    }
}

/// A cursor over a buffer.
struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], WireError> {
        let end = self
            .pos
            .checked_add(n)
            .ok_or(WireError::Truncated(self.pos))?;
        let s = self
            .buf
            .get(self.pos..end)
            .ok_or(WireError::Truncated(self.pos))?;
        self.pos = end;
        Ok(s)
    }

    fn u8(&mut self) -> Result<u8, WireError> {
        Ok(self.take(1)?[0])
    }

    fn u16(&mut self) -> Result<u16, WireError> {
        let b = self.take(2)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }

    fn u32(&mut self) -> Result<u32, WireError> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn u64(&mut self) -> Result<u64, WireError> {
        let lo = u64::from(self.u32()?);
        let hi = u64::from(self.u32()?);
        Ok(lo | (hi << 32))
    }

    fn str(&mut self) -> Result<&'a str, WireError> {
        let len = self.u32()? as usize;
        let at = self.pos;
        core::str::from_utf8(self.take(len)?).map_err(|_| WireError::NotUtf8(at))
    }

    fn ip(&mut self) -> Result<IpAddr, WireError> {
        let at = self.pos;
        match self.u8()? {
            4 => {
                let b = self.take(4)?;
                Ok(IpAddr::V4(Ipv4Addr::new(b[0], b[1], b[2], b[3])))
            }
            6 => {
                let b = self.take(16)?;
                let mut o = [0u8; 16];
                o.copy_from_slice(b);
                Ok(IpAddr::V6(Ipv6Addr::from(o)))
            }
            _ => Err(WireError::BadTag(at)),
        }
    }

    fn addr(&mut self) -> Result<SocketAddr, WireError> {
        let ip = self.ip()?;
        Ok(SocketAddr::new(ip, self.u16()?))
    }

    fn bool(&mut self) -> Result<bool, WireError> {
        let at = self.pos;
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(WireError::BadTag(at)),
        }
    }

    /// An optional proxy id, refused when `cfg` has no such proxy.
    fn opt_proxy(&mut self, cfg: &Config) -> Result<Option<ProxyId>, WireError> {
        if !self.bool()? {
            return Ok(None);
        }
        let b = ProxyId(self.u16()?);
        if usize::from(b.0) >= cfg.proxies.len() {
            return Err(WireError::UnknownId);
        }
        Ok(Some(b))
    }
}

/// Decodes a request encoded by [`encode_request`].
pub fn decode_request(buf: &[u8]) -> Result<WireRequest<'_>, WireError> {
    let Some(head) = buf.first_chunk::<HEAD>() else {
        return Err(WireError::Truncated(0));
    };
    let u16_at = |i: usize| u16::from_le_bytes([head[i], head[i + 1]]);
    let u32_at = |i: usize| u32::from_le_bytes([head[i], head[i + 1], head[i + 2], head[i + 3]]);
    let frontend = ProxyId(u16_at(2));
    let mode = match head[0] {
        t @ (0 | 1) => Mode::Route { trace: t == 1 },
        2 => Mode::Redispatch {
            backend: ProxyId(u16_at(4)),
            server: ServerId(u32_at(8)),
        },
        _ => return Err(WireError::BadTag(0)),
    };
    let addr = |ip: usize, port: usize, family: usize| -> Result<SocketAddr, WireError> {
        let mut b = [0u8; 16];
        b.copy_from_slice(&head[ip..ip + 16]);
        let ip = ip_from(&b, head[family]).ok_or(WireError::BadTag(family))?;
        Ok(SocketAddr::new(ip, u16_at(port)))
    };
    let src = addr(16, 32, 34)?;
    let dst = addr(36, 52, 35)?;
    let count = usize::from(u16_at(6));
    let mut r = Reader { buf, pos: HEAD };
    let hlen = u32_at(12) as usize;
    let health = match head[1] {
        0 => None,
        1 => Some(r.take(hlen)?),
        _ => return Err(WireError::BadTag(1)),
    };
    let table_at = r.pos;
    let table = r.take(4 * (3 + 2 * count))?;
    let le32 = |b: &[u8]| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize;
    let (fixed, pairs) = table.split_at(12);
    let text_len = table.last_chunk::<4>().map_or(0, |b| le32(b));
    let text_at = r.pos;
    let text = core::str::from_utf8(r.take(text_len)?).map_err(|_| WireError::NotUtf8(text_at))?;
    // Each string runs from the end of the one before to its own end; an end
    // that goes back, past the text or into a character is refused. (A plain
    // loop: a closure per string cost more than the rest of decoding in wasm.)
    let bad = WireError::BadTag(table_at);
    let (m, t, v) = (le32(&fixed[0..]), le32(&fixed[4..]), le32(&fixed[8..]));
    let (Some(method), Some(target), Some(version)) =
        (text.get(..m), text.get(m..t), text.get(t..v))
    else {
        return Err(bad);
    };
    let mut from = v;
    let mut inline = [("", ""); INLINE_HEADERS];
    let mut spilled = Vec::new();
    if count > INLINE_HEADERS {
        spilled.reserve(count);
    }
    for (i, pair) in pairs.chunks_exact(8).enumerate() {
        let (n_end, v_end) = (le32(&pair[0..]), le32(&pair[4..]));
        let (Some(n), Some(v)) = (text.get(from..n_end), text.get(n_end..v_end)) else {
            return Err(bad);
        };
        from = v_end;
        match inline.get_mut(i) {
            Some(slot) if count <= INLINE_HEADERS => *slot = (n, v),
            _ => spilled.push((n, v)),
        }
    }
    let inline_len = count.min(INLINE_HEADERS);
    Ok(WireRequest {
        mode,
        frontend,
        method,
        target,
        version,
        inline,
        inline_len,
        spilled,
        src,
        dst,
        health,
        tls: match head[54] {
            0 => false,
            1 => true,
            _ => return Err(WireError::BadTag(54)),
        },
    })
}

fn put_header(out: &mut Vec<u8>, h: &Option<HeaderAppend<'_>>) {
    match h {
        None => out.push(0),
        Some(h) => {
            out.push(1);
            put_ip(out, h.value);
        }
    }
}

fn put_opt_proxy(out: &mut Vec<u8>, p: Option<ProxyId>) {
    match p {
        None => out.push(0),
        Some(b) => {
            out.push(1);
            put_u16(out, b.0);
        }
    }
}

/// Encodes a decision (`None`: redispatch found no server) and its trace.
pub fn encode_decision(out: &mut Vec<u8>, decision: Option<&Decision<'_>>, trace: Option<&Trace>) {
    out.clear();
    match decision {
        Some(Decision::Redirect {
            code,
            location,
            backend,
        }) => {
            out.push(0);
            put_u16(out, *code);
            put_str(out, location);
            put_opt_proxy(out, *backend);
        }
        Some(Decision::Forward(f)) => {
            out.push(1);
            put_u16(out, f.frontend.0);
            put_u16(out, f.backend.0);
            put_u32(out, f.server.0);
            out.push(u8::from(f.balanced));
            match f.upstream {
                Upstream::Socket(a) => {
                    out.push(0);
                    put_addr(out, a);
                }
                Upstream::Name { port, .. } => {
                    out.push(1);
                    put_u16(out, port);
                }
            }
            put_header(out, &f.forwarded_for);
            put_header(out, &f.original_to);
            put_u16(out, u16::try_from(f.edits.len()).unwrap_or(u16::MAX));
            for e in f.edits.iter().take(usize::from(u16::MAX)) {
                match e.op {
                    EditOp::Set => out.push(0),
                    EditOp::Add => out.push(1),
                    EditOp::Del => out.push(2),
                    EditOp::Replace(nth) => {
                        out.push(3);
                        put_u32(out, nth);
                    }
                }
                put_str(out, &e.name);
                put_str(out, &e.value);
            }
            for s in [&f.method, &f.target] {
                out.push(u8::from(s.is_some()));
                if let Some(s) = s {
                    put_str(out, s);
                }
            }
            put_u16(out, u16::try_from(f.vars.len()).unwrap_or(u16::MAX));
            for (n, v) in f.vars.iter().take(usize::from(u16::MAX)) {
                put_str(out, n);
                put_str(out, v);
            }
        }
        Some(Decision::Answer { answer, backend }) => {
            out.push(4);
            out.push(match answer.kind {
                AnswerKind::Deny => 0,
                AnswerKind::Return => 1,
                AnswerKind::Prometheus => 2,
            });
            put_u16(out, answer.status);
            put_opt_proxy(out, *backend);
            match &answer.content_type {
                None => out.push(0),
                Some(t) => {
                    out.push(1);
                    put_str(out, t);
                }
            }
            put_str(out, &answer.body);
            put_u16(out, u16::try_from(answer.headers.len()).unwrap_or(u16::MAX));
            for (n, v) in answer.headers.iter().take(usize::from(u16::MAX)) {
                put_str(out, n);
                put_str(out, v);
            }
        }
        Some(Decision::Respond { status, backend }) => {
            out.push(2);
            put_u16(out, *status);
            put_opt_proxy(out, *backend);
        }
        None => out.push(3),
    }
    let steps = trace.map_or(&[][..], |t| &t.steps[..]);
    put_u32(out, u32::try_from(steps.len()).unwrap_or(u32::MAX));
    for s in steps {
        encode_step(out, s);
    }
}

fn put_opt_u64(out: &mut Vec<u8>, v: Option<u64>) {
    match v {
        None => out.push(0),
        Some(v) => {
            out.push(1);
            put_u32(out, v as u32);
            put_u32(out, (v >> 32) as u32);
        }
    }
}

fn encode_step(out: &mut Vec<u8>, s: &TraceStep) {
    match *s {
        TraceStep::Acl {
            proxy,
            acl,
            matched,
        } => {
            out.push(0);
            put_u16(out, proxy.0);
            put_u16(out, acl.0);
            out.push(u8::from(matched));
        }
        TraceStep::Redirect {
            proxy,
            line,
            matched,
        } => {
            out.push(1);
            put_u16(out, proxy.0);
            put_u32(out, line);
            out.push(u8::from(matched));
        }
        TraceStep::UseBackend {
            proxy,
            line,
            backend,
            matched,
        } => {
            out.push(2);
            put_u16(out, proxy.0);
            put_u32(out, line);
            put_u16(out, backend.0);
            out.push(u8::from(matched));
        }
        TraceStep::DefaultBackend { proxy, backend } => {
            out.push(3);
            put_u16(out, proxy.0);
            put_u16(out, backend.0);
        }
        TraceStep::NoBackend { proxy } => {
            out.push(4);
            put_u16(out, proxy.0);
        }
        TraceStep::UseServer {
            proxy,
            line,
            server,
            matched,
            usable,
        } => {
            out.push(5);
            put_u16(out, proxy.0);
            put_u32(out, line);
            put_u32(out, server.0);
            out.push(u8::from(matched));
            out.push(u8::from(usable));
        }
        TraceStep::Balance {
            proxy,
            ticket,
            server,
        } => {
            out.push(6);
            put_u16(out, proxy.0);
            put_opt_u64(out, ticket);
            match server {
                None => out.push(0),
                Some(s) => {
                    out.push(1);
                    put_u32(out, s.0);
                }
            }
        }
    }
}

fn decode_step(r: &mut Reader<'_>) -> Result<TraceStep, WireError> {
    let at = r.pos;
    Ok(match r.u8()? {
        0 => TraceStep::Acl {
            proxy: ProxyId(r.u16()?),
            acl: AclRef(r.u16()?),
            matched: r.bool()?,
        },
        1 => TraceStep::Redirect {
            proxy: ProxyId(r.u16()?),
            line: r.u32()?,
            matched: r.bool()?,
        },
        2 => TraceStep::UseBackend {
            proxy: ProxyId(r.u16()?),
            line: r.u32()?,
            backend: ProxyId(r.u16()?),
            matched: r.bool()?,
        },
        3 => TraceStep::DefaultBackend {
            proxy: ProxyId(r.u16()?),
            backend: ProxyId(r.u16()?),
        },
        4 => TraceStep::NoBackend {
            proxy: ProxyId(r.u16()?),
        },
        5 => TraceStep::UseServer {
            proxy: ProxyId(r.u16()?),
            line: r.u32()?,
            server: ServerId(r.u32()?),
            matched: r.bool()?,
            usable: r.bool()?,
        },
        6 => TraceStep::Balance {
            proxy: ProxyId(r.u16()?),
            ticket: if r.bool()? { Some(r.u64()?) } else { None },
            server: if r.bool()? {
                Some(ServerId(r.u32()?))
            } else {
                None
            },
        },
        _ => return Err(WireError::BadTag(at)),
    })
}

fn header<'c>(
    r: &mut Reader<'_>,
    cfg: &'c Config,
    f: &Forward<'_>,
    original_to: bool,
) -> Result<Option<HeaderAppend<'c>>, WireError> {
    if !r.bool()? {
        return Ok(None);
    }
    let value = r.ip()?;
    // The name is the backend's option, else the frontend's (as the router
    // chooses it): borrowed from the config, never sent.
    let (be, fe) = (
        &cfg.proxy(f.backend).settings.options,
        &cfg.proxy(f.frontend).settings.options,
    );
    let name = if original_to {
        be.originalto
            .as_ref()
            .or(fe.originalto.as_ref())
            .map(|o| o.header.as_str())
    } else {
        be.forwardfor
            .as_ref()
            .or(fe.forwardfor.as_ref())
            .map(|o| o.header.as_str())
    }
    .ok_or(WireError::UnknownId)?;
    Ok(Some(HeaderAppend { name, value }))
}

/// Decodes a decision encoded by [`encode_decision`], borrowing names from `cfg`
/// (the same configuration the module loaded). `Ok((None, _))`: no server.
pub fn decode_decision<'c>(
    cfg: &'c Config,
    buf: &[u8],
) -> Result<(Option<Decision<'c>>, Trace), WireError> {
    let mut r = Reader { buf, pos: 0 };
    let at = r.pos;
    let decision = match r.u8()? {
        0 => {
            let code = r.u16()?;
            let location = Cow::Owned(alloc::string::String::from(r.str()?));
            let backend = r.opt_proxy(cfg)?;
            Some(Decision::Redirect {
                code,
                location,
                backend,
            })
        }
        1 => {
            let frontend = ProxyId(r.u16()?);
            let backend = ProxyId(r.u16()?);
            let server = ServerId(r.u32()?);
            let balanced = r.bool()?;
            if usize::from(frontend.0) >= cfg.proxies.len()
                || usize::from(backend.0) >= cfg.proxies.len()
                || server.0 as usize >= cfg.servers.len()
            {
                return Err(WireError::UnknownId);
            }
            let up_at = r.pos;
            let upstream = match r.u8()? {
                0 => Upstream::Socket(r.addr()?),
                1 => {
                    let port = r.u16()?;
                    match &cfg.server(server).host {
                        ServerHost::Name(host) => Upstream::Name {
                            host: host.as_str(),
                            port,
                        },
                        ServerHost::Ip(_) => return Err(WireError::BadTag(up_at)),
                    }
                }
                _ => return Err(WireError::BadTag(up_at)),
            };
            let mut f = Forward {
                frontend,
                backend,
                server,
                balanced,
                upstream,
                forwarded_for: None,
                original_to: None,
                edits: Vec::new(),
                method: None,
                target: None,
                vars: Vec::new(),
            };
            f.forwarded_for = header(&mut r, cfg, &f, false)?;
            f.original_to = header(&mut r, cfg, &f, true)?;
            let n = r.u16()?;
            for _ in 0..n {
                let at = r.pos;
                let op = match r.u8()? {
                    0 => EditOp::Set,
                    1 => EditOp::Add,
                    2 => EditOp::Del,
                    3 => EditOp::Replace(r.u32()?),
                    _ => return Err(WireError::BadTag(at)),
                };
                f.edits.push(HeaderEdit {
                    op,
                    name: String::from(r.str()?),
                    value: String::from(r.str()?),
                });
            }
            f.method = r.bool()?.then(|| r.str().map(String::from)).transpose()?;
            f.target = r.bool()?.then(|| r.str().map(String::from)).transpose()?;
            for _ in 0..r.u16()? {
                f.vars
                    .push((String::from(r.str()?), String::from(r.str()?)));
            }
            Some(Decision::Forward(f))
        }
        4 => {
            let at = r.pos;
            let kind = match r.u8()? {
                0 => AnswerKind::Deny,
                1 => AnswerKind::Return,
                2 => AnswerKind::Prometheus,
                _ => return Err(WireError::BadTag(at)),
            };
            let status = r.u16()?;
            let backend = r.opt_proxy(cfg)?;
            let content_type = if r.bool()? {
                Some(String::from(r.str()?))
            } else {
                None
            };
            let body = String::from(r.str()?);
            let n = r.u16()?;
            let mut headers = Vec::with_capacity(usize::from(n).min(64));
            for _ in 0..n {
                headers.push((String::from(r.str()?), String::from(r.str()?)));
            }
            Some(Decision::Answer {
                answer: alloc::boxed::Box::new(Answer {
                    status,
                    kind,
                    content_type,
                    body,
                    headers,
                }),
                backend,
            })
        }
        2 => {
            let status = r.u16()?;
            let backend = r.opt_proxy(cfg)?;
            Some(Decision::Respond { status, backend })
        }
        3 => None,
        _ => return Err(WireError::BadTag(at)),
    };
    let n = r.u32()? as usize;
    let mut trace = Trace::new();
    for _ in 0..n.min(buf.len()) {
        trace.push(decode_step(&mut r)?);
    }
    Ok((decision, trace))
}

/// Runs a decoded request against `cfg`, as the module does: the one place where
/// a wire request becomes a decision. `health` is refilled from the request's
/// health bytes when it has some (a snapshot the caller keeps from request to
/// request, which is what a request without health bytes is evaluated against).
pub fn run<'c>(
    cfg: &'c Config,
    req: &WireRequest<'_>,
    health: &mut HealthSnapshot,
    tickets: &dyn crate::Tickets,
) -> (Option<Decision<'c>>, Option<Trace>) {
    if let Some(bytes) = req.health {
        health.refill(cfg, bytes);
    }
    let health = &*health;
    let facts = req.facts();
    if usize::from(req.frontend.0) >= cfg.proxies.len()
        || !cfg.proxy(req.frontend).kind.is_frontend()
    {
        return (
            Some(Decision::Respond {
                status: crate::router::NO_SERVER,
                backend: None,
            }),
            None,
        );
    }
    match req.mode {
        Mode::Route { trace } => {
            let mut t = trace.then(Trace::new);
            let d = crate::decide(cfg, req.frontend, &facts, health, tickets, t.as_mut());
            (Some(d), t)
        }
        Mode::Redispatch { backend, server } => {
            if usize::from(backend.0) >= cfg.proxies.len() || server.0 as usize >= cfg.servers.len()
            {
                return (None, None);
            }
            let failed = Forward {
                frontend: req.frontend,
                backend,
                server,
                balanced: true,
                upstream: Upstream::Socket(req.dst),
                forwarded_for: None,
                original_to: None,
                edits: Vec::new(),
                method: None,
                target: None,
                vars: Vec::new(),
            };
            (
                crate::redispatch(cfg, &failed, &facts, health, tickets).map(Decision::Forward),
                None,
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{LocalTickets, parse};

    const CFG: &str = "frontend f\n bind :80\n option forwardfor header X-Client\n option originalto\n\
        acl a path_beg /r\n redirect prefix /p if a\n acl n hdr(host) -m found\n use_backend named if n\n default_backend b\n\
        backend b\n server s1 0.0.0.0:9090 check\n server s2 10.0.0.2:9091 check\n\
        backend named\n http-request set-path /n%[path]\n http-request set-method PUT\n\
        \x20http-request set-var(txn.h) req.hdr(host)\n http-request add-header X-H %[var(txn.h)]\n\
        \x20server n1 wt1.example.com:443 ssl\n";

    fn roundtrip(
        target: &str,
        headers: &[(&str, &str)],
        mode: Mode,
    ) -> (
        Option<Decision<'static>>,
        Trace,
        (Option<alloc::string::String>, Trace),
    ) {
        let cfg: &'static Config = alloc::boxed::Box::leak(alloc::boxed::Box::new(
            parse("t.cfg", CFG).unwrap_or_else(|e| panic!("{e}")).config,
        ));
        let req = RequestFacts {
            method: "GET",
            target,
            version: "HTTP/1.1",
            headers,
            src: "[2001:db8::7]:5000".parse().unwrap_or_else(|_| panic!()),
            dst: "192.168.1.1:80".parse().unwrap_or_else(|_| panic!()),
            tls: false,
        };
        let health = HealthSnapshot::all_up(cfg).to_bytes();
        let mut buf = Vec::new();
        encode_request(&mut buf, mode, ProxyId(0), &req, Some(&health));
        let decoded = decode_request(&buf).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(
            (decoded.method, decoded.target, decoded.version),
            ("GET", target, "HTTP/1.1")
        );
        assert_eq!(decoded.headers(), headers);
        assert_eq!((decoded.src, decoded.dst), (req.src, req.dst));
        let mut snapshot = HealthSnapshot::all_up(cfg);
        let (direct, direct_trace) = run(cfg, &decoded, &mut snapshot, &LocalTickets::new(cfg));
        let mut out = Vec::new();
        encode_decision(&mut out, direct.as_ref(), direct_trace.as_ref());
        let (back, trace) = decode_decision(cfg, &out).unwrap_or_else(|e| panic!("{e:?}"));
        let direct_trace = direct_trace.unwrap_or_default();
        (
            back,
            trace,
            (direct.map(|d| alloc::format!("{d:?}")), direct_trace),
        )
    }

    #[test]
    fn decisions_and_traces_survive_the_wire() {
        for (target, headers) in [
            ("/r/x?q", &[][..]),
            ("/", &[][..]),
            ("/", &[("Host", "a")][..]),
        ] {
            for mode in [Mode::Route { trace: true }, Mode::Route { trace: false }] {
                let (back, trace, (direct, direct_trace)) = roundtrip(target, headers, mode);
                assert_eq!(back.map(|d| alloc::format!("{d:?}")), direct);
                assert_eq!(trace, direct_trace);
            }
        }
    }

    #[test]
    fn forward_details() {
        let (d, _, _) = roundtrip("/", &[], Mode::Route { trace: false });
        let Some(Decision::Forward(f)) = d else {
            panic!("{d:?}")
        };
        assert_eq!(
            f.upstream,
            Upstream::Socket("192.168.1.1:9090".parse().unwrap_or_else(|_| panic!()))
        );
        let ff = f.forwarded_for.unwrap_or_else(|| panic!("xff"));
        assert_eq!(
            (ff.name, alloc::format!("{}", ff.value)),
            ("X-Client", alloc::string::String::from("2001:db8::7"))
        );
        assert_eq!(f.original_to.map(|h| h.name), Some("X-Original-To"));
        let (d, _, _) = roundtrip("/", &[("host", "x")], Mode::Route { trace: false });
        let Some(Decision::Forward(f)) = d else {
            panic!("{d:?}")
        };
        assert_eq!(
            f.upstream,
            Upstream::Name {
                host: "wt1.example.com",
                port: 443
            }
        );
        // The backend's rules: a new request line and an edit.
        assert_eq!(f.method.as_deref(), Some("PUT"));
        assert_eq!(f.target.as_deref(), Some("/n/"));
        assert_eq!(
            (
                f.edits[0].op,
                f.edits[0].name.as_str(),
                f.edits[0].value.as_str()
            ),
            (EditOp::Add, "X-H", "x")
        );
        // A replace edit keeps its line number over the wire.
        let mut f = f.clone();
        f.edits.push(HeaderEdit {
            op: EditOp::Replace(3),
            name: "X-R".into(),
            value: "v".into(),
        });
        f.method = None;
        let cfg = parse("t.cfg", CFG).unwrap_or_else(|e| panic!("{e}")).config;
        let mut out = Vec::new();
        encode_decision(&mut out, Some(&Decision::Forward(f.clone())), None);
        let (back, _) = decode_decision(&cfg, &out).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(back, Some(Decision::Forward(f)));
    }

    #[test]
    fn many_headers_spill_to_the_heap_in_order() {
        let names: Vec<alloc::string::String> = (0..40).map(|i| alloc::format!("h{i}")).collect();
        let headers: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), "v")).collect();
        for n in [0, 1, INLINE_HEADERS, INLINE_HEADERS + 1, 40] {
            let (_, _, _) = roundtrip("/", &headers[..n], Mode::Route { trace: false });
        }
    }

    #[test]
    fn redispatch_over_the_wire() {
        let mode = Mode::Redispatch {
            backend: ProxyId(1),
            server: ServerId(0),
        };
        let (d, _, _) = roundtrip("/", &[], mode);
        let Some(Decision::Forward(f)) = d else {
            panic!("{d:?}")
        };
        assert_eq!(f.server, ServerId(1));
    }

    #[test]
    fn respond_carries_its_backend_or_none() {
        let cfg = parse("t.cfg", CFG).unwrap_or_else(|e| panic!("{e}")).config;
        let b = cfg.proxy_id("b").unwrap_or_else(|| panic!("b"));
        // Backend `b` with both servers down: 503 naming `b`, through the wire with its trace.
        let mut health = HealthSnapshot::all_up(&cfg);
        for s in &cfg.proxy(b).servers {
            health.set_down(*s);
        }
        let req = RequestFacts {
            method: "GET",
            target: "/",
            version: "HTTP/1.1",
            headers: &[],
            src: "1.2.3.4:5".parse().unwrap_or_else(|_| panic!()),
            dst: "1.2.3.4:6".parse().unwrap_or_else(|_| panic!()),
            tls: false,
        };
        let mut trace = Trace::new();
        let d = crate::decide(
            &cfg,
            ProxyId(0),
            &req,
            &health,
            &LocalTickets::new(&cfg),
            Some(&mut trace),
        );
        assert_eq!(
            d,
            Decision::Respond {
                status: 503,
                backend: Some(b)
            }
        );
        let mut out = Vec::new();
        encode_decision(&mut out, Some(&d), Some(&trace));
        assert_eq!(decode_decision(&cfg, &out).ok(), Some((Some(d), trace)));
        for backend in [None, Some(b), Some(ProxyId(2))] {
            let d = Decision::Respond {
                status: 503,
                backend,
            };
            encode_decision(&mut out, Some(&d), None);
            assert_eq!(
                decode_decision(&cfg, &out).ok(),
                Some((Some(d), Trace::new()))
            );
            for n in 0..out.len() {
                assert!(decode_decision(&cfg, &out[..n]).is_err(), "prefix {n}");
            }
        }
        // A backend's redirect names that backend (HAProxy logs `backend/<NOSRV>`).
        for backend in [None, Some(b)] {
            let d = Decision::Redirect {
                code: 302,
                location: Cow::Borrowed("/login"),
                backend,
            };
            encode_decision(&mut out, Some(&d), None);
            assert_eq!(
                decode_decision(&cfg, &out).ok(),
                Some((Some(d), Trace::new()))
            );
            for n in 0..out.len() {
                assert!(decode_decision(&cfg, &out[..n]).is_err(), "prefix {n}");
            }
        }
        // A backend id the configuration does not have is refused, as in a forward.
        let unknown = Decision::Respond {
            status: 503,
            backend: Some(ProxyId(3)),
        };
        encode_decision(&mut out, Some(&unknown), None);
        assert_eq!(
            decode_decision(&cfg, &out).err(),
            Some(WireError::UnknownId)
        );
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        let cfg = parse("t.cfg", CFG).unwrap_or_else(|e| panic!("{e}")).config;
        for bytes in [
            &[][..],
            &[9][..],
            &[0, 0][..],
            &[0, 0, 0, 7, 1][..],
            &[1, 255, 255, 255][..],
        ] {
            assert!(decode_request(bytes).is_err());
            assert!(decode_decision(&cfg, bytes).is_err());
        }
        // Every prefix of a valid request is refused cleanly.
        let req = RequestFacts {
            method: "GET",
            target: "/x",
            version: "HTTP/1.1",
            headers: &[("a", "b")],
            src: "1.2.3.4:5".parse().unwrap_or_else(|_| panic!()),
            dst: "1.2.3.4:6".parse().unwrap_or_else(|_| panic!()),
            tls: false,
        };
        let mut buf = Vec::new();
        encode_request(
            &mut buf,
            Mode::Route { trace: true },
            ProxyId(0),
            &req,
            Some(&[1, 1]),
        );
        for n in 0..buf.len() {
            assert!(decode_request(&buf[..n]).is_err(), "prefix {n}");
        }
        assert!(decode_request(&buf).is_ok());
    }
}
