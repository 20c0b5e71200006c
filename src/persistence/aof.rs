//! The append side of the AOF: commands queue encoded effects here, and one writer thread owns
//! the file, writes what is queued, and fsyncs it as `appendfsync` says.
//!
//! ### Group commit
//! Appending only copies bytes into [`Log`]'s pending buffer under a mutex and gives them a
//! sequence number. Whoever writes takes *everything* queued at once, writes it with one
//! `write`, and (under `always`) one `fdatasync`, then publishes the highest sequence number it
//! has *released*. A connection holds its batch's replies back until `released >= appended`
//! (see [`super::Persistence::release_target`]), so under `always` nothing is acknowledged
//! before it is on disk, and the clients that queued effects while the previous fsync ran share
//! the next.
//!
//! Who writes, as Redis's event loop does it (write the AOF buffer in `beforeSleep`, before
//! any reply): a connection about to send replies first yields once, so that the other
//! connections ready in the same turn of the event loop append too, then
//! - under `everysec` and `no`, writes what is pending itself ([`Log::write_through`]): one
//!   `write` per turn, no thread hop; the writer thread only fsyncs once a second;
//! - under `always`, asks for the writer thread ([`Log::kick`]), which writes and fsyncs off the
//!   event loop while further clients queue effects for the next fsync. The binary's runtime
//!   wakes it when a worker thread runs out of tasks ([`before_park`], Redis's `beforeSleep`):
//!   woken at the first waiting client instead, the writer (on the same core, under load)
//!   took the batch while the others were still appending, and fsynced 16 clients' XADDs at a
//!   time where Redis fsynced 38 (perf, 50 clients). A connection still waiting after a
//!   millisecond wakes it itself, so a loop that never idles delays no reply for long.
//!   Under load it also *holds* each fsync after a busy one: the clients a fsync released
//!   come back while the next group waits, and a fsync started the moment the previous one
//!   ended took only the clients that had queued meanwhile — 17 of 50 at a time, each fsync
//!   costing this host's virtual disk about 45 µs of CPU on the server's one core. So once a
//!   fsync that covered [`HOLD_AFTER_BATCH`] appends or more ends, the next one waits for the
//!   event loop to wake the writer again (a turn after the release ends), or for twice as
//!   long as that fsync took at most (a millisecond at most). With 50 one-request XADD
//!   clients: 27 XADDs per fsync instead of 17, 6–10 % more XADDs a second and 16–18 % more
//!   per CPU-second (benchmark A/B); with 2 or 4 clients, throughput and latency unchanged
//!   within noise, with 8, 8 % more XADDs a second (`redis-benchmark`).
//!   (Writing in the hook under `everysec` was tried too: a loop busy with 50 clients rarely
//!   idles, the millisecond fallback wrote instead, and nothing was gained.)
//!
//! Appends themselves wake nobody; the writer also looks every 100 ms, for effects no client
//! waits on (the expiry cycle's DELs).
//! Released after the `write`, as with Redis, a crash of the process alone loses nothing
//! acknowledged under any policy; only the OS or the machine going down can take what was not
//! yet fsynced under `everysec` and `no`.
//!
//! ### Lock choice
//! `pending` is a `std::sync::Mutex`: appenders hold it for a memcpy, never across an `.await`;
//! a writer holds it only to swap the buffer out, except during a rewrite's final switch
//! (a bounded write + fsync + rename, as Redis's main thread does at the same step).
//! `file` is locked before `pending` by every writer, and held from taking a batch until it is
//! written, so batches reach the file in sequence order whoever writes them.
//!
//! ### Invariants
//! - The bytes in the file, then `pending.main.buf`, are every effect in sequence order.
//! - While a rewrite runs, `pending.rewrite` holds every effect appended since its snapshot,
//!   so snapshot + rewrite buffer is the whole state at the moment of the switch.
//! - `released` only grows, and never passes an effect that is not written to the (current)
//!   file and, under `always`, fsynced.

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering, Ordering::Relaxed};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::sync::watch;

use super::prealloc::AofFile;
use super::resp::encode_into;
use crate::config::FsyncPolicy;
use crate::state::ServerState;

/// A command stream being built: encoded commands and the database they leave selected.
#[derive(Debug, Default)]
pub struct Tail {
    pub buf: Vec<u8>,
    /// The database a reader of this stream is in after `buf`; `None` forces a SELECT.
    pub selected: Option<usize>,
}

