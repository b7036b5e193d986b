//! An ACL keyword row: the name HAProxy 2.6 gives a fetch, the matcher it uses
//! unless `-m` says otherwise, and how its argument becomes a [`Fetch`]. Each
//! fetch file lists its own rows; [`lookup`] searches them all.

use alloc::format;
use alloc::string::String;

use super::{FAMILIES, Fetch};
use crate::acl::matcher::Matcher;
use crate::diag::DiagnosticKind as K;
use crate::problem::Problem;

/// Builds a fetch from its argument (`hdr(host)`: `host`) found at column `col`.
pub type Build = fn(Option<&str>, u32) -> Result<Fetch, Problem>;

/// One ACL keyword.
pub struct Keyword {
    /// As written in an `acl` line.
    pub name: &'static str,
    /// The default matcher; `None` when the fetch's type has none and HAProxy
    /// wants `-m`.
    pub matcher: Option<Matcher>,
    /// Whether the keyword takes an argument in parentheses.
    pub takes_arg: bool,
    /// The fetch it reads.
    pub build: Build,
}

impl Keyword {
    /// A keyword without argument.
    pub const fn plain(name: &'static str, matcher: Matcher, build: Build) -> Self {
        Keyword {
            name,
            matcher: Some(matcher),
            takes_arg: false,
            build,
        }
    }

    /// A keyword with an argument in parentheses.
    pub const fn with_arg(name: &'static str, matcher: Matcher, build: Build) -> Self {
        Keyword {
            name,
            matcher: Some(matcher),
            takes_arg: true,
            build,
        }
    }
}

/// A fetch file's rows: the keywords it implements and the HAProxy keywords
/// over the same fetch that Wt Edge refuses (name, reason shown to the user).
pub struct Family {
    /// Supported keywords.
    pub keywords: &'static [Keyword],
    /// Refused keywords and why.
    pub refused: &'static [(&'static str, &'static str)],
}

/// The keyword named `name`.
pub fn lookup(name: &str) -> Option<&'static Keyword> {
    keywords().find(|k| k.name == name)
}

/// Every supported keyword, in the order of the fetch files.
pub fn keywords() -> impl Iterator<Item = &'static Keyword> {
    FAMILIES.iter().flat_map(|f| f.keywords.iter())
}

/// Why Wt Edge refuses the HAProxy keyword `name`, if it does.
pub fn refused(name: &str) -> Option<&'static str> {
    FAMILIES
        .iter()
        .flat_map(|f| f.refused.iter())
        .find(|(n, _)| *n == name)
        .map(|(_, why)| *why)
}

/// A fetch's optional name argument (`hdr(host)`); empty is none.
pub fn name_arg(arg: Option<&str>, col: u32) -> Result<Option<String>, Problem> {
    match arg {
        None | Some("") => Ok(None),
        Some(a) if a.contains(',') => Err(Problem::new(
            K::Unsupported,
            col,
            format!("fetch arguments after the name ('{a}') are not supported by Wt Edge"),
        )
        .hint("give only the name, e.g. hdr(host) or urlp(wtd)")),
        Some(a) => Ok(Some(String::from(a))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    #[test]
    fn each_keyword_is_listed_once() {
        let mut names: Vec<&str> = keywords().map(|k| k.name).collect();
        let all = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), all);
    }

    #[test]
    fn rows_carry_haproxy_default_matchers() {
        // HAProxy 2.6 configuration.txt, 7.3.6: `hdr_beg` is `hdr -m beg`,
        // `hdr_cnt` an integer, `var` has no default (`-m` is required).
        let hdr_beg = lookup("hdr_beg").map(|k| (k.matcher, k.takes_arg));
        assert_eq!(hdr_beg, Some((Some(Matcher::Beg), true)));
        assert_eq!(
            lookup("req.hdr_cnt").and_then(|k| k.matcher),
            Some(Matcher::Int)
        );
        assert_eq!(lookup("url_sub").map(|k| k.takes_arg), Some(false));
        assert!(lookup("var").is_some_and(|k| k.matcher.is_none()));
        assert!(lookup("url_reg").is_none());
        assert!(refused("url_reg").is_some());
    }
}
