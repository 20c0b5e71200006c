//! Helpers to read typed arguments, with Redis's error for each kind of bad value.

use bytes::Bytes;

use crate::error::{CommandError, CommandResult};
use crate::number::parse_i64;

/// An integer argument (`ERR value is not an integer or out of range` otherwise).
pub fn int(arg: &[u8]) -> CommandResult<i64> {
    parse_i64(arg).ok_or(CommandError::NotInteger)
}

/// A non-negative integer; negatives get `message` (Redis words these per command).
pub fn non_negative(arg: &[u8], message: &str) -> CommandResult<u64> {
    let n = int(arg)?;
    u64::try_from(n).map_err(|_| CommandError::err(message))
}

/// Whether `arg` is `word`, ignoring ASCII case, as Redis compares option names.
pub fn is(arg: &[u8], word: &str) -> bool {
    arg.eq_ignore_ascii_case(word.as_bytes())
}

/// The argument lower-cased, for matching option names.
pub fn lower(arg: &[u8]) -> String {
    String::from_utf8_lossy(arg).to_ascii_lowercase()
}

/// A cursor over a command's options, after its fixed arguments.
pub struct Options<'a> {
    args: &'a [Bytes],
    pos: usize,
}

impl<'a> Options<'a> {
    pub fn new(args: &'a [Bytes], start: usize) -> Self {
        Options { args, pos: start }
    }

    /// The next option word, lower-cased.
    pub fn next_word(&mut self) -> Option<String> {
        let arg = self.args.get(self.pos)?;
        self.pos += 1;
        Some(lower(arg))
    }

    /// The value after an option, or a syntax error when it is missing.
    pub fn value(&mut self) -> CommandResult<&'a Bytes> {
        let arg = self.args.get(self.pos).ok_or(CommandError::Syntax)?;
        self.pos += 1;
        Ok(arg)
    }

    pub fn remaining(&self) -> usize {
        self.args.len().saturating_sub(self.pos)
    }
}
