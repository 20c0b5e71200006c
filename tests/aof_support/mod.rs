//! What the AOF tests share: a scratch directory per test, in-process servers started on it
//! (the real binary is `common::spawn_binary`), small readers for replies and INFO fields, and
//! a large file to catch a replay in progress.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::common::{Raw, TestServer};

/// A directory removed when the test ends (kept when it fails, for a look).
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(name: &str) -> Scratch {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("herald-aof-{name}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("scratch dir");
        Scratch(dir)
    }

    pub fn path(&self) -> &str {
        self.0.to_str().expect("utf-8 temp path")
    }

    pub fn aof(&self) -> PathBuf {
        self.0.join("appendonly.aof")
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// An in-process server with the AOF on in `dir`.
pub fn start(dir: &Scratch, extra: &[&str]) -> TestServer {
    let mut args = vec!["--appendonly", "yes", "--dir", dir.path()];
    args.extend_from_slice(extra);
    TestServer::start(&args)
}

/// One `field:value` of INFO.
pub fn info_field(raw: &mut Raw, field: &str) -> String {
    let info = raw.cmd(&["INFO", "persistence"]);
    info.split("\r\n")
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .unwrap_or_else(|| panic!("INFO has no {field}: {info}"))
        .to_owned()
}

/// Waits (bounded) for a running rewrite to finish.
pub fn wait_rewrite_done(raw: &mut Raw, rewrites_at_least: u64) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let done: u64 = info_field(raw, "aof_rewrites").parse().unwrap();
        if done >= rewrites_at_least && info_field(raw, "aof_rewrite_in_progress") == "0" {
            return;
        }
        assert!(Instant::now() < deadline, "rewrite did not finish");
        std::thread::sleep(Duration::from_millis(20));
    }
}

pub fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).expect("read file")
}

/// An AOF of `entries` XADDs to stream `s` (ids `1-0`, `2-0`, ...), then `SET done yes`: large
/// enough, at a few hundred thousand entries, that a client connecting at once finds its replay
/// running, in Herald and in redis-server alike.
pub fn xadd_file(entries: usize) -> Vec<u8> {
    let mut file = Vec::with_capacity(entries * 70);
    for i in 1..=entries {
        let id = format!("{i}-0");
        file.extend(crate::common::encode(&[
            b"XADD",
            b"s",
            id.as_bytes(),
            b"f",
            b"v",
        ]));
    }
    file.extend(crate::common::encode(&[b"SET", b"done", b"yes"]));
    file
}

/// Makes every rewrite in `dir` fail until the returned directory is removed: it stands where
/// the rewrite's temp file goes (an in-process server carries this process's id in the name).
pub fn block_rewrites(dir: &Scratch) -> PathBuf {
    let blocker = dir
        .0
        .join(format!("temp-rewriteaof-bg-{}.aof", std::process::id()));
    std::fs::create_dir(&blocker).expect("blocking directory");
    blocker
}

/// `XREADGROUP GROUP g <consumer> COUNT <count> STREAMS q >`: the group read the AOF tests'
/// writers and fixtures make on their stream `q`.
pub fn read_new(raw: &mut Raw, consumer: &str, count: u32) -> String {
    raw.cmd(&[
        "XREADGROUP",
        "GROUP",
        "g",
        consumer,
        "COUNT",
        &count.to_string(),
        "STREAMS",
        "q",
        ">",
    ])
}

/// Sets `batches` × 1000 keys `k<batch>:<i>` to `value`, pipelined a thousand at a time.
pub fn fill_keys(raw: &mut Raw, batches: usize, value: &[u8]) {
    for batch in 0..batches {
        for i in 0..1000 {
            raw.send_cmd(&[b"SET", format!("k{batch}:{i}").as_bytes(), value]);
        }
        (0..1000).for_each(|_| assert_eq!(raw.reply(), "+OK\r\n"));
    }
}

/// Client threads writing to a server while a test does something else to it (a rewrite, the
/// AOF turned on or off): each runs `round(raw, thread, n)` for n = 1, 2, ... until stopped or
/// `rounds` are done.
pub struct Writers {
    stop: Arc<AtomicBool>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Writers {
    pub fn start(
        addr: SocketAddr,
        count: usize,
        rounds: u64,
        round: impl Fn(&mut Raw, usize, u64) + Send + Sync + 'static,
    ) -> Writers {
        let stop = Arc::new(AtomicBool::new(false));
        let round = Arc::new(round);
        let threads = (0..count)
            .map(|t| {
                let (stop, round) = (stop.clone(), round.clone());
                std::thread::spawn(move || {
                    let mut raw = Raw::connect(addr);
                    let mut n = 0;
                    while !stop.load(Ordering::Relaxed) && n < rounds {
                        n += 1;
                        round(&mut raw, t, n);
                    }
                })
            })
            .collect();
        Writers { stop, threads }
    }

    /// Stops the writers and waits for them; a writer's failed assertion fails the test here.
    pub fn stop(self) {
        self.stop.store(true, Ordering::Relaxed);
        self.threads.into_iter().for_each(|t| t.join().unwrap());
    }
}
