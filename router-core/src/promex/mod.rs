//! HAProxy's Prometheus exporter (`http-request use-service prometheus-exporter`):
//! which metrics, in which order, with which labels and values, as HAProxy 2.6.12's
//! `addons/promex` gives them, so that dashboards written for HAProxy work.
//!
//! The values are `show stat`'s and `show info`'s (the exporter reads the same
//! rows, as HAProxy's does); the host only encodes the families as text.

mod metrics;

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use crate::cli::stat::{RowOf, StatFilter, StatRow, stat_rows};
use crate::cli::{Host, Info};
use crate::config::model::{Config, ProxyId, ProxyKind};
use crate::health::HealthSnapshot;

/// A metric's value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value {
    /// A count or an integer gauge.
    Int(i64),
    /// Seconds (HAProxy's averages and maxima of milliseconds).
    Float(f64),
    /// No value: HAProxy's empty stat fields and strings.
    NaN,
}

/// One line of a family.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// Labels in HAProxy's order (`proxy`, `server`, then `state` or `code`).
    pub labels: Vec<(&'static str, String)>,
    /// The value.
    pub value: Value,
}

/// One metric: its `# HELP`, `# TYPE` and lines.
#[derive(Debug, Clone, PartialEq)]
pub struct Family {
    /// Full name (`haproxy_server_status`).
    pub name: String,
    /// HAProxy's help text.
    pub help: &'static str,
    /// Counter (else gauge).
    pub counter: bool,
    /// Its lines, in HAProxy's order.
    pub samples: Vec<Sample>,
}

/// Which parts the scrape asked for (`?scope=...&no-maint`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scope {
    /// `haproxy_process_*`.
    pub global: bool,
    /// `haproxy_frontend_*`.
    pub frontend: bool,
    /// `haproxy_backend_*`.
    pub backend: bool,
    /// `haproxy_server_*`.
    pub server: bool,
    /// `no-maint`: servers in maintenance left out.
    pub no_maint: bool,
}

/// A query string HAProxy answers with 400 (an unknown scope, `scope` without a
/// value, a bad percent-encoding).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadQuery;

impl Scope {
    /// Every part (no `scope` in the query).
    pub const ALL: Scope = Scope {
        global: true,
        frontend: true,
        backend: true,
        server: true,
        no_maint: false,
    };

    /// Reads the query string of `target` as HAProxy's `promex_parse_uri()`.
    pub fn from_target(target: &str) -> Result<Scope, BadQuery> {
        let Some((_, query)) = target.split_once('?') else {
            return Ok(Scope::ALL);
        };
        let query = query.split('#').next().unwrap_or("");
        let mut s = Scope {
            global: false,
            frontend: false,
            backend: false,
            server: false,
            no_maint: false,
        };
        let mut scoped = false;
        for param in query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = match param.split_once('=') {
                Some((k, v)) => {
                    // HAProxy refuses a second '=' in one parameter.
                    if v.contains('=') {
                        return Err(BadQuery);
                    }
                    (decode(k)?, Some(decode(v)?))
                }
                None => (decode(param)?, None),
            };
            match key.as_str() {
                "scope" => {
                    scoped = true;
                    match value.as_deref() {
                        None => return Err(BadQuery),
                        Some("") => {
                            s.global = false;
                            s.frontend = false;
                            s.backend = false;
                            s.server = false;
                        }
                        Some(v) if v.starts_with('*') => {
                            s.global = true;
                            s.frontend = true;
                            s.backend = true;
                            s.server = true;
                        }
                        Some("global") => s.global = true,
                        Some("frontend") => s.frontend = true,
                        Some("backend") => s.backend = true,
                        Some("server") => s.server = true,
                        // Wt Edge has no listener counters nor stick tables: empty parts.
                        Some("listener" | "sticktable") => {}
                        Some(_) => return Err(BadQuery),
                    }
                }
                "no-maint" => s.no_maint = true,
                _ => {}
            }
        }
        if !scoped {
            s = Scope {
                no_maint: s.no_maint,
                ..Scope::ALL
            };
        }
        Ok(s)
    }
}

