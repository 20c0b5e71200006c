//! Core behaviour that a transcript cannot show: authentication with `--requirepass`, protocol
//! errors closing only the offending connection, random bytes, limits, pipelining, MONITOR,
//! CLIENT KILL, expiry without access, EXEC atomicity, and RESP3 through the `redis` crate.
//! Reply texts were checked against redis-server 7.0.15 (the differential suite covers the rest).
mod common;

use std::io::Write;
use std::time::{Duration, Instant};

use common::{encode, TestServer};

#[test]
fn requirepass_gates_every_command_until_auth() {
    let server = TestServer::start(&["--requirepass", "pw"]);
    let mut c = server.raw();
    assert_eq!(c.cmd(&["GET", "a"]), "-NOAUTH Authentication required.\r\n");
    assert_eq!(
        c.cmd(&["AUTH", "x"]),
        "-WRONGPASS invalid username-password pair or user is disabled.\r\n"
    );
    assert_eq!(
        c.cmd(&["AUTH", "default", "x"]),
        "-WRONGPASS invalid username-password pair or user is disabled.\r\n"
    );
    assert_eq!(c.cmd(&["AUTH", "pw"]), "+OK\r\n");
    assert_eq!(c.cmd(&["GET", "a"]), "$-1\r\n");
    let mut d = server.raw();
    assert!(d
        .cmd(&["HELLO", "3"])
        .starts_with("-NOAUTH HELLO must be called"));
    assert!(d
        .cmd(&["HELLO", "3", "AUTH", "default", "pw"])
        .starts_with("%7\r\n"));
    assert_eq!(d.cmd(&["GET", "a"]), "_\r\n");
    // RESET forgets the authentication.
    assert_eq!(d.cmd(&["RESET"]), "+RESET\r\n");
    assert_eq!(d.cmd(&["GET", "a"]), "-NOAUTH Authentication required.\r\n");
}

#[test]
fn auth_without_requirepass_explains_itself() {
    let server = TestServer::start(&[]);
    assert_eq!(
        server.raw().cmd(&["AUTH", "x"]),
        "-ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?\r\n"
    );
}

/// Sends `bytes` on a fresh connection; returns what came back before the server closed it.
fn send_and_read_to_close(server: &TestServer, bytes: &[u8]) -> String {
    let mut c = server.raw();
    c.send(bytes);
    c.read_to_close()
}

#[test]
fn malformed_requests_get_redis_protocol_errors_and_a_close() {
    let server = TestServer::start(&[]);
    let cases: &[(&[u8], &str)] = &[
        (
            b"*abc\r\n",
            "-ERR Protocol error: invalid multibulk length\r\n",
        ),
        (
            b"*2\r\n$x\r\n",
            "-ERR Protocol error: invalid bulk length\r\n",
        ),
        (
            b"*2\r\n$-1\r\n",
            "-ERR Protocol error: invalid bulk length\r\n",
        ),
        (
            b"*9999999999\r\n",
            "-ERR Protocol error: invalid multibulk length\r\n",
        ),
        (
            b"*1\r\n$536870913\r\n",
            "-ERR Protocol error: invalid bulk length\r\n",
        ),
        (
            b"*2\r\n$4\r\nECHO\r\n4\r\n",
            "-ERR Protocol error: expected '$', got '4'\r\n",
        ),
        (
            b"SET a \"unbalanced\r\n",
            "-ERR Protocol error: unbalanced quotes in request\r\n",
        ),
    ];
    let mut bystander = server.raw();
    assert_eq!(bystander.cmd(&["SET", "k", "v"]), "+OK\r\n");
    for (bytes, expected) in cases {
        assert_eq!(
            &send_and_read_to_close(&server, bytes),
            expected,
            "{bytes:?}"
        );
        assert_eq!(bystander.cmd(&["GET", "k"]), "$1\r\nv\r\n");
    }
}

#[test]
fn bytes_in_place_of_the_crlf_after_a_bulk_are_skipped_as_redis_skips_them() {
    let server = TestServer::start(&[]);
    let mut c = server.raw();
    // Redis trusts the bulk length and skips two bytes without looking at them; the stray CRLF
    // that follows is an empty inline line, which it ignores.
    c.send(b"*1\r\n$4\r\nPINGxx\r\n");
    assert_eq!(c.reply(), "+PONG\r\n");
    assert_eq!(c.cmd(&["ECHO", "still open"]), "$10\r\nstill open\r\n");
}

