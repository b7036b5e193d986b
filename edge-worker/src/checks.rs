//! The health Durable Object's bookkeeping, as plain data so that it is tested
//! natively: which servers are due for a check, what a check sends and what counts
//! as a pass, and the transitions log. State changes come from
//! `router_core::Health` only (rise, fall, `inter`/`fastinter`/`downinter`).
//!
//! Which servers are checked, what a check sends, its timeout and what passes are
//! router-core's check plan ([`router_core::unstable::check`]), the same as wtedge's. At the
//! edge a check is an HTTP request, not a TCP connect: a Worker cannot open a bare
//! TCP connection to an arbitrary origin the way HAProxy's layer-4 check does, so
//! without `option httpchk` a check is `OPTIONS /` and an answer below 500 passes
//! (Cloudflare reports an origin it cannot reach with 52x/530); with `option httpchk
//! METHOD URI`, that request is sent and a 2xx or 3xx answer passes, as in HAProxy.
//! A check fails on a connection error or when it takes longer than its timeout
//! (connect and read bounds added up: `fetch` does not tell them apart).

use std::collections::VecDeque;

use router_core::model::ServerHost;
use router_core::unstable::check::{self, CheckResult, Prober};
use router_core::unstable::health::{AdminOp, AdminRefusal};
use router_core::{Config, Health, HealthSnapshot, Observation, ServerId, Transition, Upstream};

use crate::host::origin_url;

/// How many transitions the log keeps.
pub const LOG_KEEP: usize = 64;

/// Checks running at once, at most: a Worker invocation (the Durable Object's
/// alarm) may have 6 connections open at the same time; more would queue in the
/// runtime and eat into the checks' timeouts.
pub const MAX_IN_FLIGHT: usize = 6;

/// What the Durable Object keeps in its storage so that health survives deploys and
/// evictions: router-core's check states ([`Health::saved`]) and the transitions log,
/// for the config of `fingerprint`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Saved {
    /// The config's fingerprint (as text: JavaScript numbers hold 53 bits).
    pub fingerprint: String,
    /// [`Health::saved`].
    pub health: Vec<u8>,
    /// The transitions log, oldest first.
    pub log: Vec<SavedEvent>,
}

/// One logged transition, as stored.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SavedEvent {
    /// Server id.
    pub server: u32,
    /// New state.
    pub up: bool,
    /// When (ms).
    pub at_ms: u64,
    /// Consecutive results that caused it.
    pub consecutive: u32,
    /// The last observation's description.
    pub reason: String,
}

/// One health check to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckSpec {
    /// Server checked.
    pub server: ServerId,
    /// URL to request.
    pub url: String,
    /// Method (`OPTIONS` by default).
    pub method: String,
    /// Whole-check timeout in ms.
    pub timeout_ms: u64,
    /// `option httpchk`: only 2xx and 3xx pass; otherwise any answer passes.
    pub http_status_matters: bool,
}

impl CheckSpec {
    /// Whether an answer with `status` (`None`: no answer) passes.
    pub fn passes(&self, status: Option<u16>) -> bool {
        let result = status.map_or(CheckResult::Failed, |s| CheckResult::Answered(Some(s)));
        check::judge(self.http_status_matters, Prober::Workers, result)
    }
}

/// A state change, as logged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// router-core's transition.
    pub transition: Transition,
    /// `backend/server`.
    pub server: String,
    /// Servers that follow it through `track`.
    pub followers: Vec<String>,
    /// What the last observation was (`check failed: ...`, `passive failure`, ...).
    pub reason: String,
}

impl Event {
    /// The log line (`Server bck1/srv1 is DOWN after 3 failed checks (...)`).
    pub fn line(&self) -> String {
        let t = &self.transition;
        let (state, what) = if t.up {
            ("UP", "successful")
        } else {
            ("DOWN", "failed")
        };
        let mut s = format!(
            "Server {} is {state} after {} {what} check{} ({})",
            self.server,
            t.consecutive,
            if t.consecutive == 1 { "" } else { "s" },
            self.reason
        );
        if !self.followers.is_empty() {
            s.push_str(&format!("; tracking it: {}", self.followers.join(", ")));
        }
        s
    }
}

