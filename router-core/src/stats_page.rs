//! HAProxy's stats page (`stats enable|uri|auth|realm` in a frontend or listen):
//! whether a request asks for it, whether its credentials pass, which form it
//! wants. The host writes the answer; the CSV is the runtime API's `show stat`.

use alloc::format;
use alloc::string::String;

use crate::cli::StatFilter;
use crate::config::model::{Config, ProxyId};
use crate::request::RequestFacts;

/// What to answer a request for the stats page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatsAnswer {
    /// 401 with HAProxy's `WWW-Authenticate: Basic realm="..."`.
    Unauthorized {
        /// `stats realm`, or HAProxy's default "HAProxy Statistics".
        realm: String,
    },
    /// The page: `;csv` asks for the CSV, `;up` and `;no-maint` filter servers.
    Page {
        /// `;csv` in the URI.
        csv: bool,
        /// The `show stat` filter the URI asks for.
        filter: StatFilter,
    },
}

/// HAProxy's 401 page for the stats URI.
pub const UNAUTHORIZED_BODY: &str = "<html><body><h1>401 Unauthorized</h1>\nYou need a valid user and password to access this content.\n</body></html>\n";

/// Whether `req`, received by `frontend`, is for its stats page (HAProxy's
/// `http_stats_check_uri()`: the URI from the path on starts with `stats uri`),
/// and what to answer.
pub fn check(cfg: &Config, frontend: ProxyId, req: &RequestFacts<'_>) -> Option<StatsAnswer> {
    let page = &cfg.proxy(frontend).settings.stats;
    if !page.enabled {
        return None;
    }
    let prefix = page.uri();
    let uri = if prefix.starts_with('/') {
        crate::acl::fetch::uri_of(req.target)?
    } else {
        req.target
    };
    let rest = uri.strip_prefix(prefix)?;
    if !page.auth.is_empty() {
        let given = req
            .headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("authorization"))
            .and_then(|(_, v)| v.strip_prefix("Basic "))
            .map(str::trim);
        let ok = given.is_some_and(|g| page.auth.iter().any(|a| base64(a.as_bytes()) == g));
        if !ok {
            return Some(StatsAnswer::Unauthorized {
                realm: page
                    .realm
                    .clone()
                    .unwrap_or_else(|| String::from("HAProxy Statistics")),
            });
        }
    }
    Some(StatsAnswer::Page {
        csv: rest.contains(";csv"),
        filter: StatFilter {
            iid: None,
            types: -1,
            sid: None,
            up: rest.contains(";up"),
            no_maint: rest.contains(";no-maint"),
            legends: page.show_legends,
        },
    })
}

/// Standard base64 with padding (what browsers send in `Authorization: Basic`).
fn base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for c in bytes.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for (i, shift) in [18u32, 12, 6, 0].into_iter().enumerate() {
            if i <= c.len() {
                out.push(char::from(A[((n >> shift) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A plain HTML page of the CSV (HAProxy's page has more: colours, legends,
/// admin forms; this one is a table of the same rows).
pub fn html(csv: &str, hide_version: bool, refresh_ms: Option<u64>) -> String {
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    };
    let mut out = String::from("<html><head><title>Statistics Report</title>");
    if let Some(ms) = refresh_ms {
        out.push_str(&format!(
            "<meta http-equiv=\"refresh\" content=\"{}\">",
            ms / 1000
        ));
    }
    out.push_str("</head><body><h1>Statistics Report");
    if !hide_version {
        out.push_str(" (wtedge)");
    }
    out.push_str("</h1><table border=\"1\">\n");
    const SHOWN: [&str; 9] = [
        "pxname", "svname", "status", "weight", "act", "bck", "scur", "stot", "qcur",
    ];
    let mut lines = csv.lines();
    let header: alloc::vec::Vec<&str> = lines
        .next()
        .unwrap_or("")
        .trim_start_matches("# ")
        .split(',')
        .collect();
    out.push_str("<tr>");
    for h in SHOWN {
        out.push_str(&format!("<th>{h}</th>"));
    }
    out.push_str("</tr>\n");
    for l in lines.filter(|l| !l.is_empty()) {
        let f: alloc::vec::Vec<&str> = l.split(',').collect();
        out.push_str("<tr>");
        for h in SHOWN {
            let v = header
                .iter()
                .position(|x| *x == h)
                .and_then(|i| f.get(i))
                .copied()
                .unwrap_or("");
            out.push_str(&format!("<td>{}</td>", esc(v)));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table></body></html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_as_browsers_send_it() {
        assert_eq!(base64(b"admin:secret"), "YWRtaW46c2VjcmV0");
        assert_eq!(base64(b"a:b"), "YTpi");
        assert_eq!(base64(b"ab:c1"), "YWI6YzE=");
    }
}
