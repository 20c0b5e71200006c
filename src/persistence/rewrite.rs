//! AOF rewrite (BGREWRITEAOF, and automatically when the file outgrows the state it holds).
//!
//! Redis forks and lets the child serialize a copy-on-write image. Herald instead copies the
//! keyspace under the exclusive keyspace gate (strings share their bytes; streams are copied),
//! and at that same instant starts copying every new effect into the log's rewrite buffer. A
//! thread then serializes the copy as a minimal command set into `temp-rewriteaof-bg-<pid>.aof`
//! while clients keep being served, appends the buffered effects, fsyncs, and hands the file to
//! the writer, which appends the last buffered effects with appends paused, fsyncs, renames the
//! file over the AOF and fsyncs the directory (see [`super::aof::Writer`]).
//!
//! A crash at any point leaves a loadable file: until the rename the old file is complete and
//! still written; after it the new file is complete (fsynced before the rename). A temp file
//! left by a crash is removed at the next start; a shutdown stops a running rewrite and removes
//! its temp file, as Redis kills its rewriting child.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::aof::{fsync_dir, Switch, Tail};
use crate::keyspace::{now_ms, Entry, Value};
use crate::state::ServerState;

/// What INFO persistence reports about rewrites.
#[derive(Debug)]
pub struct RewriteStatus {
    in_progress: AtomicBool,
    /// Asked for inside EXEC: started by the background cycle once the transaction is over.
    scheduled: AtomicBool,
    pub rewrites: AtomicU64,
    /// Failed rewrites since the last one that succeeded.
    pub consecutive_failures: AtomicU64,
    last_ok: AtomicBool,
    /// Seconds the last rewrite took; -1 before the first.
    last_secs: AtomicI64,
    started: Mutex<Option<Instant>>,
    /// The AOF was turned off: the running rewrite gives up.
    cancelled: AtomicBool,
    /// After repeated failures, scheduled and automatic rewrites wait (Redis's
    /// `aofRewriteLimited`): the current delay, and until when.
    limit: Mutex<(u64, Option<Instant>)>,
}

impl Default for RewriteStatus {
    fn default() -> Self {
        RewriteStatus {
            in_progress: AtomicBool::new(false),
            scheduled: AtomicBool::new(false),
            rewrites: AtomicU64::new(0),
            consecutive_failures: AtomicU64::new(0),
            last_ok: AtomicBool::new(true),
            last_secs: AtomicI64::new(-1),
            started: Mutex::new(None),
            cancelled: AtomicBool::new(false),
            limit: Mutex::new((0, None)),
        }
    }
}

impl RewriteStatus {
    pub fn in_progress(&self) -> bool {
        self.in_progress.load(Relaxed)
    }

    pub fn is_scheduled(&self) -> bool {
        self.scheduled.load(Relaxed)
    }

    /// Asks the background cycle to start a rewrite (BGREWRITEAOF inside EXEC: the snapshot
    /// must not see the transaction's changes before its effects reach the log).
    pub fn schedule(&self) {
        self.scheduled.store(true, Relaxed);
    }

    /// Drops a scheduled rewrite (the AOF was turned off).
    pub fn unschedule(&self) {
        self.scheduled.store(false, Relaxed);
    }

    /// Makes the running rewrite, if any, give up (the AOF was turned off).
    pub fn cancel(&self) {
        self.cancelled.store(true, Relaxed);
    }

    fn is_cancelled(&self) -> bool {
        self.cancelled.load(Relaxed)
    }

    /// Whether a scheduled or automatic rewrite must wait: after three failures in a row, one
    /// minute, doubling up to an hour, as Redis's `aofRewriteLimited`. BGREWRITEAOF does not.
    fn limited(&self) -> bool {
        let Ok(mut limit) = self.limit.lock() else {
            return false;
        };
        if self.consecutive_failures.load(Relaxed) < 3 {
            *limit = (0, None);
            return false;
        }
        if let Some(at) = limit.1 {
            if Instant::now() < at {
                return true;
            }
            limit.1 = None;
            return false;
        }
        let minutes = (limit.0 * 2).clamp(1, 60);
        *limit = (
            minutes,
            Some(Instant::now() + Duration::from_secs(minutes * 60)),
        );
        tracing::warn!(
            "Background AOF rewrite has repeatedly failed and triggered the limit, will retry in {minutes} minutes"
        );
        true
    }

    pub fn last_ok(&self) -> bool {
        self.last_ok.load(Relaxed)
    }

    pub fn last_secs(&self) -> i64 {
        self.last_secs.load(Relaxed)
    }

