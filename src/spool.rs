//! Large pushed frames kept in an anonymous in-memory file, so that subscribers' sockets are
//! fed from its pages without a copy (`sendfile`).
//!
//! ### Why
//! Fan-out of large messages is bound by the kernel, not by Herald: writing a 4 KB frame into a
//! subscriber's socket copies it into the socket's buffer, and that copy was a third of the
//! server's CPU time delivering 4 KB messages to 100 subscribers (`perf`). `sendfile` from a
//! file in memory (a `memfd`) instead hands the socket references to the file's pages, so a
//! frame is copied once, into the spool, however many subscribers it reaches; each receiver's
//! kernel still copies it out, on the receiver's side. Measured here with 100 loopback sockets
//! and 12 frames of 4 KB per call: 0.48 µs of kernel time per delivery instead of 0.64.
//! For small frames or few receivers the extra `pwrite` and the page bookkeeping cost more than
//! the copy saves, so only frames of [`MIN_FRAME`] bytes or more reaching [`MIN_RECEIVERS`]
//! connections or more are spooled: 1 KB frames gained 5 % in that test, 2 KB ones 20 %; and
//! with 11 receivers of 24 KB runs (the benchmark's slow-subscriber scenario) spooling cost
//! 14 % more server CPU per delivery — writing into the spool allocates its pages, freed again
//! when the file goes — where with 100 receivers it saved 15–30 %.
//!
//! ### Safety of the pages
//! A socket fed by `sendfile` keeps references to the file's pages until its peer has read
//! them, and reads whatever the pages hold *then*. So spooled bytes are never overwritten: the
//! spool only appends, and once a file is full the next one is started. A file's memory goes
//! when the last frame queued from it has been written and its peers have read them (the
//! sockets hold the pages, the queues hold the file). How much is queued stays bounded by each
//! client's output-buffer limit, which counts a spooled frame as the bytes it is.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};

/// Frames shorter than this are written as they are.
pub const MIN_FRAME: usize = 2048;
/// Frames reaching fewer connections than this are written as they are.
pub const MIN_RECEIVERS: usize = 32;
/// Bytes per spool file: a file is dropped only when nothing queued refers to it any more, so
/// a lagging subscriber keeps at most a few of them alive.
const FILE_BYTES: u64 = 8 << 20;

/// One spool file; its bytes count in [`Spool::bytes`] until it is dropped.
#[derive(Debug)]
pub struct SpoolFile {
    pub file: File,
    written: AtomicU64,
    live: Arc<AtomicU64>,
}

impl Drop for SpoolFile {
    fn drop(&mut self) {
        self.live.fetch_sub(self.written.load(Relaxed), Relaxed);
    }
}

/// A frame's bytes in a spool file.
#[derive(Debug, Clone)]
pub struct Spooled {
    pub file: Arc<SpoolFile>,
    pub offset: u64,
    pub len: usize,
}

impl Spooled {
    /// Whether `next` starts where this one ends, in the same file: one `sendfile` covers both.
    pub fn continued_by(&self, next: &Spooled) -> bool {
        Arc::ptr_eq(&self.file, &next.file) && self.offset + self.len as u64 == next.offset
    }

    /// Sends `len` bytes from this frame's start (its own and those of frames continuing it)
    /// into `socket`; returns how many were sent, as `write` does.
    #[cfg(target_os = "linux")]
    pub fn send(&self, socket: std::os::fd::BorrowedFd<'_>, len: usize) -> io::Result<usize> {
        let mut offset = self.offset;
        rustix::fs::sendfile(socket, &self.file.file, Some(&mut offset), len)
            .map_err(io::Error::from)
    }

    /// Never called: no spool file is made off Linux (see [`new_file`]).
    #[cfg(not(target_os = "linux"))]
    pub fn send(&self, _socket: std::os::fd::BorrowedFd<'_>, _len: usize) -> io::Result<usize> {
        Err(io::ErrorKind::Unsupported.into())
    }
}

#[derive(Debug, Default)]
struct Tail {
    file: Option<Arc<SpoolFile>>,
    end: u64,
}

/// See the module documentation.
#[derive(Debug, Default)]
pub struct Spool {
    tail: Mutex<Tail>,
    /// Set when no spool file could be made (no `memfd_create` here): frames are then written
    /// as they are.
    unavailable: AtomicBool,
    /// Bytes in the files still alive (INFO `used_memory`: a memory file is not in the
    /// process's resident set).
    live: Arc<AtomicU64>,
}

