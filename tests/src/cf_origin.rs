//! An origin that answers as Cloudflare does for an origin it cannot reach, so that
//! the Worker's reading of those answers (`router_core::unstable::edge_origin`) is tested under
//! `wrangler dev`, where `fetch` reaches loopback directly and no Cloudflare sits
//! between the Worker and the origin.
//!
//! The target says what to answer:
//! - `/cf/<status>`: `<status>` (520-526, 530) with Cloudflare's 5xx page;
//! - `/cf/<status>-<code>`: `<status>` with Cloudflare's 1xxx error page for `<code>`
//!   (e.g. `/cf/530-1016` for an origin DNS error, `/cf/403-1003` for a direct IP);
//! - `/own/<status>`: `<status>` as the origin itself answers it (`Server: wthttp`);
//! - anything else (a health check): 200.
//!
//! Every request target is recorded; each answer closes its connection.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::Duration;

/// A running origin; stopped on drop.
pub struct CfOrigin {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    seen: Arc<Mutex<Vec<String>>>,
    thread: Option<JoinHandle<()>>,
}

impl CfOrigin {
    /// Listens on `addr`.
    pub fn start(addr: SocketAddr) -> io::Result<CfOrigin> {
        let listener = TcpListener::bind(addr)?;
        let stop = Arc::new(AtomicBool::new(false));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let thread = {
            let (stop, seen) = (stop.clone(), seen.clone());
            thread::spawn(move || {
                for conn in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    if let Ok(c) = conn {
                        let seen = seen.clone();
                        thread::spawn(move || {
                            let _ = serve(c, &seen);
                        });
                    }
                }
            })
        };
        Ok(CfOrigin {
            addr,
            stop,
            seen,
            thread: Some(thread),
        })
    }

    /// The targets received so far, in order.
    pub fn targets(&self) -> Vec<String> {
        self.seen.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// How many requests for `target` arrived.
    pub fn count(&self, target: &str) -> usize {
        self.targets().iter().filter(|t| *t == target).count()
    }
}

impl Drop for CfOrigin {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(200));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve(mut c: TcpStream, seen: &Mutex<Vec<String>>) -> io::Result<()> {
    c.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = c.read(&mut chunk)?;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let head = String::from_utf8_lossy(&buf).into_owned();
    let target = head.split(' ').nth(1).unwrap_or("/").to_string();
    if let Ok(mut s) = seen.lock() {
        s.push(target.clone());
    }
    let (status, server, body) = answer(&target);
    let reply = format!(
        "HTTP/1.1 {status} Origin Error\r\nServer: {server}\r\nContent-Type: text/html; charset=UTF-8\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    c.write_all(reply.as_bytes())?;
    c.flush()?;
    // Close gracefully: a close with bytes still unread sends a reset, and a client
    // that loses the answer to a reset may send the request again.
    let _ = c.shutdown(std::net::Shutdown::Write);
    let _ = c.read(&mut chunk);
    Ok(())
}

/// Status, `Server` and body for a target.
fn answer(target: &str) -> (u16, &'static str, String) {
    let path = target.split('?').next().unwrap_or("");
    if let Some(rest) = path.strip_prefix("/cf/") {
        let (status, code) = match rest.split_once('-') {
            Some((s, c)) => (s.parse().unwrap_or(520), c.parse::<u16>().ok()),
            None => (rest.parse().unwrap_or(520), None),
        };
        let page = match code {
            Some(c) => error_1xxx_page(c),
            None => error_5xx_page(status),
        };
        return (status, "cloudflare", page);
    }
    if let Some(rest) = path.strip_prefix("/own/") {
        let status = rest.parse().unwrap_or(500);
        return (status, "wthttp", format!("<h1>Wt says {status}</h1>"));
    }
    (200, "wthttp", "ok".to_string())
}

/// Cloudflare's 52x page (the classic layout: `cf-error-code`).
fn error_5xx_page(status: u16) -> String {
    format!(
        "<!DOCTYPE html><html><head><title>example.com | {status}: Connection timed out</title></head>\
         <body><div id=\"cf-error-details\"><h1><span class=\"cf-error-type\" data-translate=\"error\">Error</span>\
         <span class=\"cf-error-code\">{status}</span></h1><p>Performance &amp; security by Cloudflare</p>\
         </div></body></html>"
    )
}

/// Cloudflare's 1xxx page (the current layout: the code in the span after `Error`).
fn error_1xxx_page(code: u16) -> String {
    format!(
        "<!DOCTYPE html><html><head><title>Error {code} | Cloudflare</title></head><body>\
         <h1 class=\"inline-block md:block mr-2\">\n  <span data-translate=\"error\">Error</span>\n  \
         <span>{code}</span>\n</h1><p>Ray ID: 8f0000000000 &bull; Cloudflare</p></body></html>"
    )
}
