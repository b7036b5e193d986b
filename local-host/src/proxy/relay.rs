//! The forward phase's body relay: a request body to the server, a response body to
//! the client, each re-encoded in its framing (chunks, trailers) with the sans-io
//! codec in [`crate::h1`], under the idle timeouts of the two sides.
//!
//! hyper's client would normalize what HAProxy keeps as received (an absolute target
//! without a path gains a `/`, targets with `"` or `{` are refused, repeated headers are
//! regrouped, control bytes in values are refused), which the differential test showed;
//! hence this small codec.

use std::time::Duration;

use bytes::BytesMut;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::h1::chunked::{push_size, push_trailer, trailer_line};
use crate::h1::{BodyFraming, ChunkState, ChunkStep, chunk_step};

/// Why a body transfer stopped early.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// The reading side sent something that is not valid framing.
    Invalid,
    /// The reading side closed too early.
    Closed,
    /// The reading side was silent for too long.
    Timeout,
    /// The writing side failed.
    WriteFailed,
    /// The writing side took nothing for too long (a client that does not read:
    /// HAProxy's `cD`).
    WriteTimeout,
}

async fn fill<R: AsyncRead + Unpin>(
    r: &mut R,
    buf: &mut BytesMut,
    idle: Duration,
) -> Result<(), Stop> {
    if buf.capacity() - buf.len() < 4096 {
        buf.reserve(16 * 1024);
    }
    match tokio::time::timeout(idle, r.read_buf(buf)).await {
        Err(_) => Err(Stop::Timeout),
        Ok(Ok(0)) | Ok(Err(_)) => Err(Stop::Closed),
        Ok(Ok(_)) => Ok(()),
    }
}

async fn put<W: AsyncWrite + Unpin>(w: &mut W, data: &[u8], idle: Duration) -> Result<(), Stop> {
    match tokio::time::timeout(idle, w.write_all(data)).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(_)) => Err(Stop::WriteFailed),
        Err(_) => Err(Stop::WriteTimeout),
    }
}

/// How far a body transfer got: payload bytes, and where the chunk decoder stands (a
/// transfer dropped midway can be resumed, to drain the rest).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub bytes: u64,
    pub chunk: ChunkState,
}

impl Default for Progress {
    fn default() -> Self {
        Progress {
            bytes: 0,
            chunk: ChunkState::Size,
        }
    }
}

/// Copies a body from `r` (bytes in `buf` first) to `w`, re-encoding chunks.
/// `out` holds bytes to send before the body (the head), sent with the first data.
/// Returns the payload size.
#[allow(clippy::too_many_arguments)]
pub async fn relay<R, W>(
    r: &mut R,
    buf: &mut BytesMut,
    w: &mut W,
    mut out: Vec<u8>,
    framing: BodyFraming,
    read_idle: Duration,
    write_idle: Duration,
    progress: &mut Progress,
) -> Result<u64, Stop>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let flush_at = 64 * 1024;
    match framing {
        BodyFraming::None => {}
        BodyFraming::Length(mut left) => {
            // What is buffered goes out with the head in one write: one allocation.
            out.reserve((buf.len() as u64).min(left).min(flush_at as u64) as usize);
            while left > 0 {
                if buf.is_empty() {
                    if !out.is_empty() {
                        put(w, &out, write_idle).await?;
                        out.clear();
                    }
                    fill(r, buf, read_idle).await?;
                }
                let n = (buf.len() as u64).min(left) as usize;
                out.extend_from_slice(&buf[..n]);
                let _ = buf.split_to(n);
                left -= n as u64;
                progress.bytes += n as u64;
                if out.len() >= flush_at {
                    put(w, &out, write_idle).await?;
                    out.clear();
                }
            }
        }
        BodyFraming::Chunked => {
            let st = &mut progress.chunk;
            // HAProxy 2.6 forwards trailers, names in lower case.
            let mut trailers = Vec::new();
            while *st != ChunkState::Done {
                let in_trailers = *st == ChunkState::Trailers;
                match chunk_step(st, buf) {
                    ChunkStep::More => {
                        if !out.is_empty() {
                            put(w, &out, write_idle).await?;
                            out.clear();
                        }
                        fill(r, buf, read_idle).await?;
                    }
                    ChunkStep::Invalid => {
                        if !out.is_empty() {
                            let _ = put(w, &out, write_idle).await;
                        }
                        return Err(Stop::Invalid);
                    }
                    ChunkStep::Consumed { consumed, data } => {
                        if in_trailers
                            && push_trailer(&mut trailers, trailer_line(buf, consumed)).is_err()
                        {
                            if !out.is_empty() {
                                let _ = put(w, &out, write_idle).await;
                            }
                            return Err(Stop::Invalid);
                        }
                        if let Some((a, b)) = data {
                            let len = b - a;
                            push_size(&mut out, len);
                            out.extend_from_slice(&buf[a..b]);
                            out.extend_from_slice(b"\r\n");
                            progress.bytes += len as u64;
                        }
                        let _ = buf.split_to(consumed);
                        if out.len() >= flush_at {
                            put(w, &out, write_idle).await?;
                            out.clear();
                        }
                    }
                }
            }
            out.extend_from_slice(b"0\r\n");
            out.extend_from_slice(&trailers);
            out.extend_from_slice(b"\r\n");
        }
        BodyFraming::Close => loop {
            if !buf.is_empty() {
                out.extend_from_slice(buf);
                progress.bytes += buf.len() as u64;
                buf.clear();
            }
            if !out.is_empty() {
                put(w, &out, write_idle).await?;
                out.clear();
            }
            match fill(r, buf, read_idle).await {
                Ok(()) => {}
                Err(Stop::Closed) => break,
                Err(e) => return Err(e),
            }
        },
    }
    if !out.is_empty() {
        put(w, &out, write_idle).await?;
    }
    Ok(progress.bytes)
}
