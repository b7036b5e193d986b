//! The differential test of the access log: every exchange runs through a real HAProxy
//! 2.6 (`option httplog`, its log on stdout) and through wtedge on the same config, in
//! front of the same scripted origin, and wtedge's httplog line must be HAProxy's,
//! field by field. Nothing is hard-coded: the expectation is HAProxy's line, observed
//! at run time.
//!
//! Compared exactly: frontend, backend/server, status, bytes, termination state,
//! retries (with the `+` of a redispatch), the queue fields and the request line.
//! Compared loosely (what is deterministic): the client address (same IP, a port), the
//! date (present), which of Tq/Tw/Tc/Tr are `-1`, Ta (present). The concurrency
//! counters are not compared, except the retries: even with one case at a time, and
//! after waiting for `show info` to report no connection, HAProxy's actconn and
//! feconn at log time vary from run to run (1 to 3 observed for the same case).
//!
//! Each case ends with a marker request on a fresh connection; the lines a case produced
//! are those logged before the marker's, so that a case may log no line (`option
//! dontlognull`) or several (keep-alive). wtedge logs with session ids shown, as HAProxy
//! does; a last check verifies its default redaction of the same line.
//!
//! Two variants: `option http-server-close` and without it.
//!
//! Needs `haproxy` (`apt-get install -y haproxy`; the README's test command installs it).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use local_host::access_log::{Logger, redact_wtd};
use local_host::engine_choice::EngineChoice;
use local_host::run::Running;
use wtedge_tests::haproxy::{self, Haproxy};
use wtedge_tests::raw::{Reader, count};

mod common;

