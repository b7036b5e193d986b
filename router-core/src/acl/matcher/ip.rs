//! `-m ip`: addresses against networks (`10.0.0.0/8`, `10.0.0.0/255.0.0.0`, `::1`).
//! An IPv4 pattern also matches the IPv4-mapped IPv6 form of its addresses.

use core::net::{IpAddr, Ipv4Addr};

use crate::config::model::IpNet;

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

/// Parses an address found in a text sample (a header value).
pub fn parse_sample(text: &str) -> Option<IpAddr> {
    text.trim().parse().ok()
}

/// Whether `net` contains `ip`.
pub fn contains(net: &IpNet, ip: IpAddr) -> bool {
    let ip = match ip {
        IpAddr::V6(v6) if net.addr.is_ipv4() => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => return false,
        },
        other => other,
    };
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
    }

    #[test]
    fn bad_patterns() {
        assert_eq!(parse_net("10.0.0.0/33"), None);
        assert_eq!(parse_net("10.0.0.0/255.0.255.0"), None);
        assert_eq!(parse_net("host"), None);
    }
}
