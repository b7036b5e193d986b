//! The proxy: one task per client connection. It reads and validates each request head
//! (HAProxy's rules, [`crate::h1`]), asks the engine what to do, and acts: answers a
//! redirect or an error itself, or forwards to the chosen server with hyper's HTTP/1
//! client, streaming bodies both ways, and tunnels bytes after a `101`.

mod buffers;
pub mod origin;
pub mod pool;
mod quickack;
pub mod stats;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::{Duration, Instant, SystemTime};

use bytes::{Buf, BytesMut};
use router_core::config::model::HttpReuse;
use router_core::config::model::{Config, Proxy, ProxyId, ServerId, Settings};
use router_core::decision::{Decision, Forward, Upstream};
use router_core::health::Observation;
use router_core::request::RequestFacts;
use router_core::reuse::{self, IdleList};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::{Semaphore, watch};

use crate::access_log::{self, Entry, Logger};
use crate::engine::{Engine, ServedGuard};
use crate::h1::{self, Framing, RequestHead, Version};
use stats::{Counters, add, class_index, dec, get, inc};

/// "No timeout" stand-in: HAProxy without a timeout waits forever; a day is as good.
const FOREVER: Duration = Duration::from_secs(86_400);

/// Milliseconds on a process-wide monotonic clock (what health observations carry).
pub fn now_ms() -> u64 {
    static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_millis() as u64
}

/// Process-wide state that outlives a config generation.
pub struct Global {
    /// Client connections open now (HAProxy's actconn).
    pub actconn: AtomicU64,
    pub logger: Logger,
    /// Set to true when the process stops: idle connections close, busy ones finish.
    pub stopping: watch::Receiver<bool>,
}

/// Everything that belongs to one loaded configuration. Connections keep the
/// generation they were accepted with until they close (a reload does not drop them).
pub struct Generation {
    pub engine: Arc<dyn Engine>,
    pub counters: Counters,
    /// `maxconn` of each server (requests above it wait in the queue).
    pub server_slots: Vec<Option<Arc<Semaphore>>>,
    /// `maxconn` of each frontend (connections above it wait to be served).
    pub frontend_slots: Vec<Option<Arc<Semaphore>>>,
    /// Idle server connections (`http-reuse`).
    pub pools: Arc<pool::Pools>,
    pub global: Arc<Global>,
}

impl Generation {
    pub fn new(engine: Arc<dyn Engine>, global: Arc<Global>) -> Self {
        let cfg = engine.config();
        let counters = Counters::new(cfg.proxies.len(), cfg.servers.len());
        let server_slots = cfg
            .servers
            .iter()
            .map(|s| {
                s.params
                    .maxconn
                    .filter(|&m| m > 0)
                    .map(|m| Arc::new(Semaphore::new(m as usize)))
            })
            .collect();
        let frontend_slots = cfg
            .proxies
            .iter()
            .map(|p| {
                p.settings
                    .maxconn
                    .filter(|&m| m > 0 && p.kind.is_frontend())
                    .map(|m| Arc::new(Semaphore::new(m as usize)))
            })
            .collect();
        let pools = pool::Pools::new(cfg);
        Generation {
            engine,
            counters,
            server_slots,
            frontend_slots,
            pools,
            global,
        }
    }

    pub fn config(&self) -> &Config {
        self.engine.config()
    }
}

fn ms(d: Duration) -> u64 {
    d.as_millis() as u64
}

fn dur(v: Option<u64>) -> Duration {
    v.map_or(FOREVER, Duration::from_millis)
}

/// A client connection's fixed facts.
pub struct ConnInfo {
    pub frontend: ProxyId,
    pub src: SocketAddr,
    pub dst: SocketAddr,
}

