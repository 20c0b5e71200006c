//! SCAN's cursor over a database's keys.
//!
//! Redis's cursor walks its hash table's buckets in reverse-binary order, so a key present for
//! the whole iteration is returned however the table grows. A DashMap's buckets are not ours to
//! walk, so Herald orders keys by a hash of their own (their *position*) and a cursor is the next
//! position to visit: a key's position never changes, so the same guarantee holds.
//!
//! Finding the next few keys by position means looking at every key, which made a full
//! `redis-cli --scan` quadratic (a page cost 76 ms over 200k keys). So a page is served from a
//! *window*: every key whose position falls in a range, taken in one pass and sorted, kept for
//! the pages after it. A window holds about an eighth of the keys (at most 256k), so a full
//! iteration costs some eight passes and memory for an eighth of the key names, however small
//! its COUNT.
//!
//! A window may only serve a scan that began before it was taken: a key added before the scan
//! began and missing from an older window would be skipped. So each scan started at cursor 0
//! gets an *epoch*, carried in its cursor's low 16 bits, and a window serves only its own
//! epoch's cursors (a new scan's first page never uses the cache, and caching a window drops
//! any older one of the same epoch, left by a scan abandoned 65536 scans ago). Keys deleted
//! since the window was taken are the caller's to skip (it looks each one up); keys added since
//! may be missed, which Redis allows for keys not present throughout.

use std::collections::VecDeque;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use bytes::Bytes;

/// Positions are 48 bits; the cursor's low 16 carry the epoch.
const POSITION_BITS: u32 = 48;
const END: u64 = 1 << POSITION_BITS;
const EPOCH_BITS: u32 = 64 - POSITION_BITS;
/// Windows kept per database: one per scan in progress, for a few scans at once.
const CACHED_WINDOWS: usize = 4;
/// The fewest keys a window is made to hold, so a small database is one window.
const MIN_WINDOW: usize = 1024;
/// A window holds about 1/WINDOWS_PER_SCAN of the keys...
const WINDOWS_PER_SCAN: usize = 8;
/// ... and at most this many, so that a scan of a huge database holds a few megabytes of names.
const MAX_WINDOW: usize = 1 << 18;

/// The windows of one database's scans in progress.
#[derive(Debug, Default)]
pub struct ScanCursors {
    epochs: AtomicU64,
    windows: Mutex<VecDeque<Window>>,
}

/// Every key whose position is in `from..to`, as they were when taken: their names one after
/// another in `names` (one allocation, not one per key) and, sorted by position, where each is.
#[derive(Debug)]
struct Window {
    epoch: u16,
    from: u64,
    to: u64,
    names: Bytes,
    keys: Vec<(u64, Range<usize>)>,
}

/// One SCAN page: the cursor to send back (0 when the iteration is over) and the keys the page
/// covers (some may have been deleted since; the caller checks).
#[derive(Debug, Default, PartialEq)]
pub struct Page {
    pub cursor: u64,
    pub keys: Vec<Bytes>,
}

/// A key's place in the iteration order.
fn position(key: &[u8]) -> u64 {
    let mut h = DefaultHasher::new();
    key.hash(&mut h);
    h.finish() >> EPOCH_BITS
}

impl ScanCursors {
    /// The page at `cursor`: about `count` keys from the position it names. `len` is the
    /// database's size, to size a window; `each_key` visits every live key, and is called only
    /// when no cached window covers the cursor.
    pub fn page(
        &self,
        cursor: u64,
        count: usize,
        len: usize,
        each_key: impl FnOnce(&mut dyn FnMut(&[u8])),
    ) -> Page {
        let (epoch, from) = if cursor == 0 {
            (self.epochs.fetch_add(1, Ordering::Relaxed) as u16, 0)
        } else {
            (cursor as u16, cursor >> EPOCH_BITS)
        };
        let cached = if cursor == 0 {
            None
        } else {
            self.take_cached(epoch, from)
        };
        let window = cached.unwrap_or_else(|| Window::taken(epoch, from, count, len, each_key));
        let page = window.page(from, count);
        if page.cursor != 0 && page.cursor >> EPOCH_BITS < window.to {
            self.keep(window);
        }
        page
    }

