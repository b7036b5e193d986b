//! HAProxy's evaluation order for one request: frontend `http-request` rules,
//! frontend redirects, then use_backend / default_backend, then the backend's
//! `http-request` rules and redirects (unless the backend is the listen section
//! itself), then use-server (skipping servers that are not usable), then the
//! balance algorithm. Header edits made by a rule are seen by every rule and
//! ACL after it.

use core::net::{IpAddr, SocketAddr};

use crate::acl::Condition;
use crate::acl::matcher::same_family_contains;
use crate::balance::{self, Tickets};
use crate::config::model::{Config, IpNet, Proxy, ProxyId, ServerHost, ServerId};
use crate::decision::{Decision, Forward, HeaderAppend, Upstream};
use crate::eval::EvalCtx;
use crate::health::HealthSnapshot;
use crate::redirect;
use crate::request::RequestFacts;
use crate::rules::{Action, Answer, AnswerKind, RuleState};
use crate::trace::{Trace, TraceStep};
use alloc::boxed::Box;
use alloc::vec::Vec;

/// Status when no backend or no server can take the request.
pub const NO_SERVER: u16 = 503;

fn holds(
    cond: Option<&Condition>,
    ctx: &EvalCtx<'_, '_>,
    proxy: &Proxy,
    trace: &mut Option<&mut Trace>,
) -> bool {
    cond.is_none_or(|c| c.eval(ctx, &proxy.acls, trace))
}

fn record(trace: &mut Option<&mut Trace>, step: TraceStep) {
    if let Some(t) = trace.as_deref_mut() {
        t.push(step);
    }
}

/// Decides what happens to `req`, received by `frontend`.
///
/// `health` gives server states, `tickets` round-robin positions; with
/// `trace`, every rule and ACL evaluated is recorded.
pub fn decide<'c>(
    cfg: &'c Config,
    frontend: ProxyId,
    req: &RequestFacts<'_>,
    health: &HealthSnapshot,
    tickets: &dyn Tickets,
    trace: Option<&mut Trace>,
) -> Decision<'c> {
    crate::normalize::with_normalized(req, |req| {
        decide_normalized(cfg, frontend, req, health, tickets, trace)
    })
}

fn decide_normalized<'c>(
    cfg: &'c Config,
    frontend: ProxyId,
    req: &RequestFacts<'_>,
    health: &HealthSnapshot,
    tickets: &dyn Tickets,
    mut trace: Option<&mut Trace>,
) -> Decision<'c> {
    let fe = cfg.proxy(frontend);
    let orig = req;
    let mut st = RuleState::default();
    if let Some(d) = http_rules(
        cfg,
        fe,
        frontend,
        orig,
        (health, tickets),
        None,
        &mut st,
        &mut trace,
    ) {
        return d;
    }
    // The frontend's view stays while the backend's rules add to `st`.
    let fe_st = st.clone();
    let fe_headers = (!fe_st.edits.is_empty()).then(|| fe_st.headers(orig));
    let fe_req = fe_st.facts(orig, fe_headers.as_deref().unwrap_or(orig.headers));
    let req = &fe_req;
    let ctx = EvalCtx {
        cfg,
        req,
        health,
        proxy: frontend,
        tickets: Some(tickets),
        vars: &fe_st.vars,
    };
    if let Some(d) = redirects(fe, &ctx, None, &mut trace) {
        return d;
    }

    let mut backend = None;
    for rule in &fe.use_backends {
        let matched = holds(rule.cond.as_ref(), &ctx, fe, &mut trace);
        record(
            &mut trace,
            TraceStep::UseBackend {
                proxy: frontend,
                line: rule.backend.line,
                backend: rule.backend.id,
                matched,
            },
        );
        if matched {
            backend = Some(rule.backend.id);
            break;
        }
    }
    let backend = match backend {
        Some(b) => b,
        None => {
            let default = fe
                .default_backend
                .as_ref()
                .map(|d| d.id)
                .or_else(|| fe.kind.is_backend().then_some(frontend));
            match default {
                Some(b) => {
                    record(
                        &mut trace,
                        TraceStep::DefaultBackend {
                            proxy: frontend,
                            backend: b,
                        },
                    );
                    b
                }
                None => {
                    record(&mut trace, TraceStep::NoBackend { proxy: frontend });
                    return Decision::Respond {
                        status: NO_SERVER,
                        backend: None,
                    };
                }
            }
        }
    };

    let be = cfg.proxy(backend);
    if backend != frontend
        && let Some(d) = http_rules(
            cfg,
            be,
            backend,
            orig,
            (health, tickets),
            Some(backend),
            &mut st,
            &mut trace,
        )
    {
        return d;
    }
    let changed = st.edits.len() != fe_st.edits.len()
        || st.target != fe_st.target
        || st.method != fe_st.method;
    let be_headers = changed.then(|| st.headers(orig));
    let be_req = match &be_headers {
        Some(h) => st.facts(orig, h),
        None => fe_req,
    };
    let req = &be_req;
    let bctx = EvalCtx {
        req,
        proxy: backend,
        vars: &st.vars,
        ..ctx
    };
    if backend != frontend
        && let Some(d) = redirects(be, &bctx, Some(backend), &mut trace)
    {
        return d;
    }

    for rule in &be.use_servers {
        let matched = holds(rule.cond.as_ref(), &bctx, be, &mut trace);
        let usable = matched && health.available(cfg, rule.server);
        record(
            &mut trace,
            TraceStep::UseServer {
                proxy: backend,
                line: rule.line,
                server: rule.server,
                matched,
                usable,
            },
        );
        if usable {
            return Decision::Forward(forward(
                cfg,
                frontend,
                backend,
                rule.server,
                false,
                req,
                &st,
            ));
        }
    }

    match balanced(cfg, backend, req, health, tickets, None, &mut trace) {
        Some(server) => Decision::Forward(forward(cfg, frontend, backend, server, true, req, &st)),
        None => Decision::Respond {
            status: NO_SERVER,
            backend: Some(backend),
        },
    }
}

