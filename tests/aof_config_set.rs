//! `CONFIG SET appendonly yes|no` on a running server, as Redis allows: turning the AOF on
//! writes the current state with a rewrite and records every write from that instant, writes
//! made while the rewrite runs included; turning it off writes what is queued and stops the file.
//! Each test restarts on the same directory with the AOF on and compares what it finds.

mod aof_support;
mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use aof_support::{
    block_rewrites, fill_keys, info_field, read, read_new, start, wait_rewrite_done, Scratch,
    Writers,
};
use common::{running, spawn_binary, wait_until, Raw, TestServer};

/// Every key of databases 0 and 3 with its type, value, deadline, and for streams their
/// entries, groups and pending entries.
fn dump(raw: &mut Raw) -> Vec<String> {
    let mut out = Vec::new();
    for db in ["0", "3"] {
        raw.cmd(&["SELECT", db]);
        let mut keys = common::sorted_bulks(&raw.cmd(&["KEYS", "*"]));
        keys.sort();
        for key in keys {
            let kind = raw.cmd(&["TYPE", &key]);
            out.push(format!("{db} {key} {kind}"));
            out.push(raw.cmd(&["PEXPIRETIME", &key]));
            if kind.contains("stream") {
                out.push(raw.cmd(&["XRANGE", &key, "-", "+"]));
                out.push(raw.cmd(&["XINFO", "GROUPS", &key]));
                out.push(raw.cmd(&["XPENDING", &key, "g"]));
            } else {
                out.push(raw.cmd(&["GET", &key]));
            }
        }
    }
    raw.cmd(&["SELECT", "0"]);
    out
}

/// Strings, a stream with a group, a pending and an acknowledged entry, an expiring key, and a
/// key in another database.
fn fill(raw: &mut Raw) {
    raw.cmd(&["SET", "plain", "v"]);
    raw.cmd(&["SET", "expiring", "v", "EX", "1000"]);
    for i in 1..=5 {
        raw.cmd(&["XADD", "q", &format!("{i}-0"), "n", &i.to_string()]);
    }
    raw.cmd(&["XGROUP", "CREATE", "q", "g", "0"]);
    read_new(raw, "c", 3);
    raw.cmd(&["XACK", "q", "g", "2-0"]);
    raw.cmd(&["SELECT", "3"]);
    raw.cmd(&["SET", "in3", "v"]);
    raw.cmd(&["SELECT", "0"]);
}

/// Restarts on `dir` and asserts that the server then holds exactly `before` (as [`dump`] shows
/// it); returns the server for further queries.
fn restarted_holding(dir: &Scratch, before: &[String]) -> (TestServer, Raw) {
    let server = start(dir, &[]);
    let mut raw = server.raw();
    let after = dump(&mut raw);
    let differing: Vec<_> = before
        .iter()
        .zip(&after)
        .filter(|(b, a)| b != a)
        .take(3)
        .collect();
    assert!(
        before.len() == after.len() && differing.is_empty(),
        "{differing:.400?}"
    );
    (server, raw)
}

#[test]
fn turned_on_at_run_time_the_file_holds_the_state_and_every_write_after() {
    let dir = Scratch::new("config-on");
    let (before, acknowledged) = {
        let server = TestServer::start(&["--dir", dir.path()]);
        let mut raw = server.raw();
        fill(&mut raw);
        // Enough keys (in database 5) that the rewrite takes a while, with the writers below
        // running.
        raw.cmd(&["SELECT", "5"]);
        fill_keys(&mut raw, 40, b"some value");
        raw.cmd(&["SELECT", "0"]);
        assert_eq!(
            raw.cmd(&["CONFIG", "GET", "appendonly"]),
            "*2\r\n$10\r\nappendonly\r\n$2\r\nno\r\n"
        );
        assert_eq!(info_field(&mut raw, "aof_enabled"), "0");

        // Writers keep going across the switch: what they did while the rewrite ran reaches
        // the file through the rewrite's buffer, what they did after through the writer.
        let acknowledged = Arc::new(AtomicU64::new(0));
        let counted = acknowledged.clone();
        let writers = Writers::start(server.addr, 2, 20_000, move |raw, t, n| {
            assert_eq!(raw.cmd(&["INCR", &format!("w{t}")]), format!(":{n}\r\n"));
            assert!(raw
                .cmd(&["XADD", "q", "*", "t", &t.to_string()])
                .starts_with('$'));
            counted.fetch_add(1, Ordering::Relaxed);
        });
        std::thread::sleep(Duration::from_millis(50));
        assert_eq!(raw.cmd(&["CONFIG", "SET", "appendonly", "yes"]), "+OK\r\n");
        assert_eq!(
            raw.cmd(&["CONFIG", "GET", "appendonly"]),
            "*2\r\n$10\r\nappendonly\r\n$3\r\nyes\r\n"
        );
        assert_eq!(info_field(&mut raw, "aof_enabled"), "1");
        wait_rewrite_done(&mut raw, 1);
        std::thread::sleep(Duration::from_millis(50));
        writers.stop();
        assert_eq!(info_field(&mut raw, "aof_last_bgrewrite_status"), "ok");
        // Turning it on again changes nothing.
        assert_eq!(raw.cmd(&["CONFIG", "SET", "appendonly", "yes"]), "+OK\r\n");
        raw.cmd(&["XACK", "q", "g", "1-0"]);
        raw.cmd(&["SET", "last", "v"]);
        (dump(&mut raw), acknowledged.load(Ordering::Relaxed))
    };
    let text = String::from_utf8_lossy(&read(&dir.aof())).into_owned();
    assert!(
        text.starts_with("*2\r\n$6\r\nSELECT\r\n"),
        "a rewritten file: {text:.80}"
    );
    let (_server, mut raw) = restarted_holding(&dir, &before);
    let incremented = common::int(&raw.cmd(&["INCRBY", "w0", "0"]))
        + common::int(&raw.cmd(&["INCRBY", "w1", "0"]));
    assert_eq!(incremented as u64, acknowledged);
    assert_eq!(
        common::int(&raw.cmd(&["XLEN", "q"])) as u64,
        5 + acknowledged
    );
    raw.cmd(&["SELECT", "5"]);
    assert_eq!(raw.cmd(&["DBSIZE"]), ":40000\r\n");
    assert_eq!(raw.cmd(&["GET", "k39:999"]), "$10\r\nsome value\r\n");
}

