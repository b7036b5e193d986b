//! The global TLS defaults of Debian's stock haproxy.cfg and of most configs derived
//! from it: `ca-base`, `crt-base`, `ssl-default-bind-ciphers`,
//! `ssl-default-bind-ciphersuites`, `ssl-default-bind-options`. Read and checked as
//! HAProxy 2.6 reads them (`cfgparse-ssl.c`); they apply to `bind ... ssl` lines,
//! which Wt Edge refuses (no TLS termination), so the config loads with a warning
//! that they have no effect. `ssl-default-server-*` would change the TLS of `server
//! ... ssl` connections, which Wt Edge makes with its own defaults: refused.

use alloc::format;
use alloc::string::{String, ToString};

use super::{Parser, Res};
use crate::config::lexer::Word;
use crate::diag::DiagnosticKind as K;
use crate::problem::Problem;

/// HAProxy 2.6's TLS version names (`methodVersions`).
const VERSIONS: &[&str] = &["SSLv3", "TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3"];

impl Parser<'_> {
    /// `Some` when `words` is a global TLS default (handled), `None` otherwise.
    pub(super) fn tls_default(&mut self, words: &[Word]) -> Option<Res> {
        let kw = words[0].text.as_str();
        let res = match kw {
            "ca-base" | "crt-base" => self.tls_base(words),
            "ssl-default-bind-ciphers" | "ssl-default-bind-ciphersuites" => {
                one_value(words, "a cipher suite").map(|v| {
                    if kw.ends_with("suites") {
                        self.global.tls.bind_ciphersuites = Some(v);
                    } else {
                        self.global.tls.bind_ciphers = Some(v);
                    }
                })
            }
            "ssl-default-bind-options" => bind_options(words).map(|opts| {
                self.global.tls.bind_options = opts;
            }),
            "ssl-default-server-ciphers"
            | "ssl-default-server-ciphersuites"
            | "ssl-default-server-options" => Err(Problem::new(
                K::Unsupported,
                words[0].col,
                format!(
                    "global keyword '{kw}' is not supported by Wt Edge: it makes `server ... ssl` connections with its own TLS defaults (TLS 1.2 and 1.3, the TLS library's cipher suites)"
                ),
            )
            .hint("remove it")),
            _ => return None,
        };
        if res.is_ok() && !self.tls_warned {
            self.tls_warned = true;
            self.warn(
                Problem::new(
                    K::Unsupported,
                    words[0].col,
                    format!(
                        "'{kw}' has no effect: the TLS defaults apply to `bind ... ssl` lines, and Wt Edge does not terminate TLS"
                    ),
                )
                .hint("terminate TLS in front of Wt Edge (the edge Worker: Cloudflare does), or remove the TLS defaults"),
            );
        }
        Some(res)
    }

    /// `ca-base DIR` / `crt-base DIR`: once, one directory.
    fn tls_base(&mut self, words: &[Word]) -> Res {
        let kw = words[0].text.as_str();
        let dir = one_value(words, "a directory path")?;
        let slot = if kw == "ca-base" {
            &mut self.global.tls.ca_base
        } else {
            &mut self.global.tls.crt_base
        };
        if slot.is_some() {
            return Err(Problem::new(
                K::Duplicate,
                words[0].col,
                format!("'{kw}' already specified"),
            )
            .hint("keep one line"));
        }
        *slot = Some(dir);
        Ok(())
    }
}

/// The one value of `kw VALUE` (HAProxy: an empty one is missing, a second word is
/// refused).
fn one_value(words: &[Word], what: &str) -> Result<String, Problem> {
    let kw = words[0].text.as_str();
    let Some(v) = words.get(1).filter(|w| !w.text.is_empty()) else {
        return Err(Problem::new(
            K::MissingArgument,
            words[0].col,
            format!("global statement '{kw}' expects {what} as an argument"),
        )
        .hint(format!("write '{kw}' and {what}")));
    };
    if let Some(extra) = words.get(2) {
        return Err(Problem::new(
            K::Syntax,
            extra.col,
            format!("'{kw}' cannot handle unexpected argument '{}'", extra.text),
        )
        .hint("one value only: cipher lists are separated by ':'"));
    }
    Ok(v.text.clone())
}

