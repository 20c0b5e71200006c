//! Transactions over the wire: MULTI, EXEC, DISCARD, WATCH, UNWATCH, queued-command errors and
//! EXECABORT, runtime errors inside EXEC, WATCH broken by another client in both protocols,
//! WATCH and expiry, and atomicity against other clients. Expected replies were captured from a real
//! redis-server (7.0.15) sent the same bytes.
mod common;

use common::TestServer;
use std::time::Duration;

#[test]
fn exec_discard_without_multi_and_nesting() {
    let server = TestServer::start(&[]);
    let mut a = server.raw();
    assert_eq!(a.cmd(&["EXEC"]), "-ERR EXEC without MULTI\r\n");
    assert_eq!(a.cmd(&["DISCARD"]), "-ERR DISCARD without MULTI\r\n");
    assert_eq!(a.cmd(&["MULTI"]), "+OK\r\n");
    assert_eq!(a.cmd(&["MULTI"]), "-ERR MULTI calls can not be nested\r\n");
    assert_eq!(a.cmd(&["EXEC"]), "*0\r\n");
    assert_eq!(a.cmd(&["MULTI"]), "+OK\r\n");
    assert_eq!(a.cmd(&["DISCARD"]), "+OK\r\n");
    assert_eq!(a.cmd(&["DISCARD"]), "-ERR DISCARD without MULTI\r\n");
    assert_eq!(
        a.cmd(&["MULTI", "x"]),
        "-ERR wrong number of arguments for 'multi' command\r\n"
    );
    assert_eq!(a.cmd(&["EXEC", "x"]), "-EXECABORT Transaction discarded because of: wrong number of arguments for 'exec' command\r\n");
    assert_eq!(
        a.cmd(&["DISCARD", "x"]),
        "-ERR wrong number of arguments for 'discard' command\r\n"
    );
}

#[test]
fn queued_commands_run_in_order() {
    let server = TestServer::start(&[]);
    let mut a = server.raw();
    assert_eq!(a.cmd(&["MULTI"]), "+OK\r\n");
    assert_eq!(a.cmd(&["SET", "a", "1"]), "+QUEUED\r\n");
    assert_eq!(a.cmd(&["INCR", "a"]), "+QUEUED\r\n");
    assert_eq!(a.cmd(&["GET", "a"]), "+QUEUED\r\n");
    assert_eq!(a.cmd(&["MGET", "a", "missing"]), "+QUEUED\r\n");
    assert_eq!(
        a.cmd(&["EXEC"]),
        "*4\r\n+OK\r\n:2\r\n$1\r\n2\r\n*2\r\n$1\r\n2\r\n$-1\r\n"
    );
    assert_eq!(a.cmd(&["GET", "a"]), "$1\r\n2\r\n");
}

#[test]
fn queued_errors_abort_the_transaction() {
    let server = TestServer::start(&[]);
    let mut a = server.raw();
    assert_eq!(a.cmd(&["MULTI"]), "+OK\r\n");
    assert_eq!(a.cmd(&["SET", "a", "1"]), "+QUEUED\r\n");
    assert_eq!(
        a.cmd(&["NOSUCH", "x", "y"]),
        "-ERR unknown command 'NOSUCH', with args beginning with: 'x' 'y' \r\n"
    );
    assert_eq!(
        a.cmd(&["GET"]),
        "-ERR wrong number of arguments for 'get' command\r\n"
    );
    assert_eq!(a.cmd(&["INCR", "a"]), "+QUEUED\r\n");
    assert_eq!(
        a.cmd(&["EXEC"]),
        "-EXECABORT Transaction discarded because of previous errors.\r\n"
    );
    assert_eq!(a.cmd(&["EXISTS", "a"]), ":0\r\n");
    assert_eq!(a.cmd(&["MULTI"]), "+OK\r\n");
    assert_eq!(a.cmd(&["SET", "a", "b", "c", "d"]), "+QUEUED\r\n");
    assert_eq!(a.cmd(&["EXEC"]), "*1\r\n-ERR syntax error\r\n");
    assert_eq!(a.cmd(&["MULTI"]), "+OK\r\n");
    assert_eq!(
        a.cmd(&["GET", "a", "b"]),
        "-ERR wrong number of arguments for 'get' command\r\n"
    );
    assert_eq!(
        a.cmd(&["EXEC"]),
        "-EXECABORT Transaction discarded because of previous errors.\r\n"
    );
}

