//! MULTI, EXEC, DISCARD, WATCH and UNWATCH.
//!
//! Queued commands are checked (name, arity, authentication) when queued, as Redis does, and
//! parsed when EXEC runs them, so a syntax error shows inside EXEC's reply array. EXEC holds the
//! keyspace gate exclusively while it runs, so no other client sees the transaction half done.

use bytes::Bytes;

use super::table::Lookup;
use super::{execute, Ctx};
use crate::error::{CommandError, CommandResult};
use crate::protocol::Reply;
use crate::session::Multi;

#[derive(Debug)]
pub enum TransactionCommand {
    /// # Format: MULTI
    Multi,
    /// # Format: EXEC
    Exec,
    /// # Format: DISCARD
    Discard,
    /// # Format: WATCH key [key ...]
    Watch(Vec<Bytes>),
    /// # Format: UNWATCH
    Unwatch,
}

impl TransactionCommand {
    pub fn parse(name: &str, a: &[Bytes]) -> CommandResult<Self> {
        Ok(match name {
            "multi" => TransactionCommand::Multi,
            "exec" => TransactionCommand::Exec,
            "discard" => TransactionCommand::Discard,
            "watch" => TransactionCommand::Watch(a[1..].to_vec()),
            "unwatch" => TransactionCommand::Unwatch,
            _ => unreachable!("transaction command {name} has no parser"),
        })
    }

    pub fn execute(self, ctx: &mut Ctx, out: &mut Reply) -> CommandResult {
        match self {
            TransactionCommand::Multi => {
                if ctx.session.multi.is_some() {
                    return Err(CommandError::NestedMulti);
                }
                ctx.session.multi = Some(Multi::default());
                ctx.session.handle.update(|m| m.multi = 0);
                out.ok();
            }
            TransactionCommand::Discard => {
                if ctx.session.multi.take().is_none() {
                    return Err(CommandError::DiscardWithoutMulti);
                }
                end_transaction(ctx);
                out.ok();
            }
            TransactionCommand::Watch(keys) => {
                if ctx.session.multi.is_some() {
                    return Err(CommandError::WatchInsideMulti);
                }
                let db = ctx.session.db;
                for key in keys {
                    if ctx.session.watched.insert((db, key.clone())) {
                        ctx.state.keyspace.watch(db, key, &ctx.session.dirty);
                    }
                }
                let count = ctx.session.watched.len();
                ctx.session.handle.update(|m| m.watched_keys = count);
                out.ok();
            }
            TransactionCommand::Unwatch => {
                ctx.session.unwatch_all(&ctx.state.keyspace);
                ctx.session.handle.update(|m| m.watched_keys = 0);
                out.ok();
            }
            TransactionCommand::Exec => exec(ctx, out)?,
        }
        Ok(())
    }
}

/// Leaves MULTI without running anything, forgetting watched keys (a refused EXEC).
pub fn discard(ctx: &mut Ctx) {
    ctx.session.multi = None;
    end_transaction(ctx);
}

fn end_transaction(ctx: &mut Ctx) {
    ctx.session.unwatch_all(&ctx.state.keyspace);
    ctx.session.handle.update(|m| {
        m.multi = -1;
        m.watched_keys = 0;
    });
}

fn exec(ctx: &mut Ctx, out: &mut Reply) -> CommandResult {
    let Some(multi) = ctx.session.multi.take() else {
        return Err(CommandError::ExecWithoutMulti);
    };
    let state = ctx.state;
    let _exclusive = state.keyspace.exclusive();
    let broken = ctx.session.watch_broken();
    end_transaction(ctx);
    if multi.aborted {
        return Err(CommandError::ExecAbort);
    }
    if broken {
        out.null_array();
        return Ok(());
    }
    out.array(multi.queued.len());
    let was_in_exec = ctx.in_exec;
    ctx.in_exec = true;
    // Each queued command is timed from its own start, as Redis's `call()` times each one, and
    // EXEC over the whole, as Redis's includes its commands: the first was charged EXEC's
    // unwatching (16 ms after a WATCH of 50k keys), and EXEC only what followed the last one.
    let exec_started = ctx.started;
    for args in multi.queued {
        ctx.started = std::time::Instant::now();
        let replaying = ctx.session.replaying;
        match state
            .commands
            .lookup_after(&args, &mut Default::default(), replaying)
        {
            Lookup::Found(entry) => execute(entry, args, ctx, out),
            // Checked when queued; the table does not change while the server runs.
            _ => out.error(b"ERR unknown command"),
        }
    }
    ctx.in_exec = was_in_exec;
    ctx.started = exec_started;
    // Still under the exclusive gate: the transaction reaches the log as one unit, in order.
    let effects = std::mem::take(&mut ctx.session.exec_effects);
    if !effects.is_empty() {
        ctx.session.last_write = state.persistence.log.append_all(&effects);
    }
    Ok(())
}
