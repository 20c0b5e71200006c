//! `unixsocket` and `unixsocketperm`, side by side with redis-server: each test runs the same
//! steps on both servers and compares what they show (socket paths, which differ per server
//! directory, are written `<sock>`). Each test stops only the processes it started.

mod aof_support;
mod common;

use std::io::{Read, Write};
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use aof_support::Scratch;
use common::{encode, free_port, running, spawn_binary, start_redis_server, wait_until, BIN};

#[derive(Clone, Copy, Debug)]
enum Kind {
    Redis,
    Herald,
}

/// A server of either kind, killed by its PID when dropped.
enum Running {
    Redis { _server: common::RedisServer },
    Herald { _server: common::Binary },
}

/// Starts a server serving the Unix socket `sock` with `extra` options, and TCP on `port`
/// unless it is 0; returns once the socket takes connections.
fn start(kind: Kind, dir: &Scratch, sock: &Path, port: u16, extra: &[&str]) -> Running {
    let sock_text = sock.to_str().unwrap();
    let port_text = port.to_string();
    let mut args = vec!["--unixsocket", sock_text, "--port", &port_text];
    args.extend_from_slice(extra);
    let running = match kind {
        Kind::Herald => Running::Herald {
            _server: running(spawn_binary(&args)),
        },
        Kind::Redis if port != 0 => Running::Redis {
            _server: start_redis_server(&args, port, &dir.0),
        },
        Kind::Redis => {
            let child = Command::new("redis-server")
                .args(&args)
                .args(["--daemonize", "no", "--save", "", "--dir", dir.path()])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("redis-server on PATH (.ci/run installs it)");
            Running::Redis {
                _server: common::RedisServer(child),
            }
        }
    };
    wait_until("the Unix socket", || UnixStream::connect(sock).is_ok());
    running
}

fn unix_client(sock: &Path) -> redis::Connection {
    redis::Client::open(format!("unix://{}", sock.display()))
        .unwrap()
        .get_connection()
        .unwrap()
}

/// A reply, errors included, as text, with the socket's path written `<sock>`.
fn answer(con: &mut redis::Connection, sock: &Path, args: &[&str]) -> String {
    let mut cmd = redis::cmd(args[0]);
    for a in &args[1..] {
        cmd.arg(*a);
    }
    let text = match cmd.query::<redis::Value>(con) {
        Ok(v) => format!("{v:?}"),
        Err(e) => format!("error: {e}"),
    };
    text.replace(sock.to_str().unwrap(), "<sock>")
}

