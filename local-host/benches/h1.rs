//! The HTTP/1 codec per request, as the proxy runs it in server keep-alive mode: a
//! browser's request head parsed off the read buffer, the facts' header list, the
//! head written for the server; the server's response head parsed and written for
//! the client. Before criterion's timings it prints the allocations each step makes
//! (a counting global allocator), the figure issue 12 asks to bring down.
//! Run: `cargo bench -p local-host --bench h1`.

// The counting allocator below is the only unsafe code in local-host.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::BytesMut;
use criterion::{Criterion, criterion_group, criterion_main};
use local_host::h1;

/// The system allocator, counting the allocations made.
struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

// SAFETY: every call goes to `System` unchanged; only a counter is added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller's contract is passed on as it is.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// What Firefox sends for a Wt page's follow-up request.
const REQUEST: &[u8] = b"GET /wt1/?wtd=wt1T03a3rAGfn1ZKEkN&request=style&page=1 HTTP/1.1\r\n\
Host: www.sample.com\r\n\
User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n\
Accept: text/css,*/*;q=0.1\r\n\
Accept-Language: en-US,en;q=0.5\r\n\
Accept-Encoding: gzip, deflate, br, zstd\r\n\
Connection: keep-alive\r\n\
Referer: http://www.sample.com/wt1/\r\n\
Cookie: JSESSIONID=0123456789abcdef; theme=dark\r\n\
Sec-Fetch-Dest: style\r\n\
Sec-Fetch-Mode: no-cors\r\n\
Sec-Fetch-Site: same-origin\r\n\r\n";

/// What nginx answers with a static page.
const RESPONSE: &[u8] = b"HTTP/1.1 200 OK\r\n\
Server: nginx/1.22.1\r\n\
Date: Thu, 03 Dec 2026 19:00:00 GMT\r\n\
Content-Type: text/html\r\n\
Content-Length: 1874\r\n\
Last-Modified: Thu, 03 Dec 2026 18:00:00 GMT\r\n\
Connection: keep-alive\r\n\
ETag: \"6750f000-752\"\r\n\
Accept-Ranges: bytes\r\n\r\n";

const APPENDED: [(&str, IpAddr); 1] =
    [("X-Forwarded-For", IpAddr::V4(std::net::Ipv4Addr::LOCALHOST))];

/// One request's codec work; returns bytes written so nothing is optimized away.
fn exchange(read: &mut BytesMut) -> usize {
    read.extend_from_slice(REQUEST);
    let Ok(Some(req)) = h1::parse_request(read) else {
        panic!("request not parsed");
    };
    let facts_headers = req.header_pairs();
    let to_server = h1::request_head(&req, &h1::writer::Edits::default(), &APPENDED, false);
    let Ok(Some((resp, _))) = h1::parse_response(RESPONSE, req.method()) else {
        panic!("response not parsed");
    };
    let (_, to_client) = h1::client_head(&resp, &req, false);
    facts_headers.len() + to_server.len() + to_client.len()
}

fn bench(c: &mut Criterion) {
    let mut read = BytesMut::with_capacity(16 * 1024);
    exchange(&mut read);
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    let rounds = 1000;
    for _ in 0..rounds {
        black_box(exchange(&mut read));
    }
    let per = (ALLOCATIONS.load(Ordering::Relaxed) - before) as f64 / f64::from(rounds);
    println!("h1 codec: {per:.1} allocations per request (head, facts' list, both heads written)");
    c.bench_function("h1/request-parse", |b| {
        b.iter(|| {
            read.extend_from_slice(REQUEST);
            black_box(
                h1::parse_request(&mut read)
                    .ok()
                    .flatten()
                    .map(|h| h.header_count()),
            )
        })
    });
    c.bench_function("h1/exchange", |b| b.iter(|| black_box(exchange(&mut read))));
}

criterion_group!(benches, bench);
criterion_main!(benches);