impl Tail {
    /// Appends a command run in `db`, preceded by `SELECT db` when the stream is elsewhere, as
    /// Redis's `feedAppendOnlyFile` does.
    pub fn push(&mut self, db: usize, args: &[&[u8]]) {
        if self.selected != Some(db) {
            encode_into(&mut self.buf, &[b"SELECT", db.to_string().as_bytes()]);
            self.selected = Some(db);
        }
        encode_into(&mut self.buf, args);
    }
}

/// Set by a binary whose runtime calls [`before_park`] each time a worker thread goes idle.
static IDLE_HOOK: AtomicBool = AtomicBool::new(false);

/// Logs whose writer a waiting connection asked to wake once the event loop is idle.
static IDLE_KICKS: Mutex<Vec<std::sync::Weak<Log>>> = Mutex::new(Vec::new());

/// Declares that the runtime calls [`before_park`] whenever a worker thread runs out of tasks
/// (`tokio::runtime::Builder::on_thread_park`), as Redis's `beforeSleep` runs before it waits
/// for events.
pub fn install_idle_hook() {
    IDLE_HOOK.store(true, Relaxed);
}

/// Wakes the writer of every log a connection is waiting on. Under `always`, the fsync then
/// covers every client served in this turn of the event loop: a kick at the first waiting
/// client would let the writer take the batch while the others are still appending.
pub fn before_park() {
    let kicks = IDLE_KICKS.lock().unwrap_or_else(|p| p.into_inner());
    for log in kicks.iter().filter_map(std::sync::Weak::upgrade) {
        if log.kick_wanted.swap(false, Relaxed) {
            log.kicked.store(true, Relaxed);
            log.work.notify_one();
        }
    }
}

/// Whether the runtime runs [`before_park`].
pub fn idle_hook_installed() -> bool {
    IDLE_HOOK.load(Relaxed)
}

/// What appenders and the writer share.
#[derive(Debug, Default)]
struct Pending {
    /// Effects not yet taken by the writer, for the current file.
    main: Tail,
    /// Highest sequence number given out.
    seq: u64,
    /// A copy of every effect since a running rewrite took its snapshot.
    rewrite: Option<Tail>,
    /// A finished rewrite asking the writer to switch files.
    switch: Option<Switch>,
    stop: bool,
}

/// A rewritten file ready to replace the current one, and where to report how that went.
#[derive(Debug)]
pub struct Switch {
    pub file: File,
    pub temp_path: PathBuf,
    pub done: std::sync::mpsc::Sender<io::Result<u64>>,
}

/// Counters INFO persistence shows.
#[derive(Debug, Default)]
pub struct LogStats {
    pub fsyncs: AtomicU64,
    pub writes: AtomicU64,
    pub appends: AtomicU64,
    pub current_size: AtomicU64,
    /// The size after the last rewrite (or at start), the base of the automatic trigger.
    pub base_size: AtomicU64,
    pub write_failed: AtomicBool,
}

/// See the module documentation.
#[derive(Debug)]
pub struct Log {
    pending: Mutex<Pending>,
    work: Condvar,
    released: watch::Sender<u64>,
    /// Highest sequence number known to be fsynced (WAITAOF).
    fsynced: watch::Sender<u64>,
    pub stats: LogStats,
    /// The open file, once the writer has started.
    file: Mutex<Option<AofFile>>,
    /// Written since the last fsync (for `everysec`).
    unsynced: AtomicBool,
    /// The file's path, for error messages.
    path: std::sync::OnceLock<PathBuf>,
    /// A connection waits for the writer thread; [`before_park`] wakes it.
    kick_wanted: AtomicBool,
    /// The writer was woken since its last fsync (see [`Writer::run`] on holding).
    kicked: AtomicBool,
    /// Effects are recorded: the AOF is on or being turned on (see
    /// [`super::Persistence::is_active`]).
    recording: AtomicBool,
    /// Where slow writes, fsyncs and renames are sampled (LATENCY LATEST).
    pub latency: Arc<crate::latency::Monitor>,
}

impl Default for Log {
    fn default() -> Self {
        Log {
            pending: Mutex::default(),
            work: Condvar::new(),
            released: watch::Sender::new(0),
            fsynced: watch::Sender::new(0),
            file: Mutex::new(None),
            unsynced: AtomicBool::new(false),
            path: std::sync::OnceLock::new(),
            kick_wanted: AtomicBool::new(false),
            kicked: AtomicBool::new(false),
            recording: AtomicBool::new(false),
            stats: LogStats::default(),
            latency: Arc::default(),
        }
    }
}

