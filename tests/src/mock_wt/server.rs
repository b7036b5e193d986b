//! The mock's HTTP/1.1 connection loop, written the way Wt's `wthttp` answers where a
//! proxy can tell: keep-alive connections closed after 10 idle seconds
//! (`KEEPALIVE_TIMEOUT` in Wt's `src/http/Connection.C`), dynamic answers chunked and
//! gzipped when the request accepts gzip, static resources with a Content-Length, and
//! the WebSocket handshake written by [`super::websocket`] on the same socket (so the
//! 101 and the first frame can share one write, as Wt's often do).

use std::io;
use std::sync::Arc;
use std::time::Duration;

use flate2::Compression;
use flate2::write::GzEncoder;
use std::io::Write as _;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::{Answer, State};

/// The largest request head or chunk line the mock reads.
const LIMIT: usize = 1 << 20;
/// The largest request body the mock reads.
const BODY_LIMIT: usize = 64 << 20;

/// One request as the mock received it.
#[derive(Debug, Clone)]
pub struct Req {
    pub method: String,
    pub target: String,
    /// `HTTP/1.0` or `HTTP/1.1`.
    pub version: String,
    /// Header lines in the order received, names lower-cased.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Req {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("")
    }

    pub fn query(&self) -> &str {
        self.target.split_once('?').map(|(_, q)| q).unwrap_or("")
    }

    fn http10(&self) -> bool {
        self.version == "HTTP/1.0"
    }

    fn wants_close(&self) -> bool {
        let conn = self.header("connection").unwrap_or("");
        let has = |t: &str| conn.split(',').any(|x| x.trim().eq_ignore_ascii_case(t));
        if self.http10() {
            !has("keep-alive")
        } else {
            has("close")
        }
    }

    /// Wt's `Request::acceptGzipEncoding()`: the header *contains* `gzip`.
    pub fn accepts_gzip(&self) -> bool {
        self.header("accept-encoding")
            .is_some_and(|v| v.contains("gzip"))
    }
}

/// Serves one connection until it closes, idles out or upgrades.
pub async fn serve(st: Arc<State>, mut stream: TcpStream) {
    let _ = stream.set_nodelay(true);
    let mut buf: Vec<u8> = Vec::with_capacity(4096);
    let mut served = 0u32;
    loop {
        let req = match read_request(&mut stream, &mut buf, st.behaviour.keepalive_timeout).await {
            Ok(Some(r)) => r,
            Ok(None) => return,
            Err(e) if e.kind() == io::ErrorKind::TimedOut => {
                st.counters
                    .idle_closed
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                return;
            }
            Err(_) => {
                let _ = stream
                    .write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                    .await;
                return;
            }
        };
        st.record(&req);
        match super::answer(&st, &req).await {
            Answer::Http(reply) => {
                let close = req.wants_close();
                let bytes = reply.to_bytes(&req, close);
                served += 1;
                // Wt closes after an HTTP/1.0 answer (no length is known in advance).
                if stream.write_all(&bytes).await.is_err() || close || req.http10() {
                    return;
                }
            }
            Answer::WebSocketRefused => {
                super::websocket::refuse(stream, &req).await;
                return;
            }
            Answer::WebSocket { id } if served > 0 => {
                // Wt 4.14's bug: an upgrade on a connection that already served a
                // request reuses that request's reply object; the handshake goes out
                // but the session refuses the socket ("invalid WebSocket request,
                // ignoring") and the connection closes without a frame.
                let _ = id;
                st.counters
                    .ws_reused_connection
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                super::websocket::refuse_after_101(stream, &req).await;
                return;
            }
            Answer::WebSocket { id } => {
                let rest = std::mem::take(&mut buf);
                super::websocket::run(st, stream, rest, &req, id).await;
                return;
            }
        }
    }
}

/// An HTTP answer of the mock.
pub struct Reply {
    pub status: u16,
    pub ctype: &'static str,
    pub body: Vec<u8>,
    /// Dynamic content (Wt's `WtReply`: no length known, chunked, gzipped if accepted);
    /// else a static file with a Content-Length.
    pub dynamic: bool,
    pub prefix: String,
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        _ => "Internal Server Error",
    }
}

