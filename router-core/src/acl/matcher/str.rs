//! `-m str`: exact match.

/// `text == pat`.
pub fn matches(text: &str, pat: &str, icase: bool) -> bool {
    super::eq_bytes(text.as_bytes(), pat.as_bytes(), icase)
}

#[cfg(test)]
mod tests {
    #[test]
    fn exact() {
        assert!(super::matches("/wt1", "/wt1", false));
        assert!(!super::matches("/wt1/", "/wt1", false));
        assert!(!super::matches("/WT1", "/wt1", false));
        assert!(super::matches("/WT1", "/wt1", true));
    }
}
