//! A slowloris client: the request line, then the rest of its head one byte a
//! second, never finished; it keeps its side open and returns what the proxy
//! answered before closing (or after 15 s).

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// What `addr` answered the slow client.
pub async fn slow_client(addr: SocketAddr) -> (SocketAddr, Vec<u8>) {
    let Ok(mut s) = TcpStream::connect(addr).await else {
        return (addr, b"<connect failed>".to_vec());
    };
    let _ = s.write_all(b"GET / HTTP/1.1\r\n").await;
    let (mut r, mut w) = s.into_split();
    let trickle = async move {
        for b in b"Host: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" {
            tokio::time::sleep(Duration::from_secs(1)).await;
            if w.write_all(&[*b]).await.is_err() {
                break;
            }
        }
        // The writing half stays open (no FIN) until the answer is read.
        std::future::pending::<()>().await;
        drop(w);
    };
    let mut out = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(15), r.read_to_end(&mut out));
    tokio::select! {
        _ = read => {}
        () = trickle => {}
    }
    (addr, out)
}
