//! `balance leastconn`: HAProxy 2.6's `lb_fwlc`. Servers sit in a tree keyed by
//! load, `(served + 1) * 4096 / (weight * 16)` (0 when idle); the first server of
//! the tree that is not full takes the request. A server whose load changes
//! (a stream taken or released) is requeued behind the servers of equal load, so
//! ties go to the server whose load changed least recently: a round-robin among
//! equals.
//!
//! The host tells how many streams each server serves now ([`Tickets::served`])
//! and when that last changed ([`Tickets::served_changed`]): that gives the tree
//! order without replaying every change. A server coming back UP is queued behind
//! every server, as HAProxy queues it; the order is kept in the backend's
//! [`Rotation`].

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
        if self.slots.len() != servers.len() {
            self.slots = alloc::vec![Slot::OUT; servers.len()];
        }
        let latest = servers
            .iter()
            .map(|&id| tickets.served_changed(id))
            .max()
            .unwrap_or(0);
        for (i, &id) in servers.iter().enumerate() {
            let slot = &mut self.slots[i];
            if !health.usable(cfg, id) {
                slot.tree = Tree::Out;
                continue;
            }
            let (served, changed) = (tickets.served(id), tickets.served_changed(id));
            if slot.tree == Tree::Out && slot.usable {
                // First look: queued in file order, or by their last change.
                slot.seq = changed.saturating_mul(2);
            } else if slot.tree == Tree::Out {
                // Back UP: behind everyone.
                slot.seq = latest.saturating_mul(2).saturating_add(1);
            } else if changed != slot.changed {
                slot.seq = changed.saturating_mul(2);
            }
            slot.tree = Tree::Curr;
            slot.key = key(served, u32::from(health.weight(id)));
            slot.served = served;
            slot.changed = changed;
        }
        for (i, &id) in servers.iter().enumerate() {
            self.slots[i].usable = health.usable(cfg, id);
        }
    }

    /// `fwlc_get_next_server()`.
    pub(crate) fn least_loaded(
        &mut self,
        cfg: &Config,
        backend: ProxyId,
        health: &HealthSnapshot,
        avoid: Option<ServerId>,
        tickets: &dyn Tickets,
    ) -> Option<usize> {
        let fresh = self.slots.is_empty();
        if fresh {
            // A fresh tree holds every usable server, as HAProxy starts them.
            self.slots =
                alloc::vec![Slot { usable: true, ..Slot::OUT }; cfg.proxy(backend).servers.len()];
        }
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
            order.sort_by_key(|&i| (self.slots[i].key, self.slots[i].seq, i));
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
        self.picks = self.picks.wrapping_add(1);
        chosen
    }
}
