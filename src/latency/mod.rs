//! Latency: how long commands take (per-command histograms for LATENCY HISTOGRAM and INFO
//! latencystats, on by default with `latency-tracking`), and the latency monitor's spikes
//! (LATENCY LATEST and friends, on with `latency-monitor-threshold`), as Redis 7 keeps both.
//!
//! Commands are timed where INFO commandstats times them (`command::timing`): a run of fast
//! commands in a pipeline is timed as a whole and each of its calls counted at the run's mean,
//! which is what Redis's microsecond clock shows of calls that short anyway. A command timed
//! alone is recorded to the nanosecond (Redis records whole microseconds).

pub mod histogram;
pub mod monitor;
pub mod report;
pub mod sparkline;

/// Monitor thresholds below this many milliseconds time every command on its own.
const TIMES_RUNS_BELOW_MS: u64 = 10;

/// Whether, at `latency-monitor-threshold` `threshold_ms`, fast commands must be timed one by
/// one. A run of fast commands is timed as a whole: at 10 ms or more, a run that reaches the
/// threshold (a hundred-odd calls of microseconds each) had a call that did, or a stall
/// within it, which is the `fast-command` event's point; below that, a run of calls that were
/// each fast could add up to a spike no call had.
pub fn times_each_command(threshold_ms: u64) -> bool {
    (1..TIMES_RUNS_BELOW_MS).contains(&threshold_ms)
}

pub use histogram::Histogram;
pub use monitor::Monitor;
