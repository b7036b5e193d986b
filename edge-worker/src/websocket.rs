//! The WebSocket upgrade as the Worker sends it over a socket of its own, and the
//! frames it relays, as pure functions tested natively.
//!
//! Why not `fetch`: the Workers runtime sends an upgrade over an idle keep-alive
//! connection of its pool when it has one (seen under `wrangler dev`), and Wt 4.14
//! fails an upgrade on a connection that served a request before (the 101 goes out,
//! the session refuses the socket, the connection closes). HAProxy and wtedge open a
//! server connection per upgrade. So the Worker opens one itself (`connect()`),
//! writes the handshake, reads the 101 and relays messages between the client's
//! WebSocket (a `WebSocketPair`) and the server's frames, as the runtime does when it
//! passes a fetched 101 through. No extension is offered to the server: frames on
//! that hop are never compressed (the client and the runtime negotiate their own).

use std::fmt;

/// A WebSocket opcode.
pub mod op {
    /// A continuation frame.
    pub const CONTINUATION: u8 = 0x0;
    /// A text frame.
    pub const TEXT: u8 = 0x1;
    /// A binary frame.
    pub const BINARY: u8 = 0x2;
    /// A close frame.
    pub const CLOSE: u8 = 0x8;
    /// A ping.
    pub const PING: u8 = 0x9;
    /// A pong.
    pub const PONG: u8 = 0xA;
}

/// Headers of the client's request that the handshake to the server does not copy:
/// hop-by-hop ones, the client's own handshake (the Worker makes its own) and what
/// the runtime would set itself.
const NOT_COPIED: &[&str] = &[
    "host",
    "connection",
    "upgrade",
    "keep-alive",
    "proxy-connection",
    "te",
    "transfer-encoding",
    "content-length",
    "sec-websocket-key",
    "sec-websocket-version",
    "sec-websocket-extensions",
];

/// The handshake request head: `GET target`, `Host: host`, the client's other
/// headers (as edited for the server), then the Worker's own handshake headers.
pub fn upgrade_head(target: &str, host: &str, headers: &[(String, String)], key: &str) -> Vec<u8> {
    let mut out = format!("GET {target} HTTP/1.1\r\nHost: {host}\r\n");
    for (k, v) in headers {
        if NOT_COPIED.iter().any(|n| k.eq_ignore_ascii_case(n)) || has_line_break(k, v) {
            continue;
        }
        out.push_str(k);
        out.push_str(": ");
        out.push_str(v);
        out.push_str("\r\n");
    }
    out.push_str("Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n");
    out.push_str("Sec-WebSocket-Key: ");
    out.push_str(key);
    out.push_str("\r\n\r\n");
    out.into_bytes()
}

fn has_line_break(k: &str, v: &str) -> bool {
    k.bytes().chain(v.bytes()).any(|b| b == b'\r' || b == b'\n')
}

/// A `Sec-WebSocket-Key` from 16 random bytes.
pub fn handshake_key(random: [u8; 16]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(random)
}

/// The server's answer head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseHead {
    /// Status code.
    pub status: u16,
    /// Reason phrase.
    pub reason: String,
    /// Header lines in order.
    pub headers: Vec<(String, String)>,
    /// Bytes of the head (what follows is body or frames).
    pub len: usize,
}

impl ResponseHead {
    /// The first value of header `name`.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Parses the response head at the start of `buf`: `Ok(None)` when incomplete.
pub fn parse_response_head(buf: &[u8]) -> Result<Option<ResponseHead>, String> {
    let mut hdrs = [httparse::EMPTY_HEADER; 96];
    let mut resp = httparse::Response::new(&mut hdrs);
    match resp.parse(buf) {
        Ok(httparse::Status::Partial) => Ok(None),
        Ok(httparse::Status::Complete(len)) => Ok(Some(ResponseHead {
            status: resp.code.unwrap_or(0),
            reason: resp.reason.unwrap_or("").to_string(),
            headers: resp
                .headers
                .iter()
                .map(|h| {
                    (
                        h.name.to_string(),
                        String::from_utf8_lossy(h.value).into_owned(),
                    )
                })
                .collect(),
            len,
        })),
        Err(e) => Err(e.to_string()),
    }
}

/// One frame from the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// Last frame of its message.
    pub fin: bool,
    /// The opcode.
    pub opcode: u8,
    /// The payload.
    pub payload: Vec<u8>,
}

