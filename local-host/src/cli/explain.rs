//! `wtedge explain FILE [options] 'METHOD TARGET [VERSION]'`: where one request goes and why.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;

use router_core::unstable::config::suggest::closest;
use router_core::unstable::health::AdminState;
use router_core::{
    Config, Decision, HealthSnapshot, LocalTickets, ProxyId, RequestFacts, Trace, decide,
};
use serde_json::json;

use super::EXIT_USAGE;

/// Arguments of `wtedge explain`.
#[derive(clap::Args, Debug)]
pub struct ExplainArgs {
    /// The haproxy.cfg file.
    pub file: PathBuf,
    /// The request line: 'METHOD TARGET [VERSION]' (VERSION defaults to HTTP/1.1).
    pub request: String,
    /// Frontend (or listen) that receives the request. Default: the first one.
    #[arg(long)]
    pub frontend: Option<String>,
    /// A server that is DOWN, as BACKEND/SERVER (servers tracking it follow). Repeatable.
    #[arg(long = "down", value_name = "BACKEND/SERVER")]
    pub down: Vec<String>,
    /// A server's admin state, as BACKEND/SERVER=drain|maint|ready (the runtime
    /// API's `set server B/S state`; servers tracking it follow). Repeatable.
    #[arg(long = "state", value_name = "BACKEND/SERVER=STATE")]
    pub state: Vec<String>,
    /// A request header, 'Name: value'. Repeatable, kept in order.
    #[arg(long = "header", short = 'H', value_name = "NAME: VALUE")]
    pub headers: Vec<String>,
    /// Client address. Default: 127.0.0.1.
    #[arg(long, default_value = "127.0.0.1")]
    pub src: IpAddr,
    /// Local address the client connected to. Default: the frontend's first bind
    /// (an any-address bind reads as 127.0.0.1).
    #[arg(long)]
    pub dst: Option<SocketAddr>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

fn usage(msg: String) -> ExitCode {
    eprintln!("wtedge explain: {msg}");
    ExitCode::from(EXIT_USAGE)
}

/// Explains one decision.
pub fn run(args: &ExplainArgs) -> ExitCode {
    let parsed = match super::load(&args.file) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let cfg = &parsed.config;
    let frontend = match frontend(cfg, args.frontend.as_deref()) {
        Ok(f) => f,
        Err(msg) => return usage(msg),
    };
    let mut health = HealthSnapshot::all_up(cfg);
    for spec in &args.down {
        match server(cfg, spec, "--down") {
            Ok(id) => health.set_down(id),
            Err(msg) => return usage(msg),
        }
    }
    for spec in &args.state {
        let Some((srv, state)) = spec.split_once('=') else {
            return usage(format!(
                "--state '{spec}' must be BACKEND/SERVER=drain|maint|ready"
            ));
        };
        let state = match state {
            "drain" => AdminState::Drain,
            "maint" => AdminState::Maint,
            "ready" => AdminState::Ready,
            other => {
                return usage(format!(
                    "--state '{spec}': '{other}' is not drain, maint or ready"
                ));
            }
        };
        match server(cfg, srv, "--state") {
            Ok(id) => health.set_admin(id, state),
            Err(msg) => return usage(msg),
        }
    }
    let mut parts = args.request.split_whitespace();
    let (Some(method), Some(target)) = (parts.next(), parts.next()) else {
        return usage(format!(
            "request '{}' must be 'METHOD TARGET [VERSION]'",
            args.request
        ));
    };
    let version = parts.next().unwrap_or("HTTP/1.1");
    if let Some(extra) = parts.next() {
        return usage(format!("unexpected '{extra}' after the request version"));
    }
    let mut headers = Vec::with_capacity(args.headers.len());
    for h in &args.headers {
        let Some((name, value)) = h.split_once(':') else {
            return usage(format!("header '{h}' must be 'Name: value'"));
        };
        headers.push((name.trim(), value.trim()));
    }
    let dst = args.dst.unwrap_or_else(|| default_dst(cfg, frontend));
    let req = RequestFacts {
        method,
        target,
        version,
        headers: &headers,
        src: SocketAddr::new(args.src, 40000),
        dst,
        tls: false,
    };
    let mut trace = Trace::new();
    let decision = decide(
        cfg,
        frontend,
        &req,
        &health,
        &LocalTickets::new(cfg),
        Some(&mut trace),
    );
    let steps = trace.render(cfg);
    if args.json {
        println!("{}", to_json(cfg, &decision, &steps));
    } else {
        print_text(cfg, &decision, &steps);
    }
    ExitCode::SUCCESS
}

fn frontend(cfg: &Config, name: Option<&str>) -> Result<ProxyId, String> {
    match name {
        None => cfg
            .default_frontend()
            .ok_or_else(|| String::from("the configuration has no frontend or listen section")),
        Some(n) => cfg
            .proxy_ids()
            .find(|&id| cfg.proxy(id).kind.is_frontend() && cfg.proxy(id).name == n)
            .ok_or_else(|| {
                let names = cfg
                    .proxies
                    .iter()
                    .filter(|p| p.kind.is_frontend())
                    .map(|p| p.name.as_str());
                let hint = closest(n, names)
                    .map(|s| format!(" (did you mean '{s}'?)"))
                    .unwrap_or_default();
                format!("no frontend named '{n}'{hint}")
            }),
    }
}

fn server(cfg: &Config, spec: &str, flag: &str) -> Result<router_core::ServerId, String> {
    let Some((b, s)) = spec.split_once('/') else {
        return Err(format!("{flag} '{spec}' must be BACKEND/SERVER"));
    };
    cfg.server_id(b, s).ok_or_else(|| {
        let all: Vec<String> = cfg.server_ids().map(|id| cfg.server_path(id)).collect();
        let hint = closest(spec, all.iter().map(String::as_str))
            .map(|s| format!(" (did you mean '{s}'?)"))
            .unwrap_or_default();
        format!("{flag}: no server '{spec}'{hint}")
    })
}

fn default_dst(cfg: &Config, frontend: ProxyId) -> SocketAddr {
    let bind = cfg.proxy(frontend).binds.first();
    let ip = bind
        .and_then(|b| b.host)
        .filter(|ip| !ip.is_unspecified())
        .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST));
    SocketAddr::new(ip, bind.map_or(80, |b| b.port))
}

