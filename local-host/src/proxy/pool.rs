//! Idle server connections, kept between exchanges and handed to later requests.
//! router-core's [`reuse`](router_core::unstable::reuse) decides which request may take which
//! connection, which connection stays idle and how many each purge closes; this file
//! holds the sockets.
//!
//! One list per server for the whole process, oldest first. A thread takes its own
//! connections first, else another thread's, which it moves to its event loop (as
//! HAProxy 2.6 takes over another thread's idle connection). An idle connection the
//! server closed is noticed when a request would take it or at the next purge, and
//! dropped without counting a retry.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::thread::ThreadId;
use std::time::Duration;

use router_core::model::{Config, ServerParams};
use router_core::unstable::reuse::{IdleList, PoolCounts};
use tokio::net::TcpStream;

/// The idle connections of every server of one configuration generation.
pub struct Pools {
    servers: Vec<ServerPool>,
}

struct ServerPool {
    params: ServerParams,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    counts: PoolCounts,
    idle: VecDeque<Idle>,
    purging: bool,
}

struct Idle {
    stream: TcpStream,
    list: IdleList,
    served: u32,
    thread: ThreadId,
}

/// A server connection serving a request: counted as used until it is parked or
/// dropped.
pub struct InUse {
    pools: Arc<Pools>,
    server: usize,
    /// Requests it served before this one.
    pub served: u32,
    /// Taken from the idle lists (a failure before any response byte is not the
    /// server's fault: the request goes again on a new connection).
    pub reused: bool,
    counted: bool,
}

impl Drop for InUse {
    fn drop(&mut self) {
        if self.counted
            && let Some(p) = self.pools.servers.get(self.server)
        {
            lock(&p.inner).counts.end_use();
        }
    }
}

fn lock(m: &Mutex<Inner>) -> std::sync::MutexGuard<'_, Inner> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Whether an idle connection is still open and quiet. No system call unless the
/// event loop saw it readable (data or the server's close).
pub fn alive(s: &TcpStream) -> bool {
    let mut byte = [0u8; 1];
    matches!(s.try_read(&mut byte), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock)
}

impl Pools {
    pub fn new(cfg: &Config) -> Arc<Pools> {
        Arc::new(Pools {
            servers: cfg
                .servers
                .iter()
                .map(|s| ServerPool {
                    params: s.params.clone(),
                    inner: Mutex::new(Inner::default()),
                })
                .collect(),
        })
    }

    /// Counts a new connection to `server` as used.
    pub fn opened(self: &Arc<Self>, server: usize) -> InUse {
        let counted = self.servers.get(server).is_some_and(|p| {
            lock(&p.inner).counts.start_use();
            true
        });
        InUse {
            pools: self.clone(),
            server,
            served: 0,
            reused: false,
            counted,
        }
    }

    /// An idle connection to `server` from `lists` (in order), this thread's first.
    pub fn take(self: &Arc<Self>, server: usize, lists: &[IdleList]) -> Option<(TcpStream, InUse)> {
        if lists.is_empty() {
            return None;
        }
        let pool = self.servers.get(server)?;
        let me = std::thread::current().id();
        let mut inner = lock(&pool.inner);
        if inner.idle.is_empty() {
            return None;
        }
        // The one a request would take is checked (no system call unless the event
        // loop saw it readable); one the server closed is dropped and the next
        // tried. The others wait for the purge.
        let mut dead = Vec::new();
        let c = loop {
            let pick = lists.iter().find_map(|&list| {
                let on = |mine: bool| {
                    inner
                        .idle
                        .iter()
                        .position(|c| c.list == list && (c.thread == me) == mine)
                };
                on(true).or_else(|| on(false))
            });
            let c = pick.and_then(|i| inner.idle.remove(i));
            match c {
                Some(c) if !alive(&c.stream) => {
                    inner.counts.leave(c.list);
                    dead.push(c);
                }
                Some(c) => {
                    inner.counts.take(c.list);
                    break Some(c);
                }
                None => break None,
            }
        };
        drop(inner);
        drop(dead);
        let c = c?;
        let stream = if c.thread == me {
            c.stream
        } else {
            // Move it to this thread's event loop.
            match c.stream.into_std().and_then(TcpStream::from_std) {
                Ok(s) => s,
                Err(_) => {
                    lock(&pool.inner).counts.end_use();
                    return None;
                }
            }
        };
        Some((
            stream,
            InUse {
                pools: self.clone(),
                server,
                served: c.served,
                reused: true,
                counted: true,
            },
        ))
    }

    /// Keeps a connection that finished an exchange idle when router-core's rule
    /// allows; else it closes. `served`: requests it has served, this one included.
    pub fn park(self: &Arc<Self>, mut lease: InUse, stream: TcpStream) {
        let Some(pool) = self.servers.get(lease.server) else {
            return;
        };
        let served = lease.served + 1;
        let mut inner = lock(&pool.inner);
        let Some(list) = inner.counts.park(&pool.params, served) else {
            return;
        };
        lease.counted = false;
        inner.idle.push_back(Idle {
            stream,
            list,
            served,
            thread: std::thread::current().id(),
        });
        if !inner.purging {
            inner.purging = true;
            let pools = self.clone();
            let server = lease.server;
            let delay = Duration::from_millis(pool.params.pool_purge_delay);
            tokio::spawn(async move { pools.purge_loop(server, delay).await });
        }
    }

    /// Every `pool-purge-delay` while the server has idle connections: closes the
    /// ones the server closed, then as many as router-core's purge says, oldest
    /// first, the idle list before the safe one.
    async fn purge_loop(self: Arc<Self>, server: usize, delay: Duration) {
        let Some(pool) = self.servers.get(server) else {
            return;
        };
        loop {
            tokio::time::sleep(delay).await;
            let (closing, done) = {
                let mut inner = lock(&pool.inner);
                let mut closing = Vec::new();
                let mut kept = VecDeque::with_capacity(inner.idle.len());
                for c in std::mem::take(&mut inner.idle) {
                    if alive(&c.stream) {
                        kept.push_back(c);
                    } else {
                        closing.push(c);
                    }
                }
                inner.idle = kept;
                for c in &closing {
                    inner.counts.leave(c.list);
                }
                let mut n = inner.counts.purge() as usize;
                for list in [IdleList::Idle, IdleList::Safe] {
                    while n > 0 {
                        let Some(i) = inner.idle.iter().position(|c| c.list == list) else {
                            break;
                        };
                        if let Some(c) = inner.idle.remove(i) {
                            inner.counts.leave(c.list);
                            closing.push(c);
                        }
                        n -= 1;
                    }
                }
                let done = inner.idle.is_empty();
                if done {
                    inner.purging = false;
                }
                (closing, done)
            };
            drop(closing);
            if done {
                return;
            }
        }
    }

    /// Idle connections of `server` now (for tests and stats).
    pub fn idle_count(&self, server: usize) -> u32 {
        self.servers
            .get(server)
            .map_or(0, |p| lock(&p.inner).counts.idle)
    }
}
