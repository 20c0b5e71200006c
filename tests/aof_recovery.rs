//! Start-up on a damaged AOF, with the real binary (its log and exit status are the interface):
//! a command cut off at the end is truncated away with a log line and the rest loads; a MULTI
//! without its EXEC at the end is dropped whole; corruption anywhere else stops start-up with
//! the byte offset and leaves the file exactly as it was; newlines written ahead of the last
//! command by a server that did not stop gracefully are not commands.

mod aof_support;
mod common;

use aof_support::{read, Scratch};
use common::{encode, running, spawn_binary, Binary, Raw, Started};

fn file_of(commands: &[&[&str]]) -> Vec<u8> {
    let mut out = Vec::new();
    for c in commands {
        let args: Vec<&[u8]> = c.iter().map(|a| a.as_bytes()).collect();
        out.extend(encode(&args));
    }
    out
}

fn connect(port: u16) -> Raw {
    Raw::connect(([127, 0, 0, 1], port).into())
}

/// A SET whose value was cut off mid-write.
const CUT_SET: &[u8] = b"*3\r\n$3\r\nSET\r\n$1\r\nz\r\n$5\r\nab";

/// Starts on `dir`, whose file is `whole` followed by a cut-off write, and checks the cut was
/// truncated away with a log line naming where the last whole command ends.
fn start_truncating(dir: &Scratch, whole: &[u8]) -> Binary {
    let server = running(spawn_binary(&["--appendonly", "yes", "--dir", dir.path()]));
    let log = server.log.join("");
    assert!(log.contains("short read"), "{log}");
    assert!(log.contains(&format!("offset {}", whole.len())), "{log}");
    assert_eq!(
        read(&dir.aof()),
        whole,
        "truncated to the last whole command"
    );
    server
}

#[test]
fn a_command_cut_off_at_the_end_is_truncated_away_with_a_log_line() {
    let dir = Scratch::new("truncated");
    let whole = file_of(&[&["SELECT", "0"], &["SET", "a", "1"], &["SET", "b", "2"]]);
    let mut damaged = whole.clone();
    damaged.extend_from_slice(CUT_SET);
    std::fs::write(dir.aof(), &damaged).unwrap();

    let server = start_truncating(&dir, &whole);
    let mut raw = connect(server.port);
    assert_eq!(
        raw.cmd(&["MGET", "a", "b", "z"]),
        "*3\r\n$1\r\n1\r\n$1\r\n2\r\n$-1\r\n"
    );
    // New writes follow the last whole command, so the next start reads them.
    assert_eq!(raw.cmd(&["SET", "c", "3"]), "+OK\r\n");
    drop(raw);
    drop(server);
    let server = running(spawn_binary(&["--appendonly", "yes", "--dir", dir.path()]));
    let mut raw = connect(server.port);
    assert_eq!(raw.cmd(&["MGET", "a", "c"]), "*2\r\n$1\r\n1\r\n$1\r\n3\r\n");
}

/// What a killed Herald leaves: commands, then newlines written ahead of them (see
/// `persistence::prealloc`). Nothing to repair: the file loads as it is and new writes go
/// where the commands end. A write cut off inside that space is truncated away like any other.
#[test]
fn newlines_written_ahead_of_the_commands_are_not_commands() {
    let dir = Scratch::new("filler");
    let whole = file_of(&[&["SELECT", "0"], &["SET", "a", "1"]]);
    let mut killed = whole.clone();
    killed.extend_from_slice(&[b'\n'; 100_000]);
    std::fs::write(dir.aof(), &killed).unwrap();

    let server = running(spawn_binary(&["--appendonly", "yes", "--dir", dir.path()]));
    assert!(!server.log.join("").contains("short read"));
    assert_eq!(read(&dir.aof()), killed, "left as it was");
    let mut raw = connect(server.port);
    assert_eq!(raw.cmd(&["SET", "b", "2"]), "+OK\r\n");
    let mut with_b = whole.clone();
    with_b.extend(file_of(&[&["SELECT", "0"], &["SET", "b", "2"]]));
    assert_eq!(
        read(&dir.aof())[..with_b.len()],
        with_b[..],
        "written where they end"
    );
    drop(raw);
    drop(server);

    // A write cut off in the space written ahead: the filler follows the cut.
    let mut cut = whole.clone();
    cut.extend_from_slice(CUT_SET);
    cut.extend_from_slice(&[b'\n'; 1000]);
    std::fs::write(dir.aof(), &cut).unwrap();
    let server = start_truncating(&dir, &whole);
    let mut raw = connect(server.port);
    assert_eq!(raw.cmd(&["MGET", "a", "z"]), "*2\r\n$1\r\n1\r\n$-1\r\n");
}

