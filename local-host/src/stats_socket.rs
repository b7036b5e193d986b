//! The runtime API on each `stats socket` of `global` (UNIX or TCP): reads
//! command lines, lets router-core's `cli` answer them, writes the answers.
//! Non-interactive connections get the answers to the lines they sent at once
//! and are closed; `prompt` keeps the connection open, as in HAProxy.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

use router_core::model::{ProxyId, ServerId};
use router_core::unstable::cli::{self, Counters, Info, Level, Session};
use router_core::unstable::config::stats::SocketTarget;
use router_core::unstable::health::{AdminOp, AdminRefusal, HealthSnapshot};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::task::JoinHandle;

use crate::state::counters::get;
use crate::state::{Current, Generation, now_ms};

/// Longest command line read (HAProxy's buffer is 16 kB); longer lines end the connection.
const MAX_LINE: usize = 64 * 1024;

/// Why a stats socket could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum SocketError {
    /// Binding failed.
    #[error("cannot bind the stats socket {0}: {1}")]
    Bind(String, std::io::Error),
}

/// One listening socket and its accept task.
pub struct StatsSocket {
    task: JoinHandle<()>,
    path: Option<PathBuf>,
    /// Where it listens (the TCP port actually bound, for port 0).
    pub addr: String,
}

impl Drop for StatsSocket {
    fn drop(&mut self) {
        self.task.abort();
        if let Some(p) = &self.path {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// When an operator last changed each server (backend, server), for
/// `show servers state`'s `srv_time_since_last_change`.
fn changes() -> &'static Mutex<HashMap<(String, String), u64>> {
    static CHANGES: OnceLock<Mutex<HashMap<(String, String), u64>>> = OnceLock::new();
    CHANGES.get_or_init(Default::default)
}

/// Opens every `stats socket` of the current config.
pub async fn start_all(current: &Current) -> Result<Vec<StatsSocket>, SocketError> {
    let g = current.read().unwrap_or_else(|p| p.into_inner()).clone();
    let mut out = Vec::new();
    for s in &g.config().global.stats_sockets {
        let level = s.level;
        let cur = current.clone();
        match &s.target {
            SocketTarget::Unix(path) => {
                let path = PathBuf::from(path);
                // HAProxy replaces a stale socket file.
                let _ = std::fs::remove_file(&path);
                let l = tokio::net::UnixListener::bind(&path)
                    .map_err(|e| SocketError::Bind(path.display().to_string(), e))?;
                if let Some(mode) = s.mode {
                    use std::os::unix::fs::PermissionsExt;
                    let _ = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode));
                }
                let task = tokio::spawn(async move {
                    while let Ok((conn, _)) = l.accept().await {
                        tokio::spawn(serve(conn, level, cur.clone()));
                    }
                });
                out.push(StatsSocket {
                    task,
                    addr: path.display().to_string(),
                    path: Some(path),
                });
            }
            SocketTarget::Tcp(a) => {
                let l = tokio::net::TcpListener::bind(a)
                    .await
                    .map_err(|e| SocketError::Bind(a.to_string(), e))?;
                let addr = l
                    .local_addr()
                    .map_or_else(|_| a.to_string(), |x| x.to_string());
                let task = tokio::spawn(async move {
                    while let Ok((conn, _)) = l.accept().await {
                        tokio::spawn(serve(conn, level, cur.clone()));
                    }
                });
                out.push(StatsSocket {
                    task,
                    addr,
                    path: None,
                });
            }
        }
    }
    Ok(out)
}

/// Serves one connection.
async fn serve<S: AsyncRead + AsyncWrite + Unpin>(conn: S, level: Level, current: Current) {
    let mut conn = BufReader::new(conn);
    let mut session = Session::new(level);
    let mut line = Vec::new();
    loop {
        line.clear();
        let n = match read_line(&mut conn, &mut line).await {
            Some(n) => n,
            None => return,
        };
        if n == 0 {
            return;
        }
        let text = String::from_utf8_lossy(&line);
        let g = current.read().unwrap_or_else(|p| p.into_inner()).clone();
        let answer = cli::run(g.config(), &mut session, &mut CliHost { g: &g }, &text);
        if conn.get_mut().write_all(answer.as_bytes()).await.is_err() || session.done {
            return;
        }
        // Non-interactive: answer the lines already received, then close.
        if !session.prompt && !conn.buffer().contains(&b'\n') {
            let _ = conn.get_mut().shutdown().await;
            return;
        }
    }
}

