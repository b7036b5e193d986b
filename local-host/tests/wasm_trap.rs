//! A trap inside the routing module answers 500 for that request only: the next
//! request gets a fresh instance. The module here is a stand-in written in WAT
//! with router-core's ABI: `wr_route` traps on inputs of odd length and answers
//! "respond 503" otherwise.

use local_host::engine::Engine;
use local_host::wasm_engine::{TRAP_STATUS, WasmEngine, WasmRuntime};
use router_core::{Decision, RequestFacts};

const MODULE: &str = r#"
(module
  (import "wtedge" "rr_load" (func $load (param i32 i32 i32) (result i64)))
  (memory (export "memory") 2)
  ;; the decision "respond 503" with an empty trace: 2, 503 (le), no backend, 0 steps
  (data (i32.const 2048) "\02\f7\01\00\00\00\00\00")
  (func (export "wr_input") (param i32) (result i32) (i32.const 1024))
  (func (export "wr_output") (result i32) (i32.const 2048))
  (func (export "wr_load") (param i32) (result i32) (i32.const 0))
  (func (export "wr_route") (param $len i32) (result i64)
    (if (i32.and (local.get $len) (i32.const 1)) (then unreachable))
    (i64.or (i64.shl (i64.const 2048) (i64.const 32)) (i64.const 8)))
  (func (export "wr_observe") (param i32 i64 i32) (result i32) (i32.const -1))
  (func (export "wr_force") (param i32 i32 i64) (result i32) (i32.const 0))
  (func (export "wr_health") (result i32) (i32.const 0))
  (func (export "wr_next_check") (param i32) (result i64) (i64.const 1000)))
"#;

fn request(target: &str) -> RequestFacts<'_> {
    RequestFacts {
        method: "GET",
        target,
        version: "HTTP/1.1",
        headers: &[],
        src: "127.0.0.1:5000".parse().unwrap_or_else(|e| panic!("{e}")),
        dst: "127.0.0.1:80".parse().unwrap_or_else(|e| panic!("{e}")),
        tls: false,
    }
}

#[test]
fn a_trap_is_a_500_and_the_next_request_gets_a_fresh_instance() {
    let bytes = wat::parse_str(MODULE).unwrap_or_else(|e| panic!("{e}"));
    let runtime = WasmRuntime::new(&bytes).unwrap_or_else(|e| panic!("{e}"));
    let text = "frontend f\n bind :80\n default_backend b\nbackend b\n server s 127.0.0.1:9\n";
    let cfg = router_core::parse("t.cfg", text)
        .unwrap_or_else(|e| panic!("{e}"))
        .config;
    let engine = WasmEngine::new(&runtime, cfg.clone(), text).unwrap_or_else(|e| panic!("{e}"));
    let fe = cfg
        .default_frontend()
        .unwrap_or_else(|| panic!("no frontend"));
    // Find one target whose encoded request has an odd length and one even.
    let odd = request("/a");
    let even = request("/ab");
    let statuses: Vec<Option<u16>> = [&odd, &even, &odd, &even]
        .iter()
        .map(|r| engine.decide(fe, r).status())
        .collect();
    let trap = Some(TRAP_STATUS);
    let ok = Some(503);
    assert!(
        statuses == [trap, ok, trap, ok] || statuses == [ok, trap, ok, trap],
        "{statuses:?}"
    );
    assert!(matches!(engine.decide(fe, &even), Decision::Respond { .. }));
}
