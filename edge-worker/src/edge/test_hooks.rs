//! Test hooks, compiled only with the `test-hooks` feature (scripts/edge-test.sh's
//! build; wrangler.toml's build command never enables it, and edge-test.sh checks
//! that the deployed bundle lacks [`PATH`]), and then on only with
//! `WTEDGE_TEST_HOOKS=1`: a config swap that reroutes traffic has no place in a
//! production Worker.

use router_core::{Decision, RequestFacts};
use wasm_bindgen_futures::JsFuture;

use super::state::{self, Router};
use super::{Res, response, status_page};

/// Where the hooks' endpoints live.
pub(super) const PATH: &str = "/__wtedge/test/";
/// Answer with the decision instead of acting on it.
pub(super) const DRY_RUN_HEADER: &str = "x-wtedge-dry-run";
/// The client address (instead of `CF-Connecting-IP`).
pub(super) const TEST_SRC_HEADER: &str = "x-wtedge-test-src";
/// The hooks' request headers, removed before a request goes to an origin.
pub(super) const HEADERS: [&str; 2] = [DRY_RUN_HEADER, TEST_SRC_HEADER];

/// The decision and the facts, in the body and in a header for HEAD requests (their
/// body is dropped).
pub(super) fn dry_run(
    router: &Router,
    decision: &Decision<'_>,
    facts: &RequestFacts<'_>,
) -> Res<web_sys::Response> {
    let json = dry_run_json(router, decision, facts).to_string();
    let resp = response(200, &[("content-type", "application/json")], Some(&json))?;
    let _ = resp.headers().set("x-wtedge-decision", &json);
    Ok(resp)
}

fn dry_run_json(
    router: &Router,
    decision: &Decision<'_>,
    facts: &RequestFacts<'_>,
) -> serde_json::Value {
    let cfg = &router.cfg;
    let outcome = match decision {
        Decision::Redirect { code, location, .. } => serde_json::json!({
            "action": "redirect", "status": code, "location": location,
        }),
        Decision::Respond { status, .. } => {
            serde_json::json!({ "action": "respond", "status": status })
        }
        Decision::Answer { answer, .. } => serde_json::json!({
            "action": match answer.kind {
                router_core::unstable::rules::AnswerKind::Deny => "deny",
                router_core::unstable::rules::AnswerKind::Return => "return",
                router_core::unstable::rules::AnswerKind::Prometheus => "use-service",
            },
            "status": answer.status,
            "headers": answer.headers,
            "body": answer.body,
        }),
        Decision::Forward(f) => serde_json::json!({
            "action": "forward",
            "backend": cfg.proxy(f.backend).name,
            "server": cfg.server(f.server).name,
            "upstream": f.upstream.to_string(),
            "forwarded_for": f.forwarded_for.map(|h| h.value.to_string()),
            "original_to": f.original_to.map(|h| h.value.to_string()),
            "edits": f.edits,
        }),
    };
    serde_json::json!({
        "decision": outcome,
        "facts": {
            "method": facts.method,
            "target": facts.target,
            "version": facts.version,
            "headers": facts.headers,
            "src": facts.src.to_string(),
            "dst": facts.dst.to_string(),
        },
    })
}

/// The hooks' endpoints:
/// `POST /__wtedge/test/config` with `{"name", "config", "frontend"?, "down"?: ["b/s"],
/// "dst"?}` routes with that config, fresh round-robin and fixed health, until
/// `POST /__wtedge/test/reset`. `POST /__wtedge/test/health-reload` makes the health
/// object forget its in-memory state and load the stored one, as after an eviction
/// (answers `restored` or `fresh`).
pub(super) async fn handle(
    req: web_sys::Request,
    target: &str,
    env: &worker::Env,
) -> Res<web_sys::Response> {
    #[derive(serde::Deserialize)]
    struct Load {
        name: String,
        config: String,
        #[serde(default)]
        frontend: Option<String>,
        #[serde(default)]
        down: Vec<String>,
        #[serde(default)]
        dst: Option<String>,
    }
    match target.split('?').next().unwrap_or("") {
        "/__wtedge/test/health-reload" => {
            // `/reload` reads no fingerprint.
            let got = async {
                super::object_post(env, "/reload", "", 0)
                    .await?
                    .text()
                    .await
            }
            .await;
            super::object_answer(got, "text/plain", "health reload")
        }
        "/__wtedge/test/reset" => {
            state::clear_override();
            json_response(200, &serde_json::json!({ "ok": true }))
        }
        "/__wtedge/test/config" => {
            let text = JsFuture::from(req.text()?)
                .await?
                .as_string()
                .unwrap_or_default();
            let load: Load = match serde_json::from_str(&text) {
                Ok(l) => l,
                Err(e) => {
                    return json_response(400, &serde_json::json!({ "error": e.to_string() }));
                }
            };
            let mut router =
                match state::load(&load.name, &load.config, load.frontend.as_deref(), |_| 0) {
                    Ok(r) => r,
                    Err(e) => return json_response(400, &serde_json::json!({ "error": e })),
                };
            let mut health = router_core::HealthSnapshot::all_up(&router.cfg);
            for d in &load.down {
                let id = d
                    .split_once('/')
                    .and_then(|(b, s)| router.cfg.server_id(b, s));
                match id {
                    Some(id) => health.set_down(id),
                    None => {
                        return json_response(
                            400,
                            &serde_json::json!({ "error": format!("no server {d}") }),
                        );
                    }
                }
            }
            router.fixed_health = Some(health);
            router.dst = load.dst.and_then(|d| d.parse().ok());
            state::set_override(router);
            json_response(200, &serde_json::json!({ "ok": true }))
        }
        _ => status_page(404),
    }
}

fn json_response(status: u16, value: &serde_json::Value) -> Res<web_sys::Response> {
    response(
        status,
        &[("content-type", "application/json")],
        Some(&value.to_string()),
    )
}
