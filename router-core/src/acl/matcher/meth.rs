//! The `method` ACL's own matcher, as HAProxy's `pat_match_meth()`: a pattern
//! naming a well-known method (`GET`, written in capitals) matches only that
//! method; any other pattern is compared as text (honouring `-i`) with methods
//! that are not well known. So `method -i post` does not match `POST`.

/// The methods HAProxy knows by name (`find_http_meth()`).
const KNOWN: [&str; 8] = [
    "OPTIONS", "GET", "HEAD", "POST", "PUT", "DELETE", "TRACE", "CONNECT",
];

/// Whether `method` (from the request) matches `pat`.
pub fn matches(method: &str, pat: &str, icase: bool) -> bool {
    let known_pattern = KNOWN.contains(&pat);
    let known_method = KNOWN.contains(&method);
    if known_pattern {
        known_method && method == pat
    } else {
        !known_method && super::eq_bytes(method.as_bytes(), pat.as_bytes(), icase)
    }
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn well_known_methods_compare_by_identity() {
        assert!(matches("POST", "POST", false));
        assert!(!matches("POST", "post", true));
        assert!(matches("post", "post", false));
        assert!(matches("Post", "post", true));
        assert!(!matches("Post", "post", false));
        assert!(matches("PATCH", "PATCH", false));
        assert!(matches("PATCH", "patch", true));
        assert!(!matches("get", "GET", true));
    }
}