/// The `addr`, `laddr` and `flags` fields of CLIENT INFO.
fn client_fields(con: &mut redis::Connection, sock: &Path) -> String {
    let info: String = redis::cmd("CLIENT").arg("INFO").query(con).unwrap();
    info.split_whitespace()
        .filter(|f| {
            ["addr=", "laddr=", "flags="]
                .iter()
                .any(|p| f.starts_with(p))
        })
        .map(|f| f.replace(sock.to_str().unwrap(), "<sock>"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// What a server shows of its Unix socket and its clients, then of its SHUTDOWN.
fn observe(kind: Kind) -> Vec<String> {
    let dir = Scratch::new(&format!("unix-{kind:?}"));
    let sock = dir.0.join("s.sock");
    let port = free_port();
    let _server = start(kind, &dir, &sock, port, &["--unixsocketperm", "750"]);
    let mut seen = Vec::new();
    let meta = std::fs::metadata(&sock).unwrap();
    seen.push(format!(
        "socket {} mode {:o}",
        meta.file_type().is_socket(),
        meta.permissions().mode() & 0o777
    ));
    let mut c = unix_client(&sock);
    seen.push(client_fields(&mut c, &sock));
    // Redis lists a pattern's matches in its dictionary's order: compared as a map.
    let unix: std::collections::BTreeMap<String, String> = redis::cmd("CONFIG")
        .arg("GET")
        .arg("unixsocket*")
        .query(&mut c)
        .unwrap();
    seen.push(format!("{unix:?}").replace(sock.to_str().unwrap(), "<sock>"));
    for args in [
        &["CONFIG", "SET", "unixsocket", "/tmp/elsewhere.sock"][..],
        &["CONFIG", "SET", "unixsocketperm", "777"],
        &["SET", "k", "over the socket"],
        &["GET", "k"],
        &["PING"],
    ] {
        seen.push(answer(&mut c, &sock, args));
    }
    let mut tcp = redis::Client::open(format!("redis://127.0.0.1:{port}/"))
        .unwrap()
        .get_connection()
        .unwrap();
    let tcp_info: String = redis::cmd("CLIENT").arg("INFO").query(&mut tcp).unwrap();
    let tcp_flags = tcp_info
        .split_whitespace()
        .find(|f| f.starts_with("flags="));
    seen.push(format!("tcp: {tcp_flags:?}"));
    seen.push(answer(&mut tcp, &sock, &["GET", "k"]));
    // CLIENT KILL ADDR with the socket's address: every other client on it (SKIPME yes).
    let mut other = unix_client(&sock);
    let addr = format!("{}:0", sock.display());
    seen.push(answer(&mut c, &sock, &["CLIENT", "KILL", "ADDR", &addr]));
    seen.push(format!(
        "other after the kill: {}",
        answer(&mut other, &sock, &["PING"]).starts_with("error")
    ));
    seen.push(answer(
        &mut c,
        &sock,
        &["CLIENT", "KILL", "LADDR", &addr, "SKIPME", "no"],
    ));
    let mut c = unix_client(&sock);
    let _ = answer(&mut c, &sock, &["SHUTDOWN", "NOSAVE"]);
    wait_until("the socket file removed at shutdown", || !sock.exists());
    seen.push("socket file removed".into());
    seen
}

#[test]
fn unix_socket_clients_as_redis_shows_them() {
    let redis = observe(Kind::Redis);
    let herald = observe(Kind::Herald);
    assert_eq!(herald, redis);
    // What the comparison rests on, stated: a socket with the mode asked for, and Redis's
    // address and flag for its clients.
    assert_eq!(herald[0], "socket true mode 750");
    assert_eq!(herald[1], "addr=<sock>:0 laddr=<sock>:0 flags=U");
}

/// `port 0` with a Unix socket: no TCP at all, as in Redis; a file left at the path (a server
/// that did not exit cleanly) is replaced.
fn unix_only(kind: Kind) -> Vec<String> {
    let dir = Scratch::new(&format!("unix-only-{kind:?}"));
    let sock = dir.0.join("s.sock");
    std::fs::write(&sock, "left over").unwrap();
    let _server = start(kind, &dir, &sock, 0, &[]);
    let mut c = unix_client(&sock);
    let info: String = redis::cmd("INFO").arg("server").query(&mut c).unwrap();
    let tcp_port = info
        .lines()
        .find(|l| l.starts_with("tcp_port:"))
        .unwrap_or_default()
        .to_owned();
    vec![
        format!(
            "is a socket: {}",
            std::fs::metadata(&sock).unwrap().file_type().is_socket()
        ),
        tcp_port,
        answer(&mut c, &sock, &["CONFIG", "GET", "port"]),
    ]
}

#[test]
fn port_0_serves_only_the_unix_socket() {
    let redis = unix_only(Kind::Redis);
    let herald = unix_only(Kind::Herald);
    assert_eq!(herald, redis);
    assert_eq!(herald[1], "tcp_port:0");
}

/// The report lines of a server that could not listen, and its exit status.
fn listen_failure(program: &str, args: &[&str]) -> (Option<i32>, Vec<String>) {
    let out = Command::new(program)
        .args(args)
        .args(["--save", ""])
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    let lines = text
        .lines()
        .filter_map(|l| {
            [
                "Failed opening",
                "Warning: Could not create",
                "Failed listening",
            ]
            .iter()
            .find_map(|marker| l.find(marker).map(|at| l[at..].to_owned()))
        })
        .collect();
    (out.status.code(), lines)
}

#[test]
fn failures_to_listen_report_as_redis() {
    let dir = Scratch::new("unix-failures");
    let missing = dir.0.join("missing").join("s.sock");
    let long = dir.0.join("s".repeat(120));
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let taken_port = taken.local_addr().unwrap().port().to_string();
    for args in [
        vec!["--port", "0", "--unixsocket", missing.to_str().unwrap()],
        vec!["--port", "0", "--unixsocket", long.to_str().unwrap()],
        vec!["--port", &taken_port, "--bind", "127.0.0.1"],
    ] {
        let redis = listen_failure("redis-server", &args);
        let herald = listen_failure(BIN, &args);
        assert_eq!(herald, redis, "{args:?}");
        assert_eq!(herald.0, Some(1), "{args:?}");
        assert!(!herald.1.is_empty(), "{args:?}");
    }
}

/// 40 subscribers on the Unix socket (enough for Herald to send 4 KB messages from its spool
/// with `sendfile`), 20 messages published over TCP: each subscriber receives exactly the
/// frames, in order. Returns the PUBLISH replies.
fn fan_out(kind: Kind) -> Vec<i64> {
    const SUBSCRIBERS: usize = 40;
    const MESSAGES: usize = 20;
    let dir = Scratch::new(&format!("unix-fanout-{kind:?}"));
    let sock = dir.0.join("s.sock");
    let port = free_port();
    let _server = start(kind, &dir, &sock, port, &[]);
    let mut subscribers: Vec<UnixStream> = (0..SUBSCRIBERS)
        .map(|_| {
            let mut s = UnixStream::connect(&sock).unwrap();
            s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            s.write_all(&encode(&[b"SUBSCRIBE", b"ch"])).unwrap();
            let confirmation = b"*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n";
            let mut got = vec![0; confirmation.len()];
            s.read_exact(&mut got).unwrap();
            assert_eq!(got, confirmation);
            s
        })
        .collect();
    let payloads: Vec<Vec<u8>> = (0..MESSAGES)
        .map(|i| {
            let mut p = format!("message {i:03} ").into_bytes();
            p.resize(4096, b'a' + (i % 26) as u8);
            p
        })
        .collect();
    let mut publisher = redis::Client::open(format!("redis://127.0.0.1:{port}/"))
        .unwrap()
        .get_connection()
        .unwrap();
    let receivers = payloads
        .iter()
        .map(|p| {
            redis::cmd("PUBLISH")
                .arg("ch")
                .arg(p.as_slice())
                .query(&mut publisher)
                .unwrap()
        })
        .collect();
    let expected: Vec<u8> = payloads.iter().flat_map(|p| message_frame(p)).collect();
    for (i, s) in subscribers.iter_mut().enumerate() {
        let mut got = vec![0; expected.len()];
        s.read_exact(&mut got).unwrap();
        assert!(
            got == expected,
            "{kind:?}: subscriber {i} received other bytes"
        );
    }
    receivers
}

/// A `message` push frame in RESP2.
fn message_frame(payload: &[u8]) -> Vec<u8> {
    let mut frame = b"*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n".to_vec();
    frame.extend_from_slice(format!("${}\r\n", payload.len()).as_bytes());
    frame.extend_from_slice(payload);
    frame.extend_from_slice(b"\r\n");
    frame
}

#[test]
fn pubsub_over_the_unix_socket_reaches_every_subscriber() {
    let redis = fan_out(Kind::Redis);
    let herald = fan_out(Kind::Herald);
    assert_eq!(herald, redis);
    assert_eq!(herald, vec![40; 20]);
}
