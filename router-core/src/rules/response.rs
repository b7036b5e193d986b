//! `http-response` rules for one response, in HAProxy 2.6's order: the
//! backend's rules, then the frontend's (a listen section's once); in each
//! list the first `allow` ends that list, the first `deny` ends all of them.
//! Pure: the hosts pass the request as forwarded, the variables the request
//! rules set and the server's status and header lines, and apply the verdict
//! to the response head before writing it to the client.

use alloc::string::String;
use alloc::vec::Vec;
use serde::Serialize;

use super::logfmt::ResponseFacts;
use super::state::Vars;
use super::{Action, EditOp, HeaderEdit};
use crate::config::model::{Config, ProxyId};
use crate::decision::Forward;
use crate::eval::EvalCtx;
use crate::health::HealthSnapshot;
use crate::request::RequestFacts;

/// What the response rules do to one response.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ResponseVerdict {
    /// Header edits, in order, for the server's header lines.
    pub edits: Vec<HeaderEdit>,
    /// `set-status`: the new status and reason (`None`: HAProxy's reason for it).
    pub status: Option<(u16, Option<String>)>,
    /// `deny`: the status of HAProxy's error page sent instead (502 by default),
    /// logged with termination state `PH`.
    pub deny: Option<u16>,
}

/// Whether the forwarded request's frontend or backend has `http-response` rules
/// (hosts skip reading the answer's headers otherwise).
pub fn has_rules(cfg: &Config, fwd: &Forward<'_>) -> bool {
    !cfg.proxy(fwd.frontend).http_responses.is_empty()
        || !cfg.proxy(fwd.backend).http_responses.is_empty()
}

