//! A run of pipelined PUBLISHes (or SPUBLISHes) from one connection to one channel, delivered
//! together when the run ends.
//!
//! Why: in fan-out the cost that grows with messages × subscribers is Herald's own — a push into
//! each subscriber's outbox, a reference count, a wake-up check — while the kernel's cost grows
//! with writes. A publisher that pipelines N messages to one channel pays those per-subscriber
//! costs once per run instead of N times: every subscriber receives one shared buffer holding
//! the N frames.
//!
//! What a client can observe stays Redis's. The run is delivered, and its replies (each the
//! number of receivers) are written, before the connection runs or writes anything else, so the
//! publisher learns nothing between two messages of a run and cannot tell when inside the run
//! each was delivered; the run's messages reach the same receivers, counted once at delivery, in
//! publish order. Connections that could tell (a subscriber publishing to itself, a MULTI, a
//! reply switched off) publish one message at a time; see `command::pubsub`.

use bytes::Bytes;

use super::{Hub, Kind};
use crate::config::OutputLimit;

/// Messages in a run at most before it is delivered anyway.
const MAX_MESSAGES: usize = 1024;
/// Payload bytes in a run at most before it is delivered anyway.
const MAX_BYTES: usize = 1 << 20;

/// See the module documentation.
#[derive(Debug)]
pub struct PublishRun {
    kind: Kind,
    channel: Bytes,
    /// The messages back to back, one buffer for the whole run rather than one allocation per
    /// message.
    payloads: Vec<u8>,
    /// Where each message ends in `payloads`.
    ends: Vec<usize>,
}

impl PublishRun {
    pub fn new(kind: Kind, channel: Bytes) -> PublishRun {
        PublishRun {
            kind,
            channel,
            payloads: Vec::new(),
            ends: Vec::new(),
        }
    }

    /// Whether a PUBLISH (`Kind::Channel`) or SPUBLISH (`Kind::ShardChannel`) continues this run.
    pub fn continues(&self, kind: Kind, channel: &[u8]) -> bool {
        self.kind == kind && self.channel == channel
    }

    /// Adds a message; true when the run is full and must be delivered now.
    pub fn add(&mut self, message: &[u8]) -> bool {
        self.payloads.extend_from_slice(message);
        self.ends.push(self.payloads.len());
        self.ends.len() >= MAX_MESSAGES || self.payloads.len() >= MAX_BYTES
    }

    /// Delivers every message; returns how many PUBLISHes the run holds and the number of
    /// receivers each reached.
    pub fn deliver(self, hub: &Hub, limit: &OutputLimit) -> (usize, usize) {
        let mut start = 0;
        let messages: Vec<&[u8]> = self
            .ends
            .iter()
            .map(|&end| {
                let message = &self.payloads[start..end];
                start = end;
                message
            })
            .collect();
        let receivers = match self.kind {
            Kind::ShardChannel => hub.spublish(&self.channel, &messages, limit),
            _ => hub.publish(&self.channel, &messages, limit),
        };
        (messages.len(), receivers)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_is_one_kind_and_one_channel() {
        let run = PublishRun::new(Kind::Channel, Bytes::from_static(b"ch"));
        assert!(run.continues(Kind::Channel, b"ch"));
        assert!(!run.continues(Kind::ShardChannel, b"ch"));
        assert!(!run.continues(Kind::Channel, b"other"));
    }

    #[test]
    fn a_run_is_full_at_its_message_or_byte_bound() {
        let mut run = PublishRun::new(Kind::Channel, Bytes::from_static(b"ch"));
        for _ in 1..MAX_MESSAGES {
            assert!(!run.add(b"m"));
        }
        assert!(run.add(b"m"));
        let mut run = PublishRun::new(Kind::Channel, Bytes::from_static(b"ch"));
        assert!(run.add(&vec![0u8; MAX_BYTES]));
    }

    #[test]
    fn delivery_counts_every_message_and_no_receiver() {
        let hub = Hub::default();
        let mut run = PublishRun::new(Kind::Channel, Bytes::from_static(b"ch"));
        run.add(b"a");
        run.add(b"b");
        let limit = OutputLimit {
            hard_bytes: 0,
            soft_bytes: 0,
            soft_seconds: 0,
        };
        assert_eq!(run.deliver(&hub, &limit), (2, 0));
    }
}
