//! Streams over TCP: the work-queue story (at-least-once with claims), blocking reads, and the
//! Redis 7.2+ fields the 7.0 reference server cannot show (XINFO CONSUMERS `inactive`).
mod common;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use common::{blocked_clients, encode, send_until_blocked, wait_until, Raw, TestServer};
use redis::streams::{StreamAutoClaimOptions, StreamReadOptions, StreamReadReply};
use redis::Commands;

#[test]
fn three_consumers_share_a_queue_and_a_dead_ones_work_is_claimed() {
    let server = TestServer::start(&[]);
    let mut producer = server.client();
    let _: () = redis::cmd("XGROUP")
        .arg("CREATE")
        .arg("jobs")
        .arg("workers")
        .arg("$")
        .arg("MKSTREAM")
        .query(&mut producer)
        .unwrap();
    let mut all_ids = BTreeSet::new();
    for i in 0..30 {
        let id: String = producer.xadd("jobs", "*", &[("job", i)]).unwrap();
        all_ids.insert(id);
    }
    let mut consumers: Vec<redis::Connection> = (0..3).map(|_| server.client()).collect();
    let mut done = BTreeSet::new();
    let mut dead_held = BTreeSet::new();
    // Each consumer takes 5 at a time, round robin; consumer 2 dies holding its second batch.
    for round in 0..2 {
        for (n, conn) in consumers.iter_mut().enumerate() {
            let opts = StreamReadOptions::default()
                .group("workers", format!("c{n}"))
                .count(5);
            let reply: StreamReadReply = conn.xread_options(&["jobs"], &[">"], &opts).unwrap();
            let ids: Vec<String> = reply.keys[0].ids.iter().map(|e| e.id.clone()).collect();
            assert_eq!(ids.len(), 5);
            if n == 2 && round == 1 {
                dead_held.extend(ids);
                continue;
            }
            let acked: i64 = conn.xack("jobs", "workers", &ids).unwrap();
            assert_eq!(acked, 5);
            done.extend(ids);
        }
    }
    drop(consumers.pop());
    // The dead consumer's entries stay pending until claimed.
    let pending: (i64, String, String, Vec<(String, String)>) = redis::cmd("XPENDING")
        .arg("jobs")
        .arg("workers")
        .query(&mut producer)
        .unwrap();
    assert_eq!(pending.0, 5);
    assert_eq!(pending.3, vec![("c2".to_string(), "5".to_string())]);
    // Too soon: nothing is idle for 200 ms yet.
    let mut rescuer = server.client();
    let opts = || StreamAutoClaimOptions::default().count(10);
    let early: redis::streams::StreamAutoClaimReply = rescuer
        .xautoclaim_options("jobs", "workers", "c0", 200, "0", opts())
        .unwrap();
    assert!(early.claimed.is_empty());
    std::thread::sleep(Duration::from_millis(250));
    let claimed: redis::streams::StreamAutoClaimReply = rescuer
        .xautoclaim_options("jobs", "workers", "c0", 200, "0", opts())
        .unwrap();
    let claimed_ids: BTreeSet<String> = claimed.claimed.iter().map(|e| e.id.clone()).collect();
    assert_eq!(claimed_ids, dead_held);
    // Delivery counts rose to 2 for every claimed entry.
    let rows: Vec<(String, String, i64, i64)> = redis::cmd("XPENDING")
        .arg("jobs")
        .arg("workers")
        .arg("-")
        .arg("+")
        .arg(10)
        .query(&mut producer)
        .unwrap();
    assert!(rows.iter().all(|r| r.1 == "c0" && r.3 == 2), "{rows:?}");
    let ids: Vec<&String> = claimed_ids.iter().collect();
    let acked: i64 = rescuer.xack("jobs", "workers", &ids).unwrap();
    assert_eq!(acked, 5);
    done.extend(claimed_ids);
    // The rest are read and acknowledged; nothing was lost.
    loop {
        let opts = StreamReadOptions::default()
            .group("workers", "c1")
            .count(100);
        let reply: StreamReadReply = rescuer.xread_options(&["jobs"], &[">"], &opts).unwrap();
        let Some(key) = reply.keys.first() else { break };
        let ids: Vec<String> = key.ids.iter().map(|e| e.id.clone()).collect();
        let _: i64 = rescuer.xack("jobs", "workers", &ids).unwrap();
        done.extend(ids);
    }
    assert_eq!(done, all_ids);
    let mut raw = server.raw();
    assert_eq!(
        raw.cmd(&["XPENDING", "jobs", "workers"]),
        "*4\r\n:0\r\n$-1\r\n$-1\r\n*-1\r\n"
    );
}

