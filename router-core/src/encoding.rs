//! `Accept-Encoding` towards the server: one rule for both hosts, where the Workers
//! runtime forces them to act differently. (The check of a 101 is in [`crate::upgrade`].)
//!
//! HAProxy passes `Accept-Encoding` through untouched. Wt Edge departs from that on
//! WebSocket upgrades: Wt 4.14 (`src/http/Reply.C`) gzips a 101 and every frame after
//! it when the upgrade request's `Accept-Encoding` *contains* `gzip`, and no browser
//! reads such a socket. A 101 is never compressed legitimately, so no encoding is
//! asked for on an upgrade.
//!
//! The Workers runtime replaces the client's `Accept-Encoding` with its own (`br,
//! gzip`, the client's original in `request.cf.clientAcceptEncoding`) and adds `br,
//! gzip` to every subrequest that has none, so at the edge removing the header is not
//! enough: the edge says `identity` on an upgrade, and on a plain request it sends the
//! client's original value (`identity` when the client sent none), so that Wt answers
//! what it would answer the client directly, as behind HAProxy and wtedge.

/// Where the request to the server is sent from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Platform {
    /// A socket of our own (`wtedge`): the request goes out as written.
    Socket,
    /// The Workers runtime's `fetch`: it adds `Accept-Encoding: br, gzip` to a
    /// request that has none.
    Workers,
}

/// What the host does with the client's `Accept-Encoding` on the server request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AcceptEncoding<'a> {
    /// Forward the client's header lines as they are (or none if it sent none).
    Keep,
    /// Drop every `Accept-Encoding` line.
    Remove,
    /// Replace every `Accept-Encoding` line with this one value.
    Set(&'a str),
}

/// The `Accept-Encoding` edit for a request to the server. `websocket`: the request
/// asks for a WebSocket upgrade; `client`: the value the client sent (at the edge:
/// `request.cf.clientAcceptEncoding`), `None` or empty when it sent none.
pub fn accept_encoding(
    platform: Platform,
    websocket: bool,
    client: Option<&str>,
) -> AcceptEncoding<'_> {
    let client = client.filter(|v| !v.trim().is_empty());
    match (platform, websocket, client) {
        (Platform::Socket, true, _) => AcceptEncoding::Remove,
        (Platform::Socket, false, _) => AcceptEncoding::Keep,
        (Platform::Workers, true, _) | (Platform::Workers, false, None) => {
            AcceptEncoding::Set("identity")
        }
        (Platform::Workers, false, Some(v)) => AcceptEncoding::Set(v),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upgrades_never_ask_for_an_encoding() {
        for sent in [None, Some("gzip, deflate, br, zstd")] {
            assert_eq!(
                accept_encoding(Platform::Socket, true, sent),
                AcceptEncoding::Remove
            );
            assert_eq!(
                accept_encoding(Platform::Workers, true, sent),
                AcceptEncoding::Set("identity")
            );
        }
    }

    #[test]
    fn plain_requests_keep_the_clients_choice() {
        assert_eq!(
            accept_encoding(Platform::Socket, false, Some("gzip")),
            AcceptEncoding::Keep
        );
        assert_eq!(
            accept_encoding(Platform::Socket, false, None),
            AcceptEncoding::Keep
        );
        // At the edge the runtime's own value is replaced by the client's original.
        assert_eq!(
            accept_encoding(Platform::Workers, false, Some("gzip")),
            AcceptEncoding::Set("gzip")
        );
        // The runtime would add `br, gzip` where the client asked for nothing.
        for none in [None, Some(""), Some(" ")] {
            assert_eq!(
                accept_encoding(Platform::Workers, false, none),
                AcceptEncoding::Set("identity")
            );
        }
    }
}
