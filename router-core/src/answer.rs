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
        200 => (
            "OK",
            "<html><body><h1>200 OK</h1>\nService ready.\n</body></html>\n",
        ),
        401 => (
            "Unauthorized",
            "<html><body><h1>401 Unauthorized</h1>\nYou need a valid user and password to access this content.\n</body></html>\n",
        ),
        404 => (
            "Not Found",
            "<html><body><h1>404 Not Found</h1>\nThe resource could not be found.\n</body></html>\n",
        ),
        405 => (
            "Method Not Allowed",
            "<html><body><h1>405 Method Not Allowed</h1>\nA request was made of a resource using a request method not supported by that resource\n</body></html>\n",
        ),
        407 => (
            "Unauthorized",
            "<html><body><h1>407 Unauthorized</h1>\nYou need a valid user and password to access this content.\n</body></html>\n",
        ),
        410 => (
            "Gone",
            "<html><body><h1>410 Gone</h1>\nThe resource is no longer available and will not be available again.\n</body></html>\n",
        ),
        413 => (
            "Payload Too Large",
            "<html><body><h1>413 Payload Too Large</h1>\nThe request entity exceeds the maximum allowed.\n</body></html>\n",
        ),
        425 => (
            "Too Early",
            "<html><body><h1>425 Too Early</h1>\nYour browser sent early data.\n</body></html>\n",
        ),
        429 => (
            "Too Many Requests",
            "<html><body><h1>429 Too Many Requests</h1>\nYou have sent too many requests in a given amount of time.\n</body></html>\n",
        ),
        501 => (
            "Not Implemented",
            "<html><body><h1>501 Not Implemented</h1>\n.The server does not support the functionality required to fulfill the request.\n</body></html>\n",
        ),
        408 => (
            "Request Time-out",
            "<html><body><h1>408 Request Time-out</h1>\nYour browser didn't send a complete request in time.\n</body></html>\n",
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

/// The config's `errorfile` answer for `status`, on the wire as HAProxy 2.6 writes
/// it: the backend's page wins, else the frontend's (HAProxy looks in the stream's
/// backend, then its frontend; before a backend is chosen both are the frontend).
/// `None`: HAProxy's own [`error_page`]. An empty `wire`: an empty file, where
/// HAProxy closes without writing a byte.
pub fn config_page(
    cfg: &crate::Config,
    frontend: crate::ProxyId,
    backend: Option<crate::ProxyId>,
    status: u16,
) -> Option<&crate::config::errorfile::ErrorFile> {
    let page = |id: crate::ProxyId| {
        cfg.proxies
            .get(usize::from(id.0))
            .and_then(|p| p.settings.errorfiles.iter().find(|e| e.status == status))
    };
    backend.and_then(page).or_else(|| page(frontend))
}

/// Whether HAProxy 2.6 has an error page for `status` (`deny_status` and
/// `http-error` take only these).
pub fn has_error_page(status: u16) -> bool {
    matches!(
        status,
        200 | 400
            | 401
            | 403
            | 404
            | 405
            | 407
            | 408
            | 410
            | 413
            | 425
            | 429
            | 500
            | 501
            | 502
            | 503
            | 504
    )
}

/// The reason phrase HAProxy 2.6 writes for a status it answers with
/// `http-request return` (`http_get_reason()`).
pub fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        101 => "Switching Protocols",
        102 => "Processing",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        203 => "Non-Authoritative Information",
        204 => "No Content",
        205 => "Reset Content",
        206 => "Partial Content",
        207 => "Multi-Status",
        210 => "Content Different",
        226 => "IM Used",
        300 => "Multiple Choices",
        301 => "Moved Permanently",
        302 => "Moved Temporarily",
        303 => "See Other",
        304 => "Not Modified",
        305 => "Use Proxy",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        310 => "Too many Redirects",
        400 => "Bad Request",
        401 => "Unauthorized",
        402 => "Payment Required",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        407 => "Proxy Authentication Required",
        408 => "Request Time-out",
        409 => "Conflict",
        410 => "Gone",
        411 => "Length Required",
        412 => "Precondition Failed",
        413 => "Request Entity Too Large",
        414 => "Request-URI Too Long",
        415 => "Unsupported Media Type",
        416 => "Requested range unsatisfiable",
        417 => "Expectation failed",
        418 => "I'm a teapot",
        421 => "Misdirected Request",
        422 => "Unprocessable entity",
        423 => "Locked",
        424 => "Method failure",
        425 => "Too Early",
        426 => "Upgrade Required",
        428 => "Precondition Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        449 => "Retry With",
        450 => "Blocked by Windows Parental Controls",
        451 => "Unavailable For Legal Reasons",
        456 => "Unrecoverable Error",
        499 => "client has closed connection",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway or Proxy Error",
        503 => "Service Unavailable",
        504 => "Gateway Time-out",
        505 => "HTTP Version not supported",
        506 => "Variant also negociate",
        507 => "Insufficient storage",
        508 => "Loop detected",
        509 => "Bandwidth Limit Exceeded",
        510 => "Not extended",
        511 => "Network authentication required",
        520 => "Web server is returning an unknown error",
        _ => match status / 100 {
            1 => "Informational",
            2 => "Success",
            3 => "Redirection",
            4 => "Client Error",
            5 => "Server Error",
            _ => "Other",
        },
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
