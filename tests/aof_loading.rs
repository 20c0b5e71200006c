//! While the AOF is replayed at start-up, clients are already accepted, as Redis accepts them:
//! the commands Redis flags `loading` (INFO, CLIENT, MULTI, SHUTDOWN, ...) run, every other one
//! answers `-LOADING`, INFO shows the replay's progress, and a shutdown stops the replay
//! without touching the file. The replay itself is not traffic: INFO's stats do not count it.
//!
//! The file is large enough (300K entries: seconds in a debug build, a fifth of one in
//! release) that a client connecting at once finds the replay running.

mod aof_support;
mod common;

use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use aof_support::{info_field, read, xadd_file, Scratch};
use common::{encode, Raw, TestServer};

const ENTRIES: usize = 300_000;

/// A server started on a directory whose AOF is [`xadd_file`] of `ENTRIES` entries, returned
/// as soon as it accepts clients (mid-replay), with the directory and the file's bytes.
fn start_on_big_file(name: &str) -> (Scratch, Vec<u8>, TestServer) {
    let dir = Scratch::new(name);
    let file = xadd_file(ENTRIES);
    std::fs::write(dir.aof(), &file).expect("write the file");
    let server = TestServer::start_loading(&["--appendonly", "yes", "--dir", dir.path()]);
    (dir, file, server)
}

fn field<'a>(info: &'a str, name: &str) -> &'a str {
    info.split("\r\n")
        .find_map(|l| l.strip_prefix(&format!("{name}:")))
        .unwrap_or_else(|| panic!("INFO has no {name}: {info}"))
}

fn wait_loaded(raw: &mut Raw) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while info_field(raw, "loading") == "1" {
        assert!(
            Instant::now() < deadline,
            "the file did not load in 2 minutes"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn while_the_file_loads_only_loading_commands_run_and_info_shows_the_progress() {
    let (_dir, file, server) = start_on_big_file("loading");
    let mut raw = server.raw();

    let loading = "-LOADING Redis is loading the dataset in memory\r\n";
    assert_eq!(raw.cmd(&["PING"]), loading);
    assert_eq!(raw.cmd(&["GET", "done"]), loading);

    let info = raw.cmd(&["INFO", "persistence"]);
    assert_eq!(field(&info, "loading"), "1", "{info}");
    // Redis turns the AOF off while it replays it.
    assert_eq!(field(&info, "aof_enabled"), "0");
    assert_eq!(field(&info, "loading_total_bytes"), file.len().to_string());
    let loaded: u64 = field(&info, "loading_loaded_bytes").parse().unwrap();
    assert!(loaded < file.len() as u64, "{info}");
    let perc: f64 = field(&info, "loading_loaded_perc").parse().unwrap();
    assert!((0.0..100.0).contains(&perc), "{info}");
    let _eta: u64 = field(&info, "loading_eta_seconds").parse().unwrap();
    let started: u64 = field(&info, "loading_start_time").parse().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(started <= now && now - started < 60, "{info}");

    // The replay runs as a client of its own, but, like Redis's, not a listed one.
    let list = raw.cmd(&["CLIENT", "LIST"]);
    assert_eq!(list.matches(" addr=").count(), 1, "{list}");

    // A command refused while queued aborts the transaction, as any refusal does.
    assert_eq!(raw.cmd(&["MULTI"]), "+OK\r\n");
    assert_eq!(raw.cmd(&["XLEN", "s"]), loading);
    assert_eq!(
        raw.cmd(&["EXEC"]),
        "-EXECABORT Transaction discarded because of previous errors.\r\n"
    );

    wait_loaded(&mut raw);
    assert_eq!(raw.cmd(&["PING"]), "+PONG\r\n");
    assert_eq!(raw.cmd(&["XLEN", "s"]), format!(":{ENTRIES}\r\n"));
    assert_eq!(raw.cmd(&["GET", "done"]), "$3\r\nyes\r\n");
    assert_eq!(info_field(&mut raw, "aof_enabled"), "1");

    // Only this client's commands are counted: none of the replayed XADDs.
    let stats = raw.cmd(&["INFO", "commandstats"]);
    assert!(!stats.contains("cmdstat_xadd"), "{stats}");
    let ping = field(&stats, "cmdstat_ping");
    assert!(
        ping.starts_with("calls=1,") && ping.contains(",rejected_calls=1,"),
        "{stats}"
    );
    let errors = raw.cmd(&["INFO", "errorstats"]);
    assert!(errors.contains("errorstat_LOADING:count=3\r\n"), "{errors}");
}

#[test]
fn a_shutdown_while_the_file_loads_stops_the_replay_and_leaves_the_file_as_it_was() {
    let (dir, file, server) = start_on_big_file("loading-shutdown");
    let mut raw = server.raw();
    assert_eq!(info_field(&mut raw, "loading"), "1");
    let state = server.state.clone();
    raw.send(&encode(&[b"SHUTDOWN"]));
    // The server stops (the test server's thread ends) without finishing the replay: the
    // writer was never started...
    drop(server);
    assert!(!state.persistence.is_active());
    let progress = &state.persistence.progress;
    assert!(progress.loaded_bytes.load(Relaxed) < progress.total_bytes.load(Relaxed));
    // ...and the file was not written to: no filler written ahead, nothing truncated.
    assert_eq!(read(&dir.aof()), file);
}

#[test]
fn a_shutdown_as_the_replay_ends_is_a_clean_one() {
    // The last whole command's keyspace event tells the moment the replay ends; the stop
    // arrives while the loader is still finishing (here, cutting off and fsyncing a torn last
    // write), which is where a shutdown once found the server serving again and polled its
    // finished signal a second time.
    let dir = Scratch::new("loading-end");
    let mut file = xadd_file(ENTRIES);
    file.extend_from_slice(b"*3\r\n$3\r\nSET\r\n$1");
    std::fs::write(dir.aof(), file).expect("write the file");
    let server = TestServer::start_loading(&[
        "--appendonly",
        "yes",
        "--dir",
        dir.path(),
        "--notify-keyspace-events",
        "E$",
    ]);
    let mut raw = server.raw();
    raw.cmd(&["HELLO", "3"]);
    raw.cmd(&["SUBSCRIBE", "__keyevent@0__:set"]);
    let deadline = Instant::now() + Duration::from_secs(120);
    while raw.is_silent(Duration::from_millis(100)) {
        assert!(
            Instant::now() < deadline,
            "the replay did not end in 2 minutes"
        );
    }
    assert!(raw.reply().contains("done"));
    assert!(server.stop(), "the server panicked while stopping");
}
