//! The migration path: a Herald AOF fed to a real `redis-server` gives Redis the same state:
//! strings with their deadlines, streams with their entries, counters, groups and pending
//! entries — with `redis-cli --pipe` from a copy taken while Herald runs (the space it writes
//! ahead is still there), and with Redis's own loader from the file a graceful stop leaves.
//! And while a file loads, a client sees from Herald what Redis shows it: `-LOADING`, the
//! commands allowed meanwhile, INFO's loading fields.
//! Skipped (with a note) where redis-server is not installed.
//! The redis-server is our own child on a free loopback port, stopped by its PID.

mod aof_support;
mod common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use aof_support::{start, Scratch};
use common::{free_port, start_redis_server, Raw, RedisServer};

const REDIS_SERVER: &str = "/usr/bin/redis-server";
const REDIS_CLI: &str = "/usr/bin/redis-cli";

/// True (with a note) where redis-server is not installed: the test is skipped.
fn redis_missing() -> bool {
    let missing = !Path::new(REDIS_SERVER).exists();
    if missing {
        eprintln!("skipped: {REDIS_SERVER} is not installed");
    }
    missing
}

/// A redis-server on `dir`; with `appendonly`, it loads `dir/appendonly.aof` with its own loader.
fn start_redis(dir: &Path, port: u16, appendonly: bool) -> RedisServer {
    start_redis_with(dir, port, appendonly, &[])
}

fn start_redis_with(dir: &Path, port: u16, appendonly: bool, extra: &[&str]) -> RedisServer {
    let appendonly = if appendonly { "yes" } else { "no" };
    let mut args = vec!["--save", "", "--appendonly", appendonly];
    args.extend(extra);
    start_redis_server(&args, port, dir)
}

/// The queries compared, minus what moves with the clock (idle times).
fn state(raw: &mut Raw) -> Vec<String> {
    let mut out = Vec::new();
    for q in [
        &[
            "MGET", "plain", "counter", "appended", "renamed", "expiring",
        ][..],
        &["PEXPIRETIME", "expiring"],
        &["EXISTS", "deleted", "old"],
        &["XRANGE", "s", "-", "+"],
        &["XLEN", "trimmed"],
        &["XPENDING", "s", "g"],
        &["XRANGE", "trimmed", "-", "+"],
    ] {
        out.push(raw.cmd(q));
    }
    // XINFO STREAM / GROUPS in Redis's field order, which Herald follows.
    for key in ["s", "trimmed"] {
        out.push(raw.cmd(&["XINFO", "STREAM", key]));
    }
    out.push(raw.cmd(&["XINFO", "GROUPS", "s"]));
    raw.cmd(&["SELECT", "1"]);
    out.push(raw.cmd(&["GET", "in1"]));
    raw.cmd(&["SELECT", "0"]);
    out
}

