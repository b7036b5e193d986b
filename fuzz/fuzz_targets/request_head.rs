//! wtedge's HTTP/1 request head parser on arbitrary bytes, then what the proxy does
//! with a head it accepted: the bytes it would send to a server.
#![no_main]

use libfuzzer_sys::fuzz_target;
use local_host::h1;

fuzz_target!(|data: &[u8]| {
    if let Ok(Some((head, used))) = h1::RequestHead::parse(data) {
        assert!(used <= data.len());
        let edits = h1::writer::Edits::default();
        let _ = h1::request_head(&head, &edits, &[], false);
        let _ = h1::request_head(&head, &edits, &[], true);
        let _ = h1::absolute_authority(head.target());
        // The proxy's entry point agrees with the copying one.
        let mut buf = bytes::BytesMut::from(data);
        let split = h1::parse_request(&mut buf).ok().flatten();
        assert_eq!(split.map(|h| h.size_hint()), Some(head.size_hint()));
        assert_eq!(buf.len(), data.len() - used);
    }
});
