//! Keyspace commands over the wire: DEL, UNLINK, EXISTS, TYPE, KEYS, SCAN, RENAME, RENAMENX, the
//! EXPIRE family with NX|XX|GT|LT, TTL, PTTL, EXPIRETIME, PERSIST, and lazy and active expiry. Every
//! expected reply was first captured from a real redis-server (7.0.15) sent the same bytes.
mod common;

use common::{int, sorted_bulks, TestServer};
use std::time::{Duration, Instant};

#[test]
fn del_unlink_exists_type() {
    let server = TestServer::start(&[]);
    let mut a = server.raw();
    assert_eq!(a.cmd(&["MSET", "a", "1", "b", "2", "c", "3"]), "+OK\r\n");
    assert_eq!(a.cmd(&["DEL", "a", "missing", "a"]), ":1\r\n");
    assert_eq!(a.cmd(&["UNLINK", "b", "b", "missing"]), ":1\r\n");
    assert_eq!(a.cmd(&["EXISTS", "c", "c", "missing", "c"]), ":3\r\n");
    assert_eq!(a.cmd(&["EXISTS", "missing"]), ":0\r\n");
    assert_eq!(
        a.cmd(&["DEL"]),
        "-ERR wrong number of arguments for 'del' command\r\n"
    );
    assert_eq!(
        a.cmd(&["UNLINK"]),
        "-ERR wrong number of arguments for 'unlink' command\r\n"
    );
    assert_eq!(
        a.cmd(&["EXISTS"]),
        "-ERR wrong number of arguments for 'exists' command\r\n"
    );
    assert_eq!(a.cmd(&["TYPE", "c"]), "+string\r\n");
    assert_eq!(a.cmd(&["TYPE", "missing"]), "+none\r\n");
    assert_eq!(a.cmd(&["XADD", "s", "1-1", "f", "v"]), "$3\r\n1-1\r\n");
    assert_eq!(a.cmd(&["TYPE", "s"]), "+stream\r\n");
    assert_eq!(a.cmd(&["DEL", "c", "s"]), ":2\r\n");
    assert_eq!(a.cmd(&["DBSIZE"]), ":0\r\n");
}

#[test]
fn keys_patterns() {
    let server = TestServer::start(&[]);
    let mut a = server.raw();
    assert_eq!(
        a.cmd(&[
            "MSET", "hello", "1", "hallo", "2", "hxllo", "3", "hllo", "4", "heeeello", "5",
            "h*llo", "6", "other", "7"
        ]),
        "+OK\r\n"
    );
    assert_eq!(
        sorted_bulks(&a.cmd(&["KEYS", "h?llo"])),
        ["h*llo", "hallo", "hello", "hxllo"] as [&str; 4]
    );
    assert_eq!(
        sorted_bulks(&a.cmd(&["KEYS", "h[ae]llo"])),
        ["hallo", "hello"] as [&str; 2]
    );
    assert_eq!(
        sorted_bulks(&a.cmd(&["KEYS", "h[^e]llo"])),
        ["h*llo", "hallo", "hxllo"] as [&str; 3]
    );
    assert_eq!(a.cmd(&["KEYS", "h\\*llo"]), "*1\r\n$5\r\nh*llo\r\n");
    assert_eq!(
        sorted_bulks(&a.cmd(&["KEYS", "h*llo"])),
        ["h*llo", "hallo", "heeeello", "hello", "hllo", "hxllo"] as [&str; 6]
    );
    assert_eq!(a.cmd(&["KEYS", "nomatch*"]), "*0\r\n");
    assert_eq!(
        a.cmd(&["KEYS"]),
        "-ERR wrong number of arguments for 'keys' command\r\n"
    );
    assert_eq!(
        a.cmd(&["KEYS", "a", "b"]),
        "-ERR wrong number of arguments for 'keys' command\r\n"
    );
    assert_eq!(
        a.cmd(&["DEL", "hello", "hallo", "hxllo", "hllo", "heeeello", "other"]),
        ":6\r\n"
    );
    assert_eq!(a.cmd(&["KEYS", "*"]), "*1\r\n$5\r\nh*llo\r\n");
}

