//! A mock Wt origin that behaves like Wt 4.14 `wthttp` where routing matters
//! (see `shared/docs/wt-facts.md`).
//!
//! - `GET /` (no `wtd`): the bootstrap page. It creates a session and carries its id,
//!   `<prefix><16 alphanumerics>`, in the script URL, the style URL and a `<noscript>`
//!   refresh, like Wt does.
//! - A request with `wtd=<known id>` (query string, or form field of a POST) is answered
//!   normally: style, script, `jsupdate` POST, plain page, WebSocket (`request=ws`).
//! - A request with an unknown id is answered as Wt answers it: plain GET: 200 static page
//!   without script; POST or `request=script`: 200 JavaScript that reloads the page;
//!   `request=style` / `request=resource`: 200 empty HTML page; WebSocket: 403, empty body.
//! - `/resources/...` is static and carries no `wtd`; every server serves it.
//! - The WebSocket endpoint (`?wtd=<id>&request=ws`, `Upgrade: websocket`) answers 101,
//!   sends the text frame `connect`, then answers every text frame `m` with `<id>:m`.
//!
//! Every response carries `X-Mock-Wt: <prefix>` so that tests can see which origin
//! answered. Test hooks that Wt does not have: `mockdelay=<ms>` in the query delays the
//! answer. The last requests (method, target, headers) are recorded for header tests.
//!
//! [`MockWt::kill`] behaves like killing the process: the listener and every open
//! connection (WebSockets included) are closed at once and the sessions are lost.

use std::collections::{HashSet, VecDeque};
use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{CONNECTION, HeaderValue, UPGRADE};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::Role;

/// Length of the random part of a session id (Wt's default `session-id-length`).
pub const SESSION_ID_RANDOM_LEN: usize = 16;

/// How many requests [`MockWt::recorded`] keeps.
const RECORD_KEEP: usize = 256;

/// Counters of what one mock origin answered.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
    /// Every HTTP request answered (WebSocket upgrades included).
    pub requests: u64,
    /// Bootstrap pages served (new sessions created by `GET /`).
    pub bootstraps: u64,
    /// Requests that carried an id this origin knows.
    pub known: u64,
    /// Requests that carried an id this origin does not know ("affinity broken").
    pub unknown: u64,
    /// WebSocket upgrades accepted (101).
    pub ws_accepted: u64,
    /// WebSocket upgrades refused (403, unknown id).
    pub ws_refused: u64,
    /// Static resources served.
    pub resources: u64,
}

#[derive(Default)]
struct Counters {
    requests: AtomicU64,
    bootstraps: AtomicU64,
    known: AtomicU64,
    unknown: AtomicU64,
    ws_accepted: AtomicU64,
    ws_refused: AtomicU64,
    resources: AtomicU64,
}

/// One request as the origin received it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub target: String,
    pub version: String,
    /// Header lines in the order received (names lower-cased by hyper).
    pub headers: Vec<(String, String)>,
}

struct State {
    prefix: String,
    sessions: Mutex<HashSet<String>>,
    counters: Counters,
    recorded: Mutex<VecDeque<Recorded>>,
    rng: Mutex<u64>,
    killed: tokio::sync::watch::Sender<bool>,
}

impl State {
    fn new_session_id(&self) -> String {
        const ALPHABET: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
        let mut id = String::with_capacity(self.prefix.len() + SESSION_ID_RANDOM_LEN);
        id.push_str(&self.prefix);
        let mut rng = lock(&self.rng);
        for _ in 0..SESSION_ID_RANDOM_LEN {
            // xorshift64*: plenty for unguessable-enough test ids.
            let mut x = *rng;
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            *rng = x;
            let r = x.wrapping_mul(0x2545_F491_4F6C_DD1D);
            id.push(ALPHABET[(r >> 58) as usize % ALPHABET.len()] as char);
        }
        drop(rng);
        lock(&self.sessions).insert(id.clone());
        id
    }

    fn knows(&self, id: &str) -> bool {
        lock(&self.sessions).contains(id)
    }