#[test]
fn runtime_errors_do_not_stop_the_other_commands() {
    let server = TestServer::start(&[]);
    let mut a = server.raw();
    assert_eq!(a.cmd(&["SET", "s", "x"]), "+OK\r\n");
    assert_eq!(a.cmd(&["XADD", "st", "1-1", "f", "v"]), "$3\r\n1-1\r\n");
    assert_eq!(a.cmd(&["MULTI"]), "+OK\r\n");
    assert_eq!(a.cmd(&["INCR", "s"]), "+QUEUED\r\n");
    assert_eq!(a.cmd(&["SET", "n", "1"]), "+QUEUED\r\n");
    assert_eq!(a.cmd(&["GET", "st"]), "+QUEUED\r\n");
    assert_eq!(a.cmd(&["INCRBY", "n", "abc"]), "+QUEUED\r\n");
    assert_eq!(a.cmd(&["INCR", "n"]), "+QUEUED\r\n");
    assert_eq!(a.cmd(&["EXPIRE", "n", "10", "NX", "XX"]), "+QUEUED\r\n");
    assert_eq!(a.cmd(&["EXEC"]), "*6\r\n-ERR value is not an integer or out of range\r\n+OK\r\n-WRONGTYPE Operation against a key holding the wrong kind of value\r\n-ERR value is not an integer or out of range\r\n:2\r\n-ERR NX and XX, GT or LT options at the same time are not compatible\r\n");
    assert_eq!(a.cmd(&["GET", "n"]), "$1\r\n2\r\n");
}

#[test]
fn discard_drops_the_queue() {
    let server = TestServer::start(&[]);
    let mut a = server.raw();
    assert_eq!(a.cmd(&["MULTI"]), "+OK\r\n");
    assert_eq!(a.cmd(&["SET", "a", "1"]), "+QUEUED\r\n");
    assert_eq!(a.cmd(&["DISCARD"]), "+OK\r\n");
    assert_eq!(a.cmd(&["EXISTS", "a"]), ":0\r\n");
    assert_eq!(a.cmd(&["GET", "a"]), "$-1\r\n");
}

#[test]
fn watch_rules() {
    let server = TestServer::start(&[]);
    let mut a = server.raw();
    assert_eq!(a.cmd(&["MULTI"]), "+OK\r\n");
    assert_eq!(
        a.cmd(&["WATCH", "a"]),
        "-ERR WATCH inside MULTI is not allowed\r\n"
    );
    assert_eq!(a.cmd(&["UNWATCH"]), "+QUEUED\r\n");
    assert_eq!(a.cmd(&["EXEC"]), "*1\r\n+OK\r\n");
    assert_eq!(
        a.cmd(&["WATCH"]),
        "-ERR wrong number of arguments for 'watch' command\r\n"
    );
    assert_eq!(a.cmd(&["WATCH", "a", "b", "c"]), "+OK\r\n");
    assert_eq!(a.cmd(&["UNWATCH"]), "+OK\r\n");
    assert_eq!(
        a.cmd(&["UNWATCH", "x"]),
        "-ERR wrong number of arguments for 'unwatch' command\r\n"
    );
    assert_eq!(a.cmd(&["MULTI"]), "+OK\r\n");
    assert_eq!(a.cmd(&["UNWATCH"]), "+QUEUED\r\n");
    assert_eq!(a.cmd(&["EXEC"]), "*1\r\n+OK\r\n");
}

