//! `maxmemory` as a bound on a queue: producers adding to a stream are refused with `-OOM` once
//! the server's memory passes the limit, the stream holds exactly what was acknowledged, and
//! draining it lets writes in again. (Which commands are refused is compared with redis-server
//! in `compat/transcripts/maxmemory.txt`; the memory figure itself differs by design, see
//! `src/memory.rs`.) The real binary is used: an in-process server would count the test's
//! own memory.

mod common;

use common::{encode, running, spawn_binary, wait_until, Raw};

const OOM: &str = "-OOM command not allowed when used memory > 'maxmemory'.\r\n";

fn used_memory(raw: &mut Raw) -> u64 {
    let info = raw.cmd(&["INFO", "memory"]);
    info.lines()
        .find_map(|l| l.strip_prefix("used_memory:"))
        .and_then(|v| v.trim().parse().ok())
        .expect("used_memory in INFO")
}

#[test]
fn producers_are_refused_past_maxmemory_and_let_in_again_once_drained() {
    let herald = running(spawn_binary(&[]));
    let addr = ([127, 0, 0, 1], herald.port).into();
    let mut admin = Raw::connect(addr);
    let limit = used_memory(&mut admin) + 32 * 1024 * 1024;
    let limit_text = limit.to_string();
    assert_eq!(
        admin.cmd(&["CONFIG", "SET", "maxmemory", &limit_text]),
        "+OK\r\n"
    );
    let mut producer = Raw::connect(addr);
    let value = vec![b'v'; 4096];
    let batch: Vec<u8> = (0..64)
        .flat_map(|_| encode(&[b"XADD", b"queue", b"*", b"f", &value]))
        .collect();
    let (mut added, mut refused) = (0u64, 0u64);
    // At most 400 MB offered: the limit is 32 MB above the start.
    for _ in 0..1600 {
        producer.send(&batch);
        for _ in 0..64 {
            match producer.reply() {
                r if r == OOM => refused += 1,
                r if r.starts_with('$') => added += 1,
                other => panic!("unexpected reply {other:?}"),
            }
        }
        if refused > 0 {
            break;
        }
    }
    assert!(refused > 0, "no OOM after {added} entries of 4 KB");
    assert!(added > 1000, "only {added} entries before the first OOM");
    // Nothing refused was half-added, nothing added was lost.
    assert_eq!(admin.cmd(&["XLEN", "queue"]), format!(":{added}\r\n"));
    let used = used_memory(&mut admin);
    assert!(
        used <= limit + 16 * 1024 * 1024,
        "used {used} bytes, limit {limit}"
    );
    assert!(admin.cmd(&["SET", "k", "v"]).starts_with("-OOM"));
    // Reads and the drain still run; once the memory is given back, writes are let in.
    assert!(admin
        .cmd(&["XRANGE", "queue", "-", "+", "COUNT", "1"])
        .starts_with("*1\r\n"));
    assert_eq!(admin.cmd(&["DEL", "queue"]), ":1\r\n");
    wait_until("writes let in after the drain", || {
        admin.cmd(&["SET", "k", "v"]) == "+OK\r\n"
    });
    assert_eq!(
        admin
            .cmd(&["INFO", "memory"])
            .lines()
            .find(|l| l.starts_with("maxmemory:"))
            .unwrap(),
        format!("maxmemory:{limit}")
    );
}

#[test]
fn an_eviction_policy_with_maxmemory_is_refused_with_the_reason() {
    let herald = running(spawn_binary(&["--maxmemory-policy", "allkeys-lru"]));
    let mut admin = Raw::connect(([127, 0, 0, 1], herald.port).into());
    // Without a limit the policy never applies: accepted, as a stock config has it.
    assert!(admin
        .cmd(&["CONFIG", "SET", "maxmemory", "100mb"])
        .contains("(possibly related to argument 'maxmemory') - Herald does not evict keys"));
    assert_eq!(
        admin.cmd(&["CONFIG", "GET", "maxmemory"]),
        "*2\r\n$9\r\nmaxmemory\r\n$1\r\n0\r\n"
    );
    assert_eq!(
        admin.cmd(&[
            "CONFIG",
            "SET",
            "maxmemory",
            "100mb",
            "maxmemory-policy",
            "noeviction"
        ]),
        "+OK\r\n"
    );
    assert!(admin
        .cmd(&["CONFIG", "SET", "maxmemory-policy", "volatile-lru"])
        .contains(
            "(possibly related to argument 'maxmemory-policy') - Herald does not evict keys"
        ));
}
