//! The response head parser (what a server sends) on arbitrary bytes, then the head
//! wtedge would write to the client.
#![no_main]

use libfuzzer_sys::fuzz_target;
use local_host::h1;

fuzz_target!(|data: &[u8]| {
    let (method, data) = match data.split_first() {
        Some((b, rest)) if b % 2 == 0 => ("HEAD", rest),
        Some((_, rest)) => ("GET", rest),
        None => return,
    };
    if let Ok(Some((resp, used))) = h1::parse_response(data, method) {
        assert!(used <= data.len());
        let _ = resp.connection();
        let _ = h1::chunked_start_invalid(&data[used..]);
        if let Ok(Some((req, _))) = h1::RequestHead::parse(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n") {
            let _ = h1::client_head(&resp, &req, false);
            let _ = h1::client_head(&resp, &req, true);
        }
    }
});