impl Spool {
    /// Copies `frame` into the spool; `None` when it cannot (it is then written as it is).
    pub fn put(&self, frame: &[u8]) -> Option<Spooled> {
        if self.unavailable.load(Relaxed) {
            return None;
        }
        let (file, offset) = {
            let mut tail = self.tail.lock().unwrap_or_else(|e| e.into_inner());
            let fits = tail.end + frame.len() as u64 <= FILE_BYTES;
            let file = match &tail.file {
                Some(file) if fits => file.clone(),
                _ => {
                    let Some(file) = new_file() else {
                        self.unavailable.store(true, Relaxed);
                        return None;
                    };
                    tail.end = 0;
                    let file = SpoolFile {
                        file,
                        written: AtomicU64::new(0),
                        live: self.live.clone(),
                    };
                    tail.file.insert(Arc::new(file)).clone()
                }
            };
            let offset = tail.end;
            tail.end += frame.len() as u64;
            (file, offset)
        };
        // Outside the lock: the range is this caller's alone, and no receiver sees it before
        // `put` returns.
        file.file.write_all_at(frame, offset).ok()?;
        file.written.fetch_add(frame.len() as u64, Relaxed);
        self.live.fetch_add(frame.len() as u64, Relaxed);
        Some(Spooled {
            file,
            offset,
            len: frame.len(),
        })
    }
}

impl Spool {
    /// Bytes held in spool files that frames still queued refer to (or the current one).
    pub fn bytes(&self) -> u64 {
        self.live.load(Relaxed)
    }

    /// Drops the file being appended to when no queued frame refers to it any more, so that
    /// the memory of a burst of large messages goes once they are written (the server's
    /// background cycle calls it). The next large frame starts a new file.
    pub fn release_idle(&self) {
        let mut tail = self.tail.lock().unwrap_or_else(|e| e.into_inner());
        // Copies of a `Spooled` are only made from another one, and new ones under this lock:
        // a count of one (the tail's) stays one until the lock is released.
        if tail
            .file
            .as_ref()
            .is_some_and(|f| Arc::strong_count(f) == 1)
        {
            tail.file = None;
        }
    }
}

#[cfg(target_os = "linux")]
fn new_file() -> Option<File> {
    match rustix::fs::memfd_create("herald-spool", rustix::fs::MemfdFlags::CLOEXEC) {
        Ok(fd) => Some(File::from(fd)),
        Err(e) => {
            tracing::debug!("no memfd for large frames ({e}); writing them as they are");
            None
        }
    }
}

/// `sendfile` from a file to a socket is Linux's: elsewhere frames are written as they are.
#[cfg(not(target_os = "linux"))]
fn new_file() -> Option<File> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_appended_and_read_back() {
        let spool = Spool::default();
        let a = spool.put(b"first frame").unwrap();
        let b = spool.put(b"second").unwrap();
        assert!(a.continued_by(&b));
        assert!(!b.continued_by(&a));
        let mut buf = vec![0; b.len];
        b.file.file.read_exact_at(&mut buf, b.offset).unwrap();
        assert_eq!(buf, b"second");
        assert_eq!(spool.bytes(), 17);
    }

    #[test]
    fn a_full_file_is_followed_by_a_new_one() {
        let spool = Spool::default();
        let big = vec![7u8; (FILE_BYTES / 2) as usize + 1];
        let a = spool.put(&big).unwrap();
        let b = spool.put(&big).unwrap();
        assert!(!Arc::ptr_eq(&a.file, &b.file));
        assert_eq!(b.offset, 0);
        // The first file's bytes are untouched.
        let mut buf = vec![0; 16];
        a.file.file.read_exact_at(&mut buf, 0).unwrap();
        assert_eq!(buf, vec![7u8; 16]);
        // The first file's bytes stop counting once nothing refers to it.
        assert_eq!(spool.bytes(), 2 * big.len() as u64);
        drop(a);
        assert_eq!(spool.bytes(), big.len() as u64);
        // The current file goes too once nothing refers to it.
        spool.release_idle();
        assert_eq!(spool.bytes(), big.len() as u64);
        drop(b);
        spool.release_idle();
        assert_eq!(spool.bytes(), 0);
        assert_eq!(spool.put(b"again").unwrap().offset, 0);
    }
}