#[test]
fn watch_broken_by_another_client_resp2() {
    let server = TestServer::start(&[]);
    let mut a = server.raw();
    assert_eq!(a.cmd(&["SET", "k", "1"]), "+OK\r\n");
    assert_eq!(a.cmd(&["WATCH", "k"]), "+OK\r\n");
    let mut b = server.raw();
    assert_eq!(b.cmd(&["SET", "k", "2"]), "+OK\r\n");
    assert_eq!(a.cmd(&["MULTI"]), "+OK\r\n");
    assert_eq!(a.cmd(&["INCR", "k"]), "+QUEUED\r\n");
    assert_eq!(a.cmd(&["EXEC"]), "*-1\r\n");
    assert_eq!(a.cmd(&["GET", "k"]), "$1\r\n2\r\n");
    // the failed EXEC unwatched everything
    assert_eq!(a.cmd(&["MULTI"]), "+OK\r\n");
    assert_eq!(a.cmd(&["INCR", "k"]), "+QUEUED\r\n");
    assert_eq!(a.cmd(&["EXEC"]), "*1\r\n:3\r\n");
}

#[test]
fn watch_broken_by_another_client_resp3() {
    let server = TestServer::start(&[]);
    let mut a = server.raw();
    let _ = a.cmd(&["HELLO", "3"]); // "%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n$5\r\npro
    assert_eq!(a.cmd(&["SET", "k", "1"]), "+OK\r\n");
    assert_eq!(a.cmd(&["WATCH", "k"]), "+OK\r\n");
    let mut b = server.raw();
    assert_eq!(b.cmd(&["INCR", "k"]), ":2\r\n");
    assert_eq!(a.cmd(&["MULTI"]), "+OK\r\n");
    assert_eq!(a.cmd(&["INCR", "k"]), "+QUEUED\r\n");
    assert_eq!(a.cmd(&["EXEC"]), "_\r\n");
    assert_eq!(a.cmd(&["GET", "k"]), "$1\r\n2\r\n");
}

#[test]
fn watch_broken_by_own_write_delete_expire_and_flush() {
    let server = TestServer::start(&[]);
    let mut a = server.raw();
    assert_eq!(a.cmd(&["SET", "k", "1"]), "+OK\r\n");
    assert_eq!(a.cmd(&["WATCH", "k"]), "+OK\r\n");
    assert_eq!(a.cmd(&["SET", "k", "2"]), "+OK\r\n");
    assert_eq!(a.cmd(&["MULTI"]), "+OK\r\n");
    assert_eq!(a.cmd(&["EXEC"]), "*-1\r\n");
    assert_eq!(a.cmd(&["WATCH", "missing"]), "+OK\r\n");
    let mut b = server.raw();
    assert_eq!(b.cmd(&["SET", "missing", "1"]), "+OK\r\n");
    assert_eq!(b.cmd(&["DEL", "missing"]), ":1\r\n");
    assert_eq!(a.cmd(&["MULTI"]), "+OK\r\n");
    assert_eq!(a.cmd(&["PING"]), "+QUEUED\r\n");
    assert_eq!(a.cmd(&["EXEC"]), "*-1\r\n");
    assert_eq!(a.cmd(&["SET", "k", "1"]), "+OK\r\n");
    assert_eq!(a.cmd(&["WATCH", "k"]), "+OK\r\n");
    assert_eq!(b.cmd(&["EXPIRE", "k", "100"]), ":1\r\n");
    assert_eq!(a.cmd(&["MULTI"]), "+OK\r\n");
    assert_eq!(a.cmd(&["PING"]), "+QUEUED\r\n");
    assert_eq!(a.cmd(&["EXEC"]), "*-1\r\n");
    assert_eq!(a.cmd(&["WATCH", "k"]), "+OK\r\n");
    assert_eq!(b.cmd(&["FLUSHDB"]), "+OK\r\n");
    assert_eq!(a.cmd(&["MULTI"]), "+OK\r\n");
    assert_eq!(a.cmd(&["PING"]), "+QUEUED\r\n");
    assert_eq!(a.cmd(&["EXEC"]), "*-1\r\n");
    assert_eq!(a.cmd(&["SET", "k", "1"]), "+OK\r\n");
    assert_eq!(a.cmd(&["WATCH", "k"]), "+OK\r\n");
    assert_eq!(b.cmd(&["RENAME", "k", "k2"]), "+OK\r\n");
    assert_eq!(a.cmd(&["MULTI"]), "+OK\r\n");
    assert_eq!(a.cmd(&["PING"]), "+QUEUED\r\n");
    assert_eq!(a.cmd(&["EXEC"]), "*-1\r\n");
    assert_eq!(a.cmd(&["SET", "k", "1"]), "+OK\r\n");
    assert_eq!(a.cmd(&["WATCH", "k"]), "+OK\r\n");
    assert_eq!(b.cmd(&["GET", "k"]), "$1\r\n1\r\n");
    assert_eq!(b.cmd(&["EXISTS", "k"]), ":1\r\n");
    assert_eq!(b.cmd(&["SET", "other", "1"]), "+OK\r\n");
    assert_eq!(a.cmd(&["MULTI"]), "+OK\r\n");
    assert_eq!(a.cmd(&["PING"]), "+QUEUED\r\n");
    assert_eq!(a.cmd(&["EXEC"]), "*1\r\n+PONG\r\n");
}

