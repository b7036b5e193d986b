//! Addresses in `bind` and `server` lines.

use alloc::string::String;
use core::net::IpAddr;

use crate::config::model::ServerHost;

/// Splits `host:port` where host may be `*`, empty, an IPv4 address, a
/// bracketed IPv6 address, a bare IPv6 address (`:::80`: the last `:` starts
/// the port) or a name. Returns the host text and the port text (`None` without a port).
pub fn split_host_port(text: &str) -> (&str, Option<&str>) {
    let text = text
        .strip_prefix("ipv4@")
        .or_else(|| text.strip_prefix("ipv6@"))
        .unwrap_or(text);
    if let Some(rest) = text.strip_prefix('[')
        && let Some((host, after)) = rest.split_once(']')
    {
        return (host, after.strip_prefix(':'));
    }
    // As HAProxy's str2sa_range(): without brackets the last ':' starts the port.
    match text.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (text, None),
    }
}

/// Parses a port number (1-65535).
pub fn parse_port(text: &str) -> Option<u16> {
    if !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    match text.parse::<u16>() {
        Ok(0) | Err(_) => None,
        Ok(p) => Some(p),
    }
}

/// An IPv4 address in `inet_aton()` form, as HAProxy's resolver accepts it:
/// 1 to 4 parts (`127.1`, `2130706433`), each decimal, octal (`0`-prefixed)
/// or hexadecimal (`0x`), the last filling the remaining bytes.
fn inet_aton(text: &str) -> Option<core::net::Ipv4Addr> {
    let parts: alloc::vec::Vec<&str> = text.split('.').collect();
    if parts.is_empty() || parts.len() > 4 {
        return None;
    }
    let mut values = alloc::vec::Vec::with_capacity(parts.len());
    for p in &parts {
        let v = if let Some(hex) = p.strip_prefix("0x").or_else(|| p.strip_prefix("0X")) {
            u32::from_str_radix(hex, 16).ok()?
        } else if p.len() > 1 && p.starts_with('0') {
            u32::from_str_radix(&p[1..], 8).ok()?
        } else if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) {
            p.parse::<u32>().ok()?
        } else {
            return None;
        };
        values.push(v);
    }
    let (last, head) = values.split_last()?;
    if head.iter().any(|v| *v > 255) {
        return None;
    }
    let rest_bits = 8 * (4 - head.len() as u32);
    if rest_bits < 32 && u64::from(*last) >= 1u64 << rest_bits {
        return None;
    }
    let mut addr: u32 = 0;
    for (i, v) in head.iter().enumerate() {
        addr |= v << (24 - 8 * i as u32);
    }
    Some(core::net::Ipv4Addr::from(addr | last))
}

/// Parses a server host: an IP address (IPv4 also in `inet_aton()` forms) or a
/// DNS name.
pub fn parse_server_host(text: &str) -> Option<ServerHost> {
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Some(ServerHost::Ip(ip));
    }
    if let Some(v4) = inet_aton(text) {
        return Some(ServerHost::Ip(IpAddr::V4(v4)));
    }
    let valid = !text.is_empty()
        && text.len() <= 253
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_')
        && !text.starts_with(['-', '.'])
        // Digits and dots only is an IPv4 address that did not parse (`300.0.0.1`).
        && !text.bytes().all(|b| b.is_ascii_digit() || b == b'.');
    valid.then(|| ServerHost::Name(String::from(text)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_port_forms() {
        assert_eq!(split_host_port("0.0.0.0:80"), ("0.0.0.0", Some("80")));
        assert_eq!(split_host_port("*:80"), ("*", Some("80")));
        assert_eq!(split_host_port(":80"), ("", Some("80")));
        assert_eq!(split_host_port("[::1]:8080"), ("::1", Some("8080")));
        assert_eq!(split_host_port(":::80"), ("::", Some("80")));
        assert_eq!(
            split_host_port("wt1.example.com:443"),
            ("wt1.example.com", Some("443"))
        );
        assert_eq!(split_host_port("10.0.0.1"), ("10.0.0.1", None));
        assert_eq!(
            split_host_port("ipv4@127.0.0.1:81"),
            ("127.0.0.1", Some("81"))
        );
    }

    #[test]
    fn server_hosts() {
        assert!(matches!(
            parse_server_host("0.0.0.0"),
            Some(ServerHost::Ip(_))
        ));
        assert!(matches!(
            parse_server_host("wt1.example.com"),
            Some(ServerHost::Name(_))
        ));
        assert_eq!(parse_server_host("bad host"), None);
        assert_eq!(parse_server_host("300.0.0.1"), None);
        let ip = |t: &str| match parse_server_host(t) {
            Some(ServerHost::Ip(ip)) => alloc::format!("{ip}"),
            other => alloc::format!("{other:?}"),
        };
        assert_eq!(ip("127.1"), "127.0.0.1");
        assert_eq!(ip("2130706433"), "127.0.0.1");
        assert_eq!(ip("0x7f.1"), "127.0.0.1");
        assert_eq!(ip("10.0.1"), "10.0.0.1");
        assert_eq!(parse_server_host(""), None);
    }

    #[test]
    fn ports() {
        assert_eq!(parse_port("80"), Some(80));
        assert_eq!(parse_port("0"), None);
        assert_eq!(parse_port("65536"), None);
        assert_eq!(parse_port("+10"), None);
    }
}