#[test]
fn unauthenticated_clients_get_the_tighter_multibulk_limit() {
    let server = TestServer::start(&["--requirepass", "pw"]);
    // An authenticated client may announce 2^20+1 arguments; before AUTH, Redis allows 10.
    let reply = send_and_read_to_close(&server, b"*11\r\n");
    assert_eq!(
        reply,
        "-ERR Protocol error: unauthenticated multibulk length\r\n"
    );
}

#[test]
fn random_bytes_never_crash_the_server_or_disturb_other_clients() {
    let server = TestServer::start(&[]);
    let mut bystander = server.raw();
    bystander.cmd(&["SET", "k", "v"]);
    // A fixed-seed xorshift stream: the same 200 inputs every run.
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let alphabet = b"*$:+-\r\n0123456789abcPINGSET \"'\\\x00\xff";
    for _ in 0..200 {
        let len = (next() % 64) as usize;
        let bytes: Vec<u8> = (0..len)
            .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
            .collect();
        let mut c = server.raw();
        c.send(&bytes);
        // Either the server answers and waits for more, or it closes: both are fine; it must
        // stay up and keep serving others.
        let _ = c.stream.shutdown(std::net::Shutdown::Write);
        c.stream
            .set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        let mut sink = Vec::new();
        let _ = std::io::Read::read_to_end(&mut c.stream, &mut sink);
    }
    assert_eq!(bystander.cmd(&["GET", "k"]), "$1\r\nv\r\n");
    assert_eq!(server.raw().cmd(&["PING"]), "+PONG\r\n");
}

#[test]
fn query_buffer_limit_disconnects_only_the_offender() {
    let server = TestServer::start(&["--client-query-buffer-limit", "1mb"]);
    let mut bystander = server.raw();
    let mut c = server.raw();
    // A bulk that never completes grows the query buffer past the limit.
    c.send(b"*2\r\n$3\r\nSET\r\n$10000000\r\n");
    let chunk = vec![b'x'; 64 * 1024];
    for _ in 0..40 {
        if c.stream.write_all(&chunk).is_err() {
            break;
        }
    }
    let _ = c.read_to_close();
    assert!(bystander
        .cmd(&["INFO", "stats"])
        .contains("client_query_buffer_limit_disconnections:1\r\n"));
}

#[test]
fn pipelined_commands_are_answered_in_order() {
    let server = TestServer::start(&[]);
    let mut c = server.raw();
    let mut batch = Vec::new();
    for i in 0..1000 {
        batch.extend(encode(&[b"INCR", b"n"]));
        if i % 100 == 0 {
            batch.extend_from_slice(b"PING\r\n");
        }
    }
    c.send(&batch);
    for i in 0..1000 {
        assert_eq!(c.reply(), format!(":{}\r\n", i + 1));
        if i % 100 == 0 {
            assert_eq!(c.reply(), "+PONG\r\n");
        }
    }
}

#[test]
fn monitor_shows_commands_as_redis_cli_prints_them() {
    let server = TestServer::start(&[]);
    let mut monitor = server.raw();
    assert_eq!(monitor.cmd(&["MONITOR"]), "+OK\r\n");
    let mut c = server.raw();
    c.cmd(&["SET", "key", "a \"quoted\" value"]);
    c.cmd(&["AUTH", "secret"]);
    let line = monitor.reply();
    // +1700000000.123456 [0 127.0.0.1:port] "SET" "key" "a \"quoted\" value"
    assert!(line.starts_with('+'), "{line}");
    let (_, rest) = line.split_once(" [0 127.0.0.1:").expect("db and address");
    assert!(
        rest.ends_with("] \"SET\" \"key\" \"a \\\"quoted\\\" value\"\r\n"),
        "{line}"
    );
    let auth = monitor.reply();
    assert!(auth.ends_with("\"AUTH\" \"(redacted)\"\r\n"), "{auth}");
}

#[test]
fn client_kill_closes_the_named_connection() {
    let server = TestServer::start(&[]);
    let mut victim = server.raw();
    let id = victim.cmd(&["CLIENT", "ID"]);
    let id = id.trim_start_matches(':').trim();
    let mut killer = server.raw();
    assert_eq!(killer.cmd(&["CLIENT", "KILL", "ID", id]), ":1\r\n");
    assert_eq!(victim.read_to_close(), "");
    assert_eq!(killer.cmd(&["CLIENT", "KILL", "ID", id]), ":0\r\n");
}

