//! `wtedge [FILE]` / `wtedge run FILE`: load a haproxy.cfg, listen on every `bind`,
//! proxy, check health, serve the admin endpoints, reload on SIGHUP, stop on
//! SIGTERM/Ctrl-C after in-flight requests finish.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use router_core::model::ProxyId;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinHandle;

mod listen;
mod workers;

use crate::Error;
use crate::access_log::Logger;
use crate::engine::Engine;
use crate::engine_choice::{EngineChoice, EngineKind};
use crate::proxy::ConnInfo;
use crate::state::{Current, Generation, Global, now_ms};
use workers::{Handoff, Pool, Workers};

/// The embedded default configuration (seed 2 on loopback ports).
pub const DEFAULT_CONFIG: &str = include_str!("default.cfg");
/// Name the embedded default is reported under.
pub const DEFAULT_CONFIG_NAME: &str = "<embedded default>";

/// Arguments of `wtedge run`.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct RunArgs {
    /// The haproxy.cfg to run; without it, the embedded two-server affinity default.
    pub file: Option<PathBuf>,
    /// Serve /stats, /stats.json and /metrics on this address (e.g. 127.0.0.1:9000).
    #[arg(long, value_name = "ADDR:PORT")]
    pub admin: Option<SocketAddr>,
    /// Write Wt session ids (`wtd=`) into the access log unredacted.
    #[arg(long)]
    pub log_session_ids: bool,
    /// Seconds to let in-flight requests finish after SIGTERM/Ctrl-C.
    #[arg(long, default_value_t = 10, value_name = "SECONDS")]
    pub grace: u64,
    /// Routing engine: router-core as WebAssembly in wasmtime (the decisions the
    /// edge makes), or linked natively.
    #[arg(long, value_enum, default_value_t = EngineKind::Wasm)]
    pub engine: EngineKind,
    /// A router-core wasm module to run instead of the embedded one.
    #[arg(long, value_name = "PATH")]
    pub module: Option<PathBuf>,
}

/// Runs the proxy until SIGTERM/Ctrl-C. Exit 0 after a clean stop, 1 when the config
/// is refused or a bind fails.
pub fn run(args: RunArgs) -> ExitCode {
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .try_init();
    let (name, text) = match &args.file {
        Some(p) => match std::fs::read_to_string(p) {
            Ok(t) => (p.display().to_string(), t),
            Err(e) => {
                eprintln!("wtedge: cannot read {}: {e}", p.display());
                return ExitCode::from(1);
            }
        },
        None => (DEFAULT_CONFIG_NAME.to_string(), DEFAULT_CONFIG.to_string()),
    };
    // The control runtime (signals, reloads, health checks, admin) on this thread;
    // connections are served by the worker threads `Running::start` starts.
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .thread_name("wtedge-blocking")
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("wtedge: cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let engine = match EngineChoice::from_args(args.engine, args.module.as_ref()) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(1);
        }
    };
    eprintln!("wtedge: routing engine: {}", engine.describe());
    let logger = Logger::stdout(args.log_session_ids);
    let code = rt.block_on(async {
        let opts = Options {
            admin: args.admin,
            logger: logger.clone(),
            grace: Duration::from_secs(args.grace),
            engine,
        };
        let running = match Running::start(&name, &text, opts).await {
            Ok(r) => r,
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::from(1);
            }
        };
        for (fe, addr) in running.listening() {
            eprintln!("wtedge: frontend {fe} listening on http://{addr}/");
        }
        if let Some(a) = running.admin_addr() {
            eprintln!("wtedge: admin on http://{a}/stats (also /stats.json, /metrics)");
        }
        if args.file.is_none() {
            eprintln!(
                "wtedge: running the embedded default config (session affinity on wtd=wt1 / wtd=wt2).\n\
                 Start two Wt servers for it, e.g.:\n\
                 \x20 ./app.wt --docroot . --http-address 127.0.0.1 --http-port 9090 --session-id-prefix=wt1\n\
                 \x20 ./app.wt --docroot . --http-address 127.0.0.1 --http-port 9091 --session-id-prefix=wt2"
            );
        }
        serve_signals(&running, args.file.clone(), std::future::pending()).await;
        running.stop().await;
        ExitCode::SUCCESS
    });
    // The access log lines still gathering are written before the process exits.
    logger.close();
    code
}

