//! The registry of subscribers: channel → subscribers, pattern → subscribers, shard channel →
//! subscribers.
//!
//! Locking: channels and shard channels live in `DashMap`s, so PUBLISH on different channels and
//! (un)subscribes to different channels take different shard locks. A PUBLISH holds its
//! channel's shard lock (read) only while it queues frames into outboxes — a bounded, non-blocking
//! push per subscriber — never while anything is written to a socket. Patterns are kept by
//! distinct pattern under one `RwLock`: every PUBLISH must try every distinct pattern anyway
//! (each once, however many clients share it, as Redis does), pattern subscriptions change
//! rarely, and readers never block one another.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use bytes::Bytes;
use dashmap::DashMap;

use super::{MessageFrames, Publishers};
use crate::client::{ClientHandle, ClientId};
use crate::config::OutputLimit;
use crate::glob;
use crate::spool::Spool;

/// The three namespaces of pub/sub.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Channel,
    Pattern,
    ShardChannel,
}

impl Kind {
    /// The confirmation names Redis replies with.
    pub fn subscribe_reply(self) -> &'static [u8] {
        match self {
            Kind::Channel => b"subscribe",
            Kind::Pattern => b"psubscribe",
            Kind::ShardChannel => b"ssubscribe",
        }
    }

    pub fn unsubscribe_reply(self) -> &'static [u8] {
        match self {
            Kind::Channel => b"unsubscribe",
            Kind::Pattern => b"punsubscribe",
            Kind::ShardChannel => b"sunsubscribe",
        }
    }
}

type Subscribers = HashMap<ClientId, Arc<ClientHandle>>;

/// See the module documentation.
#[derive(Default)]
pub struct Hub {
    channels: DashMap<Bytes, Subscribers>,
    shard_channels: DashMap<Bytes, Subscribers>,
    patterns: RwLock<HashMap<Bytes, Subscribers>>,
    /// Who has been publishing lately; subscribers' connections read it (see `Publishers`).
    pub publishers: Publishers,
    /// Large frames for many receivers, written from memory files (see [`crate::spool`]).
    pub spool: Spool,
}

impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hub")
            .field("channels", &self.channels.len())
            .field("patterns", &self.count(Kind::Pattern))
            .field("shard_channels", &self.shard_channels.len())
            .finish()
    }
}

impl Hub {
    /// Adds `client` to `name`; false if it was already there.
    pub fn subscribe(&self, kind: Kind, name: Bytes, client: &Arc<ClientHandle>) -> bool {
        let subscribers_added =
            |subs: &mut Subscribers| subs.insert(client.id, client.clone()).is_none();
        match kind {
            Kind::Channel => subscribers_added(&mut self.channels.entry(name).or_default()),
            Kind::ShardChannel => {
                subscribers_added(&mut self.shard_channels.entry(name).or_default())
            }
            Kind::Pattern => {
                let mut patterns = self.patterns.write().unwrap_or_else(|e| e.into_inner());
                subscribers_added(patterns.entry(name).or_default())
            }
        }
    }

    /// Removes `client` from `name`, dropping the name when its last subscriber leaves.
    pub fn unsubscribe(&self, kind: Kind, name: &[u8], client: ClientId) -> bool {
        match kind {
            Kind::Channel => remove_from(&self.channels, name, client),
            Kind::ShardChannel => remove_from(&self.shard_channels, name, client),
            Kind::Pattern => {
                let mut patterns = self.patterns.write().unwrap_or_else(|e| e.into_inner());
                let Some(subs) = patterns.get_mut(name) else {
                    return false;
                };
                let removed = subs.remove(&client).is_some();
                if subs.is_empty() {
                    patterns.remove(name);
                }
                removed
            }
        }
    }

