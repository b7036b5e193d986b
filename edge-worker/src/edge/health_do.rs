//! The health Durable Object: the single writer of server health for every
//! isolate. Its alarm runs the active checks (`inter`, `fastinter`, `downinter`,
//! `rise`, `fall` through `router_core::Health`, see [`crate::checks`]); isolates
//! read its snapshot (`GET /snapshot`) and report passive failures
//! (`POST /passive?server=ID`) without waiting for it; `GET /status` shows every
//! server and the last transitions.
//!
//! State is stored in the object's storage at every state change (transitions,
//! operator changes through the runtime API, [`crate::admin`]): after a deploy or an
//! eviction the object starts from the stored states and transitions log (for the
//! same config; another config starts as a fresh HAProxy would) and checks at once.
//! At most [`crate::checks::MAX_IN_FLIGHT`] checks run at the same time.

use std::cell::RefCell;

use futures_util::future::{Either, join_all, select};
use router_core::ServerId;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use worker::{
    DurableObject, Env, Request, Response, Result, State, console_error, console_log,
    durable_object,
};

use super::state;
use crate::checks::{CheckSpec, Checker, Saved, is_checked};

/// Header carrying the config fingerprint between isolates and the object.
pub const CONFIG_HEADER: &str = "x-wtedge-config";

/// The storage key of the object's state ([`Saved`]).
const STORAGE_KEY: &str = "health";

/// The Durable Object class (`HEALTH` binding in wrangler.toml).
#[durable_object(alarm)]
pub struct HealthObject {
    state: State,
    env: Env,
    checker: RefCell<Option<Checker>>,
    armed: RefCell<bool>,
    /// Whether the state came from storage (shown by `/status`).
    restored: RefCell<bool>,
}

fn now_ms() -> u64 {
    js_sys::Date::now().max(0.0) as u64
}

impl DurableObject for HealthObject {
    fn new(state: State, env: Env) -> Self {
        HealthObject {
            state,
            env,
            checker: RefCell::new(None),
            armed: RefCell::new(false),
            restored: RefCell::new(false),
        }
    }

    async fn fetch(&self, req: Request) -> Result<Response> {
        let router = match state::bundled(&self.env) {
            Ok(r) => r,
            Err(e) => return Response::error(e, 500),
        };
        let now = now_ms();
        self.ensure_checker(router, now).await;
        self.arm(now).await;
        let raw_url = req.inner().url();
        let target = crate::host::split_url(&raw_url).target;
        let path = target.split('?').next().unwrap_or(target).to_string();
        let same_config = req
            .headers()
            .get(CONFIG_HEADER)
            .ok()
            .flatten()
            .is_none_or(|v| v == router.fingerprint.to_string());
        match path.as_str() {
            "/snapshot" => {
                let bytes = self
                    .checker
                    .borrow()
                    .as_ref()
                    .map(|c| c.snapshot().to_bytes())
                    .unwrap_or_default();
                let mut resp = Response::from_bytes(bytes)?;
                resp.headers_mut()
                    .set(CONFIG_HEADER, &router.fingerprint.to_string())?;
                Ok(resp)
            }
            "/passive" => {
                // Coalesced reports (crate::passive): each failure counts once.
                let mut req = req;
                let body = req.text().await.unwrap_or_default();
                let mut changed = false;
                if same_config {
                    let mut guard = self.checker.borrow_mut();
                    if let Some(c) = guard.as_mut() {
                        for r in crate::passive::decode(&body) {
                            let id = ServerId(r.server);
                            if id.0 as usize >= router.cfg.servers.len() {
                                continue;
                            }
                            let reason = format!("passive failure: {}", r.reason);
                            for _ in 0..r.count {
                                if let Some(e) =
                                    c.record(&router.cfg, id, false, true, now, &reason)
                                {
                                    console_log!("{}", e.line());
                                    changed = true;
                                }
                            }
                        }
                    }
                }
                if changed {
                    self.persist(router).await;
                }
                Ok(Response::empty()?.with_status(204))
            }
            "/admin" if same_config => {
                // The isolate checked the bearer token (crate::admin::authorize);
                // only isolates of this Worker reach the object.
                let mut req = req;
                let body = req.text().await.unwrap_or_default();
                let (out, changed) = {
                    let mut guard = self.checker.borrow_mut();
                    match guard.as_mut() {
                        Some(c) => crate::admin::run(&router.cfg, c, now, &body),
                        None => (String::from("no health state\n"), false),
                    }
                };
                if changed {
                    console_log!("health: runtime API: {}", body.trim());
                    self.persist(router).await;
                    // A server leaving maintenance is checked at once.
                    *self.armed.borrow_mut() = false;
                    if let Err(e) = self.state.storage().set_alarm(1).await {
                        console_error!("health: cannot set the alarm: {e}");
                    }
                }
                Response::ok(out)
            }
            #[cfg(feature = "test-hooks")]
            "/reload" => {
                // Test hooks: forget the in-memory state, as an eviction does.
                *self.checker.borrow_mut() = None;
                *self.restored.borrow_mut() = false;
                self.ensure_checker(router, now).await;
                Response::ok(if *self.restored.borrow() {
                    "restored"
                } else {
                    "fresh"
                })
            }
            "/status" => {
                let body = self.status(router, now);
                Response::from_json(&body)
            }
            _ => Response::error("not found", 404),
        }
    }

