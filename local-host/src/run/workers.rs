//! The serving threads: one single-threaded tokio runtime each, as HAProxy runs its
//! threads. A connection is accepted, routed and proxied on one thread, so its path
//! has no cross-thread wake-ups (with tokio's work-stealing runtime, idle workers were
//! woken to steal every new task: 30k context switches in 4 s against HAProxy's 17.6k,
//! and 13-15% of the machine idle under load).
//!
//! When there are as many threads as CPUs the process may run on (the default), each
//! thread is bound to one CPU. Unbound, the scheduler left a thread waiting behind
//! another process on one CPU for milliseconds while the other thread and the load
//! generator shared the other CPU: p99 1.2-1.4x HAProxy's in keep-alive; bound, the
//! other processes move instead (p99 0.83-0.87x in the bench runs; docs/benchmarks.md).
//!
//! Each thread accepts on its own socket of every bind (see `listen.rs`). A thread that
//! accepts a connection while another thread serves at least [`HANDOFF_SLACK`] fewer
//! hands it over, as HAProxy's accept queues do, so the kernel's spreading of a few
//! long keep-alive connections does not leave one thread with most of them.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::runtime::Handle;
use tokio::sync::{OwnedSemaphorePermit, mpsc, oneshot};

use crate::Error;
use crate::proxy::{ConnInfo, serve_connection};
use crate::state::Generation;

/// A thread hands a connection over when it serves this many more than the least
/// loaded thread. 2 rather than 1: loads change by one at every accept and close, and
/// a hand-over costs a wake-up of the other thread.
pub const HANDOFF_SLACK: usize = 2;

/// A connection accepted on one thread, to be served on another.
pub struct Handoff {
    pub stream: std::net::TcpStream,
    pub g: Arc<Generation>,
    pub info: ConnInfo,
    /// The global `maxconn` slot the connection holds.
    pub permit: OwnedSemaphorePermit,
}

/// What the accept loops share: each thread's load and inbox.
pub struct Pool {
    /// Connections each thread serves (counted from the moment it is chosen).
    loads: Vec<AtomicUsize>,
    inboxes: Vec<mpsc::UnboundedSender<Handoff>>,
}

impl Pool {
    /// A pool of `n` threads and the inboxes their threads read.
    fn new(n: usize) -> (Pool, Vec<mpsc::UnboundedReceiver<Handoff>>) {
        let (inboxes, receivers): (Vec<_>, Vec<_>) =
            (0..n).map(|_| mpsc::unbounded_channel()).unzip();
        let pool = Pool {
            loads: (0..n).map(|_| AtomicUsize::new(0)).collect(),
            inboxes,
        };
        (pool, receivers)
    }

    /// The thread that should serve a connection accepted on `me`: `me` unless
    /// another serves [`HANDOFF_SLACK`] fewer. The chosen thread's load is counted.
    pub fn choose(&self, me: usize) -> usize {
        let load = |i: usize| {
            self.loads
                .get(i)
                .map_or(usize::MAX, |l| l.load(Ordering::Relaxed))
        };
        let mine = load(me);
        let (least, least_load) = (0..self.loads.len())
            .map(|i| (i, load(i)))
            .min_by_key(|&(_, l)| l)
            .unwrap_or((me, mine));
        let chosen = if least_load.saturating_add(HANDOFF_SLACK) <= mine {
            least
        } else {
            me
        };
        self.count(chosen);
        chosen
    }

