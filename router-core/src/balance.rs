//! `balance roundrobin`: weighted round-robin over the usable servers of a
//! backend, as a pure function of a ticket the host hands out.
//!
//! The host keeps one counter per backend (an atomic in a threaded host) and
//! [`Tickets::take`] returns its next value, so the choice is a function of
//! (config, health, ticket) and many threads or isolates share one rotation.
//! With equal weights ticket `t` picks the `t mod n`-th usable server in file
//! order, which is HAProxy's sequence from a fresh start. With unequal weights
//! the proportions are HAProxy's; the interleave is smooth weighted
//! round-robin (HAProxy's own interleave differs in order, not in share).

use alloc::vec::Vec;
use core::cell::Cell;

use crate::config::model::{Config, ProxyId, ServerId};
use crate::health::HealthSnapshot;

/// Source of round-robin positions, one rotation per backend.
pub trait Tickets {
    /// The next position of `backend`'s rotation (0, 1, 2, ... from a fresh start).
    fn take(&self, backend: ProxyId) -> u64;
}

/// Single-threaded tickets starting from zero: a fresh process.
#[derive(Debug, Clone)]
pub struct LocalTickets {
    next: Vec<Cell<u64>>,
}

impl LocalTickets {
    /// One counter per proxy, all at 0.
    pub fn new(cfg: &Config) -> Self {
        LocalTickets {
            next: (0..cfg.proxies.len()).map(|_| Cell::new(0)).collect(),
        }
    }
}

impl Tickets for LocalTickets {
    fn take(&self, backend: ProxyId) -> u64 {
        match self.next.get(usize::from(backend.0)) {
            Some(c) => {
                let t = c.get();
                c.set(t.wrapping_add(1));
                t
            }
            None => 0,
        }
    }
}

/// The servers a backend can use now: usable active servers, else usable
/// backups (only the first unless `option allbackups`). Excludes `exclude`.
pub fn candidates(
    cfg: &Config,
    backend: ProxyId,
    health: &HealthSnapshot,
    exclude: Option<ServerId>,
) -> Vec<ServerId> {
    let proxy = cfg.proxy(backend);
    let ok = |s: &ServerId| Some(*s) != exclude && health.usable(cfg, *s);
    let active: Vec<ServerId> = proxy
        .servers
        .iter()
        .filter(|s| !cfg.server(**s).params.backup && ok(s))
        .copied()
        .collect();
    if !active.is_empty() {
        return active;
    }
    let mut backups = proxy
        .servers
        .iter()
        .filter(|s| cfg.server(**s).params.backup && ok(s))
        .copied();
    if proxy.settings.options.allbackups {
        backups.collect()
    } else {
        backups.next().into_iter().collect()
    }
}

/// Picks the server for `ticket` among `servers` (non-empty) by weight.
pub fn pick(cfg: &Config, servers: &[ServerId], ticket: u64) -> Option<ServerId> {
    let n = servers.len();
    if n == 0 {
        return None;
    }
    let weights: Vec<u64> = servers
        .iter()
        .map(|s| u64::from(cfg.server(*s).params.weight.max(1)))
        .collect();
    let g = weights.iter().copied().fold(0, gcd);
    let weights: Vec<u64> = weights.iter().map(|w| w / g.max(1)).collect();
    if weights.iter().all(|&w| w == 1) {
        let i = usize::try_from(ticket % n as u64).unwrap_or(0);
        return servers.get(i).copied();
    }
    let total: u64 = weights.iter().sum();
    let steps = ticket % total;
    let mut current = alloc::vec![0i64; n];
    let mut chosen = 0;
    for _ in 0..=steps {
        for (c, w) in current.iter_mut().zip(&weights) {
            *c += i64::try_from(*w).unwrap_or(i64::MAX);
        }
        chosen = (0..n).fold(
            0,
            |best, i| if current[i] > current[best] { i } else { best },
        );
        current[chosen] -= i64::try_from(total).unwrap_or(i64::MAX);
    }
    servers.get(chosen).copied()
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 { a } else { gcd(b, a % b) }
}
