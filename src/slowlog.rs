//! The slow log (SLOWLOG): the latest commands that ran for at least `slowlog-log-slower-than`
//! microseconds, newest first, at most `slowlog-max-len` of them, as Redis keeps them
//! (`slowlog.c`). Monitoring tools read it (SLOWLOG GET, SLOWLOG LEN) on every scrape.
//!
//! A fast command (O(1), Redis's `CMD_FAST`) normally shares one clock reading with the run of
//! it that a pipeline holds (`command::timing`), so its own time is not known. With the
//! threshold at Redis's default of 10 ms no such command comes near it, and runs are kept;
//! below [`TIMES_RUNS_BELOW_US`] every command is timed on its own, so that a threshold of
//! 0 (log everything, as tests and debugging sessions set it) logs every command.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Mutex;

use bytes::Bytes;

/// Thresholds below this time every command on its own (see the module documentation).
pub const TIMES_RUNS_BELOW_US: i64 = 10_000;
/// Arguments kept per entry; the last place says how many more there were.
const MAX_ARGS: usize = 32;
/// Bytes kept per argument; the rest is counted.
const MAX_ARG_BYTES: usize = 128;

/// A command to log, as the dispatcher knows it.
pub struct NewEntry<'a> {
    /// Its arguments as the log keeps them (see [`Captured::args`]).
    pub args: Vec<Bytes>,
    pub micros: u64,
    pub now_ms: u64,
    pub client_addr: &'a str,
    pub client_name: Bytes,
}

/// What the log would keep of a command's arguments, copied before the command runs (it takes
/// its arguments): at most 32 of them and 128 bytes of each, into buffers a connection reuses.
/// Holding on to the arguments themselves instead (a clone of each shared buffer, counted
/// atomically) cost 20 % of a pipelined SET; this copies a few bytes and allocates nothing.
#[derive(Debug, Default)]
pub struct Captured {
    /// The first bytes of each kept argument, one after the other.
    bytes: Vec<u8>,
    /// Each kept argument's whole length (its first `min(len, 128)` bytes are in `bytes`).
    lens: Vec<u32>,
    argc: usize,
}

impl Captured {
    pub fn capture(&mut self, args: &[Bytes]) {
        self.bytes.clear();
        self.lens.clear();
        self.argc = args.len();
        for arg in args.iter().take(if args.len() > MAX_ARGS {
            MAX_ARGS - 1
        } else {
            MAX_ARGS
        }) {
            self.bytes
                .extend_from_slice(&arg[..arg.len().min(MAX_ARG_BYTES)]);
            self.lens.push(u32::try_from(arg.len()).unwrap_or(u32::MAX));
        }
    }

    /// The arguments as Redis logs them: past 32, the last says `... (N more arguments)`;
    /// past 128 bytes, an argument ends `... (N more bytes)`.
    pub fn args(&self) -> Vec<Bytes> {
        let mut at = 0;
        let mut out: Vec<Bytes> = self
            .lens
            .iter()
            .map(|&len| {
                let len = len as usize;
                let kept = len.min(MAX_ARG_BYTES);
                let mut arg = self.bytes[at..at + kept].to_vec();
                at += kept;
                if len > MAX_ARG_BYTES {
                    arg.extend_from_slice(
                        format!("... ({} more bytes)", len - MAX_ARG_BYTES).as_bytes(),
                    );
                }
                Bytes::from(arg)
            })
            .collect();
        if self.argc > self.lens.len() {
            out.push(Bytes::from(format!(
                "... ({} more arguments)",
                self.argc - self.lens.len()
            )));
        }
        out
    }
}

/// One logged command, as SLOWLOG GET shows it.
#[derive(Debug, Clone)]
pub struct SlowEntry {
    pub id: u64,
    /// Unix seconds when it ended.
    pub time: u64,
    pub micros: u64,
    pub args: Vec<Bytes>,
    /// The client's address (`ip:port`) and name.
    pub client_addr: String,
    pub client_name: Bytes,
}

#[derive(Debug, Default)]
pub struct SlowLog {
    entries: Mutex<VecDeque<SlowEntry>>,
    next_id: AtomicU64,
}

/// Whether a command that took `micros` goes in the log (Redis's `slowlogPushEntryIfNeeded`:
/// none while the threshold is negative or the length 0).
pub fn wants(threshold_us: i64, max_len: u64, micros: u64) -> bool {
    threshold_us >= 0 && micros >= threshold_us as u64 && max_len > 0
}

/// Whether, at `threshold_us`, fast commands must be timed one by one (see the module
/// documentation).
pub fn times_each_command(threshold_us: i64) -> bool {
    (0..TIMES_RUNS_BELOW_US).contains(&threshold_us)
}

impl SlowLog {
    /// Adds a command that the log [`wants`], trimming the log to `max_len`
    /// (`slowlog-max-len`).
    pub fn push(&self, entry: NewEntry<'_>, max_len: u64) {
        let NewEntry {
            args,
            micros,
            now_ms,
            client_addr,
            client_name,
        } = entry;
        let entry = SlowEntry {
            id: self.next_id.fetch_add(1, Relaxed),
            time: now_ms / 1000,
            micros,
            args,
            client_addr: client_addr.to_owned(),
            client_name,
        };
        if let Ok(mut entries) = self.entries.lock() {
            entries.push_front(entry);
            entries.truncate(max_len as usize);
        }
    }