    /// Counts a connection on `thread`.
    pub fn count(&self, thread: usize) {
        if let Some(l) = self.loads.get(thread) {
            l.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Sends a connection to thread `to`; gives it back when that thread is gone.
    pub fn hand_over(&self, to: usize, h: Handoff) -> Result<(), Box<Handoff>> {
        match self.inboxes.get(to) {
            Some(tx) => tx.send(h).map_err(|e| Box::new(e.0)),
            None => Err(Box::new(h)),
        }
    }

    /// Serves a connection on the calling thread (a task of its runtime) and counts
    /// it off thread `me`'s load when it closes.
    pub fn serve_here(
        self: &Arc<Self>,
        me: usize,
        g: Arc<Generation>,
        info: ConnInfo,
        stream: tokio::net::TcpStream,
        permit: OwnedSemaphorePermit,
    ) {
        let pool = self.clone();
        tokio::spawn(async move {
            serve_connection(g, info, stream).await;
            drop(permit);
            pool.release(me);
        });
    }

    /// Takes back a load counted by [`Pool::choose`] or [`Pool::count`].
    pub fn release(&self, thread: usize) {
        if let Some(l) = self.loads.get(thread) {
            l.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// Connections each thread serves now (for tests and stats).
    pub fn loads(&self) -> Vec<usize> {
        self.loads
            .iter()
            .map(|l| l.load(Ordering::Relaxed))
            .collect()
    }
}

/// The serving threads. Dropping it stops them (their runtimes drop the tasks left).
pub struct Workers {
    handles: Vec<Handle>,
    pool: Arc<Pool>,
    /// Dropped to stop the threads.
    _stops: Vec<oneshot::Sender<()>>,
}

impl Workers {
    /// Starts `n` threads (named `wtedge-worker`).
    pub fn start(n: usize) -> Result<Workers, Error> {
        let n = n.max(1);
        let mut handles = Vec::with_capacity(n);
        let mut stops = Vec::with_capacity(n);
        let (pool, receivers) = Pool::new(n);
        let pool = Arc::new(pool);
        let cpus = placement(n);
        for (me, inbox) in receivers.into_iter().enumerate() {
            let cpu = cpus.get(me).copied();
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                // Blocking-pool threads (none on the proxy path).
                .thread_name("wtedge-blocking")
                .build()
                .map_err(Error::io("cannot start a worker runtime"))?;
            handles.push(rt.handle().clone());
            let (stop_tx, stop_rx) = oneshot::channel::<()>();
            stops.push(stop_tx);
            let pool = pool.clone();
            std::thread::Builder::new()
                .name("wtedge-worker".into())
                .spawn(move || {
                    if let Some(cpu) = cpu
                        && !core_affinity::set_for_current(cpu)
                    {
                        tracing::debug!("worker {me}: could not bind to a CPU");
                    }
                    rt.block_on(async move {
                        tokio::select! {
                            _ = stop_rx => {}
                            _ = receive(inbox, me, pool) => {}
                        }
                    });
                })
                .map_err(Error::io("cannot start a worker thread"))?;
        }
        Ok(Workers {
            handles,
            pool,
            _stops: stops,
        })
    }

    /// Runtimes of the threads, in order.
    pub fn handles(&self) -> &[Handle] {
        &self.handles
    }

    pub fn pool(&self) -> &Arc<Pool> {
        &self.pool
    }
}

/// The CPU of each thread: one each when `threads` equals the CPUs this process may
/// run on (its affinity mask, e.g. under `taskset` or a container's cpuset); none
/// otherwise (fewer threads than CPUs would leave CPUs unused when others are busy,
/// more would share them: the scheduler places those better).
fn placement(threads: usize) -> Vec<core_affinity::CoreId> {
    match core_affinity::get_core_ids() {
        Some(cpus) if cpus.len() == threads => cpus,
        _ => Vec::new(),
    }
}

/// Serves the connections other threads hand to thread `me`.
async fn receive(mut inbox: mpsc::UnboundedReceiver<Handoff>, me: usize, pool: Arc<Pool>) {
    while let Some(h) = inbox.recv().await {
        match tokio::net::TcpStream::from_std(h.stream) {
            Ok(stream) => pool.serve_here(me, h.g, h.info, stream, h.permit),
            Err(e) => {
                tracing::error!("cannot take over a connection from {}: {e}", h.info.src);
                pool.release(me);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_thread_keeps_its_connections_until_another_serves_two_fewer() {
        let (pool, _rx) = Pool::new(2);
        // A burst accepted on thread 0 alternates once thread 0 is two ahead.
        let chosen: Vec<usize> = (0..8).map(|_| pool.choose(0)).collect();
        assert_eq!(chosen, [0, 0, 1, 0, 1, 0, 1, 0]);
        assert_eq!(pool.loads(), [5, 3]);
        // Closed connections are counted off; the busier thread hands over again.
        pool.release(1);
        pool.release(1);
        assert_eq!(pool.choose(0), 1);
        assert_eq!(pool.choose(1), 1);
        assert_eq!(pool.loads(), [5, 3]);
    }

    #[test]
    fn a_single_thread_keeps_everything() {
        let (pool, _rx) = Pool::new(1);
        assert!((0..5).all(|_| pool.choose(0) == 0));
        assert_eq!(pool.loads(), [5]);
    }

    /// CPU lists (`Cpus_allowed_list`) of this process's `wtedge-worker` threads.
    fn worker_cpu_lists() -> Vec<String> {
        let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
            return Vec::new();
        };
        tasks
            .flatten()
            .filter(|t| {
                std::fs::read_to_string(t.path().join("comm"))
                    .is_ok_and(|c| c.trim_end() == "wtedge-worker")
            })
            .filter_map(|t| std::fs::read_to_string(t.path().join("status")).ok())
            .filter_map(|s| {
                s.lines()
                    .find_map(|l| l.strip_prefix("Cpus_allowed_list:"))
                    .map(|v| v.trim().to_string())
            })
            .collect()
    }

    #[test]
    fn one_thread_per_cpu_binds_each_to_its_cpu_and_more_threads_are_left_free() {
        let cpus: Vec<String> = core_affinity::get_core_ids()
            .unwrap_or_default()
            .iter()
            .map(|c| c.id.to_string())
            .collect();
        assert!(placement(cpus.len() + 1).is_empty());
        let workers = Workers::start(cpus.len()).unwrap();
        // The threads bind themselves as they start.
        let mut lists = Vec::new();
        for _ in 0..200 {
            lists = worker_cpu_lists();
            if cpus.iter().all(|c| lists.contains(c)) {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        assert!(
            cpus.iter().all(|c| lists.contains(c)),
            "{cpus:?} vs {lists:?}"
        );
        drop(workers);
    }
}
