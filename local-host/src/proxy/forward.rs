//! The forward phase: a request the engine sent to a server. Runs the queue and
//! connect phases, sends the request (its body streamed while the response head is
//! awaited), applies the `http-response` rules to the head, relays the response body
//! ([`super::relay`]) and keeps or closes the server connection; a `101` goes on to
//! the tunnel phase.

use std::time::{Duration, Instant};

use bytes::{Buf, BytesMut};
use router_core::config::model::{Config, Proxy, Settings};
use router_core::decision::Forward;
use router_core::request::RequestFacts;
use router_core::reuse::{self, IdleList};
use router_core::termination::{Cause, Phase, Termination};
use tokio::io::AsyncReadExt;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};

use super::connect::Plan;
use super::connection::{After, ClientConn};
use super::exchange::{ActiveGuard, Ended, Exchange};
use super::log_line::LogFacts;
use super::relay::{self, Progress, Stop};
use super::tunnel::TunnelLog;
use super::{buffers, dur, ms, origin, quickack, write_all};
use crate::access_log;
use crate::engine::Engine;
use crate::h1::{Framing, RequestHead, Version};

/// Why no usable response head came.
enum Failure {
    BadRequest,
    Invalid,
    Closed,
    Timeout,
    /// The client left in the middle of its request body.
    ClientAborted,
    /// An `http-response deny` rule: HAProxy's error page for this status, and the
    /// bytes read of the server's answer.
    Denied(u16, u64),
}

impl Failure {
    /// The status wtedge answers and HAProxy's termination state.
    fn answer(self) -> (u16, Termination, u64) {
        let t = Termination::new;
        match self {
            // Logged without an answer (see `forward`).
            Failure::ClientAborted => (
                access_log::NO_STATUS,
                t(Cause::ClientClosed, Phase::Data),
                0,
            ),
            Failure::BadRequest => (400, t(Cause::Proxy, Phase::Request), 0),
            Failure::Invalid => (502, t(Cause::Proxy, Phase::Headers), 0),
            Failure::Closed => (502, t(Cause::ServerClosed, Phase::Headers), 0),
            Failure::Timeout => (504, t(Cause::ServerTimeout, Phase::Headers), 0),
            // HAProxy 2.6 logs a response rule's deny as a bad answer, counting
            // what it had read of the server's answer.
            Failure::Denied(status, read) => (status, t(Cause::Proxy, Phase::Headers), read),
        }
    }
}

