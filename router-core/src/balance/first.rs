//! `balance first`: HAProxy 2.6's `lb_fas`. The server with the lowest id (file
//! order: Wt Edge has no `id` keyword) that has a free slot under its `maxconn`
//! takes the request, so servers fill up one after the other. Without `maxconn`
//! the first usable server takes everything.

use super::Tickets;
use super::leastconn::full;
use super::pool::Pool;
use crate::config::model::{Config, ProxyId, ServerId};
use crate::health::HealthSnapshot;

/// `fas_get_next_server()`.
pub(crate) fn pick(
    cfg: &Config,
    backend: ProxyId,
    health: &HealthSnapshot,
    avoid: Option<ServerId>,
    tickets: &dyn Tickets,
) -> Option<ServerId> {
    let pool = Pool::of(cfg, backend, health);
    if let Some(f) = pool.first_backup {
        return Some(f.id);
    }
    let open: alloc::vec::Vec<ServerId> = pool
        .group
        .iter()
        .map(|u| u.id)
        .filter(|&id| !full(cfg, id, tickets.served(id)))
        .collect();
    open.iter()
        .copied()
        .find(|&id| Some(id) != avoid)
        .or_else(|| open.last().copied())
        // All full: HAProxy queues in the backend; Wt Edge queues on the first.
        .or_else(|| pool.group.first().map(|u| u.id))
}