#[test]
fn rename_and_renamenx() {
    let server = TestServer::start(&[]);
    let mut a = server.raw();
    assert_eq!(a.cmd(&["SET", "a", "1"]), "+OK\r\n");
    assert_eq!(a.cmd(&["RENAME", "a", "a"]), "+OK\r\n");
    assert_eq!(a.cmd(&["RENAME", "missing", "x"]), "-ERR no such key\r\n");
    assert_eq!(a.cmd(&["RENAMENX", "missing", "x"]), "-ERR no such key\r\n");
    assert_eq!(a.cmd(&["RENAMENX", "a", "a"]), ":0\r\n");
    assert_eq!(a.cmd(&["RENAME", "a", "b"]), "+OK\r\n");
    assert_eq!(a.cmd(&["GET", "b"]), "$1\r\n1\r\n");
    assert_eq!(a.cmd(&["EXISTS", "a"]), ":0\r\n");
    assert_eq!(a.cmd(&["SET", "c", "3"]), "+OK\r\n");
    assert_eq!(a.cmd(&["RENAMENX", "b", "c"]), ":0\r\n");
    assert_eq!(a.cmd(&["RENAMENX", "b", "d"]), ":1\r\n");
    assert_eq!(a.cmd(&["GET", "d"]), "$1\r\n1\r\n");
    assert_eq!(a.cmd(&["SET", "e", "5", "EX", "100"]), "+OK\r\n");
    assert_eq!(a.cmd(&["RENAME", "e", "f"]), "+OK\r\n");
    assert_eq!(a.cmd(&["TTL", "f"]), ":100\r\n");
    assert_eq!(a.cmd(&["SET", "g", "7"]), "+OK\r\n");
    assert_eq!(a.cmd(&["RENAME", "g", "f"]), "+OK\r\n");
    assert_eq!(a.cmd(&["TTL", "f"]), ":-1\r\n");
    assert_eq!(a.cmd(&["XADD", "s", "1-1", "f", "v"]), "$3\r\n1-1\r\n");
    assert_eq!(a.cmd(&["RENAME", "s", "t"]), "+OK\r\n");
    assert_eq!(a.cmd(&["TYPE", "t"]), "+stream\r\n");
    assert_eq!(
        a.cmd(&["RENAME", "a"]),
        "-ERR wrong number of arguments for 'rename' command\r\n"
    );
    assert_eq!(
        a.cmd(&["RENAMENX", "a"]),
        "-ERR wrong number of arguments for 'renamenx' command\r\n"
    );
}

#[test]
fn expire_options_and_errors() {
    let server = TestServer::start(&[]);
    let mut a = server.raw();
    assert_eq!(a.cmd(&["SET", "k", "v"]), "+OK\r\n");
    assert_eq!(a.cmd(&["EXPIRE", "k", "100", "XX"]), ":0\r\n");
    assert_eq!(a.cmd(&["EXPIRE", "k", "100", "GT"]), ":0\r\n");
    assert_eq!(a.cmd(&["EXPIRE", "k", "100", "LT"]), ":1\r\n");
    assert_eq!(a.cmd(&["TTL", "k"]), ":100\r\n");
    assert_eq!(a.cmd(&["EXPIRE", "k", "200", "NX"]), ":0\r\n");
    assert_eq!(a.cmd(&["EXPIRE", "k", "50", "GT"]), ":0\r\n");
    assert_eq!(a.cmd(&["EXPIRE", "k", "300", "GT"]), ":1\r\n");
    assert_eq!(a.cmd(&["TTL", "k"]), ":300\r\n");
    assert_eq!(a.cmd(&["EXPIRE", "k", "400", "LT"]), ":0\r\n");
    assert_eq!(a.cmd(&["EXPIRE", "k", "200", "LT"]), ":1\r\n");
    assert_eq!(a.cmd(&["TTL", "k"]), ":200\r\n");
    assert_eq!(a.cmd(&["EXPIRE", "k", "100", "XX"]), ":1\r\n");
    assert_eq!(a.cmd(&["TTL", "k"]), ":100\r\n");
    assert_eq!(a.cmd(&["EXPIRE", "k", "100", "nx"]), ":0\r\n");
    assert_eq!(
        a.cmd(&["EXPIRE", "k", "50", "NX", "XX"]),
        "-ERR NX and XX, GT or LT options at the same time are not compatible\r\n"
    );
    assert_eq!(
        a.cmd(&["EXPIRE", "k", "50", "GT", "LT"]),
        "-ERR GT and LT options at the same time are not compatible\r\n"
    );
    assert_eq!(
        a.cmd(&["EXPIRE", "k", "50", "NX", "GT"]),
        "-ERR NX and XX, GT or LT options at the same time are not compatible\r\n"
    );
    assert_eq!(
        a.cmd(&["EXPIRE", "k", "50", "NX", "LT"]),
        "-ERR NX and XX, GT or LT options at the same time are not compatible\r\n"
    );
    assert_eq!(
        a.cmd(&["EXPIRE", "k", "50", "FOO"]),
        "-ERR Unsupported option FOO\r\n"
    );
    assert_eq!(a.cmd(&["EXPIRE", "k", "50", "XX", "GT"]), ":0\r\n");
    assert_eq!(
        a.cmd(&["EXPIRE", "k", "abc"]),
        "-ERR value is not an integer or out of range\r\n"
    );
    assert_eq!(
        a.cmd(&["EXPIRE", "k", "1.5"]),
        "-ERR value is not an integer or out of range\r\n"
    );
    assert_eq!(
        a.cmd(&["EXPIRE", "k"]),
        "-ERR wrong number of arguments for 'expire' command\r\n"
    );
    assert_eq!(a.cmd(&["EXPIRE", "missing", "100"]), ":0\r\n");
    assert_eq!(a.cmd(&["PEXPIRE", "missing", "100"]), ":0\r\n");
    assert_eq!(a.cmd(&["EXPIREAT", "missing", "100"]), ":0\r\n");
    assert_eq!(a.cmd(&["PEXPIREAT", "missing", "100"]), ":0\r\n");
    assert_eq!(a.cmd(&["EXPIRE", "k", "100", "NX", "NX"]), ":0\r\n");
    assert_eq!(
        a.cmd(&["EXPIRE", "k", "100", "a", "b"]),
        "-ERR Unsupported option a\r\n"
    );
}

