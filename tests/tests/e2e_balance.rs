//! Round-robin order over sockets: plain GETs sent one by one to a real HAProxy 2.6
//! and to wtedge (router-core as wasm, and linked natively) running the same config
//! in front of the same loopback servers, servers set DOWN and UP between requests
//! on every side; the servers that answered must be the same, in the same order.
//! router-core alone (one `LocalTickets`, the same health changes) must agree too.
//!
//! Hash-based algorithms (`source`, `uri`, `url_param`, `hdr()`, map-based and
//! consistent, every hash function) are compared key by key: hundreds of client
//! addresses, targets and header values, each sent on its own connection to
//! HAProxy and to wtedge, with servers DOWN in some scenarios.
//!
//! Needs `haproxy` (`apt-get install -y haproxy`; the README's test command installs it).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use local_host::access_log::Logger;
use local_host::engine_choice::EngineChoice;
use router_core::{Decision, HealthSnapshot, LocalTickets, RequestFacts};
use wtedge_tests::client::{self, Source};
use wtedge_tests::corpus::{Outcome, Request};
use wtedge_tests::haproxy::{self, Haproxy};
use wtedge_tests::run;

mod common;

/// One step of a scenario.
#[derive(Clone, Copy)]
enum Op {
    /// That many plain GETs.
    Get(usize),
    /// Server of backend `b` set DOWN (its trackers follow).
    Down(&'static str),
    /// Server of backend `b` set UP again.
    Up(&'static str),
}

use Op::{Down, Get, Up};

struct Scenario {
    name: &'static str,
    /// The lines of `backend b` (servers and options).
    backend: &'static str,
    ops: &'static [Op],
}

const SCENARIOS: &[Scenario] = &[
    Scenario {
        name: "weights 1:2",
        backend: "server s1 127.0.0.1:9001 weight 1\nserver s2 127.0.0.1:9002 weight 2",
        ops: &[Get(60)],
    },
    Scenario {
        name: "weights 1:3:5",
        backend: "server s1 127.0.0.1:9001 weight 1\nserver s2 127.0.0.1:9002 weight 3\n\
                  server s3 127.0.0.1:9003 weight 5",
        ops: &[Get(60)],
    },
    Scenario {
        name: "weights 2:2:1 and a backup, actives DOWN and UP",
        backend: "server s1 127.0.0.1:9001 weight 2\nserver s2 127.0.0.1:9002 weight 2\n\
                  server s3 127.0.0.1:9003 weight 1\nserver bk 127.0.0.1:9004 weight 1 backup",
        ops: &[
            Get(60),
            Down("s1"),
            Get(10),
            Down("s2"),
            Down("s3"),
            Get(5),
            Up("s2"),
            Get(7),
            Up("s1"),
            Up("s3"),
            Get(20),
        ],
    },
    Scenario {
        name: "weights 1:3:5, servers DOWN and UP mid-window",
        backend: "server s1 127.0.0.1:9001 weight 1 check\nserver s2 127.0.0.1:9002 weight 3 check\n\
                  server s3 127.0.0.1:9003 weight 5 check",
        ops: &[
            Get(7),
            Down("s3"),
            Get(10),
            Up("s3"),
            Get(13),
            Down("s2"),
            Get(5),
            Down("s1"),
            Get(4),
            Up("s2"),
            Get(9),
            Up("s1"),
            Get(30),
        ],
    },
    Scenario {
        name: "weights 5:1:2, the heaviest DOWN for one request",
        backend: "server s1 127.0.0.1:9001 weight 5\nserver s2 127.0.0.1:9002 weight 1\n\
                  server s3 127.0.0.1:9003 weight 2",
        ops: &[Get(100), Down("s1"), Get(1), Up("s1"), Get(60)],
    },
    Scenario {
        name: "allbackups with weights",
        backend: "option allbackups\nserver s1 127.0.0.1:9001 weight 2\n\
                  server s2 127.0.0.1:9002 weight 2\nserver b1 127.0.0.1:9003 weight 1 backup\n\
                  server b2 127.0.0.1:9004 weight 2 backup",
        ops: &[
            Get(5),
            Down("s1"),
            Down("s2"),
            Get(12),
            Down("b2"),
            Get(3),
            Up("b2"),
            Get(5),
            Up("s1"),
            Get(10),
        ],
    },
    Scenario {
        name: "first backup only, then the next one",
        backend: "server s1 127.0.0.1:9001 weight 1\nserver b1 127.0.0.1:9002 weight 1 backup\n\
                  server b2 127.0.0.1:9003 weight 2 backup",
        ops: &[
            Get(2),
            Down("b1"),
            Get(3),
            Down("s1"),
            Get(3),
            Up("b1"),
            Get(3),
        ],
    },
    Scenario {
        name: "trackers come back after their target",
        backend: "server x 127.0.0.1:9001 weight 1\nserver a 127.0.0.1:9002 weight 2 check\n\
                  server b 127.0.0.1:9003 weight 3 track a\nserver c 127.0.0.1:9004 weight 1 track a\n\
                  server d 127.0.0.1:9005 weight 5 track a",
        ops: &[Get(7), Down("a"), Get(3), Up("a"), Get(40)],
    },
    Scenario {
        name: "equal weights, a server DOWN and UP mid-round",
        backend: "server s1 127.0.0.1:9001 check\nserver s2 127.0.0.1:9002 check\n\
                  server s3 127.0.0.1:9003 check",
        ops: &[Get(4), Down("s2"), Get(5), Up("s2"), Get(9)],
    },
];

fn config(s: &Scenario) -> String {
    backend_config(&format!("balance roundrobin\n{}", s.backend))
}

/// A frontend on 127.0.0.1:8080 and `backend b` with `lines`.
fn backend_config(lines: &str) -> String {
    let mut text = String::from(
        "defaults\n    mode http\n    timeout connect 2s\n    timeout client 10s\n    \
         timeout server 10s\nfrontend f\n    bind 127.0.0.1:8080\n    default_backend b\n\
         backend b\n",
    );
    for line in lines.lines() {
        text.push_str("    ");
        text.push_str(line.trim());
        text.push('\n');
    }
    text
}

/// HAProxy, wtedge beside it (wasm, native) and router-core's reading of `text`.
fn start_sides(text: &str) -> Result<(Haproxy, [common::Edge; 2], router_core::Parsed), String> {
    let hap = Haproxy::start(text, false)?;
    let edge = |engine| {
        common::wtedge_beside(
            &hap,
            "balance.cfg",
            Logger::none(),
            engine,
            Duration::from_secs(1),
        )
    };
    let edges = [
        edge(EngineChoice::EmbeddedWasm)?,
        edge(EngineChoice::Native)?,
    ];
    let parsed = router_core::parse("balance.cfg", text).map_err(|e| e.to_string())?;
    Ok((hap, edges, parsed))
}

/// Each other side's sequence must be HAProxy's `h`.
fn same_as_haproxy(name: &str, h: &str, others: [&String; 3], diffs: &mut Vec<String>) {
    for (who, seq) in ["wtedge (wasm)", "wtedge (native)", "router-core"]
        .into_iter()
        .zip(others)
    {
        if seq != h {
            diffs.push(format!("{name}:\n  haproxy:   {h}\n  {who}: {seq}"));
        }
    }
}

/// router-core's decision as the sides over sockets show it: the server, or `-(status)`.
fn core_answer(
    cfg: &router_core::Config,
    fe: router_core::ProxyId,
    facts: &RequestFacts<'_>,
    health: &HealthSnapshot,
    tickets: &LocalTickets,
) -> String {
    match router_core::decide(cfg, fe, facts, health, tickets, None) {
        Decision::Forward(f) => cfg.server(f.server).name.clone(),
        d => format!("-({:?})", d.status()),
    }
}

/// Sets server `name` of backend `b` DOWN or UP in HAProxy, in both wtedges and in
/// router-core's snapshot.
fn set_everywhere(
    hap: &Haproxy,
    edges: [&common::Edge; 2],
    cfg: &router_core::Config,
    health: &mut HealthSnapshot,
    name: &str,
    up: bool,
) -> Result<(), String> {
    if up {
        hap.force_up("b", name)?;
    } else {
        hap.force_down("b", name)?;
    }
    for e in edges {
        let g = e.running.generation();
        let id = g.config().server_id("b", name).ok_or("no server")?;
        g.engine.force(id, up, local_host::state::now_ms());
    }
    health.set(cfg.server_id("b", name).ok_or("no server")?, up);
    Ok(())
}

/// Stops wtedge beside HAProxy (both engines).
fn stop(edges: [common::Edge; 2]) {
    for e in edges {
        e.rt.block_on(e.running.stop());
    }
}

/// Runs every scenario (HAProxy must be there); one that cannot run is a difference.
fn run_all<'s, S, R>(
    scenarios: &'s [S],
    name: fn(&S) -> &'static str,
    run: fn(&S) -> Result<R, String>,
    diffs: &mut Vec<String>,
) -> Vec<(&'s S, R)> {
    if let Err(e) = haproxy::binary() {
        panic!("this test compares wtedge with HAProxy 2.6 and needs it: {e}");
    }
    let mut done = Vec::new();
    for s in scenarios {
        match run(s) {
            Ok(r) => done.push((s, r)),
            Err(e) => diffs.push(format!("{}: {e}", name(s))),
        }
    }
    done
}

fn get() -> Request {
    Request {
        line: "GET / HTTP/1.1".into(),
        headers: vec!["Host: example.com".into()],
        body: None,
        expect: None,
    }
}

/// The server that answered, `-` for any other answer.
fn answered(addr: SocketAddr) -> Result<String, String> {
    let src = Source::for_case(None)?;
    let resp = client::send(addr, src, &get()).map_err(|e| format!("{addr}: {e}"))?;
    Ok(match run::observe(&resp).outcome {
        Outcome::Forward { server, .. } => server,
        other => format!("-({other})"),
    })
}

/// The sequences of HAProxy, wtedge (wasm), wtedge (native) and router-core, each
/// as picks with `[-s]` / `[+s]` marks.
fn run_scenario(s: &Scenario) -> Result<[String; 4], String> {
    let (hap, [wasm, native], parsed) = start_sides(&config(s))?;
    let hap_addr = hap.frontend_addr(None)?;
    let cfg = &parsed.config;
    let fe = cfg.default_frontend().ok_or("no frontend")?;
    let mut health = HealthSnapshot::all_up(cfg);
    let tickets = LocalTickets::new(cfg);
    let facts_headers = [("Host", "example.com")];
    let facts = RequestFacts {
        method: "GET",
        target: "/",
        version: "HTTP/1.1",
        headers: &facts_headers,
        src: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 40000),
        dst: SocketAddr::from(([127, 0, 0, 1], 8080)),
        tls: false,
    };
    let mut out: [String; 4] = Default::default();
    let edges = [&wasm, &native];
    for op in s.ops {
        match *op {
            Get(n) => {
                for _ in 0..n {
                    out[0].push_str(&answered(hap_addr)?);
                    for (k, e) in edges.iter().enumerate() {
                        out[k + 1].push_str(&answered(e.addrs[0].1)?);
                    }
                    out[3].push_str(&match router_core::decide(
                        cfg, fe, &facts, &health, &tickets, None,
                    ) {
                        Decision::Forward(f) => cfg.server(f.server).name.clone(),
                        d => format!("-({:?})", d.status()),
                    });
                    for o in &mut out {
                        o.push(' ');
                    }
                }
            }
            Down(name) | Up(name) => {
                let up = matches!(op, Up(_));
                set_everywhere(&hap, edges, cfg, &mut health, name, up)?;
                let mark = format!("[{}{name}] ", if up { '+' } else { '-' });
                for o in &mut out {
                    o.push_str(&mark);
                }
            }
        }
    }
    stop([wasm, native]);
    Ok(out)
}