/// Reloads `file` (the embedded default when `None`) on each SIGHUP until SIGTERM,
/// SIGINT or `until` ends. Public so that the fault drills send real signals to the
/// same handler `wtedge run` uses.
#[cfg(unix)]
pub async fn serve_signals(
    running: &Running,
    file: Option<PathBuf>,
    until: impl std::future::Future<Output = ()>,
) {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut hup), Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::hangup()),
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = until => {}
        }
        return;
    };
    tokio::pin!(until);
    loop {
        tokio::select! {
            _ = &mut until => return,
            _ = hup.recv() => {
                let (name, text) = match &file {
                    Some(p) => match std::fs::read_to_string(p) {
                        Ok(t) => (p.display().to_string(), t),
                        Err(e) => {
                            tracing::error!("reload refused: cannot read {}: {e}", p.display());
                            continue;
                        }
                    },
                    None => (DEFAULT_CONFIG_NAME.to_string(), DEFAULT_CONFIG.to_string()),
                };
                match running.reload(&name, &text).await {
                    Ok(()) => tracing::info!("reloaded {name}"),
                    Err(e) => tracing::error!("reload refused, the previous config keeps serving:\n{e}"),
                }
            }
            _ = term.recv() => return,
            _ = int.recv() => return,
        }
    }
}

/// Waits for Ctrl-C or `until` (no SIGHUP outside Unix).
#[cfg(not(unix))]
pub async fn serve_signals(
    _running: &Running,
    _file: Option<PathBuf>,
    until: impl std::future::Future<Output = ()>,
) {
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = until => {}
    }
}

/// Start options for [`Running::start`].
pub struct Options {
    pub admin: Option<SocketAddr>,
    pub logger: Logger,
    /// How long [`Running::stop`] lets in-flight requests finish.
    pub grace: Duration,
    /// The routing engine (default: the embedded wasm module).
    pub engine: EngineChoice,
}

struct Listener {
    /// One accept loop per worker thread.
    tasks: Vec<JoinHandle<()>>,
    addr: SocketAddr,
}

/// A running proxy (what `wtedge run` drives; tests drive it directly).
pub struct Running {
    current: Current,
    global: Arc<Global>,
    stop_tx: watch::Sender<bool>,
    /// Stops the current generation's health checks.
    checks_stop: std::sync::Mutex<watch::Sender<bool>>,
    listeners: tokio::sync::Mutex<HashMap<SocketAddr, Listener>>,
    admin: Option<(SocketAddr, JoinHandle<()>)>,
    /// The runtime API's `stats socket`s (closed when dropped).
    stats_sockets: Vec<crate::stats_socket::StatsSocket>,
    grace: Duration,
    /// Accepted connections allowed at once (global maxconn).
    accept_slots: Arc<Semaphore>,
    /// Builds the engine of each generation.
    engine: EngineChoice,
    /// The threads serving connections (`nbthread`, default one per core).
    workers: Workers,
}

fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Parses `text` into an engine; errors carry file:line:col.
pub fn load(name: &str, text: &str) -> Result<router_core::Config, Error> {
    let read = |f: &str| std::fs::read(f).map_err(|e| e.to_string());
    match router_core::parse_with_files(name, text, &read) {
        Ok(p) => {
            for w in &p.warnings {
                tracing::warn!("{}", w.as_warning());
            }
            Ok(p.config)
        }
        Err(e) => Err(Error::Config(e)),
    }
}

fn bind_map(g: &Generation) -> HashMap<SocketAddr, ProxyId> {
    let cfg = g.config();
    let mut m = HashMap::new();
    for id in cfg.proxy_ids() {
        let p = cfg.proxy(id);
        if !p.kind.is_frontend() {
            continue;
        }
        for b in &p.binds {
            let ip = b.host.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
            m.entry(SocketAddr::new(ip, b.port)).or_insert(id);
        }
    }
    m
}

