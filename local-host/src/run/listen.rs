//! Listening sockets for a `bind` address. As HAProxy does unless `noreuseport` is
//! set, each serving thread gets its own socket on the address (SO_REUSEPORT): the
//! kernel spreads new connections over them and no thread wakes for a connection
//! another thread takes (with one shared socket, every idle thread woke for each
//! connection: 6% fewer requests/s in close mode). With `noreuseport`, one socket
//! polled by every thread.
//!
//! `option tcp-smart-accept` (on by default in HTTP mode) is HAProxy's TCP_QUICKACK
//! off on the listening socket: accepted sockets inherit it, and the ACK of a request
//! that arrives in one piece rides on the response (one packet less per request;
//! 1.6% more requests/s in close mode). The proxy turns quick ACKs back on when it
//! waits for more of a request (`proxy/quickack.rs`), as HAProxy does.

use std::net::{SocketAddr, TcpListener};

use socket2::{Domain, Socket, Type};

/// How the sockets of one `bind` address are made.
#[derive(Debug, Clone, Copy)]
pub struct Setup {
    /// Serving threads: one socket each with `reuseport`, else one shared.
    pub threads: usize,
    /// SO_REUSEPORT (HAProxy's default; global `noreuseport` turns it off).
    pub reuseport: bool,
    /// The frontend's `option tcp-smart-accept` (default on).
    pub smart_accept: bool,
    /// Pending connections each socket queues before the kernel drops SYNs
    /// (router-core's `Config::listen_backlog`, HAProxy's rule).
    pub backlog: u32,
}

/// `setup.threads` listening sockets for `addr` (non-blocking), one per thread.
pub fn bind(addr: SocketAddr, setup: Setup) -> std::io::Result<Vec<TcpListener>> {
    let mut out = Vec::with_capacity(setup.threads);
    if setup.reuseport {
        let first = socket(addr, setup)?;
        // Once the first is bound, the port is ours: the others join it.
        let addr = first.local_addr()?;
        out.push(first);
        for _ in 1..setup.threads {
            out.push(socket(addr, setup)?);
        }
    } else {
        let one = socket(addr, setup)?;
        for _ in 1..setup.threads {
            out.push(one.try_clone()?);
        }
        out.push(one);
    }
    Ok(out)
}

/// What to do about a `bind` that cannot listen, for the error message.
pub fn hint(e: &std::io::Error) -> &'static str {
    use std::io::ErrorKind as E;
    match e.kind() {
        E::AddrInUse => "another process listens on this port: stop it or change the bind",
        E::PermissionDenied => {
            "ports below 1024 need root or CAP_NET_BIND_SERVICE: use a port above 1023"
        }
        E::AddrNotAvailable => "this machine has no such address: bind one of its addresses or `*`",
        _ => "check the bind's address and port",
    }
}

fn socket(addr: SocketAddr, setup: Setup) -> std::io::Result<TcpListener> {
    let s = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    // As std and mio do: a restarted wtedge can bind while old connections linger.
    s.set_reuse_address(true)?;
    if setup.reuseport {
        s.set_reuse_port(true)?;
    }
    // Accepted sockets inherit it on Linux (HAProxy sets it on each connection).
    s.set_tcp_nodelay(true)?;
    s.set_nonblocking(true)?;
    s.bind(&addr.into())?;
    s.listen(i32::try_from(setup.backlog).unwrap_or(i32::MAX))?;
    // After listen(), as HAProxy does; inherited by accepted sockets on Linux.
    #[cfg(target_os = "linux")]
    if setup.smart_accept {
        s.set_tcp_quickack(false)?;
    }
    Ok(s.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup(threads: usize, reuseport: bool) -> Setup {
        Setup {
            threads,
            reuseport,
            smart_accept: true,
            backlog: 1024,
        }
    }

    #[test]
    fn one_socket_per_thread_on_one_port() {
        let ls = bind("127.0.0.1:0".parse().unwrap(), setup(3, true)).unwrap();
        assert_eq!(ls.len(), 3);
        let port = ls[0].local_addr().unwrap().port();
        assert!(ls.iter().all(|l| l.local_addr().unwrap().port() == port));
        // Connections reach the sockets' queues (whichever the kernel picks).
        let _c = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        let accepted = (0..200).find_map(|_| {
            let got = ls.iter().find_map(|l| l.accept().ok());
            if got.is_none() {
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            got
        });
        let (conn, _) = accepted.expect("no socket accepted the connection");
        // The proxy relies on this instead of a setsockopt per connection.
        if cfg!(target_os = "linux") {
            assert!(
                conn.nodelay().unwrap(),
                "TCP_NODELAY inherited from the listener"
            );
        }
    }

    #[test]
    fn a_port_held_without_reuseport_is_refused() {
        let held = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = held.local_addr().unwrap();
        for reuseport in [true, false] {
            let e = bind(addr, setup(2, reuseport)).unwrap_err();
            assert_eq!(e.kind(), std::io::ErrorKind::AddrInUse);
            assert!(hint(&e).contains("another process"), "{e}");
        }
    }

    #[test]
    fn noreuseport_shares_one_socket() {
        let ls = bind("127.0.0.1:0".parse().unwrap(), setup(2, false)).unwrap();
        let port = ls[0].local_addr().unwrap().port();
        let _c = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        // One queue: the connection is accepted through the second descriptor as well.
        accept_one(&ls[1]);
    }

    /// Accepts one connection from `l` (non-blocking), waiting up to a second.
    fn accept_one(l: &TcpListener) -> std::net::TcpStream {
        let got = (0..200).find_map(|_| {
            let got = l.accept().ok();
            if got.is_none() {
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            got
        });
        got.expect("no connection accepted").0
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn smart_accept_leaves_accepted_sockets_without_quick_acks() {
        for smart_accept in [true, false] {
            let ls = bind(
                "127.0.0.1:0".parse().unwrap(),
                Setup {
                    threads: 1,
                    reuseport: true,
                    smart_accept,
                    backlog: 1024,
                },
            )
            .unwrap();
            let _c = std::net::TcpStream::connect(ls[0].local_addr().unwrap()).unwrap();
            let conn = accept_one(&ls[0]);
            // getsockopt(TCP_QUICKACK) is 0 while the socket delays its ACKs.
            let quick = socket2::SockRef::from(&conn).tcp_quickack().unwrap();
            assert_eq!(quick, !smart_accept, "smart_accept {smart_accept}");
        }
    }
}
