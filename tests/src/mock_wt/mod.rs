//! A mock Wt origin that behaves like Wt 4.14 `wthttp` where a proxy can tell the
//! difference (see `shared/docs/wt-facts.md`). Written by hand on raw sockets, as
//! `wthttp` is, so that its bytes and the timing of its writes are Wt's:
//!
//! - `GET /` (no `wtd`): the bootstrap page. It creates a session and carries its id,
//!   `<prefix><16 alphanumerics>`, in the script URL, the style URL and a `<noscript>`
//!   refresh, like Wt does.
//! - A request with `wtd=<known id>` (query string, or form field of a POST) is answered
//!   normally: style, script, `jsupdate` POST, plain page, WebSocket (`request=ws`).
//!   The script opens the session's WebSocket the way Wt's does and reports back with a
//!   `jsupdate` POST ([`MockWt::signals`]): a real browser drives a whole session.
//! - A request with an unknown id is answered as Wt answers it: plain GET: 200 static page
//!   without script; POST or `request=script`: 200 JavaScript that reloads the page;
//!   `request=style` / `request=resource`: 200 empty HTML page; WebSocket: 403, empty body.
//! - `/resources/...` is static (a Content-Length) and carries no `wtd`; every server
//!   serves it. Dynamic answers are chunked, and gzipped when the request accepts gzip.
//! - Keep-alive connections idle for 10 s are closed (Wt's `KEEPALIVE_TIMEOUT`).
//! - Wt 4.14 fails a WebSocket upgrade that arrives on a connection that already
//!   served a request: the 101 head goes out, then the connection closes (its log says
//!   "invalid WebSocket request, ignoring"). A proxy must open a fresh connection for
//!   every upgrade.
//! - The WebSocket endpoint ([`websocket`]): Wt's 101 head, `permessage-deflate` in
//!   Wt's spelling, the `connect` frame in the same write as the head or right after it
//!   ([`FirstFrame`]), and Wt 4.14's bug: a 101 and frames gzipped when the upgrade
//!   request's `Accept-Encoding` contains `gzip`.
//!
//! Every HTTP answer carries `X-Mock-Wt: <prefix>` so that tests can see which origin
//! answered. Test hooks that Wt does not have: `mockdelay=<ms>` in the query delays the
//! answer. The last requests (method, target, headers) are recorded for header tests.
//!
//! [`MockWt::kill`] behaves like killing the process: the listener and every open
//! connection (WebSockets included) are closed at once and the sessions are lost.

pub mod client;
pub mod frame;
mod server;
pub mod websocket;

use std::collections::{HashMap, VecDeque};
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::task::JoinSet;

use server::{Reply, Req};

/// Length of the random part of a session id (Wt's default `session-id-length`).
pub const SESSION_ID_RANDOM_LEN: usize = 16;

/// How many requests [`MockWt::recorded`] keeps.
const RECORD_KEEP: usize = 256;

/// When Wt's first WebSocket frame (`connect`) leaves: both happen with Wt 4.14.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FirstFrame {
    /// In the same write (and TCP segment) as the 101 head.
    WithHead,
    /// In a separate write, a millisecond after the head.
    AfterHead,
}

impl FirstFrame {
    /// Both variants: WebSocket tests run against each.
    pub const ALL: [FirstFrame; 2] = [FirstFrame::WithHead, FirstFrame::AfterHead];
}

/// How a mock behaves where Wt has choices.
#[derive(Debug, Clone, Copy)]
pub struct Behaviour {
    pub first_frame: FirstFrame,
    /// Idle keep-alive connections are closed after this (Wt: 10 s).
    pub keepalive_timeout: Duration,
    /// The proxy is listed in Wt's `<trusted-proxy-config>`: `X-Forwarded-Host` and
    /// `X-Forwarded-Proto` give the session's host and scheme, which a WebSocket's
    /// `Origin` must match (else Wt answers 403).
    pub trust_forwarded: bool,
}

impl Default for Behaviour {
    fn default() -> Self {
        Behaviour {
            first_frame: FirstFrame::WithHead,
            keepalive_timeout: Duration::from_secs(10),
            trust_forwarded: true,
        }
    }
}

