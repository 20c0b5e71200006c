//! A stream's entries, in nodes of consecutive entries keyed by their first id.
//!
//! Nodes follow Redis's layout rules (`stream-node-max-entries`, `stream-node-max-bytes`):
//! XADD appends to the last node until it is full, XDEL marks an entry deleted in place and
//! drops a node once all its entries are deleted, and approximate trimming (`~`) removes whole
//! nodes only — so `MAXLEN ~` keeps the same entries here as in Redis.
//!
//! # Invariants
//! - Ids strictly increase across nodes and within a node; `last_id` is at least every id.
//! - `length` counts live (not deleted) entries; an empty node is removed at once.
//! - `first_id` is the first live entry's id, or 0-0 when the stream is empty.

use std::collections::BTreeMap;
use std::ops::Bound;

use bytes::Bytes;

use super::group::Group;
use super::id::StreamId;

use super::node::Node;
pub use super::node::{Entry, EntryRef, Stored};

/// Node size limits, read from the configuration when an entry is added.
#[derive(Debug, Clone, Copy)]
pub struct NodeLimits {
    pub max_bytes: usize,
    pub max_entries: usize,
}

/// How XTRIM (or XADD's trimming) chooses entries to remove.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrimStrategy {
    MaxLen(u64),
    MinId(StreamId),
}

#[derive(Debug, Clone, Copy)]
pub struct Trim {
    pub strategy: TrimStrategy,
    /// `~`: remove whole nodes only.
    pub approx: bool,
    /// Most entries to remove (0: no limit).
    pub limit: u64,
}

/// A stream value.
#[derive(Debug, Clone, Default)]
pub struct Stream {
    nodes: BTreeMap<StreamId, Node>,
    length: u64,
    pub last_id: StreamId,
    pub entries_added: u64,
    pub max_deleted_id: StreamId,
    pub groups: BTreeMap<Bytes, Group>,
}

impl Stream {
    pub fn len(&self) -> u64 {
        self.length
    }

    pub fn is_empty(&self) -> bool {
        self.length == 0
    }

    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// Bytes the stream takes, estimated from its parts (MEMORY USAGE): its nodes' buffers,
    /// its groups, their pending entries and consumers.
    pub fn memory_usage(&self) -> usize {
        use std::mem::size_of;
        let nodes: usize = self
            .nodes
            .values()
            .map(|n| size_of::<StreamId>() + size_of::<Node>() + n.heap_bytes())
            .sum();
        let groups: usize = self
            .groups
            .iter()
            .map(|(name, group)| {
                let pending = group.pel.len()
                    * (size_of::<StreamId>() + size_of::<crate::stream::group::PendingEntry>());
                let consumers: usize = group
                    .consumers
                    .iter()
                    .map(|(name, c)| {
                        name.len()
                            + size_of::<crate::stream::group::Consumer>()
                            + c.pending.len() * size_of::<StreamId>()
                    })
                    .sum();
                name.len() + size_of::<crate::stream::group::Group>() + pending + consumers
            })
            .sum();
        size_of::<Stream>() + nodes + groups
    }

    /// The first live entry's id, or 0-0.
    pub fn first_id(&self) -> StreamId {
        self.first().map_or(StreamId::MIN, |e| e.id)
    }

