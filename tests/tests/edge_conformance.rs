//! The conformance corpus through the Worker in workerd: every request of every
//! case is sent over HTTP to `wrangler dev`, the Worker builds router-core's facts
//! from what workerd gives it and decides; with the test hooks
//! (`WTEDGE_TEST_HOOKS=1`) it answers the decision and the facts instead of acting.
//! The facts hold only the headers the config can read (`HeaderInterest::of`): every
//! header in them must be one the config wants.
//!
//! Two comparisons per request:
//! - **strict**: the Worker's decision (outcome, upstream, X-Forwarded-For) equals
//!   router-core's, run natively on the facts the Worker saw, with the same config,
//!   health and round-robin sequence. Every request must pass.
//! - **against the raw request**: router-core on the request exactly as the corpus
//!   writes it (`tests/src/core.rs`), every header included: this is what shows that
//!   leaving the other headers out changes no decision. Where the decisions differ,
//!   the facts must differ in a header the config wants (or in the request line):
//!   under `wrangler dev`, what reaches a Worker is normalized (absolute-form targets
//!   become origin-form, the Host header is lower-cased and loses a default port,
//!   header names are lower-cased and repeats joined; `accept-encoding` and
//!   `cf-connecting-ip` are added, which alone never explain a difference). The
//!   differences are listed.
//!
//! An answer that is not a decision is one of: workerd's (or wrangler's local
//! proxy's) own refusal before the Worker runs, recognized by its status and body
//! ([`PLATFORM_REFUSALS`]), counted with its status; an error page of the Worker's
//! (HAProxy's body, `router_core::unstable::answer::error_page`), which must be the error the
//! corpus expects for that request; anything else fails the test.
//!
//! Requests HAProxy rejects while parsing (400) are not sent, as in `conformance.rs`.
//!
//! ```sh
//! WTEDGE_EDGE_URL=http://127.0.0.1:28787 cargo test -p wtedge-tests --features edge --test edge_conformance -- --nocapture
//! ```

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr};

use router_core::{Decision, HeaderInterest, HealthSnapshot, LocalTickets, RequestFacts};
use serde_json::{Value, json};
use wtedge_tests::client::{self, Response, Source};
use wtedge_tests::core;
use wtedge_tests::corpus::{self, Case, Outcome, Request};

fn edge() -> SocketAddr {
    let url = std::env::var("WTEDGE_EDGE_URL")
        .unwrap_or_else(|_| panic!("WTEDGE_EDGE_URL is not set: run scripts/edge-test.sh"));
    url.trim_start_matches("http://")
        .trim_end_matches('/')
        .parse()
        .unwrap_or_else(|e| panic!("WTEDGE_EDGE_URL {url:?}: {e}"))
}

fn send(req: &Request) -> Result<Response, String> {
    client::send(edge(), Source::Loopback(Ipv4Addr::LOCALHOST), req).map_err(|e| e.to_string())
}

fn hook(path: &str, body: &Value) -> Result<(), String> {
    let text = body.to_string();
    let r = send(&Request {
        line: format!("POST {path} HTTP/1.1"),
        headers: vec![
            "Host: hooks.test".into(),
            "Content-Type: application/json".into(),
            format!("Content-Length: {}", text.len()),
            "Connection: close".into(),
        ],
        body: Some(text),
        expect: None,
    })?;
    if r.status != 200 {
        return Err(format!(
            "{path}: {} {}",
            r.status,
            String::from_utf8_lossy(&r.body)
        ));
    }
    Ok(())
}

/// workerd's and wrangler's own refusals, as seen under `wrangler dev`: status, how
/// the body starts, and who refuses what.
const PLATFORM_REFUSALS: &[(u16, &str, &str)] = &[
    (
        400,
        "Bad Request",
        "workerd: unparsable request (HTTP/1.0 without Host, bad header)",
    ),
    (
        501,
        "ERROR: Unrecognized request method.",
        "workerd: lower-case or unknown method",
    ),
    (
        500,
        "Internal Server Error",
        "workerd: no URL for the request (malformed Host, CONNECT)",
    ),
    (
        500,
        "TypeError: Fetch API cannot load:",
        "wrangler's local proxy: no URL (`OPTIONS *`)",
    ),
    (
        400,
        "invalid URI",
        "workerd's HTTP parser: an empty authority, two spaces",
    ),
    (
        400,
        "invalid HTTP version parsed",
        "workerd's HTTP parser: HTTP/1.2, HTTP/2.0",
    ),
    (
        400,
        "unexpected transfer-encoding parsed",
        "workerd's HTTP parser",
    ),
];

