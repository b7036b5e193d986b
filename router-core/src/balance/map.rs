//! `hash-type map-based`: HAProxy 2.6's `lb_map`. Each usable server appears in a
//! table as many times as its weight (weights divided by their greatest common
//! divisor), interleaved by `recalc_server_map()`; a hash picks entry
//! `hash % size`. The table is rebuilt from the health snapshot at each pick, as
//! HAProxy rebuilds it at each state change, so a DOWN server reshuffles keys.

use alloc::vec::Vec;

use super::pool::Pool;
use crate::config::model::{Config, ProxyId, ServerId};

/// The server table of one backend.
pub(crate) struct Map {
    slots: Vec<ServerId>,
}

impl Map {
    /// `init_server_map()` + `recalc_server_map()` for the servers of `pool`.
    pub fn build(cfg: &Config, backend: ProxyId, pool: &Pool) -> Map {
        let gcd = weight_gcd(cfg, backend);
        let eweight = |w: u32| w.div_ceil(gcd);
        let tot: u32 = match &pool.first_backup {
            Some(f) => eweight(f.weight),
            None => pool.group.iter().map(|u| eweight(u.weight)).sum(),
        };
        let mut slots = Vec::with_capacity(tot as usize);
        let tot_i = i64::from(tot);
        let mut score: Vec<i64> = alloc::vec![0; pool.group.len()];
        for _ in 0..tot {
            let mut best: Option<(usize, i64)> = None;
            for (i, u) in pool.group.iter().enumerate() {
                if tot == 1 {
                    best = Some((i, 0));
                    break;
                }
                score[i] += i64::from(eweight(u.weight));
                let v = (score[i] + tot_i) / tot_i;
                if best.is_none_or(|(_, max)| v > max) {
                    best = Some((i, v));
                }
            }
            if let Some((i, _)) = best {
                slots.push(pool.group[i].id);
                if tot != 1 {
                    score[i] -= tot_i;
                }
            }
        }
        Map { slots }
    }

    /// `map_get_server_hash()`.
    pub fn lookup(&self, hash: u32) -> Option<ServerId> {
        let n = u32::try_from(self.slots.len()).ok()?;
        self.slots.get(hash.checked_rem(n)? as usize).copied()
    }

    /// `map_get_server_rr()`: the next entry from `cursor` (moved past it),
    /// skipping `avoid` unless it is the only one.
    pub fn next(&self, cursor: &mut u32, avoid: Option<ServerId>) -> Option<ServerId> {
        let n = u32::try_from(self.slots.len()).ok().filter(|&n| n > 0)?;
        if *cursor >= n {
            *cursor = 0;
        }
        let start = *cursor;
        let mut idx = start;
        loop {
            let s = self.slots[idx as usize];
            idx += 1;
            if Some(s) != avoid {
                *cursor = idx;
                return Some(s);
            }
            if idx == n {
                idx = 0;
            }
            if idx == start {
                break;
            }
        }
        // Only `avoid` there: the last entry looked at, as HAProxy leaves it.
        let at = if start == 0 { n } else { start };
        *cursor = at;
        self.slots.get(at as usize - 1).copied()
    }
}

/// The greatest common divisor of the backend's non-zero weights, every server
/// counted (backups and servers DOWN too), as `init_server_map()` computes it.
fn weight_gcd(cfg: &Config, backend: ProxyId) -> u32 {
    let mut weights = cfg
        .proxy(backend)
        .servers
        .iter()
        .map(|&id| cfg.server(id).params.weight)
        .skip_while(|&w| w == 0);
    let Some(mut g) = weights.next() else {
        return 1;
    };
    for w in weights {
        if g <= 1 {
            break;
        }
        let mut w = w;
        while w != 0 {
            let t = g % w;
            g = w;
            w = t;
        }
    }
    g.max(1)
}
