//! Parity: every corpus request through router-core linked natively and through
//! the router-core WebAssembly module in wasmtime (what `wtedge --engine wasm`
//! runs): the decisions and the traces must be identical.

use std::net::{IpAddr, SocketAddr};

use local_host::engine::Engine;
use local_host::wasm_engine::{EMBEDDED_MODULE, WasmEngine, WasmRuntime};
use router_core::{HealthSnapshot, LocalTickets, RequestFacts, Trace, decide};
use wtedge_tests::corpus;

#[test]
fn native_and_wasm_engines_agree_on_every_decision_and_trace() {
    let runtime = WasmRuntime::new(EMBEDDED_MODULE).unwrap_or_else(|e| panic!("{e}"));
    let cases = corpus::load_all().unwrap_or_else(|e| panic!("corpus: {e}"));
    let mut compared = 0;
    let mut failures = Vec::new();
    for case in &cases {
        let text = case.config_text().unwrap_or_else(|e| panic!("{e}"));
        let Ok(parsed) = router_core::parse(&case.config, &text) else {
            continue; // configs router-core refuses are covered by the conformance test
        };
        let cfg = &parsed.config;
        let wasm = WasmEngine::new(&runtime, cfg.clone(), &text)
            .unwrap_or_else(|e| panic!("[{}] {e}", case.name));
        let fe = match &case.frontend {
            Some(n) => cfg.proxy_id(n),
            None => cfg.default_frontend(),
        };
        let Some(fe) = fe else {
            panic!("[{}] no frontend", case.name)
        };
        let mut health = HealthSnapshot::all_up(cfg);
        for (b, s) in case.down_servers().unwrap_or_else(|e| panic!("{e}")) {
            let id = cfg
                .server_id(&b, &s)
                .unwrap_or_else(|| panic!("no {b}/{s}"));
            health.set_down(id);
            wasm.force(id, false, 0);
        }
        let tickets = LocalTickets::new(cfg);
        let src_ip: IpAddr = case
            .src
            .as_deref()
            .unwrap_or("127.0.0.1")
            .parse()
            .unwrap_or_else(|e| panic!("{e}"));
        for (i, req) in case.request.iter().enumerate() {
            let (method, target, version) = req.parts();
            let headers = req.header_pairs();
            let facts = RequestFacts {
                method,
                target,
                version,
                headers: &headers,
                src: SocketAddr::new(src_ip, 40000),
                dst: SocketAddr::from(([127, 0, 0, 1], 8080)),
                tls: false,
            };
            let mut native_trace = Trace::new();
            let native = decide(cfg, fe, &facts, &health, &tickets, Some(&mut native_trace));
            let (via_wasm, wasm_trace) = wasm
                .decide_traced(fe, &facts)
                .unwrap_or_else(|e| panic!("[{}] #{i}: {e}", case.name));
            if format!("{native:?}") != format!("{via_wasm:?}") || native_trace != wasm_trace {
                failures.push(format!(
                    "[{}] #{} {:?}: native {native:?} {:?} / wasm {via_wasm:?} {:?}",
                    case.name,
                    i + 1,
                    req.line,
                    native_trace.render(cfg),
                    wasm_trace.render(cfg)
                ));
            }
            compared += 1;
        }
    }
    assert!(compared > 300, "only {compared} requests compared");
    assert!(
        failures.is_empty(),
        "{} difference(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
}
