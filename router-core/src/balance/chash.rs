//! `hash-type consistent` (and `balance random`'s draws): HAProxy 2.6's
//! `lb_chash`. Each usable server owns `weight * 16` points on a 32-bit ring, point
//! `n` of the server with id `puid` at `full_hash(puid * 4096 + n)`; a hash goes to
//! the nearer of the points around it (the previous one on a tie). A server going
//! DOWN only removes its own points, so only its keys move.
//!
//! Equal points of two servers (rare) are ordered by file position; HAProxy orders
//! them by insertion, which differs only after DOWN/UP changes.

use alloc::vec::Vec;

use super::hash::full_hash;
use super::pool::Usable;
use crate::config::model::ServerId;

/// HAProxy's `SRV_EWGHT_RANGE`: points reserved per server id.
const EWGHT_RANGE: u32 = 256 * super::BE_WEIGHT_SCALE;

/// One point: (position on the ring, server, the server's point number).
pub(crate) type Point = (u32, ServerId, u32);

/// The ring of the servers in use.
pub(crate) struct Ring {
    points: Vec<Point>,
}

impl Ring {
    /// The points of `servers`.
    pub fn of(servers: &[Usable]) -> Ring {
        let mut points: Vec<Point> = Vec::new();
        for u in servers {
            let puid = u32::try_from(u.pos).unwrap_or(u32::MAX).wrapping_add(1);
            for n in 0..u.weight.saturating_mul(super::BE_WEIGHT_SCALE) {
                points.push((
                    full_hash(puid.wrapping_mul(EWGHT_RANGE).wrapping_add(n)),
                    u.id,
                    n,
                ));
            }
        }
        // Stable: equal positions keep file order, then point order.
        points.sort_by_key(|p| p.0);
        Ring { points }
    }

    /// `chash_get_server_hash()` without a bounded load: the server of the point
    /// nearest to `hash`, or the next one that is not `avoid`.
    pub fn lookup(&self, hash: u32, avoid: Option<ServerId>) -> Option<ServerId> {
        let n = self.points.len();
        if n == 0 {
            return None;
        }
        let next = self.points.partition_point(|p| p.0 < hash) % n;
        let prev = (next + n - 1) % n;
        let dp = hash.wrapping_sub(self.points[prev].0);
        let dn = self.points[next].0.wrapping_sub(hash);
        let mut at = if dp <= dn { prev } else { next };
        let mut wrapped = 0;
        while Some(self.points[at].1) == avoid {
            at += 1;
            if at == n {
                at = 0;
                wrapped += 1;
                if wrapped > 1 {
                    break;
                }
            }
        }
        Some(self.points[at].1)
    }

    /// `chash_get_next_server()`: the point after `last` (HAProxy's round-robin on
    /// the ring when a hash key is missing), skipping `avoid` unless it is alone;
    /// `last` moves to the point picked. A `last` no longer on the ring (its server
    /// went DOWN) stands for the point that followed it, where HAProxy moves it.
    pub fn next(&self, last: &mut Option<Point>, avoid: Option<ServerId>) -> Option<ServerId> {
        let n = self.points.len();
        if n == 0 {
            *last = None;
            return None;
        }
        let from = match *last {
            None => 0,
            Some(l) => match self.points.iter().position(|p| *p == l) {
                Some(i) => i + 1,
                None => self.points.partition_point(|p| p.0 <= l.0) + 1,
            },
        };
        let mut at = (from + n - 1) % n;
        for k in 0..n {
            let i = (from + k) % n;
            if Some(self.points[i].1) != avoid {
                at = i;
                break;
            }
        }
        *last = Some(self.points[at]);
        Some(self.points[at].1)
    }
}
