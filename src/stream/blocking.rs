//! Clients blocked in XREAD / XREADGROUP, by key, woken when the key changes.
//!
//! A blocked connection registers a `Notify` under each key it waits on, then re-runs its
//! command once (so a write between its first attempt and its registration is not missed),
//! then sleeps. Any change to a key (`Ctx::modified`) wakes every waiter on it, oldest first;
//! each re-runs its command and either replies or waits again. The registry holds no client
//! state beyond the wake-up handle, so a client that disconnects only has to deregister.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use dashmap::DashMap;
use tokio::sync::Notify;

use crate::client::ClientId;

/// The clients waiting on one key, oldest first, with the handle that wakes each.
type Waiters = VecDeque<(ClientId, Arc<Notify>)>;

#[derive(Debug, Default)]
pub struct Blocking {
    waiters: DashMap<(usize, Bytes), Waiters>,
    /// Registrations in `waiters`: every XADD asks, and a DashMap answers "empty?" only by
    /// read-locking each of its shards.
    registered: AtomicUsize,
}

impl Blocking {
    pub fn register(&self, db: usize, key: Bytes, client: ClientId, wake: Arc<Notify>) {
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

    /// Wakes every client waiting on `key`, in the order they blocked.
    pub fn signal(&self, db: usize, key: &[u8]) {
        if self.registered.load(Ordering::Relaxed) == 0 {
            return;
        }
        if let Some(queue) = self.waiters.get(&(db, Bytes::copy_from_slice(key))) {
            for (_, wake) in queue.iter() {
                wake.notify_one();
            }
        }
    }

    /// Wakes everyone (FLUSHDB, FLUSHALL, SWAPDB-like changes).
    pub fn signal_all(&self) {
        for queue in self.waiters.iter() {
            for (_, wake) in queue.iter() {
                wake.notify_one();
            }
        }
    }
}
