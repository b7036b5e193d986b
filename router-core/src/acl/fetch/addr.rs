//! `src`, `dst` and their ports.

use core::net::IpAddr;

/// An IPv4-mapped IPv6 address (`::ffff:10.0.0.1`) as the IPv4 address it
/// carries, so IPv4 patterns match dual-stack listeners as in HAProxy.
pub fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}
