//! ns per decision on the wiki's third config (and on a config with no rule, the
//! fixed cost of a call): router-core linked natively vs the router-core wasm
//! module in wasmtime, marshalling included, through the same `Engine` interface
//! the proxy calls. Run: `cargo bench -p local-host --bench engine`.

#[path = "support/fixture.rs"]
mod fixture;

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use local_host::engine::{Engine, NativeEngine};
use local_host::wasm_engine::{EMBEDDED_MODULE, WasmEngine, WasmRuntime};

fn bench(c: &mut Criterion) {
    let runtime = WasmRuntime::new(EMBEDDED_MODULE).unwrap_or_else(|e| panic!("{e}"));
    for (label, text) in [
        ("seed3", fixture::seed3()),
        ("minimal", fixture::MINIMAL.into()),
    ] {
        let cfg = router_core::parse("bench.cfg", &text)
            .unwrap_or_else(|e| panic!("{e}"))
            .config;
        let engines: [(&str, Box<dyn Engine>); 2] = [
            ("native", Box::new(NativeEngine::new(cfg.clone()))),
            (
                "wasm",
                Box::new(
                    WasmEngine::new(&runtime, cfg.clone(), &text).unwrap_or_else(|e| panic!("{e}")),
                ),
            ),
        ];
        let fe = cfg
            .default_frontend()
            .unwrap_or_else(|| panic!("no frontend"));
        fixture::with_request(|req| {
            for (name, engine) in &engines {
                c.bench_function(&format!("engine/{name}/{label}-forward"), |b| {
                    b.iter(|| black_box(engine.decide(fe, black_box(req)).status()))
                });
            }
        });
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