#[test]
fn expire_overflow_and_negative_times() {
    let server = TestServer::start(&[]);
    let mut a = server.raw();
    assert_eq!(a.cmd(&["SET", "k", "v"]), "+OK\r\n");
    assert_eq!(
        a.cmd(&["EXPIRE", "k", "9223372036854775807"]),
        "-ERR invalid expire time in 'expire' command\r\n"
    );
    assert_eq!(
        a.cmd(&["EXPIRE", "k", "9223372036854775"]),
        "-ERR invalid expire time in 'expire' command\r\n"
    );
    assert_eq!(
        a.cmd(&["EXPIRE", "k", "9223372036854774"]),
        "-ERR invalid expire time in 'expire' command\r\n"
    );
    assert_eq!(
        a.cmd(&["PEXPIRE", "k", "9223372036854775807"]),
        "-ERR invalid expire time in 'pexpire' command\r\n"
    );
    assert_eq!(
        a.cmd(&["EXPIREAT", "k", "9223372036854775807"]),
        "-ERR invalid expire time in 'expireat' command\r\n"
    );
    assert_eq!(a.cmd(&["PEXPIREAT", "k", "9223372036854775807"]), ":1\r\n");
    assert_eq!(
        a.cmd(&["EXPIRE", "k", "-9223372036854775808"]),
        "-ERR invalid expire time in 'expire' command\r\n"
    );
    assert_eq!(a.cmd(&["PEXPIRE", "k", "-9223372036854775808"]), ":1\r\n");
    assert_eq!(
        a.cmd(&["EXPIRE", "k", "9223372036854775808"]),
        "-ERR value is not an integer or out of range\r\n"
    );
    assert_eq!(a.cmd(&["EXISTS", "k"]), ":0\r\n");
    assert_eq!(a.cmd(&["TTL", "k"]), ":-2\r\n");
    // a negative or past time deletes the key
    assert_eq!(a.cmd(&["EXPIRE", "k", "-1"]), ":0\r\n");
    assert_eq!(a.cmd(&["EXISTS", "k"]), ":0\r\n");
    assert_eq!(a.cmd(&["SET", "k", "v"]), "+OK\r\n");
    assert_eq!(a.cmd(&["PEXPIRE", "k", "0"]), ":1\r\n");
    assert_eq!(a.cmd(&["EXISTS", "k"]), ":0\r\n");
    assert_eq!(a.cmd(&["SET", "k", "v"]), "+OK\r\n");
    assert_eq!(a.cmd(&["EXPIREAT", "k", "1"]), ":1\r\n");
    assert_eq!(a.cmd(&["EXISTS", "k"]), ":0\r\n");
    assert_eq!(a.cmd(&["SET", "k", "v"]), "+OK\r\n");
    assert_eq!(a.cmd(&["PEXPIREAT", "k", "-100"]), ":1\r\n");
    assert_eq!(a.cmd(&["EXISTS", "k"]), ":0\r\n");
}