/// Picks another server of the same backend after `failed` could not be
/// reached, for `option redispatch`: HAProxy's round-robin pick avoiding
/// `failed`, which is still the answer when it is the only usable server (the
/// host then retries it). `None` when no server is usable.
pub fn redispatch<'c>(
    cfg: &'c Config,
    failed: &Forward<'_>,
    req: &RequestFacts<'_>,
    health: &HealthSnapshot,
    tickets: &dyn Tickets,
) -> Option<Forward<'c>> {
    // The request as the balance saw it the first time: with its edits.
    let st = RuleState {
        edits: failed.edits.clone(),
        method: failed.method.clone(),
        target: failed.target.clone(),
        vars: failed.vars.clone(),
    };
    let view = st.headers(req);
    let req = &st.facts(req, &view);
    let server = balanced(
        cfg,
        failed.backend,
        req,
        health,
        tickets,
        Some(failed.server),
        &mut None,
    )?;
    Some(forward(
        cfg,
        failed.frontend,
        failed.backend,
        server,
        true,
        req,
        &st,
    ))
}

/// `proxy`'s `http-request` rules, in order, each seeing the request as the
/// rules before it left it (`req` is the request as received; `st` holds what
/// the rules of earlier sections did). `Some` when a rule answers; `allow`
/// ends the list.
#[allow(clippy::too_many_arguments)]
fn http_rules<'c>(
    cfg: &'c Config,
    proxy: &'c Proxy,
    id: ProxyId,
    req: &RequestFacts<'_>,
    (health, tickets): (&HealthSnapshot, &dyn Tickets),
    backend: Option<ProxyId>,
    st: &mut RuleState,
    trace: &mut Option<&mut Trace>,
) -> Option<Decision<'c>> {
    for rule in &proxy.http_requests {
        let view = st.headers(req);
        let now = st.facts(req, &view);
        let req = &now;
        let ctx = EvalCtx {
            cfg,
            req,
            health,
            proxy: id,
            tickets: Some(tickets),
            vars: &st.vars,
        };
        if !holds(rule.cond.as_ref(), &ctx, proxy, trace) {
            continue;
        }
        if let Some(change) = st.change(&rule.action, req) {
            st.commit(change);
            continue;
        }
        let vars = &st.vars;
        match &rule.action {
            Action::Deny { status } => {
                return Some(Decision::Answer {
                    answer: Box::new(Answer {
                        status: *status,
                        kind: AnswerKind::Deny,
                        content_type: None,
                        body: Default::default(),
                        headers: Vec::new(),
                    }),
                    backend,
                });
            }
            Action::Return(spec) => {
                return Some(Decision::Answer {
                    answer: Box::new(Answer {
                        status: spec.status,
                        kind: AnswerKind::Return,
                        content_type: spec.content_type.clone(),
                        body: spec.body.render_with(req, vars),
                        headers: spec
                            .headers
                            .iter()
                            .map(|(n, v)| (n.clone(), v.render_with(req, vars)))
                            .collect(),
                    }),
                    backend,
                });
            }
            Action::UsePrometheus => {
                return Some(Decision::Answer {
                    answer: Box::new(Answer {
                        status: 200,
                        kind: AnswerKind::Prometheus,
                        content_type: None,
                        body: Default::default(),
                        headers: Vec::new(),
                    }),
                    backend,
                });
            }
            Action::Redirect { rule, to } => {
                let to = to.render_with(req, vars);
                return Some(Decision::Redirect {
                    code: rule.code,
                    location: alloc::borrow::Cow::Owned(
                        redirect::location_to(rule, &to, req).into_owned(),
                    ),
                    backend,
                });
            }
            // `allow`, and the edits `apply` took.
            _ => return None,
        }
    }
    None
}