#[test]
fn round_robin_order_is_haproxys() {
    let mut diffs = Vec::new();
    let mut requests = 0;
    for (s, [h, wasm, native, core]) in run_all(SCENARIOS, |s| s.name, run_scenario, &mut diffs) {
        requests += h
            .split(' ')
            .filter(|p| !p.is_empty() && !p.starts_with('['))
            .count();
        // The scenario must exercise weights: several servers answered.
        let distinct: std::collections::BTreeSet<&str> = h
            .split(' ')
            .filter(|p| !p.is_empty() && !p.starts_with('['))
            .collect();
        if distinct.len() < 2 || distinct.iter().any(|p| p.starts_with('-')) {
            diffs.push(format!("{}: HAProxy answered {h}", s.name));
        }
        same_as_haproxy(s.name, &h, [&wasm, &native, &core], &mut diffs);
    }
    eprintln!(
        "{} scenarios, {requests} requests per side",
        SCENARIOS.len()
    );
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
}

/// A hash scenario: the lines of `backend b`, the servers DOWN before the
/// requests, and how request `i` looks.
struct HashScenario {
    name: &'static str,
    backend: &'static str,
    down: &'static [&'static str],
    /// Before which request they go DOWN.
    down_at: usize,
    requests: usize,
    key: fn(usize) -> Key,
}

