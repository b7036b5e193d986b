//! The admin listener (`--admin ADDR:PORT`): `GET /stats` (HTML table), `GET /stats.json`,
//! `GET /metrics` (Prometheus text format).

use std::convert::Infallible;
use std::fmt::Write as _;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use router_core::model::ProxyKind;
use serde::Serialize;
use tokio::net::TcpListener;

use crate::state::counters::get;
use crate::state::{Current, Generation};

#[derive(Serialize)]
pub struct ProxyStats {
    pub name: String,
    pub kind: &'static str,
    pub conns_cur: u64,
    pub conns_total: u64,
    pub reqs_cur: u64,
    pub reqs_total: u64,
    pub queue_cur: u64,
    pub bytes_out: u64,
    pub responses: [u64; 6],
    pub servers: Vec<ServerStats>,
}

#[derive(Serialize)]
pub struct ServerStats {
    pub name: String,
    pub address: String,
    pub status: &'static str,
    pub check: bool,
    pub track: Option<String>,
    pub weight: u32,
    pub backup: bool,
    pub cur: u64,
    pub total: u64,
    pub queue_cur: u64,
    pub connect_errors: u64,
    pub retries: u64,
    pub redispatches: u64,
    pub bytes_out: u64,
    pub responses: [u64; 6],
}

#[derive(Serialize)]
pub struct Snapshot {
    pub file: String,
    pub actconn: u64,
    pub proxies: Vec<ProxyStats>,
}

