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

use wtedge_tests::corpus::{self, Case, Observed};
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
        if core::AVAILABLE {
            match core::decide_case(case) {
                Ok(decisions) => {
                    for (i, (d, got)) in decisions.iter().zip(&observed).enumerate() {
                        if *d != got.outcome {
                            core_mismatches.push(format!(
                                "[{}] request #{} {:?}: HAProxy did {}, router-core decided {d}",
                                case.name,
                                i + 1,
                                case.request[i].line,
                                got.outcome
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
        "differential: {} cases, {requests} requests, {} HAProxy failures, {} router-core mismatches{}",
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