/// What varies from request to request.
struct Key {
    src: Ipv4Addr,
    target: String,
    headers: Vec<String>,
}

/// A loopback client address per request (all of 127/8 is local on Linux).
fn loopback(i: usize) -> Ipv4Addr {
    let i = i as u32 + 1;
    Ipv4Addr::new(
        127,
        (i * 7 % 251) as u8,
        (i * 13 % 253) as u8,
        (i % 250 + 2) as u8,
    )
}

fn by_source(i: usize) -> Key {
    Key {
        src: loopback(i),
        target: "/".into(),
        headers: vec![],
    }
}

fn by_uri(i: usize) -> Key {
    let dirs = ["app", "static/css", "wt/resources", "api/v1/items", "a"];
    Key {
        src: Ipv4Addr::LOCALHOST,
        target: format!(
            "/{}/{}{}?wtd=wt{}&n={i}",
            dirs[i % dirs.len()],
            i * 31 % 97,
            if i.is_multiple_of(3) {
                "/index.html"
            } else {
                ""
            },
            i % 7
        ),
        headers: vec![],
    }
}

fn by_absolute_uri(i: usize) -> Key {
    let mut k = by_uri(i);
    let host = format!("h{}.example.com", i % 5);
    k.target = format!("http://{host}{}", k.target);
    k.headers = vec![format!("Host: {host}")];
    k
}

