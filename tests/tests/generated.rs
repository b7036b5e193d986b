//! The generator-driven differential test: seeded random configs over the keywords
//! Wt Edge supports, random requests built from their patterns plus mutations
//! (`wtedge_tests::generator`), each config run by one fresh HAProxy 2.6 and one fresh
//! wtedge (router-core as wasm for even seeds, linked natively for odd ones) in front
//! of the same loopback servers, and by router-core in this process. Compared per
//! request: status, `Location`, the server that answered, what it received (request
//! line, `X-Forwarded-For`/`X-Original-To` or their configured names, `Connection`);
//! per config: the access log's frontend, backend/server, status and termination state.
//! HAProxy is the oracle: nothing expected is written here.
//!
//! ```sh
//! cargo test -p wtedge-tests --test generated                     # seed 16, ~500 requests
//! WTEDGE_DIFF_CASES=100000 WTEDGE_DIFF_SEED=1000 WTEDGE_DIFF_JOBS=1 \
//!     cargo test --release -p wtedge-tests --test generated -- --nocapture
//! WTEDGE_DIFF_SEED=<seed> WTEDGE_DIFF_CASES=1 cargo test -p wtedge-tests --test generated
//! ```
//!
//! Config `k` of a run has seed `WTEDGE_DIFF_SEED + k`; a difference prints its seed,
//! the config and the request, and the last command above replays that config alone.
//! `WTEDGE_DIFF_REPORT=<file>` also writes every difference there.
//!
//! Needs `haproxy` (`apt-get install -y haproxy`; the README's test command installs it).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use local_host::access_log::Logger;
use local_host::engine_choice::EngineChoice;
use wtedge_tests::client::{self, Source};
use wtedge_tests::corpus::Outcome::{Forward, Redirect, Respond};
use wtedge_tests::generator::compare::{self, Diff, LogFields};
use wtedge_tests::generator::native::Native;
use wtedge_tests::generator::{self, Batch};
use wtedge_tests::haproxy::{self, Haproxy};
use wtedge_tests::run;

mod common;

fn env_num(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(v) if !v.is_empty() => v.parse().unwrap_or_else(|e| panic!("{name}={v:?}: {e}")),
        _ => default,
    }
}

/// What one config's run found.
#[derive(Default)]
struct BatchResult {
    requests: usize,
    /// Requests with at least one difference.
    unequal: usize,
    /// (request index, or `None` for the config as a whole, difference).
    diffs: Vec<(Option<usize>, Diff)>,
    /// HAProxy's answers by class (`forward`, `redirect 302`, `503`...), so that the
    /// figures show what was exercised.
    classes: BTreeMap<String, usize>,
}

/// The class of an answer, for the figures.
fn class(a: &compare::Answer) -> String {
    match a {
        Err(_) => "no answer".into(),
        Ok(r) => match run::observe(r).outcome {
            Forward { .. } => "forward".into(),
            Redirect { status, .. } => format!("redirect {status}"),
            Respond { status } => format!("{status}"),
        },
    }
}