/// `ssl-default-bind-options`: `no-tls-tickets`, `prefer-client-ciphers`,
/// `ssl-min-ver V`, `ssl-max-ver V`, `no-sslv3`..`no-tlsv13`, `force-...`.
fn bind_options(words: &[Word]) -> Result<alloc::vec::Vec<String>, Problem> {
    let kw = words[0].text.as_str();
    if words.len() < 2 {
        return Err(Problem::new(
            K::MissingArgument,
            words[0].col,
            format!("global statement '{kw}' expects an option as an argument"),
        )
        .hint(format!("e.g. '{kw} ssl-min-ver TLSv1.2 no-tls-tickets'")));
    }
    let mut out = alloc::vec::Vec::new();
    let mut i = 1;
    while let Some(w) = words.get(i) {
        let o = w.text.as_str();
        match o {
            "no-tls-tickets" | "prefer-client-ciphers" => {}
            "ssl-min-ver" | "ssl-max-ver" => {
                let v = words.get(i + 1).map(|v| v.text.as_str()).unwrap_or("");
                if v.is_empty() {
                    return Err(Problem::new(
                        K::MissingArgument,
                        w.col,
                        format!("'{o}' : missing the ssl/tls version on global statement '{kw}'"),
                    )
                    .hint(format!("write '{o} TLSv1.2'")));
                }
                if !VERSIONS.contains(&v) {
                    return Err(Problem::new(
                        K::InvalidValue,
                        words[i + 1].col,
                        format!("'{v}' : unknown ssl/tls version on global statement '{kw}'"),
                    )
                    .hint("one of SSLv3, TLSv1.0, TLSv1.1, TLSv1.2, TLSv1.3"));
                }
                out.push(format!("{o} {v}"));
                i += 2;
                continue;
            }
            _ if is_method_option(o) => {}
            _ => {
                return Err(Problem::new(
                    K::InvalidValue,
                    w.col,
                    format!("unknown option '{o}' on global statement '{kw}'"),
                )
                .hint("HAProxy 2.6 knows no-tls-tickets, prefer-client-ciphers, ssl-min-ver V, ssl-max-ver V, no-sslv3..no-tlsv13, force-sslv3..force-tlsv13"));
            }
        }
        out.push(o.to_string());
        i += 1;
    }
    Ok(out)
}

/// `no-sslv3`, `force-tlsv12`...: HAProxy's `parse_tls_method_options`.
fn is_method_option(o: &str) -> bool {
    let method = o.strip_prefix("no-").or_else(|| o.strip_prefix("force-"));
    matches!(
        method,
        Some("sslv3" | "tlsv10" | "tlsv11" | "tlsv12" | "tlsv13")
    )
}

#[cfg(test)]
mod tests {
    use crate::config::parse;
    use alloc::format;
    use alloc::string::ToString;

    fn global(lines: &str) -> Result<crate::config::Parsed, crate::diag::Errors> {
        parse(
            "t.cfg",
            &format!(
                "global\n{lines}defaults\n mode http\nfrontend f\n bind :80\n default_backend b\nbackend b\n server s 10.0.0.1:80\n"
            ),
        )
    }

    #[test]
    fn debians_stock_tls_defaults_load_with_one_warning() {
        let p = global(
            " ca-base /etc/ssl/certs\n crt-base /etc/ssl/private\n ssl-default-bind-ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256\n ssl-default-bind-ciphersuites TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384\n ssl-default-bind-options ssl-min-ver TLSv1.2 no-tls-tickets\n",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(p.warnings.len(), 1, "{:?}", p.warnings);
        assert!(p.warnings[0].message.contains("no effect"));
        let tls = &p.config.global.tls;
        assert_eq!(tls.crt_base.as_deref(), Some("/etc/ssl/private"));
        assert_eq!(tls.bind_options, ["ssl-min-ver TLSv1.2", "no-tls-tickets"]);
    }

    #[test]
    fn what_haproxy_refuses_is_refused() {
        // Each of these makes `haproxy -c` (2.6.12) fail.
        for (lines, says) in [
            (" ca-base /a\n ca-base /b\n", "already specified"),
            (
                " ssl-default-bind-options ssl-min-ver TLSv9\n",
                "unknown ssl/tls version",
            ),
            (
                " ssl-default-bind-options no-tlsv14\n",
                "unknown option 'no-tlsv14'",
            ),
            (" ssl-default-bind-options\n", "expects an option"),
            (" ssl-default-bind-ciphers A B\n", "unexpected argument 'B'"),
            (" crt-base\n", "expects a directory path"),
        ] {
            let e = global(lines)
                .err()
                .unwrap_or_else(|| panic!("accepted: {lines:?}"));
            assert!(e.to_string().contains(says), "{lines:?}: {e}");
        }
        // HAProxy accepts this one; Wt Edge refuses it (README): it would change the
        // TLS of its server connections.
        let e = global(" ssl-default-server-options no-tlsv10\n")
            .err()
            .unwrap_or_else(|| panic!("accepted"));
        assert!(e.to_string().contains("not supported by Wt Edge"), "{e}");
    }
}
