//! The answers HAProxy 2.6 makes itself, byte for byte where it matters: its error
//! pages (status line reason, body) and its redirects' reason phrases. Both hosts
//! write these and no others.

/// An error page: the reason phrase of its status line and its HTML body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorPage {
    /// The status.
    pub status: u16,
    /// The reason phrase, as HAProxy 2.6 writes it (`Gateway Time-out`, `Bad request`).
    pub reason: &'static str,
    /// The body (`text/html`).
    pub body: &'static str,
}

/// HAProxy 2.6's page for `status`; any status it has no page for gets the 500 page
/// (HAProxy's `HTTP_ERR_500`), under its own status.
pub fn error_page(status: u16) -> ErrorPage {
    let (reason, body) = match status {
        400 => (
            "Bad request",
            "<html><body><h1>400 Bad request</h1>\nYour browser sent an invalid request.\n</body></html>\n",
        ),
        403 => (
            "Forbidden",
            "<html><body><h1>403 Forbidden</h1>\nRequest forbidden by administrative rules.\n</body></html>\n",
        ),
        408 => (
            "Request Time-out",
            "<html><body><h1>408 Request Time-out</h1>\nYour browser didn't send a complete request in time.\n</body></html>\n",
        ),
        413 => (
            "Payload Too Large",
            "<html><body><h1>413 Payload Too Large</h1>\nThe request entity exceeds the maximum allowed.\n</body></html>\n",
        ),
        502 => (
            "Bad Gateway",
            "<html><body><h1>502 Bad Gateway</h1>\nThe server returned an invalid or incomplete response.\n</body></html>\n",
        ),
        503 => (
            "Service Unavailable",
            "<html><body><h1>503 Service Unavailable</h1>\nNo server is available to handle this request.\n</body></html>\n",
        ),
        504 => (
            "Gateway Time-out",
            "<html><body><h1>504 Gateway Time-out</h1>\nThe server didn't respond in time.\n</body></html>\n",
        ),
        _ => (
            "Internal Server Error",
            "<html><body><h1>500 Internal Server Error</h1>\nAn internal server error occurred.\n</body></html>\n",
        ),
    };
    ErrorPage {
        status,
        reason,
        body,
    }
}

/// The reason phrase of a redirect HAProxy 2.6 makes (`redirect ... code N`).
pub fn redirect_reason(code: u16) -> &'static str {
    match code {
        301 => "Moved Permanently",
        303 => "See Other",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        _ => "Found",
    }
}

/// Whether HAProxy 2.6 adds `cache-control: no-cache` to a redirect with `code`.
pub fn redirect_no_cache(code: u16) -> bool {
    matches!(code, 302 | 303 | 307)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_carry_haproxys_reason_phrases() {
        assert_eq!(error_page(504).reason, "Gateway Time-out");
        assert_eq!(error_page(400).reason, "Bad request");
        assert!(error_page(503).body.contains("No server is available"));
        let other = error_page(599);
        assert_eq!((other.status, other.reason), (599, "Internal Server Error"));
        assert_eq!(redirect_reason(308), "Permanent Redirect");
        assert!(redirect_no_cache(302) && !redirect_no_cache(301));
    }
}