/// Runs one batch; `Err`: the harness could not run it (a refused config is a
/// generator bug, reported as such).
fn run_batch(b: &Batch) -> Result<BatchResult, String> {
    let core = router_core::parse("generated.cfg", &b.config.text).map_err(|e| e.to_string());
    let hap = match (Haproxy::start_logging(&b.config.text, &|_, _| None), core) {
        (Ok(h), Ok(_)) => h,
        (Err(h), Err(c)) => {
            return Err(format!("generator bug: both refuse the config:\n{c}\n{h}"));
        }
        (Err(h), Ok(_)) => return Err(format!("HAProxy refuses a config Wt Edge accepts:\n{h}")),
        (Ok(_), Err(c)) => return Err(format!("Wt Edge refuses a config HAProxy accepts:\n{c}")),
    };
    for (p, s) in &b.config.down {
        hap.force_down(p, s)?;
    }
    let (text, _) = hap.config_for_wtedge()?;
    let mut native = Native::new(&text, &b.config.down)?;
    let engine = if b.seed.is_multiple_of(2) {
        EngineChoice::EmbeddedWasm
    } else {
        EngineChoice::Native
    };
    let (logger, edge_log) = Logger::channel(true);
    let edge = common::wtedge_beside(
        &hap,
        "generated.cfg",
        logger,
        engine,
        Duration::from_millis(200),
    )
    .map_err(|e| format!("wtedge refuses a generated config: {e}"))?;
    // Forces a server's state in wtedge.
    let edge_force = |p: &str, s: &str, up: bool| {
        let g = edge.running.generation();
        let id = g
            .config()
            .server_id(p, s)
            .ok_or_else(|| format!("wtedge: no server {p}/{s}"))?;
        g.engine.force(id, up, local_host::state::now_ms());
        Ok::<(), String>(())
    };
    for (p, s) in &b.config.down {
        edge_force(p, s, false)?;
    }
    let mut out = BatchResult::default();
    for (i, g) in b.requests.iter().enumerate() {
        if let Some(c) = b.change.as_ref().filter(|c| c.before == i) {
            if c.up {
                hap.force_up(&c.proxy, &c.server)?;
            } else {
                hap.force_down(&c.proxy, &c.server)?;
            }
            edge_force(&c.proxy, &c.server, c.up)?;
            native.set(&c.proxy, &c.server, c.up)?;
        }
        let entry = &b.config.entries[g.entry];
        let hap_addr = hap.frontend_addr(Some(entry))?;
        let edge_addr: SocketAddr = edge
            .addrs
            .iter()
            .find(|(n, _)| n == entry)
            .map(|(_, a)| *a)
            .ok_or_else(|| format!("wtedge has no {entry}"))?;
        let src = Source::Loopback(g.src);
        let h = client::send(hap_addr, src, &g.req).map_err(|e| e.to_string());
        let e = client::send(edge_addr, src, &g.req).map_err(|e| e.to_string());
        *out.classes.entry(class(&h)).or_default() += 1;
        let mut diffs = compare::answers(&h, &e);
        if let Ok(h) = &h {
            diffs.extend(native.check(entry, hap_addr, g, h)?);
        }
        out.requests += 1;
        if !diffs.is_empty() {
            out.unequal += 1;
        }
        out.diffs.extend(diffs.into_iter().map(|d| (Some(i), d)));
    }
    // The access logs: every request answered is logged once by each.
    let n = b.requests.len();
    let deadline = Instant::now() + Duration::from_secs(3);
    let mut edge_lines: Vec<LogFields> = Vec::new();
    let hap_lines = loop {
        while let Ok(l) = edge_log.try_recv() {
            edge_lines.extend(compare::log_fields(&l));
        }
        let h: Vec<LogFields> = hap
            .log_text()
            .lines()
            .filter_map(compare::log_fields)
            .collect();
        if (h.len() >= n && edge_lines.len() >= n) || Instant::now() > deadline {
            break h;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let answered = b.requests.len() - out.classes.get("no answer").copied().unwrap_or(0);
    if hap_lines.len() != answered {
        out.diffs.push((
            None,
            Diff {
                kind: "harness",
                detail: format!(
                    "HAProxy logged {} lines for {answered} answered requests",
                    hap_lines.len()
                ),
            },
        ));
    }
    let log_diffs = compare::logs(&hap_lines, &edge_lines);
    out.diffs.extend(log_diffs.into_iter().map(|d| (None, d)));
    edge.rt.block_on(edge.running.stop());
    Ok(out)
}

/// A difference as printed: enough to replay it.
fn describe(b: &Batch, at: Option<usize>, d: &Diff) -> String {
    let mut s = format!("seed {} {}: {}", b.seed, d.kind, d.detail);
    if let Some(c) = &b.change {
        s.push_str(&format!(
            "\n  (before request #{}: {}/{} set {})",
            c.before + 1,
            c.proxy,
            c.server,
            if c.up { "UP" } else { "DOWN" }
        ));
    }
    if let Some(i) = at {
        let g = &b.requests[i];
        s.push_str(&format!(
            "\n  request #{} to {} from {}: {:?} headers {:?} body {:?}",
            i + 1,
            b.config.entries[g.entry],
            g.src,
            g.req.line,
            g.req.headers,
            g.req.body
        ));
    }
    s
}

/// The figures of a run, and every difference.
#[derive(Default)]
struct Totals {
    configs: usize,
    requests: usize,
    unequal: usize,
    kinds: BTreeMap<&'static str, usize>,
    classes: BTreeMap<String, usize>,
    /// Every difference, after the config it came from.
    reports: Vec<String>,
    /// Differences printed so far, by kind (the first few of each are printed).
    shown: BTreeMap<&'static str, usize>,
}

impl Totals {
    fn add(&mut self, b: &Batch, result: Result<BatchResult, String>) {
        self.configs += 1;
        let lines: Vec<(&'static str, String)> = match result {
            Ok(o) => {
                self.requests += o.requests;
                self.unequal += o.unequal;
                for (k, n) in o.classes {
                    *self.classes.entry(k).or_default() += n;
                }
                o.diffs
                    .iter()
                    .map(|(at, d)| (d.kind, describe(b, *at, d)))
                    .collect()
            }
            Err(e) => {
                self.requests += b.requests.len();
                self.unequal += b.requests.len();
                vec![("harness", format!("seed {}: {e}", b.seed))]
            }
        };
        if lines.is_empty() {
            return;
        }
        let config = format!("--- seed {} config ---\n{}", b.seed, b.config.text);
        let mut config_shown = false;
        for (kind, l) in &lines {
            *self.kinds.entry(kind).or_default() += 1;
            let n = self.shown.entry(kind).or_default();
            *n += 1;
            if *n <= 3 {
                if !config_shown {
                    eprintln!("{config}");
                    config_shown = true;
                }
                eprintln!("{l}");
            }
        }
        self.reports.push(config);
        self.reports.extend(lines.into_iter().map(|(_, l)| l));
    }
}

#[test]
fn generated_configs_and_requests_equal_haproxy() {
    if let Err(e) = haproxy::binary() {
        panic!("this test compares wtedge with HAProxy 2.6 and needs it: {e}");
    }
    let seed = env_num("WTEDGE_DIFF_SEED", 16);
    let cases = env_num("WTEDGE_DIFF_CASES", 500) as usize;
    let jobs = env_num("WTEDGE_DIFF_JOBS", 2).max(1) as usize;
    let started = Instant::now();

    // The seeds of the run, fixed before any runs: config k has seed `seed + k`.
    let mut seeds = Vec::new();
    let mut planned = 0;
    while planned < cases {
        let k = seed + seeds.len() as u64;
        planned += generator::batch(k).requests.len();
        seeds.push(k);
    }
    let next = AtomicUsize::new(0);
    let totals = Mutex::new(Totals::default());
    std::thread::scope(|s| {
        for _ in 0..jobs {
            s.spawn(|| {
                while let Some(&k) = seeds.get(next.fetch_add(1, Ordering::SeqCst)) {
                    let b = generator::batch(k);
                    let result = run_batch(&b);
                    let mut t = totals.lock().expect("totals");
                    t.add(&b, result);
                    if t.configs % 50 == 0 {
                        eprintln!(
                            "generated: {} configs, {} requests, {} unequal, {:.0} s",
                            t.configs,
                            t.requests,
                            t.unequal,
                            started.elapsed().as_secs_f64()
                        );
                    }
                }
            });
        }
    });
    let t = totals.into_inner().expect("totals");
    if let Ok(path) = std::env::var("WTEDGE_DIFF_REPORT") {
        std::fs::write(&path, t.reports.join("\n")).unwrap_or_else(|e| panic!("{path}: {e}"));
    }
    let equal = t.requests - t.unequal;
    eprintln!(
        "generated: seeds {seed}..={}, {} configs, {} requests, {equal} equal ({:.3}%), \
         differences by kind {:?}, HAProxy's answers {:?}, {:.0} s",
        seeds.last().copied().unwrap_or(seed),
        t.configs,
        t.requests,
        100.0 * equal as f64 / t.requests.max(1) as f64,
        t.kinds,
        t.classes,
        started.elapsed().as_secs_f64()
    );
    assert!(
        t.requests >= cases,
        "{} requests run, {cases} planned",
        t.requests
    );
    assert!(
        t.kinds.is_empty(),
        "{} difference(s) between HAProxy 2.6 and Wt Edge (replay one with \
         WTEDGE_DIFF_SEED=<seed> WTEDGE_DIFF_CASES=1):\n{}",
        t.kinds.values().sum::<usize>(),
        t.reports.join("\n")
    );
}
