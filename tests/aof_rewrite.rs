//! AOF rewrite: BGREWRITEAOF while clients keep writing, the automatic trigger, and a rewrite
//! with the AOF off (a one-off snapshot file). After each, a restart on the same directory finds
//! exactly the state the clients left.

mod aof_support;
mod common;

use std::time::Duration;

use aof_support::{
    block_rewrites, info_field, read, read_new, start, wait_rewrite_done, Scratch, Writers,
};
use common::{Raw, TestServer};

/// Every key with its type, value, deadline, and for streams their groups and pending summary.
fn dump(raw: &mut Raw) -> Vec<String> {
    let keys = raw.cmd(&["KEYS", "*"]);
    let mut keys: Vec<String> = keys
        .split("\r\n")
        .skip(1)
        .filter(|l| !l.starts_with('$') && !l.is_empty())
        .map(str::to_owned)
        .collect();
    keys.sort();
    let mut out = Vec::new();
    for key in keys {
        let kind = raw.cmd(&["TYPE", &key]);
        out.push(format!("{key} {kind}"));
        out.push(raw.cmd(&["PEXPIRETIME", &key]));
        if kind.contains("stream") {
            out.push(raw.cmd(&["XRANGE", &key, "-", "+"]));
            out.push(raw.cmd(&["XINFO", "STREAM", &key]));
            out.push(raw.cmd(&["XINFO", "GROUPS", &key]));
        } else {
            out.push(raw.cmd(&["GET", &key]));
        }
    }
    out
}

#[test]
fn bgrewriteaof_while_writes_continue_then_a_restart_finds_the_same_state() {
    let dir = Scratch::new("rewrite");
    let before = {
        let server = start(&dir, &[]);
        let mut raw = server.raw();
        for i in 0..500 {
            raw.cmd(&["INCR", "many"]);
            raw.cmd(&["SET", "overwritten", &"x".repeat(i % 50)]);
        }
        raw.cmd(&["SET", "expiring", "v", "EX", "1000"]);
        raw.cmd(&["XADD", "q", "*", "a", "1"]);
        raw.cmd(&["XGROUP", "CREATE", "q", "g", "0"]);
        raw.cmd(&["SELECT", "2"]);
        raw.cmd(&["SET", "in2", "v"]);
        raw.cmd(&["SELECT", "0"]);
        let size_before: u64 = info_field(&mut raw, "aof_current_size").parse().unwrap();

        let writers = Writers::start(server.addr, 3, 20_000, |raw, t, n| {
            raw.cmd(&["INCR", &format!("w{t}")]);
            raw.cmd(&["SET", &format!("x{t}:{}", n % 100), &n.to_string()]);
            raw.cmd(&["XADD", "q", "*", "t", &t.to_string()]);
            if n % 7 == 0 {
                read_new(raw, "c", 2);
            }
        });
        std::thread::sleep(Duration::from_millis(100));
        assert_eq!(
            raw.cmd(&["BGREWRITEAOF"]),
            "+Background append only file rewriting started\r\n"
        );
        wait_rewrite_done(&mut raw, 1);
        std::thread::sleep(Duration::from_millis(100));
        writers.stop();
        assert_eq!(info_field(&mut raw, "aof_last_bgrewrite_status"), "ok");
        let base: u64 = info_field(&mut raw, "aof_base_size").parse().unwrap();
        assert!(base > 0 && base < size_before * 50);
        dump(&mut raw)
    };
    let text = String::from_utf8_lossy(&read(&dir.aof())).into_owned();
    assert!(
        text.starts_with("*2\r\n$6\r\nSELECT\r\n"),
        "a rewritten file"
    );
    assert_eq!(
        text.matches("$4\r\nmany\r\n").count(),
        1,
        "500 increments collapse into one SET"
    );
    let server = start(&dir, &[]);
    let mut raw = server.raw();
    assert_eq!(dump(&mut raw), before);
    raw.cmd(&["SELECT", "2"]);
    assert_eq!(raw.cmd(&["GET", "in2"]), "$1\r\nv\r\n");
}

