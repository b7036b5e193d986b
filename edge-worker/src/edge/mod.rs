//! The Worker: every request is routed by `router_core::decide`; redirects and
//! error statuses are answered here, forwards are fetched from the origin with
//! the decision's header edits, retried (and redispatched through
//! `router_core::redispatch`) on connection failures, which at the edge include
//! Cloudflare's answers for an origin it cannot reach (`router_core::edge_origin`).
//! WebSocket upgrades pass
//! through: the origin's 101 response is returned unchanged.
//!
//! Nothing here panics on a request: every failure ends in an HTTP answer.

mod health_do;
mod state;
#[cfg(feature = "test-hooks")]
mod test_hooks;
mod tunnel;

use std::rc::Rc;
use std::time::Duration;

use futures_util::future::{Either, select};
use js_sys::{Reflect, Uint8Array};
use router_core::{Decision, Forward, RequestFacts, encoding, upgrade};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use worker::{Context, Env, console_error, console_log, event};

pub use health_do::HealthObject;

use crate::host::{HeaderCopy, client_addr, edge_dst, origin_url, router_target, split_url};
use health_do::CONFIG_HEADER;
use state::Router;

/// Bodies up to this size are read before the first attempt, so that a failed
/// connection can be retried; larger ones (or ones of unknown length) are streamed
/// to the origin and get a single attempt.
const REPLAYABLE_BODY_MAX: u64 = 1 << 20;

/// Default lifetime of an isolate's health snapshot (`WTEDGE_HEALTH_TTL_MS`).
const HEALTH_TTL_MS: u64 = 1000;

type Res<T> = std::result::Result<T, JsValue>;

#[event(fetch)]
async fn fetch(req: web_sys::Request, env: Env, ctx: Context) -> worker::Result<web_sys::Response> {
    match handle(req, &env, &ctx).await {
        Ok(resp) => Ok(resp),
        Err(e) => {
            console_error!("wtedge: internal error: {}", js_error_text(&e));
            status_page(500).map_err(|e| worker::Error::JsError(js_error_text(&e)))
        }
    }
}

/// A JS exception as text.
pub(crate) fn js_error_text(e: &JsValue) -> String {
    if let Some(s) = e.as_string() {
        return s;
    }
    e.dyn_ref::<js_sys::Error>()
        .map(|err| String::from(err.message()))
        .unwrap_or_else(|| format!("{e:?}"))
}

fn header(headers: &web_sys::Headers, name: &str) -> Option<String> {
    headers.get(name).ok().flatten()
}

/// The request's header lines router-core gets, as workerd exposes them (lower-case
/// names; repeated headers joined with `, `), only those `copy` says the config can
/// read. With the test hooks, their own headers are left out.
fn fact_headers(
    headers: &web_sys::Headers,
    copy: &HeaderCopy,
    test_hooks: bool,
) -> Vec<(String, String)> {
    let hook = |k: &str| test_hooks && k.starts_with("x-wtedge-");
    let mut out = Vec::new();
    match copy {
        HeaderCopy::Lookup(names) => {
            for name in names.iter().filter(|n| !hook(n)) {
                if let Some(v) = header(headers, name) {
                    out.push((name.clone(), v));
                }
            }
        }
        HeaderCopy::Walk(interest) => {
            // Entries that are not strings are skipped.
            let Ok(Some(iter)) = js_sys::try_iter(headers) else {
                return out;
            };
            for entry in iter.flatten() {
                let pair: js_sys::Array = entry.unchecked_into();
                let Some(k) = pair.get(0).as_string() else {
                    continue;
                };
                if hook(&k) || !interest.wants(&k) {
                    continue;
                }
                if let Some(v) = pair.get(1).as_string() {
                    out.push((k, v));
                }
            }
        }
    }
    out
}

/// The value of header `name` (lower-case) among the collected lines.
fn line<'a>(lines: &[(&'a str, &'a str)], name: &str) -> Option<&'a str> {
    lines.iter().find(|(k, _)| *k == name).map(|&(_, v)| v)
}