#[test]
fn a_herald_aof_loads_into_redis_server_with_the_same_state() {
    if !Path::new(REDIS_SERVER).exists() || !Path::new(REDIS_CLI).exists() {
        eprintln!("skipped: {REDIS_SERVER} or {REDIS_CLI} is not installed");
        return;
    }
    let dir = Scratch::new("redis-compat");
    let live = dir.0.join("live.aof");
    let herald_state = {
        // Under `always`, where Herald writes space ahead of the file's end.
        let server = start(&dir, &["--appendfsync", "always"]);
        let mut raw = server.raw();
        for c in [
            &["SET", "plain", "v"][..],
            &["INCR", "counter"],
            &["INCRBY", "counter", "41"],
            &["APPEND", "appended", "ab"],
            &["APPEND", "appended", "cd"],
            &["SET", "old", "x"],
            &["RENAME", "old", "renamed"],
            &["SET", "expiring", "e", "EX", "1000"],
            &["SET", "deleted", "d"],
            &["DEL", "deleted"],
            &["SELECT", "1"],
            &["SET", "in1", "one"],
            &["SELECT", "0"],
            &["XADD", "s", "*", "a", "1"],
            &["XADD", "s", "*", "b", "2"],
            &["XADD", "s", "*", "c", "3"],
            &["XGROUP", "CREATE", "s", "g", "0"],
            &[
                "XREADGROUP",
                "GROUP",
                "g",
                "alice",
                "COUNT",
                "2",
                "STREAMS",
                "s",
                ">",
            ],
            &["XREADGROUP", "GROUP", "g", "bob", "STREAMS", "s", ">"],
            &["XCLAIM", "s", "g", "carol", "0", "0-1"],
            &["XADD", "trimmed", "1-1", "x", "1"],
            &["XADD", "trimmed", "2-1", "x", "2"],
            &["XADD", "trimmed", "MAXLEN", "1", "3-1", "x", "3"],
        ] {
            raw.cmd(c);
        }
        let first = raw.cmd(&["XRANGE", "s", "-", "+", "COUNT", "1"]);
        let first_id = first.split("\r\n").nth(3).unwrap().to_owned();
        raw.cmd(&["XACK", "s", "g", &first_id]);
        // The file as a running (or killed) Herald leaves it: the space written ahead of its
        // end is still there.
        std::fs::copy(dir.aof(), &live).expect("copy the live aof");
        state(&mut raw)
    };
    let live = std::fs::read(&live).expect("live copy");
    let stopped = std::fs::read(dir.aof()).expect("aof");
    assert!(
        live.len() > stopped.len() && live.ends_with(b"\n\n"),
        "no space written ahead"
    );
    assert!(stopped.ends_with(b"\r\n") && !stopped.ends_with(b"\n\n"));
    assert_eq!(
        live[..stopped.len()],
        stopped[..],
        "a graceful stop trims, nothing else"
    );

    // `redis-cli --pipe` of the live copy: the filler passes as empty inline commands.
    let port = free_port();
    let _redis = start_redis(&dir.0, port, false);
    let piped = Command::new(REDIS_CLI)
        .args(["-p", &port.to_string(), "--pipe"])
        .stdin(std::fs::File::open(dir.0.join("live.aof")).expect("live copy"))
        .output()
        .expect("redis-cli --pipe");
    let report = String::from_utf8_lossy(&piped.stdout);
    assert!(piped.status.success(), "{report}");
    assert!(report.contains("errors: 0"), "{report}");
    let mut raw = Raw::connect(([127, 0, 0, 1], port).into());
    let piped_state = state(&mut raw);
    for (i, (h, r)) in herald_state.iter().zip(&piped_state).enumerate() {
        assert_eq!(h, r, "query {i} after redis-cli --pipe");
    }

    // Redis's own loader, on the file a graceful stop left.
    let own = Scratch::new("redis-own-loader");
    std::fs::write(own.aof(), &stopped).expect("copy for redis");
    let port = free_port();
    let _redis = start_redis(&own.0, port, true);
    let mut raw = Raw::connect(([127, 0, 0, 1], port).into());
    // Redis accepts clients while it loads and answers them -LOADING until it is done.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !raw.cmd(&["INFO", "persistence"]).contains("loading:0") {
        assert!(
            Instant::now() < deadline,
            "redis-server did not finish loading"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let loaded_state = state(&mut raw);
    for (i, (h, r)) in herald_state.iter().zip(&loaded_state).enumerate() {
        assert_eq!(h, r, "query {i} after Redis loaded the file itself");
    }
}

/// What a client sees while a file of `entries` XADDs loads: the replies to commands Redis
/// refuses and accepts then, and INFO's loading fields (their names in order; the values that
/// do not move with time). Read at once after connecting, so both servers are mid-replay.
fn seen_while_loading(raw: &mut Raw) -> Vec<String> {
    let mut out = Vec::new();
    for q in [
        &["PING"][..],
        &["GET", "done"],
        &["MULTI"],
        &["XLEN", "s"],
        &["EXEC"],
        &["CLIENT", "SETNAME", "loader-watch"],
        &["CLIENT", "GETNAME"],
    ] {
        out.push(raw.cmd(q));
    }
    let info = raw.cmd(&["INFO", "persistence"]);
    let fields: Vec<&str> = info.split("\r\n").collect();
    for name in [
        "loading",
        "aof_enabled",
        "loading_total_bytes",
        "loading_rdb_used_mem",
    ] {
        let line = fields.iter().find(|l| l.starts_with(&format!("{name}:")));
        out.push(line.map_or(format!("no {name}"), |l| l.to_string()));
    }
    let progress: Vec<&str> = fields
        .iter()
        .filter(|l| l.starts_with("loading_"))
        .map(|l| l.split(':').next().unwrap_or_default())
        .collect();
    out.push(progress.join(","));
    out.push(persistence_fields(raw).join(","));
    out
}

#[test]
fn clients_see_what_redis_shows_them_while_an_aof_loads() {
    if redis_missing() {
        return;
    }
    // A second of replay for redis-server, several for a debug build of Herald.
    let file = aof_support::xadd_file(500_000);
    let for_redis = Scratch::new("redis-loading");
    std::fs::write(for_redis.aof(), &file).expect("file for redis");
    let for_herald = Scratch::new("herald-loading");
    std::fs::write(for_herald.aof(), &file).expect("file for herald");

    let port = free_port();
    let _redis = start_redis(&for_redis.0, port, true);
    let mut raw = Raw::connect(([127, 0, 0, 1], port).into());
    let redis_seen = seen_while_loading(&mut raw);
    let herald =
        common::TestServer::start_loading(&["--appendonly", "yes", "--dir", for_herald.path()]);
    let herald_seen = seen_while_loading(&mut herald.raw());
    assert_eq!(
        redis_seen[7], "loading:1",
        "redis-server finished before the client looked: {redis_seen:?}"
    );
    assert_eq!(herald_seen.len(), redis_seen.len());
    for (i, (h, r)) in herald_seen.iter().zip(&redis_seen).enumerate() {
        assert_eq!(h, r, "reply {i} while loading");
    }
}

/// What a RESP3 subscriber connected while a file loads receives: the confirmations, INFO's
/// `loading` line, then every keyspace event of the replay up to the last command's
/// (`set finished`), read for at most a minute.
fn events_while_loading(raw: &mut Raw) -> Vec<String> {
    raw.cmd(&["HELLO", "3"]);
    raw.send_cmd(&[b"SUBSCRIBE", b"__keyevent@0__:del", b"__keyevent@0__:set"]);
    let mut out = vec![raw.reply(), raw.reply()];
    let info = raw.cmd(&["INFO", "persistence"]);
    let loading = info.split("\r\n").find(|l| l.starts_with("loading:"));
    out.push(loading.unwrap_or("no loading field").to_string());
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if raw.is_silent(Duration::from_millis(200)) {
            continue;
        }
        let event = raw.reply();
        let last = event.contains("__keyevent@0__:set") && event.contains("finished");
        out.push(event);
        if last {
            break;
        }
    }
    out
}

