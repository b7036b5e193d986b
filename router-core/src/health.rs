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

/// Bits of a server's own state in a snapshot byte (inherited states are
/// resolved on read, along the `track` chain, as HAProxy propagates them).
pub mod bits {
    /// The checks say UP (HAProxy's operational state is not STOPPED).
    pub const UP: u8 = 0x01;
    /// Forced into maintenance by an operator (`SRV_ADMF_FMAINT`).
    pub const FMAINT: u8 = 0x02;
    /// `disabled` in the config (`SRV_ADMF_CMAINT`): a marker only; the
    /// server starts with [`FMAINT`] too, and `ready` clears that one.
    pub const CMAINT: u8 = 0x04;
    /// Forced into drain by an operator (`SRV_ADMF_FDRAIN`).
    pub const FDRAIN: u8 = 0x08;
    /// Operational state STOPPING (`set server health stopping`).
    pub const STOPPING: u8 = 0x10;
}

/// HAProxy's admin-state request of `set server B/S state`, `enable/disable server`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum AdminState {
    /// `ready`: clears forced drain and maintenance.
    Ready,
    /// `drain`: no new balanced picks, sessions keep coming (`srv_adm_set_drain`).
    Drain,
    /// `maint`: not usable at all (`srv_adm_set_maint`).
    Maint,
}

/// HAProxy's operational state request of `set server B/S health`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum OpState {
    /// `up`: RUNNING, check health full.
    Up,
    /// `stopping`: STOPPING (like drain for routing) until a check passes.
    Stopping,
    /// `down`: STOPPED, check health 0.
    Down,
}

/// An operator's change to one server (the runtime API's `set server` verbs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum AdminOp {
    /// `set server B/S state ...`, `enable server`, `disable server`.
    State(AdminState),
    /// `set server B/S health ...`.
    Health(OpState),
    /// `set server B/S weight N`: the user weight, 0 to 256.
    Weight(u16),
}

impl AdminOp {
    /// A compact code for the wasm ABI: kind in the high byte, argument below.
    pub fn to_code(self) -> u32 {
        match self {
            AdminOp::State(s) => 0x1_0000 | s as u32,
            AdminOp::Health(h) => 0x2_0000 | h as u32,
            AdminOp::Weight(w) => 0x3_0000 | u32::from(w),
        }
    }

    /// The inverse of [`Self::to_code`].
    pub fn from_code(code: u32) -> Option<Self> {
        let arg = code & 0xffff;
        Some(match code >> 16 {
            1 => AdminOp::State(match arg {
                0 => AdminState::Ready,
                1 => AdminState::Drain,
                2 => AdminState::Maint,
                _ => return None,
            }),
            2 => AdminOp::Health(match arg {
                0 => OpState::Up,
                1 => OpState::Stopping,
                2 => OpState::Down,
                _ => return None,
            }),
            3 if arg <= 256 => AdminOp::Weight(arg as u16),
            _ => return None,
        })
    }
}

/// Why an operator's change was refused (HAProxy's CLI message).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminRefusal {
    /// `set server health` on a tracking server.
    Tracking,
    /// No such server.
    NoServer,
}

/// State of every server, as routing sees it. Indexed by server id; holds each
/// server's own state, tracking is resolved on read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HealthSnapshot {
    flags: Vec<u8>,
    /// User weights (`set server weight`), 0 to 256.
    weights: Vec<u16>,
}

/// A server's state before any check or operator action.
fn initial_flags(cfg: &Config, i: usize) -> u8 {
    match cfg.servers.get(i) {
        Some(s) if s.params.disabled => bits::UP | bits::FMAINT | bits::CMAINT,
        _ => bits::UP,
    }
}

fn initial_weight(cfg: &Config, i: usize) -> u16 {
    cfg.servers.get(i).map_or(1, |s| {
        u16::try_from(s.params.weight.min(256)).unwrap_or(256)
    })
}

impl HealthSnapshot {
    /// Every server UP (servers `disabled` in the config in maintenance).
    pub fn all_up(cfg: &Config) -> Self {
        let n = cfg.servers.len();
        HealthSnapshot {
            flags: (0..n).map(|i| initial_flags(cfg, i)).collect(),
            weights: (0..n).map(|i| initial_weight(cfg, i)).collect(),
        }
    }

    /// Builds a snapshot from [`Self::to_bytes`]'s form: one flag byte per server
    /// ([`bits`]), then optionally one little-endian `u16` weight per server.
    /// Missing bytes take the server's initial state.
    pub fn from_bytes(cfg: &Config, bytes: &[u8]) -> Self {
        let mut s = HealthSnapshot {
            flags: Vec::new(),
            weights: Vec::new(),
        };
        s.refill(cfg, bytes);
        s
    }