/// `request.cf` (absent under some runtimes), read once per request.
fn cf_object(req: &web_sys::Request) -> Option<JsValue> {
    Reflect::get(req, &JsValue::from_str("cf"))
        .ok()
        .filter(|cf| cf.is_object())
}

/// `HTTP/1.1`, `HTTP/2`... from `request.cf.httpProtocol` (HTTP/1.1 when absent).
fn http_version(cf: Option<&JsValue>) -> String {
    cf.and_then(|cf| Reflect::get(cf, &JsValue::from_str("httpProtocol")).ok())
        .and_then(|v| v.as_string())
        .unwrap_or_else(|| "HTTP/1.1".to_string())
}

/// The `Accept-Encoding` the client sent: Cloudflare (and workerd under `wrangler
/// dev`) replaces the header with its own `br, gzip` and keeps the original in
/// `request.cf.clientAcceptEncoding` (empty when the client sent none).
fn client_accept_encoding(cf: Option<&JsValue>, headers: &web_sys::Headers) -> Option<String> {
    match cf.and_then(|cf| Reflect::get(cf, &JsValue::from_str("clientAcceptEncoding")).ok()) {
        Some(v) if v.is_string() => v.as_string(),
        _ => header(headers, "accept-encoding"),
    }
}

fn response(status: u16, headers: &[(&str, &str)], body: Option<&str>) -> Res<web_sys::Response> {
    let h = web_sys::Headers::new()?;
    for (k, v) in headers {
        h.append(k, v)?;
    }
    let init = web_sys::ResponseInit::new();
    init.set_status(status);
    init.set_headers(&h);
    web_sys::Response::new_with_opt_str_and_init(body, &init)
}

/// An error answered by the edge itself, with HAProxy's body.
fn status_page(status: u16) -> Res<web_sys::Response> {
    let body = router_core::answer::error_page(status).body;
    response(
        status,
        &[("content-type", "text/html"), ("cache-control", "no-cache")],
        Some(body),
    )
}

/// An error the edge answers for a request it read: the config's `errorfile` page for
/// `status` (router-core picks it: the backend's, else the frontend's), else HAProxy's
/// own page.
fn error_answer(
    router: &Router,
    backend: Option<router_core::ProxyId>,
    status: u16,
) -> Res<web_sys::Response> {
    let Some(page) =
        router_core::answer::config_page(&router.cfg, router.frontend, backend, status)
    else {
        return status_page(status);
    };
    // An empty file: HAProxy closes without a byte; a Worker must answer, and
    // answers the status with nothing else (README).
    let Some(parts) = page.parts() else {
        return response(status, &[], None);
    };
    let h = web_sys::Headers::new()?;
    for (n, v) in &parts.headers {
        h.append(n, v)?;
    }
    let init = web_sys::ResponseInit::new();
    init.set_status(parts.status);
    init.set_status_text(parts.reason);
    init.set_headers(&h);
    let body = (!parts.body.is_empty()).then(|| Uint8Array::from(parts.body));
    web_sys::Response::new_with_opt_buffer_source_and_init(body.as_deref(), &init)
}

