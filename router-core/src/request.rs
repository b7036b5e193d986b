//! The facts about a request that routing looks at, borrowed from the host.

use core::net::SocketAddr;

/// A request as the host received it. Nothing is decoded or normalized: the
/// target is the request target exactly as it arrived (origin or absolute
/// form), as HAProxy's `url` fetch sees it.
#[derive(Debug, Clone, Copy)]
pub struct RequestFacts<'a> {
    /// Method, as received (`GET`).
    pub method: &'a str,
    /// Request target, as received (`/?wtd=wt1...`, `http://host/p?q`).
    pub target: &'a str,
    /// Protocol version (`HTTP/1.1`).
    pub version: &'a str,
    /// Header lines in the order received; names in any case.
    pub headers: &'a [(&'a str, &'a str)],
    /// Client address and port.
    pub src: SocketAddr,
    /// The local address and port the client connected to.
    pub dst: SocketAddr,
    /// The client connection is TLS (HAProxy's `ssl_fc`): at the edge, an https
    /// request; on wtedge, which has no TLS binds yet, never.
    pub tls: bool,
}

impl<'a> RequestFacts<'a> {
    /// Values of every header line named `name` (ASCII case-insensitive), in order.
    pub fn header_lines(&self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| *v)
    }
}
