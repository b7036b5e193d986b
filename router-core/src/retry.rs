//! What to do after a connection to the chosen server failed, as HAProxy 2.6's
//! `back_handle_st_cer()`: with `option redispatch`, go to another server on
//! the last retry, or at once when the server is now DOWN or was a round-robin
//! pick among several active servers; wait the turn-around delay (the host's
//! min(`timeout connect`, 1 s)) unless redispatching among several servers.

use crate::config::model::{Config, ServerId};
use crate::decision::Forward;

/// The host's next step after a failed connection attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RetryPlan {
    /// Ask [`crate::redispatch`] for another server before the next attempt.
    pub(crate) redispatch: bool,
    /// Sleep the turn-around delay before the next attempt.
    pub(crate) wait: bool,
}

/// HAProxy's turn-around before a retry on the same server: min(`timeout connect`,
/// 1 s) (`back_handle_st_cer`).
pub(crate) fn turnaround_ms(timeout_connect: Option<u64>) -> u64 {
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
pub(crate) fn after_connect_failure(
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

/// The connection attempts of one request, as HAProxy 2.6 counts them: the host
/// asks what to do after each failed connection and performs it (sleep, ask
/// [`crate::redispatch`] for another server, connect again, or answer). Both hosts
/// run this one machine, so that their retries, waits and redispatches agree.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Attempts {
    retries: u32,
    redispatched: bool,
}

/// What the host does after a failed connection attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum NextAttempt {
    /// Connect again after `wait_ms` (0: at once); with `redispatch`, first ask
    /// [`crate::redispatch`] for a server (and call [`Attempts::redispatched_to`]).
    Retry {
        /// The turn-around delay to sleep before connecting (0: none).
        wait_ms: u64,
        /// Ask for another server before connecting.
        redispatch: bool,
    },
    /// No attempt left: answer HAProxy's 503, logged with the termination state
    /// `SC` (server side, connection phase).
    GiveUp {
        /// The status to answer (503).
        status: u16,
    },
}

impl Attempts {
    /// No attempt failed yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// The retries done so far (HAProxy's `%rc` without the `+` of a redispatch).
    pub fn retries(&self) -> u32 {
        self.retries
    }

    /// Whether the request went to another server than the first one chosen (the
    /// `+` before `%rc` in HAProxy's log, the server's `wredis` counter).
    pub fn was_redispatched(&self) -> bool {
        self.redispatched
    }

    /// Records where a redispatch (asked for by [`NextAttempt::Retry`], or by a full
    /// server queue) sent the request.
    pub fn redispatched_to(&mut self, from: ServerId, to: ServerId) {
        self.redispatched |= from != to;
    }

    /// The connection to `failed.server` failed. `replayable` says whether the host
    /// can send the request again (the Worker cannot replay a request body it
    /// streamed to the runtime's `fetch`; wtedge always can, since it connects before
    /// it reads the body); `is_up` gives a server's current state (with `track`).
    pub fn connect_failed(
        &mut self,
        cfg: &Config,
        failed: &Forward<'_>,
        replayable: bool,
        is_up: impl Fn(ServerId) -> bool,
    ) -> NextAttempt {
        let be = cfg.proxy(failed.backend);
        if !replayable || self.retries >= be.settings.retries {
            return NextAttempt::GiveUp { status: 503 };
        }
        self.retries += 1;
        let plan = after_connect_failure(cfg, failed, self.retries, is_up);
        NextAttempt::Retry {
            wait_ms: if plan.wait {
                turnaround_ms(be.settings.timeouts.connect)
            } else {
                0
            },
            redispatch: plan.redispatch,
        }
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
        let f = forward(&cfg, path);
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

    /// The decision for a GET of `path` from the first frontend, all servers UP.
    fn forward<'c>(cfg: &'c Config, path: &'c str) -> Forward<'c> {
        let req = RequestFacts {
            method: "GET",
            target: path,
            version: "HTTP/1.1",
            headers: &[],
            src: "10.0.0.1:1".parse().unwrap_or_else(|_| panic!()),
            dst: "10.0.0.2:80".parse().unwrap_or_else(|_| panic!()),
            tls: false,
        };
        let health = HealthSnapshot::all_up(cfg);
        match decide(
            cfg,
            crate::ProxyId(0),
            &req,
            &health,
            &LocalTickets::new(cfg),
            None,
        ) {
            Decision::Forward(f) => f,
            d => panic!("{d:?}"),
        }
    }

    #[test]
    fn attempts_follow_haproxys_count_wait_and_redispatch() {
        // retries 3, timeout connect 300 ms: three retries on the use-server pick, the
        // first two after the turn-around (min(connect, 1 s)), the last one redispatched
        // at once; then a 503.
        let text = CFG.replace(" retries 3\n", " retries 3\n timeout connect 300ms\n");
        let cfg = parse("t.cfg", &text)
            .unwrap_or_else(|e| panic!("{e}"))
            .config;
        let f = forward(&cfg, "/pin");
        let mut a = Attempts::new();
        let up = |_| true;
        let steps: alloc::vec::Vec<NextAttempt> = (0..4)
            .map(|_| a.connect_failed(&cfg, &f, true, up))
            .collect();
        assert_eq!(
            steps,
            [
                NextAttempt::Retry {
                    wait_ms: 300,
                    redispatch: false
                },
                NextAttempt::Retry {
                    wait_ms: 300,
                    redispatch: false
                },
                NextAttempt::Retry {
                    wait_ms: 0,
                    redispatch: true
                },
                NextAttempt::GiveUp { status: 503 },
            ]
        );
        assert_eq!(a.retries(), 3);
        assert!(!a.was_redispatched());
        a.redispatched_to(f.server, f.server);
        assert!(
            !a.was_redispatched(),
            "the same server again is no redispatch"
        );
        let other = cfg.server_id("b", "s2").unwrap_or_else(|| panic!());
        a.redispatched_to(f.server, other);
        assert!(a.was_redispatched());
    }

    #[test]
    fn attempts_without_timeout_connect_wait_one_second_and_a_stream_is_never_replayed() {
        let cfg = parse("t.cfg", CFG).unwrap_or_else(|e| panic!("{e}")).config;
        let f = forward(&cfg, "/pin");
        let mut a = Attempts::new();
        assert_eq!(
            a.connect_failed(&cfg, &f, true, |_| true),
            NextAttempt::Retry {
                wait_ms: 1000,
                redispatch: false
            }
        );
        assert_eq!(
            a.connect_failed(&cfg, &f, false, |_| true),
            NextAttempt::GiveUp { status: 503 }
        );
        assert_eq!(a.retries(), 1);
    }
}