#[test]
fn keyspace_events_of_the_replay_reach_subscribers_as_in_redis() {
    if redis_missing() {
        return;
    }
    // The stream's XADDs, then the events subscribed to: Redis's loader runs each command's
    // own code, notifications included.
    let mut file = aof_support::xadd_file(500_000);
    for args in [
        &[&b"SET"[..], b"gone", b"1"][..],
        &[b"DEL", b"gone", b"s"],
        &[b"SET", b"finished", b"1"],
    ] {
        file.extend(common::encode(args));
    }
    let for_redis = Scratch::new("redis-loading-events");
    std::fs::write(for_redis.aof(), &file).expect("file for redis");
    let for_herald = Scratch::new("herald-loading-events");
    std::fs::write(for_herald.aof(), &file).expect("file for herald");
    let events = ["--notify-keyspace-events", "Eg$"];

    let port = free_port();
    let _redis = start_redis_with(&for_redis.0, port, true, &events);
    let redis_seen = events_while_loading(&mut Raw::connect(([127, 0, 0, 1], port).into()));
    let mut args = vec!["--appendonly", "yes", "--dir", for_herald.path()];
    args.extend(events);
    let herald = common::TestServer::start_loading(&args);
    let herald_seen = events_while_loading(&mut herald.raw());
    assert_eq!(
        redis_seen[2], "loading:1",
        "redis-server finished before the client looked: {redis_seen:?}"
    );
    assert_eq!(herald_seen, redis_seen);
}

/// The names of INFO persistence's fields, in order, without Herald's own group-commit
/// counters (`aof_appends`, `aof_writes`, `aof_fsyncs`), which Redis does not have.
fn persistence_fields(raw: &mut Raw) -> Vec<String> {
    let own = ["aof_appends", "aof_writes", "aof_fsyncs"];
    raw.cmd(&["INFO", "persistence"])
        .split("\r\n")
        .filter_map(|line| line.split_once(':').map(|(name, _)| name.to_owned()))
        .filter(|name| !own.contains(&name.as_str()))
        .collect()
}

#[test]
fn info_persistence_has_redis_fields_in_redis_order() {
    if redis_missing() {
        return;
    }
    let for_redis = Scratch::new("redis-info");
    let port = free_port();
    let _redis = start_redis(&for_redis.0, port, true);
    let redis_fields = persistence_fields(&mut Raw::connect(([127, 0, 0, 1], port).into()));
    let for_herald = Scratch::new("herald-info");
    let herald = start(&for_herald, &[]);
    let herald_fields = persistence_fields(&mut herald.raw());
    assert!(redis_fields.contains(&"aof_current_size".to_string()));
    assert_eq!(herald_fields, redis_fields);
}
