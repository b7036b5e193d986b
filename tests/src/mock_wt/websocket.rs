//! The mock's WebSocket endpoint, byte for byte as Wt 4.14's `wthttp` answers
//! (`src/http/RequestParser.C`, `Reply.C`, `WtReply.C`):
//!
//! - the head is `HTTP/1.1 101 Switching Protocol` (sic), Wt's default security
//!   headers, `Connection: Upgrade`,
//!   `Upgrade: WebSocket`, `Sec-WebSocket-Accept`, then `Sec-WebSocket-Extensions`
//!   when the client offered `permessage-deflate`, in Wt's spelling
//!   (`permessage-deflate; client_max_window_bits = 15`); no Date, no length;
//! - Wt's bug: when the upgrade request's `Accept-Encoding` contains `gzip`, the head
//!   also says `Content-Encoding: gzip` and every frame goes through a gzip stream, so
//!   a client reads the gzip header (`1f 8b ...`) where a frame should be;
//! - the text frame `connect` is sent at once: in the same write as the head
//!   ([`FirstFrame::WithHead`]) or in a separate write right after it
//!   ([`FirstFrame::AfterHead`]); compressed (RSV1) when the extension was negotiated;
//! - every text message `m` is answered `<id>:m`, pings are answered with pongs, a
//!   close with a close.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;

use super::frame::{self, Deflater, Frame, GzipStream, Inflater, op};
use super::server::Req;
use super::{FirstFrame, State};

/// An offer Wt refuses (its handshake then fails).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refused;

/// Wt's answer to `Sec-WebSocket-Extensions` (`doWebSocketPerMessageDeflateNegotiation`):
/// `Ok(None)` when permessage-deflate is not offered, `Err` when Wt refuses the offer.
pub fn negotiate_deflate(offer: Option<&str>) -> Result<Option<String>, Refused> {
    let Some(offer) = offer else { return Ok(None) };
    if !offer.contains("permessage-deflate") {
        return Ok(None);
    }
    let mut out = String::from("permessage-deflate");
    let (mut client_bits, mut server_bits, mut client_noctx, mut server_noctx) =
        (false, false, false, false);
    for part in offer.split(';') {
        if part.contains("permessage-deflate") {
            continue;
        } else if part.contains("client_no_context_takeover") {
            if client_bits {
                return Err(Refused);
            }
            client_noctx = true;
            out.push_str("; client_no_context_takeover");
        } else if part.contains("server_no_context_takeover") {
            if server_bits {
                return Err(Refused);
            }
            server_noctx = true;
            out.push_str("; server_no_context_takeover");
        } else if part.contains("server_max_window_bits") {
            if server_noctx {
                return Err(Refused);
            }
            let part = part.trim();
            let Some((_, v)) = part.split_once('=') else {
                return Err(Refused);
            };
            match v.trim().parse::<i32>() {
                Ok(8..=15) => {}
                _ => return Err(Refused),
            }
            server_bits = true;
            out.push_str(&format!("; server_max_window_bits = {v}"));
        } else if part.contains("client_max_window_bits") {
            if client_noctx {
                return Err(Refused);
            }
            let part = part.trim();
            match part.split_once('=') {
                Some((_, v)) => {
                    match v.trim().parse::<i32>() {
                        Ok(8..=15) => {}
                        _ => return Err(Refused),
                    }
                    client_bits = true;
                    out.push_str(&format!("; client_max_window_bits = {v}"));
                }
                None => out.push_str("; client_max_window_bits = 15"),
            }
        }
    }
    Ok(Some(out))
}