    async fn alarm(&self) -> Result<Response> {
        let router = match state::bundled(&self.env) {
            Ok(r) => r,
            Err(e) => {
                console_error!("health: {e}");
                return Response::ok("no config");
            }
        };
        let cfg = &router.cfg;
        let now = now_ms();
        self.ensure_checker(router, now).await;
        let specs: Vec<CheckSpec> = {
            let mut guard = self.checker.borrow_mut();
            match guard.as_mut() {
                Some(c) => {
                    let due = c.batch(now);
                    for &id in &due {
                        c.start(id);
                    }
                    due.into_iter().map(|id| Checker::spec(cfg, id)).collect()
                }
                None => Vec::new(),
            }
        };
        let results = join_all(specs.iter().map(run_check)).await;
        let done = now_ms();
        let mut changed = false;
        {
            let mut guard = self.checker.borrow_mut();
            if let Some(c) = guard.as_mut() {
                for (spec, (status, reason)) in specs.iter().zip(results) {
                    let ok = spec.passes(status);
                    if let Some(e) = c.record(cfg, spec.server, ok, false, done, &reason) {
                        console_log!("{}", e.line());
                        changed = true;
                    }
                }
            }
        }
        if changed {
            self.persist(router).await;
        }
        *self.armed.borrow_mut() = false;
        self.arm(done).await;
        Response::ok("checked")
    }
}

impl HealthObject {
    /// Loads the state on first use: the stored one for this config, else a fresh
    /// start. (Storage reads close the object's input gate: no other event runs
    /// in between.)
    async fn ensure_checker(&self, router: &state::Router, now: u64) {
        if self.checker.borrow().is_some() {
            return;
        }
        let saved = match self.state.storage().get::<Saved>(STORAGE_KEY).await {
            Ok(s) => s,
            Err(e) => {
                console_error!("health: reading the stored state: {e}");
                None
            }
        };
        let restored =
            saved.and_then(|s| Checker::restore(&router.cfg, &s, router.fingerprint, now));
        let mut guard = self.checker.borrow_mut();
        if guard.is_none() {
            *self.restored.borrow_mut() = restored.is_some();
            *guard = Some(restored.unwrap_or_else(|| Checker::new(&router.cfg, now)));
        }
    }

    /// Stores the state (after a transition or an operator's change).
    async fn persist(&self, router: &state::Router) {
        let saved = self
            .checker
            .borrow()
            .as_ref()
            .map(|c| c.save(router.fingerprint));
        if let Some(saved) = saved
            && let Err(e) = self.state.storage().put(STORAGE_KEY, saved).await
        {
            console_error!("health: storing the state: {e}");
        }
    }