    /// Seconds the running rewrite has taken so far; -1 when none runs.
    pub fn current_secs(&self) -> i64 {
        self.started
            .lock()
            .ok()
            .and_then(|s| *s)
            .map_or(-1, |s| s.elapsed().as_secs() as i64)
    }
}

/// Why a rewrite did not start.
#[derive(Debug, thiserror::Error)]
pub enum RewriteError {
    #[error("Background append only file rewriting already in progress")]
    InProgress,
    #[error("Can't start the AOF rewrite thread: {0}")]
    Spawn(io::Error),
}

/// One database's keys at the snapshot instant.
type Snapshot = Vec<(usize, Vec<(Bytes, Entry)>)>;

/// Starts a rewrite in the background. Takes the keyspace gate exclusively for the snapshot,
/// so the caller must hold no part of it.
pub fn start(state: &Arc<ServerState>) -> Result<(), RewriteError> {
    let status = &state.persistence.rewrite;
    if status.in_progress.swap(true, Relaxed) {
        return Err(RewriteError::InProgress);
    }
    if let Ok(mut s) = status.started.lock() {
        *s = Some(Instant::now());
    }
    let now = now_ms();
    let snapshot: Snapshot = {
        let _exclusive = state.keyspace.exclusive();
        status.cancelled.store(false, Relaxed);
        let persistence = &state.persistence;
        persistence.begin_recording_if_enabling(state);
        if persistence.is_active() {
            persistence.log.start_rewrite_buffer();
        }
        (0..state.keyspace.databases())
            .map(|db| (db, state.keyspace.db(db).snapshot(now)))
            .filter(|(_, keys)| !keys.is_empty())
            .collect()
    };
    tracing::info!("Background append only file rewriting started");
    let thread_state = state.clone();
    let spawned = std::thread::Builder::new()
        .name("herald-aof-rewrite".into())
        .spawn(move || run(&thread_state, snapshot));
    if let Err(e) = spawned {
        state.persistence.log.stop_rewrite_buffer();
        finish(state, false);
        return Err(RewriteError::Spawn(e));
    }
    Ok(())
}

/// Starts a rewrite when the file has grown past `auto-aof-rewrite-percentage` of its size
/// after the last rewrite, and past `auto-aof-rewrite-min-size` (the background cycle calls this).
pub fn maybe_start_automatic(state: &Arc<ServerState>) {
    let p = &state.persistence;
    if p.rewrite.in_progress() || state.is_shutting_down() {
        return;
    }
    if p.rewrite.is_scheduled() && !p.rewrite.limited() {
        p.rewrite.scheduled.store(false, Relaxed);
        if let Err(e) = start(state) {
            tracing::warn!("{e}");
        }
        return;
    }
    if !p.is_active() {
        return;
    }
    let percentage = state.settings.auto_aof_rewrite_percentage.load(Relaxed);
    let min_size = state.settings.auto_aof_rewrite_min_size.load(Relaxed);
    let size = p.log.stats.current_size.load(Relaxed);
    let base = p.log.stats.base_size.load(Relaxed).max(1);
    if percentage == 0 || size < min_size {
        return;
    }
    let growth = (size.saturating_sub(base) * 100 / base) as i64;
    if growth >= percentage as i64 && !p.rewrite.limited() {
        tracing::info!("Starting automatic rewriting of AOF on {growth}% growth");
        if let Err(e) = start(state) {
            tracing::warn!("{e}");
        }
    }
}

fn run(state: &Arc<ServerState>, snapshot: Snapshot) {
    let dir = &state.settings.options.dir;
    let temp = dir.join(format!("temp-rewriteaof-bg-{}.aof", std::process::id()));
    let result = write_file(state, &temp, snapshot);
    let ok = match result {
        Ok(size) => {
            tracing::info!("Background AOF rewrite finished successfully ({size} bytes)");
            true
        }
        Err(e) => {
            let persistence = &state.persistence;
            persistence.log.stop_rewrite_buffer();
            let _ = std::fs::remove_file(&temp);
            tracing::warn!("Background AOF rewrite failed: {e}");
            if persistence.is_active() && !persistence.is_writing() {
                persistence.enabling_failed();
            }
            false
        }
    };
    finish(state, ok);
}

