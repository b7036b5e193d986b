//! `path` and `query` out of a request target, as HAProxy's `http_get_path()`
//! finds them: an absolute-form target (`http://host/p?q`) skips its scheme and
//! authority; `*` and targets without `/` have no path.

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
