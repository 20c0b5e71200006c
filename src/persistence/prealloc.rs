//! The AOF file as its writers see it: appended to at its *logical end*, with the space ahead
//! already written.
//!
//! ### Why write the space ahead
//! Under `appendfsync always` every acknowledgement waits for an `fdatasync`, and an
//! `fdatasync` after a write that grew the file must also write the inode's new size (and, for
//! each new block, its allocation) before the cache flush. Measured here (ext4 on a virtio disk,
//! the benchmark's 50 XADD clients): 0.5–0.6 ms for an fsync after an append inside the last
//! block, 1.0–1.1 ms for one that allocated a block, about 0.3 ms once the bytes overwritten had
//! already been written and fsynced. So the writer extends the file [`AHEAD`] bytes at a time,
//! fsyncs the extension once, and overwrites it as effects arrive: each later fsync only carries
//! data. PostgreSQL fills its WAL segments ahead for the same reason. Only under `always`:
//! under `everysec` and `no` no reply waits for an fsync, the file grows as Redis's does, and
//! the filler would only double what the background fsync writes out.
//!
//! What it costs: a write torn by a power loss inside that space (a later sector of it on disk,
//! an earlier one not) leaves filler *between* commands, which the loader reports as corruption
//! at its offset instead of truncating; that write was never acknowledged, and removing the
//! bytes from that offset on repairs the file.
//!
//! ### The filler stays loadable
//! The space ahead is filled with newlines ([`FILLER`]), not zeros: `redis-cli --pipe` of the
//! file (the migration path) sends them to Redis as empty inline commands, which Redis skips
//! without a reply, so a file copied from a running or killed Herald still pipes into Redis
//! with no error. Redis's own loader does not accept them; a graceful shutdown trims the filler
//! ([`AofFile::trim`]), and so does the next start-up's loader when the file was cut off.
//! [`logical_len`] tells where the commands end.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;

/// The byte the space ahead of the logical end is filled with.
pub const FILLER: u8 = b'\n';

/// How far ahead of the logical end the file is written at a time. Large enough that the one
/// slow fsync of an extension is rare (every 4 MiB of effects), small enough that a
/// `redis-cli --pipe` of a fresh file does not make Redis skim through much of it.
pub const AHEAD: u64 = 4 << 20;

/// The filler, written a piece at a time.
static FILLER_PIECE: [u8; 64 * 1024] = [FILLER; 64 * 1024];

/// Where the commands in `data` end: before the trailing run of [`FILLER`] bytes, keeping the
/// `\n` of a final `\r\n` (every command ends with one).
pub fn logical_len(data: &[u8]) -> usize {
    let filler = data.iter().rev().take_while(|&&b| b == FILLER).count();
    let end = data.len() - filler;
    if filler > 0 && end > 0 && data[end - 1] == b'\r' {
        end + 1
    } else {
        end
    }
}

/// The open AOF: written at its logical end, with the bytes from there to `allocated` being
/// filler.
#[derive(Debug)]
pub struct AofFile {
    file: File,
    /// The logical end: every byte before it is a command's.
    end: u64,
    /// The file's length; `end..allocated` is filler.
    allocated: u64,
}

impl AofFile {
    /// Takes an open file `len` bytes long whose commands end at `end`, the rest being filler.
    pub fn new(file: File, end: u64, len: u64) -> AofFile {
        AofFile {
            file,
            end,
            allocated: len.max(end),
        }
    }

    /// Writes `buf` at the logical end. With `sync` (`appendfsync always`, where the caller
    /// fsyncs next), the file is first extended [`AHEAD`] when `buf` would pass its end, and
    /// the extension fsynced at once, so that the caller's fsync carries only `buf`. Without
    /// it the file simply grows, as Redis's does: nobody waits for that policy's fsync, and
    /// filler would only be one more copy of every page for it to write out.
    pub fn append(&mut self, buf: &[u8], sync: bool) -> io::Result<()> {
        let needed = self.end + buf.len() as u64;
        if needed > self.allocated && sync {
            self.extend(needed + AHEAD)?;
        }
        self.file.write_all_at(buf, self.end)?;
        self.end = needed;
        self.allocated = self.allocated.max(needed);
        Ok(())
    }