async fn handle(req: web_sys::Request, env: &Env, ctx: &Context) -> Res<web_sys::Response> {
    let url = req.url();
    let parts = split_url(&url);
    let settings = state::settings(env, HEALTH_TTL_MS);
    let test_hooks = settings.test_hooks;

    if let Some(path) = &settings.status_path
        && parts.target.split('?').next() == Some(path.as_str())
    {
        return health_status(env).await;
    }
    if parts.target.split('?').next() == Some(settings.admin_path.as_str()) {
        let secret = env
            .secret("WTEDGE_ADMIN_TOKEN")
            .ok()
            .map(|s| s.to_string())
            .or_else(|| state::var(env, "WTEDGE_ADMIN_TOKEN"));
        let auth = crate::admin::authorize(
            secret.as_deref(),
            header(&req.headers(), "authorization").as_deref(),
        );
        match auth {
            // No token set: the runtime API is off and the path is routed as any other.
            crate::admin::Auth::Disabled => {}
            crate::admin::Auth::Missing => {
                return response(
                    401,
                    &[
                        ("www-authenticate", "Bearer realm=\"wt-edge\""),
                        ("content-type", "text/plain"),
                    ],
                    Some("A bearer token is required.\n"),
                );
            }
            crate::admin::Auth::Wrong => {
                return response(403, &[("content-type", "text/plain")], Some("Forbidden.\n"));
            }
            crate::admin::Auth::Allowed => return admin_request(req, env).await,
        }
    }
    #[cfg(feature = "test-hooks")]
    // black_box: the path stays a string in the bundle (not compared as immediates),
    // so that edge-test.sh's check that the deployed bundle lacks it can find it here.
    if test_hooks
        && parts
            .target
            .starts_with(std::hint::black_box(test_hooks::PATH))
    {
        return test_hooks::handle(req, parts.target, env).await;
    }

    let router = match state::current(env) {
        Ok(r) => r,
        Err(e) => {
            console_error!("wtedge: config: {e}");
            return status_page(500);
        }
    };
    let cfg = &router.cfg;
    let method = req.method();
    let target = router_target(&parts);
    let cf = cf_object(&req);
    let version = http_version(cf.as_ref());
    let req_headers = req.headers();
    let lines = fact_headers(&req_headers, &router.headers, test_hooks);
    let refs: Vec<(&str, &str)> = lines
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    // HAProxy's reading of the upgrade headers (router-core's): a handshake without a
    // valid key is 400 before any rule runs.
    let handshake = upgrade::handshake(upgrade::UpgradeHeaders {
        connection_upgrade: header(&req_headers, "connection").is_some_and(|v| {
            v.split(',')
                .any(|t| t.trim().eq_ignore_ascii_case("upgrade"))
        }),
        upgrade_websocket: header(&req_headers, "upgrade")
            .is_some_and(|v| upgrade::names_websocket(&v)),
        key: header(&req_headers, "sec-websocket-key")
            .is_some_and(|v| upgrade::key_valid(v.as_bytes())),
        body: req.body().is_some(),
    });
    if handshake == upgrade::Handshake::MissingKey {
        return status_page(400);
    }
    #[cfg(feature = "test-hooks")]
    let test_src = test_hooks
        .then(|| header(&req_headers, test_hooks::TEST_SRC_HEADER))
        .flatten();
    #[cfg(not(feature = "test-hooks"))]
    let test_src: Option<String> = None;
    let src = client_addr(
        test_src
            .or_else(|| header(&req_headers, "cf-connecting-ip"))
            .as_deref(),
    );
    let dst = router
        .dst
        .unwrap_or_else(|| edge_dst(parts.scheme, parts.authority));
    let facts = RequestFacts {
        method: &method,
        target: &target,
        version: &version,
        headers: &refs,
        src,
        dst,
        // Cloudflare terminated the client's TLS: `ssl_fc` is whether it came over https.
        tls: parts.scheme.eq_ignore_ascii_case("https"),
    };
    let health = health_snapshot(router, env, ctx, settings).await;
    let decision =
        router_core::decide(cfg, router.frontend, &facts, &health, &router.tickets, None);

    #[cfg(feature = "test-hooks")]
    if test_hooks && header(&req_headers, test_hooks::DRY_RUN_HEADER).is_some() {
        return test_hooks::dry_run(router, &decision, &facts);
    }

    match decision {
        Decision::Redirect { code, location, .. } => response(
            code,
            &[
                ("location", location.as_ref()),
                ("cache-control", "no-cache"),
                ("content-length", "0"),
            ],
            None,
        )
        .or_else(|e| {
            console_error!("wtedge: redirect: {}", js_error_text(&e));
            status_page(400)
        }),
        Decision::Respond { status, backend } => error_answer(router, backend, status),
        Decision::Answer { answer, backend } => match answer.kind {
            router_core::rules::AnswerKind::Deny => error_answer(router, backend, answer.status),
            // Refused by the edge build (router_core::config::edge): no counters here.
            router_core::rules::AnswerKind::Prometheus => status_page(503),
            router_core::rules::AnswerKind::Return => {
                let mut h: Vec<(&str, &str)> = answer
                    .headers
                    .iter()
                    .map(|(n, v)| (n.as_str(), v.as_str()))
                    .collect();
                if let Some(t) = &answer.content_type {
                    h.push(("content-type", t));
                }
                let body = (!answer.body.is_empty()).then_some(answer.body.as_str());
                response(answer.status, &h, body)
            }
        },
        Decision::Forward(fwd) => {
            let scheme = if parts.scheme.is_empty() {
                "https"
            } else {
                parts.scheme
            };
            // Host is in every config's facts; the others are read here (the
            // facts only hold the headers the config can read).
            let ctx_req = Outgoing {
                scheme,
                host: line(&refs, "host").unwrap_or(parts.authority),
                websocket: handshake == upgrade::Handshake::WebSocket,
                drop_upgrade: handshake == upgrade::Handshake::PlainWithoutUpgrade,
                accept_encoding: client_accept_encoding(cf.as_ref(), &req_headers),
                content_length: header(&req_headers, "content-length")
                    .and_then(|v| v.trim().parse::<u64>().ok()),
                #[cfg(feature = "test-hooks")]
                test_hooks,
            };
            // leastconn and first at the edge count this isolate's streams only.
            let _stream = Stream::take(&router.tickets, fwd.server);
            proxy(
                router,
                env,
                ctx,
                &req,
                &req_headers,
                &facts,
                fwd,
                &target,
                &ctx_req,
                &health,
            )
            .await
        }
    }
}

