//! The generator-driven differential test's parts: seeded random configs over the
//! keywords Wt Edge supports, random requests built from their patterns plus
//! mutations, and what is compared (tests/tests/generated.rs runs them through
//! HAProxy 2.6, wtedge and router-core).
//!
//! A config's seed names it and its requests exactly: the same seed gives the same
//! bytes on any machine ([`rng::Rng`] is ours, not a crate's).

pub mod compare;
pub mod config;
pub mod native;
pub mod request;
pub mod rng;
pub mod vocab;

use rng::Rng;

/// One generated config and its requests, from `seed`.
pub struct Batch {
    pub seed: u64,
    pub config: config::GenConfig,
    pub requests: Vec<request::GenRequest>,
    /// A server whose state changes before request `before` (index in `requests`).
    pub change: Option<Change>,
}

/// A server set DOWN or UP between two requests.
#[derive(Debug, Clone)]
pub struct Change {
    pub before: usize,
    pub proxy: String,
    pub server: String,
    /// UP or DOWN (the generator only makes DOWN changes, see [`batch`]).
    pub up: bool,
}

/// The batch of `seed`: a config, then 20 to 60 requests for it, and in half the
/// batches one server going DOWN midway. Never UP: a server forced DOWN at start and
/// UP again before its backend picks is the documented round-robin difference (README,
/// known differences: wtedge applies health changes when the backend next picks, so
/// the server keeps its place; HAProxy requeues it), and the generator cannot know
/// which requests make the backend pick.
pub fn batch(seed: u64) -> Batch {
    let mut r = Rng::new(seed);
    let config = config::generate(&mut r);
    let n = r.range(20, 60);
    let requests = (0..n)
        .map(|_| request::generate(&mut r, config.entries.len()))
        .collect();
    let up: Vec<&(String, String)> = config
        .forceable
        .iter()
        .filter(|s| !config.down.contains(s))
        .collect();
    let change = (r.chance(50) && !up.is_empty()).then(|| {
        let (proxy, server) = (*r.pick(&up)).clone();
        Change {
            before: r.below(n),
            proxy,
            server,
            up: false,
        }
    });
    Batch {
        seed,
        config,
        requests,
        change,
    }
}
