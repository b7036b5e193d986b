//! What a Cloudflare Worker cannot do with a config that runs fine locally
//! (`wtedge check --target edge`, and the Worker's build). A Worker's `fetch`
//! goes out through Cloudflare's network by host name:
//!
//! - a bare IP address (`10.0.0.1`, `0.0.0.0`, `[::1]`) fails with error 1003;
//! - `localhost` and `*.localhost` only work under `wrangler dev`;
//! - a one-label name (`wt1`) is not a public DNS name;
//! - a server without a port gets the port the client used (443 or 80);
//! - `verify none` cannot turn off Cloudflare's certificate checks.
//!
//! The first three are errors (the Worker cannot reach the server once
//! deployed), the last two warnings. The Worker also has no regexes (its size
//! limit): `replace-header`, `replace-value`, `replace-path` and `replace-uri`
//! rules are errors, in `http-request` and `http-response` alike.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use super::model::{Config, Server, ServerHost};
use crate::diag::{Diagnostic, DiagnosticKind};
use crate::rules::{Action, LinePart};

/// Findings about a config's servers for the edge target.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EdgeReport {
    /// Servers a deployed Worker cannot reach, in file order.
    pub errors: Vec<Diagnostic>,
    /// Servers it reaches, maybe not as the author meant.
    pub warnings: Vec<Diagnostic>,
}

fn diag(cfg: &Config, s: &Server, message: String, hint: String) -> Diagnostic {
    Diagnostic {
        kind: DiagnosticKind::Unreachable,
        file: cfg.file.clone(),
        line: s.line,
        column: s.addr_col.max(1),
        keyword: String::from("server"),
        message,
        hint: Some(hint),
    }
}

fn is_local_name(name: &str) -> bool {
    let n = name.trim_end_matches('.').to_ascii_lowercase();
    n == "localhost" || n.ends_with(".localhost")
}

