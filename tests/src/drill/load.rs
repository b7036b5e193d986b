//! A load client on blocking sockets: threads that send `GET` requests in a loop,
//! on keep-alive connections or one connection per request, and count every
//! answer by status and every failure by kind. A failure is never retried: the
//! drills assert that there are none.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::client::read_response;

/// What one load run saw.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Tally {
    /// Requests sent (each has an answer or a failure below).
    pub requests: u64,
    /// Answers by status.
    pub statuses: BTreeMap<u16, u64>,
    /// Connections reset (`ECONNRESET`, `EPIPE`) while sending or reading.
    pub resets: u64,
    /// Connections closed before a whole answer.
    pub closed_early: u64,
    /// Connections refused or timed out at connect.
    pub connect_errors: u64,
    /// Anything else (a read timeout, an unparsable answer).
    pub other_errors: u64,
    /// Connections opened.
    pub connections: u64,
}

impl Tally {
    /// Answers with this status.
    pub fn status(&self, code: u16) -> u64 {
        self.statuses.get(&code).copied().unwrap_or(0)
    }

    /// Requests without any HTTP answer.
    pub fn unanswered(&self) -> u64 {
        self.resets + self.closed_early + self.connect_errors + self.other_errors
    }

    fn add(&mut self, o: &Tally) {
        self.requests += o.requests;
        for (s, n) in &o.statuses {
            *self.statuses.entry(*s).or_default() += n;
        }
        self.resets += o.resets;
        self.closed_early += o.closed_early;
        self.connect_errors += o.connect_errors;
        self.other_errors += o.other_errors;
        self.connections += o.connections;
    }

    fn fail(&mut self, e: &io::Error) {
        match e.kind() {
            io::ErrorKind::ConnectionReset
            | io::ErrorKind::BrokenPipe
            | io::ErrorKind::ConnectionAborted => self.resets += 1,
            io::ErrorKind::InvalidData if e.to_string().contains("closed") => {
                self.closed_early += 1
            }
            _ => self.other_errors += 1,
        }
    }
}

/// A load: `keep_alive` threads that reuse their connection, `close` threads that
/// open one per request, all sending `GET target` to `addr`.
#[derive(Debug, Clone)]
pub struct Load {
    pub addr: SocketAddr,
    pub target: String,
    pub keep_alive: usize,
    pub close: usize,
}

impl Load {
    /// Runs until `stop` is set; the tally of every thread.
    pub fn run(&self, stop: &AtomicBool) -> Tally {
        std::thread::scope(|s| {
            let threads: Vec<_> = (0..self.keep_alive + self.close)
                .map(|i| {
                    let keep = i < self.keep_alive;
                    s.spawn(move || self.one_thread(keep, stop))
                })
                .collect();
            let mut total = Tally::default();
            for t in threads {
                if let Ok(t) = t.join() {
                    total.add(&t);
                }
            }
            total
        })
    }

    fn one_thread(&self, keep: bool, stop: &AtomicBool) -> Tally {
        let mut t = Tally::default();
        let request = if keep {
            format!("GET {} HTTP/1.1\r\nHost: x\r\n\r\n", self.target)
        } else {
            format!(
                "GET {} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                self.target
            )
        };
        let mut conn: Option<TcpStream> = None;
        while !stop.load(Ordering::Relaxed) {
            let mut s = match conn.take() {
                Some(s) => s,
                None => match connect(self.addr) {
                    Ok(s) => {
                        t.connections += 1;
                        s
                    }
                    Err(_) => {
                        t.requests += 1;
                        t.connect_errors += 1;
                        continue;
                    }
                },
            };
            t.requests += 1;
            let answer = s
                .write_all(request.as_bytes())
                .and_then(|()| read_response(&mut s, false));
            match answer {
                Ok(r) => {
                    *t.statuses.entry(r.status).or_default() += 1;
                    let closing = r
                        .header("connection")
                        .is_some_and(|c| c.eq_ignore_ascii_case("close"));
                    if keep && !closing {
                        conn = Some(s);
                    }
                }
                Err(e) => t.fail(&e),
            }
        }
        t
    }
}

/// The backlog of each socket listening on `port` (`ss`'s Send-Q column).
pub fn listen_backlogs(port: u16) -> Vec<u32> {
    let out = std::process::Command::new("ss")
        .args(["-ltnH", &format!("sport = :{port}")])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    out.lines()
        .filter_map(|l| l.split_whitespace().nth(2))
        .filter_map(|n| n.parse().ok())
        .collect()
}

/// A loopback connection with generous timeouts (a drill asserts outcomes, and a
/// timeout is counted as a failure, never waited out silently).
pub fn connect(addr: SocketAddr) -> io::Result<TcpStream> {
    let s = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    s.set_write_timeout(Some(Duration::from_secs(10)))?;
    let _ = s.set_nodelay(true);
    Ok(s)
}

/// One `GET target` with `Connection: close`; everything read until the proxy
/// closes (`<connect: ERROR>` or `<read: ERROR>` when nothing came).
pub fn get(addr: SocketAddr, target: &str) -> String {
    get_waiting(addr, target, Duration::from_secs(5))
}

/// [`get`], waiting up to `connect` for the connection: a SYN the kernel dropped
/// (a full listen backlog) is sent again after 1, 3 and 7 s.
pub fn get_waiting(addr: SocketAddr, target: &str, connect: Duration) -> String {
    let mut s = match TcpStream::connect_timeout(&addr, connect) {
        Ok(s) => s,
        Err(e) => return format!("<connect: {e}>"),
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(20)));
    let _ = write!(
        s,
        "GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    );
    let mut out = Vec::new();
    if let Err(e) = io::Read::read_to_end(&mut s, &mut out)
        && out.is_empty()
    {
        return format!("<read: {e}>");
    }
    String::from_utf8_lossy(&out).into_owned()
}
