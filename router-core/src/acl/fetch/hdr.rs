//! `hdr(name)` and `hdr_cnt(name)`: header values split at commas (outside
//! double quotes) with blanks trimmed, as HAProxy's `http_find_header()` does.

use super::keyword::{Build, Family, Keyword, name_arg};
use super::{Fetch, Sample};
use crate::acl::matcher::Matcher;
use crate::request::RequestFacts;

const HDR: Build = |arg, col| Ok(Fetch::Hdr(name_arg(arg, col)?));
const HDR_CNT: Build = |arg, col| Ok(Fetch::HdrCnt(name_arg(arg, col)?));

/// The keywords over headers.
pub(super) const FAMILY: Family = Family {
    keywords: &[
        Keyword::with_arg("hdr", Matcher::Str, HDR),
        Keyword::with_arg("hdr_beg", Matcher::Beg, HDR),
        Keyword::with_arg("hdr_end", Matcher::End, HDR),
        Keyword::with_arg("hdr_sub", Matcher::Sub, HDR),
        Keyword::with_arg("hdr_dir", Matcher::Dir, HDR),
        Keyword::with_arg("hdr_dom", Matcher::Dom, HDR),
        Keyword::with_arg("hdr_len", Matcher::Len, HDR),
        Keyword::with_arg("hdr_val", Matcher::Val, HDR),
        Keyword::with_arg("hdr_ip", Matcher::Ip, HDR),
        Keyword::with_arg("hdr_cnt", Matcher::Int, HDR_CNT),
        Keyword::with_arg("req.hdr", Matcher::Str, HDR),
        Keyword::with_arg("req.hdr_cnt", Matcher::Int, HDR_CNT),
    ],
    refused: &[(
        "hdr_reg",
        "regular expressions are not supported; use hdr_beg/hdr_sub/hdr_end",
    )],
};

/// Calls `f` on each value of the named header (of every header if `None`).
pub fn any_value<F: FnMut(Sample<'_>) -> bool>(
    req: &RequestFacts<'_>,
    name: Option<&str>,
    f: &mut F,
) -> bool {
    req.headers
        .iter()
        .filter(|(n, _)| name.is_none_or(|want| n.eq_ignore_ascii_case(want)))
        .any(|(_, line)| match find_comma_or_quote(line.as_bytes()) {
            // One value (the usual case): no splitting state to carry.
            None => f(Sample::Str(trim_blanks(line))),
            Some(_) => split_values(line).any(|v| f(Sample::Str(v))),
        })
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
            let Some(p) = find_comma_or_quote(&b[from..]) else {
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

/// Position of the first `,` or `"`, eight bytes at a time: most header values
/// have neither, and this runs for every `hdr()` ACL (a byte loop cost more than
/// the match itself in the wasm module).
fn find_comma_or_quote(b: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // The high bit of a byte of the result is set when that byte of `x` is zero;
    // the lowest set bit is exact (bits above it may be false positives).
    let has_zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGH;
    let first = |w: u64| {
        let m = has_zero(w ^ (ONES * u64::from(b','))) | has_zero(w ^ (ONES * u64::from(b'"')));
        (m != 0).then(|| (m.trailing_zeros() / 8) as usize)
    };
    let mut chunks = b.chunks_exact(8);
    let mut at = 0;
    for c in &mut chunks {
        let w = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        if let Some(p) = first(w) {
            return Some(at + p);
        }
        at += 8;
    }
    let rest = chunks.remainder();
    if rest.is_empty() {
        return None;
    }
    if at >= 8 {
        // The last eight bytes again, the ones already seen shifted out (a
        // byte loop over the tail cost more than the chunks in wasm).
        let c = &b[b.len() - 8..];
        let w = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        let seen = 8 - rest.len();
        return first(w >> (8 * seen)).map(|p| at + p);
    }
    // A value shorter than eight bytes, padded with zero bytes (neither ',' nor '"').
    let tail = rest
        .iter()
        .rev()
        .fold(0u64, |w, &c| (w << 8) | u64::from(c));
    first(tail).map(|p| at + p)
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
    fn finds_the_first_comma_or_quote_at_any_position() {
        for len in 0..40 {
            for at in 0..len {
                for c in [b',', b'"'] {
                    let mut b = alloc::vec![b'a'; len];
                    b[at] = c;
                    if at + 3 < len {
                        b[at + 3] = b',';
                    }
                    assert_eq!(find_comma_or_quote(&b), Some(at), "{len} {at}");
                }
            }
            // Bytes next to ',' and '"' (and high bytes) are not matches.
            let b: Vec<u8> = (0..len)
                .map(|i| [b'+', b'-', b'!', b'#', 0xac, 0xa2][i % 6])
                .collect();
            assert_eq!(find_comma_or_quote(&b), None, "{len}");
        }
    }

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
