//! Pattern matchers (`-m str|beg|end|sub|dir|dom|len|int|ip|found|bool`), one
//! file per matcher. A sample matches when any pattern matches it.

mod beg;
mod dir;
mod dom;
mod end;
mod int;
mod ip;
mod len;
mod meth;
mod str;
mod sub;
mod word;

use serde::Serialize;

use super::fetch::Sample;
use super::pattern::Pattern;
use crate::config::lexer::Word;
use crate::problem::Problem;
use alloc::vec::Vec;

pub use int::IntRange;
pub use ip::{parse_net, same_family_contains};

/// How patterns are compared with samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Matcher {
    /// Exact string.
    Str,
    /// Prefix.
    Beg,
    /// Suffix.
    End,
    /// Substring.
    Sub,
    /// A `/`-delimited part (`/` and `?` are delimiters).
    Dir,
    /// A `.`-delimited part (`/ ? . :` are delimiters).
    Dom,
    /// String length against integer patterns.
    Len,
    /// Integer against integer patterns (text samples are read as a decimal prefix).
    Int,
    /// Address against address/network patterns.
    Ip,
    /// True when the fetch found any sample; takes no pattern.
    Found,
    /// True when the sample is true or a non-zero integer; takes no pattern.
    Bool,
    /// The `method` ACL's matcher: well-known methods by identity, others as text.
    Meth,
    /// `hdr_val` / `urlp_val`: text read with HAProxy's `strl2ic()`, then as `int`.
    Val,
}

impl Matcher {
    /// The matcher named by `-m NAME`.
    pub fn from_name(name: &str) -> Option<Matcher> {
        Some(match name {
            "str" => Matcher::Str,
            "beg" => Matcher::Beg,
            "end" => Matcher::End,
            "sub" => Matcher::Sub,
            "dir" => Matcher::Dir,
            "dom" => Matcher::Dom,
            "len" => Matcher::Len,
            "int" => Matcher::Int,
            "ip" => Matcher::Ip,
            "found" => Matcher::Found,
            "bool" => Matcher::Bool,
            _ => return None,
        })
    }

    /// Reads the patterns of an `acl` line for this matcher (its file says how).
    pub fn patterns(self, words: &[Word]) -> Result<Vec<Pattern>, Problem> {
        if self.takes_int() {
            int::patterns(words)
        } else if self == Matcher::Ip {
            words.iter().map(ip::pattern).collect()
        } else {
            Ok(words.iter().map(|w| Pattern::Str(w.text.clone())).collect())
        }
    }

    /// Whether patterns for this matcher are integers.
    pub fn takes_int(self) -> bool {
        matches!(self, Matcher::Len | Matcher::Int | Matcher::Val)
    }

    /// Whether this matcher takes no pattern.
    pub fn takes_none(self) -> bool {
        matches!(self, Matcher::Found | Matcher::Bool)
    }

    /// Does `sample` match any of `patterns`?
    pub fn matches(self, sample: Sample<'_>, patterns: &[Pattern], icase: bool) -> bool {
        match self {
            Matcher::Found => true,
            Matcher::Bool => match sample {
                Sample::Bool(b) => b,
                Sample::Int(i) => i != 0,
                Sample::Str(s) => int::leading_int(s).is_some_and(|i| i != 0),
                Sample::Ip(_) => true,
            },
            Matcher::Val => match sample {
                Sample::Str(s) => int_any(int::strl2ic(s), patterns),
                Sample::Int(i) => int_any(i, patterns),
                _ => false,
            },
            Matcher::Int => {
                let value = match sample {
                    Sample::Int(i) => Some(i),
                    Sample::Str(s) => int::read_int64(s),
                    Sample::Bool(b) => Some(i64::from(b)),
                    Sample::Ip(_) => None,
                };
                value.is_some_and(|v| int_any(v, patterns))
            }
            Matcher::Len => match sample {
                Sample::Str(s) => patterns
                    .iter()
                    .any(|p| matches!(p, Pattern::Int(r) if r.contains_len(s.len()))),
                _ => false,
            },
            Matcher::Ip => {
                let ip = match sample {
                    Sample::Ip(ip) => Some(ip),
                    Sample::Str(s) => ip::parse_sample(s),
                    _ => None,
                };
                ip.is_some_and(|ip| {
                    patterns
                        .iter()
                        .any(|p| matches!(p, Pattern::Ip(net) if ip::contains(net, ip)))
                })
            }
            Matcher::Str
            | Matcher::Beg
            | Matcher::End
            | Matcher::Sub
            | Matcher::Dir
            | Matcher::Dom
            | Matcher::Meth => {
                let mut buf = [0u8; 24];
                let text = match sample {
                    Sample::Str(s) => s,
                    Sample::Int(i) => int::format(i, &mut buf),
                    Sample::Bool(b) => {
                        if b {
                            "1"
                        } else {
                            "0"
                        }
                    }
                    Sample::Ip(_) => return false,
                };
                patterns.iter().any(|p| match p {
                    Pattern::Str(pat) => self.match_str(text, pat, icase),
                    _ => false,
                })
            }
        }
    }

    fn match_str(self, text: &str, pat: &str, icase: bool) -> bool {
        match self {
            Matcher::Str => str::matches(text, pat, icase),
            Matcher::Beg => beg::matches(text, pat, icase),
            Matcher::End => end::matches(text, pat, icase),
            Matcher::Sub => sub::matches(text, pat, icase),
            Matcher::Dir => dir::matches(text, pat, icase),
            Matcher::Dom => dom::matches(text, pat, icase),
            Matcher::Meth => meth::matches(text, pat, icase),
            _ => false,
        }
    }
}

fn int_any(v: i64, patterns: &[Pattern]) -> bool {
    patterns
        .iter()
        .any(|p| matches!(p, Pattern::Int(r) if r.contains(v)))
}

/// Byte-wise equality, ASCII case-insensitive when `icase`.
fn eq_bytes(a: &[u8], b: &[u8], icase: bool) -> bool {
    if icase {
        a.eq_ignore_ascii_case(b)
    } else {
        a == b
    }
}

#[cfg(test)]
mod eq_tests {
    #[test]
    fn eq_bytes_agrees_with_slice_equality() {
        let words = [
            "",
            "a",
            "abcdefgh",
            "abcdefghi",
            "/wtSecondary",
            "sample.com",
        ];
        for a in words {
            for b in words {
                assert_eq!(super::eq_bytes(a.as_bytes(), b.as_bytes(), false), a == b);
            }
        }
        assert!(super::eq_bytes(b"SaMpLe.CoM", b"sample.com", true));
        assert!(!super::eq_bytes(b"SaMpLe.CoM", b"sample.com", false));
        assert!(!super::eq_bytes(b"sample.co", b"sample.com", true));
    }
}
