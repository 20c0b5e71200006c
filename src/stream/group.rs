//! Consumer groups: the pending entries list (PEL), consumers, and the group's position.
//!
//! # Invariants
//! - Every pending entry in the group's PEL is owned by exactly one consumer, and that
//!   consumer's `pending` set holds its id; nothing else is in any consumer's set. Every change
//!   goes through [`Group::deliver`] (or [`Group::add_pending`]), [`Group::claim`],
//!   [`Group::ack_all`] (or [`Group::ack`]) or [`Group::delete_consumer`], so both indexes move
//!   together.

use std::collections::BTreeMap;

use bytes::Bytes;

use super::id::StreamId;
use super::id_map::IdMap;

/// A delivered, not yet acknowledged entry.
#[derive(Debug, Clone)]
pub struct PendingEntry {
    pub consumer: Bytes,
    /// Unix ms of the last delivery.
    pub delivery_time: u64,
    pub delivery_count: u64,
}

#[derive(Debug, Clone)]
pub struct Consumer {
    /// Unix ms of the consumer's last attempted interaction (XREADGROUP, XCLAIM...).
    pub seen_time: u64,
    /// Unix ms of its last successful interaction (entries read or claimed); `None` if never.
    pub active_time: Option<u64>,
    pub pending: IdMap<()>,
}

/// What a claim does to a pending entry's delivery count.
#[derive(Debug, Clone, Copy)]
pub enum DeliveryCount {
    /// XCLAIM RETRYCOUNT n.
    Set(u64),
    /// JUSTID: the claim is not a delivery.
    Keep,
    Bump,
}

#[derive(Debug, Clone)]
pub struct Group {
    pub last_id: StreamId,
    /// Entries the group has read, when known (Redis's `entries_read`; unknown after some
    /// XDELs or an arbitrary SETID).
    pub entries_read: Option<u64>,
    pub pel: IdMap<PendingEntry>,
    pub consumers: BTreeMap<Bytes, Consumer>,
}

impl Group {
    pub fn new(last_id: StreamId, entries_read: Option<u64>) -> Group {
        Group {
            last_id,
            entries_read,
            pel: IdMap::new(),
            consumers: BTreeMap::new(),
        }
    }

    /// Finds or creates a consumer; true in the second element if it was created.
    pub fn consumer(&mut self, name: &Bytes, now: u64) -> (&mut Consumer, bool) {
        let created = !self.consumers.contains_key(name);
        let consumer = self
            .consumers
            .entry(name.clone())
            .or_insert_with(|| Consumer {
                seen_time: now,
                active_time: None,
                pending: IdMap::new(),
            });
        (consumer, created)
    }

    /// Records a delivery of `id` to `consumer` (creating the pending entry, or moving an
    /// existing one to this consumer with a fresh count, as Redis does for `>` reads).
    pub fn add_pending(&mut self, id: StreamId, consumer: &Bytes, now: u64) {
        self.deliver(&[id], consumer, now);
    }

    /// Records the deliveries of one read: [`Group::add_pending`] for each id, looking the
    /// consumer up once. Ids past every pending one (the usual `>` read) cannot be pending yet
    /// and go straight onto the back of both indexes.
    pub fn deliver(&mut self, ids: &[StreamId], consumer: &Bytes, now: u64) {
        let mut owner = self.consumers.get_mut(consumer);
        for &id in ids {
            if self.pel.last_id().is_some_and(|last| id <= last) {
                if let Some(previous) = self.pel.get(id).filter(|p| p.consumer != *consumer) {
                    if let Some(c) = self.consumers.get_mut(&previous.consumer) {
                        c.pending.remove(id);
                    }
                    // The lookup above ended the borrow `owner` held; take it again.
                    owner = self.consumers.get_mut(consumer);
                }
            }
            self.pel.insert(
                id,
                PendingEntry {
                    consumer: consumer.clone(),
                    delivery_time: now,
                    delivery_count: 1,
                },
            );
            if let Some(c) = owner.as_deref_mut() {
                c.pending.insert(id, ());
            }
        }
    }

    /// Hands a pending entry to `consumer` as XCLAIM and XAUTOCLAIM do: a new delivery time
    /// and delivery count; the entry as it now is, or `None` if `id` is not pending.
    pub fn claim(
        &mut self,
        id: StreamId,
        consumer: &Bytes,
        delivery_time: u64,
        count: DeliveryCount,
    ) -> Option<&PendingEntry> {
        self.reassign(id, consumer);
        let entry = self.pel.get_mut(id)?;
        entry.delivery_time = delivery_time;
        match count {
            DeliveryCount::Set(n) => entry.delivery_count = n,
            DeliveryCount::Keep => {}
            DeliveryCount::Bump => entry.delivery_count += 1,
        }
        Some(entry)
    }

    /// Moves a pending entry to `consumer`.
    fn reassign(&mut self, id: StreamId, consumer: &Bytes) {
        let Some(entry) = self.pel.get_mut(id) else {
            return;
        };
        if entry.consumer != *consumer {
            if let Some(c) = self.consumers.get_mut(&entry.consumer) {
                c.pending.remove(id);
            }
            entry.consumer = consumer.clone();
        }
        if let Some(c) = self.consumers.get_mut(consumer) {
            c.pending.insert(id, ());
        }
    }

