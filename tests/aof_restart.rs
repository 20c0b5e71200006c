//! Restart on the same directory: what the AOF replays is what clients saw before the stop.
//! Writes of every kind the core and streams resolve (relative expiries, increments, renames,
//! conditional sets, transactions, group reads, claims, acks, trims, deletes), then the same
//! read-only queries before and after, compared byte for byte.

mod aof_support;
mod common;

use std::time::Duration;

use aof_support::{start, Scratch};
use common::{Raw, TestServer};

fn run_all(raw: &mut Raw, commands: &[Vec<String>]) -> Vec<String> {
    commands
        .iter()
        .map(|c| {
            let args: Vec<&str> = c.iter().map(String::as_str).collect();
            raw.cmd(&args)
        })
        .collect()
}

fn cmds(lines: &[&str]) -> Vec<Vec<String>> {
    lines
        .iter()
        .map(|l| l.split(' ').map(str::to_owned).collect())
        .collect()
}

/// Runs `writes`, waits `settle`, runs `queries`; restarts on the same directory and runs the
/// queries again, which must reply the same. Answers the replies after the restart, with the
/// restarted server and a connection to it.
fn across_a_restart(
    dir: &Scratch,
    writes: &[Vec<String>],
    queries: &[Vec<String>],
    settle: Duration,
) -> (Vec<String>, Raw, TestServer) {
    let before = {
        let server = start(dir, &[]);
        let mut raw = server.raw();
        run_all(&mut raw, writes);
        std::thread::sleep(settle);
        run_all(&mut raw, queries)
    };
    let server = start(dir, &[]);
    let mut raw = server.raw();
    let after = run_all(&mut raw, queries);
    assert_eq!(before, after);
    (after, raw, server)
}

#[test]
fn keys_expiries_deletes_renames_and_transactions_survive_a_restart() {
    let dir = Scratch::new("restart-core");
    let writes = cmds(&[
        "SET a 1",
        "SET b 2 EX 100",
        "SET short 3 PX 100",
        "INCR n",
        "INCRBY n 10",
        "DECR n",
        "APPEND s hello",
        "APPEND s world",
        "SET t v",
        "EXPIRE t 1000",
        "PERSIST t",
        "SET u v",
        "PEXPIRE u 50000",
        "SET gone x",
        "DEL gone nothing",
        "RENAME b b2",
        "SET r1 x",
        "RENAMENX r1 r2",
        "SET g val",
        "GETDEL g",
        "MSET m1 1 m2 2",
        "SET nx first NX",
        "SET nx second NX",
        "SET nx third XX GET",
        "SET kt v EX 500",
        "SET kt w KEEPTTL",
        "SET past v",
        "EXPIREAT past 1",
        "SELECT 3",
        "SET in3 x",
        "SELECT 5",
        "SET in5 x",
        "FLUSHDB",
        "SELECT 0",
        "MULTI",
        "SET tx1 a",
        "INCR tx2",
        "SELECT 4",
        "SET tx3 b",
        "EXEC",
        "SELECT 0",
    ]);
    let queries = cmds(&[
        "MGET a b b2 short n s t u gone r1 r2 g m1 m2 nx kt past tx1 tx2",
        "PEXPIRETIME b2",
        "PEXPIRETIME u",
        "PEXPIRETIME kt",
        "TTL t",
        "EXISTS short",
        "DBSIZE",
        "SELECT 3",
        "GET in3",
        "SELECT 4",
        "GET tx3",
        "SELECT 5",
        "DBSIZE",
    ]);
    // `short` expires before the stop; the restart must not bring it back.
    let (after, mut raw, _server) =
        across_a_restart(&dir, &writes, &queries, Duration::from_millis(200));
    assert_eq!(after[5], ":0\r\n", "an expired key stays gone");
    // Replies the queries must show, so the comparison is not between two empty states.
    assert_eq!(
        bulks(&after[0]),
        [
            "1",
            "nil",
            "2",
            "nil",
            "10",
            "helloworld",
            "v",
            "v",
            "nil",
            "nil",
            "x",
            "nil",
            "1",
            "2",
            "third",
            "w",
            "nil",
            "a",
            "1"
        ]
    );
    raw.cmd(&["SELECT", "0"]);
    let ttl: i64 = raw.cmd(&["TTL", "b2"])[1..].trim().parse().unwrap();
    assert!(ttl > 90 && ttl <= 100);
}

