//! Durability: an append-only file (AOF) of *resolved effects*, in Redis's AOF command format.
//!
//! - [`resp`]: the file's format, encoding and decoding (pure, no I/O).
//! - [`aof`]: the pending buffer commands append to, and the writer thread that owns the file
//!   (fsync policies, group commit).
//! - [`loader`]: replay at start; a cut-off tail is truncated, corruption elsewhere refuses to
//!   start and leaves the file as it is.
//! - [`prealloc`]: the open file, written ahead of its end so that an fsync carries only data.
//! - [`rewrite`]: BGREWRITEAOF and the automatic trigger: the live state as a minimal command
//!   set, swapped in atomically.
//! - [`keylock`]: per-key ordering of writes and their log entries.
//! - [`streams`]: stream effects (group state as XCLAIM / XGROUP SETID) and a stream as the
//!   commands that rebuild it.
//!
//! # Resolved effects: what a handler records
//! A write command records *what happened*, not what was asked, so that a replay reproduces the
//! exact state and so that the file loads into a real Redis (`redis-cli --pipe`): absolute
//! deadlines instead of relative ones, generated ids instead of `*`, results instead of
//! conditions. A handler records its effects with [`Ctx::propagate`](crate::command::Ctx::propagate),
//! one call per command of the effect, *after* the keyspace has changed and *while it still
//! holds the keyspace gate* (the guard from `ctx.gate_shared()` / `gate_exclusive()`), so that
//! a rewrite snapshot (taken under the exclusive gate) never sees a change without its effect:
//!
//! ```ignore
//! let _shared = ctx.gate_shared();
//! // ... change the stream ...
//! ctx.propagate(&[b"XADD", &key, id.to_string().as_bytes(), b"field", b"value"]);
//! ```
//!
//! Rules, as Redis's `alsoPropagate` follows them:
//! - A command that changed nothing records nothing (SET NX that lost, EXPIRE refused, XACK of
//!   ids not pending). A failed command records nothing.
//! - Time becomes absolute: `SET k v PXAT <ms>`, `PEXPIREAT k <ms>`, `XCLAIM ... TIME <ms>`.
//! - Choices the server made become explicit: XADD's generated id, trims as what they removed
//!   (`MAXLEN =`/`MINID =` of the exact result, never `~`), a group read as the pending-entry and
//!   last-id changes it made (`XCLAIM ... FORCE JUSTID LASTID`, `XGROUP SETID ... ENTRIESREAD`).
//! - A key that expires is recorded as `DEL` by the keyspace when it leaves the map, whether the
//!   active expiry cycle or a command found it (Redis's `deleteExpiredKeyAndPropagate`): replay
//!   runs with expiry paused, so a key recreated after its expiry must find the DEL first.
//! - Inside EXEC the effects are collected and appended as one unit, wrapped in MULTI/EXEC when
//!   there are several; nothing to do for the handler.
//! - The database is implied: `propagate` records the session's current database and the log
//!   writes `SELECT` when it changes.
//!
//! Keys are ordered for the log by [`keylock`]: [`crate::command::execute`] locks the keys a
//! write command names (from the command table's key positions) before it runs. A write whose
//! keys are not at fixed positions must be listed in `command::write_keys` (XREADGROUP is).
//!
//! # Known differences from Redis
//! - One file (`dir/appendfilename`), not Redis 7's multi-part manifest directory: the file is a
//!   plain command stream that `redis-cli --pipe` loads and Redis 7 loads as a legacy AOF.
//! - No RDB preamble: a rewrite writes commands.
//! - `dir` cannot be changed with CONFIG SET. `appendonly` can, as in Redis: turning it on
//!   starts a rewrite whose file becomes the AOF (see [`Persistence::enable`]).
//! - A failed write or fsync of the file stops the server (Redis stops on a failed `always`
//!   fsync and otherwise refuses writes until the disk recovers).

pub mod aof;
pub mod keylock;
pub mod loader;
pub mod prealloc;
pub mod resp;
pub mod rewrite;
pub mod streams;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::keyspace::now_ms;
use crate::state::ServerState;

