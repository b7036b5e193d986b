//! A request target's authority and `Host`, as HAProxy 2.6's h1 parser compares
//! them (`h1_validate_mismatch_authority`, `h1_validate_connect_authority`). The
//! default-port rewrite that follows is router-core's (`normalize::scheme_based`).

/// Where the parts of an absolute-form target are (HAProxy's `http_parse_scheme` and
/// `http_parse_authority` with userinfo skipped: the authority ends at the first `/`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Absolute {
    /// End of `scheme://`.
    pub scheme_end: usize,
    /// The authority without userinfo.
    pub authority: std::ops::Range<usize>,
}

impl Absolute {
    /// The parts of `target`, if it is in absolute form (the scheme is read by
    /// router-core, as its fetches read it).
    pub fn parse(target: &str) -> Option<Absolute> {
        let scheme_end = router_core::unstable::target::scheme_end(target)?;
        let end = target[scheme_end..]
            .find('/')
            .map_or(target.len(), |e| scheme_end + e);
        let start = target[scheme_end..end]
            .rfind('@')
            .map_or(scheme_end, |a| scheme_end + a + 1);
        Some(Absolute {
            scheme_end,
            authority: start..end,
        })
    }
}

/// The authority of an absolute-form target (`http://u@host:port/p` -> `host:port`).
pub fn absolute_authority(target: &str) -> Option<&str> {
    Absolute::parse(target).map(|a| &target[a.authority])
}

/// The authority HAProxy 2.6 reads at the start of a target that has no scheme and
/// does not start with `/` or `*` (`GET app`, `GET u@x/p`): up to the first `/`,
/// userinfo dropped.
pub fn bare_authority(target: &str) -> &str {
    let end = target.find('/').unwrap_or(target.len());
    let start = target[..end].rfind('@').map_or(0, |a| a + 1);
    &target[start..end]
}

/// HAProxy's `http_is_default_port`: empty, or 80 with `http://`, or 443 with `https://`.
fn is_default_port(scheme: &str, port: &str) -> bool {
    port.is_empty()
        || (port == "80" && scheme.eq_ignore_ascii_case("http://"))
        || (port == "443" && scheme.eq_ignore_ascii_case("https://"))
}

/// `host:port` -> (`host`, Some(`port`)) when the part after the last `:` is digits.
fn split_port(a: &str) -> (&str, Option<&str>) {
    match a.rfind(':') {
        Some(i) if a[i + 1..].bytes().all(|b| b.is_ascii_digit()) => (&a[..i], Some(&a[i + 1..])),
        _ => (a, None),
    }
}

/// Whether `authority` (after `scheme`, e.g. `http://`, or `""`) may go with `host`:
/// an empty authority is not compared (HAProxy 2.6's h1 parser checks only a
/// non-empty one), equal ones pass, and others only when they differ by a default
/// port (`h1_validate_mismatch_authority`).
pub fn matches_host(scheme: &str, authority: &str, host: &str) -> bool {
    authority.is_empty()
        || host.eq_ignore_ascii_case(authority)
        || mismatch_allowed(scheme, authority, host)
}

/// HAProxy 2.6's `h1_validate_mismatch_authority`: authority and Host differ, which is
/// accepted only when they differ by a default port.
fn mismatch_allowed(scheme: &str, authority: &str, host: &str) -> bool {
    let (uh, up) = split_port(authority);
    let (hh, hp) = split_port(host);
    match (up, hp) {
        (None, None) => false,
        (Some(p), _) if !is_default_port(scheme, p) => false,
        (_, Some(p)) if !is_default_port(scheme, p) => false,
        _ => uh.eq_ignore_ascii_case(hh),
    }
}

/// HAProxy 2.6's `h1_validate_connect_authority`: `host:port` with a port, and a Host
/// header, if any, naming the same.
pub fn connect_authority_ok(authority: &str, host: Option<&str>) -> bool {
    let (ah, ap) = split_port(authority);
    if ap.is_none_or(str::is_empty) || ah.is_empty() {
        return false;
    }
    match host {
        None => true,
        Some(h) => match split_port(h) {
            (_, Some(_)) => h.eq_ignore_ascii_case(authority),
            (hh, None) => hh.eq_ignore_ascii_case(ah),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absolute_authorities() {
        assert_eq!(absolute_authority("http://h:80/p?q"), Some("h:80"));
        assert_eq!(absolute_authority("HTTP://h"), Some("h"));
        assert_eq!(absolute_authority("http://user@h/x"), Some("h"));
        assert_eq!(absolute_authority("http://h?q=1"), Some("h?q=1"));
        assert_eq!(absolute_authority("/p"), None);
        assert_eq!(bare_authority("u@x/p"), "x");
        assert_eq!(bare_authority("app"), "app");
    }
}
