//! The process: SIGHUP reloads (a broken config is refused, the old one keeps serving,
//! open connections stay), SIGTERM lets the in-flight request finish and exits 0.

mod common;

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

fn signal(pid: u32, sig: &str) {
    // The shell's builtin `kill`: no extra package needed.
    let ok = Command::new("sh")
        .arg("-c")
        .arg(format!("kill -{sig} {pid}"))
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(ok, "kill -{sig} {pid}");
}

/// `wtedge run CFG`, its stdout and stderr made by `out`.
fn spawn_run(cfg: &std::path::Path, out: fn() -> Stdio) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_wtedge"))
        .arg("run")
        .arg(cfg)
        .stdout(out())
        .stderr(out())
        .spawn()
        .expect("spawn wtedge run")
}

fn wait_listening(port: u16) {
    let t = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            // A debug build compiles the wasm engine at start: seconds on a busy machine.
            t.elapsed() < Duration::from_secs(60),
            "wtedge did not listen on {port}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn get(port: u16, path: &str) -> String {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .expect("write");
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reload_and_graceful_stop() {
    // An origin that answers after 1 s (the request in flight at SIGTERM).
    let origin = RawOrigin::start_with(
        b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nslow",
        Duration::from_millis(1000),
    )
    .await;
    let port = free_port();
    let dir = std::env::temp_dir().join(format!("wtedge-signals-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let cfg = dir.join("wt.cfg");
    std::fs::write(&cfg, one_backend(port, origin.addr, "")).expect("write cfg");
    let mut child = spawn_run(&cfg, Stdio::piped);
    let pid = child.id();
    let origin_addr = origin.addr;
    let t = tokio::task::spawn_blocking(move || {
        wait_listening(port);
        assert!(get(port, "/a").starts_with("HTTP/1.1 200"));

        // A keep-alive connection opened before the reloads.
        let mut keep = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
        keep.set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");

        // A broken config is refused; the old one keeps serving.
        std::fs::write(&cfg, "frontend fe\n bind 127.0.0.1:1\n bogus_keyword\n").expect("write");
        signal(pid, "HUP");
        std::thread::sleep(Duration::from_millis(300));
        assert!(
            get(port, "/b").starts_with("HTTP/1.1 200"),
            "old config must keep serving"
        );

        // A good new config (a redirect added) is taken.
        let new = one_backend(port, origin_addr, "").replace(
            " default_backend b\n",
            " redirect location /moved if { path_beg /old }\n default_backend b\n",
        );
        std::fs::write(&cfg, new).expect("write");
        signal(pid, "HUP");
        std::thread::sleep(Duration::from_millis(300));
        let r = get(port, "/old");
        assert!(
            r.starts_with("HTTP/1.1 302 Found\r\n") && r.contains("location: /moved"),
            "{r}"
        );

        // The connection opened before the reloads still works.
        keep.write_all(b"GET /old HTTP/1.1\r\nHost: x\r\n\r\n")
            .expect("write on kept connection");
        let mut buf = [0u8; 512];
        let n = keep.read(&mut buf).expect("read on kept connection");
        assert!(n > 0);

        // SIGTERM with a request in flight: it completes, then exit 0.
        let inflight = std::thread::spawn(move || get(port, "/slow"));
        std::thread::sleep(Duration::from_millis(200));
        signal(pid, "TERM");
        inflight.join().expect("in-flight thread")
    });
    let inflight = t.await.expect("blocking part");
    let status = tokio::task::spawn_blocking(move || child.wait())
        .await
        .expect("join")
        .expect("wait");
    assert!(status.success(), "exit status {status:?}");
    assert!(
        inflight.starts_with("HTTP/1.1 200") && inflight.ends_with("slow"),
        "the in-flight request was dropped: {inflight:?}"
    );
    // Listeners are closed after the stop.
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err());
}

/// The process's worker threads, named `wtedge-worker` (Linux: /proc/PID/task/*/comm).
fn worker_threads(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/task"))
        .map(|tasks| {
            tasks
                .filter_map(|t| t.ok())
                .filter_map(|t| std::fs::read_to_string(t.path().join("comm")).ok())
                .filter(|name| name.trim_end() == "wtedge-worker")
                .count()
        })
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nbthread_sets_the_worker_threads() {
    let origin = RawOrigin::start(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok").await;
    for n in [1usize, 3] {
        let port = free_port();
        let dir = std::env::temp_dir().join(format!("wtedge-nbthread-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let cfg = dir.join("wt.cfg");
        let text = format!(
            "global\n nbthread {n}\n{}",
            one_backend(port, origin.addr, "")
        );
        std::fs::write(&cfg, text).expect("write cfg");
        let mut child = spawn_run(&cfg, Stdio::null);
        let pid = child.id();
        let (threads, answer) = tokio::task::spawn_blocking(move || {
            wait_listening(port);
            let answer = get(port, "/");
            (worker_threads(pid), answer)
        })
        .await
        .expect("blocking part");
        let _ = child.kill();
        let _ = child.wait();
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert_eq!(threads, n, "nbthread {n}");
    }
}
