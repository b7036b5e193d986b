//! The wasm module's `wr_route` on arbitrary bytes, as wtedge's engine calls it: the
//! module refuses what it cannot read and never traps (a trap is a panic inside it).
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use local_host::wasm_engine::{EMBEDDED_MODULE, WasmEngine, WasmRuntime};

const SEED: &str = include_str!("../../tests/corpus/configs/seed2.cfg");

fn engine() -> &'static WasmEngine {
    static E: OnceLock<WasmEngine> = OnceLock::new();
    E.get_or_init(|| {
        let runtime = WasmRuntime::new(EMBEDDED_MODULE).unwrap_or_else(|e| panic!("{e}"));
        let cfg = router_core::parse("seed.cfg", SEED)
            .unwrap_or_else(|e| panic!("{e}"))
            .config;
        WasmEngine::new(&runtime, cfg, SEED).unwrap_or_else(|e| panic!("{e}"))
    })
}

fuzz_target!(|data: &[u8]| {
    if let Err(e) = engine().route_bytes(data) {
        panic!("the module trapped on {} bytes: {e}", data.len());
    }
});
