//! Per-isolate state: the config parsed once, round-robin tickets, the cached
//! health snapshot. Workers run one request at a time per isolate thread, so plain
//! `thread_local!` cells are enough (nothing here is held across an `.await`).

use std::cell::{OnceCell, RefCell};
use std::net::SocketAddr;
use std::rc::Rc;

use router_core::{Config, HealthSnapshot, ProxyId};
use worker::Env;

use crate::host::{HeaderCopy, fingerprint};

/// A loaded config and what routing needs alongside it.
pub struct Router {
    /// The validated model (leaked: it lives as long as the isolate).
    pub cfg: Config,
    /// The frontend that receives every request (`WTEDGE_FRONTEND`, else the first).
    pub frontend: ProxyId,
    /// This isolate's round-robin positions.
    /// Round-robin positions of this isolate (per isolate, not global).
    pub tickets: router_core::LocalTickets,
    /// Which request headers go into router-core's facts (computed once per config).
    pub headers: HeaderCopy,
    /// Fingerprint of the config text (shared with the health Durable Object).
    pub fingerprint: u64,
    /// Test hooks only: a fixed health state instead of the Durable Object's.
    pub fixed_health: Option<HealthSnapshot>,
    /// Test hooks only: the address the client is said to have connected to.
    pub dst: Option<SocketAddr>,
}

thread_local! {
    static BUNDLED: OnceCell<Result<&'static Router, String>> = const { OnceCell::new() };
    static HEALTH: RefCell<Cache> = const { RefCell::new(Cache { snapshot: None, fetched_at: f64::NEG_INFINITY, refresh_started: None }) };
}

fn random_start(_: usize) -> u64 {
    // Spread isolates over the rotation: each starts at a random position.
    (js_sys::Math::random() * 1_000_000.0) as u64
}

/// Builds a router from config text.
pub fn load(
    name: &str,
    text: &str,
    frontend: Option<&str>,
    start: impl FnMut(usize) -> u64,
) -> Result<Router, String> {
    let parsed = router_core::parse_with_files(name, text, &crate::bundled_page)
        .map_err(|e| e.to_string())?;
    let cfg = parsed.config;
    let frontend = match frontend.filter(|f| !f.is_empty()) {
        Some(f) => cfg
            .proxy_id(f)
            .filter(|&id| cfg.proxy(id).kind.is_frontend())
            .ok_or_else(|| format!("{name}: no frontend or listen section named {f:?}"))?,
        None => cfg
            .default_frontend()
            .ok_or_else(|| format!("{name}: no frontend or listen section"))?,
    };
    let tickets = router_core::LocalTickets::starting_at(&cfg, start);
    // `balance random`'s draws: this isolate's own sequence.
    tickets.seed((js_sys::Math::random() * f64::from(u32::MAX)) as u32);
    let headers = HeaderCopy::of(&cfg);
    Ok(Router {
        cfg,
        frontend,
        tickets,
        headers,
        fingerprint: fingerprint(text),
        fixed_health: None,
        dst: None,
    })
}

/// The bundled config, parsed on first use in this isolate.
pub fn bundled(env: &Env) -> Result<&'static Router, String> {
    BUNDLED.with(|cell| {
        cell.get_or_init(|| {
            let frontend = var(env, "WTEDGE_FRONTEND");
            load(
                crate::CONFIG_NAME,
                crate::CONFIG_TEXT,
                frontend.as_deref(),
                random_start,
            )
            .map(|r| &*Box::leak(Box::new(r)))
        })
        .clone()
    })
}

#[cfg(feature = "test-hooks")]
thread_local! {
    static OVERRIDE: RefCell<Option<&'static Router>> = const { RefCell::new(None) };
}

/// The router requests use: a test override, else the bundled config.
#[cfg(feature = "test-hooks")]
pub fn current(env: &Env) -> Result<&'static Router, String> {
    match OVERRIDE.with(|o| *o.borrow()) {
        Some(r) => Ok(r),
        None => bundled(env),
    }
}

/// The router requests use: the bundled config.
#[cfg(not(feature = "test-hooks"))]
pub fn current(env: &Env) -> Result<&'static Router, String> {
    bundled(env)
}

/// Test hooks: routes with `router` until [`clear_override`] (it is leaked; tests only).
#[cfg(feature = "test-hooks")]
pub fn set_override(router: Router) {
    let r: &'static Router = Box::leak(Box::new(router));
    OVERRIDE.with(|o| *o.borrow_mut() = Some(r));
}

/// Test hooks: back to the bundled config.
#[cfg(feature = "test-hooks")]
pub fn clear_override() {
    OVERRIDE.with(|o| *o.borrow_mut() = None);
}

/// A string var (`[vars]` in wrangler.toml, `--var` under wrangler dev).
pub fn var(env: &Env, name: &str) -> Option<String> {
    env.var(name).ok().map(|v| v.to_string())
}

