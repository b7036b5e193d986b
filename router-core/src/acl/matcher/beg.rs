//! `-m beg` / `_beg`: prefix match.

/// `text` starts with `pat`.
pub fn matches(text: &str, pat: &str, icase: bool) -> bool {
    let (t, p) = (text.as_bytes(), pat.as_bytes());
    t.len() >= p.len() && super::eq_bytes(&t[..p.len()], p, icase)
}

#[cfg(test)]
mod tests {
    #[test]
    fn prefix() {
        assert!(super::matches("dev.sample.com", "dev.", false));
        assert!(!super::matches("DEV.sample.com", "dev.", false));
        assert!(super::matches("DEV.sample.com", "dev.", true));
        assert!(!super::matches("de", "dev.", false));
        assert!(super::matches("x", "", false));
    }
}