    /// Drops every window, so that FLUSHDB/FLUSHALL free the key names they hold.
    pub fn clear(&self) {
        if let Ok(mut windows) = self.windows.lock() {
            windows.clear();
        }
    }

    fn take_cached(&self, epoch: u16, from: u64) -> Option<Window> {
        let mut windows = self.windows.lock().ok()?;
        let at = windows
            .iter()
            .position(|w| w.epoch == epoch && (w.from..w.to).contains(&from))?;
        windows.remove(at)
    }

    /// Caches `window`, the only one of its scan. One left with the same epoch is an abandoned
    /// scan's from 65536 scans ago, kept while only scans done in one page followed: it goes.
    fn keep(&self, window: Window) {
        if let Ok(mut windows) = self.windows.lock() {
            windows.retain(|w| w.epoch != window.epoch);
            if windows.len() >= CACHED_WINDOWS {
                windows.pop_front();
            }
            windows.push_back(window);
        }
    }
}

impl Window {
    /// Takes the keys from `from` on, as many as about `len / WINDOWS_PER_SCAN` of them (and at
    /// least a page), in one pass over the keys.
    fn taken(
        epoch: u16,
        from: u64,
        count: usize,
        len: usize,
        each_key: impl FnOnce(&mut dyn FnMut(&[u8])),
    ) -> Window {
        let wanted = (len / WINDOWS_PER_SCAN)
            .clamp(MIN_WINDOW, MAX_WINDOW)
            .max(count.saturating_mul(4));
        let to = if wanted >= len {
            END
        } else {
            let span = u128::from(END) * wanted as u128 / len.max(1) as u128;
            from.saturating_add(u64::try_from(span).unwrap_or(END))
                .min(END)
        };
        let (mut names, mut keys) = (Vec::new(), Vec::new());
        each_key(&mut |key| {
            let at = position(key);
            if (from..to).contains(&at) {
                keys.push((at, names.len()..names.len() + key.len()));
                names.extend_from_slice(key);
            }
        });
        keys.sort_unstable_by_key(|(at, _)| *at);
        Window {
            epoch,
            from,
            to,
            names: Bytes::from(names),
            keys,
        }
    }