/// One stream counted on a server of this isolate until the origin's answer (its
/// head, or the WebSocket pair) is handed back.
struct Stream<'t> {
    tickets: &'t router_core::LocalTickets,
    server: router_core::ServerId,
}

impl<'t> Stream<'t> {
    fn take(tickets: &'t router_core::LocalTickets, server: router_core::ServerId) -> Self {
        tickets.take(server);
        Stream { tickets, server }
    }
}

impl Drop for Stream<'_> {
    fn drop(&mut self) {
        self.tickets.release(self.server);
    }
}

/// The snapshot this request routes with; starts a background refresh from the
/// Durable Object when the cached one is older than the TTL (an isolate under
/// traffic never waits for it). A cold isolate, or one idle for more than twice the
/// TTL, waits up to `WTEDGE_HEALTH_COLD_WAIT_MS` for a fresh snapshot rather than
/// route to servers the object knows are DOWN, drained or in maintenance.
async fn health_snapshot(
    router: &'static Router,
    env: &Env,
    ctx: &Context,
    settings: &state::Settings,
) -> Rc<router_core::HealthSnapshot> {
    if let Some(fixed) = &router.fixed_health {
        return Rc::new(fixed.clone());
    }
    if settings.health_cold_wait_ms > 0
        && state::claim_wait(js_sys::Date::now(), settings.health_ttl_ms)
    {
        let fetch = Box::pin(fetch_snapshot(env, router.fingerprint));
        let timer = worker::Delay::from(Duration::from_millis(settings.health_cold_wait_ms));
        // Whatever the outcome, later requests use the cache and its background
        // refresh until the isolate is idle again.
        let bytes = match select(fetch, timer).await {
            Either::Left((Ok(bytes), _)) => bytes,
            Either::Left((Err(e), _)) => {
                console_error!("wtedge: health snapshot: {e}");
                None
            }
            Either::Right(_) => {
                console_log!(
                    "wtedge: no health snapshot within {} ms: routing as all UP",
                    settings.health_cold_wait_ms
                );
                None
            }
        };
        state::store_health(router, bytes, js_sys::Date::now());
    }
    let now = js_sys::Date::now();
    let (snap, refresh) = state::cached_health(router, now, settings.health_ttl_ms);
    if refresh {
        let env = env.clone();
        let fingerprint = router.fingerprint;
        ctx.wait_until(async move {
            let bytes = fetch_snapshot(&env, fingerprint).await;
            if let Err(e) = &bytes {
                console_error!("wtedge: health snapshot: {e}");
            }
            state::store_health(router, bytes.ok().flatten(), js_sys::Date::now());
        });
    }
    snap
}

