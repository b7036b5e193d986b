//! The request and configurations the engine benchmark and `examples/decide_loop.rs`
//! measure (one copy, included by both with `#[path]`).

use router_core::RequestFacts;

/// A config with no rule at all: the fixed cost of one call.
pub const MINIMAL: &str =
    "frontend f\n bind :80\n default_backend b\nbackend b\n server s 10.0.0.2:80\n";

/// The wiki's third config.
pub fn seed3() -> String {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/corpus/configs/seed3.cfg"
    );
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Calls `f` with a Wt follow-up request for the wt1 server.
pub fn with_request<R>(f: impl FnOnce(&RequestFacts<'_>) -> R) -> R {
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
        src: "10.1.2.3:50000".parse().unwrap_or_else(|e| panic!("{e}")),
        dst: "10.0.0.1:80".parse().unwrap_or_else(|e| panic!("{e}")),
        tls: false,
    };
    f(&req)
}
