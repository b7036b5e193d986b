//! What to do after a connection to the chosen server failed, as HAProxy 2.6's
//! `back_handle_st_cer()`: with `option redispatch`, go to another server on
//! the last retry, or at once when the server is now DOWN or was a round-robin
//! pick among several active servers; wait the turn-around delay (the host's
//! min(`timeout connect`, 1 s)) unless redispatching among several servers.

use crate::config::model::{Config, ServerId};
use crate::decision::Forward;

/// The host's next step after a failed connection attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPlan {
    /// Ask [`crate::redispatch`] for another server before the next attempt.
    pub redispatch: bool,
    /// Sleep the turn-around delay before the next attempt.
    pub wait: bool,
}

/// HAProxy's turn-around before a retry on the same server: min(`timeout connect`,
/// 1 s) (`back_handle_st_cer`).
pub fn turnaround_ms(timeout_connect: Option<u64>) -> u64 {
    timeout_connect.unwrap_or(1000).min(1000)
}

/// Whether a server's queue is full: it has `maxqueue` and that many requests wait.
pub fn server_queue_full(cfg: &Config, server: ServerId, queued: u64) -> bool {
    cfg.server(server)
        .params
        .maxqueue
        .is_some_and(|m| m > 0 && queued >= u64::from(m))
}

/// What becomes of a request for a server whose queue is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FullQueue {
    /// Balance it over the backend (`option redispatch`).
    Redispatch,
    /// Answer 503, logged `SQ` (a queue error, before any wait).
    Refuse,
}

/// HAProxy 2.6's `srv_redispatch_connect` on `SRV_STATUS_FULL`: a request sent to its
/// server by `use-server` (not balanced) goes to another server with `option
/// redispatch`, else it is refused. (A balanced pick never lands on a full server's
/// queue in HAProxy; it waits in the backend's queue, which has no `maxqueue`.)
pub fn on_full_queue(cfg: &Config, fwd: &Forward<'_>) -> FullQueue {
    if !fwd.balanced && cfg.proxy(fwd.backend).settings.options.redispatch {
        FullQueue::Redispatch
    } else {
        FullQueue::Refuse
    }
}

/// Plans the next attempt. `retry` counts attempts after the first (1 for the
/// first retry); `is_up` tells a server's current state (following `track`).
pub fn after_connect_failure(
    cfg: &Config,
    failed: &Forward<'_>,
    retry: u32,
    is_up: impl Fn(ServerId) -> bool,
) -> RetryPlan {
    let be = cfg.proxy(failed.backend);
    let active_up = be
        .servers
        .iter()
        .filter(|&&s| !cfg.server(s).params.backup && is_up(s))
        .count();
    let redispatch = be.settings.options.redispatch
        && (retry >= be.settings.retries
            || !is_up(failed.server)
            || (failed.balanced && active_up > 1));
    RetryPlan {
        redispatch,
        wait: !redispatch || active_up <= 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Decision, HealthSnapshot, LocalTickets, RequestFacts, decide, parse};

    fn plan(cfg_text: &str, path: &str, retry: u32, down: &[&str]) -> RetryPlan {
        let cfg = parse("t.cfg", cfg_text)
            .unwrap_or_else(|e| panic!("{e}"))
            .config;
        let req = RequestFacts {
            method: "GET",
            target: path,
            version: "HTTP/1.1",
            headers: &[],
            src: "10.0.0.1:1".parse().unwrap_or_else(|_| panic!()),
            dst: "10.0.0.2:80".parse().unwrap_or_else(|_| panic!()),
            tls: false,
        };
        let health = HealthSnapshot::all_up(&cfg);
        let d = decide(
            &cfg,
            crate::ProxyId(0),
            &req,
            &health,
            &LocalTickets::new(&cfg),
            None,
        );
        let Decision::Forward(f) = d else {
            panic!("{d:?}")
        };
        let down: alloc::vec::Vec<ServerId> =
            down.iter().filter_map(|s| cfg.server_id("b", s)).collect();
        after_connect_failure(&cfg, &f, retry, |s| !down.contains(&s))
    }

    const CFG: &str = "frontend f\n bind :80\n default_backend b\nbackend b\n option redispatch\n retries 3\n\
                       use-server s1 if { path /pin }\n server s1 10.0.0.1:80 check\n server s2 10.0.0.2:80 check\n";

    #[test]
    fn round_robin_picks_redispatch_at_once() {
        assert_eq!(
            plan(CFG, "/", 1, &[]),
            RetryPlan {
                redispatch: true,
                wait: false
            }
        );
    }

    #[test]
    fn use_server_picks_retry_the_same_server_until_the_last_retry() {
        assert_eq!(
            plan(CFG, "/pin", 1, &[]),
            RetryPlan {
                redispatch: false,
                wait: true
            }
        );
        assert_eq!(
            plan(CFG, "/pin", 3, &[]),
            RetryPlan {
                redispatch: true,
                wait: false
            }
        );
        assert_eq!(
            plan(CFG, "/pin", 1, &["s1"]),
            RetryPlan {
                redispatch: true,
                wait: true
            },
            "DOWN: at once; one active left: wait"
        );
    }

    #[test]
    fn without_option_redispatch_never() {
        let cfg = CFG.replace(" option redispatch\n", "");
        assert_eq!(
            plan(&cfg, "/", 3, &[]),
            RetryPlan {
                redispatch: false,
                wait: true
            }
        );
    }
}
