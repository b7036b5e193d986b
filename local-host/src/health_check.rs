//! Active health checks: one task per server that router-core's check plan
//! ([`router_core::unstable::check`]) says is checked. This file only performs them: a TCP
//! connect, with `option httpchk` the request router-core gives, within router-core's
//! timeouts; what passes is router-core's rule, and its health state machine decides
//! rise/fall and UP/DOWN. Transitions are logged as HAProxy logs them.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use router_core::model::{ServerHost, ServerId};
use router_core::unstable::check::{self, CheckRequest, CheckResult, CheckTimeouts, Prober};
use router_core::{Observation, Transition};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;

use crate::state::{Generation, now_ms};

/// Where checks connect: the server's address, `0.0.0.0` meaning this host.
fn check_target(g: &Generation, id: ServerId) -> Option<(String, u16)> {
    let s = g.config().server(id);
    let port = s.params.check_port.or(s.port)?;
    let host = match &s.host {
        ServerHost::Ip(IpAddr::V4(ip)) if ip.is_unspecified() => Ipv4Addr::LOCALHOST.to_string(),
        ServerHost::Ip(IpAddr::V6(ip)) if ip.is_unspecified() => Ipv6Addr::LOCALHOST.to_string(),
        ServerHost::Ip(ip) => ip.to_string(),
        ServerHost::Name(n) => n.clone(),
    };
    Some((host, port))
}

/// Runs one check: what it saw (router-core judges it) and HAProxy's reason text.
async fn check_once(
    host: &str,
    port: u16,
    request: Option<&CheckRequest>,
    timeouts: CheckTimeouts,
) -> (CheckResult, String) {
    let connect_to = Duration::from_millis(timeouts.connect_ms);
    let started = Instant::now();
    let mut s = match tokio::time::timeout(connect_to, TcpStream::connect((host, port))).await {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => {
            return (
                CheckResult::Failed,
                format!("Layer4 connection problem, info: \"{e}\""),
            );
        }
        Err(_) => return (CheckResult::Failed, "Layer4 timeout".to_string()),
    };
    let Some(req) = request else {
        return (CheckResult::Answered(None), String::new());
    };
    // With `timeout check` the answer has its own bound; without, what is left of
    // `inter`.
    let read_to = match timeouts.read_ms {
        Some(ms) => Duration::from_millis(ms),
        None => connect_to.saturating_sub(started.elapsed()),
    };
    let exchange = async {
        s.write_all(req.head().as_bytes())
            .await
            .map_err(|e| format!("Layer7 connection problem, info: \"{e}\""))?;
        let mut buf = Vec::with_capacity(256);
        let mut chunk = [0u8; 256];
        while !buf.contains(&b'\n') && buf.len() < 4096 {
            let n = s
                .read(&mut chunk)
                .await
                .map_err(|e| format!("Layer7 connection problem, info: \"{e}\""))?;
            if n == 0 {
                break;
            }
            buf.extend_from_slice(&chunk[..n]);
        }
        Ok::<Vec<u8>, String>(buf)
    };
    let buf = match tokio::time::timeout(read_to, exchange).await {
        Ok(Ok(buf)) => buf,
        Ok(Err(reason)) => return (CheckResult::Failed, reason),
        Err(_) => return (CheckResult::Failed, "Layer7 timeout".to_string()),
    };
    let line = buf.split(|&b| b == b'\n').next().unwrap_or(&[]);
    let line = String::from_utf8_lossy(line).trim().to_string();
    let code: Option<u16> = line
        .strip_prefix("HTTP/")
        .and_then(|r| r.split(' ').nth(1))
        .and_then(|c| c.parse().ok());
    (CheckResult::Answered(code), line)
}

/// HAProxy's reason text for a check that connected: `seen` is the status line read
/// (HTTP checks) and `passed` router-core's judgment.
fn answered_reason(code: Option<u16>, seen: &str, http: bool, passed: bool) -> String {
    match (http, code, passed) {
        (false, _, _) => "Layer4 check passed".to_string(),
        (true, Some(c), true) => format!("Layer7 check passed, code: {c}"),
        (true, Some(c), false) => format!("Layer7 wrong status, code: {c}, info: \"{seen}\""),
        (true, None, _) => "Layer7 invalid response".to_string(),
    }
}

/// Logs a transition the way HAProxy does (and its followers through `track`).
pub fn report(g: &Generation, t: Transition, reason: &str) {
    let cfg = g.config();
    let state = if t.up { "UP" } else { "DOWN" };
    let path = cfg.server_path(t.server);
    let backend = cfg.server(t.server).proxy;
    let left = cfg
        .proxy(backend)
        .servers
        .iter()
        .filter(|&&s| g.engine.is_up(s) && !cfg.server(s).params.backup)
        .count();
    let backups = cfg
        .proxy(backend)
        .servers
        .iter()
        .filter(|&&s| g.engine.is_up(s) && cfg.server(s).params.backup)
        .count();
    let line = format!(
        "Server {path} is {state}, reason: {reason}. {left} active and {backups} backup servers {}.",
        if t.up { "online" } else { "left" }
    );
    tracing::warn!("{line}");
    for f in cfg.followers(t.server) {
        tracing::warn!("Server {} is {state} via {path}.", cfg.server_path(f));
    }
}

/// Starts the check tasks of a generation; they stop when `stop` turns true or the
/// sender is dropped.
pub fn spawn_all(g: &Arc<Generation>, stop: watch::Receiver<bool>) {
    let cfg = g.config();
    for id in cfg.server_ids() {
        if !check::is_checked(cfg, id) {
            continue;
        }
        let Some((host, port)) = check_target(g, id) else {
            continue;
        };
        let g = g.clone();
        let mut stop = stop.clone();
        tokio::spawn(async move {
            let cfg = g.config();
            let request = check::request(cfg, id);
            let timeouts = check::timeouts(cfg, id);
            // HAProxy spreads the first checks over `inter`; a short spread suffices.
            let mut wait = Duration::from_millis(u64::from(id.0 % 16) * 10);
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    r = stop.changed() => {
                        if r.is_err() || *stop.borrow() { return; }
                        continue;
                    }
                }
                let started = Instant::now();
                let (result, seen) = check_once(&host, port, request.as_ref(), timeouts).await;
                let ok = check::passes(cfg, id, Prober::Socket, result);
                let reason = match result {
                    CheckResult::Answered(code) => {
                        answered_reason(code, &seen, request.is_some(), ok)
                    }
                    CheckResult::Failed => seen,
                };
                let obs = Observation {
                    at_ms: now_ms(),
                    ok,
                    passive: false,
                };
                if let Some(t) = g.engine.observe(id, obs) {
                    let reason = format!(
                        "{reason}, check duration: {}ms",
                        started.elapsed().as_millis()
                    );
                    report(&g, t, &reason);
                }
                let next = g.engine.next_check_in(id).max(1);
                wait = Duration::from_millis(next).saturating_sub(started.elapsed());
            }
        });
    }
}

/// Addresses a check of `id` would connect to (for the startup summary).
pub fn describe(g: &Generation, id: ServerId) -> Option<SocketAddr> {
    let (h, p) = check_target(g, id)?;
    format!("{h}:{p}").parse().ok()
}
