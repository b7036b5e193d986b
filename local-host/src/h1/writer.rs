//! The heads wtedge writes: the request for the server (with the rules' edits
//! applied as it is written: the parsed head itself is never rewritten), the
//! response for the client, and its own answers to `redirect` and `return` rules.

use std::fmt::Write as _;
use std::net::IpAddr;

use router_core::unstable::encoding;
use router_core::unstable::rules::HeaderEdit;

use super::response::{BodyFraming, ResponseHead, is_tunnel};
use super::{RequestHead, Version};
use crate::access_log::IpText;

/// A `Connection` value as HAProxy 2.6 forwards it, both ways
/// (`h1_parse_connection_header` with `H1_MF_CLEAN_CONN_HDR`): the `close` and
/// `keep-alive` tokens removed. Until one is removed the value is kept as written (up
/// to the end of the last token kept); after that, each token kept is appended after a
/// bare `,`. Empty: the line is dropped.
pub fn connection_kept(value: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    push_connection_kept(&mut out, value);
    out
}

/// [`connection_kept`] appended to `out`; returns whether anything was.
fn push_connection_kept(out: &mut Vec<u8>, value: &[u8]) -> bool {
    let base = out.len();
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
            out.truncate(base);
            out.extend_from_slice(&value[..end]);
        } else {
            if out.len() > base {
                out.push(b',');
            }
            out.extend_from_slice(word);
        }
        i = end + 1;
    }
    out.len() > base
}

/// Appends `name: value\r\n` with the name in lower case (HAProxy 2.6 writes
/// names so), `Connection` cleaned ([`connection_kept`]; an empty one is not
/// written). Returns the name and value lengths written, if written.
fn push_line(out: &mut Vec<u8>, name: &[u8], value: &[u8]) -> Option<usize> {
    let line = out.len();
    out.extend_from_slice(name);
    out[line..].make_ascii_lowercase();
    out.extend_from_slice(b": ");
    let v0 = out.len();
    if name.eq_ignore_ascii_case(b"connection") {
        if !push_connection_kept(out, value) {
            out.truncate(line);
            return None;
        }
    } else {
        out.extend_from_slice(value);
    }
    let written = name.len() + (out.len() - v0);
    out.extend_from_slice(b"\r\n");
    Some(written)
}

/// What router-core's rules change in the request for the server: header edits
/// (`set-header`, `del-header`...) and `set-method` / `set-path`...
#[derive(Debug, Clone, Copy, Default)]
pub struct Edits<'a> {
    pub headers: &'a [HeaderEdit],
    pub method: Option<&'a str>,
    pub target: Option<&'a str>,
}