/// Reads one line (up to [`MAX_LINE`]); `None` on an error or an over-long line.
async fn read_line<R: AsyncBufReadExt + Unpin>(r: &mut R, out: &mut Vec<u8>) -> Option<usize> {
    use tokio::io::AsyncReadExt;
    let mut limited = r.take(MAX_LINE as u64);
    let n = limited.read_until(b'\n', out).await.ok()?;
    (n < MAX_LINE || out.ends_with(b"\n")).then_some(n)
}

/// The generation's state and counters, as the CLI (and the stats page) sees them.
pub(crate) struct CliHost<'a> {
    pub(crate) g: &'a Generation,
}

impl cli::Host for CliHost<'_> {
    fn snapshot(&self) -> HealthSnapshot {
        self.g.engine.health_snapshot()
    }

    fn admin(&mut self, server: ServerId, op: AdminOp) -> Result<(), AdminRefusal> {
        let r = self.g.engine.admin(server, op, now_ms());
        if r.is_ok() {
            let cfg = self.g.config();
            let s = cfg.server(server);
            let key = (cfg.proxy(s.proxy).name.clone(), s.name.clone());
            changes()
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(key, now_ms());
        }
        r
    }

    fn proxy_counters(&self, id: ProxyId) -> Counters {
        let Some(c) = self.g.counters.proxy(usize::from(id.0)) else {
            return Counters::default();
        };
        Counters {
            scur: get(&c.conns_cur),
            stot: get(&c.conns_total),
            bout: get(&c.bytes_out),
            qcur: get(&c.queue_cur),
            hrsp: c.responses.each_ref().map(get),
            req_tot: get(&c.reqs_total),
            ..Counters::default()
        }
    }

    fn backend_counters(&self, id: ProxyId) -> Counters {
        let Some(c) = self.g.counters.proxy(usize::from(id.0)) else {
            return Counters::default();
        };
        Counters {
            stot: get(&c.be_reqs_total),
            req_tot: get(&c.be_reqs_total),
            ..self.proxy_counters(id)
        }
    }

    fn server_counters(&self, id: ServerId) -> Counters {
        let Some(c) = self.g.counters.server(id.0 as usize) else {
            return Counters::default();
        };
        Counters {
            scur: get(&c.cur),
            stot: get(&c.total),
            bout: get(&c.bytes_out),
            qcur: get(&c.queue_cur),
            econ: get(&c.connect_errors),
            wretr: get(&c.retries),
            wredis: get(&c.redispatches),
            hrsp: c.responses.each_ref().map(get),
            req_tot: get(&c.total),
        }
    }

    fn since_change_s(&self, id: ServerId) -> u64 {
        let cfg = self.g.config();
        let s = cfg.server(id);
        let key = (cfg.proxy(s.proxy).name.clone(), s.name.clone());
        let at = changes()
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&key)
            .copied()
            .unwrap_or(0);
        now_ms().saturating_sub(at) / 1000
    }

    fn info(&self) -> Info {
        let cfg = self.g.config();
        let (mut conns, mut reqs) = (0, 0);
        for id in cfg
            .proxy_ids()
            .filter(|&id| cfg.proxy(id).kind.is_frontend())
        {
            if let Some(c) = self.g.counters.proxy(usize::from(id.0)) {
                conns += get(&c.conns_total);
                reqs += get(&c.reqs_total);
            }
        }
        Info {
            version: String::from(env!("CARGO_PKG_VERSION")),
            nbthread: cfg.global.nbthread.unwrap_or_else(|| {
                std::thread::available_parallelism().map_or(1, |n| n.get() as u32)
            }),
            pid: std::process::id(),
            uptime_s: now_ms() / 1000,
            maxconn: cfg.global.maxconn.map_or(0, u64::from),
            curr_conns: get(&self.g.global.actconn),
            cum_conns: conns,
            cum_req: reqs,
            node: std::fs::read_to_string("/proc/sys/kernel/hostname")
                .map_or_else(|_| String::from("-"), |h| h.trim().to_string()),
        }
    }
}
