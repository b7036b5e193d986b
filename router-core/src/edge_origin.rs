//! Which origin answers the edge reads as a failed connection attempt.
//!
//! HAProxy retries, redispatches and counts a passive failure when the connection to
//! a server fails (layer 4: refused, reset, no answer within `timeout connect`). A
//! Worker's `fetch` to an origin Cloudflare cannot reach does not fail: Cloudflare
//! answers for the origin, with a status of its own (520-526, 530) or one of its
//! error pages (`Error 1016` under a 530, `Error 1003` under a 403...). Wt Edge's
//! reading: such an answer is the edge's L4 failure, handled as HAProxy handles a
//! failed connection (`retry::Attempts`, a passive report). An origin's
//! own error (a 500 or 503 from Wt) is an answer, passed to the client as HAProxy does.

use core::fmt;

/// Cloudflare's statuses for an origin it could not use: 520 (unknown error), 521
/// (web server down), 522 (connection timed out), 523 (origin unreachable), 524 (a
/// timeout occurred), 525 (TLS handshake failed), 526 (invalid certificate) and 530
/// (with a 1xxx error page: DNS, tunnel...).
pub fn is_failure_status(status: u16) -> bool {
    (520..=526).contains(&status) || status == 530
}

/// Cloudflare's 1xxx error codes that say the origin could not be reached at all:
/// 1000-1002 (DNS points to a prohibited or unresolvable address), 1003 (direct IP
/// access), 1004 (host not configured), 1014 (CNAME across accounts), 1016 (origin
/// DNS error), 1018 (host not found), 1033 (tunnel error). Others (1020 access denied,
/// 1015 rate limited...) are answers about the request, not the origin.
pub fn is_unreachable_code(code: u16) -> bool {
    matches!(code, 1000..=1004 | 1014 | 1016 | 1018 | 1033)
}

/// Largest answer the host reads to look for an error page's code.
pub const ERROR_PAGE_MAX: u64 = 64 * 1024;

/// Whether the host should read the answer's body for [`error_page_code`]: an error
/// status, `Server: cloudflare` and HTML. (A 52x/530 needs no body: its status says it.)
pub fn may_be_error_page(status: u16, server: Option<&str>, content_type: Option<&str>) -> bool {
    (400..600).contains(&status)
        && !is_failure_status(status)
        && server.is_some_and(|s| s.trim().eq_ignore_ascii_case("cloudflare"))
        && content_type.is_some_and(|t| {
            t.trim_start()
                .get(..9)
                .is_some_and(|p| p.eq_ignore_ascii_case("text/html"))
        })
}

/// The 1xxx code of a Cloudflare error page: `<span class="cf-error-code">1016</span>`
/// (the classic page) or `<span data-translate="error">Error</span> <span>1016</span>`
/// (the current one), in a page that names Cloudflare. `None` for any other body.
pub fn error_page_code(body: &str) -> Option<u16> {
    if !contains_ignore_case(body, "cloudflare") {
        return None;
    }
    const MARKERS: [&str; 2] = [
        "class=\"cf-error-code\">",
        "data-translate=\"error\">Error</span>",
    ];
    MARKERS.iter().find_map(|m| {
        let rest = &body[body.find(m)? + m.len()..];
        let rest = rest.trim_start();
        // The current page puts the code in the next `<span ...>`.
        let rest = match rest.strip_prefix("<span") {
            Some(r) => &r[r.find('>')? + 1..],
            None => rest,
        };
        let digits = rest.trim_start();
        let end = digits
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(digits.len());
        digits[..end]
            .parse::<u16>()
            .ok()
            .filter(|c| (1000..2000).contains(c))
    })
}

fn contains_ignore_case(hay: &str, needle: &str) -> bool {
    hay.as_bytes()
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

/// An origin answer the edge counts as a failed connection attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EdgeFailure {
    /// The status Cloudflare answered.
    pub status: u16,
    /// The 1xxx code of its error page, when it had one.
    pub code: Option<u16>,
}

impl fmt::Display for EdgeFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.code {
            Some(c) => write!(f, "Cloudflare answered {} (error {c})", self.status),
            None => write!(f, "Cloudflare answered {}", self.status),
        }
    }
}