/// Every fifth request lacks the parameter (round-robin fallback), some have it
/// empty or after others.
fn by_param(i: usize) -> Key {
    let target = match i % 5 {
        0 => format!("/p?x={i}"),
        1 => format!("/p?id={}", i * 7919),
        2 => format!("/p?a=1&id=user{i}&b=2"),
        3 => format!("/?idx=1&id={}", i % 11),
        _ => {
            if i.is_multiple_of(2) {
                "/?id=".into()
            } else {
                format!("/?id=wt{i}abc")
            }
        }
    };
    Key {
        src: Ipv4Addr::LOCALHOST,
        target,
        headers: vec![],
    }
}

/// Every seventh request lacks the header (round-robin fallback).
fn by_header(i: usize) -> Key {
    let headers = match i % 7 {
        0 => vec![],
        1 => vec![format!("X-Key: a{i}, b")],
        _ => vec![format!("x-key: {}", i * 104_729 % 100_003)],
    };
    Key {
        src: Ipv4Addr::LOCALHOST,
        target: "/".into(),
        headers,
    }
}

fn by_host(i: usize) -> Key {
    let tld = ["com", "org", "eu"];
    Key {
        src: Ipv4Addr::LOCALHOST,
        target: "/".into(),
        headers: vec![format!("Host: www{}.site{}.{}:8080", i % 3, i, tld[i % 3])],
    }
}

