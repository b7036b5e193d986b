#![allow(dead_code)] // each test binary uses a part of this module
//! What the differential tests over sockets share: wtedge started beside a running
//! HAProxy, on the same config (`Haproxy::config_for_wtedge`).

use std::net::SocketAddr;
use std::time::Duration;

use local_host::access_log::Logger;
use local_host::engine_choice::EngineChoice;
use local_host::run::{Options, Running};
use wtedge_tests::haproxy::Haproxy;

/// wtedge running beside `hap` on its own runtime (two workers).
pub struct Edge {
    /// Keeps wtedge's tasks alive; dropped last.
    pub rt: tokio::runtime::Runtime,
    pub running: Running,
    /// (frontend name, wtedge address), in HAProxy's frontend order.
    pub addrs: Vec<(String, SocketAddr)>,
}

/// Starts wtedge on `hap`'s config with `logger` and `engine`. `Err`: wtedge refuses
/// the config (its message).
pub fn wtedge_beside(
    hap: &Haproxy,
    name: &str,
    logger: Logger,
    engine: EngineChoice,
    grace: Duration,
) -> Result<Edge, String> {
    // A port another process took meanwhile is a bind error: retried on new ports.
    let mut tries = 0;
    loop {
        let (text, addrs) = hap.config_for_wtedge()?;
        match wtedge_on(&text, addrs, name, logger.clone(), engine.clone(), grace) {
            Ok(edge) => return Ok(edge),
            Err(local_host::Error::Bind { .. }) if tries < 5 => tries += 1,
            Err(e) => return Err(e.to_string()),
        }
    }
}

/// Starts wtedge on `text`, whose frontends listen on `addrs`.
pub fn wtedge_on(
    text: &str,
    addrs: Vec<(String, SocketAddr)>,
    name: &str,
    logger: Logger,
    engine: EngineChoice,
    grace: Duration,
) -> Result<Edge, local_host::Error> {
    let options = Options {
        admin: None,
        logger,
        grace,
        engine,
    };
    wtedge_with(text, addrs, name, options)
}

/// Starts wtedge on `text` with `options` (an admin endpoint, say).
pub fn wtedge_with(
    text: &str,
    addrs: Vec<(String, SocketAddr)>,
    name: &str,
    options: Options,
) -> Result<Edge, local_host::Error> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("runtime: {e}"));
    let running = rt.block_on(Running::start(name, text, options))?;
    Ok(Edge { rt, running, addrs })
}

/// The Wt-safe session rules of a frontend (the README's rolling-deploy recipe):
/// `srv_is_up()` guards, which stay true while a server drains.
pub const WT_SAFE_RULES: &str = "\
    acl srv1 url_sub wtd=wt1
    acl srv2 url_sub wtd=wt2
    acl srv1_up srv_is_up(bck1/srv1)
    acl srv2_up srv_is_up(bck2/srv2)
    use_backend bck1 if srv1_up srv1
    use_backend bck2 if srv2_up srv2
    default_backend bck_lb
";

/// A loopback port where connections are refused, held (bound, not listening) by the
/// returned socket so that no other test's listener takes it meanwhile.
pub fn dead_port() -> (u16, socket2::Socket) {
    let s =
        socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).expect("socket");
    s.bind(&std::net::SocketAddr::from(([127, 0, 0, 1], 0)).into())
        .expect("bind");
    let port = s
        .local_addr()
        .ok()
        .and_then(|a| a.as_socket())
        .map(|a| a.port())
        .expect("addr");
    (port, s)
}

/// One answer of a CLI socket.
pub fn ask(socket: &std::path::Path, cmd: &str) -> Result<String, String> {
    let mut s = std::os::unix::net::UnixStream::connect(socket)
        .map_err(|e| format!("{}: {e}", socket.display()))?;
    s.set_read_timeout(Some(Duration::from_secs(5)))
        .map_err(|e| e.to_string())?;
    std::io::Write::write_all(&mut s, format!("{cmd}\n").as_bytes()).map_err(|e| e.to_string())?;
    let mut out = String::new();
    std::io::Read::read_to_string(&mut s, &mut out).map_err(|e| e.to_string())?;
    Ok(out)
}