/// Why the AOF could not be loaded or opened.
#[derive(Debug, thiserror::Error)]
pub enum PersistenceError {
    #[error("{action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("Bad file format reading the append only file {path} at offset {offset}: {reason}. The file was not modified; redis-check-aof can inspect it")]
    Corrupt {
        path: PathBuf,
        offset: u64,
        reason: String,
    },
    #[error("Unexpected end of file reading the append only file {path} at offset {offset} (a command cut off by a crash). aof-load-truncated is off, so the file was not modified")]
    Truncated { path: PathBuf, offset: u64 },
    #[error("Unknown command '{name}' reading the append only file {path} at offset {offset}")]
    UnknownCommand {
        path: PathBuf,
        offset: u64,
        name: String,
    },
    /// A shutdown was asked for (SIGTERM, SHUTDOWN) while the file was being replayed: the
    /// server stops without writing to the file.
    #[error(
        "Shutdown requested while loading the append only file {path}; the file was not modified"
    )]
    Interrupted { path: PathBuf },
}

impl PersistenceError {
    pub fn io(action: &'static str, path: &std::path::Path, source: std::io::Error) -> Self {
        PersistenceError::Io {
            action,
            path: path.to_owned(),
            source,
        }
    }
}

/// How far the replay of the file has come, for INFO's `loading_*` fields (Redis's
/// `loading_start_time`, `loading_total_bytes`, `loading_loaded_bytes`).
#[derive(Debug, Default)]
pub struct LoadingProgress {
    /// Unix seconds when the replay began.
    pub started_s: AtomicU64,
    /// The file's size when loading began.
    pub total_bytes: AtomicU64,
    /// Bytes replayed so far; moved on every [`loader::PROGRESS_EVERY`] commands.
    pub loaded_bytes: AtomicU64,
}

/// The server's persistence: the log, its writer, the rewrite, the loading flag.
///
/// The AOF's states, as Redis's `aof_state`: off; being turned on (`enabled`, effects recorded
/// into the rewrite that will become the file, no writer yet: Redis's `AOF_WAIT_REWRITE`);
/// on (`enabled`, recorded, and a writer releases each client's replies once its effects are
/// written).
#[derive(Debug)]
pub struct Persistence {
    /// `appendonly yes`: the AOF is on or being turned on (INFO `aof_enabled`).
    enabled: AtomicBool,
    /// The writer runs: replies wait for their effects to be written (fsynced under `always`).
    writing: AtomicBool,
    /// Held while the AOF is turned off and while a rewrite turns it on, so that a writer is
    /// never started for a file that was turned off meanwhile.
    transition: Mutex<()>,
    /// The writer has been told to stop (shutdown): nothing appended from now on is written.
    stopped: AtomicBool,
    /// Replaying the file (INFO `loading`): commands without Redis's `loading` flag are
    /// refused with `-LOADING` meanwhile.
    loading: AtomicBool,
    pub progress: LoadingProgress,
    /// Shared with the keyspace, which logs expiries into it as they happen.
    pub log: Arc<aof::Log>,
    pub keys: keylock::KeyLocks,
    pub rewrite: rewrite::RewriteStatus,
    writer: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl Persistence {
    /// `latency` receives the AOF's slow writes and fsyncs.
    pub fn new(enabled: bool, latency: Arc<crate::latency::Monitor>) -> Persistence {
        Persistence {
            enabled: AtomicBool::new(enabled),
            writing: AtomicBool::new(false),
            transition: Mutex::new(()),
            stopped: AtomicBool::new(false),
            loading: AtomicBool::new(false),
            progress: LoadingProgress::default(),
            log: Arc::new(aof::Log::with_latency(latency)),
            keys: keylock::KeyLocks::default(),
            rewrite: rewrite::RewriteStatus::default(),
            writer: Mutex::new(None),
        }
    }

    /// `appendonly yes`: the AOF is on or being turned on.
    pub fn is_enabled(&self) -> bool {
        self.enabled.load(Ordering::Acquire)
    }

    /// Whether writes must record their effects: the AOF is on or being turned on.
    pub fn is_active(&self) -> bool {
        self.log.is_recording()
    }

    /// Whether a writer runs, so that replies wait for their effects to be written.
    pub fn is_writing(&self) -> bool {
        self.writing.load(Ordering::Acquire)
    }

    pub fn is_loading(&self) -> bool {
        self.loading.load(Ordering::Acquire)
    }

    /// Marks the server as loading from the moment it is bound, when the file is on: clients
    /// accepted before the replay thread starts must already be told `-LOADING`, and INFO
    /// the file's size (Redis's `loading_total_bytes`, counted before any byte is read).
    pub fn begin_loading(&self, path: &std::path::Path) {
        if !self.is_enabled() {
            return;
        }
        let size = std::fs::metadata(path).map_or(0, |m| m.len());
        self.progress
            .started_s
            .store(now_ms() / 1000, Ordering::Relaxed);
        self.progress.total_bytes.store(size, Ordering::Relaxed);
        self.progress.loaded_bytes.store(0, Ordering::Relaxed);
        self.loading.store(true, Ordering::Release);
    }

    /// Loads the file (creating it if missing) and starts the writer. Called once, after
    /// [`Persistence::begin_loading`], on a thread of its own, while clients are already
    /// accepted (and refused with `-LOADING` until it returns, as Redis does); blocks for the
    /// length of the replay.
    pub fn start(state: &Arc<ServerState>) -> Result<(), PersistenceError> {
        let me = &state.persistence;
        if !me.is_enabled() {
            return Ok(());
        }
        state.keyspace.pause_expiry(true);
        let loaded = Persistence::load_and_open(state);
        state.keyspace.pause_expiry(false);
        // Released only once the writer runs and effects are recorded: a write accepted after
        // this must reach the file. A server whose file did not load stays loading until it
        // exits, so that no write is acknowledged that nothing records.
        if loaded.is_ok() {
            me.loading.store(false, Ordering::Release);
        }
        loaded
    }

    fn load_and_open(state: &Arc<ServerState>) -> Result<(), PersistenceError> {
        let me = &state.persistence;
        let path = state.settings.aof_path();
        rewrite::remove_stale_temp_files(&state.settings.options.dir);
        let size = loader::load(state, &path)?;
        me.log.stats.current_size.store(size, Ordering::Relaxed);
        me.log.stats.base_size.store(size, Ordering::Relaxed);
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| PersistenceError::io("opening", &path, e))?;
        let len = file
            .metadata()
            .map_err(|e| PersistenceError::io("opening", &path, e))?
            .len();
        let file = prealloc::AofFile::new(file, size, len);
        if size == 0 {
            aof::fsync_dir(&path)
                .map_err(|e| PersistenceError::io("syncing the directory of", &path, e))?;
        }
        me.log.open(file, path.clone());
        me.begin_recording(state);
        me.start_writer(state)
            .map_err(|e| PersistenceError::io("starting the writer for", &path, e))
    }

