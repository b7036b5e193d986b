//! The stats page on a proxy's own port (`stats enable`, `stats uri`): router-core
//! says whether a request is for it and what to answer; this writes the bytes.

use router_core::cli::{self, Host};
use router_core::config::model::ProxyId;
use router_core::stats_page::{self, StatsAnswer};

use crate::proxy::Generation;
use crate::stats_socket::CliHost;

/// The status and the whole HTTP/1.1 answer for `answer`.
pub fn response(
    g: &Generation,
    frontend: ProxyId,
    answer: &StatsAnswer,
    close: bool,
) -> (u16, Vec<u8>) {
    let conn = if close { "connection: close\r\n" } else { "" };
    match answer {
        StatsAnswer::Unauthorized { realm } => {
            let body = stats_page::UNAUTHORIZED_BODY;
            let head = format!(
                "HTTP/1.1 401 Unauthorized\r\ncontent-length: {}\r\ncache-control: no-cache\r\ncontent-type: text/html\r\nwww-authenticate: Basic realm=\"{realm}\"\r\n{conn}\r\n",
                body.len()
            );
            (401, [head.as_bytes(), body.as_bytes()].concat())
        }
        StatsAnswer::Page { csv, filter } => {
            let cfg = g.config();
            let host = CliHost { g };
            let text = cli::show_stat(cfg, &host.snapshot(), &host, filter);
            let page = &cfg.proxy(frontend).settings.stats;
            let (body, kind) = if *csv {
                (text, "text/plain")
            } else {
                (
                    stats_page::html(&text, page.hide_version, page.refresh_ms),
                    "text/html",
                )
            };
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-length: {}\r\ncache-control: no-cache\r\ncontent-type: {kind}\r\n{conn}\r\n",
                body.len()
            );
            (200, [head.into_bytes(), body.into_bytes()].concat())
        }
    }
}