    fn extend(&mut self, to: u64) -> io::Result<()> {
        let mut at = self.allocated.max(self.end);
        while at < to {
            let piece = FILLER_PIECE.len().min((to - at) as usize);
            self.file.write_all_at(&FILLER_PIECE[..piece], at)?;
            at += piece as u64;
        }
        self.file.sync_data()?;
        self.allocated = to;
        Ok(())
    }

    pub fn sync_data(&self) -> io::Result<()> {
        self.file.sync_data()
    }

    /// A second handle to the same file (to fsync without holding the writers' lock).
    pub fn try_clone(&self) -> io::Result<File> {
        self.file.try_clone()
    }

    /// Cuts the filler off and makes that durable, leaving exactly the commands: what a
    /// graceful shutdown leaves, for Redis's own loader to read.
    pub fn trim(&mut self) -> io::Result<()> {
        if self.allocated > self.end {
            self.file.set_len(self.end)?;
            self.file.sync_all()?;
            self.allocated = self.end;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_logical_end_keeps_a_commands_own_line_end() {
        let cmd = b"*1\r\n$4\r\nPING\r\n";
        let mut data = cmd.to_vec();
        assert_eq!(logical_len(&data), cmd.len());
        data.extend_from_slice(&[FILLER; 10]);
        assert_eq!(logical_len(&data), cmd.len());
        // A payload ending in newlines, cut off by the filler: the cut is still seen (the
        // loader finds the command incomplete), only the newlines go.
        let cut = b"*1\r\n$6\r\nab\n\n";
        let mut data = cut.to_vec();
        data.extend_from_slice(&[FILLER; 3]);
        assert_eq!(logical_len(&data), cut.len() - 2);
        // Cut between `\r` and `\n`.
        assert_eq!(logical_len(b"*1\r\n\n\n"), 4);
        assert_eq!(logical_len(b"\n\n\n"), 0);
        assert_eq!(logical_len(b""), 0);
    }

    #[test]
    fn appends_overwrite_the_filler_and_trim_cuts_it_off() {
        let dir = std::env::temp_dir().join(format!("herald-prealloc-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("a.aof");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(true)
            .read(true)
            .write(true)
            .open(&path)
            .unwrap();
        let mut aof = AofFile::new(file, 0, 0);
        aof.append(b"*1\r\n$4\r\nPING\r\n", true).unwrap();
        aof.append(b"*1\r\n$4\r\nECHO\r\n", false).unwrap();
        // The first append extended the file to AHEAD past its own end; the second fitted.
        let data = std::fs::read(&path).unwrap();
        assert_eq!(data.len() as u64, 14 + AHEAD);
        assert_eq!(logical_len(&data), 28);
        assert_eq!(&data[..28], b"*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nECHO\r\n");
        // A reopened file continues at its logical end, inside the space already written.
        drop(aof);
        let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        let mut aof = AofFile::new(file, 28, 14 + AHEAD);
        aof.append(b"+x\r\n", true).unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 14 + AHEAD);
        aof.trim().unwrap();
        assert_eq!(std::fs::read(&path).unwrap().len(), 32);
        // Without an fsync to follow (`everysec`, `no`), the file grows by the commands alone.
        aof.append(b"+y\r\n", false).unwrap();
        assert_eq!(
            std::fs::read(&path).unwrap(),
            b"*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nECHO\r\n+x\r\n+y\r\n"
        );
        // Back under `always`, the next append extends ahead again.
        aof.append(b"+z\r\n", true).unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 40 + AHEAD);
        aof.trim().unwrap();
        assert_eq!(std::fs::read(&path).unwrap().len(), 40);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
