//! The routing engine behind one small interface: every routing decision and every
//! health transition comes from router-core through here, so that a later engine (the
//! same router-core compiled to wasm and run in wasmtime) can replace [`NativeEngine`]
//! without touching the proxy.

use std::sync::{Arc, Mutex, RwLock};

use router_core::balance::{Rotation, Tickets};
use router_core::config::model::{Config, ProxyId, ServerId};
use router_core::decision::{Decision, Forward};
use router_core::health::{Health, HealthSnapshot, Observation, Transition};
use router_core::request::RequestFacts;

/// What the proxy needs from a routing engine.
pub trait Engine: Send + Sync + 'static {
    /// The validated configuration (read-only facts: binds, timeouts, options, servers).
    fn config(&self) -> &Config;
    /// What to do with a request received by `frontend`.
    fn decide<'c>(&'c self, frontend: ProxyId, req: &RequestFacts<'_>) -> Decision<'c>;
    /// Another server of the same backend for `option redispatch` after `failed`
    /// could not be reached.
    fn redispatch<'c>(
        &'c self,
        failed: &Forward<'_>,
        req: &RequestFacts<'_>,
    ) -> Option<Forward<'c>>;
    /// Feeds a check result (or a passive failure) to the health state. Returns the
    /// transition, if the server changed state.
    fn observe(&self, server: ServerId, obs: Observation) -> Option<Transition>;
    /// Whether a server is UP now (following `track`).
    fn is_up(&self, server: ServerId) -> bool;
    /// Milliseconds until `server`'s next check.
    fn next_check_in(&self, server: ServerId) -> u64;
    /// Forces a server UP or DOWN (an operator's action, HAProxy's
    /// `set server B/S health up|down`).
    fn force(&self, server: ServerId, up: bool, now_ms: u64);
}

/// Round-robin state shared by every worker thread: one rotation per proxy, each
/// behind its lock (HAProxy also picks under the backend's lock).
pub struct SharedTickets(Vec<Mutex<Rotation>>);

impl SharedTickets {
    pub fn new(cfg: &Config) -> Self {
        SharedTickets(
            (0..cfg.proxies.len())
                .map(|_| Mutex::new(Rotation::default()))
                .collect(),
        )
    }
}

impl Tickets for SharedTickets {
    fn turn(&self, backend: ProxyId, turn: &mut dyn FnMut(&mut Rotation)) {
        if let Some(r) = self.0.get(usize::from(backend.0)) {
            turn(&mut lock(r));
        }
    }
}

/// router-core linked natively.
pub struct NativeEngine {
    cfg: Config,
    /// The single writer of health state (observations are rare: one per check).
    health: Mutex<Health>,
    /// What routing reads: swapped on each transition, cloned (an `Arc`) per request.
    snapshot: RwLock<Arc<HealthSnapshot>>,
    tickets: SharedTickets,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl NativeEngine {
    pub fn new(cfg: Config) -> Self {
        let health = Health::new(&cfg);
        let snapshot = RwLock::new(Arc::new(health.snapshot()));
        let tickets = SharedTickets::new(&cfg);
        NativeEngine {
            cfg,
            health: Mutex::new(health),
            snapshot,
            tickets,
        }
    }

    /// A new engine for `cfg` that keeps the UP/DOWN state of the servers `previous`
    /// also has (same backend and server name): a reload does not reset health.
    pub fn reloaded(cfg: Config, previous: &dyn Engine, now_ms: u64) -> Self {
        let e = NativeEngine::new(cfg);
        {
            let mut h = lock(&e.health);
            let old = previous.config();
            for id in e.cfg.server_ids() {
                let s = e.cfg.server(id);
                let backend = &e.cfg.proxy(s.proxy).name;
                if let Some(old_id) = old.server_id(backend, &s.name) {
                    let up = previous.is_up(old_id);
                    h.force(&e.cfg, id, up, now_ms);
                }
            }
            *e.snapshot.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(h.snapshot());
        }
        e
    }

    fn snapshot(&self) -> Arc<HealthSnapshot> {
        self.snapshot
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

impl Engine for NativeEngine {
    fn config(&self) -> &Config {
        &self.cfg
    }

    fn decide<'c>(&'c self, frontend: ProxyId, req: &RequestFacts<'_>) -> Decision<'c> {
        let snap = self.snapshot();
        router_core::router::decide(&self.cfg, frontend, req, &snap, &self.tickets, None)
    }

    fn redispatch<'c>(
        &'c self,
        failed: &Forward<'_>,
        req: &RequestFacts<'_>,
    ) -> Option<Forward<'c>> {
        let snap = self.snapshot();
        router_core::router::redispatch(&self.cfg, failed, req, &snap, &self.tickets)
    }

    fn observe(&self, server: ServerId, obs: Observation) -> Option<Transition> {
        let mut h = lock(&self.health);
        let t = h.observe(&self.cfg, server, obs);
        if t.is_some() {
            *self.snapshot.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(h.snapshot());
        }
        t
    }

    fn is_up(&self, server: ServerId) -> bool {
        self.snapshot().is_up(&self.cfg, server)
    }

    fn next_check_in(&self, server: ServerId) -> u64 {
        lock(&self.health).next_check_in(&self.cfg, server)
    }

    fn force(&self, server: ServerId, up: bool, now_ms: u64) {
        let mut h = lock(&self.health);
        h.force(&self.cfg, server, up, now_ms);
        *self.snapshot.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(h.snapshot());
    }
}
