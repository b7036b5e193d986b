//! The regexes of `replace-header`, `replace-value`, `replace-path` and
//! `replace-uri`, and HAProxy's replacement strings (`exp_replace()`: `\N` for a
//! group, `\xHH` for a byte, `\c` for `c`).
//!
//! HAProxy compiles them with PCRE (non-UTF mode: bytes, ASCII classes); Wt Edge
//! uses `regex-automata`'s PikeVM without Unicode, which has the same
//! leftmost-first search and the same classes, but no look-around and no
//! back-references: those are refused at load time (README, known differences).
//! Without the `regex` feature (the Worker: size limit) every pattern is refused.

use alloc::string::String;
#[cfg(feature = "regex")]
use alloc::string::ToString;
use alloc::vec::Vec;
#[cfg(feature = "regex")]
use regex_automata::nfa::thompson::pikevm::PikeVM;
#[cfg(feature = "regex")]
use regex_automata::util::syntax;
use serde::{Serialize, Serializer};

/// The most memory one pattern's automaton may take (bytes).
#[cfg(feature = "regex")]
const NFA_LIMIT: usize = 1 << 20;

/// A compiled pattern; it prints and serializes as its source text.
#[derive(Clone)]
pub struct Regex {
    source: String,
    #[cfg(feature = "regex")]
    re: PikeVM,
}

/// Why a pattern was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RegexError {
    /// Not a pattern Wt Edge compiles (the compiler's message).
    Invalid(String),
    /// This build has no regexes (the Worker).
    NotInThisBuild,
}

impl core::fmt::Debug for Regex {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{:?}", self.source)
    }
}

impl PartialEq for Regex {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl Eq for Regex {}

impl Serialize for Regex {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.source)
    }
}

impl Regex {
    /// Compiles `source`.
    #[cfg(feature = "regex")]
    pub fn new(source: &str) -> Result<Self, RegexError> {
        let config = syntax::Config::new().unicode(false).utf8(false);
        // Parsed first for the parser's message: its last line (`error: WHAT`)
        // under a picture of the pattern.
        if let Err(e) = syntax::parse_with(source, &config) {
            let text = e.to_string();
            let what = text
                .lines()
                .last()
                .unwrap_or("")
                .trim_start_matches("error: ");
            return Err(RegexError::Invalid(what.to_string()));
        }
        let re = PikeVM::builder()
            .syntax(config)
            // A bound on what a config line can make us allocate (`(a{1000}){1000}`).
            .thompson(
                regex_automata::nfa::thompson::Config::new()
                    .utf8(false)
                    .nfa_size_limit(Some(NFA_LIMIT)),
            )
            .build(source)
            .map_err(|e| RegexError::Invalid(e.to_string()))?;
        Ok(Regex {
            source: source.to_string(),
            re,
        })
    }

    /// Refuses `source`: this build has no regexes.
    #[cfg(not(feature = "regex"))]
    pub fn new(_source: &str) -> Result<Self, RegexError> {
        Err(RegexError::NotInThisBuild)
    }

    /// The pattern as written.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// HAProxy's `regex_exec_match2()` then `exp_replace()`: when `subject`
    /// holds a match (anywhere), the whole subject becomes `replacement` with
    /// its references filled in; `None` when there is no match.
    pub fn replace(&self, subject: &str, replacement: &str) -> Option<String> {
        let groups = self.groups(subject)?;
        let group = |n: usize| {
            groups
                .get(n)
                .copied()
                .flatten()
                .map(|(a, b)| &subject.as_bytes()[a..b])
        };
        let mut out: Vec<u8> = Vec::with_capacity(replacement.len());
        let mut r = replacement.bytes();
        while let Some(c) = r.next() {
            if c != b'\\' {
                out.push(c);
                continue;
            }
            match r.next() {
                // HAProxy fails the rewrite; the value is left as it was.
                None => return None,
                Some(d) if d.is_ascii_digit() => {
                    out.extend_from_slice(group(usize::from(d - b'0')).unwrap_or(&[]));
                }
                Some(b'x') => {
                    let (Some(h1), Some(h2)) = (r.next(), r.next()) else {
                        return None;
                    };
                    out.push((hex(h1) << 4).wrapping_add(hex(h2)));
                }
                Some(other) => out.push(other),
            }
        }
        Some(match String::from_utf8(out) {
            Ok(s) => s,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        })
    }
}

impl Regex {
    /// The spans of the groups of the first match (group 0 the whole match);
    /// `None` when nothing matches.
    #[cfg(feature = "regex")]
    fn groups(&self, subject: &str) -> Option<Vec<Option<(usize, usize)>>> {
        let mut caps = self.re.create_captures();
        let mut cache = self.re.create_cache();
        self.re.captures(&mut cache, subject.as_bytes(), &mut caps);
        caps.is_match().then(|| {
            (0..caps.group_len())
                .map(|n| caps.get_group(n).map(|s| (s.start, s.end)))
                .collect()
        })
    }

    /// Never built without the feature.
    #[cfg(not(feature = "regex"))]
    fn groups(&self, _subject: &str) -> Option<Vec<Option<(usize, usize)>>> {
        None
    }
}

/// `exp_replace()`'s hex digit: upper-cased, `0`-based, letters shifted (no check,
/// as in HAProxy).
fn hex(c: u8) -> u8 {
    let v = c.to_ascii_uppercase().wrapping_sub(b'0');
    if v > 9 {
        v.wrapping_sub(b'A' - b'9' - 1)
    } else {
        v
    }
}

#[cfg(all(test, feature = "regex"))]
mod tests {
    use super::*;

    fn re(s: &str) -> Regex {
        Regex::new(s).unwrap_or_else(|e| panic!("{e:?}"))
    }

    /// Seen on HAProxy 2.6.12: `replace-header X-A b Z` turns `abc` into `Z` (the
    /// whole value, the match being anywhere), `^(a)(.*)$ \2-\1` turns `abc`
    /// into `bc-a` and leaves `xyz, ab` alone.
    #[test]
    fn the_whole_subject_is_replaced() {
        assert_eq!(re("b").replace("abc", "Z").as_deref(), Some("Z"));
        assert_eq!(
            re("^(a)(.*)$").replace("abc", r"\2-\1").as_deref(),
            Some("bc-a")
        );
        assert_eq!(re("^(a)(.*)$").replace("xyz, ab", r"\2-\1"), None);
    }

    #[test]
    fn references_as_exp_replace() {
        // A group that did not take part is empty; `\x41` is `A`; `\.` is `.`.
        assert_eq!(
            re("(a)|(b)").replace("b", r"[\1|\2]\x41\.").as_deref(),
            Some("[|b]A.")
        );
        // A trailing backslash fails the rewrite.
        assert_eq!(re("a").replace("a", "x\\"), None);
        // Bytes, not characters: `.` takes one byte of `é`; the result stays text.
        assert_eq!(re("^(.)").replace("é", r"\1").as_deref(), Some("\u{fffd}"));
    }

    #[test]
    fn pcre_only_syntax_is_refused() {
        assert_eq!(
            Regex::new("(").err(),
            Some(RegexError::Invalid("unclosed group".into()))
        );
        assert!(Regex::new("(?=a)").is_err());
        assert!(Regex::new(r"(a)\1").is_err());
        assert!(Regex::new("(").is_err());
        assert!(Regex::new(r"\d+\w").is_ok());
        assert!(matches!(
            Regex::new("((a{1000}){1000}){1000}"),
            Err(RegexError::Invalid(_))
        ));
    }
}
