//! One engine, two hosts: the same health-check, retry and timeout scenarios through
//! the Worker (under `wrangler dev`, the real workerd) and through wtedge, on the same
//! config (`edge-worker/config/local-test.cfg`) in front of the same two mock Wt
//! origins; each step's outcome must be the same at both hosts: the status, the origin
//! that answered, HAProxy's error page, and the servers' states in the runtime API's
//! `show servers state`.
//!
//! Run by `scripts/edge-test.sh` after `edge_workerd` (same ports, same Worker):
//!
//! ```sh
//! WTEDGE_EDGE_URL=http://127.0.0.1:28787 WTEDGE_ADMIN_TOKEN=... \
//!     cargo test -p wtedge-tests --test hosts_agree --features edge
//! ```

mod common;

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use local_host::access_log::Logger;
use local_host::engine_choice::EngineChoice;
use wtedge_tests::client::{self, Response, Source};
use wtedge_tests::corpus::Request;
use wtedge_tests::mock_wt::{self, MockWt};

const WT1: &str = "127.0.0.1:28081";
const WT2: &str = "127.0.0.1:28082";
const HOST: &str = "app.example.com";
const CONFIG: &str = include_str!("../../edge-worker/config/local-test.cfg");

/// One of the two hosts, as a client sees it.
struct Host {
    name: &'static str,
    addr: SocketAddr,
    /// wtedge's stats socket; `None` for the Worker (its runtime API is a POST).
    socket: Option<PathBuf>,
}

impl Host {
    fn send(&self, method: &str, target: &str, headers: &[String], body: Option<&str>) -> Response {
        let mut h = vec![format!("Host: {HOST}"), "Connection: close".to_string()];
        h.extend(headers.iter().cloned());
        let req = Request {
            line: format!("{method} {target} HTTP/1.1"),
            headers: h,
            body: body.map(str::to_string),
            expect: None,
        };
        client::send(self.addr, Source::Loopback(Ipv4Addr::LOCALHOST), &req)
            .unwrap_or_else(|e| panic!("{}: {method} {target}: {e}", self.name))
    }

    fn get(&self, target: &str) -> Response {
        self.send("GET", target, &[], None)
    }

    /// A runtime API command's answer.
    fn cli(&self, command: &str) -> String {
        match &self.socket {
            Some(path) => common::ask(path, command)
                .unwrap_or_else(|e| panic!("{}: {command}: {e}", self.name)),
            None => {
                let token = std::env::var("WTEDGE_ADMIN_TOKEN").unwrap_or_else(|_| {
                    panic!("WTEDGE_ADMIN_TOKEN is not set: run scripts/edge-test.sh")
                });
                let headers = [
                    format!("Authorization: Bearer {token}"),
                    format!("Content-Length: {}", command.len()),
                    "Content-Type: text/plain".to_string(),
                ];
                let r = self.send("POST", "/__wtedge/admin", &headers, Some(command));
                assert_eq!(r.status, 200, "{}: {command}: {}", self.name, text(&r));
                text(&r)
            }
        }
    }

    /// Each server's (operational state, administrative state, weight), by
    /// `backend/server`, from `show servers state` (HAProxy's columns).
    fn states(&self) -> BTreeMap<String, (String, String, String)> {
        let out = self.cli("show servers state");
        let mut states = BTreeMap::new();
        for line in out.lines() {
            let cols: Vec<&str> = line.split_whitespace().collect();
            // be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight ...
            if line.starts_with('#') || cols.len() < 8 || cols[0].parse::<u32>().is_err() {
                continue;
            }
            states.insert(
                format!("{}/{}", cols[1], cols[3]),
                (
                    cols[5].to_string(),
                    cols[6].to_string(),
                    cols[7].to_string(),
                ),
            );
        }
        assert!(!states.is_empty(), "{}: no servers in {out:?}", self.name);
        states
    }
}

fn text(r: &Response) -> String {
    String::from_utf8_lossy(&r.body).into_owned()
}

/// What a client can tell of an answer: its status, the origin that sent it (none
/// when the host answered itself) and, for the host's own answers, the page.
#[derive(Debug, PartialEq, Eq)]
struct Seen {
    status: u16,
    origin: Option<String>,
    own_page: Option<String>,
    /// The `x-errorfile` header of the config's pages (they carry one).
    errorfile: Option<String>,
    /// The header an `http-response` rule of the config sets.
    rule: Option<String>,
}

fn seen(r: &Response) -> Seen {
    let origin = r.header("x-mock-wt").map(str::to_string);
    Seen {
        status: r.status,
        own_page: origin.is_none().then(|| text(r)),
        errorfile: r.header("x-errorfile").map(str::to_string),
        rule: r.header("x-edge-rule").map(str::to_string),
        origin,
    }
}

