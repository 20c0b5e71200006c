//! Consumer-group readers blocked on one stream, side by side with redis-server: which reader
//! each new entry reaches and in which order, when several readers of one group, another
//! group's reader and a plain XREAD wait on the same key (Herald wakes a group's readers one
//! at a time, see `src/stream/blocking.rs`).
mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::{blocked_clients, free_port, start_redis_server, wait_until, Raw};

/// Blocks `request` on a new connection and waits until the server counts `blocked` clients.
fn block(addr: SocketAddr, admin: &mut Raw, request: &[&str], blocked: usize) -> Raw {
    let mut reader = Raw::connect(addr);
    let args: Vec<&[u8]> = request.iter().map(|a| a.as_bytes()).collect();
    reader.send_cmd(&args);
    let want = format!("blocked_clients:{blocked}");
    wait_until("the read to block", || blocked_clients(admin) == want);
    reader
}

fn group_read(consumer: &str, group: &str, count: &str) -> Vec<String> {
    [
        "XREADGROUP",
        "GROUP",
        group,
        consumer,
        "COUNT",
        count,
        "BLOCK",
        "0",
        "STREAMS",
        "s",
        ">",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

/// Blocks `n` readers of group g, consumers `<prefix>0`.., one entry each, oldest first.
fn block_group_readers(addr: SocketAddr, admin: &mut Raw, prefix: &str, n: usize) -> Vec<Raw> {
    (0..n)
        .map(|i| {
            let request = group_read(&format!("{prefix}{i}"), "g", "1");
            let request: Vec<&str> = request.iter().map(String::as_str).collect();
            block(addr, admin, &request, i + 1)
        })
        .collect()
}

/// Runs the scenario against the server at `addr`; returns what every client saw, in order.
fn scenario(addr: SocketAddr) -> Vec<String> {
    let mut admin = Raw::connect(addr);
    let mut seen = Vec::new();
    let mut note = |what: &str, reply: String| seen.push(format!("{what}: {reply}"));
    note(
        "create",
        admin.cmd(&["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]),
    );
    note("create h", admin.cmd(&["XGROUP", "CREATE", "s", "h", "$"]));
    let requests: Vec<Vec<String>> = vec![
        group_read("c0", "g", "1"),
        group_read("c1", "g", "1"),
        group_read("c2", "g", "1"),
        group_read("d0", "h", "5"),
        ["XREAD", "BLOCK", "0", "STREAMS", "s", "$"]
            .iter()
            .map(|s| s.to_string())
            .collect(),
    ];
    let mut readers: Vec<Raw> = requests
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let r: Vec<&str> = r.iter().map(String::as_str).collect();
            block(addr, &mut admin, &r, i + 1)
        })
        .collect();
    // Two entries at once: the first two readers of g take one each, the third keeps
    // waiting; h's reader and the plain reader take both.
    note("multi", admin.cmd(&["MULTI"]));
    note("xadd", admin.cmd(&["XADD", "s", "1-1", "f", "a"]));
    note("xadd", admin.cmd(&["XADD", "s", "2-1", "f", "b"]));
    note("exec", admin.cmd(&["EXEC"]));
    for (i, reader) in readers.iter_mut().enumerate() {
        if i == 2 {
            note(
                "c2 waits",
                reader.is_silent(Duration::from_millis(200)).to_string(),
            );
        } else {
            note(&format!("reader {i}"), reader.reply());
        }
    }
    note("pending", admin.cmd(&["XPENDING", "s", "g"]));
    note("blocked", blocked_clients(&mut admin));
    // The next entry reaches the one still waiting.
    note("xadd", admin.cmd(&["XADD", "s", "3-1", "f", "c"]));
    note("c2", readers[2].reply());
    note("pending", admin.cmd(&["XPENDING", "s", "g"]));

    // Fifty readers of one group, then fifty entries pipelined: each reader gets one entry,
    // in the order they blocked.
    let mut queue = block_group_readers(addr, &mut admin, "q", 50);
    let mut writes = Vec::new();
    for i in 0..50 {
        let id = format!("{}-1", 10 + i);
        writes.extend(common::encode(&[b"XADD", b"s", id.as_bytes(), b"f", b"v"]));
    }
    admin.send(&writes);
    for _ in 0..50 {
        admin.reply();
    }
    for (i, reader) in queue.iter_mut().enumerate() {
        note(&format!("q{i}"), reader.reply());
    }

    // The stream goes: every reader of the group still waiting is answered with an error
    // (its text differs between Redis 7.0 and 7.4: known difference `blocked-nogroup`).
    let mut doomed = block_group_readers(addr, &mut admin, "x", 3);
    note("del", admin.cmd(&["DEL", "s"]));
    for (i, reader) in doomed.iter_mut().enumerate() {
        note(
            &format!("x{i} failed"),
            reader.reply().starts_with('-').to_string(),
        );
    }
    note("blocked", blocked_clients(&mut admin));
    seen
}

#[test]
fn group_readers_take_the_entries_in_turn_as_in_redis() {
    let herald = common::TestServer::start(&[]);
    let port = free_port();
    let _redis = start_redis_server(&["--save", ""], port, &std::env::temp_dir());
    let redis_addr: SocketAddr = format!("127.0.0.1:{port}").parse().expect("address");
    let on_redis = scenario(redis_addr);
    let on_herald = scenario(herald.addr);
    assert_eq!(on_herald, on_redis);
}