#[test]
fn turned_off_at_run_time_the_file_stops_where_it_was_and_can_be_turned_on_again() {
    let dir = Scratch::new("config-off");
    {
        let server = start(&dir, &[]);
        let mut raw = server.raw();
        fill(&mut raw);
        assert_eq!(raw.cmd(&["CONFIG", "SET", "appendonly", "no"]), "+OK\r\n");
        assert_eq!(
            raw.cmd(&["CONFIG", "GET", "appendonly"]),
            "*2\r\n$10\r\nappendonly\r\n$2\r\nno\r\n"
        );
        assert_eq!(info_field(&mut raw, "aof_enabled"), "0");
        let size = read(&dir.aof()).len();
        raw.cmd(&["SET", "after-off", "v"]);
        raw.cmd(&["XADD", "q", "9-0", "n", "9"]);
        assert_eq!(read(&dir.aof()).len(), size, "nothing written once off");
    }
    {
        let server = start(&dir, &[]);
        let mut raw = server.raw();
        assert_eq!(raw.cmd(&["GET", "plain"]), "$1\r\nv\r\n");
        assert_eq!(raw.cmd(&["GET", "after-off"]), "$-1\r\n");
        assert_eq!(raw.cmd(&["XLEN", "q"]), ":5\r\n");

        // Off, writes, on again: the new file has all of it.
        raw.cmd(&["CONFIG", "SET", "appendonly", "no"]);
        raw.cmd(&["SET", "while-off", "v"]);
        raw.cmd(&["XADD", "q", "10-0", "n", "10"]);
        assert_eq!(raw.cmd(&["CONFIG", "SET", "appendonly", "yes"]), "+OK\r\n");
        wait_rewrite_done(&mut raw, 1);
        raw.cmd(&["SET", "on-again", "v"]);
    }
    let server = start(&dir, &[]);
    let mut raw = server.raw();
    assert_eq!(raw.cmd(&["GET", "while-off"]), "$1\r\nv\r\n");
    assert_eq!(raw.cmd(&["GET", "on-again"]), "$1\r\nv\r\n");
    assert_eq!(raw.cmd(&["XLEN", "q"]), ":6\r\n");
    assert_eq!(
        raw.cmd(&["XPENDING", "q", "g"]),
        "*4\r\n:2\r\n$3\r\n1-0\r\n$3\r\n3-0\r\n*1\r\n*2\r\n$1\r\nc\r\n$1\r\n2\r\n"
    );
}