/// The Durable Object's health state: router-core's [`Health`], the check schedule
/// and the transitions log.
#[derive(Debug, Clone)]
pub struct Checker {
    health: Health,
    due: Vec<Option<u64>>,
    checks: Vec<u64>,
    last_reason: Vec<String>,
    log: VecDeque<Event>,
    /// When this state started (created, or restored from storage).
    started_ms: u64,
}

/// Whether the DO runs checks for a server (router-core's plan).
pub use router_core::unstable::check::is_checked;

impl Checker {
    /// Start-up state: every server UP (one failure away from DOWN for checked
    /// ones, as router-core starts them), every checked server due at `now`.
    pub fn new(cfg: &Config, now: u64) -> Self {
        let n = cfg.servers.len();
        Checker {
            health: Health::new(cfg),
            due: cfg
                .server_ids()
                .map(|id| is_checked(cfg, id).then_some(now))
                .collect(),
            checks: vec![0; n],
            last_reason: vec![String::new(); n],
            log: VecDeque::new(),
            started_ms: now,
        }
    }

    /// Servers whose check is due at `now`.
    pub fn due(&self, now: u64) -> Vec<ServerId> {
        self.due
            .iter()
            .enumerate()
            .filter(|(_, d)| d.is_some_and(|d| d <= now))
            .filter_map(|(i, _)| u32::try_from(i).ok().map(ServerId))
            .collect()
    }

    /// The due servers to start now: at most [`MAX_IN_FLIGHT`] checks run at once
    /// (counting those still running); the others stay due for the next wake-up.
    pub fn batch(&self, now: u64) -> Vec<ServerId> {
        let running = self.due.iter().filter(|d| **d == Some(u64::MAX)).count();
        let mut due = self.due(now);
        due.truncate(MAX_IN_FLIGHT.saturating_sub(running));
        due
    }

    /// Applies an operator's change (the runtime API's `set server` verbs, through
    /// router-core's [`Health::admin`]); a server leaving maintenance is checked at once.
    pub fn admin(
        &mut self,
        cfg: &Config,
        id: ServerId,
        op: AdminOp,
        now: u64,
    ) -> Result<(), AdminRefusal> {
        self.health.admin(cfg, id, op, now)?;
        if let Some(d) = self.due.get_mut(id.0 as usize)
            && d.is_some_and(|d| d != u64::MAX)
            && !self.health.snapshot().maint(cfg, id)
        {
            *d = Some(now);
        }
        Ok(())
    }

    /// What the Durable Object stores.
    pub fn save(&self, fingerprint: u64) -> Saved {
        Saved {
            fingerprint: fingerprint.to_string(),
            health: self.health.saved(),
            log: self
                .log
                .iter()
                .map(|e| SavedEvent {
                    server: e.transition.server.0,
                    up: e.transition.up,
                    at_ms: e.transition.at_ms,
                    consecutive: e.transition.consecutive,
                    reason: e.reason.clone(),
                })
                .collect(),
        }
    }

    /// The checker [`Checker::save`] stored, for the config of `fingerprint` (`None`:
    /// another config, or a state that does not fit this one). Every checked server is
    /// due at `now`: the checks resume at once.
    pub fn restore(cfg: &Config, saved: &Saved, fingerprint: u64, now: u64) -> Option<Self> {
        if saved.fingerprint != fingerprint.to_string() {
            return None;
        }
        let mut k = Checker::new(cfg, now);
        k.health = Health::restore(cfg, &saved.health)?;
        for e in saved.log.iter().rev().take(LOG_KEEP).rev() {
            let id = ServerId(e.server);
            if id.0 as usize >= cfg.servers.len() {
                continue;
            }
            k.log.push_back(Event {
                transition: Transition {
                    server: id,
                    up: e.up,
                    at_ms: e.at_ms,
                    consecutive: e.consecutive,
                },
                server: cfg.server_path(id),
                followers: cfg.followers(id).map(|f| cfg.server_path(f)).collect(),
                reason: e.reason.clone(),
            });
        }
        Some(k)
    }