/// [`apply`] for the answer to `fwd` (its frontend, backend and variables).
pub fn for_forward(
    cfg: &Config,
    fwd: &Forward<'_>,
    (req, health): (&RequestFacts<'_>, &HealthSnapshot),
    status: u16,
    headers: &[(&str, &str)],
) -> ResponseVerdict {
    apply(
        cfg,
        (fwd.frontend, fwd.backend),
        (req, &fwd.vars, health),
        status,
        headers,
    )
}

/// Runs the `http-response` rules of `backend` then `frontend` on a response
/// with `status` and `headers`, for `req` (the request as forwarded) and the
/// request rules' `vars`.
pub fn apply(
    cfg: &Config,
    (frontend, backend): (ProxyId, ProxyId),
    (req, vars, health): (&RequestFacts<'_>, &Vars, &HealthSnapshot),
    status: u16,
    headers: &[(&str, &str)],
) -> ResponseVerdict {
    let mut out = ResponseVerdict::default();
    let mut order = alloc::vec![backend];
    if frontend != backend {
        order.push(frontend);
    }
    let mut now_status = status;
    for id in order {
        let proxy = cfg.proxy(id);
        for rule in &proxy.http_responses {
            let view = super::header::edited(headers, &out.edits);
            let res = ResponseFacts {
                status: now_status,
                headers: &view,
            };
            let ctx = EvalCtx {
                cfg,
                req,
                health,
                proxy: id,
                tickets: None,
                vars,
            };
            if !rule
                .cond
                .as_ref()
                .is_none_or(|c| c.eval(&ctx, &proxy.acls, &mut None))
            {
                continue;
            }
            let edit = |op, name: &str, value: String| HeaderEdit {
                op,
                name: name.into(),
                value,
            };
            let render = |f: &super::LogFormat| f.render_res(req, vars, Some(&res));
            match &rule.action {
                Action::SetHeader { name, value } => {
                    let e = edit(EditOp::Set, name, render(value));
                    out.edits.push(e);
                }
                Action::AddHeader { name, value } => {
                    let e = edit(EditOp::Add, name, render(value));
                    out.edits.push(e);
                }
                Action::DelHeader { name } => {
                    out.edits.push(edit(EditOp::Del, name, String::new()))
                }
                Action::ReplaceHeader(r) | Action::ReplaceValue(r) => {
                    let each = matches!(rule.action, Action::ReplaceValue(_));
                    let with = render(&r.with);
                    let lines: Vec<HeaderEdit> = view
                        .iter()
                        .filter(|(n, _)| n.eq_ignore_ascii_case(&r.name))
                        .enumerate()
                        .filter_map(|(i, (_, line))| {
                            let new = if each {
                                super::state::replace_values(r, line, &with)?
                            } else {
                                r.regex.replace(line, &with)?
                            };
                            Some(edit(EditOp::Replace(u32::try_from(i).ok()?), &r.name, new))
                        })
                        .collect();
                    out.edits.extend(lines);
                }
                Action::SetStatus { status, reason } => {
                    now_status = *status;
                    out.status = Some((*status, reason.clone()));
                }
                Action::Allow => break,
                Action::Deny { status } => {
                    out.deny = Some(*status);
                    return out;
                }
                // Refused at load time in response rules.
                _ => {}
            }
        }
    }
    out
}

#[cfg(all(test, feature = "regex"))]
mod tests {
    use super::*;
    use crate::config::parse;

    /// Seen on HAProxy 2.6.12 (`haproxy -f`, a server answering `X-A: 1`,
    /// `X-A: 2, 3`, `Content-Length: 2`, `Server: ...`).
    const CFG: &str = "defaults\n mode http\n\
        frontend f\n bind :80\n\
        \x20http-request set-var(txn.t) str(yes) if { method PUT }\n\
        \x20http-response set-header X-Order fe-%[res.hdr(x-order)]\n\
        \x20http-response add-header X-Cnt %[res.hdr_cnt(x-a)]-%[hdr(x-a)]\n\
        \x20http-response deny if { var(txn.t) -m found }\n\
        \x20default_backend b\n\
        backend b\n\
        \x20http-response set-header X-Order be\n\
        \x20http-response replace-value X-A ^2$ two\n\
        \x20http-response del-header server\n\
        \x20http-response allow if { method HEAD }\n\
        \x20http-response add-header X-After-Allow 1\n\
        \x20http-response set-status 201\n\
        \x20http-response add-header X-St %[status]-%[method]-%[src]\n\
        \x20http-response set-status 299 reason \"Fine Thing\" if { method POST }\n\
        \x20server s 127.0.0.1:8080\n";

    const SERVER: [(&str, &str); 4] = [
        ("Server", "BaseHTTP/0.6"),
        ("X-A", "1"),
        ("X-A", "2, 3"),
        ("Content-Length", "2"),
    ];

    fn run(method: &str) -> (ResponseVerdict, Vec<(String, String)>) {
        let cfg = parse("t.cfg", CFG).unwrap_or_else(|e| panic!("{e}")).config;
        let req = request(method);
        let vars: Vars = if method == "PUT" {
            alloc::vec![("txn.t".into(), "yes".into())]
        } else {
            Vec::new()
        };
        let health = HealthSnapshot::all_up(&cfg);
        let v = apply(
            &cfg,
            (ProxyId(0), ProxyId(1)),
            (&req, &vars, &health),
            200,
            &SERVER,
        );
        let heads = super::super::header::edited(&SERVER, &v.edits)
            .iter()
            .map(|(n, v)| (n.to_ascii_lowercase(), String::from(*v)))
            .collect();
        (v, heads)
    }

    /// A request from 127.0.0.1 for `/x`.
    fn request(method: &str) -> RequestFacts<'_> {
        RequestFacts {
            method,
            target: "/x",
            version: "HTTP/1.1",
            headers: &[],
            src: "127.0.0.1:5000".parse().unwrap_or_else(|_| panic!()),
            dst: "127.0.0.1:80".parse().unwrap_or_else(|_| panic!()),
            tls: false,
        }
    }

    fn lines(l: &[(&str, &str)]) -> Vec<(String, String)> {
        l.iter().map(|(n, v)| ((*n).into(), (*v).into())).collect()
    }

    #[test]
    fn backend_then_frontend() {
        let (v, h) = run("GET");
        assert_eq!((v.status, v.deny), (Some((201, None)), None));
        assert_eq!(
            h,
            lines(&[
                ("x-a", "1"),
                ("x-a", "two, 3"),
                ("content-length", "2"),
                ("x-after-allow", "1"),
                ("x-st", "201-GET-127.0.0.1"),
                ("x-order", "fe-be"),
                ("x-cnt", "3-3"),
            ])
        );
    }

    #[test]
    fn allow_ends_the_backends_list_only() {
        let (v, h) = run("HEAD");
        assert_eq!((v.status, v.deny), (None, None));
        assert_eq!(
            h,
            lines(&[
                ("x-a", "1"),
                ("x-a", "two, 3"),
                ("content-length", "2"),
                ("x-order", "fe-be"),
                ("x-cnt", "3-3"),
            ])
        );
    }

    #[test]
    fn set_status_with_reason() {
        let (v, h) = run("POST");
        assert_eq!(v.status, Some((299, Some("Fine Thing".into()))));
        assert!(h.contains(&("x-st".into(), "201-POST-127.0.0.1".into())));
    }

    #[test]
    fn deny_is_a_502_by_default() {
        assert_eq!(run("PUT").0.deny, Some(502));
    }

    /// HAProxy 2.6.12 refuses the request's path in a response's log-format
    /// string ("sample fetch <path]> may not be reliably used here ...").
    #[test]
    fn request_line_fetches_are_refused() {
        for f in ["path", "url", "query", "req.hdr(host)"] {
            let text = alloc::format!(
                "frontend f\n bind :80\n http-response set-header X %[{f}]\n default_backend b\nbackend b\n server s 127.0.0.1:8080\n"
            );
            let err = parse("t.cfg", &text).err().map(|e| alloc::format!("{e}"));
            assert!(
                err.as_deref()
                    .is_some_and(|e| e.contains("may not be reliably used here")),
                "{f}: {err:?}"
            );
        }
        let text = "frontend f\n bind :80\n http-request set-header X %[status]\n default_backend b\nbackend b\n server s 127.0.0.1:8080\n";
        assert!(parse("t.cfg", text).is_err());
    }

    /// Seen on HAProxy 2.6.12: a listen section's `add-header X-L
    /// %[res.hdr_cnt(x-l)]` gives one line, `x-l: 0`: its rules run once.
    #[test]
    fn a_listen_sections_rules_run_once() {
        let cfg = parse(
            "t.cfg",
            "listen l\n bind :80\n http-response add-header X-L %[res.hdr_cnt(x-l)]\n server s 127.0.0.1:8080\n",
        )
        .unwrap_or_else(|e| panic!("{e}"))
        .config;
        let req = request("GET");
        let health = HealthSnapshot::all_up(&cfg);
        let v = apply(
            &cfg,
            (ProxyId(0), ProxyId(0)),
            (&req, &Vec::new(), &health),
            200,
            &[],
        );
        assert_eq!(
            v.edits,
            [HeaderEdit {
                op: EditOp::Add,
                name: "X-L".into(),
                value: "0".into()
            }]
        );
    }

    /// HAProxy 2.6.12 warns that `acl p path /x` "will never match" in a
    /// response rule, and reads `hdr` from the response there: both refused.
    #[test]
    fn request_acls_are_refused_in_conditions() {
        for cond in ["{ path /x }", "{ hdr(x-a) 1 }", "{ url_beg / }"] {
            let text = alloc::format!(
                "frontend f\n bind :80\n http-response deny if {cond}\n default_backend b\nbackend b\n server s 127.0.0.1:8080\n"
            );
            assert!(parse("t.cfg", &text).is_err(), "{cond}");
        }
        let text = "frontend f\n bind :80\n http-response deny if { method GET } { src 10.0.0.0/8 }\n default_backend b\nbackend b\n server s 127.0.0.1:8080\n";
        assert!(parse("t.cfg", text).is_ok());
    }
}
