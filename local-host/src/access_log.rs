//! The access log: one line per request in HAProxy's `option httplog` format, on stdout,
//! written by a dedicated thread so that request tasks never block on the terminal.
//! Lines are appended to a shared buffer; the thread writes what has gathered in one
//! `write`, then lets the next lines gather for [`BATCH_INTERVAL`]: under load that is
//! one write every few milliseconds and no thread wake-up per line, while the line of
//! an idle proxy is written at once. [`Logger::close`] writes what is left.
//!
//! `client_ip:port [accept_date] frontend backend/server TR/Tw/Tc/Tr/Ta status bytes - -
//! termination actconn/feconn/beconn/srv_conn/retries srv_queue/backend_queue "request"`
//!
//! The `wtd` value (a Wt session id) is redacted to its first three characters
//! (`wtd=wt1****`) unless session ids are asked for: a session id in a log is a
//! hijacking risk.

use std::cell::RefCell;
use std::fmt::Write as _;
use std::io::Write as _;
use std::net::SocketAddr;
use std::sync::{Arc, Condvar, Mutex, mpsc};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use router_core::Termination;

/// Everything one log line says.
#[derive(Debug, Clone)]
pub struct Entry<'a> {
    pub client: SocketAddr,
    pub accept_date: SystemTime,
    pub frontend: &'a str,
    pub backend: &'a str,
    /// `None`: `<NOSRV>`.
    pub server: Option<&'a str>,
    /// Milliseconds; `None` is written `-1`.
    pub t_request: Option<u64>,
    pub t_queue: Option<u64>,
    pub t_connect: Option<u64>,
    pub t_response: Option<u64>,
    pub t_active: u64,
    pub status: u16,
    pub bytes: u64,
    /// How the exchange ended: two characters (e.g. `--`, `SC`, `PR`, `LR`, `cR`, `sH`).
    pub termination: Termination,
    pub actconn: u64,
    pub feconn: u64,
    pub beconn: u64,
    pub srv_conn: u64,
    pub retries: u32,
    pub redispatched: bool,
    pub srv_queue: u64,
    pub backend_queue: u64,
    /// `METHOD TARGET VERSION`, or `None` for `<BADREQ>`.
    pub request: Option<(&'a str, &'a str, &'a str)>,
}

/// HAProxy's date in logs: `24/Nov/2026:21:40:33.493`, local time.
pub fn format_date(t: SystemTime) -> String {
    let mut s = String::with_capacity(24);
    push_date(&mut s, t);
    s
}

/// Appends [`format_date`]'s text. The part up to the second is formatted once per
/// second and thread (the local offset cannot change inside a second).
fn push_date(out: &mut String, t: SystemTime) {
    thread_local! {
        static SECOND: RefCell<(u64, String)> = const { RefCell::new((u64::MAX, String::new())) };
    }
    let Ok(since) = t.duration_since(UNIX_EPOCH) else {
        let dt: chrono::DateTime<chrono::Local> = t.into();
        let _ = write!(out, "{}", dt.format("%d/%b/%Y:%H:%M:%S%.3f"));
        return;
    };
    let secs = since.as_secs();
    SECOND.with_borrow_mut(|(cached, text)| {
        if *cached != secs {
            let dt: chrono::DateTime<chrono::Local> =
                (UNIX_EPOCH + Duration::from_secs(secs)).into();
            text.clear();
            let _ = write!(text, "{}", dt.format("%d/%b/%Y:%H:%M:%S"));
            *cached = secs;
        }
        out.push_str(text);
    });
    let _ = write!(out, ".{:03}", since.subsec_millis());
}