/// A frame the server must not send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrameError {
    /// RSV bits set (no extension was negotiated) or a reserved opcode.
    Header(u8),
    /// A server frame with a mask.
    Masked,
    /// Longer than [`MAX_MESSAGE`].
    TooLong(u64),
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameError::Header(b) => write!(f, "invalid frame header {b:#04x}"),
            FrameError::Masked => write!(f, "masked frame from the server"),
            FrameError::TooLong(n) => write!(f, "frame of {n} bytes"),
        }
    }
}

/// The largest frame or message relayed (the Workers limit for a message is 1 MiB).
pub const MAX_MESSAGE: u64 = 1 << 20;

/// Takes the frame at the start of `buf` off it; `Ok(None)` when incomplete.
pub fn decode_server_frame(buf: &mut Vec<u8>) -> Result<Option<Frame>, FrameError> {
    if buf.len() < 2 {
        return Ok(None);
    }
    let (b0, b1) = (buf[0], buf[1]);
    let opcode = b0 & 0x0f;
    if b0 & 0x70 != 0 || !matches!(opcode, 0x0..=0x2 | 0x8..=0xA) {
        return Err(FrameError::Header(b0));
    }
    if b1 & 0x80 != 0 {
        return Err(FrameError::Masked);
    }
    let (len, at) = match b1 & 0x7f {
        126 => match buf.get(2..4) {
            Some(b) => (u64::from(u16::from_be_bytes([b[0], b[1]])), 4),
            None => return Ok(None),
        },
        127 => match buf.get(2..10) {
            Some(b) => {
                let mut a = [0u8; 8];
                a.copy_from_slice(b);
                (u64::from_be_bytes(a), 10)
            }
            None => return Ok(None),
        },
        n => (u64::from(n), 2),
    };
    if len > MAX_MESSAGE {
        return Err(FrameError::TooLong(len));
    }
    let end = at + len as usize;
    if buf.len() < end {
        return Ok(None);
    }
    let payload = buf[at..end].to_vec();
    buf.drain(..end);
    Ok(Some(Frame {
        fin: b0 & 0x80 != 0,
        opcode,
        payload,
    }))
}

/// A client frame (masked with `mask`, as a client must).
pub fn encode_client_frame(opcode: u8, payload: &[u8], mask: [u8; 4]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 14);
    out.push(0x80 | (opcode & 0x0f));
    let len = payload.len();
    if len < 126 {
        out.push(0x80 | len as u8);
    } else if len < 1 << 16 {
        out.push(0x80 | 126);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(0x80 | 127);
        out.extend_from_slice(&(len as u64).to_be_bytes());
    }
    out.extend_from_slice(&mask);
    out.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    out
}

/// What the relay does with a server frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Relay {
    /// Nothing yet (a fragment, a pong).
    Nothing,
    /// Send this text message to the client.
    Text(String),
    /// Send this binary message to the client.
    Binary(Vec<u8>),
    /// Answer the server's ping with this pong payload.
    Pong(Vec<u8>),
    /// The server closed: close the client with this code and reason.
    Close(u16, String),
}

/// Reassembles fragmented server messages.
#[derive(Debug, Default)]
pub struct Messages {
    opcode: u8,
    data: Vec<u8>,
}

