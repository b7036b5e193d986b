//! `http-request use-service prometheus-exporter` against HAProxy 2.6's exporter:
//! the same config (servers UP, DOWN by check, in maintenance, draining by the
//! runtime API, backup, weight 0) and the same requests on both sides, then the
//! scrapes compared: the families (name, type, help) and their lines (labels) in
//! HAProxy's order, the values Wt Edge keeps, the `scope` / `no-maint` filters,
//! HAProxy's 400 for a bad scope and a HEAD without body.
//!
//! Needs `haproxy` (`apt-get install -y haproxy`).

use std::collections::BTreeMap;
use std::time::Duration;

use local_host::access_log::Logger;
use local_host::engine_choice::EngineChoice;
use wtedge_tests::client::{self, Source};
use wtedge_tests::corpus::Request;
use wtedge_tests::haproxy::{self, Haproxy};

mod common;

const CONFIG: &str = "\
defaults
    mode http
    timeout connect 2s
    timeout client 10s
    timeout server 10s
frontend fe
    bind 127.0.0.1:8080
    http-request use-service prometheus-exporter if { path /metrics }
    http-request deny if { path /denied }
    use_backend bck2 if { path_beg /two }
    use_backend gone if { path_beg /gone }
    default_backend bck1
backend bck1
    server srv1 127.0.0.1:9090 check inter 500
    server srv2 127.0.0.1:9091 disabled
    server srv3 127.0.0.1:9092 backup
    server srv4 127.0.0.1:9093 weight 0
    server srv5 127.0.0.1:9094
backend bck2
    server srv6 127.0.0.1:9095
backend gone
    server dead 127.0.0.1:9096 check inter 500
listen lst
    bind 127.0.0.1:8081
    server srv7 127.0.0.1:9097 check inter 500
";

/// One scrape, parsed: the families in order with their type and help, and
/// every line's `name{labels}` in order with its value.
#[derive(Debug, Default)]
struct Scrape {
    families: Vec<String>,
    lines: Vec<(String, f64)>,
}

fn parse(text: &str) -> Result<Scrape, String> {
    let mut s = Scrape::default();
    let mut help = BTreeMap::new();
    for line in text.lines().filter(|l| !l.is_empty()) {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, text) = rest.split_once(' ').unwrap_or((rest, ""));
            help.insert(name.to_string(), text.to_string());
        } else if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, ty) = rest.split_once(' ').ok_or(format!("bad TYPE: {line}"))?;
            let h = help.get(name).ok_or(format!("TYPE before HELP: {line}"))?;
            s.families.push(format!("{name} {ty} {h}"));
        } else {
            let (key, value) = line.rsplit_once(' ').ok_or(format!("bad line: {line}"))?;
            let v: f64 = value
                .parse()
                .map_err(|e| format!("bad value in {line}: {e}"))?;
            s.lines.push((key.to_string(), v));
        }
    }
    Ok(s)
}

/// The metrics whose values Wt Edge keeps as HAProxy does (the others are
/// HAProxy's timings, byte counts and process internals, and the last check's
/// status, which the harness's `inter 1h` leaves at HAProxy's first: compared by
/// name only).
fn value_compared(key: &str) -> bool {
    const KEPT: &[&str] = &[
        "_frontend_status{",
        "_backend_status{",
        "haproxy_server_status{",
        "_agg_server_status{",
        "_agg_server_check_status{",
        "haproxy_server_weight{",
        "haproxy_backend_weight{",
        "_active_servers{",
        "_backup_servers{",
        "_http_responses_total{",
        "_http_requests_total{",
        "haproxy_server_current_sessions{",
        "haproxy_server_current_queue{",
        "haproxy_server_loadbalanced_total{",
        "haproxy_server_sessions_total{",
        "haproxy_backend_sessions_total{",
        "haproxy_process_nbproc ",
        "haproxy_process_relative_process_id ",
    ];
    let k = format!("{key} ");
    KEPT.iter().any(|m| k.contains(m))
}

fn get(addr: std::net::SocketAddr, method: &str, target: &str) -> Result<client::Response, String> {
    let req = Request {
        line: format!("{method} {target} HTTP/1.1"),
        headers: vec!["Host: sample.com".into()],
        body: None,
        expect: None,
    };
    client::send(addr, Source::for_case(None)?, &req).map_err(|e| format!("{addr}: {e}"))
}

/// A side's answers to the traffic and the scrapes, then each scrape (by target).
type Observed = (Vec<String>, Vec<(String, Scrape)>);

/// What one side shows: the traffic's answers, then each scrape.
fn observe(fe: std::net::SocketAddr, lst: std::net::SocketAddr) -> Result<Observed, String> {
    let mut answers = Vec::new();
    for (addr, target) in [
        (fe, "/"),
        (fe, "/a"),
        (fe, "/b"),
        (fe, "/two"),
        (fe, "/two/x"),
        (fe, "/denied"),
        (fe, "/gone"),
        (lst, "/"),
    ] {
        answers.push(format!("{target} -> {}", get(addr, "GET", target)?.status));
    }
    let mut scrapes = Vec::new();
    for target in [
        "/metrics",
        "/metrics?scope=server&no-maint",
        "/metrics?scope=backend&scope=frontend",
        "/metrics?scope=",
        "/metrics?scope=bogus",
    ] {
        let r = get(fe, "GET", target)?;
        answers.push(format!(
            "{target} -> {} {:?} {:?}",
            r.status,
            r.header("content-type"),
            r.header("cache-control")
        ));
        if r.status == 200 {
            scrapes.push((
                target.to_string(),
                parse(&String::from_utf8_lossy(&r.body))?,
            ));
        }
    }
    let head = get(fe, "HEAD", "/metrics")?;
    answers.push(format!(
        "HEAD /metrics -> {} {}",
        head.status,
        head.body.len()
    ));
    Ok((answers, scrapes))
}

