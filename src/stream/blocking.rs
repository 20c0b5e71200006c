//! Clients blocked in XREAD / XREADGROUP, by key, woken when the key changes.
//!
//! A blocked connection registers a [`Wake`] under each key it waits on, then re-runs its
//! command once (so a write between its first attempt and its registration is not missed),
//! then sleeps. A change to a key (`Ctx::modified`, an expiry, a flush) wakes its waiters,
//! telling each which key changed; each decides, as Redis 7.4 does, whether to re-run its
//! command, and either replies or waits again. The registry holds no client state beyond the
//! wake-up handle, so a client that disconnects only has to deregister.
//!
//! Every plain XREAD waiting on the key is woken, as each may take the same new entries. Of
//! the XREADGROUP readers of one group only the oldest is: the entries are the group's to
//! share, so a reader that leaves (served, failed, timed out, gone) hands the turn to the next
//! oldest of its group ([`Blocking::pass_turn`]), and one that finds nothing and waits again
//! ends the round, as every younger reader of its group would find nothing too. Redis re-runs
//! every blocked reader on each change; waking 500 readers of one group for each of 500 XADDs
//! took Herald 3 s (a task wake-up each), where a round now costs one wake-up per reader served
//! and one more.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use dashmap::DashMap;
use tokio::sync::futures::Notified;
use tokio::sync::Notify;

use crate::client::ClientId;

/// The clients waiting on one key, oldest first, with the handle that wakes each.
type Waiters = VecDeque<(ClientId, Arc<Wake>)>;

/// What wakes one blocked client, and the keys that changed since it last looked: Redis
/// re-runs a plain XREAD only for a key that is a stream when it looks, so the client must
/// know which of its keys it was woken for.
///
/// It also counts its wake-ups and the ones its re-runs have covered: a writer waits until
/// the readers it woke have covered theirs ([`Blocking::unserved`]), and a younger group
/// reader of the same key lets an older one that is still to re-run go first
/// ([`Blocking::older_pending`]).
#[derive(Debug, Default)]
pub struct Wake {
    notify: Notify,
    changed: Mutex<Vec<Bytes>>,
    /// The consumer group of an XREADGROUP reader, whose turn among the group's readers of a
    /// key matters; `None` for a plain XREAD.
    group: Option<Bytes>,
    signals: AtomicU64,
    covered: AtomicU64,
}

impl Wake {
    /// A wake-up handle, for a reader of `group` (XREADGROUP) or of none (XREAD).
    pub fn new(group: Option<Bytes>) -> Wake {
        Wake {
            group,
            ..Wake::default()
        }
    }

    /// How many times it has been woken so far.
    pub fn signals(&self) -> u64 {
        self.signals.load(Ordering::Acquire)
    }

    fn is_pending(&self) -> bool {
        self.signals.load(Ordering::Acquire) > self.covered.load(Ordering::Acquire)
    }

    /// Resolves once a key changes (at once if one changed since the last call).
    pub fn notified(&self) -> Notified<'_> {
        self.notify.notified()
    }

    /// The keys that changed since the last call.
    pub fn take_changed(&self) -> Vec<Bytes> {
        std::mem::take(&mut *self.changed.lock().unwrap_or_else(|p| p.into_inner()))
    }

    fn changed(&self, key: &Bytes) {
        {
            let mut changed = self.changed.lock().unwrap_or_else(|p| p.into_inner());
            if !changed.contains(key) {
                changed.push(key.clone());
            }
        }
        self.signals.fetch_add(1, Ordering::AcqRel);
        self.notify.notify_one();
    }
}

#[derive(Debug, Default)]
pub struct Blocking {
    waiters: DashMap<(usize, Bytes), Waiters>,
    /// Registrations in `waiters`: every XADD asks, and a DashMap answers "empty?" only by
    /// read-locking each of its shards.
    registered: AtomicUsize,
    /// Wake-ups that no re-run of a read has covered yet (see [`Blocking::unserved`]).
    unserved: AtomicU64,
    /// Notified whenever a re-run covers wake-ups: what a writer waiting for its readers, or
    /// a reader waiting for its turn, waits on.
    covering: Notify,
}

impl Blocking {
    pub fn register(&self, db: usize, key: Bytes, client: ClientId, wake: Arc<Wake>) {
        self.waiters
            .entry((db, key))
            .or_default()
            .push_back((client, wake));
        self.registered.fetch_add(1, Ordering::Relaxed);
    }