#[test]
fn active_expiry_removes_keys_nobody_reads() {
    let server = TestServer::start(&["--hz", "100"]);
    let mut c = server.raw();
    for i in 0..50 {
        c.cmd(&["SET", &format!("k{i}"), "v", "PX", "20"]);
    }
    c.cmd(&["SET", "stays", "v"]);
    let deadline = Instant::now() + Duration::from_secs(5);
    while c.cmd(&["DBSIZE"]) != ":1\r\n" {
        assert!(Instant::now() < deadline, "expired keys were not reclaimed");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(c
        .cmd(&["INFO", "keyspace"])
        .contains("db0:keys=1,expires=0"));
}

#[test]
fn exec_is_atomic_against_other_clients() {
    let server = TestServer::start(&[]);
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let addr = server.addr;
            std::thread::spawn(move || {
                let mut c = common::Raw::connect(addr);
                for _ in 0..50 {
                    c.send(b"MULTI\r\nGET n\r\nINCR n\r\nGET n\r\nEXEC\r\n");
                    for _ in 0..4 {
                        c.reply();
                    }
                    let exec = c.reply();
                    // Inside one EXEC, GET, INCR, GET see consecutive values.
                    let lines: Vec<&str> = exec.split("\r\n").collect();
                    let before: i64 = if lines[1] == "$-1" {
                        0
                    } else {
                        lines[2].parse().unwrap()
                    };
                    let incr: i64 = lines.iter().find(|l| l.starts_with(':')).unwrap()[1..]
                        .parse()
                        .unwrap();
                    assert_eq!(incr, before + 1, "{exec}");
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(server.raw().cmd(&["GET", "n"]), "$3\r\n200\r\n");
}

#[test]
fn resp3_clients_see_maps_and_nulls_through_the_redis_crate() {
    let server = TestServer::start(&[]);
    let client = redis::Client::open(server.url_resp3()).unwrap();
    let mut conn = client.get_connection().unwrap();
    let missing: Option<String> = redis::cmd("GET").arg("nope").query(&mut conn).unwrap();
    assert_eq!(missing, None);
    let hello: redis::Value = redis::cmd("HELLO").arg("3").query(&mut conn).unwrap();
    let redis::Value::Map(pairs) = hello else {
        panic!("HELLO 3 should reply with a map, got {hello:?}");
    };
    let version = pairs
        .iter()
        .find(|(k, _)| matches!(k, redis::Value::BulkString(b) if b == b"version"))
        .map(|(_, v)| v.clone());
    assert_eq!(version, Some(redis::Value::BulkString(b"7.4.0".to_vec())));
    let _: () = redis::cmd("SET")
        .arg("k")
        .arg("v")
        .query(&mut conn)
        .unwrap();
    let v: String = redis::cmd("GET").arg("k").query(&mut conn).unwrap();
    assert_eq!(v, "v");
}

#[test]
fn info_reports_the_fields_frameworks_read() {
    let server = TestServer::start(&[]);
    let mut c = server.raw();
    c.cmd(&["SET", "k", "v"]);
    c.cmd(&["NOSUCH"]);
    let info = c.cmd(&["INFO"]);
    for field in [
        "redis_version:7.4.0\r\n",
        "herald_version:",
        "blocked_clients:0\r\n",
        "pubsub_clients:0\r\n",
        "loading:0\r\n",
        "total_commands_processed:",
        "instantaneous_ops_per_sec:",
        "total_error_replies:1\r\n",
        "role:master\r\n",
        "connected_slaves:0\r\n",
        "db0:keys=1,expires=0,avg_ttl=0",
        "errorstat_ERR:count=1\r\n",
    ] {
        assert!(info.contains(field), "INFO lacks {field:?}:\n{info}");
    }
    // As in Redis, commandstats is not a default section.
    assert!(!info.contains("cmdstat_"));
    assert!(c
        .cmd(&["INFO", "commandstats"])
        .contains("cmdstat_set:calls=1,"));
}

#[test]
fn client_info_and_time_have_redis_shapes() {
    let server = TestServer::start(&[]);
    let mut c = server.raw();
    c.cmd(&["CLIENT", "SETNAME", "me"]);
    let info = c.cmd(&["CLIENT", "INFO"]);
    let id = c.cmd(&["CLIENT", "ID"]);
    let id = id.trim_start_matches(':').trim();
    assert!(info.starts_with('$'), "{info}");
    assert!(info.contains(&format!("id={id} addr=127.0.0.1:")), "{info}");
    assert!(
        info.contains(" name=me ") && info.contains(" cmd=client|info "),
        "{info}"
    );
    let time = c.cmd(&["TIME"]);
    let parts: Vec<&str> = time.split("\r\n").collect();
    assert_eq!(parts[0], "*2");
    let secs: u64 = parts[2].parse().unwrap();
    let micros: u64 = parts[4].parse().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(secs.abs_diff(now) <= 2 && micros < 1_000_000, "{time}");
}
