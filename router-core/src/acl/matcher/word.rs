//! The delimited-word search behind `dir` and `dom`, as HAProxy's
//! `match_word()`: the pattern, with its own leading and trailing delimiters
//! removed, must appear in the sample starting after a delimiter (or at the
//! start) and ending before a delimiter (or at the end).

/// Searches `pat` in `text` between delimiters.
pub fn matches(text: &str, pat: &str, icase: bool, delims: &[u8]) -> bool {
    let is_delim = |c: u8| delims.contains(&c);
    let mut p = pat.as_bytes();
    while let [first, rest @ ..] = p {
        if is_delim(*first) {
            p = rest;
        } else {
            break;
        }
    }
    while let [rest @ .., last] = p {
        if is_delim(*last) {
            p = rest;
        } else {
            break;
        }
    }
    let t = text.as_bytes();
    // A pattern made of delimiters only (`path_dir /`): HAProxy 2.6 then compares the
    // byte after the sample with the pattern's final NUL, reading past the sample, so
    // its answer depends on memory (README, known differences); it is false here.
    if p.is_empty() || p.len() > t.len() {
        return false;
    }
    let mut may_match = true;
    for i in 0..=(t.len() - p.len()) {
        if is_delim(t[i]) {
            may_match = true;
            continue;
        }
        if !may_match {
            continue;
        }
        let end = i + p.len();
        if super::eq_bytes(&t[i..end], p, icase) && (end == t.len() || is_delim(t[end])) {
            return true;
        }
        may_match = false;
    }
    false
}

#[cfg(test)]
mod tests {
    #[test]
    fn delimiters_only_never_match() {
        for text in ["", "/", "/app/", "/app"] {
            assert!(!super::matches(text, "/", false, b"/?"), "{text:?}");
            assert!(!super::matches(text, "//", true, b"/?"), "{text:?}");
        }
    }
}
