//! Helpers for the socket-level tests: free ports, raw clients, raw origins.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use local_host::access_log::Logger;
use local_host::run::{Options, Running};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A port that was free a moment ago on 127.0.0.1.
///
/// Taken below the kernel's ephemeral range (32768 and up on Linux), where `bind(:0)`
/// never lands: a port handed out here and released cannot be taken meanwhile by
/// another test's listener or client socket before wtedge binds it.
pub fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU16, Ordering};
    static NEXT: AtomicU16 = AtomicU16::new(0);
    let base = 20_000 + (std::process::id() % 1_000) as u16 * 12;
    for _ in 0..10_000 {
        let offset = NEXT.fetch_add(1, Ordering::Relaxed) % 12_000;
        let port = 20_000 + (base - 20_000 + offset) % 12_000;
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    l.local_addr().expect("local addr").port()
}

/// Starts wtedge on `cfg`; access log lines arrive on the returned channel.
pub async fn start(cfg: &str) -> (Running, std::sync::mpsc::Receiver<String>) {
    let (logger, rx) = Logger::channel(false);
    let r = Running::start(
        "test.cfg",
        cfg,
        Options {
            admin: None,
            logger,
            grace: Duration::from_secs(5),
            // The default engine: router-core as wasm in wasmtime.
            engine: Default::default(),
        },
    )
    .await
    .unwrap_or_else(|e| panic!("wtedge refused the config: {e}\n{cfg}"));
    (r, rx)
}

/// Sends `req` on a fresh connection and reads until the server closes or `wait`
/// passes without data. Returns what was read.
pub async fn raw(addr: SocketAddr, req: &[u8], wait: Duration) -> Vec<u8> {
    let mut s = TcpStream::connect(addr).await.expect("connect to wtedge");
    s.write_all(req).await.expect("write request");
    read_until_quiet(&mut s, wait).await
}

pub async fn read_until_quiet(s: &mut TcpStream, wait: Duration) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = [0u8; 65536];
    loop {
        match tokio::time::timeout(wait, s.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) | Err(_) => return out,
            Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
        }
    }
}

pub fn status_of(resp: &[u8]) -> u16 {
    std::str::from_utf8(resp.get(9..12).unwrap_or(b"000"))
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

/// An origin that records each request head (and body bytes that came with it) and
/// answers `response` then closes.
pub struct RawOrigin {
    pub addr: SocketAddr,
    pub seen: Arc<Mutex<Vec<Vec<u8>>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for RawOrigin {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl RawOrigin {
    pub async fn start(response: &'static [u8]) -> RawOrigin {
        Self::start_with(response, Duration::ZERO).await
    }

    pub async fn start_with(response: &'static [u8], delay: Duration) -> RawOrigin {
        let l = TcpListener::bind("127.0.0.1:0").await.expect("bind origin");
        let addr = l.local_addr().expect("origin addr");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let s2 = seen.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut c, _)) = l.accept().await else {
                    return;
                };
                let seen = s2.clone();
                tokio::spawn(async move {
                    let mut data = Vec::new();
                    let mut buf = [0u8; 65536];
                    // Read the head, then whatever follows within a short while.
                    loop {
                        let wait = if data.windows(4).any(|w| w == b"\r\n\r\n") {
                            Duration::from_millis(50)
                        } else {
                            Duration::from_secs(5)
                        };
                        match tokio::time::timeout(wait, c.read(&mut buf)).await {
                            Ok(Ok(n)) if n > 0 => data.extend_from_slice(&buf[..n]),
                            _ => break,
                        }
                    }
                    seen.lock().unwrap().push(data);
                    tokio::time::sleep(delay).await;
                    let _ = c.write_all(response).await;
                    let _ = c.shutdown().await;
                });
            }
        });
        RawOrigin { addr, seen, task }
    }

    pub fn requests(&self) -> Vec<String> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .map(|r| String::from_utf8_lossy(r).into_owned())
            .collect()
    }
}

/// A one-backend config in HAProxy's seed style with the frontend on `port`.
pub fn one_backend(port: u16, server: SocketAddr, extra_defaults: &str) -> String {
    format!(
        "defaults\n mode http\n option httplog\n option dontlognull\n option http-server-close\n option http-pretend-keepalive\n option forwardfor\n option originalto\n retries 3\n option redispatch\n timeout connect 1000\n timeout client 5000\n timeout server 5000\n{extra_defaults}\nfrontend fe\n bind 127.0.0.1:{port}\n default_backend b\nbackend b\n server s1 {server}\n"
    )
}