    fn start_writer(&self, state: &Arc<ServerState>) -> std::io::Result<()> {
        self.log.register_for_idle_kicks();
        let handle = aof::Writer::new(state.settings.aof_path(), state.clone()).spawn()?;
        if let Ok(mut w) = self.writer.lock() {
            *w = Some(handle);
        }
        self.writing.store(true, Ordering::Release);
        // A WAITAOF that waited for the file to be on looks again.
        self.log.wake_fsync_waiters();
        Ok(())
    }

    /// `CONFIG SET appendonly yes`, as Redis's `startAppendOnly`: the AOF counts as on at once
    /// (CONFIG GET, INFO `aof_enabled`), and a rewrite writes the current state to a new file
    /// that becomes the AOF when it is complete, with every write made meanwhile; until then
    /// replies do not wait for the file. Inside EXEC, or while another rewrite runs, the
    /// rewrite is scheduled (the background cycle starts it).
    pub fn enable(state: &Arc<ServerState>, in_exec: bool) -> Result<(), rewrite::RewriteError> {
        let me = &state.persistence;
        if me.enabled.swap(true, Ordering::AcqRel) {
            return Ok(());
        }
        if in_exec {
            me.rewrite.schedule();
            return Ok(());
        }
        match rewrite::start(state) {
            Err(rewrite::RewriteError::InProgress) => {
                me.rewrite.schedule();
                Ok(())
            }
            Err(e) => {
                me.enabled.store(false, Ordering::Release);
                Err(e)
            }
            Ok(()) => Ok(()),
        }
    }

    /// Called by the rewrite at its snapshot, under the exclusive keyspace gate: when the AOF
    /// is being turned on, effects are recorded from this instant, into the rewrite's buffer.
    fn begin_recording_if_enabling(&self, state: &ServerState) {
        if self.is_enabled() && !self.is_active() && !self.is_loading() {
            self.begin_recording(state);
        }
    }

    /// From now on every write records its effects, expiries included.
    fn begin_recording(&self, state: &ServerState) {
        self.log.begin_recording();
        state.keyspace.log_expiries_to(self.log.clone());
    }