#[test]
fn streams_groups_pending_entries_acks_claims_and_trims_survive_a_restart() {
    let dir = Scratch::new("restart-streams");
    let server = start(&dir, &[]);
    let mut raw = server.raw();
    let mut ids = Vec::new();
    for i in 0..8 {
        let reply = raw.cmd(&["XADD", "s", "*", "n", &i.to_string()]);
        ids.push(reply.split("\r\n").nth(1).unwrap().to_owned());
    }
    let later = cmds(&[
        "XGROUP CREATE s g 0",
        "XGROUP CREATE s g2 $ ENTRIESREAD 8",
        "XREADGROUP GROUP g alice COUNT 3 STREAMS s >",
        "XREADGROUP GROUP g bob COUNT 2 STREAMS s >",
        "XREADGROUP GROUP g bob STREAMS s 0",
        "XGROUP CREATECONSUMER s g eve",
        "XGROUP CREATECONSUMER s g dave",
        "XGROUP DELCONSUMER s g dave",
        "XADD s MAXLEN ~ 100 * n 8",
        "XREADGROUP GROUP g2 zed NOACK STREAMS s >",
        "XADD other * a b",
        "DEL other",
        "XADD timed * a b",
        "PEXPIRE timed 100000",
        "XADD cut * a 1",
        "XADD cut * a 2",
        "XADD cut * a 3",
        "XTRIM cut MAXLEN 1",
        "XADD cut * a 4",
        "XADD cut MAXLEN 1 * a 5",
        "XGROUP CREATE empty g $ MKSTREAM",
    ]);
    run_all(&mut raw, &later);
    let claims = vec![
        vec!["XACK".into(), "s".into(), "g".into(), ids[0].clone()],
        vec![
            "XCLAIM".into(),
            "s".into(),
            "g".into(),
            "carol".into(),
            "0".into(),
            ids[3].clone(),
        ],
        vec![
            "XAUTOCLAIM".into(),
            "s".into(),
            "g".into(),
            "frank".into(),
            "0".into(),
            "0".into(),
            "COUNT".into(),
            "1".into(),
        ],
        vec!["XDEL".into(), "s".into(), ids[6].clone()],
        vec!["XDEL".into(), "s".into(), ids[4].clone()],
        vec![
            "XSETID".into(),
            "s".into(),
            "9999999999999-0".into(),
            "ENTRIESADDED".into(),
            "20".into(),
        ],
    ];
    run_all(&mut raw, &claims);
    let queries = cmds(&[
        "XRANGE s - +",
        "XINFO STREAM s",
        "XINFO GROUPS s",
        "XPENDING s g",
        "XPENDING s g2",
        "XRANGE cut - +",
        "XINFO STREAM cut",
        "XINFO STREAM empty",
        "XINFO GROUPS empty",
        "PEXPIRETIME timed",
        "EXISTS other",
        "TYPE timed",
    ]);
    let before = run_all(&mut raw, &queries);
    let pending_before = pending(&mut raw);
    let consumers_before = consumers(&mut raw);
    drop(raw);
    drop(server);

    let server = start(&dir, &[]);
    let mut raw = server.raw();
    let after = run_all(&mut raw, &queries);
    for (i, (b, a)) in before.iter().zip(&after).enumerate() {
        assert_eq!(b, a, "query {:?}", queries[i]);
    }
    assert_eq!(pending(&mut raw), pending_before);
    assert_eq!(consumers(&mut raw), consumers_before);
    assert!(
        pending_before.iter().any(|(_, c, _)| c == "carol"),
        "{pending_before:?}"
    );
    assert!(consumers_before.iter().any(|(c, _)| c == "eve"));
    assert!(!consumers_before.iter().any(|(c, _)| c == "dave"));
}

