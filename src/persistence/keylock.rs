//! Per-key ordering for the log: a write to a key and the append of its effect happen under one
//! lock, so two clients writing the same key log their effects in the order they applied them.
//!
//! The keyspace lets commands on one key run on several threads at once (sharded maps, the gate
//! taken shared), and a command appends its effect after changing the map. Without this lock,
//! two `SET k` from two clients could reach the file in the opposite order of their effect,
//! and a replay would restore the wrong value.
//!
//! ### Lock choice and order
//! A fixed array of striped `std::sync::Mutex<()>`: keys hash to a stripe; a command locks its
//! keys' stripes in ascending stripe order (no deadlock between multi-key commands), *before*
//! taking the keyspace gate. Nothing takes a stripe while holding the gate, so a command
//! holding a stripe while it waits for the gate cannot deadlock with EXEC, which takes the gate
//! exclusively and no stripes (the exclusive gate already orders everything it does). Held only
//! for the length of one command, never across an `.await`. Taken only while the AOF is on.

use std::sync::{Mutex, MutexGuard};

const STRIPES: usize = 1024;

/// See the module documentation.
#[derive(Debug)]
pub struct KeyLocks {
    stripes: Box<[Mutex<()>]>,
}

impl Default for KeyLocks {
    fn default() -> Self {
        KeyLocks {
            stripes: (0..STRIPES).map(|_| Mutex::new(())).collect(),
        }
    }
}

/// The stripes one command holds; released on drop.
pub enum KeyGuard<'a> {
    None,
    One(#[allow(dead_code)] MutexGuard<'a, ()>),
    Many(#[allow(dead_code)] Vec<MutexGuard<'a, ()>>),
}

impl KeyLocks {
    /// Locks the stripes of `keys` in database `db`.
    pub fn lock<'a, 'k>(
        &'a self,
        db: usize,
        keys: impl IntoIterator<Item = &'k [u8]>,
    ) -> KeyGuard<'a> {
        let mut stripes: Vec<usize> = keys.into_iter().map(|k| stripe(db, k)).collect();
        match stripes.len() {
            0 => KeyGuard::None,
            1 => KeyGuard::One(self.take(stripes[0])),
            _ => {
                stripes.sort_unstable();
                stripes.dedup();
                KeyGuard::Many(stripes.into_iter().map(|s| self.take(s)).collect())
            }
        }
    }

    fn take(&self, stripe: usize) -> MutexGuard<'_, ()> {
        self.stripes[stripe]
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// FNV-1a over the database number and the key.
fn stripe(db: usize, key: &[u8]) -> usize {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in (db as u64).to_le_bytes().iter().chain(key) {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    (h as usize) % STRIPES
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_keys_lock_their_stripe_once() {
        let locks = KeyLocks::default();
        let guard = locks.lock(0, [&b"a"[..], b"b", b"a"]);
        assert!(matches!(guard, KeyGuard::Many(ref g) if g.len() <= 2));
        drop(guard);
        let _again = locks.lock(0, [&b"a"[..]]);
    }
}