/// What the client does, in order.
#[derive(Debug, Clone)]
enum Act {
    Send(Vec<u8>),
    /// Reads until the bytes read so far contain this text `n` times (or EOF, or 5 s).
    Until(&'static [u8], usize),
    /// Reads until the proxy closes (or 5 s).
    Eof,
    Sleep(u64),
    /// Closes the connection.
    Close,
    /// Shuts the sending side down.
    HalfClose,
    /// Plays these acts on another connection, beside the next ones.
    Beside(Vec<Act>),
}

struct Case {
    name: &'static str,
    /// 0: `fe`; 1: `quiet` (`option dontlognull`); 2: `bare` (no `default_backend`).
    frontend: usize,
    acts: Vec<Act>,
}

const KEEP: &str = "Host: x\r\n\r\n";
const CLOSE: &str = "Host: x\r\nConnection: close\r\n\r\n";
const UPGRADE: &str = "GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
                       Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

/// Sends `text`.
fn send(text: &str) -> Act {
    Act::Send(text.as_bytes().to_vec())
}

/// `METHOD TARGET HTTP/1.1` with `Connection: close`, then reads to the end.
fn close(method: &str, target: &str) -> Vec<Act> {
    vec![
        send(&format!("{method} {target} HTTP/1.1\r\n{CLOSE}")),
        Act::Eof,
    ]
}

/// A keep-alive `GET target` and its `content-length: 2` answer.
fn kept(target: &str) -> [Act; 2] {
    [
        send(&format!("GET {target} HTTP/1.1\r\n{KEEP}")),
        Act::Until(b"\r\n\r\nok", 1),
    ]
}

fn cases() -> Vec<Case> {
    use Act::*;
    let c = |name, frontend, acts| Case {
        name,
        frontend,
        acts,
    };
    let get = |name, target| c(name, 0, close("GET", target));
    // A request line longer than HAProxy's log line (1024 bytes by default).
    let long = format!("/cl?{}{}", "a".repeat(1000), "b".repeat(200));
    let ka = |first: &str, then: Vec<Act>| {
        let mut acts = kept(first).to_vec();
        acts.extend(then);
        acts
    };
    vec![
        get("content-length", "/cl"),
        get("chunked", "/chunked"),
        c("keep-alive-then-client-closes", 0, kept("/cl").to_vec()),
        c("head", 0, close("HEAD", "/head")),
        c("http10", 0, vec![send("GET /cl HTTP/1.0\r\n\r\n"), Eof]),
        get("http-request-deny", "/hdeny"),
        get("http-response-set-status", "/cl/rstatus"),
        get("http-response-deny", "/rdeny"),
        get("http-response-deny-503", "/rdeny503"),
        get("http-request-deny-429", "/hslow"),
        get("http-request-return", "/hret"),
        get("http-request-return-204", "/hret204"),
        get("http-request-redirect", "/hred"),
        get("backend-http-request-deny", "/bred/deny"),
        get("backend-http-request-return", "/bred/ret"),
        get("http-request-set-path", "/hsetpath?q=1"),
        get("http-request-set-method-uri", "/hsetmethod"),
        get("redirect-301", "/r301?a=1"),
        get("redirect-302", "/r302"),
        get("redirect-303", "/r303"),
        get("redirect-prefix-307", "/r307/x"),
        get("redirect-prefix-308", "/r308/x"),
        c(
            "redirect-keep-alive",
            0,
            vec![
                send(&format!("GET /r302 HTTP/1.1\r\n{KEEP}")),
                Until(b"\r\n\r\n", 1),
                send(&format!("GET /r301 HTTP/1.1\r\n{CLOSE}")),
                Eof,
            ],
        ),
        // A backend's redirect: HAProxy logs `fe bred/<NOSRV>`.
        get("backend-redirect", "/bred/login"),
        get("backend-redirect-prefix-301", "/bred/p/x?y=1"),
        c(
            "backend-redirect-keep-alive",
            0,
            vec![
                send(&format!("GET /bred/login HTTP/1.1\r\n{KEEP}")),
                Until(b"\r\n\r\n", 1),
                send(&format!("GET /bred/other HTTP/1.1\r\n{CLOSE}")),
                Eof,
            ],
        ),
        get("no-server", "/none"),
        get("connection-refused", "/dead"),
        get("redispatch", "/redisp"),
        get("server-closes", "/close"),
        get("invalid-response", "/garbage"),
        get("server-timeout", "/silent"),
        c(
            "malformed-request",
            0,
            vec![send(&format!("GET /a b HTTP/1.1\r\n{KEEP}")), Eof],
        ),
        c(
            "malformed-garbage",
            0,
            vec![send("\x01\x02\x03\r\n\r\n"), Eof],
        ),
        c(
            "half-request-timeout",
            0,
            vec![send("GET /cl HTTP/1.1\r\nHost: x\r\n"), Eof],
        ),
        c(
            "client-closes-mid-response",
            0,
            vec![
                send(&format!("GET /partial HTTP/1.1\r\n{KEEP}")),
                Until(b"0123456789", 1),
                Close,
                // HAProxy notices on its next write and logs then.
                Sleep(700),
            ],
        ),
        c(
            "keep-alive-three",
            0,
            ka(
                "/cl?n=1",
                vec![
                    send(&format!("GET /chunked?n=2 HTTP/1.1\r\n{KEEP}")),
                    Until(b"\r\n0\r\n\r\n", 1),
                    send(&format!("GET /cl?n=3 HTTP/1.1\r\n{CLOSE}")),
                    Eof,
                ],
            ),
        ),
        c(
            "websocket",
            0,
            vec![
                send(UPGRADE),
                Until(b"\r\n\r\n", 1),
                send("ping"),
                Until(b"ping", 1),
                Sleep(100),
            ],
        ),
        c(
            "websocket-tunnel-timeout",
            0,
            vec![send(UPGRADE), Until(b"\r\n\r\n", 1), Eof],
        ),
        c("empty-connection", 0, vec![Sleep(100)]),
        c("empty-connection-timeout", 0, vec![Sleep(700)]),
        c("empty-connection-timeout-dontlognull", 1, vec![Sleep(700)]),
        c(
            "half-request-then-close",
            0,
            vec![send("GET /cl HTTP/1.1\r\nHost"), Sleep(100)],
        ),
        c("keep-alive-idle-timeout", 0, ka("/cl", vec![Eof])),
        c(
            "keep-alive-then-half-request",
            0,
            ka("/cl", vec![send("GET /cl HTTP/1.1\r\n"), Eof]),
        ),
        c(
            "keep-alive-then-malformed",
            0,
            ka("/cl", vec![send("GET /a b HTTP/1.1\r\n\r\n"), Eof]),
        ),
        c(
            "server-closes-mid-body",
            0,
            vec![send(&format!("GET /cut HTTP/1.1\r\n{KEEP}")), Eof],
        ),
        c(
            "server-timeout-mid-body",
            0,
            vec![send(&format!("GET /stall HTTP/1.1\r\n{KEEP}")), Eof],
        ),
        c(
            "post-with-body",
            0,
            vec![
                send(
                    "POST /cl HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nConnection: close\r\n\r\nbody",
                ),
                Eof,
            ],
        ),
        c(
            "http10-keep-alive",
            0,
            vec![
                send("GET /cl HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"),
                Until(b"\r\n\r\nok", 1),
                send("GET /cl?2 HTTP/1.0\r\n\r\n"),
                Eof,
            ],
        ),
        get("absolute-form", "http://x/cl?a=1"),
        c("unusual-method", 0, close("PURGE", "/cl")),
        get("quote-in-target", "/cl?q=\"a\""),
        get("hash-in-target", "/cl?q=a#b"),
        c(
            "utf8-in-target",
            0,
            vec![
                Send(
                    b"GET /cl?q=\xc3\xa9 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".to_vec(),
                ),
                Eof,
            ],
        ),
        get("other-bytes-in-target", "/cl?q=<a>{b}|c\\^`%22~"),
        c(
            "http-version-odd",
            0,
            vec![send(&format!("GET /cl HTTP/1.2\r\n{CLOSE}")), Eof],
        ),
        c("long-target", 0, close("GET", &long)),
        c("empty-connection-dontlognull", 1, vec![Sleep(100)]),
        c("dontlognull-request", 1, close("GET", "/cl")),
        get("session-id", "/cl?wtd=wt1T03a3rAGfn1ZKEkN&request=ws"),
        c(
            "client-leaves-before-answer",
            0,
            vec![
                send(&format!("GET /q/slow600 HTTP/1.1\r\n{KEEP}")),
                Sleep(100),
                Close,
                Sleep(800),
            ],
        ),
        c(
            "client-half-closes-before-answer",
            0,
            vec![
                Send(b"GET /q/slow150 HTTP/1.1\r\nHost: x\r\n\r\n".to_vec()),
                HalfClose,
                Eof,
            ],
        ),
        c("no-backend", 2, close("GET", "/elsewhere")),
        // Backend `q`: one connection at a time, `timeout queue 300ms`.
        c(
            "queue-timeout",
            0,
            [
                vec![Beside(close("GET", "/q/slow600")), Sleep(100)],
                close("GET", "/q/x"),
            ]
            .concat(),
        ),
        c(
            "queued-then-served",
            0,
            [
                vec![Beside(close("GET", "/q/slow150")), Sleep(50)],
                close("GET", "/q/x"),
            ]
            .concat(),
        ),
        // Backends `mq`/`mqr`: `use-server` onto a server with `maxconn 1 maxqueue 1`:
        // one request served, one queued, the third finds the queue full: 503 `SQ`,
        // or with `option redispatch` another server.
        maxqueue_full("maxqueue-full", "/mq"),
        maxqueue_full("maxqueue-full-redispatch", "/mqr"),
    ]
}

/// Three requests onto a `maxconn 1 maxqueue 1` server under `prefix`: one served
/// slowly, one queued, the third finding the queue full.
fn maxqueue_full(name: &'static str, prefix: &str) -> Case {
    use Act::*;
    Case {
        name,
        frontend: 0,
        acts: [
            vec![
                Beside(close("GET", &format!("{prefix}/slow600"))),
                Sleep(80),
            ],
            vec![Beside(close("GET", &format!("{prefix}/x"))), Sleep(80)],
            close("GET", &format!("{prefix}/y")),
            vec![Sleep(1400)],
        ]
        .concat(),
    }
}

/// The origin: for each request, by path: `/chunked` a chunked `ok`, `/head` a 200
/// with `content-length: 5` and no body, `/close` closes, `/garbage` an invalid
/// response, `/silent` waits past `timeout server`, `/partial` sends part of a body
/// then waits, `/ws` completes a WebSocket handshake and echoes; else `200 ok`.
fn start_origin() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("origin bind");
    let port = l.local_addr().expect("origin addr").port();
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            std::thread::spawn(move || serve(s));
        }
    });
    port
}

