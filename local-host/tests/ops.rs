//! Health checks (TCP and `option httpchk`, rise/fall, track) and the admin endpoints.

mod common;

use std::time::{Duration, Instant};

use common::*;
use local_host::access_log::Logger;
use local_host::run::{Options, Running};

async fn wait_for(what: &str, limit: Duration, mut f: impl FnMut() -> bool) -> Duration {
    let t = Instant::now();
    while !f() {
        assert!(t.elapsed() < limit, "{what}: not within {limit:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    t.elapsed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn httpchk_marks_a_5xx_server_down_and_its_tracker_follows() {
    let good = RawOrigin::start(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n").await;
    let bad = RawOrigin::start(b"HTTP/1.1 500 Oops\r\nContent-Length: 0\r\n\r\n").await;
    let port = free_port();
    let cfg = format!(
        "defaults\n mode http\n timeout connect 1s\n timeout client 5s\n timeout server 5s\n option httpchk GET /health\n timeout check 1s\nfrontend fe\n bind 127.0.0.1:{port}\n default_backend b\nbackend b\n server good {} check inter 50 rise 2 fall 2\n server bad {} check inter 50 rise 2 fall 2\nbackend t\n server follower {} track b/bad\n",
        good.addr, bad.addr, bad.addr
    );
    let (wt, _log) = start(&cfg).await;
    let g = wt.generation();
    let cfg = g.config();
    let (gid, bid, fid) = (
        cfg.server_id("b", "good").unwrap(),
        cfg.server_id("b", "bad").unwrap(),
        cfg.server_id("t", "follower").unwrap(),
    );
    wait_for("b/bad DOWN", Duration::from_secs(3), || {
        !g.engine.is_up(bid)
    })
    .await;
    assert!(!g.engine.is_up(fid), "the tracking server follows");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(g.engine.is_up(gid), "2xx keeps b/good UP");
    let seen = good.requests();
    assert!(
        seen.iter()
            .any(|r| r.starts_with("GET /health HTTP/1.0\r\n")),
        "{seen:?}"
    );
    // Every request now goes to the good server.
    for _ in 0..4 {
        let r = raw(
            ([127, 0, 0, 1], port).into(),
            b"GET /x HTTP/1.1\r\n\r\n",
            Duration::from_millis(300),
        )
        .await;
        assert_eq!(status_of(&r), 200);
    }
    wt.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_checks_fall_and_rise() {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let port = free_port();
    let cfg = format!(
        "defaults\n mode http\n timeout connect 1s\n timeout client 5s\n timeout server 5s\nfrontend fe\n bind 127.0.0.1:{port}\n default_backend b\nbackend b\n server s {addr} check inter 50 rise 3 fall 2\n"
    );
    let (wt, _log) = start(&cfg).await;
    let g = wt.generation();
    let sid = g.config().server_id("b", "s").unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(g.engine.is_up(sid), "the listener accepts: UP");
    drop(l);
    wait_for("DOWN after fall", Duration::from_secs(2), || {
        !g.engine.is_up(sid)
    })
    .await;
    let _l = tokio::net::TcpListener::bind(addr).await.unwrap();
    let took = wait_for("UP after rise", Duration::from_secs(2), || {
        g.engine.is_up(sid)
    })
    .await;
    assert!(
        took >= Duration::from_millis(90),
        "rise 3 at inter 50 ms took {took:?}"
    );
    wt.stop().await;
}

/// wtedge on `cfg` with its admin listener on `admin_port` and the default engine
/// (router-core as wasm in wasmtime).
async fn start_with_admin(name: &str, cfg: &str, admin_port: u16) -> Running {
    Running::start(
        name,
        cfg,
        Options {
            admin: Some(([127, 0, 0, 1], admin_port).into()),
            logger: Logger::none(),
            grace: Duration::from_secs(2),
            engine: Default::default(),
        },
    )
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_endpoints() {
    let origin = RawOrigin::start(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok").await;
    let port = free_port();
    let admin_port = free_port();
    let cfg = one_backend(port, origin.addr, "");
    let wt = start_with_admin("admin.cfg", &cfg, admin_port).await;
    let front: std::net::SocketAddr = ([127, 0, 0, 1], port).into();
    for _ in 0..3 {
        raw(front, b"GET / HTTP/1.1\r\n\r\n", Duration::from_millis(200)).await;
    }
    let admin: std::net::SocketAddr = ([127, 0, 0, 1], admin_port).into();
    let body = |r: Vec<u8>| {
        let s = String::from_utf8_lossy(&r).to_string();
        s.split_once("\r\n\r\n")
            .map(|x| x.1.to_string())
            .unwrap_or_default()
    };
    let json = body(
        raw(
            admin,
            b"GET /stats.json HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
            Duration::from_millis(500),
        )
        .await,
    );
    let v: serde_json::Value =
        serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}: {json}"));
    let b = v["proxies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "b")
        .unwrap();
    assert_eq!(b["servers"][0]["name"], "s1");
    assert_eq!(b["servers"][0]["total"], 3);
    assert_eq!(b["servers"][0]["responses"][1], 3);
    let metrics = body(
        raw(
            admin,
            b"GET /metrics HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
            Duration::from_millis(500),
        )
        .await,
    );
    assert!(
        metrics.contains("wtedge_server_requests_total{proxy=\"b\",server=\"s1\"} 3"),
        "{metrics}"
    );
    assert!(
        metrics.contains("wtedge_proxy_responses_total{proxy=\"fe\",code=\"2xx\"} 3"),
        "{metrics}"
    );
    assert!(metrics.contains("# TYPE wtedge_server_up gauge"));
    let html = body(
        raw(
            admin,
            b"GET /stats HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
            Duration::from_millis(500),
        )
        .await,
    );
    assert!(
        html.starts_with("<!DOCTYPE html>") && html.contains("<td>s1</td>"),
        "{html}"
    );
    wt.stop().await;
}

/// A 503 because the chosen backend has no usable server counts against that
/// backend (HAProxy's stats count it in the backend's 5xx), not only the frontend.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_server_503_counts_against_the_backend() {
    let (port, admin_port) = (free_port(), free_port());
    let cfg = format!(
        "defaults\n mode http\n timeout connect 1000\n timeout client 5000\n timeout server 5000\n\
         frontend fe\n bind 127.0.0.1:{port}\n default_backend wt\n\
         backend wt\n server s 127.0.0.1:1 disabled\n"
    );
    let wt = start_with_admin("nosrv.cfg", &cfg, admin_port).await;
    let front: std::net::SocketAddr = ([127, 0, 0, 1], port).into();
    for _ in 0..2 {
        let r = raw(
            front,
            b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n",
            Duration::from_millis(500),
        )
        .await;
        assert_eq!(status_of(&r), 503);
    }
    let r = raw(
        ([127, 0, 0, 1], admin_port).into(),
        b"GET /stats.json HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
        Duration::from_millis(500),
    )
    .await;
    let text = String::from_utf8_lossy(&r).to_string();
    let json = text.split_once("\r\n\r\n").map(|x| x.1).unwrap_or_default();
    let v: serde_json::Value = serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}: {json}"));
    let proxy = |name: &str| {
        v["proxies"]
            .as_array()
            .and_then(|ps| ps.iter().find(|p| p["name"] == name))
            .cloned()
            .unwrap_or_else(|| panic!("no {name} in {json}"))
    };
    assert_eq!(proxy("wt")["responses"][4], 2, "{json}");
    assert_eq!(proxy("fe")["responses"][4], 2, "{json}");
    wt.stop().await;
}
