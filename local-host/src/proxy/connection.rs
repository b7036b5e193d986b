//! The connection phase: one client connection from accept to close. Reads each
//! request head (HAProxy's `timeout http-request` / `http-keep-alive` / `client`),
//! logs what never became a request, runs the exchanges one after the other while
//! the connection is kept alive, and hands it to a tunnel after a `101`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::{Duration, Instant, SystemTime};

use bytes::BytesMut;
use router_core::model::{Proxy, ProxyId, ServerId};
use router_core::unstable::termination::{Cause, Phase, Termination};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::watch;

use super::exchange::config_page;
use super::tunnel::{TunnelLog, tunnel};
use super::{buffers, dur, quickack, write_all};
use crate::h1::{self, RequestHead};
use crate::state::Generation;
use crate::state::counters::{dec, inc};

/// A client connection's fixed facts.
pub struct ConnInfo {
    pub frontend: ProxyId,
    pub src: SocketAddr,
    pub dst: SocketAddr,
}

/// Serves one client connection until it closes.
pub async fn serve_connection(g: Arc<Generation>, info: ConnInfo, stream: TcpStream) {
    // Linux gives accepted sockets the listener's TCP_NODELAY (set in run/listen.rs):
    // one system call per connection less.
    #[cfg(not(target_os = "linux"))]
    let _ = stream.set_nodelay(true);
    // The frontend's maxconn: above it, a connection waits until one closes.
    let _fe_slot = match g.frontend_slots.get(usize::from(info.frontend.0)) {
        Some(Some(sem)) => sem.clone().acquire_owned().await.ok(),
        _ => None,
    };
    let cfg = g.config();
    let fe = cfg.proxy(info.frontend);
    let fe_idx = usize::from(info.frontend.0);
    if let Some(c) = g.counters.proxy(fe_idx) {
        inc(&c.conns_cur);
        inc(&c.conns_total);
    }
    inc(&g.global.actconn);
    let mut conn = ClientConn {
        g: g.clone(),
        info,
        rbuf: BytesMut::new(),
        stopping: g.global.stopping.clone(),
        queue_pos: [AtomicU64::new(0), AtomicU64::new(0)],
        requests: 0,
        private: Vec::new(),
    };
    let (rd, wr) = stream.into_split();
    conn.run(fe, rd, wr).await;
    if let Some(c) = g.counters.proxy(fe_idx) {
        dec(&c.conns_cur);
    }
    dec(&g.global.actconn);
}

/// A client connection's state across its exchanges.
pub(super) struct ClientConn {
    pub(super) g: Arc<Generation>,
    pub(super) info: ConnInfo,
    /// The client's bytes; lent by [`buffers`] while a request is read.
    pub(super) rbuf: BytesMut,
    pub(super) stopping: watch::Receiver<bool>,
    /// The current request's place in a queue (server, backend), for its log line:
    /// HAProxy logs 0/0 for a request that did not wait, else the queue it waited in.
    pub(super) queue_pos: [AtomicU64; 2],
    /// Requests read on this connection so far (the first may not take an idle
    /// server connection under `http-reuse safe`).
    pub(super) requests: u32,
    /// Server connections of this client connection alone (`http-reuse never`):
    /// server, stream, requests served. At most [`super::connect::MAX_PRIVATE`].
    pub(super) private: Vec<(ServerId, TcpStream, u32)>,
}

/// How an exchange ended, for the connection loop.
pub(super) enum After {
    KeepAlive,
    Close,
    /// After a 101: the server connection, bytes it sent after its head, the idle
    /// timeout, and the log line to write when the tunnel ends.
    Tunnel(TcpStream, BytesMut, Duration, Box<TunnelLog>),
}

impl After {
    /// Keep-alive when the answer went out and nothing asks to close.
    pub(super) fn keep_if(keep: bool) -> After {
        if keep { After::KeepAlive } else { After::Close }
    }
}