#[test]
fn ttl_pttl_expiretime_persist() {
    let server = TestServer::start(&[]);
    let mut a = server.raw();
    assert_eq!(a.cmd(&["SET", "k", "v"]), "+OK\r\n");
    assert_eq!(a.cmd(&["TTL", "k"]), ":-1\r\n");
    assert_eq!(a.cmd(&["PTTL", "k"]), ":-1\r\n");
    assert_eq!(a.cmd(&["EXPIRETIME", "k"]), ":-1\r\n");
    assert_eq!(a.cmd(&["PEXPIRETIME", "k"]), ":-1\r\n");
    assert_eq!(a.cmd(&["TTL", "missing"]), ":-2\r\n");
    assert_eq!(a.cmd(&["PTTL", "missing"]), ":-2\r\n");
    assert_eq!(a.cmd(&["EXPIRETIME", "missing"]), ":-2\r\n");
    assert_eq!(a.cmd(&["PEXPIRETIME", "missing"]), ":-2\r\n");
    assert_eq!(a.cmd(&["EXPIREAT", "k", "4102444800"]), ":1\r\n");
    assert_eq!(a.cmd(&["EXPIRETIME", "k"]), ":4102444800\r\n");
    assert_eq!(a.cmd(&["PEXPIRETIME", "k"]), ":4102444800000\r\n");
    assert_eq!(a.cmd(&["PEXPIREAT", "k", "4102444800999"]), ":1\r\n");
    assert_eq!(a.cmd(&["EXPIRETIME", "k"]), ":4102444801\r\n");
    assert_eq!(a.cmd(&["PEXPIRETIME", "k"]), ":4102444800999\r\n");
    assert_eq!(a.cmd(&["EXPIRE", "k", "100"]), ":1\r\n");
    assert_eq!(a.cmd(&["TTL", "k"]), ":100\r\n");
    let n = int(&a.cmd(&["PTTL", "k"]));
    assert!((99000..=100000).contains(&n), "{n}");
    assert_eq!(a.cmd(&["PERSIST", "k"]), ":1\r\n");
    assert_eq!(a.cmd(&["PERSIST", "k"]), ":0\r\n");
    assert_eq!(a.cmd(&["PERSIST", "missing"]), ":0\r\n");
    assert_eq!(a.cmd(&["TTL", "k"]), ":-1\r\n");
    assert_eq!(a.cmd(&["EXPIRETIME", "k"]), ":-1\r\n");
    assert_eq!(a.cmd(&["PEXPIRE", "k", "5000"]), ":1\r\n");
    assert_eq!(a.cmd(&["TTL", "k"]), ":5\r\n");
    assert_eq!(
        a.cmd(&["PERSIST"]),
        "-ERR wrong number of arguments for 'persist' command\r\n"
    );
    assert_eq!(
        a.cmd(&["TTL"]),
        "-ERR wrong number of arguments for 'ttl' command\r\n"
    );
    assert_eq!(
        a.cmd(&["PTTL"]),
        "-ERR wrong number of arguments for 'pttl' command\r\n"
    );
    assert_eq!(
        a.cmd(&["EXPIRETIME"]),
        "-ERR wrong number of arguments for 'expiretime' command\r\n"
    );
}

#[test]
fn lazy_expiry_hides_keys_at_once() {
    let server = TestServer::start(&[]);
    let mut a = server.raw();
    assert_eq!(a.cmd(&["SET", "k", "v", "PX", "200"]), "+OK\r\n");
    assert_eq!(a.cmd(&["SET", "keep", "v"]), "+OK\r\n");
    assert_eq!(a.cmd(&["EXISTS", "k"]), ":1\r\n");
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(a.cmd(&["GET", "k"]), "$-1\r\n");
    assert_eq!(a.cmd(&["EXISTS", "k"]), ":0\r\n");
    assert_eq!(a.cmd(&["TTL", "k"]), ":-2\r\n");
    assert_eq!(a.cmd(&["PTTL", "k"]), ":-2\r\n");
    assert_eq!(a.cmd(&["TYPE", "k"]), "+none\r\n");
    assert_eq!(a.cmd(&["KEYS", "*"]), "*1\r\n$4\r\nkeep\r\n");
    assert_eq!(a.cmd(&["EXPIRE", "k", "100"]), ":0\r\n");
    assert_eq!(a.cmd(&["PERSIST", "k"]), ":0\r\n");
    assert_eq!(a.cmd(&["SET", "k2", "v", "PX", "200"]), "+OK\r\n");
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(a.cmd(&["SET", "k2", "w", "NX"]), "+OK\r\n");
    assert_eq!(a.cmd(&["GET", "k2"]), "$1\r\nw\r\n");
    assert_eq!(a.cmd(&["TTL", "k2"]), ":-1\r\n");
    assert_eq!(a.cmd(&["SET", "k3", "5", "PX", "200"]), "+OK\r\n");
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(a.cmd(&["INCR", "k3"]), ":1\r\n");
    assert_eq!(a.cmd(&["TTL", "k3"]), ":-1\r\n");
    assert_eq!(a.cmd(&["SET", "k4", "v", "PX", "200"]), "+OK\r\n");
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(a.cmd(&["APPEND", "k4", "x"]), ":1\r\n");
    assert_eq!(a.cmd(&["TTL", "k4"]), ":-1\r\n");
    assert_eq!(a.cmd(&["SET", "k5", "v", "PX", "200"]), "+OK\r\n");
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(a.cmd(&["RENAME", "k5", "other"]), "-ERR no such key\r\n");
    assert_eq!(a.cmd(&["RENAMENX", "k5", "other"]), "-ERR no such key\r\n");
}