fn serve(mut s: TcpStream) {
    let mut buf = Vec::new();
    loop {
        let Some(end) = read_head(&mut s, &mut buf) else {
            return;
        };
        let head = String::from_utf8_lossy(&buf[..end]).to_string();
        buf.drain(..end);
        let path = head.split(' ').nth(1).unwrap_or("/");
        let path = path.split('?').next().unwrap_or(path);
        let answer: &[u8] = match path {
            "/chunked" => {
                b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"
            }
            "/head" => b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n",
            "/close" => return,
            "/q/slow600" | "/q/slow150" | "/mq/slow600" | "/mqr/slow600" => {
                let ms = if path.ends_with("600") { 600 } else { 150 };
                std::thread::sleep(Duration::from_millis(ms));
                b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"
            }
            "/cut" => {
                let _ = s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nhello");
                std::thread::sleep(Duration::from_millis(100));
                return;
            }
            "/stall" => {
                let _ = s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nhello");
                std::thread::sleep(Duration::from_millis(1500));
                return;
            }
            "/garbage" => {
                let _ = s.write_all(b"hello there\r\n\r\n");
                return;
            }
            "/silent" => {
                std::thread::sleep(Duration::from_millis(1500));
                return;
            }
            "/partial" => {
                // The client closes after the first part: writing the next parts
                // fails (HAProxy does not notice a client's close while it has
                // nothing to send).
                let _ = s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 100000\r\n\r\n0123456789");
                for _ in 0..5 {
                    std::thread::sleep(Duration::from_millis(100));
                    if s.write_all(&[b'x'; 8192]).is_err() {
                        break;
                    }
                }
                std::thread::sleep(Duration::from_millis(1500));
                return;
            }
            "/ws" => {
                let _ = s.write_all(
                    b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
                      Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
                );
                let mut b = [0u8; 1024];
                while let Ok(n) = s.read(&mut b) {
                    if n == 0 || s.write_all(&b[..n]).is_err() {
                        break;
                    }
                }
                return;
            }
            _ => b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok",
        };
        if s.write_all(answer).is_err() {
            return;
        }
    }
}