/// The health object: `health`, or `health-<hint>` placed at `WTEDGE_HEALTH_LOCATION`.
fn health_stub(env: &Env) -> worker::Result<worker::Stub> {
    let settings = state::settings(env, HEALTH_TTL_MS);
    let (name, hint) = &settings.health_object;
    let namespace = env.durable_object("HEALTH")?;
    let id = namespace.id_from_name(name)?;
    match hint {
        Some(h) => id.get_stub_with_location_hint(h),
        None => id.get_stub(),
    }
}

async fn fetch_snapshot(env: &Env, fingerprint: u64) -> worker::Result<Option<Vec<u8>>> {
    let mut resp = health_stub(env)?
        .fetch_with_str("https://health/snapshot")
        .await?;
    let same = resp.headers().get(CONFIG_HEADER)?.as_deref() == Some(&fingerprint.to_string());
    if resp.status_code() != 200 || !same {
        return Ok(None);
    }
    Ok(Some(resp.bytes().await?))
}

/// Queues a passive failure report; the isolate's one flush carries every queued
/// report to the object (crate::passive).
fn report_passive(env: &Env, ctx: &Context, fingerprint: u64, server: u32, reason: &str) {
    if state::queue_passive(server, reason, js_sys::Date::now()) {
        let env = env.clone();
        ctx.wait_until(flush_passive(env, fingerprint));
    }
}

async fn flush_passive(env: Env, fingerprint: u64) {
    loop {
        let reports = state::take_passive();
        if reports.is_empty() {
            break;
        }
        let body = crate::passive::encode(&reports);
        if let Err(e) = object_post(&env, "/passive", &body, fingerprint).await {
            console_error!("wtedge: passive report: {e}");
        }
    }
}

/// The runtime API (an authorized request): the body's CLI commands run by the
/// health object, its answers returned as text.
async fn admin_request(req: web_sys::Request, env: &Env) -> Res<web_sys::Response> {
    if !req.method().eq_ignore_ascii_case("POST") {
        return response(
            405,
            &[("allow", "POST"), ("content-type", "text/plain")],
            Some("POST the runtime API's commands.\n"),
        );
    }
    let text = JsFuture::from(req.text()?)
        .await?
        .as_string()
        .unwrap_or_default();
    let fingerprint = state::bundled(env).map(|r| r.fingerprint).unwrap_or(0);
    let got = async {
        object_post(env, "/admin", &text, fingerprint)
            .await?
            .text()
            .await
    }
    .await;
    object_answer(got, "text/plain", "runtime API")
}

/// POSTs `body` to the health object's `path`, with the config's fingerprint.
pub(crate) async fn object_post(
    env: &Env,
    path: &str,
    body: &str,
    fingerprint: u64,
) -> worker::Result<worker::Response> {
    let mut init = worker::RequestInit::new();
    init.with_method(worker::Method::Post)
        .with_body(Some(JsValue::from_str(body)));
    let req = worker::Request::new_with_init(&format!("https://health{path}"), &init)?;
    req.headers().set(CONFIG_HEADER, &fingerprint.to_string())?;
    health_stub(env)?.fetch_with_request(req).await
}

/// The health object's answer passed to the client (503 when it could not answer).
fn object_answer(
    got: worker::Result<String>,
    content_type: &str,
    what: &str,
) -> Res<web_sys::Response> {
    match got {
        Ok(text) => response(
            200,
            &[
                ("content-type", content_type),
                ("cache-control", "no-store"),
            ],
            Some(&text),
        ),
        Err(e) => {
            console_error!("wtedge: {what}: {e}");
            status_page(503)
        }
    }
}

async fn health_status(env: &Env) -> Res<web_sys::Response> {
    let got = async {
        let mut resp = health_stub(env)?
            .fetch_with_str("https://health/status")
            .await?;
        resp.text().await
    }
    .await;
    object_answer(got, "application/json", "health status")
}

/// The request body, read once when it can be replayed.
enum Body {
    None,
    Replayable(Uint8Array),
    Stream(web_sys::ReadableStream),
}