#[test]
fn turned_on_inside_a_transaction_the_rewrite_runs_after_it() {
    let dir = Scratch::new("config-on-exec");
    {
        let server = TestServer::start(&["--dir", dir.path(), "--hz", "50"]);
        let mut raw = server.raw();
        raw.cmd(&["SET", "a", "1"]);
        raw.cmd(&["MULTI"]);
        raw.cmd(&["APPEND", "a", "2"]);
        raw.cmd(&["CONFIG", "SET", "appendonly", "yes"]);
        raw.cmd(&["APPEND", "a", "3"]);
        assert_eq!(raw.cmd(&["EXEC"]), "*3\r\n:2\r\n+OK\r\n:3\r\n");
        wait_rewrite_done(&mut raw, 1);
        raw.cmd(&["APPEND", "a", "4"]);
        // And off inside one: EXEC already holds what turning it off waits for.
        raw.cmd(&["MULTI"]);
        raw.cmd(&["APPEND", "a", "5"]);
        raw.cmd(&["CONFIG", "SET", "appendonly", "no"]);
        raw.cmd(&["APPEND", "a", "6"]);
        assert_eq!(raw.cmd(&["EXEC"]), "*3\r\n:5\r\n+OK\r\n:6\r\n");
        assert_eq!(info_field(&mut raw, "aof_enabled"), "0");
    }
    let server = start(&dir, &[]);
    let mut raw = server.raw();
    assert_eq!(raw.cmd(&["GET", "a"]), "$4\r\n1234\r\n");
}

#[test]
fn a_bad_value_is_refused_and_changes_nothing() {
    let server = TestServer::start(&[]);
    let mut raw = server.raw();
    assert_eq!(
        raw.cmd(&["CONFIG", "SET", "appendonly", "maybe"]),
        "-ERR CONFIG SET failed (possibly related to argument 'appendonly') - argument must be 'yes' or 'no'\r\n"
    );
    assert_eq!(
        raw.cmd(&["CONFIG", "GET", "appendonly"]),
        "*2\r\n$10\r\nappendonly\r\n$2\r\nno\r\n"
    );
    assert_eq!(info_field(&mut raw, "aof_enabled"), "0");
}

/// The real binary under `appendfsync always`, the AOF turned on at run time, killed with
/// SIGKILL: every write acknowledged after the switch is in the file.
#[test]
fn under_always_writes_acknowledged_after_turning_it_on_survive_a_kill() {
    let dir = Scratch::new("config-on-kill");
    let mut server = running(spawn_binary(&[
        "--dir",
        dir.path(),
        "--appendfsync",
        "always",
    ]));
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], server.port));
    let mut raw = Raw::connect(addr);
    fill(&mut raw);
    assert_eq!(raw.cmd(&["CONFIG", "SET", "appendonly", "yes"]), "+OK\r\n");
    wait_rewrite_done(&mut raw, 1);
    for i in 0..200 {
        assert_eq!(raw.cmd(&["INCR", "n"]), format!(":{}\r\n", i + 1));
    }
    raw.cmd(&["XACK", "q", "g", "1-0"]);
    let fsyncs: u64 = info_field(&mut raw, "aof_fsyncs").parse().unwrap();
    assert!(fsyncs > 0, "fsynced under always");
    server.child.kill().expect("SIGKILL");
    server.child.wait().expect("reap");
    let server = start(&dir, &[]);
    let mut raw = server.raw();
    assert_eq!(raw.cmd(&["GET", "n"]), "$3\r\n200\r\n");
    assert_eq!(raw.cmd(&["GET", "plain"]), "$1\r\nv\r\n");
    assert_eq!(
        raw.cmd(&["XPENDING", "q", "g"]),
        "*4\r\n:1\r\n$3\r\n3-0\r\n$3\r\n3-0\r\n*1\r\n*2\r\n$1\r\nc\r\n$1\r\n1\r\n"
    );
}

#[test]
fn a_failed_turning_on_is_retried_and_the_file_turns_on_once_a_rewrite_succeeds() {
    let dir = Scratch::new("config-on-retry");
    {
        let server = TestServer::start(&["--dir", dir.path(), "--hz", "100"]);
        let mut raw = server.raw();
        raw.cmd(&["SET", "k", "v"]);
        let blocker = block_rewrites(&dir);
        assert_eq!(raw.cmd(&["CONFIG", "SET", "appendonly", "yes"]), "+OK\r\n");
        // The background cycle tries again until three failures in a row, then waits.
        wait_until("three failed tries", || {
            info_field(&mut raw, "aof_rewrites_consecutive_failures") == "3"
        });
        std::thread::sleep(Duration::from_millis(300));
        assert_eq!(
            info_field(&mut raw, "aof_rewrites_consecutive_failures"),
            "3"
        );
        assert_eq!(info_field(&mut raw, "aof_enabled"), "1");
        assert_eq!(info_field(&mut raw, "aof_last_bgrewrite_status"), "err");
        assert_eq!(raw.cmd(&["SET", "k2", "v"]), "+OK\r\n");
        assert!(!dir.aof().exists());

        std::fs::remove_dir(&blocker).expect("unblock");
        assert!(raw.cmd(&["BGREWRITEAOF"]).starts_with("+Background"));
        wait_rewrite_done(&mut raw, 1);
        assert_eq!(
            info_field(&mut raw, "aof_rewrites_consecutive_failures"),
            "0"
        );
        raw.cmd(&["SET", "k3", "v"]);
    }
    let server = start(&dir, &[]);
    let mut raw = server.raw();
    assert_eq!(
        raw.cmd(&["MGET", "k", "k2", "k3"]),
        "*3\r\n$1\r\nv\r\n$1\r\nv\r\n$1\r\nv\r\n"
    );
}

