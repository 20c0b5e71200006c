//! An ordered map from stream ids, shaped for how a group's pending entries come and go.
//!
//! A `>` read delivers ids larger than any pending one, and consumers mostly acknowledge in the
//! order they read, so the PEL and a consumer's pending set grow at the back and shrink near the
//! front. A `BTreeMap` pays a root-to-leaf search for each of those (two maps, an insert each
//! per delivery and a remove each per XACK: the largest share of the consumer-group loop in
//! perf). Here entries sit in sorted runs of at most [`RUN`] ids: appending is a push onto the
//! last run, and removing near the front pops or shifts within one short run. Other inserts and
//! removes (XCLAIM, out-of-order acks) binary-search the runs, then the run.
//!
//! # Invariants
//! - Every run is non-empty, sorted, and holds at most `RUN` entries; runs are in id order and
//!   do not overlap. `len` is the number of entries in all runs.

use std::collections::VecDeque;

use super::id::StreamId;

/// Largest run. Big enough that the runs' own index stays small, small enough that shifting
/// within a run (an insert or remove in its middle) moves a few KB at most.
#[cfg(not(test))]
const RUN: usize = 128;
/// Tiny runs in unit tests, so that splits and merges happen in short property-test sequences.
#[cfg(test)]
const RUN: usize = 4;

#[derive(Debug, Clone)]
pub struct IdMap<V> {
    runs: VecDeque<VecDeque<(StreamId, V)>>,
    len: usize,
}

impl<V> Default for IdMap<V> {
    fn default() -> Self {
        IdMap {
            runs: VecDeque::new(),
            len: 0,
        }
    }
}

impl<V> IdMap<V> {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn first_id(&self) -> Option<StreamId> {
        self.runs.front().and_then(|r| r.front()).map(|(id, _)| *id)
    }

    pub fn last_id(&self) -> Option<StreamId> {
        self.runs.back().and_then(|r| r.back()).map(|(id, _)| *id)
    }

    /// The run that holds `id` if any run does: the last run starting at or before it.
    fn run_of(&self, id: StreamId) -> usize {
        self.runs
            .partition_point(|run| run[0].0 <= id)
            .saturating_sub(1)
    }

    /// Run and position of `id`, if present.
    fn find(&self, id: StreamId) -> Option<(usize, usize)> {
        let r = self.run_of(id);
        let run = self.runs.get(r)?;
        run.binary_search_by(|(k, _)| k.cmp(&id))
            .ok()
            .map(|i| (r, i))
    }

    pub fn contains(&self, id: StreamId) -> bool {
        self.find(id).is_some()
    }

    pub fn get(&self, id: StreamId) -> Option<&V> {
        let (r, i) = self.find(id)?;
        Some(&self.runs[r][i].1)
    }

    pub fn get_mut(&mut self, id: StreamId) -> Option<&mut V> {
        let (r, i) = self.find(id)?;
        Some(&mut self.runs[r][i].1)
    }

    /// Inserts or replaces; the previous value if `id` was present.
    pub fn insert(&mut self, id: StreamId, value: V) -> Option<V> {
        if self.last_id().is_none_or(|last| id > last) {
            match self.runs.back_mut() {
                Some(run) if run.len() < RUN => run.push_back((id, value)),
                _ => {
                    // Grown as filled, not sized up front: a group with one pending entry (or
                    // a consumer with one) should not hold a whole run's worth of memory.
                    let mut run = VecDeque::new();
                    run.push_back((id, value));
                    self.runs.push_back(run);
                }
            }
            self.len += 1;
            return None;
        }
        let r = self.run_of(id);
        let run = &mut self.runs[r];
        match run.binary_search_by(|(k, _)| k.cmp(&id)) {
            Ok(i) => Some(std::mem::replace(&mut run[i].1, value)),
            Err(i) => {
                run.insert(i, (id, value));
                if run.len() > RUN {
                    let upper = run.split_off(run.len() / 2);
                    self.runs.insert(r + 1, upper);
                }
                self.len += 1;
                None
            }
        }
    }

    pub fn remove(&mut self, id: StreamId) -> Option<V> {
        let (r, i) = self.find(id)?;
        let run = &mut self.runs[r];
        let (_, value) = run.remove(i).expect("found above");
        self.len -= 1;
        if run.is_empty() {
            self.runs.remove(r);
        } else if run.len() < RUN / 4 {
            self.merge_small(r);
        }
        Some(value)
    }