impl Behaviour {
    pub fn first_frame(first_frame: FirstFrame) -> Self {
        Behaviour {
            first_frame,
            ..Behaviour::default()
        }
    }
}

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
    /// 101s that negotiated permessage-deflate.
    pub ws_deflate: u64,
    /// 101s gzipped (Wt 4.14's bug: the upgrade request accepted gzip).
    pub ws_gzipped: u64,
    /// WebSocket messages received from clients.
    pub ws_messages: u64,
    /// Static resources served.
    pub resources: u64,
    /// Connections closed by the keep-alive timeout.
    pub idle_closed: u64,
    /// WebSocket upgrades that came on a connection that had served a request before
    /// (Wt 4.14 answers 101 and closes: the socket never works).
    pub ws_reused_connection: u64,
}

#[derive(Default)]
struct Counters {
    requests: AtomicU64,
    bootstraps: AtomicU64,
    known: AtomicU64,
    unknown: AtomicU64,
    ws_accepted: AtomicU64,
    ws_refused: AtomicU64,
    ws_deflate: AtomicU64,
    ws_gzipped: AtomicU64,
    ws_messages: AtomicU64,
    resources: AtomicU64,
    idle_closed: AtomicU64,
    ws_reused_connection: AtomicU64,
}

/// One request as the origin received it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub target: String,
    pub version: String,
    /// Header lines in the order received, names lower-cased.
    pub headers: Vec<(String, String)>,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

struct State {
    prefix: String,
    behaviour: Behaviour,
    /// Session ids and the origin (`scheme://host`) each was created for; `None` for
    /// sessions made by [`MockWt::new_session`] (any `Origin` is accepted).
    sessions: Mutex<HashMap<String, Option<String>>>,
    counters: Counters,
    recorded: Mutex<VecDeque<Recorded>>,
    /// `(session, signal)` of every `jsupdate` event and WebSocket message.
    signals: Mutex<Vec<(String, String)>>,
    rng: Mutex<u64>,
}

impl State {
    fn new_session_id(&self) -> String {
        self.new_session_for(None)
    }

    fn new_session_for(&self, origin: Option<String>) -> String {
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
        lock(&self.sessions).insert(id.clone(), origin);
        id
    }

    fn knows(&self, id: &str) -> bool {
        lock(&self.sessions).contains_key(id)
    }

    /// Wt's `WebSession::handleRequest` check of a WebSocket's `Origin`: it must be the
    /// session's `scheme://host`, or `https://host` (Wt's fallback for sockets opened
    /// by the framework). A missing `Origin` is refused.
    fn origin_allowed(&self, id: &str, origin: Option<&str>) -> bool {
        let Some(origin) = origin else { return false };
        match lock(&self.sessions).get(id) {
            Some(Some(trusted)) => {
                let host = trusted.split_once("://").map_or("", |(_, h)| h);
                origin == trusted || origin == format!("https://{host}")
            }
            Some(None) => true,
            None => false,
        }
    }

