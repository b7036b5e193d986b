//! The queue phase: a server with `maxconn` serves that many requests at once; the
//! others wait in its queue (a `use-server` request) or the backend's (a balanced
//! one) for `timeout queue`. A `use-server` request that finds its server's queue
//! full (`maxqueue`) goes where router-core says: another server, or a 503.

use std::time::{Duration, Instant};

use router_core::Forward;
use router_core::unstable::termination::{Cause, Phase, Termination};
use tokio::sync::OwnedSemaphorePermit;

use super::connection::ClientConn;
use super::exchange::{Ended, Exchange};
use super::ms;
use crate::engine::Engine;
use crate::state::counters::{dec, get, inc};

impl ClientConn {
    /// Waits for a slot on `fwd`'s server (none when it has no `maxconn`), which may
    /// change `fwd` (`maxqueue` with `option redispatch`). Sets the exchange's Tw and
    /// redispatch on success (Tw counts from `queue_start`); `Err`: the answer to
    /// give instead.
    pub(super) async fn queue<'c>(
        &mut self,
        engine: &'c dyn Engine,
        ex: &mut Exchange<'_>,
        fwd: &mut Forward<'c>,
        queue_to: Duration,
        queue_start: Instant,
    ) -> Result<Option<OwnedSemaphorePermit>, Ended> {
        let g = self.g.clone();
        let cfg = engine.config();
        let be_c = g.counters.proxy(usize::from(fwd.backend.0));
        let mut permit = None;
        // Committed to the exchange once the request has a slot: a refused request
        // logs no redispatch (as before router-core counted them).
        let mut attempts = ex.times.attempts;
        while let Some(Some(sem)) = g.server_slots.get(fwd.server.0 as usize) {
            if let Ok(p) = sem.clone().try_acquire_owned() {
                permit = Some(p);
                break;
            }
            let sc = g.counters.server(fwd.server.0 as usize);
            // A `use-server` request whose server's queue is full (`maxqueue`):
            // router-core says whether it goes to another server or gets a 503.
            let queued = sc.map_or(0, |c| get(&c.queue_cur));
            if !fwd.balanced
                && router_core::unstable::retry::server_queue_full(cfg, fwd.server, queued)
            {
                let other = match router_core::unstable::retry::on_full_queue(cfg, fwd) {
                    router_core::unstable::retry::FullQueue::Redispatch => {
                        engine.redispatch(fwd, &ex.facts)
                    }
                    router_core::unstable::retry::FullQueue::Refuse => None,
                };
                let Some(other) = other else {
                    let full = Termination::new(Cause::ServerClosed, Phase::Queue);
                    return Err(Ended::new(fwd.backend, Some(fwd.server), 503, full));
                };
                attempts.redispatched_to(fwd.server, other.server);
                *fwd = other;
                continue;
            }
            if let Some(c) = sc {
                inc(&c.queue_cur);
            }
            if let Some(c) = be_c {
                inc(&c.queue_cur);
            }
            // HAProxy queues a balanced request in the backend's queue (no server
            // yet), a `use-server` one in its server's; the log gives its place there
            // (1: nobody was ahead).
            let (place, which) = if fwd.balanced {
                (be_c.map_or(1, |c| get(&c.queue_cur)), 1)
            } else {
                (sc.map_or(1, |c| get(&c.queue_cur)), 0)
            };
            self.queue_pos[which].store(place.max(1), std::sync::atomic::Ordering::Relaxed);
            let got = tokio::time::timeout(queue_to, sem.clone().acquire_owned()).await;
            if let Some(c) = sc {
                dec(&c.queue_cur);
            }
            if let Some(c) = be_c {
                dec(&c.queue_cur);
            }
            match got {
                Ok(Ok(p)) => {
                    permit = Some(p);
                    break;
                }
                _ => {
                    ex.times.t_queue = Some(ms(queue_start.elapsed()));
                    let timeout = Termination::new(Cause::ServerTimeout, Phase::Queue);
                    let server = (!fwd.balanced).then_some(fwd.server);
                    return Err(Ended::new(fwd.backend, server, 503, timeout));
                }
            }
        }
        // HAProxy's Tw: until the server was (last) assigned.
        ex.times.t_queue = Some(ms(queue_start.elapsed()));
        ex.times.attempts = attempts;
        Ok(permit)
    }
}