#[test]
fn blocked_xread_wakes_on_xadd_and_is_counted_meanwhile() {
    let server = TestServer::start(&[]);
    let mut admin = server.raw();
    admin.cmd(&["XADD", "s", "1-1", "f", "v"]);
    let mut reader = server.raw();
    send_until_blocked(
        &mut reader,
        &mut admin,
        &encode(&[b"XREAD", b"BLOCK", b"0", b"STREAMS", b"s", b"$"]),
    );
    assert!(admin.cmd(&["CLIENT", "LIST"]).contains("flags=b"));
    assert!(
        reader.is_silent(Duration::from_millis(300)),
        "BLOCK 0 waits"
    );
    admin.cmd(&["XADD", "s", "2-1", "f", "new"]);
    assert_eq!(
        reader.reply(),
        "*1\r\n*2\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n2-1\r\n*2\r\n$1\r\nf\r\n$3\r\nnew\r\n"
    );
    assert_eq!(blocked_clients(&mut admin), "blocked_clients:0");
    // Commands pipelined behind a blocked read run once it is answered.
    send_until_blocked(
        &mut reader,
        &mut admin,
        b"XREAD BLOCK 0 STREAMS s $\r\nPING\r\n",
    );
    admin.cmd(&["XADD", "s", "3-1", "f", "v"]);
    assert!(reader.reply().contains("3-1"));
    assert_eq!(reader.reply(), "+PONG\r\n");
}