/// Wt's 101 head for `req` (its extension answer, its gzip bug), or `None` when Wt
/// refuses the handshake.
fn head_101(req: &Req) -> Option<String> {
    let key = req.header("sec-websocket-key")?;
    let ext = negotiate_deflate(req.header("sec-websocket-extensions")).ok()?;
    let mut head = format!(
        "HTTP/1.1 101 Switching Protocol\r\nX-Content-Type-Options: nosniff\r\n\
         Strict-Transport-Security: max-age=15724800; includeSubDomains\r\n\
         Referrer-Policy: strict-origin-when-cross-origin\r\n\
         Connection: Upgrade\r\nUpgrade: WebSocket\r\nSec-WebSocket-Accept: {}\r\n",
        derive_accept_key(key.as_bytes())
    );
    if let Some(ext) = &ext {
        head.push_str(&format!("Sec-WebSocket-Extensions: {ext}\r\n"));
    }
    if req.accepts_gzip() {
        head.push_str("Content-Encoding: gzip\r\n");
    }
    head.push_str("\r\n");
    Some(head)
}

/// Wt's refusal of a WebSocket (unknown session, missing or foreign `Origin`), as
/// Wt 4.14 writes it: a 403 that keeps the handshake's headers, no length, the
/// body up to the close (an empty gzip stream when the request accepted gzip).
pub(super) async fn refuse(mut stream: TcpStream, req: &Req) {
    let mut head = String::from(
        "HTTP/1.1 403 Forbidden\r\nDate: Thu, 03 Dec 2026 00:00:00 GMT\r\nContent-Type: \r\n\
         X-Content-Type-Options: nosniff\r\n\
         Strict-Transport-Security: max-age=15724800; includeSubDomains\r\n\
         Referrer-Policy: strict-origin-when-cross-origin\r\n\
         Connection: Upgrade\r\nUpgrade: WebSocket\r\n",
    );
    if let Some(key) = req.header("sec-websocket-key") {
        head.push_str(&format!(
            "Sec-WebSocket-Accept: {}\r\n",
            derive_accept_key(key.as_bytes())
        ));
    }
    let mut bytes = Vec::new();
    if req.accepts_gzip() {
        head.push_str("Content-Encoding: gzip\r\n\r\n");
        bytes.extend_from_slice(head.as_bytes());
        // zlib's empty gzip stream: header, an empty final block, CRC and length 0.
        bytes.extend_from_slice(&frame::GZIP_HEADER);
        bytes.extend_from_slice(&[0x03, 0x00, 0, 0, 0, 0, 0, 0, 0, 0]);
    } else {
        head.push_str("\r\n");
        bytes.extend_from_slice(head.as_bytes());
    }
    let _ = stream.write_all(&bytes).await;
    let _ = stream.shutdown().await;
}

/// Wt's answer to an upgrade on a reused keep-alive connection: the 101 head, then
/// the connection closes without a frame.
pub(super) async fn refuse_after_101(mut stream: TcpStream, req: &Req) {
    if let Some(head) = head_101(req) {
        let _ = stream.write_all(head.as_bytes()).await;
    }
    let _ = stream.shutdown().await;
}