/// The items of an array of bulk strings, `nil` for a null.
fn bulks(reply: &str) -> Vec<String> {
    let mut lines = reply.split("\r\n").skip(1);
    let mut out = Vec::new();
    while let Some(header) = lines.next() {
        match header {
            "$-1" => out.push("nil".to_owned()),
            h if h.starts_with('$') => out.push(lines.next().unwrap_or_default().to_owned()),
            _ => {}
        }
    }
    out
}

/// XPENDING's extended form without the idle times (which move with the clock).
fn pending(raw: &mut Raw) -> Vec<(String, String, String)> {
    let reply = raw.cmd(&["XPENDING", "s", "g", "-", "+", "100"]);
    let lines: Vec<&str> = reply.split("\r\n").collect();
    // *n, then per entry: *4 $len id $len consumer :idle :count
    lines[1..]
        .chunks(7)
        .filter(|c| c.len() == 7)
        .map(|c| (c[2].to_owned(), c[4].to_owned(), c[6].to_owned()))
        .collect()
}

/// XINFO CONSUMERS names and pending counts.
fn consumers(raw: &mut Raw) -> Vec<(String, String)> {
    let reply = raw.cmd(&["XINFO", "CONSUMERS", "s", "g"]);
    let lines: Vec<&str> = reply.split("\r\n").collect();
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if *line == "name" {
            let name = lines[i + 2].to_owned();
            let pending = lines
                .iter()
                .skip(i)
                .position(|l| *l == "pending")
                .map(|p| lines[i + p + 1].to_owned())
                .unwrap_or_default();
            out.push((name, pending));
        }
    }
    out
}

/// A key that expired and was then written again (found expired by the write itself, by a read,
/// or by the expiry cycle) must replay as the new key: replay runs with expiry paused, so the
/// log must hold the expiry's DEL before the write.
#[test]
fn keys_written_again_after_they_expired_replay_as_the_new_keys() {
    let dir = Scratch::new("restart-reexpired");
    let queries = cmds(&["XRANGE s - +", "XLEN s", "GET c", "GET r", "XRANGE q - +"]);
    let before = {
        // hz 1: the expiry cycle is unlikely to reach the keys first, so commands find them.
        let server = start(&dir, &["--hz", "1"]);
        let mut raw = server.raw();
        for setup in [
            "XADD s 5-0 f old",
            "PEXPIRE s 30",
            "SET c 10 PX 30",
            "SET r old PX 30",
            "XADD q 9-0 f old",
            "PEXPIRE q 30",
        ] {
            let args: Vec<&str> = setup.split(' ').collect();
            raw.cmd(&args);
        }
        std::thread::sleep(Duration::from_millis(80));
        // The write finds `s` and `c` expired; a read finds `r` and `q` expired first.
        assert_eq!(raw.cmd(&["XADD", "s", "1-0", "f", "new"]), "$3\r\n1-0\r\n");
        assert_eq!(raw.cmd(&["INCR", "c"]), ":1\r\n");
        assert_eq!(raw.cmd(&["GET", "r"]), "$-1\r\n");
        assert_eq!(raw.cmd(&["SET", "r", "new", "NX"]), "+OK\r\n");
        assert_eq!(raw.cmd(&["XLEN", "q"]), ":0\r\n");
        assert_eq!(raw.cmd(&["XADD", "q", "2-0", "f", "new"]), "$3\r\n2-0\r\n");
        run_all(&mut raw, &queries)
    };
    let server = start(&dir, &[]);
    let mut raw = server.raw();
    let after = run_all(&mut raw, &queries);
    assert_eq!(before, after);
    assert_eq!(after[1], ":1\r\n");
    assert_eq!(after[2], "$1\r\n1\r\n");
    assert_eq!(after[3], "$3\r\nnew\r\n");
}

