//! HAProxy 2.6's own error answers (bytes as it sends them), with router-core's pages.

use router_core::unstable::answer::error_page;

/// An answer to a request HAProxy could not read (400, 408): capitalized header
/// names and `Connection: close`, as HAProxy 2.6 sends these before any
/// forwarding.
pub fn early(status: u16) -> Vec<u8> {
    let page = error_page(status);
    format!(
        "HTTP/1.1 {status} {}\r\nContent-length: {}\r\nCache-Control: no-cache\r\nConnection: close\r\nContent-Type: text/html\r\n\r\n{}",
        page.reason,
        page.body.len(),
        page.body
    )
    .into_bytes()
}

/// HAProxy 2.6's 413 to a request whose method forbids a body (HTTP/1.0 GET,
/// HEAD, DELETE with one): as [`early`] but without `Connection: close`.
pub fn too_large() -> Vec<u8> {
    let page = error_page(413);
    format!(
        "HTTP/1.1 413 {}\r\nContent-length: {}\r\nCache-Control: no-cache\r\nContent-Type: text/html\r\n\r\n{}",
        page.reason,
        page.body.len(),
        page.body
    )
    .into_bytes()
}

/// The whole answer for a forwarding error (502/503/504...). `close` adds
/// `connection: close` (HTTP/1.0 clients and closing connections).
pub fn forwarding(status: u16, close: bool) -> Vec<u8> {
    let page = error_page(status);
    let mut out = format!(
        "HTTP/1.1 {status} {}\r\ncontent-length: {}\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n",
        page.reason,
        page.body.len()
    );
    if close {
        out.push_str("connection: close\r\n");
    }
    out.push_str("\r\n");
    out.push_str(page.body);
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_413_is_haproxys() {
        // HAProxy 2.6.12's bytes for an HTTP/1.0 GET with a body (captured).
        assert_eq!(
            too_large(),
            b"HTTP/1.1 413 Payload Too Large\r\nContent-length: 106\r\nCache-Control: no-cache\r\nContent-Type: text/html\r\n\r\n<html><body><h1>413 Payload Too Large</h1>\nThe request entity exceeds the maximum allowed.\n</body></html>\n"
        );
    }

    #[test]
    fn forwarding_errors_match_haproxy_bytes() {
        let e = String::from_utf8(forwarding(503, false)).unwrap();
        assert_eq!(
            e,
            "HTTP/1.1 503 Service Unavailable\r\ncontent-length: 107\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>503 Service Unavailable</h1>\nNo server is available to handle this request.\n</body></html>\n"
        );
        assert_eq!(forwarding(502, false).len(), 206);
        assert_eq!(forwarding(504, false).len(), 195);
    }
}
