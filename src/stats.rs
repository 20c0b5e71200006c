//! Counters INFO reports: commands processed, per-command calls and time, error replies by prefix,
//! and the instantaneous ops/sec Redis samples.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// Per-command counters (INFO commandstats).
#[derive(Debug, Default)]
pub struct CommandStats {
    pub calls: AtomicU64,
    pub usec: AtomicU64,
    pub rejected_calls: AtomicU64,
    pub failed_calls: AtomicU64,
    /// How long calls took (LATENCY HISTOGRAM, INFO latencystats), with `latency-tracking`.
    pub latency: crate::latency::Histogram,
}

/// Server-wide counters.
#[derive(Debug, Default)]
pub struct Stats {
    pub total_connections_received: AtomicU64,
    pub total_commands_processed: AtomicU64,
    pub rejected_connections: AtomicU64,
    pub total_error_replies: AtomicU64,
    pub expired_keys: AtomicU64,
    pub keyspace_hits: AtomicU64,
    pub keyspace_misses: AtomicU64,
    pub total_net_input_bytes: AtomicU64,
    pub total_net_output_bytes: AtomicU64,
    pub pubsub_clients_disconnected: AtomicU64,
    pub client_output_limit_disconnections: AtomicU64,
    pub client_query_buffer_limit_disconnections: AtomicU64,
    errors: Mutex<HashMap<String, u64>>,
    /// Recent (time ms, total commands) samples, for `instantaneous_ops_per_sec`.
    samples: Mutex<Vec<(u64, u64)>>,
}

impl Stats {
    pub fn count_error(&self, prefix: &str) {
        self.total_error_replies.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut errors) = self.errors.lock() {
            *errors.entry(prefix.to_owned()).or_default() += 1;
        }
    }

    /// Error counts by prefix, sorted as INFO lists them.
    pub fn errors(&self) -> Vec<(String, u64)> {
        let mut out: Vec<_> = self
            .errors
            .lock()
            .map(|e| e.iter().map(|(k, v)| (k.clone(), *v)).collect())
            .unwrap_or_default();
        out.sort();
        out
    }

    pub fn reset(&self) {
        for counter in [
            &self.total_connections_received,
            &self.total_commands_processed,
            &self.rejected_connections,
            &self.total_error_replies,
            &self.expired_keys,
            &self.keyspace_hits,
            &self.keyspace_misses,
            &self.total_net_input_bytes,
            &self.total_net_output_bytes,
            &self.client_output_limit_disconnections,
            &self.client_query_buffer_limit_disconnections,
        ] {
            counter.store(0, Ordering::Relaxed);
        }
        if let Ok(mut errors) = self.errors.lock() {
            errors.clear();
        }
    }

    /// Records a sample of the command counter; called by the server's periodic task.
    pub fn sample(&self, now_ms: u64) {
        let total = self.total_commands_processed.load(Ordering::Relaxed);
        if let Ok(mut samples) = self.samples.lock() {
            samples.push((now_ms, total));
            if samples.len() > 16 {
                samples.remove(0);
            }
        }
    }

    /// Commands per second over the sampled window.
    pub fn instantaneous_ops_per_sec(&self) -> u64 {
        let Ok(samples) = self.samples.lock() else {
            return 0;
        };
        match (samples.first(), samples.last()) {
            (Some(&(t0, c0)), Some(&(t1, c1))) if t1 > t0 => (c1 - c0) * 1000 / (t1 - t0),
            _ => 0,
        }
    }
}
