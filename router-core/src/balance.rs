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
        Self::starting_at(cfg, |_| 0)
    }

    /// One counter per proxy, proxy `i` starting at `start(i)` (a host that runs
    /// many independent copies, such as Worker isolates, spreads their rotations).
    pub fn starting_at(cfg: &Config, mut start: impl FnMut(usize) -> u64) -> Self {
        LocalTickets {
            next: (0..cfg.proxies.len())
                .map(|i| Cell::new(start(i)))
                .collect(),
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

/// Picks a server of `backend` for the next request: usable active servers,
/// else usable backups (only the first unless `option allbackups`), never
/// `exclude`. Returns the ticket taken (none when no server is usable) and the pick.
pub fn select(
    cfg: &Config,
    backend: ProxyId,
    health: &HealthSnapshot,
    exclude: Option<ServerId>,
    tickets: &dyn Tickets,
) -> (Option<u64>, Option<ServerId>) {
    let proxy = cfg.proxy(backend);
    let usable = |s: ServerId, backup: bool| {
        Some(s) != exclude && cfg.server(s).params.backup == backup && health.usable(cfg, s)
    };
    // One pass: how many are eligible and whether their weights are all equal
    // (the usual case, a plain modulo). Backups only when no active server is
    // usable, and only the first of them unless `option allbackups`.
    let scan = |backup: bool, limit: usize| {
        let (mut count, mut first, mut equal) = (0usize, None, true);
        for &s in &proxy.servers {
            if count == limit {
                break;
            }
            if usable(s, backup) {
                let w = cfg.server(s).params.weight;
                equal &= *first.get_or_insert(w) == w;
                count += 1;
            }
        }
        (count, equal)
    };
    let mut backup = false;
    let (mut count, mut equal) = scan(false, usize::MAX);
    if count == 0 {
        backup = true;
        let limit = if proxy.settings.options.allbackups {
            usize::MAX
        } else {
            1
        };
        (count, equal) = scan(true, limit);
    }
    if count == 0 {
        return (None, None);
    }
    let ticket = tickets.take(backend);
    let mut eligible = proxy
        .servers
        .iter()
        .copied()
        .filter(|&s| usable(s, backup))
        .take(count);
    let server = if equal {
        let k = usize::try_from(ticket % count as u64).unwrap_or(0);
        eligible.nth(k)
    } else {
        let list: Vec<ServerId> = eligible.collect();
        pick_weighted(cfg, &list, ticket)
    };
    (Some(ticket), server)
}

/// Smooth weighted round-robin position `ticket` over `servers`.
fn pick_weighted(cfg: &Config, servers: &[ServerId], ticket: u64) -> Option<ServerId> {
    let n = servers.len();
    if n == 0 {
        return None;
    }
    let weights: Vec<u64> = servers
        .iter()
        .map(|s| u64::from(cfg.server(*s).params.weight.max(1)))
        .collect();
    let g = weights.iter().copied().fold(0, gcd).max(1);
    let weights: Vec<i64> = weights
        .iter()
        .map(|w| i64::try_from(w / g).unwrap_or(i64::MAX))
        .collect();
    let total: i64 = weights.iter().sum();
    let steps = ticket % u64::try_from(total.max(1)).unwrap_or(1);
    let mut current = alloc::vec![0i64; n];
    let mut chosen = 0;
    for _ in 0..=steps {
        for (c, w) in current.iter_mut().zip(&weights) {
            *c += *w;
        }
        chosen = (0..n).fold(
            0,
            |best, i| if current[i] > current[best] { i } else { best },
        );
        current[chosen] -= total;
    }
    servers.get(chosen).copied()
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 { a } else { gcd(b, a % b) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse;

    fn picks(cfg_text: &str, down: &[&str], n: usize) -> Vec<alloc::string::String> {
        let parsed = parse("t.cfg", cfg_text).unwrap_or_else(|e| panic!("{e}"));
        let cfg = &parsed.config;
        let mut health = HealthSnapshot::all_up(cfg);
        for d in down {
            if let Some(id) = cfg.server_id("b", d) {
                health.set_down(id);
            }
        }
        let tickets = LocalTickets::new(cfg);
        let b = cfg.proxy_id("b").unwrap_or(ProxyId(0));
        (0..n)
            .map(|_| match select(cfg, b, &health, None, &tickets).1 {
                Some(s) => cfg.server(s).name.clone(),
                None => alloc::string::String::from("-"),
            })
            .collect()
    }

    const THREE: &str = "backend b\n server s1 10.0.0.1:80 check\n server s2 10.0.0.2:80 check\n server s3 10.0.0.3:80 check\n";

    #[test]
    fn equal_weights_rotate_in_file_order_from_the_first() {
        assert_eq!(picks(THREE, &[], 6), ["s1", "s2", "s3", "s1", "s2", "s3"]);
    }

    #[test]
    fn down_servers_are_skipped() {
        assert_eq!(picks(THREE, &["s2"], 4), ["s1", "s3", "s1", "s3"]);
        assert_eq!(picks(THREE, &["s1", "s2", "s3"], 2), ["-", "-"]);
    }

    #[test]
    fn weights_give_proportions() {
        let cfg = "backend b\n server s1 10.0.0.1:80 weight 1\n server s2 10.0.0.2:80 weight 1\n server s3 10.0.0.3:80 weight 3\n";
        let p = picks(cfg, &[], 50);
        let count = |n: &str| p.iter().filter(|x| *x == n).count();
        assert_eq!((count("s1"), count("s2"), count("s3")), (10, 10, 30));
        // HAProxy 2.6 also starts with the heaviest server.
        assert_eq!(p[0], "s3");
        // Weights with a common factor behave as their reduced form.
        let scaled = cfg
            .replace("weight 1", "weight 10")
            .replace("weight 3", "weight 30");
        assert_eq!(picks(&scaled, &[], 10), picks(cfg, &[], 10));
    }

    #[test]
    fn zero_weight_and_disabled_servers_take_nothing() {
        let cfg = "backend b\n server s1 10.0.0.1:80 weight 0\n server s2 10.0.0.2:80 disabled\n server s3 10.0.0.3:80\n";
        assert_eq!(picks(cfg, &[], 3), ["s3", "s3", "s3"]);
    }

    #[test]
    fn backups_only_when_no_active_server() {
        let cfg = "backend b\n server s1 10.0.0.1:80 check\n server k1 10.0.0.8:80 backup\n server k2 10.0.0.9:80 backup\n";
        assert_eq!(picks(cfg, &[], 2), ["s1", "s1"]);
        assert_eq!(picks(cfg, &["s1"], 3), ["k1", "k1", "k1"]);
        let all = cfg.replace("backend b\n", "backend b\n option allbackups\n");
        assert_eq!(picks(&all, &["s1"], 3), ["k1", "k2", "k1"]);
    }
}
