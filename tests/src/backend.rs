//! Loopback HTTP/1.1 servers, one per server line, that tell who they are.
//!
//! Every request is answered `200` with the header `X-Wtedge-Server: <backend>/<server>`
//! and a body made of `key: value` lines:
//!
//! ```text
//! server: bck1/srv1
//! line: GET /?wtd=wt1 HTTP/1.1
//! x-forwarded-for: 127.0.0.1
//! x-original-to: 127.0.0.1
//! connection: keep-alive
//! ```
//!
//! `line` is the request line exactly as received; then every `X-Forwarded-For`,
//! `X-Original-To` and `Connection` header value, in the order received, and those of
//! `X-Client` and `X-Dst` (the other names the generated configs give these headers). Connections
//! that send nothing (TCP health checks) are closed. The server answers
//! `Connection: close` and closes after each response. A request whose line
//! contains `/hold/` is answered after 1.5 s (a stream in flight, for `be_conn`
//! and `srv_conn`).

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use crate::raw::find;

/// Header carrying `<backend>/<server>` in every answer.
pub const SERVER_HEADER: &str = "x-wtedge-server";

/// Headers echoed in the body, lower-case.
pub const ECHOED: &[&str] = &[
    "x-forwarded-for",
    "x-original-to",
    "connection",
    "x-client",
    "x-dst",
];

/// A running loopback server; stopped on drop.
pub struct Backend {
    label: String,
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Backend {
    /// Listens on `127.0.0.1:<free port>` as `backend/server`.
    pub fn start(backend: &str, server: &str) -> io::Result<Backend> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let label = format!("{backend}/{server}");
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let stop = stop.clone();
            let label = label.clone();
            thread::spawn(move || accept_loop(listener, &label, &stop))
        };
        Ok(Backend {
            label,
            addr,
            stop,
            thread: Some(thread),
        })
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    pub fn label(&self) -> &str {
        &self.label
    }
}

impl Drop for Backend {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept call.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(200));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn accept_loop(listener: TcpListener, label: &str, stop: &AtomicBool) {
    for conn in listener.incoming() {
        if stop.load(Ordering::SeqCst) {
            return;
        }
        let Ok(conn) = conn else { continue };
        let label = label.to_string();
        thread::spawn(move || {
            let _ = serve(conn, &label);
        });
    }
}

/// Reads one request head (and a `Content-Length` body), answers, closes.
fn serve(mut conn: TcpStream, label: &str) -> io::Result<()> {
    conn.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(p) = find(&buf, b"\r\n\r\n") {
            break p;
        }
        let n = conn.read(&mut chunk)?;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or("").to_string();
    let mut body = format!("server: {label}\nline: {request_line}\n");
    let mut content_length = 0usize;
    for l in lines {
        let Some((name, value)) = l.split_once(':') else {
            continue;
        };
        let name = name.trim().to_ascii_lowercase();
        let value = value.trim();
        if ECHOED.contains(&name.as_str()) {
            body.push_str(&format!("{name}: {value}\n"));
        }
        if name == "content-length" {
            content_length = value.parse().unwrap_or(0);
        }
    }
    let mut have = buf.len() - (head_end + 4);
    while have < content_length {
        let n = conn.read(&mut chunk)?;
        if n == 0 {
            break;
        }
        have += n;
    }
    if request_line.contains("/hold/") {
        thread::sleep(Duration::from_millis(1500));
    }
    let resp = format!(
        "HTTP/1.1 200 OK\r\n{SERVER_HEADER}: {label}\r\ncontent-type: text/plain\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    conn.write_all(resp.as_bytes())?;
    conn.flush()?;
    let _ = conn.shutdown(Shutdown::Write);
    // Let the peer read before the socket goes away.
    let _ = conn.read(&mut chunk);
    Ok(())
}

/// What a loopback server reported in its answer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    pub backend: String,
    pub server: String,
    pub line: String,
    pub xff: Vec<String>,
    pub original_to: Vec<String>,
    pub connection: Vec<String>,
    /// `name: value` of the other echoed headers (`x-client`, `x-dst`), in order.
    pub extra: Vec<String>,
}

impl Report {
    /// Parses the body written by [`serve`].
    pub fn parse(body: &str) -> Option<Report> {
        let mut r = Report::default();
        let mut seen_server = false;
        for l in body.lines() {
            let Some((k, v)) = l.split_once(": ") else {
                continue;
            };
            match k {
                "server" => {
                    let (b, s) = v.split_once('/')?;
                    r.backend = b.to_string();
                    r.server = s.to_string();
                    seen_server = true;
                }
                "line" => r.line = v.to_string(),
                "x-forwarded-for" => r.xff.push(v.to_string()),
                "x-original-to" => r.original_to.push(v.to_string()),
                "connection" => r.connection.push(v.to_string()),
                k if ECHOED.contains(&k) => r.extra.push(format!("{k}: {v}")),
                _ => {}
            }
        }
        seen_server.then_some(r)
    }
}
