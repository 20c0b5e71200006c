//! MEMORY: USAGE (what a key takes, in Redis's accounting, see `crate::object`), PURGE,
//! MALLOC-STATS and HELP.

use bytes::Bytes;

use super::connection::help;
use super::Ctx;
use crate::error::{CommandError, CommandResult};
use crate::protocol::Reply;

/// # Format: MEMORY USAGE key [SAMPLES count] | MEMORY PURGE | MEMORY MALLOC-STATS | MEMORY HELP
#[derive(Debug)]
pub enum MemoryCommand {
    /// The key. Herald measures a stream whole, so SAMPLES is checked and not needed.
    Usage(Bytes),
    Purge,
    MallocStats,
    Help,
}

impl MemoryCommand {
    /// Parses `MEMORY <sub> ...`; the table checked the subcommand and its arity.
    pub fn parse(sub: &str, a: &[Bytes]) -> CommandResult<MemoryCommand> {
        Ok(match sub {
            "usage" => {
                // Options are read before the key is looked up, as Redis reads them.
                let mut rest = a[3..].iter();
                while let Some(option) = rest.next() {
                    let count = rest
                        .next()
                        .filter(|_| super::args::is(option, "samples"))
                        .ok_or(CommandError::Syntax)?;
                    let samples = crate::number::parse_i64(count).ok_or_else(|| {
                        CommandError::err("value is not an integer or out of range")
                    })?;
                    if samples < 0 {
                        return Err(CommandError::Syntax);
                    }
                }
                MemoryCommand::Usage(a[2].clone())
            }
            "purge" => MemoryCommand::Purge,
            "malloc-stats" => MemoryCommand::MallocStats,
            "help" => MemoryCommand::Help,
            _ => unreachable!("memory subcommand {sub} has no parser"),
        })
    }

    pub fn execute(self, ctx: &mut Ctx, out: &mut Reply) -> CommandResult {
        match self {
            MemoryCommand::Usage(key) => {
                let _shared = ctx.gate_shared();
                match ctx.db().peek(&key, ctx.now) {
                    Some(entry) => out.int(crate::object::usage(&key, &entry) as i64),
                    None => out.null(),
                }
            }
            MemoryCommand::Purge => {
                crate::memory::let_allocator_purge();
                out.ok();
            }
            // What Redis built without jemalloc answers.
            MemoryCommand::MallocStats => {
                out.bulk(b"Stats not supported for the current allocator")
            }
            MemoryCommand::Help => help(
                out,
                "MEMORY",
                &[
                    "MALLOC-STATS",
                    "    Return internal statistics report from the memory allocator.",
                    "PURGE",
                    "    Attempt to purge dirty pages for reclamation by the allocator.",
                    "USAGE <key> [SAMPLES <count>]",
                    "    Return memory in bytes used by <key> and its value. Nested values are",
                    "    sampled up to <count> times (default: 5, 0 means sample all).",
                ],
            ),
        }
        Ok(())
    }
}