/// Sends the same request to both hosts; their outcomes must be equal.
fn both(hosts: &[Host; 2], target: &str) -> Seen {
    let a = seen(&hosts[0].get(target));
    let b = seen(&hosts[1].get(target));
    assert_eq!(
        a, b,
        "{target}: {} and {} differ",
        hosts[0].name, hosts[1].name
    );
    a
}

/// How long a Worker isolate may route on its cached copy of the health state after
/// the health object changed it (`WTEDGE_HEALTH_TTL_MS`, 200 ms in
/// scripts/edge-test.sh), with a margin: the edge's documented lag.
const SNAPSHOT_LAG: Duration = Duration::from_millis(600);

/// Waits until `ok` holds for both hosts' server states (then for the Worker's
/// isolates to see them); panics with them after 60 s.
fn converge(
    hosts: &[Host; 2],
    what: &str,
    ok: impl Fn(&BTreeMap<String, (String, String, String)>) -> bool,
) {
    let start = Instant::now();
    loop {
        let states = [hosts[0].states(), hosts[1].states()];
        if states.iter().all(&ok) {
            assert_eq!(
                states[0], states[1],
                "{what}: the hosts' server states differ"
            );
            std::thread::sleep(SNAPSHOT_LAG);
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "timed out waiting for {what}: {}: {:?}\n{}: {:?}",
            hosts[0].name,
            states[0],
            hosts[1].name,
            states[1]
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// HAProxy's `srv_op_state` of a server: 2 = running, 0 = stopped.
fn op(states: &BTreeMap<String, (String, String, String)>, server: &str) -> String {
    states
        .get(server)
        .map(|s| s.0.clone())
        .unwrap_or_else(|| panic!("no server {server} in {states:?}"))
}

/// wtedge on local-test.cfg, listening on a free loopback port, with a stats socket.
fn start_wtedge(dir: &Path) -> (common::Edge, SocketAddr, PathBuf) {
    let socket = dir.join("wtedge.sock");
    let mut tries = 0;
    loop {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap_or_else(|e| panic!("free port: {e}"));
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        // The Worker's frontend binds :8787 in workerd's world; wtedge needs a real
        // port, and a stats socket for its runtime API (the Worker has its POST).
        // The errorfile paths are relative to the repository root (the Worker's
        // build reads them there); wtedge reads them from its working directory.
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../");
        let text = format!(
            "global\n    stats socket {} level admin\n{}",
            socket.display(),
            CONFIG
                .replace("    bind :8787\n", &format!("    bind {addr}\n"))
                .replace(
                    " edge-worker/config/errors/",
                    &format!(" {root}edge-worker/config/errors/")
                )
        );
        match common::wtedge_on(
            &text,
            vec![("wt".into(), addr)],
            "local-test.cfg",
            Logger::none(),
            EngineChoice::EmbeddedWasm,
            Duration::from_secs(1),
        ) {
            Ok(edge) => return (edge, addr, socket),
            Err(local_host::Error::Bind { .. }) if tries < 5 => tries += 1,
            Err(e) => panic!("wtedge refused local-test.cfg: {e}"),
        }
    }
}

#[test]
fn checks_retries_and_timeouts_agree_between_the_worker_and_wtedge() {
    let edge_url = std::env::var("WTEDGE_EDGE_URL")
        .unwrap_or_else(|_| panic!("WTEDGE_EDGE_URL is not set: run scripts/edge-test.sh"));
    let edge: SocketAddr = edge_url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .parse()
        .unwrap_or_else(|e| panic!("WTEDGE_EDGE_URL {edge_url:?}: {e}"));
    let dir = wtedge_tests::haproxy::TempDir::new("hosts-agree").unwrap_or_else(|e| panic!("{e}"));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("runtime: {e}"));
    let start = |prefix: &str, addr: &str| {
        let addr: SocketAddr = addr.parse().unwrap_or_else(|e| panic!("{e}"));
        rt.block_on(MockWt::start(prefix, addr))
            .unwrap_or_else(|e| panic!("mock {prefix} on {addr}: {e}"))
    };
    let wt1 = start("wt1", WT1);
    let wt2 = start("wt2", WT2);
    let (_wtedge, local, socket) = start_wtedge(dir.path());
    let hosts = [
        Host {
            name: "the Worker",
            addr: edge,
            socket: None,
        },
        Host {
            name: "wtedge",
            addr: local,
            socket: Some(socket),
        },
    ];

    // Checks: both origins UP at both hosts (the Worker may remember them DOWN from
    // the previous test: `rise` checks bring them back).
    let all_up = |s: &BTreeMap<String, (String, String, String)>| {
        ["bck1/srv1", "bck2/srv2", "bck_lb/srv1", "bck_lb/srv2"]
            .iter()
            .all(|k| op(s, k) == "2")
    };
    converge(&hosts, "both origins UP", all_up);
    eprintln!("hosts agree: both origins checked UP");

    // Sessions made through one host are followed through the other.
    for (maker, follower) in [(0, 1), (1, 0)] {
        let r = hosts[maker].get("/");
        let id = mock_wt::session_id_in_page(&text(&r))
            .unwrap_or_else(|| panic!("no session id from {}: {}", hosts[maker].name, text(&r)));
        let by = r.header("x-mock-wt").unwrap_or("-").to_string();
        assert!(id.starts_with(&by), "{id} made by {by}");
        let again = seen(&hosts[follower].get(&format!("/?wtd={id}&request=style")));
        assert_eq!((again.status, again.origin), (200, Some(by)), "{id}");
    }

    // Retries and redispatch: a round-robin pick of the dead server goes to srv1 at
    // once; a `use-server` pick of it is retried after the turn-around delay and
    // redispatched on the last retry (`retries 2`).
    for _ in 0..4 {
        let s = both(&hosts, "/retry");
        assert_eq!((s.status, s.origin.as_deref()), (200, Some("wt1")));
    }
    // (HAProxy 2.6 on the same backend: one turn-around of 1 s, then srv1 answers;
    // the backend's `http-response set-status 203` edits its 200.)
    let pinned = both(&hosts, "/pin");
    assert_eq!(
        (pinned.status, pinned.origin.as_deref()),
        (203, Some("wt1"))
    );
    // No server left to try: the backend's errorfile page (its body and its
    // headers) from both.
    let dead = both(&hosts, "/dead");
    assert_eq!(dead.status, 503, "{dead:?}");
    assert!(
        dead.own_page
            .as_deref()
            .is_some_and(|p| p.contains("(errorfile)")),
        "{dead:?}"
    );
    assert_eq!(dead.errorfile.as_deref(), Some("dead"), "{dead:?}");
    assert_eq!(
        dead.rule, None,
        "no http-response rule runs on an error page"
    );

    // Timeouts: `timeout server 1s` in bck_slow; an answer after 3 s is a 504, the
    // backend's errorfile page, at both hosts; one after 100 ms passes.
    let slow = both(&hosts, "/slow?mockdelay=3000");
    assert_eq!(slow.status, 504, "{slow:?}");
    assert_eq!(
        slow.own_page.as_deref(),
        Some("<html><body><h1>504 The Wt server is slow</h1></body></html>")
    );
    let quick = both(&hosts, "/slow?mockdelay=100");
    assert_eq!((quick.status, quick.origin.as_deref()), (200, Some("wt1")));
    assert_eq!(
        quick.rule.as_deref(),
        Some("slow-200"),
        "the backend's http-response rule"
    );
    eprintln!("hosts agree: retries and timeouts");

    // A killed origin: both hosts' checks take it DOWN (`fall 3`), with its tracker in
    // bck_lb; its sessions then go to the other origin through bck_lb at both.
    let id2 = wt2.new_session();
    let wt2_addr = rt.block_on(wt2.kill());
    converge(&hosts, "wt2 DOWN", |s| {
        op(s, "bck2/srv2") == "0" && op(s, "bck_lb/srv2") == "0" && op(s, "bck1/srv1") == "2"
    });
    let moved = both(&hosts, &format!("/?wtd={id2}"));
    assert_eq!((moved.status, moved.origin.as_deref()), (200, Some("wt1")));
    for _ in 0..4 {
        let s = both(&hosts, "/");
        assert_eq!(s.origin.as_deref(), Some("wt1"), "only wt1 is UP: {s:?}");
    }
    eprintln!("hosts agree: wt2 DOWN");

    // It comes back: UP again after `rise 2` at both.
    let wt2 = rt
        .block_on(MockWt::start("wt2", wt2_addr))
        .unwrap_or_else(|e| panic!("wt2 again: {e}"));
    converge(&hosts, "wt2 UP again", all_up);
    let id2 = wt2.new_session();
    let back = both(&hosts, &format!("/?wtd={id2}"));
    assert_eq!((back.status, back.origin.as_deref()), (200, Some("wt2")));
    eprintln!("hosts agree: wt2 UP again");

    // The runtime API: the same command at both hosts has the same effect.
    for host in &hosts {
        host.cli("set server bck2/srv2 state maint");
    }
    converge(&hosts, "bck2/srv2 in maintenance", |s| {
        s.get("bck2/srv2").is_some_and(|v| v.1 != "0")
    });
    let maint = both(&hosts, &format!("/?wtd={id2}"));
    assert_eq!(maint.origin.as_deref(), Some("wt1"), "{maint:?}");
    for host in &hosts {
        host.cli("set server bck2/srv2 state ready");
    }
    converge(&hosts, "bck2/srv2 ready", all_up);
    drop(wt1);
}