/// Reads until `buf` holds a head; returns its length.
fn read_head(s: &mut TcpStream, buf: &mut Vec<u8>) -> Option<usize> {
    let mut b = [0u8; 4096];
    loop {
        if let Some(i) = find(buf, b"\r\n\r\n") {
            return Some(i + 4);
        }
        match s.read(&mut b) {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&b[..n]),
        }
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Plays a case's client side on a fresh connection.
fn run_client(addr: SocketAddr, acts: &[Act]) {
    let mut beside = Vec::new();
    let mut conn = Some(Reader::new(TcpStream::connect(addr).expect("connect")));
    for a in acts {
        let Some(seen) = conn.as_mut() else {
            if let Act::Sleep(ms) = a {
                std::thread::sleep(Duration::from_millis(*ms));
            }
            continue;
        };
        match a {
            Act::Send(bytes) => {
                let _ = seen.s.write_all(bytes);
            }
            Act::Sleep(ms) => std::thread::sleep(Duration::from_millis(*ms)),
            Act::Close => conn = None,
            Act::HalfClose => {
                let _ = seen.s.shutdown(std::net::Shutdown::Write);
            }
            Act::Beside(acts) => {
                let acts = acts.clone();
                beside.push(std::thread::spawn(move || run_client(addr, &acts)));
            }
            Act::Until(_, _) | Act::Eof => {
                let deadline = Instant::now() + Duration::from_secs(5);
                seen.read_until(deadline, |got| match a {
                    Act::Until(text, n) => count(got, text) >= *n,
                    _ => false,
                });
            }
        }
    }
    for t in beside {
        let _ = t.join();
    }
}

const MARK: &[u8] = b"GET /mark HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";

fn is_mark(line: &str) -> bool {
    line.ends_with("\"GET /mark HTTP/1.1\"")
}

/// Where a proxy's log lines come from.
trait Lines {
    /// The next line, or `None` after `wait`.
    fn next_line(&mut self, wait: Duration) -> Option<String>;

    /// The lines before the marker's (consumed too).
    fn until_mark(&mut self) -> Result<Vec<String>, String> {
        let mut out = Vec::new();
        loop {
            match self.next_line(Duration::from_secs(5)) {
                Some(l) if is_mark(&l) => return Ok(out),
                Some(l) => out.push(l),
                None => return Err(format!("no marker line; lines so far: {out:?}")),
            }
        }
    }
}

struct HaproxyLines<'a> {
    hap: &'a Haproxy,
    seen: usize,
}

