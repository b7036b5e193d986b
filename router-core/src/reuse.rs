//! Idle server connections, as HAProxy 2.6 keeps and reuses them (`http-reuse`,
//! `pool-max-conn`, `pool-purge-delay`, `pool-low-conn`): which idle connections a
//! request may take, whether a connection that finished an exchange stays idle, and
//! how many idle connections each purge closes. The host owns the sockets and asks.
//!
//! HAProxy keeps two lists per server: *idle* connections, which served one request,
//! and *safe* ones, which served more (the server has shown that it keeps connections
//! open). Its idle lists are per thread; this model is one thread's (`nbthread 1`
//! matches HAProxy exactly; with more threads the host takes over another thread's
//! connection when its own has none, as HAProxy does).

use crate::config::model::{HttpMode, HttpReuse, Proxy, ServerParams};

/// An idle connection's list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdleList {
    /// Served one request.
    Idle,
    /// Served more than one request.
    Safe,
}

/// Where a request may look for an idle connection, in order (backend.c's
/// `connect_server`): none for a client connection's first request under `safe`;
/// safe connections for a first request under `aggressive`, then idle ones under
/// `always`; idle then safe for a later request.
pub fn lists_for(mode: HttpReuse, first_request: bool) -> &'static [IdleList] {
    match (mode, first_request) {
        (HttpReuse::Never, _) | (HttpReuse::Safe, true) => &[],
        (HttpReuse::Aggressive, true) => &[IdleList::Safe],
        (HttpReuse::Always, true) => &[IdleList::Safe, IdleList::Idle],
        (_, false) => &[IdleList::Idle, IdleList::Safe],
    }
}

/// Whether the server side of an exchange closes after the response: `option
/// http-server-close` or `httpclose` in the frontend or the backend, or a chunked
/// HTTP/1.0 request (HAProxy 2.6.12 announces no keep-alive for one: seen on the wire).
pub fn server_side_closes(frontend: &Proxy, backend: &Proxy, chunked_http10: bool) -> bool {
    chunked_http10
        || frontend.settings.options.http_mode.closes_server()
        || backend.settings.options.http_mode.closes_server()
}

/// Whether the client connection closes after a response that did not say
/// `Connection: keep-alive`: the frontend's `option httpclose`.
pub fn client_side_closes(frontend: &Proxy, response_says_keep_alive: bool) -> bool {
    frontend.settings.options.http_mode == HttpMode::Close && !response_says_keep_alive
}

/// What the server's response says about its connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResponseConn {
    /// The response is HTTP/1.1 or later.
    pub version_11: bool,
    /// `Connection: close`.
    pub close: bool,
    /// `Connection: keep-alive`.
    pub keep_alive: bool,
    /// The body's end is known without the server closing (length, chunks, none).
    pub length_known: bool,
}

impl ResponseConn {
    /// Whether the server keeps the connection open after this response (mux_h1.c's
    /// `h1_set_srv_conn_mode`): a known length, no `close`, and 1.1 or an explicit
    /// keep-alive.
    pub fn server_keeps(&self) -> bool {
        self.length_known && !self.close && (self.version_11 || self.keep_alive)
    }
}

/// Whether a request may go again on a new connection after a reused one closed
/// before any answer: its method is idempotent (RFC 9110 9.2.2), so sending it twice
/// cannot do twice what the user asked.
pub fn may_send_again(method: &str) -> bool {
    ["GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"]
        .iter()
        .any(|m| m.eq_ignore_ascii_case(method))
}

/// A server's connection counts, kept by the host under one lock per server.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PoolCounts {
    /// Connections serving a request now.
    pub used: u32,
    /// Idle connections, both lists.
    pub idle: u32,
    /// Idle connections in the idle list.
    pub idle_nb: u32,
    /// Idle connections in the safe list.
    pub safe_nb: u32,
    /// Most connections used at once since the last purge.
    pub max_used: u32,
    /// HAProxy's estimate of the connections needed: raised as soon as more are
    /// used at once (`srv_use_conn`), recomputed at each purge.
    pub est_need: u32,
}

