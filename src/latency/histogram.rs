//! A command's latency histogram (LATENCY HISTOGRAM, INFO latencystats), laid out as Redis's
//! HdrHistogram is for commands (`hdr_init(1, 1000000000, 2)`: 1 ns to 1 s, two significant
//! digits), so that the keys LATENCY HISTOGRAM reports (1, 2, 4, 8, 16, 33, 66 ... µs) and the
//! percentiles INFO prints (`p50=1.003`) fall where Redis's do.
//!
//! Values fall into buckets that double in range; each bucket has 128 counts of equal width
//! (256 in the first), so that every value is known to within 1 %. The counts are atomics,
//! allocated at a command's first call: recording is one relaxed add, and any connection may
//! read them.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::OnceLock;

/// Smallest and largest value recorded, in nanoseconds (Redis's
/// `LATENCY_HISTOGRAM_MIN_VALUE`/`MAX_VALUE`); others are clamped to them.
pub const MIN_NS: u64 = 1;
pub const MAX_NS: u64 = 1_000_000_000;

/// Counts per bucket half (HdrHistogram's `sub_bucket_half_count` for two significant digits).
const HALF_COUNT: u64 = 128;
const HALF_COUNT_MAGNITUDE: u32 = 7;
/// Mask of the values the first bucket holds exactly (`sub_bucket_count - 1`).
const FIRST_BUCKET_MASK: u64 = 2 * HALF_COUNT - 1;
/// Buckets needed to reach [`MAX_NS`]: 256 doubled 22 times passes 10^9.
const BUCKETS: u64 = 23;
const COUNTS: usize = ((BUCKETS + 1) * HALF_COUNT) as usize;

#[derive(Debug, Default)]
pub struct Histogram {
    counts: OnceLock<Box<[AtomicU64]>>,
}

impl Histogram {
    /// Records `calls` calls that took `ns` each.
    pub fn record(&self, ns: u64, calls: u64) {
        let counts = self
            .counts
            .get_or_init(|| (0..COUNTS).map(|_| AtomicU64::new(0)).collect());
        counts[index_of(ns.clamp(MIN_NS, MAX_NS))].fetch_add(calls, Relaxed);
    }

    /// The counts as they are now, or `None` if nothing was ever recorded (Redis has no
    /// histogram for a command never called, and reports none).
    pub fn snapshot(&self) -> Option<Snapshot> {
        let counts: Vec<u64> = self.counts.get()?.iter().map(|c| c.load(Relaxed)).collect();
        let total = counts.iter().sum();
        (total > 0).then_some(Snapshot { counts, total })
    }

    /// Forgets every call (CONFIG RESETSTAT).
    pub fn reset(&self) {
        if let Some(counts) = self.counts.get() {
            counts.iter().for_each(|c| c.store(0, Relaxed));
        }
    }
}

/// A histogram's counts at one moment.
#[derive(Debug, Clone)]
pub struct Snapshot {
    counts: Vec<u64>,
    total: u64,
}

impl Snapshot {
    /// How many calls it holds.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// The value at `percentile` (0 to 100) in nanoseconds: the highest value equivalent to
    /// the first count that reaches the percentile's share of calls (the lowest for 0), as
    /// HdrHistogram's `hdr_value_at_percentile` answers.
    pub fn value_at_percentile(&self, percentile: f64) -> u64 {
        let wanted = ((percentile.min(100.0) / 100.0) * self.total as f64 + 0.5) as u64;
        let wanted = wanted.max(1);
        let mut seen = 0;
        let index = self
            .counts
            .iter()
            .position(|&c| {
                seen += c;
                seen >= wanted
            })
            .unwrap_or(0);
        let value = value_at_index(index);
        if percentile == 0.0 {
            lowest_equivalent(value)
        } else {
            highest_equivalent(value)
        }
    }

    /// The cumulative distribution LATENCY HISTOGRAM replies: for each power of two from 1024
    /// ns, the calls that took up to it, keyed by the highest value of the bucket that reached
    /// it, in whole microseconds; a level that adds no call is left out. This walks the counts
    /// as HdrHistogram's logarithmic iterator (`hdr_iter_log_init(h, 1024, 2)`) does, so the
    /// keys are Redis's: 1, 2, 4, 8, 16, 33, 66, 132 ...
    pub fn cumulative_micros(&self) -> Vec<(u64, u64)> {
        let mut out = Vec::new();
        let mut level: u64 = 1024;
        let (mut cumulative, mut reported) = (0, 0);
        for (index, &count) in self.counts.iter().enumerate() {
            cumulative += count;
            let value = value_at_index(index);
            // Every level this bucket reaches is reported with what was counted so far; only
            // the first of them can add calls.
            while value >= lowest_equivalent(level) {
                if cumulative > reported {
                    out.push((highest_equivalent(value) / 1000, cumulative));
                    reported = cumulative;
                }
                level *= 2;
            }
            if reported == self.total {
                break;
            }
        }
        // Calls past the last level the counts reach (2^29 ns; 2^30 is past the last count)
        // are in `total` but in no level, as in Redis.
        out
    }
}

