//! `-m int`: integer ranges and the operators `eq ge gt le lt`.

use alloc::format;
use alloc::vec::Vec;
use serde::Serialize;

use crate::acl::pattern::Pattern;
use crate::config::lexer::Word;
use crate::diag::DiagnosticKind as K;
use crate::problem::Problem;

/// An inclusive integer range; `None` bounds are open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct IntRange {
    /// Smallest value that matches.
    pub min: Option<i64>,
    /// Largest value that matches.
    pub max: Option<i64>,
}

/// Integer comparison operator written before integer patterns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntOp {
    /// `eq` (the default).
    Eq,
    /// `ge`.
    Ge,
    /// `gt`.
    Gt,
    /// `le`.
    Le,
    /// `lt`.
    Lt,
}

impl IntOp {
    /// The operator named `word`.
    pub fn from_name(word: &str) -> Option<IntOp> {
        Some(match word {
            "eq" => IntOp::Eq,
            "ge" => IntOp::Ge,
            "gt" => IntOp::Gt,
            "le" => IntOp::Le,
            "lt" => IntOp::Lt,
            _ => return None,
        })
    }
}

impl IntRange {
    /// `v..`.
    pub fn at_least(v: i64) -> Self {
        IntRange {
            min: Some(v),
            max: None,
        }
    }

    /// Parses a pattern as HAProxy 2.6 does (`acl.c`, `pat_parse_int()`): under an
    /// operator, a number becomes a half-open range; otherwise the first `:` or `-`
    /// separates the bounds (`N`, `N:M`, `N-M`, `N:`, `:M`). A pattern that starts
    /// with `-` ignores the operator, so `-1` is the range `:1` (seen on 2.6.12:
    /// `hdr_val(x) lt -1` matches 0 and 1).
    pub fn parse(text: &str, op: IntOp) -> Option<IntRange> {
        if op != IntOp::Eq && !text.starts_with('-') {
            let v = strl2llrc(text)?;
            return Some(match op {
                IntOp::Eq | IntOp::Ge => IntRange::at_least(v),
                IntOp::Gt => IntRange::at_least(v.checked_add(1)?),
                IntOp::Le => IntRange {
                    min: None,
                    max: Some(v),
                },
                IntOp::Lt => IntRange {
                    min: None,
                    max: Some(v.checked_sub(1)?),
                },
            });
        }
        let Some(sep) = text.find([':', '-']) else {
            let v = strl2llrc(text)?;
            return Some(IntRange {
                min: Some(v),
                max: Some(v),
            });
        };
        let (lo, hi) = (&text[..sep], &text[sep + 1..]);
        let range = match (lo.is_empty(), hi.is_empty()) {
            (true, false) => IntRange {
                min: None,
                max: Some(strl2llrc(hi)?),
            },
            (_, true) => IntRange::at_least(strl2llrc(lo)?),
            (false, false) => IntRange {
                min: Some(strl2llrc(lo)?),
                max: Some(strl2llrc(hi)?),
            },
        };
        if let (Some(a), Some(b)) = (range.min, range.max)
            && a > b
        {
            return None;
        }
        Some(range)
    }

    /// Whether a length is in the range. HAProxy compares lengths (`size_t`) with the
    /// bounds converted to unsigned: a negative bound is huge (`path_len lt 0`
    /// matches every path, seen on 2.6.12).
    pub fn contains_len(&self, len: usize) -> bool {
        let len = len as u64;
        self.min.is_none_or(|m| m as u64 <= len) && self.max.is_none_or(|m| len <= m as u64)
    }

    /// Whether `v` is in the range.
    pub fn contains(&self, v: i64) -> bool {
        self.min.is_none_or(|m| v >= m) && self.max.is_none_or(|m| v <= m)
    }
}

