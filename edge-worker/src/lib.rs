//! # edge-worker
//!
//! Wt Edge as a Cloudflare Worker. Every request is routed by router-core with the
//! haproxy.cfg bundled at build time (`WTEDGE_CONFIG`, checked by `build.rs`);
//! server health is kept by a Durable Object ([`checks`] holds its bookkeeping).
//!
//! Natively this crate is a plain library: the bundled config, the reachability
//! rule for `wtedge check --target edge` ([`reach`]) and the platform-independent
//! pieces of the request path ([`host`]), all tested with `cargo test`. The Worker
//! itself (`src/edge/`) is compiled only for `wasm32`.

pub mod admin;
pub mod checks;
pub mod host;
pub mod passive;
pub mod placement;
pub mod reach;
pub mod websocket;

/// The bundled config's name, relative to the repository root (used in messages).
pub const CONFIG_NAME: &str = env!("WTEDGE_CONFIG_NAME");

/// The bundled haproxy.cfg, validated by router-core when the crate was built.
pub const CONFIG_TEXT: &str = include_str!(concat!(env!("OUT_DIR"), "/wtedge.cfg"));

/// The bundled config's `errorfile` pages (path as written, content), read and
/// checked when the crate was built: a Worker has no files.
pub const ERRORFILES: &[(&str, &[u8])] = include!(concat!(env!("OUT_DIR"), "/errorfiles.rs"));

/// Reads an `errorfile` page from the bundle (router-core's loader for the config).
pub fn bundled_page(path: &str) -> Result<Vec<u8>, String> {
    ERRORFILES
        .iter()
        .find(|(p, _)| *p == path)
        .map(|(_, bytes)| bytes.to_vec())
        .ok_or_else(|| "not bundled with the Worker (only the bundled config's pages are)".into())
}

#[cfg(target_arch = "wasm32")]
mod edge;

#[cfg(target_arch = "wasm32")]
pub use edge::HealthObject;

#[cfg(test)]
mod tests {
    #[test]
    fn the_bundled_config_loads_and_its_servers_are_reachable_from_the_edge() {
        let parsed = router_core::parse_with_files(
            super::CONFIG_NAME,
            super::CONFIG_TEXT,
            &super::bundled_page,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(parsed.config.default_frontend().is_some());
        // Under `cargo test` this is the default config unless WTEDGE_CONFIG says otherwise.
        if std::env::var_os("WTEDGE_CONFIG").is_none() {
            let findings = super::reach::check(&parsed.config);
            assert!(findings.is_empty(), "{findings:?}");
        }
    }

    #[test]
    fn the_test_config_loads() {
        let text = include_str!("../config/local-test.cfg");
        let parsed = router_core::parse("local-test.cfg", text).unwrap_or_else(|e| panic!("{e}"));
        assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
        let findings = super::reach::check(&parsed.config);
        // localhost: fine for wrangler dev, an error for a deployment.
        assert!(super::reach::has_errors(&findings));
    }
}
