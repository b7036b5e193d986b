//! Quick ACKs on client sockets. `option tcp-smart-accept` (run/listen.rs) makes
//! accepted sockets delay their ACKs so that the response carries the ACK of a request
//! that came in one piece. While more of a request is awaited, a delayed ACK would
//! hold the client's next segment back (Nagle) for up to 40 ms: HAProxy 2.6 turns
//! quick ACKs back on when a head is incomplete or a body is still to come, and so
//! does wtedge.

use tokio::net::tcp::OwnedReadHalf;

/// Turns quick ACKs back on for the socket of `rd` (Linux; elsewhere nothing).
pub(super) fn for_more(rd: &OwnedReadHalf) {
    #[cfg(target_os = "linux")]
    let _ = socket2::SockRef::from(rd.as_ref()).set_tcp_quickack(true);
    #[cfg(not(target_os = "linux"))]
    let _ = rd;
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use std::io::Write;
    use std::time::Duration;

    use bytes::BytesMut;
    use tokio::sync::watch;

    use super::super::connection::{HeadRead, read_head};

    /// A client and the server side of its connection, accepted on a listener
    /// without quick ACKs (as `option tcp-smart-accept` makes them).
    async fn connection() -> (std::net::TcpStream, tokio::net::TcpStream) {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        socket2::SockRef::from(&l).set_tcp_quickack(false).unwrap();
        let client = std::net::TcpStream::connect(l.local_addr().unwrap()).unwrap();
        let (server, _) = l.accept().unwrap();
        server.set_nonblocking(true).unwrap();
        (client, tokio::net::TcpStream::from_std(server).unwrap())
    }

    fn quick(s: &tokio::net::TcpStream) -> bool {
        socket2::SockRef::from(s).tcp_quickack().unwrap()
    }

    #[tokio::test]
    async fn a_partial_head_turns_quick_acks_back_on() {
        let (mut client, server) = connection().await;
        assert!(!quick(&server), "inherited from the listener");
        client.write_all(b"GET / HTTP/1.1\r\nHost: a\r\n").unwrap();
        let (mut rd, _wr) = server.into_split();
        let (_tx, mut stop) = watch::channel(false);
        let mut buf = BytesMut::new();
        // The kernel leaves delayed-ACK mode on its own once an ACK was held 40 ms:
        // the check comes well before that.
        let wait = Duration::from_millis(5);
        let r = read_head(&mut rd, &mut buf, wait, wait, &mut stop, true).await;
        assert!(matches!(r, HeadRead::Timeout { partial: true }));
        assert!(quick(rd.as_ref()));
    }
}