impl PoolCounts {
    /// A connection starts serving a request (new or taken from a list).
    pub fn start_use(&mut self) {
        self.used += 1;
        self.max_used = self.max_used.max(self.used);
        // HAProxy 2.6's `srv_use_conn` (server.h) raises the estimate at once, so
        // that connections used together can all go idle before the first purge.
        self.est_need = self.est_need.max(self.used);
    }

    /// A connection in use closes.
    pub fn end_use(&mut self) {
        self.used = self.used.saturating_sub(1);
    }

    /// A connection leaves `list` to serve a request.
    pub fn take(&mut self, list: IdleList) {
        self.leave(list);
        self.start_use();
    }

    /// An idle connection in `list` closed (the server closed it, or a purge).
    pub fn leave(&mut self, list: IdleList) {
        self.idle = self.idle.saturating_sub(1);
        match list {
            IdleList::Idle => self.idle_nb = self.idle_nb.saturating_sub(1),
            IdleList::Safe => self.safe_nb = self.safe_nb.saturating_sub(1),
        }
    }

    /// Whether a connection that served `served` requests and just finished one may
    /// stay idle, and in which list (server.c's `srv_add_to_idle_list`): there is room
    /// under `pool-max-conn`, and either this list (and for an idle one, the safe
    /// list too) is empty, or the connections would not exceed the estimated need
    /// plus `pool-low-conn`. On `Some`, the counts already moved it there.
    pub fn park(&mut self, p: &ServerParams, served: u32) -> Option<IdleList> {
        let list = if served > 1 {
            IdleList::Safe
        } else {
            IdleList::Idle
        };
        let room = p.pool_purge_delay > 0 && p.pool_max_conn.is_none_or(|m| m > self.idle);
        let lists_empty = self.safe_nb == 0 && (list == IdleList::Safe || self.idle_nb == 0);
        let within_need =
            self.used + self.idle <= self.used.max(self.est_need).saturating_add(p.pool_low_conn);
        if !(room && (lists_empty || within_need)) {
            return None;
        }
        self.used = self.used.saturating_sub(1);
        self.idle += 1;
        match list {
            IdleList::Idle => self.idle_nb += 1,
            IdleList::Safe => self.safe_nb += 1,
        }
        Some(list)
    }

