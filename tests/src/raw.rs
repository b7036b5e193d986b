//! The raw HTTP/1 kit the socket tests share: a [`Reader`] over a connection that
//! keeps what it read in one buffer and hands out heads, lines, counted bytes,
//! chunked bodies and the rest, and remembers how the connection ended; and
//! [`until_quiet`], an exchange of raw bytes read until the peer closes or goes quiet.
//! [`crate::client`] parses whole answers with it; the tests that look at bytes (how
//! a proxy cuts, closes or stays silent) use it directly.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// Where `needle` first occurs in `hay`.
pub fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// How many times `needle` occurs in `hay` (overlapping ones included).
pub fn count(hay: &[u8], needle: &[u8]) -> usize {
    hay.windows(needle.len()).filter(|w| *w == needle).count()
}

/// The first value of header `name` (case-insensitive) in a head's text.
pub fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.split("\r\n").skip(1).find_map(|l| {
        let (n, v) = l.split_once(':')?;
        n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// A connection's bytes as they come, read into one buffer.
pub struct Reader<S> {
    /// The connection (written to directly by the tests).
    pub s: S,
    /// Read and not yet taken.
    pub buf: Vec<u8>,
    /// How the reading ended: `closed`, `silent (client read timeout)`, `error ...`.
    pub eof: Option<String>,
}

impl<S: Read> Reader<S> {
    /// A reader with nothing read yet.
    pub fn new(s: S) -> Self {
        Reader {
            s,
            buf: Vec::new(),
            eof: None,
        }
    }

    /// Reads once more into the buffer; `false` (and [`Reader::eof`] set) when the
    /// connection ended or stayed silent past its read timeout.
    pub fn fill(&mut self) -> bool {
        if self.eof.is_some() {
            return false;
        }
        let mut chunk = [0u8; 65536];
        match self.s.read(&mut chunk) {
            Ok(0) => self.eof = Some("closed".into()),
            Ok(n) => {
                self.buf.extend_from_slice(&chunk[..n]);
                return true;
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                self.eof = Some("silent (client read timeout)".into())
            }
            Err(e) if e.kind() == ErrorKind::ConnectionReset => self.eof = Some("closed".into()),
            Err(e) => self.eof = Some(format!("error {:?}", e.kind())),
        }
        false
    }

    /// The next `n` bytes.
    pub fn take(&mut self, n: usize) -> Option<Vec<u8>> {
        while self.buf.len() < n {
            if !self.fill() {
                return None;
            }
        }
        Some(self.buf.drain(..n).collect())
    }

    /// The next head, up to and with its empty line.
    pub fn head(&mut self) -> Option<String> {
        loop {
            if let Some(p) = find(&self.buf, b"\r\n\r\n") {
                let h: Vec<u8> = self.buf.drain(..p + 4).collect();
                return Some(String::from_utf8_lossy(&h).into_owned());
            }
            if !self.fill() {
                return None;
            }
        }
    }

    /// The next line, without its CRLF.
    pub fn line(&mut self) -> Option<String> {
        loop {
            if let Some(p) = find(&self.buf, b"\r\n") {
                let l: Vec<u8> = self.buf.drain(..p + 2).collect();
                return Some(String::from_utf8_lossy(&l[..p]).into_owned());
            }
            if !self.fill() {
                return None;
            }
        }
    }

    /// A chunked body, decoded, and its trailer lines; `None` when it is cut or
    /// malformed.
    pub fn chunked(&mut self) -> Option<(Vec<u8>, Vec<String>)> {
        let mut out = Vec::new();
        loop {
            let line = self.line()?;
            let size = line.split(';').next().unwrap_or("").trim();
            let n = usize::from_str_radix(size, 16).ok()?;
            if n == 0 {
                break;
            }
            out.extend(self.take(n)?);
            if !self.line()?.is_empty() {
                return None;
            }
        }
        let mut trailers = Vec::new();
        loop {
            let t = self.line()?;
            if t.is_empty() {
                return Some((out, trailers));
            }
            trailers.push(t);
        }
    }

    /// Everything until the connection ends.
    pub fn rest(&mut self) -> Vec<u8> {
        while self.fill() {}
        std::mem::take(&mut self.buf)
    }
}

impl Reader<TcpStream> {
    /// Reads (keeping everything in [`Reader::buf`]) until `done` holds for what was
    /// read, the connection ends, or `deadline` passes (silence is not an end: a
    /// later call reads on). Reads 4 kB at a time, so that what the test did not wait
    /// for stays unread: closing then resets the connection, as a client that leaves
    /// in the middle of an answer does (a close after reading everything is a FIN,
    /// which proxies treat as a half-close).
    pub fn read_until(&mut self, deadline: Instant, done: impl Fn(&[u8]) -> bool) {
        let mut chunk = [0u8; 4096];
        while !done(&self.buf) && self.eof.is_none() {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() || self.s.set_read_timeout(Some(left)).is_err() {
                return;
            }
            match self.s.read(&mut chunk) {
                Ok(0) => self.eof = Some("closed".into()),
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => return,
                Err(e) => self.eof = Some(format!("error {:?}", e.kind())),
            }
        }
    }
}

/// Sends `bytes` on a new connection and returns what came back before the close or
/// `quiet` of silence (100 ms once an answer's head is in: a kept-alive connection
/// would wait); `<connect failed>` when nothing listens.
pub fn until_quiet(addr: SocketAddr, bytes: &[u8], quiet: Duration) -> Vec<u8> {
    let Ok(mut s) = TcpStream::connect(addr) else {
        return b"<connect failed>".to_vec();
    };
    let _ = s.set_read_timeout(Some(quiet));
    let _ = s.write_all(bytes);
    let mut r = Reader::new(s);
    while r.fill() {
        // One answer is enough.
        if find(&r.buf, b"\r\n\r\n").is_some() && r.buf.len() > 12 {
            let _ = r.s.set_read_timeout(Some(Duration::from_millis(100)));
        }
    }
    r.buf
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heads_lines_chunks_and_the_rest() {
        let wire: &[u8] = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-T: 1\r\n\r\ntail";
        let mut r = Reader::new(wire);
        let head = r.head().unwrap_or_default();
        assert_eq!(header(&head, "transfer-encoding"), Some("chunked"));
        assert_eq!(
            r.chunked(),
            Some((b"abc".to_vec(), vec!["X-T: 1".to_string()]))
        );
        assert_eq!(r.rest(), b"tail");
        assert_eq!(r.eof.as_deref(), Some("closed"));
        let mut cut = Reader::new(&b"5\r\nab"[..]);
        assert_eq!(cut.chunked(), None);
        assert_eq!(count(b"abab", b"ab"), 2);
    }
}