async fn request_body(req: &web_sys::Request, method: &str, length: Option<u64>) -> Res<Body> {
    if method.eq_ignore_ascii_case("GET") || method.eq_ignore_ascii_case("HEAD") {
        // fetch() refuses a body on GET and HEAD; Wt never sends one.
        return Ok(Body::None);
    }
    let Some(stream) = req.body() else {
        return Ok(Body::None);
    };
    match length {
        Some(n) if n <= REPLAYABLE_BODY_MAX => {
            let buf = JsFuture::from(req.array_buffer()?).await?;
            Ok(Body::Replayable(Uint8Array::new(&buf)))
        }
        _ => Ok(Body::Stream(stream)),
    }
}

enum Attempt {
    Answer(web_sys::Response),
    ConnectFailed(String),
    TimedOut,
}

/// What the forwarding needs to know about the client's request.
struct Outgoing<'a> {
    /// `http` or `https`: X-Forwarded-Proto.
    scheme: &'a str,
    /// The Host the client asked for: X-Forwarded-Host.
    host: &'a str,
    /// A WebSocket handshake (router-core's `upgrade::handshake`).
    websocket: bool,
    /// `Connection: upgrade` with a body: the `Upgrade` lines are dropped.
    drop_upgrade: bool,
    /// The client's own `Accept-Encoding` (the runtime replaces the header).
    accept_encoding: Option<String>,
    /// Content-Length, when given.
    content_length: Option<u64>,
    /// Test hooks on: strip their headers.
    #[cfg(feature = "test-hooks")]
    test_hooks: bool,
}