impl Lines for HaproxyLines<'_> {
    fn next_line(&mut self, wait: Duration) -> Option<String> {
        let deadline = Instant::now() + wait;
        loop {
            let text = self.hap.log_text();
            let line = text
                .lines()
                .filter(|l| l.starts_with("127.0.0.1:"))
                .nth(self.seen);
            if let Some(l) = line {
                self.seen += 1;
                return Some(l.to_string());
            }
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Lines for Receiver<String> {
    fn next_line(&mut self, wait: Duration) -> Option<String> {
        self.recv_timeout(wait).ok()
    }
}

/// An httplog line cut into its fields.
#[derive(Debug)]
struct Fields<'a> {
    client: &'a str,
    date: &'a str,
    frontend: &'a str,
    backend_server: &'a str,
    timers: Vec<&'a str>,
    status: &'a str,
    bytes: &'a str,
    captures: (&'a str, &'a str),
    termination: &'a str,
    counters: &'a str,
    queues: &'a str,
    request: &'a str,
}

fn fields(line: &str) -> Result<Fields<'_>, String> {
    let q = line
        .find('"')
        .ok_or_else(|| format!("no request field in {line:?}"))?;
    let w: Vec<&str> = line[..q].split_whitespace().collect();
    if w.len() != 12 {
        return Err(format!("{} fields before the request in {line:?}", w.len()));
    }
    Ok(Fields {
        client: w[0],
        date: w[1],
        frontend: w[2],
        backend_server: w[3],
        timers: w[4].split('/').collect(),
        status: w[5],
        bytes: w[6],
        captures: (w[7], w[8]),
        termination: w[9],
        counters: w[10],
        queues: w[11],
        request: &line[q..],
    })
}

/// What must be equal in both lines.
fn comparable(line: &str) -> Result<String, String> {
    let f = fields(line)?;
    let ip = f.client.rsplit_once(':').map_or("?", |(ip, _)| ip);
    let date_ok = f.date.len() == "[24/Nov/2026:21:40:33.493]".len()
        && f.date.starts_with('[')
        && f.date.ends_with(']');
    let timers: Vec<&str> = f
        .timers
        .iter()
        .enumerate()
        .map(|(i, t)| match (*t, i) {
            ("-1", _) => "-1",
            (_, 4) if t.starts_with('+') => "+t",
            _ => "t",
        })
        .collect();
    // How much of a response went out before the client left depends on the kernel's
    // buffers.
    let bytes = if f.termination.starts_with("CD") {
        "(some)"
    } else {
        f.bytes
    };
    Ok(format!(
        "ip={ip} date_ok={date_ok} fe={} be/srv={} timers={} status={} bytes={} captures={} {} \
         term={} retries={} queues={} request={}",
        f.frontend,
        f.backend_server,
        timers.join("/"),
        f.status,
        bytes,
        f.captures.0,
        f.captures.1,
        f.termination,
        f.counters.rsplit('/').next().unwrap_or("?"),
        f.queues,
        f.request
    ))
}

type Edge = (
    tokio::runtime::Runtime,
    Running,
    Vec<SocketAddr>,
    Receiver<String>,
);

fn wtedge_for(hap: &Haproxy) -> Edge {
    // Session ids shown: HAProxy logs them as they are.
    let (logger, rx) = Logger::channel(true);
    let e = common::wtedge_beside(
        hap,
        "logs.cfg",
        logger,
        EngineChoice::Native,
        Duration::from_millis(200),
    )
    .unwrap_or_else(|e| panic!("wtedge: {e}"));
    (
        e.rt,
        e.running,
        e.addrs.into_iter().map(|(_, a)| a).collect(),
        rx,
    )
}

