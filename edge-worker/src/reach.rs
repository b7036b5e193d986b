//! Which server addresses a deployed Cloudflare Worker can reach, as the worker's
//! build script reports them. A Worker's `fetch` goes out through Cloudflare's
//! network by host name:
//!
//! - a bare IP address (`server srv1 10.0.0.1:9090`, `0.0.0.0`, `[::1]`) fails with
//!   Cloudflare error 1003;
//! - `localhost` and `*.localhost` only work under `wrangler dev` on your machine;
//! - a one-label name (`wt1`) is not a public DNS name: Cloudflare cannot resolve it;
//! - a server without a port gets the port the client used (443 or 80) at the edge;
//! - `verify none` cannot turn off Cloudflare's certificate checks.
//!
//! Any port works (`compatibility_date` >= 2024-09-02). `ssl` selects `https`.
//! The rules live in `router_core::unstable::config::edge` (the same ones
//! `wtedge check --target edge` applies); this module only sorts them by severity.

use router_core::{Config, Diagnostic};

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

/// router-core's edge check (`router_core::unstable::config::edge`, also behind
/// `wtedge check --target edge`): errors first, then warnings, in file order.
pub fn check(cfg: &Config) -> Vec<Finding> {
    let report = router_core::unstable::config::edge::check(cfg);
    let errors = report.errors.into_iter().map(|diagnostic| Finding {
        severity: Severity::Error,
        diagnostic,
    });
    let warnings = report.warnings.into_iter().map(|diagnostic| Finding {
        severity: Severity::Warning,
        diagnostic,
    });
    errors.chain(warnings).collect()
}

/// Whether any finding is an error.
pub fn has_errors(findings: &[Finding]) -> bool {
    findings.iter().any(|f| f.severity == Severity::Error)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn findings(text: &str) -> Vec<(Severity, u32, u32, String)> {
        let parsed = router_core::parse("t.cfg", text).unwrap_or_else(|e| panic!("{e}"));
        check(&parsed.config)
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
        assert!(has_errors(&check(&parsed.config)));
    }
}