impl ClientConn {
    pub(super) async fn forward(
        &mut self,
        fe: &Proxy,
        facts: &RequestFacts<'_>,
        mut fwd: Forward<'_>,
        mut ex: Exchange<'_>,
        rd: &mut OwnedReadHalf,
        wr: &mut OwnedWriteHalf,
    ) -> After {
        let g = self.g.clone();
        let engine = g.engine.as_ref();
        let cfg = engine.config();
        let be = cfg.proxy(fwd.backend);
        let bs: &Settings = &be.settings;
        let head = ex.head;
        let client_to = ex.client_to;
        let st = router_core::timeouts::server_side(fe, be);
        let server_to = dur(st.server);
        let chunked_10 = head.version == Version::Http10 && head.framing == Framing::Chunked;
        let server_close = reuse::server_side_closes(fe, be, chunked_10);
        let pretend =
            fe.settings.options.http_pretend_keepalive || bs.options.http_pretend_keepalive;
        // Releases the backend/server "current" counters on every path.
        let mut active = ActiveGuard::new(g.clone(), usize::from(fwd.backend.0));

        let queue_start = Instant::now();
        let permit = self
            .queue(engine, &mut ex, &mut fwd, facts, dur(st.queue), queue_start)
            .await;
        let _permit = match permit {
            Ok(p) => p,
            Err(e) => {
                drop(active);
                return self.fail(&ex, wr, e).await;
            }
        };

        // The request head exactly as HAProxy sends it, built for each attempt (a
        // redispatch may change the appended headers) and sent with the connect.
        let req_framing = origin::request_framing(head.framing);
        // Body bytes already read go with the head (one write for small requests).
        let inline_body = match req_framing {
            origin::BodyFraming::Length(n) if (self.rbuf.len() as u64) >= n => Some(n as usize),
            _ => None,
        };
        let left_framing = if inline_body.is_some() {
            origin::BodyFraming::None
        } else {
            req_framing
        };
        // Idle server connections this request may take (router-core's rule). An
        // upgrade always gets a new one: Wt 4.14 fails an upgrade that comes on a
        // connection which served a request before.
        let lists: &[IdleList] = if server_close || head.upgrade {
            &[]
        } else {
            reuse::lists_for(bs.http_reuse, self.requests <= 1)
        };
        let mut plan = Plan {
            connect_to: dur(st.connect),
            turnaround: Duration::from_millis(router_core::retry::turnaround_ms(st.connect)),
            close: server_close && !pretend,
            inline_body,
            lists,
            reuse: bs.http_reuse,
            fresh_only: false,
            retries: bs.retries,
            smart_connect: bs.options.tcp_smart_connect,
            queue_start,
        };
        // A reused connection the server closed as the request came: an idempotent
        // request whose bytes are all in hand goes again on a new connection (not a
        // retry); any other closes the client connection without an answer, as
        // HAProxy 2.6 does for every request (http_ana.c's abort_keep_alive), so that
        // the client decides.
        let replayable =
            left_framing == origin::BodyFraming::None && reuse::may_send_again(&head.method);
        // The server's bytes (response heads and bodies), lent for this exchange.
        let mut sbuf = buffers::take();
        let mut upload = Progress::default();
        let mut pump_res: Option<Result<u64, Stop>>;
        let (mut stream, lease, sent_at, resp) = 'attempt: loop {
            let connected = self
                .connect_server(engine, &mut ex, &mut fwd, facts, &plan, &mut active)
                .await;
            let c = match connected {
                Ok(c) => c,
                Err(e) => {
                    drop(active);
                    buffers::give(sbuf);
                    return self.fail(&ex, wr, e).await;
                }
            };
            let (mut stream, lease) = (c.stream, c.lease);
            ex.times.t_connect = Some(c.t_connect);
            // Borrowed halves: dropping them costs nothing (owned halves would shut the
            // write side down on drop, one more syscall per request).
            let (mut srd, mut swr) = stream.split();
            if left_framing != origin::BodyFraming::None && fe.settings.options.tcp_smart_accept {
                quickack::for_more(rd);
            }
            if !write_all(&mut swr, &c.out[c.sent..], server_to).await {
                if lease.reused && replayable {
                    plan.fresh_only = true;
                    continue 'attempt;
                }
                if lease.reused {
                    return After::Close;
                }
                drop(active);
                buffers::give(sbuf);
                let failed = Termination::new(Cause::ServerClosed, Phase::Headers);
                let e = Ended::new(fwd.backend, Some(fwd.server), 502, failed);
                return self.fail(&ex, wr, e).await;
            }
            let sent_at = Instant::now();
            // Stream the request body and wait for the response head at the same time.
            // The connection's response buffer is reused from one exchange to the next.
            sbuf.clear();
            pump_res = (left_framing == origin::BodyFraming::None).then_some(Ok(0));
            let resp = {
                let pump = relay::relay(
                    rd,
                    &mut self.rbuf,
                    &mut swr,
                    Vec::new(),
                    left_framing,
                    client_to,
                    server_to,
                    &mut upload,
                );
                tokio::pin!(pump);
                // The server answers the method it received (`set-method`).
                let sent_method = fwd.method.as_deref().unwrap_or(&head.method);
                let read_head =
                    read_response(&mut srd, &mut sbuf, head, sent_method, wr, client_to);
                tokio::pin!(read_head);
                let mut deadline = tokio::time::Instant::now() + server_to;
                loop {
                    tokio::select! {
                        r = &mut pump, if pump_res.is_none() => {
                            // A client silent mid-body does not move the server's
                            // deadline: HAProxy 2.6 cancels the client's timeout while
                            // the server's runs (stream.c), so `timeout server` decides.
                            if !matches!(r, Err(Stop::Timeout)) {
                                deadline = tokio::time::Instant::now() + server_to;
                            }
                            let stop = match &r {
                                Err(Stop::Invalid) => Some(Failure::BadRequest),
                                // HAProxy 2.6 aborts at once when the client leaves
                                // in the middle of its body: no answer, logged `CD`.
                                Err(Stop::Closed) => Some(Failure::ClientAborted),
                                _ => None,
                            };
                            pump_res = Some(r);
                            if let Some(f) = stop {
                                break Err(f);
                            }
                        }
                        r = &mut read_head => break r,
                        _ = tokio::time::sleep_until(deadline) => {
                            if pump_res.is_some() {
                                break Err(Failure::Timeout);
                            }
                            // Still uploading: the server may answer only at the end.
                            deadline = tokio::time::Instant::now() + server_to;
                        }
                    }
                }
            };
            // A reused connection the server closed as the request went out: not the
            // server's failure, the request goes again on a new connection.
            if matches!(resp, Err(Failure::Closed)) && lease.reused && sbuf.is_empty() {
                if replayable {
                    plan.fresh_only = true;
                    continue 'attempt;
                }
                return After::Close;
            }
            break (stream, lease, sent_at, resp);
        };
        if let Some(n) = inline_body {
            let _ = self.rbuf.split_to(n);
        }
        let t_response = ms(sent_at.elapsed());
        let resp = resp.and_then(|r| {
            // `%B` of a deny: the head as HAProxy counts it, and the body bytes
            // that came with it.
            let body = match r.framing {
                origin::BodyFraming::Length(n) => n.min(sbuf.len() as u64),
                origin::BodyFraming::None => 0,
                _ => sbuf.len() as u64,
            };
            let read = origin::client_head(&r, head, false).0 + body;
            response_rules(cfg, engine, &fwd, facts, r).map_err(|f| match f {
                Failure::Denied(status, _) => Failure::Denied(status, read),
                other => other,
            })
        });
        let server_name = &cfg.server(fwd.server).name;
        let resp = match resp {
            Ok(r) => r,
            Err(Failure::ClientAborted) => {
                drop(active);
                buffers::give(sbuf);
                let (status, term, _) = Failure::ClientAborted.answer();
                let facts = LogFacts::new(Some(fwd.backend), &be.name, status, 0, term)
                    .server(fwd.server, server_name)
                    .times(ex.times);
                self.log(head, ex.date, ex.started, facts);
                return After::Close;
            }
            Err(f) => {
                drop(active);
                let (status, termination, read) = f.answer();
                let e = Ended {
                    read,
                    ..Ended::new(fwd.backend, Some(fwd.server), status, termination)
                };
                return self.fail(&ex, wr, e).await;
            }
        };
        ex.times.t_response = Some(t_response);
        let body_done = matches!(pump_res, Some(Ok(_)));
        let status = resp.status;