    /// Marks `id` as being checked so that the next wake-up does not start it twice
    /// (it is rescheduled by [`Checker::record`]).
    pub fn start(&mut self, id: ServerId) {
        if let Some(d) = self.due.get_mut(id.0 as usize) {
            *d = d.map(|_| u64::MAX);
        }
    }

    /// The check request for `id`.
    pub fn spec(cfg: &Config, id: ServerId) -> CheckSpec {
        let s = cfg.server(id);
        let p = &s.params;
        let port = p
            .check_port
            .or(s.port)
            .unwrap_or(if p.ssl { 443 } else { 80 });
        let upstream = match &s.host {
            ServerHost::Name(host) => Upstream::Name {
                host: host.as_str(),
                port,
            },
            ServerHost::Ip(ip) => Upstream::Socket(std::net::SocketAddr::new(*ip, port)),
        };
        let (method, uri, status_matters) = match check::request(cfg, id) {
            Some(h) => (h.method, h.uri, true),
            None => ("OPTIONS".to_string(), "/".to_string(), false),
        };
        let timeout_ms = check::timeouts(cfg, id).total_ms();
        CheckSpec {
            server: id,
            url: origin_url(&upstream, p.ssl, &uri),
            method,
            timeout_ms,
            http_status_matters: status_matters,
        }
    }

    /// Applies a check result (or a passive failure) taken at `now` and reschedules
    /// the server's next check. Returns the logged event when the server changed state.
    pub fn record(
        &mut self,
        cfg: &Config,
        id: ServerId,
        ok: bool,
        passive: bool,
        now: u64,
        reason: &str,
    ) -> Option<Event> {
        let i = id.0 as usize;
        if i >= cfg.servers.len() {
            return None;
        }
        let t = self.health.observe(
            cfg,
            id,
            Observation {
                at_ms: now,
                ok,
                passive,
            },
        );
        if let Some(r) = self.last_reason.get_mut(i) {
            reason.clone_into(r);
        }
        if !passive {
            if let Some(c) = self.checks.get_mut(i) {
                *c += 1;
            }
            if let Some(d) = self.due.get_mut(i)
                && d.is_some()
            {
                *d = Some(now.saturating_add(self.health.next_check_in(cfg, id).max(1)));
            }
        }
        let t = t?;
        let event = Event {
            transition: t,
            server: cfg.server_path(id),
            followers: cfg.followers(id).map(|f| cfg.server_path(f)).collect(),
            reason: reason.to_string(),
        };
        if self.log.len() >= LOG_KEEP {
            self.log.pop_front();
        }
        self.log.push_back(event.clone());
        Some(event)
    }

    /// When the next check is due (`None`: nothing is checked).
    pub fn next_wake(&self) -> Option<u64> {
        self.due.iter().flatten().copied().min()
    }

    /// The routing view (one byte per server, 1 = UP; tracking resolved by readers).
    pub fn snapshot(&self) -> HealthSnapshot {
        self.health.snapshot()
    }

    /// router-core's state machine.
    pub fn health(&self) -> &Health {
        &self.health
    }

    /// Checks run so far for `id`.
    pub fn checks_run(&self, id: ServerId) -> u64 {
        self.checks.get(id.0 as usize).copied().unwrap_or(0)
    }

    /// The last observation's description for `id`.
    pub fn last_reason(&self, id: ServerId) -> &str {
        self.last_reason
            .get(id.0 as usize)
            .map_or("", String::as_str)
    }

    /// The next check time of `id` (`None`: not checked; `u64::MAX`: running).
    pub fn due_at(&self, id: ServerId) -> Option<u64> {
        self.due.get(id.0 as usize).copied().flatten()
    }