    /// Folds a run that has shrunk to a quarter into a neighbour that has room for it, so that
    /// scattered removals do not leave many near-empty runs behind.
    fn merge_small(&mut self, r: usize) {
        let len = self.runs[r].len();
        if r + 1 < self.runs.len() && self.runs[r + 1].len() + len <= RUN {
            let next = self.runs.remove(r + 1).expect("checked");
            self.runs[r].extend(next);
        } else if r > 0 && self.runs[r - 1].len() + len <= RUN {
            let run = self.runs.remove(r).expect("checked");
            self.runs[r - 1].extend(run);
        }
    }

    /// Entries with ids from `start` on, in id order.
    pub fn range_from(&self, start: StreamId) -> impl Iterator<Item = (StreamId, &V)> + '_ {
        let r = self.run_of(start);
        let skip = self
            .runs
            .get(r)
            .map_or(0, |run| run.partition_point(|(k, _)| *k < start));
        self.runs
            .range(r..)
            .flatten()
            .skip(skip)
            .map(|(id, v)| (*id, v))
    }

    /// Entries with ids in `start..=end`, in id order.
    pub fn range(&self, start: StreamId, end: StreamId) -> impl Iterator<Item = (StreamId, &V)> {
        self.range_from(start).take_while(move |(id, _)| *id <= end)
    }

    pub fn iter(&self) -> impl Iterator<Item = (StreamId, &V)> {
        self.runs.iter().flatten().map(|(id, v)| (*id, v))
    }

    pub fn ids(&self) -> impl Iterator<Item = StreamId> + '_ {
        self.iter().map(|(id, _)| id)
    }

    /// Checks the invariants above; used by tests.
    pub fn well_formed(&self) -> bool {
        let sorted = self.iter().zip(self.iter().skip(1)).all(|(a, b)| a.0 < b.0);
        let sizes = self.runs.iter().all(|r| !r.is_empty() && r.len() <= RUN);
        let len = self.runs.iter().map(VecDeque::len).sum::<usize>() == self.len;
        sorted && sizes && len
    }
}

#[cfg(test)]
mod model_tests {
    //! The map answers every query as a `BTreeMap` fed the same operations would.
    use std::collections::BTreeMap;

    use proptest::prelude::*;

    use super::*;

    fn id(n: u16) -> StreamId {
        StreamId::new(u64::from(n / 4), u64::from(n % 4))
    }

    proptest! {
        #[test]
        fn behaves_as_an_ordered_map(ops in proptest::collection::vec((0u8..5, 0u16..120, 0u16..120), 1..400)) {
            let mut map = IdMap::new();
            let mut model = BTreeMap::new();
            // Mostly rising ids, as deliveries come, with arbitrary ones mixed in.
            let mut rising = 0u16;
            for (step, (kind, a, b)) in ops.into_iter().enumerate() {
                match kind {
                    0 => {
                        rising = rising.wrapping_add(1 + a % 3);
                        prop_assert_eq!(map.insert(id(rising), step), model.insert(id(rising), step));
                    }
                    1 => prop_assert_eq!(map.insert(id(a), step), model.insert(id(a), step)),
                    2 => prop_assert_eq!(map.remove(id(a)), model.remove(&id(a))),
                    3 => {
                        // Acknowledging from the front, as consumers usually do.
                        let first = model.keys().next().copied();
                        prop_assert_eq!(map.first_id(), first);
                        if let Some(first) = first {
                            prop_assert_eq!(map.remove(first), model.remove(&first));
                        }
                    }
                    _ => {
                        let (lo, hi) = (id(a.min(b)), id(a.max(b)));
                        let got: Vec<_> = map.range(lo, hi).map(|(k, v)| (k, *v)).collect();
                        let want: Vec<_> = model.range(lo..=hi).map(|(k, v)| (*k, *v)).collect();
                        prop_assert_eq!(got, want);
                        let got: Vec<_> = map.range_from(lo).map(|(k, _)| k).collect();
                        let want: Vec<_> = model.range(lo..).map(|(k, _)| *k).collect();
                        prop_assert_eq!(got, want);
                    }
                }
                prop_assert!(map.well_formed());
                prop_assert_eq!(map.len(), model.len());
                prop_assert_eq!(map.get(id(a)), model.get(&id(a)));
                prop_assert_eq!(map.last_id(), model.keys().next_back().copied());
            }
            let all: Vec<_> = map.iter().map(|(k, v)| (k, *v)).collect();
            let want: Vec<_> = model.into_iter().collect();
            prop_assert_eq!(all, want);
        }
    }
}
