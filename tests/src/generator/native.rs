//! The generated requests through router-core linked in (no sockets): what it
//! decides must be what HAProxy did, and the headers it appends what HAProxy's
//! server received.

use std::net::{IpAddr, SocketAddr};

use router_core::{Config, Decision, HealthSnapshot, LocalTickets, ProxyId, RequestFacts};

use super::compare::Diff;
use super::request::GenRequest;
use crate::client::Response;
use crate::corpus::Outcome;
use crate::run::observe;

/// router-core with one health state and one round-robin state for a config's run,
/// as one HAProxy process has.
pub struct Native {
    cfg: Config,
    health: HealthSnapshot,
    tickets: LocalTickets,
}

impl Native {
    /// Parses `text` (the config wtedge runs) and sets `down` DOWN.
    pub fn new(text: &str, down: &[(String, String)]) -> Result<Native, String> {
        let cfg = router_core::parse("generated.cfg", text)
            .map_err(|e| format!("router-core refuses the config: {e}"))?
            .config;
        let mut health = HealthSnapshot::all_up(&cfg);
        for (b, s) in down {
            let id = cfg
                .server_id(b, s)
                .ok_or_else(|| format!("router-core: no server {b}/{s}"))?;
            health.set_down(id);
        }
        let tickets = LocalTickets::new(&cfg);
        Ok(Native {
            cfg,
            health,
            tickets,
        })
    }

    /// Sets `proxy/server` UP or DOWN (its trackers follow).
    pub fn set(&mut self, proxy: &str, server: &str, up: bool) -> Result<(), String> {
        let id = self
            .cfg
            .server_id(proxy, server)
            .ok_or_else(|| format!("router-core: no server {proxy}/{server}"))?;
        self.health.set(id, up);
        Ok(())
    }

    fn proxy(&self, name: &str) -> Result<ProxyId, String> {
        self.cfg
            .proxy_id(name)
            .ok_or_else(|| format!("router-core: no proxy {name}"))
    }

    /// Compares router-core's decision for `g` (sent to `entry`, reached at `dst`)
    /// with HAProxy's answer. Requests HAProxy answered itself with anything but a
    /// redirect or 503 (400 for a malformed request, 501, 505...) never reached its
    /// routing and are not asked (they take no round-robin turn).
    pub fn check(
        &self,
        entry: &str,
        dst: SocketAddr,
        g: &GenRequest,
        haproxy: &Response,
    ) -> Result<Vec<Diff>, String> {
        let seen = observe(haproxy);
        if matches!(seen.outcome, Outcome::Respond { status } if status != 503) {
            return Ok(Vec::new());
        }
        let fe = self.proxy(entry)?;
        let (method, target, version) = g.req.parts();
        let headers = g.req.header_pairs();
        let facts = RequestFacts {
            method,
            target,
            version,
            headers: &headers,
            src: SocketAddr::new(IpAddr::V4(g.src), 40000),
            dst,
            tls: false,
        };
        let d = router_core::decide(&self.cfg, fe, &facts, &self.health, &self.tickets, None);
        let (outcome, appended) = match d {
            Decision::Redirect { code, location, .. } => (
                Outcome::Redirect {
                    status: code,
                    location: location.into_owned(),
                },
                Vec::new(),
            ),
            Decision::Respond { status, .. } => (Outcome::Respond { status }, Vec::new()),
            // The generator writes no `http-request` rules; an answer is compared by status.
            Decision::Answer { answer, .. } => (
                Outcome::Respond {
                    status: answer.status,
                },
                Vec::new(),
            ),
            Decision::Forward(f) => {
                let mut appended = Vec::new();
                for h in [f.forwarded_for, f.original_to].into_iter().flatten() {
                    appended.push((h.name.to_ascii_lowercase(), h.value.to_string()));
                }
                (
                    Outcome::Forward {
                        backend: self.cfg.proxy(f.backend).name.clone(),
                        server: self.cfg.server(f.server).name.clone(),
                    },
                    appended,
                )
            }
        };
        if outcome != seen.outcome {
            return Ok(vec![Diff {
                kind: "router-core decision",
                detail: format!(
                    "haproxy did {}, router-core decided {outcome}",
                    seen.outcome
                ),
            }]);
        }
        let Some(report) = haproxy.report() else {
            return Ok(Vec::new());
        };
        if report.line.is_empty() {
            // A HEAD answer: no body to read the headers from.
            return Ok(Vec::new());
        }
        let mut out = Vec::new();
        for (name, got) in [
            ("x-forwarded-for", report.xff.clone()),
            ("x-original-to", report.original_to.clone()),
            ("x-client", strip(&report.extra, "x-client: ")),
            ("x-dst", strip(&report.extra, "x-dst: ")),
        ] {
            let mut want: Vec<String> = headers
                .iter()
                .filter(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.to_string())
                .collect();
            want.extend(
                appended
                    .iter()
                    .filter(|(n, _)| n == name)
                    .map(|(_, v)| v.clone()),
            );
            if want != got {
                out.push(Diff {
                    kind: "router-core headers",
                    detail: format!(
                        "{name}: haproxy's server saw {got:?}, router-core implies {want:?}"
                    ),
                });
            }
        }
        Ok(out)
    }
}

/// The values of `extra` lines starting with `prefix`.
fn strip(extra: &[String], prefix: &str) -> Vec<String> {
    extra
        .iter()
        .filter_map(|l| l.strip_prefix(prefix).map(str::to_string))
        .collect()
}
