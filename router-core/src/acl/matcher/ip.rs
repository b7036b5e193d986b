//! `-m ip`: addresses against networks (`10.0.0.0/8`, `10.0.0.0/255.0.0.0`, `::1`),
//! across families as HAProxy's `pat_match_ip()`: an IPv6 sample meets an IPv4
//! pattern through `v6tov4()` (IPv4-mapped `::ffff:a.b.c.d`, IPv4-compatible
//! `::a.b.c.d`, 6to4 `2002:AABB:CCDD::`), an IPv4 sample meets an IPv6 pattern
//! as `::ffff:a.b.c.d`.

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use alloc::format;

use crate::acl::pattern::Pattern;
use crate::config::lexer::Word;
use crate::config::model::IpNet;
use crate::diag::DiagnosticKind as K;
use crate::problem::Problem;

/// Parses a network pattern.
pub fn parse_net(text: &str) -> Option<IpNet> {
    let (addr, len) = match text.split_once('/') {
        Some((a, l)) => (a, Some(l)),
        None => (text, None),
    };
    let addr: IpAddr = addr.parse().ok()?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let prefix = match len {
        None => max,
        Some(l) => match l.parse::<u8>() {
            Ok(p) if p <= max => p,
            Ok(_) => return None,
            Err(_) => {
                // A dotted netmask, for IPv4 only, and only a contiguous one.
                let mask: Ipv4Addr = l.parse().ok()?;
                if !addr.is_ipv4() {
                    return None;
                }
                let bits = u32::from(mask);
                let ones = bits.leading_ones();
                if bits.checked_shl(ones).unwrap_or(0) != 0 {
                    return None;
                }
                u8::try_from(ones).ok()?
            }
        },
    };
    Some(IpNet { addr, prefix })
}

/// Parses an address found in a text sample (a header value), as HAProxy's
/// `hdr_ip`: a dotted IPv4 address (leading zeros are decimal) optionally
/// followed by `:port`, else an IPv6 address.
pub fn parse_sample(text: &str) -> Option<IpAddr> {
    let text = text.trim();
    if let Some(v4) = url2ipv4(text) {
        return Some(IpAddr::V4(v4));
    }
    text.parse::<Ipv6Addr>().ok().map(IpAddr::V6)
}

fn url2ipv4(text: &str) -> Option<Ipv4Addr> {
    let addr = match text.split_once(':') {
        Some((a, port)) if port.bytes().all(|b| b.is_ascii_digit()) => a,
        Some(_) => return None,
        None => text,
    };
    let mut octets = [0u8; 4];
    let mut parts = addr.split('.');
    for o in &mut octets {
        let p = parts.next()?;
        if p.is_empty() || p.len() > 3 || !p.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        *o = p.parse().ok()?;
    }
    parts.next().is_none().then(|| Ipv4Addr::from(octets))
}

/// HAProxy's `v6tov4()`.
fn v6tov4(v6: Ipv6Addr) -> Option<Ipv4Addr> {
    let o = v6.octets();
    if o[..10].iter().all(|b| *b == 0) && (o[10..12] == [0xff, 0xff] || o[10..12] == [0, 0]) {
        return Some(Ipv4Addr::new(o[12], o[13], o[14], o[15]));
    }
    if o[..2] == [0x20, 0x02] {
        return Some(Ipv4Addr::new(o[2], o[3], o[4], o[5]));
    }
    None
}

/// Whether `net` contains `ip`, across families as HAProxy's IP matching.
pub fn contains(net: &IpNet, ip: IpAddr) -> bool {
    let ip = match (net.addr, ip) {
        (IpAddr::V4(_), IpAddr::V6(v6)) => match v6tov4(v6) {
            Some(v4) => IpAddr::V4(v4),
            None => return false,
        },
        (IpAddr::V6(_), IpAddr::V4(v4)) => IpAddr::V6(v4.to_ipv6_mapped()),
        _ => ip,
    };
    same_family_contains(net, ip)
}

/// Whether `net` contains `ip`, addresses of the other family never matching
/// (HAProxy's `ipcmp2net()`, used by `option forwardfor except`).
pub fn same_family_contains(net: &IpNet, ip: IpAddr) -> bool {
    match (net.addr, ip) {
        (IpAddr::V4(n), IpAddr::V4(a)) => {
            let shift = 32 - u32::from(net.prefix);
            u32::from(n).checked_shr(shift).unwrap_or(0)
                == u32::from(a).checked_shr(shift).unwrap_or(0)
        }
        (IpAddr::V6(n), IpAddr::V6(a)) => {
            let shift = 128 - u32::from(net.prefix);
            u128::from(n).checked_shr(shift).unwrap_or(0)
                == u128::from(a).checked_shr(shift).unwrap_or(0)
        }
        _ => false,
    }
}

/// An address or network pattern (`10.0.0.0/8`, `192.168.1.7`, `::1`).
pub fn pattern(w: &Word) -> Result<Pattern, Problem> {
    parse_net(&w.text).map(Pattern::Ip).ok_or_else(|| {
        Problem::new(
            K::InvalidValue,
            w.col,
            format!("'{}' is not an address or network", w.text),
        )
        .hint("write e.g. 10.0.0.0/8, 192.168.1.7 or ::1")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn has(net: &str, ip: &str) -> bool {
        match (parse_net(net), ip.parse::<IpAddr>()) {
            (Some(n), Ok(a)) => contains(&n, a),
            _ => panic!("bad test input {net} {ip}"),
        }
    }

    #[test]
    fn cidr() {
        assert!(has("10.0.0.0/8", "10.1.2.3"));
        assert!(!has("10.0.0.0/8", "11.1.2.3"));
        assert!(has("127.0.0.1", "127.0.0.1"));
        assert!(!has("127.0.0.1", "127.0.0.2"));
        assert!(has("0.0.0.0/0", "8.8.8.8"));
        assert!(has("10.0.0.0/255.0.0.0", "10.9.9.9"));
        assert!(has("10.0.0.0/8", "::ffff:10.0.0.1"));
        assert!(has("2001:db8::/32", "2001:db8::1"));
        assert!(!has("2001:db8::/32", "10.0.0.1"));
        assert!(has("10.0.0.0/8", "::10.0.0.7"), "IPv4-compatible");
        assert!(has("10.0.0.0/8", "2002:a00:7::1"), "6to4");
        assert!(
            has("::ffff:192.0.2.0/120", "192.0.2.9"),
            "IPv4 sample, mapped pattern"
        );
        assert!(!has("10.0.0.0/8", "2001:db8::1"));
    }

    #[test]
    fn header_samples() {
        assert_eq!(parse_sample("10.1.2.3:8080"), "10.1.2.3".parse().ok());
        assert_eq!(parse_sample("010.1.2.3"), "10.1.2.3".parse().ok());
        assert_eq!(parse_sample("10.1.2.3x"), None);
        assert_eq!(parse_sample("2001:db8::1"), "2001:db8::1".parse().ok());
    }

    #[test]
    fn bad_patterns() {
        assert_eq!(parse_net("10.0.0.0/33"), None);
        assert_eq!(parse_net("10.0.0.0/255.0.255.0"), None);
        assert_eq!(parse_net("host"), None);
    }
}
