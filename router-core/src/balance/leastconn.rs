//! `balance leastconn`: HAProxy 2.6's `lb_fwlc`. Servers sit in a tree keyed by
//! load, `(served + 1) * 4096 / (weight * 16)` (0 when idle); the first server of
//! the tree that is not full takes the request. A server whose load changes
//! (a stream taken or released) is requeued after the servers of equal load, so
//! ties go to the server whose load changed least recently: a round-robin among
//! equals.
//!
//! The host tells how many streams each server serves now ([`Tickets::served`]);
//! the tree order lives in the backend's [`Rotation`]. Changes the host reports
//! between two picks are replayed in file order (HAProxy replays them as they
//! happen); the pick itself requeues the server with one more stream, as
//! HAProxy's `server_take_conn` does.

use super::pool::Pool;
use super::{Rotation, Slot, Tickets, Tree};
use crate::config::model::{Config, ProxyId, ServerId};
use crate::health::HealthSnapshot;

/// HAProxy's `SRV_EWGHT_MAX`.
const EWGHT_MAX: u64 = 256 * super::BE_WEIGHT_SCALE as u64;

/// The tree key of a server serving `served` streams.
fn key(served: u32, weight: u32) -> u32 {
    let eweight = u64::from(weight) * u64::from(super::BE_WEIGHT_SCALE);
    if served == 0 || eweight == 0 {
        return 0;
    }
    u32::try_from((u64::from(served) + 1) * EWGHT_MAX / eweight).unwrap_or(u32::MAX)
}

/// Whether `maxconn` stops the server from taking one more stream.
pub(crate) fn full(cfg: &Config, id: ServerId, served: u32) -> bool {
    cfg.server(id)
        .params
        .maxconn
        .is_some_and(|m| m > 0 && served >= m)
}

impl Rotation {
    /// Brings the tree up to date with health and the host's counts.
    fn sync_load(
        &mut self,
        cfg: &Config,
        backend: ProxyId,
        health: &HealthSnapshot,
        tickets: &dyn Tickets,
    ) {
        let servers = &cfg.proxy(backend).servers;
        let fresh = self.slots.len() != servers.len();
        if fresh {
            self.slots = alloc::vec![Slot::OUT; servers.len()];
        }
        for (i, &id) in servers.iter().enumerate() {
            let usable = health.usable(cfg, id);
            let served = tickets.served(id);
            let slot = self.slots[i];
            if !usable {
                self.slots[i].tree = Tree::Out;
                self.slots[i].usable = false;
            } else {
                let k = key(served, cfg.server(id).params.weight);
                if slot.tree == Tree::Out || slot.key != k {
                    self.insert(i, Tree::Curr, k);
                }
                self.slots[i].usable = true;
            }
            self.slots[i].served = served;
        }
    }

    /// `fwlc_get_next_server()`, then the pick's `server_take_conn`.
    pub(crate) fn least_loaded(
        &mut self,
        cfg: &Config,
        backend: ProxyId,
        health: &HealthSnapshot,
        avoid: Option<ServerId>,
        tickets: &dyn Tickets,
    ) -> Option<usize> {
        self.sync_load(cfg, backend, health, tickets);
        let pool = Pool::of(cfg, backend, health);
        let servers = &cfg.proxy(backend).servers;
        let chosen = if let Some(f) = pool.first_backup {
            Some(f.pos)
        } else {
            let mut order: alloc::vec::Vec<usize> = pool
                .group
                .iter()
                .map(|u| u.pos)
                .filter(|&i| self.slots[i].tree == Tree::Curr)
                .collect();
            order.sort_by_key(|&i| (self.slots[i].key, self.slots[i].seq));
            let open = |i: &usize| !full(cfg, servers[*i], self.slots[*i].served);
            order
                .iter()
                .copied()
                .filter(open)
                .find(|&i| Some(servers[i]) != avoid)
                .or_else(|| order.iter().copied().rfind(open))
                // All full: HAProxy queues in the backend; Wt Edge queues on the least loaded.
                .or_else(|| order.first().copied())
        };
        if let Some(i) = chosen {
            let served = self.slots[i].served.saturating_add(1);
            self.slots[i].served = served;
            if self.slots[i].tree == Tree::Curr {
                self.insert(
                    i,
                    Tree::Curr,
                    key(served, cfg.server(servers[i]).params.weight),
                );
            }
        }
        self.picks = self.picks.wrapping_add(1);
        chosen
    }
}
