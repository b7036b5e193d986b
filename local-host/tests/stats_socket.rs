//! The runtime API on a TCP `stats socket` (`ipv4@`), at `user` level: reads are
//! answered, changes refused with HAProxy 2.6's "Permission denied", and the state
//! a reload finds (drain set through an admin socket) is kept. Answers are
//! HAProxy's (e2e_runtime_api compares them with a running HAProxy).

mod common;

use std::time::Duration;

use common::*;
use local_host::access_log::Logger;
use local_host::run::{Options, Running};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn ask(addr: &str, cmd: &str) -> String {
    let mut s = if addr.starts_with('/') {
        let s = tokio::net::UnixStream::connect(addr)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        Box::new(s) as Box<dyn Stream>
    } else {
        let s = tokio::net::TcpStream::connect(addr)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        Box::new(s) as Box<dyn Stream>
    };
    s.write_all(format!("{cmd}\n").as_bytes())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let mut out = String::new();
    s.read_to_string(&mut out)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    out
}

trait Stream: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send> Stream for T {}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_socket_levels_and_state_across_a_reload() {
    let port = free_port();
    let dir = std::env::temp_dir().join(format!("wtedge-stats-socket-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    let admin = dir.join("admin.sock");
    let cfg = format!(
        "global\n stats socket ipv4@127.0.0.1:0 level user\n stats socket {} mode 600 level admin\ndefaults\n mode http\n timeout connect 1s\n timeout client 5s\n timeout server 5s\nfrontend fe\n bind 127.0.0.1:{port}\n default_backend b\nbackend b\n server s1 127.0.0.1:9 weight 3\n server s2 127.0.0.1:9\n",
        admin.display()
    );
    let opts = || Options {
        admin: None,
        logger: Logger::none(),
        grace: Duration::from_millis(100),
        engine: Default::default(),
    };
    let wt = Running::start("s.cfg", &cfg, opts())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let addrs = wt.stats_socket_addrs();
    let tcp = addrs
        .iter()
        .find(|a| !a.starts_with('/'))
        .unwrap_or_else(|| panic!("{addrs:?}"));
    assert_eq!(ask(tcp, "show cli level").await, "user\n\n");
    assert_eq!(
        ask(tcp, "set server b/s1 state drain").await,
        "Permission denied\n\n"
    );
    assert_eq!(ask(tcp, "show backend").await, "# name\nb\n\n");
    let admin = admin.display().to_string();
    assert_eq!(
        ask(
            &admin,
            "set server b/s1 state drain; set server b/s2 weight 7"
        )
        .await,
        "\n\n"
    );
    // A reload keeps the operator's changes of the servers that still exist.
    wt.reload("s.cfg", &cfg)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let state = ask(&admin, "show servers state b").await;
    let cols: Vec<Vec<&str>> = state
        .lines()
        .skip(2)
        .filter(|l| !l.is_empty())
        .map(|l| l.split(' ').collect())
        .collect();
    // srv_name srv_op_state srv_admin_state srv_uweight srv_iweight
    let got: Vec<String> = cols
        .iter()
        .map(|c| c[3..9].join(" ").replace("127.0.0.1 ", ""))
        .collect();
    assert_eq!(got, ["s1 2 8 3 3", "s2 2 0 7 1"], "{state}");
    wt.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}