    /// Sets the alarm for the next due check (once per wake-up).
    async fn arm(&self, now: u64) {
        if *self.armed.borrow() {
            return;
        }
        let next = self.checker.borrow().as_ref().and_then(Checker::next_wake);
        let Some(next) = next else { return };
        *self.armed.borrow_mut() = true;
        let delay = next.saturating_sub(now).clamp(1, 3_600_000);
        if let Err(e) = self
            .state
            .storage()
            .set_alarm(i64::try_from(delay).unwrap_or(1000))
            .await
        {
            *self.armed.borrow_mut() = false;
            console_error!("health: cannot set the alarm: {e}");
        }
    }

    fn status(&self, router: &state::Router, now: u64) -> serde_json::Value {
        let cfg = &router.cfg;
        let guard = self.checker.borrow();
        let Some(c) = guard.as_ref() else {
            return serde_json::json!({ "servers": [] });
        };
        let snap = c.snapshot();
        let servers: Vec<serde_json::Value> = cfg
            .server_ids()
            .map(|id| {
                let s = cfg.server(id);
                serde_json::json!({
                    "id": id.0,
                    "server": cfg.server_path(id),
                    "up": snap.is_up(cfg, id),
                    "usable": snap.usable(cfg, id),
                    "drain": snap.drain(cfg, id),
                    "maint": snap.maint(cfg, id),
                    "weight": snap.weight(id),
                    "checked": is_checked(cfg, id),
                    "tracks": s.track.as_ref().map(|t| cfg.server_path(t.id)),
                    "checks": c.checks_run(id),
                    "last": c.last_reason(id),
                    "last_change_ms": c.health().last_change_ms(id),
                    "next_check_in_ms": c.due_at(id).filter(|&d| d != u64::MAX).map(|d| d.saturating_sub(now)),
                })
            })
            .collect();
        let log: Vec<serde_json::Value> = c
            .log()
            .map(|e| {
                serde_json::json!({
                    "at_ms": e.transition.at_ms,
                    "server": e.server,
                    "up": e.transition.up,
                    "consecutive": e.transition.consecutive,
                    "reason": e.reason,
                    "line": e.line(),
                })
            })
            .collect();
        serde_json::json!({
            "config": crate::CONFIG_NAME,
            "restored": *self.restored.borrow(),
            "now_ms": now,
            "servers": servers,
            "transitions": log,
        })
    }
}

/// Runs one check: the answer's status (`None`: no answer in time) and a description.
async fn run_check(spec: &CheckSpec) -> (Option<u16>, String) {
    let Ok(controller) = web_sys::AbortController::new() else {
        return (None, "cannot create an AbortController".into());
    };
    let init = web_sys::RequestInit::new();
    init.set_method(&spec.method);
    init.set_redirect(web_sys::RequestRedirect::Manual);
    init.set_signal(Some(&controller.signal()));
    let global: web_sys::WorkerGlobalScope = js_sys::global().unchecked_into();
    let fetch = JsFuture::from(global.fetch_with_str_and_init(&spec.url, &init));
    let timeout = worker::Delay::from(std::time::Duration::from_millis(spec.timeout_ms));
    match select(fetch, timeout).await {
        Either::Left((Ok(v), _)) => match v.dyn_into::<web_sys::Response>() {
            Ok(resp) => {
                let status = resp.status();
                // Drop the body without reading it.
                if let Some(body) = resp.body() {
                    let _ = body.cancel();
                }
                let verdict = if spec.passes(Some(status)) {
                    "check passed"
                } else {
                    "check failed"
                };
                (Some(status), format!("{verdict}: HTTP {status}"))
            }
            Err(_) => (None, "check failed: not a response".into()),
        },
        Either::Left((Err(e), _)) => (
            None,
            format!(
                "check failed: connection error: {}",
                super::js_error_text(&e)
            ),
        ),
        Either::Right(_) => {
            controller.abort();
            (
                None,
                format!("check failed: timeout after {} ms", spec.timeout_ms),
            )
        }
    }
}