#[test]
fn prometheus_exporter_matches_haproxy() {
    if let Err(e) = haproxy::binary() {
        panic!("this test compares wtedge with HAProxy 2.6 and needs it: {e}");
    }
    let (dead, _dead_held) = common::dead_port();
    let hap = Haproxy::start_with(CONFIG, false, &|_, s| (s == "dead").then_some(dead))
        .unwrap_or_else(|e| panic!("{e}"));
    let dir = haproxy::TempDir::new("promex").unwrap_or_else(|e| panic!("{e}"));
    let socket = dir.path().join("wtedge.sock");
    let (text, addrs) = hap.config_for_wtedge().unwrap_or_else(|e| panic!("{e}"));
    let text = text.replacen(
        "global\n",
        &format!(
            "global\n    stats socket {} level admin\n",
            socket.display()
        ),
        1,
    );
    let edge = common::wtedge_on(
        &text,
        addrs.clone(),
        "promex.cfg",
        Logger::none(),
        EngineChoice::EmbeddedWasm,
        Duration::from_secs(1),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    // The harness makes checks harmless (`inter 1h`, tests/src/modernize.rs): the
    // runtime API sets the states on both sides.
    for sock in [hap.dir().join("admin.sock"), socket.clone()] {
        for cmd in [
            "set server bck1/srv5 state drain",
            "set server gone/dead health down",
        ] {
            let said = common::ask(&sock, cmd).unwrap_or_else(|e| panic!("{e}"));
            assert!(said.trim().is_empty(), "{}: {cmd}: {said}", sock.display());
        }
    }
    std::thread::sleep(Duration::from_millis(500));
    let addr = |list: &[(String, std::net::SocketAddr)], name: &str| {
        list.iter()
            .find(|(n, _)| n == name)
            .map(|(_, a)| *a)
            .unwrap_or_else(|| panic!("no frontend {name}"))
    };
    let hap_fe = hap
        .frontend_addr(Some("fe"))
        .unwrap_or_else(|e| panic!("{e}"));
    let hap_lst = hap
        .frontend_addr(Some("lst"))
        .unwrap_or_else(|e| panic!("{e}"));
    let (want_answers, want) = observe(hap_fe, hap_lst).unwrap_or_else(|e| panic!("haproxy: {e}"));
    let (got_answers, got) = observe(addr(&edge.addrs, "fe"), addr(&edge.addrs, "lst"))
        .unwrap_or_else(|e| panic!("wtedge: {e}"));
    edge.rt.block_on(edge.running.stop());

    // The scenario is what it claims on HAProxy's side.
    let full = &want[0].1;
    for line in [
        "haproxy_server_status{proxy=\"bck1\",server=\"srv2\",state=\"MAINT\"}",
        "haproxy_server_status{proxy=\"bck1\",server=\"srv5\",state=\"DRAIN\"}",
        "haproxy_server_status{proxy=\"gone\",server=\"dead\",state=\"DOWN\"}",
    ] {
        assert!(
            full.lines.iter().any(|(k, v)| k == line && *v == 1.0),
            "haproxy: no `{line} 1`"
        );
    }
    assert!(
        want_answers
            .iter()
            .any(|a| a.starts_with("/metrics?scope=bogus -> 400")),
        "{want_answers:?}"
    );

    let mut diffs = Vec::new();
    if want_answers != got_answers {
        diffs.push(format!(
            "answers:\n  haproxy: {want_answers:?}\n  wtedge:  {got_answers:?}"
        ));
    }
    for ((target, w), (_, g)) in want.iter().zip(&got) {
        if w.families != g.families {
            for (a, b) in w.families.iter().zip(&g.families).filter(|(a, b)| a != b) {
                diffs.push(format!("{target} family:\n  haproxy: {a}\n  wtedge:  {b}"));
            }
            diffs.push(format!(
                "{target}: {} families from haproxy, {} from wtedge",
                w.families.len(),
                g.families.len()
            ));
        }
        // With checks that never ran after the first (`inter 1h`), HAProxy has no
        // check duration for the servers whose first check is still to come.
        let keys = |s: &Scrape| -> Vec<String> {
            s.lines
                .iter()
                .map(|(k, _)| k.clone())
                .filter(|k| !k.starts_with("haproxy_server_check_duration_seconds"))
                // Wt Edge's own version.
                .map(|k| match k.split_once("{version=") {
                    Some((name, _)) => name.to_string(),
                    None => k,
                })
                .collect()
        };
        let (wk, gk) = (keys(w), keys(g));
        if wk != gk {
            for (a, b) in wk.iter().zip(&gk).filter(|(a, b)| a != b).take(10) {
                diffs.push(format!("{target} line:\n  haproxy: {a}\n  wtedge:  {b}"));
            }
            diffs.push(format!(
                "{target}: {} lines from haproxy, {} from wtedge",
                wk.len(),
                gk.len()
            ));
        }
        let values = |s: &Scrape| -> BTreeMap<String, f64> { s.lines.iter().cloned().collect() };
        let gv = values(g);
        for (k, a) in &w.lines {
            if let Some(b) = gv.get(k)
                && value_compared(k)
                && a != b
            {
                diffs.push(format!("{target} {k}: haproxy {a}, wtedge {b}"));
            }
        }
    }
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
}