fn finish(state: &ServerState, ok: bool) {
    let status = &state.persistence.rewrite;
    let took = status
        .started
        .lock()
        .ok()
        .and_then(|mut s| s.take())
        .map_or(0, |s| s.elapsed().as_secs() as i64);
    status.last_secs.store(took, Relaxed);
    // Given up because the AOF was turned off: not a failure (Redis kills that child with the
    // one signal its handler does not count as an error).
    if !ok && status.is_cancelled() {
        status.in_progress.store(false, Relaxed);
        return;
    }
    status.last_ok.store(ok, Relaxed);
    if ok {
        status.rewrites.fetch_add(1, Relaxed);
        status.consecutive_failures.store(0, Relaxed);
    } else {
        status.consecutive_failures.fetch_add(1, Relaxed);
    }
    status.in_progress.store(false, Relaxed);
}

/// Writes the snapshot and everything buffered since, and puts the file in place.
fn write_file(state: &Arc<ServerState>, temp: &Path, snapshot: Snapshot) -> io::Result<u64> {
    let path = state.settings.aof_path();
    let persistence = &state.persistence;
    let stopping = || state.is_shutting_down() || persistence.rewrite.is_cancelled();
    let mut out = BufWriter::with_capacity(1 << 16, File::create(temp)?);
    write_snapshot(&mut out, snapshot, stopping)?;
    let mut file = out.into_inner().map_err(|e| e.into_error())?;
    if !persistence.is_active() {
        // No writer (appendonly no): the snapshot is the whole file.
        file.sync_all()?;
        std::fs::rename(temp, &path)?;
        fsync_dir(&path)?;
        return file.metadata().map(|m| m.len());
    }
    // Catch up with the effects buffered meanwhile, so that the writer's final step, during
    // which appends wait, has little left to write.
    for _ in 0..16 {
        let chunk = persistence.log.drain_rewrite_buffer();
        file.write_all(&chunk)?;
        if chunk.len() < 64 * 1024 {
            break;
        }
    }
    file.sync_data()?;
    if stopping() {
        return Err(io::Error::other("the append only file was turned off"));
    }
    if !persistence.is_writing() {
        // Turning the AOF on: no writer yet; this file becomes the AOF and its writer starts.
        return persistence.finish_enabling(state, file, temp);
    }
    let (done, result) = std::sync::mpsc::channel();
    persistence.log.request_switch(Switch {
        file,
        temp_path: temp.to_owned(),
        done,
    });
    loop {
        match result.recv_timeout(Duration::from_millis(200)) {
            Ok(outcome) => return outcome,
            // The writer may stop before it takes the file: a shutdown, the AOF turned off.
            Err(std::sync::mpsc::RecvTimeoutError::Timeout)
                if !persistence.is_stopped() && persistence.is_writing() => {}
            Err(_) => return Err(io::Error::other("the server stopped during the rewrite")),
        }
    }
}

/// Serializes a snapshot as commands: per database a SELECT, then per key the commands that
/// rebuild it. Gives up, between two 64 KB writes, once `stopping` says the server is shutting
/// down: Redis kills a rewriting child at shutdown and removes its temp file, and the caller
/// removes this one.
fn write_snapshot(
    out: &mut impl Write,
    snapshot: Snapshot,
    stopping: impl Fn() -> bool,
) -> io::Result<()> {
    let mut tail = Tail::default();
    for (db, keys) in snapshot {
        for (key, entry) in keys {
            rewrite_entry(&mut tail, db, &key, &entry);
            if tail.buf.len() >= 1 << 16 {
                if stopping() {
                    return Err(io::Error::other("the server is shutting down"));
                }
                out.write_all(&tail.buf)?;
                tail.buf.clear();
            }
        }
    }
    out.write_all(&tail.buf)?;
    out.flush()
}

/// The commands that rebuild one key: its value, then its deadline.
pub fn rewrite_entry(tail: &mut Tail, db: usize, key: &[u8], entry: &Entry) {
    match &entry.value {
        Value::String(value) => tail.push(db, &[b"SET", key, value]),
        Value::Stream(stream) => super::streams::rewrite_stream(tail, db, key, stream),
    }
    if let Some(at) = entry.expire_at() {
        tail.push(db, &[b"PEXPIREAT", key, at.to_string().as_bytes()]);
    }
}

/// Removes rewrite temp files a crash left in `dir`.
pub fn remove_stale_temp_files(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with("temp-rewriteaof-") && name.ends_with(".aof") {
            let path: PathBuf = entry.path();
            match std::fs::remove_file(&path) {
                Ok(()) => {
                    tracing::info!("Removed {} left by an interrupted rewrite", path.display())
                }
                Err(e) => tracing::warn!("Could not remove {}: {e}", path.display()),
            }
        }
    }
}
