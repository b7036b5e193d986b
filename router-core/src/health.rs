//! Server health: HAProxy's check state machine per checked server, driven by
//! timestamped observations the host passes in, and the snapshot that routing reads.
//!
//! The counter follows HAProxy's `check->health`: it runs from 0 to
//! `rise + fall - 1`; a server is UP when it is at least `rise`. A server with
//! `check` starts UP at exactly `rise` ("up, but will fall down at the first
//! failure"), so one failed check at start-up marks it DOWN; once a check has
//! passed it needs `fall` consecutive failures. `rise` consecutive successes
//! bring a DOWN server back UP. `track` servers take their target's state.

use alloc::vec::Vec;
use serde::Serialize;

use crate::config::model::{Config, ServerId};

/// UP/DOWN state of every server, as routing sees it. Indexed by server id;
/// holds each server's own check state, tracking is resolved on read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HealthSnapshot {
    up: Vec<bool>,
}

impl HealthSnapshot {
    /// Every server UP.
    pub fn all_up(cfg: &Config) -> Self {
        HealthSnapshot {
            up: alloc::vec![true; cfg.servers.len()],
        }
    }

    /// Builds a snapshot from one byte per server (non-zero = UP); missing bytes are UP.
    pub fn from_bytes(cfg: &Config, bytes: &[u8]) -> Self {
        let up = (0..cfg.servers.len())
            .map(|i| bytes.get(i).is_none_or(|b| *b != 0))
            .collect();
        HealthSnapshot { up }
    }

    /// Overwrites the states from one byte per server (missing bytes are UP),
    /// reusing the allocation: the wasm module does this once per request.
    pub fn refill(&mut self, cfg: &Config, bytes: &[u8]) {
        self.up.clear();
        self.up
            .extend((0..cfg.servers.len()).map(|i| bytes.get(i).is_none_or(|b| *b != 0)));
    }

    /// One byte per server (1 = UP), the form the wasm ABI passes.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.up.iter().map(|&u| u8::from(u)).collect()
    }

    /// Marks a server's own state DOWN (servers tracking it follow).
    pub fn set_down(&mut self, id: ServerId) {
        self.set(id, false);
    }

    /// Sets a server's own state.
    pub fn set(&mut self, id: ServerId, up: bool) {
        if let Some(slot) = self.up.get_mut(id.0 as usize) {
            *slot = up;
        }
    }

    /// Whether the server is UP: its own state and that of every server along
    /// its `track` chain (a tracking server forced DOWN by an operator is DOWN,
    /// and so are the servers that track it, as in HAProxy).
    pub fn is_up(&self, cfg: &Config, id: ServerId) -> bool {
        self.chain(cfg, id, |s| {
            self.up.get(s.0 as usize).copied().unwrap_or(true)
        })
    }

    /// Whether a `use-server` rule may send to the server: UP and not in
    /// maintenance (`disabled`), itself and along its `track` chain. HAProxy
    /// checks only that the server is not stopped: its weight does not matter.
    pub fn available(&self, cfg: &Config, id: ServerId) -> bool {
        self.chain(cfg, id, |s| {
            self.up.get(s.0 as usize).copied().unwrap_or(true) && !cfg.server(s).params.disabled
        })
    }

    /// Whether the balance algorithm may pick the server: [`Self::available`]
    /// and a weight above 0.
    pub fn usable(&self, cfg: &Config, id: ServerId) -> bool {
        cfg.server(id).params.weight > 0 && self.available(cfg, id)
    }

    /// `ok` holds for the server and every server it tracks, directly or not.
    /// Chains were checked for loops when the config loaded; the walk is
    /// bounded anyway.
    fn chain(&self, cfg: &Config, id: ServerId, ok: impl Fn(ServerId) -> bool) -> bool {
        let mut cur = id;
        for _ in 0..=cfg.servers.len() {
            if !ok(cur) {
                return false;
            }
            match &cfg.server(cur).track {
                Some(t) => cur = t.id,
                None => return true,
            }
        }
        true
    }
}

/// One result of a health check (or of a real request, `passive`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Observation {
    /// When it was observed, in host milliseconds (any monotonic origin).
    pub at_ms: u64,
    /// Whether the server answered well.
    pub ok: bool,
    /// A failure seen on a real request (connect error) rather than a check.
    /// It counts as one failed check.
    pub passive: bool,
}