const HASH_SCENARIOS: &[HashScenario] = &[
    HashScenario {
        name: "source, map-based, equal weights",
        backend: "balance source\nserver s1 127.0.0.1:9001\nserver s2 127.0.0.1:9002\nserver s3 127.0.0.1:9003",
        down: &[],
        down_at: 0,
        requests: 250,
        key: by_source,
    },
    HashScenario {
        name: "source, map-based, weights 2:3:1 and a backup, s2 DOWN",
        backend: "balance source\nserver s1 127.0.0.1:9001 weight 2\nserver s2 127.0.0.1:9002 weight 3\n\
                  server s3 127.0.0.1:9003 weight 1\nserver bk 127.0.0.1:9004 backup",
        down: &["s2"],
        down_at: 0,
        requests: 200,
        key: by_source,
    },
    HashScenario {
        name: "source, consistent, weights 1:2:3",
        backend: "balance source\nhash-type consistent\nserver s1 127.0.0.1:9001 weight 1\n\
                  server s2 127.0.0.1:9002 weight 2\nserver s3 127.0.0.1:9003 weight 3",
        down: &[],
        down_at: 0,
        requests: 250,
        key: by_source,
    },
    HashScenario {
        name: "source, consistent crc32 avalanche, s1 DOWN",
        backend: "balance source\nhash-type consistent crc32 avalanche\nserver s1 127.0.0.1:9001\n\
                  server s2 127.0.0.1:9002\nserver s3 127.0.0.1:9003\nserver s4 127.0.0.1:9004 weight 4",
        down: &["s1"],
        down_at: 0,
        requests: 200,
        key: by_source,
    },
    HashScenario {
        name: "uri, map-based sdbm, weights 1:1:2",
        backend: "balance uri\nserver s1 127.0.0.1:9001\nserver s2 127.0.0.1:9002\n\
                  server s3 127.0.0.1:9003 weight 2",
        down: &[],
        down_at: 0,
        requests: 300,
        key: by_uri,
    },
    HashScenario {
        name: "uri len 9 depth 2, consistent djb2",
        backend: "balance uri len 9 depth 2\nhash-type consistent djb2\nserver s1 127.0.0.1:9001\n\
                  server s2 127.0.0.1:9002\nserver s3 127.0.0.1:9003",
        down: &[],
        down_at: 0,
        requests: 300,
        key: by_uri,
    },
    HashScenario {
        name: "uri whole, map-based wt6 avalanche, s3 DOWN",
        backend: "balance uri whole\nhash-type map-based wt6 avalanche\nserver s1 127.0.0.1:9001\n\
                  server s2 127.0.0.1:9002 weight 3\nserver s3 127.0.0.1:9003\nserver s4 127.0.0.1:9004",
        down: &["s3"],
        down_at: 0,
        requests: 300,
        key: by_uri,
    },
    HashScenario {
        name: "uri depth 4 on absolute targets (scheme and authority count), consistent",
        backend: "balance uri depth 4\nhash-type consistent\nserver s1 127.0.0.1:9001\n\
                  server s2 127.0.0.1:9002\nserver s3 127.0.0.1:9003",
        down: &[],
        down_at: 0,
        requests: 200,
        key: by_absolute_uri,
    },
    HashScenario {
        name: "uri path-only on absolute targets, map-based crc32",
        backend: "balance uri path-only\nhash-type map-based crc32\nserver s1 127.0.0.1:9001\n\
                  server s2 127.0.0.1:9002\nserver s3 127.0.0.1:9003",
        down: &[],
        down_at: 0,
        requests: 200,
        key: by_absolute_uri,
    },
    HashScenario {
        name: "url_param id, map-based, missing ones in round-robin, s2 DOWN after 200",
        backend: "balance url_param id\nserver s1 127.0.0.1:9001\nserver s2 127.0.0.1:9002 weight 2\n\
                  server s3 127.0.0.1:9003",
        down: &["s2"],
        down_at: 200,
        requests: 300,
        key: by_param,
    },
    HashScenario {
        name: "url_param id, consistent crc32, missing ones around the ring, s2 DOWN after 150",
        backend: "balance url_param id\nhash-type consistent crc32\nserver s1 127.0.0.1:9001\n\
                  server s2 127.0.0.1:9002\nserver s3 127.0.0.1:9003\nserver s4 127.0.0.1:9004",
        down: &["s2"],
        down_at: 150,
        requests: 300,
        key: by_param,
    },
    HashScenario {
        name: "hdr(X-Key), map-based djb2",
        backend: "balance hdr(X-Key)\nhash-type map-based djb2\nserver s1 127.0.0.1:9001\n\
                  server s2 127.0.0.1:9002\nserver s3 127.0.0.1:9003 weight 5",
        down: &[],
        down_at: 0,
        requests: 300,
        key: by_header,
    },
    HashScenario {
        name: "hdr(X-Key), consistent",
        backend: "balance hdr(X-Key)\nhash-type consistent\nserver s1 127.0.0.1:9001\n\
                  server s2 127.0.0.1:9002\nserver s3 127.0.0.1:9003",
        down: &[],
        down_at: 0,
        requests: 300,
        key: by_header,
    },
    HashScenario {
        name: "hdr(Host) use_domain_only, map-based",
        backend: "balance hdr(Host) use_domain_only\nserver s1 127.0.0.1:9001\n\
                  server s2 127.0.0.1:9002\nserver s3 127.0.0.1:9003\nserver s4 127.0.0.1:9004",
        down: &[],
        down_at: 0,
        requests: 200,
        key: by_host,
    },
    HashScenario {
        name: "source, consistent, actives DOWN: first backup",
        backend: "balance source\nhash-type consistent\nserver s1 127.0.0.1:9001\n\
                  server b1 127.0.0.1:9002 backup\nserver b2 127.0.0.1:9003 backup",
        down: &["s1"],
        down_at: 0,
        requests: 30,
        key: by_source,
    },
    HashScenario {
        name: "source, map-based, actives DOWN, allbackups",
        backend: "balance source\noption allbackups\nserver s1 127.0.0.1:9001\n\
                  server b1 127.0.0.1:9002 backup\nserver b2 127.0.0.1:9003 backup weight 3",
        down: &["s1"],
        down_at: 0,
        requests: 150,
        key: by_source,
    },
];

fn key_request(k: &Key) -> Request {
    let mut headers = k.headers.clone();
    if !headers
        .iter()
        .any(|h| h.to_ascii_lowercase().starts_with("host:"))
    {
        headers.push("Host: example.com".into());
    }
    Request {
        line: format!("GET {} HTTP/1.1", k.target),
        headers,
        body: None,
        expect: None,
    }
}

fn answered_by(addr: SocketAddr, k: &Key) -> Result<String, String> {
    let resp = client::send(addr, Source::Loopback(k.src), &key_request(k))
        .map_err(|e| format!("{addr} from {}: {e}", k.src))?;
    Ok(match run::observe(&resp).outcome {
        Outcome::Forward { server, .. } => server,
        other => format!("-({other})"),
    })
}

