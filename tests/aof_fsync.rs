//! fsync policies, seen through INFO's `aof_fsyncs` / `aof_appends` counters:
//! - `always`: a write is acknowledged only after an fsync that covers it, and concurrent
//!   writers share fsyncs (group commit): fewer fsyncs than writes. That is a correctness
//!   property of group commit (one fsync releases every waiting client), not a speed target.
//! - `everysec`: about one fsync a second whatever the write rate; `no`: none from Herald.

mod aof_support;
mod common;

use std::time::{Duration, Instant};

use aof_support::{info_field, start, Scratch};

fn counter(raw: &mut common::Raw, field: &str) -> u64 {
    info_field(raw, field).parse().unwrap()
}

#[test]
fn under_always_each_acknowledged_write_follows_an_fsync_that_covers_it() {
    let dir = Scratch::new("always-serial");
    let server = start(&dir, &["--appendfsync", "always"]);
    let mut raw = server.raw();
    for i in 1..=20u64 {
        assert_eq!(raw.cmd(&["SET", "k", &i.to_string()]), "+OK\r\n");
        // The reply came after the fsync of its batch: the counter already shows it.
        assert!(counter(&mut raw, "aof_fsyncs") >= i);
    }
}

#[test]
fn under_always_concurrent_writers_share_fsyncs() {
    const CLIENTS: usize = 16;
    const WRITES: usize = 100;
    let dir = Scratch::new("group-commit");
    let server = start(&dir, &["--appendfsync", "always"]);
    let addr = server.addr;
    let threads: Vec<_> = (0..CLIENTS)
        .map(|t| {
            std::thread::spawn(move || {
                let mut raw = common::Raw::connect(addr);
                for _ in 0..WRITES {
                    assert!(raw.cmd(&["INCR", &format!("c{t}")]).starts_with(':'));
                }
            })
        })
        .collect();
    threads.into_iter().for_each(|t| t.join().unwrap());
    let mut raw = server.raw();
    let appends = counter(&mut raw, "aof_appends");
    let fsyncs = counter(&mut raw, "aof_fsyncs");
    eprintln!(
        "group commit: {appends} acknowledged writes from {CLIENTS} clients, {fsyncs} fsyncs"
    );
    assert_eq!(appends, (CLIENTS * WRITES) as u64);
    assert!(fsyncs > 0);
    assert!(
        fsyncs < appends,
        "{fsyncs} fsyncs for {appends} writes: no group commit"
    );
    for t in 0..CLIENTS {
        assert_eq!(raw.cmd(&["GET", &format!("c{t}")]), "$3\r\n100\r\n");
    }
}

#[test]
fn under_everysec_fsyncs_come_about_once_a_second_and_under_no_never() {
    let dir = Scratch::new("everysec");
    let server = start(&dir, &["--appendfsync", "everysec"]);
    let mut raw = server.raw();
    let started = Instant::now();
    let mut writes = 0;
    while started.elapsed() < Duration::from_millis(1500) {
        raw.cmd(&["INCR", "n"]);
        writes += 1;
    }
    std::thread::sleep(Duration::from_millis(1100));
    let fsyncs = counter(&mut raw, "aof_fsyncs");
    assert!(writes > 10);
    assert!((1..=4).contains(&fsyncs), "{fsyncs} fsyncs in ~2.6 s");

    assert_eq!(raw.cmd(&["CONFIG", "SET", "appendfsync", "no"]), "+OK\r\n");
    assert_eq!(
        raw.cmd(&["CONFIG", "GET", "appendfsync"]),
        "*2\r\n$11\r\nappendfsync\r\n$2\r\nno\r\n"
    );
    let before = counter(&mut raw, "aof_fsyncs");
    for _ in 0..50 {
        raw.cmd(&["INCR", "n"]);
    }
    std::thread::sleep(Duration::from_millis(1100));
    assert_eq!(counter(&mut raw, "aof_fsyncs"), before);
}

#[test]
fn the_options_show_in_config_get() {
    let dir = Scratch::new("config");
    let server = start(&dir, &["--auto-aof-rewrite-percentage", "50"]);
    let mut raw = server.raw();
    let get = |raw: &mut common::Raw, name: &str| {
        let reply = raw.cmd(&["CONFIG", "GET", name]);
        reply.split("\r\n").nth(4).unwrap_or_default().to_owned()
    };
    assert_eq!(get(&mut raw, "appendonly"), "yes");
    assert_eq!(get(&mut raw, "appendfilename"), "appendonly.aof");
    assert_eq!(get(&mut raw, "appendfsync"), "everysec");
    assert_eq!(get(&mut raw, "auto-aof-rewrite-percentage"), "50");
    assert_eq!(
        get(&mut raw, "auto-aof-rewrite-min-size"),
        (64u64 << 20).to_string()
    );
    assert_eq!(get(&mut raw, "aof-load-truncated"), "yes");
    assert!(get(&mut raw, "dir").ends_with(dir.0.file_name().unwrap().to_str().unwrap()));
    assert!(raw
        .cmd(&["CONFIG", "SET", "appendfsync", "sometimes"])
        .starts_with("-ERR CONFIG SET failed"));
    assert!(raw
        .cmd(&["CONFIG", "SET", "appendfilename", "other.aof"])
        .contains("can't set immutable config"));
}