    /// The origin a bootstrap request creates its session for: `Host` and `http`, or
    /// the last `X-Forwarded-Host` / `X-Forwarded-Proto` values when the proxy is trusted.
    fn session_origin(&self, req: &Req) -> String {
        let last = |name: &str| {
            req.header(name)
                .and_then(|v| v.rsplit(',').next())
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let trusted = |name: &str| {
            if self.behaviour.trust_forwarded {
                last(name)
            } else {
                None
            }
        };
        let host = trusted("x-forwarded-host")
            .unwrap_or_else(|| req.header("host").unwrap_or("").to_string());
        let scheme = trusted("x-forwarded-proto").unwrap_or_else(|| "http".to_string());
        format!("{scheme}://{host}")
    }

    fn record(&self, req: &Req) {
        let rec = Recorded {
            method: req.method.clone(),
            target: req.target.clone(),
            version: req.version.clone(),
            headers: req.headers.clone(),
        };
        let mut r = lock(&self.recorded);
        if r.len() >= RECORD_KEEP {
            r.pop_front();
        }
        r.push_back(rec);
    }

    fn ws_message(&self, id: &str, text: &str) {
        lock(&self.signals).push((id.to_string(), format!("ws:{text}")));
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
        Self::start_with(prefix, addr, Behaviour::default()).await
    }

    /// Starts an origin that behaves as `behaviour` says.
    pub async fn start_with(
        prefix: &str,
        addr: SocketAddr,
        behaviour: Behaviour,
    ) -> io::Result<MockWt> {
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
            behaviour,
            sessions: Mutex::new(HashMap::new()),
            counters: Counters::default(),
            recorded: Mutex::new(VecDeque::new()),
            signals: Mutex::new(Vec::new()),
            rng: Mutex::new(seed | 1),
        });
        let st = state.clone();
        let task = tokio::spawn(async move {
            // Connections live in this JoinSet: aborting the accept task drops it, which
            // aborts every connection (WebSockets included), like a killed process.
            let mut conns = JoinSet::new();
            loop {
                tokio::select! {
                    acc = listener.accept() => {
                        let Ok((stream, _)) = acc else { continue };
                        conns.spawn(server::serve(st.clone(), stream));
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

    /// Starts an origin on 127.0.0.1 with a free port that behaves as `behaviour` says.
    pub async fn start_local_with(prefix: &str, behaviour: Behaviour) -> io::Result<MockWt> {
        Self::start_with(prefix, SocketAddr::from(([127, 0, 0, 1], 0)), behaviour).await
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
        let l = |a: &AtomicU64| a.load(Ordering::Relaxed);
        Stats {
            requests: l(&c.requests),
            bootstraps: l(&c.bootstraps),
            known: l(&c.known),
            unknown: l(&c.unknown),
            ws_accepted: l(&c.ws_accepted),
            ws_refused: l(&c.ws_refused),
            ws_deflate: l(&c.ws_deflate),
            ws_gzipped: l(&c.ws_gzipped),
            ws_messages: l(&c.ws_messages),
            resources: l(&c.resources),
            idle_closed: l(&c.idle_closed),
            ws_reused_connection: l(&c.ws_reused_connection),
        }
    }

    /// The last requests received (at most 256), oldest first.
    pub fn recorded(&self) -> Vec<Recorded> {
        lock(&self.state.recorded).iter().cloned().collect()
    }

    /// `(session id, signal)` of every event received, in order: `jsupdate` POSTs
    /// give their `signal` field, WebSocket messages `ws:<text>`.
    pub fn signals(&self) -> Vec<(String, String)> {
        lock(&self.state.signals).clone()
    }

    /// Closes the listener and every connection at once, as a killed process would.
    pub async fn kill(mut self) -> SocketAddr {
        if let Some(t) = self.task.take() {
            t.abort();
            let _ = t.await;
        }
        self.addr
    }
}

impl Drop for MockWt {
    fn drop(&mut self) {
        if let Some(t) = self.task.take() {
            t.abort();
        }
    }
}

/// What the mock does with a request.
enum Answer {
    Http(Reply),
    /// Upgrade to a WebSocket of this known session.
    WebSocket {
        id: String,
    },
    /// A WebSocket refused (unknown session, missing or foreign `Origin`).
    WebSocketRefused,
}

fn reply(st: &State, status: u16, ctype: &'static str, body: impl Into<Vec<u8>>) -> Answer {
    Answer::Http(Reply {
        status,
        ctype,
        body: body.into(),
        dynamic: true,
        prefix: st.prefix.clone(),
    })
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

    /// The first line of a known session's script (the rest opens its WebSocket).
    pub fn script_mark(id: &str) -> String {
        format!("/* script {id} */")
    }

    /// The session's script: opens the WebSocket the way Wt's script does
    /// (`?wtd=<id>&request=ws` on the page's own host, `ws:` or `wss:`), sends Wt's
    /// `connected` message after `connect`, then one event, and reports the outcome
    /// with a `jsupdate` POST (signal `wsok`, or `wsclosed` with the close code) and in
    /// the page title.
    pub fn script(id: &str) -> String {
        format!(
            "{mark}\n(function(){{var id='{id}';\
function report(s){{var x=new XMLHttpRequest();x.open('POST','?wtd='+id,true);\
x.setRequestHeader('Content-Type','application/x-www-form-urlencoded');\
x.send('request=jsupdate&ackId=1&signal='+s);}}\
var url=(location.protocol=='https:'?'wss:':'ws:')+'//'+location.host+location.pathname+'?wtd='+id+'&request=ws';\
var ws=new WebSocket(url);var done=false;\
ws.onmessage=function(e){{\
if(e.data=='connect'){{ws.send('&signal=none&connected=0');}}\
else if(e.data==id+':&signal=none&connected=0'){{ws.send('&signal=s1&e=click');}}\
else if(e.data==id+':&signal=s1&e=click'){{done=true;document.title='ws-ok';report('wsok');}}}};\
ws.onclose=function(e){{if(!done){{document.title='ws-closed '+e.code;report('wsclosed&code='+e.code);}}}};\
}})();\n",
            mark = script_mark(id)
        )
    }
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

async fn answer(st: &State, req: &Req) -> Answer {
    st.counters.requests.fetch_add(1, Ordering::Relaxed);
    let query = req.query();
    if let Some(ms) = query_param(query, "mockdelay").and_then(|v| v.parse::<u64>().ok()) {
        tokio::time::sleep(Duration::from_millis(ms.min(600_000))).await;
    }
    let is_upgrade = req
        .header("upgrade")
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    let form = if req.method == "POST" {
        String::from_utf8_lossy(&req.body).into_owned()
    } else {
        String::new()
    };
    let wtd = query_param(query, "wtd").or_else(|| query_param(&form, "wtd"));
    let request = query_param(query, "request")
        .or_else(|| query_param(&form, "request"))
        .unwrap_or("");

    if req.path().starts_with("/resources/") && wtd.is_none() {
        st.counters.resources.fetch_add(1, Ordering::Relaxed);
        return Answer::Http(Reply {
            status: 200,
            ctype: "text/css",
            body: b"/* resource */".to_vec(),
            dynamic: false,
            prefix: st.prefix.clone(),
        });
    }

    let Some(id) = wtd else {
        st.counters.bootstraps.fetch_add(1, Ordering::Relaxed);
        let id = st.new_session_for(Some(st.session_origin(req)));
        return reply(st, 200, "text/html; charset=utf-8", bootstrap_page(&id));
    };

    if !st.knows(id) {
        st.counters.unknown.fetch_add(1, Ordering::Relaxed);
        if is_upgrade || request == "ws" {
            st.counters.ws_refused.fetch_add(1, Ordering::Relaxed);
            return Answer::WebSocketRefused;
        }
        // Wt creates a brand-new local session for an unknown id.
        st.new_session_id();
        let is_post = req.method == "POST";
        return match (is_post, request) {
            (true, _) | (_, "script") => reply(
                st,
                200,
                "text/javascript; charset=utf-8",
                pages::RELOAD_SCRIPT,
            ),
            (_, "style") | (_, "resource") => {
                reply(st, 200, "text/html; charset=utf-8", pages::EMPTY_PAGE)
            }
            _ => reply(st, 200, "text/html; charset=utf-8", pages::STATIC_PAGE),
        };
    }

    st.counters.known.fetch_add(1, Ordering::Relaxed);
    if is_upgrade && request == "ws" {
        if !st.origin_allowed(id, req.header("origin")) {
            st.counters.ws_refused.fetch_add(1, Ordering::Relaxed);
            return Answer::WebSocketRefused;
        }
        return Answer::WebSocket { id: id.to_string() };
    }
    match request {
        "style" => reply(st, 200, "text/css", format!("/* style {id} */")),
        "script" => reply(st, 200, "text/javascript; charset=utf-8", pages::script(id)),
        "jsupdate" => {
            if let Some(signal) = query_param(&form, "signal") {
                lock(&st.signals).push((id.to_string(), signal.to_string()));
            }
            reply(
                st,
                200,
                "text/javascript; charset=utf-8",
                format!("/* update {id} {} */", form.len()),
            )
        }
        _ => reply(
            st,
            200,
            "text/html; charset=utf-8",
            format!("<html><body>session {id}</body></html>"),
        ),
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
        assert_eq!(s.body, pages::script(&id));
        assert!(s.body.starts_with(&pages::script_mark(&id)));
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

    #[tokio::test]
    async fn websocket_variants_many_sessions_in_a_row() {
        for variant in FirstFrame::ALL {
            let wt = MockWt::start_local_with("wt1", Behaviour::first_frame(variant))
                .await
                .unwrap();
            let mut with_head = 0;
            for n in 0..20 {
                let id = wt.new_session();
                let t = format!("/?wtd={id}&request=ws");
                let mut ws = websocket(wt.addr(), &t).await.unwrap();
                assert!(
                    ws.head.starts_with("HTTP/1.1 101 Switching Protocol\r\n"),
                    "{}",
                    ws.head
                );
                assert!(
                    ws.head.contains("\r\nUpgrade: WebSocket\r\n"),
                    "{}",
                    ws.head
                );
                assert!(!ws.deflate());
                with_head += usize::from(ws.frame_with_head);
                assert_eq!(ws.text().await.as_deref(), Ok("connect"));
                assert!(ws.send(&format!("&signal=none&connected={n}")).await);
                assert_eq!(
                    ws.text().await,
                    Ok(format!("{id}:&signal=none&connected={n}"))
                );
                ws.ping(b"p").await.unwrap();
                ws.close().await;
            }
            match variant {
                FirstFrame::WithHead => assert_eq!(with_head, 20, "{variant:?}"),
                FirstFrame::AfterHead => assert!(with_head < 20, "{variant:?}: {with_head}"),
            }
            let st = wt.stats();
            assert_eq!((st.ws_accepted, st.ws_messages, st.ws_gzipped), (20, 20, 0));
        }
    }

    #[tokio::test]
    async fn chrome_gets_deflate_and_wts_gzip_bug() {
        let wt = MockWt::start_local("wt1").await.unwrap();
        let id = wt.new_session();
        let t = format!("/?wtd={id}&request=ws");
        // Chromium's request: Accept-Encoding with gzip triggers Wt 4.14's bug.
        let mut ws = client::websocket_as(wt.addr(), &t, client::Browser::Chrome)
            .await
            .unwrap();
        assert!(
            ws.head.contains("\r\nContent-Encoding: gzip\r\n"),
            "{}",
            ws.head
        );
        assert!(
            ws.head.contains(
                "\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits = 15\r\n"
            ),
            "{}",
            ws.head
        );
        let e = ws.text().await.unwrap_err();
        assert!(e.contains("invalid frame header"), "{e}");
        assert_eq!((wt.stats().ws_gzipped, wt.stats().ws_deflate), (1, 1));

        // The same request without Accept-Encoding (what a proxy must send): deflated
        // frames both ways.
        let mut c = tokio::net::TcpStream::connect(wt.addr()).await.unwrap();
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        c.write_all(
            format!(
                "GET {t} HTTP/1.1\r\nHost: x\r\nOrigin: http://x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
                 Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
                 Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n"
            )
            .as_bytes(),
        )
        .await
        .unwrap();
        let mut got = Vec::new();
        let mut chunk = [0u8; 1024];
        while !got.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = c.read(&mut chunk).await.unwrap();
            assert!(n > 0);
            got.extend_from_slice(&chunk[..n]);
        }
        let text = String::from_utf8_lossy(&got).into_owned();
        assert!(
            text.starts_with(
                "HTTP/1.1 101 Switching Protocol\r\nX-Content-Type-Options: nosniff\r\n\
             Strict-Transport-Security: max-age=15724800; includeSubDomains\r\n\
             Referrer-Policy: strict-origin-when-cross-origin\r\n\
             Connection: Upgrade\r\nUpgrade: WebSocket\r\n\
             Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\
             Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits = 15\r\n\r\n"
            ),
            "{text}"
        );
        // The connect frame follows in the same write, compressed (RSV1).
        let at = got.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
        assert_eq!(got.get(at), Some(&0xc1), "{got:?}");
    }

    #[tokio::test]
    async fn dynamic_answers_are_chunked_and_gzipped_when_accepted() {
        let wt = MockWt::start_local("wt1").await.unwrap();
        let got = exchange(wt.addr(), b"GET / HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip, deflate\r\nConnection: close\r\n\r\n").await;
        let text = String::from_utf8_lossy(&got);
        assert!(
            text.contains("\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n"),
            "{text}"
        );
        let got = exchange(wt.addr(), b"GET /resources/x.css HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\nConnection: close\r\n\r\n").await;
        let text = String::from_utf8_lossy(&got);
        assert!(
            text.ends_with("Content-Length: 14\r\n\r\n/* resource */"),
            "{text}"
        );
    }

    #[tokio::test]
    async fn idle_keep_alive_connections_are_closed() {
        let b = Behaviour {
            keepalive_timeout: Duration::from_millis(200),
            ..Behaviour::default()
        };
        let wt = MockWt::start_local_with("wt1", b).await.unwrap();
        let mut c = Conn::open(wt.addr()).await.unwrap();
        assert_eq!(c.get("/resources/a.css").await.unwrap().status, 200);
        assert_eq!(c.get("/resources/a.css").await.unwrap().status, 200);
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert!(c.get("/resources/a.css").await.is_err());
        assert_eq!(wt.stats().idle_closed, 1);
    }

    #[tokio::test]
    async fn websocket_origin_is_checked_as_wt_checks_it() {
        for trust in [true, false] {
            let b = Behaviour {
                trust_forwarded: trust,
                ..Behaviour::default()
            };
            let wt = MockWt::start_local_with("wt1", b).await.unwrap();
            let mut c = Conn::open(wt.addr()).await.unwrap();
            // As a Worker sends the bootstrap: Host is the origin's own name.
            let page = c
                .send(
                    "GET",
                    "/",
                    &[
                        ("x-forwarded-host", "app.example.com"),
                        ("x-forwarded-proto", "http"),
                    ],
                    "",
                )
                .await
                .unwrap();
            let id = session_id_in_page(&page.body).unwrap();
            let t = format!("/?wtd={id}&request=ws");
            let page_host =
                client::websocket_to(wt.addr(), "app.example.com", &t, client::Browser::Plain)
                    .await;
            let own_host = client::websocket_to(
                wt.addr(),
                &wt.addr().to_string(),
                &t,
                client::Browser::Plain,
            )
            .await;
            if trust {
                // Origin http://app.example.com: the forwarded host and scheme.
                assert!(page_host.is_ok(), "{:?}", page_host.err());
                assert!(own_host.is_err_and(|e| e.contains("403")));
            } else {
                assert!(page_host.is_err_and(|e| e.contains("403")));
                assert!(own_host.is_ok());
            }
        }
        // No Origin at all: refused.
        let wt = MockWt::start_local("wt1").await.unwrap();
        let id = wt.new_session();
        let got = exchange(
            wt.addr(),
            format!(
                "GET /?wtd={id}&request=ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n\
                 Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
                 Sec-WebSocket-Version: 13\r\n\r\n"
            )
            .as_bytes(),
        )
        .await;
        assert!(
            got.starts_with(b"HTTP/1.1 403 "),
            "{:?}",
            String::from_utf8_lossy(&got)
        );
    }

    #[tokio::test]
    async fn upgrade_on_a_reused_connection_fails_as_in_wt() {
        let wt = MockWt::start_local("wt1").await.unwrap();
        let id = wt.new_session();
        let got = exchange(
            wt.addr(),
            format!(
                "GET /resources/a.css HTTP/1.1\r\nHost: x\r\n\r\n\
                 GET /?wtd={id}&request=ws HTTP/1.1\r\nHost: x\r\nOrigin: http://x\r\n\
                 Upgrade: websocket\r\nConnection: Upgrade\r\n\
                 Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
            )
            .as_bytes(),
        )
        .await;
        let text = String::from_utf8_lossy(&got);
        // The 101 comes, no frame follows, the connection ends.
        assert!(
            text.ends_with("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"),
            "{text}"
        );
        assert!(
            text.contains("HTTP/1.1 101 Switching Protocol\r\n"),
            "{text}"
        );
        assert_eq!(wt.stats().ws_reused_connection, 1);
    }

    #[tokio::test]
    async fn refused_websockets_get_wts_403() {
        let wt = MockWt::start_local("wt1").await.unwrap();
        for (ae, tail) in [
            ("", &b""[..]),
            (
                "Accept-Encoding: gzip\r\n",
                &b"\x1f\x8b\x08\0\0\0\0\0\0\x03\x03\0\0\0\0\0\0\0\0\0"[..],
            ),
        ] {
            let got = exchange(wt.addr(), format!("GET /?wtd=wt1XXXXXXXXXXXXXXXX&request=ws HTTP/1.1\r\nHost: x\r\nOrigin: http://x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n{ae}\r\n").as_bytes()).await;
            // Bytes seen from real Wt 4.14 (Date aside): no length, closed after.
            let text = String::from_utf8_lossy(&got);
            assert!(
                text.starts_with("HTTP/1.1 403 Forbidden\r\nDate: "),
                "{text}"
            );
            assert!(text.contains("\r\nContent-Type: \r\n"), "{text}");
            assert!(text.contains("\r\nConnection: Upgrade\r\nUpgrade: WebSocket\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"), "{text}");
            assert!(
                !text.contains("Content-Length") && got.ends_with(tail),
                "{got:?}"
            );
        }
    }

    /// Sends `bytes` on a new connection and reads until the mock closes it.
    async fn exchange(addr: SocketAddr, bytes: &[u8]) -> Vec<u8> {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut c = tokio::net::TcpStream::connect(addr).await.unwrap();
        c.write_all(bytes).await.unwrap();
        let mut got = Vec::new();
        c.read_to_end(&mut got).await.unwrap();
        got
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
