//! State shared by the proxy, the health checks and the admin endpoints: the process's
//! ([`Global`]), each loaded configuration's ([`Generation`]), the clock they share
//! ([`now_ms`]) and the [`counters`]. It sits apart from the modules that use it so
//! that none of them imports another for it.

pub mod counters;

use std::sync::atomic::AtomicU64;
use std::sync::{Arc, RwLock};
use std::time::Instant;

use router_core::model::Config;
use tokio::sync::{Semaphore, watch};

use crate::access_log::Logger;
use crate::engine::Engine;
use crate::proxy::pool;
use counters::Counters;

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

/// The shared pointer to the generation new connections get (a reload swaps it).
pub type Current = Arc<RwLock<Arc<Generation>>>;

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
