//! `http-request use-service prometheus-exporter`: router-core says which
//! families, labels and values (HAProxy 2.6's exporter); this encodes them with
//! the `prometheus` crate's text encoder and writes the answer.

use std::time::{SystemTime, UNIX_EPOCH};

use prometheus::proto::{Counter, Gauge, LabelPair, Metric, MetricFamily, MetricType};
use prometheus::{Encoder, TextEncoder};
use router_core::unstable::cli::Host;
use router_core::unstable::promex::{self, Family, Scope, Value};

use crate::state::Generation;
use crate::stats_socket::CliHost;

/// The status and the whole HTTP/1.1 answer to a scrape of `target`
/// (HEAD: the head only). A query HAProxy refuses gets its 400 page.
pub fn response(g: &Generation, target: &str, head_only: bool, close: bool) -> (u16, Vec<u8>) {
    let Ok(scope) = Scope::from_target(target) else {
        return (400, crate::h1::errors::forwarding(400, close));
    };
    let host = CliHost { g };
    let info = host.info();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let started = now.saturating_sub(info.uptime_s);
    let families = promex::families(g.config(), &host.snapshot(), &host, &info, started, scope);
    let body = encode(&families);
    let conn = if close { "connection: close\r\n" } else { "" };
    // HAProxy sends the body chunked; a length says the same to every client.
    let head = format!(
        "HTTP/1.1 200 OK\r\ncache-control: no-cache\r\ncontent-type: text/plain; version=0.0.4\r\ncontent-length: {}\r\n{conn}\r\n",
        body.len()
    );
    let mut out = head.into_bytes();
    if !head_only {
        out.extend_from_slice(body.as_bytes());
    }
    (200, out)
}

/// The families as Prometheus text (format 0.0.4).
fn encode(families: &[Family]) -> String {
    let mfs: Vec<MetricFamily> = families.iter().map(family).collect();
    let mut buf = Vec::new();
    // The encoder fails only on a family without lines, which router-core never gives.
    if TextEncoder::new().encode(&mfs, &mut buf).is_err() {
        return String::new();
    }
    String::from_utf8(buf).unwrap_or_default()
}

fn family(f: &Family) -> MetricFamily {
    let mut mf = MetricFamily::default();
    mf.set_name(f.name.clone());
    mf.set_help(f.help.to_string());
    mf.set_field_type(if f.counter {
        MetricType::COUNTER
    } else {
        MetricType::GAUGE
    });
    let metrics = f
        .samples
        .iter()
        .map(|s| {
            let mut m = Metric::default();
            m.set_label(
                s.labels
                    .iter()
                    .map(|(n, v)| {
                        let mut l = LabelPair::default();
                        l.set_name((*n).to_string());
                        l.set_value(v.clone());
                        l
                    })
                    .collect(),
            );
            let v = match s.value {
                Value::Int(i) => i as f64,
                Value::Float(x) => x,
                Value::NaN => f64::NAN,
            };
            if f.counter {
                let mut c = Counter::default();
                c.set_value(v);
                m.set_counter(c);
            } else {
                let mut gauge = Gauge::default();
                gauge.set_value(v);
                m.set_gauge(gauge);
            }
            m
        })
        .collect();
    mf.set_metric(metrics);
    mf
}
