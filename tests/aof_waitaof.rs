//! WAITAOF (Redis 7.2+) and WAIT: a client waits until its own writes are fsynced to the AOF,
//! under each fsync policy; with the AOF off it is refused, and a waiting client is answered
//! with that error when the AOF is turned off; inside a transaction it does not wait. Herald
//! has no replicas, so a request for replica acknowledgements waits out its timeout.

mod aof_support;
mod common;

use aof_support::{info_field, start, wait_rewrite_done, Scratch};
use common::{send_until_blocked, Raw, TestServer};

const PAIR_1_0: &str = "*2\r\n:1\r\n:0\r\n";
const PAIR_0_0: &str = "*2\r\n:0\r\n:0\r\n";

/// Sends `command` on `raw` and answers its reply, having first seen the server count it as a
/// blocked client from another connection: the command waited rather than answered at once.
fn reply_after_waiting(server: &TestServer, raw: &mut Raw, command: &[&str]) -> String {
    let args: Vec<&[u8]> = command.iter().map(|a| a.as_bytes()).collect();
    send_until_blocked(raw, &mut server.raw(), &common::encode(&args));
    raw.reply()
}

#[test]
fn waitaof_answers_once_the_clients_writes_are_fsynced_under_each_policy() {
    let dir = Scratch::new("waitaof-always");
    let server = start(&dir, &["--appendfsync", "always"]);
    let mut raw = server.raw();
    // No write yet: nothing to wait for.
    assert_eq!(raw.cmd(&["WAITAOF", "1", "0", "0"]), PAIR_1_0);
    raw.cmd(&["SET", "k", "v"]);
    assert_eq!(raw.cmd(&["WAITAOF", "1", "0", "0"]), PAIR_1_0);

    let dir = Scratch::new("waitaof-everysec");
    let server = start(&dir, &["--appendfsync", "everysec"]);
    let mut raw = server.raw();
    let fsyncs: u64 = info_field(&mut raw, "aof_fsyncs").parse().unwrap();
    raw.cmd(&["XADD", "s", "*", "f", "v"]);
    assert_eq!(raw.cmd(&["WAITAOF", "1", "0", "0"]), PAIR_1_0);
    let after: u64 = info_field(&mut raw, "aof_fsyncs").parse().unwrap();
    assert!(
        after > fsyncs,
        "answered after an fsync ({fsyncs} -> {after})"
    );

    // Under `no` Herald never fsyncs while it runs: the wait ends at its timeout, unreached.
    let dir = Scratch::new("waitaof-no");
    let server = start(&dir, &["--appendfsync", "no"]);
    let mut raw = server.raw();
    raw.cmd(&["SET", "k", "v"]);
    assert_eq!(
        reply_after_waiting(&server, &mut raw, &["WAITAOF", "1", "0", "1000"]),
        PAIR_0_0
    );
    // Commands pipelined behind a waiting WAITAOF run after it, in order.
    raw.send(&common::encode(&[b"WAITAOF", b"1", b"0", b"100"]));
    raw.send(&common::encode(&[b"PING"]));
    assert_eq!(raw.reply(), PAIR_0_0);
    assert_eq!(raw.reply(), "+PONG\r\n");
}

#[test]
fn a_waiting_waitaof_gets_an_error_when_the_aof_is_turned_off() {
    let dir = Scratch::new("waitaof-off");
    let server = start(&dir, &["--appendfsync", "no"]);
    let mut waiter = server.raw();
    waiter.cmd(&["SET", "k", "v"]);
    let mut other = server.raw();
    send_until_blocked(
        &mut waiter,
        &mut other,
        &common::encode(&[b"WAITAOF", b"1", b"0", b"0"]),
    );
    assert_eq!(other.cmd(&["CONFIG", "SET", "appendonly", "no"]), "+OK\r\n");
    assert_eq!(
        waiter.reply(),
        "-ERR WAITAOF cannot be used when numlocal is set but appendonly is disabled.\r\n"
    );
    assert_eq!(waiter.cmd(&["PING"]), "+PONG\r\n");
}