#[test]
fn scan_options_and_errors() {
    let server = TestServer::start(&[]);
    let mut a = server.raw();
    assert_eq!(a.cmd(&["MSET", "a1", "1", "a2", "2", "b1", "3"]), "+OK\r\n");
    assert_eq!(a.cmd(&["XADD", "s", "1-1", "f", "v"]), "$3\r\n1-1\r\n");
    assert_eq!(a.cmd(&["SCAN", "abc"]), "-ERR invalid cursor\r\n");
    // Redis 7.4 behaviour; 7.0.15 answers "*2\r\n$1\r\n0\r\n*0\r\n"
    assert_eq!(a.cmd(&["SCAN", "-1"]), "-ERR invalid cursor\r\n");
    assert_eq!(a.cmd(&["SCAN", "0", "COUNT", "0"]), "-ERR syntax error\r\n");
    assert_eq!(
        a.cmd(&["SCAN", "0", "COUNT", "-1"]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(
        a.cmd(&["SCAN", "0", "COUNT", "abc"]),
        "-ERR value is not an integer or out of range\r\n"
    );
    assert_eq!(a.cmd(&["SCAN", "0", "FOO"]), "-ERR syntax error\r\n");
    assert_eq!(a.cmd(&["SCAN", "0", "MATCH"]), "-ERR syntax error\r\n");
    assert_eq!(a.cmd(&["SCAN", "0", "COUNT"]), "-ERR syntax error\r\n");
    assert_eq!(a.cmd(&["SCAN", "0", "TYPE"]), "-ERR syntax error\r\n");
    assert_eq!(
        a.cmd(&["SCAN", "0", "TYPE", "nosuchtype"]),
        "*2\r\n$1\r\n0\r\n*0\r\n"
    );
    assert_eq!(
        a.cmd(&["SCAN", "0", "TYPE", "stream"]),
        "*2\r\n$1\r\n0\r\n*1\r\n$1\r\ns\r\n"
    );
    assert_eq!(
        a.cmd(&["SCAN", "0", "TYPE", "STREAM", "COUNT", "100"]),
        "*2\r\n$1\r\n0\r\n*1\r\n$1\r\ns\r\n"
    );
    assert_eq!(
        a.cmd(&["SCAN", "0", "MATCH", "b*", "COUNT", "100"]),
        "*2\r\n$1\r\n0\r\n*1\r\n$2\r\nb1\r\n"
    );
    assert_eq!(
        a.cmd(&["SCAN", "0", "MATCH", "nomatch", "COUNT", "100"]),
        "*2\r\n$1\r\n0\r\n*0\r\n"
    );
    assert_eq!(
        a.cmd(&["SCAN", "18446744073709551616"]),
        "-ERR invalid cursor\r\n"
    );
    assert_eq!(
        a.cmd(&["SCAN"]),
        "-ERR wrong number of arguments for 'scan' command\r\n"
    );
}

/// Parses a SCAN reply (`*2 cursor [keys]`) into its cursor and keys.
fn scan_page(reply: &str) -> (String, Vec<String>) {
    let lines: Vec<&str> = reply.split("\r\n").collect();
    assert_eq!(lines[0], "*2", "not a SCAN reply: {reply:?}");
    let cursor = lines[2].to_string();
    let count: usize = lines[3][1..].parse().expect("key count");
    let keys = (0..count).map(|i| lines[5 + 2 * i].to_string()).collect();
    (cursor, keys)
}

#[test]
fn scan_returns_every_key_exactly_once_while_keys_are_added() {
    let server = TestServer::start(&[]);
    let mut a = server.raw();
    let mut writer = server.raw();
    for i in 0..500 {
        assert_eq!(a.cmd(&["SET", &format!("old:{i}"), "v"]), "+OK\r\n");
    }
    let mut seen = std::collections::HashMap::<String, usize>::new();
    let mut cursor = "0".to_string();
    let mut added = 0;
    for _round in 0..10_000 {
        let (next, keys) = scan_page(&a.cmd(&["SCAN", &cursor, "COUNT", "7"]));
        for key in keys {
            *seen.entry(key).or_default() += 1;
        }
        // Another client grows the keyspace between pages (enough to force the table to grow).
        for _ in 0..20 {
            writer.cmd(&["SET", &format!("new:{added}"), "v"]);
            added += 1;
        }
        cursor = next;
        if cursor == "0" {
            break;
        }
    }
    assert_eq!(cursor, "0", "the scan never finished");
    for i in 0..500 {
        assert_eq!(seen.get(&format!("old:{i}")), Some(&1), "old:{i}");
    }
    let twice: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "returned more than once: {twice:?}");
}

/// Over more keys than one window of Herald's scan holds (see `src/scan.rs`), two interleaved
/// scans each return every key present throughout exactly once, and no key after its deletion.
#[test]
fn interleaved_scans_over_many_keys_return_each_key_once() {
    let server = TestServer::start(&[]);
    let mut writer = server.raw();
    let total = 20_000;
    let mut load = Vec::new();
    for i in 0..total {
        load.extend(common::encode(&[b"SET", format!("k:{i}").as_bytes(), b"v"]));
    }
    writer.send(&load);
    for _ in 0..total {
        assert_eq!(writer.reply(), "+OK\r\n");
    }
    let mut scanners = [server.raw(), server.raw()];
    let mut cursors = ["0".to_string(), "0".to_string()];
    let mut seen = [
        std::collections::HashMap::<String, usize>::new(),
        std::collections::HashMap::new(),
    ];
    let mut deleted = std::collections::HashSet::new();
    for round in 0..20_000 {
        for s in 0..2 {
            if round > 0 && cursors[s] == "0" {
                continue;
            }
            let reply = scanners[s].cmd(&["SCAN", &cursors[s], "COUNT", "10"]);
            let (next, keys) = scan_page(&reply);
            for key in keys {
                assert!(!deleted.contains(&key), "{key} returned after its deletion");
                *seen[s].entry(key).or_default() += 1;
            }
            cursors[s] = next;
        }
        // The first thousand keys go, a few between each round.
        if round < 200 {
            for i in round * 5..round * 5 + 5 {
                let key = format!("k:{i}");
                assert_eq!(writer.cmd(&["DEL", &key]), ":1\r\n");
                deleted.insert(key);
            }
        }
        if round > 0 && cursors.iter().all(|c| c == "0") {
            break;
        }
    }
    assert_eq!(cursors, ["0", "0"], "the scans never finished");
    for seen in &seen {
        for i in 1000..total {
            assert_eq!(seen.get(&format!("k:{i}")), Some(&1), "k:{i}");
        }
        assert!(seen.values().all(|n| *n == 1));
    }
}

#[test]
fn scan_match_count_and_type_filter_a_full_iteration() {
    let server = TestServer::start(&[]);
    let mut a = server.raw();
    for i in 0..100 {
        a.cmd(&["SET", &format!("user:{i}"), "v"]);
        a.cmd(&["SET", &format!("job:{i}"), "v"]);
    }
    for i in 0..10 {
        a.cmd(&["XADD", &format!("user:s{i}"), "1-1", "f", "v"]);
    }
    let full = |a: &mut common::Raw, extra: &[&str]| {
        let mut keys = Vec::new();
        let mut cursor = "0".to_string();
        for _ in 0..1000 {
            let mut args = vec!["SCAN", cursor.as_str()];
            args.extend_from_slice(extra);
            let (next, page) = scan_page(&a.cmd(&args));
            keys.extend(page);
            cursor = next;
            if cursor == "0" {
                break;
            }
        }
        assert_eq!(cursor, "0");
        keys.sort();
        keys
    };
    assert_eq!(full(&mut a, &[]).len(), 210);
    let users = full(&mut a, &["MATCH", "user:*", "COUNT", "3"]);
    assert_eq!(users.len(), 110);
    assert!(users.iter().all(|k| k.starts_with("user:")));
    let streams = full(&mut a, &["TYPE", "stream"]);
    let expected: Vec<String> = (0..10).map(|i| format!("user:s{i}")).collect();
    assert_eq!(streams, expected);
    let strings = full(
        &mut a,
        &["MATCH", "user:s*", "TYPE", "string", "COUNT", "1000"],
    );
    assert!(strings.is_empty(), "{strings:?}");
}

/// Sets keys `k0`.. to live `px` milliseconds, in one pipeline.
fn set_expiring(a: &mut common::Raw, n: usize, px: &str) {
    let mut batch = Vec::new();
    for i in 0..n {
        let key = format!("k{i}");
        batch.extend(common::encode(&[
            b"SET",
            key.as_bytes(),
            b"v",
            b"PX",
            px.as_bytes(),
        ]));
    }
    a.send(&batch);
    for _ in 0..n {
        assert_eq!(a.reply(), "+OK\r\n");
    }
}

#[test]
fn active_expiry_removes_untouched_keys_in_every_db_and_counts_them() {
    // The default hz (10): keys expire without any client reading them.
    let server = TestServer::start(&[]);
    let mut a = server.raw();
    for db in ["0", "5"] {
        assert_eq!(a.cmd(&["SELECT", db]), "+OK\r\n");
        // One pipeline, and a deadline well past it: on a loaded machine (CI compiling in
        // parallel) 100 round trips took longer than the keys lived.
        set_expiring(&mut a, 100, "300");
        a.cmd(&["SET", "stays", "v"]);
        a.cmd(&["SET", "later", "v", "EX", "1000"]);
        assert_eq!(a.cmd(&["DBSIZE"]), ":102\r\n");
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut checker = server.raw();
    loop {
        let info = checker.cmd(&["INFO", "keyspace"]);
        if info.contains("db0:keys=2,expires=1,") && info.contains("db5:keys=2,expires=1,") {
            break;
        }
        assert!(Instant::now() < deadline, "not reclaimed: {info:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(checker.cmd(&["DBSIZE"]), ":2\r\n");
    assert_eq!(a.cmd(&["DBSIZE"]), ":2\r\n");
    let stats = checker.cmd(&["INFO", "stats"]);
    assert!(stats.contains("\r\nexpired_keys:200\r\n"), "{stats}");
}

/// The expiry cycle keeps removing keys while they keep falling due (for a quarter of its
/// period, as Redis's), not a fixed number a cycle: at `hz 1` 20,000 due keys go in the first
/// cycle or two (a few milliseconds' work), where 1000 a cycle would take 20 cycles. The
/// bound below counts cycles (one a second), not speed: half of those 20, however slow the
/// machine runs the few milliseconds each cycle needs.
#[test]
fn active_expiry_keeps_up_with_many_keys_falling_due_at_once() {
    let server = TestServer::start(&["--hz", "1"]);
    let mut a = server.raw();
    let total = 20_000;
    set_expiring(&mut a, total, "50");
    let started = Instant::now();
    loop {
        let stats = a.cmd(&["INFO", "stats"]);
        if stats.contains(&format!("\r\nexpired_keys:{total}\r\n")) {
            break;
        }
        // Ten cycles: a cycle stopping at 1000 keys would have removed 10,000 by then.
        assert!(started.elapsed() < Duration::from_secs(10), "{stats}");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(a.cmd(&["DBSIZE"]), ":0\r\n");
}

#[test]
fn a_key_past_its_expiry_is_gone_for_every_command_before_active_expiry_runs() {
    let server = TestServer::start(&["--hz", "1"]);
    let mut a = server.raw();
    a.cmd(&["SET", "k", "v", "PX", "20"]);
    std::thread::sleep(Duration::from_millis(60));
    assert_eq!(a.cmd(&["EXISTS", "k"]), ":0\r\n");
    assert_eq!(
        a.cmd(&["SCAN", "0", "COUNT", "100"]),
        "*2\r\n$1\r\n0\r\n*0\r\n"
    );
    assert_eq!(a.cmd(&["KEYS", "*"]), "*0\r\n");
    assert_eq!(a.cmd(&["TTL", "k"]), ":-2\r\n");
}

#[test]
fn rename_onto_a_key_with_the_same_deadline_keeps_it_expiring() {
    let server = TestServer::start(&["--hz", "100"]);
    let mut a = server.raw();
    let at = (std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis()
        + 300)
        .to_string();
    assert_eq!(a.cmd(&["SET", "j", "v", "PXAT", &at]), "+OK\r\n");
    assert_eq!(a.cmd(&["SET", "k", "v", "PXAT", &at]), "+OK\r\n");
    assert_eq!(a.cmd(&["RENAME", "j", "k"]), "+OK\r\n");
    assert!(a
        .cmd(&["INFO", "keyspace"])
        .contains("\r\ndb0:keys=1,expires=1,"));
    // Nobody reads k again: active expiry alone must reclaim it.
    let deadline = Instant::now() + Duration::from_secs(5);
    while a.cmd(&["DBSIZE"]) != ":0\r\n" {
        assert!(Instant::now() < deadline, "k was never reclaimed");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn info_keyspace_reports_the_average_ttl() {
    let server = TestServer::start(&[]);
    let mut a = server.raw();
    a.cmd(&["SET", "a", "1", "EX", "100"]);
    a.cmd(&["SET", "b", "1", "EX", "200"]);
    a.cmd(&["SET", "c", "1"]);
    // redis-server 7.0.15 here: db0:keys=3,expires=2,avg_ttl=149897 (an estimate by sampling).
    let info = a.cmd(&["INFO", "keyspace"]);
    let line = info
        .split("\r\n")
        .find(|l| l.starts_with("db0:"))
        .unwrap_or_else(|| panic!("{info}"));
    let avg: u64 = line
        .strip_prefix("db0:keys=3,expires=2,avg_ttl=")
        .unwrap_or_else(|| panic!("{line}"))
        .parse()
        .expect("avg_ttl is a number");
    assert!((140_000..=150_000).contains(&avg), "{line}");
}

/// COPY's replies as redis-server 7.0.15 gave them: within and across databases, REPLACE, the
/// deadline copied, a stream copied with its groups but independent afterwards, and Redis's
/// errors in its order (an out-of-range DB before a later bad option).
#[test]
fn copy_within_and_across_databases() {
    let server = TestServer::start(&[]);
    let mut a = server.raw();
    assert_eq!(a.cmd(&["SET", "a", "1", "EX", "100"]), "+OK\r\n");
    assert_eq!(a.cmd(&["COPY", "a", "b"]), ":1\r\n");
    assert_eq!(a.cmd(&["GET", "b"]), "$1\r\n1\r\n");
    assert_eq!(a.cmd(&["TTL", "b"]), ":100\r\n");
    assert_eq!(
        a.cmd(&["COPY", "a", "b"]),
        ":0\r\n",
        "the destination exists"
    );
    assert_eq!(a.cmd(&["SET", "a", "2"]), "+OK\r\n");
    assert_eq!(a.cmd(&["COPY", "a", "b", "REPLACE"]), ":1\r\n");
    assert_eq!(
        a.cmd(&["TTL", "b"]),
        ":-1\r\n",
        "REPLACE takes the source's (no) deadline"
    );
    assert_eq!(a.cmd(&["COPY", "missing", "x"]), ":0\r\n");
    assert_eq!(a.cmd(&["COPY", "a", "a", "DB", "1"]), ":1\r\n");
    assert_eq!(a.cmd(&["SELECT", "1"]), "+OK\r\n");
    assert_eq!(a.cmd(&["GET", "a"]), "$1\r\n2\r\n");
    assert_eq!(a.cmd(&["SELECT", "0"]), "+OK\r\n");
    assert_eq!(a.cmd(&["XADD", "s", "1-1", "f", "v"]), "$3\r\n1-1\r\n");
    assert_eq!(a.cmd(&["XGROUP", "CREATE", "s", "g", "0"]), "+OK\r\n");
    a.cmd(&["XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">"]);
    assert_eq!(a.cmd(&["COPY", "s", "s2"]), ":1\r\n");
    assert_eq!(a.cmd(&["XACK", "s2", "g", "1-1"]), ":1\r\n");
    assert_eq!(a.cmd(&["XADD", "s2", "2-1", "f", "v"]), "$3\r\n2-1\r\n");
    assert_eq!(a.cmd(&["XLEN", "s"]), ":1\r\n", "the original is untouched");
    assert_eq!(
        a.cmd(&["XPENDING", "s", "g"]),
        "*4\r\n:1\r\n$3\r\n1-1\r\n$3\r\n1-1\r\n*1\r\n*2\r\n$1\r\nc\r\n$1\r\n1\r\n"
    );
    for (args, reply) in [
        (
            &["COPY", "a", "a"][..],
            "-ERR source and destination objects are the same\r\n",
        ),
        (
            &["COPY", "a", "a", "DB", "0"],
            "-ERR source and destination objects are the same\r\n",
        ),
        (
            &["COPY", "a", "b", "DB", "16"],
            "-ERR DB index is out of range\r\n",
        ),
        (
            &["COPY", "a", "b", "DB", "99", "FOO"],
            "-ERR DB index is out of range\r\n",
        ),
        (
            &["COPY", "a", "b", "FOO", "DB", "99"],
            "-ERR syntax error\r\n",
        ),
        (&["COPY", "a", "b", "DB"], "-ERR syntax error\r\n"),
        (
            &["COPY", "a", "b", "DB", "x"],
            "-ERR value is not an integer or out of range\r\n",
        ),
        (
            &["COPY", "a", "b", "DB", "4294967296"],
            "-ERR value is out of range, value must between -2147483648 and 2147483647\r\n",
        ),
        (
            &["COPY", "a"],
            "-ERR wrong number of arguments for 'copy' command\r\n",
        ),
    ] {
        assert_eq!(a.cmd(args), reply, "{args:?}");
    }
}

/// MOVE's replies as redis-server 7.0.15 gave them: the key and its deadline go to the other
/// database unless the key is there already; its errors in Redis's order.
#[test]
fn move_to_another_database() {
    let server = TestServer::start(&[]);
    let mut a = server.raw();
    assert_eq!(a.cmd(&["SET", "m", "1", "EX", "100"]), "+OK\r\n");
    assert_eq!(a.cmd(&["MOVE", "m", "1"]), ":1\r\n");
    assert_eq!(a.cmd(&["EXISTS", "m"]), ":0\r\n");
    assert_eq!(a.cmd(&["MOVE", "m", "1"]), ":0\r\n", "nothing left to move");
    assert_eq!(a.cmd(&["SELECT", "1"]), "+OK\r\n");
    assert_eq!(a.cmd(&["TTL", "m"]), ":100\r\n");
    assert_eq!(a.cmd(&["SET", "x", "in 1"]), "+OK\r\n");
    assert_eq!(a.cmd(&["SELECT", "0"]), "+OK\r\n");
    assert_eq!(a.cmd(&["SET", "x", "in 0"]), "+OK\r\n");
    assert_eq!(
        a.cmd(&["MOVE", "x", "1"]),
        ":0\r\n",
        "the target has the key"
    );
    assert_eq!(a.cmd(&["GET", "x"]), "$4\r\nin 0\r\n");
    for (args, reply) in [
        (
            &["MOVE", "x", "0"][..],
            "-ERR source and destination objects are the same\r\n",
        ),
        (&["MOVE", "x", "16"], "-ERR DB index is out of range\r\n"),
        (
            &["MOVE", "missing", "16"],
            "-ERR DB index is out of range\r\n",
        ),
        (
            &["MOVE", "x", "y"],
            "-ERR value is not an integer or out of range\r\n",
        ),
        (
            &["MOVE", "x", "-4294967296"],
            "-ERR value is out of range, value must between -2147483648 and 2147483647\r\n",
        ),
        (
            &["MOVE", "x"],
            "-ERR wrong number of arguments for 'move' command\r\n",
        ),
    ] {
        assert_eq!(a.cmd(args), reply, "{args:?}");
    }
}
