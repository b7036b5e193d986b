//! wtedge's HTTP/1 request head parser on arbitrary bytes, then what the proxy does
//! with a head it accepted: the bytes it would send to a server.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(Some((head, used))) = local_host::h1::parse_request(data) {
        assert!(used <= data.len());
        let _ = local_host::proxy::origin::request_head(&head, &[], false);
        let _ = local_host::proxy::origin::request_head(&head, &[], true);
        let _ = local_host::h1::absolute_authority(&head.target);
    }
});