#[test]
fn with_the_aof_off_waitaof_is_refused_and_wait_counts_no_replica() {
    let server = TestServer::start(&[]);
    let mut raw = server.raw();
    raw.cmd(&["SET", "k", "v"]);
    let refused =
        "-ERR WAITAOF cannot be used when numlocal is set but appendonly is disabled.\r\n";
    assert_eq!(raw.cmd(&["WAITAOF", "1", "0", "0"]), refused);
    assert_eq!(raw.cmd(&["WAITAOF", "0", "0", "0"]), PAIR_0_0);
    assert_eq!(
        reply_after_waiting(&server, &mut raw, &["WAITAOF", "0", "1", "1000"]),
        PAIR_0_0
    );
    assert_eq!(raw.cmd(&["WAIT", "0", "0"]), ":0\r\n");
    assert_eq!(
        reply_after_waiting(&server, &mut raw, &["WAIT", "1", "1000"]),
        ":0\r\n"
    );
    // Redis's checks, in its order, with its texts.
    for (args, error) in [
        (
            ["2", "0", "0"],
            "value is out of range, value must between 0 and 1",
        ),
        (["x", "0", "0"], "value is not an integer or out of range"),
        (["0", "-1", "0"], "value is out of range, must be positive"),
        (["0", "x", "0"], "value is out of range, must be positive"),
        (["0", "0", "-1"], "timeout is negative"),
        (["0", "0", "x"], "timeout is not an integer or out of range"),
        (["1", "0", "x"], "timeout is not an integer or out of range"),
    ] {
        let mut command = vec!["WAITAOF"];
        command.extend(args);
        assert_eq!(raw.cmd(&command), format!("-ERR {error}\r\n"), "{args:?}");
    }
}

#[test]
fn inside_a_transaction_waitaof_answers_at_once() {
    let dir = Scratch::new("waitaof-multi");
    let server = start(&dir, &["--appendfsync", "no"]);
    let mut raw = server.raw();
    // A write that `no` leaves unfsynced: a WAITAOF outside a transaction would wait for ever.
    raw.cmd(&["SET", "k", "v"]);
    raw.cmd(&["MULTI"]);
    raw.cmd(&["SET", "k", "w"]);
    raw.cmd(&["WAITAOF", "1", "1", "0"]);
    // Waiting here (timeout 0) would never answer, and the read would time out.
    assert_eq!(raw.cmd(&["EXEC"]), "*2\r\n+OK\r\n*2\r\n:0\r\n:0\r\n");
}

#[test]
fn a_write_made_while_the_aof_is_being_turned_on_is_fsynced_once_it_is_on() {
    let dir = Scratch::new("waitaof-enabling");
    let server = TestServer::start(&["--dir", dir.path(), "--appendfsync", "no"]);
    let mut raw = server.raw();
    raw.cmd(&["SET", "before", "v"]);
    // Sent together, so that the SET runs while the turning-on rewrite is still writing its
    // file (one sent after the reply could come after the rewrite, on a loaded machine, and
    // then nothing would fsync it under `no`).
    let mut both = common::encode(&[b"CONFIG", b"SET", b"appendonly", b"yes"]);
    both.extend(common::encode(&[b"SET", b"during", b"v"]));
    raw.send(&both);
    assert_eq!(raw.reply(), "+OK\r\n");
    assert_eq!(raw.reply(), "+OK\r\n");
    // The turning-on rewrite's file is fsynced when it becomes the AOF, even under `no`.
    assert_eq!(raw.cmd(&["WAITAOF", "1", "0", "0"]), PAIR_1_0);
    wait_rewrite_done(&mut raw, 1);
    assert_eq!(info_field(&mut raw, "aof_enabled"), "1");
}