/// Replaces every `wtd=` value in `s` by its first three characters and `****`.
pub fn redact_wtd(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.contains("wtd=") {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find("wtd=") {
        out.push_str(&rest[..i + 4]);
        rest = &rest[i + 4..];
        let end = rest.find(['&', ' ', ';', '#']).unwrap_or(rest.len());
        let value = &rest[..end];
        let keep: String = value.chars().take(3).collect();
        out.push_str(&keep);
        if value.chars().count() > 3 {
            out.push_str("****");
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    std::borrow::Cow::Owned(out)
}

/// Formats one line (no trailing newline).
pub fn format(e: &Entry<'_>, show_session_ids: bool) -> String {
    let mut line = String::with_capacity(200);
    format_into(&mut line, e, show_session_ids);
    line
}

fn push_u64(out: &mut String, mut v: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    for &d in &digits[i..] {
        out.push(char::from(d));
    }
}

/// A timer: `-1` when unknown.
fn push_ms(out: &mut String, v: Option<u64>) {
    match v {
        Some(v) => push_u64(out, v.min(i64::MAX as u64)),
        None => out.push_str("-1"),
    }
}

/// An address as `Display` writes it, held on the stack (IPv4 without the formatting
/// machinery, which costs more than the rest of a log line).
pub struct IpText {
    buf: [u8; 48],
    len: usize,
}

impl IpText {
    pub fn new(ip: std::net::IpAddr) -> IpText {
        let mut t = IpText {
            buf: [0; 48],
            len: 0,
        };
        match ip {
            std::net::IpAddr::V4(v4) => {
                for (i, o) in v4.octets().into_iter().enumerate() {
                    if i > 0 {
                        t.push(b'.');
                    }
                    if o >= 100 {
                        t.push(b'0' + o / 100);
                    }
                    if o >= 10 {
                        t.push(b'0' + o / 10 % 10);
                    }
                    t.push(b'0' + o % 10);
                }
            }
            std::net::IpAddr::V6(v6) => {
                let mut cur = std::io::Cursor::new(&mut t.buf[..]);
                let _ = write!(cur, "{v6}");
                t.len = usize::try_from(cur.position()).unwrap_or(0);
            }
        }
        t
    }

    fn push(&mut self, b: u8) {
        if let Some(slot) = self.buf.get_mut(self.len) {
            *slot = b;
            self.len += 1;
        }
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(self.buf.get(..self.len).unwrap_or_default()).unwrap_or_default()
    }
}

/// HAProxy's longest log line (the default `len` of a `log` target, 1024 bytes, the
/// newline included): longer lines are cut there, as HAProxy cuts them.
pub const MAX_LINE: usize = 1023;

/// The status of an exchange without one (the client left before any answer): HAProxy
/// logs `-1`.
pub const NO_STATUS: u16 = 0;

/// Appends `s` to `out` as HAProxy writes the request line in a log: `"`, `#`, control
/// characters and bytes from 0x7f are written `#XX` (uppercase hex).
fn push_escaped(out: &mut String, s: &str) {
    let escape = |b: u8| !(0x20..0x7f).contains(&b) || b == b'"' || b == b'#';
    if !s.bytes().any(escape) {
        out.push_str(s);
        return;
    }
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for b in s.bytes() {
        if escape(b) {
            out.push('#');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 15)]));
        } else {
            out.push(char::from(b));
        }
    }
}

/// Appends one line (no trailing newline) to `line`: `client_ip:port [date] frontend
/// backend/server Tq/Tw/Tc/Tr/Ta status bytes - - term-- actconn/feconn/beconn/srv_conn/
/// retries srv_queue/backend_queue "request"`.
pub fn format_into(line: &mut String, e: &Entry<'_>, show_session_ids: bool) {
    let start = line.len();
    line.push_str(IpText::new(e.client.ip()).as_str());
    line.push(':');
    push_u64(line, u64::from(e.client.port()));
    line.push_str(" [");
    push_date(line, e.accept_date);
    line.push_str("] ");
    line.push_str(e.frontend);
    line.push(' ');
    line.push_str(e.backend);
    line.push('/');
    line.push_str(e.server.unwrap_or("<NOSRV>"));
    line.push(' ');
    for (i, t) in [e.t_request, e.t_queue, e.t_connect, e.t_response]
        .into_iter()
        .enumerate()
    {
        if i > 0 {
            line.push('/');
        }
        push_ms(line, t);
    }
    line.push('/');
    push_u64(line, e.t_active);
    line.push(' ');
    if e.status == NO_STATUS {
        line.push_str("-1");
    } else {
        push_u64(line, u64::from(e.status));
    }
    line.push(' ');
    push_u64(line, e.bytes);
    line.push_str(" - - ");
    line.push(e.termination.cause.letter());
    line.push(e.termination.phase.letter());
    line.push_str("-- ");
    for v in [e.actconn, e.feconn, e.beconn, e.srv_conn] {
        push_u64(line, v);
        line.push('/');
    }
    if e.redispatched {
        line.push('+');
    }
    push_u64(line, u64::from(e.retries));
    line.push(' ');
    push_u64(line, e.srv_queue);
    line.push('/');
    push_u64(line, e.backend_queue);
    line.push(' ');
    match e.request {
        Some((m, t, v)) => {
            let t = if show_session_ids {
                std::borrow::Cow::Borrowed(t)
            } else {
                redact_wtd(t)
            };
            line.push('"');
            push_escaped(line, m);
            line.push(' ');
            push_escaped(line, &t);
            line.push(' ');
            push_escaped(line, v);
            line.push('"');
        }
        None => line.push_str("\"<BADREQ>\""),
    }
    if line.len() - start > MAX_LINE {
        // The request is escaped to ASCII; names from the config might not be.
        let mut end = start + MAX_LINE;
        while !line.is_char_boundary(end) {
            end -= 1;
        }
        line.truncate(end);
    }
}

