//! The connect phase: a connection to the chosen server for one attempt, an idle one
//! when router-core's reuse rules allow, else a new one, with HAProxy's retries,
//! turn-around delay and redispatch (router-core's `retry`). Also where a server
//! connection is kept after an exchange.

use std::time::{Duration, Instant};

use router_core::Observation;
use router_core::model::{HttpReuse, ServerId};
use router_core::unstable::retry::NextAttempt;
use router_core::unstable::reuse::IdleList;
use router_core::unstable::termination::{Cause, Phase, Termination};
use router_core::{Forward, Upstream};
use tokio::net::TcpStream;

use super::connection::ClientConn;
use super::exchange::{ActiveGuard, Ended, Exchange};
use super::{ms, pool};
use crate::engine::Engine;
use crate::h1;
use crate::state::counters::inc;
use crate::state::now_ms;

/// Server connections a client connection keeps for itself under `http-reuse never`
/// (HAProxy's `max-session-srv-conns` default).
pub(super) const MAX_PRIVATE: usize = 10;

/// How an exchange connects, the same for each of its attempts.
pub(super) struct Plan<'l> {
    /// `timeout connect`.
    pub(super) connect_to: Duration,
    /// The request asks the server to close (`Connection: close`).
    pub(super) close: bool,
    /// Body bytes already read that go with the head.
    pub(super) inline_body: Option<usize>,
    /// Idle server connections this request may take.
    pub(super) lists: &'l [IdleList],
    pub(super) reuse: HttpReuse,
    /// Take no idle connection (a reused one failed as the request went out).
    pub(super) fresh_only: bool,
    /// The backend's `option tcp-smart-connect`.
    pub(super) smart_connect: bool,
    /// When the request started waiting for a server (Tw counts from here).
    pub(super) queue_start: Instant,
}

/// A server connection ready for the request.
pub(super) struct Connected {
    pub(super) stream: TcpStream,
    /// The request's bytes (head, and the body bytes in hand).
    pub(super) out: Vec<u8>,
    /// How many of them went out with the connect.
    pub(super) sent: usize,
    pub(super) lease: pool::InUse,
    /// Tc.
    pub(super) t_connect: u64,
}

