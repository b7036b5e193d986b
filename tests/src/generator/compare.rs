//! What must be equal between HAProxy's answer and wtedge's, and between their
//! access-log lines. Each difference has a kind, for the figures.

use crate::backend::Report;
use crate::client::Response;

/// One difference: its kind (`status`, `location`, `server`, ...) and the two sides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diff {
    pub kind: &'static str,
    pub detail: String,
}

fn diff(kind: &'static str, h: impl std::fmt::Debug, e: impl std::fmt::Debug) -> Diff {
    Diff {
        kind,
        detail: format!("haproxy {h:?}, wtedge {e:?}"),
    }
}

/// An answer, or why none could be read.
pub type Answer = Result<Response, String>;

/// Differences between the answers of HAProxy (`h`) and wtedge (`e`) to one request:
/// status, `Location`, the server that answered and what it received.
pub fn answers(h: &Answer, e: &Answer) -> Vec<Diff> {
    let (h, e) = match (h, e) {
        (Ok(h), Ok(e)) => (h, e),
        (Err(_), Err(_)) => return Vec::new(),
        (h, e) => {
            let short = |a: &Answer| match a {
                Ok(r) => format!("status {}", r.status),
                Err(e) => format!("no answer: {e}"),
            };
            return vec![diff("answer", short(h), short(e))];
        }
    };
    let mut out = Vec::new();
    if h.status != e.status {
        out.push(diff("status", h.status, e.status));
    }
    if h.header("location") != e.header("location") {
        out.push(diff("location", h.header("location"), e.header("location")));
    }
    let (hr, er) = (h.report(), e.report());
    match (&hr, &er) {
        (Some(a), Some(b)) => out.extend(reports(a, b)),
        (None, None) => {}
        _ => out.push(diff(
            "server",
            hr.map(|r| format!("{}/{}", r.backend, r.server)),
            er.map(|r| format!("{}/{}", r.backend, r.server)),
        )),
    }
    out
}

/// What two servers' reports say differently.
fn reports(a: &Report, b: &Report) -> Vec<Diff> {
    let mut out = Vec::new();
    if (&a.backend, &a.server) != (&b.backend, &b.server) {
        out.push(diff(
            "server",
            format!("{}/{}", a.backend, a.server),
            format!("{}/{}", b.backend, b.server),
        ));
        return out;
    }
    if a.line != b.line {
        out.push(diff("upstream line", &a.line, &b.line));
    }
    for (kind, x, y) in [
        ("x-forwarded-for", &a.xff, &b.xff),
        ("x-original-to", &a.original_to, &b.original_to),
        ("connection", &a.connection, &b.connection),
        ("x-client/x-dst", &a.extra, &b.extra),
    ] {
        if x != y {
            out.push(diff(kind, x, y));
        }
    }
    out
}

/// The fields of an httplog line compared here: frontend, backend/server, status,
/// termination state and request. (Timers, bytes and counters are e2e_logs' business.)
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct LogFields {
    pub request: String,
    pub frontend: String,
    pub backend_server: String,
    pub status: String,
    pub termination: String,
}

/// Cuts an httplog line; `None` for anything else (start-up messages).
pub fn log_fields(line: &str) -> Option<LogFields> {
    let q = line.find('"')?;
    let w: Vec<&str> = line[..q].split_whitespace().collect();
    if w.len() != 12 {
        return None;
    }
    Some(LogFields {
        request: line[q..].to_string(),
        frontend: w[2].to_string(),
        backend_server: w[3].to_string(),
        status: w[5].to_string(),
        termination: w[9].to_string(),
    })
}

/// Differences between the log lines of one config's requests. Lines are compared
/// in order; when only the order differs (a proxy may log a stream after its client
/// saw the end), they are equal.
pub fn logs(h: &[LogFields], e: &[LogFields]) -> Vec<Diff> {
    if h == e {
        return Vec::new();
    }
    let (mut hs, mut es) = (h.to_vec(), e.to_vec());
    hs.sort();
    es.sort();
    if hs == es {
        return Vec::new();
    }
    // Report each line one side has and the other lacks, by kind.
    let mut out = Vec::new();
    let mut rest = es.clone();
    let mut missing = Vec::new();
    for l in hs {
        match rest.iter().position(|x| *x == l) {
            Some(i) => {
                rest.remove(i);
            }
            None => missing.push(l),
        }
    }
    for l in missing {
        let same_request = rest.iter().position(|x| x.request == l.request);
        match same_request {
            Some(i) => {
                let o = rest.remove(i);
                let kind = if o.backend_server != l.backend_server {
                    "log backend/server"
                } else if o.termination != l.termination {
                    "log termination"
                } else if o.status != l.status {
                    "log status"
                } else {
                    "log frontend"
                };
                out.push(Diff {
                    kind,
                    detail: format!("for {}: haproxy {l:?}, wtedge {o:?}", l.request),
                });
            }
            None => out.push(Diff {
                kind: "log line",
                detail: format!("haproxy logged {l:?}, wtedge no such line"),
            }),
        }
    }
    for o in rest {
        out.push(Diff {
            kind: "log line",
            detail: format!("wtedge logged {o:?}, haproxy no such line"),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn httplog_fields() {
        let l = "127.0.0.1:41234 [03/Dec/2026:12:00:00.123] fe1 bk1/s2 0/0/0/1/1 200 180 - - \
                 ---- 1/1/0/0/0 0/0 \"GET /app HTTP/1.1\"";
        let f = log_fields(l).expect("fields");
        assert_eq!(f.backend_server, "bk1/s2");
        assert_eq!(f.termination, "----");
        assert_eq!(f.request, "\"GET /app HTTP/1.1\"");
        assert!(log_fields("[NOTICE] haproxy started").is_none());
        let mut other = f.clone();
        other.backend_server = "bk1/<NOSRV>".into();
        let d = logs(std::slice::from_ref(&f), &[other]);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].kind, "log backend/server");
    }
}