        if origin::is_tunnel(&resp, head) {
            let (bytes, out) = origin::client_head(&resp, head, false);
            let ok = write_all(wr, &out, client_to).await;
            let served = active.keep_served();
            drop(active);
            let pending = Box::new(TunnelLog {
                _served: served,
                backend_id: fwd.backend,
                server_id: fwd.server,
                backend: be.name.clone(),
                server: server_name.clone(),
                times: ex.times,
                status,
                head_bytes: bytes,
            });
            if !ok {
                let (date, started) = (ex.date, ex.started);
                self.log_tunnel(head, date, started, &pending, 0, Termination::NORMAL);
                return After::Close;
            }
            return After::Tunnel(stream, sbuf, dur(st.tunnel), pending);
        }

        // The server answered before the whole request body was forwarded (or stopped
        // taking it): as HAProxy 2.6, the client connection stays open and the rest of
        // the body is read and dropped after the response.
        let body_left = match pump_res {
            None | Some(Err(Stop::WriteFailed | Stop::WriteTimeout)) => match left_framing {
                origin::BodyFraming::Length(n) => {
                    Some(origin::BodyFraming::Length(n.saturating_sub(upload.bytes)))
                }
                other => Some(other),
            },
            Some(Ok(_)) => None,
            Some(Err(_)) => Some(origin::BodyFraming::Close),
        };
        let resp_conn = resp.connection();
        let keep = head.keep_alive
            && body_left != Some(origin::BodyFraming::Close)
            && resp.framing != origin::BodyFraming::Close
            && !reuse::client_side_closes(fe, resp_conn.keep_alive)
            && !*self.stopping.borrow();
        let (head_bytes, out) = origin::client_head(&resp, head, !keep);
        let mut progress = Progress::default();
        let (mut srd, _) = stream.split();
        let r = relay::relay(
            &mut srd,
            &mut sbuf,
            wr,
            out,
            resp.framing,
            server_to,
            client_to,
            &mut progress,
        )
        .await;
        let term = match r {
            Ok(_) => Termination::NORMAL,
            Err(Stop::WriteFailed) => Termination::new(Cause::ClientClosed, Phase::Data),
            // The client did not read for `timeout client`.
            Err(Stop::WriteTimeout) => Termination::new(Cause::ClientTimeout, Phase::Data),
            Err(Stop::Timeout) => Termination::new(Cause::ServerTimeout, Phase::Data),
            Err(_) => Termination::new(Cause::ServerClosed, Phase::Data),
        };
        if r.is_ok() && body_done && resp.framing != origin::BodyFraming::Close {
            if !server_close && resp_conn.server_keeps() && !*self.stopping.borrow() {
                // Kept for a later request (router-core's reuse rules).
                self.keep_server_conn(fwd.server, bs.http_reuse, stream, lease);
            } else {
                // The exchange is complete and the response had a known length:
                // HAProxy 2.6 closes such a server connection with NOLINGER ("we want
                // to close ASAP", http_ana.c), an RST and no TIME_WAIT on the proxy's
                // side.
                let _ = stream.set_zero_linger();
            }
        }
        drop(active);
        buffers::give(sbuf);
        let chunked = resp.framing == origin::BodyFraming::Chunked;
        let sent = progress.bytes;
        let log_bytes = head_bytes + sent + u64::from(chunked && sent > 0);
        let facts = LogFacts::new(Some(fwd.backend), &be.name, status, log_bytes, term)
            .server(fwd.server, server_name)
            .times(ex.times);
        self.log(head, ex.date, ex.started, facts);
        if !(r.is_ok() && keep) {
            return After::Close;
        }
        if let Some(left) = body_left {
            let drained = relay::relay(
                rd,
                &mut self.rbuf,
                &mut tokio::io::sink(),
                Vec::new(),
                left,
                client_to,
                client_to,
                &mut upload,
            )
            .await;
            if drained.is_err() {
                return After::Close;
            }
        }
        After::KeepAlive
    }
}

