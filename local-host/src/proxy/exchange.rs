//! The exchange phase: one request and its answer. Asks the engine for the decision
//! and gives wtedge's own answers (the stats page, redirects, `http-request` rules'
//! answers, errors and their `errorfile` pages); a request that goes to a server
//! continues in [`super::forward`]. The [`Exchange`] value carries the request's
//! timings, retries and redispatch through the later phases.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use router_core::Decision;
use router_core::RequestFacts;
use router_core::model::{Proxy, ProxyId, ServerId};
use router_core::unstable::reuse;
use router_core::unstable::termination::{Cause, Phase, Termination};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};

use super::connection::{After, ClientConn};
use super::log_line::{LogFacts, Timings};
use super::{dur, ms, write_all};
use crate::access_log;
use crate::engine::ServedGuard;
use crate::h1::{self, Framing, RequestHead, Version};
use crate::state::Generation;
use crate::state::counters::{dec, inc};

/// The largest admin form the stats page reads (HAProxy: a buffer less its
/// reserve; more is answered `;st=EXCD`).
const STATS_POST_MAX: u64 = 15 * 1024;

/// One request on its way through the phases: what its answer and its log line need
/// whatever phase ends it.
pub(super) struct Exchange<'h> {
    pub(super) head: &'h RequestHead,
    /// The request as router-core reads it.
    pub(super) facts: RequestFacts<'h>,
    /// When the connection was accepted (the log line's date).
    pub(super) date: SystemTime,
    /// When the request's first byte came (Ta counts from here).
    pub(super) started: Instant,
    /// `timeout client`, for every write to the client.
    pub(super) client_to: Duration,
    /// Timers, retries and redispatch so far.
    pub(super) times: Timings,
}

/// An exchange that ends with wtedge's own error answer: what its log line says
/// besides the [`Exchange`]'s timings.
#[derive(Clone, Copy)]
pub(super) struct Ended {
    pub(super) backend: ProxyId,
    pub(super) server: Option<ServerId>,
    pub(super) status: u16,
    pub(super) termination: Termination,
    /// Bytes of the server's answer read before wtedge answered instead.
    pub(super) read: u64,
}

impl Ended {
    pub(super) fn new(
        backend: ProxyId,
        server: Option<ServerId>,
        status: u16,
        termination: Termination,
    ) -> Self {
        Ended {
            backend,
            server,
            status,
            termination,
            read: 0,
        }
    }
}

