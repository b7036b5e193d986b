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
    pub up: bool,
}

/// The batch of `seed`: a config, then 20 to 60 requests for it, and in half the
/// batches one server changing state midway. One change at most: two changes between
/// two picks of a backend are a documented difference of round-robin (README, known
/// differences: wtedge applies them when the backend next picks).
pub fn batch(seed: u64) -> Batch {
    let mut r = Rng::new(seed);
    let config = config::generate(&mut r);
    let n = r.range(20, 60);
    let requests = (0..n)
        .map(|_| request::generate(&mut r, config.entries.len()))
        .collect();
    let change = (r.chance(50) && !config.forceable.is_empty()).then(|| {
        let (proxy, server) = r.pick(&config.forceable).clone();
        let up = config.down.contains(&(proxy.clone(), server.clone()));
        Change {
            before: r.below(n),
            proxy,
            server,
            up,
        }
    });
    Batch {
        seed,
        config,
        requests,
        change,
    }
}
