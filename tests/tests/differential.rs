//! Differential tests: every corpus case against a real HAProxy 2.6, and router-core's
//! decision against the same expectations.
//!
//! `cargo test -p wtedge-tests --test differential`
//! `WTEDGE_BLESS=1 cargo test -p wtedge-tests --test differential` rewrites every
//! `expect` from what HAProxy did (review the diff by eye).
//! `WTEDGE_CASE=<substring>` runs only the cases whose name contains it.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use wtedge_tests::core::CoreDecision;
use wtedge_tests::corpus::{self, Case, Observed, Outcome, Request};
use wtedge_tests::{core, haproxy, run};

fn selected() -> Vec<Case> {
    let all = corpus::load_all().unwrap_or_else(|e| panic!("corpus: {e}"));
    match std::env::var("WTEDGE_CASE") {
        Ok(f) if !f.is_empty() => all.into_iter().filter(|c| c.name.contains(&f)).collect(),
        _ => all,
    }
}

type CaseResult = Result<Vec<Observed>, String>;

/// Runs `cases` on a few threads (each case has its own HAProxy and ports).
fn run_all(cases: &[Case]) -> Vec<CaseResult> {
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 4);
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<CaseResult>>> = Mutex::new(vec![None; cases.len()]);
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(case) = cases.get(i) else { break };
                    let r = run::run_case(case);
                    if let Ok(mut v) = results.lock() {
                        v[i] = Some(r);
                    }
                }
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_else(|e| panic!("results lock: {e}"))
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Err("case not run".into())))
        .collect()
}

/// Where the `X-Forwarded-For` / `X-Original-To` lines HAProxy's server received
/// (the client's own lines, then the appended one) differ from what router-core's
/// forward implies. Only when both forwarded to the same server and the server's
/// report could be read.
fn headers_vs_haproxy(req: &Request, d: &CoreDecision, got: &Observed) -> Vec<String> {
    let mut diffs = Vec::new();
    if d.outcome != got.outcome
        || !matches!(got.outcome, Outcome::Forward { .. })
        || got.upstream_line.is_none()
    {
        return diffs;
    }
    for (name, appended, seen) in [
        ("x-forwarded-for", &d.forwarded_for, &got.xff),
        ("x-original-to", &d.original_to, &got.original_to),
    ] {
        let mut want: Vec<String> = req
            .header_pairs()
            .into_iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.to_string())
            .collect();
        want.extend(appended.iter().cloned());
        if want != *seen {
            diffs.push(format!(
                "HAProxy's server saw {name} {seen:?}, router-core implies {want:?}"
            ));
        }
    }
    diffs
}

#[test]
fn haproxy_and_router_core_agree_with_the_corpus() {
    if let Err(e) = haproxy::binary() {
        panic!("{e}");
    }
    let bless = std::env::var("WTEDGE_BLESS").is_ok_and(|v| v == "1");
    let cases = selected();
    assert!(!cases.is_empty(), "no case selected");
    let results = run_all(&cases);

    let mut failures = Vec::new();
    let mut core_mismatches = Vec::new();
    let mut to_bless: BTreeMap<PathBuf, BTreeMap<String, Vec<Observed>>> = BTreeMap::new();
    let mut requests = 0;
    let mut parse_rejected = 0;
    for (case, result) in cases.iter().zip(results) {
        let observed = match result {
            Ok(o) => o,
            Err(e) => {
                failures.push(format!("[{}] harness error: {e}", case.name));
                continue;
            }
        };
        requests += observed.len();
        for (i, (req, got)) in case.request.iter().zip(&observed).enumerate() {
            let Some(expect) = &req.expect else {
                if !bless {
                    failures.push(format!(
                        "[{}] request #{} {:?} has no expect (HAProxy did {}); bless it",
                        case.name,
                        i + 1,
                        req.line,
                        got.outcome
                    ));
                }
                continue;
            };
            let diffs = run::compare(expect, got);
            if !bless && !diffs.is_empty() {
                failures.push(format!(
                    "[{}] request #{} {:?}: {}",
                    case.name,
                    i + 1,
                    req.line,
                    diffs.join("; ")
                ));
            }
        }
        if case.router_core_refuses() {
            if let Err(e) = core::check_refusal(case) {
                core_mismatches.push(format!("[{}] {e}", case.name));
            }
        } else {
            let rejected = |i: usize| {
                observed
                    .get(i)
                    .is_some_and(|o| core::parse_rejected(&o.outcome))
            };
            match core::decide_case(case, &rejected) {
                Ok(decisions) => {
                    parse_rejected += decisions.iter().filter(|d| d.is_none()).count();
                    let want: Vec<Option<Outcome>> =
                        observed.iter().map(|o| Some(o.outcome.clone())).collect();
                    for m in core::mismatches(case, &want, &decisions) {
                        core_mismatches.push(format!("[{}] {m}", case.name));
                    }
                    for (i, (d, got)) in decisions.iter().zip(&observed).enumerate() {
                        let (Some(d), req) = (d, &case.request[i]) else {
                            continue;
                        };
                        for diff in headers_vs_haproxy(req, d, got) {
                            core_mismatches.push(format!(
                                "[{}] request #{} {:?}: {diff}",
                                case.name,
                                i + 1,
                                req.line
                            ));
                        }
                    }
                }
                Err(e) => core_mismatches.push(format!("[{}] router-core: {e}", case.name)),
            }
        }
        if bless {
            to_bless
                .entry(case.file.clone())
                .or_default()
                .insert(case.name.clone(), observed);
        }
    }
    for (file, obs) in &to_bless {
        if let Err(e) = corpus::bless_file(file, obs) {
            failures.push(format!("bless {}: {e}", file.display()));
        }
    }
    eprintln!(
        "differential: {} cases, {requests} requests, {} HAProxy failures, {} router-core mismatches \
         ({parse_rejected} requests HAProxy rejects as malformed not asked to router-core){}",
        cases.len(),
        failures.len(),
        core_mismatches.len(),
        if bless { " (blessed)" } else { "" }
    );
    let mut all = failures;
    all.extend(core_mismatches);
    assert!(
        all.is_empty(),
        "{} problem(s):\n{}",
        all.len(),
        all.join("\n")
    );
}