#[test]
fn an_unfinished_transaction_at_the_end_is_dropped_whole() {
    let dir = Scratch::new("multi-cut");
    let whole = file_of(&[&["SELECT", "0"], &["SET", "a", "1"]]);
    let mut damaged = whole.clone();
    damaged.extend(file_of(&[&["MULTI"], &["SET", "tx", "1"], &["INCR", "a"]]));
    std::fs::write(dir.aof(), &damaged).unwrap();

    let server = running(spawn_binary(&["--appendonly", "yes", "--dir", dir.path()]));
    assert_eq!(read(&dir.aof()), whole);
    let mut raw = connect(server.port);
    assert_eq!(raw.cmd(&["MGET", "a", "tx"]), "*2\r\n$1\r\n1\r\n$-1\r\n");
}

#[test]
fn corruption_in_the_middle_stops_start_up_with_the_offset_and_leaves_the_file_alone() {
    let dir = Scratch::new("corrupt");
    let head = file_of(&[&["SELECT", "0"], &["SET", "a", "1"]]);
    let mut bytes = head.clone();
    bytes.extend_from_slice(b"*2\r\n$3\r\nDEL\r\n$1\r\nab\r\n"); // `ab` is not 1 byte: no CRLF after `a`
    bytes.extend(file_of(&[&["SET", "b", "2"]]));
    std::fs::write(dir.aof(), &bytes).unwrap();
    let bad_at = head.len() + b"*2\r\n$3\r\nDEL\r\n$1\r\na".len();

    match spawn_binary(&["--appendonly", "yes", "--dir", dir.path()]) {
        Started::Exited(status, out) => {
            assert!(!status.success());
            assert!(out.contains(&format!("at offset {bad_at}")), "{out}");
            assert!(out.contains("Bad file format"), "{out}");
        }
        Started::Running(_) => panic!("started on a corrupt file"),
    }
    assert_eq!(
        read(&dir.aof()),
        bytes,
        "the file is unchanged byte for byte"
    );
}

#[test]
fn an_unknown_command_stops_start_up_with_its_offset() {
    let dir = Scratch::new("unknown");
    let head = file_of(&[&["SET", "a", "1"]]);
    let mut bytes = head.clone();
    bytes.extend(file_of(&[&["NOSUCHCOMMAND", "x"], &["SET", "b", "2"]]));
    std::fs::write(dir.aof(), &bytes).unwrap();
    match spawn_binary(&["--appendonly", "yes", "--dir", dir.path()]) {
        Started::Exited(status, out) => {
            assert!(!status.success());
            assert!(out.contains(&format!("offset {}", head.len())), "{out}");
        }
        Started::Running(_) => panic!("started on an unknown command"),
    }
    assert_eq!(read(&dir.aof()), bytes);
}

#[test]
fn with_aof_load_truncated_off_a_cut_file_stops_start_up_unchanged() {
    let dir = Scratch::new("truncated-no");
    let mut bytes = file_of(&[&["SET", "a", "1"]]);
    bytes.extend_from_slice(b"*2\r\n$3\r\nDEL");
    std::fs::write(dir.aof(), &bytes).unwrap();
    let args = [
        "--appendonly",
        "yes",
        "--dir",
        dir.path(),
        "--aof-load-truncated",
        "no",
    ];
    match spawn_binary(&args) {
        Started::Exited(status, out) => {
            assert!(!status.success());
            assert!(out.contains("Unexpected end of file"), "{out}");
        }
        Started::Running(_) => panic!("started on a cut file with aof-load-truncated no"),
    }
    assert_eq!(read(&dir.aof()), bytes);
}

#[test]
fn a_missing_file_is_created_and_a_rewrite_temp_file_left_by_a_crash_is_removed() {
    let dir = Scratch::new("fresh");
    let stale = dir.0.join("temp-rewriteaof-bg-12345.aof");
    std::fs::write(&stale, b"*1\r\n$4\r\nPING").unwrap();
    let server = running(spawn_binary(&["--appendonly", "yes", "--dir", dir.path()]));
    assert!(dir.aof().exists());
    assert!(!stale.exists());
    let mut raw = connect(server.port);
    assert_eq!(raw.cmd(&["DBSIZE"]), ":0\r\n");
    let info = raw.cmd(&["INFO", "persistence"]);
    assert!(
        info.contains("aof_enabled:1\r\n") && info.contains("loading:0\r\n"),
        "{info}"
    );
}
