//! `-m dom` / `_dom`: a `.`-delimited part of the sample (`/ ? :` also delimit).

/// See [`super::word::matches`].
pub fn matches(text: &str, pat: &str, icase: bool) -> bool {
    super::word::matches(text, pat, icase, b"/?.:")
}

#[cfg(test)]
mod tests {
    #[test]
    fn parts() {
        assert!(super::matches("www.sample.com", "sample", false));
        assert!(super::matches("www.sample.com:80", "sample.com", false));
        assert!(super::matches("sample.com", "sample.com", false));
        assert!(!super::matches("mysample.com", "sample.com", false));
        assert!(!super::matches("sample.community", "sample.com", false));
        assert!(super::matches("DEV.sample.com", "dev", true));
        assert!(!super::matches("DEV.sample.com", "dev", false));
    }
}
