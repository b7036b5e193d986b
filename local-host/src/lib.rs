//! `wtedge`'s library: the thin host around router-core (listeners, proxying, health
//! checks, access log, admin endpoints). The CLI in `main.rs` calls [`run::run`].
//!
//! Every routing decision and every keyword's semantics come from router-core through
//! [`engine::Engine`]; this crate only does I/O.

pub mod access_log;
pub mod admin;
pub mod engine;
pub mod engine_choice;
mod error;
pub mod h1;
pub mod health_check;
pub mod promex;
pub mod proxy;
pub mod run;
pub mod state;
pub mod stats_page;
pub mod stats_socket;
pub mod wasm_engine;

pub use error::Error;