impl Log {
    /// A log whose slow file calls are sampled into `latency`.
    pub fn with_latency(latency: Arc<crate::latency::Monitor>) -> Log {
        Log {
            latency,
            ..Log::default()
        }
    }
}

impl crate::keyspace::ExpiryLog for Log {
    fn key_expired(&self, db: usize, key: &[u8]) {
        // The keyspace keeps its log once given one; the AOF may since have been turned off.
        if self.is_recording() {
            self.append(db, &[b"DEL", key]);
        }
    }
}

impl Log {
    fn lock(&self) -> MutexGuard<'_, Pending> {
        self.pending.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn is_recording(&self) -> bool {
        self.recording.load(Ordering::Acquire)
    }

    /// Starts recording effects from scratch (at start-up, or when the AOF is turned on at the
    /// instant of the rewrite's snapshot): whatever a previous, abandoned recording left
    /// queued is dropped, and a writer stopped before may write again.
    pub fn begin_recording(&self) {
        {
            let mut p = self.lock();
            p.main = Tail::default();
            p.rewrite = None;
            p.switch = None;
            p.stop = false;
        }
        self.recording.store(true, Ordering::Release);
    }

    /// Stops recording effects (the AOF turned off, or turning it on failed). What is queued
    /// stays for [`Log::write_through`] to write.
    pub fn end_recording(&self) {
        self.recording.store(false, Ordering::Release);
    }

    /// Gives the log its file (at start-up, where the writer then finds it).
    pub fn open(&self, file: AofFile, path: PathBuf) {
        *self.lock_file() = Some(file);
        let _ = self.path.set(path);
    }

    /// Closes the file once its writer has stopped (the AOF turned off).
    pub fn close(&self) {
        *self.lock_file() = None;
    }

    /// Queues one effect run in `db`; returns its sequence number.
    pub fn append(&self, db: usize, args: &[&[u8]]) -> u64 {
        let seq = {
            let mut p = self.lock();
            p.main.push(db, args);
            if let Some(rewrite) = &mut p.rewrite {
                rewrite.push(db, args);
            }
            p.seq += 1;
            p.seq
        };
        self.stats.appends.fetch_add(1, Relaxed);
        seq
    }

    /// Queues a transaction's effects as one unit: wrapped in MULTI/EXEC when there is more
    /// than one, so that a replay applies all or none of them.
    pub fn append_all(&self, effects: &[(usize, Vec<Bytes>)]) -> u64 {
        let Some((first_db, _)) = effects.first() else {
            return self.appended();
        };
        let wrap = effects.len() > 1;
        let seq = {
            let mut p = self.lock();
            let Pending { main, rewrite, .. } = &mut *p;
            let mut push = |db: usize, args: &[&[u8]]| {
                main.push(db, args);
                if let Some(rewrite) = rewrite.as_mut() {
                    rewrite.push(db, args);
                }
            };
            if wrap {
                push(*first_db, &[b"MULTI"]);
            }
            let mut last_db = *first_db;
            for (db, args) in effects {
                let args: Vec<&[u8]> = args.iter().map(|a| &a[..]).collect();
                push(*db, &args);
                last_db = *db;
            }
            if wrap {
                // EXEC needs no particular database: run it where the stream already is.
                push(last_db, &[b"EXEC"]);
            }
            p.seq += 1;
            p.seq
        };
        self.stats.appends.fetch_add(effects.len() as u64, Relaxed);
        seq
    }

    /// Highest sequence number given out so far.
    pub fn appended(&self) -> u64 {
        self.lock().seq
    }

    /// Highest sequence number written (and, under `always`, fsynced).
    pub fn released(&self) -> u64 {
        *self.released.borrow()
    }

    /// Wakes the writer thread to write and fsync what is pending (`always`): when this turn
    /// of the event loop ends if the runtime runs [`before_park`], now otherwise.
    pub fn kick(&self) {
        if idle_hook_installed() {
            self.kick_wanted.store(true, Relaxed);
        } else {
            self.kick_now();
        }
    }

    /// Wakes the writer thread now.
    pub fn kick_now(&self) {
        self.kick_wanted.store(false, Relaxed);
        self.kicked.store(true, Relaxed);
        self.work.notify_one();
    }

