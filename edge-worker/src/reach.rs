//! Which server addresses a deployed Cloudflare Worker can reach, as the worker's
//! build script reports them. A Worker's `fetch` goes out through Cloudflare's
//! network by host name:
//!
//! - a bare IP address (`server srv1 10.0.0.1:9090`, `0.0.0.0`, `[::1]`) fails with
//!   Cloudflare error 1003: router-core's rule, `router_core::config::edge`, the one
//!   `wtedge check --target edge` applies;
//! - `localhost` and `*.localhost` only work under `wrangler dev` on your machine;
//! - a one-label name (`wt1`) is not a public DNS name: Cloudflare cannot resolve it;
//! - a server without a port gets the port the client used (443 or 80) at the edge;
//! - `verify none` cannot turn off Cloudflare's certificate checks.
//!
//! Any port works (`compatibility_date` >= 2024-09-02). `ssl` selects `https`.
//! This module only reads the model that `router_core::parse` built; it has no
//! routing rule of its own.

use router_core::config::model::ServerHost;
use router_core::{Config, Diagnostic, DiagnosticKind};

/// How serious a finding is for a deployed Worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// The Worker cannot reach this server once deployed.
    Error,
    /// It works, but maybe not as the author meant.
    Warning,
}

/// One finding about a server line, placed like router-core's diagnostics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Error (unreachable) or warning.
    pub severity: Severity,
    /// File, line, column, keyword `server`, message and hint.
    pub diagnostic: Diagnostic,
}

/// Checks every `server` line of `cfg` (parsed from `text`, which gives the columns)
/// for addresses a deployed Worker cannot reach. Errors first, in file order.
pub fn check(cfg: &Config, text: &str) -> Vec<Finding> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for id in cfg.server_ids() {
        let s = cfg.server(id);
        let line_text = lines
            .get((s.line as usize).saturating_sub(1))
            .copied()
            .unwrap_or("");
        let column = address_column(line_text);
        let mut push = |severity, message: String, hint: &str| {
            out.push(Finding {
                severity,
                diagnostic: Diagnostic {
                    kind: DiagnosticKind::Unreachable,
                    file: cfg.file.clone(),
                    line: s.line,
                    column,
                    keyword: "server".to_string(),
                    message,
                    hint: Some(hint.to_string()),
                },
            })
        };
        let path = cfg.server_path(id);
        match &s.host {
            ServerHost::Ip(_) => {}
            ServerHost::Name(name) if is_local_name(name) => push(
                Severity::Error,
                format!(
                    "server {path}: '{name}' is only reachable under `wrangler dev`, not \
                     from a deployed Worker"
                ),
                "use the origin's public DNS name",
            ),
            ServerHost::Name(name) if !name.contains('.') => push(
                Severity::Error,
                format!("server {path}: '{name}' is not a public DNS name (one label)"),
                "use a fully qualified name such as wt1.example.com",
            ),
            ServerHost::Name(_) => {}
        }
        if s.port.is_none() {
            push(
                Severity::Warning,
                format!(
                    "server {path}: no port: at the edge the request goes to the port \
                     the client used (443 for https, 80 for http)"
                ),
                "write the origin's port explicitly (`:443`)",
            );
        }
        if s.params.ssl && !s.params.verify {
            push(
                Severity::Warning,
                format!(
                    "server {path}: `verify none` has no effect at the edge: a Worker \
                     always verifies the origin's certificate"
                ),
                "give the origin a certificate a browser would accept",
            );
        }
    }
    // Bare IPs: router-core's rule, placed on the address.
    for mut d in router_core::config::edge::unreachable_servers(cfg) {
        let line_text = lines
            .get((d.line as usize).saturating_sub(1))
            .copied()
            .unwrap_or("");
        d.column = address_column(line_text);
        out.push(Finding {
            severity: Severity::Error,
            diagnostic: d,
        });
    }
    out.sort_by_key(|f| (f.severity == Severity::Warning, f.diagnostic.line));
    out
}

/// Whether any finding is an error.
pub fn has_errors(findings: &[Finding]) -> bool {
    findings.iter().any(|f| f.severity == Severity::Error)
}

fn is_local_name(name: &str) -> bool {
    let n = name.trim_end_matches('.').to_ascii_lowercase();
    n == "localhost" || n.ends_with(".localhost")
}

/// 1-based column of the third word (`server NAME ADDR`), or 1.
fn address_column(line: &str) -> u32 {
    let mut words = 0;
    let mut in_word = false;
    for (i, c) in line.char_indices() {
        if c.is_whitespace() {
            in_word = false;
        } else if !in_word {
            in_word = true;
            words += 1;
            if words == 3 {
                return u32::try_from(line[..i].chars().count() + 1).unwrap_or(1);
            }
        }
    }
    1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn findings(text: &str) -> Vec<(Severity, u32, u32, String)> {
        let parsed = router_core::parse("t.cfg", text).unwrap_or_else(|e| panic!("{e}"));
        check(&parsed.config, text)
            .into_iter()
            .map(|f| {
                (
                    f.severity,
                    f.diagnostic.line,
                    f.diagnostic.column,
                    f.diagnostic.message,
                )
            })
            .collect()
    }

    #[test]
    fn dns_names_with_ports_are_fine() {
        let cfg = "backend b\n server s1 wt1.example.com:443 check ssl\n server s2 wt2.example.com:8443\n";
        assert!(findings(cfg).is_empty());
    }

    #[test]
    fn bare_ips_are_errors_with_their_column() {
        let cfg = "backend b\n server s1 10.0.0.1:9090 check\n  server   s2 [::1]:80\n server s3 0.0.0.0:80\n";
        let f = findings(cfg);
        assert_eq!(f.len(), 3);
        assert!(f.iter().all(|x| x.0 == Severity::Error));
        assert_eq!((f[0].1, f[0].2), (2, 12));
        assert_eq!((f[1].1, f[1].2), (3, 15));
        assert!(f[0].3.contains("bare IP"), "{}", f[0].3);
    }

    #[test]
    fn localhost_and_one_label_names_are_errors() {
        let cfg = "backend b\n server s1 localhost:28081\n server s2 app.localhost:1\n server s3 wt1:80\n";
        let f = findings(cfg);
        assert_eq!(f.len(), 3);
        assert!(f[0].3.contains("wrangler dev"));
        assert!(f[2].3.contains("one label"));
    }

    #[test]
    fn missing_port_and_verify_none_are_warnings_after_errors() {
        let cfg = "backend b\n server s1 wt1.example.com ssl verify none\n server s2 10.1.1.1:80\n";
        let f = findings(cfg);
        assert_eq!(
            f.iter().map(|x| (x.0, x.1)).collect::<Vec<_>>(),
            [
                (Severity::Error, 3),
                (Severity::Warning, 2),
                (Severity::Warning, 2)
            ]
        );
        let parsed = router_core::parse("t.cfg", cfg).unwrap_or_else(|e| panic!("{e}"));
        assert!(has_errors(&check(&parsed.config, cfg)));
    }
}