/// What reading a request head came to.
pub(super) enum HeadRead {
    Head(RequestHead, Instant),
    /// Nothing (or only part of a head) arrived before the client closed.
    Closed {
        partial: bool,
    },
    Timeout {
        partial: bool,
    },
    Bad(h1::HeadError, Instant),
    Stopping,
}

impl ClientConn {
    /// Reads and serves requests until the connection closes, idles out, fails or
    /// becomes a tunnel.
    async fn run(&mut self, fe: &Proxy, mut rd: OwnedReadHalf, mut wr: OwnedWriteHalf) {
        let t = router_core::unstable::timeouts::client_side(fe);
        let client_to = dur(t.client);
        let request_to = dur(t.http_request);
        let keepalive_to = dur(t.http_keep_alive);
        let bad_request = Termination::new(Cause::ClientClosed, Phase::Request);
        let request_timeout = Termination::new(Cause::ClientTimeout, Phase::Request);
        let mut first = true;
        loop {
            let accept_date = SystemTime::now();
            // Ta of a request that never came counts from here, as HAProxy's.
            let accepted = Instant::now();
            let idle = if first { request_to } else { keepalive_to };
            let read = read_head(
                &mut rd,
                &mut self.rbuf,
                idle,
                request_to,
                &mut self.stopping,
                fe.settings.options.tcp_smart_accept,
            )
            .await;
            let was_first = first;
            first = false;
            let (head, started) = match read {
                HeadRead::Head(h, s) => (h, s),
                HeadRead::Stopping => return,
                HeadRead::Closed { partial } => {
                    // A connection that sent nothing is logged only without
                    // `option dontlognull` (and only for its first request).
                    let null = !partial && (was_first && !fe.settings.options.dontlognull);
                    if partial || null {
                        self.log_badreq(accept_date, accepted, 400, 0, bad_request);
                    }
                    return;
                }
                HeadRead::Timeout { partial } => {
                    if !partial && was_first && !fe.settings.options.dontlognull {
                        self.log_badreq(accept_date, accepted, 408, 0, request_timeout);
                    }
                    if partial {
                        // HAProxy's mux writes its own 408 page, whatever the
                        // errorfile, except that an empty errorfile silences it.
                        let cfg = self.g.config();
                        let silent = config_page(cfg, self.info.frontend, None, 408)
                            .is_some_and(|p| p.0.is_empty());
                        if !silent {
                            let _ = write_all(&mut wr, &h1::errors::early(408), client_to).await;
                        }
                        self.log_badreq(accept_date, accepted, 408, 0, request_timeout);
                    }
                    return;
                }
                HeadRead::Bad(e, started) => {
                    let (status, answer) = e.answer();
                    tracing::debug!("{status} to {}: {e}", self.info.src);
                    let _ = write_all(&mut wr, &answer, client_to).await;
                    let invalid = Termination::new(Cause::Proxy, Phase::Request);
                    self.log_badreq(accept_date, started, status, 0, invalid);
                    return;
                }
            };
            // Boxed: the exchange's state lives on the heap only while it runs, so that an
            // idle connection or a tunnel is a small future.
            let exchange =
                Box::pin(self.exchange(fe, &head, started, accept_date, &mut rd, &mut wr));
            match exchange.await {
                After::KeepAlive => {
                    if *self.stopping.borrow() {
                        return;
                    }
                }
                After::Close => {
                    let _ = wr.shutdown().await;
                    return;
                }
                After::Tunnel(server, server_left, idle, pending) => {
                    // Kept for the log line only: not the whole read buffer with it.
                    let mut head = head;
                    head.detach();
                    let (sent, term) = match rd.reunite(wr) {
                        Ok(client) => {
                            let client_left = std::mem::take(&mut self.rbuf);
                            tunnel(client, client_left, server, server_left, idle).await
                        }
                        Err(_) => (0, Termination::NORMAL),
                    };
                    self.log_tunnel(&head, accept_date, started, &pending, sent, term);
                    return;
                }
            }
        }
    }