    /// Lets [`before_park`] find this log.
    pub fn register_for_idle_kicks(self: &Arc<Self>) {
        let mut kicks = IDLE_KICKS.lock().unwrap_or_else(|p| p.into_inner());
        let me = Arc::downgrade(self);
        // Once per log: the AOF can be turned on again after being turned off.
        kicks.retain(|log| log.strong_count() > 0 && !log.ptr_eq(&me));
        kicks.push(me);
    }

    fn lock_file(&self) -> MutexGuard<'_, Option<AofFile>> {
        self.file.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Writes what is pending on the caller's thread, and fsyncs it under `always`; returns
    /// the sequence number now released. Nothing to do when another writer got there first.
    pub fn write_through(&self, policy: FsyncPolicy) -> u64 {
        let path = self.path.get().map_or(Path::new(""), PathBuf::as_path);
        let mut file = self.lock_file();
        let Some(file) = file.as_mut() else {
            return self.released();
        };
        let (batch, seq, rewriting) = {
            let mut p = self.lock();
            if p.stop {
                // Shutting down: the writer's last write was the last one.
                return self.released();
            }
            (std::mem::take(&mut p.main.buf), p.seq, p.rewrite.is_some())
        };
        if !batch.is_empty() {
            let started = Instant::now();
            if let Err(e) = file.append(&batch, policy == FsyncPolicy::Always) {
                fail(self, "writing", path, &e);
            }
            // Redis's events for a slow write: with a rewrite running (its child), or not.
            let took = started.elapsed();
            let event = if rewriting {
                "aof-write-active-child"
            } else {
                "aof-write-alone"
            };
            self.latency.observe(event, took);
            self.latency.observe("aof-write", took);
            self.stats.writes.fetch_add(1, Relaxed);
            self.stats
                .current_size
                .fetch_add(batch.len() as u64, Relaxed);
            self.unsynced.store(true, Relaxed);
        }
        let synced = policy == FsyncPolicy::Always;
        if synced && self.unsynced.swap(false, Relaxed) {
            let started = Instant::now();
            if let Err(e) = file.sync_data() {
                fail(self, "fsyncing", path, &e);
            }
            self.latency.observe("aof-fsync-always", started.elapsed());
            self.stats.fsyncs.fetch_add(1, Relaxed);
        }
        self.release(seq);
        if synced {
            self.mark_fsynced(seq);
        }
        self.released()
    }

    fn release(&self, seq: u64) {
        self.released.send_if_modified(|d| {
            let grew = seq > *d;
            *d = (*d).max(seq);
            grew
        });
    }

    /// Highest sequence number known to be fsynced.
    pub fn fsynced(&self) -> u64 {
        *self.fsynced.borrow()
    }

    /// Changes whenever more is fsynced, or [`Log::wake_fsync_waiters`] is called.
    pub fn watch_fsynced(&self) -> watch::Receiver<u64> {
        self.fsynced.subscribe()
    }

    /// Wakes WAITAOF's waiters to look again (the AOF was turned off).
    pub fn wake_fsync_waiters(&self) {
        self.fsynced.send_modify(|_| {});
    }

    fn mark_fsynced(&self, seq: u64) {
        self.fsynced.send_if_modified(|d| {
            let grew = seq > *d;
            *d = (*d).max(seq);
            grew
        });
    }

    /// Resolves once `released >= seq`.
    pub async fn wait_released(&self, seq: u64) {
        let mut rx = self.released.subscribe();
        let _ = rx.wait_for(|d| *d >= seq).await;
    }

    /// Starts copying effects for a rewrite. Called with the keyspace gate held exclusively,
    /// at the instant the snapshot is taken.
    pub fn start_rewrite_buffer(&self) {
        self.lock().rewrite = Some(Tail::default());
    }

    /// Takes what the rewrite buffer holds so far (the rewrite keeps buffering).
    pub fn drain_rewrite_buffer(&self) -> Vec<u8> {
        self.lock()
            .rewrite
            .as_mut()
            .map(|t| std::mem::take(&mut t.buf))
            .unwrap_or_default()
    }

    /// Abandons a rewrite's buffer.
    pub fn stop_rewrite_buffer(&self) {
        self.lock().rewrite = None;
    }

    /// Asks the writer to switch to a rewritten file.
    pub fn request_switch(&self, switch: Switch) {
        self.lock().switch = Some(switch);
        self.work.notify_one();
    }

