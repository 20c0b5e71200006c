//! The clock commands read, and the INFO commandstats calls and time they are charged.
//!
//! Reading the monotonic clock after every command (a vDSO `clock_gettime`) and adding to three
//! shared counters (three locked instructions) cost 7–9 % of a pipelined PUBLISH or PING
//! (A/B, `benches/`). So a run of one fast command (Redis's `CMD_FAST`: O(1) or O(log N) work,
//! microseconds each) shares the clock reading taken at its start and is charged once, when it
//! ends: at another command, after [`RUN_MAX`] calls, or at the end of the batch. Every other
//! command reads the clock after it runs, as before. What a client can observe is unchanged:
//! the counters are settled before any other command of the connection runs (INFO included)
//! and before its replies are written.

use std::time::Instant;

use crate::keyspace::now_ms;

/// Most calls one run holds, so that a long pipeline still reads the clock now and then and its
/// commands' "now" is never more than a few dozen fast commands old.
const RUN_MAX: u32 = 32;

/// Wall-clock milliseconds for the commands of a batch, derived from the monotonic readings
/// they take anyway, so a batch reads the wall clock once.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    unix_ms: u64,
    instant: Instant,
}

impl Clock {
    pub fn now() -> Clock {
        Clock {
            unix_ms: now_ms(),
            instant: Instant::now(),
        }
    }

    /// When this clock was read.
    pub fn instant(&self) -> Instant {
        self.instant
    }

    /// Unix milliseconds at `at`, a monotonic reading taken after this clock's.
    pub fn unix_ms(&self, at: Instant) -> u64 {
        self.unix_ms + at.saturating_duration_since(self.instant).as_millis() as u64
    }
}

/// Calls of one fast command that ran since the context's `started` and are not yet in its
/// counters.
#[derive(Debug, Default)]
pub struct Tally {
    /// The command's index in the table, and how many calls.
    pending: Option<(usize, u32)>,
}

impl Tally {
    /// Whether a call of the command at `index` can join the pending run.
    pub fn continues(&self, index: usize) -> bool {
        matches!(self.pending, Some((i, calls)) if i == index && calls < RUN_MAX)
    }

    /// Counts a call of the command at `index`; the caller settled any other command's run.
    pub fn add(&mut self, index: usize) {
        match &mut self.pending {
            Some((_, calls)) => *calls += 1,
            None => self.pending = Some((index, 1)),
        }
    }

    /// The pending run, if any, leaving none.
    pub fn take(&mut self) -> Option<(usize, u32)> {
        self.pending.take()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_is_one_command_and_at_most_run_max_calls() {
        let mut tally = Tally::default();
        assert!(!tally.continues(3));
        tally.add(3);
        assert!(tally.continues(3));
        assert!(!tally.continues(4));
        for _ in 1..RUN_MAX {
            tally.add(3);
        }
        assert!(!tally.continues(3));
        assert_eq!(tally.take(), Some((3, RUN_MAX)));
        assert_eq!(tally.take(), None);
    }

    #[test]
    fn unix_ms_follows_the_monotonic_clock() {
        let clock = Clock::now();
        let later = clock.instant() + std::time::Duration::from_millis(1500);
        assert_eq!(clock.unix_ms(later), clock.unix_ms(clock.instant()) + 1500);
        // A reading from before the clock's (another thread's) does not go back in time.
        if let Some(earlier) = clock
            .instant()
            .checked_sub(std::time::Duration::from_millis(5))
        {
            assert_eq!(clock.unix_ms(earlier), clock.unix_ms(clock.instant()));
        }
    }
}