    /// A purge, every `pool-purge-delay` while connections are idle
    /// (`srv_cleanup_idle_conns`): closes half (rounded up) of the connections above
    /// the need, idle list first, oldest first. Returns how many to close; the host
    /// closes them and calls [`PoolCounts::leave`] for each.
    pub fn purge(&mut self) -> u32 {
        if self.idle == 0 {
            return 0;
        }
        let exceed = i64::from(self.used) + i64::from(self.idle)
            - i64::from(self.max_used.max(self.est_need));
        let to_kill = exceed / 2 + (exceed & 1);
        self.est_need = ((self.est_need + self.max_used) / 2).max(self.max_used);
        self.max_used = self.used;
        // HAProxy's per-thread share, `exceed * idle_on_thread / idle + 1`, with one
        // thread: one more than half the excess, at most every idle connection.
        if to_kill <= 0 {
            0
        } else {
            (to_kill as u32).saturating_add(1).min(self.idle)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> ServerParams {
        ServerParams::default()
    }

    #[test]
    fn first_requests_reuse_only_as_the_mode_allows() {
        assert!(lists_for(HttpReuse::Safe, true).is_empty());
        assert!(lists_for(HttpReuse::Never, false).is_empty());
        assert_eq!(lists_for(HttpReuse::Aggressive, true), &[IdleList::Safe]);
        assert_eq!(
            lists_for(HttpReuse::Always, true),
            &[IdleList::Safe, IdleList::Idle]
        );
        assert_eq!(
            lists_for(HttpReuse::Safe, false),
            &[IdleList::Idle, IdleList::Safe]
        );
    }

    /// `srv_use_conn` in HAProxy 2.6.0's server.h: `est_need_conns` follows the
    /// connections in use at once, not only the purges.
    #[test]
    fn connections_used_together_are_all_kept() {
        let mut c = PoolCounts::default();
        for _ in 0..32 {
            c.start_use();
        }
        assert_eq!(c.est_need, 32);
        for _ in 0..32 {
            assert!(c.park(&params(), 2).is_some(), "{c:?}");
        }
        assert_eq!((c.idle, c.used), (32, 0));
    }

    #[test]
    fn a_second_connection_is_not_kept_before_the_first_purge() {
        let mut c = PoolCounts::default();
        c.start_use();
        assert_eq!(c.park(&params(), 1), Some(IdleList::Idle));
        // Another client's first request opened a second connection.
        c.start_use();
        assert_eq!(c.park(&params(), 1), None, "{c:?}");
        c.end_use();
        // Two used at once, then none: one idle over a need of two. HAProxy rounds
        // the excess -1 as C does (-1 / 2 + (-1 & 1) = 1) and closes the idle one.
        c.start_use();
        c.start_use();
        c.end_use();
        c.end_use();
        assert_eq!(c.purge(), 1);
        c.leave(IdleList::Idle);
        assert_eq!(c.est_need, 2);
        // Having learnt that two were used at once, the pool keeps two.
        c.start_use();
        c.start_use();
        assert_eq!(c.park(&params(), 1), Some(IdleList::Idle));
        assert_eq!(c.park(&params(), 1), Some(IdleList::Idle), "{c:?}");
        assert_eq!(c.idle, 2);
    }

    #[test]
    fn a_connection_that_served_twice_is_safe() {
        let mut c = PoolCounts::default();
        c.start_use();
        assert_eq!(c.park(&params(), 2), Some(IdleList::Safe));
        assert_eq!((c.safe_nb, c.idle_nb), (1, 0));
        c.take(IdleList::Safe);
        assert_eq!((c.used, c.idle), (1, 0));
    }

    #[test]
    fn pool_max_conn_and_a_zero_purge_delay_keep_none() {
        let mut c = PoolCounts::default();
        c.start_use();
        let p = ServerParams {
            pool_max_conn: Some(0),
            ..params()
        };
        assert_eq!(c.park(&p, 1), None);
        let p = ServerParams {
            pool_purge_delay: 0,
            ..params()
        };
        assert_eq!(c.park(&p, 1), None);
    }

    #[test]
    fn purges_close_half_the_excess() {
        let mut c = PoolCounts {
            idle: 10,
            idle_nb: 10,
            est_need: 10,
            max_used: 10,
            ..PoolCounts::default()
        };
        // Nothing used since: the need stays 10 this time (it decays by halves).
        assert_eq!(c.purge(), 0);
        assert_eq!(c.est_need, 10);
        assert_eq!(c.max_used, 0);
        // Next purge: need (10+0)/2 = 5 but not below max_used; the excess was 10-10.
        assert_eq!(c.purge(), 0);
        assert_eq!(c.est_need, 5);
        // Then 10 idle over a need of 5: half of 5, rounded up, plus one.
        assert_eq!(c.purge(), 4);
    }

    #[test]
    fn only_idempotent_requests_go_again() {
        assert!(may_send_again("GET") && may_send_again("put"));
        assert!(!may_send_again("POST") && !may_send_again("PATCH"));
    }

    #[test]
    fn responses_that_end_the_server_connection() {
        let keep = ResponseConn {
            version_11: true,
            close: false,
            keep_alive: false,
            length_known: true,
        };
        assert!(keep.server_keeps());
        assert!(
            !ResponseConn {
                close: true,
                ..keep
            }
            .server_keeps()
        );
        assert!(
            !ResponseConn {
                length_known: false,
                ..keep
            }
            .server_keeps()
        );
        assert!(
            !ResponseConn {
                version_11: false,
                ..keep
            }
            .server_keeps()
        );
        assert!(
            ResponseConn {
                version_11: false,
                keep_alive: true,
                ..keep
            }
            .server_keeps()
        );
    }
}
