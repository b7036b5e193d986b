//! A rolling deploy of a Wt server over real sockets: two mock Wt origins (prefixes
//! wt1 / wt2) behind wtedge running seed config 2 rewritten in its Wt-safe form
//! (`srv_is_up(bck1/srv1)` instead of `nbsrv(bck1) gt 0`, and `use-server srv1 if
//! TRUE` in bck1: the README's recipe). 500 sessions are opened, then srv1 is set
//! to `drain` through the runtime API: every wt1 session keeps reaching wt1 and no
//! new session lands on it; then `maint`: wt1's sessions move to wt2, as HAProxy
//! 2.6 routes them (e2e_runtime_api compares the same rules with HAProxy).

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

use local_host::access_log::Logger;
use local_host::run::{Options, Running};
use wtedge_tests::haproxy::TempDir;
use wtedge_tests::mock_wt::client::Conn;
use wtedge_tests::mock_wt::{MockWt, session_id_in_page};

mod common;

const SESSIONS: usize = 500;

fn config(front: u16, wt1: SocketAddr, wt2: SocketAddr, socket: &Path) -> String {
    format!(
        "global
    stats socket {socket} mode 600 level admin
defaults
    mode http
    option http-server-close
    timeout connect 5s
    timeout client 50s
    timeout server 50s
frontend wt
    bind 127.0.0.1:{front}
{rules}backend bck_lb
    balance roundrobin
    server srv1 {wt1} track bck1/srv1
    server srv2 {wt2} track bck2/srv2
backend bck1
    use-server srv1 if TRUE
    server srv1 {wt1} check inter 200
backend bck2
    use-server srv2 if TRUE
    server srv2 {wt2} check inter 200
",
        socket = socket.display(),
        rules = common::WT_SAFE_RULES
    )
}

/// One runtime API command; its answer.
fn cli(socket: &Path, cmd: &str) -> String {
    let mut s = UnixStream::connect(socket).unwrap_or_else(|e| panic!("{e}"));
    s.write_all(format!("{cmd}\n").as_bytes())
        .unwrap_or_else(|e| panic!("{e}"));
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap_or_else(|e| panic!("{e}"));
    out
}

/// Which mock answered a request of session `id` (`x-mock-wt`), and whether it
/// knew the session.
async fn owner_of(c: &mut Conn, id: &str) -> (String, bool) {
    let a = c
        .get(&format!("/?wtd={id}&request=style&page=1"))
        .await
        .unwrap_or_else(|e| panic!("{id}: {e}"));
    let who = a.header("x-mock-wt").unwrap_or("-").to_string();
    (
        who,
        a.status == 200 && a.body == format!("/* style {id} */"),
    )
}

/// New sessions: the server prefix of each id.
async fn bootstrap(c: &mut Conn, n: usize) -> Vec<String> {
    let mut ids = Vec::with_capacity(n);
    for _ in 0..n {
        let boot = c
            .get("/")
            .await
            .unwrap_or_else(|e| panic!("bootstrap: {e}"));
        assert_eq!(boot.status, 200, "bootstrap");
        ids.push(session_id_in_page(&boot.body).unwrap_or_else(|| panic!("no id")));
    }
    ids
}

#[test]
fn draining_srv1_keeps_its_sessions_and_maint_moves_them() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    rt.block_on(async {
        let wt1 = MockWt::start_local("wt1")
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let wt2 = MockWt::start_local("wt2")
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let dir = TempDir::new("drain").unwrap_or_else(|e| panic!("{e}"));
        let socket = dir.path().join("wtedge.sock");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap_or_else(|e| panic!("{e}"));
        let text = config(port, wt1.addr(), wt2.addr(), &socket);
        let edge = Running::start(
            "drain.cfg",
            &text,
            Options {
                admin: None,
                logger: Logger::none(),
                grace: Duration::from_secs(2),
                engine: Default::default(),
            },
        )
        .await
        .unwrap_or_else(|e| panic!("{e}\n{text}"));
        let front = SocketAddr::from(([127, 0, 0, 1], port));
        let mut c = Conn::open(front).await.unwrap_or_else(|e| panic!("{e}"));

        let ids = bootstrap(&mut c, SESSIONS).await;
        let ones: Vec<&String> = ids.iter().filter(|id| id.starts_with("wt1")).collect();
        assert_eq!(ones.len(), SESSIONS / 2, "round-robin over two servers");

        let s = socket.clone();
        let answer =
            tokio::task::spawn_blocking(move || cli(&s, "set server bck1/srv1 state drain"))
                .await
                .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(answer, "\n");
        for id in &ids {
            let (who, known) = owner_of(&mut c, id).await;
            assert_eq!(
                (who.as_str(), known),
                (&id[..3], true),
                "{id} while srv1 drains"
            );
        }
        let new = bootstrap(&mut c, 100).await;
        assert!(
            new.iter().all(|id| id.starts_with("wt2")),
            "a new session on a draining srv1"
        );

        let s = socket.clone();
        let state = tokio::task::spawn_blocking(move || {
            cli(&s, "set server bck1/srv1 state maint");
            cli(&s, "show servers state bck1")
        })
        .await
        .unwrap_or_else(|e| panic!("{e}"));
        // srv_op_state 0 (stopped), srv_admin_state 1 (forced maintenance).
        assert!(state.contains(" bck1 1 srv1 127.0.0.1 0 1 "), "{state}");
        for id in &ones {
            let (who, known) = owner_of(&mut c, id).await;
            assert_eq!(
                (who.as_str(), known),
                ("wt2", false),
                "{id} with srv1 in maint"
            );
        }
        edge.stop().await;
    });
}