/// Checks every `server` line and every `http-request` rule.
pub fn check(cfg: &Config) -> EdgeReport {
    let mut report = EdgeReport::default();
    for p in &cfg.proxies {
        let requests = p.http_requests.iter().map(|r| ("http-request", r));
        let responses = p.http_responses.iter().map(|r| ("http-response", r));
        for (list, rule) in requests.chain(responses) {
            let action = match &rule.action {
                Action::ReplaceHeader(_) => "replace-header",
                Action::ReplaceValue(_) => "replace-value",
                Action::ReplaceLine {
                    part: LinePart::Path,
                    ..
                } => "replace-path",
                Action::ReplaceLine { .. } => "replace-uri",
                _ => continue,
            };
            let keyword = format!("{list} {action}");
            report.errors.push(Diagnostic {
                kind: DiagnosticKind::Unsupported,
                file: cfg.file.clone(),
                line: rule.line,
                column: 1,
                message: format!(
                    "'{keyword}' needs regexes, which the Worker does not have (its size limit)"
                ),
                keyword,
                hint: Some(String::from(
                    "rewrite with set-header, set-path or set-query, or in the application",
                )),
            });
        }
    }
    for id in cfg.server_ids() {
        let s = cfg.server(id);
        let path = cfg.server_path(id);
        let error = match &s.host {
            ServerHost::Ip(ip) if ip.is_unspecified() => Some(format!(
                "server {path}: 0.0.0.0 (the address the client connected to) has no meaning at the edge"
            )),
            ServerHost::Ip(ip) => Some(format!(
                "server {path}: a Worker cannot fetch a bare IP address ({ip})"
            )),
            ServerHost::Name(name) if is_local_name(name) => Some(format!(
                "server {path}: '{name}' is only reachable under `wrangler dev`, not from a deployed Worker"
            )),
            ServerHost::Name(name) if !name.contains('.') => Some(format!(
                "server {path}: '{name}' is not a public DNS name (one label)"
            )),
            ServerHost::Name(_) => None,
        };
        if let Some(message) = error {
            let hint = format!(
                "give the origin a public DNS name, e.g. 'server {} {}.example.com:{} check ssl'",
                s.name,
                s.name.to_ascii_lowercase(),
                s.port.unwrap_or(443)
            );
            report.errors.push(diag(cfg, s, message, hint));
        }
        if s.port.is_none() {
            report.warnings.push(diag(
                cfg,
                s,
                format!(
                    "server {path}: no port: at the edge the request goes to the port the client used (443 for https, 80 for http)"
                ),
                String::from("write the origin's port explicitly (`:443`)"),
            ));
        }
        if s.params.ssl && !s.params.verify {
            report.warnings.push(diag(
                cfg,
                s,
                format!(
                    "server {path}: `verify none` has no effect at the edge: a Worker always verifies the origin's certificate"
                ),
                String::from("give the origin a certificate a browser would accept"),
            ));
        }
    }
    // HAProxy's exporter reports one process's counters; a Worker runs in many
    // isolates and keeps none.
    for id in cfg.proxy_ids() {
        for rule in &cfg.proxy(id).http_requests {
            if matches!(rule.action, crate::rules::Action::UsePrometheus) {
                report.errors.push(Diagnostic {
                    kind: DiagnosticKind::Unsupported,
                    file: cfg.file.clone(),
                    line: rule.line,
                    column: 1,
                    keyword: String::from("http-request"),
                    message: String::from(
                        "'http-request use-service prometheus-exporter': a Worker keeps no process counters to export",
                    ),
                    hint: Some(String::from(
                        "remove the rule from the edge's config; Cloudflare's Workers analytics show the edge's traffic",
                    )),
                });
            }
        }
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse;

    fn report(text: &str) -> EdgeReport {
        check(
            &parse("t.cfg", text)
                .unwrap_or_else(|e| panic!("{e}"))
                .config,
        )
    }

    #[test]
    fn the_prometheus_exporter_is_refused_at_its_line() {
        let r = report(
            "defaults\n mode http\nfrontend f\n bind :80\n http-request use-service prometheus-exporter if { path /metrics }\n default_backend b\nbackend b\n server s1 wt1.example.com:443\n",
        );
        assert_eq!(r.errors.len(), 1, "{r:?}");
        assert_eq!(r.errors[0].line, 5);
        assert_eq!(r.errors[0].keyword, "http-request");
        assert!(r.errors[0].message.contains("prometheus-exporter"));
    }

    #[test]
    #[cfg(feature = "regex")]
    fn regex_rules_are_errors() {
        let r = report(
            "frontend f\n bind :80\n http-request set-path /x\n http-request replace-path /a(.*) /b\\1\n default_backend b\nbackend b\n server s w.example.com:443\n",
        );
        assert_eq!(r.errors.len(), 1, "{r:?}");
        assert_eq!(r.errors[0].line, 4);
        assert_eq!(r.errors[0].keyword, "http-request replace-path");
    }

    #[test]
    fn response_rules_run_at_the_edge_but_not_their_regexes() {
        let r = report(
            "frontend f\n bind :80\n default_backend b\nbackend b\n http-response set-header X-A 1\n http-response del-header X-C\n http-response replace-header X-B a(.*) b\\1\n server s w.example.com:443\n",
        );
        assert_eq!(r.errors.len(), 1, "{r:?}");
        assert_eq!(
            (r.errors[0].keyword.as_str(), r.errors[0].line),
            ("http-response replace-header", 7)
        );
    }

    #[test]
    fn dns_names_with_ports_are_fine() {
        let r = report(
            "backend b\n server s1 wt1.example.com:443 check ssl\n server s2 wt2.example.com:8443\n",
        );
        assert_eq!(r, EdgeReport::default());
    }

    #[test]
    fn bare_ips_local_and_one_label_names_are_errors_at_the_address() {
        let r = report(
            "backend b\n server a 0.0.0.0:9090 check\n  server   b [::1]:80\n server c localhost:1\n server d app.localhost:1\n server e wt1:80\n",
        );
        let at: Vec<(u32, u32)> = r.errors.iter().map(|d| (d.line, d.column)).collect();
        assert_eq!(at, [(2, 11), (3, 14), (4, 11), (5, 11), (6, 11)]);
        assert!(r.errors[0].message.contains("0.0.0.0"));
        assert!(r.errors[1].message.contains("bare IP"));
        assert!(r.errors[2].message.contains("wrangler dev"));
        assert!(r.errors[4].message.contains("one label"));
        assert!(
            r.errors[4]
                .hint
                .as_deref()
                .is_some_and(|h| h.contains("e.example.com:80"))
        );
    }

    #[test]
    fn missing_port_and_verify_none_are_warnings() {
        let r = report("backend b\n server s1 wt1.example.com ssl verify none\n");
        assert!(r.errors.is_empty());
        assert_eq!(r.warnings.len(), 2);
    }
}
