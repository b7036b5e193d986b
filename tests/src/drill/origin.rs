//! A scripted origin on blocking sockets (a thread per connection) that counts what
//! the drills check: connections open now (a leak shows as one that stays open),
//! requests in progress at once (a server `maxconn` is never exceeded) and the bytes
//! it managed to write (a proxy that buffers without bound lets it write on and on).
//!
//! The path says what to do: `/delay/MS` answers `ok` after MS milliseconds,
//! `/endless-head` sends header lines forever, `/endless-body` a chunked body forever,
//! `/big` a 16 MiB body (more than the socket buffers between it and a client hold), `/ws` answers 101 and echoes; anything else answers `ok`
//! at once. Connections are kept alive unless the request says `Connection: close`.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Size of `/big`'s body.
pub const BIG: usize = 16 << 20;

#[derive(Debug, Default)]
struct Counters {
    open: AtomicU64,
    accepted: AtomicU64,
    requests: AtomicU64,
    in_progress: AtomicU64,
    peak_in_progress: AtomicU64,
    written: AtomicU64,
}

/// A running origin; its threads end with the test process.
#[derive(Debug, Clone)]
pub struct Origin {
    addr: SocketAddr,
    c: Arc<Counters>,
}

impl Origin {
    /// Starts on a free loopback port.
    pub fn start() -> io::Result<Origin> {
        let l = TcpListener::bind("127.0.0.1:0")?;
        let addr = l.local_addr()?;
        let c = Arc::new(Counters::default());
        let cc = c.clone();
        std::thread::spawn(move || {
            for s in l.incoming().flatten() {
                let c = cc.clone();
                c.accepted.fetch_add(1, Ordering::SeqCst);
                c.open.fetch_add(1, Ordering::SeqCst);
                std::thread::spawn(move || {
                    serve(&c, s);
                    c.open.fetch_sub(1, Ordering::SeqCst);
                });
            }
        });
        Ok(Origin { addr, c })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Connections open now.
    pub fn open(&self) -> u64 {
        self.c.open.load(Ordering::SeqCst)
    }

    /// Connections accepted so far.
    pub fn accepted(&self) -> u64 {
        self.c.accepted.load(Ordering::SeqCst)
    }

    /// Requests received so far.
    pub fn requests(&self) -> u64 {
        self.c.requests.load(Ordering::SeqCst)
    }

    /// The most requests it was answering at once.
    pub fn peak_in_progress(&self) -> u64 {
        self.c.peak_in_progress.load(Ordering::SeqCst)
    }

    /// Bytes of endless heads and bodies (and `/big`) written so far.
    pub fn written(&self) -> u64 {
        self.c.written.load(Ordering::SeqCst)
    }

    /// Waits (at most `limit`) until no connection is open; the count left.
    pub fn settle(&self, limit: Duration) -> u64 {
        let deadline = std::time::Instant::now() + limit;
        while self.open() > 0 && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        self.open()
    }
}

/// One request head: the target, `Connection: close`, the body length.
struct Head {
    target: String,
    close: bool,
    body: usize,
    upgrade: bool,
}

fn serve(c: &Counters, mut s: TcpStream) {
    // A connection nobody uses for 30 s is let go (a leak check looks sooner).
    let _ = s.set_read_timeout(Some(Duration::from_secs(30)));
    let _ = s.set_nodelay(true);
    let mut buf = Vec::new();
    while let Some(head) = read_head(&mut s, &mut buf) {
        c.requests.fetch_add(1, Ordering::SeqCst);
        let mut busy = Busy::start(c);
        let keep = answer(c, &mut s, &mut buf, &head, &mut busy).is_ok() && !head.close;
        drop(busy);
        if !keep {
            return;
        }
    }
}

/// A request in progress, from its head to its answer. A short answer ends it just
/// before it is written: a proxy that gets the answer may send the next request at
/// once, and that one must not count as a request at the same time.
struct Busy<'a> {
    c: &'a Counters,
    done: bool,
}

impl<'a> Busy<'a> {
    fn start(c: &'a Counters) -> Self {
        let now = c.in_progress.fetch_add(1, Ordering::SeqCst) + 1;
        c.peak_in_progress.fetch_max(now, Ordering::SeqCst);
        Busy { c, done: false }
    }

    fn end(&mut self) {
        if !std::mem::replace(&mut self.done, true) {
            self.c.in_progress.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

impl Drop for Busy<'_> {
    fn drop(&mut self) {
        self.end();
    }
}

fn answer(
    c: &Counters,
    s: &mut TcpStream,
    buf: &mut Vec<u8>,
    head: &Head,
    busy: &mut Busy<'_>,
) -> io::Result<()> {
    // The body first (a client that stops mid-body leaves this read to fail).
    while buf.len() < head.body {
        let mut b = [0u8; 8192];
        let n = s.read(&mut b)?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&b[..n]);
    }
    buf.drain(..head.body);
    let path = head.target.split('?').next().unwrap_or("/");
    let count = |n: usize| {
        c.written.fetch_add(n as u64, Ordering::SeqCst);
    };
    match path {
        "/endless-head" => {
            s.write_all(b"HTTP/1.1 200 OK\r\n")?;
            let line = format!("X-Pad: {}\r\n", "a".repeat(100));
            loop {
                s.write_all(line.as_bytes())?;
                count(line.len());
            }
        }
        "/endless-body" => {
            s.write_all(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")?;
            let chunk = [b"4000\r\n".as_slice(), &[b'x'; 0x4000], b"\r\n"].concat();
            loop {
                s.write_all(&chunk)?;
                count(chunk.len());
            }
        }
        "/big" => {
            s.write_all(format!("HTTP/1.1 200 OK\r\nContent-Length: {BIG}\r\n\r\n").as_bytes())?;
            let piece = [b'y'; 16384];
            for _ in 0..BIG / piece.len() {
                s.write_all(&piece)?;
                count(piece.len());
            }
            Ok(())
        }
        "/ws" if head.upgrade => {
            s.write_all(
                b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
                  Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
            )?;
            let mut b = [0u8; 4096];
            loop {
                let n = s.read(&mut b)?;
                if n == 0 {
                    // The tunnel ends with the client's side.
                    return Err(io::ErrorKind::UnexpectedEof.into());
                }
                s.write_all(&b[..n])?;
            }
        }
        _ => {
            if let Some(ms) = path.strip_prefix("/delay/").and_then(|m| m.parse().ok()) {
                std::thread::sleep(Duration::from_millis(ms));
            }
            busy.end();
            s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        }
    }
}

fn read_head(s: &mut TcpStream, buf: &mut Vec<u8>) -> Option<Head> {
    let mut b = [0u8; 8192];
    let end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        match s.read(&mut b) {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&b[..n]),
        }
    };
    let text = String::from_utf8_lossy(&buf[..end]).into_owned();
    buf.drain(..end);
    let mut lines = text.split("\r\n");
    let target = lines.next()?.split(' ').nth(1)?.to_string();
    let mut head = Head {
        target,
        close: false,
        body: 0,
        upgrade: false,
    };
    for l in lines {
        let Some((k, v)) = l.split_once(':') else {
            continue;
        };
        let (k, v) = (k.trim().to_ascii_lowercase(), v.trim().to_ascii_lowercase());
        match k.as_str() {
            "connection" if v.contains("close") => head.close = true,
            "content-length" => head.body = v.parse().unwrap_or(0),
            "upgrade" => head.upgrade = true,
            _ => {}
        }
    }
    Some(head)
}
