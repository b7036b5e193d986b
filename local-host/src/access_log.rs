//! The access log: one line per request in HAProxy's `option httplog` format, on stdout,
//! written by a dedicated thread so that request tasks never block on the terminal.
//!
//! `client_ip:port [accept_date] frontend backend/server TR/Tw/Tc/Tr/Ta status bytes - -
//! termination actconn/feconn/beconn/srv_conn/retries srv_queue/backend_queue "request"`
//!
//! The `wtd` value (a Wt session id) is redacted to its first three characters
//! (`wtd=wt1****`) unless session ids are asked for: a session id in a log is a
//! hijacking risk.

use std::fmt::Write as _;
use std::io::Write as _;
use std::net::SocketAddr;
use std::sync::mpsc;
use std::time::SystemTime;

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
    /// Two characters (e.g. `--`, `SC`, `PR`, `LR`, `cR`, `sH`).
    pub termination: &'a str,
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

fn ms(v: Option<u64>) -> i64 {
    v.map_or(-1, |v| v.min(i64::MAX as u64) as i64)
}

/// HAProxy's date in logs: `24/Nov/2026:21:40:33.493`, local time.
pub fn format_date(t: SystemTime) -> String {
    let dt: chrono::DateTime<chrono::Local> = t.into();
    dt.format("%d/%b/%Y:%H:%M:%S%.3f").to_string()
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
    let _ = write!(
        line,
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
            let t = if show_session_ids {
                std::borrow::Cow::Borrowed(t)
            } else {
                redact_wtd(t)
            };
            let _ = write!(line, "\"{m} {t} {v}\"");
        }
        None => line.push_str("\"<BADREQ>\""),
    }
    line
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

/// Access log lines dropped because the writer could not keep up.
pub static DROPPED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// The log writer: lines go through a channel to one thread that writes stdout.
#[derive(Clone)]
pub struct Logger {
    tx: Option<mpsc::SyncSender<String>>,
    pub show_session_ids: bool,
}

impl Logger {
    /// A logger writing to stdout.
    pub fn stdout(show_session_ids: bool) -> Logger {
        // Bounded: when stdout cannot keep up, lines are dropped (as HAProxy drops log
        // messages its log buffer cannot take) instead of growing memory.
        let (tx, rx) = mpsc::sync_channel::<String>(LOG_QUEUE);
        let spawned = std::thread::Builder::new()
            .name("access-log".into())
            .spawn(move || {
                let stdout = std::io::stdout();
                let mut out = std::io::BufWriter::with_capacity(64 * 1024, stdout.lock());
                while let Ok(line) = rx.recv() {
                    let _ = out.write_all(line.as_bytes());
                    let _ = out.write_all(b"\n");
                    while let Ok(more) = rx.try_recv() {
                        let _ = out.write_all(more.as_bytes());
                        let _ = out.write_all(b"\n");
                    }
                    let _ = out.flush();
                }
            });
        Logger {
            tx: spawned.ok().map(|_| tx),
            show_session_ids,
        }
    }

    /// A logger whose lines arrive on a channel (for tests).
    pub fn channel(show_session_ids: bool) -> (Logger, mpsc::Receiver<String>) {
        let (tx, rx) = mpsc::sync_channel(LOG_QUEUE);
        (
            Logger {
                tx: Some(tx),
                show_session_ids,
            },
            rx,
        )
    }

    /// A logger that drops everything.
    pub fn none() -> Logger {
        Logger {
            tx: None,
            show_session_ids: false,
        }
    }

    pub fn log(&self, e: &Entry<'_>) {
        if let Some(tx) = &self.tx
            && tx.try_send(format(e, self.show_session_ids)).is_err()
        {
            DROPPED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
            termination: "--",
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
        e.termination = "PR";
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
