//! The routing engine behind one small interface: every routing decision and every
//! health transition comes from router-core through here. Two engines implement it:
//! [`NativeEngine`] (router-core linked in, `--engine native`) and
//! [`crate::wasm_engine::WasmEngine`] (the module the edge runs, the default); the
//! proxy cannot tell them apart.

use std::cell::Cell;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use router_core::RequestFacts;
use router_core::model::{Config, ProxyId, ServerId};
use router_core::unstable::health::{
    AdminOp, AdminRefusal, AdminState, Health, HealthSnapshot, Observation, OpState, Transition,
    bits,
};
use router_core::{Decision, Forward};
use router_core::{Rotation, Tickets};

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
    /// Applies an operator's change (the runtime API's `set server`), in
    /// router-core's health state.
    fn admin(&self, server: ServerId, op: AdminOp, now_ms: u64) -> Result<(), AdminRefusal>;
    /// Every server's state as routing sees it (admin states and weights included).
    fn health_snapshot(&self) -> HealthSnapshot;
    /// The streams each server serves now, which leastconn, first and random read.
    fn served(&self) -> &Arc<Served>;
}

/// Keeps the operator's changes (drain, maint, stopping, weight) of the servers
/// `previous` also has across a reload, as HAProxy's `server-state-file` does;
/// a server whose `disabled` changed in the file takes the file's state.
pub fn carry_admin(new: &dyn Engine, previous: &dyn Engine, now_ms: u64) {
    let (cfg, old_cfg) = (new.config(), previous.config());
    let old = previous.health_snapshot();
    for id in cfg.server_ids() {
        let s = cfg.server(id);
        let Some(old_id) = old_cfg.server_id(&cfg.proxy(s.proxy).name, &s.name) else {
            continue;
        };
        let f = old.own_flags(old_id);
        if old_cfg.server(old_id).params.disabled == s.params.disabled {
            let state = if f & bits::FMAINT != 0 {
                AdminState::Maint
            } else if f & bits::FDRAIN != 0 {
                AdminState::Drain
            } else {
                AdminState::Ready
            };
            let _ = new.admin(id, AdminOp::State(state), now_ms);
        }
        if f & bits::STOPPING != 0 && s.track.is_none() {
            let _ = new.admin(id, AdminOp::Health(OpState::Stopping), now_ms);
        }
        if old.weight(old_id) != u16::try_from(old_cfg.server(old_id).params.weight).unwrap_or(0) {
            let _ = new.admin(id, AdminOp::Weight(old.weight(old_id)), now_ms);
        }
    }
}

/// Streams each server serves now (HAProxy's `served`): a request from the moment
/// its server is assigned until its answer is relayed, a tunnel (WebSocket) until
/// it closes. The proxy counts them ([`ServedGuard`]), the engine reads them,
/// with when each count last changed (leastconn breaks ties by it).
pub struct Served {
    counts: Vec<(AtomicU32, AtomicU64)>,
    changes: AtomicU64,
}

impl Served {
    pub fn new(cfg: &Config) -> Arc<Self> {
        Arc::new(Served {
            counts: (0..cfg.servers.len())
                .map(|_| (AtomicU32::new(0), AtomicU64::new(0)))
                .collect(),
            changes: AtomicU64::new(0),
        })
    }

    /// Streams `server` serves now.
    pub fn get(&self, server: ServerId) -> u32 {
        self.counts
            .get(server.0 as usize)
            .map_or(0, |c| c.0.load(Ordering::Relaxed))
    }

    /// The change number of `server`'s last change (0: never changed).
    pub fn changed(&self, server: ServerId) -> u64 {
        self.counts
            .get(server.0 as usize)
            .map_or(0, |c| c.1.load(Ordering::Relaxed))
    }

    fn update(&self, server: ServerId, up: bool) {
        if let Some(c) = self.counts.get(server.0 as usize) {
            let _ = c.0.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |v| {
                Some(if up {
                    v.saturating_add(1)
                } else {
                    v.saturating_sub(1)
                })
            });
            let at = self.changes.fetch_add(1, Ordering::Relaxed) + 1;
            c.1.store(at, Ordering::Relaxed);
        }
    }

    /// Counts one stream on `server` until the guard drops.
    pub fn take(self: &Arc<Self>, server: ServerId) -> ServedGuard {
        self.update(server, true);
        ServedGuard {
            served: self.clone(),
            server,
        }
    }
}

/// One stream counted on a server.
pub struct ServedGuard {
    served: Arc<Served>,
    server: ServerId,
}

impl Drop for ServedGuard {
    fn drop(&mut self) {
        self.served.update(self.server, false);
    }
}

thread_local! {
    /// This thread's random numbers, as HAProxy keeps one generator per thread.
    static RNG: Cell<u32> = Cell::new(seed());
}

/// A seed from the standard library's per-process random hash keys.
fn seed() -> u32 {
    use std::hash::{BuildHasher, RandomState};
    (RandomState::new().hash_one(std::thread::current().id()) as u32).max(1)
}

/// A random number for `balance random` (xorshift, as HAProxy's `statistical_prng()`).
pub fn random() -> u32 {
    RNG.with(|r| {
        let x = router_core::unstable::balance::xorshift32(r.get());
        r.set(x);
        x
    })
}

/// Balancing state shared by every worker thread: one rotation per proxy, each
/// behind its lock (HAProxy also picks under the backend's lock), and the
/// streams each server serves.
pub struct SharedTickets {
    rotations: Vec<Mutex<Rotation>>,
    served: Arc<Served>,
}

impl SharedTickets {
    pub fn new(cfg: &Config) -> Self {
        SharedTickets {
            rotations: (0..cfg.proxies.len())
                .map(|_| Mutex::new(Rotation::default()))
                .collect(),
            served: Served::new(cfg),
        }
    }
}

impl Tickets for SharedTickets {
    fn turn(&self, backend: ProxyId, turn: &mut dyn FnMut(&mut Rotation)) {
        if let Some(r) = self.rotations.get(usize::from(backend.0)) {
            turn(&mut lock(r));
        }
    }

    fn served(&self, server: ServerId) -> u32 {
        self.served.get(server)
    }

    fn served_changed(&self, server: ServerId) -> u64 {
        self.served.changed(server)
    }

    fn random(&self) -> u32 {
        random()
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
        carry_admin(&e, previous, now_ms);
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
        router_core::decide(&self.cfg, frontend, req, &snap, &self.tickets, None)
    }

    fn redispatch<'c>(
        &'c self,
        failed: &Forward<'_>,
        req: &RequestFacts<'_>,
    ) -> Option<Forward<'c>> {
        let snap = self.snapshot();
        router_core::redispatch(&self.cfg, failed, req, &snap, &self.tickets)
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

    fn admin(&self, server: ServerId, op: AdminOp, now_ms: u64) -> Result<(), AdminRefusal> {
        let mut h = lock(&self.health);
        let r = h.admin(&self.cfg, server, op, now_ms);
        *self.snapshot.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(h.snapshot());
        r
    }

    fn health_snapshot(&self) -> HealthSnapshot {
        (*self.snapshot()).clone()
    }

    fn served(&self) -> &Arc<Served> {
        &self.tickets.served
    }
}
