//! Clients that go away in each phase of an exchange (request head, request body,
//! waiting for the server, response body, WebSocket tunnel), by a reset (`SO_LINGER`
//! 0), a half-close (`shutdown(SHUT_WR)`, then reading to the end) or by going
//! silent past the proxy's timeouts, and the
//! grouping of the access-log lines they cause for comparison with HAProxy's.
//! Each request's target carries `case=NAME` so that its line is found whatever
//! order lines are written in.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::time::{Duration, Instant};

use super::load::connect;

/// How the client leaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    Reset,
    HalfClose,
    /// Goes silent (reads and sends nothing) for longer than the proxy's timeouts,
    /// then closes.
    Stall,
}

/// How long a stalled client stays silent.
pub const STALL: Duration = Duration::from_millis(4500);

/// One step of a client.
#[derive(Debug, Clone)]
pub enum Step {
    Send(Vec<u8>),
    /// Reads until these bytes came (or 5 s).
    Until(&'static [u8]),
    Sleep(u64),
}

/// A client that leaves in one phase.
#[derive(Debug, Clone)]
pub struct Phase {
    pub name: String,
    pub steps: Vec<Step>,
    pub end: End,
}

/// Every phase, each ended both ways.
pub fn phase_cases() -> Vec<Phase> {
    use Step::*;
    let mut out = Vec::new();
    for end in [End::Reset, End::HalfClose, End::Stall] {
        let tag = |p: &str| {
            let how = match end {
                End::Reset => "reset",
                End::HalfClose => "halfclose",
                End::Stall => "stall",
            };
            format!("{p}-{how}")
        };
        let send = |s: String| Send(s.into_bytes());
        let cases = [
            (
                "head",
                vec![
                    send(format!(
                        "GET /?case={} HTTP/1.1\r\nHost: x\r\nX-A: b",
                        tag("head")
                    )),
                    Sleep(100),
                ],
            ),
            (
                "body",
                vec![
                    send(format!(
                        "POST /?case={} HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789",
                        tag("body")
                    )),
                    Sleep(200),
                ],
            ),
            (
                "wait",
                vec![
                    send(format!(
                        "GET /delay/400?case={} HTTP/1.1\r\nHost: x\r\n\r\n",
                        tag("wait")
                    )),
                    Sleep(100),
                ],
            ),
            (
                "response",
                vec![
                    send(format!(
                        "GET /big?case={} HTTP/1.1\r\nHost: x\r\n\r\n",
                        tag("response")
                    )),
                    Until(b"yyyy"),
                    Sleep(50),
                ],
            ),
            (
                "tunnel",
                vec![
                    send(format!(
                        "GET /ws?case={} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\n\
                         Upgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
                         Sec-WebSocket-Version: 13\r\n\r\n",
                        tag("tunnel")
                    )),
                    Until(b"\r\n\r\n"),
                    Send(b"ping".to_vec()),
                    Until(b"ping"),
                    Sleep(50),
                ],
            ),
        ];
        for (phase, steps) in cases {
            out.push(Phase {
                name: tag(phase),
                steps,
                end,
            });
        }
    }
    out
}

impl Phase {
    /// Plays the client against `addr`.
    pub fn play(&self, addr: SocketAddr) {
        let Ok(mut s) = connect(addr) else {
            return;
        };
        let mut got = Vec::new();
        let mut b = [0u8; 16384];
        for step in &self.steps {
            match step {
                Step::Send(bytes) => {
                    let _ = s.write_all(bytes);
                }
                Step::Sleep(ms) => std::thread::sleep(Duration::from_millis(*ms)),
                Step::Until(text) => {
                    let deadline = Instant::now() + Duration::from_secs(5);
                    let _ = s.set_read_timeout(Some(Duration::from_millis(200)));
                    while !got.windows(text.len()).any(|w| w == *text) && Instant::now() < deadline
                    {
                        match s.read(&mut b) {
                            Ok(0) => break,
                            Ok(n) => got.extend_from_slice(&b[..n]),
                            Err(_) => {}
                        }
                    }
                }
            }
        }
        match self.end {
            End::Reset => {
                let _ = socket2::SockRef::from(&s).set_linger(Some(Duration::ZERO));
            }
            End::Stall => std::thread::sleep(STALL),
            End::HalfClose => {
                let _ = s.shutdown(Shutdown::Write);
                let _ = s.set_read_timeout(Some(Duration::from_secs(8)));
                while let Ok(n) = s.read(&mut b) {
                    if n == 0 {
                        break;
                    }
                }
            }
        }
    }
}

/// `(status, termination state)` of httplog lines, by the `case=` of their request
/// (`<untagged>` for the others, sorted: a request head never finished is logged as
/// `<BADREQ>`).
pub fn by_case(lines: &[String]) -> BTreeMap<String, Vec<(String, String)>> {
    let mut out: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for l in lines {
        let Some(q) = l.find('"') else { continue };
        let w: Vec<&str> = l[..q].split_whitespace().collect();
        let (Some(status), Some(term)) = (w.get(5), w.get(9)) else {
            continue;
        };
        let case = l[q..]
            .split("case=")
            .nth(1)
            .and_then(|c| c.split([' ', '&', '"']).next())
            .unwrap_or("<untagged>");
        out.entry(case.to_string())
            .or_default()
            .push((status.to_string(), term.to_string()));
    }
    for v in out.values_mut() {
        v.sort();
    }
    out
}
