//! The memory Herald uses, as INFO `used_memory` reports it and `maxmemory` limits it.
//!
//! Redis counts every allocation (zmalloc); Herald's allocator cannot be wrapped without
//! unsafe code, so the figure is the resident set (`/proc/self/statm`) plus the pub/sub spool's
//! memory files, which are not in it. mimalloc returns freed memory to the system within
//! 100 ms (`main::PURGE_DELAY_MS`), so the figure follows what is in use.
//!
//! A write that may grow memory (Redis's `denyoom` commands) is refused with `-OOM` while the
//! figure is above `maxmemory`, as Redis refuses it under `maxmemory-policy noeviction`:
//! with streams as work queues, producers are told to slow down instead of the server growing
//! without bound while consumers fall behind. Reading the file costs a few microseconds, so
//! the check reads it at most once a millisecond and otherwise uses the last reading.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// The last reading of the resident set and when it was taken.
#[derive(Debug, Default)]
pub struct MemoryGauge {
    sampled_ms: AtomicU64,
    rss: AtomicU64,
}

impl MemoryGauge {
    /// The resident set as of `now_ms` (a reading at most a millisecond old).
    pub fn rss_at(&self, now_ms: u64) -> u64 {
        if self.sampled_ms.load(Relaxed) == now_ms {
            return self.rss.load(Relaxed);
        }
        let rss = rss_bytes();
        self.rss.store(rss, Relaxed);
        self.sampled_ms.store(now_ms, Relaxed);
        rss
    }
}

/// Gives the allocator a turn to return memory freed more than its purge delay ago.
///
/// mimalloc returns freed memory to the system only from inside its own calls, when a page
/// of its is freed; a server that went quiet after a burst (a queue drained with DEL, a slow
/// subscriber dropped) kept its peak for good: 51 MB after a 34 MB stream was deleted, with
/// a SET every half second. A block above mimalloc's largest size class gets a page of its
/// own, freed at once, which runs the pending purges of every thread (a few microseconds,
/// and the block is never touched, so no memory is faulted in). Called from the server's
/// periodic work (`hz`).
pub fn let_allocator_purge() {
    const BEYOND_SIZE_CLASSES: usize = 1 << 20;
    drop(std::hint::black_box(Vec::<u8>::with_capacity(
        BEYOND_SIZE_CLASSES,
    )));
}

/// The resident set of this process, in bytes, read now (0 where /proc is not available).
pub fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse::<u64>().ok())
        .unwrap_or(0)
        * 4096
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reading_is_reused_within_its_millisecond_and_taken_anew_after() {
        let gauge = MemoryGauge::default();
        let first = gauge.rss_at(1);
        assert!(first > 0);
        gauge.rss.store(7, Relaxed);
        assert_eq!(gauge.rss_at(1), 7);
        assert!(gauge.rss_at(2) > 7);
    }
}