impl ClientConn {
    /// Serves the request `head` (read from `started` on a connection accepted at
    /// `date`): the stats page, wtedge's own answers, or a server's through
    /// [`ClientConn::forward`]; logs it. Says whether the connection stays open.
    pub(super) async fn exchange(
        &mut self,
        fe: &Proxy,
        head: &RequestHead,
        started: Instant,
        date: SystemTime,
        rd: &mut OwnedReadHalf,
        wr: &mut OwnedWriteHalf,
    ) -> After {
        let g = self.g.clone();
        let engine = g.engine.as_ref();
        self.requests = self.requests.saturating_add(1);
        if let Some(fc) = g.counters.proxy(usize::from(self.info.frontend.0)) {
            inc(&fc.reqs_total);
        }
        let client_to = dur(fe.settings.timeouts.client);
        let hdrs = head.header_pairs();
        let ex = Exchange {
            head,
            facts: RequestFacts {
                method: head.method(),
                target: head.target(),
                version: head.version_text(),
                headers: &hdrs,
                src: self.info.src,
                dst: self.info.dst,
                tls: false,
            },
            date,
            started,
            client_to,
            times: Timings {
                t_request: Some(ms(started.elapsed())),
                ..Timings::default()
            },
        };
        let has_body = head.framing != Framing::None;
        // wtedge's own answers never say keep-alive: `option httpclose` closes after them.
        let client_keeps = head.keep_alive && !has_body && !reuse::client_side_closes(fe, false);
        let close = !client_keeps;
        let local = Termination::new(Cause::Local, Phase::Request);
        let stats = fe.settings.stats.enabled.then(|| {
            let health = g.engine.health_snapshot();
            router_core::unstable::stats_page::check(
                g.config(),
                self.info.frontend,
                &ex.facts,
                &health,
            )
        });
        if let Some(answer) = stats.flatten() {
            let (status, out) = match answer {
                router_core::unstable::stats_page::StatsAnswer::Post { admin, up } => {
                    let body = match head.framing {
                        Framing::Length(n) if n <= STATS_POST_MAX => {
                            self.read_body(rd, n as usize, client_to).await
                        }
                        _ => None,
                    };
                    crate::stats_page::post(
                        &g,
                        self.info.frontend,
                        admin,
                        up,
                        body.as_deref(),
                        close,
                    )
                }
                _ => crate::stats_page::response(&g, self.info.frontend, &answer, close),
            };
            let ok = write_all(wr, &out, client_to).await;
            let bytes = out.len() as u64;
            let facts = LogFacts::new(None, &fe.name, status, bytes, local).times(ex.times);
            self.log(head, date, started, facts);
            return After::keep_if(ok && !close);
        }
        // wtedge's own answers: (bytes, status, HAProxy's %B, termination, backend).
        let decision = engine.decide(self.info.frontend, &ex.facts);
        if let Some(bc) = decision
            .backend()
            .and_then(|b| g.counters.proxy(usize::from(b.0)))
        {
            inc(&bc.be_reqs_total);
        }
        // An errorfile's page may end the connection (its own framing).
        let mut page_ends = false;
        // The server name logged for an applet's answer (HAProxy's `<PROMEX>`).
        let mut applet: Option<&'static str> = None;
        let (out, status, bytes, term, backend) = match decision {
            Decision::Redirect {
                code,
                location,
                backend,
            } => {
                let out = h1::redirect(code, &location, close, head.version == Version::Http10);
                let hdr_sizes = [
                    ("content-length".len(), 1),
                    ("location".len(), location.len()),
                ];
                let extra = router_core::unstable::answer::redirect_no_cache(code)
                    .then_some(("cache-control".len(), 8));
                let bytes = access_log::haproxy_bytes(
                    router_core::unstable::answer::redirect_reason(code),
                    hdr_sizes.into_iter().chain(extra),
                    0,
                    false,
                );
                (out, code, bytes, local, backend)
            }
            Decision::Answer { answer, backend } => {
                let (out, bytes, status) = match answer.kind {
                    router_core::unstable::rules::AnswerKind::Deny => {
                        let cfg = self.g.config();
                        match config_page(cfg, self.info.frontend, backend, answer.status) {
                            Some((wire, bytes, ends)) => {
                                page_ends = ends;
                                (wire, bytes, answer.status)
                            }
                            None => (
                                h1::errors::forwarding(answer.status, close),
                                error_bytes(answer.status),
                                answer.status,
                            ),
                        }
                    }
                    router_core::unstable::rules::AnswerKind::Return => (
                        h1::returned(&answer, close, head.version == Version::Http10),
                        returned_bytes(&answer),
                        answer.status,
                    ),
                    router_core::unstable::rules::AnswerKind::Prometheus => {
                        let is_head = head.method() == "HEAD";
                        let (status, out) =
                            crate::promex::response(&g, head.target(), is_head, close);
                        applet = Some("<PROMEX>");
                        let bytes = out.len() as u64;
                        (out, bytes, status)
                    }
                };
                (out, status, bytes, answer.termination(), backend)
            }
            Decision::Respond { status, backend } => {
                let cfg = self.g.config();
                let page = config_page(cfg, self.info.frontend, backend, status);
                let bytes = page.as_ref().map_or_else(|| error_bytes(status), |p| p.1);
                // An errorfile's page may end the connection (its own framing).
                let close = close || page.as_ref().is_some_and(|p| p.2);
                let out = page.map_or_else(|| h1::errors::forwarding(status, close), |p| p.0);
                let ok = write_all(wr, &out, client_to).await;
                // HAProxy 2.6 names the chosen backend (`fe wt/<NOSRV>`); when none was
                // chosen, the frontend, and Tq is -1 (no backend ran its analysers).
                // The 503 counts against that backend too, as in HAProxy's stats.
                let name = backend.map_or(&fe.name, |b| &cfg.proxy(b).name);
                let no_server = Termination::new(Cause::ServerClosed, Phase::Connect);
                let times = Timings {
                    t_request: backend.and(ex.times.t_request),
                    ..ex.times
                };
                let facts = LogFacts::new(backend, name, status, bytes, no_server).times(times);
                self.log(head, date, started, facts);
                return After::keep_if(ok && !close);
            }
            Decision::Forward(fwd) => {
                return self.forward(fe, fwd, ex, rd, wr).await;
            }
        };
        let ok = write_all(wr, &out, client_to).await;
        // A backend's rule is logged `backend/<NOSRV>` (HAProxy 2.6) and counts in
        // that backend's stats; a frontend's, `frontend/<NOSRV>`.
        let cfg = self.g.config();
        let name = backend.map_or(&fe.name, |b| &cfg.proxy(b).name);
        let facts = LogFacts {
            server: applet,
            ..LogFacts::new(backend, name, status, bytes, term).times(ex.times)
        };
        self.log(head, date, started, facts);
        After::keep_if(ok && !close && !page_ends)
    }

