//! The latency monitor (LATENCY LATEST, HISTORY, RESET, DOCTOR, GRAPH): for each event class
//! (a command, an AOF write or fsync, an expiry cycle) that once took at least
//! `latency-monitor-threshold` milliseconds, the last 160 seconds in which it did, each with
//! its worst latency, and its all-time worst; as Redis's `latency.c` keeps them.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Samples kept per event (Redis's `LATENCY_TS_LEN`).
const SAMPLES: usize = 160;

/// One second in which an event took `ms` at worst.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sample {
    /// Unix seconds; 0 for a slot never used.
    pub time: u64,
    pub ms: u64,
}

/// An event's samples: a ring of the last [`SAMPLES`] seconds with one.
#[derive(Debug, Clone)]
pub struct TimeSeries {
    samples: [Sample; SAMPLES],
    /// Where the next sample goes.
    next: usize,
    /// The worst latency ever sampled.
    pub max: u64,
}

impl TimeSeries {
    fn new() -> TimeSeries {
        TimeSeries {
            samples: [Sample::default(); SAMPLES],
            next: 0,
            max: 0,
        }
    }

    fn add(&mut self, ms: u64, now_s: u64) {
        self.max = self.max.max(ms);
        let last = &mut self.samples[(self.next + SAMPLES - 1) % SAMPLES];
        // One sample per second: its worst.
        if last.time == now_s {
            last.ms = last.ms.max(ms);
            return;
        }
        self.samples[self.next] = Sample { time: now_s, ms };
        self.next = (self.next + 1) % SAMPLES;
    }

    /// The newest sample.
    pub fn latest(&self) -> Sample {
        self.samples[(self.next + SAMPLES - 1) % SAMPLES]
    }

    /// The samples, oldest first.
    pub fn samples(&self) -> impl Iterator<Item = Sample> + '_ {
        (0..SAMPLES)
            .map(move |i| self.samples[(self.next + i) % SAMPLES])
            .filter(|s| s.time != 0)
    }

    /// What LATENCY DOCTOR says of the samples (Redis's `analyzeLatencyForEvent`).
    pub fn analysis(&self, now_s: u64) -> Analysis {
        let samples: Vec<Sample> = self.samples().collect();
        let count = samples.len() as u64;
        if count == 0 {
            return Analysis::default();
        }
        let avg = samples.iter().map(|s| s.ms).sum::<u64>() / count;
        let mad = samples.iter().map(|s| s.ms.abs_diff(avg)).sum::<u64>() / count;
        let oldest = samples.iter().map(|s| s.time).min().unwrap_or(now_s);
        Analysis {
            samples: count,
            avg,
            mad,
            period: now_s.saturating_sub(oldest).max(1),
        }
    }
}

/// An event's samples summed up.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Analysis {
    pub samples: u64,
    /// Mean latency and mean absolute deviation from it, in whole milliseconds.
    pub avg: u64,
    pub mad: u64,
    /// Seconds from the oldest sample to now, at least 1.
    pub period: u64,
}

/// Every event's samples, in the order the events first happened.
#[derive(Debug, Default)]
pub struct Monitor {
    /// `latency-monitor-threshold` in milliseconds; 0 turns the monitor off. The settings
    /// hold it (CONFIG SET changes it there).
    threshold_ms: Arc<AtomicU64>,
    events: Mutex<Vec<(String, TimeSeries)>>,
}

impl Monitor {
    pub fn new(threshold_ms: Arc<AtomicU64>) -> Monitor {
        Monitor {
            threshold_ms,
            events: Mutex::default(),
        }
    }

    pub fn set_threshold(&self, ms: u64) {
        self.threshold_ms.store(ms, Relaxed);
    }

    pub fn threshold(&self) -> u64 {
        self.threshold_ms.load(Relaxed)
    }

