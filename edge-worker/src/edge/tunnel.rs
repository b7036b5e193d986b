//! A WebSocket upgrade over a socket of the Worker's own (`connect()`), so that every
//! upgrade reaches the server on a new connection as behind HAProxy; then messages
//! relayed between the client's WebSocket and the server's frames
//! ([`crate::websocket`] has the why and the pure parts).

use futures_util::StreamExt;
use futures_util::future::{Either, select};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wasm_bindgen::JsCast;
use worker::{
    ConnectionBuilder, SecureTransport, Socket, WebSocket, WebSocketPair, WebsocketEvent,
};

use crate::websocket::{
    self as ws, Messages, Relay, ResponseHead, decode_server_frame, encode_client_frame, op,
};

/// How an upgrade attempt ended.
pub(super) enum Upgrade {
    /// The answer for the client: the 101 with the relay running, or the server's
    /// refusal (a 403 from Wt for an unknown session or a foreign Origin).
    Answer(web_sys::Response),
    /// The server answered something that is not HTTP, or a 101 that is no usable
    /// WebSocket (no Sec-WebSocket-Accept, an encoded content): 502.
    Invalid(String),
    /// No connection: retried like a failed `fetch`.
    ConnectFailed(String),
}

/// Everything the handshake needs.
pub(super) struct Handshake<'a> {
    /// Server host name or IP, as `connect()` takes it.
    pub hostname: &'a str,
    /// Server port.
    pub port: u16,
    /// TLS to the server (`server ... ssl`).
    pub tls: bool,
    /// The request target.
    pub target: &'a str,
    /// The client's header lines, as edited for the server.
    pub headers: Vec<(String, String)>,
}

/// Random bytes for the handshake key and the frame masks, from the runtime's
/// `crypto.getRandomValues` (masks must not be predictable); `Math.random` only if
/// that is missing.
fn random_bytes<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    let arr = js_sys::Uint8Array::new_with_length(N as u32);
    let filled = js_sys::Reflect::get(&js_sys::global(), &"crypto".into())
        .ok()
        .filter(|c| c.is_object())
        .and_then(|crypto| {
            let f = js_sys::Reflect::get(&crypto, &"getRandomValues".into()).ok()?;
            let f: js_sys::Function = f.dyn_into().ok()?;
            f.call1(&crypto, &arr).ok()
        })
        .is_some();
    if filled {
        arr.copy_to(&mut out);
    } else {
        for b in &mut out {
            *b = (js_sys::Math::random() * 256.0) as u8;
        }
    }
    out
}

/// Opens the connection, sends the handshake and reads the answer's head.
pub(super) async fn upgrade(h: Handshake<'_>) -> Upgrade {
    let tls = if h.tls {
        SecureTransport::On
    } else {
        SecureTransport::Off
    };
    let mut socket = match ConnectionBuilder::new()
        .secure_transport(tls)
        .connect(h.hostname, h.port)
    {
        Ok(s) => s,
        Err(e) => return Upgrade::ConnectFailed(e.to_string()),
    };
    let default_port = if h.tls { 443 } else { 80 };
    let host = if h.port == default_port {
        h.hostname.to_string()
    } else if h.hostname.contains(':') {
        format!("[{}]:{}", h.hostname, h.port)
    } else {
        format!("{}:{}", h.hostname, h.port)
    };
    let key = ws::handshake_key(random_bytes());
    let head = ws::upgrade_head(h.target, &host, &h.headers, &key);
    if let Err(e) = socket.write_all(&head).await {
        return Upgrade::ConnectFailed(e.to_string());
    }
    let mut buf = Vec::with_capacity(4096);
    let mut chunk = vec![0u8; 16 * 1024];
    let resp = loop {
        match ws::parse_response_head(&buf) {
            Ok(Some(r)) => break r,
            Ok(None) if buf.len() > 64 * 1024 => {
                return Upgrade::Invalid("response head too large".into());
            }
            Ok(None) => {}
            Err(e) => return Upgrade::Invalid(e),
        }
        match socket.read(&mut chunk).await {
            Ok(0) if buf.is_empty() => {
                return Upgrade::ConnectFailed("closed before answering".into());
            }
            Ok(0) => return Upgrade::Invalid("closed in the response head".into()),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if buf.is_empty() => return Upgrade::ConnectFailed(e.to_string()),
            Err(e) => return Upgrade::Invalid(e.to_string()),
        }
    };
    buf.drain(..resp.len);
    if resp.status != 101 {
        return refusal(socket, resp, buf, chunk).await;
    }
    if !router_core::unstable::upgrade::websocket_answer_usable(
        resp.header("sec-websocket-accept").is_some(),
        resp.header("content-encoding").map(str::as_bytes),
    ) {
        return Upgrade::Invalid(format!(
            "unusable 101 ({})",
            resp.header("content-encoding")
                .unwrap_or("no Sec-WebSocket-Accept")
        ));
    }
    match answer_101(&resp) {
        Ok((answer, server)) => {
            wasm_bindgen_futures::spawn_local(relay(socket, server, buf));
            Upgrade::Answer(answer)
        }
        Err(e) => Upgrade::Invalid(e),
    }
}

