//! `decide` on structured random requests against the seed configs, natively and in
//! the wasm module: both must decide the same (redirect and its location, answer
//! status, or the same backend and server), and neither may panic.
#![no_main]

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use local_host::engine::{Engine, NativeEngine};
use local_host::wasm_engine::{EMBEDDED_MODULE, WasmEngine, WasmRuntime};
use router_core::{Decision, RequestFacts};

const CONFIGS: [&str; 3] = [
    include_str!("../../tests/corpus/configs/seed1.cfg"),
    include_str!("../../tests/corpus/configs/seed2.cfg"),
    include_str!("../../tests/corpus/configs/seed3.cfg"),
];

#[derive(Arbitrary, Debug)]
struct Req {
    config: u8,
    method: String,
    target: String,
    version: u8,
    headers: Vec<(String, String)>,
    src: ([u8; 4], u16),
}

type Pair = (Arc<dyn Engine>, Arc<dyn Engine>);

fn engines() -> &'static Vec<Pair> {
    static E: OnceLock<Vec<Pair>> = OnceLock::new();
    E.get_or_init(|| {
        let runtime = WasmRuntime::new(EMBEDDED_MODULE).unwrap_or_else(|e| panic!("{e}"));
        CONFIGS
            .iter()
            .map(|text| {
                let cfg = router_core::parse("seed.cfg", text)
                    .unwrap_or_else(|e| panic!("{e}"))
                    .config;
                let native: Arc<dyn Engine> = Arc::new(NativeEngine::new(cfg.clone()));
                let wasm: Arc<dyn Engine> = Arc::new(
                    WasmEngine::new(&runtime, cfg, text).unwrap_or_else(|e| panic!("{e}")),
                );
                (native, wasm)
            })
            .collect()
    })
}

/// What must be equal: the kind, the redirect, the status, the backend and server.
fn outcome(e: &dyn Engine, d: &Decision<'_>) -> String {
    let cfg = e.config();
    match d {
        Decision::Redirect { code, location, .. } => format!("redirect {code} {location}"),
        Decision::Respond { status, backend } => {
            format!("respond {status} {:?}", backend.map(|b| &cfg.proxy(b).name))
        }
        Decision::Answer { answer, backend } => format!(
            "answer {} {:?}",
            answer.status,
            backend.map(|b| &cfg.proxy(b).name)
        ),
        Decision::Forward(f) => format!(
            "forward {}/{}",
            cfg.proxy(f.backend).name,
            cfg.server(f.server).name
        ),
    }
}

fuzz_target!(|r: Req| {
    let (native, wasm) = &engines()[usize::from(r.config) % CONFIGS.len()];
    let version = ["HTTP/1.1", "HTTP/1.0", "HTTP/2.0"][usize::from(r.version) % 3];
    let headers: Vec<(&str, &str)> = r
        .headers
        .iter()
        .take(32)
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let facts = RequestFacts {
        method: &r.method,
        target: &r.target,
        version,
        headers: &headers,
        src: SocketAddr::from((r.src.0, r.src.1)),
        dst: SocketAddr::from(([127, 0, 0, 1], 8080)),
        tls: r.version & 0x80 != 0,
    };
    let Some(fe) = native.config().default_frontend() else {
        return;
    };
    let a = native.decide(fe, &facts);
    let b = wasm.decide(fe, &facts);
    // Round-robin picks advance per engine: compare only what does not rotate.
    let (oa, ob) = (outcome(native.as_ref(), &a), outcome(wasm.as_ref(), &b));
    let balanced = |d: &Decision<'_>| matches!(d, Decision::Forward(f) if f.balanced);
    if !(balanced(&a) && balanced(&b)) {
        assert_eq!(oa, ob, "{facts:?}");
    } else {
        assert_eq!(oa.split('/').next(), ob.split('/').next(), "{facts:?}");
    }
});
