//! The `Location` of a `redirect` rule, built as HAProxy's
//! `http_apply_redirect_rule()` does.

use alloc::borrow::Cow;
use alloc::string::String;

use crate::acl::fetch::{split_values, uri_of};
use crate::config::model::{RedirectKind, RedirectRule};
use crate::request::RequestFacts;

/// The `Location` header for `rule` applied to a request for `target`.
pub fn location<'c>(rule: &'c RedirectRule, req: &RequestFacts<'_>) -> Cow<'c, str> {
    location_to(rule, &rule.to, req)
}

/// The `Location` for `rule` with `to` in place of the rule's own (an
/// `http-request redirect` computes it from a log-format string).
pub fn location_to<'t>(rule: &RedirectRule, to: &'t str, req: &RequestFacts<'_>) -> Cow<'t, str> {
    // The URI from the path on (query included), "/" when there is none.
    let uri = uri_of(req.target).unwrap_or("/");
    let uri = if rule.drop_query {
        uri.split_once('?').map_or(uri, |(p, _)| p)
    } else {
        uri
    };
    match rule.kind {
        RedirectKind::Location => Cow::Borrowed(to),
        RedirectKind::Scheme => {
            // The first value of the first Host header, as received (port included).
            let host = req
                .header_lines("host")
                .next()
                .and_then(|line| split_values(line).next())
                .unwrap_or("");
            let mut out = String::with_capacity(to.len() + host.len() + uri.len() + 4);
            out.push_str(to);
            out.push_str("://");
            out.push_str(host);
            out.push_str(uri);
            if rule.append_slash && !out.ends_with('/') {
                out.push('/');
            }
            Cow::Owned(out)
        }
        RedirectKind::Prefix => {
            let mut out = String::with_capacity(to.len() + uri.len() + 1);
            if to != "/" {
                out.push_str(to);
            }
            out.push_str(uri);
            if rule.append_slash && !out.ends_with('/') {
                out.push('/');
            }
            Cow::Owned(out)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::model::RedirectKind;

    fn req(target: &str) -> RequestFacts<'_> {
        RequestFacts {
            method: "GET",
            target,
            version: "HTTP/1.1",
            headers: &[("Host", "a.com:8080, b")],
            src: "1.1.1.1:1".parse().unwrap_or_else(|_| panic!()),
            dst: "1.1.1.1:2".parse().unwrap_or_else(|_| panic!()),
            tls: false,
        }
    }

    fn rule(kind: RedirectKind, to: &str, drop_query: bool, append_slash: bool) -> RedirectRule {
        RedirectRule {
            line: 1,
            kind,
            to: String::from(to),
            code: 302,
            drop_query,
            append_slash,
            cond: None,
        }
    }

    #[test]
    fn location_is_exact() {
        let r = rule(RedirectKind::Location, "/wt1", false, false);
        assert_eq!(location(&r, &req("/x?wtd=1")), "/wt1");
    }

    #[test]
    fn prefix_keeps_uri() {
        let r = rule(RedirectKind::Prefix, "https://a.com", false, false);
        assert_eq!(location(&r, &req("/x?y=1")), "https://a.com/x?y=1");
        assert_eq!(location(&r, &req("http://b.com/x?y")), "https://a.com/x?y");
        assert_eq!(location(&r, &req("*")), "https://a.com/");
    }

    #[test]
    fn scheme_uses_the_host_header() {
        let r = rule(RedirectKind::Scheme, "https", false, false);
        assert_eq!(location(&r, &req("/x?y")), "https://a.com:8080/x?y");
        let r = rule(RedirectKind::Scheme, "https", true, false);
        assert_eq!(
            location(&r, &req("http://a.com/x?y")),
            "https://a.com:8080/x"
        );
    }

    #[test]
    fn prefix_flags() {
        let r = rule(RedirectKind::Prefix, "/p", true, true);
        assert_eq!(location(&r, &req("/x?y=1")), "/p/x/");
        assert_eq!(location(&r, &req("/x/?y=1")), "/p/x/");
        let slash = rule(RedirectKind::Prefix, "/", false, false);
        assert_eq!(location(&slash, &req("/x?y")), "/x?y");
    }
}