    fn record(&self, req: &Request<Incoming>) {
        let rec = Recorded {
            method: req.method().to_string(),
            target: req
                .uri()
                .path_and_query()
                .map(|p| p.as_str().to_string())
                .unwrap_or_else(|| req.uri().to_string()),
            version: format!("{:?}", req.version()),
            headers: req
                .headers()
                .iter()
                .map(|(k, v)| {
                    (
                        k.as_str().to_string(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect(),
        };
        let mut r = lock(&self.recorded);
        if r.len() >= RECORD_KEEP {
            r.pop_front();
        }
        r.push_back(rec);
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A running mock Wt origin.
pub struct MockWt {
    addr: SocketAddr,
    state: Arc<State>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl MockWt {
    /// Starts an origin with session-id prefix `prefix` on `addr` (port 0: any free port).
    pub async fn start(prefix: &str, addr: SocketAddr) -> io::Result<MockWt> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0x9E37_79B9_7F4A_7C15)
            ^ (u64::from(addr.port()) << 32)
            ^ prefix
                .bytes()
                .fold(0u64, |a, b| a.rotate_left(7) ^ u64::from(b));
        let state = Arc::new(State {
            prefix: prefix.to_string(),
            sessions: Mutex::new(HashSet::new()),
            counters: Counters::default(),
            recorded: Mutex::new(VecDeque::new()),
            rng: Mutex::new(seed | 1),
            killed: tokio::sync::watch::Sender::new(false),
        });
        let st = state.clone();
        let task = tokio::spawn(async move {
            // Connections live in this JoinSet: aborting the accept task drops it, which
            // aborts every connection, like a killed process.
            let mut conns = JoinSet::new();
            loop {
                tokio::select! {
                    acc = listener.accept() => {
                        let Ok((stream, _)) = acc else { continue };
                        let _ = stream.set_nodelay(true);
                        let st = st.clone();
                        conns.spawn(async move {
                            let svc = service_fn(move |req| handle(st.clone(), req));
                            let _ = http1::Builder::new()
                                .serve_connection(TokioIo::new(stream), svc)
                                .with_upgrades()
                                .await;
                        });
                    }
                    Some(_) = conns.join_next(), if !conns.is_empty() => {}
                }
            }
        });
        Ok(MockWt {
            addr,
            state,
            task: Some(task),
        })
    }

    /// Starts an origin on 127.0.0.1 with a free port.
    pub async fn start_local(prefix: &str) -> io::Result<MockWt> {
        Self::start(prefix, SocketAddr::from(([127, 0, 0, 1], 0))).await
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn prefix(&self) -> &str {
        &self.state.prefix
    }

    /// Creates a session as a bootstrap page would and returns its id.
    pub fn new_session(&self) -> String {
        self.state.new_session_id()
    }

    pub fn session_count(&self) -> usize {
        lock(&self.state.sessions).len()
    }

    pub fn stats(&self) -> Stats {
        let c = &self.state.counters;
        Stats {
            requests: c.requests.load(Ordering::Relaxed),
            bootstraps: c.bootstraps.load(Ordering::Relaxed),
            known: c.known.load(Ordering::Relaxed),
            unknown: c.unknown.load(Ordering::Relaxed),
            ws_accepted: c.ws_accepted.load(Ordering::Relaxed),
            ws_refused: c.ws_refused.load(Ordering::Relaxed),
            resources: c.resources.load(Ordering::Relaxed),
        }
    }

    /// The last requests received (at most 256), oldest first.
    pub fn recorded(&self) -> Vec<Recorded> {
        lock(&self.state.recorded).iter().cloned().collect()
    }

    /// Closes the listener and every connection at once, as a killed process would.
    pub async fn kill(mut self) -> SocketAddr {
        self.state.killed.send_replace(true);
        if let Some(t) = self.task.take() {
            t.abort();
            let _ = t.await;
        }
        self.addr
    }
}

impl Drop for MockWt {
    fn drop(&mut self) {
        self.state.killed.send_replace(true);
        if let Some(t) = self.task.take() {
            t.abort();
        }
    }
}

type Body = Full<Bytes>;

fn reply(st: &State, status: StatusCode, ctype: &str, body: impl Into<Bytes>) -> Response<Body> {
    let mut r = Response::new(Full::new(body.into()));
    *r.status_mut() = status;
    let h = r.headers_mut();
    if let Ok(v) = HeaderValue::from_str(ctype) {
        h.insert(hyper::header::CONTENT_TYPE, v);
    }
    if let Ok(v) = HeaderValue::from_str(&st.prefix) {
        h.insert("x-mock-wt", v);
    }
    r
}

/// The value of query parameter `name` in `query` (no percent-decoding: Wt ids are
/// alphanumeric).
pub fn query_param<'a>(query: &'a str, name: &str) -> Option<&'a str> {
    query.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        (k == name).then_some(v)
    })
}

/// The session id a bootstrap page carries (`?wtd=<id>` in its script URL).
pub fn session_id_in_page(body: &str) -> Option<String> {
    let start = body.find("?wtd=")? + "?wtd=".len();
    let id: String = body[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric())
        .collect();
    (!id.is_empty()).then_some(id)
}

/// What Wt answers: the shape of each answer, so tests can tell them apart.
pub mod pages {
    /// Marker in the bootstrap page.
    pub const BOOTSTRAP_MARK: &str = "<!-- wt bootstrap -->";
    /// Body of the static page an unknown id gets on a plain GET.
    pub const STATIC_PAGE: &str =
        "<!DOCTYPE html><html><head><title>Wt</title></head><body>static page</body></html>";
    /// Body of the script an unknown id gets on a POST or `request=script`.
    pub const RELOAD_SCRIPT: &str = "window.location.reload(true);";
    /// Body of the page an unknown id gets on `request=style` / `request=resource`.
    pub const EMPTY_PAGE: &str = "<!DOCTYPE html><html><head></head><body></body></html>";
}

fn bootstrap_page(id: &str) -> String {
    format!(
        "<!DOCTYPE html>{mark}<html><head><title>Wt</title>\
<link href=\"?wtd={id}&amp;request=style&amp;page=1\" rel=\"stylesheet\" type=\"text/css\"/>\
<noscript><meta http-equiv=\"refresh\" content=\"0; url=?wtd={id}&amp;js=no\"/></noscript>\
</head><body><script id=\"{id}\" type=\"text/javascript\">\
(function(){{var s=document.createElement('script');\
s.src='?wtd={id}&sid=1&deployPath=%2F&request=script&rand=1';\
document.head.appendChild(s);}})();</script></body></html>",
        mark = pages::BOOTSTRAP_MARK
    )
}

async fn handle(st: Arc<State>, req: Request<Incoming>) -> Result<Response<Body>, Infallible> {
    st.counters.requests.fetch_add(1, Ordering::Relaxed);
    st.record(&req);
    let query = req.uri().query().unwrap_or("").to_string();
    let path = req.uri().path().to_string();
    if let Some(ms) = query_param(&query, "mockdelay").and_then(|v| v.parse::<u64>().ok()) {
        tokio::time::sleep(Duration::from_millis(ms.min(600_000))).await;
    }
    let is_upgrade = req
        .headers()
        .get(UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));

    let mut wtd = query_param(&query, "wtd").map(str::to_string);
    let mut form = String::new();
    let is_post = req.method() == Method::POST;
    let req = if is_post {
        // Read the whole body (Wt's events are small forms).
        if let Ok(c) = req.into_body().collect().await {
            form = String::from_utf8_lossy(&c.to_bytes()).into_owned();
        }
        if wtd.is_none() {
            wtd = query_param(&form, "wtd").map(str::to_string);
        }
        None
    } else {
        Some(req)
    };
    let request = query_param(&query, "request")
        .or_else(|| query_param(&form, "request"))
        .unwrap_or("")
        .to_string();

    if path.starts_with("/resources/") && wtd.is_none() {
        st.counters.resources.fetch_add(1, Ordering::Relaxed);
        return Ok(reply(&st, StatusCode::OK, "text/css", "/* resource */"));
    }

    let Some(id) = wtd else {
        st.counters.bootstraps.fetch_add(1, Ordering::Relaxed);
        let id = st.new_session_id();
        return Ok(reply(
            &st,
            StatusCode::OK,
            "text/html; charset=utf-8",
            bootstrap_page(&id),
        ));
    };

    if !st.knows(&id) {
        st.counters.unknown.fetch_add(1, Ordering::Relaxed);
        if is_upgrade || request == "ws" {
            st.counters.ws_refused.fetch_add(1, Ordering::Relaxed);
            return Ok(reply(&st, StatusCode::FORBIDDEN, "text/html", Bytes::new()));
        }
        // Wt creates a brand-new local session for an unknown id.
        st.new_session_id();
        return Ok(match (is_post, request.as_str()) {
            (true, _) | (_, "script") => reply(
                &st,
                StatusCode::OK,
                "text/javascript; charset=utf-8",
                pages::RELOAD_SCRIPT,
            ),
            (_, "style") | (_, "resource") => reply(
                &st,
                StatusCode::OK,
                "text/html; charset=utf-8",
                pages::EMPTY_PAGE,
            ),
            _ => reply(
                &st,
                StatusCode::OK,
                "text/html; charset=utf-8",
                pages::STATIC_PAGE,
            ),
        });
    }

    st.counters.known.fetch_add(1, Ordering::Relaxed);
    if let (true, "ws", Some(req)) = (is_upgrade, request.as_str(), req) {
        return Ok(upgrade_websocket(st, req, id));
    }
    Ok(match request.as_str() {
        "style" => reply(&st, StatusCode::OK, "text/css", format!("/* style {id} */")),
        "script" => reply(
            &st,
            StatusCode::OK,
            "text/javascript; charset=utf-8",
            format!("/* script {id} */"),
        ),
        "jsupdate" => reply(
            &st,
            StatusCode::OK,
            "text/javascript; charset=utf-8",
            format!("/* update {id} {} */", form.len()),
        ),
        _ => reply(
            &st,
            StatusCode::OK,
            "text/html; charset=utf-8",
            format!("<html><body>session {id}</body></html>"),
        ),
    })
}

fn upgrade_websocket(st: Arc<State>, mut req: Request<Incoming>, id: String) -> Response<Body> {
    let Some(key) = req.headers().get("sec-websocket-key").cloned() else {
        return reply(&st, StatusCode::BAD_REQUEST, "text/html", Bytes::new());
    };
    st.counters.ws_accepted.fetch_add(1, Ordering::Relaxed);
    let accept = derive_accept_key(key.as_bytes());
    let on_upgrade = hyper::upgrade::on(&mut req);
    let mut killed = st.killed.subscribe();
    tokio::spawn(async move {
        tokio::select! {
            _ = serve_websocket(on_upgrade, id) => {}
            _ = killed.wait_for(|k| *k) => {}
        }
    });
    let mut r = reply(
        &st,
        StatusCode::SWITCHING_PROTOCOLS,
        "text/html",
        Bytes::new(),
    );
    r.headers_mut().remove(hyper::header::CONTENT_TYPE);
    let h = r.headers_mut();
    h.insert(CONNECTION, HeaderValue::from_static("Upgrade"));
    h.insert(UPGRADE, HeaderValue::from_static("websocket"));
    if let Ok(v) = HeaderValue::from_str(&accept) {
        h.insert("sec-websocket-accept", v);
    }
    r
}

async fn serve_websocket(on_upgrade: hyper::upgrade::OnUpgrade, id: String) {
    {
        let Ok(upgraded) = on_upgrade.await else {
            return;
        };
        let mut ws =
            WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, None).await;
        if ws.send(Message::text("connect")).await.is_err() {
            return;
        }
        while let Some(Ok(msg)) = ws.next().await {
            match msg {
                Message::Text(t)
                    if ws
                        .send(Message::text(format!("{id}:{}", t.as_str())))
                        .await
                        .is_err() =>
                {
                    return;
                }
                Message::Close(_) => return,
                _ => {}
            }
        }
    }
}

