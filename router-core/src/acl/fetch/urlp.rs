//! `urlp(name)` / `url_param(name)`: values of a query parameter, found as
//! HAProxy's `http_find_next_url_param()` does: the query starts after the first
//! `?`, parameters are separated by `&`, `;` or `?` (`is_param_delimiter()` with
//! `?` as the default delimiter), names match case-sensitively and must
//! be followed by `=`; nothing is decoded.

use super::keyword::{Build, Family, Keyword, name_arg};
use super::{Fetch, Sample};
use crate::acl::matcher::Matcher;

const URLP: Build = |arg, col| Ok(Fetch::UrlParam(name_arg(arg, col)?));

/// The keywords over query parameters.
pub(super) const FAMILY: Family = Family {
    keywords: &[
        Keyword::with_arg("urlp", Matcher::Str, URLP),
        Keyword::with_arg("url_param", Matcher::Str, URLP),
        Keyword::with_arg("urlp_val", Matcher::Val, URLP),
        Keyword::with_arg("urlp_beg", Matcher::Beg, URLP),
        Keyword::with_arg("urlp_end", Matcher::End, URLP),
        Keyword::with_arg("urlp_sub", Matcher::Sub, URLP),
        Keyword::with_arg("urlp_dir", Matcher::Dir, URLP),
        Keyword::with_arg("urlp_dom", Matcher::Dom, URLP),
        Keyword::with_arg("urlp_len", Matcher::Len, URLP),
    ],
    refused: &[(
        "urlp_reg",
        "regular expressions are not supported; use urlp(NAME) -m beg|sub|end",
    )],
};

/// Calls `f` on each value of parameter `name` (of every parameter if `None`).
pub fn any_value<F: FnMut(Sample<'_>) -> bool>(
    target: &str,
    name: Option<&str>,
    f: &mut F,
) -> bool {
    let Some((_, query)) = target.split_once('?') else {
        return false;
    };
    query.split(['&', ';', '?']).any(|param| match name {
        Some(name) => param
            .strip_prefix(name)
            .and_then(|rest| rest.strip_prefix('='))
            .is_some_and(|value| f(Sample::Str(value))),
        None => {
            let value = param.split_once('=').map_or(param, |(_, v)| v);
            f(Sample::Str(value))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::String;
    use alloc::vec::Vec;

    fn values(target: &str, name: Option<&str>) -> Vec<String> {
        let mut out = Vec::new();
        let _ = any_value(target, name, &mut |s| {
            if let Sample::Str(v) = s {
                out.push(String::from(v));
            }
            false
        });
        out
    }

    #[test]
    fn finds_named_values() {
        assert_eq!(values("/?wtd=wt1abc&request=ws", Some("wtd")), ["wt1abc"]);
        assert_eq!(values("/?a=1&wtd=x&wtd=y", Some("wtd")), ["x", "y"]);
        assert!(values("/?xwtd=wt1", Some("wtd")).is_empty());
        assert!(values("/?wtd", Some("wtd")).is_empty());
        assert!(values("/wtd=wt1", Some("wtd")).is_empty());
        assert!(values("/?WTD=wt1", Some("wtd")).is_empty());
        assert_eq!(values("/?wtd=", Some("wtd")), [""]);
        assert_eq!(values("/?q=1;wtd=wt9B", Some("wtd")), ["wt9B"]);
        assert_eq!(values("/?a=1?wtd=wt1X", Some("wtd")), ["wt1X"]);
        assert_eq!(values("/?wtd=wt8AAAA?x", Some("wtd")), ["wt8AAAA"]);
    }

    #[test]
    fn unnamed_gives_every_value() {
        assert_eq!(values("/?a=1&b&c=3", None), ["1", "b", "3"]);
    }
}
