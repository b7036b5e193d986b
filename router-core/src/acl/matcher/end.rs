//! `-m end` / `_end`: suffix match.

/// `text` ends with `pat`.
pub fn matches(text: &str, pat: &str, icase: bool) -> bool {
    let (t, p) = (text.as_bytes(), pat.as_bytes());
    t.len() >= p.len() && super::eq_bytes(&t[t.len() - p.len()..], p, icase)
}

#[cfg(test)]
mod tests {
    #[test]
    fn suffix() {
        assert!(super::matches("www.sample.com", "sample.com", false));
        assert!(!super::matches("sample.com:80", "sample.com", false));
        assert!(!super::matches("SAMPLE.COM", "sample.com", false));
        assert!(super::matches("SAMPLE.COM", "sample.com", true));
    }
}