/// HAProxy's `%B` for a response it forwarded or made: it counts the message as
/// stored internally, not the bytes on the wire (measured on 2.6.12: status line
/// parts + header names and values, `connection` excluded, + body + 21, + 1 for a
/// chunked body).
pub fn haproxy_bytes(
    reason: &str,
    headers: impl Iterator<Item = (usize, usize)>,
    body: u64,
    chunked: bool,
) -> u64 {
    let sl = 8 + 3 + reason.len() as u64;
    let h: u64 = headers.map(|(n, v)| (n + v) as u64).sum();
    21 + sl + h + body + u64::from(chunked && body > 0)
}

/// Lines waiting for the log thread at most.
const LOG_QUEUE: usize = 65_536;

/// How long the log thread lets lines gather after each write.
pub const BATCH_INTERVAL: Duration = Duration::from_millis(5);

/// Access log lines dropped because the writer could not keep up.
pub static DROPPED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Where lines go.
#[derive(Clone)]
enum Sink {
    None,
    Channel(mpsc::SyncSender<String>),
    Stdout(Arc<Batch>),
}

/// Lines waiting for the stdout writer thread.
struct Batch {
    pending: Mutex<Pending>,
    ready: Condvar,
    writer: Mutex<Option<JoinHandle<()>>>,
}

#[derive(Default)]
struct Pending {
    data: Vec<u8>,
    lines: usize,
    /// The writer waits on `ready`: the next line must wake it.
    waiting: bool,
    closed: bool,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Batch {
    fn write_loop(&self) {
        let stdout = std::io::stdout();
        let mut out = stdout.lock();
        let mut batch = Vec::new();
        loop {
            let closed = {
                let mut p = lock(&self.pending);
                while p.data.is_empty() && !p.closed {
                    p.waiting = true;
                    p = self.ready.wait(p).unwrap_or_else(|e| e.into_inner());
                }
                p.waiting = false;
                std::mem::swap(&mut p.data, &mut batch);
                p.lines = 0;
                p.closed
            };
            let _ = out.write_all(&batch);
            let _ = out.flush();
            batch.clear();
            if batch.capacity() > 1 << 20 {
                batch = Vec::new();
            }
            if closed {
                return;
            }
            std::thread::sleep(BATCH_INTERVAL);
        }
    }
}

/// The log writer.
#[derive(Clone)]
pub struct Logger {
    sink: Sink,
    pub show_session_ids: bool,
}

impl Logger {
    /// A logger writing to stdout.
    pub fn stdout(show_session_ids: bool) -> Logger {
        // Bounded: when stdout cannot keep up, lines are dropped (as HAProxy drops log
        // messages its log buffer cannot take) instead of growing memory.
        let batch = Arc::new(Batch {
            pending: Mutex::new(Pending::default()),
            ready: Condvar::new(),
            writer: Mutex::new(None),
        });
        let b = batch.clone();
        let spawned = std::thread::Builder::new()
            .name("access-log".into())
            .spawn(move || b.write_loop());
        let sink = match spawned {
            Ok(h) => {
                *lock(&batch.writer) = Some(h);
                Sink::Stdout(batch)
            }
            Err(_) => Sink::None,
        };
        Logger {
            sink,
            show_session_ids,
        }
    }

    /// A logger whose lines arrive on a channel (for tests).
    pub fn channel(show_session_ids: bool) -> (Logger, mpsc::Receiver<String>) {
        let (tx, rx) = mpsc::sync_channel(LOG_QUEUE);
        (
            Logger {
                sink: Sink::Channel(tx),
                show_session_ids,
            },
            rx,
        )
    }

