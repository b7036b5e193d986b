//! A case through router-core, natively (no sockets).
//!
//! The same facts HAProxy sees: the request line split on spaces, the headers as
//! given, `src` = the case's client address, `dst` = `127.0.0.1:8080` (the harness's
//! HAProxy is reached on 127.0.0.1 too), or `[::1]:8080` for an IPv6 client (the
//! PROXY v6 header the client sends names `::1` as the destination). Servers in `down` are set DOWN in a
//! [`router_core::HealthSnapshot`]; one [`router_core::LocalTickets`] serves the
//! whole case, like one HAProxy process does.
//!
//! Requests that HAProxy rejects while parsing HTTP (`400`: `#` in the target, two
//! `Host` lines, a malformed request line; `413`: an HTTP/1.0 GET with a body) never reach routing: rejecting them is the
//! host's job (local-host parses like HAProxy). The caller says which requests those
//! are; router-core is not asked about them, so that they take no round-robin turn,
//! as in HAProxy.

use std::net::{IpAddr, SocketAddr};

use router_core::{Decision, HealthSnapshot, LocalTickets, RequestFacts};

use crate::corpus::{Case, Outcome};

/// router-core's answer for one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoreDecision {
    pub outcome: Outcome,
    /// `X-Forwarded-For` value router-core appends, if any.
    pub forwarded_for: Option<String>,
    /// `X-Original-To` value router-core appends, if any.
    pub original_to: Option<String>,
}

/// Whether HAProxy refused the request while parsing it, before routing: 400 for
/// a malformed request, 413 for an HTTP/1.0 GET/HEAD/DELETE with a body.
pub fn parse_rejected(o: &Outcome) -> bool {
    matches!(o, Outcome::Respond { status: 400 | 413 })
}

/// router-core's decision for every request of `case`, in order, with one fresh
/// round-robin state for the whole case; `None` for the requests that `rejected` says
/// HTTP parsing refuses (see the module doc).
pub fn decide_case(
    case: &Case,
    rejected: &dyn Fn(usize) -> bool,
) -> Result<Vec<Option<CoreDecision>>, String> {
    let text = case.config_text()?;
    let parsed = router_core::parse(&case.config, &text)
        .map_err(|e| format!("router-core refused {}: {e}", case.config))?;
    let cfg = &parsed.config;
    let fe = match &case.frontend {
        Some(name) => cfg
            .proxy_id(name)
            .ok_or_else(|| format!("router-core: no proxy {name:?}"))?,
        None => cfg
            .default_frontend()
            .ok_or_else(|| "router-core: no frontend".to_string())?,
    };
    let mut health = HealthSnapshot::all_up(cfg);
    for (b, s) in case.down_servers()? {
        let id = cfg
            .server_id(&b, &s)
            .ok_or_else(|| format!("router-core: no server {b}/{s}"))?;
        health.set_down(id);
    }
    let tickets = LocalTickets::new(cfg);
    let src_ip: IpAddr = case
        .src
        .as_deref()
        .unwrap_or("127.0.0.1")
        .parse()
        .map_err(|e| format!("src: {e}"))?;
    let src = SocketAddr::new(src_ip, 40000);
    // What HAProxy sees as the destination: the bind address, or the PROXY v6
    // header's `::1` (client.rs) for an IPv6 client.
    let dst = match src_ip {
        IpAddr::V4(_) => SocketAddr::from(([127, 0, 0, 1], 8080)),
        IpAddr::V6(_) => SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, 8080)),
    };
    let mut out = Vec::new();
    for (i, req) in case.request.iter().enumerate() {
        if rejected(i) {
            out.push(None);
            continue;
        }
        let (method, target, version) = req.parts();
        let headers = req.header_pairs();
        let facts = RequestFacts {
            method,
            target,
            version,
            headers: &headers,
            src,
            dst,
            tls: false,
        };
        let d = router_core::decide(cfg, fe, &facts, &health, &tickets, None);
        out.push(Some(match d {
            Decision::Redirect { code, location, .. } => CoreDecision {
                outcome: Outcome::Redirect {
                    status: code,
                    location: location.into_owned(),
                },
                forwarded_for: None,
                original_to: None,
            },
            Decision::Answer { answer, .. } => CoreDecision {
                outcome: Outcome::Respond {
                    status: answer.status,
                },
                forwarded_for: None,
                original_to: None,
            },
            Decision::Respond { status, .. } => CoreDecision {
                outcome: Outcome::Respond { status },
                forwarded_for: None,
                original_to: None,
            },
            Decision::Forward(f) => CoreDecision {
                outcome: Outcome::Forward {
                    backend: cfg.proxy(f.backend).name.clone(),
                    server: cfg.server(f.server).name.clone(),
                },
                forwarded_for: f.forwarded_for.map(|h| h.value.to_string()),
                original_to: f.original_to.map(|h| h.value.to_string()),
            },
        }));
    }
    Ok(out)
}

/// Where router-core's decisions differ from `want` (one entry per request; `None`:
/// no usable expectation). Requests router-core was not asked about are skipped.
pub fn mismatches(
    case: &Case,
    want: &[Option<Outcome>],
    got: &[Option<CoreDecision>],
) -> Vec<String> {
    let pairs: Vec<(usize, &Option<Outcome>, &CoreDecision)> = want
        .iter()
        .zip(got)
        .enumerate()
        .filter_map(|(i, (w, g))| g.as_ref().map(|g| (i, w, g)))
        .collect();
    let mut out = Vec::new();
    for (i, w, _) in &pairs {
        if w.is_none() {
            out.push(format!(
                "request #{} {:?}: no expectation (bless it with HAProxy first)",
                i + 1,
                case.request[*i].line
            ));
        }
    }
    if !out.is_empty() {
        return out;
    }
    for (i, w, g) in pairs {
        if let Some(w) = w
            && *w != g.outcome
        {
            out.push(format!(
                "request #{} {:?}: HAProxy did {w}, router-core decided {}",
                i + 1,
                case.request[i].line,
                g.outcome
            ));
        }
    }
    out
}

/// For a case marked `router_core = "refuses"`: `Ok` when router-core refuses the
/// config saying what it does not support, else what is wrong.
pub fn check_refusal(case: &Case) -> Result<(), String> {
    let text = case.config_text()?;
    match router_core::parse(&case.config, &text) {
        Ok(_) => Err(format!(
            "router-core now accepts {}: remove `router_core = \"refuses\"` from the case \
             so that its decisions are checked",
            case.config
        )),
        Err(e) if e.to_string().contains("not supported") => Ok(()),
        Err(e) => Err(format!(
            "router-core refuses {} but not as \"not supported\": {e}",
            case.config
        )),
    }
}
