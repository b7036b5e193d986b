//! Active health checks: one task per server with `check` (servers that `track`
//! another follow it and are not checked). A check is a TCP connect, or with
//! `option httpchk` an HTTP request whose 2xx/3xx answer is healthy; its timeout is
//! `timeout check`, else `inter`. Results go to the engine (router-core's health state
//! machine decides rise/fall and UP/DOWN); transitions are logged as HAProxy logs them.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use router_core::config::model::{HttpCheck, ServerHost, ServerId};
use router_core::health::{Observation, Transition};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;

use crate::proxy::{Generation, now_ms};

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

/// Runs one check. `Err` carries HAProxy's reason text.
async fn check_once(
    host: &str,
    port: u16,
    httpchk: Option<&HttpCheck>,
    timeout: Duration,
) -> Result<String, String> {
    let fut = async {
        let mut s = TcpStream::connect((host, port))
            .await
            .map_err(|e| format!("Layer4 connection problem, info: \"{e}\""))?;
        let Some(chk) = httpchk else {
            return Ok("Layer4 check passed".to_string());
        };
        let req = format!("{} {} {}\r\n\r\n", chk.method, chk.uri, chk.version);
        s.write_all(req.as_bytes())
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
        let line = buf.split(|&b| b == b'\n').next().unwrap_or(&[]);
        let line = String::from_utf8_lossy(line).trim().to_string();
        let code: Option<u16> = line
            .strip_prefix("HTTP/")
            .and_then(|r| r.split(' ').nth(1))
            .and_then(|c| c.parse().ok());
        match code {
            Some(c) if (200..400).contains(&c) => Ok(format!("Layer7 check passed, code: {c}")),
            Some(c) => Err(format!("Layer7 wrong status, code: {c}, info: \"{line}\"")),
            None => Err("Layer7 invalid response".to_string()),
        }
    };
    match tokio::time::timeout(timeout, fut).await {
        Ok(r) => r,
        Err(_) => Err("Layer4 timeout".to_string()),
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
        let s = cfg.server(id);
        if !s.params.check || s.track.is_some() || s.params.disabled {
            continue;
        }
        let Some((host, port)) = check_target(g, id) else {
            continue;
        };
        let g = g.clone();
        let mut stop = stop.clone();
        tokio::spawn(async move {
            let cfg = g.config();
            let s = cfg.server(id);
            let backend = cfg.proxy(s.proxy);
            let httpchk = backend.settings.options.httpchk.clone();
            let timeout = Duration::from_millis(
                backend
                    .settings
                    .timeouts
                    .check
                    .unwrap_or(s.params.inter)
                    .max(1),
            );
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
                let res = check_once(&host, port, httpchk.as_ref(), timeout).await;
                let obs = Observation {
                    at_ms: now_ms(),
                    ok: res.is_ok(),
                    passive: false,
                };
                if let Some(t) = g.engine.observe(id, obs) {
                    let reason = match &res {
                        Ok(r) | Err(r) => r.clone(),
                    };
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