    /// The `n` bytes of a small request body (the stats page's admin form): what
    /// the head's read left in the buffer, then the socket. `None` when the client
    /// closes or times out first.
    pub(super) async fn read_body(
        &mut self,
        rd: &mut OwnedReadHalf,
        n: usize,
        timeout: Duration,
    ) -> Option<Vec<u8>> {
        let deadline = Instant::now() + timeout;
        while self.rbuf.len() < n {
            if self.rbuf.capacity() == 0 {
                self.rbuf = buffers::take();
            }
            self.rbuf.reserve(n - self.rbuf.len());
            let left = deadline.saturating_duration_since(Instant::now());
            match tokio::time::timeout(left, rd.read_buf(&mut self.rbuf)).await {
                Ok(Ok(k)) if k > 0 => {}
                _ => return None,
            }
        }
        Some(self.rbuf.split_to(n).to_vec())
    }
}

/// Reads a request head. `smart_accept`: the socket delays its ACKs until more of a
/// head is awaited (see [`quickack::for_more`]).
pub(super) async fn read_head(
    rd: &mut OwnedReadHalf,
    rbuf: &mut BytesMut,
    idle: Duration,
    request_timeout: Duration,
    stopping: &mut watch::Receiver<bool>,
    smart_accept: bool,
) -> HeadRead {
    let mut first_byte: Option<Instant> = (!rbuf.is_empty()).then(Instant::now);
    loop {
        if !rbuf.is_empty() {
            let started = *first_byte.get_or_insert_with(Instant::now);
            match h1::parse_request(rbuf) {
                Ok(Some(head)) => return HeadRead::Head(head, started),
                Ok(None) => {}
                Err(e) => return HeadRead::Bad(e, started),
            }
        }
        let partial = first_byte.is_some();
        if partial && smart_accept {
            quickack::for_more(rd);
        }
        let wait = match first_byte {
            None => idle,
            Some(t) => request_timeout.saturating_sub(t.elapsed()),
        };
        let stop_now = *stopping.borrow() && !partial;
        if stop_now {
            return HeadRead::Stopping;
        }
        if rbuf.is_empty() {
            // Idle: wait for bytes holding no buffer, then read into a lent one.
            if rbuf.capacity() > 0 {
                buffers::give(std::mem::take(rbuf));
            }
            tokio::select! {
                r = tokio::time::timeout(wait, rd.readable()) => match r {
                    Err(_) => return HeadRead::Timeout { partial },
                    Ok(Err(_)) => return HeadRead::Closed { partial },
                    Ok(Ok(())) => {}
                },
                _ = stopping.changed() => {
                    if *stopping.borrow() {
                        return HeadRead::Stopping;
                    }
                    continue;
                }
            }
            *rbuf = buffers::take();
            // One poll of a read (not `try_read_buf`): a read that leaves room in
            // the buffer drained the socket, and tokio then forgets its readiness,
            // so the next wait costs no `recv` that finds nothing (raw_sock.c's
            // `fd_cant_recv` after a short read, in HAProxy).
            let polled = {
                let mut read = std::pin::pin!(rd.read_buf(rbuf));
                std::future::poll_fn(|cx| std::task::Poll::Ready(read.as_mut().poll(cx))).await
            };
            match polled {
                std::task::Poll::Ready(Ok(0) | Err(_)) => return HeadRead::Closed { partial },
                std::task::Poll::Ready(Ok(_)) | std::task::Poll::Pending => {}
            }
            continue;
        }
        if rbuf.capacity() - rbuf.len() < 2048 {
            rbuf.reserve(8192);
        }
        tokio::select! {
            r = tokio::time::timeout(wait, rd.read_buf(rbuf)) => match r {
                Err(_) => return HeadRead::Timeout { partial },
                Ok(Ok(0)) | Ok(Err(_)) => return HeadRead::Closed { partial },
                Ok(Ok(_)) => {}
            },
            _ = stopping.changed(), if !partial => {
                if *stopping.borrow() {
                    return HeadRead::Stopping;
                }
            }
        }
    }
}
