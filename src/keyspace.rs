//! Keys and their values, per database, with expiry and the bookkeeping WATCH needs.
//!
//! ### Locking
//! Each database is a `DashMap`, so commands on different keys lock different shards. A shard
//! lock is held only inside one method call, never across an `.await` or a socket write.
//! Commands that must see several keys at one instant (EXEC, RENAME, MSET, FLUSHDB) take the
//! keyspace's `gate` exclusively; every other command takes it shared, which costs one
//! uncontended atomic on the hot path.
//!
//! ### Invariants
//! - An entry whose `expire_at` has passed is never returned: readers expire it lazily, and the
//!   active expiry cycle removes it from the `expires` index order.
//! - A key removed because its deadline passed, by whichever path noticed it (a read, an
//!   overwrite, a delete), is recorded in `Reaped` until the server announces it (`expired`
//!   keyspace event, `expired_keys`), so no expiry goes unannounced however it was found.
//! - With the AOF on, every expiry is logged as `DEL` at the moment the key leaves the map (under
//!   its shard lock when a read noticed it), so the log never holds a later write to the key
//!   before the deletion that preceded it.
//! - Every key with a deadline has `(deadline, key)` in its database's `expires` index. The index
//!   may hold entries that are out of date (the key was rewritten); the expiry cycle checks the
//!   live entry before removing anything.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use dashmap::mapref::one::{Ref, RefMut};
use dashmap::DashMap;

use crate::scan::{Page, ScanCursors};

/// A value stored under a key.
#[derive(Debug, Clone)]
pub enum Value {
    String(Bytes),
    /// Boxed: a stream is much larger than a string's handle, and most keys are strings.
    Stream(Box<crate::stream::Stream>),
}

impl Value {
    /// The type name TYPE and SCAN TYPE use.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::String(_) => "string",
            Value::Stream(_) => "stream",
        }
    }
}

/// A key's value, its deadline in Unix milliseconds, and when it was last used.
#[derive(Debug, Clone)]
pub struct Entry {
    pub value: Value,
    /// The deadline in Unix ms (see [`Entry::expire_at`]): a deadline is never 0, so the
    /// option takes no room of its own.
    deadline: Option<std::num::NonZeroU64>,
    pub accessed: AccessClock,
    /// How Redis would hold a string value, which its bytes alone do not tell.
    pub string_encoding: StringEncoding,
}

/// How Redis holds a string value (OBJECT ENCODING): its bytes decide for a value a command
/// stored whole, but not for one edited in place or printed as a number's text. Kept beside
/// the access clock, in room the entry had spare.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum StringEncoding {
    /// Stored whole (SET, INCR, APPEND creating the key): `int` when it reads as a 64-bit
    /// integer, `embstr` up to 44 bytes, `raw` past them (Redis's `tryObjectEncoding`).
    #[default]
    Stored,
    /// Edited in place (APPEND, SETRANGE): Redis unshares the value into a `raw` string.
    Raw,
    /// A number printed as text (INCRBYFLOAT): `embstr` or `raw` by length, never `int`.
    Text,
}

impl Entry {
    pub fn new(value: Value) -> Entry {
        Entry::expiring(value, None)
    }

    pub fn expiring(value: Value, expire_at: Option<u64>) -> Entry {
        let mut entry = Entry {
            value,
            deadline: None,
            accessed: AccessClock::default(),
            string_encoding: StringEncoding::Stored,
        };
        entry.set_expire_at(expire_at);
        entry
    }

    /// A new string key held as `encoding` says.
    pub fn string(value: Bytes, encoding: StringEncoding) -> Entry {
        let mut entry = Entry::new(Value::String(value));
        entry.string_encoding = encoding;
        entry
    }

    /// Replaces the value with a string held as `encoding` says.
    pub fn set_string(&mut self, value: Bytes, encoding: StringEncoding) {
        self.value = Value::String(value);
        self.string_encoding = encoding;
    }

    /// When the key expires, in Unix milliseconds.
    pub fn expire_at(&self) -> Option<u64> {
        self.deadline.map(std::num::NonZeroU64::get)
    }