#[test]
fn watch_in_another_db_is_separate() {
    let server = TestServer::start(&[]);
    let mut a = server.raw();
    assert_eq!(a.cmd(&["WATCH", "k"]), "+OK\r\n");
    let mut b = server.raw();
    assert_eq!(b.cmd(&["SELECT", "1"]), "+OK\r\n");
    assert_eq!(b.cmd(&["SET", "k", "1"]), "+OK\r\n");
    assert_eq!(a.cmd(&["MULTI"]), "+OK\r\n");
    assert_eq!(a.cmd(&["PING"]), "+QUEUED\r\n");
    assert_eq!(a.cmd(&["EXEC"]), "*1\r\n+PONG\r\n");
    assert_eq!(a.cmd(&["SELECT", "1"]), "+OK\r\n");
    assert_eq!(a.cmd(&["WATCH", "k"]), "+OK\r\n");
    assert_eq!(b.cmd(&["SET", "k", "2"]), "+OK\r\n");
    assert_eq!(a.cmd(&["MULTI"]), "+OK\r\n");
    assert_eq!(a.cmd(&["PING"]), "+QUEUED\r\n");
    assert_eq!(a.cmd(&["EXEC"]), "*-1\r\n");
}

#[test]
fn discard_and_exec_forget_watches() {
    let server = TestServer::start(&[]);
    let mut a = server.raw();
    assert_eq!(a.cmd(&["SET", "k", "1"]), "+OK\r\n");
    assert_eq!(a.cmd(&["WATCH", "k"]), "+OK\r\n");
    assert_eq!(a.cmd(&["MULTI"]), "+OK\r\n");
    assert_eq!(a.cmd(&["DISCARD"]), "+OK\r\n");
    let mut b = server.raw();
    assert_eq!(b.cmd(&["SET", "k", "2"]), "+OK\r\n");
    assert_eq!(a.cmd(&["MULTI"]), "+OK\r\n");
    assert_eq!(a.cmd(&["PING"]), "+QUEUED\r\n");
    assert_eq!(a.cmd(&["EXEC"]), "*1\r\n+PONG\r\n");
    assert_eq!(a.cmd(&["WATCH", "k"]), "+OK\r\n");
    assert_eq!(a.cmd(&["UNWATCH"]), "+OK\r\n");
    assert_eq!(b.cmd(&["SET", "k", "3"]), "+OK\r\n");
    assert_eq!(a.cmd(&["MULTI"]), "+OK\r\n");
    assert_eq!(a.cmd(&["PING"]), "+QUEUED\r\n");
    assert_eq!(a.cmd(&["EXEC"]), "*1\r\n+PONG\r\n");
}