    /// The newest `count` entries (all of them for `None`).
    pub fn newest(&self, count: Option<usize>) -> Vec<SlowEntry> {
        let Ok(entries) = self.entries.lock() else {
            return Vec::new();
        };
        let count = count.unwrap_or(entries.len());
        entries.iter().take(count).cloned().collect()
    }

    pub fn len(&self) -> usize {
        self.entries.lock().map_or(0, |e| e.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn reset(&self) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.clear();
        }
    }
}

/// Configs whose values never reach the log (Redis's `SENSITIVE_CONFIG`).
const SENSITIVE_CONFIGS: &[&str] = &[
    "requirepass",
    "masterauth",
    "tls-key-file-pass",
    "tls-client-key-file-pass",
];

/// `args` of command `name` (the table's name, `config|set`) with passwords replaced by
/// `(redacted)`, as Redis redacts them before logging: AUTH's arguments, HELLO's after `AUTH`,
/// and the values CONFIG SET gives sensitive configs.
pub fn redact(name: &str, args: &mut [Bytes]) {
    let secret = Bytes::from_static(b"(redacted)");
    match name {
        "auth" => args[1..].iter_mut().for_each(|a| *a = secret.clone()),
        "hello" => {
            if let Some(at) = args.iter().position(|a| a.eq_ignore_ascii_case(b"auth")) {
                args.iter_mut()
                    .skip(at + 1)
                    .take(2)
                    .for_each(|a| *a = secret.clone());
            }
        }
        "config|set" => {
            for pair in args[2..].chunks_mut(2) {
                let sensitive = SENSITIVE_CONFIGS
                    .iter()
                    .any(|c| pair[0].eq_ignore_ascii_case(c.as_bytes()));
                if let (true, [_, value]) = (sensitive, pair) {
                    *value = secret.clone();
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kept(args: &[Bytes]) -> Vec<Bytes> {
        let mut captured = Captured::default();
        captured.capture(args);
        captured.args()
    }

    #[test]
    fn long_commands_are_kept_as_redis_keeps_them() {
        let many: Vec<Bytes> = (0..40).map(|i| Bytes::from(i.to_string())).collect();
        let shortened = kept(&many);
        assert_eq!(shortened.len(), 32);
        assert_eq!(shortened[30], "30");
        assert_eq!(shortened[31], "... (9 more arguments)");
        let long = Bytes::from(vec![b'x'; 130]);
        let shortened = kept(&[long]);
        assert_eq!(shortened[0].len(), 128 + "... (2 more bytes)".len());
        assert!(shortened[0].ends_with(b"xx... (2 more bytes)"));
        let exact: Vec<Bytes> = (0..32).map(|i| Bytes::from(i.to_string())).collect();
        assert_eq!(kept(&exact), exact);
    }

    #[test]
    fn passwords_are_redacted() {
        let words = |w: &[&'static str]| {
            w.iter()
                .map(|s| Bytes::from_static(s.as_bytes()))
                .collect::<Vec<_>>()
        };
        let mut auth = words(&["AUTH", "user", "pw"]);
        redact("auth", &mut auth);
        assert_eq!(auth, words(&["AUTH", "(redacted)", "(redacted)"]));
        let mut hello = words(&["HELLO", "3", "auth", "u", "p", "SETNAME", "n"]);
        redact("hello", &mut hello);
        assert_eq!(
            hello,
            words(&[
                "HELLO",
                "3",
                "auth",
                "(redacted)",
                "(redacted)",
                "SETNAME",
                "n"
            ])
        );
        let mut set = words(&["CONFIG", "SET", "timeout", "0", "REQUIREPASS", "pw"]);
        redact("config|set", &mut set);
        assert_eq!(
            set,
            words(&["CONFIG", "SET", "timeout", "0", "REQUIREPASS", "(redacted)"])
        );
    }

    #[test]
    fn the_log_keeps_the_newest_up_to_its_length() {
        let log = SlowLog::default();
        for i in 0..3u64 {
            let entry = NewEntry {
                args: vec![Bytes::from(i.to_string())],
                micros: i,
                now_ms: 5_000,
                client_addr: "a:1",
                client_name: Bytes::new(),
            };
            log.push(entry, 2);
        }
        let ids: Vec<u64> = log.newest(None).iter().map(|e| e.id).collect();
        assert_eq!(ids, [2, 1]);
        assert_eq!(log.newest(Some(1))[0].time, 5);
    }

    #[test]
    fn the_threshold_and_length_decide_as_in_redis() {
        assert!(wants(0, 128, 0));
        assert!(!wants(-1, 128, u64::MAX));
        assert!(!wants(10, 128, 9) && wants(10, 128, 10));
        assert!(!wants(10, 0, 10));
        assert!(times_each_command(0) && times_each_command(9_999));
        assert!(!times_each_command(10_000) && !times_each_command(-1));
    }
}
