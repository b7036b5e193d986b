//! Counters the admin endpoints show and the access log reads (actconn, feconn, ...).

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Per frontend/backend/listen counters.
#[derive(Default)]
pub struct ProxyCounters {
    /// Client connections open now (frontends).
    pub conns_cur: AtomicU64,
    pub conns_total: AtomicU64,
    /// Requests being served now (backends: HAProxy's beconn).
    pub reqs_cur: AtomicU64,
    pub reqs_total: AtomicU64,
    /// Requests given to this proxy as a backend (HAProxy's backend `stot` and
    /// `req_tot`): kept apart so that a listen's two sides count once each.
    pub be_reqs_total: AtomicU64,
    /// Responses by class: 1xx..5xx, other.
    pub responses: [AtomicU64; 6],
    pub bytes_out: AtomicU64,
    /// Requests waiting in the backend queue now.
    pub queue_cur: AtomicU64,
}

/// Per server counters.
#[derive(Default)]
pub struct ServerCounters {
    /// Requests being served now (srv_conn).
    pub cur: AtomicU64,
    pub total: AtomicU64,
    pub queue_cur: AtomicU64,
    pub connect_errors: AtomicU64,
    pub retries: AtomicU64,
    pub redispatches: AtomicU64,
    pub responses: [AtomicU64; 6],
    pub bytes_out: AtomicU64,
}

pub fn class_index(status: u16) -> usize {
    match status {
        100..=199 => 0,
        200..=299 => 1,
        300..=399 => 2,
        400..=499 => 3,
        500..=599 => 4,
        _ => 5,
    }
}

pub struct Counters {
    pub proxies: Vec<ProxyCounters>,
    pub servers: Vec<ServerCounters>,
}

impl Counters {
    pub fn new(proxies: usize, servers: usize) -> Self {
        Counters {
            proxies: (0..proxies).map(|_| ProxyCounters::default()).collect(),
            servers: (0..servers).map(|_| ServerCounters::default()).collect(),
        }
    }

    pub fn proxy(&self, i: usize) -> Option<&ProxyCounters> {
        self.proxies.get(i)
    }

    pub fn server(&self, i: usize) -> Option<&ServerCounters> {
        self.servers.get(i)
    }
}

pub fn get(a: &AtomicU64) -> u64 {
    a.load(Relaxed)
}

pub fn inc(a: &AtomicU64) {
    a.fetch_add(1, Relaxed);
}

pub fn add(a: &AtomicU64, n: u64) {
    a.fetch_add(n, Relaxed);
}

pub fn dec(a: &AtomicU64) {
    // Never wraps below zero even if a path decrements twice.
    let _ = a.fetch_update(Relaxed, Relaxed, |v| Some(v.saturating_sub(1)));
}