/// Waits (2 s at most) until HAProxy's `show sess` lists only the CLI's own stream.
fn wait_streams_done(hap: &Haproxy) {
    let deadline = Instant::now() + Duration::from_secs(2);
    while Instant::now() < deadline {
        let streams = hap.cli("show sess").map_or(usize::MAX, |out| {
            out.lines().filter(|l| l.contains("proto=")).count()
        });
        if streams <= 1 {
            return;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn compare(options: &str) {
    if let Err(e) = haproxy::binary() {
        panic!("this test compares wtedge with HAProxy 2.6 and needs it: {e}");
    }
    let origin = start_origin();
    let (dead, _dead_held) = common::dead_port();
    let cfg = format!(
        "defaults\n mode http\n option httplog\n timeout connect 300ms\n timeout client 3s\n \
         timeout server 1s\n timeout http-request 500ms\n timeout tunnel 500ms\n{options}\
         frontend fe\n bind 127.0.0.1:1\n\
         \x20http-request set-header X-Seen 1\n\
         \x20http-request deny if {{ path /hdeny }}\n\
         \x20http-request set-var(txn.p) path\n\
         \x20http-response set-status 299 if {{ var(txn.p) -m str /cl/rstatus }}\n\
         \x20http-response deny if {{ var(txn.p) -m str /rdeny }}\n\
         \x20http-response deny deny_status 503 if {{ var(txn.p) -m str /rdeny503 }}\n\
         \x20http-response set-header X-Long 0123456789 if {{ var(txn.p) -m str /cl/rstatus }}\n\
         \x20http-request deny deny_status 429 if {{ path /hslow }}\n\
         \x20http-request return status 404 content-type text/plain string nope hdr X-R %[src] if {{ path /hret }}\n\
         \x20http-request return status 204 if {{ path /hret204 }}\n\
         \x20http-request redirect location /hr%[path] code 303 if {{ path /hred }}\n\
         \x20http-request set-path /cl%[path] if {{ path /hsetpath }}\n\
         \x20http-request set-method HEAD if {{ path /hsetmethod }}\n\
         \x20http-request set-uri /cl?x if {{ path /hsetmethod }}\n\
         \x20redirect location /moved code 301 if {{ path /r301 }}\n\
         \x20redirect location /moved code 302 if {{ path /r302 }}\n\
         \x20redirect location /moved code 303 if {{ path /r303 }}\n\
         \x20redirect prefix /pre code 307 if {{ path_beg /r307 }}\n\
         \x20redirect prefix /pre code 308 if {{ path_beg /r308 }}\n\
         \x20use_backend empty if {{ path_beg /none }}\n\
         \x20use_backend dead if {{ path_beg /dead }}\n\
         \x20use_backend redisp if {{ path_beg /redisp }}\n\
         \x20use_backend q if {{ path_beg /q/ }}\n\
         \x20use_backend mq if {{ path_beg /mq/ }}\n\
         \x20use_backend mqr if {{ path_beg /mqr/ }}\n\
         \x20use_backend bred if {{ path_beg /bred }}\n\
         \x20default_backend b\n\
         frontend quiet\n bind 127.0.0.1:2\n option dontlognull\n default_backend b\n\
         frontend bare\n bind 127.0.0.1:3\n use_backend b if {{ path_beg /b }}\n\
         backend b\n server s1 127.0.0.1:9\n\
         backend empty\n server e1 127.0.0.1:9 disabled\n\
         backend dead\n retries 2\n server d1 127.0.0.1:9\n\
         backend q\n timeout queue 300ms\n server q1 127.0.0.1:9 maxconn 1\n\
         backend mq\n timeout queue 2s\n use-server m1 if TRUE\n\
         \x20server m1 127.0.0.1:9 maxconn 1 maxqueue 1\n server m2 127.0.0.1:9\n\
         backend mqr\n timeout queue 2s\n option redispatch\n use-server m1 if TRUE\n\
         \x20server m1 127.0.0.1:9 maxconn 1 maxqueue 1\n server m2 127.0.0.1:9\n\
         backend redisp\n retries 2\n option redispatch\n server d1 127.0.0.1:9\n server s2 127.0.0.1:9\n\
         backend bred\n http-request deny if {{ path /bred/deny }} {{ hdr(x-seen) 1 }}\n\
         \x20http-request return status 200 if {{ path /bred/ret }}\n\
         \x20redirect location /login if {{ path /bred/login }}\n\
         \x20redirect prefix /pre code 301 if {{ path_beg /bred/p/ }}\n server s1 127.0.0.1:9\n"
    );
    let hap = Haproxy::start_logging(&cfg, &|_, server| {
        Some(if server == "d1" { dead } else { origin })
    })
    .unwrap_or_else(|e| panic!("{e}"));
    let (_rt, _running, edge_addrs, mut edge_log) = wtedge_for(&hap);
    let hap_addrs = [
        hap.frontend_addr(Some("fe")).expect("fe"),
        hap.frontend_addr(Some("quiet")).expect("quiet"),
        hap.frontend_addr(Some("bare")).expect("bare"),
    ];
    let mut hap_log = HaproxyLines { hap: &hap, seen: 0 };
    let filter = std::env::var("WTEDGE_CASE").unwrap_or_default();
    let mut report = Vec::new();
    let mut redacted = None;
    for case in cases() {
        if !filter.is_empty() && !case.name.contains(&filter) {
            continue;
        }
        let mut got = Vec::new();
        let mut haproxy_turn = true;
        for (addrs, log) in [
            (&hap_addrs[..], &mut hap_log as &mut dyn Lines),
            (&edge_addrs[..], &mut edge_log as &mut dyn Lines),
        ] {
            run_client(addrs[case.frontend], &case.acts);
            if haproxy_turn {
                // HAProxy may log a stream after the client saw it end: the marker
                // goes once no stream but the CLI's is left.
                wait_streams_done(&hap);
            }
            haproxy_turn = false;
            run_client(addrs[0], &[Act::Send(MARK.to_vec()), Act::Eof]);
            got.push(
                log.until_mark()
                    .unwrap_or_else(|e| panic!("{}: {e}", case.name)),
            );
        }
        let (h, e) = (&got[0], &got[1]);
        let hc: Vec<_> = h.iter().map(|l| comparable(l)).collect();
        let ec: Vec<_> = e.iter().map(|l| comparable(l)).collect();
        if std::env::var_os("E2E_LOGS_SHOW").is_some() {
            eprintln!("{}: {h:?}\n  {e:?}", case.name);
        }
        if hc != ec {
            report.push(format!(
                "{} ({options:?}):\n  haproxy: {h:#?}\n  wtedge:  {e:#?}\n  haproxy fields: {hc:#?}\n  wtedge fields:  {ec:#?}",
                case.name
            ));
        }
        if case.name == "session-id" {
            redacted = h.first().cloned();
        }
    }
    if let Some(line) = redacted {
        // wtedge's default (session ids not shown): HAProxy's line, `wtd` redacted.
        let f = fields(&line).expect("fields");
        assert_eq!(
            redact_wtd(f.request),
            "\"GET /cl?wtd=wt1****&request=ws HTTP/1.1\"",
            "{line}"
        );
    }
    assert!(
        report.is_empty(),
        "{} case(s) log differently from HAProxy:\n{}",
        report.len(),
        report.join("\n\n")
    );
}

#[test]
fn server_close_logs_as_haproxy() {
    compare(" option http-server-close\n");
}

#[test]
fn keep_alive_logs_as_haproxy() {
    compare("");
}

/// Every case again with Debian-like `errorfile` pages in `defaults` (HTTP/1.0,
/// `Connection: close`): the log lines (status, bytes, termination) of the answers
/// made from them must still be HAProxy's.
#[test]
fn errorfiles_log_as_haproxy() {
    let dir = haproxy::TempDir::new("errorfile-logs").unwrap_or_else(|e| panic!("{e}"));
    let mut options = String::from(" option http-server-close\n");
    for (code, reason) in [
        (403, "Forbidden"),
        (429, "Too Many Requests"),
        (502, "Bad Gateway"),
        (503, "Service Unavailable"),
        (504, "Gateway Time-out"),
    ] {
        let path = dir.path().join(format!("{code}.http"));
        let page = format!(
            "HTTP/1.0 {code} {reason}\r\nCache-Control: no-cache\r\nConnection: close\r\nContent-Type: text/html\r\n\r\n<html><body><h1>{code} {reason}</h1>\nFrom a file.\n</body></html>\n"
        );
        std::fs::write(&path, page).unwrap_or_else(|e| panic!("{e}"));
        options.push_str(&format!(" errorfile {code} {}\n", path.display()));
    }
    compare(&options);
}
