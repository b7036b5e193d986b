//! The stats page on a proxy's own port (`stats enable`, `stats uri`): router-core
//! says whether a request is for it and what to answer; this writes the bytes.

use router_core::model::ProxyId;
use router_core::unstable::cli::{self, Host};
use router_core::unstable::stats_page::{self, StatsAnswer};

use crate::state::Generation;
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
        StatsAnswer::Post { .. } => {
            // The host runs the action first (see `post`); this is the redirect.
            (303, Vec::new())
        }
        StatsAnswer::Page {
            csv,
            filter,
            admin,
            notice,
        } => {
            let cfg = g.config();
            let host = CliHost { g };
            let text = cli::show_stat(cfg, &host.snapshot(), &host, filter);
            let page = &cfg.proxy(frontend).settings.stats;
            let (body, kind) = if *csv {
                (text, "text/plain")
            } else {
                let info = host.info();
                let html = stats_page::html(
                    cfg,
                    &text,
                    &stats_page::HtmlPage {
                        uri: page.uri(),
                        hide_version: page.hide_version,
                        refresh_ms: page.refresh_ms,
                        admin: *admin,
                        notice: notice.as_deref(),
                        info: &info,
                    },
                );
                (html, "text/html")
            };
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-length: {}\r\ncache-control: no-cache\r\ncontent-type: {kind}\r\n{conn}\r\n",
                body.len()
            );
            (200, [head.into_bytes(), body.into_bytes()].concat())
        }
    }
}

/// Runs an admin form posted to the page (`stats admin` allowed: HAProxy's
/// result code, else `DENY`) and answers 303 to the page with `;st=CODE`.
pub fn post(
    g: &Generation,
    frontend: ProxyId,
    admin: bool,
    up: bool,
    body: Option<&[u8]>,
    close: bool,
) -> (u16, Vec<u8>) {
    let cfg = g.config();
    let code = match body {
        _ if !admin => "DENY",
        None => "EXCD",
        Some(b) => match std::str::from_utf8(b) {
            Ok(text) => stats_page::post(cfg, &mut CliHost { g }, text),
            Err(_) => "ERRP",
        },
    };
    let location = StatsAnswer::location(cfg, frontend, code, up);
    let conn = if close { "connection: close\r\n" } else { "" };
    let head = format!(
        "HTTP/1.1 303 See Other\r\ncache-control: no-cache\r\ncontent-type: text/plain\r\ncontent-length: 0\r\nlocation: {location}\r\n{conn}\r\n"
    );
    (303, head.into_bytes())
}