    /// The first live entry, read in place.
    pub fn first(&self) -> Option<EntryRef<'_>> {
        self.refs(StreamId::MIN, StreamId::MAX).next()
    }

    /// The last live entry, read in place.
    pub fn last(&self) -> Option<EntryRef<'_>> {
        self.refs_rev(StreamId::MIN, StreamId::MAX).next()
    }

    /// Appends an entry whose id the caller checked is greater than `last_id`.
    pub fn append(&mut self, id: StreamId, fields: &[Bytes], limits: NodeLimits) {
        debug_assert!(self.entries_added == 0 && self.length == 0 || id > self.last_id);
        let size: usize = fields.iter().map(|f| f.len() + 1).sum::<usize>() + 3;
        let tail = self.nodes.iter_mut().next_back().map(|(_, node)| node);
        match tail {
            Some(node)
                if (limits.max_bytes == 0 || node.bytes() + size < limits.max_bytes)
                    && (limits.max_entries == 0 || node.count < limits.max_entries) =>
            {
                node.push(id, fields);
            }
            Some(node) => {
                node.seal();
                self.nodes.insert(id, Node::new(id, fields));
            }
            None => {
                self.nodes.insert(id, Node::new(id, fields));
            }
        }
        self.length += 1;
        self.entries_added += 1;
        self.last_id = id;
    }

    /// Live entries with `start <= id <= end`, in order, copied out of their nodes.
    pub fn range(&self, start: StreamId, end: StreamId) -> impl Iterator<Item = Entry> + '_ {
        self.refs(start, end).map(|e| e.to_entry())
    }

    /// Live entries with `start <= id <= end`, in order, read in place (for replies).
    pub fn refs(&self, start: StreamId, end: StreamId) -> impl Iterator<Item = EntryRef<'_>> {
        let first_node = self
            .nodes
            .range(..=start)
            .next_back()
            .map_or(start, |(k, _)| *k);
        self.nodes
            .range((Bound::Included(first_node), Bound::Unbounded))
            .take_while(move |(k, _)| **k <= end)
            .filter(move |(_, node)| node.last_id >= start)
            .flat_map(|(_, node)| node.entries())
            .skip_while(move |e| e.id < start)
            .take_while(move |e| e.id <= end)
    }

    /// Live entries with `start <= id <= end`, newest first, read in place.
    pub fn refs_rev(&self, start: StreamId, end: StreamId) -> impl Iterator<Item = EntryRef<'_>> {
        self.nodes
            .range(..=end)
            .rev()
            .take_while(move |(_, node)| node.last_id >= start)
            .flat_map(|(_, node)| {
                let mut entries: Vec<EntryRef<'_>> = node.entries().collect();
                entries.reverse();
                entries
            })
            .skip_while(move |e| e.id > end)
            .take_while(move |e| e.id >= start)
    }

    /// The live entry with this id.
    pub fn get(&self, id: StreamId) -> Option<Entry> {
        self.range(id, id).next()
    }

    /// Marks the entry deleted; true if it was there.
    pub fn delete(&mut self, id: StreamId) -> bool {
        let Some((&key, node)) = self.nodes.range_mut(..=id).next_back() else {
            return false;
        };
        if id > node.last_id || !node.delete(id) {
            return false;
        }
        if node.live == 0 {
            self.nodes.remove(&key);
        }
        self.length -= 1;
        if id > self.max_deleted_id {
            self.max_deleted_id = id;
        }
        true
    }

    /// Removes entries as XTRIM does; returns how many.
    pub fn trim(&mut self, trim: Trim) -> u64 {
        let mut deleted = 0u64;
        // From the front, a node at a time: listing every node first made each trim, and so
        // each `XADD ... MAXLEN ~`, cost as much as the stream was long.
        while let Some(mut front) = self.nodes.first_entry() {
            let node = front.get_mut();
            let live = node.live as u64;
            if trim.limit > 0 && deleted + live > trim.limit {
                break;
            }
            let remove_node = match trim.strategy {
                TrimStrategy::MaxLen(max) => self.length - live >= max,
                TrimStrategy::MinId(min) => node.last_id < min,
            };
            if remove_node {
                front.remove();
                self.length -= live;
                deleted += live;
                continue;
            }
            if trim.approx {
                break;
            }
            let mut length = self.length;
            let removed = node.delete_front_while(|id| {
                let go = match trim.strategy {
                    TrimStrategy::MaxLen(max) => length > max,
                    TrimStrategy::MinId(min) => id < min,
                };
                if go {
                    length -= 1;
                }
                go
            });
            self.length -= removed as u64;
            deleted += removed as u64;
            if node.live == 0 {
                front.remove();
            }
            break;
        }
        deleted
    }

    /// Whether an entry was deleted (XDEL) at or after `start`: the group counters Redis keeps
    /// cannot be trusted across such a gap.
    pub fn has_tombstones_from(&self, start: StreamId) -> bool {
        !self.is_empty() && !self.max_deleted_id.is_zero() && start <= self.max_deleted_id
    }

    /// Redis's `streamEstimateDistanceFromFirstEverEntry`: the entries-read counter an id
    /// stands for, when it can be known.
    pub fn estimate_entries_read(&self, id: StreamId) -> Option<u64> {
        if self.entries_added == 0 {
            return Some(0);
        }
        if self.is_empty() && id <= self.last_id {
            return Some(self.entries_added);
        }
        if id == self.last_id {
            return Some(self.entries_added);
        }
        if id > self.last_id {
            return None;
        }
        let first = self.first_id();
        if self.max_deleted_id.is_zero() || self.max_deleted_id < first {
            if id < first {
                return Some(self.entries_added - self.length);
            }
            if id == first {
                return Some(self.entries_added - self.length + 1);
            }
        }
        None
    }

    /// A group's lag, or `None` when Redis reports it as unknown.
    pub fn lag(&self, group: &Group) -> Option<u64> {
        if self.entries_added == 0 {
            return Some(0);
        }
        if let Some(read) = group.entries_read {
            if !self.has_tombstones_from(group.last_id) {
                return Some(self.entries_added.saturating_sub(read));
            }
        }
        self.estimate_entries_read(group.last_id)
            .map(|read| self.entries_added.saturating_sub(read))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: NodeLimits = NodeLimits {
        max_bytes: 4096,
        max_entries: 100,
    };

    fn stream_of(n: u64) -> Stream {
        let mut s = Stream::default();
        for i in 1..=n {
            s.append(
                StreamId::new(i, 0),
                &[Bytes::from("f"), Bytes::from("v")],
                LIMITS,
            );
        }
        s
    }

    #[test]
    fn nodes_fill_to_max_entries() {
        let s = stream_of(250);
        assert_eq!(s.node_count(), 3);
        assert_eq!(s.len(), 250);
    }

    #[test]
    fn ranges_cross_nodes_in_both_directions() {
        let s = stream_of(250);
        let ids: Vec<u64> = s
            .range(StreamId::new(98, 0), StreamId::new(102, 0))
            .map(|e| e.id.ms)
            .collect();
        assert_eq!(ids, vec![98, 99, 100, 101, 102]);
        let rev: Vec<u64> = s
            .refs_rev(StreamId::new(98, 0), StreamId::new(102, 0))
            .map(|e| e.id.ms)
            .collect();
        assert_eq!(rev, vec![102, 101, 100, 99, 98]);
    }

    #[test]
    fn xdel_marks_entries_and_drops_empty_nodes() {
        let mut s = stream_of(3);
        assert!(s.delete(StreamId::new(2, 0)));
        assert!(!s.delete(StreamId::new(2, 0)));
        assert_eq!(s.len(), 2);
        assert_eq!(s.max_deleted_id, StreamId::new(2, 0));
        assert!(s.delete(StreamId::new(1, 0)) && s.delete(StreamId::new(3, 0)));
        assert_eq!(s.node_count(), 0);
        assert_eq!(s.first_id(), StreamId::MIN);
    }

    #[test]
    fn approximate_trim_removes_whole_nodes_only() {
        let mut s = stream_of(250);
        let removed = s.trim(Trim {
            strategy: TrimStrategy::MaxLen(120),
            approx: true,
            limit: 0,
        });
        assert_eq!(removed, 100);
        assert_eq!(s.len(), 150);
        let removed = s.trim(Trim {
            strategy: TrimStrategy::MaxLen(120),
            approx: false,
            limit: 0,
        });
        assert_eq!(removed, 30);
        assert_eq!(s.first_id(), StreamId::new(131, 0));
    }

    #[test]
    fn minid_trim_removes_older_entries() {
        let mut s = stream_of(10);
        assert_eq!(
            s.trim(Trim {
                strategy: TrimStrategy::MinId(StreamId::new(4, 0)),
                approx: false,
                limit: 0
            }),
            3
        );
        assert_eq!(s.first_id(), StreamId::new(4, 0));
    }

    #[test]
    fn estimates_follow_redis() {
        let mut s = stream_of(5);
        assert_eq!(s.estimate_entries_read(StreamId::new(5, 0)), Some(5));
        assert_eq!(s.estimate_entries_read(StreamId::new(1, 0)), Some(1));
        assert_eq!(s.estimate_entries_read(StreamId::new(0, 1)), Some(0));
        assert_eq!(s.estimate_entries_read(StreamId::new(3, 0)), None);
        s.delete(StreamId::new(3, 0));
        assert!(s.has_tombstones_from(StreamId::new(2, 0)));
        assert!(!s.has_tombstones_from(StreamId::new(4, 0)));
    }
}

