//! `-m sub` / `_sub`: substring match.

/// `pat` occurs in `text`.
pub fn matches(text: &str, pat: &str, icase: bool) -> bool {
    let (t, p) = (text.as_bytes(), pat.as_bytes());
    if p.is_empty() {
        return true;
    }
    t.windows(p.len()).any(|w| super::eq_bytes(w, p, icase))
}

#[cfg(test)]
mod tests {
    #[test]
    fn substring() {
        assert!(super::matches("/?wtd=wt1abc", "wtd=wt1", false));
        assert!(super::matches("/?wtd=wt10abc", "wtd=wt1", false));
        assert!(super::matches("/app;wtd=wt1", "wtd=wt1", false));
        assert!(!super::matches("/?wtd%3Dwt1", "wtd=wt1", false));
        assert!(!super::matches("/?WTD=WT1", "wtd=wt1", false));
        assert!(super::matches("/?WTD=WT1", "wtd=wt1", true));
        assert!(!super::matches("wt", "wtd=wt1", false));
    }
}
