//! The serving threads: connections spread over them (SO_REUSEPORT sockets, or one
//! shared socket with `noreuseport`, plus hand-over to a less loaded thread).

mod common;

use std::time::Duration;

use common::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Opens `n` keep-alive connections to `port`, one request each, and keeps them open.
async fn keep_alive_clients(port: u16, n: usize) -> Vec<tokio::net::TcpStream> {
    let mut open = Vec::new();
    for _ in 0..n {
        let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .expect("connect");
        s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .expect("write");
        // The whole response (`ok` ends it), the connection left open.
        let mut r = Vec::new();
        while !r.ends_with(b"ok") {
            let mut buf = [0u8; 1024];
            match tokio::time::timeout(Duration::from_secs(2), s.read(&mut buf)).await {
                Ok(Ok(n)) if n > 0 => r.extend_from_slice(&buf[..n]),
                other => panic!("{other:?} after {}", String::from_utf8_lossy(&r)),
            }
        }
        assert_eq!(status_of(&r), 200, "{}", String::from_utf8_lossy(&r));
        open.push(s);
    }
    open
}

async fn spread(global: &str) {
    let origin = RawOrigin::start(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok").await;
    let port = free_port();
    let cfg = format!("global\n{global}\n{}", one_backend(port, origin.addr, ""));
    let (wt, _log) = start(&cfg).await;
    let clients = keep_alive_clients(port, 12).await;
    let loads = wt.thread_loads();
    assert_eq!(loads.len(), 3, "nbthread 3");
    assert_eq!(loads.iter().sum::<usize>(), 12, "{loads:?}");
    // A thread hands a connection over when another has two fewer.
    let (min, max) = (loads.iter().min(), loads.iter().max());
    assert!(max.zip(min).is_some_and(|(a, b)| a - b <= 2), "{loads:?}");
    drop(clients);
    // Closed connections are counted off.
    let t = std::time::Instant::now();
    while wt.thread_loads().iter().sum::<usize>() > 0 {
        assert!(
            t.elapsed() < Duration::from_secs(3),
            "{:?}",
            wt.thread_loads()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    wt.stop().await;
}

#[tokio::test]
async fn keep_alive_connections_spread_over_the_threads() {
    spread(" nbthread 3").await;
}

#[tokio::test]
async fn with_noreuseport_one_shared_socket_still_spreads() {
    // One socket: whichever thread polls first takes a burst; the hand-over spreads it.
    spread(" nbthread 3\n noreuseport").await;
}

#[tokio::test]
async fn a_reload_opens_new_binds_on_every_thread_and_closes_dropped_ones() {
    let origin = RawOrigin::start(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok").await;
    let (a, b) = (free_port(), free_port());
    let with_binds = |binds: &[u16]| {
        let lines: String = binds
            .iter()
            .map(|p| format!(" bind 127.0.0.1:{p}\n"))
            .collect();
        format!("global\n nbthread 3\n{}", one_backend(a, origin.addr, ""))
            .replace(&format!(" bind 127.0.0.1:{a}\n"), &lines)
    };
    let (wt, _log) = start(&with_binds(&[a])).await;
    wt.reload("test.cfg", &with_binds(&[a, b]))
        .await
        .expect("reload adding a bind");
    // New connections to the new bind are served, whichever thread's socket takes them.
    let clients = keep_alive_clients(b, 9).await;
    assert_eq!(wt.thread_loads().iter().sum::<usize>(), 9);
    drop(clients);
    wt.reload("test.cfg", &with_binds(&[b]))
        .await
        .expect("reload dropping a bind");
    // Every thread's socket of the dropped bind is closed: no connection gets through.
    let t = std::time::Instant::now();
    loop {
        let mut refused = 0;
        for _ in 0..20 {
            if tokio::net::TcpStream::connect(("127.0.0.1", a))
                .await
                .is_err()
            {
                refused += 1;
            }
        }
        if refused == 20 {
            break;
        }
        assert!(t.elapsed() < Duration::from_secs(3), "{refused}/20 refused");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(!keep_alive_clients(b, 1).await.is_empty());
    wt.stop().await;
}
