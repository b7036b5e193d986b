//! Test clients of the mock Wt (and of anything in front of it): an HTTP/1.1
//! keep-alive connection (hyper), and a WebSocket client written on raw sockets that
//! can send what Chromium sends (`Accept-Encoding: gzip, deflate, br, zstd`, a
//! `permessage-deflate` offer) and reads frames as strictly as a browser does, so
//! that Wt's gzipped 101 fails here as it fails in Chromium.

use std::io;
use std::net::SocketAddr;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper::client::conn::http1 as client_http1;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::handshake::client::generate_key;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;

use super::frame::{self, Deflater, Frame, Inflater, op};

/// An answer: status, headers (lower-case names) and the whole body.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A keep-alive client connection.
pub struct Conn {
    sender: client_http1::SendRequest<Full<Bytes>>,
    host: String,
}

impl Conn {
    pub async fn open(addr: SocketAddr) -> io::Result<Conn> {
        let stream = TcpStream::connect(addr).await?;
        let _ = stream.set_nodelay(true);
        let (sender, conn) = client_http1::handshake(TokioIo::new(stream))
            .await
            .map_err(io::Error::other)?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        Ok(Conn {
            sender,
            host: addr.to_string(),
        })
    }

    /// Sends one request and reads the whole answer.
    pub async fn send(
        &mut self,
        method: &str,
        target: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> io::Result<Answer> {
        self.sender.ready().await.map_err(io::Error::other)?;
        let mut b = Request::builder()
            .method(method)
            .uri(target)
            .header("host", self.host.as_str());
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        let req = b
            .body(Full::new(Bytes::copy_from_slice(body.as_bytes())))
            .map_err(io::Error::other)?;
        let resp = self
            .sender
            .send_request(req)
            .await
            .map_err(io::Error::other)?;
        let status = resp.status().as_u16();
        let headers = resp
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let body = resp
            .into_body()
            .collect()
            .await
            .map_err(io::Error::other)?
            .to_bytes();
        Ok(Answer {
            status,
            headers,
            body: String::from_utf8_lossy(&body).into_owned(),
        })
    }

    pub async fn get(&mut self, target: &str) -> io::Result<Answer> {
        self.send("GET", target, &[], "").await
    }
}

/// One GET on a fresh connection.
pub async fn get(addr: SocketAddr, target: &str) -> io::Result<Answer> {
    Conn::open(addr).await?.get(target).await
}

/// Which client's upgrade request a [`Ws`] sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Browser {
    /// The minimum a browser sends: `Origin`, no `Accept-Encoding`, no extension.
    Plain,
    /// Chromium 156's request: `Accept-Encoding: gzip, deflate, br, zstd`, `Origin`,
    /// `permessage-deflate; client_max_window_bits` offered (and used).
    Chrome,
}

/// A WebSocket client connection.
pub struct Ws {
    stream: TcpStream,
    buf: Vec<u8>,
    deflate: Option<(Deflater, Inflater)>,
    mask_seed: u32,
    /// The 101 head as received.
    pub head: String,
    /// Whether frame bytes came in the same read as the end of the 101 head.
    pub frame_with_head: bool,
}

/// Opens a WebSocket to `ws://addr{target}` with a plain request. A refused upgrade is
/// an `Err` whose text carries the status (e.g. `HTTP error: 403 Forbidden`).
pub async fn websocket(addr: SocketAddr, target: &str) -> Result<Ws, String> {
    websocket_as(addr, target, Browser::Plain).await
}

/// Opens a WebSocket with `browser`'s upgrade request.
pub async fn websocket_as(addr: SocketAddr, target: &str, browser: Browser) -> Result<Ws, String> {
    websocket_to(addr, &addr.to_string(), target, browser).await
}

/// Opens a WebSocket on `addr` for the page of `host` (its `Host` and, as a browser's,
/// its `Origin`: `http://host`).
pub async fn websocket_to(
    addr: SocketAddr,
    host: &str,
    target: &str,
    browser: Browser,
) -> Result<Ws, String> {
    let mut stream = TcpStream::connect(addr)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    let _ = stream.set_nodelay(true);
    let key = generate_key();
    let mut req = format!("GET {target} HTTP/1.1\r\nHost: {host}\r\nConnection: Upgrade\r\n");
    if browser == Browser::Chrome {
        req.push_str(
            "Pragma: no-cache\r\nCache-Control: no-cache\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64) \
             AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36\r\n",
        );
    }
    // Every browser sends Origin; Wt refuses a WebSocket without one.
    req.push_str(&format!("Upgrade: websocket\r\nOrigin: http://{host}\r\n"));
    req.push_str("Sec-WebSocket-Version: 13\r\n");
    if browser == Browser::Chrome {
        req.push_str(
            "Accept-Encoding: gzip, deflate, br, zstd\r\nAccept-Language: en-US,en;q=0.9\r\n",
        );
    }
    req.push_str(&format!("Sec-WebSocket-Key: {key}\r\n"));
    if browser == Browser::Chrome {
        req.push_str("Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n");
    }
    req.push_str("\r\n");
    stream
        .write_all(req.as_bytes())
        .await
        .map_err(|e| format!("write: {e}"))?;

    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let (head_len, frame_with_head) = loop {
        let n = stream
            .read(&mut chunk)
            .await
            .map_err(|e| format!("read: {e}"))?;
        if n == 0 {
            return Err("connection closed before the 101".into());
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break (i + 4, buf.len() > i + 4);
        }
        if buf.len() > 65536 {
            return Err("response head too large".into());
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_len]).into_owned();
    buf.drain(..head_len);
    let mut hdrs = [httparse::EMPTY_HEADER; 64];
    let mut resp = httparse::Response::new(&mut hdrs);
    if !matches!(
        resp.parse(head.as_bytes()),
        Ok(httparse::Status::Complete(_))
    ) {
        return Err(format!("invalid response head: {head:?}"));
    }
    let code = resp.code.unwrap_or(0);
    if code != 101 {
        return Err(format!("HTTP error: {code} {}", resp.reason.unwrap_or("")));
    }
    let get = |name: &str| {
        resp.headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| String::from_utf8_lossy(h.value).into_owned())
    };
    if get("sec-websocket-accept").as_deref() != Some(derive_accept_key(key.as_bytes()).as_str()) {
        return Err(format!("bad Sec-WebSocket-Accept in {head:?}"));
    }
    let deflate = match get("sec-websocket-extensions") {
        Some(e) if e.contains("permessage-deflate") && browser == Browser::Chrome => {
            Some((Deflater::default(), Inflater::default()))
        }
        Some(e) if !e.trim().is_empty() => return Err(format!("extension not offered: {e}")),
        _ => None,
    };
    Ok(Ws {
        stream,
        buf,
        deflate,
        mask_seed: 0x9e37_79b9 ^ u32::from(addr.port()),
        head,
        frame_with_head,
    })
}