    /// About `count` keys from position `from`; keys sharing a position are never split
    /// between pages, so the next cursor can name the position after the last one.
    fn page(&self, from: u64, count: usize) -> Page {
        let start = self.keys.partition_point(|(at, _)| *at < from);
        let mut end = (start + count).min(self.keys.len());
        while end > start && end < self.keys.len() && self.keys[end].0 == self.keys[end - 1].0 {
            end += 1;
        }
        let next = match self.keys[start..end].last() {
            Some((at, _)) if end < self.keys.len() => at + 1,
            _ => self.to,
        };
        Page {
            cursor: if next >= END {
                0
            } else {
                next << EPOCH_BITS | u64::from(self.epoch)
            },
            keys: self.keys[start..end]
                .iter()
                .map(|(_, name)| self.names.slice(name.clone()))
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;
    use std::collections::BTreeSet;

    fn keys(n: usize) -> Vec<Vec<u8>> {
        (0..n).map(|i| format!("key:{i}").into_bytes()).collect()
    }

    /// Runs a whole iteration over `live()` (re-read at every page) with `count`, returning
    /// every key returned, duplicates included, and the number of pages.
    fn iterate<'a>(
        cursors: &ScanCursors,
        count: usize,
        mut live: impl FnMut(usize) -> Cow<'a, [Vec<u8>]>,
    ) -> (Vec<Vec<u8>>, usize) {
        let (mut cursor, mut seen, mut pages) = (0, Vec::new(), 0);
        loop {
            let now = live(pages);
            let page = cursors.page(cursor, count, now.len(), |visit| {
                now.iter().for_each(|k| visit(k));
            });
            seen.extend(page.keys.iter().map(|k| k.to_vec()));
            pages += 1;
            cursor = page.cursor;
            if cursor == 0 || pages > 100_000 {
                return (seen, pages);
            }
        }
    }

    #[test]
    fn a_full_iteration_returns_every_key_once() {
        for n in [0, 1, 10, 1000, 5000, 100_000] {
            let all = keys(n);
            let cursors = ScanCursors::default();
            let (seen, pages) = iterate(&cursors, 10, |_| Cow::Borrowed(&all));
            let unique: BTreeSet<_> = seen.iter().cloned().collect();
            assert_eq!(seen.len(), n, "{n} keys: a key came twice");
            assert_eq!(unique, all.iter().cloned().collect(), "{n} keys");
            assert!(pages >= n / 10, "{n} keys in {pages} pages of 10");
        }
    }

    #[test]
    fn windows_are_taken_a_bounded_number_of_times() {
        let all = keys(100_000);
        let cursors = ScanCursors::default();
        let mut passes = 0;
        let mut cursor = 0;
        for _ in 0..100_000 {
            let page = cursors.page(cursor, 10, all.len(), |visit| {
                passes += 1;
                all.iter().for_each(|k| visit(k));
            });
            cursor = page.cursor;
            if cursor == 0 {
                break;
            }
        }
        assert_eq!(cursor, 0);
        assert!((6..=12).contains(&passes), "{passes} passes over the keys");
    }

    #[test]
    fn keys_present_throughout_are_returned_while_others_come_and_go() {
        let stable = keys(3000);
        let cursors = ScanCursors::default();
        let (seen, _) = iterate(&cursors, 7, |page| {
            let mut now = stable.clone();
            now.extend((0..page * 3).map(|i| format!("new:{i}").into_bytes()));
            Cow::Owned(now)
        });
        let seen: BTreeSet<_> = seen.into_iter().collect();
        assert!(stable.iter().all(|k| seen.contains(k)));
    }

    #[test]
    fn concurrent_scans_keep_their_own_windows() {
        let all = keys(50_000);
        let cursors = ScanCursors::default();
        let (mut a, mut b) = (0, 0);
        let (mut seen_a, mut seen_b) = (BTreeSet::new(), BTreeSet::new());
        for step in 0..200_000 {
            let (cursor, seen) = if step % 2 == 0 {
                (&mut a, &mut seen_a)
            } else {
                (&mut b, &mut seen_b)
            };
            let page = cursors.page(*cursor, 25, all.len(), |visit| {
                all.iter().for_each(|k| visit(k));
            });
            seen.extend(page.keys);
            *cursor = page.cursor;
            if a == 0 && b == 0 && step > 1 {
                break;
            }
        }
        assert_eq!(seen_a.len(), all.len());
        assert_eq!(seen_b.len(), all.len());
    }

    #[test]
    fn a_window_is_not_used_by_a_scan_that_began_after_it() {
        let cursors = ScanCursors::default();
        let first = keys(5000);
        let page = cursors.page(0, 10, first.len(), |visit| {
            first.iter().for_each(|k| visit(k))
        });
        assert_ne!(page.cursor, 0);
        // A key added now, at a position inside the window the first scan still has cached,
        // belongs to a new scan.
        let last = page.keys.last().map(|k| position(k)).unwrap_or(0);
        let late = (0..1_000_000)
            .map(|i| format!("late:{i}").into_bytes())
            .find(|k| position(k) < last)
            .expect("a key placed early");
        let mut more = first.clone();
        more.push(late.clone());
        let (seen, _) = iterate(&cursors, 10, |_| Cow::Borrowed(&more));
        assert!(seen.contains(&late));
    }

    #[test]
    fn clear_drops_the_windows() {
        let cursors = ScanCursors::default();
        let all = keys(5000);
        let page = cursors.page(0, 10, all.len(), |visit| all.iter().for_each(|k| visit(k)));
        cursors.clear();
        let mut passes = 0;
        cursors.page(page.cursor, 10, all.len(), |visit| {
            passes += 1;
            all.iter().for_each(|k| visit(k));
        });
        assert_eq!(passes, 1);
    }
}
