//! The log-line phase: the access-log entry of an exchange (HAProxy's `option
//! httplog` line, written by [`crate::access_log`]) and the counters the same facts
//! feed (responses by class, bytes out).

use std::time::{Instant, SystemTime};

use router_core::model::{ProxyId, ServerId};
use router_core::unstable::retry::Attempts;
use router_core::unstable::termination::Termination;

use super::connection::ClientConn;
use super::ms;
use super::tunnel::TunnelLog;
use crate::access_log::Entry;
use crate::h1::RequestHead;
use crate::state::counters::{add, class_index, get, inc};

/// HAProxy's timers and the server-side attempts of an exchange, as far as it got:
/// `None` is logged `-1` (the phase was not reached).
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Timings {
    /// Tq: until the request head was read (`None`: no backend ran its analysers).
    pub(super) t_request: Option<u64>,
    /// Tw: in the queues, until the server was (last) assigned.
    pub(super) t_queue: Option<u64>,
    /// Tc: the last connection attempt.
    pub(super) t_connect: Option<u64>,
    /// Tr: from the request's sending to the response head.
    pub(super) t_response: Option<u64>,
    /// Connection retries, and whether a retry or a full queue sent the request to
    /// another server (router-core's count).
    pub(super) attempts: Attempts,
}

/// What an exchange's log line says besides the request and the connection.
pub(super) struct LogFacts<'a> {
    /// The backend whose counters the answer counts in (`None`: the frontend's).
    pub(super) backend_id: Option<ProxyId>,
    /// The server whose counters the answer counts in.
    pub(super) server_id: Option<ServerId>,
    /// The backend's name in the line (the frontend's when none was chosen).
    pub(super) backend: &'a str,
    /// The server's name in the line (`None`: `<NOSRV>`).
    pub(super) server: Option<&'a str>,
    pub(super) times: Timings,
    pub(super) status: u16,
    /// HAProxy's `%B`.
    pub(super) bytes: u64,
    pub(super) termination: Termination,
}

impl<'a> LogFacts<'a> {
    /// An answer without a server; [`LogFacts::server`] and [`LogFacts::times`] add
    /// what the exchange got to.
    pub(super) fn new(
        backend_id: Option<ProxyId>,
        backend: &'a str,
        status: u16,
        bytes: u64,
        termination: Termination,
    ) -> Self {
        LogFacts {
            backend_id,
            server_id: None,
            backend,
            server: None,
            times: Timings::default(),
            status,
            bytes,
            termination,
        }
    }

    /// The server the exchange went to.
    pub(super) fn server(self, id: ServerId, name: &'a str) -> Self {
        LogFacts {
            server_id: Some(id),
            server: Some(name),
            ..self
        }
    }

    /// The exchange's timers and attempts.
    pub(super) fn times(self, times: Timings) -> Self {
        LogFacts { times, ..self }
    }
}

impl ClientConn {
    /// Logs a connection that never brought a valid request (`<BADREQ>`).
    pub(super) fn log_badreq(
        &self,
        date: SystemTime,
        started: Instant,
        status: u16,
        bytes: u64,
        termination: Termination,
    ) {
        let cfg = self.g.config();
        let fe = cfg.proxy(self.info.frontend);
        let facts = LogFacts::new(None, &fe.name, status, bytes, termination);
        self.write(None, date, started, facts);
    }

    /// Logs a tunnelled exchange once the tunnel is over; `sent`: the bytes the server
    /// sent through it.
    pub(super) fn log_tunnel(
        &self,
        head: &RequestHead,
        date: SystemTime,
        started: Instant,
        p: &TunnelLog,
        sent: u64,
        termination: Termination,
    ) {
        let facts = LogFacts::new(
            Some(p.backend_id),
            &p.backend,
            p.status,
            p.head_bytes + sent,
            termination,
        )
        .server(p.server_id, &p.server)
        .times(p.times);
        self.log(head, date, started, facts);
    }

    /// Logs an exchange of the request `head`, read from `started` on a connection
    /// accepted at `date`.
    pub(super) fn log(
        &self,
        head: &RequestHead,
        date: SystemTime,
        started: Instant,
        f: LogFacts<'_>,
    ) {
        self.write(Some(head), date, started, f);
    }

    /// Counts the answer and writes its line; `head`: `None` for `<BADREQ>`.
    fn write(
        &self,
        head: Option<&RequestHead>,
        date: SystemTime,
        started: Instant,
        f: LogFacts<'_>,
    ) {
        let cfg = self.g.config();
        let fe = cfg.proxy(self.info.frontend);
        let c = &self.g.counters;
        let fe_c = c.proxy(usize::from(self.info.frontend.0));
        if let Some(fc) = fe_c {
            inc(&fc.responses[class_index(f.status)]);
            add(&fc.bytes_out, f.bytes);
        }
        let be_c = f.backend_id.and_then(|b| c.proxy(usize::from(b.0)));
        let srv_c = f.server_id.and_then(|s| c.server(s.0 as usize));
        if let Some(bc) = be_c
            && f.backend_id != Some(self.info.frontend)
        {
            inc(&bc.responses[class_index(f.status)]);
            add(&bc.bytes_out, f.bytes);
        }
        if let Some(sc) = srv_c {
            inc(&sc.responses[class_index(f.status)]);
            add(&sc.bytes_out, f.bytes);
        }
        let t = f.times;
        self.g.global.logger.log(&Entry {
            client: self.info.src,
            accept_date: date,
            frontend: &fe.name,
            backend: f.backend,
            server: f.server,
            t_request: t.t_request,
            t_queue: t.t_queue,
            t_connect: t.t_connect,
            t_response: t.t_response,
            t_active: ms(started.elapsed()),
            status: f.status,
            bytes: f.bytes,
            termination: f.termination,
            actconn: get(&self.g.global.actconn),
            feconn: fe_c.map_or(0, |c| get(&c.conns_cur)),
            beconn: be_c.map_or(0, |c| get(&c.reqs_cur)),
            srv_conn: srv_c.map_or(0, |c| get(&c.cur)),
            retries: t.attempts.retries(),
            redispatched: t.attempts.was_redispatched(),
            srv_queue: self.queue_pos[0].swap(0, std::sync::atomic::Ordering::Relaxed),
            backend_queue: self.queue_pos[1].swap(0, std::sync::atomic::Ordering::Relaxed),
            request: head.map(|h| (h.method(), h.target(), h.version_text())),
        });
    }
}
