//! The `Location` of a `redirect` rule, built as HAProxy's
//! `http_apply_redirect_rule()` does.

use alloc::borrow::Cow;
use alloc::string::String;

use crate::acl::fetch::uri_of;
use crate::config::model::{RedirectKind, RedirectRule};

/// The `Location` header for `rule` applied to a request for `target`.
pub fn location<'c>(rule: &'c RedirectRule, target: &str) -> Cow<'c, str> {
    match rule.kind {
        RedirectKind::Location => Cow::Borrowed(&rule.to),
        RedirectKind::Prefix => {
            // The URI from the path on (query included), "/" when there is none.
            let uri = uri_of(target).unwrap_or("/");
            let uri = if rule.drop_query {
                uri.split_once('?').map_or(uri, |(p, _)| p)
            } else {
                uri
            };
            let mut out = String::with_capacity(rule.to.len() + uri.len() + 1);
            if rule.to != "/" {
                out.push_str(&rule.to);
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
        assert_eq!(location(&r, "/x?wtd=1"), "/wt1");
    }

    #[test]
    fn prefix_keeps_uri() {
        let r = rule(RedirectKind::Prefix, "https://a.com", false, false);
        assert_eq!(location(&r, "/x?y=1"), "https://a.com/x?y=1");
        assert_eq!(location(&r, "http://b.com/x?y"), "https://a.com/x?y");
        assert_eq!(location(&r, "*"), "https://a.com/");
    }

    #[test]
    fn prefix_flags() {
        let r = rule(RedirectKind::Prefix, "/p", true, true);
        assert_eq!(location(&r, "/x?y=1"), "/p/x/");
        assert_eq!(location(&r, "/x/?y=1"), "/p/x/");
        let slash = rule(RedirectKind::Prefix, "/", false, false);
        assert_eq!(location(&slash, "/x?y"), "/x?y");
    }
}
