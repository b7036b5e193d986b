//! Test harness shared by the integration tests.
//!
//! - [`corpus`]: the differential corpus (`tests/corpus/cases/*.toml`) and blessing.
//! - [`modernize`]: legacy/wiki config -> config HAProxy 2.6 runs, on loopback ports.
//! - [`backend`]: loopback servers that report who they are and what they received.
//! - [`client`]: a raw HTTP/1.x client.
//! - [`raw`]: the raw HTTP/1 reading kit the socket tests share.
//! - [`keepalive`]: a loopback server that keeps connections and numbers them.
//! - [`haproxy`]: a real HAProxy process, its admin socket, forced DOWN servers.
//! - [`run`]: a case against HAProxy.
//! - [`generator`]: seeded random configs and requests for the generator-driven differential test.
//! - [`core`]: a case through router-core, natively.
//! - [`drill`]: the fault drills' load client, counting origin and memory figures.
//! - [`mock_wt`]: a mock Wt origin.
//! - [`cf_origin`]: an origin answering Cloudflare's error pages (the Worker's tests).
//! - [`browser`]: headless Chromium driving a mock Wt session through a proxy.

pub mod backend;
pub mod browser;
pub mod cf_origin;
pub mod client;
pub mod core;
pub mod corpus;
pub mod drill;
pub mod generator;
pub mod haproxy;
pub mod keepalive;
pub mod mock_wt;
pub mod modernize;
pub mod raw;
pub mod run;
