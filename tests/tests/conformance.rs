//! Conformance: every corpus case through router-core natively (no sockets, no
//! HAProxy), asserting the `expect` values that HAProxy produced.
//!
//! `cargo test -p wtedge-tests --test conformance`
//! `WTEDGE_CASE=<substring>` runs only the cases whose name contains it.

use wtedge_tests::corpus::Outcome;
use wtedge_tests::{core, corpus};

#[test]
fn router_core_meets_every_expectation() {
    let all = corpus::load_all().unwrap_or_else(|e| panic!("corpus: {e}"));
    let cases: Vec<_> = match std::env::var("WTEDGE_CASE") {
        Ok(f) if !f.is_empty() => all.into_iter().filter(|c| c.name.contains(&f)).collect(),
        _ => all,
    };
    assert!(!cases.is_empty(), "no case selected");
    let mut failures = Vec::new();
    let mut requests = 0;
    let mut parse_rejected = 0;
    let mut refused = 0;
    for case in &cases {
        requests += case.request.len();
        if case.router_core_refuses() {
            refused += 1;
            if let Err(e) = core::check_refusal(case) {
                failures.push(format!("[{}] {e}", case.name));
            }
            continue;
        }
        // Requests HAProxy refuses while parsing HTTP are the host's job (see core.rs).
        let rejected = |i: usize| {
            case.request[i]
                .expect
                .as_ref()
                .and_then(|e| e.outcome().ok())
                .is_some_and(|o| core::parse_rejected(&o))
        };
        let decisions = match core::decide_case(case, &rejected) {
            Ok(d) => d,
            Err(e) => {
                failures.push(format!("[{}] {e}", case.name));
                continue;
            }
        };
        assert_eq!(decisions.len(), case.request.len(), "[{}]", case.name);
        parse_rejected += decisions.iter().filter(|d| d.is_none()).count();
        let want: Vec<Option<Outcome>> = case
            .request
            .iter()
            .map(|r| r.expect.as_ref().and_then(|e| e.outcome().ok()))
            .collect();
        for m in core::mismatches(case, &want, &decisions) {
            failures.push(format!("[{}] {m}", case.name));
        }
    }
    eprintln!(
        "conformance: {} cases, {requests} requests ({parse_rejected} rejected as malformed, \
         not routed; {refused} cases on configs router-core refuses), {} failures",
        cases.len(),
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{} failure(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
}