/// The server side of one WebSocket, from the upgrade request to the close.
pub(super) async fn run(
    st: Arc<State>,
    mut stream: TcpStream,
    mut buf: Vec<u8>,
    req: &Req,
    id: String,
) {
    let c = &st.counters;
    let Some(head) = head_101(req) else {
        let _ = stream
            .write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
            .await;
        return;
    };
    c.ws_accepted.fetch_add(1, Ordering::Relaxed);
    let deflate = head.contains("Sec-WebSocket-Extensions: permessage-deflate");
    let gzip = req.accepts_gzip();
    if deflate {
        c.ws_deflate.fetch_add(1, Ordering::Relaxed);
    }
    if gzip {
        c.ws_gzipped.fetch_add(1, Ordering::Relaxed);
    }

    let mut out = Outgoing {
        deflater: deflate.then(Deflater::default),
        gzip: gzip.then(GzipStream::default),
    };
    let connect = out.text("connect");
    let sent = match st.behaviour.first_frame {
        FirstFrame::WithHead => {
            let mut bytes = head.into_bytes();
            bytes.extend_from_slice(&connect);
            stream.write_all(&bytes).await
        }
        FirstFrame::AfterHead => {
            let r = stream.write_all(head.as_bytes()).await;
            tokio::time::sleep(Duration::from_millis(1)).await;
            match r {
                Ok(()) => stream.write_all(&connect).await,
                e => e,
            }
        }
    };
    if sent.is_err() {
        return;
    }

    let mut inflater = deflate.then(Inflater::default);
    let mut message: Vec<u8> = Vec::new();
    let mut message_compressed = false;
    let mut chunk = vec![0u8; 8192];
    loop {
        let frame = match frame::decode(&mut buf, true, deflate) {
            Ok(Some(f)) => f,
            Ok(None) => {
                match stream.read(&mut chunk).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => buf.extend_from_slice(&chunk[..n]),
                }
                continue;
            }
            Err(_) => {
                // Protocol error: close 1002, as a server must.
                let _ = stream.write_all(&out.frame(op::CLOSE, &[0x03, 0xea])).await;
                return;
            }
        };
        let reply = match frame.opcode {
            op::PING => out.frame(op::PONG, &frame.payload),
            op::PONG => continue,
            op::CLOSE => {
                let code = frame.payload.get(..2).unwrap_or(&[]).to_vec();
                let _ = stream.write_all(&out.frame(op::CLOSE, &code)).await;
                return;
            }
            op::TEXT | op::BINARY | op::CONTINUATION => {
                if frame.opcode != op::CONTINUATION {
                    message.clear();
                    message_compressed = frame.compressed;
                }
                message.extend_from_slice(&frame.payload);
                if !frame.fin {
                    continue;
                }
                let data = match (&mut inflater, message_compressed) {
                    (Some(i), true) => match i.message(&message) {
                        Ok(d) => d,
                        Err(_) => return,
                    },
                    _ => std::mem::take(&mut message),
                };
                c.ws_messages.fetch_add(1, Ordering::Relaxed);
                let text = String::from_utf8_lossy(&data).into_owned();
                st.ws_message(&id, &text);
                out.text(&format!("{id}:{text}"))
            }
            _ => return,
        };
        if stream.write_all(&reply).await.is_err() {
            return;
        }
    }
}

/// What the server writes: frames, deflated when negotiated, through Wt's gzip
/// stream when the bug is triggered.
struct Outgoing {
    deflater: Option<Deflater>,
    gzip: Option<GzipStream>,
}

impl Outgoing {
    fn text(&mut self, s: &str) -> Vec<u8> {
        let f = match &mut self.deflater {
            Some(d) => Frame {
                fin: true,
                compressed: true,
                opcode: op::TEXT,
                payload: d.message(s.as_bytes()),
            },
            None => Frame::text(s),
        };
        self.wrap(frame::encode(&f, None))
    }

    fn frame(&mut self, opcode: u8, payload: &[u8]) -> Vec<u8> {
        let f = Frame {
            fin: true,
            compressed: false,
            opcode,
            payload: payload.to_vec(),
        };
        self.wrap(frame::encode(&f, None))
    }

    fn wrap(&mut self, bytes: Vec<u8>) -> Vec<u8> {
        match &mut self.gzip {
            Some(g) => g.write(&bytes),
            None => bytes,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Refused, negotiate_deflate};

    #[test]
    fn deflate_offers_are_answered_in_wts_spelling() {
        assert_eq!(negotiate_deflate(None), Ok(None));
        assert_eq!(negotiate_deflate(Some("x-webkit-deflate-frame")), Ok(None));
        // Chromium's offer.
        assert_eq!(
            negotiate_deflate(Some("permessage-deflate; client_max_window_bits")),
            Ok(Some(
                "permessage-deflate; client_max_window_bits = 15".into()
            ))
        );
        // Firefox's offer.
        assert_eq!(
            negotiate_deflate(Some("permessage-deflate")),
            Ok(Some("permessage-deflate".into()))
        );
        assert_eq!(
            negotiate_deflate(Some(
                "permessage-deflate; server_no_context_takeover; client_max_window_bits=10"
            )),
            Ok(Some(
                "permessage-deflate; server_no_context_takeover; client_max_window_bits = 10"
                    .into()
            ))
        );
        assert_eq!(
            negotiate_deflate(Some("permessage-deflate; server_max_window_bits=20")),
            Err(Refused)
        );
    }
}
