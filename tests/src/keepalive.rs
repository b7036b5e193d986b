//! A loopback HTTP/1.1 server that keeps connections open, as Wt's wthttp does, and
//! tells on which of its connections each request came: every answer carries
//! `x-wtedge-server: <label>`, `x-conn: N` (the connection's number, from 1, in accept
//! order) and `x-req: K` (the request's number on that connection, from 1).
//!
//! What the target asks for shapes the answer: `close` in it answers
//! `Connection: close` and closes; `http10` answers `HTTP/1.0` without keep-alive and
//! closes; `bye` answers, then closes the connection 100 ms later (as a server whose
//! idle timeout passed); `dropnext` answers, then closes the connection without an
//! answer when the next request comes on it. Idle connections close after 10 s, as
//! wthttp's.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use crate::backend::SERVER_HEADER;
use crate::raw::find;

/// A running keep-alive server; stopped on drop.
pub struct KeepAliveServer {
    addr: SocketAddr,
    conns: Arc<AtomicU32>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl KeepAliveServer {
    /// Listens on `127.0.0.1:<free port>` as `label`.
    pub fn start(label: &str) -> io::Result<KeepAliveServer> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let conns = Arc::new(AtomicU32::new(0));
        let thread = {
            let (stop, conns, label) = (stop.clone(), conns.clone(), label.to_string());
            thread::spawn(move || {
                for conn in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        return;
                    }
                    let Ok(conn) = conn else { continue };
                    let n = conns.fetch_add(1, Ordering::SeqCst) + 1;
                    let label = label.clone();
                    thread::spawn(move || {
                        let _ = serve(conn, &label, n);
                    });
                }
            })
        };
        Ok(KeepAliveServer {
            addr,
            conns,
            stop,
            thread: Some(thread),
        })
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> u32 {
        self.conns.load(Ordering::SeqCst)
    }
}

impl Drop for KeepAliveServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(200));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve(mut conn: TcpStream, label: &str, n: u32) -> io::Result<()> {
    conn.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let mut drop_next = false;
    for k in 1.. {
        let head_end = loop {
            if let Some(p) = find(&buf, b"\r\n\r\n") {
                break p;
            }
            let got = conn.read(&mut chunk)?;
            if got == 0 {
                return Ok(());
            }
            buf.extend_from_slice(&chunk[..got]);
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
        let line = head.lines().next().unwrap_or("").to_string();
        let length: usize = head
            .lines()
            .filter_map(|l| l.split_once(':'))
            .find(|(name, _)| name.trim().eq_ignore_ascii_case("content-length"))
            .and_then(|(_, v)| v.trim().parse().ok())
            .unwrap_or(0);
        while buf.len() < head_end + 4 + length {
            let got = conn.read(&mut chunk)?;
            if got == 0 {
                return Ok(());
            }
            buf.extend_from_slice(&chunk[..got]);
        }
        buf.drain(..head_end + 4 + length);
        let target = line.split(' ').nth(1).unwrap_or("");
        if drop_next {
            // The server gave up on this connection as the request came.
            return Ok(());
        }
        drop_next = target.contains("dropnext");
        let body = format!("{label} {n} {k}\n");
        let (version, close_hdr, close) = if target.contains("http10") {
            ("HTTP/1.0", "", true)
        } else if target.contains("close") {
            ("HTTP/1.1", "connection: close\r\n", true)
        } else {
            ("HTTP/1.1", "", false)
        };
        let resp = format!(
            "{version} 200 OK\r\n{SERVER_HEADER}: {label}\r\nx-conn: {n}\r\nx-req: {k}\r\n\
             content-type: text/plain\r\n{close_hdr}content-length: {}\r\n\r\n{body}",
            body.len()
        );
        conn.write_all(resp.as_bytes())?;
        if target.contains("bye") {
            // Closed soon after, as an idle connection past the server's timeout.
            thread::sleep(Duration::from_millis(100));
            let _ = conn.shutdown(Shutdown::Both);
            return Ok(());
        }
        if close {
            let _ = conn.shutdown(Shutdown::Write);
            let _ = conn.read(&mut chunk);
            return Ok(());
        }
    }
    Ok(())
}
