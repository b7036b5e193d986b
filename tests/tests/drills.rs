//! Fault drills (issue 15): wtedge abused over real sockets, HAProxy 2.6 beside it
//! on the same config wherever HAProxy has an answer to compare with. Each drill
//! asserts outcomes (every request answered, the status HAProxy gives, no server
//! connection left open, memory growth bounded), never timings; the figures are
//! printed (`-- --nocapture`) and recorded in docs/robustness.md, "Fault drills".
//!
//! The drills run one at a time (they load the machine) and take about a minute,
//! 20 s of it the SIGHUP drill. Needs `haproxy` (`apt-get install -y haproxy`).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use local_host::access_log::Logger;
use local_host::run::Options;
use wtedge_tests::client::{self, Response, Source};
use wtedge_tests::corpus::Request;
use wtedge_tests::drill::load::{Load, connect, get, get_waiting, listen_backlogs};
use wtedge_tests::drill::memory::{own_rss_kib, rss_kib};
use wtedge_tests::drill::origin::Origin;
use wtedge_tests::drill::phases::{by_case, phase_cases};
use wtedge_tests::drill::slowloris::slow_client;
use wtedge_tests::drill::trust::{cli_command, untrusted_requests, with_stats_socket};
use wtedge_tests::haproxy::{Haproxy, TempDir};

mod common;

/// The drills share the machine's two cores: one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn kib(k: Option<u64>) -> i64 {
    k.map_or(0, |k| k as i64)
}