/// Runs router-core's `http-response` rules (the backend's, then the
/// frontend's) on the server's head: `Err` for a `deny`, else the head as the
/// rules left it.
fn response_rules(
    cfg: &Config,
    engine: &dyn Engine,
    fwd: &Forward<'_>,
    facts: &RequestFacts<'_>,
    mut resp: origin::ResponseHead,
) -> Result<origin::ResponseHead, Failure> {
    let (fe, be) = (cfg.proxy(fwd.frontend), cfg.proxy(fwd.backend));
    if fe.http_responses.is_empty() && be.http_responses.is_empty() {
        return Ok(resp);
    }
    let lines = resp.rule_lines();
    let view: Vec<(&str, &str)> = lines
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let verdict = router_core::rules::response::apply(
        cfg,
        (fwd.frontend, fwd.backend),
        (facts, &fwd.vars, &engine.health_snapshot()),
        resp.status,
        &view,
    );
    if let Some(status) = verdict.deny {
        return Err(Failure::Denied(status, 0));
    }
    resp.apply_rules(&verdict);
    Ok(resp)
}

/// Reads the response head to a request sent with `method`; interim answers (100
/// Continue...) go to the client as they come.
async fn read_response(
    srd: &mut tokio::net::tcp::ReadHalf<'_>,
    sbuf: &mut BytesMut,
    req: &RequestHead,
    method: &str,
    wr: &mut OwnedWriteHalf,
    client_to: Duration,
) -> Result<origin::ResponseHead, Failure> {
    loop {
        match origin::parse_response(sbuf, method) {
            Err(_) => return Err(Failure::Invalid),
            Ok(Some((h, n))) => {
                sbuf.advance(n);
                if (100..200).contains(&h.status) && h.status != 101 {
                    let (_, out) = origin::client_head(&h, req, false);
                    if !write_all(wr, &out, client_to).await {
                        return Err(Failure::Closed);
                    }
                    continue;
                }
                // A 101 the request did not ask for, or one that is no usable WebSocket
                // (router-core's rule: no Sec-WebSocket-Accept, an encoded content), is
                // 502; so are chunks seen invalid before the head is forwarded.
                let unusable_101 = h.status == 101
                    && (!req.upgrade
                        || (req.websocket
                            && !router_core::upgrade::websocket_answer_usable(
                                h.headers()
                                    .any(|(k, _)| k.eq_ignore_ascii_case(b"sec-websocket-accept")),
                                h.headers()
                                    .find(|(k, _)| k.eq_ignore_ascii_case(b"content-encoding"))
                                    .map(|(_, v)| v),
                            )));
                if unusable_101
                    || (h.framing == origin::BodyFraming::Chunked
                        && origin::chunked_start_invalid(sbuf))
                {
                    return Err(Failure::Invalid);
                }
                return Ok(h);
            }
            Ok(None) => {
                if sbuf.capacity() - sbuf.len() < 4096 {
                    sbuf.reserve(16 * 1024);
                }
                match srd.read_buf(sbuf).await {
                    Ok(0) | Err(_) => return Err(Failure::Closed),
                    Ok(_) => {}
                }
            }
        }
    }
}