/// The vars a request reads, read once per isolate (they are fixed for a deployment)
/// and kept for its lifetime (no copy per request).
#[derive(Debug, Clone)]
pub struct Settings {
    /// `WTEDGE_STATUS_PATH` (`None`: disabled).
    pub status_path: Option<String>,
    /// `WTEDGE_TEST_HOOKS=1` in a build with the `test-hooks` feature (never a
    /// deployment's: false without the feature).
    pub test_hooks: bool,
    /// `WTEDGE_HEALTH_TTL_MS`.
    pub health_ttl_ms: f64,
    /// `WTEDGE_HEALTH_COLD_WAIT_MS`: how long a fresh isolate waits for its first
    /// snapshot before routing as "all UP".
    pub health_cold_wait_ms: u64,
    /// The health object's name and location hint (`WTEDGE_HEALTH_LOCATION`,
    /// [`crate::placement`]); an invalid hint is logged and left out.
    pub health_object: (String, Option<&'static str>),
    /// `WTEDGE_ADMIN_PATH`: where the runtime API answers (with a token set).
    pub admin_path: String,
}

/// Default of `WTEDGE_HEALTH_COLD_WAIT_MS`.
const COLD_WAIT_MS: u64 = 500;
/// Default of `WTEDGE_ADMIN_PATH`.
const ADMIN_PATH: &str = "/__wtedge/admin";

thread_local! {
    static SETTINGS: OnceCell<&'static Settings> = const { OnceCell::new() };
}

/// This isolate's [`Settings`]; `default_ttl_ms` when the var is absent or not a number.
pub fn settings(env: &Env, default_ttl_ms: u64) -> &'static Settings {
    SETTINGS.with(|s| {
        *s.get_or_init(|| {
            &*Box::leak(Box::new(Settings {
                status_path: var(env, "WTEDGE_STATUS_PATH").filter(|p| !p.is_empty()),
                test_hooks: test_hooks_on(env),
                health_ttl_ms: var(env, "WTEDGE_HEALTH_TTL_MS")
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .unwrap_or(default_ttl_ms) as f64,
                health_cold_wait_ms: var(env, "WTEDGE_HEALTH_COLD_WAIT_MS")
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .unwrap_or(COLD_WAIT_MS)
                    .min(10_000),
                health_object: crate::placement::health_object(
                    var(env, "WTEDGE_HEALTH_LOCATION").as_deref(),
                )
                .unwrap_or_else(|e| {
                    worker::console_error!(
                        "wtedge: {e}; the health object is placed without a hint"
                    );
                    ("health".to_string(), None)
                }),
                admin_path: var(env, "WTEDGE_ADMIN_PATH")
                    .filter(|p| p.starts_with('/'))
                    .unwrap_or_else(|| ADMIN_PATH.to_string()),
            }))
        })
    })
}

#[cfg(feature = "test-hooks")]
fn test_hooks_on(env: &Env) -> bool {
    var(env, "WTEDGE_TEST_HOOKS").as_deref() == Some("1")
}

#[cfg(not(feature = "test-hooks"))]
fn test_hooks_on(_: &Env) -> bool {
    false
}

struct Cache {
    /// Decoded once per refresh, shared by the requests that route with it.
    snapshot: Option<Rc<HealthSnapshot>>,
    fetched_at: f64,
    refresh_started: Option<f64>,
}

/// A refresh that has not finished after this long is considered lost.
const REFRESH_LOST_MS: f64 = 10_000.0;

/// The cached health snapshot (all UP before the first answer from the Durable
/// Object), and whether the caller should start a refresh (it is then marked as
/// started: one refresh at a time per isolate).
pub fn cached_health(router: &Router, now: f64, ttl_ms: f64) -> (Rc<HealthSnapshot>, bool) {
    HEALTH.with(|h| {
        let mut c = h.borrow_mut();
        let running = c.refresh_started.is_some_and(|s| now - s < REFRESH_LOST_MS);
        let refresh = !running && now - c.fetched_at >= ttl_ms;
        if refresh {
            c.refresh_started = Some(now);
        }
        let snap = c
            .snapshot
            .get_or_insert_with(|| Rc::new(HealthSnapshot::all_up(&router.cfg)))
            .clone();
        (snap, refresh)
    })
}

/// Whether the caller should wait for a refresh before routing: the isolate is
/// cold (it never had an answer from the Durable Object) or idle (its snapshot is
/// older than twice the TTL: under traffic the background refresh keeps it within
/// the TTL), and no refresh runs. The refresh is then marked as started.
pub fn claim_wait(now: f64, ttl_ms: f64) -> bool {
    HEALTH.with(|h| {
        let mut c = h.borrow_mut();
        let running = c.refresh_started.is_some_and(|s| now - s < REFRESH_LOST_MS);
        let stale = now - c.fetched_at > 2.0 * ttl_ms;
        let wait = !running && stale;
        if wait {
            c.refresh_started = Some(now);
        }
        wait
    })
}

thread_local! {
    static PASSIVE: RefCell<crate::passive::Queue> = RefCell::new(crate::passive::Queue::default());
}

/// Queues a passive failure report; `true`: the caller starts the flush.
pub fn queue_passive(server: u32, reason: &str, now: f64) -> bool {
    PASSIVE.with(|q| q.borrow_mut().push(server, reason, now.max(0.0) as u64))
}

/// The reports the running flush sends next (empty: it ends).
pub fn take_passive() -> Vec<crate::passive::Report> {
    PASSIVE.with(|q| q.borrow_mut().take())
}

/// Stores a refresh's outcome (`None`: it failed; the old snapshot stays).
pub fn store_health(router: &Router, bytes: Option<Vec<u8>>, now: f64) {
    HEALTH.with(|h| {
        let mut c = h.borrow_mut();
        if let Some(b) = bytes {
            c.snapshot = Some(Rc::new(HealthSnapshot::from_bytes(&router.cfg, &b)));
        }
        c.fetched_at = now;
        c.refresh_started = None;
    })
}