/// SIGHUP every 200 ms for 20 s (`WTEDGE_DRILL_HUP_SECONDS`) while 6 client threads
/// (4 keep-alive, 2 one connection per request) send requests as fast as they can:
/// every request is answered 200, no connection is reset or closed early. The file
/// alternates between two configs so that each signal builds a new generation.
/// With `WTEDGE_DRILL_HUP_HAPROXY=1`, the same load runs against HAProxy 2.6 in
/// master-worker mode reloaded by SIGUSR2 as often, for figures only (its reload
/// starts a new process; what it drops is printed, not asserted).
#[test]
fn sighup_every_200ms_under_load() {
    let _g = serial();
    let origin = Origin::start().unwrap_or_else(|e| panic!("origin: {e}"));
    let port = free_port();
    let cfg_on = |port: u16, redirect: bool| {
        format!(
            "defaults\n mode http\n timeout connect 2s\n timeout client 10s\n timeout server 10s\n\
             timeout http-keep-alive 10s\nfrontend fe\n bind 127.0.0.1:{port}\n{}\
             default_backend b\nbackend b\n server s1 {o}\n server s2 {o}\n",
            if redirect {
                " redirect location /moved if { path_beg /old }\n"
            } else {
                ""
            },
            o = origin.addr(),
        )
    };
    let cfg = |redirect: bool| cfg_on(port, redirect);
    let dir = TempDir::new("drill-hup").unwrap_or_else(|e| panic!("{e}"));
    let path = dir.path().join("wt.cfg");
    std::fs::write(&path, cfg(false)).unwrap_or_else(|e| panic!("write: {e}"));
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let edge = common::wtedge_on(
        &cfg(false),
        vec![("fe".into(), addr)],
        &path.display().to_string(),
        Logger::none(),
        Default::default(),
        Duration::from_secs(2),
    )
    .unwrap_or_else(|e| panic!("wtedge: {e}"));
    // The handler is installed before the first signal: a SIGHUP without one would
    // end the test process.
    let hup_ready = edge
        .rt
        .block_on(async { tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) });
    assert!(hup_ready.is_ok(), "SIGHUP handler");

    let load = hup_load(addr);
    let stop = AtomicBool::new(false);
    let rss_before = own_rss_kib();
    let (stop_signals, until) = tokio::sync::oneshot::channel::<()>();
    let mut generations = 0;
    let mut signals = 0;
    // Longer runs for memory figures: WTEDGE_DRILL_HUP_SECONDS=120.
    let seconds = std::env::var("WTEDGE_DRILL_HUP_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20);
    let mut rss_samples = Vec::new();
    let started = Instant::now();
    let tally = std::thread::scope(|s| {
        let serving = s.spawn(|| {
            edge.rt.block_on(local_host::run::serve_signals(
                &edge.running,
                Some(path.clone()),
                async {
                    let _ = until.await;
                },
            ))
        });
        let clients = s.spawn(|| load.run(&stop));
        let mut last = edge.running.generation();
        while started.elapsed() < Duration::from_secs(seconds) {
            std::thread::sleep(Duration::from_millis(200));
            if signals % 25 == 0 {
                rss_samples.push(kib(own_rss_kib()) / 1024);
            }
            let now = edge.running.generation();
            if !std::sync::Arc::ptr_eq(&now, &last) {
                generations += 1;
                last = now;
            }
            std::fs::write(&path, cfg(signals % 2 == 0)).unwrap_or_else(|e| panic!("write: {e}"));
            send_signal(std::process::id(), "HUP");
            signals += 1;
        }
        stop.store(true, Ordering::Relaxed);
        let tally = clients.join().unwrap_or_default();
        // The last config written is the one that serves once its reload is done.
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::sync::Arc::ptr_eq(&edge.running.generation(), &last) && Instant::now() < deadline
        {
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = stop_signals.send(());
        let _ = serving.join();
        tally
    });
    let rss_after = own_rss_kib();
    let last_has_redirect = (signals - 1) % 2 == 0;
    let old = get(addr, "/old");
    edge.rt.block_on(edge.running.stop());
    eprintln!(
        "SIGHUP drill: {signals} signals, {generations} new generations seen, {} requests in {:.1} s \
         ({:.0}/s) on {} connections, {tally:?}; RSS {} -> {} KiB (MiB every 25 signals: \
         {rss_samples:?})",
        tally.requests,
        started.elapsed().as_secs_f64(),
        tally.requests as f64 / started.elapsed().as_secs_f64(),
        tally.connections,
        kib(rss_before),
        kib(rss_after),
    );
    if std::env::var_os("WTEDGE_DRILL_HUP_HAPROXY").is_some() {
        let hap_port = free_port();
        match haproxy_reload_figures(&cfg_on(hap_port, false), hap_port, seconds) {
            Ok((t, n)) => {
                eprintln!("HAProxy 2.6, {n} reloads (SIGUSR2, -W) under the same load: {t:?}")
            }
            Err(e) => eprintln!("HAProxy reload figures: {e}"),
        }
    }
    assert!(tally.requests > 1000, "too little load: {tally:?}");
    assert_eq!(tally.unanswered(), 0, "{tally:?}");
    assert_eq!(tally.status(200), tally.requests, "{tally:?}");
    // Old generations are freed: a leak of one per reload would show here.
    assert!(
        kib(rss_after) - kib(rss_before) < 32 << 10,
        "RSS {rss_before:?} -> {rss_after:?} KiB"
    );
    assert!(
        generations > signals / 2,
        "the signals must reload: {generations} generations for {signals} signals"
    );
    assert_eq!(
        old.starts_with("HTTP/1.1 302"),
        last_has_redirect,
        "the last file written must serve: {old:?}"
    );
}

/// Two mock Wt servers behind round-robin with `retries 3` and `option redispatch`;
/// one is killed (listener and connections dropped at once) under load. HAProxy
/// and wtedge on the same config and servers: no connection is reset, every request
/// to wtedge gets an HTTP answer (200, or the 502 HAProxy also gives to one in
/// flight on the killed server), the server is DOWN within fall x inter (one inter
/// of slack for the check in progress; wtedge counts failed connections of real
/// requests as failed checks, see the README), and once it is, every request is
/// answered 200.
#[test]
fn killed_server_under_load() {
    let _g = serial();
    let mocks = client_runtime();
    let wt1 = mocks
        .block_on(wtedge_tests::mock_wt::MockWt::start_local("wt1"))
        .unwrap_or_else(|e| panic!("mock: {e}"));
    let wt2 = mocks
        .block_on(wtedge_tests::mock_wt::MockWt::start_local("wt2"))
        .unwrap_or_else(|e| panic!("mock: {e}"));
    let (inter, fall) = (300u64, 3u64);
    let cfg = format!(
        "defaults\n mode http\n timeout connect 1s\n timeout client 10s\n timeout server 10s\n\
         retries 3\n option redispatch\nfrontend fe\n bind 127.0.0.1:1\n default_backend b\n\
         backend b\n balance roundrobin\n server s1 127.0.0.1:1 check inter {inter} fall {fall} rise 2\n\
         server s2 127.0.0.1:2 check inter {inter} fall {fall} rise 2\n"
    );
    let (p1, p2) = (wt1.addr().port(), wt2.addr().port());
    let hap =
        Haproxy::start_logging_checks(&cfg, &|_, s| Some(if s == "s1" { p1 } else { p2 }), true)
            .unwrap_or_else(|e| panic!("{e}"));
    let edge = common::wtedge_beside(
        &hap,
        "killed.cfg",
        Logger::none(),
        Default::default(),
        Duration::from_secs(2),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let hap_addr = hap.frontend_addr(None).unwrap_or_else(|e| panic!("{e}"));
    let edge_addr = edge.addrs[0].1;
    let g = edge.running.generation();
    let s1 = g
        .config()
        .server_id("b", "s1")
        .unwrap_or_else(|| panic!("no b/s1"));
    // Both see s1 UP before the drill.
    let up = wait_for(Duration::from_secs(10), || {
        g.engine.is_up(s1) && hap_state(&hap, "b", "s1") == Some(2)
    });
    assert!(up, "b/s1 must be UP in both before the drill");
    let load = |addr| Load {
        addr,
        target: "/resources/x.css".into(),
        keep_alive: 2,
        close: 1,
    };
    let (hl, el) = (load(hap_addr), load(edge_addr));
    let stop = AtomicBool::new(false);
    let mut down_after = (None, None);
    let (h_during, e_during) = std::thread::scope(|s| {
        let h = s.spawn(|| hl.run(&stop));
        let e = s.spawn(|| el.run(&stop));
        std::thread::sleep(Duration::from_millis(1500));
        mocks.block_on(wt1.kill());
        let killed = Instant::now();
        wait_for(Duration::from_secs(10), || {
            if down_after.0.is_none() && hap_state(&hap, "b", "s1") == Some(0) {
                down_after.0 = Some(killed.elapsed());
            }
            if down_after.1.is_none() && !g.engine.is_up(s1) {
                down_after.1 = Some(killed.elapsed());
            }
            down_after.0.is_some() && down_after.1.is_some()
        });
        std::thread::sleep(Duration::from_millis(500));
        stop.store(true, Ordering::Relaxed);
        (h.join().unwrap_or_default(), e.join().unwrap_or_default())
    });
    // With s1 DOWN, a second load: all 200.
    let stop = AtomicBool::new(false);
    let (h_after, e_after) = std::thread::scope(|s| {
        let h = s.spawn(|| hl.run(&stop));
        let e = s.spawn(|| el.run(&stop));
        std::thread::sleep(Duration::from_millis(1000));
        stop.store(true, Ordering::Relaxed);
        (h.join().unwrap_or_default(), e.join().unwrap_or_default())
    });
    edge.rt.block_on(edge.running.stop());
    eprintln!(
        "killed server: DOWN after {:?} (haproxy) / {:?} (wtedge), fall x inter = {} ms\n  \
         haproxy during {h_during:?}\n  wtedge during {e_during:?}\n  \
         haproxy after {h_after:?}\n  wtedge after {e_after:?}",
        down_after.0,
        down_after.1,
        fall * inter
    );
    let limit = Duration::from_millis(fall * inter + inter);
    for (who, during, after, down) in [
        ("haproxy", &h_during, &h_after, down_after.0),
        ("wtedge", &e_during, &e_after, down_after.1),
    ] {
        assert!(
            down.is_some_and(|d| d <= limit),
            "{who}: DOWN after {down:?}"
        );
        assert_eq!(during.resets + during.other_errors, 0, "{who}: {during:?}");
        let known = during.status(200) + during.status(502);
        assert_eq!(
            known + during.closed_early,
            during.requests,
            "{who}: {during:?}"
        );
        assert!(
            after.requests > 0 && after.unanswered() == 0,
            "{who}: {after:?}"
        );
        assert_eq!(after.status(200), after.requests, "{who}: {after:?}");
    }
    // HAProxy 2.6 closes a keep-alive client connection without an answer when the
    // server closes the reused connection its request went on (abort_keep_alive);
    // wtedge sends an idempotent request again on a new connection instead: every
    // request is answered.
    assert_eq!(e_during.unanswered(), 0, "wtedge: {e_during:?}");
    // A 502 is only for a request in flight at the kill (HAProxy's too): a handful.
    assert!(
        e_during.status(502) <= 2 * h_during.status(502) + 6,
        "wtedge {e_during:?} vs haproxy {h_during:?}"
    );
}

/// Slowloris: 1,000 clients each sending a request head one byte a second to each
/// proxy (`timeout http-request 2s`). Meanwhile other clients are served; then
/// every slow client gets HAProxy's 408, byte for byte.
#[test]
fn slowloris_gets_408_and_others_are_served() {
    let _g = serial();
    let cfg = "defaults\n mode http\n timeout connect 1s\n timeout client 10s\n timeout server 10s\n\
               timeout http-request 2s\nfrontend fe\n bind 127.0.0.1:1\n default_backend b\n\
               backend b\n server s1 127.0.0.1:1\n";
    let pair = Beside::start(cfg, "slowloris.cfg", false);
    let (hap_addr, edge_addr) = (pair.hap_addr, pair.edge_addr);
    let rss_before = own_rss_kib();
    let clients = client_runtime();
    const SLOW: usize = 1000;
    let slow: Vec<_> = (0..SLOW)
        .flat_map(|_| [hap_addr, edge_addr])
        .map(|a| clients.spawn(slow_client(a)))
        .collect();
    // While they trickle: other clients are served by both.
    std::thread::sleep(Duration::from_millis(500));
    let mut served = (0, 0);
    for _ in 0..20 {
        served.0 += usize::from(get(hap_addr, "/").starts_with("HTTP/1.1 200"));
        served.1 += usize::from(get(edge_addr, "/").starts_with("HTTP/1.1 200"));
    }
    let rss_during = own_rss_kib();
    let answers: Vec<(SocketAddr, Vec<u8>)> = clients.block_on(async {
        let mut out = Vec::new();
        for t in slow {
            out.push(t.await.unwrap_or_else(|e| panic!("slow client: {e}")));
        }
        out
    });
    pair.stop();
    let of = |a: SocketAddr| -> Vec<&Vec<u8>> {
        answers
            .iter()
            .filter(|(x, _)| *x == a)
            .map(|(_, b)| b)
            .collect()
    };
    let (h, e) = (of(hap_addr), of(edge_addr));
    let h408 = h.iter().filter(|b| b.starts_with(b"HTTP/1.1 408")).count();
    let reference = h.first().map(|b| b.to_vec()).unwrap_or_default();
    let same = e.iter().filter(|b| **b == &reference).count();
    eprintln!(
        "slowloris: {SLOW} slow clients each; haproxy answered {h408} with 408, wtedge {same} \
         with HAProxy's 408 bytes; others served {}/20 (haproxy) {}/20 (wtedge); \
         RSS {} -> {} KiB during",
        served.0,
        served.1,
        kib(rss_before),
        kib(rss_during)
    );
    assert_eq!(h408, SLOW, "HAProxy's own answer to slowloris");
    assert_eq!(same, SLOW, "wtedge: {:?}", String::from_utf8_lossy(e[0]));
    assert_eq!(served, (20, 20));
    // 2,000 connections open (both proxies' clients are in this process).
    assert!(
        kib(rss_during) - kib(rss_before) < 64 << 10,
        "RSS {rss_before:?} -> {rss_during:?} KiB"
    );
}

/// 300 connections at once, each with one request, against `maxconn 20` (global)
/// and a server `maxconn 4` (`timeout queue 30s`). As in HAProxy: the listen
/// backlog is the frontend's maxconn (the global one here); connections above
/// maxconn wait in it, those beyond it are refused by the kernel (a reset before
/// any answer; how many depends on timing, in HAProxy too); the requests above the
/// server's maxconn wait in the queue and are served; the server never has more
/// than 4 at once.
#[test]
fn flood_over_maxconn_is_queued() {
    let _g = serial();
    let cfg = "global\n maxconn 20\ndefaults\n mode http\n timeout connect 1s\n timeout client 30s\n\
               timeout server 30s\n timeout queue 30s\nfrontend fe\n bind 127.0.0.1:1\n\
               default_backend b\nbackend b\n server s1 127.0.0.1:1 maxconn 4\n";
    let pair = Beside::start(cfg, "flood.cfg", false);
    let (hap, (oh, oe)) = (&pair.hap, pair.origins.clone());
    let (hap_addr, edge_addr) = (pair.hap_addr, pair.edge_addr);
    let backlogs = (
        listen_backlogs(hap_addr.port()),
        listen_backlogs(edge_addr.port()),
    );
    const FLOOD: usize = 300;
    let hap_rss0 = rss_kib(hap.pid());
    let rss0 = own_rss_kib();
    // Both floods at once, each client timing its connect.
    let flood = |addr: SocketAddr| -> Vec<(String, Duration)> {
        std::thread::scope(|s| {
            let ts: Vec<_> = (0..FLOOD)
                .map(|_| {
                    s.spawn(move || {
                        let t = Instant::now();
                        let r = get_waiting(addr, "/delay/20", Duration::from_secs(20));
                        (r, t.elapsed())
                    })
                })
                .collect();
            ts.into_iter()
                .map(|t| t.join().unwrap_or_default())
                .collect()
        })
    };
    let (h, e) = std::thread::scope(|s| {
        let h = s.spawn(|| flood(hap_addr));
        let e = s.spawn(|| flood(edge_addr));
        (h.join().unwrap_or_default(), e.join().unwrap_or_default())
    });
    let (hap_rss1, rss1) = (rss_kib(hap.pid()), own_rss_kib());
    pair.stop();
    let ok =
        |v: &[(String, Duration)]| v.iter().filter(|r| r.0.starts_with("HTTP/1.1 200")).count();
    let slowest = |v: &[(String, Duration)]| v.iter().map(|r| r.1).max().unwrap_or_default();
    let kinds = |v: &[(String, Duration)]| {
        let mut m = std::collections::BTreeMap::<String, (usize, Duration)>::new();
        for (r, t) in v {
            let e = m.entry(first_line(r).to_string()).or_default();
            e.0 += 1;
            e.1 = e.1.max(*t);
        }
        m
    };
    eprintln!(
        "flood answers: haproxy {:?}\n  wtedge {:?}",
        kinds(&h),
        kinds(&e)
    );
    eprintln!(
        "flood: {FLOOD} connections to each at once; listen backlogs {backlogs:?}; \
         haproxy {} x 200, server peak {}, slowest {:?} (RSS {} -> {} KiB); \
         wtedge {} x 200, server peak {}, slowest {:?} (test process RSS {} -> {} KiB)",
        ok(&h),
        oh.peak_in_progress(),
        slowest(&h),
        kib(hap_rss0),
        kib(hap_rss1),
        ok(&e),
        oe.peak_in_progress(),
        slowest(&e),
        kib(rss0),
        kib(rss1),
    );
    assert_eq!(backlogs.0, [20], "HAProxy's backlog is its maxconn");
    assert!(
        !backlogs.1.is_empty() && backlogs.1.iter().all(|&b| b == 20),
        "wtedge's backlog: {backlogs:?}"
    );
    // A connection is served, or refused by the kernel (the backlog was full): a
    // reset before any answer. Never a 503, never an answer cut short.
    let refused = |r: &str| r.starts_with("<read: Connection reset") || r.starts_with("<connect:");
    for (who, v) in [("haproxy", &h), ("wtedge", &e)] {
        let odd: Vec<_> = v
            .iter()
            .filter(|r| !r.0.starts_with("HTTP/1.1 200") && !refused(&r.0))
            .collect();
        assert!(odd.is_empty(), "{who}: {odd:?}");
        // At least maxconn accepted and a backlog's worth queued.
        assert!(ok(v) >= 40, "{who}: {} served", ok(v));
    }
    assert!(oh.peak_in_progress() <= 4, "HAProxy's peak");
    assert!(oe.peak_in_progress() <= 4, "server maxconn exceeded");
    assert!(kib(rss1) - kib(rss0) < 64 << 10, "RSS {rss0:?} -> {rss1:?}");
}

/// A server that sends an endless response head gets HAProxy's 502 (the head does
/// not fit `tune.bufsize`); one that sends an endless body to a client that does not
/// read is held back by the sockets' flow control: what it manages to write stays
/// bounded, and so does memory. Once the client leaves, the server's connection is
/// closed.
#[test]
fn endless_head_and_body_are_bounded() {
    let _g = serial();
    let cfg = "defaults\n mode http\n timeout connect 1s\n timeout client 5s\n timeout server 5s\n\
               frontend fe\n bind 127.0.0.1:1\n default_backend b\nbackend b\n server s1 127.0.0.1:1\n";
    let pair = Beside::start(cfg, "endless.cfg", false);
    let (hap, (oh, oe)) = (&pair.hap, pair.origins.clone());
    let (hap_addr, edge_addr) = (pair.hap_addr, pair.edge_addr);

    let h = get(hap_addr, "/endless-head");
    let e = get(edge_addr, "/endless-head");
    eprintln!(
        "endless head: haproxy {:?}, wtedge {:?}; the servers wrote {} / {} bytes",
        first_line(&h),
        first_line(&e),
        oh.written(),
        oe.written()
    );
    assert!(h.starts_with("HTTP/1.1 502"), "HAProxy: {h:?}");
    assert_eq!(e, h, "wtedge must answer HAProxy's 502");

    let (h0, e0) = (oh.written(), oe.written());
    let hap_rss0 = rss_kib(hap.pid());
    let rss0 = own_rss_kib();
    let hold = |addr| -> TcpStream {
        let mut s = connect(addr).unwrap_or_else(|e| panic!("connect: {e}"));
        let _ = s.write_all(b"GET /endless-body HTTP/1.1\r\nHost: x\r\n\r\n");
        let mut b = [0u8; 1024];
        let n = s.read(&mut b).unwrap_or(0);
        assert!(b[..n].starts_with(b"HTTP/1.1 200"), "{:?}", &b[..n]);
        s
    };
    let (hs, es) = (hold(hap_addr), hold(edge_addr));
    // The client reads nothing more for 3 s.
    std::thread::sleep(Duration::from_secs(3));
    let (hw, ew) = (oh.written() - h0, oe.written() - e0);
    let (hap_rss1, rss1) = (rss_kib(hap.pid()), own_rss_kib());
    drop((hs, es));
    let left = (
        oh.settle(Duration::from_secs(8)),
        oe.settle(Duration::from_secs(8)),
    );
    pair.stop();
    eprintln!(
        "endless body, client not reading for 3 s: the server wrote {} KiB through haproxy \
         (RSS {} -> {} KiB), {} KiB through wtedge (test process RSS {} -> {} KiB); \
         server connections left open after the client left: {left:?}",
        hw / 1024,
        kib(hap_rss0),
        kib(hap_rss1),
        ew / 1024,
        kib(rss0),
        kib(rss1)
    );
    // Socket buffers on loopback autotune to a few MiB each; four of them lie between
    // the server and the client.
    assert!(ew < 32 << 20, "wtedge buffered {ew} bytes");
    assert!(
        kib(rss1) - kib(rss0) < 32 << 10,
        "RSS grew from {rss0:?} to {rss1:?}"
    );
    assert_eq!(left, (0, 0), "server connections left open");
}

/// Clients that reset, half-close or go silent past the timeouts in each phase of
/// an exchange (request head, request body, waiting for the server, response body,
/// WebSocket tunnel), all at once: HAProxy's log line of each is compared with
/// wtedge's (status and termination state), neither leaves a server connection
/// open, and both serve the next request.
#[test]
fn half_closed_and_reset_clients_in_every_phase() {
    let _g = serial();
    let cfg = "defaults\n mode http\n option httplog\n option http-server-close\n\
               timeout connect 1s\n timeout client 2s\n timeout server 3s\n timeout tunnel 3s\n\
               timeout http-request 2s\nfrontend fe\n bind 127.0.0.1:1\n default_backend b\n\
               backend b\n server s1 127.0.0.1:1\n";
    let pair = Beside::start(cfg, "phases.cfg", true);
    let (hap, (oh, oe)) = (&pair.hap, pair.origins.clone());
    let (hap_addr, edge_addr) = (pair.hap_addr, pair.edge_addr);
    let cases = phase_cases();
    std::thread::scope(|s| {
        for c in &cases {
            s.spawn(move || c.play(hap_addr));
            s.spawn(move || c.play(edge_addr));
        }
    });
    let left = (
        oh.settle(Duration::from_secs(6)),
        oe.settle(Duration::from_secs(6)),
    );
    let after = (get(hap_addr, "/after"), get(edge_addr, "/after"));
    // Every line is written by now (the longest case ends within the timeouts).
    std::thread::sleep(Duration::from_millis(500));
    let hap_lines: Vec<String> = hap
        .log_text()
        .lines()
        .filter(|l| l.starts_with("127.0.0.1:"))
        .map(str::to_string)
        .collect();
    let edge_lines: Vec<String> = pair.lines.iter().flat_map(|l| l.try_iter()).collect();
    pair.stop();
    let (h, e) = (by_case(&hap_lines), by_case(&edge_lines));
    eprintln!(
        "half-closed and reset clients: {} cases; server connections left {left:?}\n  haproxy {h:?}\n  wtedge  {e:?}",
        cases.len()
    );
    assert_eq!(left, (0, 0), "server connections left open");
    assert!(after.0.starts_with("HTTP/1.1 200") && after.1.starts_with("HTTP/1.1 200"));
    assert_eq!(
        e,
        h,
        "termination states and statuses (wtedge vs HAProxy)\n{}\n{}",
        hap_lines.join("\n"),
        edge_lines.join("\n")
    );
}

/// A client's `X-Forwarded-For` (or `Forwarded`, `X-Real-IP`) never stands for its
/// source: `src` ACLs and `balance source` see the real address, as in HAProxy, and
/// the server gets the real address last. Requests on the proxy port that name the
/// admin endpoints or carry runtime API commands are routed as any request, never
/// acted on: the server stays ready.
#[test]
fn forwarded_headers_and_admin_port_are_not_trusted() {
    let _g = serial();
    let cfg = "defaults\n mode http\n timeout connect 1s\n timeout client 5s\n timeout server 5s\n\
               frontend fe\n bind 127.0.0.1:1\n option forwardfor\n acl lan src 10.0.0.0/8\n\
               use_backend inside if lan\n default_backend outside\n\
               backend inside\n server i1 127.0.0.1:1\n\
               backend outside\n balance source\n server o1 127.0.0.1:2\n server o2 127.0.0.1:3\n\
               server o3 127.0.0.1:4\n";
    let hap = Haproxy::start(cfg, false).unwrap_or_else(|e| panic!("{e}"));
    let (text, addrs) = hap.config_for_wtedge().unwrap_or_else(|e| panic!("{e}"));
    let admin = SocketAddr::from(([127, 0, 0, 1], free_port()));
    let cli = SocketAddr::from(([127, 0, 0, 1], free_port()));
    let text = with_stats_socket(&text, cli);
    let options = Options {
        admin: Some(admin),
        logger: Logger::none(),
        grace: Duration::from_secs(2),
        engine: Default::default(),
    };
    let edge =
        common::wtedge_with(&text, addrs, "trust.cfg", options).unwrap_or_else(|e| panic!("{e}"));
    let hap_addr = hap.frontend_addr(None).unwrap_or_else(|e| panic!("{e}"));
    let edge_addr = edge.addrs[0].1;
    let requests = untrusted_requests(admin, cli);
    let mut diffs = Vec::new();
    let mut servers = std::collections::BTreeSet::new();
    for (what, req) in &requests {
        let h = send_request(hap_addr, req);
        let w = send_request(edge_addr, req);
        if let Some(r) = h.as_ref().ok().and_then(|r| r.report()) {
            servers.insert(format!("{}/{}", r.backend, r.server));
            // The real source is the last X-Forwarded-For value the server gets.
            if r.xff.last().map(String::as_str) != Some("127.0.0.1") {
                diffs.push(format!("{what}: HAProxy sent xff {:?}", r.xff));
            }
        }
        let (h, w) = (observe(&h), observe(&w));
        if h != w {
            diffs.push(format!("{what}: haproxy {h}, wtedge {w}"));
        }
    }
    // The runtime API still sees the server ready, and the proxy still serves.
    let g = edge.running.generation();
    let o1 = g
        .config()
        .server_id("outside", "o1")
        .unwrap_or_else(|| panic!("no outside/o1"));
    let state = cli_command(cli, "show servers state outside");
    // The admin endpoint is there (the requests above could have reached it).
    let admin_page = get(admin, "/stats.json");
    let after = get(edge_addr, "/");
    edge.rt.block_on(edge.running.stop());
    eprintln!(
        "untrusted headers and admin requests: {} requests, servers that answered: {servers:?}",
        requests.len()
    );
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
    assert_eq!(
        servers.len(),
        1,
        "balance source and src ACLs must see one source: {servers:?}"
    );
    assert!(servers.iter().all(|s| s.starts_with("outside/")));
    assert!(g.engine.is_up(o1), "outside/o1 must stay UP");
    assert!(admin_page.starts_with("HTTP/1.1 200"), "{admin_page}");
    assert!(after.starts_with("HTTP/1.1 200"), "{after}");
    // `show servers state`: srv_admin_state (the 7th field) 0 for every server.
    let admin_states: Vec<&str> = state
        .lines()
        .filter(|l| l.starts_with(|c: char| c.is_ascii_digit()))
        .filter_map(|l| l.split_whitespace().nth(6))
        .collect();
    assert_eq!(admin_states, ["0", "0", "0"], "{state}");
}

/// HAProxy and wtedge on `cfg`, each in front of an origin of its own (the first
/// server line's port), so that each origin's counters are one proxy's.
struct Beside {
    hap: Haproxy,
    edge: common::Edge,
    /// HAProxy's origin, wtedge's origin.
    origins: (Origin, Origin),
    /// wtedge's access log (when `logs`; HAProxy's is in `hap.log_text()`).
    lines: Option<std::sync::mpsc::Receiver<String>>,
    hap_addr: SocketAddr,
    edge_addr: SocketAddr,
}

impl Beside {
    fn start(cfg: &str, name: &str, logs: bool) -> Beside {
        let origins = (
            Origin::start().unwrap_or_else(|e| panic!("{e}")),
            Origin::start().unwrap_or_else(|e| panic!("{e}")),
        );
        let hp = origins.0.port();
        let hap = if logs {
            Haproxy::start_logging(cfg, &|_, _| Some(hp))
        } else {
            Haproxy::start_with(cfg, false, &|_, _| Some(hp))
        }
        .unwrap_or_else(|e| panic!("{e}"));
        let (text, addrs) = hap.config_for_wtedge().unwrap_or_else(|e| panic!("{e}"));
        let text = text.replace(
            &format!("127.0.0.1:{hp}"),
            &format!("127.0.0.1:{}", origins.1.port()),
        );
        let (logger, lines) = if logs {
            let (l, rx) = Logger::channel(true);
            (l, Some(rx))
        } else {
            (Logger::none(), None)
        };
        let edge = common::wtedge_on(
            &text,
            addrs,
            name,
            logger,
            Default::default(),
            Duration::from_secs(2),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let hap_addr = hap.frontend_addr(None).unwrap_or_else(|e| panic!("{e}"));
        let edge_addr = edge.addrs[0].1;
        Beside {
            hap,
            edge,
            origins,
            lines,
            hap_addr,
            edge_addr,
        }
    }

    fn stop(self) {
        self.edge.rt.block_on(self.edge.running.stop());
    }
}

/// The SIGHUP drill's load: 4 keep-alive and 2 connection-per-request threads.
fn hup_load(addr: SocketAddr) -> Load {
    Load {
        addr,
        target: "/".into(),
        keep_alive: 4,
        close: 2,
    }
}

/// The SIGHUP drill's load against HAProxy 2.6 in master-worker mode (`-W`), reloaded
/// with SIGUSR2 every 200 ms for `seconds`: the tally and the number of reloads.
fn haproxy_reload_figures(
    cfg: &str,
    port: u16,
    seconds: u64,
) -> Result<(wtedge_tests::drill::load::Tally, u32), String> {
    let bin = wtedge_tests::haproxy::binary()?;
    let dir = TempDir::new("drill-hup-haproxy")?;
    let path = dir.path().join("haproxy.cfg");
    std::fs::write(&path, cfg).map_err(|e| format!("write: {e}"))?;
    let mut master = std::process::Command::new(bin)
        .args(["-W", "-db", "-f"])
        .arg(&path)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map_err(|e| format!("spawn haproxy: {e}"))?;
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let listening = wait_for(Duration::from_secs(10), || TcpStream::connect(addr).is_ok());
    let load = hup_load(addr);
    let stop = AtomicBool::new(false);
    let started = Instant::now();
    let mut reloads = 0;
    let tally = std::thread::scope(|s| {
        let clients = s.spawn(|| load.run(&stop));
        while listening && started.elapsed() < Duration::from_secs(seconds) {
            std::thread::sleep(Duration::from_millis(200));
            send_signal(master.id(), "USR2");
            reloads += 1;
        }
        stop.store(true, Ordering::Relaxed);
        clients.join().unwrap_or_default()
    });
    send_signal(master.id(), "TERM");
    let _ = master.wait();
    if !listening {
        return Err("HAProxy -W did not listen".into());
    }
    Ok((tally, reloads))
}

/// A one-thread runtime for the mock servers or the clients a drill runs.
fn client_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("runtime: {e}"))
}

/// A loopback port free now.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("free port: {e}"))
}

/// `kill -SIG pid` with the shell's builtin (no extra crate).
fn send_signal(pid: u32, sig: &str) {
    let ok = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("kill -{sig} {pid}"))
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "kill -{sig} {pid}");
}

/// Polls `done` every 10 ms until it holds or `limit` passed; whether it held.
fn wait_for(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if done() {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// HAProxy's `srv_op_state` of `backend/server` (0 DOWN, 2 UP).
fn hap_state(hap: &Haproxy, backend: &str, server: &str) -> Option<u8> {
    hap.server_states()
        .ok()?
        .get(&(backend.to_string(), server.to_string()))
        .copied()
}

/// The first line of an answer.
fn first_line(answer: &str) -> &str {
    answer.lines().next().unwrap_or("")
}

fn send_request(addr: SocketAddr, req: &Request) -> std::io::Result<Response> {
    client::send(addr, Source::Loopback(std::net::Ipv4Addr::LOCALHOST), req)
}

/// What happened to a request: the outcome (server, redirect, status) or no answer.
fn observe(r: &std::io::Result<Response>) -> String {
    match r {
        Ok(r) => wtedge_tests::run::observe(r).outcome.to_string(),
        Err(_) => "no answer".into(),
    }
}