#[test]
fn the_older_string_commands_survive_a_restart() {
    let dir = Scratch::new("restart-strings");
    let writes = cmds(&[
        "SETNX nx1 a",
        "SETNX nx1 b",
        "SETEX ex1 1000 v",
        "PSETEX px1 500000 v",
        "SET gs old EX 100",
        "GETSET gs new",
        "MSETNX m1 1 m2 2",
        "MSETNX m1 x m3 3",
        "SET ge v",
        "GETEX ge EX 2000",
        "SET gp v EX 100",
        "GETEX gp PERSIST",
        "SET gd v",
        "GETEX gd PXAT 1",
        "SET r Hello-World",
        "SETRANGE r 6 Redis",
        "SETRANGE z 3 abc",
        "SET fl 10.5 EX 3000",
        "INCRBYFLOAT fl 0.1",
        "INCRBYFLOAT fl 0.2",
        "INCRBYFLOAT fh 0x1p-18",
    ]);
    let queries = cmds(&[
        "MGET nx1 ex1 px1 gs m1 m2 m3 ge gp gd r z fl fh",
        "PEXPIRETIME ex1",
        "PEXPIRETIME px1",
        "TTL gs",
        "PEXPIRETIME ge",
        "TTL gp",
        "EXISTS gd",
        "PEXPIRETIME fl",
    ]);
    let (after, _, _server) = across_a_restart(&dir, &writes, &queries, Duration::ZERO);
    assert_eq!(
        bulks(&after[0]),
        [
            "a",
            "v",
            "v",
            "new",
            "1",
            "2",
            "nil",
            "v",
            "v",
            "nil",
            "Hello-Redis",
            "\0\0\0abc",
            "10.8",
            "0.00000381469726562"
        ]
    );
    assert_eq!(after[3], ":-1\r\n", "GETSET drops the deadline");
    assert_eq!(after[5], ":-1\r\n", "GETEX PERSIST drops it");
    assert_eq!(after[6], ":0\r\n", "GETEX PXAT in the past deletes");
    assert!(
        common::int(&after[7]) > 0,
        "INCRBYFLOAT keeps the deadline (the same one, as before the restart)"
    );
}

/// COPY is logged as itself (with its destination database and REPLACE, so that the replay
/// does the same whatever it finds), and MOVE too: values, deadlines and a stream's groups and
/// pending entries are in the copies after a restart, and a moved key in its new database.
#[test]
fn copies_and_moves_survive_a_restart() {
    let dir = Scratch::new("restart-copy");
    let writes = cmds(&[
        "SET v 1 EX 5000",
        "COPY v v2",
        "COPY v v3 DB 2",
        "XADD s 1-1 f v",
        "XGROUP CREATE s g 0",
        "XREADGROUP GROUP g c STREAMS s >",
        "COPY s s2 DB 1",
        "XACK s g 1-1",
        "SET v 2",
        "SET w 3",
        "COPY v w",
        "COPY v w REPLACE",
        "SET mv 9",
        "MOVE mv 3",
    ]);
    let queries = cmds(&[
        "MGET v v2 w",
        "PEXPIRETIME v2",
        "PEXPIRETIME w",
        "SELECT 2",
        "GET v3",
        "PEXPIRETIME v3",
        "SELECT 1",
        "XPENDING s2 g",
        "XRANGE s2 - +",
        "SELECT 0",
        "XPENDING s g",
        "EXISTS mv",
        "SELECT 3",
        "GET mv",
    ]);
    let (after, _, _server) = across_a_restart(&dir, &writes, &queries, Duration::ZERO);
    assert_eq!(bulks(&after[0]), ["2", "1", "2"]);
    assert!(common::int(&after[1]) > 0, "the copy has the deadline");
    assert_eq!(after[2], ":-1\r\n", "REPLACE copied a value without one");
    assert_eq!(after[4], "$1\r\n1\r\n");
    assert_eq!(
        after[5], after[1],
        "the same deadline in the other database"
    );
    assert_eq!(
        after[7], "*4\r\n:1\r\n$3\r\n1-1\r\n$3\r\n1-1\r\n*1\r\n*2\r\n$1\r\nc\r\n$1\r\n1\r\n",
        "the copy keeps the pending entry the original then acknowledged"
    );
    assert_eq!(after[10], "*4\r\n:0\r\n$-1\r\n$-1\r\n*-1\r\n");
    assert_eq!(after[11], ":0\r\n", "MOVE took the key out of database 0");
    assert_eq!(after[13], "$1\r\n9\r\n", "and into database 3");
}
