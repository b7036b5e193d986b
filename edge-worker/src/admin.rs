//! The Worker's runtime API: HAProxy 2.6's CLI commands (router-core's `cli`, the
//! same verbs as wtedge's `stats socket`: `set server B/S state ready|drain|maint`,
//! `set server B/S weight N`, `show servers state`...) sent in the body of an
//! authenticated request. The Worker checks the bearer token ([`authorize`]); the
//! health Durable Object runs the commands on its state ([`run`]), stores it, and
//! every isolate applies it within its snapshot TTL: no redeploy.

use router_core::unstable::cli::{self, Counters, Host, Info, Level, Session};
use router_core::unstable::health::{AdminOp, AdminRefusal};
use router_core::{Config, HealthSnapshot, ProxyId, ServerId};

use crate::checks::Checker;

/// Whether a request may use the runtime API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    /// The bearer token matches the secret.
    Allowed,
    /// No `Authorization: Bearer` token: 401.
    Missing,
    /// A token that is not the secret: 403.
    Wrong,
    /// No secret is set (`wrangler secret put WTEDGE_ADMIN_TOKEN`): the API is off.
    Disabled,
}

/// Shortest secret accepted: a short one could be guessed.
pub const MIN_TOKEN_LEN: usize = 16;

/// Checks `Authorization: Bearer <token>` against the secret, in time that does not
/// depend on where the two differ. A secret shorter than [`MIN_TOKEN_LEN`] turns the
/// API off.
pub fn authorize(secret: Option<&str>, authorization: Option<&str>) -> Auth {
    let Some(secret) = secret.map(str::trim).filter(|s| s.len() >= MIN_TOKEN_LEN) else {
        return Auth::Disabled;
    };
    let token = authorization.and_then(|h| {
        let (scheme, token) = h.trim().split_once(' ')?;
        scheme
            .eq_ignore_ascii_case("bearer")
            .then(|| token.trim())
            .filter(|t| !t.is_empty())
    });
    match token {
        None => Auth::Missing,
        Some(t) if constant_time_eq(t.as_bytes(), secret.as_bytes()) => Auth::Allowed,
        Some(_) => Auth::Wrong,
    }
}

/// Equality of two byte strings, every byte of the longer one read whatever the
/// content (only the lengths' equality shows in the timing).
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let n = a.len().max(b.len());
    let mut diff = u8::from(a.len() != b.len());
    for i in 0..n {
        let x = a.get(i).copied().unwrap_or(0);
        let y = b.get(i).copied().unwrap_or(0);
        diff |= x ^ y;
    }
    std::hint::black_box(diff) == 0
}

/// The CLI's view of the Durable Object: its health state; no traffic counters (the
/// isolates serve the traffic).
struct ObjectHost<'a> {
    cfg: &'a Config,
    checker: &'a mut Checker,
    now: u64,
    changed: bool,
}

impl Host for ObjectHost<'_> {
    fn snapshot(&self) -> HealthSnapshot {
        self.checker.snapshot()
    }

    fn admin(&mut self, server: ServerId, op: AdminOp) -> Result<(), AdminRefusal> {
        self.checker.admin(self.cfg, server, op, self.now)?;
        self.changed = true;
        Ok(())
    }

    fn proxy_counters(&self, _: ProxyId) -> Counters {
        Counters::default()
    }

    fn server_counters(&self, _: ServerId) -> Counters {
        Counters::default()
    }

    fn since_change_s(&self, id: ServerId) -> u64 {
        self.checker.since_change_s(id, self.now)
    }

    fn info(&self) -> Info {
        Info {
            version: String::from(env!("CARGO_PKG_VERSION")),
            nbthread: 1,
            node: String::from("wt-edge"),
            ..Info::default()
        }
    }
}

/// Runs the commands of `body` (one or more lines, each one or more `;`-separated
/// commands) at the `admin` level; returns the CLI's answers and whether the health
/// state changed (the object then stores it).
pub fn run(cfg: &Config, checker: &mut Checker, now: u64, body: &str) -> (String, bool) {
    let mut host = ObjectHost {
        cfg,
        checker,
        now,
        changed: false,
    };
    let mut session = Session::new(Level::Admin);
    let mut out = String::new();
    for line in body.lines().filter(|l| !l.trim().is_empty()) {
        out.push_str(&cli::run(cfg, &mut session, &mut host, line));
        if session.done {
            break;
        }
    }
    (out, host.changed)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "s3cret-token-0123456789";

    #[test]
    fn only_the_bearer_token_passes() {
        let bearer = format!("Bearer {SECRET}");
        assert_eq!(authorize(Some(SECRET), Some(&bearer)), Auth::Allowed);
        assert_eq!(
            authorize(Some(SECRET), Some(&format!("bearer  {SECRET} "))),
            Auth::Allowed
        );
        assert_eq!(authorize(Some(SECRET), None), Auth::Missing);
        assert_eq!(authorize(Some(SECRET), Some(SECRET)), Auth::Missing);
        // Another scheme carries no bearer token: 401, as RFC 6750 says.
        assert_eq!(authorize(Some(SECRET), Some("Basic abc")), Auth::Missing);
        assert_eq!(
            authorize(Some(SECRET), Some("Bearer s3cret-token-012345678")),
            Auth::Wrong
        );
        assert_eq!(
            authorize(Some(SECRET), Some(&format!("Bearer {SECRET}x"))),
            Auth::Wrong
        );
        assert_eq!(authorize(None, Some(&bearer)), Auth::Disabled);
        assert_eq!(
            authorize(Some("short"), Some("Bearer short")),
            Auth::Disabled
        );
    }

    #[test]
    fn constant_time_eq_is_equality() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
        assert!(!constant_time_eq(b"", b"a"));
        assert!(constant_time_eq(b"", b""));
    }

    #[test]
    fn the_runtime_verbs_change_the_objects_state() {
        let text =
            "backend b\n server s1 wt1.example.com:80 check\n server s2 wt2.example.com:80\n";
        let cfg = router_core::parse("t.cfg", text)
            .unwrap_or_else(|e| panic!("{e}"))
            .config;
        let mut k = Checker::new(&cfg, 0);
        let s1 = ServerId(0);
        let s2 = ServerId(1);
        let (out, changed) = run(
            &cfg,
            &mut k,
            10,
            "set server b/s1 state drain\nset server b/s2 weight 3; get weight b/s2\n",
        );
        assert!(changed);
        // HAProxy 2.6 answers `get weight` with the current and initial weights.
        assert!(out.contains("3 (initial 1)"), "{out:?}");
        let snap = k.snapshot();
        assert!(snap.drain(&cfg, s1) && snap.weight(s2) == 3);
        let (out, changed) = run(&cfg, &mut k, 20, "set server b/s1 state maint");
        assert!(changed && out.trim().is_empty(), "{out:?}");
        assert!(k.snapshot().maint(&cfg, s1));
        let (out, changed) = run(&cfg, &mut k, 30, "set server b/nope state ready");
        assert!(!changed);
        assert!(out.contains("No such server"), "{out:?}");
        let (_, changed) = run(&cfg, &mut k, 40, "show servers state");
        assert!(!changed);
    }
}
