//! What one client is subscribed to, kept beside the hub so that UNSUBSCRIBE with no argument,
//! the running counts in confirmations and disconnect clean-up need no scan of the hub.

use std::collections::BTreeSet;

use bytes::Bytes;

use super::Kind;

/// A client's channels, patterns and shard channels. Ordered sets make unsubscribe-all replies
/// deterministic (Redis's order is its dict's hash order, which clients cannot rely on).
#[derive(Debug, Default)]
pub struct Subscriptions {
    pub channels: BTreeSet<Bytes>,
    pub patterns: BTreeSet<Bytes>,
    pub shard_channels: BTreeSet<Bytes>,
}

impl Subscriptions {
    pub fn set(&mut self, kind: Kind) -> &mut BTreeSet<Bytes> {
        match kind {
            Kind::Channel => &mut self.channels,
            Kind::Pattern => &mut self.patterns,
            Kind::ShardChannel => &mut self.shard_channels,
        }
    }

    /// Every subscription: non-zero puts a RESP2 client in subscribed mode.
    pub fn total(&self) -> usize {
        self.channels.len() + self.patterns.len() + self.shard_channels.len()
    }

    /// The count a (un)subscribe confirmation carries: Redis counts channels and patterns
    /// together, and shard channels on their own.
    pub fn count_for(&self, kind: Kind) -> usize {
        match kind {
            Kind::Channel | Kind::Pattern => self.channels.len() + self.patterns.len(),
            Kind::ShardChannel => self.shard_channels.len(),
        }
    }
}