/// A server changed state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Transition {
    /// The server whose checks changed it (its followers change too: [`Config::followers`]).
    pub server: ServerId,
    /// New state.
    pub up: bool,
    /// When.
    pub at_ms: u64,
    /// Consecutive results that caused it (successes when UP, failures when DOWN).
    pub consecutive: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
struct CheckState {
    health: u32,
    up: bool,
    consecutive: u32,
    last_ok: Option<bool>,
    last_change_ms: u64,
}

/// Check state of every server; the single writer of health in a host.
#[derive(Debug, Clone, Serialize)]
pub struct Health {
    states: Vec<CheckState>,
}

impl Health {
    /// Every server in its start-up state: UP, one failure away from DOWN.
    pub fn new(cfg: &Config) -> Self {
        let states = cfg
            .servers
            .iter()
            .map(|s| CheckState {
                health: s.params.rise,
                up: true,
                consecutive: 0,
                last_ok: None,
                last_change_ms: 0,
            })
            .collect();
        Health { states }
    }

    /// Applies an observation. Servers without `check` are not changed.
    /// Returns the transition when the server changes state.
    pub fn observe(&mut self, cfg: &Config, id: ServerId, obs: Observation) -> Option<Transition> {
        let params = &cfg.servers.get(id.0 as usize)?.params;
        if !params.check {
            return None;
        }
        let (rise, fall) = (params.rise.max(1), params.fall.max(1));
        let full = rise + fall - 1;
        let st = self.states.get_mut(id.0 as usize)?;
        st.consecutive = if st.last_ok == Some(obs.ok) {
            st.consecutive.saturating_add(1)
        } else {
            1
        };
        st.last_ok = Some(obs.ok);
        let was_up = st.up;
        if obs.ok {
            if st.health < full {
                st.health += 1;
                if st.health >= rise {
                    st.health = full;
                    st.up = true;
                }
            }
        } else if st.health > rise {
            st.health -= 1;
        } else {
            st.health = 0;
            st.up = false;
        }
        (st.up != was_up).then(|| {
            st.last_change_ms = obs.at_ms;
            Transition {
                server: id,
                up: st.up,
                at_ms: obs.at_ms,
                consecutive: st.consecutive,
            }
        })
    }

    /// Forces a server's state (an operator's action or a test scenario).
    pub fn force(&mut self, cfg: &Config, id: ServerId, up: bool, at_ms: u64) {
        let Some(server) = cfg.servers.get(id.0 as usize) else {
            return;
        };
        let full = server.params.rise.max(1) + server.params.fall.max(1) - 1;
        if let Some(st) = self.states.get_mut(id.0 as usize) {
            st.up = up;
            st.health = if up { full } else { 0 };
            st.last_change_ms = at_ms;
        }
    }

    /// The server's own state (not following `track`).
    pub fn is_up(&self, id: ServerId) -> bool {
        self.states.get(id.0 as usize).is_none_or(|s| s.up)
    }

    /// When the server last changed state (0 if never).
    pub fn last_change_ms(&self, id: ServerId) -> u64 {
        self.states
            .get(id.0 as usize)
            .map_or(0, |s| s.last_change_ms)
    }

    /// Milliseconds until the next check, as HAProxy schedules them: `downinter`
    /// while DOWN, `fastinter` while changing state, `inter` otherwise.
    pub fn next_check_in(&self, cfg: &Config, id: ServerId) -> u64 {
        let Some(server) = cfg.servers.get(id.0 as usize) else {
            return 2000;
        };
        let p = &server.params;
        let full = p.rise.max(1) + p.fall.max(1) - 1;
        match self.states.get(id.0 as usize) {
            Some(st) if st.health == 0 => p.downinter.unwrap_or(p.inter),
            Some(st) if st.health != full => p.fastinter.unwrap_or(p.inter),
            _ => p.inter,
        }
    }

