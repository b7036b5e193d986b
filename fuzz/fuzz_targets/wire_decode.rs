//! router-core's wire decoding (what crosses the wasm boundary) on arbitrary bytes:
//! a request or a decision, or an error, never a panic.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

fn config() -> &'static router_core::Config {
    static CFG: OnceLock<router_core::Config> = OnceLock::new();
    CFG.get_or_init(|| {
        router_core::parse("seed.cfg", include_str!("../../tests/corpus/configs/seed2.cfg"))
            .map(|p| p.config)
            .unwrap_or_else(|e| panic!("seed config: {e}"))
    })
}

fuzz_target!(|data: &[u8]| {
    let _ = router_core::unstable::wire::decode_request(data);
    let _ = router_core::unstable::wire::decode_decision(config(), data);
});
