//! `-m int`: integer ranges and the operators `eq ge gt le lt`.

use serde::Serialize;

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

    /// Parses `N`, `N:M`, `N:` or `:M` under operator `op` (which only applies
    /// to a single number, as in HAProxy).
    pub fn parse(text: &str, op: IntOp) -> Option<IntRange> {
        if let Some((lo, hi)) = text.split_once(':') {
            if op != IntOp::Eq {
                return None;
            }
            let min = if lo.is_empty() {
                None
            } else {
                Some(lo.parse().ok()?)
            };
            let max = if hi.is_empty() {
                None
            } else {
                Some(hi.parse().ok()?)
            };
            if let (Some(a), Some(b)) = (min, max)
                && a > b
            {
                return None;
            }
            return Some(IntRange { min, max });
        }
        let v: i64 = text.parse().ok()?;
        Some(match op {
            IntOp::Eq => IntRange {
                min: Some(v),
                max: Some(v),
            },
            IntOp::Ge => IntRange::at_least(v),
            IntOp::Gt => IntRange::at_least(v.checked_add(1)?),
            IntOp::Le => IntRange {
                min: None,
                max: Some(v),
            },
            IntOp::Lt => IntRange {
                min: None,
                max: Some(v.checked_sub(1)?),
            },
        })
    }

    /// Whether `v` is in the range.
    pub fn contains(&self, v: i64) -> bool {
        self.min.is_none_or(|m| v >= m) && self.max.is_none_or(|m| v <= m)
    }
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