/// Who answered a request with something that is not the Worker's decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NotDecided {
    /// workerd or wrangler, before the Worker ran ([`PLATFORM_REFUSALS`]).
    Platform,
    /// The Worker, with one of its error pages.
    Worker,
    /// Nobody this test knows.
    Unknown,
}

fn not_decided(resp: &Response) -> NotDecided {
    let body = String::from_utf8_lossy(&resp.body);
    if body == router_core::unstable::answer::error_page(resp.status).body {
        return NotDecided::Worker;
    }
    let body = body.trim_start();
    if PLATFORM_REFUSALS
        .iter()
        .any(|(status, start, _)| *status == resp.status && body.starts_with(start))
    {
        NotDecided::Platform
    } else {
        NotDecided::Unknown
    }
}

/// A decision in comparable form.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Seen {
    outcome: Outcome,
    upstream: Option<String>,
    forwarded_for: Option<String>,
}

fn from_worker(d: &Value) -> Result<Seen, String> {
    let s = |k: &str| d[k].as_str().map(str::to_string);
    let outcome = match d["action"].as_str() {
        Some("forward") => Outcome::Forward {
            backend: s("backend").unwrap_or_default(),
            server: s("server").unwrap_or_default(),
        },
        Some("redirect") => Outcome::Redirect {
            status: d["status"].as_u64().unwrap_or(0) as u16,
            location: s("location").unwrap_or_default(),
        },
        Some("respond" | "deny" | "return") => Outcome::Respond {
            status: d["status"].as_u64().unwrap_or(0) as u16,
        },
        _ => return Err(format!("not a decision: {d}")),
    };
    Ok(Seen {
        outcome,
        upstream: s("upstream"),
        forwarded_for: s("forwarded_for"),
    })
}

fn from_core(cfg: &router_core::Config, d: Decision<'_>) -> Seen {
    match d {
        Decision::Redirect { code, location, .. } => Seen {
            outcome: Outcome::Redirect {
                status: code,
                location: location.into_owned(),
            },
            upstream: None,
            forwarded_for: None,
        },
        Decision::Answer { answer, .. } => Seen {
            outcome: Outcome::Respond {
                status: answer.status,
            },
            upstream: None,
            forwarded_for: None,
        },
        Decision::Respond { status, .. } => Seen {
            outcome: Outcome::Respond { status },
            upstream: None,
            forwarded_for: None,
        },
        Decision::Forward(f) => Seen {
            outcome: Outcome::Forward {
                backend: cfg.proxy(f.backend).name.clone(),
                server: cfg.server(f.server).name.clone(),
            },
            upstream: Some(f.upstream.to_string()),
            forwarded_for: f.forwarded_for.map(|h| h.value.to_string()),
        },
    }
}

/// Headers as workerd would present them: lower-case names, repeats joined with
/// `, `, sorted by name.
fn normalized(headers: &[(&str, &str)]) -> BTreeMap<String, String> {
    let mut out: BTreeMap<String, String> = BTreeMap::new();
    for (k, v) in headers {
        out.entry(k.to_ascii_lowercase())
            .and_modify(|e| {
                e.push_str(", ");
                e.push_str(v);
            })
            .or_insert_with(|| v.to_string());
    }
    out
}

