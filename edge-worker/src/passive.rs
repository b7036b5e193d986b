//! Passive failure reports, coalesced per isolate: failed attempts are queued and
//! one request at a time carries every queued report to the health Durable Object
//! (a burst of failures against a dead origin is one round trip, not one per attempt).
//! Each report still counts as one failed check there.

/// One server's queued failures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// Server id.
    pub server: u32,
    /// Failed attempts.
    pub count: u32,
    /// The last failure's description.
    pub reason: String,
}

/// A flush that has not ended after this long is considered lost (the runtime
/// may cancel a request's background work): the next failure starts another.
pub const FLUSH_LOST_MS: u64 = 10_000;

/// The isolate's queue.
#[derive(Debug, Default)]
pub struct Queue {
    pending: Vec<Report>,
    /// When the running flush started.
    flushing_since: Option<u64>,
}

impl Queue {
    /// Queues a failure seen at `now` (ms); `true` when the caller must start the
    /// flush (none runs, or the running one is lost).
    pub fn push(&mut self, server: u32, reason: &str, now: u64) -> bool {
        match self.pending.iter_mut().find(|r| r.server == server) {
            Some(r) => {
                r.count = r.count.saturating_add(1);
                reason.clone_into(&mut r.reason);
            }
            None => self.pending.push(Report {
                server,
                count: 1,
                reason: reason.to_string(),
            }),
        }
        let start = self
            .flushing_since
            .is_none_or(|since| now.saturating_sub(since) >= FLUSH_LOST_MS);
        if start {
            self.flushing_since = Some(now);
        }
        start
    }

    /// What the running flush sends next; empty: the flush ends (the next failure
    /// starts another).
    pub fn take(&mut self) -> Vec<Report> {
        let out = std::mem::take(&mut self.pending);
        if out.is_empty() {
            self.flushing_since = None;
        }
        out
    }
}

/// The body of one report request: a line `server count reason` per server.
pub fn encode(reports: &[Report]) -> String {
    reports
        .iter()
        .map(|r| {
            let reason: String = r.reason.chars().filter(|c| *c != '\n').collect();
            format!("{} {} {reason}\n", r.server, r.count)
        })
        .collect()
}

/// [`encode`]'s lines read back; malformed lines are skipped, counts capped at 64.
pub fn decode(body: &str) -> Vec<Report> {
    body.lines()
        .filter_map(|l| {
            let mut it = l.splitn(3, ' ');
            let server = it.next()?.parse().ok()?;
            let count = it.next()?.parse::<u32>().ok()?.min(64);
            Some(Report {
                server,
                count,
                reason: it.next().unwrap_or("").to_string(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_is_one_flush_with_counts() {
        let mut q = Queue::default();
        assert!(q.push(3, "refused", 0));
        assert!(!q.push(3, "reset", 1), "a flush is already due");
        assert!(!q.push(1, "Cloudflare answered 522", 2));
        let sent = q.take();
        assert_eq!(
            decode(&encode(&sent)),
            vec![
                Report {
                    server: 3,
                    count: 2,
                    reason: "reset".into()
                },
                Report {
                    server: 1,
                    count: 1,
                    reason: "Cloudflare answered 522".into()
                },
            ]
        );
        // Failures during the flush ride on its next round.
        assert!(!q.push(1, "x", 3));
        assert_eq!(q.take().len(), 1);
        assert!(q.take().is_empty());
        assert!(
            q.push(1, "y", 4),
            "the flush ended: the next failure starts one"
        );
        assert!(!q.push(1, "z", 5));
        assert!(
            q.push(1, "z", 4 + FLUSH_LOST_MS),
            "a lost flush is replaced"
        );
    }

    #[test]
    fn decode_skips_garbage_and_caps_counts() {
        assert_eq!(
            decode("x 1 a\n2 999999 b c\n\n7\n"),
            vec![Report {
                server: 2,
                count: 64,
                reason: "b c".into()
            }]
        );
    }
}