#[allow(clippy::too_many_arguments)]
async fn proxy(
    router: &'static Router,
    env: &Env,
    ctx: &Context,
    req: &web_sys::Request,
    req_headers: &web_sys::Headers,
    facts: &RequestFacts<'_>,
    mut fwd: Forward<'static>,
    target: &str,
    out: &Outgoing<'_>,
    health: &router_core::HealthSnapshot,
) -> Res<web_sys::Response> {
    let cfg = &router.cfg;
    let method = req.method();
    let body = match request_body(req, &method, out.content_length).await {
        Ok(b) => b,
        Err(e) => {
            console_error!("wtedge: reading the request body: {}", js_error_text(&e));
            return status_page(400);
        }
    };
    let mut attempts = router_core::retry::Attempts::new();
    let deadline_ms =
        router_core::timeouts::server_side(cfg.proxy(router.frontend), cfg.proxy(fwd.backend))
            .fetch_ms();
    loop {
        let server = cfg.server(fwd.server);
        // `set-path`, `set-method`...: router-core's request line.
        let target = fwd.target.as_deref().unwrap_or(target);
        let url = origin_url(&fwd.upstream, server.params.ssl, target);
        let headers = web_sys::Headers::new_with_headers(req_headers)?;
        // The origin sees its own name as Host: tell Wt what the client asked for
        // (the config's own `http-request` edits below win).
        headers.set("x-forwarded-host", out.host)?;
        headers.set("x-forwarded-proto", out.scheme)?;
        for e in &fwd.edits {
            match e.op {
                router_core::rules::EditOp::Set => headers.set(&e.name, &e.value)?,
                router_core::rules::EditOp::Add => headers.append(&e.name, &e.value)?,
                router_core::rules::EditOp::Del => headers.delete(&e.name)?,
                // The Worker's request has one line per name (the runtime merges
                // them), which router-core rewrote whole.
                router_core::rules::EditOp::Replace(_) => headers.set(&e.name, &e.value)?,
            }
        }
        if let Some(xff) = fwd.forwarded_for {
            headers.append(xff.name, &xff.value.to_string())?;
        }
        // router-core's rule: no encoding asked for on an upgrade (Wt 4.14 gzips its
        // 101), and `identity` where the runtime would add `br, gzip` by itself.
        match encoding::accept_encoding(
            encoding::Platform::Workers,
            out.websocket,
            out.accept_encoding.as_deref(),
        ) {
            encoding::AcceptEncoding::Keep => {}
            encoding::AcceptEncoding::Remove => headers.delete("accept-encoding")?,
            encoding::AcceptEncoding::Set(v) => headers.set("accept-encoding", v)?,
            _ => headers.delete("accept-encoding")?,
        }
        if out.drop_upgrade {
            headers.delete("upgrade")?;
        }
        #[cfg(feature = "test-hooks")]
        if out.test_hooks {
            for name in test_hooks::HEADERS {
                headers.delete(name)?;
            }
        }
        let init = web_sys::RequestInit::new();
        init.set_method(fwd.method.as_deref().unwrap_or(&method));
        init.set_headers(&headers);
        init.set_redirect(web_sys::RequestRedirect::Manual);
        let replayable = match &body {
            Body::None => true,
            Body::Replayable(bytes) => {
                init.set_body(bytes);
                true
            }
            Body::Stream(stream) => {
                init.set_body(stream);
                false
            }
        };
        let outcome = if out.websocket {
            // A new server connection per upgrade (crate::websocket says why).
            let (hostname, port) = match &fwd.upstream {
                router_core::Upstream::Name { host, port } => (host.to_string(), *port),
                router_core::Upstream::Socket(a) => (a.ip().to_string(), a.port()),
            };
            match tunnel::upgrade(tunnel::Handshake {
                hostname: &hostname,
                port,
                tls: server.params.ssl,
                target,
                headers: tunnel::header_lines(&headers),
            })
            .await
            {
                tunnel::Upgrade::Answer(r) => Attempt::Answer(r),
                tunnel::Upgrade::ConnectFailed(e) => Attempt::ConnectFailed(e),
                tunnel::Upgrade::Invalid(e) => {
                    console_error!(
                        "wtedge: {} answered the WebSocket upgrade with {e}",
                        cfg.server_path(fwd.server)
                    );
                    return error_answer(router, Some(fwd.backend), 502);
                }
            }
        } else {
            attempt(&url, &init, deadline_ms).await
        };
        // Cloudflare answers for an origin it cannot reach: router-core reads that
        // answer as a failed connection (`edge_origin`).
        let outcome = match outcome {
            Attempt::Answer(resp) if !out.websocket => match origin_failure(&resp).await {
                Some(failure) => {
                    if let Some(body) = resp.body() {
                        let _ = body.cancel();
                    }
                    Attempt::ConnectFailed(failure.to_string())
                }
                None => Attempt::Answer(resp),
            },
            other => other,
        };
        match outcome {
            Attempt::Answer(resp) if out.websocket => return Ok(resp),
            Attempt::Answer(resp) => return response_rules(router, &fwd, facts, health, resp),
            Attempt::TimedOut => {
                console_log!(
                    "wtedge: {} did not answer within {} ms",
                    cfg.server_path(fwd.server),
                    deadline_ms.unwrap_or(0)
                );
                return error_answer(router, Some(fwd.backend), 504);
            }
            Attempt::ConnectFailed(reason) => {
                console_log!(
                    "wtedge: {} {}: connection failed: {reason}",
                    cfg.server_path(fwd.server),
                    url
                );
                if router.fixed_health.is_none() {
                    let source = server.health_source;
                    report_passive(env, ctx, router.fingerprint, source.0, &reason);
                }
                // HAProxy's retry and redispatch policy is router-core's.
                match attempts.connect_failed(cfg, &fwd, replayable, |s| health.is_up(cfg, s)) {
                    router_core::retry::NextAttempt::Retry {
                        wait_ms,
                        redispatch,
                    } => {
                        if wait_ms > 0 {
                            worker::Delay::from(Duration::from_millis(wait_ms)).await;
                        }
                        if redispatch
                            && let Some(other) =
                                router_core::redispatch(cfg, &fwd, facts, health, &router.tickets)
                        {
                            attempts.redispatched_to(fwd.server, other.server);
                            fwd = other;
                        }
                    }
                    router_core::retry::NextAttempt::GiveUp { status } => {
                        return error_answer(router, Some(fwd.backend), status);
                    }
                    _ => return error_answer(router, Some(fwd.backend), 503),
                }
            }
        }
    }
}

