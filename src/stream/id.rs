//! Stream ids: `<ms>-<seq>`, ordered, and the forms commands accept for them.

use std::fmt;

use crate::error::CommandError;
use crate::number::parse_u64;
use crate::protocol::reply::StackText;

/// An entry's id: milliseconds and a sequence number within them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct StreamId {
    pub ms: u64,
    pub seq: u64,
}

impl StreamId {
    pub const MIN: StreamId = StreamId { ms: 0, seq: 0 };
    pub const MAX: StreamId = StreamId {
        ms: u64::MAX,
        seq: u64::MAX,
    };

    pub fn new(ms: u64, seq: u64) -> StreamId {
        StreamId { ms, seq }
    }

    /// The next id in order, if there is one.
    pub fn next(self) -> Option<StreamId> {
        match self.seq.checked_add(1) {
            Some(seq) => Some(StreamId::new(self.ms, seq)),
            None => self.ms.checked_add(1).map(|ms| StreamId::new(ms, 0)),
        }
    }

    /// The previous id in order, if there is one.
    pub fn prev(self) -> Option<StreamId> {
        match self.seq.checked_sub(1) {
            Some(seq) => Some(StreamId::new(self.ms, seq)),
            None => self.ms.checked_sub(1).map(|ms| StreamId::new(ms, u64::MAX)),
        }
    }

    pub fn is_zero(self) -> bool {
        self == StreamId::MIN
    }

    /// Parses `<ms>` or `<ms>-<seq>`; a bare `<ms>` takes `missing_seq` as its sequence.
    /// `-` and `+` stand for the smallest and largest ids.
    pub fn parse(arg: &[u8], missing_seq: u64) -> Result<StreamId, CommandError> {
        match arg {
            b"-" => return Ok(StreamId::MIN),
            b"+" => return Ok(StreamId::MAX),
            _ => {}
        }
        Self::parse_strict(arg, missing_seq).ok_or_else(invalid_id)
    }

    /// Parses `<ms>` or `<ms>-<seq>` only.
    pub fn parse_strict(arg: &[u8], missing_seq: u64) -> Option<StreamId> {
        match arg.iter().position(|&b| b == b'-') {
            Some(dash) => {
                let ms = parse_u64(&arg[..dash])?;
                let seq = parse_u64(&arg[dash + 1..])?;
                Some(StreamId::new(ms, seq))
            }
            None => parse_u64(arg).map(|ms| StreamId::new(ms, missing_seq)),
        }
    }

    /// A range bound: `-`, `+`, an id, or `(id` for an exclusive one; returns the inclusive id
    /// the bound stands for. An exclusive bound past the extreme id is Redis's "invalid start
    /// (end) ID for the interval".
    pub fn parse_bound(arg: &[u8], is_start: bool) -> Result<StreamId, CommandError> {
        let missing_seq = if is_start { 0 } else { u64::MAX };
        if let Some(rest) = arg.strip_prefix(b"(") {
            let id = StreamId::parse_strict(rest, missing_seq).ok_or_else(invalid_id)?;
            let stepped = if is_start { id.next() } else { id.prev() };
            return stepped.ok_or_else(|| {
                CommandError::err(format!(
                    "invalid {} ID for the interval",
                    if is_start { "start" } else { "end" }
                ))
            });
        }
        StreamId::parse(arg, missing_seq)
    }
}

/// An id's text, `<ms>-<seq>`, formatted on the stack: stream replies write one per entry.
/// At most 41 bytes (two 20-digit numbers and the dash).
pub type IdText = StackText<41>;

impl StreamId {
    pub fn text(&self) -> IdText {
        let mut text = IdText::new();
        text.prepend_digits(self.seq);
        text.prepend_byte(b'-');
        text.prepend_digits(self.ms);
        text
    }
}

impl fmt::Display for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.ms, self.seq)
    }
}

pub fn invalid_id() -> CommandError {
    CommandError::err("Invalid stream ID specified as stream command argument")
}

/// What XADD was asked to use as the new entry's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NewId {
    /// `*`: from the clock.
    Auto,
    /// `<ms>-*`: the given milliseconds, the next sequence.
    AutoSeq(u64),
    /// An explicit id.
    Exact(StreamId),
}

impl NewId {
    pub fn parse(arg: &[u8]) -> Result<NewId, CommandError> {
        if arg == b"*" {
            return Ok(NewId::Auto);
        }
        if let Some(ms) = arg.strip_suffix(b"-*") {
            return parse_u64(ms).map(NewId::AutoSeq).ok_or_else(invalid_id);
        }
        StreamId::parse_strict(arg, 0)
            .map(NewId::Exact)
            .ok_or_else(invalid_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_the_display_form_up_to_the_largest_id() {
        for id in [
            StreamId::MIN,
            StreamId::new(1, 0),
            StreamId::new(1700000000000, 42),
            StreamId::MAX,
        ] {
            assert_eq!(id.text().as_bytes(), id.to_string().as_bytes());
        }
    }

    #[test]
    fn parses_ids_with_and_without_sequence() {
        assert_eq!(StreamId::parse(b"5-3", 0).unwrap(), StreamId::new(5, 3));
        assert_eq!(StreamId::parse(b"5", 0).unwrap(), StreamId::new(5, 0));
        assert_eq!(
            StreamId::parse(b"5", u64::MAX).unwrap(),
            StreamId::new(5, u64::MAX)
        );
        assert_eq!(StreamId::parse(b"-", 0).unwrap(), StreamId::MIN);
        assert_eq!(StreamId::parse(b"+", 0).unwrap(), StreamId::MAX);
        assert!(StreamId::parse(b"5-", 0).is_err());
        assert!(StreamId::parse(b"-5", 0).is_err());
        assert!(StreamId::parse(b"a-1", 0).is_err());
        assert!(StreamId::parse(b"18446744073709551616", 0).is_err());
    }

    #[test]
    fn exclusive_bounds_step_past_the_id() {
        assert_eq!(
            StreamId::parse_bound(b"(5-3", true).unwrap(),
            StreamId::new(5, 4)
        );
        assert_eq!(
            StreamId::parse_bound(b"(5-0", false).unwrap(),
            StreamId::new(4, u64::MAX)
        );
        assert!(StreamId::parse_bound(b"(0-0", false).is_err());
        assert!(StreamId::parse_bound(b"(-", true).is_err());
    }

    #[test]
    fn new_ids_accept_star_forms() {
        assert_eq!(NewId::parse(b"*").unwrap(), NewId::Auto);
        assert_eq!(NewId::parse(b"7-*").unwrap(), NewId::AutoSeq(7));
        assert_eq!(
            NewId::parse(b"7").unwrap(),
            NewId::Exact(StreamId::new(7, 0))
        );
        assert!(NewId::parse(b"*-1").is_err());
    }
}
