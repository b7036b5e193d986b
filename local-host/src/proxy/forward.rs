//! The forward phase: a request the engine sent to a server. Runs the queue and
//! connect phases, sends the request (its body streamed while the response head is
//! awaited), applies the `http-response` rules to the head, relays the response body
//! ([`super::relay`]) and keeps or closes the server connection; a `101` goes on to
//! the tunnel phase.

use std::time::{Duration, Instant};

use bytes::{Buf, BytesMut};
use router_core::Forward;
use router_core::RequestFacts;
use router_core::model::{Config, Proxy, Settings};
use router_core::unstable::reuse::{self, IdleList};
use router_core::unstable::termination::{Cause, Phase, Termination};
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};

use super::connect::Plan;
use super::connection::{After, ClientConn};
use super::exchange::{ActiveGuard, Ended, Exchange};
use super::log_line::LogFacts;
use super::relay::{self, Progress, Stop};
use super::tunnel::TunnelLog;
use super::{buffers, dur, ms, pool, quickack, write_all};
use crate::access_log;
use crate::engine::Engine;
use crate::h1::{self, BodyFraming, ResponseHead};
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

/// The request body on its way to the server while the response head is awaited.
struct Upload {
    /// What is left to send after the head (`None`: all of it went with the head).
    framing: BodyFraming,
    progress: Progress,
    /// How the upload ended; `None` while it goes on.
    result: Option<Result<u64, Stop>>,
}

/// What the forward phase's steps share. Dropping it ends the request's count on its
/// backend and server and gives the server buffer back.
struct Outbound<'l> {
    plan: Plan<'l>,
    upload: Upload,
    /// The server's bytes (response heads and bodies), lent for this exchange.
    sbuf: BytesMut,
    active: ActiveGuard,
    /// `timeout server`.
    server_to: Duration,
    /// The server connection closes after this exchange (router-core's rule).
    server_close: bool,
    /// The request may go again on a new connection when a reused one was closed
    /// under it (idempotent, all its bytes in hand).
    replayable: bool,
}

impl Drop for Outbound<'_> {
    fn drop(&mut self) {
        buffers::give(std::mem::take(&mut self.sbuf));
    }
}

/// A server connection that answered with a head.
struct Answered {
    stream: TcpStream,
    lease: pool::InUse,
    /// When the request went out (Tr counts from here).
    sent_at: Instant,
}

/// Why the request got no response head to relay.
enum Unsent {
    /// wtedge answers itself.
    Fail(Ended),
    /// The client connection closes without an answer.
    Close,
}