    /// The routing view of the current states.
    pub fn snapshot(&self) -> HealthSnapshot {
        HealthSnapshot {
            up: self.states.iter().map(|s| s.up).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse;

    fn setup() -> (Config, ServerId, ServerId, ServerId) {
        let cfg = parse(
            "t.cfg",
            "backend b\n server c 10.0.0.1:80 check rise 2 fall 3 inter 1s fastinter 100 downinter 5s\n server t 10.0.0.2:80 track c\n server n 10.0.0.3:80\n",
        )
        .unwrap_or_else(|e| panic!("{e}"))
        .config;
        (cfg, ServerId(0), ServerId(1), ServerId(2))
    }

    fn obs(at_ms: u64, ok: bool) -> Observation {
        Observation {
            at_ms,
            ok,
            passive: false,
        }
    }

    #[test]
    fn starts_up_and_the_first_failure_takes_it_down() {
        let (cfg, c, t, _) = setup();
        let mut h = Health::new(&cfg);
        assert!(h.snapshot().is_up(&cfg, c));
        let tr = h.observe(&cfg, c, obs(10, false));
        assert_eq!(tr.map(|t| (t.up, t.at_ms)), Some((false, 10)));
        assert!(!h.snapshot().is_up(&cfg, t), "the tracking server follows");
    }

    #[test]
    fn rise_successes_bring_it_back_then_fall_failures_take_it_down() {
        let (cfg, c, _, _) = setup();
        let mut h = Health::new(&cfg);
        let _ = h.observe(&cfg, c, obs(1, false));
        assert_eq!(h.observe(&cfg, c, obs(2, true)), None, "1 of rise 2");
        assert_eq!(
            h.observe(&cfg, c, obs(3, true))
                .map(|t| (t.up, t.consecutive)),
            Some((true, 2))
        );
        assert_eq!(h.observe(&cfg, c, obs(4, false)), None, "1 of fall 3");
        assert_eq!(h.observe(&cfg, c, obs(5, false)), None, "2 of fall 3");
        assert_eq!(h.observe(&cfg, c, obs(6, false)).map(|t| t.up), Some(false));
        assert_eq!(h.last_change_ms(c), 6);
    }

    #[test]
    fn a_success_in_between_resets_the_fall() {
        let (cfg, c, _, _) = setup();
        let mut h = Health::new(&cfg);
        let _ = h.observe(&cfg, c, obs(1, true));
        for at in 2..4 {
            assert_eq!(h.observe(&cfg, c, obs(at, false)), None);
        }
        let _ = h.observe(&cfg, c, obs(4, true));
        for at in 5..7 {
            assert_eq!(h.observe(&cfg, c, obs(at, false)), None);
        }
        assert!(h.is_up(c));
    }

    #[test]
    fn servers_without_check_do_not_change() {
        let (cfg, _, t, n) = setup();
        let mut h = Health::new(&cfg);
        assert_eq!(h.observe(&cfg, n, obs(1, false)), None);
        assert_eq!(
            h.observe(
                &cfg,
                t,
                Observation {
                    at_ms: 1,
                    ok: false,
                    passive: true
                }
            ),
            None
        );
        assert!(h.snapshot().is_up(&cfg, n));
    }

    #[test]
    fn check_intervals() {
        let (cfg, c, _, _) = setup();
        let mut h = Health::new(&cfg);
        assert_eq!(
            h.next_check_in(&cfg, c),
            100,
            "at start-up the state is not settled: fastinter"
        );
        let _ = h.observe(&cfg, c, obs(1, true));
        assert_eq!(h.next_check_in(&cfg, c), 1000, "fully up: inter");
        h.force(&cfg, c, false, 2);
        assert_eq!(h.next_check_in(&cfg, c), 5000, "down: downinter");
    }

    #[test]
    fn snapshot_bytes_round_trip() {
        let (cfg, c, t, n) = setup();
        let mut s = HealthSnapshot::all_up(&cfg);
        s.set_down(c);
        let back = HealthSnapshot::from_bytes(&cfg, &s.to_bytes());
        assert_eq!(back, s);
        assert!(!back.is_up(&cfg, t) && back.is_up(&cfg, n));
        let mut r = HealthSnapshot::all_up(&cfg);
        r.refill(&cfg, &[1, 0]);
        assert!(r.is_up(&cfg, c) && !r.is_up(&cfg, t) && r.is_up(&cfg, n));
    }
}