impl ClientConn {
    /// Connects to `fwd`'s server, retrying and redispatching as router-core says;
    /// `fwd` and the exchange's retries, redispatch and Tw follow. `Err`: the answer
    /// to give once the retries are spent.
    pub(super) async fn connect_server<'c>(
        &mut self,
        engine: &'c dyn Engine,
        ex: &mut Exchange<'_>,
        fwd: &mut Forward<'c>,
        plan: &Plan<'_>,
        active: &mut ActiveGuard,
    ) -> Result<Connected, Ended> {
        let g = self.g.clone();
        let cfg = engine.config();
        ex.times.t_connect = None;
        loop {
            active.set_server(Some(fwd.server.0 as usize));
            let mut out = request_bytes(ex.head, fwd, plan.close);
            if let Some(n) = plan.inline_body {
                out.extend_from_slice(&self.rbuf[..n]);
            }
            let connect_start = Instant::now();
            let connected = |stream, sent, lease, out| Connected {
                stream,
                out,
                sent,
                lease,
                t_connect: ms(connect_start.elapsed()),
            };
            if !plan.fresh_only
                && let Some((s, lease)) = self.idle_conn(fwd, plan.lists, plan.reuse)
            {
                return Ok(connected(s, 0, lease, out));
            }
            let attempt = connect(fwd.upstream, plan.connect_to, &out, plan.smart_connect).await;
            let e = match attempt {
                Ok((s, sent)) => {
                    let lease = g.pools.opened(fwd.server.0 as usize);
                    return Ok(connected(s, sent, lease, out));
                }
                Err(e) => e,
            };
            if let Some(c) = g.counters.server(fwd.server.0 as usize) {
                inc(&c.connect_errors);
            }
            self.passive_failure(fwd.server, &e);
            // HAProxy 2.6's retries, turn-around and redispatch: router-core's machine,
            // the Worker's too. wtedge connects before it reads a body: it can always
            // send the request again.
            let next = ex
                .times
                .attempts
                .connect_failed(cfg, fwd, true, |s| engine.is_up(s));
            let NextAttempt::Retry {
                wait_ms,
                redispatch,
            } = next
            else {
                let status = match next {
                    NextAttempt::GiveUp { status } => status,
                    _ => 503,
                };
                let refused = Termination::new(Cause::ServerClosed, Phase::Connect);
                return Err(Ended::new(fwd.backend, Some(fwd.server), status, refused));
            };
            if let Some(c) = g.counters.server(fwd.server.0 as usize) {
                inc(&c.retries);
            }
            if wait_ms > 0 {
                tokio::time::sleep(Duration::from_millis(wait_ms)).await;
            }
            if redispatch {
                ex.times.t_queue = Some(ms(plan.queue_start.elapsed()));
                if let Some(other) = engine.redispatch(fwd, &ex.facts) {
                    if other.server != fwd.server
                        && let Some(c) = g.counters.server(other.server.0 as usize)
                    {
                        inc(&c.redispatches);
                    }
                    ex.times.attempts.redispatched_to(fwd.server, other.server);
                    *fwd = other;
                }
            }
        }
    }

    /// An idle server connection for `fwd`: this client connection's own under
    /// `http-reuse never`, else one of the server's idle ones that `lists` allow.
    fn idle_conn(
        &mut self,
        fwd: &Forward<'_>,
        lists: &[IdleList],
        mode: HttpReuse,
    ) -> Option<(TcpStream, pool::InUse)> {
        if mode == HttpReuse::Never {
            let i = self.private.iter().position(|(s, _, _)| *s == fwd.server)?;
            let (_, stream, served) = self.private.swap_remove(i);
            if !pool::alive(&stream) {
                return None;
            }
            let mut lease = self.g.pools.opened(fwd.server.0 as usize);
            lease.served = served;
            lease.reused = true;
            return Some((stream, lease));
        }
        self.g.pools.take(fwd.server.0 as usize, lists)
    }

    /// Keeps a server connection after a complete exchange: for this client
    /// connection alone under `http-reuse never`, else in the server's idle lists.
    pub(super) fn keep_server_conn(
        &mut self,
        server: ServerId,
        mode: HttpReuse,
        stream: TcpStream,
        lease: pool::InUse,
    ) {
        if mode == HttpReuse::Never {
            if self.private.len() < MAX_PRIVATE {
                self.private.push((server, stream, lease.served + 1));
            }
            return;
        }
        self.g.pools.park(lease, stream);
    }

    fn passive_failure(&self, server: ServerId, err: &std::io::Error) {
        let engine = self.g.engine.as_ref();
        let cfg = engine.config();
        let source = cfg.server(server).health_source;
        let obs = Observation {
            at_ms: now_ms(),
            ok: false,
            passive: true,
        };
        if let Some(t) = engine.observe(source, obs) {
            crate::health_check::report(
                &self.g,
                t,
                &format!("Layer4 connection problem, info: \"{err}\" (passive)"),
            );
        }
    }
}

/// The request head for `fwd` (with its appended headers), as HAProxy sends it.
pub(super) fn request_bytes(head: &h1::RequestHead, fwd: &Forward<'_>, close: bool) -> Vec<u8> {
    let edits = h1::writer::Edits {
        headers: &fwd.edits,
        method: fwd.method.as_deref(),
        target: fwd.target.as_deref(),
    };
    let mut appended: [(&str, std::net::IpAddr); 2] = [("", std::net::IpAddr::from([0; 4])); 2];
    let mut n = 0;
    for a in [fwd.forwarded_for, fwd.original_to].into_iter().flatten() {
        appended[n] = (a.name, a.value);
        n += 1;
    }
    h1::request_head(head, &edits, &appended[..n], close)
}

