//! A client's queue of pushed frames (pub/sub messages, MONITOR lines), bounded in bytes.
//!
//! Publishers push a shared, pre-encoded `Bytes` and never wait: the push either queues the frame
//! or, when the client is over its output-buffer limit, reports that it must be disconnected.
//! The client's own connection task drains the queue into its socket. Bytes stay counted until
//! the connection has written them, so a subscriber that stops reading is caught by the limit
//! whether its frames sit here or in its write buffer.

use std::collections::VecDeque;
use std::sync::Mutex;

use bytes::Bytes;

use crate::config::OutputLimit;
use crate::spool::Spooled;

/// A frame pushed to a client: its bytes, and for a large message the same bytes in the spool,
/// which the connection writes from instead (see [`crate::spool`]).
#[derive(Debug, Clone)]
pub struct Frame {
    pub bytes: Bytes,
    pub spooled: Option<Spooled>,
}

impl Frame {
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Drops the first `n` bytes, from both copies.
    pub fn advance(&mut self, n: usize) {
        let _ = self.bytes.split_to(n);
        if let Some(spooled) = &mut self.spooled {
            spooled.offset += n as u64;
            spooled.len -= n;
        }
    }
}

impl From<Bytes> for Frame {
    fn from(bytes: Bytes) -> Frame {
        Frame {
            bytes,
            spooled: None,
        }
    }
}

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
    frames: VecDeque<Frame>,
    /// Bytes queued plus bytes taken but not yet written.
    pending: usize,
    /// The Unix second the soft limit was first found reached, in the run of pushes that has
    /// kept it reached since.
    over_soft_since: Option<u64>,
    closed: bool,
}

/// See the module documentation.
#[derive(Debug, Default)]
pub struct Outbox {
    queue: Mutex<Queue>,
}

impl Outbox {
    /// Queues `frame` unless doing so breaks `limit`.
    pub fn push(&self, frame: Frame, limit: &OutputLimit) -> Pushed {
        self.push_at(frame, limit, || crate::keyspace::now_ms() / 1000)
    }

    /// [`Outbox::push`] with the clock (Unix seconds) given, read only over the soft limit.
    ///
    /// Redis's rules (`checkClientOutputBufferLimits`): a limit is reached at `>=` its bytes;
    /// the soft limit breaks only once it has stayed reached for *more than* its seconds,
    /// counted in whole seconds of the clock, and never at the push that first reaches it — so
    /// `soft_seconds` 0 disconnects at the first push over it in a later second, not at once.
    fn push_at(
        &self,
        frame: Frame,
        limit: &OutputLimit,
        unix_secs: impl FnOnce() -> u64,
    ) -> Pushed {
        let Ok(mut q) = self.queue.lock() else {
            return Pushed::OverLimit;
        };
        if q.closed {
            return Pushed::OverLimit;
        }
        let pending = q.pending + frame.len();
        if limit.hard_bytes > 0 && pending as u64 >= limit.hard_bytes {
            q.closed = true;
            q.frames.clear();
            return Pushed::OverLimit;
        }
        if limit.soft_bytes > 0 && pending as u64 >= limit.soft_bytes {
            let now = unix_secs();
            match q.over_soft_since {
                None => q.over_soft_since = Some(now),
                Some(since) if now.saturating_sub(since) > limit.soft_seconds => {
                    q.closed = true;
                    q.frames.clear();
                    return Pushed::OverLimit;
                }
                Some(_) => {}
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
    pub fn take(&self, into: &mut Vec<Frame>) {
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
            outbox.push(Bytes::from_static(b"ab").into(), &LIMIT),
            Pushed::Queued { was_empty: true }
        );
        assert_eq!(
            outbox.push(Bytes::from_static(b"cd").into(), &LIMIT),
            Pushed::Queued { was_empty: false }
        );
    }

    #[test]
    fn hard_limit_closes_and_drops_everything() {
        let outbox = Outbox::default();
        outbox.push(Bytes::from_static(b"123456").into(), &LIMIT);
        assert_eq!(
            outbox.push(Bytes::from_static(b"123456").into(), &LIMIT),
            Pushed::OverLimit
        );
        assert!(outbox.is_closed());
        assert_eq!(outbox.len(), 0);
    }

    #[test]
    fn bytes_count_until_written() {
        let outbox = Outbox::default();
        outbox.push(Bytes::from_static(b"123456").into(), &LIMIT);
        let mut taken = Vec::new();
        outbox.take(&mut taken);
        assert_eq!(
            outbox.push(Bytes::from_static(b"123456").into(), &LIMIT),
            Pushed::OverLimit
        );
        let outbox = Outbox::default();
        outbox.push(Bytes::from_static(b"123456").into(), &LIMIT);
        outbox.take(&mut taken);
        outbox.written(6);
        assert!(matches!(
            outbox.push(Bytes::from_static(b"123456").into(), &LIMIT),
            Pushed::Queued { .. }
        ));
    }

    #[test]
    fn the_hard_limit_is_reached_at_its_bytes() {
        let outbox = Outbox::default();
        let ten = Bytes::from_static(b"0123456789");
        assert_eq!(outbox.push(ten.into(), &LIMIT), Pushed::OverLimit);
        let outbox = Outbox::default();
        let nine = Bytes::from_static(b"012345678");
        assert!(matches!(
            outbox.push(nine.into(), &LIMIT),
            Pushed::Queued { .. }
        ));
    }

    #[test]
    fn the_soft_limit_breaks_only_after_staying_reached_past_its_seconds() {
        let soft = |soft_seconds| OutputLimit {
            hard_bytes: 0,
            soft_bytes: 4,
            soft_seconds,
        };
        let frame = || Frame::from(Bytes::from_static(b"1234"));
        let queued = |p: Pushed| matches!(p, Pushed::Queued { .. });
        // 60 s: reached at second 100, still fine through second 160, broken at 161.
        let outbox = Outbox::default();
        assert!(queued(outbox.push_at(frame(), &soft(60), || 100)));
        assert!(queued(outbox.push_at(frame(), &soft(60), || 160)));
        assert_eq!(
            outbox.push_at(frame(), &soft(60), || 161),
            Pushed::OverLimit
        );
        // 0 s: never at the push that first reaches it, nor within the same second.
        let outbox = Outbox::default();
        assert!(queued(outbox.push_at(frame(), &soft(0), || 100)));
        assert!(queued(outbox.push_at(frame(), &soft(0), || 100)));
        assert_eq!(outbox.push_at(frame(), &soft(0), || 101), Pushed::OverLimit);
        // Dropping back under the limit starts the count again.
        let outbox = Outbox::default();
        assert!(queued(outbox.push_at(frame(), &soft(0), || 100)));
        let mut taken = Vec::new();
        outbox.take(&mut taken);
        outbox.written(4);
        assert!(queued(outbox.push_at(
            Bytes::from_static(b"1").into(),
            &soft(0),
            || 105
        )));
        assert!(queued(outbox.push_at(frame(), &soft(0), || 105)));
        assert_eq!(outbox.push_at(frame(), &soft(0), || 106), Pushed::OverLimit);
    }
}
