//! `hdr(name)` and `hdr_cnt(name)`: header values split at commas (outside
//! double quotes) with blanks trimmed, as HAProxy's `http_find_header()` does.

use super::Sample;
use crate::request::RequestFacts;

/// Calls `f` on each value of the named header (of every header if `None`).
pub fn any_value<F: FnMut(Sample<'_>) -> bool>(
    req: &RequestFacts<'_>,
    name: Option<&str>,
    f: &mut F,
) -> bool {
    req.headers
        .iter()
        .filter(|(n, _)| name.is_none_or(|want| n.eq_ignore_ascii_case(want)))
        .any(|(_, line)| split_values(line).any(|v| f(Sample::Str(v))))
}

/// Number of values of the named header.
pub fn count(req: &RequestFacts<'_>, name: Option<&str>) -> i64 {
    let n = req
        .headers
        .iter()
        .filter(|(n, _)| name.is_none_or(|want| n.eq_ignore_ascii_case(want)))
        .map(|(_, line)| split_values(line).count())
        .sum::<usize>();
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Splits a header line into its comma-separated values, trimmed. Commas
/// inside double-quoted strings do not split.
pub fn split_values(line: &str) -> impl Iterator<Item = &str> {
    let mut rest = Some(line);
    core::iter::from_fn(move || {
        let s = rest?;
        let b = s.as_bytes();
        let mut from = 0;
        // Find the next comma outside quotes: jump from one ',' or '"' to the next.
        let cut = loop {
            let Some(p) = b[from..].iter().position(|&c| c == b',' || c == b'"') else {
                break None;
            };
            let at = from + p;
            if b[at] == b',' {
                break Some(at);
            }
            let mut j = at + 1;
            while j < b.len() && b[j] != b'"' {
                j += if b[j] == b'\\' { 2 } else { 1 };
            }
            from = j + 1;
            if from >= b.len() {
                break None;
            }
        };
        let (value, next) = match cut {
            Some(i) => (&s[..i], Some(&s[i + 1..])),
            None => (s, None),
        };
        rest = next;
        Some(trim_blanks(value))
    })
}

/// `s` without leading and trailing spaces and tabs (bytes, not chars: both are ASCII).
fn trim_blanks(s: &str) -> &str {
    let b = s.as_bytes();
    let blank = |c: &u8| *c == b' ' || *c == b'\t';
    let start = b.iter().position(|c| !blank(c)).unwrap_or(b.len());
    let end = b.iter().rposition(|c| !blank(c)).map_or(start, |i| i + 1);
    // Both ends sit next to an ASCII byte (or the string's ends): char boundaries.
    s.get(start..end).unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    #[test]
    fn splits_and_trims() {
        let v: Vec<&str> = split_values(" a, b ,c").collect();
        assert_eq!(v, ["a", "b", "c"]);
        let v: Vec<&str> = split_values("\"x,y\", z").collect();
        assert_eq!(v, ["\"x,y\"", "z"]);
        let v: Vec<&str> = split_values("").collect();
        assert_eq!(v, [""]);
        let v: Vec<&str> = split_values(" \t ,\té ").collect();
        assert_eq!(v, ["", "é"]);
        let v: Vec<&str> = split_values("a=\"x\\\",y\", b").collect();
        assert_eq!(v, ["a=\"x\\\",y\"", "b"]);
        let v: Vec<&str> = split_values("\"open, x").collect();
        assert_eq!(v, ["\"open, x"]);
    }
}
