//! ns per decision on the wiki's third config: router-core linked natively vs the
//! router-core wasm module in wasmtime, marshalling included, through the same
//! `Engine` interface the proxy calls. Run: `cargo bench -p local-host --bench engine`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use local_host::engine::{Engine, NativeEngine};
use local_host::wasm_engine::{EMBEDDED_MODULE, WasmEngine, WasmRuntime};
use router_core::RequestFacts;

fn bench(c: &mut Criterion) {
    let path = format!(
        "{}/../tests/corpus/configs/seed3.cfg",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let cfg = router_core::parse("seed3.cfg", &text)
        .unwrap_or_else(|e| panic!("{e}"))
        .config;
    let runtime = WasmRuntime::new(EMBEDDED_MODULE).unwrap_or_else(|e| panic!("{e}"));
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
    let src = "10.1.2.3:50000".parse().unwrap_or_else(|e| panic!("{e}"));
    let dst = "10.0.0.1:80".parse().unwrap_or_else(|e| panic!("{e}"));
    let headers = [
        ("Host", "www.sample.com"),
        ("User-Agent", "bench"),
        ("Accept", "*/*"),
    ];
    let req = RequestFacts {
        method: "GET",
        target: "/wt1/?wtd=wt1T03a3rAGfn1ZKEkN&request=style&page=1",
        version: "HTTP/1.1",
        headers: &headers,
        src,
        dst,
    };
    for (name, engine) in &engines {
        c.bench_function(&format!("engine/{name}/seed3-forward"), |b| {
            b.iter(|| black_box(engine.decide(fe, black_box(&req)).status()))
        });
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
