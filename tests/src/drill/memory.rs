//! Resident memory, read from `/proc` (Linux): the drills report how much a proxy
//! grew while it was abused, and assert that the growth is bounded.

/// `VmRSS` of process `pid` in KiB (`None`: not Linux, or the process is gone).
pub fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|n| n.parse().ok())
}

/// `VmRSS` of this process in KiB (wtedge runs inside it in the drills).
pub fn own_rss_kib() -> Option<u64> {
    rss_kib(std::process::id())
}

#[cfg(test)]
mod tests {
    #[test]
    fn this_process_has_resident_memory() {
        assert!(super::own_rss_kib().is_some_and(|k| k > 0));
    }
}