    /// Sets or clears the deadline. Only `Db::set_deadline` should be called by commands: it
    /// keeps the expiry index in step.
    pub fn set_expire_at(&mut self, at: Option<u64>) {
        // A deadline of 0 has long passed, as has 1.
        self.deadline = at.and_then(|at| std::num::NonZeroU64::new(at.max(1)));
    }

    fn expired(&self, now: u64) -> bool {
        self.expire_at().is_some_and(|at| at <= now)
    }
}

/// When a key was last read or written, in Unix seconds (Redis's LRU clock, also a second),
/// for OBJECT IDLETIME. Atomic so that a read through a shared reference can stamp it; it is
/// stored only when the second changed, so a key read in a loop is written once a second.
/// A new entry's clock is stamped when it is stored (`Db::insert`).
#[derive(Debug, Default)]
pub struct AccessClock(AtomicU32);

impl AccessClock {
    /// Records a use at `now_ms`; under CLIENT NO-TOUCH only a new key's first stamp.
    pub fn stamp(&self, now_ms: u64) {
        let now = (now_ms / 1000) as u32;
        let last = self.0.load(Ordering::Relaxed);
        if last != now && (last == 0 || TOUCHING.with(|t| t.get())) {
            self.0.store(now, Ordering::Relaxed);
        }
    }

    /// Seconds since the last access.
    pub fn idle_seconds(&self, now_ms: u64) -> u64 {
        (now_ms / 1000).saturating_sub(u64::from(self.0.load(Ordering::Relaxed)))
    }
}

impl Clone for AccessClock {
    fn clone(&self) -> Self {
        AccessClock(AtomicU32::new(self.0.load(Ordering::Relaxed)))
    }
}

thread_local! {
    /// Cleared while a CLIENT NO-TOUCH client's command runs (see [`without_touching`]).
    static TOUCHING: std::cell::Cell<bool> = const { std::cell::Cell::new(true) };
}

/// Runs `command` with its reads leaving keys' access times alone (CLIENT NO-TOUCH). A command
/// runs on one thread from start to end, so a flag of the thread's reaches every read it makes
/// without passing through each command's signature.
pub fn without_touching<T>(command: impl FnOnce() -> T) -> T {
    /// Sets the flag back however the command ends, so the thread's next client is not left
    /// untouching.
    struct Restore;
    impl Drop for Restore {
        fn drop(&mut self) {
            TOUCHING.with(|t| t.set(true));
        }
    }
    TOUCHING.with(|t| t.set(false));
    let _restore = Restore;
    command()
}

/// Milliseconds since the Unix epoch, the clock every deadline is measured on.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Keys found expired and removed outside the active expiry cycle, across every database,
/// waiting for the server to announce them. The flag keeps the per-command check to one load.
#[derive(Debug, Default)]
struct Reaped {
    pending: AtomicBool,
    keys: Mutex<Vec<(usize, Bytes)>>,
    /// Where expiries are recorded as they happen (the AOF), once it is running.
    log: OnceLock<Arc<dyn ExpiryLog>>,
}

/// A record of expiries, in the order they happen (the AOF's `DEL`, as Redis propagates them).
pub trait ExpiryLog: Send + Sync + std::fmt::Debug {
    fn key_expired(&self, db: usize, key: &[u8]);
}

/// One database (`SELECT n`).
#[derive(Debug, Default)]
pub struct Db {
    index: usize,
    map: DashMap<Bytes, Entry>,
    expires: Mutex<ExpiryIndex>,
    reaped: Arc<Reaped>,
    /// Nothing expires while the AOF is replayed: the log's later commands were run against
    /// keys that were alive then (Redis does not expire keys while loading either).
    expiry_paused: AtomicBool,
    /// SCAN's windows over the keys (see `crate::scan`).
    scan: ScanCursors,
}

/// Deadlines in order, for active expiry, plus their sum, so INFO's `avg_ttl` costs O(1).
#[derive(Debug, Default)]
struct ExpiryIndex {
    order: BTreeSet<(u64, Bytes)>,
    deadline_sum: u128,
}