impl Ws {
    /// Reads more bytes into the frame buffer.
    async fn read_more(&mut self) -> Result<(), String> {
        let mut chunk = [0u8; 8192];
        let n = self
            .stream
            .read(&mut chunk)
            .await
            .map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("connection closed".into());
        }
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(())
    }

    /// Whether permessage-deflate was negotiated.
    pub fn deflate(&self) -> bool {
        self.deflate.is_some()
    }

    /// The next text message; `Err` on a close, an invalid frame (as a browser would
    /// fail the connection) or the end of the stream.
    pub async fn text(&mut self) -> Result<String, String> {
        loop {
            match frame::decode(&mut self.buf, false, self.deflate.is_some()) {
                Err(e) => return Err(e.to_string()),
                Ok(Some(f)) => match f.opcode {
                    op::TEXT if f.fin => {
                        let data = match (&mut self.deflate, f.compressed) {
                            (Some((_, inf)), true) => {
                                inf.message(&f.payload).map_err(|e| e.to_string())?
                            }
                            _ => f.payload,
                        };
                        return String::from_utf8(data).map_err(|e| e.to_string());
                    }
                    op::CLOSE => return Err("closed by the server".into()),
                    op::PING => {
                        let pong = self.encode(op::PONG, &f.payload, false);
                        self.stream
                            .write_all(&pong)
                            .await
                            .map_err(|e| e.to_string())?;
                    }
                    _ => {}
                },
                Ok(None) => self.read_more().await?,
            }
        }
    }

    fn encode(&mut self, opcode: u8, payload: &[u8], compress: bool) -> Vec<u8> {
        self.mask_seed = self
            .mask_seed
            .wrapping_mul(1_664_525)
            .wrapping_add(1_013_904_223);
        let (payload, compressed) = match (&mut self.deflate, compress) {
            (Some((d, _)), true) => (d.message(payload), true),
            _ => (payload.to_vec(), false),
        };
        let f = Frame {
            fin: true,
            compressed,
            opcode,
            payload,
        };
        frame::encode(&f, Some(self.mask_seed.to_be_bytes()))
    }

    /// Sends a text message (deflated when negotiated, as Chromium does).
    pub async fn send(&mut self, text: &str) -> bool {
        let bytes = self.encode(op::TEXT, text.as_bytes(), true);
        self.stream.write_all(&bytes).await.is_ok()
    }

    /// Sends a ping and waits for its pong.
    pub async fn ping(&mut self, payload: &[u8]) -> Result<(), String> {
        let bytes = self.encode(op::PING, payload, false);
        self.stream
            .write_all(&bytes)
            .await
            .map_err(|e| e.to_string())?;
        loop {
            match frame::decode(&mut self.buf, false, self.deflate.is_some()) {
                Err(e) => return Err(e.to_string()),
                Ok(Some(f)) if f.opcode == op::PONG => {
                    return if f.payload == payload {
                        Ok(())
                    } else {
                        Err("pong payload differs".into())
                    };
                }
                Ok(Some(f)) => return Err(format!("opcode {:#x} before the pong", f.opcode)),
                Ok(None) => self.read_more().await?,
            }
        }
    }

    /// Sends a close (1000) and waits for the server's.
    pub async fn close(&mut self) {
        let bytes = self.encode(op::CLOSE, &[0x03, 0xe8], false);
        if self.stream.write_all(&bytes).await.is_ok() {
            let _ = tokio::time::timeout(std::time::Duration::from_secs(2), self.text()).await;
        }
    }
}

/// Reads the next text message (`None` on a close or an error).
pub async fn ws_text(ws: &mut Ws) -> Option<String> {
    ws.text().await.ok()
}

pub async fn ws_send(ws: &mut Ws, text: &str) -> bool {
    ws.send(text).await
}
