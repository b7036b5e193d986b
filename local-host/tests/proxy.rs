//! The proxy over real sockets against raw origins: what the server receives, what the
//! client gets, HAProxy's error answers, timeouts, streaming, WebSocket tunnels.

mod common;

use std::time::Duration;

use common::*;

const OK: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Up: 1\r\n\r\nok";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwards_as_haproxy_does() {
    let origin = RawOrigin::start(OK).await;
    let port = free_port();
    let (wt, log) = start(&one_backend(port, origin.addr, "")).await;
    let addr: std::net::SocketAddr = ([127, 0, 0, 1], port).into();
    let resp = raw(
        addr,
        b"GET /a?wtd=wt1x%41/../b HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 1.2.3.4\r\nConnection: keep-alive\r\nAccept-Encoding: gzip\r\nX-A: 1\r\n\r\n",
        Duration::from_millis(300),
    )
    .await;
    assert_eq!(
        String::from_utf8_lossy(&resp),
        "HTTP/1.1 200 OK\r\ncontent-length: 2\r\nx-up: 1\r\n\r\nok"
    );
    let seen = origin.requests();
    // HAProxy 2.6.12 sent exactly this for the same request (captured).
    assert_eq!(
        seen[0],
        "GET /a?wtd=wt1x%41/../b HTTP/1.1\r\nhost: x\r\nx-forwarded-for: 1.2.3.4\r\naccept-encoding: gzip\r\nx-a: 1\r\nx-forwarded-for: 127.0.0.1\r\nx-original-to: 127.0.0.1\r\n\r\n"
    );
    // HTTP/1.0 gets connection: keep-alive; absolute form is passed unchanged.
    raw(
        addr,
        b"GET http://x/p?q HTTP/1.0\r\nHost: x\r\n\r\n",
        Duration::from_millis(300),
    )
    .await;
    assert_eq!(
        origin.requests()[1],
        "GET http://x/p?q HTTP/1.0\r\nhost: x\r\nx-forwarded-for: 127.0.0.1\r\nx-original-to: 127.0.0.1\r\nconnection: keep-alive\r\n\r\n"
    );
    let line = log.recv_timeout(Duration::from_secs(2)).unwrap();
    assert!(line.starts_with("127.0.0.1:"), "{line}");
    assert!(
        line.contains(" fe b/s1 ")
            && line.contains(" 200 56 - - ---- ")
            && line.ends_with(" 0/0 \"GET /a?wtd=wt1**** HTTP/1.1\""),
        "{line}"
    );
    wt.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn error_answers_are_haproxys() {
    // 503: the only server refuses connections (after 3 retries, 1 s turn-around each
    // with timeout connect 1000 -> use a short connect timeout to keep the test fast).
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let port = free_port();
    let cfg = one_backend(port, dead, "").replace("timeout connect 1000", "timeout connect 100");
    let (wt, log) = start(&cfg).await;
    let addr: std::net::SocketAddr = ([127, 0, 0, 1], port).into();
    let t = std::time::Instant::now();
    let resp = raw(
        addr,
        b"GET /x HTTP/1.1\r\nHost: x\r\n\r\n",
        Duration::from_millis(1500),
    )
    .await;
    assert_eq!(
        String::from_utf8_lossy(&resp),
        "HTTP/1.1 503 Service Unavailable\r\ncontent-length: 107\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>503 Service Unavailable</h1>\nNo server is available to handle this request.\n</body></html>\n"
    );
    assert!(
        t.elapsed() >= Duration::from_millis(300),
        "3 turn-arounds of min(connect, 1s)"
    );
    let line = log.recv_timeout(Duration::from_secs(2)).unwrap();
    // With option redispatch the last retry reassigns: Tw is the time until then.
    let tw: u64 = line
        .split(' ')
        .nth(4)
        .unwrap()
        .split('/')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        line.contains(" fe b/s1 0/")
            && line.contains("/-1/-1/")
            && (250..600).contains(&tw)
            && line.contains(" 503 217 - - SC-- 1/1/0/0/3 0/0 "),
        "{line}"
    );
    wt.stop().await;

    // 502: garbage from the server. 504: no answer within timeout server.
    let garbage = RawOrigin::start(b"garbage\r\n\r\n").await;
    let port = free_port();
    let (wt, _log) = start(&one_backend(port, garbage.addr, "")).await;
    let resp = raw(
        ([127, 0, 0, 1], port).into(),
        b"GET / HTTP/1.1\r\n\r\n",
        Duration::from_millis(300),
    )
    .await;
    assert!(
        resp.starts_with(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 107\r\n"),
        "{}",
        String::from_utf8_lossy(&resp)
    );
    assert!(
        resp.ends_with(b"The server returned an invalid or incomplete response.\n</body></html>\n")
    );
    wt.stop().await;

    let slow = RawOrigin::start_with(OK, Duration::from_secs(3)).await;
    let port = free_port();
    let cfg = one_backend(port, slow.addr, "").replace("timeout server 5000", "timeout server 300");
    let (wt, _log) = start(&cfg).await;
    let resp = raw(
        ([127, 0, 0, 1], port).into(),
        b"GET / HTTP/1.1\r\n\r\n",
        Duration::from_millis(800),
    )
    .await;
    assert_eq!(
        String::from_utf8_lossy(&resp),
        "HTTP/1.1 504 Gateway Time-out\r\ncontent-length: 92\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>504 Gateway Time-out</h1>\nThe server didn't respond in time.\n</body></html>\n"
    );
    wt.stop().await;
}