    /// The end of the rewrite that turns the AOF on: its file becomes the AOF and the writer
    /// starts. Refused if the AOF was turned off (or the server is stopping) meanwhile.
    fn finish_enabling(
        &self,
        state: &Arc<ServerState>,
        file: std::fs::File,
        temp: &std::path::Path,
    ) -> std::io::Result<u64> {
        let _transition = self.transition.lock().unwrap_or_else(|p| p.into_inner());
        if !self.is_active() || state.is_shutting_down() || self.is_stopped() {
            return Err(std::io::Error::other(
                "the append only file was turned off during the rewrite",
            ));
        }
        let path = state.settings.aof_path();
        let size = self.log.install(file, temp, &path)?;
        self.start_writer(state)?;
        tracing::info!("The append only file is on");
        Ok(size)
    }

    /// Turning the AOF on failed (the rewrite did): recording stops, and, unless the AOF was
    /// turned off meanwhile, the rewrite is tried again, as Redis retries it from `serverCron`.
    fn enabling_failed(&self) {
        self.log.end_recording();
        if self.is_enabled() {
            self.rewrite.schedule();
        }
    }

    /// `CONFIG SET appendonly no`, as Redis's `stopAppendOnly`: a running rewrite gives up,
    /// what is queued is written and fsynced, and the file is closed. Holds the keyspace gate
    /// exclusively meanwhile (`in_exec`: EXEC already does), so that no command is half-way
    /// between its change and its effect.
    pub fn disable(&self, state: &ServerState, in_exec: bool) {
        let _exclusive = (!in_exec).then(|| state.keyspace.exclusive());
        let _transition = self.transition.lock().unwrap_or_else(|p| p.into_inner());
        self.enabled.store(false, Ordering::Release);
        // As Redis's stopAppendOnly: a scheduled rewrite (one that would turn the file on)
        // is dropped, and a running one gives up.
        self.rewrite.unschedule();
        self.rewrite.cancel();
        self.log.end_recording();
        self.log.stop_rewrite_buffer();
        if self.writing.swap(false, Ordering::AcqRel) {
            // Releases every client waiting on its effects: nothing more is appended.
            self.log.write_through(crate::config::FsyncPolicy::Always);
            let handle = self.writer.lock().ok().and_then(|mut w| w.take());
            if let Some(handle) = handle {
                aof::Writer::stop(&self.log);
                let _ = handle.join();
            }
            self.log.close();
            tracing::info!("The append only file is off");
        }
        // A WAITAOF waiting for the file is answered with an error now.
        self.log.wake_fsync_waiters();
    }

    /// Whether every effect up to `seq` is fsynced to the AOF (WAITAOF's local count, Redis's
    /// `fsynced_reploff >= woff`): never while the file is off or still being turned on.
    pub fn fsynced_through(&self, seq: u64) -> bool {
        self.is_writing() && self.log.fsynced() >= seq
    }

    /// Whether the writer was stopped (a rewrite must not wait for it).
    pub fn is_stopped(&self) -> bool {
        self.stopped.load(Ordering::Acquire)
    }

    /// Writes and fsyncs what is queued, then stops the writer (graceful shutdown).
    ///
    /// Recording stays on: a straggling connection's effects still queue, so under `always`
    /// its client waits (and is disconnected by the shutdown) rather than being acknowledged
    /// for a write no writer will make.
    ///
    /// A rewrite still running gives up first and removes its temp file, as Redis kills a
    /// rewriting child at shutdown; one already handing its file to the writer finishes.
    pub fn shutdown(&self) {
        if self.rewrite.in_progress() {
            tracing::warn!("There is a background rewrite of the AOF running. Stopping it!");
            // It looks for the shutdown every 64 KB it writes.
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
            while self.rewrite.in_progress() && std::time::Instant::now() < deadline {
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
        }
        let _transition = self.transition.lock().unwrap_or_else(|p| p.into_inner());
        self.stopped.store(true, Ordering::Release);
        let handle = self.writer.lock().ok().and_then(|mut w| w.take());
        if let Some(handle) = handle {
            aof::Writer::stop(&self.log);
            let _ = handle.join();
        }
    }

    /// What a connection must wait for before sending the replies of the batch it just ran:
    /// every effect appended so far released by the writer (fsynced under `always`, written
    /// otherwise). Waiting for all of them, not just the batch's own, also keeps a reader from
    /// seeing (and acting on) a value that a crash could still take away, as Redis does by
    /// writing (and under `always` fsyncing) the file before it writes any reply.
    pub fn release_target(&self) -> Option<u64> {
        if !self.is_writing() {
            return None;
        }
        let target = self.log.appended();
        (self.log.released() < target).then_some(target)
    }
}