    /// Samples `event` if it took at least the threshold (Redis's `latencyAddSampleIfNeeded`);
    /// one atomic load when it did not.
    pub fn observe(&self, event: &str, took: Duration) {
        let threshold = self.threshold();
        if threshold == 0 {
            return;
        }
        let ms = took.as_millis() as u64;
        if ms >= threshold {
            self.add(event, ms, crate::keyspace::now_ms() / 1000);
        }
    }

    fn add(&self, event: &str, ms: u64, now_s: u64) {
        let mut events = self.lock();
        match events.iter_mut().find(|(name, _)| name == event) {
            Some((_, series)) => series.add(ms, now_s),
            None => {
                let mut series = TimeSeries::new();
                series.add(ms, now_s);
                events.push((event.to_owned(), series));
            }
        }
    }

    /// Each event with its samples, as they are now.
    pub fn events(&self) -> Vec<(String, TimeSeries)> {
        self.lock().clone()
    }

    /// One event's samples (its name matched exactly, as Redis's dictionary does).
    pub fn event(&self, name: &[u8]) -> Option<TimeSeries> {
        self.lock()
            .iter()
            .find(|(event, _)| event.as_bytes() == name)
            .map(|(_, series)| series.clone())
    }

    /// Forgets the events named (any case), or all of them; how many were forgotten.
    pub fn reset(&self, names: &[&[u8]]) -> usize {
        let mut events = self.lock();
        let before = events.len();
        if names.is_empty() {
            events.clear();
        } else {
            events.retain(|(event, _)| {
                !names
                    .iter()
                    .any(|name| event.as_bytes().eq_ignore_ascii_case(name))
            });
        }
        before - events.len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<(String, TimeSeries)>> {
        self.events.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_sample_per_second_keeps_the_worst() {
        let m = Monitor::default();
        m.add("command", 5, 100);
        m.add("command", 9, 100);
        m.add("command", 3, 100);
        m.add("command", 2, 101);
        let s = m.event(b"command").unwrap();
        let samples: Vec<_> = s.samples().map(|s| (s.time, s.ms)).collect();
        assert_eq!(samples, [(100, 9), (101, 2)]);
        assert_eq!((s.latest().ms, s.max), (2, 9));
        assert!(m.event(b"COMMAND").is_none());
    }

    #[test]
    fn the_ring_keeps_the_last_160_seconds() {
        let mut s = TimeSeries::new();
        for t in 1..=200 {
            s.add(t, t);
        }
        let times: Vec<u64> = s.samples().map(|s| s.time).collect();
        assert_eq!(times.len(), SAMPLES);
        assert_eq!((times[0], times[SAMPLES - 1]), (41, 200));
        assert_eq!(s.max, 200);
    }

    #[test]
    fn the_threshold_decides_and_zero_is_off() {
        let m = Monitor::default();
        m.observe("command", Duration::from_millis(50));
        assert!(m.events().is_empty());
        m.set_threshold(10);
        m.observe("command", Duration::from_micros(9_999));
        assert!(m.events().is_empty());
        m.observe("command", Duration::from_millis(10));
        assert_eq!(m.event(b"command").unwrap().latest().ms, 10);
    }

    #[test]
    fn reset_names_events_in_any_case() {
        let m = Monitor::default();
        m.add("command", 1, 1);
        m.add("fast-command", 1, 1);
        m.add("expire-cycle", 1, 1);
        assert_eq!(m.reset(&[b"COMMAND", b"nothing", b"command"]), 1);
        assert_eq!(m.reset(&[]), 2);
        assert_eq!(m.reset(&[]), 0);
    }

    #[test]
    fn analysis_is_redis_integer_arithmetic() {
        let mut s = TimeSeries::new();
        s.add(10, 100);
        s.add(20, 101);
        s.add(31, 102);
        // avg 61/3 = 20, mad (10 + 0 + 11)/3 = 7, period from the oldest.
        assert_eq!(
            s.analysis(110),
            Analysis {
                samples: 3,
                avg: 20,
                mad: 7,
                period: 10
            }
        );
        assert_eq!(s.analysis(100).period, 1);
    }
}
