//! `balance random[(draws)]`: HAProxy 2.6's `get_server_rnd()`. Each draw hashes a
//! random number onto the consistent-hash ring; of the servers drawn, the one with
//! the fewest streams per weight wins (power of two choices by default). The host
//! supplies the random numbers ([`Tickets::random`]) and the stream counts
//! ([`Tickets::served`]): router-core has no random source.

use super::Tickets;
use super::chash::Ring;
use super::pool::Pool;
use crate::config::model::{Config, ProxyId, ServerId};
use crate::health::HealthSnapshot;

/// `get_server_rnd()`.
pub(crate) fn pick(
    cfg: &Config,
    backend: ProxyId,
    health: &HealthSnapshot,
    avoid: Option<ServerId>,
    draws: u32,
    tickets: &dyn Tickets,
) -> Option<ServerId> {
    let pool = Pool::of(cfg, backend, health);
    if let Some(f) = pool.first_backup {
        return Some(f.id);
    }
    let ring = Ring::of(&pool.group);
    let weight = |id: ServerId| u64::from(health.weight(id));
    let mut best: Option<ServerId> = None;
    for _ in 0..draws.max(1) {
        let drawn = ring.lookup(tickets.random(), avoid)?;
        best = match best {
            Some(prev)
                if prev != drawn
                    && u64::from(tickets.served(drawn)) * weight(prev)
                        > u64::from(tickets.served(prev)) * weight(drawn) =>
            {
                Some(prev)
            }
            _ => Some(drawn),
        };
    }
    best
}
