//! `urlp(name)` / `url_param(name)`: values of a query parameter, found as
//! HAProxy's `http_find_next_url_param()` does: the query starts after the first
//! `?`, parameters are separated by `&`, `;` or `?` (`is_param_delimiter()` with
//! `?` as the default delimiter), names match case-sensitively and must
//! be followed by `=`; nothing is decoded.

use super::Sample;

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
