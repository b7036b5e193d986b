//! The Wt draining trap: `use_backend B if ... nbsrv(B) gt 0 ...` (the Wt wiki's
//! recipe). `set server B/S state drain` makes `nbsrv(B)` 0 in HAProxy 2.6, so
//! the rule stops matching and the sessions it keeps on S go to another server:
//! their users are logged out. `srv_is_up(B/S)` stays true while S drains, and
//! a `use-server S if TRUE` in B sends to a draining S (balancing would not).

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use super::model::{Proxy, Server};
use crate::acl::Fetch;

/// One warning: line, column, message, hint.
pub type Finding = (u32, u32, String, String);

/// The `use_backend` rules of `proxies` guarded by `nbsrv` of their own backend.
pub fn nbsrv_guards(proxies: &[Proxy], servers: &[Server]) -> Vec<Finding> {
    let mut out = Vec::new();
    for px in proxies {
        for rule in &px.use_backends {
            let Some(cond) = &rule.cond else { continue };
            let guarded = cond.groups.iter().flatten().any(|t| {
                !t.negate
                    && px.acls.get(usize::from(t.acl.0)).is_some_and(|acl| {
                        acl.terms.iter().any(|term| {
                            matches!(&term.fetch, Fetch::Nbsrv(Some(n)) if n.id == rule.backend.id)
                        })
                    })
            });
            if !guarded || cond.unless {
                continue;
            }
            let Some(backend) = proxies.get(usize::from(rule.backend.id.0)) else {
                continue;
            };
            let b = &backend.name;
            let names: Vec<&str> = backend
                .servers
                .iter()
                .filter_map(|s| servers.get(s.0 as usize).map(|s| s.name.as_str()))
                .collect();
            let s = match names.as_slice() {
                [one] => String::from(*one),
                _ => String::from("SERVER"),
            };
            out.push((
                rule.backend.line,
                rule.backend.col,
                format!(
                    "'use_backend {b}' is guarded by nbsrv({b}): 'set server {b}/{s} state drain' makes nbsrv({b}) 0 (HAProxy 2.6), so the sessions this rule keeps on {s} go to another server and their users are logged out"
                ),
                format!(
                    "guard with 'acl {s}_up srv_is_up({b}/{s})' (true while draining, false in maint or DOWN) and add 'use-server {s} if TRUE' to backend {b} (balancing skips a draining server; use-server does not)"
                ),
            ));
        }
    }
    out
}
