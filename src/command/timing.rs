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

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// Most calls one run holds, so that a long pipeline still reads the clock now and then and its
/// commands' "now" is never more than about a hundred fast commands old.
const RUN_MAX: u32 = 128;

/// Wall-clock milliseconds for the commands of a batch, derived from the monotonic readings
/// they take anyway: a batch reads the clock once when it starts and once when it is charged.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    unix_ms: u64,
    instant: Instant,
}

impl Clock {
    pub fn now() -> Clock {
        let instant = Instant::now();
        Clock {
            unix_ms: wall_ms_at(instant),
            instant,
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

/// How long the offset between the wall clock and the monotonic clock is trusted before it is
/// read again: a step of the system clock (NTP, `date -s`) reaches deadlines within this.
const WALL_REFRESH_US: u64 = 100_000;

/// The monotonic clock's origin for [`wall_ms_at`].
static ORIGIN: OnceLock<Instant> = OnceLock::new();
/// Unix microseconds minus monotonic microseconds since [`ORIGIN`], as last read (wrapping).
static WALL_OFFSET_US: AtomicU64 = AtomicU64::new(0);
/// Monotonic microseconds when the offset was read, plus one (0: never).
static WALL_READ_AT_US: AtomicU64 = AtomicU64::new(0);

/// Unix milliseconds at the monotonic reading `at`: the monotonic time plus an offset to the
/// wall clock re-read every [`WALL_REFRESH_US`], so that a batch reads one clock, not two.
fn wall_ms_at(at: Instant) -> u64 {
    let origin = *ORIGIN.get_or_init(Instant::now);
    let mono_us = at.saturating_duration_since(origin).as_micros() as u64;
    let read_at = WALL_READ_AT_US.load(Ordering::Acquire);
    let offset = if read_at == 0 || mono_us.saturating_sub(read_at - 1) > WALL_REFRESH_US {
        let unix_us = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_micros() as u64);
        let offset = unix_us.wrapping_sub(mono_us);
        // Threads racing here store offsets read a moment apart; any of them is right.
        WALL_OFFSET_US.store(offset, Ordering::Relaxed);
        WALL_READ_AT_US.store(mono_us + 1, Ordering::Release);
        offset
    } else {
        WALL_OFFSET_US.load(Ordering::Relaxed)
    };
    mono_us.wrapping_add(offset) / 1000
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

/// A command that blocked (XREAD BLOCK, XREADGROUP BLOCK, WAIT, WAITAOF), charged once, when
/// it is answered, with the time its runs took (not the time it waited), as Redis 7.2+
/// charges it: a blocked run is not counted, a run again after a wake-up adds its time, and
/// a timeout or CLIENT UNBLOCK charges what was run so far. The slow log gets it then too,
/// with its arguments as first sent.
#[derive(Debug, Clone, Copy)]
pub struct PendingCall {
    /// The command's index in the table.
    pub index: usize,
    pub took: std::time::Duration,
    /// Its first run copied its arguments for the slow log (the log was on then).
    pub captured: bool,
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
    fn the_batch_clock_agrees_with_the_wall_clock() {
        for _ in 0..3 {
            let before = crate::keyspace::now_ms();
            let clock = Clock::now();
            let after = crate::keyspace::now_ms();
            let ms = clock.unix_ms(clock.instant());
            // One millisecond for the truncation of the offset's two readings.
            assert!(before <= ms + 1 && ms <= after + 1, "{before} {ms} {after}");
            std::thread::sleep(std::time::Duration::from_millis(60));
        }
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
