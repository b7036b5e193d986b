//! HTTP/1.x as HAProxy 2.6 speaks it, sans I/O: the caller reads bytes, hands them
//! to these parsers and writes what the writers return (the async relays live in
//! `proxy/`). Heads keep the bytes they were read from and `(name, value)` offsets
//! into them, not a `String` per header line (pingora's `KVRef`).
//!
//! - [`request`]: client request heads, validated as HAProxy's h1 parser does;
//! - [`authority`]: absolute-form targets and `Host`, as HAProxy compares them;
//! - [`response`]: server response heads and body framing;
//! - [`chunked`]: the chunked body decoder;
//! - [`writer`]: the heads wtedge writes (to the server, to the client, its own
//!   answers); [`errors`]: HAProxy's error answers.

pub mod authority;
pub mod chunked;
pub mod errors;
pub mod request;
pub mod response;
pub mod writer;

pub use authority::{Absolute, absolute_authority};
pub use chunked::{ChunkState, ChunkStep, chunk_step, chunked_start_invalid};
pub use request::{HeadError, RequestHead, parse_request};
pub use response::{
    BadResponse, BodyFraming, ResponseHead, is_tunnel, parse_response, request_framing,
};
pub use writer::{client_head, connection_kept, redirect, request_head, returned};

/// Largest head HAProxy 2.6 accepts (in the cost model of [`request`]).
pub const MAX_HEAD_COST: usize = 15275;
/// Most header lines HAProxy 2.6 accepts.
pub const MAX_HEADERS: usize = 100;
/// Bytes read without finding the end of the head before answering 400.
pub const MAX_HEAD_BYTES: usize = 16384;

/// The request's HTTP version as HAProxy 2.6 speaks it back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    Http10,
    Http11,
}

impl Version {
    pub fn as_str(self) -> &'static str {
        match self {
            Version::Http10 => "HTTP/1.0",
            Version::Http11 => "HTTP/1.1",
        }
    }
}

/// How the request body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    None,
    Length(u64),
    Chunked,
}

/// `[start, end)` of a piece of a head, in its bytes (`u32`: a head is < 64 kB;
/// half the size of a `Range<usize>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Span {
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Span {
        // Heads are bounded by MAX_HEAD_BYTES (and a response by its own limit),
        // far below u32::MAX.
        Span {
            start: u32::try_from(start).unwrap_or(u32::MAX),
            end: u32::try_from(end).unwrap_or(u32::MAX),
        }
    }

    pub fn len(self) -> usize {
        self.end.saturating_sub(self.start) as usize
    }

    /// The bytes of `self` in `buf` (empty if out of range: never, by construction).
    pub fn of(self, buf: &[u8]) -> &[u8] {
        buf.get(self.start as usize..self.end as usize)
            .unwrap_or_default()
    }
}
