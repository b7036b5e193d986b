//! Whether a request is a WebSocket handshake, and whether a server's `101` carries a
//! usable socket: HAProxy 2.6's rules (`h1_postparse_req_hdrs`,
//! `h1_search_websocket_key`, `h1_parse_upgrade_header`; probed on 2.6.12), one
//! implementation for both hosts. The hosts read the header lines; the rule is here.

/// What a request's upgrade headers make of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Handshake {
    /// No WebSocket handshake: forwarded as it is (another `Upgrade` included).
    Plain,
    /// `Connection: upgrade` on a request with a body: HAProxy drops its `Upgrade`
    /// lines and routes it as a plain request (`Connection: upgrade` stays).
    PlainWithoutUpgrade,
    /// A WebSocket handshake: after the server's 101, a tunnel.
    WebSocket,
    /// A WebSocket handshake without a valid `Sec-WebSocket-Key`: 400.
    MissingKey,
}

/// The facts the rule needs, read from the request's header lines.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UpgradeHeaders {
    /// A `Connection` token is `upgrade`.
    pub connection_upgrade: bool,
    /// The LAST `Upgrade` line names `websocket` ([`names_websocket`]): each line
    /// decides anew.
    pub upgrade_websocket: bool,
    /// Some `Sec-WebSocket-Key` line is valid ([`key_valid`]).
    pub key: bool,
    /// The request has a body (`Content-Length` above 0, or chunked).
    pub body: bool,
}

/// Whether one `Upgrade` line names `websocket` (any token, any case).
pub fn names_websocket(value: &str) -> bool {
    value
        .split(',')
        .any(|t| t.trim().eq_ignore_ascii_case("websocket"))
}

/// Whether a `Sec-WebSocket-Key` value is one HAProxy takes: 16 bytes in base64,
/// so 24 characters.
pub fn key_valid(value: &[u8]) -> bool {
    value.len() == 24
}

/// HAProxy's reading of a request's upgrade headers.
pub fn handshake(h: UpgradeHeaders) -> Handshake {
    if !h.connection_upgrade {
        return Handshake::Plain;
    }
    if h.body {
        return Handshake::PlainWithoutUpgrade;
    }
    match (h.upgrade_websocket, h.key) {
        (false, _) => Handshake::Plain,
        (true, true) => Handshake::WebSocket,
        (true, false) => Handshake::MissingKey,
    }
}

/// Whether a `101` to a WebSocket handshake can carry a working socket. HAProxy
/// answers 502 to one without `Sec-WebSocket-Accept`; Wt Edge also to one that says
/// its content is encoded (Wt 4.14 gzips its 101 and frames when the upgrade
/// accepted gzip; see [`crate::unstable::encoding`]), which HAProxy passes through.
pub fn websocket_answer_usable(accept: bool, content_encoding: Option<&[u8]>) -> bool {
    accept
        && match content_encoding {
            None => true,
            Some(v) => v
                .split(|&b| b == b',')
                .map(<[u8]>::trim_ascii)
                .all(|t| t.is_empty() || t.eq_ignore_ascii_case(b"identity")),
        }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(connection_upgrade: bool, upgrade_websocket: bool, key: bool, body: bool) -> Handshake {
        handshake(UpgradeHeaders {
            connection_upgrade,
            upgrade_websocket,
            key,
            body,
        })
    }

    #[test]
    fn handshakes_as_haproxy_reads_them() {
        // Each row was probed on HAProxy 2.6.12 (tests/tests/e2e_responses.rs compares
        // the same requests over sockets).
        assert_eq!(h(true, true, true, false), Handshake::WebSocket);
        assert_eq!(h(true, true, false, false), Handshake::MissingKey);
        assert_eq!(h(true, true, false, true), Handshake::PlainWithoutUpgrade);
        assert_eq!(h(true, false, false, true), Handshake::PlainWithoutUpgrade);
        assert_eq!(h(true, false, false, false), Handshake::Plain);
        assert_eq!(h(false, true, false, false), Handshake::Plain);
        assert!(names_websocket("h2c, WebSocket") && !names_websocket("h2c"));
        assert!(key_valid(b"dGhlIHNhbXBsZSBub25jZQ==") && !key_valid(b"k"));
    }

    #[test]
    fn usable_101s() {
        assert!(websocket_answer_usable(true, None));
        assert!(websocket_answer_usable(true, Some(b"identity")));
        assert!(websocket_answer_usable(true, Some(b"")));
        assert!(!websocket_answer_usable(false, None));
        assert!(!websocket_answer_usable(true, Some(b"gzip")));
        assert!(!websocket_answer_usable(true, Some(b" GZIP ")));
        assert!(!websocket_answer_usable(true, Some(b"identity, br")));
    }
}
