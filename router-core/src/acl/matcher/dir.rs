//! `-m dir` / `_dir`: a `/`-delimited part of the sample (`?` also delimits).

/// See [`super::word::matches`].
pub fn matches(text: &str, pat: &str, icase: bool) -> bool {
    super::word::matches(text, pat, icase, b"/?")
}

#[cfg(test)]
mod tests {
    #[test]
    fn parts() {
        assert!(super::matches("/wt1/app", "wt1", false));
        assert!(super::matches("/a/wt1", "/wt1", false));
        assert!(super::matches("/a/wt1?x", "wt1", false));
        assert!(super::matches("/a/b/c", "a/b", false));
        assert!(!super::matches("/wt10/app", "wt1", false));
        assert!(!super::matches("/xwt1/app", "wt1", false));
        assert!(!super::matches("/WT1", "wt1", false));
        assert!(super::matches("/WT1", "wt1", true));
    }
}