/// A 503 because the chosen backend has no usable server names that backend, as
/// HAProxy 2.6.12 logged for this config (captured):
/// `fe wt/<NOSRV> 0/-1/-1/-1/0 503 217 - - SC-- 1/1/0/0/0 0/0 "GET /x HTTP/1.1"`,
/// `fe fe/<NOSRV> -1/-1/-1/-1/0 503 217 - - SC-- 1/1/0/0/0 0/0 "GET /none HTTP/1.1"`
/// when no backend was chosen, `lis lis/<NOSRV> 0/-1/-1/-1/0 503 ...` for a listen.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_server_503_names_the_backend() {
    let (port, listen_port) = (free_port(), free_port());
    let cfg = format!(
        "defaults\n mode http\n option httplog\n timeout connect 1000\n timeout client 5000\n timeout server 5000\n\
         frontend fe\n bind 127.0.0.1:{port}\n use_backend wt unless {{ path_beg /none }}\n\
         backend wt\n server s 127.0.0.1:1 disabled\n\
         listen lis\n bind 127.0.0.1:{listen_port}\n server s 127.0.0.1:1 disabled\n"
    );
    let (wt, log) = start(&cfg).await;
    for (port, target, want) in [
        (port, "/x", " fe wt/<NOSRV> 0/-1/-1/-1/"),
        (port, "/none", " fe fe/<NOSRV> -1/-1/-1/-1/"),
        (listen_port, "/y", " lis lis/<NOSRV> 0/-1/-1/-1/"),
    ] {
        let req = format!("GET {target} HTTP/1.1\r\nHost: x\r\n\r\n");
        let resp = raw(
            ([127, 0, 0, 1], port).into(),
            req.as_bytes(),
            Duration::from_millis(200),
        )
        .await;
        assert_eq!(status_of(&resp), 503, "{}", String::from_utf8_lossy(&resp));
        let line = log.recv_timeout(Duration::from_secs(2)).unwrap();
        // (The connection counters are left out: the previous request's connection
        // may not be closed yet when this line is written.)
        let rest = format!(" 0/0 \"GET {target} HTTP/1.1\"");
        assert!(
            line.contains(want) && line.contains(" 503 217 - - SC-- ") && line.ends_with(&rest),
            "{line}\nwant {want:?} ... {rest:?}"
        );
    }
    wt.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_and_incomplete_requests() {
    let origin = RawOrigin::start(OK).await;
    let port = free_port();
    let cfg = one_backend(port, origin.addr, " timeout http-request 300\n");
    let (wt, log) = start(&cfg).await;
    let addr: std::net::SocketAddr = ([127, 0, 0, 1], port).into();
    let resp = raw(
        addr,
        b"GET / HTTP/1.1 x\r\n\r\n",
        Duration::from_millis(300),
    )
    .await;
    // HAProxy 2.6.12's bytes, captured.
    assert_eq!(
        resp,
        &b"HTTP/1.1 400 Bad request\r\nContent-length: 90\r\nCache-Control: no-cache\r\nConnection: close\r\nContent-Type: text/html\r\n\r\n<html><body><h1>400 Bad request</h1>\nYour browser sent an invalid request.\n</body></html>\n"[..]
    );
    let line = log.recv_timeout(Duration::from_secs(2)).unwrap();
    assert!(
        // Ta (the last timer) is elapsed time: any value.
        line.contains(" fe fe/<NOSRV> -1/-1/-1/-1/")
            && line.ends_with(" 400 0 - - PR-- 1/1/0/0/0 0/0 \"<BADREQ>\""),
        "{line}"
    );
    let resp = raw(addr, b"GET / HTTP/1.1\r\n", Duration::from_millis(1000)).await;
    assert_eq!(
        resp,
        &b"HTTP/1.1 408 Request Time-out\r\nContent-length: 110\r\nCache-Control: no-cache\r\nConnection: close\r\nContent-Type: text/html\r\n\r\n<html><body><h1>408 Request Time-out</h1>\nYour browser didn't send a complete request in time.\n</body></html>\n"[..]
    );
    assert!(origin.requests().is_empty());
    wt.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keep_alive_and_chunked_bodies_both_ways() {
    let origin = RawOrigin::start(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nKeep-Alive: timeout=5\r\nConnection: keep-alive\r\n\r\n3\r\nabc\r\n0\r\n\r\n").await;
    let port = free_port();
    let (wt, _log) = start(&one_backend(port, origin.addr, "")).await;
    let addr: std::net::SocketAddr = ([127, 0, 0, 1], port).into();
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    use tokio::io::AsyncWriteExt;
    for i in 0..3 {
        s.write_all(b"POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n").await.unwrap();
        let resp = read_until_quiet(&mut s, Duration::from_millis(300)).await;
        assert_eq!(
            String::from_utf8_lossy(&resp),
            "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\nkeep-alive: timeout=5\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
            "request {i} on one connection"
        );
    }
    let seen = origin.requests();
    assert_eq!(seen.len(), 3);
    assert!(
        seen[0].ends_with("x-original-to: 127.0.0.1\r\n\r\n3\r\nabc\r\n0\r\n\r\n"),
        "{}",
        seen[0]
    );
    assert!(seen[0].contains("transfer-encoding: chunked\r\n"));
    wt.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirects_are_answered_by_wtedge() {
    let port = free_port();
    let cfg = format!(
        "defaults\n mode http\n timeout client 5s\nfrontend fe\n bind 127.0.0.1:{port}\n redirect location /wt1 if {{ path_beg /r }}\n redirect location /x code 301 if {{ path_beg /p }}\n"
    );
    let (wt, log) = start(&cfg).await;
    let addr: std::net::SocketAddr = ([127, 0, 0, 1], port).into();
    let r = raw(
        addr,
        b"GET /r?x=1 HTTP/1.1\r\nHost: a\r\n\r\n",
        Duration::from_millis(200),
    )
    .await;
    assert_eq!(
        String::from_utf8_lossy(&r),
        "HTTP/1.1 302 Found\r\ncontent-length: 0\r\nlocation: /wt1\r\ncache-control: no-cache\r\n\r\n"
    );
    let line = log.recv_timeout(Duration::from_secs(2)).unwrap();
    assert!(
        line.contains(" fe fe/<NOSRV> 0/-1/-1/-1/") && line.contains(" 302 85 - - LR-- "),
        "{line}"
    );
    let r = raw(addr, b"GET /p HTTP/1.0\r\n\r\n", Duration::from_millis(200)).await;
    assert_eq!(
        String::from_utf8_lossy(&r),
        "HTTP/1.1 301 Moved Permanently\r\ncontent-length: 0\r\nlocation: /x\r\nconnection: close\r\n\r\n"
    );
    wt.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_maxconn_queues_then_503_on_timeout_queue() {
    let slow = RawOrigin::start_with(OK, Duration::from_millis(800)).await;
    let port = free_port();
    let cfg = one_backend(port, slow.addr, " timeout queue 200\n").replace(
        &format!("server s1 {}", slow.addr),
        &format!("server s1 {} maxconn 1", slow.addr),
    );
    let (wt, log) = start(&cfg).await;
    let addr: std::net::SocketAddr = ([127, 0, 0, 1], port).into();
    let first = tokio::spawn(async move {
        raw(
            addr,
            b"GET /1 HTTP/1.1\r\n\r\n",
            Duration::from_millis(1500),
        )
        .await
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let t = std::time::Instant::now();
    let second = raw(addr, b"GET /2 HTTP/1.1\r\n\r\n", Duration::from_millis(400)).await;
    assert_eq!(
        status_of(&second),
        503,
        "{}",
        String::from_utf8_lossy(&second)
    );
    assert!(
        t.elapsed() >= Duration::from_millis(200),
        "waited in the queue first"
    );
    assert_eq!(status_of(&first.await.unwrap()), 200);
    let lines: Vec<String> = log.try_iter().collect();
    assert!(
        lines
            .iter()
            .any(|l| l.contains(" 503 217 - - sQ-- ") && l.contains("\"GET /2 HTTP/1.1\"")),
        "{lines:?}"
    );
    wt.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dontlognull_decides_whether_empty_connections_are_logged() {
    let origin = RawOrigin::start(OK).await;
    for (opt, expect_line) in [(" option dontlognull\n", false), ("", true)] {
        let port = free_port();
        let cfg = one_backend(port, origin.addr, "").replace(" option dontlognull\n", opt);
        let (wt, log) = start(&cfg).await;
        let addr: std::net::SocketAddr = ([127, 0, 0, 1], port).into();
        drop(tokio::net::TcpStream::connect(addr).await.unwrap());
        tokio::time::sleep(Duration::from_millis(200)).await;
        let lines: Vec<String> = log.try_iter().collect();
        assert_eq!(!lines.is_empty(), expect_line, "{opt:?}: {lines:?}");
        if expect_line {
            assert!(
                lines[0].contains(" 400 0 - - CR-- ") && lines[0].ends_with("\"<BADREQ>\""),
                "{}",
                lines[0]
            );
        }
        wt.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tunnel_after_101_carries_bytes_and_ends_on_timeout_tunnel() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = l.local_addr().unwrap();
    let origin_saw_close = Arc::new(AtomicBool::new(false));
    let flag = origin_saw_close.clone();
    tokio::spawn(async move {
        let (mut c, _) = l.accept().await.unwrap();
        if read_head(&mut c).await.is_none() {
            return;
        }
        c.write_all(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n")
            .await
            .unwrap();
        let mut buf = [0u8; 1024];
        loop {
            match c.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    let up = buf[..n].to_ascii_uppercase();
                    if c.write_all(&up).await.is_err() {
                        break;
                    }
                }
            }
        }
        flag.store(true, Ordering::SeqCst);
    });
    let port = free_port();
    let (wt, _log) = start(&one_backend(port, origin, " timeout tunnel 300\n")).await;
    let mut c = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    c.write_all(b"GET /?wtd=wt1x&request=ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\nearly")
        .await
        .unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    while !String::from_utf8_lossy(&got).ends_with("EARLY") {
        let n = tokio::time::timeout(Duration::from_secs(2), c.read(&mut buf))
            .await
            .expect("101 and echo in time")
            .unwrap();
        assert!(n > 0, "closed early: {:?}", String::from_utf8_lossy(&got));
        got.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&got).to_string();
    assert!(
        text.starts_with(
            "HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"
        ),
        "{text}"
    );
    c.write_all(b"hello").await.unwrap();
    let n = c.read(&mut buf).await.unwrap();
    assert_eq!(&buf[..n], b"HELLO");
    // Idle longer than timeout tunnel: both sides are closed.
    let t = std::time::Instant::now();
    let n = tokio::time::timeout(Duration::from_secs(3), c.read(&mut buf))
        .await
        .expect("closed by timeout tunnel")
        .unwrap_or(0);
    assert_eq!(n, 0);
    assert!(
        t.elapsed() >= Duration::from_millis(250),
        "{:?}",
        t.elapsed()
    );
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(
        origin_saw_close.load(Ordering::SeqCst),
        "the server side was closed too"
    );
    wt.stop().await;
}

/// HAProxy 2.6.12, same config (captured): a round-robin pick that cannot connect is
/// redispatched at once (`+1`, no turn-around delay); a one-server backend retries 3
/// times, 1 s apart, and the last retry's reassignment shows in Tw:
/// `fe two/live 0/0/0/4/4 200 56 - - ---- 1/1/0/0/+1 0/0 "GET /a HTTP/1.1"`
/// `fe one/dead 0/3006/-1/-1/3006 503 217 - - SC-- 1/1/0/0/3 0/0 "GET /one HTTP/1.1"`
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redispatch_as_haproxy() {
    let live = RawOrigin::start(OK).await;
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let port = free_port();
    let cfg = format!(
        "defaults\n mode http\n option httplog\n option redispatch\n retries 3\n timeout connect 1000\n timeout client 5000\n timeout server 5000\nfrontend fe\n bind 127.0.0.1:{port}\n use_backend one if {{ path_beg /one }}\n default_backend two\nbackend two\n server dead {dead}\n server live {}\nbackend one\n server dead {dead}\n",
        live.addr
    );
    let (wt, log) = start(&cfg).await;
    let addr: std::net::SocketAddr = ([127, 0, 0, 1], port).into();
    for path in ["/a", "/b"] {
        let t = std::time::Instant::now();
        let r = raw(
            addr,
            format!("GET {path} HTTP/1.1\r\nConnection: close\r\n\r\n").as_bytes(),
            Duration::from_millis(2000),
        )
        .await;
        assert_eq!(status_of(&r), 200);
        assert!(
            t.elapsed() < Duration::from_millis(500),
            "no turn-around delay: {:?}",
            t.elapsed()
        );
        let line = log.recv_timeout(Duration::from_secs(2)).unwrap();
        assert!(
            // Timers vary with the machine's load; the server, status and the
            // redispatch mark (`+1`) do not.
            line.contains(" fe two/live ")
                && line.contains(" 200 56 - - ---- ")
                && line.contains("/+1 0/0 "),
            "{line}"
        );
    }
    let t = std::time::Instant::now();
    let r = raw(
        addr,
        b"GET /one HTTP/1.1\r\nConnection: close\r\n\r\n",
        Duration::from_millis(5000),
    )
    .await;
    assert_eq!(status_of(&r), 503);
    assert!(
        t.elapsed() >= Duration::from_millis(2900),
        "{:?}",
        t.elapsed()
    );
    let line = log.recv_timeout(Duration::from_secs(2)).unwrap();
    let timers = line.split(' ').nth(4).unwrap().to_string();
    let tw: u64 = timers.split('/').nth(1).unwrap().parse().unwrap();
    assert!(tw >= 2900, "Tw after the last reassignment: {line}");
    assert!(
        line.contains(" fe one/dead 0/")
            && line.contains("/-1/-1/")
            && line.contains(" 503 217 - - SC-- 1/1/0/0/3 0/0 "),
        "{line}"
    );
    wt.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_0000_means_the_address_the_client_connected_to() {
    let origin = RawOrigin::start(OK).await;
    let port = free_port();
    let zero: std::net::SocketAddr = ([0, 0, 0, 0], origin.addr.port()).into();
    let (wt, log) = start(&one_backend(port, zero, "")).await;
    let r = raw(
        ([127, 0, 0, 1], port).into(),
        b"GET / HTTP/1.1\r\n\r\n",
        Duration::from_millis(300),
    )
    .await;
    assert_eq!(status_of(&r), 200);
    assert!(origin.requests()[0].contains("x-original-to: 127.0.0.1\r\n"));
    assert!(
        log.recv_timeout(Duration::from_secs(2))
            .unwrap()
            .contains(" fe b/s1 ")
    );
    wt.stop().await;
}

/// Wt 4.14's gzipped 101 (should one still come: wtedge drops Accept-Encoding from
/// upgrades) carries no usable socket: router-core's rule answers it with 502.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn encoded_101_is_a_failed_upgrade() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = l.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut c, _) = l.accept().await.unwrap();
        if read_head(&mut c).await.is_none() {
            return;
        }
        let _ = c
            .write_all(b"HTTP/1.1 101 Switching Protocol\r\nConnection: Upgrade\r\nUpgrade: WebSocket\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nContent-Encoding: gzip\r\n\r\n\x1f\x8b\x08\0\0\0\0\0\0\x03")
            .await;
        tokio::time::sleep(Duration::from_secs(2)).await;
    });
    let port = free_port();
    let (wt, _log) = start(&one_backend(port, origin, "")).await;
    let mut c = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    c.write_all(b"GET /?wtd=wt1x&request=ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 1024];
    let n = tokio::time::timeout(Duration::from_secs(2), c.read(&mut buf))
        .await
        .expect("answer in time")
        .unwrap();
    let text = String::from_utf8_lossy(&buf[..n]).to_string();
    assert!(text.starts_with("HTTP/1.1 502 Bad Gateway\r\n"), "{text}");
    wt.stop().await;
}

/// Reads a request head byte by byte (nothing after it); `None` if the peer closed.
async fn read_head(c: &mut tokio::net::TcpStream) -> Option<Vec<u8>> {
    use tokio::io::AsyncReadExt;
    let mut head = Vec::new();
    let mut b = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if c.read(&mut b).await.unwrap_or(0) == 0 {
            return None;
        }
        head.push(b[0]);
    }
    Some(head)
}