/// The picks of HAProxy, wtedge (wasm), wtedge (native) and router-core, one
/// per key.
fn run_hash(s: &HashScenario) -> Result<[Vec<String>; 4], String> {
    let (hap, [wasm, native], parsed) = start_sides(&backend_config(s.backend))?;
    let cfg = &parsed.config;
    let mut health = HealthSnapshot::all_up(cfg);
    let hap_addr = hap.frontend_addr(None)?;
    let fe = cfg.default_frontend().ok_or("no frontend")?;
    let tickets = LocalTickets::new(cfg);
    let mut out: [Vec<String>; 4] = Default::default();
    for i in 0..s.requests {
        if i == s.down_at {
            for name in s.down {
                set_everywhere(&hap, [&wasm, &native], cfg, &mut health, name, false)?;
            }
        }
        let k = (s.key)(i);
        out[0].push(answered_by(hap_addr, &k)?);
        out[1].push(answered_by(wasm.addrs[0].1, &k)?);
        out[2].push(answered_by(native.addrs[0].1, &k)?);
        let req = key_request(&k);
        let headers: Vec<(&str, &str)> = req
            .headers
            .iter()
            .filter_map(|h| h.split_once(':'))
            .map(|(n, v)| (n, v.trim()))
            .collect();
        let facts = RequestFacts {
            method: "GET",
            target: &k.target,
            version: "HTTP/1.1",
            headers: &headers,
            src: SocketAddr::new(IpAddr::V4(k.src), 40000),
            dst: SocketAddr::from(([127, 0, 0, 1], 8080)),
            tls: false,
        };
        out[3].push(core_answer(cfg, fe, &facts, &health, &tickets));
    }
    stop([wasm, native]);
    Ok(out)
}

#[test]
fn hash_picks_are_haproxys() {
    let mut diffs = Vec::new();
    let mut keys = 0;
    for (s, [h, wasm, native, core]) in run_all(HASH_SCENARIOS, |s| s.name, run_hash, &mut diffs) {
        keys += h.len();
        let distinct: std::collections::BTreeSet<&String> = h.iter().collect();
        // Several servers took keys (one only when a lone backup serves).
        let want = if s.name.contains("first backup") {
            1
        } else {
            2
        };
        if distinct.len() < want || distinct.iter().any(|p| p.starts_with('-')) {
            diffs.push(format!("{}: HAProxy answered {distinct:?}", s.name));
        }
        for (who, seq) in [
            ("wtedge (wasm)", &wasm),
            ("wtedge (native)", &native),
            ("router-core", &core),
        ] {
            let wrong: Vec<String> = (0..h.len())
                .filter(|&i| seq[i] != h[i])
                .take(5)
                .map(|i| {
                    let k = (s.key)(i);
                    format!(
                        "#{i} {} {} {:?}: haproxy {} / {who} {}",
                        k.src, k.target, k.headers, h[i], seq[i]
                    )
                })
                .collect();
            if !wrong.is_empty() {
                diffs.push(format!("{}:\n  {}", s.name, wrong.join("\n  ")));
            }
        }
    }
    eprintln!(
        "{} hash scenarios, {keys} keys per side",
        HASH_SCENARIOS.len()
    );
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
}

/// A step of a load scenario (leastconn, first).
#[derive(Clone, Copy)]
enum Load {
    /// A request that stays in flight: a POST whose one-byte body is not sent yet.
    Hold,
    /// That many plain GETs, each answered before the next.
    Quick(usize),
    /// The body of the `n`th held request is sent: it is answered and ends.
    Finish(usize),
    /// Server of backend `b` set DOWN (or UP again) on every side.
    Set(&'static str, bool),
}

struct LoadScenario {
    name: &'static str,
    backend: &'static str,
    ops: &'static [Load],
}

use Load::{Finish, Hold, Quick, Set};

const LOAD_SCENARIOS: &[LoadScenario] = &[
    LoadScenario {
        name: "leastconn, equal weights: ties go round",
        backend: "balance leastconn\nserver s1 127.0.0.1:9001\nserver s2 127.0.0.1:9002\n\
                  server s3 127.0.0.1:9003",
        ops: &[
            Quick(5),
            Hold,
            Quick(4),
            Hold,
            Hold,
            Quick(4),
            Hold,
            Quick(3),
            Finish(1),
            Quick(4),
            Finish(0),
            Hold,
            Quick(5),
            Finish(3),
            Finish(2),
            Quick(4),
        ],
    },
    LoadScenario {
        name: "leastconn, weights 1:2:3",
        backend: "balance leastconn\nserver s1 127.0.0.1:9001 weight 1\n\
                  server s2 127.0.0.1:9002 weight 2\nserver s3 127.0.0.1:9003 weight 3",
        ops: &[
            Hold,
            Hold,
            Hold,
            Hold,
            Hold,
            Hold,
            Quick(3),
            Finish(0),
            Quick(3),
            Finish(4),
            Hold,
            Quick(3),
        ],
    },
    LoadScenario {
        name: "leastconn, a server DOWN and back UP behind its equals, a backup",
        backend: "balance leastconn\nserver s1 127.0.0.1:9001\nserver s2 127.0.0.1:9002\n\
                  server s3 127.0.0.1:9003\nserver bk 127.0.0.1:9004 backup",
        ops: &[
            Quick(4),
            Hold,
            Hold,
            Set("s1", false),
            Quick(4),
            Hold,
            Set("s1", true),
            Quick(6),
            Set("s1", false),
            Set("s2", false),
            Set("s3", false),
            Quick(2),
            Set("s2", true),
            Quick(3),
            Finish(1),
            Set("s1", true),
            Set("s3", true),
            Quick(6),
        ],
    },
    LoadScenario {
        name: "first, maxconn 2: servers fill up in order",
        backend: "balance first\nserver s1 127.0.0.1:9001 maxconn 2\n\
                  server s2 127.0.0.1:9002 maxconn 2\nserver s3 127.0.0.1:9003",
        ops: &[
            Quick(2),
            Hold,
            Quick(1),
            Hold,
            Quick(2),
            Hold,
            Hold,
            Quick(1),
            Finish(0),
            Quick(1),
            Hold,
            Quick(1),
            Finish(2),
            Quick(2),
        ],
    },
];

/// One side of a load scenario: where requests go and how many it serves now.
struct Side<'a> {
    addr: SocketAddr,
    held: Vec<std::net::TcpStream>,
    /// Streams of backend `b` in flight, as the side counts them.
    in_flight: Box<dyn Fn() -> Result<u32, String> + 'a>,
}