    /// Bytes queued and not yet written (INFO `aof_buffer_length`).
    pub fn buffered(&self) -> usize {
        self.lock().main.buf.len()
    }

    fn request_stop(&self) {
        self.lock().stop = true;
        self.work.notify_one();
    }
}

/// Under `always`, a fsync that covered at least this many appends is followed by a hold (see
/// the module documentation); after a smaller one the next fsync starts at once. PostgreSQL's
/// `commit_delay` likewise waits only when `commit_siblings` transactions are active.
const HOLD_AFTER_BATCH: u64 = 4;

/// The thread that owns the file.
pub struct Writer {
    path: PathBuf,
    state: Arc<ServerState>,
}

impl Writer {
    /// A writer for the file the log holds (see [`Log::open`], [`Log::install`]).
    pub fn new(path: PathBuf, state: Arc<ServerState>) -> Writer {
        Writer { path, state }
    }

    /// Starts the writer thread.
    pub fn spawn(self) -> io::Result<std::thread::JoinHandle<()>> {
        std::thread::Builder::new()
            .name("herald-aof".into())
            .spawn(move || self.run())
    }

    /// Asks the writer to write and fsync what is queued and stop.
    pub fn stop(log: &Log) {
        log.request_stop();
    }

    fn run(mut self) {
        let state = self.state.clone();
        let log = &state.persistence.log;
        let mut last_fsync = Instant::now();
        // Under `always`, after a busy fsync: hold the next one until this instant, or until
        // the event loop next wakes the writer (see the module documentation).
        let mut hold: Option<Instant> = None;
        loop {
            let policy = state.settings.appendfsync();
            let (switch, stop) = {
                let p = log.lock();
                let holding = hold
                    .filter(|_| !log.kicked.load(Relaxed))
                    .and_then(|until| until.checked_duration_since(Instant::now()));
                let idle =
                    (p.main.buf.is_empty() || holding.is_some()) && p.switch.is_none() && !p.stop;
                let p = if idle {
                    log.work
                        .wait_timeout(p, holding.unwrap_or(Duration::from_millis(100)))
                        .unwrap_or_else(|e| e.into_inner())
                        .0
                } else {
                    p
                };
                (p.switch.is_some(), p.stop)
            };
            // Under `everysec` and `no` connections write for themselves; the writer writes
            // what none waits for, and under `always` everything, each write with its fsync.
            let (started, before) = (Instant::now(), log.released());
            log.write_through(policy);
            let batch = log.released() - before;
            // Kicks from before this fsync ended were for what it took.
            log.kicked.store(false, Relaxed);
            hold = (policy == FsyncPolicy::Always && batch >= HOLD_AFTER_BATCH)
                .then(|| Instant::now() + (started.elapsed() * 2).min(Duration::from_millis(1)));
            let sync = log.unsynced.load(Relaxed)
                && match policy {
                    FsyncPolicy::Always => true,
                    FsyncPolicy::EverySec => stop || last_fsync.elapsed() >= Duration::from_secs(1),
                    FsyncPolicy::No => stop,
                };
            if sync {
                self.fsync(log);
                last_fsync = Instant::now();
            }
            if switch {
                let switch = log.lock().switch.take();
                if let Some(switch) = switch {
                    self.switch(log, switch);
                }
            }
            if stop {
                self.trim(log);
                return;
            }
        }
    }

    /// Fsyncs without holding the file lock, on a second handle to the same file, so that
    /// connections writing under `everysec` never wait for the disk (Redis fsyncs in a
    /// background thread for the same reason).
    fn fsync(&mut self, log: &Log) {
        let handle = log.lock_file().as_ref().map(AofFile::try_clone);
        let Some(handle) = handle else {
            return;
        };
        log.unsynced.store(false, Relaxed);
        // Everything released was written before this fsync starts.
        let covered = log.released();
        if let Err(e) = handle.and_then(|f| f.sync_data()) {
            fail(log, "fsyncing", &self.path, &e);
        }
        log.stats.fsyncs.fetch_add(1, Relaxed);
        log.mark_fsynced(covered);
    }

    /// Leaves only the commands in the file (see [`AofFile::trim`]). Failing leaves filler
    /// behind, which the next start-up reads past: logged, not fatal.
    fn trim(&self, log: &Log) {
        if let Some(file) = log.lock_file().as_mut() {
            if let Err(e) = file.trim() {
                tracing::warn!(
                    "Could not trim the space written ahead in the append only file {}: {e}",
                    self.path.display()
                );
            }
        }
    }