impl ExpiryIndex {
    fn insert(&mut self, at: u64, key: Bytes) {
        if self.order.insert((at, key)) {
            self.deadline_sum += u128::from(at);
        }
    }

    fn remove(&mut self, at: u64, key: Bytes) {
        if self.order.remove(&(at, key)) {
            self.deadline_sum -= u128::from(at);
        }
    }

    fn pop_due(&mut self, now: u64) -> Option<(u64, Bytes)> {
        match self.order.first() {
            Some((at, _)) if *at <= now => {
                let (at, key) = self.order.pop_first()?;
                self.deadline_sum -= u128::from(at);
                Some((at, key))
            }
            _ => None,
        }
    }
}

impl Db {
    fn expired(&self, entry: &Entry, now: u64) -> bool {
        entry.expired(now) && !self.expiry_paused.load(Ordering::Relaxed)
    }

    /// Reads a key, expiring it first if its time has come; the read counts as a use of the
    /// key (OBJECT IDLETIME).
    pub fn get(&self, key: &[u8], now: u64) -> Option<Ref<'_, Bytes, Entry>> {
        let entry = self.peek(key, now)?;
        entry.accessed.stamp(now);
        Some(entry)
    }

    /// Reads a key without counting it as a use: what Redis's `LOOKUP_NOTOUCH` lookups do
    /// (TYPE, TTL, EXISTS, OBJECT).
    pub fn peek(&self, key: &[u8], now: u64) -> Option<Ref<'_, Bytes, Entry>> {
        let entry = self.map.get(key)?;
        if self.expired(&entry, now) {
            drop(entry);
            self.expire_lazily(key, now);
            return None;
        }
        Some(entry)
    }

    /// Borrows a key for change, expiring it first if its time has come.
    pub fn get_mut(&self, key: &[u8], now: u64) -> Option<RefMut<'_, Bytes, Entry>> {
        let entry = self.map.get_mut(key)?;
        if self.expired(&entry, now) {
            drop(entry);
            self.expire_lazily(key, now);
            return None;
        }
        entry.accessed.stamp(now);
        Some(entry)
    }

    /// Borrows a key for change, creating it with `make` when it does not exist.
    pub fn get_or_insert_with(
        &self,
        key: &Bytes,
        now: u64,
        make: impl FnOnce() -> Value,
    ) -> RefMut<'_, Bytes, Entry> {
        if let Some(entry) = self.get_mut(key, now) {
            return entry;
        }
        let entry = self
            .map
            .entry(key.clone())
            .or_insert_with(|| Entry::new(make()));
        entry.accessed.stamp(now);
        entry
    }

    /// A key picked at random (RANDOMKEY), skipping (and expiring) keys whose time has come;
    /// `None` when the database holds none. Walks to a random position: O(N).
    pub fn random_key(&self, now: u64) -> Option<Bytes> {
        use std::hash::{BuildHasher, Hasher};
        // Bounded as Redis bounds its tries when every key it picks has expired.
        for _ in 0..100 {
            let len = self.map.len();
            if len == 0 {
                return None;
            }
            let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
            hasher.write_u64(now);
            let at = (hasher.finish() % len as u64) as usize;
            // The map may have shrunk since its length was read: pick again.
            let Some(key) = self.map.iter().nth(at).map(|e| e.key().clone()) else {
                continue;
            };
            if self.peek(&key, now).is_some() {
                return Some(key);
            }
        }
        None
    }

    /// Whether a key exists, without counting as a use of it (EXISTS, as Redis looks it up).
    pub fn contains(&self, key: &[u8], now: u64) -> bool {
        self.peek(key, now).is_some()
    }

    /// Stores `entry` under `key`, replacing any value, and returns the old one.
    pub fn insert(&self, key: Bytes, entry: Entry, now: u64) -> Option<Entry> {
        entry.accessed.stamp(now);
        let at = entry.expire_at();
        let old = self.map.insert(key.clone(), entry);
        // Forget the old deadline before indexing the new one: when both are the same instant
        // (RENAME between keys with one deadline, SET ... PXAT twice) the other order would
        // drop the new key's only index entry, and active expiry would never reclaim it.
        if let Some(old) = &old {
            if old.expire_at() != at {
                self.forget_deadline(&key, old);
            }
        }
        if let Some(at) = at {
            self.index_deadline(at, key.clone());
        }
        let old = old?;
        self.unless_expired(key, old, now)
    }

    /// Removes a key; `None` if it did not exist (or had already expired).
    pub fn remove(&self, key: &[u8], now: u64) -> Option<Entry> {
        let (key, old) = self.map.remove(key)?;
        self.forget_deadline(&key, &old);
        self.unless_expired(key, old, now)
    }

    /// A replaced or removed entry, or `None` (recorded as reaped) if it had already expired.
    fn unless_expired(&self, key: Bytes, old: Entry, now: u64) -> Option<Entry> {
        if self.expired(&old, now) {
            // The caller is a write holding the key's log-order lock, so no other write to
            // the key can reach the log between this DEL and the caller's own effect.
            self.log_expiry(&key);
            self.reap(key);
            return None;
        }
        Some(old)
    }

    fn log_expiry(&self, key: &[u8]) {
        if let Some(log) = self.reaped.log.get() {
            log.key_expired(self.index, key);
        }
    }

    fn reap(&self, key: Bytes) {
        if let Ok(mut keys) = self.reaped.keys.lock() {
            keys.push((self.index, key));
        }
        self.reaped.pending.store(true, Ordering::Release);
    }

    /// Sets or clears the deadline of an entry the caller holds.
    pub fn set_deadline(&self, key: &Bytes, entry: &mut Entry, at: Option<u64>) {
        if entry.expire_at() == at {
            return;
        }
        self.forget_deadline(key, entry);
        entry.set_expire_at(at);
        if let Some(at) = at {
            self.index_deadline(at, key.clone());
        }
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Keys with a deadline (INFO keyspace `expires=`).
    pub fn expiring(&self) -> usize {
        self.expires.lock().map(|e| e.order.len()).unwrap_or(0)
    }

    /// The mean time to live of keys with a deadline, in milliseconds (INFO keyspace
    /// `avg_ttl=`); 0 when no key has one. Redis estimates it by sampling; this is exact up to
    /// deadlines already due but not yet reclaimed.
    pub fn average_ttl(&self, now: u64) -> u64 {
        let Ok(e) = self.expires.lock() else {
            return 0;
        };
        let count = e.order.len() as u128;
        if count == 0 {
            return 0;
        }
        let mean = e.deadline_sum / count;
        u64::try_from(mean.saturating_sub(u128::from(now))).unwrap_or(u64::MAX)
    }

    /// Visits every live key, in no particular order, without copying it: KEYS over many keys
    /// spent most of its time taking and dropping a reference to each key it then skipped.
    pub fn for_each_key(&self, now: u64, mut visit: impl FnMut(&[u8])) {
        self.map
            .iter()
            .filter(|e| !self.expired(e.value(), now))
            .for_each(|e| visit(e.key()));
    }

    /// SCAN's page at `cursor`: the next cursor and about `count` keys, some perhaps deleted
    /// since (the caller looks each one up).
    pub fn scan(&self, cursor: u64, count: usize, now: u64) -> Page {
        self.scan.page(cursor, count, self.len(), |visit| {
            self.for_each_key(now, visit)
        })
    }

    /// A copy of every live key with its entry, for an AOF rewrite. Strings share their bytes;
    /// streams are copied, so the caller's pause (it holds the gate exclusively) is a memcpy of
    /// the streams, not their serialization.
    pub fn snapshot(&self, now: u64) -> Vec<(Bytes, Entry)> {
        // Sized once: grown by doubling, the copy of 300k entries was copied over again.
        let mut copy = Vec::with_capacity(self.map.len());
        copy.extend(
            self.map
                .iter()
                .filter(|e| !self.expired(e.value(), now))
                .map(|e| (e.key().clone(), e.value().clone())),
        );
        copy
    }

    /// Removes every key; returns how many there were.
    pub fn clear(&self) -> usize {
        let n = self.map.len();
        self.map.clear();
        self.scan.clear();
        if let Ok(mut e) = self.expires.lock() {
            *e = ExpiryIndex::default();
        }
        n
    }

    /// Removes keys whose deadline has passed, at most `budget` of them; returns the keys removed.
    pub fn expire_due(&self, now: u64, budget: usize) -> Vec<Bytes> {
        self.take_due(now, budget)
            .into_iter()
            .filter(|key| self.expire_if_due(key, now))
            .collect()
    }

    /// Takes up to `budget` keys whose indexed deadline has passed out of the index, for the
    /// caller to expire one by one with [`Db::expire_if_due`] (which checks the live entry: a
    /// key rewritten since is indexed again under its new deadline).
    pub fn take_due(&self, now: u64, budget: usize) -> Vec<Bytes> {
        if self.expiry_paused.load(Ordering::Relaxed) {
            return Vec::new();
        }
        let Ok(mut index) = self.expires.lock() else {
            return Vec::new();
        };
        let mut due = Vec::new();
        while due.len() < budget {
            match index.pop_due(now) {
                Some((_, key)) => due.push(key),
                None => break,
            }
        }
        due
    }

    /// Removes `key` if its deadline has passed (the active expiry cycle, which announces it
    /// itself); returns whether it did.
    pub fn expire_if_due(&self, key: &[u8], now: u64) -> bool {
        self.remove_expired(key, now).is_some()
    }

    /// Removes `key` found expired by a command, and records it for the announcement.
    fn expire_lazily(&self, key: &[u8], now: u64) {
        if let Some(key) = self.remove_expired(key, now) {
            self.reap(key);
        }
    }

    /// Removes `key` if it has expired, logging the expiry under the shard lock that removes
    /// it, so that a write recreating the key (which needs that lock) is logged after it.
    fn remove_expired(&self, key: &[u8], now: u64) -> Option<Bytes> {
        let (key, old) = self.map.remove_if(key, |key, e| {
            let due = self.expired(e, now);
            if due {
                self.log_expiry(key);
            }
            due
        })?;
        self.forget_deadline(&key, &old);
        Some(key)
    }

    fn index_deadline(&self, at: u64, key: Bytes) {
        if let Ok(mut e) = self.expires.lock() {
            e.insert(at, key);
        }
    }

    fn forget_deadline(&self, key: &Bytes, old: &Entry) {
        if let Some(at) = old.expire_at() {
            if let Ok(mut e) = self.expires.lock() {
                e.remove(at, key.clone());
            }
        }
    }
}