impl Side<'_> {
    /// Waits until the side serves `n` streams: a held request has its server
    /// and an ended one has left it before the next request is sent.
    fn settle(&self, n: u32) -> Result<(), String> {
        for _ in 0..500 {
            if (self.in_flight)()? == n {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        Err(format!(
            "{}: {} streams in flight, {n} expected",
            self.addr,
            (self.in_flight)()?
        ))
    }

    fn hold(&mut self) -> Result<(), String> {
        use std::io::Write;
        let mut s = std::net::TcpStream::connect(self.addr).map_err(|e| e.to_string())?;
        s.set_read_timeout(Some(Duration::from_secs(10)))
            .map_err(|e| e.to_string())?;
        s.write_all(b"POST /held HTTP/1.1\r\nHost: example.com\r\nContent-Length: 1\r\n\r\n")
            .map_err(|e| e.to_string())?;
        self.held.push(s);
        Ok(())
    }

    fn finish(&mut self, n: usize) -> Result<String, String> {
        use std::io::Write;
        let s = self.held.get_mut(n).ok_or("no such held request")?;
        s.write_all(b"x").map_err(|e| e.to_string())?;
        let resp = client::read_response(s, false).map_err(|e| e.to_string())?;
        Ok(match run::observe(&resp).outcome {
            Outcome::Forward { server, .. } => server,
            other => format!("-({other})"),
        })
    }
}

/// HAProxy's current sessions on the servers of backend `b` (`show stat` scur).
fn haproxy_in_flight(hap: &Haproxy) -> Result<u32, String> {
    let stat = hap.cli("show stat")?;
    Ok(stat
        .lines()
        .map(|l| l.split(',').collect::<Vec<_>>())
        .filter(|f| f.len() > 4 && f[0] == "b" && f[1] != "BACKEND" && f[1] != "FRONTEND")
        .filter_map(|f| f[4].parse::<u32>().ok())
        .sum())
}

/// The picks of HAProxy, wtedge (wasm), wtedge (native) and router-core: quick
/// requests in order, held ones as `h<n>=server` when they end.
fn run_load(s: &LoadScenario) -> Result<[String; 4], String> {
    let (hap, [wasm, native], parsed) = start_sides(&backend_config(s.backend))?;
    let cfg = &parsed.config;
    let edge_side = |e: &common::Edge| Side {
        addr: e.addrs[0].1,
        held: Vec::new(),
        in_flight: {
            let g = e.running.generation();
            Box::new(move || {
                let cfg = g.engine.config();
                Ok(cfg.server_ids().map(|id| g.engine.served().get(id)).sum())
            })
        },
    };
    let mut sides = [
        Side {
            addr: hap.frontend_addr(None)?,
            held: Vec::new(),
            in_flight: Box::new(|| haproxy_in_flight(&hap)),
        },
        edge_side(&wasm),
        edge_side(&native),
    ];
    let fe = cfg.default_frontend().ok_or("no frontend")?;
    let mut health = HealthSnapshot::all_up(cfg);
    let tickets = LocalTickets::new(cfg);
    let host = [("Host", "example.com")];
    let facts = RequestFacts {
        method: "GET",
        target: "/",
        version: "HTTP/1.1",
        headers: &host,
        src: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 40000),
        dst: SocketAddr::from(([127, 0, 0, 1], 8080)),
        tls: false,
    };
    let core_pick = |health: &HealthSnapshot| match router_core::decide(
        cfg, fe, &facts, health, &tickets, None,
    ) {
        Decision::Forward(f) => Ok(f.server),
        d => Err(format!("router-core answered {:?}", d.status())),
    };
    let mut core_held = Vec::new();
    let mut out: [String; 4] = Default::default();
    let mut in_flight = 0u32;
    for op in s.ops {
        match *op {
            Hold => {
                in_flight += 1;
                for side in &mut sides {
                    side.hold()?;
                    side.settle(in_flight)?;
                }
                let id = core_pick(&health)?;
                tickets.take(id);
                core_held.push(id);
            }
            Quick(n) => {
                for _ in 0..n {
                    for (k, side) in sides.iter().enumerate() {
                        out[k].push_str(&answered(side.addr)?);
                        out[k].push(' ');
                        side.settle(in_flight)?;
                    }
                    // A quick request: its stream starts and ends, as a host counts it.
                    let id = core_pick(&health)?;
                    tickets.take(id);
                    tickets.release(id);
                    out[3].push_str(&cfg.server(id).name);
                    out[3].push(' ');
                }
            }
            Set(name, up) => {
                set_everywhere(&hap, [&wasm, &native], cfg, &mut health, name, up)?;
                for o in &mut out {
                    o.push_str(&format!("[{}{name}] ", if up { '+' } else { '-' }));
                }
            }
            Finish(n) => {
                in_flight -= 1;
                for (k, side) in sides.iter_mut().enumerate() {
                    let server = side.finish(n)?;
                    out[k].push_str(&format!("h{n}={server} "));
                    side.settle(in_flight)?;
                }
                let id = *core_held.get(n).ok_or("no such held request")?;
                tickets.release(id);
                out[3].push_str(&format!("h{n}={} ", cfg.server(id).name));
            }
        }
    }
    drop(sides);
    stop([wasm, native]);
    Ok(out)
}

