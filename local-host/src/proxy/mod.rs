//! The proxy: one task per client connection, one file per phase of its work.
//!
//! - [`connection`]: a client connection's loop: read each request head (HAProxy's
//!   rules, [`crate::h1`]), keep the connection alive or close it, hand over to a tunnel.
//! - [`exchange`]: one request and its answer: the engine's decision, wtedge's own
//!   answers (redirects, rules, errors, the stats page) and the [`exchange::Exchange`]
//!   value that carries the request's timings, retries and redispatch through the
//!   phases below.
//! - [`queue`]: waiting for a server slot (`maxconn`, `maxqueue`, `timeout queue`).
//! - [`connect`]: the server connection, new or idle, with router-core's retries and
//!   redispatch.
//! - [`forward`]: sending the request, reading the response head, relaying the bodies
//!   ([`relay`]) with this crate's own sans-io HTTP/1 codec ([`crate::h1`]), not hyper's.
//! - [`tunnel`]: bytes both ways after a `101`.
//! - [`log_line`]: the access-log entry of an exchange, and the counters it updates.
//!
//! Every HAProxy rule these apply comes from router-core; the files only do I/O.

mod buffers;
mod connect;
mod connection;
mod exchange;
mod forward;
mod log_line;

pub mod pool;
mod queue;
mod quickack;
mod relay;
mod tunnel;

use std::time::Duration;

use tokio::io::AsyncWriteExt;

pub use connection::{ConnInfo, serve_connection};

/// "No timeout" stand-in: HAProxy without a timeout waits forever; a day is as good.
const FOREVER: Duration = Duration::from_secs(86_400);

fn ms(d: Duration) -> u64 {
    d.as_millis() as u64
}

/// A configured timeout, or none ([`FOREVER`]).
fn dur(v: Option<u64>) -> Duration {
    v.map_or(FOREVER, Duration::from_millis)
}

/// Writes all of `buf` within `timeout`; false when the peer failed or was too slow.
async fn write_all<W: tokio::io::AsyncWrite + Unpin>(
    wr: &mut W,
    buf: &[u8],
    timeout: Duration,
) -> bool {
    matches!(
        tokio::time::timeout(timeout, wr.write_all(buf)).await,
        Ok(Ok(()))
    )
}