    /// Seconds since `id` last changed state at `now`, or since this state started
    /// when it never did (HAProxy counts from the process start): `show servers state`.
    pub fn since_change_s(&self, id: ServerId, now: u64) -> u64 {
        let since = self.health.last_change_ms(id).max(self.started_ms);
        now.saturating_sub(since) / 1000
    }

    /// The transitions, oldest first.
    pub fn log(&self) -> impl Iterator<Item = &Event> {
        self.log.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CFG: &str = "defaults\n timeout connect 300\nfrontend f\n bind :80\n default_backend lb\n\
backend lb\n server s1 wt1.example.com:443 ssl track b1/s1\n server s2 wt2.example.com:8080\n\
backend b1\n server s1 wt1.example.com:443 ssl check inter 500 fall 3 rise 2\n\
backend b2\n option httpchk GET /health\n timeout check 200\n server s2 wt2.example.com:8080 check port 9000\n";

    fn cfg() -> Config {
        router_core::parse("t.cfg", CFG)
            .unwrap_or_else(|e| panic!("{e}"))
            .config
    }

    #[test]
    fn only_checked_untracked_servers_are_scheduled() {
        let c = cfg();
        let k = Checker::new(&c, 1000);
        let due: Vec<String> = k.due(1000).iter().map(|&s| c.server_path(s)).collect();
        assert_eq!(due, ["b1/s1", "b2/s2"]);
        assert!(k.due(999).is_empty());
        assert_eq!(k.next_wake(), Some(1000));
    }

    #[test]
    fn specs_follow_httpchk_ports_and_timeouts() {
        let c = cfg();
        let s = Checker::spec(&c, c.server_id("b1", "s1").unwrap());
        assert_eq!(
            (s.url.as_str(), s.method.as_str(), s.timeout_ms),
            ("https://wt1.example.com:443/", "OPTIONS", 500)
        );
        // Without httpchk an answer passes unless it is a 5xx: Cloudflare answers 52x
        // and 530 for an origin it cannot reach.
        assert!(s.passes(Some(404)) && !s.passes(None));
        assert!(!s.passes(Some(500)) && !s.passes(Some(522)) && !s.passes(Some(530)));
        let s = Checker::spec(&c, c.server_id("b2", "s2").unwrap());
        assert_eq!(
            (s.url.as_str(), s.method.as_str(), s.timeout_ms),
            ("http://wt2.example.com:9000/health", "GET", 500)
        );
        assert!(s.passes(Some(204)) && s.passes(Some(302)) && !s.passes(Some(500)));
    }

    #[test]
    fn fall_failures_after_a_pass_mark_down_and_rise_passes_bring_back() {
        let c = cfg();
        let id = c.server_id("b1", "s1").unwrap();
        let mut k = Checker::new(&c, 0);
        k.start(id);
        assert!(k.due(10_000).iter().all(|&s| s != id), "running: not due");
        assert!(k.record(&c, id, true, false, 0, "ok").is_none());
        assert_eq!(k.due_at(id), Some(500));
        assert!(k.record(&c, id, false, false, 500, "refused").is_none());
        assert!(k.record(&c, id, false, false, 1000, "refused").is_none());
        let e = k.record(&c, id, false, false, 1500, "refused").unwrap();
        assert_eq!((e.transition.up, e.transition.consecutive), (false, 3));
        assert_eq!(e.followers, ["lb/s1"]);
        assert_eq!(
            e.line(),
            "Server b1/s1 is DOWN after 3 failed checks (refused); tracking it: lb/s1"
        );
        let snap = k.snapshot();
        assert!(!snap.is_up(&c, id));
        assert!(!snap.is_up(&c, c.server_id("lb", "s1").unwrap()));
        assert!(k.record(&c, id, true, false, 2000, "ok").is_none());
        let e = k.record(&c, id, true, false, 2500, "ok").unwrap();
        assert!(e.transition.up);
        assert_eq!(k.log().count(), 2);
        assert_eq!(k.checks_run(id), 6);
    }

    #[test]
    fn at_most_six_checks_run_at_once() {
        let mut text = String::from("backend b\n");
        for i in 0..8 {
            text.push_str(&format!(" server s{i} wt{i}.example.com:80 check\n"));
        }
        let c = router_core::parse("t.cfg", &text).unwrap().config;
        let mut k = Checker::new(&c, 0);
        let first = k.batch(0);
        assert_eq!(first.len(), 6);
        first.iter().take(4).for_each(|&id| k.start(id));
        // 4 running: 2 more may start, the other 2 wait.
        assert_eq!(k.batch(0).len(), 2);
        for &id in first.iter().take(4) {
            k.record(&c, id, true, false, 10, "ok");
        }
        assert_eq!(k.batch(10), k.due(10));
        assert_eq!(k.batch(10).len(), 4);
    }

    #[test]
    fn a_saved_checker_comes_back_with_its_states_admin_and_log() {
        let c = cfg();
        let b1 = c.server_id("b1", "s1").unwrap();
        let b2 = c.server_id("b2", "s2").unwrap();
        let mut k = Checker::new(&c, 0);
        assert!(
            k.record(&c, b1, false, false, 100, "check failed")
                .is_some()
        );
        k.admin(
            &c,
            b2,
            AdminOp::State(router_core::unstable::health::AdminState::Drain),
            150,
        )
        .unwrap();
        k.admin(&c, b2, AdminOp::Weight(7), 160).unwrap();
        let saved = k.save(42);
        // Through JSON, as the Durable Object's storage keeps it.
        let json = serde_json::to_string(&saved).unwrap();
        let back: Saved = serde_json::from_str(&json).unwrap();
        let r = Checker::restore(&c, &back, 42, 5000).unwrap();
        let snap = r.snapshot();
        assert!(!snap.is_up(&c, b1), "DOWN survives");
        assert!(
            snap.drain(&c, b2) && snap.weight(b2) == 7,
            "drain and weight survive"
        );
        assert_eq!(r.health().check_health(b1), k.health().check_health(b1));
        assert_eq!(
            r.log().map(Event::line).collect::<Vec<_>>(),
            k.log().map(Event::line).collect::<Vec<_>>()
        );
        assert_eq!(r.due(5000).len(), 2, "checks resume at once");
        // Another config's state is not restored.
        assert!(Checker::restore(&c, &back, 43, 5000).is_none());
        let other = router_core::parse("t.cfg", "backend b\n server s wt.example.com:80 check\n")
            .unwrap()
            .config;
        assert!(Checker::restore(&other, &back, 42, 0).is_none());
    }

    #[test]
    fn time_since_change_counts_from_the_start_or_the_last_change() {
        let c = cfg();
        let b1 = c.server_id("b1", "s1").unwrap();
        let mut k = Checker::new(&c, 1_000_000);
        assert_eq!(k.since_change_s(b1, 1_005_000), 5);
        k.record(&c, b1, false, false, 1_010_000, "check failed");
        assert_eq!(k.since_change_s(b1, 1_013_000), 3);
    }

    #[test]
    fn passive_failures_count_without_rescheduling() {
        let c = cfg();
        let id = c.server_id("b1", "s1").unwrap();
        let mut k = Checker::new(&c, 0);
        // Start-up state: one failure away from DOWN.
        let e = k.record(&c, id, false, true, 5, "passive").unwrap();
        assert!(!e.transition.up);
        assert_eq!(k.due_at(id), Some(0));
        assert_eq!(k.checks_run(id), 0);
        // Servers without `check` ignore observations.
        let s2 = c.server_id("lb", "s2").unwrap();
        assert!(k.record(&c, s2, false, true, 5, "passive").is_none());
        assert!(k.record(&c, ServerId(99), false, true, 5, "x").is_none());
    }
}