impl Reply {
    fn to_bytes(&self, req: &Req, close: bool) -> Vec<u8> {
        let mut head = format!(
            "{} {} {}\r\nDate: {}\r\nContent-Type: {}\r\nX-Mock-Wt: {}\r\n",
            if req.http10() { "HTTP/1.0" } else { "HTTP/1.1" },
            self.status,
            reason(self.status),
            http_date(),
            self.ctype,
            self.prefix
        );
        let dynamic = self.dynamic && !self.body.is_empty();
        let gzip = dynamic && req.accepts_gzip();
        let body = if gzip {
            let mut e = GzEncoder::new(Vec::new(), Compression::default());
            let _ = e.write_all(&self.body);
            e.finish().unwrap_or_default()
        } else {
            self.body.clone()
        };
        if close || req.http10() {
            head.push_str(if req.http10() {
                ""
            } else {
                "Connection: close\r\n"
            });
        }
        if gzip {
            head.push_str("Content-Encoding: gzip\r\n");
        }
        let chunked = dynamic && !req.http10();
        if chunked {
            head.push_str("Transfer-Encoding: chunked\r\n\r\n");
        } else if dynamic && req.http10() {
            head.push_str("\r\n");
        } else {
            head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
        }
        let mut out = head.into_bytes();
        if req.method == "HEAD" {
            return out;
        }
        if chunked {
            out.extend_from_slice(format!("{:x}\r\n", body.len()).as_bytes());
            out.extend_from_slice(&body);
            out.extend_from_slice(b"\r\n0\r\n\r\n");
        } else {
            out.extend_from_slice(&body);
        }
        out
    }
}

fn http_date() -> String {
    // A fixed-format date is enough: nothing reads it but HTTP parsers.
    "Thu, 03 Dec 2026 00:00:00 GMT".to_string()
}

/// Reads one request; `Ok(None)` when the peer closed between requests, `TimedOut`
/// when the connection idled out.
async fn read_request(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
    idle: Duration,
) -> io::Result<Option<Req>> {
    let head_len = loop {
        if let Some(i) = find(buf, b"\r\n\r\n") {
            break i + 4;
        }
        if buf.len() > LIMIT {
            return Err(io::Error::other("head too large"));
        }
        let mut chunk = [0u8; 8192];
        let n = if buf.is_empty() {
            match tokio::time::timeout(idle, stream.read(&mut chunk)).await {
                Ok(r) => r?,
                // Wt's KEEPALIVE_TIMEOUT: an idle connection is closed.
                Err(_) => return Err(io::ErrorKind::TimedOut.into()),
            }
        } else {
            stream.read(&mut chunk).await?
        };
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let mut hdrs = [httparse::EMPTY_HEADER; 128];
    let mut parsed = httparse::Request::new(&mut hdrs);
    match parsed.parse(&buf[..head_len]) {
        Ok(httparse::Status::Complete(_)) => {}
        _ => return Err(io::Error::other("bad request head")),
    }
    let req_head = Req {
        method: parsed.method.unwrap_or("").to_string(),
        target: parsed.path.unwrap_or("").to_string(),
        version: if parsed.version == Some(0) {
            "HTTP/1.0".into()
        } else {
            "HTTP/1.1".into()
        },
        headers: parsed
            .headers
            .iter()
            .map(|h| {
                (
                    h.name.to_ascii_lowercase(),
                    String::from_utf8_lossy(h.value).into_owned(),
                )
            })
            .collect(),
        body: Vec::new(),
    };
    buf.drain(..head_len);
    let mut req = req_head;
    let chunked = req
        .header("transfer-encoding")
        .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    if chunked {
        req.body = read_chunked(stream, buf).await?;
    } else if let Some(n) = req.header("content-length") {
        let n: usize = n.trim().parse().map_err(io::Error::other)?;
        if n > BODY_LIMIT {
            return Err(io::Error::other("body too large"));
        }
        fill(stream, buf, n).await?;
        req.body = buf.drain(..n).collect();
    }
    Ok(Some(req))
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

async fn fill(stream: &mut TcpStream, buf: &mut Vec<u8>, n: usize) -> io::Result<()> {
    let mut chunk = [0u8; 8192];
    while buf.len() < n {
        let got = stream.read(&mut chunk).await?;
        if got == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..got]);
    }
    Ok(())
}

async fn read_line(stream: &mut TcpStream, buf: &mut Vec<u8>) -> io::Result<String> {
    let mut chunk = [0u8; 1024];
    loop {
        if let Some(i) = find(buf, b"\r\n") {
            let line = String::from_utf8_lossy(&buf[..i]).into_owned();
            buf.drain(..i + 2);
            return Ok(line);
        }
        if buf.len() > LIMIT {
            return Err(io::Error::other("line too long"));
        }
        let got = stream.read(&mut chunk).await?;
        if got == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..got]);
    }
}

async fn read_chunked(stream: &mut TcpStream, buf: &mut Vec<u8>) -> io::Result<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let line = read_line(stream, buf).await?;
        let size = line.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size, 16).map_err(io::Error::other)?;
        if size == 0 {
            // Trailers up to the empty line.
            while !read_line(stream, buf).await?.is_empty() {}
            return Ok(body);
        }
        if body.len() + size > BODY_LIMIT {
            return Err(io::Error::other("body too large"));
        }
        fill(stream, buf, size + 2).await?;
        body.extend(buf.drain(..size));
        buf.drain(..2);
    }
}
