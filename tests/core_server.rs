//! Server commands over the wire: COMMAND (COUNT, INFO, DOCS, LIST FILTERBY), CONFIG GET/SET,
//! DBSIZE, FLUSHDB/FLUSHALL, TIME, LASTSAVE, ROLE, SHUTDOWN errors, INFO sections and fields
//! (commandstats, errorstats, clients, instantaneous ops), DEBUG and MONITOR. Every expected
//! reply was first captured from a real redis-server (7.0.15) sent the same bytes.
mod common;

use common::{encode, sorted_bulks, TestServer};
use std::time::{Duration, Instant};

#[test]
fn command_count_info_and_docs_errors() {
    let server = TestServer::start(&[]);
    let mut a = server.raw();
    assert_eq!(
        a.cmd(&["COMMAND", "COUNT", "x"]),
        "-ERR wrong number of arguments for 'command|count' command\r\n"
    );
    assert_eq!(a.cmd(&["COMMAND", "INFO", "nosuch"]), "*1\r\n$-1\r\n");
    assert_eq!(
        a.cmd(&["COMMAND", "INFO", "nosuch", "other"]),
        "*2\r\n$-1\r\n$-1\r\n"
    );
    assert_eq!(a.cmd(&["COMMAND", "DOCS", "nosuch"]), "*0\r\n");
    // A subcommand is named in full, as Redis names it.
    assert!(a
        .cmd(&["COMMAND", "DOCS", "client|kill"])
        .starts_with("*2\r\n$11\r\nclient|kill\r\n"));
    assert_eq!(
        a.cmd(&["COMMAND", "FOO"]),
        "-ERR unknown subcommand 'FOO'. Try COMMAND HELP.\r\n"
    );
    assert_eq!(a.cmd(&["COMMAND", "INFO", "publish"]), "*1\r\n*10\r\n$7\r\npublish\r\n:3\r\n*4\r\n+pubsub\r\n+loading\r\n+stale\r\n+fast\r\n:0\r\n:0\r\n:0\r\n*2\r\n+@pubsub\r\n+@fast\r\n*0\r\n*0\r\n*0\r\n");
    assert_eq!(a.cmd(&["COMMAND", "INFO", "multi"]), "*1\r\n*10\r\n$5\r\nmulti\r\n:1\r\n*5\r\n+noscript\r\n+loading\r\n+stale\r\n+fast\r\n+allow_busy\r\n:0\r\n:0\r\n:0\r\n*2\r\n+@fast\r\n+@transaction\r\n*0\r\n*0\r\n*0\r\n");
    assert_eq!(a.cmd(&["COMMAND", "INFO", "subscribe"]), "*1\r\n*10\r\n$9\r\nsubscribe\r\n:-2\r\n*4\r\n+pubsub\r\n+noscript\r\n+loading\r\n+stale\r\n:0\r\n:0\r\n:0\r\n*2\r\n+@pubsub\r\n+@slow\r\n*0\r\n*0\r\n*0\r\n");
    let _ = a.cmd(&["HELLO", "3"]); // "%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n$5\r\npro
    assert_eq!(a.cmd(&["COMMAND", "INFO", "nosuch"]), "*1\r\n_\r\n");
    assert_eq!(a.cmd(&["COMMAND", "DOCS", "nosuch"]), "%0\r\n");
}