#[cfg(test)]
mod model_tests {
    //! The node storage against a plain ordered map: whatever sequence of appends, deletes and
    //! trims runs, both hold the same entries.
    use std::collections::BTreeMap;

    use proptest::prelude::*;

    use super::*;

    #[derive(Debug, Clone)]
    enum Op {
        Append(u8),
        Delete(u16),
        TrimMaxLen(u16, bool),
        TrimMinId(u16, bool),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            6 => any::<u8>().prop_map(Op::Append),
            2 => any::<u16>().prop_map(Op::Delete),
            1 => (any::<u16>(), any::<bool>()).prop_map(|(n, a)| Op::TrimMaxLen(n % 300, a)),
            1 => (any::<u16>(), any::<bool>()).prop_map(|(n, a)| Op::TrimMinId(n % 600, a)),
        ]
    }

    proptest! {
        #[test]
        fn nodes_hold_what_a_plain_map_holds(ops in proptest::collection::vec(op(), 1..400)) {
            let limits = NodeLimits { max_bytes: 300, max_entries: 7 };
            let mut s = Stream::default();
            let mut model: BTreeMap<StreamId, u8> = BTreeMap::new();
            let mut next = 1u64;
            for op in ops {
                match op {
                    Op::Append(v) => {
                        let id = StreamId::new(next, 0);
                        next += 1;
                        s.append(id, &[Bytes::from_static(b"f"), Bytes::from(vec![v])], limits);
                        model.insert(id, v);
                    }
                    Op::Delete(n) => {
                        let id = StreamId::new(u64::from(n) % (next + 1), 0);
                        prop_assert_eq!(s.delete(id), model.remove(&id).is_some());
                    }
                    Op::TrimMaxLen(max, approx) => {
                        let removed = s.trim(Trim { strategy: TrimStrategy::MaxLen(u64::from(max)), approx, limit: 0 });
                        let mut left = removed;
                        while left > 0 {
                            let first = *model.keys().next().unwrap();
                            model.remove(&first);
                            left -= 1;
                        }
                        if !approx {
                            prop_assert!(model.len() as u64 <= u64::from(max));
                        }
                    }
                    Op::TrimMinId(min, approx) => {
                        let min = StreamId::new(u64::from(min), 0);
                        let removed = s.trim(Trim { strategy: TrimStrategy::MinId(min), approx, limit: 0 });
                        let gone: Vec<StreamId> = model.keys().take(removed as usize).copied().collect();
                        prop_assert!(gone.iter().all(|id| *id < min));
                        gone.iter().for_each(|id| { model.remove(id); });
                        if !approx {
                            prop_assert!(model.keys().all(|id| *id >= min));
                        }
                    }
                }
                prop_assert_eq!(s.len(), model.len() as u64);
                prop_assert_eq!(s.first_id(), model.keys().next().copied().unwrap_or(StreamId::MIN));
            }
            let all: Vec<(StreamId, u8)> = s.range(StreamId::MIN, StreamId::MAX).map(|e| (e.id, e.fields[1][0])).collect();
            let expected: Vec<(StreamId, u8)> = model.iter().map(|(k, v)| (*k, *v)).collect();
            prop_assert_eq!(&all, &expected);
            let mut rev: Vec<(StreamId, u8)> = s.refs_rev(StreamId::MIN, StreamId::MAX).map(|e| { let e = e.to_entry(); (e.id, e.fields[1][0]) }).collect();
            rev.reverse();
            prop_assert_eq!(&rev, &expected);
        }
    }
}
