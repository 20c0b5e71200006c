//! Whether several connections are publishing at once, which decides how a subscriber writes.
//!
//! Why: on loopback most of a small delivery's cost is the write that carries it, so a write
//! should carry as many messages as are about to arrive. A lone publisher's pipelined messages
//! already reach each subscriber as one buffer (a `PublishRun`), and a subscriber that waited
//! for more would only pay for a second scheduling. When several connections publish, their
//! messages arrive one connection at a time within one turn of the event loop; a subscriber
//! woken by the first that waits out the turn writes them all at once.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use crate::client::ClientId;

/// How long after two different connections published that subscribers keep gathering.
const WINDOW_MS: u64 = 100;

/// See the module documentation.
#[derive(Debug, Default)]
pub struct Publishers {
    /// The connection that published last (client ids start at 1; 0 is none yet).
    last: AtomicU64,
    /// When a connection published after another one (Unix milliseconds).
    several_at_ms: AtomicU64,
}

impl Publishers {
    /// Records that `client` published; `now_ms` reads the clock, only when another connection
    /// published last.
    pub fn published(&self, client: ClientId, now_ms: impl FnOnce() -> u64) {
        // A load first: a lone publisher writes nothing, so its runs bounce no cache line.
        if self.last.load(Relaxed) == client.0 {
            return;
        }
        let before = self.last.swap(client.0, Relaxed);
        if before != 0 && before != client.0 {
            self.several_at_ms.store(now_ms(), Relaxed);
        }
    }

    /// Whether different connections published within the last `WINDOW_MS` before `now_ms`.
    pub fn several(&self, now_ms: u64) -> bool {
        now_ms.saturating_sub(self.several_at_ms.load(Relaxed)) < WINDOW_MS
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_publisher_is_not_several() {
        let p = Publishers::default();
        p.published(ClientId(7), || 1_000);
        p.published(ClientId(7), || 1_001);
        assert!(!p.several(1_002));
    }

    #[test]
    fn two_publishers_are_several_for_the_window_only() {
        let p = Publishers::default();
        p.published(ClientId(7), || 1_000);
        p.published(ClientId(8), || 1_000);
        assert!(p.several(1_000));
        assert!(p.several(1_000 + WINDOW_MS - 1));
        assert!(!p.several(1_000 + WINDOW_MS));
        p.published(ClientId(8), || 2_000);
        assert!(!p.several(2_000));
    }
}
