//! Listening sockets for a `bind` address. As HAProxy does unless `noreuseport` is
//! set, each serving thread gets its own socket on the address (SO_REUSEPORT): the
//! kernel spreads new connections over them and no thread wakes for a connection
//! another thread takes (with one shared socket, every idle thread woke for each
//! connection: 6% fewer requests/s in close mode). With `noreuseport`, one socket
//! polled by every thread.

use std::net::{SocketAddr, TcpListener};

use socket2::{Domain, Socket, Type};

/// Pending connections a socket queues before the kernel drops SYNs (mio's default;
/// HAProxy's is the frontend's maxconn).
const BACKLOG: i32 = 1024;

/// `threads` listening sockets for `addr` (non-blocking), one per thread.
pub fn bind(addr: SocketAddr, threads: usize, reuseport: bool) -> Result<Vec<TcpListener>, String> {
    let err = |e: std::io::Error| format!("wtedge: cannot bind {addr}: {e}");
    let mut out = Vec::with_capacity(threads);
    if reuseport {
        let first = socket(addr, true).map_err(err)?;
        // Once the first is bound, the port is ours: the others join it.
        let addr = first.local_addr().map_err(err)?;
        out.push(first);
        for _ in 1..threads {
            out.push(socket(addr, true).map_err(err)?);
        }
    } else {
        let one = socket(addr, false).map_err(err)?;
        for _ in 1..threads {
            out.push(one.try_clone().map_err(err)?);
        }
        out.push(one);
    }
    Ok(out)
}

fn socket(addr: SocketAddr, reuseport: bool) -> std::io::Result<TcpListener> {
    let s = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    // As std and mio do: a restarted wtedge can bind while old connections linger.
    s.set_reuse_address(true)?;
    if reuseport {
        s.set_reuse_port(true)?;
    }
    // Accepted sockets inherit it on Linux (HAProxy sets it on each connection).
    s.set_tcp_nodelay(true)?;
    s.set_nonblocking(true)?;
    s.bind(&addr.into())?;
    s.listen(BACKLOG)?;
    Ok(s.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_socket_per_thread_on_one_port() {
        let ls = bind("127.0.0.1:0".parse().unwrap(), 3, true).unwrap();
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
            let e = bind(addr, 2, reuseport).unwrap_err();
            assert!(e.contains(&addr.to_string()), "{e}");
        }
    }

    #[test]
    fn noreuseport_shares_one_socket() {
        let ls = bind("127.0.0.1:0".parse().unwrap(), 2, false).unwrap();
        let port = ls[0].local_addr().unwrap().port();
        let _c = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        // One queue: the connection is accepted through the second descriptor as well.
        let accepted = (0..200).find_map(|_| {
            let got = ls[1].accept().ok();
            if got.is_none() {
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            got
        });
        assert!(accepted.is_some());
    }
}