    /// The last step of a rewrite, on the writer thread (see [`Log::install`]).
    fn switch(&mut self, log: &Log, switch: Switch) {
        let Switch {
            file,
            temp_path,
            done,
        } = switch;
        let installed = log.install(file, &temp_path, &self.path);
        if installed.is_err() {
            let _ = std::fs::remove_file(&temp_path);
        }
        let _ = done.send(installed);
    }
}

impl Log {
    /// The last step of a rewrite: with appends paused, write what arrived since the snapshot to
    /// the new file, fsync it, rename it over the old one (if any), fsync the directory, and
    /// continue there. Run by the writer, or, when the AOF is being turned on and no writer
    /// runs yet, by the rewrite itself.
    pub fn install(&self, mut file: File, temp_path: &Path, path: &Path) -> io::Result<u64> {
        let mut current = self.lock_file();
        let mut p = self.lock();
        let rest = p.rewrite.take().unwrap_or_default();
        // On failure the old file stays, complete: `main.buf` still holds everything it lacks.
        let started = Instant::now();
        file.write_all(&rest.buf)?;
        self.latency
            .observe("aof-rewrite-diff-write", started.elapsed());
        file.sync_data()?;
        let started = Instant::now();
        std::fs::rename(temp_path, path)?;
        self.latency.observe("aof-rename", started.elapsed());
        // Past the rename the new file is the only one that grows; the rename must be durable
        // before anything written only there is acknowledged.
        if let Err(e) = fsync_dir(path) {
            fail(self, "fsyncing the directory of", path, &e);
        }
        let size = file.metadata().map(|m| m.len()).unwrap_or(0);
        *current = Some(AofFile::new(file, size, size));
        let _ = self.path.set(path.to_owned());
        self.unsynced.store(false, Relaxed);
        // Everything queued for the old file is in the new one (it is in `rest`).
        p.main = Tail {
            buf: Vec::new(),
            selected: rest.selected,
        };
        self.stats.current_size.store(size, Relaxed);
        self.stats.base_size.store(size, Relaxed);
        let seq = p.seq;
        drop(p);
        drop(current);
        self.release(seq);
        // The new file holds every effect, fsynced before the rename.
        self.mark_fsynced(seq);
        Ok(size)
    }
}

/// An AOF that cannot be written is a server that would acknowledge writes it will lose: stop,
/// as Redis does when an `always` fsync fails.
fn fail(log: &Log, action: &str, path: &Path, error: &io::Error) -> ! {
    log.stats.write_failed.store(true, Relaxed);
    tracing::error!(
        "Error {action} the append only file {}: {error}. Exiting to avoid acknowledging writes that are not persisted.",
        path.display()
    );
    std::process::exit(1);
}

/// Makes a rename (or creation) in `path`'s directory durable.
pub fn fsync_dir(path: &Path) -> io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn select_is_written_only_when_the_database_changes() {
        let mut tail = Tail::default();
        tail.push(0, &[b"DEL", b"a"]);
        tail.push(0, &[b"DEL", b"b"]);
        tail.push(3, &[b"DEL", b"c"]);
        let text = String::from_utf8(tail.buf).unwrap();
        assert_eq!(text.matches("SELECT").count(), 2);
        assert!(text.starts_with("*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n"));
    }

    #[test]
    fn a_transaction_of_several_effects_is_wrapped() {
        let log = Log::default();
        let del = |k: &'static [u8]| vec![Bytes::from_static(b"DEL"), Bytes::from_static(k)];
        log.append_all(&[(0, del(b"a")), (1, del(b"b"))]);
        let text = String::from_utf8(log.lock().main.buf.clone()).unwrap();
        let words: Vec<&str> = text
            .split("\r\n")
            .filter(|w| w.chars().all(|c| c.is_ascii_uppercase()))
            .filter(|w| !w.is_empty())
            .collect();
        assert_eq!(words, ["SELECT", "MULTI", "DEL", "SELECT", "DEL", "EXEC"]);
        log.append_all(&[(1, del(b"c"))]);
        assert!(!String::from_utf8(log.lock().main.buf.clone())
            .unwrap()
            .ends_with("EXEC\r\n$3\r\nDEL\r\n$1\r\nc\r\n"));
        assert_eq!(log.appended(), 2);
    }
}