/// HAProxy's `url_decode(.., 1)`: `%XX` and `+` as a space (query strings and
/// the stats page's forms).
pub(crate) fn url_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                let hex = core::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

fn decode(s: &str) -> Result<String, BadQuery> {
    url_decode(s).ok_or(BadQuery)
}

/// A server's state as the exporter names it (`promex_srv_status()`).
const SERVER_STATES: [&str; 5] = ["DOWN", "UP", "MAINT", "DRAIN", "NOLB"];

/// The health check statuses the exporter lists (those whose result is at
/// least "failed"), in HAProxy's order.
const CHECK_STATES: [&str; 16] = [
    "HANA", "SOCKERR", "L4OK", "L4TOUT", "L4CON", "L6OK", "L6TOUT", "L6RSP", "L7TOUT", "L7RSP",
    "L7OK", "L7OKC", "L7STS", "PROCERR", "PROCTOUT", "PROCOK",
];

/// `show stat`'s status text to the exporter's state.
fn server_state(status: &str) -> &'static str {
    if status.starts_with("MAINT") {
        "MAINT"
    } else if status == "DOWN" || status.starts_with("DOWN ") {
        "DOWN"
    } else if status == "NOLB" {
        "NOLB"
    } else if status == "DRAIN" {
        "DRAIN"
    } else {
        "UP"
    }
}

/// The last check's status, when the server's checks run (enabled and not
/// paused by maintenance).
fn check_state(row: &StatRow) -> Option<&str> {
    let st = row.row.get("check_status");
    (!st.is_empty()).then(|| st.trim_start_matches("* "))
}

/// A column's value: empty and non-numbers are NaN, as in HAProxy.
fn column(row: &StatRow, name: &str) -> Value {
    let text = row.row.get(name);
    text.parse::<i64>().map_or(Value::NaN, Value::Int)
}

/// A column of milliseconds, in seconds.
fn seconds(row: &StatRow, name: &str) -> Value {
    match row.row.get(name).parse::<i64>() {
        Ok(ms) => Value::Float(ms as f64 / 1000.0),
        Err(_) => Value::Float(0.0),
    }
}

fn labels1(cfg: &Config, px: ProxyId) -> Vec<(&'static str, String)> {
    alloc::vec![("proxy", cfg.proxy(px).name.clone())]
}

/// Every family the scrape asked for, in HAProxy's order.
pub fn families(
    cfg: &Config,
    h: &HealthSnapshot,
    host: &dyn Host,
    info: &Info,
    started_s: u64,
    scope: Scope,
) -> Vec<Family> {
    let mut out = Vec::new();
    if scope.global {
        process(cfg, info, started_s, &mut out);
    }
    let rows = stat_rows(cfg, h, host, &StatFilter::ALL);
    for (part, on, prefix) in [
        (scope.frontend, 'F', "haproxy_frontend_"),
        (scope.backend, 'B', "haproxy_backend_"),
        (scope.server, 'S', "haproxy_server_"),
    ] {
        if !part {
            continue;
        }
        for field in metrics::FIELDS.iter().filter(|f| f.on.contains(on)) {
            let mut samples = Vec::new();
            for row in &rows {
                match (on, row.of) {
                    ('F', RowOf::Frontend(px)) => frontend(cfg, field, px, row, &mut samples),
                    ('B', RowOf::Backend(px)) => backend(cfg, field, px, row, &rows, &mut samples),
                    ('S', RowOf::Server(px, sv)) => {
                        if scope.no_maint && h.maint(cfg, sv) {
                            continue;
                        }
                        server(cfg, field, px, &cfg.server(sv).name, row, &mut samples);
                    }
                    _ => {}
                }
            }
            push(&mut out, prefix, field, samples);
        }
    }
    out
}

