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

/// Parses a server host: an IP address or a DNS name.
pub fn parse_server_host(text: &str) -> Option<ServerHost> {
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Some(ServerHost::Ip(ip));
    }
    let valid = !text.is_empty()
        && text.len() <= 253
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_')
        && !text.starts_with(['-', '.']);
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