/// The numbers the three endpoints show.
pub fn snapshot(g: &Generation) -> Snapshot {
    let cfg = g.config();
    let proxies = cfg
        .proxy_ids()
        .map(|id| {
            let p = cfg.proxy(id);
            let c = g.counters.proxy(usize::from(id.0));
            let servers = p
                .servers
                .iter()
                .map(|&sid| {
                    let s = cfg.server(sid);
                    let sc = g.counters.server(sid.0 as usize);
                    let status = if s.params.disabled {
                        "MAINT"
                    } else if g.engine.is_up(sid) {
                        "UP"
                    } else {
                        "DOWN"
                    };
                    let host = match &s.host {
                        router_core::model::ServerHost::Ip(ip) => ip.to_string(),
                        router_core::model::ServerHost::Name(n) => n.clone(),
                    };
                    ServerStats {
                        name: s.name.clone(),
                        address: match s.port {
                            Some(p) => format!("{host}:{p}"),
                            None => host,
                        },
                        status,
                        check: s.params.check,
                        track: s.track.as_ref().map(|t| t.spec.clone()),
                        weight: s.params.weight,
                        backup: s.params.backup,
                        cur: sc.map_or(0, |c| get(&c.cur)),
                        total: sc.map_or(0, |c| get(&c.total)),
                        queue_cur: sc.map_or(0, |c| get(&c.queue_cur)),
                        connect_errors: sc.map_or(0, |c| get(&c.connect_errors)),
                        retries: sc.map_or(0, |c| get(&c.retries)),
                        redispatches: sc.map_or(0, |c| get(&c.redispatches)),
                        bytes_out: sc.map_or(0, |c| get(&c.bytes_out)),
                        responses: sc.map_or([0; 6], |c| c.responses.each_ref().map(get)),
                    }
                })
                .collect();
            ProxyStats {
                name: p.name.clone(),
                kind: match p.kind {
                    ProxyKind::Frontend => "frontend",
                    ProxyKind::Backend => "backend",
                    ProxyKind::Listen => "listen",
                },
                conns_cur: c.map_or(0, |c| get(&c.conns_cur)),
                conns_total: c.map_or(0, |c| get(&c.conns_total)),
                reqs_cur: c.map_or(0, |c| get(&c.reqs_cur)),
                // A frontend's requests, or a backend's (a listen: the frontend's).
                reqs_total: c.map_or(0, |c| match p.kind {
                    ProxyKind::Backend => get(&c.be_reqs_total),
                    _ => get(&c.reqs_total),
                }),
                queue_cur: c.map_or(0, |c| get(&c.queue_cur)),
                bytes_out: c.map_or(0, |c| get(&c.bytes_out)),
                responses: c.map_or([0; 6], |c| c.responses.each_ref().map(get)),
                servers,
            }
        })
        .collect();
    Snapshot {
        file: cfg.file.clone(),
        actconn: get(&g.global.actconn),
        proxies,
    }
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The HTML stats page.
pub fn html(s: &Snapshot) -> String {
    let mut o = String::new();
    let _ = write!(
        o,
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>wtedge stats</title>\
<style>body{{font-family:sans-serif}}table{{border-collapse:collapse;margin-bottom:1em}}\
td,th{{border:1px solid #999;padding:2px 6px}}.UP{{background:#cfc}}.DOWN{{background:#fcc}}\
.MAINT{{background:#ccf}}</style></head><body><h1>wtedge statistics</h1>\
<p>config: {} &mdash; active connections: {}</p>",
        esc(&s.file),
        s.actconn
    );
    for p in &s.proxies {
        let _ = write!(
            o,
            "<h2>{} {}</h2><table><tr><th>name</th><th>status</th><th>address</th><th>cur</th>\
<th>total</th><th>queue</th><th>conn err</th><th>retries</th><th>redisp</th><th>bytes out</th>\
<th>1xx</th><th>2xx</th><th>3xx</th><th>4xx</th><th>5xx</th></tr>",
            p.kind,
            esc(&p.name)
        );
        let r = &p.responses;
        let _ = write!(
            o,
            "<tr><td>{}</td><td></td><td></td><td>{}</td><td>{}</td><td>{}</td><td></td><td></td>\
<td></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            if p.kind == "backend" {
                "BACKEND"
            } else {
                "FRONTEND"
            },
            p.conns_cur.max(p.reqs_cur),
            p.conns_total.max(p.reqs_total),
            p.queue_cur,
            p.bytes_out,
            r[0],
            r[1],
            r[2],
            r[3],
            r[4]
        );
        for sv in &p.servers {
            let r = &sv.responses;
            let _ = write!(
                o,
                "<tr class=\"{st}\"><td>{}</td><td>{st}{}</td><td>{}</td><td>{}</td><td>{}</td>\
<td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
<td>{}</td><td>{}</td></tr>",
                esc(&sv.name),
                sv.track
                    .as_ref()
                    .map(|t| format!(" (via {})", esc(t)))
                    .unwrap_or_default(),
                esc(&sv.address),
                sv.cur,
                sv.total,
                sv.queue_cur,
                sv.connect_errors,
                sv.retries,
                sv.redispatches,
                sv.bytes_out,
                r[0],
                r[1],
                r[2],
                r[3],
                r[4],
                st = sv.status,
            );
        }
        o.push_str("</table>");
    }
    o.push_str("</body></html>\n");
    o
}

fn label(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Prometheus text exposition.
pub fn metrics(s: &Snapshot) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "# HELP wtedge_active_connections Client connections open now."
    );
    let _ = writeln!(o, "# TYPE wtedge_active_connections gauge");
    let _ = writeln!(o, "wtedge_active_connections {}", s.actconn);
    let _ = writeln!(
        o,
        "# HELP wtedge_access_log_dropped_total Access log lines dropped (stdout too slow)."
    );
    let _ = writeln!(o, "# TYPE wtedge_access_log_dropped_total counter");
    let _ = writeln!(
        o,
        "wtedge_access_log_dropped_total {}",
        crate::access_log::DROPPED.load(std::sync::atomic::Ordering::Relaxed)
    );
    let classes = ["1xx", "2xx", "3xx", "4xx", "5xx", "other"];
    let _ = writeln!(
        o,
        "# HELP wtedge_proxy_connections_total Client connections accepted."
    );
    let _ = writeln!(o, "# TYPE wtedge_proxy_connections_total counter");
    for p in &s.proxies {
        let _ = writeln!(
            o,
            "wtedge_proxy_connections_total{{proxy=\"{}\",kind=\"{}\"}} {}",
            label(&p.name),
            p.kind,
            p.conns_total
        );
    }
    let _ = writeln!(o, "# HELP wtedge_proxy_requests_total Requests handled.");
    let _ = writeln!(o, "# TYPE wtedge_proxy_requests_total counter");
    for p in &s.proxies {
        let _ = writeln!(
            o,
            "wtedge_proxy_requests_total{{proxy=\"{}\",kind=\"{}\"}} {}",
            label(&p.name),
            p.kind,
            p.reqs_total
        );
    }
    let _ = writeln!(
        o,
        "# HELP wtedge_proxy_responses_total Responses by status class."
    );
    let _ = writeln!(o, "# TYPE wtedge_proxy_responses_total counter");
    for p in &s.proxies {
        for (i, c) in classes.iter().enumerate() {
            let _ = writeln!(
                o,
                "wtedge_proxy_responses_total{{proxy=\"{}\",code=\"{c}\"}} {}",
                label(&p.name),
                p.responses[i]
            );
        }
    }
    let _ = writeln!(
        o,
        "# HELP wtedge_server_up 1 when the server is UP (following track)."
    );
    let _ = writeln!(o, "# TYPE wtedge_server_up gauge");
    for p in &s.proxies {
        for sv in &p.servers {
            let _ = writeln!(
                o,
                "wtedge_server_up{{proxy=\"{}\",server=\"{}\"}} {}",
                label(&p.name),
                label(&sv.name),
                u8::from(sv.status == "UP")
            );
        }
    }
    type Series = (
        &'static str,
        &'static str,
        &'static str,
        fn(&ServerStats) -> u64,
    );
    let series: [Series; 6] = [
        (
            "wtedge_server_current_requests",
            "gauge",
            "Requests being served now.",
            |s| s.cur,
        ),
        (
            "wtedge_server_requests_total",
            "counter",
            "Requests sent.",
            |s| s.total,
        ),
        (
            "wtedge_server_queue",
            "gauge",
            "Requests waiting for a slot.",
            |s| s.queue_cur,
        ),
        (
            "wtedge_server_connect_errors_total",
            "counter",
            "Failed connects.",
            |s| s.connect_errors,
        ),
        (
            "wtedge_server_retries_total",
            "counter",
            "Connect retries.",
            |s| s.retries,
        ),
        (
            "wtedge_server_bytes_out_total",
            "counter",
            "Response bytes (HAProxy's count).",
            |s| s.bytes_out,
        ),
    ];
    for (name, kind, help, f) in series {
        let _ = writeln!(o, "# HELP {name} {help}");
        let _ = writeln!(o, "# TYPE {name} {kind}");
        for p in &s.proxies {
            for sv in &p.servers {
                let _ = writeln!(
                    o,
                    "{name}{{proxy=\"{}\",server=\"{}\"}} {}",
                    label(&p.name),
                    label(&sv.name),
                    f(sv)
                );
            }
        }
    }
    o
}

fn answer(status: StatusCode, ctype: &'static str, body: String) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static(ctype),
    );
    r
}

async fn handle(
    current: Current,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let g = current.read().unwrap_or_else(|p| p.into_inner()).clone();
    if req.method() != hyper::Method::GET {
        return Ok(answer(
            StatusCode::METHOD_NOT_ALLOWED,
            "text/plain",
            "GET only\n".into(),
        ));
    }
    let snap = snapshot(&g);
    Ok(match req.uri().path() {
        "/stats" | "/" => answer(StatusCode::OK, "text/html; charset=utf-8", html(&snap)),
        "/stats.json" => answer(
            StatusCode::OK,
            "application/json",
            serde_json::to_string_pretty(&snap).unwrap_or_else(|_| "{}".into()),
        ),
        "/metrics" => answer(StatusCode::OK, "text/plain; version=0.0.4", metrics(&snap)),
        _ => answer(StatusCode::NOT_FOUND, "text/plain", "not found\n".into()),
    })
}

/// Serves the admin endpoints until the task is aborted.
pub async fn serve(listener: TcpListener, current: Current) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            continue;
        };
        let current = current.clone();
        tokio::spawn(async move {
            let svc = service_fn(move |req| handle(current.clone(), req));
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), svc)
                .await;
        });
    }
}