    /// Acknowledges `id`; true if it was pending.
    pub fn ack(&mut self, id: StreamId) -> bool {
        self.ack_all(&[id]).len() == 1
    }

    /// Acknowledges each id; returns those that were pending. A run of ids owned by one
    /// consumer (the usual XACK of what one read returned) looks the consumer up once.
    pub fn ack_all(&mut self, ids: &[StreamId]) -> Vec<StreamId> {
        let mut acked = Vec::with_capacity(ids.len());
        let mut owner: Option<(Bytes, Option<&mut Consumer>)> = None;
        for &id in ids {
            let Some(entry) = self.pel.remove(id) else {
                continue;
            };
            acked.push(id);
            if owner
                .as_ref()
                .is_none_or(|(name, _)| *name != entry.consumer)
            {
                let c = self.consumers.get_mut(&entry.consumer);
                owner = Some((entry.consumer, c));
            }
            if let Some((_, Some(c))) = owner.as_mut() {
                c.pending.remove(id);
            }
        }
        acked
    }

    /// Removes a consumer and its pending entries; returns how many were pending.
    pub fn delete_consumer(&mut self, name: &[u8]) -> Option<usize> {
        let consumer = self.consumers.remove(name)?;
        for id in consumer.pending.ids() {
            self.pel.remove(id);
        }
        Some(consumer.pending.len())
    }

    /// Checks the invariant above; used by tests.
    pub fn indexes_agree(&self) -> bool {
        let owned: usize = self.consumers.values().map(|c| c.pending.len()).sum();
        owned == self.pel.len()
            && self.pel.iter().all(|(id, p)| {
                self.consumers
                    .get(&p.consumer)
                    .is_some_and(|c| c.pending.contains(id))
            })
            && self.pel.well_formed()
            && self.consumers.values().all(|c| c.pending.well_formed())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pending_entries_move_between_consumers_with_both_indexes() {
        let mut g = Group::new(StreamId::MIN, Some(0));
        let (a, b) = (Bytes::from("a"), Bytes::from("b"));
        g.consumer(&a, 1);
        g.consumer(&b, 1);
        g.add_pending(StreamId::new(1, 0), &a, 10);
        g.add_pending(StreamId::new(2, 0), &a, 10);
        g.reassign(StreamId::new(1, 0), &b);
        assert!(g.indexes_agree());
        assert_eq!(g.consumers[&b].pending.len(), 1);
        assert!(g.ack(StreamId::new(1, 0)));
        assert!(!g.ack(StreamId::new(1, 0)));
        assert_eq!(g.delete_consumer(b"a"), Some(1));
        assert!(g.pel.is_empty() && g.indexes_agree());
    }
}

#[cfg(test)]
mod model_tests {
    //! The group's PEL and its consumers' pending sets stay in step under any sequence of
    //! deliveries, claims, acknowledgements and consumer deletions.
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn pel_and_consumer_sets_always_agree(ops in proptest::collection::vec((0u8..6, 0u8..40, 0u8..4), 1..300)) {
            let mut g = Group::new(StreamId::MIN, Some(0));
            // The model: each pending id and its owner.
            let mut model: BTreeMap<StreamId, Bytes> = BTreeMap::new();
            let names: Vec<Bytes> = (0..4).map(|i| Bytes::from(format!("c{i}"))).collect();
            for (kind, n, who) in ops {
                let id = StreamId::new(u64::from(n), 0);
                let name = &names[who as usize];
                match kind {
                    0 => {
                        g.consumer(name, 1);
                        g.add_pending(id, name, 1);
                        model.insert(id, name.clone());
                    }
                    1 => {
                        g.consumer(name, 1);
                        g.reassign(id, name);
                        if let Some(owner) = model.get_mut(&id) {
                            *owner = name.clone();
                        }
                    }
                    2 => {
                        prop_assert_eq!(g.ack(id), model.remove(&id).is_some());
                    }
                    3 => {
                        // One read's worth of ids, some of them pending already.
                        g.consumer(name, 1);
                        let ids: Vec<StreamId> =
                            (n..n.saturating_add(who * 3 + 1)).map(|m| StreamId::new(u64::from(m), 0)).collect();
                        g.deliver(&ids, name, 1);
                        for id in ids {
                            model.insert(id, name.clone());
                        }
                    }
                    4 => {
                        // One XACK: a span of ids, with a repeat.
                        let mut ids: Vec<StreamId> =
                            (n..n.saturating_add(5)).map(|m| StreamId::new(u64::from(m), 0)).collect();
                        ids.push(id);
                        let want: Vec<StreamId> = ids.iter().copied().filter(|i| model.remove(i).is_some()).collect();
                        prop_assert_eq!(g.ack_all(&ids), want);
                    }
                    _ => {
                        let owned = model.values().filter(|o| *o == name).count();
                        let was = g.consumers.contains_key(name);
                        prop_assert_eq!(g.delete_consumer(name), was.then_some(owned));
                        model.retain(|_, o| o != name);
                    }
                }
                prop_assert!(g.indexes_agree());
                let got: Vec<(StreamId, Bytes)> = g.pel.iter().map(|(id, p)| (id, p.consumer.clone())).collect();
                let want: Vec<(StreamId, Bytes)> = model.iter().map(|(id, o)| (*id, o.clone())).collect();
                prop_assert_eq!(got, want);
            }
        }
    }
}