fn to_json(cfg: &Config, d: &Decision<'_>, steps: &[String]) -> serde_json::Value {
    match d {
        Decision::Redirect {
            code,
            location,
            backend,
        } => json!({
            "action": "redirect", "status": code, "location": location,
            "backend": backend.map(|b| cfg.proxy(b).name.as_str()),
            "server": null, "address": null, "headers": [], "trace": steps,
        }),
        Decision::Respond { status, backend } => json!({
            "action": "respond", "status": status, "location": null,
            "backend": backend.map(|b| cfg.proxy(b).name.as_str()),
            "server": null, "address": null, "headers": [], "trace": steps,
        }),
        Decision::Answer { answer, backend } => json!({
            "action": match answer.kind {
                router_core::unstable::rules::AnswerKind::Deny => "deny",
                router_core::unstable::rules::AnswerKind::Return => "return",
                router_core::unstable::rules::AnswerKind::Prometheus => "use-service prometheus-exporter",
            },
            "status": answer.status, "location": null,
            "backend": backend.map(|b| cfg.proxy(b).name.as_str()),
            "server": null, "address": null,
            "headers": answer.headers.iter().map(|(n, v)| format!("{n}: {v}")).collect::<Vec<_>>(),
            "body": answer.body, "trace": steps,
        }),
        Decision::Forward(f) => {
            let edits: Vec<String> = f.edits.iter().map(edit_text).collect();
            let headers: Vec<String> = [f.forwarded_for, f.original_to]
                .iter()
                .flatten()
                .map(|h| format!("{}: {}", h.name, h.value))
                .collect();
            json!({
                "action": "forward", "status": null, "location": null,
                "backend": cfg.proxy(f.backend).name, "server": cfg.server(f.server).name,
                "address": f.upstream.to_string(), "headers": headers, "edits": edits,
                "method": f.method, "target": f.target, "trace": steps,
            })
        }
    }
}

fn print_text(cfg: &Config, d: &Decision<'_>, steps: &[String]) {
    match d {
        Decision::Redirect {
            code,
            location,
            backend,
        } => match backend {
            Some(b) => println!(
                "redirect {code} to {location} (by backend {})",
                cfg.proxy(*b).name
            ),
            None => println!("redirect {code} to {location}"),
        },
        Decision::Respond { status, backend } => match backend {
            Some(b) => println!(
                "respond {status} (backend {} has no usable server)",
                cfg.proxy(*b).name
            ),
            None => println!("respond {status}"),
        },
        Decision::Answer { answer, backend } => {
            let by = backend.map_or(String::new(), |b| {
                format!(" (by backend {})", cfg.proxy(b).name)
            });
            match answer.kind {
                router_core::unstable::rules::AnswerKind::Deny => {
                    println!("deny {}{by}", answer.status)
                }
                router_core::unstable::rules::AnswerKind::Prometheus => {
                    println!("use-service prometheus-exporter{by}");
                }
                router_core::unstable::rules::AnswerKind::Return => {
                    println!("return {}{by}", answer.status);
                    for (n, v) in &answer.headers {
                        println!("  header {n}: {v}");
                    }
                }
            }
        }
        Decision::Forward(f) => {
            println!("forward to {} at {}", cfg.server_path(f.server), f.upstream);
            if f.method.is_some() || f.target.is_some() {
                let (m, t) = (f.method.as_deref(), f.target.as_deref());
                println!(
                    "  request line {} {}",
                    m.unwrap_or("(method unchanged)"),
                    t.unwrap_or("(target unchanged)")
                );
            }
            for e in &f.edits {
                println!("  {}", edit_text(e));
            }
            for h in [f.forwarded_for, f.original_to].iter().flatten() {
                println!("  append header {}: {}", h.name, h.value);
            }
        }
    }
    println!("trace:");
    for s in steps {
        println!("  {s}");
    }
}

/// `set-header X-A: v`, `add-header X-B: v`, `del-header X-C`, `replace X-D#1: v`.
fn edit_text(e: &router_core::unstable::rules::HeaderEdit) -> String {
    use router_core::unstable::rules::EditOp;
    match e.op {
        EditOp::Set => format!("set-header {}: {}", e.name, e.value),
        EditOp::Add => format!("add-header {}: {}", e.name, e.value),
        EditOp::Del => format!("del-header {}", e.name),
        EditOp::Replace(n) => format!("replace {}#{n}: {}", e.name, e.value),
    }
}