/// Which bucket holds `value`: 0 for the first 256 values, then one per doubling.
fn bucket_of(value: u64) -> u32 {
    let magnitude = 64 - (value | FIRST_BUCKET_MASK).leading_zeros();
    magnitude - (HALF_COUNT_MAGNITUDE + 1)
}

fn index_of(value: u64) -> usize {
    let bucket = bucket_of(value);
    let sub_bucket = value >> bucket;
    (((u64::from(bucket) + 1) << HALF_COUNT_MAGNITUDE) + sub_bucket - HALF_COUNT) as usize
}

fn value_at_index(index: usize) -> u64 {
    let index = index as u64;
    let bucket = (index >> HALF_COUNT_MAGNITUDE) as i64 - 1;
    let sub_bucket = (index & (HALF_COUNT - 1)) + HALF_COUNT;
    if bucket < 0 {
        sub_bucket - HALF_COUNT
    } else {
        sub_bucket << bucket
    }
}

fn lowest_equivalent(value: u64) -> u64 {
    let bucket = bucket_of(value);
    (value >> bucket) << bucket
}

fn highest_equivalent(value: u64) -> u64 {
    // A value's range is the width of its bucket's counts.
    let bucket = bucket_of(value);
    lowest_equivalent(value) + (1 << bucket) - 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(values: &[(u64, u64)]) -> Snapshot {
        let h = Histogram::default();
        for &(ns, calls) in values {
            h.record(ns, calls);
        }
        h.snapshot().unwrap()
    }

    #[test]
    fn buckets_are_hdr_histograms() {
        // Exact below 256, then 2, 4, 8 ... wide.
        assert_eq!((index_of(1), value_at_index(index_of(1))), (1, 1));
        assert_eq!(value_at_index(index_of(255)), 255);
        assert_eq!(value_at_index(index_of(257)), 256);
        assert_eq!(highest_equivalent(1000), 1003);
        assert_eq!(highest_equivalent(3000), 3007);
        assert_eq!(highest_equivalent(1024), 1031);
        assert_eq!(lowest_equivalent(1003), 1000);
        assert!(index_of(MAX_NS) < COUNTS);
        for index in [0, 127, 128, 255, 256, 1000, COUNTS - 1] {
            assert_eq!(index_of(value_at_index(index)), index, "{index}");
        }
    }

    #[test]
    fn percentiles_read_as_redis_prints_them() {
        // Redis's INFO after one GET of 3 µs and one SET of 9 µs: p50=3.007, p50=9.023.
        assert_eq!(with(&[(3000, 1)]).value_at_percentile(50.0), 3007);
        assert_eq!(with(&[(9000, 1)]).value_at_percentile(99.9), 9023);
        let s = with(&[(1000, 99), (40_000, 1)]);
        assert_eq!(s.value_at_percentile(50.0), 1003);
        assert_eq!(s.value_at_percentile(99.0), 1003);
        assert_eq!(s.value_at_percentile(99.9), 40_191);
        assert_eq!(s.value_at_percentile(100.0), 40_191);
        assert_eq!(s.value_at_percentile(0.0), 1000);
        assert_eq!(s.total(), 100);
    }

    #[test]
    fn the_distribution_has_redis_keys() {
        // Redis answered {4: 1} for a GET of 3 µs and {16: 1} for a SET of 9 µs.
        assert_eq!(with(&[(3000, 1)]).cumulative_micros(), [(4, 1)]);
        assert_eq!(with(&[(9000, 1)]).cumulative_micros(), [(16, 1)]);
        let s = with(&[(0, 5), (1500, 2), (40_000, 1), (2_000_000_000, 1)]);
        assert_eq!(s.cumulative_micros(), [(1, 5), (2, 7), (66, 8)]);
        assert_eq!(s.total(), 9);
        assert_eq!(
            with(&[(500_000_000, 1)]).cumulative_micros(),
            [(541_065, 1)]
        );
        assert!(with(&[(600_000_000, 1)]).cumulative_micros().is_empty());
    }

    #[test]
    fn nothing_recorded_is_no_histogram() {
        let h = Histogram::default();
        assert!(h.snapshot().is_none());
        h.record(5, 1);
        h.reset();
        assert!(h.snapshot().is_none());
    }
}
