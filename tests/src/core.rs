//! A case through router-core, natively (no sockets).

use crate::corpus::{Case, Outcome};

/// Whether router-core's decision API exists yet.
pub const AVAILABLE: bool = false;

/// router-core's decision for every request of `case`, in order, with one fresh
/// round-robin state for the whole case.
pub fn decide_case(case: &Case) -> Result<Vec<Outcome>, String> {
    let _ = case;
    Err("router-core has no decision API yet".into())
}