/// A stream as XINFO STREAM FULL shows it, consumers' seen and active times blanked (the
/// replay's clock sets them).
fn full(raw: &mut Raw, key: &str) -> String {
    let reply = raw.cmd(&["XINFO", "STREAM", key, "FULL"]);
    let mut out = Vec::new();
    let mut blank = false;
    for line in reply.split("\r\n") {
        out.push(if blank { "<time>" } else { line });
        blank = line == "seen-time" || line == "active-time";
    }
    out.join("\r\n")
}

#[test]
fn pending_entries_whose_stream_entries_are_gone_survive_a_rewrite() {
    let dir = Scratch::new("rewrite-orphans");
    let streams = [
        "trimmed",
        "trimmed-and-deleted",
        "all-deleted",
        "entries-added-lowered",
        "untouched",
    ];
    let before = {
        let server = start(&dir, &[]);
        let mut raw = server.raw();
        for key in streams {
            for ms in 1..=6 {
                raw.cmd(&["XADD", key, &format!("{ms}-0"), "f", "v"]);
            }
            raw.cmd(&["XGROUP", "CREATE", key, "g", "0"]);
            raw.cmd(&[
                "XREADGROUP",
                "GROUP",
                "g",
                "c",
                "COUNT",
                "4",
                "STREAMS",
                key,
                ">",
            ]);
        }
        // Pending 1-0..4-0. Trimmed, they leave the max deleted id at 0-0.
        raw.cmd(&["XTRIM", "trimmed", "MAXLEN", "=", "3"]);
        raw.cmd(&["XTRIM", "trimmed-and-deleted", "MAXLEN", "=", "5"]);
        raw.cmd(&["XDEL", "trimmed-and-deleted", "3-0"]);
        raw.cmd(&[
            "XDEL",
            "all-deleted",
            "1-0",
            "2-0",
            "3-0",
            "4-0",
            "5-0",
            "6-0",
        ]);
        // Six entries added, but the counter set below the four pending ids once they are gone.
        raw.cmd(&["XTRIM", "entries-added-lowered", "MAXLEN", "=", "0"]);
        raw.cmd(&[
            "XSETID",
            "entries-added-lowered",
            "6-0",
            "ENTRIESADDED",
            "1",
        ]);
        assert_eq!(
            raw.cmd(&["BGREWRITEAOF"]),
            "+Background append only file rewriting started\r\n"
        );
        wait_rewrite_done(&mut raw, 1);
        streams.map(|key| full(&mut raw, key))
    };
    for (key, state) in streams.iter().zip(&before) {
        assert!(
            state.contains("pel-count\r\n:4"),
            "{key} has its four pending entries: {state}"
        );
    }
    let server = start(&dir, &[]);
    let mut raw = server.raw();
    assert_eq!(streams.map(|key| full(&mut raw, key)), before);
}

#[test]
fn the_file_is_rewritten_automatically_once_it_outgrows_its_base() {
    let dir = Scratch::new("auto-rewrite");
    let value = "v".repeat(100);
    {
        let server = start(
            &dir,
            &[
                "--auto-aof-rewrite-min-size",
                "4kb",
                "--auto-aof-rewrite-percentage",
                "100",
                "--hz",
                "50",
            ],
        );
        let mut raw = server.raw();
        for i in 0..200 {
            raw.cmd(&["SET", "k", &format!("{value}{i}")]);
        }
        // The trigger may fire more than once while the loop runs; at least once it did.
        wait_rewrite_done(&mut raw, 1);
    }
    let sets = String::from_utf8_lossy(&read(&dir.aof()))
        .matches("$1\r\nk\r\n")
        .count();
    assert!(sets < 200, "{sets} SETs of k left: the file was rewritten");
    let server = start(&dir, &[]);
    let mut raw = server.raw();
    assert_eq!(raw.cmd(&["GET", "k"]), format!("$103\r\n{value}199\r\n"));
}