/// The client's 101 (a `WebSocketPair`) and the end the Worker relays.
fn answer_101(resp: &ResponseHead) -> Result<(web_sys::Response, WebSocket), String> {
    let pair = WebSocketPair::new().map_err(|e| e.to_string())?;
    pair.server.accept().map_err(|e| e.to_string())?;
    let answer = worker::Response::from_websocket(pair.client).map_err(|e| e.to_string())?;
    if let Some(p) = resp.header("sec-websocket-protocol") {
        answer
            .headers()
            .set("sec-websocket-protocol", p)
            .map_err(|e| e.to_string())?;
    }
    Ok((answer.into(), pair.server))
}

/// A non-101 answer passed to the client with its body (Content-Length, chunked or
/// up to the close; at most 64 KiB read).
async fn refusal(
    mut socket: Socket,
    resp: ResponseHead,
    mut buf: Vec<u8>,
    mut chunk: Vec<u8>,
) -> Upgrade {
    let length = resp
        .header("content-length")
        .and_then(|v| v.trim().parse::<usize>().ok());
    let chunked = resp
        .header("transfer-encoding")
        .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    loop {
        let complete = match (length, chunked) {
            (Some(n), _) => buf.len() >= n,
            (None, true) => buf.windows(5).any(|w| w == b"0\r\n\r\n"),
            (None, false) => false,
        };
        if complete || buf.len() > 64 * 1024 {
            break;
        }
        match socket.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    let _ = socket.close().await;
    let body = match (length, chunked) {
        (Some(n), _) => buf[..n.min(buf.len())].to_vec(),
        (None, true) => dechunk(&buf),
        (None, false) => buf,
    };
    let headers = match web_sys::Headers::new() {
        Ok(h) => h,
        Err(_) => return Upgrade::Invalid("headers".into()),
    };
    for (k, v) in &resp.headers {
        let lower = k.to_ascii_lowercase();
        if matches!(
            lower.as_str(),
            "content-length" | "transfer-encoding" | "connection" | "upgrade"
        ) {
            continue;
        }
        let _ = headers.append(k, v);
    }
    let init = web_sys::ResponseInit::new();
    init.set_status(resp.status);
    init.set_headers(&headers);
    let body = if body.is_empty() || resp.status == 204 || resp.status == 304 {
        None
    } else {
        Some(body)
    };
    let body = body.map(|b| js_sys::Uint8Array::from(&b[..]));
    match web_sys::Response::new_with_opt_buffer_source_and_init(
        body.as_ref().map(|b| b.as_ref()),
        &init,
    ) {
        Ok(r) => Upgrade::Answer(r),
        Err(e) => Upgrade::Invalid(super::js_error_text(&e)),
    }
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(i) = b.windows(2).position(|w| w == b"\r\n") {
        let size = std::str::from_utf8(&b[..i])
            .ok()
            .and_then(|s| usize::from_str_radix(s.split(';').next().unwrap_or("").trim(), 16).ok());
        let Some(size) = size.filter(|&n| n > 0) else {
            break;
        };
        let start = i + 2;
        let Some(data) = b.get(start..start + size) else {
            break;
        };
        out.extend_from_slice(data);
        b = b.get(start + size + 2..).unwrap_or(&[]);
    }
    out
}

/// Relays until either side closes: server frames become client messages, client
/// messages become masked frames to the server.
async fn relay(mut socket: Socket, client: WebSocket, mut buf: Vec<u8>) {
    let Ok(mut events) = client.events() else {
        let _ = socket.close().await;
        return;
    };
    let mut messages = Messages::default();
    let mut chunk = vec![0u8; 16 * 1024];
    'relay: loop {
        // Frames already read (the first often comes with the 101).
        loop {
            match decode_server_frame(&mut buf) {
                Ok(None) => break,
                Ok(Some(frame)) => {
                    let step = messages.on_frame(frame);
                    match step {
                        Ok(Relay::Nothing) => {}
                        Ok(Relay::Text(t)) => {
                            if client.send_with_str(&t).is_err() {
                                break 'relay;
                            }
                        }
                        Ok(Relay::Binary(b)) => {
                            if client.send_with_bytes(&b).is_err() {
                                break 'relay;
                            }
                        }
                        Ok(Relay::Pong(p)) => {
                            let pong = encode_client_frame(op::PONG, &p, random_bytes());
                            if socket.write_all(&pong).await.is_err() {
                                break 'relay;
                            }
                        }
                        Ok(Relay::Close(code, reason)) => {
                            let _ = client.close(Some(code), Some(reason));
                            break 'relay;
                        }
                        Err(e) => {
                            let _ = client.close(Some(1000), Some(e.to_string()));
                            break 'relay;
                        }
                    }
                }
                Err(e) => {
                    let _ = client.close(Some(1000), Some(e.to_string()));
                    break 'relay;
                }
            }
        }
        let next = select(Box::pin(socket.read(&mut chunk)), events.next()).await;
        match next {
            Either::Left((Ok(0) | Err(_), _)) => {
                let _ = client.close(Some(1000), Some("server closed"));
                break;
            }
            Either::Left((Ok(n), _)) => buf.extend_from_slice(&chunk[..n]),
            Either::Right((Some(Ok(WebsocketEvent::Message(m))), _)) => {
                let frame = match (m.text(), m.bytes()) {
                    (Some(t), _) => encode_client_frame(op::TEXT, t.as_bytes(), random_bytes()),
                    (None, Some(b)) => encode_client_frame(op::BINARY, &b, random_bytes()),
                    (None, None) => continue,
                };
                if socket.write_all(&frame).await.is_err() {
                    let _ = client.close(Some(1000), Some("server gone"));
                    break;
                }
            }
            Either::Right((Some(Ok(WebsocketEvent::Close(c))), _)) => {
                // 1005 (no code) and 1006 (abnormal) are never sent in a frame.
                let code = c.code();
                let mut payload = Vec::new();
                if !matches!(code, 1005 | 1006 | 1015) {
                    payload.extend_from_slice(&code.to_be_bytes());
                    payload.extend_from_slice(c.reason().as_bytes());
                }
                let frame = encode_client_frame(op::CLOSE, &payload, random_bytes());
                let _ = socket.write_all(&frame).await;
                break;
            }
            Either::Right((Some(Err(_)) | None, _)) => break,
        }
    }
    let _ = socket.close().await;
}

/// The header lines of `headers` (lower-case names, as the runtime gives them).
pub(super) fn header_lines(headers: &web_sys::Headers) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let Ok(Some(iter)) = js_sys::try_iter(headers) else {
        return out;
    };
    for entry in iter.flatten() {
        let pair: js_sys::Array = entry.unchecked_into();
        if let (Some(k), Some(v)) = (pair.get(0).as_string(), pair.get(1).as_string()) {
            out.push((k, v));
        }
    }
    out
}