    /// A logger that drops everything.
    pub fn none() -> Logger {
        Logger {
            sink: Sink::None,
            show_session_ids: false,
        }
    }

    pub fn log(&self, e: &Entry<'_>) {
        match &self.sink {
            Sink::None => {}
            Sink::Channel(tx) => {
                if tx.try_send(format(e, self.show_session_ids)).is_err() {
                    DROPPED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
            }
            Sink::Stdout(batch) => {
                thread_local! {
                    static LINE: RefCell<String> = const { RefCell::new(String::new()) };
                }
                LINE.with_borrow_mut(|line| {
                    line.clear();
                    format_into(line, e, self.show_session_ids);
                    line.push('\n');
                    let wake = {
                        let mut p = lock(&batch.pending);
                        if p.lines >= LOG_QUEUE || p.closed {
                            DROPPED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            false
                        } else {
                            p.data.extend_from_slice(line.as_bytes());
                            p.lines += 1;
                            std::mem::take(&mut p.waiting)
                        }
                    };
                    if wake {
                        batch.ready.notify_one();
                    }
                });
            }
        }
    }

    /// Writes the lines still waiting and stops the writer thread (at exit). Lines
    /// logged afterwards are dropped.
    pub fn close(&self) {
        if let Sink::Stdout(batch) = &self.sink {
            lock(&batch.pending).closed = true;
            batch.ready.notify_one();
            let writer = lock(&batch.writer).take();
            if let Some(h) = writer {
                let _ = h.join();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use router_core::unstable::termination::{Cause, Phase};

    fn entry<'a>() -> Entry<'a> {
        Entry {
            client: "127.0.0.1:58936".parse().unwrap(),
            accept_date: SystemTime::UNIX_EPOCH,
            frontend: "wt",
            backend: "bck1",
            server: Some("srv1"),
            t_request: Some(0),
            t_queue: Some(0),
            t_connect: Some(0),
            t_response: Some(0),
            t_active: 0,
            status: 200,
            bytes: 56,
            termination: Termination::NORMAL,
            actconn: 1,
            feconn: 1,
            beconn: 0,
            srv_conn: 0,
            retries: 0,
            redispatched: false,
            srv_queue: 0,
            backend_queue: 0,
            request: Some(("GET", "/a?wtd=wt1x%41/../b", "HTTP/1.1")),
        }
    }

    /// The parts after the date must be byte-identical to this line HAProxy 2.6.12
    /// wrote for the same exchange.
    const HAPROXY: &str = "127.0.0.1:58936 [24/Nov/2026:21:40:33.493] wt bck1/srv1 0/0/0/0/0 200 56 - - ---- 1/1/0/0/0 0/0 \"GET /a?wtd=wt1x%41/../b HTTP/1.1\"";

    fn without_date(s: &str) -> String {
        let a = s.find('[').unwrap();
        let b = s.find(']').unwrap();
        format!("{}{}", &s[..a], &s[b..])
    }

    #[test]
    fn matches_a_real_haproxy_line() {
        let line = format(&entry(), true);
        assert_eq!(without_date(&line), without_date(HAPROXY));
        // The date has HAProxy's shape.
        let date = &line[line.find('[').unwrap() + 1..line.find(']').unwrap()];
        assert_eq!(date.len(), "24/Nov/2026:21:40:33.493".len(), "{date}");
        assert_eq!(&date[2..3], "/");
        assert_eq!(&date[11..12], ":");
    }

    /// A client that left in the middle of its request body: HAProxy 2.6 logged this
    /// line (tests/tests/drills.rs, body-reset), status `-1`.
    #[test]
    fn no_status_is_minus_one() {
        let e = Entry {
            client: "127.0.0.1:47828".parse().unwrap(),
            frontend: "fe",
            backend: "b",
            server: Some("s1"),
            t_response: None,
            t_active: 201,
            status: NO_STATUS,
            bytes: 0,
            termination: Termination::new(Cause::ClientClosed, Phase::Data),
            actconn: 4,
            feconn: 4,
            beconn: 3,
            srv_conn: 3,
            request: Some(("POST", "/?case=body-reset", "HTTP/1.1")),
            ..entry()
        };
        let haproxy = "127.0.0.1:47828 [03/Dec/2026:15:44:07.017] fe b/s1 0/0/0/-1/201 -1 0 - - CD-- 4/4/3/3/0 0/0 \"POST /?case=body-reset HTTP/1.1\"";
        assert_eq!(without_date(&format(&e, true)), without_date(haproxy));
    }

    /// The line as `write!` formats it (the formatter before it was hand-written).
    fn reference_format(e: &Entry<'_>, show: bool) -> String {
        let ms = |v: Option<u64>| v.map_or(-1, |v| v.min(i64::MAX as u64) as i64);
        let mut line = format!(
            "{}:{} [{}] {} {}/{} {}/{}/{}/{}/{} {} {} - - {}-- {}/{}/{}/{}/{}{} {}/{} ",
            e.client.ip(),
            e.client.port(),
            format_date(e.accept_date),
            e.frontend,
            e.backend,
            e.server.unwrap_or("<NOSRV>"),
            ms(e.t_request),
            ms(e.t_queue),
            ms(e.t_connect),
            ms(e.t_response),
            e.t_active,
            e.status,
            e.bytes,
            e.termination,
            e.actconn,
            e.feconn,
            e.beconn,
            e.srv_conn,
            if e.redispatched { "+" } else { "" },
            e.retries,
            e.srv_queue,
            e.backend_queue,
        );
        match e.request {
            Some((m, t, v)) => {
                let t = if show {
                    std::borrow::Cow::Borrowed(t)
                } else {
                    redact_wtd(t)
                };
                line.push_str(&format!("\"{m} {t} {v}\""));
            }
            None => line.push_str("\"<BADREQ>\""),
        }
        line
    }

    #[test]
    fn hand_written_format_is_writes_format() {
        let mut cases = vec![entry()];
        let mut e = entry();
        e.client = "[2001:db8::1]:443".parse().unwrap();
        e.t_request = None;
        e.t_connect = Some(u64::MAX);
        e.t_active = 1234567;
        e.status = 503;
        e.bytes = u64::MAX;
        e.actconn = 10;
        e.feconn = 9;
        e.beconn = 100;
        e.srv_conn = 1000;
        e.retries = 3;
        e.redispatched = true;
        e.srv_queue = 7;
        e.backend_queue = 12;
        e.server = None;
        e.request = None;
        e.accept_date = UNIX_EPOCH + Duration::from_millis(1_795_993_199_007);
        cases.push(e.clone());
        e.client = "[::ffff:10.0.0.255]:65535".parse().unwrap();
        e.request = Some(("POST", "/x?wtd=abcdef", "HTTP/1.0"));
        cases.push(e.clone());
        e.client = "0.0.0.0:0".parse().unwrap();
        cases.push(e);
        for e in &cases {
            for show in [false, true] {
                let mut line = String::new();
                format_into(&mut line, e, show);
                assert_eq!(line, reference_format(e, show));
            }
        }
    }

    #[test]
    fn ip_text_is_display() {
        let ips = [
            "0.0.0.0",
            "127.0.0.1",
            "10.9.99.100",
            "255.255.255.255",
            "1.20.199.0",
            "::",
            "::1",
            "::ffff:10.0.0.255",
            "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
            "2001:db8::8a2e:370:7334",
            "::ffff:255.255.255.255",
            "64:ff9b::1.2.3.4",
        ];
        for ip in ips {
            let ip: std::net::IpAddr = ip.parse().unwrap();
            assert_eq!(IpText::new(ip).as_str(), ip.to_string());
        }
        for i in 0..=255u8 {
            let ip = std::net::IpAddr::from([i, 255 - i, i / 3, i.wrapping_mul(7)]);
            assert_eq!(IpText::new(ip).as_str(), ip.to_string());
        }
    }

    #[test]
    fn cached_dates_are_chrono_dates() {
        // Several instants inside one second, across seconds, minutes and a day.
        let base = UNIX_EPOCH + Duration::from_secs(1_795_993_199);
        for ms in [0u64, 1, 499, 999, 1000, 1001, 1999, 60_000, 86_400_123] {
            let t = base + Duration::from_millis(ms);
            let dt: chrono::DateTime<chrono::Local> = t.into();
            let want = dt.format("%d/%b/%Y:%H:%M:%S%.3f").to_string();
            assert_eq!(format_date(t), want);
            assert_eq!(format_date(t), want, "second call, from the cache");
        }
        let before = UNIX_EPOCH - Duration::from_millis(1500);
        let dt: chrono::DateTime<chrono::Local> = before.into();
        assert_eq!(
            format_date(before),
            dt.format("%d/%b/%Y:%H:%M:%S%.3f").to_string()
        );
    }

    #[test]
    fn errors_and_redispatch_fields() {
        let mut e = entry();
        e.server = None;
        e.backend = "wt";
        e.t_request = None;
        e.t_queue = None;
        e.t_connect = None;
        e.t_response = None;
        e.status = 400;
        e.bytes = 0;
        e.termination = Termination::new(Cause::Proxy, Phase::Request);
        e.request = None;
        let l = format(&e, false);
        assert!(
            l.ends_with("wt wt/<NOSRV> -1/-1/-1/-1/0 400 0 - - PR-- 1/1/0/0/0 0/0 \"<BADREQ>\""),
            "{l}"
        );
        let mut e = entry();
        e.retries = 1;
        e.redispatched = true;
        assert!(format(&e, true).contains(" 1/1/0/0/+1 0/0 "));
    }

    #[test]
    fn request_is_escaped_and_long_lines_cut_as_haproxy() {
        let mut e = entry();
        e.request = Some(("GET", "/cl?q=\"a\"#\u{e9}\u{7f}\t<>{}|\\^`~", "HTTP/1.1"));
        assert!(
            format(&e, true).ends_with("\"GET /cl?q=#22a#22#23#C3#A9#7F#09<>{}|\\^`~ HTTP/1.1\""),
            "{}",
            format(&e, true)
        );
        let target = format!("/{}", "a".repeat(2000));
        e.request = Some(("GET", &target, "HTTP/1.1"));
        let mut line = String::from("kept");
        format_into(&mut line, &e, true);
        assert_eq!(line.len(), 4 + MAX_LINE);
        assert!(line.starts_with("kept127.0.0.1:58936 ["), "{line}");
        assert!(line.contains(" \"GET /aaaa"), "{line}");
        assert!(line.ends_with("aaaa"), "{line}");
    }

    #[test]
    fn session_ids_are_redacted_unless_asked() {
        let mut e = entry();
        e.request = Some(("GET", "/?wtd=wt1T03a3rAGfn1ZKEkN&request=ws", "HTTP/1.1"));
        assert!(format(&e, false).ends_with("\"GET /?wtd=wt1****&request=ws HTTP/1.1\""));
        assert!(format(&e, true).contains("wtd=wt1T03a3rAGfn1ZKEkN"));
        assert_eq!(redact_wtd("/x?wtd=ab"), "/x?wtd=ab");
        assert_eq!(
            redact_wtd("/?a=1&wtd=wt2abcdef;wtd=wt1"),
            "/?a=1&wtd=wt2****;wtd=wt1"
        );
        assert_eq!(redact_wtd("/plain"), "/plain");
    }

    #[test]
    fn byte_counts_match_haproxy_logs() {
        // 200 "ok" with content-length: 2 and x-up: 1 -> HAProxy logged 56.
        let h = [("content-length", "2"), ("x-up", "1")];
        assert_eq!(
            haproxy_bytes("OK", h.iter().map(|(n, v)| (n.len(), v.len())), 2, false),
            56
        );
        // Its 503 page -> 217; its 302 redirect -> 85.
        let h = [
            ("content-length", "107"),
            ("cache-control", "no-cache"),
            ("content-type", "text/html"),
        ];
        assert_eq!(
            haproxy_bytes(
                "Service Unavailable",
                h.iter().map(|(n, v)| (n.len(), v.len())),
                107,
                false
            ),
            217
        );
        let h = [
            ("content-length", "0"),
            ("location", "/wt1"),
            ("cache-control", "no-cache"),
        ];
        assert_eq!(
            haproxy_bytes("Found", h.iter().map(|(n, v)| (n.len(), v.len())), 0, false),
            85
        );
        // Chunked "abc" with transfer-encoding and keep-alive headers -> 81.
        let h = [
            ("transfer-encoding", "chunked"),
            ("keep-alive", "timeout=5"),
        ];
        assert_eq!(
            haproxy_bytes("OK", h.iter().map(|(n, v)| (n.len(), v.len())), 3, true),
            81
        );
    }
}