/// The config's `http-response` rules applied to the origin's answer: router-core's
/// verdict (header edits, `set-status`, `deny`), performed on a new response around
/// the origin's body stream.
fn response_rules(
    router: &Router,
    fwd: &Forward<'_>,
    facts: &RequestFacts<'_>,
    health: &router_core::HealthSnapshot,
    resp: web_sys::Response,
) -> Res<web_sys::Response> {
    let cfg = &router.cfg;
    if !router_core::rules::response::has_rules(cfg, fwd) {
        return Ok(resp);
    }
    let mut lines = tunnel::header_lines(&resp.headers());
    let view: Vec<(&str, &str)> = lines
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let verdict =
        router_core::rules::response::for_forward(cfg, fwd, (facts, health), resp.status(), &view);
    drop(view);
    if let Some(status) = verdict.deny {
        if let Some(body) = resp.body() {
            let _ = body.cancel();
        }
        return error_answer(router, Some(fwd.backend), status);
    }
    if verdict.edits.is_empty() && verdict.status.is_none() {
        return Ok(resp);
    }
    router_core::rules::header::apply(
        &mut lines,
        &verdict.edits,
        |h| h.0.as_str(),
        |e| (e.name.to_ascii_lowercase(), e.value.clone()),
    );
    let h = web_sys::Headers::new()?;
    for (n, v) in &lines {
        h.append(n, v)?;
    }
    let init = web_sys::ResponseInit::new();
    match &verdict.status {
        Some((status, reason)) => {
            init.set_status(*status);
            init.set_status_text(
                reason
                    .as_deref()
                    .unwrap_or(router_core::answer::reason(*status)),
            );
        }
        None => {
            init.set_status(resp.status());
            init.set_status_text(&resp.status_text());
        }
    }
    init.set_headers(&h);
    web_sys::Response::new_with_opt_readable_stream_and_init(resp.body().as_ref(), &init)
}

/// The failure router-core sees in an origin's answer (`edge_origin::read`); the body
/// is read (from a copy) only when it may be one of Cloudflare's error pages.
async fn origin_failure(resp: &web_sys::Response) -> Option<router_core::edge_origin::EdgeFailure> {
    use router_core::edge_origin::{
        ERROR_PAGE_MAX, OriginAnswer, error_page_code, may_be_error_page, read,
    };
    let status = resp.status();
    if status < 400 {
        // Most answers: no header read.
        return None;
    }
    let headers = resp.headers();
    let page = if may_be_error_page(
        status,
        header(&headers, "server").as_deref(),
        header(&headers, "content-type").as_deref(),
    ) && header(&headers, "content-length")
        .and_then(|v| v.trim().parse::<u64>().ok())
        .is_none_or(|n| n <= ERROR_PAGE_MAX)
    {
        let text: Res<JsValue> = async { JsFuture::from(resp.clone()?.text()?).await }.await;
        text.ok()
            .and_then(|t| t.as_string())
            .and_then(|t| error_page_code(&t))
    } else {
        None
    };
    match read(status, page) {
        OriginAnswer::Failed(f) => Some(f),
        OriginAnswer::Served => None,
    }
}

/// One fetch to the origin, bounded by `deadline_ms` for the response head. A fetch
/// that times out is left to the runtime, which cancels it with the request (no
/// AbortController per attempt: it would also bound the body's streaming).
async fn attempt(url: &str, init: &web_sys::RequestInit, deadline_ms: Option<u64>) -> Attempt {
    let global: web_sys::WorkerGlobalScope = js_sys::global().unchecked_into();
    let fetch = JsFuture::from(global.fetch_with_str_and_init(url, init));
    let outcome = match deadline_ms {
        Some(ms) => {
            let timer = worker::Delay::from(Duration::from_millis(ms));
            match select(fetch, timer).await {
                Either::Left((r, _)) => Some(r),
                Either::Right(_) => None,
            }
        }
        None => Some(fetch.await),
    };
    match outcome {
        Some(Ok(v)) => match v.dyn_into::<web_sys::Response>() {
            Ok(resp) => Attempt::Answer(resp),
            Err(_) => Attempt::ConnectFailed("fetch did not return a Response".into()),
        },
        Some(Err(e)) => Attempt::ConnectFailed(js_error_text(&e)),
        None => Attempt::TimedOut,
    }
}
