//! Buffers lent to connections only while bytes move, as HAProxy's buffer pools: an
//! idle keep-alive connection or a quiet WebSocket holds none. Each serving thread
//! keeps its own free list (its connections never leave it), so taking one is a
//! `Vec::pop`, not an allocation.

use std::cell::RefCell;

use bytes::BytesMut;

/// Size of a buffer: a request head fits (HAProxy's `tune.bufsize` is 16 kB).
pub const SIZE: usize = 16 * 1024;

/// Free buffers kept per thread; more are freed.
const KEPT: usize = 256;

thread_local! {
    static FREE: RefCell<Vec<BytesMut>> = const { RefCell::new(Vec::new()) };
    /// The tunnels' scratch space: read into, written out at once, never held.
    static SCRATCH: RefCell<Box<[u8]>> = RefCell::new(vec![0u8; SIZE].into_boxed_slice());
}

/// An empty buffer with room for [`SIZE`] bytes.
pub fn take() -> BytesMut {
    FREE.with(|f| f.borrow_mut().pop())
        .unwrap_or_else(|| BytesMut::with_capacity(SIZE))
}

/// Gives a buffer back. Its content is dropped; a buffer that grew past twice
/// [`SIZE`] (a big head) or shrank is freed instead of kept.
pub fn give(mut buf: BytesMut) {
    buf.clear();
    // The request heads split off this buffer (`h1::parse_request`) are gone by
    // now: their room comes back without an allocation.
    let _ = buf.try_reclaim(SIZE);
    if !(SIZE..=2 * SIZE).contains(&buf.capacity()) {
        return;
    }
    FREE.with(|f| {
        let mut f = f.borrow_mut();
        if f.len() < KEPT {
            f.push(buf);
        }
    });
}

/// Runs `f` on this thread's scratch buffer. `f` must not await (it cannot: it is
/// not async), so no two connections see it at once.
pub fn with_scratch<R>(f: impl FnOnce(&mut [u8]) -> R) -> R {
    SCRATCH.with(|s| f(&mut s.borrow_mut()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_come_back_empty_and_oversized_ones_are_freed() {
        let mut b = take();
        b.extend_from_slice(b"GET / HTTP/1.1\r\n");
        give(b);
        let b = take();
        assert!(b.is_empty() && b.capacity() >= SIZE);
        give(BytesMut::with_capacity(10 * SIZE));
        // The oversized one was not kept: the next is the ordinary one or a new one.
        assert!(take().capacity() <= 2 * SIZE);
        // A buffer a head was split off comes back whole once the head is dropped.
        let mut b = take();
        b.extend_from_slice(b"GET / HTTP/1.1\r\n\r\n");
        let head = b.split_to(18).freeze();
        drop(head);
        give(b);
        assert!(take().capacity() >= SIZE);
    }
}