    /// PUBLISH of `messages` to `channel`, in order: delivers each to the channel's subscribers,
    /// then to every matching pattern's. Returns the number of receivers of each message, as
    /// Redis counts them (every message of a call reaches the same receivers).
    ///
    /// When the messages reach one set of receivers (the channel's subscribers, or one
    /// pattern's), each receiver gets one shared buffer holding every frame. When they reach
    /// several, a client in two of the sets must read message 1's `message` and `pmessage`
    /// before message 2's, as from Redis, so each message is delivered on its own.
    pub fn publish<M: AsRef<[u8]>>(
        &self,
        channel: &[u8],
        messages: &[M],
        limit: &OutputLimit,
    ) -> usize {
        let subs = self.channels.get(channel);
        let patterns = self.patterns.read().unwrap_or_else(|e| e.into_inner());
        // Collecting nothing allocates nothing: the common case of no patterns costs no Vec.
        let matching: Vec<(&Bytes, &Subscribers)> = patterns
            .iter()
            .filter(|(pattern, _)| glob::matches(pattern, channel))
            .collect();
        let deliver = |run: &[M]| {
            let mut receivers = 0;
            if let Some(subs) = &subs {
                let frames = MessageFrames::new(b"message", None, channel, run);
                receivers += self.deliver_all(subs, frames, limit);
            }
            for (pattern, subs) in &matching {
                let frames = MessageFrames::new(b"pmessage", Some(pattern), channel, run);
                receivers += self.deliver_all(subs, frames, limit);
            }
            receivers
        };
        if subs.is_some() as usize + matching.len() > 1 {
            messages.chunks(1).map(deliver).last().unwrap_or(0)
        } else {
            deliver(messages)
        }
    }

    /// SPUBLISH of `messages`, in order: shard channels have no patterns, so each receiver gets
    /// one buffer. Returns the number of receivers of each message.
    pub fn spublish<M: AsRef<[u8]>>(
        &self,
        channel: &[u8],
        messages: &[M],
        limit: &OutputLimit,
    ) -> usize {
        match self.shard_channels.get(channel) {
            Some(subs) => {
                let frames = MessageFrames::new(b"smessage", None, channel, messages);
                self.deliver_all(&subs, frames, limit)
            }
            None => 0,
        }
    }

    /// Queues the message for every subscriber in `subs`, the publisher itself included (its
    /// connection moves the frame into its reply stream before the PUBLISH reply); large frames
    /// for many subscribers go through the spool.
    fn deliver_all<'a, M: AsRef<[u8]>>(
        &'a self,
        subs: &Subscribers,
        frames: MessageFrames<'a, M>,
        limit: &OutputLimit,
    ) -> usize {
        let mut frames = frames.spooled(&self.spool, subs.len());
        for client in subs.values() {
            client.deliver(frames.get(client.is_resp3()), limit);
        }
        subs.len()
    }

    /// Active channels (or shard channels) matching `pattern`, for PUBSUB (SHARD)CHANNELS.
    pub fn active(&self, kind: Kind, pattern: Option<&[u8]>) -> Vec<Bytes> {
        let map = match kind {
            Kind::ShardChannel => &self.shard_channels,
            _ => &self.channels,
        };
        map.iter()
            .filter(|e| !e.value().is_empty())
            .filter(|e| pattern.is_none_or(|p| glob::matches(p, e.key())))
            .map(|e| e.key().clone())
            .collect()
    }

    /// Subscribers of one channel (or shard channel), for PUBSUB (SHARD)NUMSUB.
    pub fn numsub(&self, kind: Kind, name: &[u8]) -> usize {
        let map = match kind {
            Kind::ShardChannel => &self.shard_channels,
            _ => &self.channels,
        };
        map.get(name).map_or(0, |subs| subs.len())
    }

    /// Distinct channels, patterns or shard channels with at least one subscriber.
    pub fn count(&self, kind: Kind) -> usize {
        match kind {
            Kind::Channel => self.channels.len(),
            Kind::ShardChannel => self.shard_channels.len(),
            Kind::Pattern => self
                .patterns
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .len(),
        }
    }
}

fn remove_from(map: &DashMap<Bytes, Subscribers>, name: &[u8], client: ClientId) -> bool {
    let removed = match map.get_mut(name) {
        Some(mut subs) => subs.remove(&client).is_some(),
        None => return false,
    };
    map.remove_if(name, |_, subs| subs.is_empty());
    removed
}