    /// Overwrites the states from bytes (see [`Self::from_bytes`]), reusing the
    /// allocation: the wasm module does this once per request.
    pub fn refill(&mut self, cfg: &Config, bytes: &[u8]) {
        let n = cfg.servers.len();
        self.flags.clear();
        self.flags
            .extend((0..n).map(|i| bytes.get(i).map_or_else(|| initial_flags(cfg, i), |b| *b)));
        self.weights.clear();
        let w = bytes.get(n..).unwrap_or(&[]);
        self.weights
            .extend((0..n).map(|i| match (w.get(2 * i), w.get(2 * i + 1)) {
                (Some(&lo), Some(&hi)) => u16::from_le_bytes([lo, hi]),
                _ => initial_weight(cfg, i),
            }));
    }

    /// The flag bytes then the weights, the form the wasm ABI passes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = self.flags.clone();
        for w in &self.weights {
            out.extend_from_slice(&w.to_le_bytes());
        }
        out
    }

    /// Marks a server's own state DOWN (servers tracking it follow).
    pub fn set_down(&mut self, id: ServerId) {
        self.set(id, false);
    }

    /// Sets a server's own check state.
    pub fn set(&mut self, id: ServerId, up: bool) {
        if let Some(slot) = self.flags.get_mut(id.0 as usize) {
            *slot = if up {
                *slot | bits::UP
            } else {
                *slot & !bits::UP
            };
        }
    }

    /// Puts a server (and its trackers, on read) in an admin state, as
    /// `explain --state` does.
    pub fn set_admin(&mut self, id: ServerId, state: AdminState) {
        if let Some(slot) = self.flags.get_mut(id.0 as usize) {
            *slot = apply_admin(*slot, state);
        }
    }

    /// The server's own flag byte ([`bits`]).
    pub fn own_flags(&self, id: ServerId) -> u8 {
        self.flags.get(id.0 as usize).copied().unwrap_or(bits::UP)
    }

    /// The server's user weight (`uweight`).
    pub fn weight(&self, id: ServerId) -> u16 {
        self.weights.get(id.0 as usize).copied().unwrap_or(1)
    }

    fn any_along(&self, cfg: &Config, id: ServerId, mask: u8) -> bool {
        !self.chain(cfg, id, |s| self.own_flags(s) & mask == 0)
    }

    /// The first server along the `track` chain (itself included) with `mask`.
    pub fn origin(&self, cfg: &Config, id: ServerId, mask: u8) -> Option<ServerId> {
        let mut cur = id;
        for _ in 0..=cfg.servers.len() {
            if self.own_flags(cur) & mask != 0 {
                return Some(cur);
            }
            cur = cfg.server(cur).track.as_ref()?.id;
        }
        None
    }

    /// Whether the checks say UP: its own state and that of every server along
    /// its `track` chain (a tracking server forced DOWN by an operator is DOWN,
    /// and so are the servers that track it, as in HAProxy). Maintenance is
    /// not looked at: see [`Self::available`].
    pub fn is_up(&self, cfg: &Config, id: ServerId) -> bool {
        self.chain(cfg, id, |s| self.own_flags(s) & bits::UP != 0)
    }

    /// In maintenance, itself or through the server it tracks (`SRV_ADMF_MAINT`).
    pub fn maint(&self, cfg: &Config, id: ServerId) -> bool {
        self.any_along(cfg, id, bits::FMAINT)
    }

    /// Draining, itself or through the server it tracks (`SRV_ADMF_DRAIN`).
    pub fn drain(&self, cfg: &Config, id: ServerId) -> bool {
        self.any_along(cfg, id, bits::FDRAIN)
    }

    /// Operational state STOPPING, itself or through the server it tracks.
    pub fn stopping(&self, cfg: &Config, id: ServerId) -> bool {
        self.any_along(cfg, id, bits::STOPPING)
    }

    /// HAProxy's `srv_is_up()` and what a `use-server` rule may send to: not
    /// in maintenance and not STOPPED, itself and along its `track` chain.
    /// Draining, STOPPING and weight do not matter (HAProxy's
    /// `process_server_rules()` only skips a stopped server).
    pub fn available(&self, cfg: &Config, id: ServerId) -> bool {
        self.is_up(cfg, id) && !self.maint(cfg, id)
    }

    /// Whether the balance algorithm may pick the server and `nbsrv` counts it
    /// (HAProxy's `srv_currently_usable()`): [`Self::available`], not draining,
    /// not STOPPING, and a weight above 0 (in the config and at run time).
    pub fn usable(&self, cfg: &Config, id: ServerId) -> bool {
        cfg.server(id).params.weight > 0
            && self.weight(id) > 0
            && self.available(cfg, id)
            && !self.drain(cfg, id)
            && !self.stopping(cfg, id)
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

/// HAProxy 2.6's `srv_adm_set_ready/drain/maint()`: the forced states exclude
/// each other (maint clears drain and the other way round); the config's
/// `disabled` marker stays.
fn apply_admin(flags: u8, state: AdminState) -> u8 {
    let base = flags & !(bits::FMAINT | bits::FDRAIN);
    match state {
        AdminState::Ready => base,
        AdminState::Drain => base | bits::FDRAIN,
        AdminState::Maint => base | bits::FMAINT,
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
    /// Own admin flags: [`bits::FMAINT`], [`bits::CMAINT`], [`bits::FDRAIN`].
    admin: u8,
    /// Operational state STOPPING (set by an operator, cleared by a passing check).
    stopping: bool,
    /// User weight.
    weight: u16,
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
            .enumerate()
            .map(|(i, s)| CheckState {
                health: s.params.rise,
                up: true,
                consecutive: 0,
                last_ok: None,
                last_change_ms: 0,
                admin: initial_flags(cfg, i) & !bits::UP,
                stopping: false,
                weight: initial_weight(cfg, i),
            })
            .collect();
        Health { states }
    }

    /// Applies an observation. Servers without `check` are not changed, nor
    /// servers in maintenance (HAProxy pauses their checks).
    /// Returns the transition when the server changes state.
    pub fn observe(&mut self, cfg: &Config, id: ServerId, obs: Observation) -> Option<Transition> {
        let params = &cfg.servers.get(id.0 as usize)?.params;
        if !params.check {
            return None;
        }
        let (rise, fall) = (params.rise.max(1), params.fall.max(1));
        let full = rise + fall - 1;
        let st = self.states.get_mut(id.0 as usize)?;
        if st.admin & bits::FMAINT != 0 {
            return None;
        }

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
            st.stopping = false;
        }
        // A passing check sets a STOPPING server RUNNING again (HAProxy's
        // `srv_set_running()` from the check; seen on 2.6.12).
        if obs.ok && st.health >= rise {
            st.stopping = false;
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
            st.stopping = false;
            st.health = if up { full } else { 0 };
            st.last_change_ms = at_ms;
        }
    }

    /// Applies an operator's change (the runtime API), as HAProxy 2.6 does:
    /// admin states exclude each other and leaving maintenance restarts the
    /// checks at `rise` ("up, going down at the first failure"); `health` is
    /// refused on a tracking server (it follows the one it tracks).
    pub fn admin(
        &mut self,
        cfg: &Config,
        id: ServerId,
        op: AdminOp,
        at_ms: u64,
    ) -> Result<(), AdminRefusal> {
        let server = cfg
            .servers
            .get(id.0 as usize)
            .ok_or(AdminRefusal::NoServer)?;
        let p = &server.params;
        let full = p.rise.max(1) + p.fall.max(1) - 1;
        let st = self
            .states
            .get_mut(id.0 as usize)
            .ok_or(AdminRefusal::NoServer)?;
        match op {
            AdminOp::State(state) => {
                let was_maint = st.admin & bits::FMAINT != 0;
                st.admin = apply_admin(st.admin, state);
                let maint = st.admin & bits::FMAINT != 0;
                if maint != was_maint {
                    st.last_change_ms = at_ms;
                    if maint {
                        st.health = 0;
                    } else {
                        st.health = p.rise.max(1);
                        st.up = true;
                    }
                }
            }
            AdminOp::Health(_) if server.track.is_some() => return Err(AdminRefusal::Tracking),
            AdminOp::Health(h) => {
                let (up, stopping) = match h {
                    OpState::Up => (true, false),
                    OpState::Stopping => (true, true),
                    OpState::Down => (false, false),
                };
                if up != st.up || stopping != st.stopping {
                    st.last_change_ms = at_ms;
                }
                st.up = up;
                st.stopping = stopping;
                st.health = if up { full } else { 0 };
            }
            AdminOp::Weight(w) => st.weight = w.min(256),
        }
        Ok(())
    }

    /// The check health counter (0 to `rise + fall - 1`), for `show servers state`.
    pub fn check_health(&self, id: ServerId) -> u32 {
        self.states.get(id.0 as usize).map_or(0, |s| s.health)
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
            flags: self
                .states
                .iter()
                .map(|s| {
                    let mut f = s.admin;
                    if s.up {
                        f |= bits::UP;
                    }
                    if s.stopping {
                        f |= bits::STOPPING;
                    }
                    f
                })
                .collect(),
            weights: self.states.iter().map(|s| s.weight).collect(),
        }
    }
}

