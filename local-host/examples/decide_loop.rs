//! Runs N decisions of the engine benchmark's request through one engine, for
//! instruction counts that do not depend on the machine's load:
//! `valgrind --tool=callgrind --smc-check=all target/release/examples/decide_loop wasm seed3 20000`
//! minus the same with 0; divided by N, that is instructions per decision
//! (`WTEDGE_WASM_PERFMAP=1` names the module's functions in /tmp/perf-PID.map).

#[path = "../benches/support/fixture.rs"]
mod fixture;

use std::hint::black_box;

use local_host::engine::{Engine, NativeEngine};
use local_host::wasm_engine::{EMBEDDED_MODULE, WasmEngine, WasmRuntime};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: decide_loop wasm|native seed3|minimal N";
    let [_, engine, config, n] = &args[..] else {
        return Err(usage.into());
    };
    let n: u64 = n.parse()?;
    let text = match config.as_str() {
        "seed3" => fixture::seed3(),
        "minimal" => String::from(fixture::MINIMAL),
        _ => return Err(usage.into()),
    };
    let cfg = router_core::parse("bench.cfg", &text)
        .map_err(|e| e.to_string())?
        .config;
    let engine: Box<dyn Engine> = match engine.as_str() {
        "native" => Box::new(NativeEngine::new(cfg.clone())),
        "wasm" => {
            let runtime = WasmRuntime::new(EMBEDDED_MODULE)?;
            Box::new(WasmEngine::new(&runtime, cfg.clone(), &text)?)
        }
        _ => return Err(usage.into()),
    };
    let fe = cfg.default_frontend().ok_or("no frontend")?;
    fixture::with_request(|req| {
        // One call before counting: instance creation is not per decision.
        black_box(engine.decide(fe, req).status());
        for _ in 0..n {
            black_box(engine.decide(fe, black_box(req)).status());
        }
    });
    Ok(())
}