enum HeadRead {
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

/// Reads a request head. `smart_accept`: the socket delays its ACKs until more of a
/// head is awaited (see [`quickack::for_more`]).
async fn read_head(
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

struct ClientConn {
    g: Arc<Generation>,
    info: ConnInfo,
    /// The client's bytes; lent by [`buffers`] while a request is read.
    rbuf: BytesMut,
    stopping: watch::Receiver<bool>,
    /// The current request's place in a queue (server, backend), for its log line:
    /// HAProxy logs 0/0 for a request that did not wait, else the queue it waited in.
    queue_pos: [AtomicU64; 2],
    /// Requests read on this connection so far (the first may not take an idle
    /// server connection under `http-reuse safe`).
    requests: u32,
    /// Server connections of this client connection alone (`http-reuse never`):
    /// server, stream, requests served. At most [`MAX_PRIVATE`].
    private: Vec<(ServerId, TcpStream, u32)>,
}

/// The largest admin form the stats page reads (HAProxy: a buffer less its
/// reserve; more is answered `;st=EXCD`).
const STATS_POST_MAX: u64 = 15 * 1024;

/// Server connections a client connection keeps for itself under `http-reuse never`
/// (HAProxy's `max-session-srv-conns` default).
const MAX_PRIVATE: usize = 10;

/// How an exchange ended, for the connection loop.
enum After {
    KeepAlive,
    Close,
    /// After a 101: the server connection, bytes it sent after its head, the idle
    /// timeout, and the log line to write when the tunnel ends.
    Tunnel(TcpStream, BytesMut, Duration, Box<TunnelLog>),
}

/// The log line of a tunnelled exchange (101), written when the tunnel ends, as HAProxy
/// 2.6 does: Ta then covers the tunnel and the bytes include what the server sent
/// through it.
struct TunnelLog {
    /// The tunnel counts as a stream of its server until it closes (leastconn).
    _served: Option<ServedGuard>,
    t_request: u64,
    backend_id: ProxyId,
    server_id: ServerId,
    backend: String,
    server: String,
    t_queue: u64,
    t_connect: u64,
    t_response: u64,
    status: u16,
    head_bytes: u64,
    retries: u32,
    redispatched: bool,
}

/// What the access log line needs besides the request.
struct LogFacts<'a> {
    backend: &'a str,
    server: Option<&'a str>,
    t_queue: Option<u64>,
    t_connect: Option<u64>,
    t_response: Option<u64>,
    status: u16,
    bytes: u64,
    termination: &'static str,
    retries: u32,
    redispatched: bool,
}

impl<'a> LogFacts<'a> {
    /// An answer wtedge gave without a server's response (redirect, error): no
    /// server timings, no retries.
    fn answered(backend: &'a str, status: u16, bytes: u64, termination: &'static str) -> Self {
        LogFacts {
            backend,
            server: None,
            t_queue: None,
            t_connect: None,
            t_response: None,
            status,
            bytes,
            termination,
            retries: 0,
            redispatched: false,
        }
    }
}

impl ClientConn {
    async fn run(&mut self, fe: &Proxy, mut rd: OwnedReadHalf, mut wr: OwnedWriteHalf) {
        let t = router_core::timeouts::client_side(fe);
        let client_to = dur(t.client);
        let request_to = dur(t.http_request);
        let keepalive_to = dur(t.http_keep_alive);
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
                        self.log_badreq(accept_date, accepted, 400, 0, "CR");
                    }
                    return;
                }
                HeadRead::Timeout { partial } => {
                    if !partial && was_first && !fe.settings.options.dontlognull {
                        self.log_badreq(accept_date, accepted, 408, 0, "cR");
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
                        self.log_badreq(accept_date, accepted, 408, 0, "cR");
                    }
                    return;
                }
                HeadRead::Bad(e, started) => {
                    let (status, answer) = e.answer();
                    tracing::debug!("{status} to {}: {e}", self.info.src);
                    let _ = write_all(&mut wr, &answer, client_to).await;
                    self.log_badreq(accept_date, started, status, 0, "PR");
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
                    let (sent, term) = match rd.reunite(wr) {
                        Ok(client) => {
                            let client_left = std::mem::take(&mut self.rbuf);
                            tunnel(client, client_left, server, server_left, idle).await
                        }
                        Err(_) => (0, "--"),
                    };
                    self.log_tunnel(&head, accept_date, started, &pending, sent, term);
                    return;
                }
            }
        }
    }

    fn log_badreq(&self, date: SystemTime, started: Instant, status: u16, bytes: u64, term: &str) {
        let cfg = self.g.config();
        let fe = cfg.proxy(self.info.frontend);
        let fe_c = self.g.counters.proxy(usize::from(self.info.frontend.0));
        if let Some(c) = fe_c {
            inc(&c.responses[class_index(status)]);
        }
        self.g.global.logger.log(&Entry {
            client: self.info.src,
            accept_date: date,
            frontend: &fe.name,
            backend: &fe.name,
            server: None,
            t_request: None,
            t_queue: None,
            t_connect: None,
            t_response: None,
            t_active: ms(started.elapsed()),
            status,
            bytes,
            termination: term,
            actconn: get(&self.g.global.actconn),
            feconn: fe_c.map_or(0, |c| get(&c.conns_cur)),
            beconn: 0,
            srv_conn: 0,
            retries: 0,
            redispatched: false,
            srv_queue: 0,
            backend_queue: 0,
            request: None,
        });
    }

    /// Logs a tunnelled exchange once the tunnel is over; `sent`: the bytes the server
    /// sent through it.
    fn log_tunnel(
        &self,
        head: &RequestHead,
        date: SystemTime,
        started: Instant,
        p: &TunnelLog,
        sent: u64,
        termination: &'static str,
    ) {
        self.log(
            head,
            date,
            started,
            Some(p.t_request),
            Some(p.backend_id),
            Some(p.server_id),
            LogFacts {
                backend: &p.backend,
                server: Some(&p.server),
                t_queue: Some(p.t_queue),
                t_connect: Some(p.t_connect),
                t_response: Some(p.t_response),
                status: p.status,
                bytes: p.head_bytes + sent,
                termination,
                retries: p.retries,
                redispatched: p.redispatched,
            },
        );
    }

    /// Logs an exchange that went to `fwd`'s server.
    fn log_forwarded(&self, ex: &Ex<'_>, fwd: &Forward<'_>, f: LogFacts<'_>) {
        let (backend, server) = (Some(fwd.backend), Some(fwd.server));
        self.log(
            ex.head,
            ex.date,
            ex.started,
            Some(ex.t_request),
            backend,
            server,
            f,
        );
    }

    #[allow(clippy::too_many_arguments)]
    fn log(
        &self,
        head: &RequestHead,
        date: SystemTime,
        started: Instant,
        t_request: Option<u64>,
        backend_id: Option<ProxyId>,
        server_id: Option<ServerId>,
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
        let be_c = backend_id.and_then(|b| c.proxy(usize::from(b.0)));
        let srv_c = server_id.and_then(|s| c.server(s.0 as usize));
        if let Some(bc) = be_c
            && backend_id != Some(self.info.frontend)
        {
            inc(&bc.responses[class_index(f.status)]);
            add(&bc.bytes_out, f.bytes);
        }
        if let Some(sc) = srv_c {
            inc(&sc.responses[class_index(f.status)]);
            add(&sc.bytes_out, f.bytes);
        }
        self.g.global.logger.log(&Entry {
            client: self.info.src,
            accept_date: date,
            frontend: &fe.name,
            backend: f.backend,
            server: f.server,
            t_request,
            t_queue: f.t_queue,
            t_connect: f.t_connect,
            t_response: f.t_response,
            t_active: ms(started.elapsed()),
            status: f.status,
            bytes: f.bytes,
            termination: f.termination,
            actconn: get(&self.g.global.actconn),
            feconn: fe_c.map_or(0, |c| get(&c.conns_cur)),
            beconn: be_c.map_or(0, |c| get(&c.reqs_cur)),
            srv_conn: srv_c.map_or(0, |c| get(&c.cur)),
            retries: f.retries,
            redispatched: f.redispatched,
            srv_queue: self.queue_pos[0].swap(0, std::sync::atomic::Ordering::Relaxed),
            backend_queue: self.queue_pos[1].swap(0, std::sync::atomic::Ordering::Relaxed),
            request: Some((head.method(), head.target(), head.version_text())),
        });
    }

    /// The `n` bytes of a small request body (the stats page's admin form): what
    /// the head's read left in the buffer, then the socket. `None` when the client
    /// closes or times out first.
    async fn read_body(
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

    async fn exchange(
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
        let t_request = ms(started.elapsed());
        let client_to = dur(fe.settings.timeouts.client);
        let hdrs = head.header_pairs();
        let facts = RequestFacts {
            method: head.method(),
            target: head.target(),
            version: head.version_text(),
            headers: &hdrs,
            src: self.info.src,
            dst: self.info.dst,
            tls: false,
        };
        let has_body = head.framing != Framing::None;
        // wtedge's own answers never say keep-alive: `option httpclose` closes after them.
        let client_keeps = head.keep_alive && !has_body && !reuse::client_side_closes(fe, false);
        let close = !client_keeps;
        let stats = fe.settings.stats.enabled.then(|| {
            let health = g.engine.health_snapshot();
            router_core::stats_page::check(g.config(), self.info.frontend, &facts, &health)
        });
        if let Some(answer) = stats.flatten() {
            let (status, out) = match answer {
                router_core::stats_page::StatsAnswer::Post { admin, up } => {
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
            self.log(
                head,
                date,
                started,
                Some(t_request),
                None,
                None,
                LogFacts::answered(&fe.name, status, bytes, "LR"),
            );
            return if ok && !close {
                After::KeepAlive
            } else {
                After::Close
            };
        }
        // wtedge's own answers: (bytes, status, HAProxy's %B, termination, backend).
        let decision = engine.decide(self.info.frontend, &facts);
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
                let extra = router_core::answer::redirect_no_cache(code)
                    .then_some(("cache-control".len(), 8));
                let bytes = access_log::haproxy_bytes(
                    router_core::answer::redirect_reason(code),
                    hdr_sizes.into_iter().chain(extra),
                    0,
                    false,
                );
                (out, code, bytes, "LR", backend)
            }
            Decision::Answer { answer, backend } => {
                let (out, bytes, status) = match answer.kind {
                    router_core::rules::AnswerKind::Deny => {
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
                    router_core::rules::AnswerKind::Return => (
                        h1::returned(&answer, close, head.version == Version::Http10),
                        returned_bytes(&answer),
                        answer.status,
                    ),
                    router_core::rules::AnswerKind::Prometheus => {
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
                let cfg = self.g.config();
                // The 503 counts against that backend too, as in HAProxy's stats.
                self.log(
                    head,
                    date,
                    started,
                    backend.map(|_| t_request),
                    backend,
                    None,
                    LogFacts::answered(
                        backend.map_or(&fe.name, |b| &cfg.proxy(b).name),
                        status,
                        bytes,
                        "SC",
                    ),
                );
                return if ok && !close {
                    After::KeepAlive
                } else {
                    After::Close
                };
            }
            Decision::Forward(fwd) => {
                return self
                    .forward(fe, head, &facts, fwd, started, date, t_request, rd, wr)
                    .await;
            }
        };
        let ok = write_all(wr, &out, client_to).await;
        // A backend's rule is logged `backend/<NOSRV>` (HAProxy 2.6) and counts in
        // that backend's stats; a frontend's, `frontend/<NOSRV>`.
        let cfg = self.g.config();
        self.log(
            head,
            date,
            started,
            Some(t_request),
            backend,
            None,
            LogFacts {
                server: applet,
                ..LogFacts::answered(
                    backend.map_or(&fe.name, |b| &cfg.proxy(b).name),
                    status,
                    bytes,
                    term,
                )
            },
        );
        if ok && !close && !page_ends {
            After::KeepAlive
        } else {
            After::Close
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn forward(
        &mut self,
        fe: &Proxy,
        head: &RequestHead,
        facts: &RequestFacts<'_>,
        mut fwd: Forward<'_>,
        started: Instant,
        date: SystemTime,
        t_request: u64,
        rd: &mut OwnedReadHalf,
        wr: &mut OwnedWriteHalf,
    ) -> After {
        let g = self.g.clone();
        let engine = g.engine.as_ref();
        let cfg = engine.config();
        let be = cfg.proxy(fwd.backend);
        let bs: &Settings = &be.settings;
        let client_to = dur(fe.settings.timeouts.client);
        let ex = Ex {
            head,
            date,
            started,
            t_request,
            client_to,
        };
        let st = router_core::timeouts::server_side(fe, be);
        let connect_to = dur(st.connect);
        let server_to = dur(st.server);
        let queue_to = dur(st.queue);
        let chunked_10 = head.version == Version::Http10 && head.framing == Framing::Chunked;
        let server_close = reuse::server_side_closes(fe, be, chunked_10);
        let pretend =
            fe.settings.options.http_pretend_keepalive || bs.options.http_pretend_keepalive;
        let be_idx = usize::from(fwd.backend.0);
        let be_c = g.counters.proxy(be_idx);
        if let Some(c) = be_c {
            inc(&c.reqs_cur);
        }
        // Releases the backend/server "current" counters on every path.
        let mut active = ActiveGuard {
            g: g.clone(),
            backend: be_idx,
            server: None,
            served: None,
        };

        // Queue for a server slot (server maxconn).
        let queue_start = Instant::now();
        let mut permit = None;
        let mut redispatched = false;
        while let Some(Some(sem)) = g.server_slots.get(fwd.server.0 as usize) {
            if let Ok(p) = sem.clone().try_acquire_owned() {
                permit = Some(p);
                break;
            }
            let sc = g.counters.server(fwd.server.0 as usize);
            // A `use-server` request whose server's queue is full (`maxqueue`):
            // router-core says whether it goes to another server or gets a 503.
            let queued = sc.map_or(0, |c| get(&c.queue_cur));
            if !fwd.balanced && router_core::retry::server_queue_full(cfg, fwd.server, queued) {
                let other = match router_core::retry::on_full_queue(cfg, &fwd) {
                    router_core::retry::FullQueue::Redispatch => engine.redispatch(&fwd, facts),
                    router_core::retry::FullQueue::Refuse => None,
                };
                let Some(other) = other else {
                    drop(active);
                    return self
                        .fail(
                            &ex,
                            wr,
                            Ended::new(fwd.backend, Some(fwd.server), 503, "SQ"),
                        )
                        .await;
                };
                redispatched |= other.server != fwd.server;
                fwd = other;
                continue;
            }
            if let Some(c) = sc {
                inc(&c.queue_cur);
            }
            if let Some(c) = be_c {
                inc(&c.queue_cur);
            }
            // HAProxy queues a balanced request in the backend's queue (no server
            // yet), a `use-server` one in its server's; the log gives its place there
            // (1: nobody was ahead).
            let (place, which) = if fwd.balanced {
                (be_c.map_or(1, |c| get(&c.queue_cur)), 1)
            } else {
                (sc.map_or(1, |c| get(&c.queue_cur)), 0)
            };
            self.queue_pos[which].store(place.max(1), std::sync::atomic::Ordering::Relaxed);
            let got = tokio::time::timeout(queue_to, sem.clone().acquire_owned()).await;
            if let Some(c) = sc {
                dec(&c.queue_cur);
            }
            if let Some(c) = be_c {
                dec(&c.queue_cur);
            }
            match got {
                Ok(Ok(p)) => {
                    permit = Some(p);
                    break;
                }
                _ => {
                    drop(active);
                    return self
                        .fail(
                            &ex,
                            wr,
                            Ended::new(
                                fwd.backend,
                                (!fwd.balanced).then_some(fwd.server),
                                503,
                                "sQ",
                            )
                            .timed(Some(ms(queue_start.elapsed())), None),
                        )
                        .await;
                }
            }
        }
        // HAProxy's Tw: until the server was (last) assigned: a redispatch assigns again.
        let mut t_queue = ms(queue_start.elapsed());
        let _permit = permit;

        // Connect, with HAProxy's retries and redispatch. Tc is the last attempt's.
        let mut retries = 0u32;
        let turnaround = Duration::from_millis(router_core::retry::turnaround_ms(st.connect));
        // The request head exactly as HAProxy sends it, built for each attempt (a
        // redispatch may change the appended headers) and sent with the connect.
        let req_framing = h1::request_framing(head.framing);
        // Body bytes already read go with the head (one write for small requests).
        let inline_body = match req_framing {
            h1::BodyFraming::Length(n) if (self.rbuf.len() as u64) >= n => Some(n as usize),
            _ => None,
        };
        let left_framing = if inline_body.is_some() {
            h1::BodyFraming::None
        } else {
            req_framing
        };
        // Idle server connections this request may take (router-core's rule). An
        // upgrade always gets a new one: Wt 4.14 fails an upgrade that comes on a
        // connection which served a request before.
        let reuse_mode = bs.http_reuse;
        let lists: &[IdleList] = if server_close || head.upgrade {
            &[]
        } else {
            reuse::lists_for(reuse_mode, self.requests <= 1)
        };
        // A reused connection the server closed as the request came: an idempotent
        // request whose bytes are all in hand goes again on a new connection (not a
        // retry); any other closes the client connection without an answer, as
        // HAProxy 2.6 does for every request (http_ana.c's abort_keep_alive), so that
        // the client decides.
        let replayable =
            left_framing == h1::BodyFraming::None && reuse::may_send_again(head.method());
        let mut fresh_only = false;
        let mut out;
        // The server's bytes (response heads and bodies), lent for this exchange.
        let mut sbuf = buffers::take();
        let mut upload = origin::Progress::default();
        let mut pump_res: Option<Result<u64, origin::Stop>>;
        let (mut stream, lease, t_connect, sent_at, resp) = 'attempt: loop {
            let mut connect_start;
            let stream = loop {
                active.set_server(Some(fwd.server.0 as usize));
                out = request_bytes(head, &fwd, server_close && !pretend);
                if let Some(n) = inline_body {
                    out.extend_from_slice(&self.rbuf[..n]);
                }
                connect_start = Instant::now();
                if !fresh_only && let Some((s, lease)) = self.idle_conn(&fwd, lists, reuse_mode) {
                    break Some((s, 0, lease));
                }
                let attempt =
                    connect(fwd.upstream, connect_to, &out, bs.options.tcp_smart_connect).await;
                match attempt {
                    Ok((s, sent)) => break Some((s, sent, g.pools.opened(fwd.server.0 as usize))),
                    Err(e) => {
                        if let Some(c) = g.counters.server(fwd.server.0 as usize) {
                            inc(&c.connect_errors);
                        }
                        self.passive_failure(fwd.server, &e);
                        if retries >= bs.retries {
                            break None;
                        }
                        retries += 1;
                        if let Some(c) = g.counters.server(fwd.server.0 as usize) {
                            inc(&c.retries);
                        }
                        // HAProxy 2.6's policy (back_handle_st_cer) lives in router-core.
                        let plan =
                            router_core::retry::after_connect_failure(cfg, &fwd, retries, |s| {
                                engine.is_up(s)
                            });
                        let redispatch_now = plan.redispatch;
                        if plan.wait {
                            tokio::time::sleep(turnaround).await;
                        }
                        if redispatch_now {
                            t_queue = ms(queue_start.elapsed());
                        }
                        if redispatch_now && let Some(other) = engine.redispatch(&fwd, facts) {
                            if other.server != fwd.server {
                                redispatched = true;
                                if let Some(c) = g.counters.server(other.server.0 as usize) {
                                    inc(&c.redispatches);
                                }
                            }
                            fwd = other;
                        }
                    }
                }
            };
            let Some((mut stream, sent, lease)) = stream else {
                drop(active);
                buffers::give(sbuf);
                return self
                    .fail(
                        &ex,
                        wr,
                        Ended::new(fwd.backend, Some(fwd.server), 503, "SC")
                            .timed(Some(t_queue), None)
                            .tries(retries, redispatched),
                    )
                    .await;
            };
            let t_connect = ms(connect_start.elapsed());
            // Borrowed halves: dropping them costs nothing (owned halves would shut the
            // write side down on drop, one more syscall per request).
            let (mut srd, mut swr) = stream.split();
            if left_framing != h1::BodyFraming::None && fe.settings.options.tcp_smart_accept {
                quickack::for_more(rd);
            }
            if !write_all(&mut swr, &out[sent..], server_to).await {
                if lease.reused && replayable {
                    fresh_only = true;
                    continue 'attempt;
                }
                if lease.reused {
                    return After::Close;
                }
                drop(active);
                buffers::give(sbuf);
                return self
                    .fail(
                        &ex,
                        wr,
                        Ended::new(fwd.backend, Some(fwd.server), 502, "SH")
                            .timed(Some(t_queue), Some(t_connect))
                            .tries(retries, redispatched),
                    )
                    .await;
            }
            let sent_at = Instant::now();
            // Stream the request body and wait for the response head at the same time.
            // The connection's response buffer is reused from one exchange to the next.
            sbuf.clear();
            pump_res = (left_framing == h1::BodyFraming::None).then_some(Ok(0));
            let resp = {
                let pump = origin::relay(
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
                let sent_method = fwd.method.as_deref().unwrap_or(head.method());
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
                            if !matches!(r, Err(origin::Stop::Timeout)) {
                                deadline = tokio::time::Instant::now() + server_to;
                            }
                            let stop = match &r {
                                Err(origin::Stop::Invalid) => Some(Failure::BadRequest),
                                // HAProxy 2.6 aborts at once when the client leaves
                                // in the middle of its body: no answer, logged `CD`.
                                Err(origin::Stop::Closed) => Some(Failure::ClientAborted),
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
                    fresh_only = true;
                    continue 'attempt;
                }
                return After::Close;
            }
            break (stream, lease, t_connect, sent_at, resp);
        };
        if let Some(n) = inline_body {
            let _ = self.rbuf.split_to(n);
        }
        let t_response = ms(sent_at.elapsed());
        let resp = resp.and_then(|r| {
            // `%B` of a deny: the head as HAProxy counts it, and the body bytes
            // that came with it (counted only for a deny).
            let read = |r: &h1::ResponseHead| {
                let body = match r.framing {
                    h1::BodyFraming::Length(n) => n.min(sbuf.len() as u64),
                    h1::BodyFraming::None => 0,
                    _ => sbuf.len() as u64,
                };
                h1::client_head(r, head, false).0 + body
            };
            response_rules(cfg, engine, &fwd, facts, r, read)
        });
        let resp = match resp {
            Ok(r) => r,
            Err(Failure::ClientAborted) => {
                drop(active);
                buffers::give(sbuf);
                let facts = LogFacts {
                    server: Some(&cfg.server(fwd.server).name),
                    t_queue: Some(t_queue),
                    t_connect: Some(t_connect),
                    retries,
                    redispatched,
                    ..LogFacts::answered(&be.name, access_log::NO_STATUS, 0, "CD")
                };
                self.log_forwarded(&ex, &fwd, facts);
                return After::Close;
            }
            Err(f) => {
                drop(active);
                let (status, term, read) = match f {
                    // (Logged without an answer above; never reaches here.)
                    Failure::ClientAborted => (access_log::NO_STATUS, "CD", 0),
                    Failure::BadRequest => (400, "PR", 0),
                    Failure::Invalid => (502, "PH", 0),
                    Failure::Closed => (502, "SH", 0),
                    Failure::Timeout => (504, "sH", 0),
                    // HAProxy 2.6 logs a response rule's deny as a bad answer,
                    // counting what it had read of the server's answer.
                    Failure::Denied(status, read) => (status, "PH", read),
                };
                return self
                    .fail(
                        &ex,
                        wr,
                        Ended {
                            read,
                            ..Ended::new(fwd.backend, Some(fwd.server), status, term)
                                .timed(Some(t_queue), Some(t_connect))
                                .tries(retries, redispatched)
                        },
                    )
                    .await;
            }
        };
        let body_done = matches!(pump_res, Some(Ok(_)));
        let server_name = &cfg.server(fwd.server).name;
        let status = resp.status;
        // The log facts of a relayed answer (a tunnel's are in its `TunnelLog`).
        let served = |bytes: u64, termination: &'static str| LogFacts {
            backend: &be.name,
            server: Some(server_name),
            t_queue: Some(t_queue),
            t_connect: Some(t_connect),
            t_response: Some(t_response),
            status,
            bytes,
            termination,
            retries,
            redispatched,
        };

        if h1::is_tunnel(&resp, head) {
            let (bytes, out) = h1::client_head(&resp, head, false);
            let ok = write_all(wr, &out, client_to).await;
            let served = active.keep_served();
            drop(active);
            let pending = Box::new(TunnelLog {
                _served: served,
                t_request,
                backend_id: fwd.backend,
                server_id: fwd.server,
                backend: be.name.clone(),
                server: server_name.clone(),
                t_queue,
                t_connect,
                t_response,
                status,
                head_bytes: bytes,
                retries,
                redispatched,
            });
            if !ok {
                self.log_tunnel(head, date, started, &pending, 0, "--");
                return After::Close;
            }
            return After::Tunnel(stream, sbuf, dur(st.tunnel), pending);
        }

        // The server answered before the whole request body was forwarded (or stopped
        // taking it): as HAProxy 2.6, the client connection stays open and the rest of
        // the body is read and dropped after the response.
        let body_left = match pump_res {
            None | Some(Err(origin::Stop::WriteFailed | origin::Stop::WriteTimeout)) => {
                match left_framing {
                    h1::BodyFraming::Length(n) => {
                        Some(h1::BodyFraming::Length(n.saturating_sub(upload.bytes)))
                    }
                    other => Some(other),
                }
            }
            Some(Ok(_)) => None,
            Some(Err(_)) => Some(h1::BodyFraming::Close),
        };
        let resp_conn = resp.connection();
        let keep = head.keep_alive
            && body_left != Some(h1::BodyFraming::Close)
            && resp.framing != h1::BodyFraming::Close
            && !reuse::client_side_closes(fe, resp_conn.keep_alive)
            && !*self.stopping.borrow();
        let (head_bytes, out) = h1::client_head(&resp, head, !keep);
        let mut progress = origin::Progress::default();
        let (mut srd, _) = stream.split();
        let r = origin::relay(
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
            Ok(_) => "--",
            Err(origin::Stop::WriteFailed) => "CD",
            // The client did not read for `timeout client`.
            Err(origin::Stop::WriteTimeout) => "cD",
            Err(origin::Stop::Timeout) => "sD",
            Err(_) => "SD",
        };
        if r.is_ok() && body_done && resp.framing != h1::BodyFraming::Close {
            if !server_close && resp_conn.server_keeps() && !*self.stopping.borrow() {
                // Kept for a later request (router-core's reuse rules).
                self.keep_server_conn(fwd.server, reuse_mode, stream, lease);
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
        let chunked = resp.framing == h1::BodyFraming::Chunked;
        let sent = progress.bytes;
        let log_bytes = head_bytes + sent + u64::from(chunked && sent > 0);
        self.log_forwarded(&ex, &fwd, served(log_bytes, term));
        if !(r.is_ok() && keep) {
            return After::Close;
        }
        if let Some(left) = body_left {
            let drained = origin::relay(
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
    fn keep_server_conn(
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

    /// Answers an error page made by wtedge (HAProxy's body) and logs it.
    async fn fail(&mut self, ex: &Ex<'_>, wr: &mut OwnedWriteHalf, e: Ended) -> After {
        let Ended {
            backend,
            server,
            status,
            termination,
            t_queue,
            t_connect,
            retries,
            redispatched,
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
        let be = cfg.proxy(backend);
        self.log(
            head,
            ex.date,
            ex.started,
            Some(ex.t_request),
            Some(backend),
            server,
            LogFacts {
                server: server.map(|s| cfg.server(s).name.as_str()),
                t_queue,
                t_connect,
                retries,
                redispatched,
                ..LogFacts::answered(
                    &be.name,
                    status,
                    match page_bytes {
                        Some(n) => n + read,
                        None if status == 400 => 0,
                        None => error_bytes(status) + read,
                    },
                    termination,
                )
            },
        );
        if ok && !close {
            After::KeepAlive
        } else {
            After::Close
        }
    }
}

/// The request an exchange serves, for wtedge's own answer and its log line.
struct Ex<'h> {
    head: &'h RequestHead,
    date: SystemTime,
    started: Instant,
    t_request: u64,
    client_to: Duration,
}

/// An exchange that ends with wtedge's own error answer: what its log line says.
#[derive(Clone, Copy)]
struct Ended {
    backend: ProxyId,
    server: Option<ServerId>,
    status: u16,
    termination: &'static str,
    t_queue: Option<u64>,
    t_connect: Option<u64>,
    retries: u32,
    redispatched: bool,
    /// Bytes of the server's answer read before wtedge answered instead.
    read: u64,
}

impl Ended {
    fn new(
        backend: ProxyId,
        server: Option<ServerId>,
        status: u16,
        termination: &'static str,
    ) -> Self {
        Ended {
            backend,
            server,
            status,
            termination,
            t_queue: None,
            t_connect: None,
            retries: 0,
            redispatched: false,
            read: 0,
        }
    }

    /// Tw and Tc as far as the exchange got.
    fn timed(self, t_queue: Option<u64>, t_connect: Option<u64>) -> Self {
        Ended {
            t_queue,
            t_connect,
            ..self
        }
    }

    /// Connection retries and whether a redispatch happened.
    fn tries(self, retries: u32, redispatched: bool) -> Self {
        Ended {
            retries,
            redispatched,
            ..self
        }
    }
}

/// Decrements the backend's and server's "current" counters when a request ends.
struct ActiveGuard {
    g: Arc<Generation>,
    backend: usize,
    server: Option<usize>,
    /// The stream counted on the server for the balance algorithms.
    served: Option<ServedGuard>,
}

impl ActiveGuard {
    fn set_server(&mut self, s: Option<usize>) {
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
    fn keep_served(&mut self) -> Option<ServedGuard> {
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

enum Failure {
    BadRequest,
    Invalid,
    Closed,
    Timeout,
    /// The client left in the middle of its request body.
    ClientAborted,
    /// An `http-response deny` rule: HAProxy's error page for this status.
    Denied(u16, u64),
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
        return Err(Failure::Denied(status, read(&resp)));
    }
    resp.apply_rules(&verdict);
    Ok(resp)
}

/// The config's `errorfile` answer for `status` (router-core picks the page), if
/// any: its bytes, HAProxy's `%B` for it (every header of the file counts) and
/// whether the connection ends after it.
fn config_page(
    cfg: &router_core::Config,
    frontend: ProxyId,
    backend: Option<ProxyId>,
    status: u16,
) -> Option<(Vec<u8>, u64, bool)> {
    router_core::answer::config_page(cfg, frontend, backend, status).map(|p| {
        let h = &p.held;
        let bytes = access_log::haproxy_bytes(&h.reason, h.headers.iter().copied(), h.body, false);
        (p.wire.clone(), bytes, !h.keep_alive)
    })
}

/// HAProxy's `%B` for its own error pages.
fn error_bytes(status: u16) -> u64 {
    let router_core::answer::ErrorPage { reason, body, .. } =
        router_core::answer::error_page(status);
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
fn returned_bytes(a: &router_core::rules::Answer) -> u64 {
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
        router_core::answer::reason(a.status),
        hdrs,
        a.body.len() as u64,
        false,
    )
}

/// The request head for `fwd` (its edits and appended headers), as HAProxy sends it.
fn request_bytes(head: &h1::RequestHead, fwd: &Forward<'_>, close: bool) -> Vec<u8> {
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

async fn write_all<W: tokio::io::AsyncWrite + Unpin>(
    wr: &mut W,
    buf: &[u8],
    timeout: Duration,
) -> bool {
    matches!(
        tokio::time::timeout(timeout, wr.write_all(buf)).await,
        Ok(Ok(()))
    )
}

/// After a `101`: bytes both ways, no framing work, until either side closes or nothing
/// moves for `idle` (`timeout tunnel`). Closing either side closes the other. Returns the
/// bytes the server sent through the tunnel and HAProxy 2.6's termination state: `cD`
/// when it ended idle, `CD` when the client's side failed (a reset), `--` for a close.
///
/// A quiet tunnel holds no buffer: each direction waits for readiness, reads into the
/// thread's scratch buffer and writes at once; only bytes the other side cannot take
/// yet are kept, until it can.
async fn tunnel(
    client: TcpStream,
    client_left: BytesMut,
    server: TcpStream,
    server_left: BytesMut,
    idle: Duration,
) -> (u64, &'static str) {
    let sent = AtomicU64::new(server_left.len() as u64);
    let last = AtomicU64::new(now_ms());
    if send_all(&server, &client_left).await.is_err()
        || send_all(&client, &server_left).await.is_err()
    {
        return (0, "--");
    }
    drop((client_left, server_left));
    let c2s = pump(&client, &server, &last, None);
    let s2c = pump(&server, &client, &last, Some(&sent));
    let watchdog = async {
        loop {
            let since = now_ms().saturating_sub(get(&last));
            let left = ms(idle).saturating_sub(since);
            if left == 0 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(left)).await;
        }
    };
    let term = tokio::select! {
        end = c2s => if end == PumpEnd::ReadFailed { "CD" } else { "--" },
        end = s2c => if end == PumpEnd::WriteFailed { "CD" } else { "--" },
        _ = watchdog => "cD",
    };
    (get(&sent), term)
}

/// How one direction of a tunnel ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PumpEnd {
    /// The reading side closed (FIN).
    Closed,
    /// Reading failed (a reset).
    ReadFailed,
    /// Writing failed (the other side reset).
    WriteFailed,
}

/// Writes all of `buf` to a shared stream, waiting whenever its socket is full.
async fn send_all(to: &TcpStream, mut buf: &[u8]) -> std::io::Result<()> {
    while !buf.is_empty() {
        to.writable().await?;
        match to.try_write(buf) {
            Ok(n) => buf = &buf[n..],
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// One direction of a tunnel, until `from` closes or fails; then `to`'s write side
/// is shut.
async fn pump(
    from: &TcpStream,
    to: &TcpStream,
    last: &AtomicU64,
    sent: Option<&AtomicU64>,
) -> PumpEnd {
    let mut pending: Vec<u8> = Vec::new();
    let end = loop {
        if from.readable().await.is_err() {
            break PumpEnd::ReadFailed;
        }
        let read = buffers::with_scratch(|buf| match from.try_read(buf) {
            Ok(0) => Err(PumpEnd::Closed),
            Ok(n) => {
                let m = match to.try_write(&buf[..n]) {
                    Ok(m) => m,
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => 0,
                    Err(_) => return Err(PumpEnd::WriteFailed),
                };
                pending.extend_from_slice(&buf[m..n]);
                Ok(n)
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => Ok(0),
            Err(_) => Err(PumpEnd::ReadFailed),
        });
        let n = match read {
            Ok(n) => n,
            Err(end) => break end,
        };
        if n == 0 {
            continue;
        }
        last.store(now_ms(), std::sync::atomic::Ordering::Relaxed);
        if !pending.is_empty() {
            if send_all(to, &pending).await.is_err() {
                break PumpEnd::WriteFailed;
            }
            // Free what a slow reader made us keep.
            pending = Vec::new();
        }
        if let Some(s) = sent {
            add(s, n as u64);
        }
    };
    let _ = socket2::SockRef::from(to).shutdown(std::net::Shutdown::Write);
    end
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
                            && !router_core::upgrade::websocket_answer_usable(
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

#[cfg(test)]
mod tests {
    use super::*;

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
