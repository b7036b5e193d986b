//! A raw HTTP/1.x client: sends exactly the bytes a case gives, one request per
//! connection, and parses the answer.
//!
//! The request is `line CRLF (header CRLF)* CRLF [body]`: nothing is added (no `Host`,
//! no `Connection: close`, no `Content-Length`). The answer is read up to its end
//! (`Content-Length`, chunked, or close), then the connection is closed.
//!
//! Client address: a source in `127.0.0.0/8` is used for real (the socket is bound to
//! it before connecting). Any other source cannot be used on loopback: the harness then
//! adds `accept-proxy` to the bind and sends a PROXY protocol v1 header carrying that
//! source, which HAProxy uses as `src` (the destination is the real bind address).

use std::io::{self, Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpStream};
use std::time::Duration;

use crate::backend::{Report, SERVER_HEADER};
use crate::corpus::Request;
use crate::raw::{Reader, header};

/// How the client shows its source address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Bind the socket to this loopback address.
    Loopback(Ipv4Addr),
    /// Send a PROXY v1 header with this address (needs `accept-proxy`).
    Proxy(IpAddr),
}

impl Source {
    /// The way to present `src` (default `127.0.0.1`).
    pub fn for_case(src: Option<&str>) -> Result<Source, String> {
        let Some(s) = src else {
            return Ok(Source::Loopback(Ipv4Addr::LOCALHOST));
        };
        let ip: IpAddr = s.parse().map_err(|e| format!("src {s:?}: {e}"))?;
        Ok(match ip {
            IpAddr::V4(v4) if v4.is_loopback() => Source::Loopback(v4),
            other => Source::Proxy(other),
        })
    }

    pub fn ip(&self) -> IpAddr {
        match self {
            Source::Loopback(v4) => IpAddr::V4(*v4),
            Source::Proxy(ip) => *ip,
        }
    }

    pub fn needs_accept_proxy(&self) -> bool {
        matches!(self, Source::Proxy(_))
    }
}

/// A parsed answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    /// First value of a header (name case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The loopback server's report, when a server answered.
    /// The server is named by the `X-Wtedge-Server` header (so that `HEAD` answers,
    /// which have no body, still tell who answered); the rest comes from the body.
    pub fn report(&self) -> Option<Report> {
        let label = self.header(SERVER_HEADER)?;
        let (backend, server) = label.split_once('/')?;
        let mut r = Report::parse(&String::from_utf8_lossy(&self.body)).unwrap_or_default();
        r.backend = backend.to_string();
        r.server = server.to_string();
        Some(r)
    }
}

/// The bytes sent for `req`.
pub fn request_bytes(req: &Request) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(req.line.as_bytes());
    out.extend_from_slice(b"\r\n");
    for h in &req.headers {
        out.extend_from_slice(h.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    if let Some(b) = &req.body {
        out.extend_from_slice(b.as_bytes());
    }
    out
}

fn connect(dst: SocketAddr, src: Source) -> io::Result<TcpStream> {
    let stream = match src {
        Source::Loopback(ip) if ip != Ipv4Addr::LOCALHOST => {
            let sock = socket2::Socket::new(
                socket2::Domain::IPV4,
                socket2::Type::STREAM,
                Some(socket2::Protocol::TCP),
            )?;
            sock.bind(&SocketAddr::new(IpAddr::V4(ip), 0).into())?;
            sock.connect_timeout(&dst.into(), Duration::from_secs(5))?;
            TcpStream::from(sock)
        }
        _ => TcpStream::connect_timeout(&dst, Duration::from_secs(5))?,
    };
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    stream.set_write_timeout(Some(Duration::from_secs(10)))?;
    let _ = stream.set_nodelay(true);
    Ok(stream)
}

/// Sends `req` to `dst` on a new connection and reads the answer.
pub fn send(dst: SocketAddr, src: Source, req: &Request) -> io::Result<Response> {
    let mut s = connect(dst, src)?;
    if let Source::Proxy(ip) = src {
        let local = s.local_addr()?;
        let hdr = match ip {
            IpAddr::V4(v4) => format!(
                "PROXY TCP4 {v4} {} {} {}\r\n",
                dst.ip(),
                local.port(),
                dst.port()
            ),
            IpAddr::V6(v6) => format!("PROXY TCP6 {v6} ::1 {} {}\r\n", local.port(), dst.port()),
        };
        s.write_all(hdr.as_bytes())?;
    }
    s.write_all(&request_bytes(req))?;
    s.flush()?;
    let head_only = req.line.starts_with("HEAD ");
    read_response(&mut s, head_only)
}

fn bad(msg: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.into())
}

/// Reads one HTTP/1.x response (status, headers, body).
pub fn read_response(s: &mut impl Read, head_only: bool) -> io::Result<Response> {
    let mut r = Reader::new(s);
    let ended = |r: &Reader<_>, what: &str| {
        bad(format!(
            "connection {} {what} ({} bytes: {:?})",
            r.eof.as_deref().unwrap_or("ended"),
            r.buf.len(),
            String::from_utf8_lossy(&r.buf)
        ))
    };
    let head = match r.head() {
        Some(h) => h,
        None => return Err(ended(&r, "before a full response head")),
    };
    let mut lines = head.trim_end_matches("\r\n").split("\r\n");
    let status_line = lines.next().unwrap_or("");
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse::<u16>().ok())
        .ok_or_else(|| bad(format!("bad status line {status_line:?}")))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect();
    let no_body = head_only || status == 204 || status == 304 || (100..200).contains(&status);
    let body = if no_body {
        Vec::new()
    } else if let Some(cl) = header(&head, "content-length") {
        let cl: usize = cl
            .parse()
            .map_err(|_| bad(format!("bad content-length {cl:?}")))?;
        match r.take(cl) {
            Some(b) => b,
            None => return Err(ended(&r, "inside the body")),
        }
    } else if header(&head, "transfer-encoding").is_some_and(|t| t.eq_ignore_ascii_case("chunked"))
    {
        match r.chunked() {
            Some((b, _)) => b,
            None => return Err(ended(&r, "inside a chunked body")),
        }
    } else {
        r.rest()
    };
    Ok(Response {
        status,
        headers,
        body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_content_length_and_chunked() {
        let r = read_response(
            &mut &b"HTTP/1.1 302 Found\r\ncontent-length: 0\r\nlocation: /wt1\r\n\r\n"[..],
            false,
        )
        .expect("parse");
        assert_eq!(r.status, 302);
        assert_eq!(r.header("Location"), Some("/wt1"));
        let r = read_response(
            &mut &b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"[..],
            false,
        )
        .expect("parse");
        assert_eq!(r.body, b"abc");
    }

    #[test]
    fn sources() {
        assert_eq!(
            Source::for_case(None),
            Ok(Source::Loopback(Ipv4Addr::LOCALHOST))
        );
        assert!(
            Source::for_case(Some("10.0.0.7"))
                .expect("ip")
                .needs_accept_proxy()
        );
        assert!(
            !Source::for_case(Some("127.0.0.9"))
                .expect("ip")
                .needs_accept_proxy()
        );
    }
}