#[test]
fn turned_off_while_the_rewrite_turning_it_on_runs_it_gives_up_and_leaves_no_file() {
    let dir = Scratch::new("config-on-off");
    let server = TestServer::start(&["--dir", dir.path()]);
    let mut raw = server.raw();
    // About 20 MB to write: the rewrite is still writing when the second CONFIG SET comes.
    let value = "v".repeat(100);
    fill_keys(&mut raw, 200, value.as_bytes());
    assert_eq!(raw.cmd(&["CONFIG", "SET", "appendonly", "yes"]), "+OK\r\n");
    assert_eq!(raw.cmd(&["CONFIG", "SET", "appendonly", "no"]), "+OK\r\n");
    wait_rewrite_done(&mut raw, 0);
    assert_eq!(info_field(&mut raw, "aof_enabled"), "0");
    assert_eq!(
        info_field(&mut raw, "aof_rewrites"),
        "0",
        "the rewrite gave up"
    );
    assert_eq!(
        info_field(&mut raw, "aof_rewrites_consecutive_failures"),
        "0"
    );
    let left: Vec<_> = std::fs::read_dir(&dir.0)
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert!(left.is_empty(), "{left:?}");
    assert_eq!(raw.cmd(&["SET", "after", "v"]), "+OK\r\n");
}

#[test]
fn turned_on_then_off_in_one_transaction_no_rewrite_runs_and_no_file_is_written() {
    let dir = Scratch::new("config-on-off-exec");
    let server = TestServer::start(&["--dir", dir.path(), "--hz", "100"]);
    let mut raw = server.raw();
    raw.cmd(&["SET", "k", "v"]);
    raw.cmd(&["MULTI"]);
    raw.cmd(&["CONFIG", "SET", "appendonly", "yes"]);
    raw.cmd(&["CONFIG", "SET", "appendonly", "no"]);
    assert_eq!(raw.cmd(&["EXEC"]), "*2\r\n+OK\r\n+OK\r\n");
    // Several background cycles: a rewrite left scheduled would have run by now.
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(info_field(&mut raw, "aof_rewrite_scheduled"), "0");
    assert_eq!(info_field(&mut raw, "aof_rewrites"), "0");
    assert_eq!(info_field(&mut raw, "aof_enabled"), "0");
    assert!(!dir.aof().exists());
}

/// The AOF turned on and off twenty times while writers keep writing (strings, a stream, a
/// group's reads and acks): once it is left on, the file holds exactly the state the clients see.
#[test]
fn toggled_under_load_the_file_ends_holding_exactly_the_state() {
    let dir = Scratch::new("config-toggle");
    let before = {
        let server = TestServer::start(&["--dir", dir.path(), "--hz", "100"]);
        let mut raw = server.raw();
        raw.cmd(&["XGROUP", "CREATE", "q", "g", "$", "MKSTREAM"]);
        let writers = Writers::start(server.addr, 3, 50_000, |raw, t, n| {
            raw.cmd(&["INCR", &format!("w{t}")]);
            raw.cmd(&["SET", &format!("x{t}:{}", n % 50), &n.to_string()]);
            raw.cmd(&["XADD", "q", "*", "t", &t.to_string()]);
            if n % 5 == 0 {
                let read = read_new(raw, &format!("c{t}"), 2);
                if let Some(at) = read.find("$15\r\n").or_else(|| read.find("$16\r\n")) {
                    let id = read[at..].split("\r\n").nth(1).unwrap_or_default();
                    if n % 10 == 0 {
                        raw.cmd(&["XACK", "q", "g", id]);
                    }
                }
            }
        });
        for i in 0..20 {
            let value = if i % 2 == 0 { "yes" } else { "no" };
            assert_eq!(raw.cmd(&["CONFIG", "SET", "appendonly", value]), "+OK\r\n");
            std::thread::sleep(Duration::from_millis(15 + (i % 4) * 10));
        }
        assert_eq!(raw.cmd(&["CONFIG", "SET", "appendonly", "yes"]), "+OK\r\n");
        wait_until("the AOF to come on", || {
            info_field(&mut raw, "aof_rewrite_in_progress") == "0"
                && info_field(&mut raw, "aof_rewrite_scheduled") == "0"
                && dir.aof().exists()
        });
        std::thread::sleep(Duration::from_millis(50));
        writers.stop();
        assert_eq!(info_field(&mut raw, "aof_enabled"), "1");
        dump(&mut raw)
    };
    restarted_holding(&dir, &before);
}