/// A client's "my watched keys changed" flag, shared with the keyspace.
pub type DirtyFlag = Arc<AtomicBool>;

/// Who watches which key, so a write can flag their transactions (Redis's `watched_keys`).
#[derive(Debug, Default)]
struct Watchers {
    count: AtomicUsize,
    keys: Mutex<HashMap<(usize, Bytes), Vec<DirtyFlag>>>,
}

/// All databases of the server.
#[derive(Debug)]
pub struct Keyspace {
    dbs: Box<[Db]>,
    gate: RwLock<()>,
    watchers: Watchers,
    reaped: Arc<Reaped>,
}

impl Keyspace {
    pub fn new(databases: usize) -> Keyspace {
        let reaped = Arc::<Reaped>::default();
        Keyspace {
            dbs: (0..databases)
                .map(|index| Db {
                    index,
                    reaped: reaped.clone(),
                    ..Db::default()
                })
                .collect(),
            gate: RwLock::new(()),
            watchers: Watchers::default(),
            reaped,
        }
    }

    /// Whether keys were reaped since the last [`Keyspace::take_reaped`]: one load, for the
    /// check after every command.
    pub fn has_reaped(&self) -> bool {
        self.reaped.pending.load(Ordering::Acquire)
    }

    /// Takes the keys that commands found expired (and removed) since the last call, as
    /// `(db, key)`; empty at the cost of one atomic load when there are none.
    pub fn take_reaped(&self) -> Vec<(usize, Bytes)> {
        if !self.reaped.pending.load(Ordering::Acquire) {
            return Vec::new();
        }
        self.reaped.pending.store(false, Ordering::Release);
        match self.reaped.keys.lock() {
            Ok(mut keys) => std::mem::take(&mut *keys),
            Err(_) => Vec::new(),
        }
    }

