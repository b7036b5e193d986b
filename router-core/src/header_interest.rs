//! Which request headers a configuration's decisions can depend on, so that a
//! host may hand router-core only those (the wasm engine encodes, copies and
//! validates every header it sends; a browser sends a dozen, the seeds look at
//! `Host`). Decisions and traces are the same with all headers or with these.

use alloc::string::String;
use alloc::vec::Vec;

use crate::acl::Fetch;
use crate::config::model::Config;

/// The headers a configuration reads. Default: [`HeaderInterest::All`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum HeaderInterest {
    /// Every header (an ACL fetches `hdr()` or `hdr_cnt()` without a name).
    #[default]
    All,
    /// Only headers with these names (lowercase; compared ignoring ASCII case).
    Names(Vec<String>),
}

impl HeaderInterest {
    /// What `cfg` reads: `Host` (normalization, `redirect scheme`), the headers
    /// named by `hdr*` fetches of any ACL (declared, anonymous or predefined)
    /// and of `http-request` log-format values,
    /// the `option forwardfor` header names (`if-none` looks for them) and the
    /// header `balance hdr(NAME)` hashes.
    pub fn of(cfg: &Config) -> Self {
        let mut names: Vec<String> = alloc::vec![String::from("host")];
        let mut add = |n: &str| {
            let n = n.to_ascii_lowercase();
            if !names.contains(&n) {
                names.push(n);
            }
        };
        for proxy in &cfg.proxies {
            for term in proxy.acls.iter().flat_map(|a| &a.terms) {
                match &term.fetch {
                    Fetch::Hdr(Some(n)) | Fetch::HdrCnt(Some(n)) => add(n),
                    Fetch::Hdr(None) | Fetch::HdrCnt(None) => return HeaderInterest::All,
                    _ => {}
                }
            }
            for rule in &proxy.http_requests {
                use crate::rules::Action;
                let formats: alloc::vec::Vec<&crate::rules::LogFormat> = match &rule.action {
                    Action::SetHeader { value, .. } | Action::AddHeader { value, .. } => {
                        alloc::vec![value]
                    }
                    Action::Redirect { to, .. } => alloc::vec![to],
                    Action::Return(r) => core::iter::once(&r.body)
                        .chain(r.headers.iter().map(|(_, v)| v))
                        .collect(),
                    Action::ReplaceHeader(r) | Action::ReplaceValue(r) => {
                        // The rule reads the lines it rewrites.
                        add(&r.name);
                        alloc::vec![&r.with]
                    }
                    Action::SetLine { value, part } => {
                        if *part == crate::rules::LinePart::Uri {
                            // A new authority rewrites the Host lines.
                            add("host");
                        }
                        alloc::vec![value]
                    }
                    Action::ReplaceLine { with, part } => {
                        if *part == crate::rules::LinePart::Uri {
                            add("host");
                        }
                        alloc::vec![&with.with]
                    }
                    Action::SetVar { expr, .. } => {
                        if let crate::rules::logfmt::Part::Sample {
                            fetch: crate::rules::logfmt::SampleFetch::Hdr(n),
                            ..
                        } = expr
                        {
                            add(n);
                        }
                        alloc::vec::Vec::new()
                    }
                    Action::DelHeader { .. }
                    | Action::UnsetVar { .. }
                    | Action::Allow
                    | Action::Deny { .. }
                    | Action::UsePrometheus
                    | Action::SetStatus { .. } => alloc::vec::Vec::new(),
                };
                for f in formats {
                    f.headers().for_each(&mut add);
                }
            }
            if let Some(f) = &proxy.settings.options.forwardfor {
                add(&f.header);
            }
            if let crate::config::model::Balance::Hdr { name, .. } = &proxy.settings.balance {
                add(name);
            }
        }
        HeaderInterest::Names(names)
    }

    /// Whether a header named `name` can matter.
    pub fn wants(&self, name: &str) -> bool {
        match self {
            HeaderInterest::All => true,
            HeaderInterest::Names(names) => names.iter().any(|n| n.eq_ignore_ascii_case(name)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse;

    fn of(text: &str) -> HeaderInterest {
        HeaderInterest::of(
            &parse("t.cfg", text)
                .unwrap_or_else(|e| panic!("{e}"))
                .config,
        )
    }

    #[test]
    fn names_from_acls_and_forwardfor() {
        let i = of(
            "frontend f\n bind :80\n option forwardfor header X-Client if-none\n\
             acl a hdr_beg(X-Wt) v\n use_backend b if a { hdr_cnt(Cookie) gt 1 }\n default_backend b\n\
             backend b\n balance hdr(X-Key)\n server s 10.0.0.1:80\n",
        );
        assert_eq!(
            i,
            HeaderInterest::Names(
                ["host", "x-wt", "cookie", "x-client", "x-key"]
                    .map(String::from)
                    .to_vec()
            )
        );
        assert!(i.wants("HOST") && i.wants("cookie") && !i.wants("User-Agent"));
    }

    /// Decisions that depend on a header no ACL names: `redirect scheme` builds
    /// its Location from Host, `forwardfor if-none` looks for its header.
    #[test]
    fn decisions_are_the_same_with_the_wanted_headers_only() {
        use crate::{HealthSnapshot, LocalTickets, RequestFacts, decide};
        let cfg = parse(
            "t.cfg",
            "frontend f\n bind :80\n option forwardfor if-none\n\
             redirect scheme https if { path_beg /secure }\n default_backend b\n\
             backend b\n server s 10.0.0.1:80\n",
        )
        .unwrap_or_else(|e| panic!("{e}"))
        .config;
        let interest = HeaderInterest::of(&cfg);
        let headers = [
            ("Host", "sample.com"),
            ("User-Agent", "x"),
            ("X-Forwarded-For", "1.2.3.4"),
            ("Cookie", "a=b"),
        ];
        let wanted: Vec<(&str, &str)> = headers
            .iter()
            .copied()
            .filter(|(n, _)| interest.wants(n))
            .collect();
        assert_eq!(wanted, [headers[0], headers[2]]);
        for target in ["/secure/x", "/plain"] {
            let req = RequestFacts {
                method: "GET",
                target,
                version: "HTTP/1.1",
                headers: &headers,
                src: "10.9.9.9:1".parse().unwrap_or_else(|_| panic!()),
                dst: "10.0.0.9:80".parse().unwrap_or_else(|_| panic!()),
                tls: false,
            };
            let fewer = RequestFacts {
                headers: &wanted,
                ..req
            };
            let fe = cfg.default_frontend().unwrap_or_else(|| panic!());
            let health = HealthSnapshot::all_up(&cfg);
            let all = decide(&cfg, fe, &req, &health, &LocalTickets::new(&cfg), None);
            let some = decide(&cfg, fe, &fewer, &health, &LocalTickets::new(&cfg), None);
            assert_eq!(all, some, "{target}");
        }
    }

    #[test]
    fn a_fetch_of_every_header_wants_all() {
        let i = of(
            "frontend f\n bind :80\n acl a hdr_sub -i x\n use_backend b if a\n default_backend b\n\
             backend b\n server s 10.0.0.1:80\n",
        );
        assert_eq!(i, HeaderInterest::All);
        assert!(i.wants("anything"));
    }
}