/// The request head for the server. `connection` loses its `close` and `keep-alive`
/// tokens ([`connection_kept`]), `accept-encoding` is dropped from WebSocket
/// upgrades, the rules' `edits` are applied, the configured lines (`appended`) are
/// added, then, unless the request asks for an upgrade, `connection: close` when the
/// server connection must not be kept (`http-server-close` without
/// `http-pretend-keepalive`; nothing for HTTP/1.0, which closes by default, as
/// HAProxy 2.6 does) or `connection: keep-alive` for HTTP/1.0.
pub fn request_head(
    head: &RequestHead,
    edits: &Edits<'_>,
    appended: &[(&str, IpAddr)],
    announce_close: bool,
) -> Vec<u8> {
    let method = edits.method.unwrap_or(head.method());
    let target = edits.target.unwrap_or(head.target());
    let size = head.size_hint()
        + edits.method.map_or(0, str::len)
        + edits.target.map_or(0, str::len)
        + edits
            .headers
            .iter()
            .map(|e| e.name.len() + e.value.len() + 4)
            .sum::<usize>()
        + appended
            .iter()
            .map(|(n, _)| n.len() + 4 + 45)
            .sum::<usize>()
        + 64;
    let mut out = Vec::with_capacity(size);
    out.extend_from_slice(method.as_bytes());
    out.push(b' ');
    out.extend_from_slice(target.as_bytes());
    out.push(b' ');
    out.extend_from_slice(head.version.as_str().as_bytes());
    out.extend_from_slice(b"\r\n");
    // router-core's rule: no encoding is asked for on a WebSocket upgrade.
    let drop_accept_encoding = matches!(
        encoding::accept_encoding(encoding::Platform::Socket, head.websocket, None),
        encoding::AcceptEncoding::Remove
    );
    let mut write = |(n, v): (&str, &str)| {
        if !(drop_accept_encoding && n.eq_ignore_ascii_case("accept-encoding")) {
            push_line(&mut out, n.as_bytes(), v.as_bytes());
        }
    };
    if edits.headers.is_empty() {
        head.headers().for_each(&mut write);
    } else {
        let mut lines: Vec<(&str, &str)> = head.headers().collect();
        router_core::unstable::rules::header::apply(
            &mut lines,
            edits.headers,
            |h| h.0,
            |e| (e.name.as_str(), e.value.as_str()),
        );
        lines.into_iter().for_each(&mut write);
    }
    for (n, v) in appended {
        push_line(&mut out, n.as_bytes(), IpText::new(*v).as_str().as_bytes());
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

/// The response head for the client and HAProxy's `%B` count for it, as HAProxy 2.6
/// rewrites it: the version kept only when below 1.1; `connection` without its `close`
/// and `keep-alive` tokens, then one written for the client connection (`close` for a
/// 1.1 answer, or `keep-alive` when the request or the answer is 1.0);
/// `content-length` and `transfer-encoding` dropped from 1xx and 204 answers;
/// `content-length` dropped beside `transfer-encoding`, and several merged into one.
pub fn client_head(resp: &ResponseHead, req: &RequestHead, close: bool) -> (u64, Vec<u8>) {
    // Room for a body that may follow in the same write (the relay sends what is
    // buffered with the head, and gathers up to 64 kB before a write).
    let body_room = match resp.framing {
        BodyFraming::Length(n) => n.min(64 * 1024) as usize,
        BodyFraming::Chunked | BodyFraming::Close => 4096,
        BodyFraming::None => 0,
    };
    let mut out = Vec::with_capacity(256 + resp.text_len() + 4 * resp.field_count() + body_room);
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
    let chunked = resp
        .headers()
        .any(|(n, _)| n.eq_ignore_ascii_case(b"transfer-encoding"));
    let mut length_written = false;
    let mut counted = 0usize;
    for (n, mut v) in resp.headers() {
        let is_length = n.eq_ignore_ascii_case(b"content-length");
        if is_length || n.eq_ignore_ascii_case(b"transfer-encoding") {
            if no_length {
                continue;
            }
            if is_length {
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
        counted += push_line(&mut out, n, v).unwrap_or(0);
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
    use crate::h1::parse_response;

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
    fn redirects_match_haproxy_bytes() {
        assert_eq!(
            String::from_utf8(redirect(302, "/wt1", false, false)).unwrap(),
            "HTTP/1.1 302 Found\r\ncontent-length: 0\r\nlocation: /wt1\r\ncache-control: no-cache\r\n\r\n"
        );
        assert_eq!(
            String::from_utf8(redirect(301, "/x", true, false)).unwrap(),
            "HTTP/1.1 301 Moved Permanently\r\ncontent-length: 0\r\nlocation: /x\r\nconnection: close\r\n\r\n"
        );
    }

    /// Observed on HAProxy 2.6.12 with a raw origin (tests/tests/e2e_responses.rs).
    #[test]
    fn client_heads_as_haproxy_rewrites_them() {
        let req = |raw: &[u8]| RequestHead::parse(raw).unwrap().unwrap().0;
        let get11 = req(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        let get10 = req(b"GET / HTTP/1.0\r\n\r\n");
        let out = |raw: &[u8], r: &RequestHead, close: bool| {
            let (h, _) = parse_response(raw, r.method()).unwrap().unwrap();
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
    fn request_heads_as_haproxy_sends_them() {
        let (head, _) = RequestHead::parse(
            b"GET http://example.com HTTP/1.1\r\nHost: example.com\r\nX-Forwarded-For: 1.2.3.4\r\nConnection: keep-alive\r\nX-A: a\x01b\r\n\r\n",
        )
        .unwrap()
        .unwrap();
        let out = request_head(
            &head,
            &Edits::default(),
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
