//! `hdr(name)` and `hdr_cnt(name)`: header values split at commas (outside
//! double quotes) with blanks trimmed, as HAProxy's `http_find_header()` does.

use super::Sample;
use crate::request::RequestFacts;

/// Calls `f` on each value of the named header (of every header if `None`).
pub fn any_value(
    req: &RequestFacts<'_>,
    name: Option<&str>,
    f: &mut dyn FnMut(Sample<'_>) -> bool,
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

/// Splits a header line into its comma-separated values, trimmed.
pub fn split_values(line: &str) -> impl Iterator<Item = &str> {
    let mut rest = Some(line);
    core::iter::from_fn(move || {
        let s = rest?;
        let mut in_quotes = false;
        let mut escaped = false;
        let mut cut = None;
        // Bytes, not chars: the delimiters are ASCII and never inside a UTF-8 sequence.
        for (i, &c) in s.as_bytes().iter().enumerate() {
            if escaped {
                escaped = false;
            } else if in_quotes && c == b'\\' {
                escaped = true;
            } else if c == b'"' {
                in_quotes = !in_quotes;
            } else if c == b',' && !in_quotes {
                cut = Some(i);
                break;
            }
        }
        let (value, next) = match cut {
            Some(i) => (&s[..i], Some(&s[i + 1..])),
            None => (s, None),
        };
        rest = next;
        Some(value.trim_matches([' ', '\t']))
    })
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
    }
}