#[test]
fn watched_key_that_expires_before_exec() {
    let server = TestServer::start(&[]);
    let mut a = server.raw();
    assert_eq!(a.cmd(&["SET", "k", "1", "PX", "200"]), "+OK\r\n");
    assert_eq!(a.cmd(&["WATCH", "k"]), "+OK\r\n");
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(a.cmd(&["MULTI"]), "+OK\r\n");
    assert_eq!(a.cmd(&["PING"]), "+QUEUED\r\n");
    assert_eq!(a.cmd(&["EXEC"]), "*-1\r\n");
    assert_eq!(a.cmd(&["SET", "k", "1", "PX", "200"]), "+OK\r\n");
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(a.cmd(&["WATCH", "k"]), "+OK\r\n");
    assert_eq!(a.cmd(&["MULTI"]), "+OK\r\n");
    assert_eq!(a.cmd(&["PING"]), "+QUEUED\r\n");
    assert_eq!(a.cmd(&["EXEC"]), "*1\r\n+PONG\r\n");
}

#[test]
fn commands_that_cannot_be_queued_or_reply_at_once() {
    let server = TestServer::start(&[]);
    let mut a = server.raw();
    assert_eq!(a.cmd(&["MULTI"]), "+OK\r\n");
    assert_eq!(
        a.cmd(&["WATCH", "k"]),
        "-ERR WATCH inside MULTI is not allowed\r\n"
    );
    assert_eq!(a.cmd(&["SELECT", "99"]), "+QUEUED\r\n");
    assert_eq!(a.cmd(&["SELECT", "abc"]), "+QUEUED\r\n");
    assert_eq!(
        a.cmd(&["EXEC"]),
        "*2\r\n-ERR DB index is out of range\r\n-ERR value is not an integer or out of range\r\n"
    );
    assert_eq!(a.cmd(&["MULTI"]), "+OK\r\n");
    assert_eq!(a.cmd(&["SELECT", "2"]), "+QUEUED\r\n");
    assert_eq!(a.cmd(&["SET", "x", "1"]), "+QUEUED\r\n");
    assert_eq!(a.cmd(&["SELECT", "0"]), "+QUEUED\r\n");
    assert_eq!(a.cmd(&["EXEC"]), "*3\r\n+OK\r\n+OK\r\n+OK\r\n");
    assert_eq!(a.cmd(&["EXISTS", "x"]), ":0\r\n");
    assert_eq!(a.cmd(&["SELECT", "2"]), "+OK\r\n");
    assert_eq!(a.cmd(&["EXISTS", "x"]), ":1\r\n");
}

#[test]
fn resp3_exec_replies() {
    let server = TestServer::start(&[]);
    let mut a = server.raw();
    let _ = a.cmd(&["HELLO", "3"]); // "%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n$5\r\npro
    assert_eq!(a.cmd(&["MULTI"]), "+OK\r\n");
    assert_eq!(a.cmd(&["GET", "missing"]), "+QUEUED\r\n");
    assert_eq!(a.cmd(&["SET", "a", "1"]), "+QUEUED\r\n");
    assert_eq!(a.cmd(&["CONFIG", "GET", "timeout"]), "+QUEUED\r\n");
    assert_eq!(
        a.cmd(&["EXEC"]),
        "*3\r\n_\r\n+OK\r\n%1\r\n$7\r\ntimeout\r\n$1\r\n0\r\n"
    );
    assert_eq!(a.cmd(&["MULTI"]), "+OK\r\n");
    assert_eq!(a.cmd(&["EXEC"]), "*0\r\n");
}