    pub fn db(&self, index: usize) -> &Db {
        &self.dbs[index]
    }

    pub fn databases(&self) -> usize {
        self.dbs.len()
    }

    /// Stops (or resumes) expiry in every database, for the length of an AOF replay.
    pub fn pause_expiry(&self, paused: bool) {
        for db in self.dbs.iter() {
            db.expiry_paused.store(paused, Ordering::Relaxed);
        }
    }

    /// From now on, records every expiry in `log` as it happens (set once, when the AOF starts).
    pub fn log_expiries_to(&self, log: Arc<dyn ExpiryLog>) {
        let _ = self.reaped.log.set(log);
    }

    /// Shared access: any number of single-key commands at once.
    pub fn shared(&self) -> RwLockReadGuard<'_, ()> {
        self.gate.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Exclusive access, for commands that must be atomic over several keys (EXEC, RENAME).
    pub fn exclusive(&self) -> RwLockWriteGuard<'_, ()> {
        self.gate.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Flags every transaction watching `key` (Redis's `signalModifiedKey`).
    pub fn touch(&self, db: usize, key: &[u8]) {
        if self.watchers.count.load(Ordering::Relaxed) == 0 {
            return;
        }
        if let Ok(keys) = self.watchers.keys.lock() {
            if let Some(flags) = keys.get(&(db, Bytes::copy_from_slice(key))) {
                flags.iter().for_each(|f| f.store(true, Ordering::Relaxed));
            }
        }
    }

    /// Flags transactions watching any key of `db` that exists now (before FLUSHDB empties it).
    pub fn touch_all_existing(&self, db: Option<usize>, now: u64) {
        if self.watchers.count.load(Ordering::Relaxed) == 0 {
            return;
        }
        if let Ok(keys) = self.watchers.keys.lock() {
            for ((d, key), flags) in keys.iter() {
                if db.is_none_or(|db| db == *d) && self.dbs[*d].contains(key, now) {
                    flags.iter().for_each(|f| f.store(true, Ordering::Relaxed));
                }
            }
        }
    }

    pub fn watch(&self, db: usize, key: Bytes, flag: &DirtyFlag) {
        if let Ok(mut keys) = self.watchers.keys.lock() {
            keys.entry((db, key)).or_default().push(flag.clone());
            self.watchers.count.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub fn unwatch(&self, db: usize, key: &Bytes, flag: &DirtyFlag) {
        if let Ok(mut keys) = self.watchers.keys.lock() {
            let slot = (db, key.clone());
            if let Some(flags) = keys.get_mut(&slot) {
                if let Some(pos) = flags.iter().position(|f| Arc::ptr_eq(f, flag)) {
                    flags.swap_remove(pos);
                    self.watchers.count.fetch_sub(1, Ordering::Relaxed);
                }
                if flags.is_empty() {
                    keys.remove(&slot);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_keeps_its_access_clock_within_the_room_of_a_deadline() {
        // The clock fits beside the value and the niche-packed deadline: keys take no more
        // memory than before it was kept.
        assert!(
            std::mem::size_of::<Entry>() <= 48,
            "{}",
            std::mem::size_of::<Entry>()
        );
        let mut e = Entry::expiring(Value::String(Bytes::new()), Some(0));
        assert_eq!(e.expire_at(), Some(1));
        e.set_expire_at(Some(1_700_000_000_000));
        assert_eq!(e.expire_at(), Some(1_700_000_000_000));
        e.set_expire_at(None);
        assert_eq!(e.expire_at(), None);
    }

    fn string(s: &str) -> Entry {
        Entry::new(Value::String(Bytes::copy_from_slice(s.as_bytes())))
    }

    #[test]
    fn expired_keys_are_never_returned() {
        let db = Db::default();
        let mut e = string("v");
        e.set_expire_at(Some(100));
        db.insert(Bytes::from_static(b"k"), e, 50);
        assert!(db.get(b"k", 99).is_some());
        assert!(db.get(b"k", 100).is_none());
        assert_eq!(db.len(), 0);
    }

    #[test]
    fn replacing_a_key_with_the_same_deadline_keeps_it_indexed() {
        let db = Db::default();
        let key = Bytes::from_static(b"k");
        for _ in 0..2 {
            let mut e = string("v");
            e.set_expire_at(Some(100));
            db.insert(key.clone(), e, 0);
        }
        assert_eq!(db.expiring(), 1);
        assert_eq!(db.expire_due(1000, 10), vec![key]);
        assert_eq!(db.len(), 0);
    }

    #[test]
    fn average_ttl_follows_deadlines_as_they_come_and_go() {
        let db = Db::default();
        assert_eq!(db.average_ttl(0), 0);
        for (key, at) in [("a", 1000), ("b", 3000)] {
            let mut e = string("v");
            e.set_expire_at(Some(at));
            db.insert(Bytes::from_static(key.as_bytes()), e, 0);
        }
        db.insert(Bytes::from_static(b"c"), string("v"), 0);
        assert_eq!(db.average_ttl(0), 2000);
        assert_eq!(db.average_ttl(500), 1500);
        db.remove(b"b", 500);
        assert_eq!(db.average_ttl(500), 500);
        assert_eq!(db.expire_due(1000, 10).len(), 1);
        assert_eq!(db.average_ttl(1000), 0);
    }

    #[test]
    fn keys_found_expired_by_reads_overwrites_and_deletes_are_reaped_once() {
        let ks = Keyspace::new(2);
        let db = ks.db(1);
        for key in ["read", "overwritten", "deleted", "live"] {
            let mut e = string("v");
            e.set_expire_at(Some(if key == "live" { 1000 } else { 100 }));
            db.insert(Bytes::from(key), e, 50);
        }
        assert!(ks.take_reaped().is_empty());
        assert!(db.get(b"read", 200).is_none());
        assert!(db
            .insert(Bytes::from("overwritten"), string("w"), 200)
            .is_none());
        assert!(db.remove(b"deleted", 200).is_none());
        assert!(db.get(b"live", 200).is_some());
        let reaped: Vec<(usize, Bytes)> = ["read", "overwritten", "deleted"]
            .into_iter()
            .map(|k| (1, Bytes::from(k)))
            .collect();
        assert_eq!(ks.take_reaped(), reaped);
        assert!(ks.take_reaped().is_empty());
    }

    #[test]
    fn active_expiry_skips_rewritten_keys() {
        let db = Db::default();
        let key = Bytes::from_static(b"k");
        let mut e = string("v");
        e.set_expire_at(Some(100));
        db.insert(key.clone(), e, 0);
        db.insert(key.clone(), string("w"), 0);
        assert!(db.expire_due(1000, 10).is_empty());
        assert!(db.get(b"k", 1000).is_some());
        assert_eq!(db.expiring(), 0);
    }

    #[test]
    fn active_expiry_respects_its_budget() {
        let db = Db::default();
        for i in 0..5 {
            let mut e = string("v");
            e.set_expire_at(Some(10 + i));
            db.insert(Bytes::from(format!("k{i}")), e, 0);
        }
        assert_eq!(db.expire_due(100, 3).len(), 3);
        assert_eq!(db.expire_due(100, 3).len(), 2);
        assert!(db.is_empty());
    }

    #[test]
    fn touching_a_watched_key_flags_its_watchers() {
        let ks = Keyspace::new(2);
        let flag: DirtyFlag = Arc::default();
        ks.watch(0, Bytes::from_static(b"k"), &flag);
        ks.touch(1, b"k");
        assert!(!flag.load(Ordering::Relaxed));
        ks.touch(0, b"k");
        assert!(flag.load(Ordering::Relaxed));
        ks.unwatch(0, &Bytes::from_static(b"k"), &flag);
        assert_eq!(ks.watchers.count.load(Ordering::Relaxed), 0);
    }
}