#[test]
fn command_list_filters() {
    let server = TestServer::start(&[]);
    let mut a = server.raw();
    assert_eq!(
        sorted_bulks(&a.cmd(&["COMMAND", "LIST", "FILTERBY", "PATTERN", "xa*"])),
        ["xack", "xadd", "xautoclaim"] as [&str; 3]
    );
    assert_eq!(
        sorted_bulks(&a.cmd(&["COMMAND", "LIST", "FILTERBY", "PATTERN", "client|*name"])),
        ["client|getname", "client|setname"] as [&str; 2]
    );
    assert_eq!(
        sorted_bulks(&a.cmd(&["COMMAND", "LIST", "FILTERBY", "ACLCAT", "stream"])),
        [
            "xack",
            "xadd",
            "xautoclaim",
            "xclaim",
            "xdel",
            "xgroup|create",
            "xgroup|createconsumer",
            "xgroup|delconsumer",
            "xgroup|destroy",
            "xgroup|help",
            "xgroup|setid",
            "xinfo|consumers",
            "xinfo|groups",
            "xinfo|help",
            "xinfo|stream",
            "xlen",
            "xpending",
            "xrange",
            "xread",
            "xreadgroup",
            "xrevrange",
            "xsetid",
            "xtrim"
        ] as [&str; 23]
    );
    assert_eq!(
        sorted_bulks(&a.cmd(&["COMMAND", "LIST", "FILTERBY", "ACLCAT", "Transaction"])),
        ["discard", "exec", "multi", "unwatch", "watch"] as [&str; 5]
    );
    assert_eq!(
        a.cmd(&["COMMAND", "LIST", "FILTERBY", "ACLCAT", "nosuch"]),
        "*0\r\n"
    );
    assert_eq!(
        a.cmd(&["COMMAND", "LIST", "FILTERBY", "MODULE", "nosuch"]),
        "*0\r\n"
    );
    assert_eq!(
        a.cmd(&["COMMAND", "LIST", "FILTERBY", "PATTERN", "nosuch*"]),
        "*0\r\n"
    );
    assert_eq!(
        a.cmd(&["COMMAND", "LIST", "FILTERBY", "FOO", "x"]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(
        a.cmd(&["COMMAND", "LIST", "FILTERBY", "PATTERN"]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(
        a.cmd(&["COMMAND", "LIST", "FILTERBY"]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(a.cmd(&["COMMAND", "LIST", "x"]), "-ERR syntax error\r\n");
}

#[test]
fn config_get_patterns_and_protocols() {
    let server = TestServer::start(&[]);
    let mut a = server.raw();
    assert_eq!(
        a.cmd(&["CONFIG", "GET", "maxclients"]),
        "*2\r\n$10\r\nmaxclients\r\n$5\r\n10000\r\n"
    );
    assert_eq!(
        a.cmd(&["CONFIG", "GET", "MAXCLIENTS"]),
        "*2\r\n$10\r\nMAXCLIENTS\r\n$5\r\n10000\r\n"
    );
    assert_eq!(
        sorted_bulks(&a.cmd(&["CONFIG", "GET", "Timeout", "TIMEOUT", "timeout"])),
        ["0", "Timeout"] as [&str; 2]
    );
    assert_eq!(a.cmd(&["CONFIG", "GET", "nosuch"]), "*0\r\n");
    assert_eq!(
        a.cmd(&["CONFIG", "GET", "*max-*-len"]),
        "*2\r\n$18\r\nproto-max-bulk-len\r\n$9\r\n536870912\r\n"
    );
    assert_eq!(
        sorted_bulks(&a.cmd(&["CONFIG", "GET", "stream-node-max-*"])),
        [
            "100",
            "4096",
            "stream-node-max-bytes",
            "stream-node-max-entries"
        ] as [&str; 4]
    );
    assert_eq!(
        sorted_bulks(&a.cmd(&["CONFIG", "GET", "maxclients", "timeout"])),
        ["0", "10000", "maxclients", "timeout"] as [&str; 4]
    );
    assert_eq!(
        sorted_bulks(&a.cmd(&["CONFIG", "GET", "timeout", "timeout"])),
        ["0", "timeout"] as [&str; 2]
    );
    assert_eq!(
        sorted_bulks(&a.cmd(&["CONFIG", "GET", "hz", "nosuch", "maxclients"])),
        ["10", "10000", "hz", "maxclients"] as [&str; 4]
    );
    assert_eq!(a.cmd(&["CONFIG", "GET", "client-output-buffer-limit"]), "*2\r\n$26\r\nclient-output-buffer-limit\r\n$67\r\nnormal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60\r\n");
    assert_eq!(
        a.cmd(&["CONFIG", "GET"]),
        "-ERR wrong number of arguments for 'config|get' command\r\n"
    );
    let _ = a.cmd(&["HELLO", "3"]); // "%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n$5\r\npro
    assert_eq!(
        a.cmd(&["CONFIG", "GET", "maxclients"]),
        "%1\r\n$10\r\nmaxclients\r\n$5\r\n10000\r\n"
    );
    assert_eq!(a.cmd(&["CONFIG", "GET", "nosuch"]), "%0\r\n");
    assert_eq!(
        a.cmd(&["CONFIG", "GET", "*max-*-len"]),
        "%1\r\n$18\r\nproto-max-bulk-len\r\n$9\r\n536870912\r\n"
    );
}

#[test]
fn config_set_values_and_errors() {
    let server = TestServer::start(&[]);
    let mut a = server.raw();
    assert_eq!(a.cmd(&["CONFIG", "SET", "timeout", "10"]), "+OK\r\n");
    assert_eq!(
        a.cmd(&["CONFIG", "GET", "timeout"]),
        "*2\r\n$7\r\ntimeout\r\n$2\r\n10\r\n"
    );
    assert_eq!(a.cmd(&["CONFIG", "SET", "TIMEOUT", "0"]), "+OK\r\n");
    assert_eq!(a.cmd(&["CONFIG", "SET", "timeout", "abc"]), "-ERR CONFIG SET failed (possibly related to argument 'timeout') - argument couldn't be parsed into an integer\r\n");
    assert_eq!(a.cmd(&["CONFIG", "SET", "timeout", "-1"]), "-ERR CONFIG SET failed (possibly related to argument 'timeout') - argument must be between 0 and 2147483647 inclusive\r\n");
    assert_eq!(a.cmd(&["CONFIG", "SET", "timeout", "1.5"]), "-ERR CONFIG SET failed (possibly related to argument 'timeout') - argument couldn't be parsed into an integer\r\n");
    assert_eq!(
        a.cmd(&["CONFIG", "SET", "nosuch", "1"]),
        "-ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'\r\n"
    );
    assert_eq!(
        a.cmd(&["CONFIG", "SET", "timeout"]),
        "-ERR wrong number of arguments for 'config|set' command\r\n"
    );
    assert_eq!(
        a.cmd(&["CONFIG", "SET", "timeout", "1", "maxclients"]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(
        a.cmd(&["CONFIG", "SET", "timeout", "1", "timeout", "2"]),
        "-ERR CONFIG SET failed (possibly related to argument 'timeout') - duplicate parameter\r\n"
    );
    assert_eq!(
        a.cmd(&["CONFIG", "SET", "timeout", "5", "nosuch", "1"]),
        "-ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'\r\n"
    );
    assert_eq!(
        a.cmd(&["CONFIG", "GET", "timeout"]),
        "*2\r\n$7\r\ntimeout\r\n$1\r\n0\r\n"
    );
    assert_eq!(a.cmd(&["CONFIG", "SET", "maxclients", "0"]), "-ERR CONFIG SET failed (possibly related to argument 'maxclients') - argument must be between 1 and 4294967295 inclusive\r\n");
    assert_eq!(a.cmd(&["CONFIG", "SET", "maxclients", "abc"]), "-ERR CONFIG SET failed (possibly related to argument 'maxclients') - argument couldn't be parsed into an integer\r\n");
    assert_eq!(
        a.cmd(&["CONFIG", "SET", "maxclients", "100", "timeout", "7"]),
        "+OK\r\n"
    );
    assert_eq!(
        sorted_bulks(&a.cmd(&["CONFIG", "GET", "maxclients", "timeout"])),
        ["100", "7", "maxclients", "timeout"] as [&str; 4]
    );
    assert_eq!(a.cmd(&["CONFIG", "SET", "hz", "0"]), "+OK\r\n");
    assert_eq!(
        a.cmd(&["CONFIG", "GET", "hz"]),
        "*2\r\n$2\r\nhz\r\n$1\r\n1\r\n"
    );
    assert_eq!(a.cmd(&["CONFIG", "SET", "hz", "501"]), "+OK\r\n");
    assert_eq!(
        a.cmd(&["CONFIG", "GET", "hz"]),
        "*2\r\n$2\r\nhz\r\n$3\r\n500\r\n"
    );
    assert_eq!(a.cmd(&["CONFIG", "SET", "hz", "abc"]), "-ERR CONFIG SET failed (possibly related to argument 'hz') - argument couldn't be parsed into an integer\r\n");
    assert_eq!(a.cmd(&["CONFIG", "SET", "hz", "10"]), "+OK\r\n");
    assert_eq!(
        a.cmd(&["CONFIG", "SET", "proto-max-bulk-len", "2mb"]),
        "+OK\r\n"
    );
    assert_eq!(
        a.cmd(&["CONFIG", "GET", "proto-max-bulk-len"]),
        "*2\r\n$18\r\nproto-max-bulk-len\r\n$7\r\n2097152\r\n"
    );
    assert_eq!(
        a.cmd(&["CONFIG", "SET", "proto-max-bulk-len", "1gb"]),
        "+OK\r\n"
    );
    assert_eq!(
        a.cmd(&["CONFIG", "GET", "proto-max-bulk-len"]),
        "*2\r\n$18\r\nproto-max-bulk-len\r\n$10\r\n1073741824\r\n"
    );
    assert_eq!(a.cmd(&["CONFIG", "SET", "proto-max-bulk-len", "abc"]), "-ERR CONFIG SET failed (possibly related to argument 'proto-max-bulk-len') - argument must be a memory value\r\n");
    assert_eq!(
        a.cmd(&["CONFIG", "SET", "proto-max-bulk-len", "512mb"]),
        "+OK\r\n"
    );
    assert_eq!(
        a.cmd(&["CONFIG", "SET", "client-query-buffer-limit", "2mb"]),
        "+OK\r\n"
    );
    assert_eq!(
        a.cmd(&["CONFIG", "GET", "client-query-buffer-limit"]),
        "*2\r\n$25\r\nclient-query-buffer-limit\r\n$7\r\n2097152\r\n"
    );
    assert_eq!(
        a.cmd(&["CONFIG", "SET", "client-query-buffer-limit", "1gb"]),
        "+OK\r\n"
    );
    assert_eq!(a.cmd(&["CONFIG", "SET", "client-output-buffer-limit", "pubsub 1 2"]), "-ERR CONFIG SET failed (possibly related to argument 'client-output-buffer-limit') - Wrong number of arguments in buffer limit configuration.\r\n");
    assert_eq!(
        a.cmd(&[
            "CONFIG",
            "SET",
            "client-output-buffer-limit",
            "pubsub 1mb 2mb 3"
        ]),
        "+OK\r\n"
    );
    assert_eq!(a.cmd(&["CONFIG", "GET", "client-output-buffer-limit"]), "*2\r\n$26\r\nclient-output-buffer-limit\r\n$65\r\nnormal 0 0 0 slave 268435456 67108864 60 pubsub 1048576 2097152 3\r\n");
    assert_eq!(
        a.cmd(&[
            "CONFIG",
            "SET",
            "client-output-buffer-limit",
            "pubsub 32mb 8mb 60"
        ]),
        "+OK\r\n"
    );
    assert_eq!(a.cmd(&["CONFIG", "SET", "notify-keyspace-events", "Q"]), "-ERR CONFIG SET failed (possibly related to argument 'notify-keyspace-events') - Invalid event class character. Use 'Ag$lshzxeKEtmdn'.\r\n");
    assert_eq!(
        a.cmd(&["CONFIG", "SET", "notify-keyspace-events", "KEA"]),
        "+OK\r\n"
    );
    assert_eq!(
        a.cmd(&["CONFIG", "GET", "notify-keyspace-events"]),
        "*2\r\n$22\r\nnotify-keyspace-events\r\n$3\r\nAKE\r\n"
    );
    assert_eq!(
        a.cmd(&["CONFIG", "SET", "notify-keyspace-events", "Ex"]),
        "+OK\r\n"
    );
    assert_eq!(
        a.cmd(&["CONFIG", "GET", "notify-keyspace-events"]),
        "*2\r\n$22\r\nnotify-keyspace-events\r\n$2\r\nxE\r\n"
    );
    assert_eq!(
        a.cmd(&["CONFIG", "SET", "notify-keyspace-events", ""]),
        "+OK\r\n"
    );
    assert_eq!(a.cmd(&["CONFIG", "SET", "loglevel", "warning"]), "+OK\r\n");
    assert_eq!(
        a.cmd(&["CONFIG", "GET", "loglevel"]),
        "*2\r\n$8\r\nloglevel\r\n$7\r\nwarning\r\n"
    );
    assert_eq!(a.cmd(&["CONFIG", "SET", "loglevel", "notice"]), "+OK\r\n");
    assert_eq!(a.cmd(&["CONFIG", "SET", "requirepass", ""]), "+OK\r\n");
    assert_eq!(
        a.cmd(&["CONFIG", "FOO"]),
        "-ERR unknown subcommand 'FOO'. Try CONFIG HELP.\r\n"
    );
    assert_eq!(
        a.cmd(&["CONFIG"]),
        "-ERR wrong number of arguments for 'config' command\r\n"
    );
    assert_eq!(
        a.cmd(&["CONFIG", "RESETSTAT", "x"]),
        "-ERR wrong number of arguments for 'config|resetstat' command\r\n"
    );
    // put back what this test changed
    assert_eq!(
        a.cmd(&[
            "CONFIG",
            "SET",
            "maxclients",
            "10000",
            "timeout",
            "0",
            "client-query-buffer-limit",
            "1gb"
        ]),
        "+OK\r\n"
    );
}

#[test]
fn config_set_requirepass_takes_effect() {
    let server = TestServer::start(&[]);
    let mut a = server.raw();
    assert_eq!(
        a.cmd(&["CONFIG", "SET", "requirepass", "secret"]),
        "+OK\r\n"
    );
    let mut b = server.raw();
    assert_eq!(b.cmd(&["PING"]), "-NOAUTH Authentication required.\r\n");
    assert_eq!(b.cmd(&["AUTH", "secret"]), "+OK\r\n");
    assert_eq!(b.cmd(&["PING"]), "+PONG\r\n");
    assert_eq!(a.cmd(&["CONFIG", "SET", "requirepass", ""]), "+OK\r\n");
    let mut c = server.raw();
    assert_eq!(c.cmd(&["PING"]), "+PONG\r\n");
}

#[test]
fn dbsize_flushdb_flushall() {
    let server = TestServer::start(&[]);
    let mut a = server.raw();
    assert_eq!(a.cmd(&["MSET", "a", "1", "b", "2", "c", "3"]), "+OK\r\n");
    assert_eq!(a.cmd(&["SELECT", "1"]), "+OK\r\n");
    assert_eq!(a.cmd(&["SET", "d", "4"]), "+OK\r\n");
    assert_eq!(a.cmd(&["DBSIZE"]), ":1\r\n");
    assert_eq!(a.cmd(&["SELECT", "0"]), "+OK\r\n");
    assert_eq!(a.cmd(&["DBSIZE"]), ":3\r\n");
    assert_eq!(
        a.cmd(&["DBSIZE", "x"]),
        "-ERR wrong number of arguments for 'dbsize' command\r\n"
    );
    assert_eq!(a.cmd(&["FLUSHDB", "FOO"]), "-ERR syntax error\r\n");
    assert_eq!(a.cmd(&["FLUSHDB", "a", "b"]), "-ERR syntax error\r\n");
    assert_eq!(
        a.cmd(&["FLUSHALL", "SYNC", "ASYNC"]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(a.cmd(&["FLUSHDB"]), "+OK\r\n");
    assert_eq!(a.cmd(&["DBSIZE"]), ":0\r\n");
    assert_eq!(a.cmd(&["SELECT", "1"]), "+OK\r\n");
    assert_eq!(a.cmd(&["DBSIZE"]), ":1\r\n");
    assert_eq!(a.cmd(&["SET", "e", "5"]), "+OK\r\n");
    assert_eq!(a.cmd(&["FLUSHDB", "async"]), "+OK\r\n");
    assert_eq!(a.cmd(&["DBSIZE"]), ":0\r\n");
    assert_eq!(a.cmd(&["SET", "e", "5"]), "+OK\r\n");
    assert_eq!(a.cmd(&["FLUSHDB", "SYNC"]), "+OK\r\n");
    assert_eq!(a.cmd(&["SET", "e", "5"]), "+OK\r\n");
    assert_eq!(a.cmd(&["SELECT", "0"]), "+OK\r\n");
    assert_eq!(a.cmd(&["SET", "f", "6"]), "+OK\r\n");
    assert_eq!(a.cmd(&["FLUSHALL", "ASYNC"]), "+OK\r\n");
    assert_eq!(a.cmd(&["DBSIZE"]), ":0\r\n");
    assert_eq!(a.cmd(&["SELECT", "1"]), "+OK\r\n");
    assert_eq!(a.cmd(&["DBSIZE"]), ":0\r\n");
    assert_eq!(a.cmd(&["SET", "g", "7"]), "+OK\r\n");
    assert_eq!(a.cmd(&["FLUSHALL", "sync"]), "+OK\r\n");
    assert_eq!(a.cmd(&["DBSIZE"]), ":0\r\n");
    assert_eq!(a.cmd(&["FLUSHALL"]), "+OK\r\n");
}

#[test]
fn time_and_shutdown_errors() {
    let server = TestServer::start(&[]);
    let mut a = server.raw();
    assert_eq!(
        a.cmd(&["TIME", "x"]),
        "-ERR wrong number of arguments for 'time' command\r\n"
    );
    assert_eq!(a.cmd(&["SHUTDOWN", "FOO"]), "-ERR syntax error\r\n");
    assert_eq!(
        a.cmd(&["SHUTDOWN", "NOSAVE", "FOO"]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(
        a.cmd(&["SHUTDOWN", "ABORT", "NOW"]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(
        a.cmd(&["SHUTDOWN", "NOSAVE", "SAVE", "FOO"]),
        "-ERR syntax error\r\n"
    );
}

/// LASTSAVE is the start-up time (Herald never saves an RDB; Redis counts its start as a save),
/// the same instant INFO persistence reports; ROLE is a master without replicas in either
/// protocol.
#[test]
fn lastsave_and_role() {
    let server = TestServer::start(&[]);
    let mut a = server.raw();
    let info = a.cmd(&["INFO", "persistence"]);
    let saved = info
        .lines()
        .find_map(|l| l.strip_prefix("rdb_last_save_time:"))
        .expect("rdb_last_save_time");
    assert_eq!(a.cmd(&["LASTSAVE"]), format!(":{saved}\r\n"));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(
        now.abs_diff(saved.parse().unwrap()) < 60,
        "{saved} against {now}"
    );
    let role = "*3\r\n$6\r\nmaster\r\n:0\r\n*0\r\n";
    assert_eq!(a.cmd(&["ROLE"]), role);
    a.cmd(&["HELLO", "3"]);
    assert_eq!(a.cmd(&["ROLE"]), role);
    assert_eq!(
        a.cmd(&["ROLE", "x"]),
        "-ERR wrong number of arguments for 'role' command\r\n"
    );
}

#[test]
fn info_sections_and_unknown_names() {
    let server = TestServer::start(&[]);
    let mut a = server.raw();
    assert_eq!(a.cmd(&["INFO", "foo"]), "$0\r\n\r\n");
    assert_eq!(a.cmd(&["INFO", "keyspace"]), "$12\r\n# Keyspace\r\n\r\n");
    assert_eq!(a.cmd(&["SET", "a", "1"]), "+OK\r\n");
    assert_eq!(a.cmd(&["SELECT", "3"]), "+OK\r\n");
    assert_eq!(a.cmd(&["SET", "b", "1"]), "+OK\r\n");
    assert_eq!(a.cmd(&["SET", "c", "1"]), "+OK\r\n");
    assert_eq!(a.cmd(&["INFO", "keyspace"]), "$76\r\n# Keyspace\r\ndb0:keys=1,expires=0,avg_ttl=0\r\ndb3:keys=2,expires=0,avg_ttl=0\r\n\r\n");
    assert_eq!(a.cmd(&["INFO", "KEYSPACE"]), "$76\r\n# Keyspace\r\ndb0:keys=1,expires=0,avg_ttl=0\r\ndb3:keys=2,expires=0,avg_ttl=0\r\n\r\n");
    assert_eq!(
        a.cmd(&["INFO", "cluster"]),
        "$30\r\n# Cluster\r\ncluster_enabled:0\r\n\r\n"
    );
    assert_eq!(a.cmd(&["INFO", "foo", "keyspace"]), "$76\r\n# Keyspace\r\ndb0:keys=1,expires=0,avg_ttl=0\r\ndb3:keys=2,expires=0,avg_ttl=0\r\n\r\n");
    assert_eq!(a.cmd(&["INFO", "x", "y"]), "$0\r\n\r\n");
}

#[test]
fn errorstats_count_by_prefix() {
    let server = TestServer::start(&[]);
    let mut a = server.raw();
    assert_eq!(a.cmd(&["CONFIG", "RESETSTAT"]), "+OK\r\n");
    assert_eq!(
        a.cmd(&["INFO", "errorstats"]),
        "$14\r\n# Errorstats\r\n\r\n"
    );
    assert_eq!(
        a.cmd(&["GET"]),
        "-ERR wrong number of arguments for 'get' command\r\n"
    );
    assert_eq!(
        a.cmd(&["NOSUCH"]),
        "-ERR unknown command 'NOSUCH', with args beginning with: \r\n"
    );
    assert_eq!(a.cmd(&["XADD", "s", "1-1", "f", "v"]), "$3\r\n1-1\r\n");
    assert_eq!(
        a.cmd(&["GET", "s"]),
        "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
    );
    assert_eq!(
        a.cmd(&["INCR", "s"]),
        "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
    );
    assert_eq!(
        a.cmd(&["INFO", "errorstats"]),
        "$66\r\n# Errorstats\r\nerrorstat_ERR:count=2\r\nerrorstat_WRONGTYPE:count=2\r\n\r\n"
    );
    assert_eq!(a.cmd(&["CONFIG", "RESETSTAT"]), "+OK\r\n");
    assert_eq!(
        a.cmd(&["INFO", "errorstats"]),
        "$14\r\n# Errorstats\r\n\r\n"
    );
}

/// The `field:value` lines of an INFO reply.
fn info_fields(reply: &str) -> std::collections::HashMap<String, String> {
    reply
        .split("\r\n")
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The section headers of an INFO reply, in order.
fn sections(reply: &str) -> Vec<String> {
    reply
        .split("\r\n")
        .filter_map(|l| l.strip_prefix("# "))
        .map(str::to_string)
        .collect()
}

#[test]
fn info_has_the_sections_and_fields_frameworks_read() {
    let server = TestServer::start(&[]);
    let mut a = server.raw();
    a.cmd(&["SET", "k", "v"]);
    a.cmd(&["GET"]);
    let all = a.cmd(&["INFO"]);
    assert!(all.starts_with('$'), "a bulk string in RESP2");
    // Default sections in Redis's order (Herald has no Modules to list).
    let names = sections(&all);
    for pair in [
        ("Server", "Clients"),
        ("Clients", "Memory"),
        ("Memory", "Persistence"),
        ("Persistence", "Stats"),
        ("Stats", "Replication"),
        ("Replication", "CPU"),
        ("Errorstats", "Cluster"),
        ("Cluster", "Keyspace"),
    ] {
        let at = |n: &str| {
            names
                .iter()
                .position(|s| s == n)
                .unwrap_or_else(|| panic!("no # {n} in {names:?}"))
        };
        assert!(at(pair.0) < at(pair.1), "{names:?}");
    }
    // INFO without arguments leaves out commandstats, as Redis does.
    assert!(!names.iter().any(|s| s == "Commandstats"), "{names:?}");
    let f = info_fields(&all);
    for (field, value) in [
        ("redis_version", "7.4.0"),
        ("redis_mode", "standalone"),
        ("loading", "0"),
        ("role", "master"),
        ("connected_slaves", "0"),
        ("blocked_clients", "0"),
        ("pubsub_clients", "0"),
        ("cluster_enabled", "0"),
        ("db0", "keys=1,expires=0,avg_ttl=0"),
        ("errorstat_ERR", "count=1"),
        ("total_error_replies", "1"),
        ("tcp_port", &server.addr.port().to_string()),
        ("process_id", &std::process::id().to_string()),
    ] {
        assert_eq!(f.get(field).map(String::as_str), Some(value), "{field}");
    }
    assert_eq!(
        f.get("herald_version").map(String::as_str),
        Some(env!("CARGO_PKG_VERSION"))
    );
    for numeric in [
        "total_commands_processed",
        "instantaneous_ops_per_sec",
        "connected_clients",
        "used_memory",
        "uptime_in_seconds",
        "total_connections_received",
        "expired_keys",
        "keyspace_hits",
        "keyspace_misses",
    ] {
        let v = f.get(numeric).unwrap_or_else(|| panic!("no {numeric}"));
        assert!(v.parse::<u64>().is_ok(), "{numeric}:{v}");
    }
    // SET ran; the wrong-arity GET was rejected before running; INFO counts after it runs.
    assert_eq!(f["total_commands_processed"], "1");
    // Sections by name, case-insensitive, several at once; RESP3 sends a verbatim string.
    let two = a.cmd(&["INFO", "CLIENTS", "replication"]);
    assert_eq!(sections(&two), ["Clients", "Replication"]);
    assert!(a
        .cmd(&["INFO", "everything"])
        .contains("\r\n# Commandstats\r\n"));
    assert!(a.cmd(&["INFO", "all"]).contains("\r\n# Commandstats\r\n"));
    let _ = a.cmd(&["HELLO", "3"]);
    assert!(a.cmd(&["INFO", "server"]).starts_with('='));
}

#[test]
fn info_counts_clients_by_kind() {
    let server = TestServer::start(&[]);
    let mut a = server.raw();
    let mut sub = server.raw();
    sub.cmd(&["SUBSCRIBE", "ch"]);
    let mut psub = server.raw();
    psub.cmd(&["PSUBSCRIBE", "p*"]);
    let mut blocked = server.raw();
    blocked.send(&encode(&[b"XREAD", b"BLOCK", b"0", b"STREAMS", b"s", b"$"]));
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let f = info_fields(&a.cmd(&["INFO", "clients"]));
        if f["blocked_clients"] == "1" {
            assert_eq!(f["connected_clients"], "4");
            assert_eq!(f["pubsub_clients"], "2");
            break;
        }
        assert!(Instant::now() < deadline, "{f:?}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn commandstats_and_errorstats_lines_have_redis_format() {
    let server = TestServer::start(&[]);
    let mut a = server.raw();
    a.cmd(&["SET", "k", "v"]);
    a.cmd(&["SET", "k", "v", "BAD"]);
    a.cmd(&["GET"]);
    a.cmd(&["XADD", "s", "1-1", "f", "v"]);
    a.cmd(&["GET", "s"]);
    a.cmd(&["CONFIG", "GET", "hz"]);
    let stats = a.cmd(&["INFO", "commandstats"]);
    let set = stats
        .split("\r\n")
        .find(|l| l.starts_with("cmdstat_set:"))
        .unwrap_or_else(|| panic!("{stats}"));
    // cmdstat_set:calls=2,usec=N,usec_per_call=N.NN,rejected_calls=0,failed_calls=1
    let parts: Vec<&str> = set["cmdstat_set:".len()..].split(',').collect();
    assert_eq!(parts.len(), 5, "{set}");
    assert_eq!(parts[0], "calls=2");
    assert!(parts[1]
        .strip_prefix("usec=")
        .unwrap()
        .parse::<u64>()
        .is_ok());
    let per = parts[2].strip_prefix("usec_per_call=").unwrap();
    assert_eq!(per.split('.').nth(1).map(str::len), Some(2), "{set}");
    assert_eq!(&parts[3..], ["rejected_calls=0", "failed_calls=1"]);
    // As redis-server 7.0.15 counted the same requests. A wrong-arity GET is rejected before it runs; subcommands are listed as `config|get`.
    assert!(stats.contains("\r\ncmdstat_get:calls=1,"), "{stats}");
    assert!(
        stats.contains(",rejected_calls=1,failed_calls=1\r\n"),
        "{stats}"
    );
    assert!(stats.contains("\r\ncmdstat_config|get:calls=1,"), "{stats}");
    assert_eq!(
        a.cmd(&["INFO", "errorstats"]),
        "$66\r\n# Errorstats\r\nerrorstat_ERR:count=2\r\nerrorstat_WRONGTYPE:count=1\r\n\r\n"
    );
    assert_eq!(a.cmd(&["CONFIG", "RESETSTAT"]), "+OK\r\n");
    assert_eq!(
        a.cmd(&["INFO", "errorstats"]),
        "$14\r\n# Errorstats\r\n\r\n"
    );
    let after = info_fields(&a.cmd(&["INFO", "stats"]));
    assert_eq!(after["total_error_replies"], "0");
    // As redis-server: CONFIG RESETSTAT counts itself once it has run, then INFO errorstats.
    assert_eq!(after["total_commands_processed"], "2");
}

/// Runs of a fast command are charged to commandstats once per run (`command::timing`): the
/// counts must still be exact, seen by the same pipeline's INFO and by another connection as
/// soon as the replies have arrived.
#[test]
fn commandstats_count_every_call_of_a_pipelined_run() {
    let server = TestServer::start(&[]);
    let mut a = server.raw();
    let mut pipeline = Vec::new();
    for _ in 0..100 {
        pipeline.extend(encode(&[b"PING"]));
    }
    for _ in 0..40 {
        pipeline.extend(encode(&[b"PUBLISH", b"ch", b"m"]));
    }
    for _ in 0..3 {
        pipeline.extend(encode(&[b"XADD", b"s", b"*", b"f", b"v"]));
    }
    pipeline.extend(encode(&[b"INFO", b"commandstats"]));
    for _ in 0..70 {
        pipeline.extend(encode(&[b"PING"]));
    }
    a.send(&pipeline);
    let mut replies = Vec::new();
    for _ in 0..214 {
        replies.push(a.reply());
    }
    let calls = |stats: &str, command: &str| common::cmdstat(stats, command, "calls");
    let seen = &replies[143];
    assert_eq!(calls(seen, "ping"), 100, "{seen}");
    assert_eq!(calls(seen, "publish"), 40, "{seen}");
    assert_eq!(calls(seen, "xadd"), 3, "{seen}");
    assert!(replies[144..].iter().all(|r| r == "+PONG\r\n"));
    let mut b = server.raw();
    let stats = b.cmd(&["INFO", "commandstats"]);
    assert_eq!(calls(&stats, "ping"), 170, "{stats}");
    assert_eq!(calls(&stats, "info"), 1, "{stats}");
    let processed = info_fields(&b.cmd(&["INFO", "stats"]))["total_commands_processed"].clone();
    assert_eq!(processed, "215");
}

/// `timeout`: a client idle that long is closed, counting from its last request; one that keeps
/// sending is not, nor a subscriber (Redis exempts pub/sub clients).
#[test]
fn idle_clients_are_closed_after_the_timeout() {
    // Margins of a second or more either way, so that a slow machine cannot flip the answer.
    let server = TestServer::start(&["--timeout", "3"]);
    let mut idle = server.raw();
    let mut sub = server.raw();
    sub.cmd(&["SUBSCRIBE", "ch"]);
    std::thread::sleep(Duration::from_secs(2));
    // Not yet idle for the timeout: it is served, and its idle time starts again (4 s after
    // it connected, 2 s after its last request).
    assert_eq!(idle.cmd(&["PING"]), "+PONG\r\n");
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(idle.cmd(&["PING"]), "+PONG\r\n");
    let mut busy = server.raw();
    let started = Instant::now();
    while started.elapsed() < Duration::from_millis(4500) {
        assert_eq!(busy.cmd(&["PING"]), "+PONG\r\n");
        std::thread::sleep(Duration::from_millis(500));
    }
    // Closed: the read ends (it would fail on its 5 s read timeout otherwise).
    assert_eq!(idle.read_to_close(), "");
    assert_eq!(busy.cmd(&["PUBLISH", "ch", "m"]), ":1\r\n");
}

#[test]
fn instantaneous_ops_per_sec_follows_the_load() {
    let server = TestServer::start(&[]);
    let mut a = server.raw();
    let mut load = server.raw();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        for _ in 0..200 {
            load.cmd(&["PING"]);
        }
        let f = info_fields(&a.cmd(&["INFO", "stats"]));
        if f["instantaneous_ops_per_sec"].parse::<u64>().unwrap() > 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "instantaneous_ops_per_sec stayed 0"
        );
    }
}

#[test]
fn time_is_now_in_seconds_and_microseconds() {
    let server = TestServer::start(&[]);
    let reply = server.raw().cmd(&["TIME"]);
    let parts: Vec<&str> = reply.split("\r\n").collect();
    assert_eq!(parts[0], "*2");
    let secs: u64 = parts[2].parse().unwrap();
    let micros: u64 = parts[4].parse().unwrap();
    assert!(micros < 1_000_000);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(secs.abs_diff(now) <= 2, "{secs} vs {now}");
}

#[test]
fn debug_answers_with_an_error_never_silence() {
    // Redis 7.0.15 refuses DEBUG unless enable-debug-command is set; Herald names what it does
    // not support (compat/KNOWN_DIFFERENCES.md `debug`). Either way, an error reply.
    let server = TestServer::start(&[]);
    let mut a = server.raw();
    for args in [
        &["DEBUG", "SLEEP", "0"][..],
        &["DEBUG", "object", "k"],
        &["DEBUG", "x"],
    ] {
        assert!(a.cmd(args).starts_with("-ERR "), "{args:?}");
    }
    assert_eq!(
        a.cmd(&["DEBUG"]),
        "-ERR wrong number of arguments for 'debug' command\r\n"
    );
    assert_eq!(a.cmd(&["PING"]), "+PONG\r\n");
}

/// One MONITOR line with its timestamp and address normalised: `+TS [db ADDR] "cmd" ...`.
fn monitor_line(m: &mut common::Raw, addr: &str) -> String {
    let line = m.reply();
    let (ts, rest) = line[1..].split_once(' ').expect("timestamp");
    let (secs, micros) = ts.split_once('.').expect("seconds.micros");
    assert!(secs.parse::<u64>().is_ok() && micros.len() == 6, "{line:?}");
    format!("+TS {}", rest.replace(addr, "ADDR"))
}

#[test]
fn monitor_prints_what_redis_cli_monitor_shows() {
    // Expected lines as redis-server 7.0.15 fed them to a monitor for the same requests.
    let server = TestServer::start(&[]);
    let mut m = server.raw();
    assert_eq!(m.cmd(&["MONITOR"]), "+OK\r\n");
    let mut c = server.raw();
    let info = c.cmd(&["CLIENT", "INFO"]);
    let addr = info
        .split(' ')
        .find_map(|f| f.strip_prefix("addr="))
        .unwrap()
        .to_string();
    assert_eq!(
        monitor_line(&mut m, &addr),
        "+TS [0 ADDR] \"CLIENT\" \"INFO\"\r\n"
    );
    c.send_cmd(&[b"ECHO", b"a\"b\\c\n\r\t\x07\x08\x01\xff\xc3\xa9 "]);
    let _ = c.reply();
    assert_eq!(
        monitor_line(&mut m, &addr),
        "+TS [0 ADDR] \"ECHO\" \"a\\\"b\\\\c\\n\\r\\t\\a\\b\\x01\\xff\\xc3\\xa9 \"\r\n"
    );
    c.cmd(&["AUTH", "u", "p"]);
    assert_eq!(
        monitor_line(&mut m, &addr),
        "+TS [0 ADDR] \"AUTH\" \"(redacted)\" \"(redacted)\"\r\n"
    );
    c.cmd(&["HELLO", "2", "auth", "u", "p", "SETNAME", "n"]);
    assert_eq!(
        monitor_line(&mut m, &addr),
        "+TS [0 ADDR] \"HELLO\" \"2\" \"auth\" \"(redacted)\" \"(redacted)\" \"SETNAME\" \"n\"\r\n"
    );
    c.send(b"PING\r\n");
    let _ = c.reply();
    assert_eq!(monitor_line(&mut m, &addr), "+TS [0 ADDR] \"PING\"\r\n");
    // Admin commands are not shown; queued commands show when EXEC runs them.
    c.cmd(&["CONFIG", "RESETSTAT"]);
    c.cmd(&["MULTI"]);
    c.cmd(&["GET", "k"]);
    c.cmd(&["EXEC"]);
    c.cmd(&["SELECT", "5"]);
    c.cmd(&["SET", "x", "1"]);
    for expected in [
        "+TS [0 ADDR] \"MULTI\"\r\n",
        "+TS [0 ADDR] \"GET\" \"k\"\r\n",
        "+TS [0 ADDR] \"EXEC\"\r\n",
        "+TS [5 ADDR] \"SELECT\" \"5\"\r\n",
        "+TS [5 ADDR] \"SET\" \"x\" \"1\"\r\n",
    ] {
        assert_eq!(monitor_line(&mut m, &addr), expected);
    }
    assert!(m.is_silent(Duration::from_millis(100)));
}

#[test]
fn a_monitor_connection_may_not_touch_the_keyspace() {
    // redis-server 7.0.15 treats a monitor as a replica: these answer
    // "-ERR Replica can't interact with the keyspace" and are not fed to monitors.
    let server = TestServer::start(&[]);
    let mut m = server.raw();
    assert_eq!(m.cmd(&["MONITOR"]), "+OK\r\n");
    for args in [
        &["GET", "k"][..],
        &["SET", "k", "v"],
        &["PUBLISH", "ch", "x"],
        &["XADD", "s", "1-1", "f", "v"],
        &["DBSIZE"],
        &["KEYS", "*"],
        &["SCAN", "0"],
        &["FLUSHALL"],
    ] {
        assert_eq!(
            m.cmd(args),
            "-ERR Replica can't interact with the keyspace\r\n",
            "{args:?}"
        );
    }
    // Other commands still run, and show in the monitor's own feed.
    assert_eq!(m.cmd(&["ECHO", "x"]), "$1\r\nx\r\n");
    let line = m.reply();
    assert!(line.ends_with("\"ECHO\" \"x\"\r\n"), "{line:?}");
    assert_eq!(server.raw().cmd(&["DBSIZE"]), ":0\r\n");
}

#[test]
fn flushall_async_empties_every_database_at_once() {
    let server = TestServer::start(&[]);
    let mut a = server.raw();
    for db in 0..16 {
        a.cmd(&["SELECT", &db.to_string()]);
        for i in 0..100 {
            a.cmd(&["SET", &format!("k{i}"), "v", "EX", "100"]);
        }
    }
    assert_eq!(a.cmd(&["FLUSHALL", "ASYNC"]), "+OK\r\n");
    for db in 0..16 {
        a.cmd(&["SELECT", &db.to_string()]);
        assert_eq!(a.cmd(&["DBSIZE"]), ":0\r\n");
    }
    assert_eq!(a.cmd(&["INFO", "keyspace"]), "$12\r\n# Keyspace\r\n\r\n");
}

#[test]
fn shutdown_stops_the_server_and_the_harness_still_drops_cleanly() {
    let server = TestServer::start(&[]);
    let mut a = server.raw();
    let mut other = server.raw();
    assert_eq!(other.cmd(&["PING"]), "+PONG\r\n");
    assert_eq!(
        a.cmd(&["SHUTDOWN", "ABORT"]),
        "-ERR No shutdown in progress.\r\n"
    );
    a.send(&encode(&[b"SHUTDOWN", b"NOSAVE"]));
    // Redis closes the connection without a reply when it shuts down.
    assert_eq!(a.read_to_close(), "");
    assert_eq!(other.read_to_close(), "");
    let deadline = Instant::now() + Duration::from_secs(5);
    while std::net::TcpStream::connect(server.addr).is_ok() {
        assert!(Instant::now() < deadline, "still accepting after SHUTDOWN");
        std::thread::sleep(Duration::from_millis(20));
    }
    drop(server);
}