/// Version byte of [`Health::saved`]'s encoding.
const SAVED_VERSION: u8 = 1;
/// Bytes per server in [`Health::saved`].
const SAVED_SERVER_LEN: usize = 22;

impl Health {
    /// Every server's check state as bytes, for a host that keeps health across
    /// restarts (the Worker's Durable Object storage): counters, states, admin flags
    /// and weights. [`Health::restore`] reads them back.
    pub fn saved(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(5 + self.states.len() * SAVED_SERVER_LEN);
        out.push(SAVED_VERSION);
        out.extend_from_slice(&(self.states.len() as u32).to_le_bytes());
        for st in &self.states {
            out.extend_from_slice(&st.health.to_le_bytes());
            out.push(u8::from(st.up));
            out.extend_from_slice(&st.consecutive.to_le_bytes());
            out.push(match st.last_ok {
                None => 0,
                Some(false) => 1,
                Some(true) => 2,
            });
            out.extend_from_slice(&st.last_change_ms.to_le_bytes());
            out.push(st.admin);
            out.push(u8::from(st.stopping));
            out.extend_from_slice(&st.weight.to_le_bytes());
        }
        out
    }

    /// The state [`Health::saved`] wrote, for the same config (`None` when the bytes
    /// are not such a state for `cfg`'s servers: another version, another count).
    /// Counters and weights are clamped to what `cfg` allows.
    pub fn restore(cfg: &Config, bytes: &[u8]) -> Option<Self> {
        let (&version, rest) = bytes.split_first()?;
        if version != SAVED_VERSION {
            return None;
        }
        let count = u32::from_le_bytes(rest.get(..4)?.try_into().ok()?) as usize;
        let body = rest.get(4..)?;
        if count != cfg.servers.len() || body.len() != count * SAVED_SERVER_LEN {
            return None;
        }
        let mut health = Health::new(cfg);
        for ((st, chunk), server) in health
            .states
            .iter_mut()
            .zip(body.chunks_exact(SAVED_SERVER_LEN))
            .zip(&cfg.servers)
        {
            let u32_at = |i: usize| {
                chunk
                    .get(i..i + 4)
                    .and_then(|b| b.try_into().ok())
                    .map(u32::from_le_bytes)
            };
            let full = server.params.rise.max(1) + server.params.fall.max(1) - 1;
            st.health = u32_at(0)?.min(full);
            st.up = chunk[4] != 0;
            st.consecutive = u32_at(5)?;
            st.last_ok = match chunk[9] {
                0 => None,
                1 => Some(false),
                _ => Some(true),
            };
            st.last_change_ms = u64::from_le_bytes(chunk.get(10..18)?.try_into().ok()?);
            st.admin = chunk[18];
            st.stopping = chunk[19] != 0;
            st.weight = u16::from_le_bytes(chunk.get(20..22)?.try_into().ok()?).min(256);
        }
        Some(health)
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
    fn a_saved_state_restores_counters_admin_and_weights() {
        let (cfg, c, _, n) = setup();
        let mut h = Health::new(&cfg);
        h.observe(&cfg, c, obs(10, true));
        h.observe(&cfg, c, obs(20, false));
        h.admin(&cfg, n, AdminOp::State(AdminState::Drain), 30)
            .unwrap_or_else(|e| panic!("{e:?}"));
        h.admin(&cfg, n, AdminOp::Weight(9), 40)
            .unwrap_or_else(|e| panic!("{e:?}"));
        let bytes = h.saved();
        let r = Health::restore(&cfg, &bytes).unwrap_or_else(|| panic!("not restored"));
        assert_eq!(r.saved(), bytes);
        assert_eq!(r.check_health(c), h.check_health(c));
        assert_eq!(
            r.next_check_in(&cfg, c),
            100,
            "still changing state: fastinter"
        );
        assert_eq!(r.snapshot(), h.snapshot());
        assert!(r.snapshot().drain(&cfg, n) && r.snapshot().weight(n) == 9);
        // Not this config's state: refused, not misread.
        assert!(Health::restore(&cfg, &bytes[..bytes.len() - 1]).is_none());
        let mut other = bytes.clone();
        other[0] = 9;
        assert!(Health::restore(&cfg, &other).is_none());
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