impl Running {
    /// Loads the config, binds every listener, starts health checks and the admin
    /// endpoint.
    pub async fn start(name: &str, text: &str, opts: Options) -> Result<Running, Error> {
        let cfg = load(name, text)?;
        let (stop_tx, stopping) = watch::channel(false);
        let global = Arc::new(Global {
            actconn: Default::default(),
            logger: opts.logger,
            stopping,
        });
        let maxconn = cfg
            .global
            .maxconn
            .map_or(Semaphore::MAX_PERMITS, |m| m as usize);
        let engine: Arc<dyn Engine> = opts.engine.build(cfg, text, None)?;
        let g = Arc::new(Generation::new(engine, global.clone()));
        let current: Current = Arc::new(RwLock::new(g.clone()));
        let (checks_tx, checks_rx) = watch::channel(false);
        let admin = match opts.admin {
            Some(a) => {
                let bind_error = |source| Error::AdminBind { addr: a, source };
                let l = TcpListener::bind(a).await.map_err(bind_error)?;
                let addr = l.local_addr().map_err(bind_error)?;
                Some((addr, tokio::spawn(crate::admin::serve(l, current.clone()))))
            }
            None => None,
        };
        // `nbthread` as in HAProxy: the serving threads (default: one per core). Read
        // once at start; a reload keeps the threads it has.
        let threads = g.config().global.nbthread.map_or_else(
            || std::thread::available_parallelism().map_or(1, |n| n.get()),
            |n| n as usize,
        );
        let workers = Workers::start(threads)?;
        let stats_sockets = crate::stats_socket::start_all(&current).await?;
        let running = Running {
            stats_sockets,
            current,
            global,
            stop_tx,
            checks_stop: std::sync::Mutex::new(checks_tx),
            listeners: tokio::sync::Mutex::new(HashMap::new()),
            admin,
            grace: opts.grace,
            accept_slots: Arc::new(Semaphore::new(maxconn.min(Semaphore::MAX_PERMITS))),
            engine: opts.engine,
            workers,
        };
        running.sync_listeners(&g, name).await?;
        crate::health_check::spawn_all(&g, checks_rx);
        Ok(running)
    }

    /// Binds the listeners `g` needs and closes those it no longer has. Listeners
    /// that stay keep their socket (no connection is refused during a reload).
    async fn sync_listeners(&self, g: &Generation, name: &str) -> Result<(), Error> {
        let wanted = bind_map(g);
        let mut ls = self.listeners.lock().await;
        let reuseport = !g.config().global.noreuseport;
        let mut fresh = Vec::new();
        for (addr, fe) in &wanted {
            if ls.contains_key(addr) {
                continue;
            }
            let setup = listen::Setup {
                threads: self.workers.handles().len(),
                reuseport,
                smart_accept: g.config().proxy(*fe).settings.options.tcp_smart_accept,
                backlog: g.config().listen_backlog(*fe),
            };
            let sockets = listen::bind(*addr, setup).map_err(|source| {
                let p = g.config().proxy(*fe);
                let any = IpAddr::V4(Ipv4Addr::UNSPECIFIED);
                let line = p
                    .binds
                    .iter()
                    .find(|b| SocketAddr::new(b.host.unwrap_or(any), b.port) == *addr)
                    .map_or(p.line, |b| b.line);
                Error::Bind {
                    place: format!("{name}:{line}"),
                    addr: *addr,
                    frontend: p.name.clone(),
                    hint: listen::hint(&source),
                    source,
                }
            })?;
            fresh.push((*addr, sockets));
        }
        for (addr, sockets) in fresh {
            let local = sockets
                .first()
                .and_then(|l| l.local_addr().ok())
                .unwrap_or(addr);
            let tasks = sockets
                .into_iter()
                .zip(self.workers.handles())
                .enumerate()
                .map(|(me, (l, handle))| {
                    handle.spawn(accept_loop(
                        l,
                        addr,
                        me,
                        self.workers.pool().clone(),
                        self.current.clone(),
                        self.global.stopping.clone(),
                        self.accept_slots.clone(),
                    ))
                })
                .collect();
            ls.insert(addr, Listener { tasks, addr: local });
        }
        ls.retain(|addr, l| {
            let keep = wanted.contains_key(addr);
            if !keep {
                l.tasks.iter().for_each(JoinHandle::abort);
            }
            keep
        });
        Ok(())
    }

    /// (frontend name, bound address) of every listener.
    pub fn listening(&self) -> Vec<(String, SocketAddr)> {
        let g = self.generation();
        let cfg = g.config();
        let map = bind_map(&g);
        let ls = self.listeners.try_lock();
        let mut out: Vec<(String, SocketAddr)> = map
            .iter()
            .map(|(addr, id)| {
                let bound = ls
                    .as_ref()
                    .ok()
                    .and_then(|l| l.get(addr).map(|l| l.addr))
                    .unwrap_or(*addr);
                (cfg.proxy(*id).name.clone(), bound)
            })
            .collect();
        out.sort();
        out
    }

    /// Connections each serving thread has now (thread order).
    pub fn thread_loads(&self) -> Vec<usize> {
        self.workers.pool().loads()
    }

