//! `bind ADDR[,ADDR...] [options]`.

use alloc::format;
use alloc::vec::Vec;

use super::args::word_arg;
use super::{Parser, Res};
use crate::config::addr::{parse_port, split_host_port};
use crate::config::lexer::Word;
use crate::config::model::*;
use crate::diag::DiagnosticKind as K;
use crate::problem::Problem;

impl Parser<'_> {
    pub(super) fn bind(&mut self, words: &[Word]) -> Res {
        let i = self.current()?;
        let w = word_arg(words, 1)?;
        let (binds, _) = parse_bind_list(&w.text, w.col, self.line)?;
        let mut k = 2;
        while let Some(opt) = words.get(k) {
            match opt.text.as_str() {
                "name" | "id" => {
                    word_arg(words, k + 1)?;
                    k += 2;
                    continue;
                }
                "v4v6" | "v6only" => {}
                "ssl" | "crt" | "ca-file" | "alpn" | "npn" | "verify" | "crt-list" => {
                    return Err(Problem::new(K::Unsupported, opt.col, format!("bind option '{}' (TLS) is not supported by wtedge", opt.text))
                        .hint("terminate TLS in front of wtedge, or deploy to the edge where Cloudflare terminates it"));
                }
                other => {
                    return Err(Problem::new(
                        K::Unsupported,
                        opt.col,
                        format!("bind option '{other}' is not supported by Wt Edge"),
                    )
                    .hint("supported bind options: name, id, v4v6, v6only"));
                }
            }
            k += 1;
        }
        self.proxies[i].binds.extend(binds);
        Ok(())
    }
}

/// Parses `a:1,b:2` bind lists.
pub(super) fn parse_bind_list(text: &str, col: u32, line: u32) -> Result<(Vec<Bind>, ()), Problem> {
    let mut out = Vec::new();
    for part in text.split(',') {
        let (host, port) = split_host_port(part);
        let Some(port) = port else {
            return Err(Problem::new(
                K::InvalidValue,
                col,
                format!("bind address '{part}' has no port"),
            )
            .hint("write e.g. 'bind :80' or 'bind 127.0.0.1:8080'"));
        };
        if port.contains('-') {
            return Err(Problem::new(
                K::Unsupported,
                col,
                format!("port ranges ('{port}') are not supported by Wt Edge"),
            )
            .hint("write one port per address"));
        }
        let port = parse_port(port).ok_or_else(|| {
            Problem::new(K::InvalidValue, col, format!("invalid port '{port}'"))
                .hint("ports are 1-65535")
        })?;
        let host = match host {
            "" | "*" => None,
            h => Some(h.parse().map_err(|_| {
                Problem::new(K::InvalidValue, col, format!("invalid bind address '{h}'"))
                    .hint("bind takes an IP address (or '*'), not a name")
            })?),
        };
        out.push(Bind { host, port, line });
    }
    Ok((out, ()))
}
