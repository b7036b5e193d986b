//! The config parser, its validation and `wtedge check --target edge`'s rules on
//! arbitrary text: an error or a config, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(parsed) = router_core::parse("fuzz.cfg", &text) {
        let _ = router_core::unstable::config::edge::check(&parsed.config);
        let _ = router_core::HeaderInterest::of(&parsed.config);
    }
});