    /// Where each `stats socket` listens (paths, or TCP addresses with the port bound).
    pub fn stats_socket_addrs(&self) -> Vec<String> {
        self.stats_sockets.iter().map(|s| s.addr.clone()).collect()
    }

    /// Where the admin endpoint listens.
    pub fn admin_addr(&self) -> Option<SocketAddr> {
        self.admin.as_ref().map(|(a, _)| *a)
    }

    /// The generation new connections get.
    pub fn generation(&self) -> Arc<Generation> {
        self.current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Loads a new config. A broken one is refused with its errors and the current
    /// one keeps serving; open connections finish on the generation they started with.
    pub async fn reload(&self, name: &str, text: &str) -> Result<(), Error> {
        let cfg = load(name, text)?;
        let old = self.generation();
        let engine: Arc<dyn Engine> =
            self.engine
                .build(cfg, text, Some((old.engine.as_ref(), now_ms())))?;
        let g = Arc::new(Generation::new(engine, self.global.clone()));
        self.sync_listeners(&g, name).await?;
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = g.clone();
        let (tx, rx) = watch::channel(false);
        let old_tx = std::mem::replace(&mut *lock(&self.checks_stop), tx);
        let _ = old_tx.send(true);
        crate::health_check::spawn_all(&g, rx);
        Ok(())
    }

    /// Stops accepting, lets in-flight requests finish (bounded by the grace period),
    /// closes idle keep-alive connections.
    pub async fn stop(self) {
        for (_, l) in self.listeners.lock().await.drain() {
            l.tasks.iter().for_each(JoinHandle::abort);
        }
        let _ = self.stop_tx.send(true);
        let _ = lock(&self.checks_stop).send(true);
        let deadline = tokio::time::Instant::now() + self.grace;
        while crate::state::counters::get(&self.global.actconn) > 0
            && tokio::time::Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        if let Some((_, t)) = self.admin {
            t.abort();
        }
    }
}

/// Accepts on one worker thread (`me`); serves each connection there or hands it to
/// a less loaded thread.
async fn accept_loop(
    listener: std::net::TcpListener,
    bind: SocketAddr,
    me: usize,
    pool: Arc<Pool>,
    current: Current,
    mut stopping: watch::Receiver<bool>,
    slots: Arc<Semaphore>,
) {
    let listener = match TcpListener::from_std(listener) {
        Ok(l) => l,
        Err(e) => {
            tracing::error!("cannot poll the listener {bind}: {e}");
            return;
        }
    };
    // The frontend of this bind in the generation last seen (recomputed on reload).
    let mut cached: Option<(Arc<Generation>, Option<ProxyId>)> = None;
    loop {
        let Ok(permit) = slots.clone().acquire_owned().await else {
            return;
        };
        let accepted = tokio::select! {
            r = listener.accept() => r,
            _ = stopping.changed() => return,
        };
        let (stream, src) = match accepted {
            Ok(x) => x,
            Err(e) => {
                // EMFILE and friends: back off instead of spinning.
                tracing::error!("accept on {bind}: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let now = current.read().unwrap_or_else(|p| p.into_inner()).clone();
        let frontend = match &cached {
            Some((seen, f)) if Arc::ptr_eq(seen, &now) => *f,
            _ => {
                let f = bind_map(&now).get(&bind).copied();
                cached = Some((now.clone(), f));
                f
            }
        };
        let Some(frontend) = frontend else {
            continue;
        };
        let info = ConnInfo {
            frontend,
            src,
            dst: stream.local_addr().unwrap_or(bind),
        };
        let to = pool.choose(me);
        if to == me {
            pool.serve_here(me, now, info, stream, permit);
            continue;
        }
        let handoff = match stream.into_std() {
            Ok(stream) => Handoff {
                stream,
                g: now,
                info,
                permit,
            },
            Err(e) => {
                tracing::error!("cannot hand over a connection from {src}: {e}");
                pool.release(to);
                continue;
            }
        };
        if let Err(h) = pool.hand_over(to, handoff) {
            // That thread is gone (the process is stopping): serve it here.
            pool.release(to);
            match tokio::net::TcpStream::from_std(h.stream) {
                Ok(stream) => {
                    pool.count(me);
                    pool.serve_here(me, h.g, h.info, stream, h.permit);
                }
                Err(e) => tracing::error!("cannot take back a connection from {src}: {e}"),
            }
        }
    }
}
