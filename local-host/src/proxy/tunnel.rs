//! The tunnel phase: after a `101`, bytes both ways until either side closes or the
//! tunnel idles out (`timeout tunnel`); the exchange's log line is written then.

use std::sync::atomic::AtomicU64;
use std::time::Duration;

use bytes::BytesMut;
use router_core::model::{ProxyId, ServerId};
use router_core::unstable::termination::{Cause, Phase, Termination};
use tokio::net::TcpStream;

use super::buffers;
use super::log_line::Timings;
use super::ms;
use crate::engine::ServedGuard;
use crate::state::counters::{add, get};
use crate::state::now_ms;

/// The log line of a tunnelled exchange (101), written when the tunnel ends, as HAProxy
/// 2.6 does: Ta then covers the tunnel and the bytes include what the server sent
/// through it.
pub(super) struct TunnelLog {
    /// The tunnel counts as a stream of its server until it closes (leastconn).
    pub(super) _served: Option<ServedGuard>,
    pub(super) backend_id: ProxyId,
    pub(super) server_id: ServerId,
    pub(super) backend: String,
    pub(super) server: String,
    pub(super) times: Timings,
    pub(super) status: u16,
    /// HAProxy's `%B` of the `101` head.
    pub(super) head_bytes: u64,
}

/// After a `101`: bytes both ways, no framing work, until either side closes or nothing
/// moves for `idle` (`timeout tunnel`). Closing either side closes the other. Returns the
/// bytes the server sent through the tunnel and HAProxy 2.6's termination state: `cD`
/// when it ended idle, `CD` when the client's side failed (a reset), `--` for a close.
///
/// A quiet tunnel holds no buffer: each direction waits for readiness, reads into the
/// thread's scratch buffer and writes at once; only bytes the other side cannot take
/// yet are kept, until it can.
pub(super) async fn tunnel(
    client: TcpStream,
    client_left: BytesMut,
    server: TcpStream,
    server_left: BytesMut,
    idle: Duration,
) -> (u64, Termination) {
    let sent = AtomicU64::new(server_left.len() as u64);
    let last = AtomicU64::new(now_ms());
    if send_all(&server, &client_left).await.is_err()
        || send_all(&client, &server_left).await.is_err()
    {
        return (0, Termination::NORMAL);
    }
    drop((client_left, server_left));
    let c2s = pump(&client, &server, &last, None);
    let s2c = pump(&server, &client, &last, Some(&sent));
    let watchdog = async {
        loop {
            let since = now_ms().saturating_sub(get(&last));
            let left = ms(idle).saturating_sub(since);
            if left == 0 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(left)).await;
        }
    };
    let client_failed = Termination::new(Cause::ClientClosed, Phase::Data);
    let term = tokio::select! {
        end = c2s => if end == PumpEnd::ReadFailed { client_failed } else { Termination::NORMAL },
        end = s2c => if end == PumpEnd::WriteFailed { client_failed } else { Termination::NORMAL },
        _ = watchdog => Termination::new(Cause::ClientTimeout, Phase::Data),
    };
    (get(&sent), term)
}

/// How one direction of a tunnel ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PumpEnd {
    /// The reading side closed (FIN).
    Closed,
    /// Reading failed (a reset).
    ReadFailed,
    /// Writing failed (the other side reset).
    WriteFailed,
}

/// Writes all of `buf` to a shared stream, waiting whenever its socket is full.
async fn send_all(to: &TcpStream, mut buf: &[u8]) -> std::io::Result<()> {
    while !buf.is_empty() {
        to.writable().await?;
        match to.try_write(buf) {
            Ok(n) => buf = &buf[n..],
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// One direction of a tunnel, until `from` closes or fails; then `to`'s write side
/// is shut.
async fn pump(
    from: &TcpStream,
    to: &TcpStream,
    last: &AtomicU64,
    sent: Option<&AtomicU64>,
) -> PumpEnd {
    let mut pending: Vec<u8> = Vec::new();
    let end = loop {
        if from.readable().await.is_err() {
            break PumpEnd::ReadFailed;
        }
        let read = buffers::with_scratch(|buf| match from.try_read(buf) {
            Ok(0) => Err(PumpEnd::Closed),
            Ok(n) => {
                let m = match to.try_write(&buf[..n]) {
                    Ok(m) => m,
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => 0,
                    Err(_) => return Err(PumpEnd::WriteFailed),
                };
                pending.extend_from_slice(&buf[m..n]);
                Ok(n)
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => Ok(0),
            Err(_) => Err(PumpEnd::ReadFailed),
        });
        let n = match read {
            Ok(n) => n,
            Err(end) => break end,
        };
        if n == 0 {
            continue;
        }
        last.store(now_ms(), std::sync::atomic::Ordering::Relaxed);
        if !pending.is_empty() {
            if send_all(to, &pending).await.is_err() {
                break PumpEnd::WriteFailed;
            }
            // Free what a slow reader made us keep.
            pending = Vec::new();
        }
        if let Some(s) = sent {
            add(s, n as u64);
        }
    };
    let _ = socket2::SockRef::from(to).shutdown(std::net::Shutdown::Write);
    end
}