#[test]
fn a_refused_exec_discards_the_transaction_and_says_why() {
    let server = TestServer::start(&[]);
    let mut a = server.raw();
    assert_eq!(a.cmd(&["MULTI"]), "+OK\r\n");
    assert_eq!(a.cmd(&["SET", "a", "1"]), "+QUEUED\r\n");
    assert_eq!(a.cmd(&["EXEC", "x"]), "-EXECABORT Transaction discarded because of: wrong number of arguments for 'exec' command\r\n");
    assert_eq!(a.cmd(&["EXEC"]), "-ERR EXEC without MULTI\r\n");
    assert_eq!(a.cmd(&["EXISTS", "a"]), ":0\r\n");
    // it also forgets the watched keys, even outside MULTI
    assert_eq!(a.cmd(&["SET", "k", "1"]), "+OK\r\n");
    assert_eq!(a.cmd(&["WATCH", "k"]), "+OK\r\n");
    assert_eq!(a.cmd(&["EXEC", "x"]), "-EXECABORT Transaction discarded because of: wrong number of arguments for 'exec' command\r\n");
    let mut b = server.raw();
    assert_eq!(b.cmd(&["SET", "k", "2"]), "+OK\r\n");
    assert_eq!(a.cmd(&["MULTI"]), "+OK\r\n");
    assert_eq!(a.cmd(&["PING"]), "+QUEUED\r\n");
    assert_eq!(a.cmd(&["EXEC"]), "*1\r\n+PONG\r\n");
    let _ = a.cmd(&["SUBSCRIBE", "ch"]); // "*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n"
    assert_eq!(a.cmd(&["EXEC"]), "-EXECABORT Transaction discarded because of: Can't execute 'exec': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n");
    assert_eq!(
        b.cmd(&["INFO", "errorstats"]),
        "$66\r\n# Errorstats\r\nerrorstat_ERR:count=1\r\nerrorstat_EXECABORT:count=3\r\n\r\n"
    );
}

#[test]
fn exec_before_auth_is_refused_with_execabort() {
    let server = TestServer::start(&["--requirepass", "pw"]);
    let mut a = server.raw();
    assert_eq!(
        a.cmd(&["EXEC"]),
        "-EXECABORT Transaction discarded because of: NOAUTH Authentication required.\r\n"
    );
    assert_eq!(a.cmd(&["MULTI"]), "-NOAUTH Authentication required.\r\n");
    assert_eq!(a.cmd(&["AUTH", "pw"]), "+OK\r\n");
    assert_eq!(a.cmd(&["MULTI"]), "+OK\r\n");
    assert_eq!(a.cmd(&["EXEC"]), "*0\r\n");
}

/// Parses the `*3 :n :n+1 $len n+1` reply of `MULTI; INCR; INCR; GET; EXEC`.
fn incr_incr_get(reply: &str) -> (i64, i64, i64) {
    let lines: Vec<&str> = reply.split("\r\n").collect();
    assert_eq!(lines[0], "*3", "{reply:?}");
    let first = lines[1].strip_prefix(':').and_then(|n| n.parse().ok());
    let second = lines[2].strip_prefix(':').and_then(|n| n.parse().ok());
    let got = lines[4].parse().ok();
    match (first, second, got) {
        (Some(a), Some(b), Some(c)) => (a, b, c),
        _ => panic!("unexpected EXEC reply {reply:?}"),
    }
}

#[test]
fn exec_is_atomic_against_writers_and_readers() {
    let server = TestServer::start(&[]);
    const ROUNDS: usize = 300;
    let writers: Vec<_> = (0..2)
        .map(|_| {
            let mut c = server.raw();
            std::thread::spawn(move || {
                for _ in 0..ROUNDS {
                    assert_eq!(c.cmd(&["MULTI"]), "+OK\r\n");
                    assert_eq!(c.cmd(&["INCR", "n"]), "+QUEUED\r\n");
                    assert_eq!(c.cmd(&["INCR", "n"]), "+QUEUED\r\n");
                    assert_eq!(c.cmd(&["GET", "n"]), "+QUEUED\r\n");
                    let (a, b, got) = incr_incr_get(&c.cmd(&["EXEC"]));
                    // Nobody ran between the queued commands.
                    assert_eq!((b, got), (a + 1, a + 1));
                    assert_eq!(b % 2, 0);
                }
            })
        })
        .collect();
    let mut reader = server.raw();
    let mut reads = 0;
    while writers.iter().any(|w| !w.is_finished()) && reads < 100_000 {
        let reply = reader.cmd(&["GET", "n"]);
        if reply != "$-1\r\n" {
            let value: i64 = reply.split("\r\n").nth(1).unwrap().parse().unwrap();
            assert_eq!(value % 2, 0, "a reader saw half a transaction");
        }
        reads += 1;
    }
    for w in writers {
        w.join().expect("writer");
    }
    let total = (4 * ROUNDS).to_string();
    assert_eq!(
        reader.cmd(&["GET", "n"]),
        format!("${}\r\n{total}\r\n", total.len())
    );
}

