//! Start-up replay of the AOF: every command is run as a client would run it, through the same
//! command path, by a session of its own that no connection owns.
//!
//! What the end of the file may look like decides what happens (newlines written ahead of the
//! last command, [`super::prealloc`]'s filler, are not part of it):
//! - a whole command (or nothing): loaded;
//! - a command cut off by the end of the data, or a MULTI without its EXEC (a crash during a
//!   write): with `aof-load-truncated yes` the file is truncated to the last whole command (the
//!   open MULTI dropped, as Redis does) with a log line, and loaded; with `no`, start-up stops;
//! - bytes that can never be a command, anywhere: start-up stops with the byte offset, and the
//!   file is not modified (it is only ever opened for reading before the replay succeeds).

use std::path::Path;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Instant;

use bytes::{Bytes, BytesMut};

use super::prealloc::logical_len;
use super::resp::{decode, Decoded};
use super::PersistenceError;
use crate::command::table::{flags, Lookup};
use crate::command::{dispatch, Ctx};
use crate::keyspace::now_ms;
use crate::protocol::Reply;
use crate::session::Session;
use crate::state::ServerState;

/// Commands replayed between two updates of the progress INFO reports and two looks at
/// whether a shutdown was asked for (Redis's loader does both every 1024 commands).
pub const PROGRESS_EVERY: u64 = 1024;

/// How a replay ended.
#[derive(Debug, PartialEq, Eq)]
enum End {
    Complete,
    /// Everything from this offset on is an unfinished write.
    CutAt(u64),
    /// A shutdown was asked for before the end.
    Interrupted,
}

#[derive(Debug)]
struct Replayed {
    commands: u64,
    failed: u64,
    end: End,
}

/// Loads the file at `path` into the keyspace; returns where its commands end once loaded
/// (after any truncation; filler may follow, see [`super::prealloc`]). A missing file is an
/// empty one.
pub fn load(state: &Arc<ServerState>, path: &Path) -> Result<u64, PersistenceError> {
    let data = match std::fs::read(path) {
        Ok(data) => Bytes::from(data),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(PersistenceError::io("reading", path, e)),
    };
    // Filler written ahead by a writer that did not shut down gracefully: not commands.
    let data = data.slice(..logical_len(&data));
    if data.is_empty() {
        return Ok(0);
    }
    let started = Instant::now();
    // Redis's fake AOF client: it takes a client id but is not listed, and (being `replaying`)
    // is not counted in INFO's stats, which clients accepted meanwhile already fill.
    let handle = state.clients.unlisted(
        crate::client::Peer {
            addr: "aof-loader".into(),
            fd: -1,
            ..Default::default()
        },
        now_ms(),
    );
    let mut session = Session::new(handle, true);
    session.replaying = true;
    let replayed = replay(state, &mut session, &data, path);
    crate::command::pubsub::unsubscribe_everything(state, &mut session);
    let replayed = replayed?;
    if replayed.failed > 0 {
        tracing::warn!(
            "{} commands in the append only file replied with an error while loading",
            replayed.failed
        );
    }
    let size = match replayed.end {
        End::Interrupted => {
            return Err(PersistenceError::Interrupted {
                path: path.to_owned(),
            })
        }
        End::Complete => data.len() as u64,
        End::CutAt(offset) => {
            if !state.settings.aof_load_truncated.load(Relaxed) {
                return Err(PersistenceError::Truncated {
                    path: path.to_owned(),
                    offset,
                });
            }
            tracing::warn!(
                "!!! Warning: short read while loading the AOF file {}!!! AOF loaded anyway because aof-load-truncated is enabled; truncating it at offset {offset} (the last whole command), dropping {} bytes of an unfinished write",
                path.display(),
                data.len() as u64 - offset
            );
            truncate(path, offset)?;
            offset
        }
    };
    tracing::info!(
        "DB loaded from append only file: {:.3} seconds ({} commands)",
        started.elapsed().as_secs_f64(),
        replayed.commands
    );
    Ok(size)
}

fn truncate(path: &Path, offset: u64) -> Result<(), PersistenceError> {
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(|e| PersistenceError::io("opening to truncate", path, e))?;
    file.set_len(offset)
        .and_then(|()| file.sync_all())
        .map_err(|e| PersistenceError::io("truncating", path, e))
}

fn replay(
    state: &Arc<ServerState>,
    session: &mut Session,
    data: &Bytes,
    path: &Path,
) -> Result<Replayed, PersistenceError> {
    let max_bulk = state.settings.proto_max_bulk_len.load(Relaxed).max(0) as usize;
    let mut replies = BytesMut::new();
    let mut at = 0;
    // Where the open MULTI began: a cut inside a transaction drops the whole transaction.
    let mut multi_at: Option<usize> = None;
    let mut replayed = Replayed {
        commands: 0,
        failed: 0,
        end: End::Complete,
    };
    let progress = &state.persistence.progress;
    while at < data.len() {
        if replayed.commands % PROGRESS_EVERY == 0 {
            progress.loaded_bytes.store(at as u64, Relaxed);
            if state.is_shutting_down() {
                replayed.end = End::Interrupted;
                return Ok(replayed);
            }
        }
        let (args, next) = match decode(data, at, max_bulk) {
            Decoded::Command(args, next) => (args, next),
            Decoded::Incomplete => {
                replayed.end = End::CutAt(multi_at.unwrap_or(at) as u64);
                return Ok(replayed);
            }
            Decoded::Corrupt { offset, reason } => {
                return Err(PersistenceError::Corrupt {
                    path: path.to_owned(),
                    offset: offset as u64,
                    reason,
                });
            }
        };
        let name = String::from_utf8_lossy(&args[0]).to_ascii_lowercase();
        let spec = match state.commands.lookup(&args) {
            Lookup::Found(entry) => entry.spec,
            _ => {
                return Err(PersistenceError::UnknownCommand {
                    path: path.to_owned(),
                    offset: at as u64,
                    name,
                })
            }
        };
        if spec.has(flags::ADMIN) {
            // SHUTDOWN, MONITOR, DEBUG: never an effect; a hand-edited file must not stop us.
            tracing::warn!("Skipping '{name}' at offset {at} of the append only file: not a write");
            at = next;
            continue;
        }
        match name.as_str() {
            "multi" => multi_at = Some(at),
            "exec" | "discard" => multi_at = None,
            _ => {}
        }
        let mut out = Reply::new(&mut replies, session.protocol);
        let mut ctx = Ctx::new(state, session);
        dispatch(args, &mut ctx, &mut out);
        session.blocked = None;
        replayed.commands += 1;
        if replies.first() == Some(&b'-') {
            replayed.failed += 1;
            tracing::debug!(
                "Command at offset {at} of the append only file failed: {}",
                String::from_utf8_lossy(&replies).trim_end()
            );
        }
        replies.clear();
        at = next;
    }
    // The whole file, filler written ahead of the commands included.
    progress
        .loaded_bytes
        .store(progress.total_bytes.load(Relaxed), Relaxed);
    if let Some(start) = multi_at {
        tracing::warn!("Revert incomplete MULTI/EXEC transaction in AOF file");
        replayed.end = End::CutAt(start as u64);
    }
    Ok(replayed)
}