/// How the edge reads an origin's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OriginAnswer {
    /// The origin answered: hand it to the client.
    Served,
    /// Cloudflare could not reach the origin: a failed connection attempt.
    Failed(EdgeFailure),
}

/// Reads an answer: its status and, when [`may_be_error_page`] said to look, the code
/// [`error_page_code`] found in its body.
pub fn read(status: u16, page_code: Option<u16>) -> OriginAnswer {
    let failed = is_failure_status(status) || page_code.is_some_and(is_unreachable_code);
    if failed {
        OriginAnswer::Failed(EdgeFailure {
            status,
            code: page_code,
        })
    } else {
        OriginAnswer::Served
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    const CLASSIC_1016: &str = "<!DOCTYPE html><html><head><title>example.com | 530: Origin DNS error</title></head>\
        <body><div id=\"cf-error-details\"><h1><span class=\"cf-error-type\" data-translate=\"error\">Error</span>\
        <span class=\"cf-error-code\">1016</span></h1><p>Performance &amp; security by Cloudflare</p></div></body></html>";
    const CURRENT_1003: &str = "<html><head><title>Direct IP access not allowed | Cloudflare</title></head><body>\
        <h1 class=\"inline-block\">\n  <span data-translate=\"error\">Error</span>\n  <span>1003</span>\n</h1></body></html>";
    const FIREWALL_1020: &str =
        "<title>Access denied | Cloudflare</title><span class=\"cf-error-code\">1020</span>";

    #[test]
    fn the_52x_statuses_and_530_are_failures_other_5xx_are_answers() {
        for s in [520, 521, 522, 523, 524, 525, 526, 530] {
            assert!(matches!(read(s, None), OriginAnswer::Failed(_)), "{s}");
        }
        for s in [200, 404, 500, 502, 503, 504, 527, 529, 531] {
            assert_eq!(read(s, None), OriginAnswer::Served, "{s}");
        }
    }

    #[test]
    fn error_pages_give_their_code_in_both_layouts() {
        assert_eq!(error_page_code(CLASSIC_1016), Some(1016));
        assert_eq!(error_page_code(CURRENT_1003), Some(1003));
        assert_eq!(error_page_code(FIREWALL_1020), Some(1020));
        // Not Cloudflare's, or no code.
        assert_eq!(
            error_page_code("<span class=\"cf-error-code\">1016</span>"),
            None
        );
        assert_eq!(error_page_code("Cloudflare: <h1>Forbidden</h1>"), None);
        assert_eq!(
            error_page_code("cloudflare <span class=\"cf-error-code\">522</span>"),
            None
        );
    }

    #[test]
    fn unreachable_codes_fail_other_codes_are_answers() {
        assert_eq!(
            read(403, error_page_code(CURRENT_1003)),
            OriginAnswer::Failed(EdgeFailure {
                status: 403,
                code: Some(1003)
            })
        );
        assert_eq!(
            read(530, Some(1016)).to_string_if_failed().as_deref(),
            Some("Cloudflare answered 530 (error 1016)")
        );
        assert_eq!(
            read(403, error_page_code(FIREWALL_1020)),
            OriginAnswer::Served
        );
    }

    #[test]
    fn only_cloudflare_html_error_answers_are_read() {
        assert!(may_be_error_page(
            403,
            Some("cloudflare"),
            Some("text/html; charset=UTF-8")
        ));
        assert!(!may_be_error_page(403, Some("nginx"), Some("text/html")));
        assert!(!may_be_error_page(
            403,
            Some("cloudflare"),
            Some("application/json")
        ));
        assert!(!may_be_error_page(
            200,
            Some("cloudflare"),
            Some("text/html")
        ));
        assert!(!may_be_error_page(
            522,
            Some("cloudflare"),
            Some("text/html")
        ));
        assert!(!may_be_error_page(403, None, Some("text/html")));
    }

    trait FailedText {
        fn to_string_if_failed(&self) -> Option<alloc::string::String>;
    }
    impl FailedText for OriginAnswer {
        fn to_string_if_failed(&self) -> Option<alloc::string::String> {
            match self {
                OriginAnswer::Failed(f) => Some(f.to_string()),
                OriginAnswer::Served => None,
            }
        }
    }
}
