//! What a Cloudflare Worker cannot do with a config that runs fine locally
//! (`wtedge check --target edge`): a Worker reaches origins by DNS name only
//! (fetching a bare IP fails with error 1003), and never listens on `bind`s.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use super::model::{Config, ServerHost};
use crate::diag::{Diagnostic, DiagnosticKind};

/// Errors for servers a Worker cannot reach, one per server line.
pub fn unreachable_servers(cfg: &Config) -> Vec<Diagnostic> {
    cfg.servers
        .iter()
        .filter_map(|s| {
            let ServerHost::Ip(ip) = &s.host else {
                return None;
            };
            let what = if ip.is_unspecified() {
                String::from(
                    "0.0.0.0 (the address the client connected to) has no meaning at the edge",
                )
            } else {
                format!("a Worker cannot fetch a bare IP address ({ip})")
            };
            Some(Diagnostic {
                kind: DiagnosticKind::Unreachable,
                file: cfg.file.clone(),
                line: s.line,
                column: 1,
                keyword: String::from("server"),
                message: format!("server '{}': {what}", s.name),
                hint: Some(format!(
                    "give the origin a DNS name, e.g. 'server {} {}.example.com:{} check ssl'",
                    s.name,
                    s.name.to_ascii_lowercase(),
                    s.port.unwrap_or(443)
                )),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse;

    #[test]
    fn bare_ips_are_reported_names_are_not() {
        let cfg = parse(
            "t.cfg",
            "backend b\n server a 0.0.0.0:9090 check\n server b 10.0.0.1:80\n server c wt1.example.com:443 ssl\n",
        )
        .unwrap_or_else(|e| panic!("{e}"))
        .config;
        let d = unreachable_servers(&cfg);
        assert_eq!(d.iter().map(|d| d.line).collect::<Vec<_>>(), [2, 3]);
        assert!(d[0].message.contains("0.0.0.0"));
        assert!(
            d[1].hint
                .as_deref()
                .is_some_and(|h| h.contains("b.example.com:80"))
        );
    }
}
