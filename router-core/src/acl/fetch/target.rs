//! `url`, `path` and `query` (and their `_beg`, `_sub`... keywords): the request
//! target, and its path and query as HAProxy's `http_get_path()` finds them: an
//! absolute-form target (`http://host/p?q`) skips its scheme and authority; `*`
//! and targets without `/` have no path.

use super::keyword::{Build, Family, Keyword};
use super::{Fetch, Sample};
use crate::acl::matcher::Matcher;

const URL: Build = |_, _| Ok(Fetch::Url);
const PATH: Build = |_, _| Ok(Fetch::Path);

/// The keywords over the request target.
pub(super) const FAMILY: Family = Family {
    keywords: &[
        Keyword::plain("url", Matcher::Str, URL),
        Keyword::plain("url_beg", Matcher::Beg, URL),
        Keyword::plain("url_end", Matcher::End, URL),
        Keyword::plain("url_sub", Matcher::Sub, URL),
        Keyword::plain("url_dir", Matcher::Dir, URL),
        Keyword::plain("url_dom", Matcher::Dom, URL),
        Keyword::plain("url_len", Matcher::Len, URL),
        Keyword::plain("path", Matcher::Str, PATH),
        Keyword::plain("path_beg", Matcher::Beg, PATH),
        Keyword::plain("path_end", Matcher::End, PATH),
        Keyword::plain("path_sub", Matcher::Sub, PATH),
        Keyword::plain("path_dir", Matcher::Dir, PATH),
        Keyword::plain("path_dom", Matcher::Dom, PATH),
        Keyword::plain("path_len", Matcher::Len, PATH),
        Keyword::plain("query", Matcher::Str, |_, _| Ok(Fetch::Query)),
    ],
    refused: &[
        (
            "url_reg",
            "regular expressions are not supported; use url_beg/url_sub/url_end",
        ),
        (
            "path_reg",
            "regular expressions are not supported; use path_beg/path_sub/path_end",
        ),
    ],
};

/// `url`: the target exactly as received.
pub(super) fn url<F: FnMut(Sample<'_>) -> bool>(target: &str, f: &mut F) -> bool {
    f(Sample::Str(target))
}

/// `path`: nothing when the target has no path.
pub(super) fn path<F: FnMut(Sample<'_>) -> bool>(target: &str, f: &mut F) -> bool {
    path_of(target).is_some_and(|p| f(Sample::Str(p)))
}

/// `query`: nothing without `?`.
pub(super) fn query<F: FnMut(Sample<'_>) -> bool>(target: &str, f: &mut F) -> bool {
    query_of(target).is_some_and(|q| f(Sample::Str(q)))
}

/// The path: from the first `/` after any `scheme://authority` up to `?`.
pub fn path_of(target: &str) -> Option<&str> {
    let from = path_start(target)?;
    let rest = &target[from..];
    // A byte search: `str::split_once` with a char pattern is a slow loop in wasm.
    let end = rest.bytes().position(|b| b == b'?').unwrap_or(rest.len());
    Some(&rest[..end])
}

/// The URI from the path on, query included (what `redirect prefix` appends).
pub fn uri_of(target: &str) -> Option<&str> {
    path_start(target).map(|i| &target[i..])
}

/// The query string: everything after the first `?`.
pub fn query_of(target: &str) -> Option<&str> {
    target.split_once('?').map(|(_, q)| q)
}

/// Where an absolute-form target's `scheme://` ends (HAProxy's `http_parse_scheme`:
/// a letter, then letters, digits, `+`, `-`, `.`), if it has one. The hosts' h1
/// parsers read the authority from there.
pub fn scheme_end(target: &str) -> Option<usize> {
    let b = target.as_bytes();
    if !b.first()?.is_ascii_alphabetic() {
        return None;
    }
    let mut i = 1;
    while i < b.len() && (b[i].is_ascii_alphanumeric() || matches!(b[i], b'+' | b'-' | b'.')) {
        i += 1;
    }
    (b.get(i..i + 3)? == b"://").then_some(i + 3)
}

fn path_start(target: &str) -> Option<usize> {
    let b = target.as_bytes();
    let mut i = match b.first()? {
        b'*' => return None,
        c if c.is_ascii_alphabetic() => scheme_end(target)?,
        _ => 0,
    };
    while i < b.len() && b[i] != b'/' {
        i += 1;
    }
    (i < b.len()).then_some(i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origin_form() {
        assert_eq!(path_of("/a/b?x=1"), Some("/a/b"));
        assert_eq!(path_of("/"), Some("/"));
        assert_eq!(path_of("/?wtd=wt1"), Some("/"));
        assert_eq!(query_of("/a?x=1?y"), Some("x=1?y"));
        assert_eq!(query_of("/a"), None);
    }

    #[test]
    fn absolute_form_skips_scheme_and_authority() {
        assert_eq!(path_of("http://sample.com/wt1?a"), Some("/wt1"));
        assert_eq!(path_of("https://u:p@h:8080/x"), Some("/x"));
        assert_eq!(path_of("http://sample.com"), None);
        assert_eq!(path_of("http://sample.com?x=/y"), Some("/y"));
    }

    #[test]
    fn no_path() {
        assert_eq!(path_of("*"), None);
        assert_eq!(path_of(""), None);
        assert_eq!(path_of("a/b"), None);
        assert_eq!(path_of("sample.com:443"), None);
    }
}