    /// Answers an error page made by wtedge (HAProxy's body) and logs it.
    pub(super) async fn fail(
        &mut self,
        ex: &Exchange<'_>,
        wr: &mut OwnedWriteHalf,
        e: Ended,
    ) -> After {
        let Ended {
            backend,
            server,
            status,
            termination,
            read,
        } = e;
        let (head, client_to) = (ex.head, ex.client_to);
        let cfg = self.g.config();
        // The request body may not have been read: close unless there was none.
        let close = !head.keep_alive
            || head.framing != Framing::None
            || status == 400
            || reuse::client_side_closes(cfg.proxy(self.info.frontend), false);
        // A 400 here is the mux's (a body it cannot read): HAProxy's own page.
        let page = (status != 400)
            .then(|| config_page(cfg, self.info.frontend, Some(backend), status))
            .flatten();
        let page_bytes = page.as_ref().map(|p| p.1);
        let close = close || page.as_ref().is_some_and(|p| p.2);
        let out = match page {
            Some(p) => p.0,
            None if status == 400 => h1::errors::early(400),
            None => h1::errors::forwarding(status, close),
        };
        let ok = write_all(wr, &out, client_to).await;
        let bytes = match page_bytes {
            Some(n) => n + read,
            None if status == 400 => 0,
            None => error_bytes(status) + read,
        };
        // No Tr: the server's answer, if any, was not relayed.
        let times = Timings {
            t_response: None,
            ..ex.times
        };
        let be = cfg.proxy(backend);
        let mut facts = LogFacts::new(Some(backend), &be.name, status, bytes, termination);
        if let Some(s) = server {
            facts = facts.server(s, &cfg.server(s).name);
        }
        self.log(head, ex.date, ex.started, facts.times(times));
        After::keep_if(ok && !close)
    }
}

/// Decrements the backend's and server's "current" counters when a request ends.
pub(super) struct ActiveGuard {
    g: Arc<Generation>,
    backend: usize,
    server: Option<usize>,
    /// The stream counted on the server for the balance algorithms.
    served: Option<ServedGuard>,
}

impl ActiveGuard {
    /// Counts a request in `backend` until the guard drops.
    pub(super) fn new(g: Arc<Generation>, backend: usize) -> Self {
        if let Some(c) = g.counters.proxy(backend) {
            inc(&c.reqs_cur);
        }
        ActiveGuard {
            g,
            backend,
            server: None,
            served: None,
        }
    }

    pub(super) fn set_server(&mut self, s: Option<usize>) {
        if self.server == s {
            return;
        }
        if let Some(c) = self.server.and_then(|i| self.g.counters.server(i)) {
            dec(&c.cur);
        }
        if let Some(c) = s.and_then(|i| self.g.counters.server(i)) {
            inc(&c.cur);
            inc(&c.total);
        }
        self.served = s
            .and_then(|i| u32::try_from(i).ok())
            .map(|i| self.g.engine.served().take(ServerId(i)));
        self.server = s;
    }

    /// The server's stream count, kept beyond this guard (a tunnel still serves).
    pub(super) fn keep_served(&mut self) -> Option<ServedGuard> {
        self.served.take()
    }
}

impl Drop for ActiveGuard {
    fn drop(&mut self) {
        if let Some(c) = self.g.counters.proxy(self.backend) {
            dec(&c.reqs_cur);
        }
        self.set_server(None);
    }
}

/// The config's `errorfile` answer for `status` (router-core picks the page), if
/// any: its bytes, HAProxy's `%B` for it (every header of the file counts) and
/// whether the connection ends after it.
pub(super) fn config_page(
    cfg: &router_core::Config,
    frontend: ProxyId,
    backend: Option<ProxyId>,
    status: u16,
) -> Option<(Vec<u8>, u64, bool)> {
    router_core::unstable::answer::config_page(cfg, frontend, backend, status).map(|p| {
        let h = &p.held;
        let bytes = access_log::haproxy_bytes(&h.reason, h.headers.iter().copied(), h.body, false);
        (p.wire.clone(), bytes, !h.keep_alive)
    })
}

/// HAProxy's `%B` for its own error pages.
pub(super) fn error_bytes(status: u16) -> u64 {
    let router_core::unstable::answer::ErrorPage { reason, body, .. } =
        router_core::unstable::answer::error_page(status);
    let len = body.len().to_string();
    let hdrs = [
        ("content-length".len(), len.len()),
        ("cache-control".len(), "no-cache".len()),
        ("content-type".len(), "text/html".len()),
    ];
    access_log::haproxy_bytes(reason, hdrs.into_iter(), body.len() as u64, false)
}

/// HAProxy's `%B` for an `http-request return` answer (its internal message
/// always counts a `content-length`, even where the wire has none).
fn returned_bytes(a: &router_core::unstable::rules::Answer) -> u64 {
    let len = a.body.len().to_string();
    let hdrs = a
        .headers
        .iter()
        .map(|(n, v)| (n.len(), v.len()))
        .chain([("content-length".len(), len.len())])
        .chain(
            a.content_type
                .iter()
                .map(|t| ("content-type".len(), t.len())),
        );
    access_log::haproxy_bytes(
        router_core::unstable::answer::reason(a.status),
        hdrs,
        a.body.len() as u64,
        false,
    )
}