/// A small HTTP/1.1 + WebSocket client for the tests (one connection per call unless a
/// [`client::Conn`] is kept).
pub mod client {
    use super::*;
    use hyper::client::conn::http1 as client_http1;
    use tokio::net::TcpStream;
    use tokio_tungstenite::MaybeTlsStream;

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

    pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

    /// Opens a WebSocket to `ws://addr{target}`. A refused upgrade is an `Err` whose text
    /// carries the status (e.g. `HTTP error: 403 Forbidden`).
    pub async fn websocket(addr: SocketAddr, target: &str) -> Result<Ws, String> {
        let url = format!("ws://{addr}{target}");
        tokio_tungstenite::connect_async(url)
            .await
            .map(|(ws, _)| ws)
            .map_err(|e| e.to_string())
    }

    /// Reads the next text frame.
    pub async fn ws_text(ws: &mut Ws) -> Option<String> {
        while let Some(Ok(m)) = ws.next().await {
            match m {
                Message::Text(t) => return Some(t.as_str().to_string()),
                Message::Close(_) => return None,
                _ => {}
            }
        }
        None
    }

    pub async fn ws_send(ws: &mut Ws, text: &str) -> bool {
        ws.send(Message::text(text.to_string())).await.is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::client::*;
    use super::*;

    fn is_valid_id(id: &str, prefix: &str) -> bool {
        id.len() == prefix.len() + SESSION_ID_RANDOM_LEN
            && id.starts_with(prefix)
            && id[prefix.len()..]
                .chars()
                .all(|c| c.is_ascii_alphanumeric())
    }

    #[tokio::test]
    async fn bootstrap_issues_prefixed_ids_and_follow_ups_are_known() {
        let wt = MockWt::start_local("wt1").await.unwrap();
        let mut c = Conn::open(wt.addr()).await.unwrap();
        let a = c.get("/").await.unwrap();
        assert_eq!(a.status, 200);
        assert_eq!(a.header("x-mock-wt"), Some("wt1"));
        assert!(a.body.contains(pages::BOOTSTRAP_MARK));
        let id = session_id_in_page(&a.body).unwrap();
        assert!(is_valid_id(&id, "wt1"), "{id}");
        // The id is in the style URL, the script URL and the noscript refresh.
        assert!(
            a.body
                .contains(&format!("?wtd={id}&amp;request=style&amp;page=1"))
        );
        assert!(
            a.body
                .contains(&format!("?wtd={id}&sid=1&deployPath=%2F&request=script"))
        );
        assert!(a.body.contains(&format!("url=?wtd={id}&amp;js=no")));
        let other = session_id_in_page(&c.get("/").await.unwrap().body).unwrap();
        assert_ne!(id, other);

        let s = c
            .get(&format!("/?wtd={id}&request=style&page=1"))
            .await
            .unwrap();
        assert_eq!(
            (s.status, s.body.as_str()),
            (200, format!("/* style {id} */").as_str())
        );
        let s = c
            .get(&format!(
                "/?wtd={id}&sid=1&deployPath=%2F&request=script&rand=9"
            ))
            .await
            .unwrap();
        assert_eq!(s.body, format!("/* script {id} */"));
        let p = c
            .send(
                "POST",
                &format!("/?wtd={id}"),
                &[("content-type", "application/x-www-form-urlencoded")],
                "request=jsupdate&ackId=1&signal=none",
            )
            .await
            .unwrap();
        assert!(
            p.body.starts_with(&format!("/* update {id} ")),
            "{}",
            p.body
        );
        let st = wt.stats();
        assert_eq!((st.bootstraps, st.known, st.unknown), (2, 3, 0));
    }

    #[tokio::test]
    async fn unknown_ids_are_answered_as_wt_does() {
        let wt = MockWt::start_local("wt1").await.unwrap();
        let foreign = "wt2AAAAbbbbCCCCdddd";
        let mut c = Conn::open(wt.addr()).await.unwrap();
        let g = c.get(&format!("/?wtd={foreign}")).await.unwrap();
        assert_eq!((g.status, g.body.as_str()), (200, pages::STATIC_PAGE));
        let s = c
            .get(&format!("/?wtd={foreign}&request=script"))
            .await
            .unwrap();
        assert_eq!((s.status, s.body.as_str()), (200, pages::RELOAD_SCRIPT));
        let p = c
            .send(
                "POST",
                &format!("/?wtd={foreign}"),
                &[],
                "request=jsupdate&ackId=0",
            )
            .await
            .unwrap();
        assert_eq!((p.status, p.body.as_str()), (200, pages::RELOAD_SCRIPT));
        let st = c
            .get(&format!("/?wtd={foreign}&request=style"))
            .await
            .unwrap();
        assert_eq!((st.status, st.body.as_str()), (200, pages::EMPTY_PAGE));
        // No-JS form POST carrying the id in the body only.
        let f = c
            .send("POST", "/", &[], &format!("wtd={foreign}&signal=click"))
            .await
            .unwrap();
        assert_eq!(f.body, pages::RELOAD_SCRIPT);
        let e = websocket(wt.addr(), &format!("/?wtd={foreign}&request=ws"))
            .await
            .err()
            .unwrap();
        assert!(e.contains("403"), "{e}");
        let stats = wt.stats();
        assert_eq!((stats.unknown, stats.ws_refused, stats.known), (6, 1, 0));
        // Static resources need no session.
        let r = c.get("/resources/themes/default/wt.css").await.unwrap();
        assert_eq!((r.status, wt.stats().resources), (200, 1));
    }

    #[tokio::test]
    async fn websocket_of_a_known_session_echoes_with_its_id() {
        let wt = MockWt::start_local("wt2").await.unwrap();
        let id = wt.new_session();
        let mut ws = websocket(wt.addr(), &format!("/?wtd={id}&request=ws"))
            .await
            .unwrap();
        assert_eq!(ws_text(&mut ws).await.as_deref(), Some("connect"));
        assert!(ws_send(&mut ws, "&signal=none&connected=0").await);
        assert_eq!(
            ws_text(&mut ws).await,
            Some(format!("{id}:&signal=none&connected=0"))
        );
        assert_eq!(wt.stats().ws_accepted, 1);
        let rec = wt.recorded();
        let last = rec.last().unwrap();
        assert_eq!(last.target, format!("/?wtd={id}&request=ws"));
        assert!(
            last.headers
                .iter()
                .any(|(k, v)| k == "upgrade" && v == "websocket")
        );
    }

    #[tokio::test]
    async fn kill_closes_everything_and_restart_forgets_sessions() {
        let wt = MockWt::start_local("wt1").await.unwrap();
        let addr = wt.addr();
        let id = wt.new_session();
        let mut ws = websocket(addr, &format!("/?wtd={id}&request=ws"))
            .await
            .unwrap();
        assert_eq!(ws_text(&mut ws).await.as_deref(), Some("connect"));
        let mut keep = Conn::open(addr).await.unwrap();
        assert_eq!(keep.get("/resources/x.css").await.unwrap().status, 200);
        wt.kill().await;
        let closed = tokio::time::timeout(Duration::from_secs(5), ws_text(&mut ws)).await;
        assert_eq!(closed, Ok(None), "WebSocket must be closed by kill");
        assert!(keep.get("/resources/x.css").await.is_err());
        assert!(tokio::net::TcpStream::connect(addr).await.is_err());

        let wt = MockWt::start("wt1", addr).await.unwrap();
        assert_eq!(wt.addr(), addr);
        let g = get(addr, &format!("/?wtd={id}")).await.unwrap();
        assert_eq!(
            g.body,
            pages::STATIC_PAGE,
            "a restarted Wt has lost its sessions"
        );
    }

    #[test]
    fn helpers() {
        assert_eq!(query_param("a=1&wtd=wt1x&b", "wtd"), Some("wt1x"));
        assert_eq!(query_param("xwtd=1", "wtd"), None);
        assert_eq!(query_param("b&c=", "b"), Some(""));
        assert_eq!(session_id_in_page("x ?wtd=wt1abc&y"), Some("wt1abc".into()));
        assert_eq!(session_id_in_page("nothing"), None);
    }
}
