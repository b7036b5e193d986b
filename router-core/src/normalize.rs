//! What HAProxy 2.6 changes in a request before any rule sees it:
//! - scheme-based normalization (RFC 3986 6.3.2, `http_scheme_based_normalize()`):
//!   an absolute-form or CONNECT target with the scheme's default port (`:80` for
//!   http, `:443` for https, either without a scheme) or an empty port loses it,
//!   and every Host header is replaced by the host without that port;
//! - Host header lines with the same value (ignoring case) are merged into one.
//!
//! Hosts forward the normalized target and headers too, as HAProxy does.

use alloc::string::String;
use alloc::vec::Vec;

use crate::request::RequestFacts;

/// A rewritten target and Host value, when the request needs one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rewrite {
    /// The target without the default port.
    pub target: String,
    /// The value every Host header takes (the authority without the port).
    pub host: String,
}

/// The scheme-based rewrite of `target`, if it has a default or empty port.
pub fn scheme_based(method: &str, target: &str) -> Option<Rewrite> {
    // The scheme as the fetches and the hosts' parsers read it (HAProxy's
    // `http_parse_scheme`).
    let (scheme, rest) = match crate::acl::fetch::scheme_end(target) {
        Some(end) => (Some(&target[..end - 3]), &target[end..]),
        None if method == "CONNECT" => (None, target),
        None => return None,
    };
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let authority = &rest[..end];
    let digits = authority
        .bytes()
        .rev()
        .take_while(u8::is_ascii_digit)
        .count();
    let colon = authority.len().checked_sub(digits + 1)?;
    if authority.as_bytes().get(colon) != Some(&b':') {
        return None;
    }
    let port = &authority[colon + 1..];
    let default = port.is_empty()
        || match scheme {
            None => port == "80" || port == "443",
            Some(s) if s.eq_ignore_ascii_case("http") => port == "80",
            Some(s) if s.eq_ignore_ascii_case("https") => port == "443",
            Some(_) => false,
        };
    if !default {
        return None;
    }
    let host = &authority[..colon];
    let prefix_len = target.len() - rest.len();
    let mut out = String::with_capacity(target.len());
    out.push_str(&target[..prefix_len]);
    out.push_str(host);
    out.push_str(&rest[end..]);
    Some(Rewrite {
        target: out,
        host: String::from(host),
    })
}

/// Whether some Host lines repeat a previous one (ignoring case) and are dropped.
fn has_duplicate_hosts(headers: &[(&str, &str)]) -> bool {
    let mut hosts = headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("host"));
    match hosts.next() {
        Some((_, first)) => hosts.any(|(_, v)| v.eq_ignore_ascii_case(first)),
        None => false,
    }
}

/// Calls `f` with the request as HAProxy's rules see it: unchanged (no
/// allocation) unless normalization applies.
pub fn with_normalized<R>(req: &RequestFacts<'_>, f: impl FnOnce(&RequestFacts<'_>) -> R) -> R {
    let rewrite = if req.target.as_bytes().first() == Some(&b'/') {
        None
    } else {
        scheme_based(req.method, req.target)
    };
    if rewrite.is_none() && !has_duplicate_hosts(req.headers) {
        return f(req);
    }
    let mut seen_host: Option<&str> = None;
    let headers: Vec<(&str, &str)> = req
        .headers
        .iter()
        .filter_map(|&(n, v)| {
            if !n.eq_ignore_ascii_case("host") {
                return Some((n, v));
            }
            let v = rewrite.as_ref().map_or(v, |r| r.host.as_str());
            match seen_host {
                Some(first) if first.eq_ignore_ascii_case(v) => None,
                _ => {
                    seen_host.get_or_insert(v);
                    Some((n, v))
                }
            }
        })
        .collect();
    let normalized = RequestFacts {
        target: rewrite.as_ref().map_or(req.target, |r| r.target.as_str()),
        headers: &headers,
        ..*req
    };
    f(&normalized)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rw(method: &str, target: &str) -> Option<(String, String)> {
        scheme_based(method, target).map(|r| (r.target, r.host))
    }

    #[test]
    fn default_ports_are_dropped() {
        assert_eq!(
            rw("GET", "http://h:80/x?y"),
            Some(("http://h/x?y".into(), "h".into()))
        );
        assert_eq!(
            rw("GET", "HTTP://h:80/"),
            Some(("HTTP://h/".into(), "h".into()))
        );
        assert_eq!(
            rw("GET", "https://h:443/s"),
            Some(("https://h/s".into(), "h".into()))
        );
        assert_eq!(
            rw("GET", "http://h:/"),
            Some(("http://h/".into(), "h".into()))
        );
        assert_eq!(
            rw("GET", "http://h:80"),
            Some(("http://h".into(), "h".into()))
        );
        assert_eq!(
            rw("GET", "http://[::1]:80/"),
            Some(("http://[::1]/".into(), "[::1]".into()))
        );
        assert_eq!(rw("CONNECT", "h:443"), Some(("h".into(), "h".into())));
        assert_eq!(rw("CONNECT", "h:80"), Some(("h".into(), "h".into())));
    }

    #[test]
    fn other_ports_and_forms_are_kept() {
        assert_eq!(rw("GET", "http://h:443/"), None);
        assert_eq!(rw("GET", "https://h:80/"), None);
        assert_eq!(rw("GET", "http://h:8080/"), None);
        assert_eq!(rw("GET", "http://h/"), None);
        assert_eq!(rw("GET", "/x:80"), None);
        assert_eq!(rw("CONNECT", "h:8443"), None);
    }

    #[test]
    fn host_lines_follow_and_duplicates_merge() {
        let req = RequestFacts {
            method: "GET",
            target: "http://n.test:80/",
            version: "HTTP/1.1",
            headers: &[("Host", "n.test:80"), ("X", "1")],
            src: "1.1.1.1:1".parse().unwrap_or_else(|_| panic!()),
            dst: "1.1.1.1:2".parse().unwrap_or_else(|_| panic!()),
            tls: false,
        };
        with_normalized(&req, |r| {
            assert_eq!(r.target, "http://n.test/");
            assert_eq!(r.headers, [("Host", "n.test"), ("X", "1")]);
        });
        let dup = RequestFacts {
            target: "/",
            headers: &[("Host", "n.test"), ("host", "N.TEST"), ("Host", "o")],
            ..req
        };
        with_normalized(&dup, |r| {
            assert_eq!(r.headers, [("Host", "n.test"), ("Host", "o")])
        });
    }
}
