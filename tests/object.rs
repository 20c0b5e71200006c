//! OBJECT IDLETIME side by side with redis-server: which commands count as a use of a key
//! (GET, TOUCH, a write) and which only look (TYPE, EXISTS, TTL, OBJECT, MEMORY USAGE), and
//! CLIENT NO-TOUCH.
mod common;

use std::time::Duration;

use common::{free_port, start_redis_server};

fn idle(c: &mut redis::Connection, key: &str) -> i64 {
    redis::cmd("OBJECT")
        .arg("IDLETIME")
        .arg(key)
        .query(c)
        .expect("OBJECT IDLETIME")
}

fn run(c: &mut redis::Connection, args: &[&str]) {
    let mut cmd = redis::cmd(args[0]);
    args[1..].iter().for_each(|a| {
        cmd.arg(*a);
    });
    cmd.query::<redis::Value>(c)
        .unwrap_or_else(|e| panic!("{args:?}: {e}"));
}

#[test]
fn idle_time_counts_from_the_last_use_as_in_redis() {
    let herald = common::TestServer::start(&[]);
    let port = free_port();
    let _redis = start_redis_server(&["--save", ""], port, &std::env::temp_dir());
    let mut conns = [
        herald.client(),
        redis::Client::open(format!("redis://127.0.0.1:{port}/"))
            .and_then(|c| c.get_connection())
            .expect("redis-server"),
    ];
    let looks: &[&[&str]] = &[
        &["TYPE", "k"],
        &["EXISTS", "k"],
        &["TTL", "k"],
        &["OBJECT", "ENCODING", "k"],
        &["MEMORY", "USAGE", "k"],
    ];
    let uses: &[&[&str]] = &[&["GET", "k"], &["TOUCH", "k"], &["APPEND", "k", "x"]];
    for c in conns.iter_mut() {
        for key in ["k", "other"] {
            run(c, &["SET", key, "v"]);
        }
    }
    // The clock is in whole seconds: after 2.1 s every key is at least 2 s idle.
    std::thread::sleep(Duration::from_millis(2100));
    let mut seen = Vec::new();
    for c in conns.iter_mut() {
        let mut side = Vec::new();
        for look in looks {
            run(c, look);
        }
        side.push(idle(c, "k") >= 2);
        for used in uses {
            std::thread::sleep(Duration::from_millis(1100));
            run(c, used);
            side.push(idle(c, "k") == 0 && idle(c, "other") >= 3);
        }
        seen.push(side);
    }
    assert_eq!(seen[0], seen[1], "Herald, then Redis");
    assert!(seen[0].iter().all(|&ok| ok), "{seen:?}");
    // CLIENT NO-TOUCH (Redis 7.2): reads leave the clock, TOUCH still sets it. Herald only,
    // as the reference redis-server (7.0) has no NO-TOUCH.
    let c = &mut conns[0];
    run(c, &["CLIENT", "NO-TOUCH", "ON"]);
    run(c, &["SET", "fresh", "v"]);
    std::thread::sleep(Duration::from_millis(1100));
    run(c, &["GET", "other"]);
    assert!(idle(c, "other") >= 1);
    assert!(
        idle(c, "fresh") <= 2,
        "a new key's clock starts at its creation"
    );
    run(c, &["TOUCH", "other"]);
    assert_eq!(idle(c, "other"), 0);
    run(c, &["CLIENT", "NO-TOUCH", "OFF"]);
}
