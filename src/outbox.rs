//! A client's queue of pushed frames (pub/sub messages, MONITOR lines), bounded in bytes.
//!
//! Publishers push a shared, pre-encoded `Bytes` and never wait: the push either queues the frame
//! or, when the client is over its output-buffer limit, reports that it must be disconnected.
//! The client's own connection task drains the queue into its socket. Bytes stay counted until
//! the connection has written them, so a subscriber that stops reading is caught by the limit
//! whether its frames sit here or in its write buffer.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::config::OutputLimit;

/// Whether a push was accepted.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum Pushed {
    /// Queued; `true` when the queue was empty, so the reader needs a wake-up.
    Queued { was_empty: bool },
    /// The client is over its limit and must be disconnected; the frame was dropped with it.
    OverLimit,
}

#[derive(Debug, Default)]
struct Queue {
    frames: VecDeque<Bytes>,
    /// Bytes queued plus bytes taken but not yet written.
    pending: usize,
    over_soft_since: Option<Instant>,
    closed: bool,
}

/// See the module documentation.
#[derive(Debug, Default)]
pub struct Outbox {
    queue: Mutex<Queue>,
}

impl Outbox {
    /// Queues `frame` unless doing so breaks `limit`.
    pub fn push(&self, frame: Bytes, limit: &OutputLimit) -> Pushed {
        let Ok(mut q) = self.queue.lock() else {
            return Pushed::OverLimit;
        };
        if q.closed {
            return Pushed::OverLimit;
        }
        let pending = q.pending + frame.len();
        if limit.hard_bytes > 0 && pending as u64 > limit.hard_bytes {
            q.closed = true;
            q.frames.clear();
            return Pushed::OverLimit;
        }
        if limit.soft_bytes > 0 && pending as u64 > limit.soft_bytes {
            let since = *q.over_soft_since.get_or_insert_with(Instant::now);
            if since.elapsed() > Duration::from_secs(limit.soft_seconds) {
                q.closed = true;
                q.frames.clear();
                return Pushed::OverLimit;
            }
        } else {
            q.over_soft_since = None;
        }
        let was_empty = q.frames.is_empty();
        q.pending = pending;
        q.frames.push_back(frame);
        Pushed::Queued { was_empty }
    }

    /// Moves every queued frame into `into`; the bytes stay counted until `written` is called.
    pub fn take(&self, into: &mut Vec<Bytes>) {
        if let Ok(mut q) = self.queue.lock() {
            into.extend(q.frames.drain(..));
        }
    }

    /// Reports that `bytes` taken earlier have reached the socket.
    pub fn written(&self, bytes: usize) {
        if let Ok(mut q) = self.queue.lock() {
            q.pending = q.pending.saturating_sub(bytes);
        }
    }

    /// Bytes waiting to be written (CLIENT LIST `omem`).
    pub fn pending(&self) -> usize {
        self.queue.lock().map(|q| q.pending).unwrap_or(0)
    }

    /// Frames waiting (CLIENT LIST `oll`).
    pub fn len(&self) -> usize {
        self.queue.lock().map(|q| q.frames.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether a push found the client over its limit.
    pub fn is_closed(&self) -> bool {
        self.queue.lock().map(|q| q.closed).unwrap_or(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMIT: OutputLimit = OutputLimit {
        hard_bytes: 10,
        soft_bytes: 0,
        soft_seconds: 0,
    };

    #[test]
    fn wakes_only_when_the_queue_was_empty() {
        let outbox = Outbox::default();
        assert_eq!(
            outbox.push(Bytes::from_static(b"ab"), &LIMIT),
            Pushed::Queued { was_empty: true }
        );
        assert_eq!(
            outbox.push(Bytes::from_static(b"cd"), &LIMIT),
            Pushed::Queued { was_empty: false }
        );
    }

    #[test]
    fn hard_limit_closes_and_drops_everything() {
        let outbox = Outbox::default();
        outbox.push(Bytes::from_static(b"123456"), &LIMIT);
        assert_eq!(
            outbox.push(Bytes::from_static(b"123456"), &LIMIT),
            Pushed::OverLimit
        );
        assert!(outbox.is_closed());
        assert_eq!(outbox.len(), 0);
    }

    #[test]
    fn bytes_count_until_written() {
        let outbox = Outbox::default();
        outbox.push(Bytes::from_static(b"123456"), &LIMIT);
        let mut taken = Vec::new();
        outbox.take(&mut taken);
        assert_eq!(
            outbox.push(Bytes::from_static(b"123456"), &LIMIT),
            Pushed::OverLimit
        );
        let outbox = Outbox::default();
        outbox.push(Bytes::from_static(b"123456"), &LIMIT);
        outbox.take(&mut taken);
        outbox.written(6);
        assert!(matches!(
            outbox.push(Bytes::from_static(b"123456"), &LIMIT),
            Pushed::Queued { .. }
        ));
    }

    #[test]
    fn soft_limit_allows_a_burst_within_its_time() {
        let outbox = Outbox::default();
        let soft = OutputLimit {
            hard_bytes: 0,
            soft_bytes: 4,
            soft_seconds: 60,
        };
        assert!(matches!(
            outbox.push(Bytes::from_static(b"123456"), &soft),
            Pushed::Queued { .. }
        ));
        let instant = OutputLimit {
            soft_seconds: 0,
            ..soft
        };
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(
            outbox.push(Bytes::from_static(b"1"), &instant),
            Pushed::OverLimit
        );
    }
}
