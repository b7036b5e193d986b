//! Request-target surgery for `set-path`, `set-query`, `replace-path`, as
//! HAProxy 2.6's `http_replace_req_path()` and `http_replace_req_query()` do it:
//! an absolute-form target keeps its `scheme://authority`, a path keeps its query.

use alloc::string::String;

/// Where the path starts: `0` for an origin-form target (and for forms with no
/// path, which HAProxy then rewrites whole); after the authority for an
/// absolute-form one.
fn path_start(target: &str) -> usize {
    if target.starts_with('/') {
        return 0;
    }
    match crate::acl::fetch::scheme_end(target) {
        Some(after) => target[after..]
            .find('/')
            .map_or(target.len(), |j| after + j),
        None => 0,
    }
}

/// The path (up to the `?`), as `replace-path` sees it.
pub fn path(target: &str) -> &str {
    let from = path_start(target);
    let rest = &target[from..];
    rest.split('?').next().unwrap_or(rest)
}

/// `target` with its path replaced by `new` (the query kept).
pub fn with_path(target: &str, new: &str) -> String {
    let from = path_start(target);
    let old = path(target);
    let mut out = String::with_capacity(target.len() + new.len());
    out.push_str(&target[..from]);
    out.push_str(new);
    out.push_str(&target[from + old.len()..]);
    out
}

/// `target` with its query replaced by `new`: after the first `?` when there is
/// one (kept even for an empty query), else `?new` appended unless `new` is empty.
pub fn with_query(target: &str, new: &str) -> String {
    let mut out = String::with_capacity(target.len() + new.len() + 1);
    match target.find('?') {
        Some(q) => out.push_str(&target[..=q]),
        None => {
            out.push_str(target);
            if !new.is_empty() {
                out.push('?');
            }
        }
    }
    out.push_str(new);
    out
}

/// The authority of a new URI, as `http_update_host()` takes it: `None` for an
/// origin-form (`/p`), `*` or empty URI; the whole URI for a `CONNECT`; else
/// what follows `scheme://` (without `user@`) up to the path or query.
pub fn authority(uri: &str, connect: bool) -> Option<&str> {
    if uri.is_empty() || uri.starts_with('/') || uri == "*" {
        return None;
    }
    if connect {
        return Some(uri);
    }
    let rest = uri.split_once("://").map_or(uri, |(_, r)| r);
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let auth = &rest[..end];
    let auth = auth.rsplit_once('@').map_or(auth, |(_, h)| h);
    (!auth.is_empty()).then_some(auth)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Seen on HAProxy 2.6.12: `set-path /new%[path]` on `/sp?q=1` and on
    /// `http://h.com/sp?q=1`; `set-query a=%[path]` on `/sq?q=1` and `/sq`.
    #[test]
    fn as_haproxy() {
        assert_eq!(with_path("/sp?q=1", "/new/sp"), "/new/sp?q=1");
        assert_eq!(
            with_path("http://h.com/sp?q=1", "/new/sp"),
            "http://h.com/new/sp?q=1"
        );
        assert_eq!(with_query("/sq?q=1", "a=/sq"), "/sq?a=/sq");
        assert_eq!(with_query("/sq", "a=/sq"), "/sq?a=/sq");
        assert_eq!(path("/rp/a/b?q=/rp/c"), "/rp/a/b");
        assert_eq!(path("http://h.com/x?y"), "/x");
        assert_eq!(path("http://h.com"), "");
    }

    #[test]
    fn authority_of_a_new_uri() {
        assert_eq!(authority("/u?x", false), None);
        assert_eq!(authority("*", false), None);
        assert_eq!(
            authority("http://new.example:81/p?x", false),
            Some("new.example:81")
        );
        assert_eq!(authority("https://u@h.com?q", false), Some("h.com"));
        assert_eq!(authority("h.com:443", true), Some("h.com:443"));
    }

    /// `http_replace_req_query()`: an empty query keeps an existing `?` and adds none.
    #[test]
    fn empty_query() {
        assert_eq!(with_query("/p?x=1", ""), "/p?");
        assert_eq!(with_query("/p", ""), "/p");
    }
}
