//! Round-robin order over sockets: plain GETs sent one by one to a real HAProxy 2.6
//! and to wtedge (router-core as wasm, and linked natively) running the same config
//! in front of the same loopback servers, servers set DOWN and UP between requests
//! on every side; the servers that answered must be the same, in the same order.
//! router-core alone (one `LocalTickets`, the same health changes) must agree too.
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
    let mut text = String::from(
        "defaults\n    mode http\n    timeout connect 2s\n    timeout client 10s\n    \
         timeout server 10s\nfrontend f\n    bind 127.0.0.1:8080\n    default_backend b\n\
         backend b\n    balance roundrobin\n",
    );
    for line in s.backend.lines() {
        text.push_str("    ");
        text.push_str(line.trim());
        text.push('\n');
    }
    text
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
    let text = config(s);
    let hap = Haproxy::start(&text, false)?;
    let edge = |engine: EngineChoice| {
        common::wtedge_beside(
            &hap,
            "balance.cfg",
            Logger::none(),
            engine,
            Duration::from_secs(1),
        )
    };
    let wasm = edge(EngineChoice::EmbeddedWasm)?;
    let native = edge(EngineChoice::Native)?;
    let hap_addr = hap.frontend_addr(None)?;
    let parsed = router_core::parse("balance.cfg", &text).map_err(|e| e.to_string())?;
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
                if up {
                    hap.force_up("b", name)?;
                } else {
                    hap.force_down("b", name)?;
                }
                for e in edges {
                    let g = e.running.generation();
                    let id = g.config().server_id("b", name).ok_or("no server")?;
                    g.engine.force(id, up, local_host::proxy::now_ms());
                }
                let id = cfg.server_id("b", name).ok_or("no server")?;
                health.set(id, up);
                let mark = format!("[{}{name}] ", if up { '+' } else { '-' });
                for o in &mut out {
                    o.push_str(&mark);
                }
            }
        }
    }
    wasm.rt.block_on(wasm.running.stop());
    native.rt.block_on(native.running.stop());
    Ok(out)
}

#[test]
fn round_robin_order_is_haproxys() {
    if let Err(e) = haproxy::binary() {
        panic!("this test compares wtedge with HAProxy 2.6 and needs it: {e}");
    }
    let mut diffs = Vec::new();
    let mut requests = 0;
    for s in SCENARIOS {
        let [h, wasm, native, core] = match run_scenario(s) {
            Ok(seqs) => seqs,
            Err(e) => {
                diffs.push(format!("{}: {e}", s.name));
                continue;
            }
        };
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
        for (who, seq) in [
            ("wtedge (wasm)", &wasm),
            ("wtedge (native)", &native),
            ("router-core", &core),
        ] {
            if *seq != h {
                diffs.push(format!("{}:\n  haproxy:   {h}\n  {who}: {seq}", s.name));
            }
        }
    }
    eprintln!(
        "{} scenarios, {requests} requests per side",
        SCENARIOS.len()
    );
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
}