/// Connects to the server and sends what of `first` the socket takes at once.
/// Returns the stream and how many bytes of `first` went out.
///
/// The request is written right after `connect()` instead of after a poller round
/// trip (HAProxy 2.6 waits for the poller, strace shows): on a local network the
/// handshake is usually over when `connect()` returns `EINPROGRESS`, and a write
/// that succeeds proves the connection is up. When the socket takes nothing yet, it
/// waits for the connection as a plain connect does.
///
/// `smart_connect` (the backend's `option tcp-smart-connect`): the socket delays the
/// ACK that ends the handshake so that the request carries it.
async fn connect(
    up: Upstream<'_>,
    timeout: Duration,
    first: &[u8],
    smart_connect: bool,
) -> std::io::Result<(TcpStream, usize)> {
    let fut = async {
        let addr = match up {
            Upstream::Socket(addr) => addr,
            Upstream::Name { host, port } => {
                let s = TcpStream::connect((host, port)).await?;
                let _ = s.set_nodelay(true);
                return Ok((s, 0));
            }
        };
        let socket = socket2::Socket::new(
            socket2::Domain::for_address(addr),
            socket2::Type::STREAM.nonblocking(),
            Some(socket2::Protocol::TCP),
        )?;
        let _ = socket.set_tcp_nodelay(true);
        #[cfg(target_os = "linux")]
        if smart_connect && !first.is_empty() {
            let _ = socket.set_tcp_quickack(false);
        }
        #[cfg(not(target_os = "linux"))]
        let _ = smart_connect;
        match socket.connect(&addr.into()) {
            Ok(()) => {}
            Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => {}
            Err(e) => return Err(e),
        }
        let sent = if first.is_empty() {
            0
        } else {
            match socket.send(first) {
                Ok(n) => n,
                Err(e)
                    if e.kind() == std::io::ErrorKind::WouldBlock
                        || e.kind() == std::io::ErrorKind::NotConnected =>
                {
                    0
                }
                Err(e) => return Err(e),
            }
        };
        let stream = TcpStream::from_std(std::net::TcpStream::from(socket))?;
        if sent == 0 {
            // Not known to be connected yet: wait for the handshake's outcome.
            stream.writable().await?;
            if let Some(e) = stream.take_error()? {
                return Err(e);
            }
        }
        Ok((stream, sent))
    };
    match tokio::time::timeout(timeout, fut).await {
        Ok(r) => r,
        Err(_) => Err(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            "connection timeout",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use router_core::Decision;
    use router_core::RequestFacts;

    /// Seen on HAProxy 2.6.12 (frontend `set-header X-A fe-set`, `add-header X-B
    /// added`, `del-header X-Del`, backend `set-header X-Be b1`): what the server got.
    #[test]
    fn edits_reach_the_server_as_haproxy_sends_them() {
        let raw = b"GET /x HTTP/1.1\r\nhost: h\r\nX-A: client1\r\nX-Del: 1\r\nX-A: client2\r\nX-B: c\r\n\r\n";
        let Ok(Some((head, _))) = h1::RequestHead::parse(raw) else {
            panic!("request did not parse");
        };
        let cfg = router_core::parse(
            "t.cfg",
            "frontend f\n bind :80\n http-request set-header X-A fe-set\n http-request add-header X-B added\n\
             http-request del-header X-Del\n default_backend b\n\
             backend b\n http-request set-header X-Be b1\n server s 10.0.0.1:80\n",
        )
        .unwrap_or_else(|e| panic!("{e}"))
        .config;
        let hdrs = head.header_pairs();
        let facts = RequestFacts {
            method: head.method(),
            target: head.target(),
            version: head.version_text(),
            headers: &hdrs,
            src: "10.0.0.7:5000".parse().unwrap_or_else(|_| panic!()),
            dst: "10.0.0.9:80".parse().unwrap_or_else(|_| panic!()),
            tls: false,
        };
        let fe = cfg.default_frontend().unwrap_or_else(|| panic!());
        let health = router_core::HealthSnapshot::all_up(&cfg);
        let tickets = router_core::LocalTickets::new(&cfg);
        let Decision::Forward(fwd) = router_core::decide(&cfg, fe, &facts, &health, &tickets, None)
        else {
            panic!("not forwarded");
        };
        let sent = String::from_utf8(request_bytes(&head, &fwd, false)).unwrap_or_default();
        assert_eq!(
            sent,
            "GET /x HTTP/1.1\r\nhost: h\r\nx-b: c\r\nx-a: fe-set\r\nx-b: added\r\nx-be: b1\r\n\r\n"
        );
    }
}
