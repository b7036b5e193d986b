//! Request bodies streamed from the client connection to the server (no buffering of
//! whole bodies): the connection task decodes the client's framing and pushes chunks
//! into a bounded channel that hyper's client reads as the request body.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use hyper::body::{Body, Frame, SizeHint};
use tokio::io::AsyncReadExt;
use tokio::net::tcp::OwnedReadHalf;
use tokio::sync::mpsc;

use crate::h1::{ChunkState, ChunkStep, Framing, chunk_step};

/// Why a request body could not be read completely.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PumpError {
    #[error("malformed chunked body")]
    Invalid,
    #[error("client closed during the body")]
    ClientClosed,
    #[error("client timeout during the body")]
    ClientTimeout,
    #[error("server stopped reading the body")]
    Abandoned,
}

/// The request body hyper sends to the server.
pub struct ReqBody {
    rx: Option<mpsc::Receiver<Result<Bytes, PumpError>>>,
    length: Option<u64>,
}

impl ReqBody {
    pub fn empty() -> Self {
        ReqBody {
            rx: None,
            length: Some(0),
        }
    }

    /// A streamed body and the sender the connection task feeds.
    pub fn channel(framing: Framing) -> (mpsc::Sender<Result<Bytes, PumpError>>, Self) {
        let (tx, rx) = mpsc::channel(4);
        let length = match framing {
            Framing::Length(n) => Some(n),
            Framing::None => Some(0),
            Framing::Chunked => None,
        };
        (
            tx,
            ReqBody {
                rx: Some(rx),
                length,
            },
        )
    }
}

impl Body for ReqBody {
    type Data = Bytes;
    type Error = PumpError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, PumpError>>> {
        let Some(rx) = self.rx.as_mut() else {
            return Poll::Ready(None);
        };
        match rx.poll_recv(cx) {
            Poll::Ready(Some(Ok(b))) => Poll::Ready(Some(Ok(Frame::data(b)))),
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e))),
            Poll::Ready(None) => {
                self.rx = None;
                Poll::Ready(None)
            }
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.rx.is_none()
    }

    fn size_hint(&self) -> SizeHint {
        match self.length {
            Some(n) => SizeHint::with_exact(n),
            None => SizeHint::default(),
        }
    }
}

async fn fill(
    rd: &mut OwnedReadHalf,
    rbuf: &mut BytesMut,
    idle: Duration,
) -> Result<(), PumpError> {
    if rbuf.capacity() - rbuf.len() < 4096 {
        rbuf.reserve(16 * 1024);
    }
    match tokio::time::timeout(idle, rd.read_buf(rbuf)).await {
        Err(_) => Err(PumpError::ClientTimeout),
        Ok(Ok(0)) | Ok(Err(_)) => Err(PumpError::ClientClosed),
        Ok(Ok(_)) => Ok(()),
    }
}

/// Reads the body described by `framing` from the client (`rbuf` first) and sends it
/// to `tx`. Returns the number of payload bytes.
pub async fn pump(
    rd: &mut OwnedReadHalf,
    rbuf: &mut BytesMut,
    framing: Framing,
    tx: mpsc::Sender<Result<Bytes, PumpError>>,
    idle: Duration,
) -> Result<u64, PumpError> {
    let r = pump_inner(rd, rbuf, framing, &tx, idle).await;
    if let Err(e) = r {
        let _ = tx.send(Err(e)).await;
    }
    r
}

async fn pump_inner(
    rd: &mut OwnedReadHalf,
    rbuf: &mut BytesMut,
    framing: Framing,
    tx: &mpsc::Sender<Result<Bytes, PumpError>>,
    idle: Duration,
) -> Result<u64, PumpError> {
    let mut total = 0u64;
    match framing {
        Framing::None => Ok(0),
        Framing::Length(mut left) => {
            while left > 0 {
                if rbuf.is_empty() {
                    fill(rd, rbuf, idle).await?;
                }
                let n = (rbuf.len() as u64).min(left) as usize;
                let chunk = rbuf.split_to(n).freeze();
                left -= n as u64;
                total += n as u64;
                tx.send(Ok(chunk)).await.map_err(|_| PumpError::Abandoned)?;
            }
            Ok(total)
        }
        Framing::Chunked => {
            let mut st = ChunkState::Size;
            while st != ChunkState::Done {
                match chunk_step(&mut st, rbuf) {
                    ChunkStep::More => fill(rd, rbuf, idle).await?,
                    ChunkStep::Invalid => return Err(PumpError::Invalid),
                    ChunkStep::Consumed { consumed, data } => {
                        let mut used = rbuf.split_to(consumed);
                        if let Some((a, b)) = data {
                            let _ = used.split_to(a);
                            used.truncate(b - a);
                            total += used.len() as u64;
                            tx.send(Ok(used.freeze()))
                                .await
                                .map_err(|_| PumpError::Abandoned)?;
                        }
                    }
                }
            }
            Ok(total)
        }
    }
}