    pub fn deregister(&self, db: usize, key: &Bytes, client: ClientId) {
        let k = (db, key.clone());
        if let Some(mut queue) = self.waiters.get_mut(&k) {
            let before = queue.len();
            queue.retain(|(id, _)| *id != client);
            self.registered
                .fetch_sub(before - queue.len(), Ordering::Relaxed);
        }
        self.waiters.remove_if(&k, |_, q| q.is_empty());
    }

    /// Records that a re-run of the read woken by `wake` saw every change up to its wake-up
    /// number `signals` (all of them once it stops waiting).
    pub fn cover(&self, wake: &Wake, signals: u64) {
        let before = wake.covered.fetch_max(signals, Ordering::AcqRel);
        if signals > before {
            self.unserved.fetch_sub(signals - before, Ordering::AcqRel);
            self.covering.notify_waiters();
        }
    }

    /// Waits until `done` holds, checking again each time a re-run covers wake-ups, for
    /// `limit` at most. A wait on a notification rather than a spin: a spinning task keeps its
    /// worker thread from stealing the very task it waits for.
    pub async fn wait_until(&self, limit: std::time::Duration, mut done: impl FnMut() -> bool) {
        let until = tokio::time::Instant::now() + limit;
        loop {
            let notified = self.covering.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if done() {
                return;
            }
            if tokio::time::timeout_at(until, notified).await.is_err() {
                return;
            }
        }
    }

    /// Wake-ups that blocked clients have not yet acted on. Redis serves the clients a command
    /// readied before that command's reply goes out; here they re-run their reads on their
    /// own tasks, so a writer that woke some waits (briefly) for this to reach 0.
    pub fn unserved(&self) -> u64 {
        self.unserved.load(Ordering::Acquire)
    }

    /// Whether a group reader that blocked on `key` before `client` was woken and has not yet
    /// re-run its read. Redis serves the readers of a key in the order they blocked; here each
    /// re-runs its read on its own task, and the runtime tends to run the last one woken
    /// first, so a younger reader waits for its elders' turn.
    pub fn older_pending(&self, db: usize, key: &Bytes, client: ClientId) -> bool {
        let Some(queue) = self.waiters.get(&(db, key.clone())) else {
            return false;
        };
        queue
            .iter()
            .take_while(|(id, _)| *id != client)
            .any(|(_, wake)| wake.group.is_some() && wake.is_pending())
    }

    /// Wakes the clients waiting on `key`, in the order they blocked: every plain reader, and
    /// the oldest reader of each group (see the module's note); true if there was one.
    pub fn signal(&self, db: usize, key: &[u8]) -> bool {
        if self.registered.load(Ordering::Relaxed) == 0 {
            return false;
        }
        let key = (db, Bytes::copy_from_slice(key));
        let Some(queue) = self.waiters.get(&key) else {
            return false;
        };
        let mut groups_woken: Vec<&Bytes> = Vec::new();
        for (_, wake) in queue.iter() {
            match &wake.group {
                Some(group) if groups_woken.contains(&group) => continue,
                Some(group) => groups_woken.push(group),
                None => {}
            }
            self.wake(wake, &key.1);
        }
        !queue.is_empty()
    }

    /// Hands the turn on `key` to the oldest reader of `group` still waiting there: called by a
    /// group reader that stops waiting, so that what it left of the group's entries (or the
    /// error its key now gives) reaches the next one.
    pub fn pass_turn(&self, db: usize, key: &[u8], group: &[u8]) {
        let key = (db, Bytes::copy_from_slice(key));
        let Some(queue) = self.waiters.get(&key) else {
            return;
        };
        if let Some((_, wake)) = queue
            .iter()
            .find(|(_, wake)| wake.group.as_deref() == Some(group))
        {
            self.wake(wake, &key.1);
        }
    }

    /// Wakes everyone, for every key it waits on (FLUSHDB, FLUSHALL); true if there was one.
    pub fn signal_all(&self) -> bool {
        let mut woke = false;
        for queue in self.waiters.iter() {
            for (_, wake) in queue.iter() {
                self.wake(wake, &queue.key().1);
                woke = true;
            }
        }
        woke
    }

    fn wake(&self, wake: &Wake, key: &Bytes) {
        // Counted before the waiter can see it, so that its cover never runs ahead.
        self.unserved.fetch_add(1, Ordering::AcqRel);
        wake.changed(key);
    }
}