fn balanced(
    cfg: &Config,
    backend: ProxyId,
    req: &RequestFacts<'_>,
    health: &HealthSnapshot,
    tickets: &dyn Tickets,
    avoid: Option<ServerId>,
    trace: &mut Option<&mut Trace>,
) -> Option<ServerId> {
    let (ticket, server) = balance::select(cfg, backend, req, health, avoid, tickets);
    record(
        trace,
        TraceStep::Balance {
            proxy: backend,
            ticket,
            server,
        },
    );
    server
}

/// `proxy`'s redirect rules; `backend` is `Some` when `proxy` runs them as the
/// backend (not as the frontend that received the request).
fn redirects<'c>(
    proxy: &'c Proxy,
    ctx: &EvalCtx<'_, '_>,
    backend: Option<ProxyId>,
    trace: &mut Option<&mut Trace>,
) -> Option<Decision<'c>> {
    for rule in &proxy.redirects {
        let matched = holds(rule.cond.as_ref(), ctx, proxy, trace);
        record(
            trace,
            TraceStep::Redirect {
                proxy: ctx.proxy,
                line: rule.line,
                matched,
            },
        );
        if matched {
            return Some(Decision::Redirect {
                code: rule.code,
                location: redirect::location(rule, ctx.req),
                backend,
            });
        }
    }
    None
}

fn forward<'c>(
    cfg: &'c Config,
    frontend: ProxyId,
    backend: ProxyId,
    server: ServerId,
    balanced: bool,
    req: &RequestFacts<'_>,
    st: &RuleState,
) -> Forward<'c> {
    let s = cfg.server(server);
    let port = s.port.unwrap_or(req.dst.port());
    let upstream = match &s.host {
        ServerHost::Ip(ip) if ip.is_unspecified() => {
            Upstream::Socket(SocketAddr::new(req.dst.ip(), port))
        }
        ServerHost::Ip(ip) => Upstream::Socket(SocketAddr::new(*ip, port)),
        ServerHost::Name(host) => Upstream::Name {
            host: host.as_str(),
            port,
        },
    };
    let (fe, be) = (
        &cfg.proxy(frontend).settings.options,
        &cfg.proxy(backend).settings.options,
    );
    // As HAProxy writes them: an IPv4-mapped client stays `::ffff:a.b.c.d`.
    let src = req.src.ip();
    let dst = req.dst.ip();

    let forwarded_for = match (&fe.forwardfor, &be.forwardfor) {
        (None, None) => None,
        (f, b) => {
            let name = b
                .as_ref()
                .or(f.as_ref())
                .map_or("X-Forwarded-For", |o| o.header.as_str());
            let always = [f, b]
                .iter()
                .any(|o| o.as_ref().is_some_and(|o| !o.if_none));
            let excepted = [f, b].iter().any(|o| {
                o.as_ref()
                    .and_then(|o| o.except)
                    .is_some_and(|n| in_net(&n, src))
            });
            let present = req.header_lines(name).next().is_some();
            (!excepted && (always || !present)).then_some(HeaderAppend { name, value: src })
        }
    };
    let original_to = match (&fe.originalto, &be.originalto) {
        (None, None) => None,
        (f, b) => {
            let name = b
                .as_ref()
                .or(f.as_ref())
                .map_or("X-Original-To", |o| o.header.as_str());
            let excepted = [f, b].iter().any(|o| {
                o.as_ref()
                    .and_then(|o| o.except)
                    .is_some_and(|n| in_net(&n, dst))
            });
            (!excepted).then_some(HeaderAppend { name, value: dst })
        }
    };
    Forward {
        frontend,
        backend,
        server,
        balanced,
        upstream,
        forwarded_for,
        original_to,
        edits: st.edits.clone(),
        method: st.method.clone(),
        target: st.target.clone(),
        vars: st.vars.clone(),
    }
}

/// `except` networks never match an address of the other family (`ipcmp2net()`).
fn in_net(net: &IpNet, ip: IpAddr) -> bool {
    same_family_contains(net, ip)
}