/// The `[name, value]` pairs of the facts' header list.
fn fact_headers(facts: &Value) -> Vec<(String, String)> {
    facts["headers"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|p| {
                    (
                        p[0].as_str().unwrap_or("").to_string(),
                        p[1].as_str().unwrap_or("").to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// What differs between the corpus request and the facts the Worker saw, among the
/// headers the config wants (the Worker leaves the others out of the facts).
fn fact_differences(raw: &Request, facts: &Value, interest: &HeaderInterest) -> Vec<String> {
    let (method, target, version) = raw.parts();
    let mut out = Vec::new();
    let f = |k: &str| facts[k].as_str().unwrap_or("").to_string();
    if f("method") != method {
        out.push(format!("method {method:?} -> {:?}", f("method")));
    }
    if f("target") != target {
        out.push(format!("target {target:?} -> {:?}", f("target")));
    }
    if f("version") != version {
        out.push(format!("version {version:?} -> {:?}", f("version")));
    }
    let mut pairs = raw.header_pairs();
    pairs.retain(|(k, _)| interest.wants(k));
    let want = normalized(&pairs);
    let got_pairs = fact_headers(facts);
    let got_refs: Vec<(&str, &str)> = got_pairs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .filter(|(k, _)| interest.wants(k))
        .collect();
    let got = normalized(&got_refs);
    for (k, v) in &want {
        match got.get(k) {
            Some(g) if g == v => {}
            Some(g) => out.push(format!("header {k}: {v:?} -> {g:?}")),
            None => out.push(format!("header {k}: {v:?} -> (absent)")),
        }
    }
    for (k, g) in &got {
        if !want.contains_key(k) {
            out.push(format!("header {k}: (absent) -> {g:?}"));
        }
    }
    // Repeated lines joined into one change hdr_cnt and friends.
    if pairs.len() != want.len() {
        out.push("repeated header lines joined".into());
    }
    out
}

#[derive(Default)]
struct Tally {
    cases: usize,
    requests: usize,
    not_sent: usize,
    decided: usize,
    strict_equal: usize,
    raw_equal: usize,
    raw_differ: Vec<String>,
    refused_by_platform: BTreeMap<u16, Vec<String>>,
    /// Error pages of the Worker's that the corpus expects.
    worker_errors: usize,
    failures: Vec<String>,
}

fn run_case(case: &Case, t: &mut Tally) -> Result<(), String> {
    let text = case.config_text()?;
    let src = case.src.clone().unwrap_or_else(|| "127.0.0.1".into());
    hook(
        "/__wtedge/test/config",
        &json!({
            "name": case.config,
            "config": text,
            "frontend": case.frontend,
            "down": case.down,
            "dst": "127.0.0.1:8080",
        }),
    )?;
    // Native router-core on the Worker's facts: same config, health and tickets.
    let parsed = router_core::parse(&case.config, &text).map_err(|e| e.to_string())?;
    let cfg = &parsed.config;
    let fe = match &case.frontend {
        Some(n) => cfg.proxy_id(n).ok_or("no such frontend")?,
        None => cfg.default_frontend().ok_or("no frontend")?,
    };
    let mut health = HealthSnapshot::all_up(cfg);
    for (b, s) in case.down_servers()? {
        health.set_down(cfg.server_id(&b, &s).ok_or("no such server")?);
    }
    let tickets = LocalTickets::new(cfg);
    let interest = HeaderInterest::of(cfg);

    let rejected = |i: usize| {
        case.request[i]
            .expect
            .as_ref()
            .and_then(|e| e.outcome().ok())
            .is_some_and(|o| core::parse_rejected(&o))
    };
    let raw = core::decide_case(case, &rejected)?;
    // Once a request was refused by the platform or decided differently, the two
    // round-robin sequences may have taken different turns.
    let mut diverged = false;

    for (i, req) in case.request.iter().enumerate() {
        t.requests += 1;
        let label = format!("[{}] #{} {:?}", case.name, i + 1, req.line);
        if rejected(i) {
            t.not_sent += 1;
            continue;
        }
        let mut r = req.clone();
        r.headers.push("x-wtedge-dry-run: 1".into());
        r.headers.push(format!("x-wtedge-test-src: {src}"));
        let resp = send(&r).map_err(|e| format!("{label}: {e}"))?;
        // The body, or the header copy for HEAD requests.
        let answer: Option<Value> = (resp.status == 200)
            .then(|| {
                serde_json::from_slice::<Value>(&resp.body)
                    .ok()
                    .or_else(|| serde_json::from_str(resp.header("x-wtedge-decision")?).ok())
            })
            .flatten()
            .filter(|v| v.get("decision").is_some());
        let Some(answer) = answer else {
            diverged = true;
            let expected = req.expect.as_ref().and_then(|e| e.outcome().ok());
            match not_decided(&resp) {
                NotDecided::Platform => t
                    .refused_by_platform
                    .entry(resp.status)
                    .or_default()
                    .push(label),
                NotDecided::Worker
                    if expected
                        == Some(Outcome::Respond {
                            status: resp.status,
                        }) =>
                {
                    t.worker_errors += 1
                }
                who => t.failures.push(format!(
                    "{label}: {} answered {} (the corpus expects {}): {:.200}",
                    if who == NotDecided::Worker {
                        "the Worker"
                    } else {
                        "nobody known"
                    },
                    resp.status,
                    expected.map_or_else(|| "nothing".to_string(), |o| o.to_string()),
                    String::from_utf8_lossy(&resp.body)
                )),
            }
            continue;
        };
        t.decided += 1;
        let worker = match from_worker(&answer["decision"]) {
            Ok(w) => w,
            Err(e) => {
                t.failures.push(format!("{label}: {e}"));
                continue;
            }
        };
        // Strict: router-core natively on the Worker's facts.
        let facts = &answer["facts"];
        let headers = fact_headers(facts);
        // Only the headers the config can read reach router-core.
        let unwanted: Vec<&str> = headers
            .iter()
            .map(|(k, _)| k.as_str())
            .filter(|k| !interest.wants(k))
            .collect();
        if !unwanted.is_empty() {
            t.failures.push(format!(
                "{label}: headers the config never reads in the facts: {unwanted:?}"
            ));
        }
        let hrefs: Vec<(&str, &str)> = headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let s = |k: &str| facts[k].as_str().unwrap_or("").to_string();
        let (method, target, version) = (s("method"), s("target"), s("version"));
        let (src_addr, dst_addr) = match (s("src").parse(), s("dst").parse()) {
            (Ok(a), Ok(b)) => (a, b),
            _ => {
                t.failures
                    .push(format!("{label}: bad addresses in {facts}"));
                continue;
            }
        };
        let native = router_core::decide(
            cfg,
            fe,
            &RequestFacts {
                method: &method,
                target: &target,
                version: &version,
                headers: &hrefs,
                src: src_addr,
                dst: dst_addr,
                tls: false,
            },
            &health,
            &tickets,
            None,
        );
        let native = from_core(cfg, native);
        if native == worker {
            t.strict_equal += 1;
        } else {
            t.failures.push(format!(
                "{label}: the Worker decided {worker:?}, router-core on the same facts {native:?}"
            ));
        }
        // Against the raw request.
        let Some(Some(raw_d)) = raw.get(i) else {
            continue;
        };
        if raw_d.outcome == worker.outcome && raw_d.forwarded_for == worker.forwarded_for {
            t.raw_equal += 1;
        } else {
            // What the runtime adds to every request cannot explain a difference.
            let mut diffs: Vec<String> = fact_differences(req, facts, &interest)
                .into_iter()
                .filter(|d| {
                    !d.starts_with("header accept-encoding: (absent)")
                        && !d.starts_with("header cf-connecting-ip: (absent)")
                })
                .collect();
            if diffs.is_empty() && diverged {
                diffs.push("round-robin turns shifted by an earlier request of the case".into());
            }
            diverged = true;
            let line = format!(
                "{label}: raw {} / Worker {} because {}",
                raw_d.outcome,
                worker.outcome,
                if diffs.is_empty() {
                    "(no fact differs)".to_string()
                } else {
                    diffs.join("; ")
                }
            );
            if diffs.is_empty() && raw_d.outcome != worker.outcome {
                t.failures.push(line.clone());
            }
            t.raw_differ.push(line);
        }
    }
    Ok(())
}

#[test]
fn corpus_through_the_worker() {
    let all = corpus::load_all().unwrap_or_else(|e| panic!("corpus: {e}"));
    let mut t = Tally::default();
    for case in all.iter().filter(|c| !c.router_core_refuses()) {
        t.cases += 1;
        if let Err(e) = run_case(case, &mut t) {
            t.failures.push(format!("[{}] {e}", case.name));
        }
    }
    let reset = hook("/__wtedge/test/reset", &json!({}));

    let refused: usize = t.refused_by_platform.values().map(Vec::len).sum();
    let mut report = format!(
        "edge conformance: {} cases, {} requests: {} decided by the Worker, {} equal to \
         router-core on the Worker's facts; {} equal to router-core on the raw request, {} \
         differ where workerd normalized the request; {} refused by workerd/wrangler before \
         the Worker ({}); {} error pages of the Worker's, each the corpus's; {} not sent \
         (HAProxy rejects them while parsing)\n",
        t.cases,
        t.requests,
        t.decided,
        t.strict_equal,
        t.raw_equal,
        t.raw_differ.len(),
        refused,
        t.refused_by_platform
            .iter()
            .map(|(s, v)| format!("{s}: {}", v.len()))
            .collect::<Vec<_>>()
            .join(", "),
        t.worker_errors,
        t.not_sent,
    );
    for l in &t.raw_differ {
        report.push_str(&format!("  differs: {l}\n"));
    }
    for (s, v) in &t.refused_by_platform {
        for l in v {
            report.push_str(&format!("  refused {s}: {l}\n"));
        }
    }
    eprint!("{report}");
    if let Ok(path) = std::env::var("WTEDGE_CONFORMANCE_REPORT") {
        let _ = std::fs::write(path, &report);
    }
    assert!(reset.is_ok(), "reset: {reset:?}");
    assert!(t.decided > 0, "no request reached the Worker");
    assert!(
        t.failures.is_empty(),
        "{} failure(s):\n{}",
        t.failures.len(),
        t.failures.join("\n")
    );
}