impl Messages {
    /// What to do with `frame`; `Err` for a protocol error (close 1002).
    pub fn on_frame(&mut self, frame: Frame) -> Result<Relay, FrameError> {
        match frame.opcode {
            op::PING => Ok(Relay::Pong(frame.payload)),
            op::PONG => Ok(Relay::Nothing),
            op::CLOSE => {
                let code = match frame.payload.get(..2) {
                    Some(c) => u16::from_be_bytes([c[0], c[1]]),
                    None => 1000,
                };
                // 1005/1006/1015 may not be sent in a close frame; a client close
                // must use 1000 or 3000-4999.
                let code = if code == 1000 || (3000..5000).contains(&code) {
                    code
                } else {
                    1000
                };
                let reason =
                    String::from_utf8_lossy(frame.payload.get(2..).unwrap_or(&[])).into_owned();
                Ok(Relay::Close(code, reason))
            }
            op::TEXT | op::BINARY | op::CONTINUATION => {
                if frame.opcode != op::CONTINUATION {
                    self.opcode = frame.opcode;
                    self.data.clear();
                }
                self.data.extend_from_slice(&frame.payload);
                if self.data.len() as u64 > MAX_MESSAGE {
                    return Err(FrameError::TooLong(self.data.len() as u64));
                }
                if !frame.fin {
                    return Ok(Relay::Nothing);
                }
                let data = std::mem::take(&mut self.data);
                Ok(if self.opcode == op::TEXT {
                    Relay::Text(String::from_utf8_lossy(&data).into_owned())
                } else {
                    Relay::Binary(data)
                })
            }
            other => Err(FrameError::Header(other)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_handshake_is_ours_and_the_rest_is_the_clients() {
        let headers = [
            ("Upgrade", "websocket"),
            ("Connection", "Upgrade"),
            ("Sec-WebSocket-Key", "client"),
            ("Sec-WebSocket-Extensions", "permessage-deflate"),
            ("Origin", "https://app.example.com"),
            ("Cookie", "a=b"),
            ("X-Forwarded-For", "203.0.113.7"),
            ("accept-encoding", "identity"),
            ("X-Evil", "a\r\nInjected: yes"),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string()));
        let head = String::from_utf8(upgrade_head(
            "/?wtd=wt1A&request=ws",
            "wt1.example.com:8443",
            &headers,
            "dGhlIHNhbXBsZSBub25jZQ==",
        ))
        .unwrap();
        assert_eq!(
            head,
            "GET /?wtd=wt1A&request=ws HTTP/1.1\r\nHost: wt1.example.com:8443\r\n\
             Origin: https://app.example.com\r\nCookie: a=b\r\nX-Forwarded-For: 203.0.113.7\r\n\
             accept-encoding: identity\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
             Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
        );
        assert_eq!(handshake_key([0; 16]), "AAAAAAAAAAAAAAAAAAAAAA==");
    }

    #[test]
    fn wts_101_and_its_first_frame_in_one_read() {
        let mut bytes =
            b"HTTP/1.1 101 Switching Protocol\r\nConnection: Upgrade\r\nUpgrade: WebSocket\r\n\
            Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n\x81\x07connect"
                .to_vec();
        assert_eq!(parse_response_head(&bytes[..20]), Ok(None));
        let head = parse_response_head(&bytes).unwrap().unwrap();
        assert_eq!(
            (head.status, head.reason.as_str()),
            (101, "Switching Protocol")
        );
        assert!(head.header("sec-websocket-accept").is_some());
        bytes.drain(..head.len);
        let f = decode_server_frame(&mut bytes).unwrap().unwrap();
        assert_eq!(
            Messages::default().on_frame(f),
            Ok(Relay::Text("connect".into()))
        );
        assert!(bytes.is_empty());
    }

    #[test]
    fn frames_fragments_pings_and_closes() {
        let mut m = Messages::default();
        let frag = |fin, opcode, p: &[u8]| Frame {
            fin,
            opcode,
            payload: p.to_vec(),
        };
        assert_eq!(
            m.on_frame(frag(false, op::TEXT, b"hel")),
            Ok(Relay::Nothing)
        );
        assert_eq!(
            m.on_frame(frag(false, op::PING, b"p")),
            Ok(Relay::Pong(b"p".to_vec()))
        );
        assert_eq!(
            m.on_frame(frag(true, op::CONTINUATION, b"lo")),
            Ok(Relay::Text("hello".into()))
        );
        assert_eq!(
            m.on_frame(frag(true, op::BINARY, &[1, 2])),
            Ok(Relay::Binary(vec![1, 2]))
        );
        assert_eq!(
            m.on_frame(frag(true, op::CLOSE, b"\x03\xe9bye")),
            Ok(Relay::Close(1000, "bye".into()))
        );
        assert_eq!(
            m.on_frame(frag(true, op::CLOSE, b"\x0f\xa0")),
            Ok(Relay::Close(4000, String::new()))
        );
        // Gzip bytes (Wt 4.14's bug) are not a frame.
        let mut gz = vec![0x1f, 0x8b, 0x08, 0];
        assert_eq!(decode_server_frame(&mut gz), Err(FrameError::Header(0x1f)));
        let mut masked = encode_client_frame(op::TEXT, b"x", [1, 2, 3, 4]);
        assert_eq!(decode_server_frame(&mut masked), Err(FrameError::Masked));
    }

    #[test]
    fn client_frames_are_masked_with_their_length() {
        for len in [0usize, 125, 126, 65_535, 65_536] {
            let payload = vec![7u8; len];
            let f = encode_client_frame(op::BINARY, &payload, [9, 8, 7, 6]);
            assert_eq!(f[0], 0x82);
            assert_eq!(f[1] & 0x80, 0x80);
            // Unmasked and re-read as a server frame, it is the same payload.
            let at = f.len() - len - 4;
            let mut plain = vec![f[0], f[1] & 0x7f];
            plain.extend_from_slice(&f[2..at]);
            plain.extend(
                f[at + 4..]
                    .iter()
                    .enumerate()
                    .map(|(i, b)| b ^ f[at + i % 4]),
            );
            let got = decode_server_frame(&mut plain).unwrap().unwrap();
            assert_eq!(got.payload, payload);
        }
    }
}
