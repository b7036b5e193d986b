//! Requests a client may send to abuse trust: forwarded-source headers that must not
//! stand for its address, and requests that name the admin endpoint or carry runtime
//! API commands on the proxy port.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use crate::corpus::Request;

fn req(line: String, headers: &[String], body: Option<&str>) -> Request {
    Request {
        line,
        headers: headers.to_vec(),
        body: body.map(str::to_string),
        expect: None,
    }
}

/// (what, request) pairs; `admin` is wtedge's admin address, `cli` its stats socket.
pub fn untrusted_requests(admin: SocketAddr, cli: SocketAddr) -> Vec<(String, Request)> {
    let get = |h: &str| req("GET / HTTP/1.1".into(), &["Host: x".into(), h.into()], None);
    let mut out = vec![
        ("xff lan".into(), get("X-Forwarded-For: 10.1.2.3")),
        (
            "xff list".into(),
            get("X-Forwarded-For: 10.0.0.1, 10.9.9.9"),
        ),
        ("forwarded".into(), get("Forwarded: for=10.0.0.1")),
        ("x-real-ip".into(), get("X-Real-IP: 10.0.0.2")),
        ("x-client-ip".into(), get("X-Client-IP: 10.0.0.3")),
    ];
    for i in 0..8 {
        out.push((
            format!("xff source {i}"),
            get(&format!("X-Forwarded-For: 192.0.2.{i}")),
        ));
    }
    let host = |h: SocketAddr| format!("Host: {h}");
    let cmd = "set server outside/o1 state maint";
    out.extend([
        (
            "stats path".into(),
            req("GET /stats HTTP/1.1".into(), &["Host: x".into()], None),
        ),
        (
            "metrics path".into(),
            req("GET /metrics HTTP/1.1".into(), &["Host: x".into()], None),
        ),
        (
            "admin host".into(),
            req("GET /stats.json HTTP/1.1".into(), &[host(admin)], None),
        ),
        (
            "admin absolute".into(),
            req(
                format!("GET http://{admin}/stats.json HTTP/1.1"),
                &[host(admin)],
                None,
            ),
        ),
        (
            "cli in body".into(),
            req(
                "POST / HTTP/1.1".into(),
                &[
                    "Host: x".into(),
                    format!("Content-Length: {}", cmd.len() + 1),
                ],
                Some(&format!("{cmd}\n")),
            ),
        ),
        (
            "cli in query".into(),
            req(
                "GET /?cmd=set%20server%20outside/o1%20state%20maint HTTP/1.1".into(),
                &["Host: x".into()],
                None,
            ),
        ),
        ("cli as request line".into(), req(cmd.into(), &[], None)),
        (
            "connect to cli".into(),
            req(format!("CONNECT {cli} HTTP/1.1"), &[host(cli)], None),
        ),
    ]);
    out
}

/// `text` with a runtime API socket on `cli`, in `global` (created when missing).
pub fn with_stats_socket(text: &str, cli: SocketAddr) -> String {
    let line = format!("    stats socket {cli} level admin\n");
    match text.find("global\n") {
        Some(i) => {
            let at = i + "global\n".len();
            format!("{}{line}{}", &text[..at], &text[at..])
        }
        None => format!("global\n{line}{text}"),
    }
}

/// One runtime API command on a TCP stats socket; the answer.
pub fn cli_command(cli: SocketAddr, cmd: &str) -> String {
    let Ok(mut s) = TcpStream::connect(cli) else {
        return String::new();
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    let _ = writeln!(s, "{cmd}");
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out
}