#[test]
fn leastconn_and_first_picks_are_haproxys() {
    let mut diffs = Vec::new();
    let mut requests = 0;
    for (s, [h, wasm, native, core]) in run_all(LOAD_SCENARIOS, |s| s.name, run_load, &mut diffs) {
        requests += h.split(' ').filter(|p| !p.is_empty()).count();
        same_as_haproxy(s.name, &h, [&wasm, &native, &core], &mut diffs);
    }
    eprintln!(
        "{} load scenarios, {requests} picks per side",
        LOAD_SCENARIOS.len()
    );
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
}

/// `balance random` draws random numbers: only the shares can be compared. 600
/// requests one after the other (no load, so the last draw wins) to each side; each
/// server's share on wtedge and in router-core is within 0.08 of HAProxy's (about
/// four standard deviations of the difference of two such shares).
#[test]
fn random_shares_are_haproxys() {
    const N: usize = 600;
    let mut diffs = Vec::new();
    const BACKEND: &str = "balance random\nserver s1 127.0.0.1:9001 weight 1\n\
                   server s2 127.0.0.1:9002 weight 2\nserver s3 127.0.0.1:9003 weight 3";
    let run = |_: &&str| -> Result<[Vec<String>; 4], String> {
        let (hap, [wasm, native], parsed) = start_sides(&backend_config(BACKEND))?;
        let cfg = &parsed.config;
        let mut out: [Vec<String>; 4] = Default::default();
        let addrs = [hap.frontend_addr(None)?, wasm.addrs[0].1, native.addrs[0].1];
        for (k, addr) in addrs.into_iter().enumerate() {
            for _ in 0..N {
                out[k].push(answered(addr)?);
            }
        }
        let (fe, health) = (
            cfg.default_frontend().ok_or("no frontend")?,
            HealthSnapshot::all_up(cfg),
        );
        let tickets = LocalTickets::new(cfg);
        let facts = RequestFacts {
            method: "GET",
            target: "/",
            version: "HTTP/1.1",
            headers: &[],
            src: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 40000),
            dst: SocketAddr::from(([127, 0, 0, 1], 8080)),
            tls: false,
        };
        for _ in 0..N {
            out[3].push(core_answer(cfg, fe, &facts, &health, &tickets));
        }
        stop([wasm, native]);
        Ok(out)
    };
    let share = |seq: &[String], s: &str| seq.iter().filter(|p| *p == s).count() as f64 / N as f64;
    for (_, [h, wasm, native, core]) in run_all(&["random"], |_| "random", run, &mut diffs) {
        for server in ["s1", "s2", "s3"] {
            let want = share(&h, server);
            assert!(want > 0.05, "HAProxy gave {server} a share of {want}");
            for (who, seq) in [
                ("wtedge (wasm)", &wasm),
                ("wtedge (native)", &native),
                ("router-core", &core),
            ] {
                let got = share(seq, server);
                if (got - want).abs() > 0.08 {
                    diffs.push(format!("{server}: HAProxy {want:.3}, {who} {got:.3}"));
                }
            }
        }
    }
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
}