impl ClientConn {
    /// Takes the request to `fwd`'s server: the queue, then [`ClientConn::send`] and
    /// [`ClientConn::deliver`]; wtedge's own answer when a phase fails.
    pub(super) async fn forward(
        &mut self,
        fe: &Proxy,
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
        let st = router_core::unstable::timeouts::server_side(fe, be);
        let chunked_10 = head.version == Version::Http10 && head.framing == Framing::Chunked;
        let server_close = reuse::server_side_closes(fe, be, chunked_10);
        let pretend =
            fe.settings.options.http_pretend_keepalive || bs.options.http_pretend_keepalive;
        // Releases the backend/server "current" counters on every path.
        let active = ActiveGuard::new(g.clone(), usize::from(fwd.backend.0));

        let queue_start = Instant::now();
        let permit = self
            .queue(engine, &mut ex, &mut fwd, dur(st.queue), queue_start)
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
        let req_framing = h1::request_framing(head.framing);
        // Body bytes already read go with the head (one write for small requests).
        let inline_body = match req_framing {
            BodyFraming::Length(n) if (self.rbuf.len() as u64) >= n => Some(n as usize),
            _ => None,
        };
        let left_framing = if inline_body.is_some() {
            BodyFraming::None
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
        let mut out = Outbound {
            plan: Plan {
                connect_to: dur(st.connect),
                close: server_close && !pretend,
                inline_body,
                lists,
                reuse: bs.http_reuse,
                fresh_only: false,
                smart_connect: bs.options.tcp_smart_connect,
                queue_start,
            },
            upload: Upload {
                framing: left_framing,
                progress: Progress::default(),
                result: None,
            },
            sbuf: buffers::take(),
            active,
            server_to: dur(st.server),
            server_close,
            // A reused connection the server closed as the request came: an
            // idempotent request whose bytes are all in hand goes again on a new
            // connection (not a retry); any other closes the client connection
            // without an answer, as HAProxy 2.6 does for every request (http_ana.c's
            // abort_keep_alive), so that the client decides.
            replayable: left_framing == BodyFraming::None && reuse::may_send_again(head.method()),
        };
        let (answered, resp) = match self.send(engine, &mut ex, &mut fwd, &mut out, rd, wr).await {
            Ok(a) => a,
            Err(Unsent::Close) => return After::Close,
            Err(Unsent::Fail(e)) => {
                drop(out);
                return self.fail(&ex, wr, e).await;
            }
        };
        if let Some(n) = inline_body {
            let _ = self.rbuf.split_to(n);
        }
        let t_response = ms(answered.sent_at.elapsed());
        let resp = resp.and_then(|r| {
            // `%B` of a deny: the head as HAProxy counts it, and the body bytes
            // that came with it (counted only for a deny).
            let read = |r: &h1::ResponseHead| {
                let body = match r.framing {
                    BodyFraming::Length(n) => n.min(out.sbuf.len() as u64),
                    BodyFraming::None => 0,
                    _ => out.sbuf.len() as u64,
                };
                h1::client_head(r, head, false).0 + body
            };
            response_rules(cfg, engine, &fwd, &ex.facts, r, read)
        });
        let resp = match resp {
            Ok(r) => r,
            Err(Failure::ClientAborted) => {
                drop(out);
                let (status, term, _) = Failure::ClientAborted.answer();
                let facts = LogFacts::new(Some(fwd.backend), &be.name, status, 0, term)
                    .server(fwd.server, &cfg.server(fwd.server).name)
                    .times(ex.times);
                self.log(head, ex.date, ex.started, facts);
                return After::Close;
            }
            Err(f) => {
                drop(out);
                let (status, termination, read) = f.answer();
                let e = Ended {
                    read,
                    ..Ended::new(fwd.backend, Some(fwd.server), status, termination)
                };
                return self.fail(&ex, wr, e).await;
            }
        };
        ex.times.t_response = Some(t_response);
        self.deliver(&fwd, &ex, answered, resp, out, (rd, wr)).await
    }

    /// Connects (retrying, redispatching) and sends the request, its body streamed
    /// while the response head is awaited; interim answers go to the client. A reused
    /// connection closed under the request is replaced by a new one when `out` says
    /// the request may go again.
    async fn send<'c>(
        &mut self,
        engine: &'c dyn Engine,
        ex: &mut Exchange<'_>,
        fwd: &mut Forward<'c>,
        out: &mut Outbound<'_>,
        rd: &mut OwnedReadHalf,
        wr: &mut OwnedWriteHalf,
    ) -> Result<(Answered, Result<ResponseHead, Failure>), Unsent> {
        let fe = self.g.config().proxy(self.info.frontend);
        let smart_accept = fe.settings.options.tcp_smart_accept;
        let (head, client_to, server_to) = (ex.head, ex.client_to, out.server_to);
        loop {
            let c = self
                .connect_server(engine, ex, fwd, &out.plan, &mut out.active)
                .await
                .map_err(Unsent::Fail)?;
            let (mut stream, lease) = (c.stream, c.lease);
            ex.times.t_connect = Some(c.t_connect);
            // Borrowed halves: dropping them costs nothing (owned halves would shut the
            // write side down on drop, one more syscall per request).
            let (mut srd, mut swr) = stream.split();
            if out.upload.framing != BodyFraming::None && smart_accept {
                quickack::for_more(rd);
            }
            if !write_all(&mut swr, &c.out[c.sent..], server_to).await {
                if lease.reused && out.replayable {
                    out.plan.fresh_only = true;
                    continue;
                }
                if lease.reused {
                    return Err(Unsent::Close);
                }
                let failed = Termination::new(Cause::ServerClosed, Phase::Headers);
                return Err(Unsent::Fail(Ended::new(
                    fwd.backend,
                    Some(fwd.server),
                    502,
                    failed,
                )));
            }
            let sent_at = Instant::now();
            // Stream the request body and wait for the response head at the same time.
            // The connection's response buffer is reused from one exchange to the next.
            out.sbuf.clear();
            let up = &mut out.upload;
            up.result = (up.framing == BodyFraming::None).then_some(Ok(0));
            let resp = {
                let pump = relay::relay(
                    rd,
                    &mut self.rbuf,
                    &mut swr,
                    Vec::new(),
                    up.framing,
                    client_to,
                    server_to,
                    &mut up.progress,
                );
                tokio::pin!(pump);
                // The server answers the method it received (`set-method`).
                let sent_method = fwd.method.as_deref().unwrap_or(head.method());
                let read_head =
                    read_response(&mut srd, &mut out.sbuf, head, sent_method, wr, client_to);
                tokio::pin!(read_head);
                let mut deadline = tokio::time::Instant::now() + server_to;
                loop {
                    tokio::select! {
                        r = &mut pump, if up.result.is_none() => {
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
                            up.result = Some(r);
                            if let Some(f) = stop {
                                break Err(f);
                            }
                        }
                        r = &mut read_head => break r,
                        _ = tokio::time::sleep_until(deadline) => {
                            if up.result.is_some() {
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
            if matches!(resp, Err(Failure::Closed)) && lease.reused && out.sbuf.is_empty() {
                if out.replayable {
                    out.plan.fresh_only = true;
                    continue;
                }
                return Err(Unsent::Close);
            }
            let answered = Answered {
                stream,
                lease,
                sent_at,
            };
            return Ok((answered, resp));
        }
    }

    /// Relays the response `resp` (the `http-response` rules applied) to the client,
    /// or hands the connections to a tunnel after a `101`; keeps or closes the server
    /// connection, logs the exchange and drains what the client still sends of its
    /// body.
    async fn deliver(
        &mut self,
        fwd: &Forward<'_>,
        ex: &Exchange<'_>,
        answered: Answered,
        resp: ResponseHead,
        mut out: Outbound<'_>,
        (rd, wr): (&mut OwnedReadHalf, &mut OwnedWriteHalf),
    ) -> After {
        let g = self.g.clone();
        let cfg = g.config();
        let fe = cfg.proxy(self.info.frontend);
        let be = cfg.proxy(fwd.backend);
        let server_name = &cfg.server(fwd.server).name;
        let (head, client_to, server_to) = (ex.head, ex.client_to, out.server_to);
        let Answered {
            mut stream, lease, ..
        } = answered;
        let status = resp.status;
        let body_done = matches!(out.upload.result, Some(Ok(_)));

        if h1::is_tunnel(&resp, head) {
            let (bytes, head_out) = h1::client_head(&resp, head, false);
            let ok = write_all(wr, &head_out, client_to).await;
            let served = out.active.keep_served();
            let server_left = std::mem::take(&mut out.sbuf);
            drop(out);
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
                buffers::give(server_left);
                return After::Close;
            }
            let idle = dur(router_core::unstable::timeouts::server_side(fe, be).tunnel);
            return After::Tunnel(stream, server_left, idle, pending);
        }

        // The server answered before the whole request body was forwarded (or stopped
        // taking it): as HAProxy 2.6, the client connection stays open and the rest of
        // the body is read and dropped after the response.
        let up = &out.upload;
        let body_left = match up.result {
            None | Some(Err(Stop::WriteFailed | Stop::WriteTimeout)) => match up.framing {
                BodyFraming::Length(n) => {
                    Some(BodyFraming::Length(n.saturating_sub(up.progress.bytes)))
                }
                other => Some(other),
            },
            Some(Ok(_)) => None,
            Some(Err(_)) => Some(BodyFraming::Close),
        };
        let resp_conn = resp.connection();
        let keep = head.keep_alive
            && body_left != Some(BodyFraming::Close)
            && resp.framing != BodyFraming::Close
            && !reuse::client_side_closes(fe, resp_conn.keep_alive)
            && !*self.stopping.borrow();
        let (head_bytes, head_out) = h1::client_head(&resp, head, !keep);
        let mut progress = Progress::default();
        let (mut srd, _) = stream.split();
        let r = relay::relay(
            &mut srd,
            &mut out.sbuf,
            wr,
            head_out,
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
        if r.is_ok() && body_done && resp.framing != BodyFraming::Close {
            if !out.server_close && resp_conn.server_keeps() && !*self.stopping.borrow() {
                // Kept for a later request (router-core's reuse rules).
                self.keep_server_conn(fwd.server, out.plan.reuse, stream, lease);
            } else {
                // The exchange is complete and the response had a known length:
                // HAProxy 2.6 closes such a server connection with NOLINGER ("we want
                // to close ASAP", http_ana.c), an RST and no TIME_WAIT on the proxy's
                // side.
                let _ = stream.set_zero_linger();
            }
        }
        let mut upload = out.upload.progress;
        drop(out);
        let chunked = resp.framing == BodyFraming::Chunked;
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
/// frontend's) on the server's head: `Err` for a `deny` (with `read(head)`, its
/// `%B`), else the head as the rules left it.
fn response_rules(
    cfg: &Config,
    engine: &dyn Engine,
    fwd: &Forward<'_>,
    facts: &RequestFacts<'_>,
    mut resp: h1::ResponseHead,
    read: impl FnOnce(&h1::ResponseHead) -> u64,
) -> Result<h1::ResponseHead, Failure> {
    use router_core::unstable::rules::response;
    if !response::has_rules(cfg, fwd) {
        return Ok(resp);
    }
    let lines = resp.rule_lines();
    let view: Vec<(&str, &str)> = lines
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let health = engine.health_snapshot();
    let verdict = response::for_forward(cfg, fwd, (facts, &health), resp.status, &view);
    if let Some(status) = verdict.deny {
        return Err(Failure::Denied(status, read(&resp)));
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
) -> Result<h1::ResponseHead, Failure> {
    loop {
        match h1::parse_response(sbuf, method) {
            Err(_) => return Err(Failure::Invalid),
            Ok(Some((h, n))) => {
                sbuf.advance(n);
                if (100..200).contains(&h.status) && h.status != 101 {
                    let (_, out) = h1::client_head(&h, req, false);
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
                            && !router_core::unstable::upgrade::websocket_answer_usable(
                                h.headers()
                                    .any(|(k, _)| k.eq_ignore_ascii_case(b"sec-websocket-accept")),
                                h.headers()
                                    .find(|(k, _)| k.eq_ignore_ascii_case(b"content-encoding"))
                                    .map(|(_, v)| v),
                            )));
                if unusable_101
                    || (h.framing == h1::BodyFraming::Chunked && h1::chunked_start_invalid(sbuf))
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
