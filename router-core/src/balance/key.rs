//! The hash of a request for `balance source | uri | url_param | hdr()`, as
//! HAProxy 2.6's `get_server_sh()`, `get_server_uh()`, `get_server_ph()` and
//! `get_server_hh()` compute it. `None`: the key is missing and HAProxy falls back
//! to round-robin on the map or the ring.

use core::net::IpAddr;

use crate::config::model::{Balance, HashType};
use crate::request::RequestFacts;

/// The request's hash for `balance`, or `None` when its key is missing. `used` is
/// the number of servers taking traffic: with one, HAProxy skips hashing (any
/// value picks that server) except for `url_param`.
pub(crate) fn request_hash(
    balance: &Balance,
    ht: &HashType,
    req: &RequestFacts<'_>,
    used: usize,
) -> Option<u32> {
    match balance {
        Balance::Source => Some(if used == 1 {
            0
        } else {
            ht.mix(source(req.src.ip()))
        }),
        Balance::Uri {
            len,
            depth,
            whole,
            path_only,
        } => {
            if used == 1 {
                return Some(0);
            }
            let target = if *path_only {
                path_of(req.target)
            } else {
                req.target
            };
            Some(ht.hash(uri_key(target.as_bytes(), *len, *depth, *whole)))
        }
        Balance::UrlParam { name } => url_param(req.target, name).map(|v| ht.hash(v.as_bytes())),
        Balance::Hdr {
            name,
            use_domain_only,
        } => {
            if used == 1 {
                return Some(0);
            }
            let value = first_value(req, name)?;
            let key = if *use_domain_only {
                domain(value.as_bytes())
            } else {
                value.as_bytes()
            };
            Some(ht.hash(key))
        }
        _ => None,
    }
}

/// The address folded to 32 bits: IPv4 as a big-endian number, IPv6 as the XOR
/// of its four big-endian words (an IPv4-mapped client on an IPv6 socket is IPv6).
fn source(ip: IpAddr) -> u32 {
    match ip {
        IpAddr::V4(v4) => u32::from_be_bytes(v4.octets()),
        IpAddr::V6(v6) => v6
            .octets()
            .chunks_exact(4)
            .map(|w| u32::from_be_bytes([w[0], w[1], w[2], w[3]]))
            .fold(0, |a, w| a ^ w),
    }
}

/// `path-only`: an absolute-form target without its scheme and authority
/// (`http_parse_path()`; the query stays); `*` and an authority alone give "".
fn path_of(target: &str) -> &str {
    if target.starts_with('/') {
        return target;
    }
    if target == "*" {
        return "";
    }
    // An absolute-form target: after its authority (HAProxy's `http_get_path`
    // reads the scheme as `http_parse_scheme` does).
    match crate::acl::fetch::scheme_end(target) {
        Some(end) => {
            let rest = &target[end..];
            match rest.find('/') {
                Some(j) => &rest[j..],
                None => "",
            }
        }
        None => "",
    }
}

/// What `balance uri` hashes: at most `len` bytes, up to the `depth + 1`th slash
/// (excluded) and, unless `whole`, up to the query.
fn uri_key(uri: &[u8], len: u32, depth: u32, whole: bool) -> &[u8] {
    let uri = match len {
        0 => uri,
        n => &uri[..uri.len().min(n as usize)],
    };
    let mut slashes = 0u32;
    for (i, &c) in uri.iter().enumerate() {
        if c == b'/' {
            slashes += 1;
            if depth != 0 && slashes == depth + 1 {
                return &uri[..i];
            }
        } else if c == b'?' && !whole {
            return &uri[..i];
        }
    }
    uri
}

/// The value of the first query parameter named exactly `name` (case-sensitive),
/// up to the next `&`; parameters are not decoded.
fn url_param<'a>(target: &'a str, name: &str) -> Option<&'a str> {
    let (_, mut params) = target.split_once('?')?;
    while params.len() > name.len() {
        if params.as_bytes()[name.len()] == b'=' && params.starts_with(name) {
            let value = &params[name.len() + 1..];
            return Some(value.split('&').next().unwrap_or(value));
        }
        params = params.split_once('&')?.1;
    }
    None
}

/// The first comma-separated value of the first `name` header line, trimmed;
/// `None` when there is no such line or that value is empty.
fn first_value<'a>(req: &RequestFacts<'a>, name: &'a str) -> Option<&'a str> {
    let line = req.header_lines(name).next()?;
    let v = line
        .split(',')
        .next()
        .unwrap_or("")
        .trim_matches([' ', '\t']);
    (!v.is_empty()).then_some(v)
}

/// `use_domain_only`: the label before the last dot (`www.example.com` →
/// `example`); without a dot, the whole value. As HAProxy scans it: a dot in first
/// position is never the last one, and the byte just before the last dot is never
/// taken for the previous dot (`a..b` gives `a.`).
fn domain(v: &[u8]) -> &[u8] {
    let Some(end) = v.iter().skip(1).rposition(|&c| c == b'.').map(|i| i + 1) else {
        return v;
    };
    let start = v[..end.saturating_sub(1)]
        .iter()
        .rposition(|&c| c == b'.')
        .map_or(0, |i| i + 1);
    &v[start..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uri_keys() {
        assert_eq!(uri_key(b"/a/b/c?x", 0, 0, false), b"/a/b/c");
        assert_eq!(uri_key(b"/a/b/c?x", 0, 0, true), b"/a/b/c?x");
        assert_eq!(uri_key(b"/a/b/c?x", 0, 2, false), b"/a/b");
        assert_eq!(uri_key(b"/a/b/c?x", 3, 0, false), b"/a/");
        assert_eq!(path_of("http://h:80/p?q"), "/p?q");
        assert_eq!(path_of("http://h"), "");
    }

    #[test]
    fn params_and_domains() {
        assert_eq!(url_param("/?a=1&id=7&x", "id"), Some("7"));
        assert_eq!(url_param("/?ida=1&id=", "id"), Some(""));
        assert_eq!(url_param("/?x=id=3", "id"), None);
        assert_eq!(url_param("/p", "id"), None);
        assert_eq!(domain(b"www.example.com"), b"example");
        assert_eq!(domain(b"example.com:8080"), b"example");
        assert_eq!(domain(b"localhost"), b"localhost");
        assert_eq!(domain(b"a.b.c.d"), b"c");
        assert_eq!(domain(b"a..b"), b"a.");
        assert_eq!(domain(b".com"), b".com");
    }
}