/// HAProxy's `strl2llrc()`: the whole text is an optional `-` then digits (a lone `-`
/// reads as 0); anything else, an empty text or an overflow is an error.
fn strl2llrc(s: &str) -> Option<i64> {
    let (neg, digits) = match s.strip_prefix('-') {
        Some(d) => (true, d),
        None if s.is_empty() => return None,
        None => (false, s),
    };
    let mut v: i64 = 0;
    for b in digits.bytes() {
        if !b.is_ascii_digit() {
            return None;
        }
        let d = i64::from(b - b'0');
        v = v.checked_mul(10)?;
        v = if neg {
            v.checked_sub(d)?
        } else {
            v.checked_add(d)?
        };
    }
    Some(v)
}

/// A text sample cast to an integer, as HAProxy's `c_str2int()` / `read_int64()`:
/// an optional sign, then digits until the first non-digit, wrapping on
/// overflow; an empty sample has no value, text without digits is 0.
pub fn read_int64(s: &str) -> Option<i64> {
    if s.is_empty() {
        return None;
    }
    let (neg, digits) = match s.as_bytes()[0] {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let mut v: u64 = 0;
    for b in digits.bytes() {
        if !b.is_ascii_digit() {
            break;
        }
        v = v.wrapping_mul(10).wrapping_add(u64::from(b - b'0'));
    }
    let v = v as i64;
    Some(if neg { v.wrapping_neg() } else { v })
}

/// `hdr_val` / `urlp_val`: HAProxy's `strl2ic()`, faithfully. It stops only at
/// a character above `9`, so punctuation below `0` is added as a negative digit
/// (`5.5` reads as 485, `+7` as -43); 32-bit, wrapping.
pub fn strl2ic(s: &str) -> i64 {
    let b = s.as_bytes();
    let mut i: i32 = 0;
    if let Some((&b'-', rest)) = b.split_first() {
        for &c in rest {
            let j = i32::from(c) - i32::from(b'0');
            if j > 9 {
                break;
            }
            i = i.wrapping_mul(10).wrapping_sub(j);
        }
    } else {
        for &c in b {
            let j = i32::from(c) - i32::from(b'0');
            if j > 9 {
                break;
            }
            i = i.wrapping_mul(10).wrapping_add(j);
        }
    }
    i64::from(i)
}

/// The decimal integer at the start of `s` (after blanks, with a sign).
pub fn leading_int(s: &str) -> Option<i64> {
    let s = s.trim_start_matches([' ', '\t']);
    let (neg, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let n = digits.bytes().take_while(u8::is_ascii_digit).count();
    if n == 0 {
        return None;
    }
    let v: i64 = digits[..n].parse().ok()?;
    Some(if neg { -v } else { v })
}

/// Formats `v` in `buf` without allocating.
pub fn format(v: i64, buf: &mut [u8; 24]) -> &str {
    let mut i = buf.len();
    let neg = v < 0;
    let mut u = v.unsigned_abs();
    loop {
        i -= 1;
        buf[i] = b'0' + (u % 10) as u8;
        u /= 10;
        if u == 0 {
            break;
        }
    }
    if neg {
        i -= 1;
        buf[i] = b'-';
    }
    core::str::from_utf8(&buf[i..]).unwrap_or("")
}

/// Integer patterns as HAProxy reads them: integers and ranges, each maybe
/// after an operator (`eq ge gt le lt`) that applies to the words after it.
pub fn patterns(words: &[Word]) -> Result<Vec<Pattern>, Problem> {
    let mut patterns = Vec::new();
    let mut op = IntOp::Eq;
    for w in words {
        if let Some(o) = IntOp::from_name(&w.text) {
            op = o;
            continue;
        }
        let Some(r) = IntRange::parse(&w.text, op) else {
            return Err(Problem::new(
                K::InvalidValue,
                w.col,
                format!("'{}' is not an integer pattern", w.text),
            )
            .hint("integers, ranges 'MIN:MAX', or an operator eq/ge/gt/le/lt then an integer"));
        };
        patterns.push(Pattern::Int(r));
    }
    Ok(patterns)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operators() {
        let gt0 = IntRange::parse("0", IntOp::Gt);
        assert!(gt0.is_some_and(|r| r.contains(1) && !r.contains(0)));
        let ge1 = IntRange::parse("1", IntOp::Ge);
        assert!(ge1.is_some_and(|r| r.contains(1) && !r.contains(0)));
        let lt2 = IntRange::parse("2", IntOp::Lt);
        assert!(lt2.is_some_and(|r| r.contains(1) && !r.contains(2)));
        let le2 = IntRange::parse("2", IntOp::Le);
        assert!(le2.is_some_and(|r| r.contains(2) && !r.contains(3)));
        let eq2 = IntRange::parse("2", IntOp::Eq);
        assert!(eq2.is_some_and(|r| r.contains(2) && !r.contains(3) && !r.contains(1)));
    }

    #[test]
    fn ranges() {
        let r = IntRange::parse("1:3", IntOp::Eq);
        assert!(r.is_some_and(|r| r.contains(1) && r.contains(3) && !r.contains(4)));
        let r = IntRange::parse(":3", IntOp::Eq);
        assert!(r.is_some_and(|r| r.contains(-9) && !r.contains(4)));
        assert_eq!(IntRange::parse("1:3", IntOp::Gt), None);
        assert_eq!(IntRange::parse("5:3", IntOp::Eq), None);
        assert_eq!(IntRange::parse("x", IntOp::Eq), None);
    }

    /// Probed on HAProxy 2.6.12 (`hdr_val(x-n)` and `path_len` of `/abc`).
    #[test]
    fn negative_patterns_as_haproxy() {
        let m = |text: &str, op: IntOp, v: i64| {
            IntRange::parse(text, op).is_some_and(|r| r.contains(v))
        };
        // A leading `-` is a separator and the operator is ignored: `-1` is `:1`.
        for op in [IntOp::Lt, IntOp::Le, IntOp::Gt, IntOp::Eq] {
            assert!(m("-1", op, 0) && m("-1", op, 1) && !m("-1", op, 3));
        }
        assert!(m("-3", IntOp::Eq, 3) && m("-3", IntOp::Ge, -5));
        assert!(m("0", IntOp::Lt, -1) && !m("0", IntOp::Lt, 0));
        let r = IntRange::parse("3-7", IntOp::Eq);
        assert!(r.is_some_and(|r| r.contains(3) && r.contains(7) && !r.contains(8)));
        assert_eq!(IntRange::parse("+5", IntOp::Eq), None);
        assert_eq!(IntRange::parse("3-7", IntOp::Lt), None);
        // Lengths are compared unsigned: a negative bound is huge.
        let len =
            |text: &str, op: IntOp| IntRange::parse(text, op).is_some_and(|r| r.contains_len(4));
        assert!(len("0", IntOp::Lt) && len("-5", IntOp::Lt) && !len("-1", IntOp::Lt));
        assert!(!len("1", IntOp::Lt) && !len("0", IntOp::Le) && len("5", IntOp::Lt));
    }

    #[test]
    fn strtol_like() {
        assert_eq!(leading_int(" 42abc"), Some(42));
        assert_eq!(leading_int("-7"), Some(-7));
        assert_eq!(leading_int("abc"), None);
    }

    #[test]
    fn haproxy_casts() {
        assert_eq!(read_int64("42abc"), Some(42));
        assert_eq!(read_int64("+7"), Some(7));
        assert_eq!(read_int64(""), None);
        assert_eq!(
            read_int64("99999999999999999999"),
            Some(7_766_279_631_452_241_919)
        );
        assert_eq!(strl2ic("5.5"), 485);
        assert_eq!(strl2ic("+7"), -43);
        assert_eq!(strl2ic("12"), 12);
        assert_eq!(strl2ic("-12"), -12);
        assert_eq!(strl2ic("7x"), 7);
    }

    #[test]
    fn formats() {
        let mut b = [0u8; 24];
        assert_eq!(format(-120, &mut b), "-120");
        assert_eq!(format(0, &mut b), "0");
        assert_eq!(format(i64::MIN, &mut b), "-9223372036854775808");
    }
}