#[test]
fn with_the_aof_off_bgrewriteaof_writes_a_snapshot_that_loads() {
    let dir = Scratch::new("rewrite-off");
    {
        let server = TestServer::start(&["--dir", dir.path()]);
        let mut raw = server.raw();
        raw.cmd(&["SET", "k", "v"]);
        raw.cmd(&["XADD", "s", "1-1", "a", "b"]);
        assert!(raw.cmd(&["BGREWRITEAOF"]).starts_with("+Background"));
        wait_rewrite_done(&mut raw, 1);
        assert_eq!(info_field(&mut raw, "aof_enabled"), "0");
    }
    assert!(dir.aof().exists());
    let server = start(&dir, &[]);
    let mut raw = server.raw();
    assert_eq!(raw.cmd(&["GET", "k"]), "$1\r\nv\r\n");
    assert_eq!(raw.cmd(&["XLEN", "s"]), ":1\r\n");
}

#[test]
fn bgrewriteaof_inside_a_transaction_runs_after_it() {
    let dir = Scratch::new("rewrite-in-exec");
    {
        let server = start(&dir, &["--hz", "50"]);
        let mut raw = server.raw();
        raw.cmd(&["SET", "a", "1"]);
        raw.cmd(&["MULTI"]);
        raw.cmd(&["APPEND", "a", "2"]);
        raw.cmd(&["BGREWRITEAOF"]);
        raw.cmd(&["APPEND", "a", "3"]);
        let exec = raw.cmd(&["EXEC"]);
        assert!(
            exec.contains("+Background append only file rewriting scheduled\r\n"),
            "{exec}"
        );
        wait_rewrite_done(&mut raw, 1);
    }
    let server = start(&dir, &[]);
    let mut raw = server.raw();
    assert_eq!(raw.cmd(&["GET", "a"]), "$3\r\n123\r\n");
}

#[test]
fn failed_rewrites_are_counted_until_one_succeeds() {
    let dir = Scratch::new("rewrite-failures");
    let server = start(&dir, &[]);
    let mut raw = server.raw();
    raw.cmd(&["SET", "k", "v"]);
    let blocker = block_rewrites(&dir);
    for failures in 1..=2 {
        raw.cmd(&["BGREWRITEAOF"]);
        // Done when no rewrite runs (a failed one adds to no count).
        wait_rewrite_done(&mut raw, 0);
        assert_eq!(info_field(&mut raw, "aof_last_bgrewrite_status"), "err");
        assert_eq!(
            info_field(&mut raw, "aof_rewrites_consecutive_failures"),
            failures.to_string()
        );
    }
    std::fs::remove_dir(&blocker).expect("unblock");
    raw.cmd(&["BGREWRITEAOF"]);
    wait_rewrite_done(&mut raw, 1);
    assert_eq!(info_field(&mut raw, "aof_last_bgrewrite_status"), "ok");
    assert_eq!(
        info_field(&mut raw, "aof_rewrites_consecutive_failures"),
        "0"
    );
    assert_eq!(raw.cmd(&["GET", "k"]), "$1\r\nv\r\n");
}

#[test]
fn a_shutdown_during_a_rewrite_stops_it_and_removes_its_temp_file() {
    let dir = Scratch::new("rewrite-shutdown");
    // Enough keys that the rewrite is still writing when the shutdown comes.
    let keys = 200_000;
    let mut file = Vec::new();
    for i in 0..keys {
        file.extend(common::encode(&[
            b"SET",
            format!("key:{i}").as_bytes(),
            b"value",
        ]));
    }
    std::fs::write(dir.aof(), &file).expect("write the file");
    let server = start(&dir, &[]);
    let mut raw = server.raw();
    assert_eq!(
        raw.cmd(&["BGREWRITEAOF"]),
        "+Background append only file rewriting started\r\n"
    );
    assert!(server.stop(), "the server panicked while stopping");
    let temp_files: Vec<String> = std::fs::read_dir(&dir.0)
        .expect("list the directory")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with("temp-rewriteaof-"))
        .collect();
    assert!(temp_files.is_empty(), "left behind: {temp_files:?}");
    // The file the rewrite was to replace is still whole.
    let restarted = start(&dir, &[]);
    assert_eq!(restarted.raw().cmd(&["DBSIZE"]), format!(":{keys}\r\n"));
}