/// CLIENT UNBLOCK ends a blocked read as its timeout would (TIMEOUT, the default) or with
/// Redis's UNBLOCKED error, and answers 0 for a client that is not blocked; the reader's
/// pipelined commands then run. Replies as redis-server 7.0.15 gave them.
#[test]
fn client_unblock_ends_a_blocked_read() {
    let server = TestServer::start(&[]);
    let mut admin = server.raw();
    let mut reader = server.raw();
    let id = common::int(&reader.cmd(&["CLIENT", "ID"])).to_string();
    assert_eq!(
        admin.cmd(&["CLIENT", "UNBLOCK", &id]),
        ":0\r\n",
        "not blocked"
    );
    admin.cmd(&["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]);
    for (reason, resp3, reply) in [
        (None, false, "*-1\r\n"),
        (Some("TIMEOUT"), false, "*-1\r\n"),
        (
            Some("error"),
            false,
            "-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n",
        ),
        (None, true, "_\r\n"),
        (
            Some("ERROR"),
            true,
            "-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n",
        ),
    ] {
        if resp3 {
            reader.cmd(&["HELLO", "3"]);
        }
        for read in [
            "XREAD BLOCK 0 STREAMS s $\r\nPING\r\n",
            "XREADGROUP GROUP g c BLOCK 0 STREAMS s >\r\nPING\r\n",
        ] {
            send_until_blocked(&mut reader, &mut admin, read.as_bytes());
            let mut unblock = vec!["CLIENT", "UNBLOCK", id.as_str()];
            unblock.extend(reason);
            assert_eq!(admin.cmd(&unblock), ":1\r\n");
            assert_eq!(reader.reply(), reply, "{read} {reason:?}");
            assert_eq!(reader.reply(), "+PONG\r\n", "the pipelined command runs");
            assert_eq!(admin.cmd(&["CLIENT", "UNBLOCK", &id]), ":0\r\n");
        }
    }
    // A WAIT (no replicas) is ended with its count so far.
    send_until_blocked(&mut reader, &mut admin, &encode(&[b"WAIT", b"1", b"0"]));
    assert_eq!(admin.cmd(&["CLIENT", "UNBLOCK", &id, "TIMEOUT"]), ":1\r\n");
    assert_eq!(reader.reply(), ":0\r\n");
    assert!(admin
        .cmd(&["INFO", "errorstats"])
        .contains("errorstat_UNBLOCKED:count=4"));
    for (args, error) in [
        (
            vec!["CLIENT", "UNBLOCK", &id, "nope"],
            "-ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR\r\n",
        ),
        (
            vec!["CLIENT", "UNBLOCK", "x", "nope"],
            "-ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR\r\n",
        ),
        (
            vec!["CLIENT", "UNBLOCK", "x"],
            "-ERR value is not an integer or out of range\r\n",
        ),
        (
            vec!["CLIENT", "UNBLOCK", "1", "TIMEOUT", "x"],
            "-ERR unknown subcommand or wrong number of arguments for 'UNBLOCK'. Try CLIENT HELP.\r\n",
        ),
        (
            vec!["CLIENT", "UNBLOCK"],
            "-ERR wrong number of arguments for 'client|unblock' command\r\n",
        ),
    ] {
        assert_eq!(admin.cmd(&args), error, "{args:?}");
    }
}

#[test]
fn blocked_reads_time_out_with_a_null_in_each_protocol() {
    let server = TestServer::start(&[]);
    let mut c = server.raw();
    c.cmd(&["XADD", "s", "1-1", "f", "v"]);
    let started = Instant::now();
    assert_eq!(
        c.cmd(&["XREAD", "BLOCK", "100", "STREAMS", "s", "$"]),
        "*-1\r\n"
    );
    assert!(started.elapsed() >= Duration::from_millis(95));
    c.cmd(&["HELLO", "3"]);
    assert_eq!(
        c.cmd(&["XREAD", "BLOCK", "50", "STREAMS", "s", "$"]),
        "_\r\n"
    );
    c.cmd(&["XGROUP", "CREATE", "s", "g", "$"]);
    assert_eq!(
        c.cmd(&[
            "XREADGROUP",
            "GROUP",
            "g",
            "c",
            "BLOCK",
            "50",
            "STREAMS",
            "s",
            ">"
        ]),
        "_\r\n"
    );
}

#[test]
fn a_blocked_client_that_disconnects_leaves_no_trace() {
    let server = TestServer::start(&[]);
    let mut admin = server.raw();
    let mut reader = server.raw();
    send_until_blocked(
        &mut reader,
        &mut admin,
        &encode(&[b"XREAD", b"BLOCK", b"0", b"STREAMS", b"s", b"$"]),
    );
    drop(reader);
    wait_until("the reader to leave", || {
        blocked_clients(&mut admin) == "blocked_clients:0"
    });
    assert_eq!(admin.cmd(&["CLIENT", "LIST"]).matches("id=").count(), 1);
    assert!(admin.cmd(&["XADD", "s", "1-1", "f", "v"]).contains("1-1"));
}

#[test]
fn blocked_group_readers_fail_when_their_group_or_stream_goes() {
    let server = TestServer::start(&[]);
    let mut admin = server.raw();
    admin.cmd(&["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]);
    let mut reader = server.raw();
    let read: [&[u8]; 9] = [
        b"XREADGROUP",
        b"GROUP",
        b"g",
        b"c",
        b"BLOCK",
        b"0",
        b"STREAMS",
        b"s",
        b">",
    ];
    send_until_blocked(&mut reader, &mut admin, &encode(&read));
    admin.cmd(&["XGROUP", "DESTROY", "s", "g"]);
    assert_eq!(
        reader.reply(),
        "-NOGROUP No such key 's' or consumer group 'g' in XREADGROUP with GROUP option\r\n"
    );
    admin.cmd(&["XGROUP", "CREATE", "s", "g", "$"]);
    send_until_blocked(&mut reader, &mut admin, &encode(&read));
    admin.cmd(&["SET", "s", "not a stream any more"]);
    assert_eq!(
        reader.reply(),
        "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
    );
}

/// Redis 7.4 re-runs a blocked group reader whenever its key is deleted, expires or changes
/// type (7.0 answered `UNBLOCKED the stream key no longer exists` from its blocking code, see
/// `blocked-nogroup` in compat/KNOWN_DIFFERENCES.md), but a plain XREAD only for a key that is
/// a stream: deleted or overwritten, its key keeps it waiting.
#[test]
fn a_group_reader_whose_stream_expires_fails_and_a_plain_reader_keeps_waiting() {
    let server = TestServer::start(&[]);
    let mut admin = server.raw();
    let mut reader = server.raw();
    admin.cmd(&["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]);
    send_until_blocked(
        &mut reader,
        &mut admin,
        b"XREADGROUP GROUP g c BLOCK 0 STREAMS s >\r\n",
    );
    assert_eq!(admin.cmd(&["PEXPIRE", "s", "1"]), ":1\r\n");
    assert_eq!(
        reader.reply(),
        "-NOGROUP No such key 's' or consumer group 'g' in XREADGROUP with GROUP option\r\n"
    );

    admin.cmd(&["XADD", "t", "1-1", "f", "v"]);
    admin.cmd(&["XADD", "u", "1-1", "f", "v"]);
    send_until_blocked(
        &mut reader,
        &mut admin,
        b"XREAD BLOCK 0 STREAMS t u $ $\r\n",
    );
    admin.cmd(&["SET", "t", "a string"]);
    admin.cmd(&["DEL", "u"]);
    assert!(reader.is_silent(Duration::from_millis(100)));
    assert_eq!(blocked_clients(&mut admin), "blocked_clients:1");
    // A new entry on a stream it waits on runs it again, and then `t` answers WRONGTYPE.
    admin.cmd(&["XADD", "u", "2-1", "f", "v"]);
    assert_eq!(
        reader.reply(),
        "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
    );
}

/// Blocks `readers` one after the other in XREADGROUP COUNT 1 on `s`, each registered before
/// the next sends its read.
fn block_group_readers(readers: &mut [Raw], admin: &mut Raw) {
    for (i, r) in readers.iter_mut().enumerate() {
        let name = format!("c{i}");
        r.send_cmd(&[
            b"XREADGROUP",
            b"GROUP",
            b"g",
            name.as_bytes(),
            b"COUNT",
            b"1",
            b"BLOCK",
            b"0",
            b"STREAMS",
            b"s",
            b">",
        ]);
        let want = format!("blocked_clients:{}", i + 1);
        wait_until("readers to block", || blocked_clients(admin) == want);
    }
}

#[test]
fn blocked_group_readers_each_get_a_different_entry() {
    let server = TestServer::start(&[]);
    let mut admin = server.raw();
    admin.cmd(&["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]);
    let mut readers: Vec<Raw> = (0..2).map(|_| server.raw()).collect();
    block_group_readers(&mut readers, &mut admin);
    admin.send(b"XADD s 1-1 f a\r\nXADD s 2-1 f b\r\n");
    admin.reply();
    admin.reply();
    let got: BTreeSet<String> = readers.iter_mut().map(|r| r.reply()).collect();
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(got.iter().any(|r| r.contains("1-1")) && got.iter().any(|r| r.contains("2-1")));
}

#[test]
fn blocking_reads_inside_multi_do_not_block() {
    let server = TestServer::start(&[]);
    let mut c = server.raw();
    c.send(b"MULTI\r\nXREAD BLOCK 0 STREAMS s $\r\nEXEC\r\n");
    assert_eq!(c.reply(), "+OK\r\n");
    assert_eq!(c.reply(), "+QUEUED\r\n");
    assert_eq!(c.reply(), "*1\r\n*-1\r\n");
}

#[test]
fn xinfo_consumers_reports_inactive_as_redis_7_4() {
    let server = TestServer::start(&[]);
    let mut c = server.raw();
    c.cmd(&["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]);
    c.cmd(&["XGROUP", "CREATECONSUMER", "s", "g", "idle-one"]);
    let reply = c.cmd(&["XINFO", "CONSUMERS", "s", "g"]);
    assert!(reply.contains("$8\r\ninactive\r\n:-1\r\n"), "{reply}");
    c.cmd(&["XADD", "s", "1-1", "f", "v"]);
    c.cmd(&["XREADGROUP", "GROUP", "g", "idle-one", "STREAMS", "s", ">"]);
    let reply = c.cmd(&["XINFO", "CONSUMERS", "s", "g"]);
    assert!(!reply.contains(":-1\r\n"), "{reply}");
    let full = c.cmd(&["XINFO", "STREAM", "s", "FULL"]);
    assert!(full.contains("active-time"), "{full}");
}

#[test]
fn stream_keyspace_events_are_published() {
    let server = TestServer::start(&["--notify-keyspace-events", "Et"]);
    let mut sub = server.raw();
    sub.cmd(&[
        "SUBSCRIBE",
        "__keyevent@0__:xadd",
        "__keyevent@0__:xgroup-create",
    ]);
    sub.reply();
    let mut c = server.raw();
    c.cmd(&["XADD", "s", "1-1", "f", "v"]);
    c.cmd(&["XGROUP", "CREATE", "s", "g", "0"]);
    assert_eq!(
        sub.reply(),
        "*3\r\n$7\r\nmessage\r\n$19\r\n__keyevent@0__:xadd\r\n$1\r\ns\r\n"
    );
    assert_eq!(
        sub.reply(),
        "*3\r\n$7\r\nmessage\r\n$28\r\n__keyevent@0__:xgroup-create\r\n$1\r\ns\r\n"
    );
}

/// XREADGROUP, XCLAIM and XAUTOCLAIM publish `xgroup-createconsumer` when they create their
/// consumer, as XGROUP CREATECONSUMER does (Redis's `streamCreateConsumer`); a consumer that
/// exists already, or a `>` read with nothing to serve, publishes nothing.
#[test]
fn creating_a_consumer_by_reading_or_claiming_is_published() {
    let server = TestServer::start(&["--notify-keyspace-events", "Et"]);
    let mut sub = server.raw();
    sub.cmd(&["SUBSCRIBE", "__keyevent@0__:xgroup-createconsumer"]);
    let mut c = server.raw();
    c.cmd(&["XADD", "s", "1-1", "f", "v"]);
    c.cmd(&["XGROUP", "CREATE", "s", "g", "0"]);
    let event = "*3\r\n$7\r\nmessage\r\n$36\r\n__keyevent@0__:xgroup-createconsumer\r\n$1\r\ns\r\n";
    for (command, publishes) in [
        ("XREADGROUP GROUP g alice STREAMS s >", true),
        ("XREADGROUP GROUP g alice STREAMS s >", false),
        ("XREADGROUP GROUP g bob STREAMS s >", false),
        ("XREADGROUP GROUP g carol STREAMS s 0", true),
        ("XCLAIM s g dave 0 1-1", true),
        ("XCLAIM s g dave 0 1-1", false),
        // Redis 7.4 creates the consumer of a claim that claims nothing, too.
        ("XAUTOCLAIM s g erin 0 9-0", true),
    ] {
        let args: Vec<&str> = command.split(' ').collect();
        c.cmd(&args);
        if publishes {
            assert_eq!(sub.reply(), event, "{command}");
        } else {
            assert!(sub.is_silent(Duration::from_millis(100)), "{command}");
        }
    }
}

/// MOVE and COPY signal blocked readers in the databases they touch, as Redis does: a group
/// reader whose stream MOVE takes away gets XREADGROUP's NOGROUP error (Redis 7.4; 7.0 answers
/// `UNBLOCKED the stream key no longer exists`), and a reader blocked on a missing key in
/// another database is served by the stream COPY puts there (as redis-server 7.0.15 does).
#[test]
fn move_and_copy_wake_blocked_readers_in_both_databases() {
    let server = TestServer::start(&[]);
    let mut admin = server.raw();
    let mut reader = server.raw();
    admin.cmd(&["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]);
    send_until_blocked(
        &mut reader,
        &mut admin,
        b"XREADGROUP GROUP g c BLOCK 0 STREAMS s >\r\n",
    );
    assert_eq!(admin.cmd(&["MOVE", "s", "1"]), ":1\r\n");
    assert_eq!(
        reader.reply(),
        "-NOGROUP No such key 's' or consumer group 'g' in XREADGROUP with GROUP option\r\n"
    );
    reader.cmd(&["SELECT", "1"]);
    admin.cmd(&["XADD", "src", "5-1", "f", "v"]);
    send_until_blocked(
        &mut reader,
        &mut admin,
        &encode(&[b"XREAD", b"BLOCK", b"0", b"STREAMS", b"d", b"$"]),
    );
    assert_eq!(admin.cmd(&["COPY", "src", "d", "DB", "1"]), ":1\r\n");
    assert_eq!(
        reader.reply(),
        "*1\r\n*2\r\n$1\r\nd\r\n*1\r\n*2\r\n$3\r\n5-1\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n"
    );
}

/// Two more places where Redis 7.4, which runs a woken read again, answers differently from
/// 7.0, which answered from its blocking code (compat/KNOWN_DIFFERENCES.md): a read of two
/// keys woken by a transaction that adds to both gets both (`blocked-multi-key`), and an XADD
/// that trims its own entry away leaves the reader waiting (`blocked-ran-dry`).
#[test]
fn a_woken_read_runs_again_over_all_its_keys_and_finds_what_is_there() {
    let server = TestServer::start(&[]);
    let mut admin = server.raw();
    let mut reader = server.raw();
    send_until_blocked(
        &mut reader,
        &mut admin,
        b"XREAD BLOCK 0 STREAMS s t $ $\r\n",
    );
    admin.send(b"MULTI\r\nXADD t 1-1 f t\r\nXADD s 2-1 f s\r\nEXEC\r\n");
    for _ in 0..4 {
        admin.reply();
    }
    let reply = reader.reply();
    assert!(
        reply.starts_with("*2\r\n*2\r\n$1\r\ns\r\n") && reply.contains("$1\r\nt\r\n*1\r\n"),
        "{reply}"
    );

    send_until_blocked(&mut reader, &mut admin, b"XREAD BLOCK 0 STREAMS s $\r\n");
    assert_eq!(
        admin.cmd(&["XADD", "s", "MAXLEN", "0", "3-1", "f", "gone"]),
        "$3\r\n3-1\r\n"
    );
    assert!(reader.is_silent(Duration::from_millis(100)));
    admin.cmd(&["XADD", "s", "4-1", "f", "kept"]);
    assert!(reader.reply().contains("4-1"));
}

/// Redis serves the readers of a key in the order they blocked, each re-running its read:
/// three entries added in one transaction go one to each of three COUNT 1 readers, oldest
/// first. Here each reader re-runs on its own task and the runtime tends to run the last one
/// woken first; the readers take turns (`Blocking::older_pending`). Repeated, as the order
/// depends on how the tasks are scheduled.
#[test]
fn group_readers_woken_together_are_served_in_the_order_they_blocked() {
    let server = TestServer::start(&[]);
    let mut admin = server.raw();
    let mut readers: Vec<Raw> = (0..3).map(|_| server.raw()).collect();
    for round in 0..20 {
        admin.cmd(&["DEL", "s"]);
        admin.cmd(&["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]);
        block_group_readers(&mut readers, &mut admin);
        admin.send(b"MULTI\r\nXADD s 1-1 n 0\r\nXADD s 2-1 n 1\r\nXADD s 3-1 n 2\r\nEXEC\r\n");
        for _ in 0..5 {
            admin.reply();
        }
        for (i, reader) in readers.iter_mut().enumerate() {
            let reply = reader.reply();
            assert!(
                reply.contains(&format!("{}-1", i + 1)),
                "round {round}: c{i} got {reply}"
            );
        }
    }
}

/// Redis serves the clients a command readied before that command's reply goes out: once
/// XADD has answered, the oldest blocked consumer holds the entry (XPENDING shows it) and is
/// no longer blocked (CLIENT UNBLOCK finds nothing to do), while the next still waits.
#[test]
fn blocked_readers_are_served_before_the_writer_is_answered() {
    let server = TestServer::start(&[]);
    let mut admin = server.raw();
    let mut readers: Vec<Raw> = (0..2).map(|_| server.raw()).collect();
    let ids: Vec<String> = readers
        .iter_mut()
        .map(|r| r.cmd(&["CLIENT", "ID"])[1..].trim().to_owned())
        .collect();
    for round in 0..20 {
        admin.cmd(&["DEL", "s"]);
        admin.cmd(&["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]);
        block_group_readers(&mut readers, &mut admin);
        admin.send(b"XADD s 1-1 f v\r\nXPENDING s g - + 10\r\n");
        admin.reply();
        let pending = admin.reply();
        assert!(
            pending.contains("1-1\r\n$2\r\nc0\r\n"),
            "round {round}: {pending}"
        );
        assert_eq!(admin.cmd(&["CLIENT", "UNBLOCK", &ids[0]]), ":0\r\n");
        assert_eq!(admin.cmd(&["CLIENT", "UNBLOCK", &ids[1]]), ":1\r\n");
        assert!(readers[0].reply().contains("1-1"));
        assert_eq!(readers[1].reply(), "*-1\r\n");
    }
}
