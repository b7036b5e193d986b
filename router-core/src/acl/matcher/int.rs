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

/// The decimal integer at the start of `s` (after blanks, with a sign), as C's
/// `strtol` reads header values for `hdr_val`.
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
        assert_eq!(IntRange::parse("x", IntOp::Eq), None);
    }

    #[test]
    fn strtol_like() {
        assert_eq!(leading_int(" 42abc"), Some(42));
        assert_eq!(leading_int("-7"), Some(-7));
        assert_eq!(leading_int("abc"), None);
    }

    #[test]
    fn formats() {
        let mut b = [0u8; 24];
        assert_eq!(format(-120, &mut b), "-120");
        assert_eq!(format(0, &mut b), "0");
        assert_eq!(format(i64::MIN, &mut b), "-9223372036854775808");
    }
}