/// Adds a family, merging the six `hrsp_*` columns into one
/// `http_responses_total` (HAProxy prints its header once).
fn push(out: &mut Vec<Family>, prefix: &str, field: &metrics::Field, samples: Vec<Sample>) {
    if samples.is_empty() {
        return;
    }
    let name = alloc::format!("{prefix}{}", field.name);
    if let Some(last) = out.last_mut().filter(|f| f.name == name) {
        last.samples.extend(samples);
        return;
    }
    out.push(Family {
        name,
        help: field.help,
        counter: field.counter,
        samples,
    });
}

fn states(
    labels: &[(&'static str, String)],
    names: &[&'static str],
    value: impl Fn(&str) -> i64,
    samples: &mut Vec<Sample>,
) {
    for name in names {
        let mut l = labels.to_vec();
        l.push(("state", (*name).to_string()));
        samples.push(Sample {
            labels: l,
            value: Value::Int(value(name)),
        });
    }
}

/// The `code` label of the `hrsp_*` columns.
fn hrsp_code(column: &str) -> Option<&'static str> {
    Some(match column {
        "hrsp_1xx" => "1xx",
        "hrsp_2xx" => "2xx",
        "hrsp_3xx" => "3xx",
        "hrsp_4xx" => "4xx",
        "hrsp_5xx" => "5xx",
        "hrsp_other" => "other",
        _ => return None,
    })
}

/// One line with the proxy (and server) labels, and `code` for `hrsp_*`.
fn plain(mut labels: Vec<(&'static str, String)>, field: &metrics::Field, value: Value) -> Sample {
    if let Some(code) = hrsp_code(field.column) {
        labels.push(("code", code.to_string()));
    }
    Sample { labels, value }
}

fn frontend(
    cfg: &Config,
    field: &metrics::Field,
    px: ProxyId,
    row: &StatRow,
    samples: &mut Vec<Sample>,
) {
    let labels = labels1(cfg, px);
    if field.column == "status" {
        // A frontend is UP unless stopped.
        states(&labels, &["DOWN", "UP"], |s| i64::from(s == "UP"), samples);
        return;
    }
    samples.push(plain(labels, field, column(row, field.column)));
}

fn backend(
    cfg: &Config,
    field: &metrics::Field,
    px: ProxyId,
    row: &StatRow,
    rows: &[StatRow],
    samples: &mut Vec<Sample>,
) {
    let labels = labels1(cfg, px);
    let servers = || {
        rows.iter()
            .filter(move |r| matches!(r.of, RowOf::Server(p, _) if p == px))
    };
    match field.column {
        "status" => {
            let up = row.row.get("status") == "UP";
            states(
                &labels,
                &["DOWN", "UP"],
                |s| i64::from((s == "UP") == up),
                samples,
            );
        }
        "agg_server_status" | "agg_server_check_status" => {
            if cfg.proxy(px).servers.is_empty() {
                return;
            }
            let count = |s: &str| {
                servers()
                    .filter(|r| server_state(r.row.get("status")) == s)
                    .count() as i64
            };
            states(&labels, &SERVER_STATES, count, samples);
        }
        "agg_check_status" => {
            if cfg.proxy(px).servers.is_empty() {
                return;
            }
            let count = |s: &str| servers().filter(|r| check_state(r) == Some(s)).count() as i64;
            states(&labels, &CHECK_STATES, count, samples);
        }
        "qtime" | "ctime" | "rtime" | "ttime" | "qtime_max" | "ctime_max" | "rtime_max"
        | "ttime_max" => samples.push(plain(labels, field, seconds(row, field.column))),
        c => samples.push(plain(labels, field, column(row, c))),
    }
}

fn server(
    cfg: &Config,
    field: &metrics::Field,
    px: ProxyId,
    name: &str,
    row: &StatRow,
    samples: &mut Vec<Sample>,
) {
    let mut labels = labels1(cfg, px);
    labels.push(("server", name.to_string()));
    match field.column {
        "status" => {
            let st = server_state(row.row.get("status"));
            states(&labels, &SERVER_STATES, |s| i64::from(s == st), samples);
        }
        "check_status" => {
            let Some(st) = check_state(row) else { return };
            states(&labels, &CHECK_STATES, |s| i64::from(s == st), samples);
        }
        "check_code" => {
            if check_state(row).is_some() {
                samples.push(plain(labels, field, Value::Int(0)));
            }
        }
        "check_duration" => {
            if check_state(row).is_some() {
                samples.push(plain(labels, field, seconds(row, "check_duration")));
            }
        }
        "qtime" | "ctime" | "rtime" | "ttime" | "qtime_max" | "ctime_max" | "rtime_max"
        | "ttime_max" => samples.push(plain(labels, field, seconds(row, field.column))),
        c => samples.push(plain(labels, field, column(row, c))),
    }
}

/// `haproxy_process_*` from what `show info` knows; HAProxy's other fields
/// (memory pools, SSL, pipes, rates) are 0 here, zlib's NaN (no compression).
fn process(cfg: &Config, info: &Info, started_s: u64, out: &mut Vec<Family>) {
    let listeners: usize = cfg
        .proxy_ids()
        .map(|id| cfg.proxy(id))
        .filter(|p| p.kind != ProxyKind::Backend)
        .map(|p| p.binds.len())
        .sum();
    for m in metrics::INFO {
        let n = |v: u64| Value::Int(i64::try_from(v).unwrap_or(i64::MAX));
        let value = match m.column {
            "Nbthread" => n(u64::from(info.nbthread)),
            "Nbproc" | "Process_num" | "Build info" => Value::Int(1),
            "Uptime_sec" => n(info.uptime_s),
            "Start_time_sec" => n(started_s),
            "Maxconn" | "Hard_maxconn" => n(info.maxconn),
            "CurrConns" | "Jobs" => n(info.curr_conns),
            "CumConns" => n(info.cum_conns),
            "CumReq" => n(info.cum_req),
            "Listeners" => n(listeners as u64),
            "ZlibMemUsage" | "MaxZlibMemUsage" => Value::NaN,
            "Idle_pct" => Value::Int(100),
            _ => Value::Int(0),
        };
        let labels = if m.column == "Build info" {
            alloc::vec![("version", info.version.clone())]
        } else {
            Vec::new()
        };
        out.push(Family {
            name: alloc::format!("haproxy_process_{}", m.name),
            help: m.help,
            counter: m.counter,
            samples: alloc::vec![Sample { labels, value }],
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_as_haproxy_reads_them() {
        assert_eq!(Scope::from_target("/metrics"), Ok(Scope::ALL));
        let s = Scope::from_target("/metrics?scope=server&scope=backend&no-maint").unwrap();
        assert!(s.server && s.backend && !s.global && !s.frontend && s.no_maint);
        let s = Scope::from_target("/metrics?scope=").unwrap();
        assert!(!s.server && !s.backend && !s.global && !s.frontend);
        let s = Scope::from_target("/metrics?scope=%2A").unwrap();
        assert_eq!(s, Scope::ALL);
        assert_eq!(Scope::from_target("/metrics?scope=bogus"), Err(BadQuery));
        assert_eq!(Scope::from_target("/metrics?scope"), Err(BadQuery));
        assert_eq!(Scope::from_target("/metrics?scope=a=b"), Err(BadQuery));
        assert_eq!(Scope::from_target("/metrics?x=%zz"), Err(BadQuery));
        // Unknown parameters are ignored.
        assert_eq!(Scope::from_target("/metrics?foo=bar"), Ok(Scope::ALL));
    }

    #[test]
    fn server_states_follow_show_stat() {
        assert_eq!(server_state("MAINT (via b/s)"), "MAINT");
        assert_eq!(server_state("no check"), "UP");
        assert_eq!(server_state("DRAIN"), "DRAIN");
        assert_eq!(server_state("NOLB"), "NOLB");
        assert_eq!(server_state("DOWN"), "DOWN");
    }
}