#[test]
fn watch_retry_loops_from_two_clients_lose_no_update() {
    let server = TestServer::start(&[]);
    const ROUNDS: usize = 100;
    let workers: Vec<_> = (0..2)
        .map(|_| {
            let mut c = server.raw();
            std::thread::spawn(move || {
                let mut retries = 0;
                for _ in 0..ROUNDS {
                    loop {
                        assert_eq!(c.cmd(&["WATCH", "n"]), "+OK\r\n");
                        let value: i64 = match c.cmd(&["GET", "n"]).as_str() {
                            "$-1\r\n" => 0,
                            r => r.split("\r\n").nth(1).unwrap().parse().unwrap(),
                        };
                        assert_eq!(c.cmd(&["MULTI"]), "+OK\r\n");
                        let next = (value + 1).to_string();
                        assert_eq!(c.cmd(&["SET", "n", &next]), "+QUEUED\r\n");
                        match c.cmd(&["EXEC"]).as_str() {
                            "*1\r\n+OK\r\n" => break,
                            "*-1\r\n" => retries += 1,
                            other => panic!("unexpected EXEC reply {other:?}"),
                        }
                        assert!(retries < 100_000, "no progress");
                    }
                }
                retries
            })
        })
        .collect();
    for w in workers {
        w.join().expect("worker");
    }
    assert_eq!(server.raw().cmd(&["GET", "n"]), "$3\r\n200\r\n");
}

#[test]
fn transactions_through_the_redis_crate_in_both_protocols() {
    let server = TestServer::start(&[]);
    for url in [server.url(), server.url_resp3()] {
        let mut con = redis::Client::open(url.as_str())
            .expect("client")
            .get_connection()
            .expect("connect");
        let _: () = redis::cmd("FLUSHALL").query(&mut con).expect("flushall");
        let (n, missing, value): (i64, Option<String>, String) = redis::pipe()
            .atomic()
            .cmd("INCRBY")
            .arg("n")
            .arg(5)
            .cmd("GET")
            .arg("missing")
            .cmd("SET")
            .arg("k")
            .arg("v")
            .ignore()
            .cmd("GET")
            .arg("k")
            .query(&mut con)
            .expect("transaction");
        assert_eq!((n, missing, value.as_str()), (5, None, "v"));
        // A queued error aborts the whole transaction.
        let aborted: redis::RedisResult<((),)> = redis::pipe()
            .atomic()
            .cmd("SET")
            .arg("a")
            .cmd("GET")
            .arg("k")
            .query(&mut con);
        let error = aborted.expect_err("EXECABORT");
        assert_eq!(error.code(), Some("EXECABORT"), "{error:?}");
    }
}

/// INFO commandstats charges EXEC with the whole transaction, its unwatching included, and
/// each queued command with its own run, as Redis's `call()` does: a SET queued after a
/// WATCH of many keys was charged the milliseconds EXEC spent forgetting them.
#[test]
fn exec_is_charged_its_own_work_and_its_commands_theirs() {
    let server = TestServer::start(&[]);
    let mut a = server.raw();
    let keys: Vec<String> = (0..20_000).map(|i| format!("w{i}")).collect();
    let mut watch = vec!["WATCH"];
    watch.extend(keys.iter().map(String::as_str));
    assert_eq!(a.cmd(&watch), "+OK\r\n");
    assert_eq!(a.cmd(&["CONFIG", "RESETSTAT"]), "+OK\r\n");
    assert_eq!(a.cmd(&["MULTI"]), "+OK\r\n");
    assert_eq!(a.cmd(&["SET", "x", "1"]), "+QUEUED\r\n");
    assert_eq!(a.cmd(&["EXEC"]), "*1\r\n+OK\r\n");
    let stats = a.cmd(&["INFO", "commandstats"]);
    let set = common::cmdstat(&stats, "set", "usec");
    let exec = common::cmdstat(&stats, "exec", "usec");
    assert!(set <= exec, "SET {set} us, EXEC {exec} us: {stats}");
}
