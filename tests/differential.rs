//! Differential transcripts: every script in `compat/transcripts/` runs against a real
//! `redis-server` and against Herald, in RESP2 and again in RESP3, and the raw replies must agree
//! byte for byte after normalising only what must differ (generated stream ids, client ids,
//! addresses, versions). A reply that differs on purpose is marked in the script with
//! `#!known <id>`, and `<id>` must be explained in `compat/KNOWN_DIFFERENCES.md`.
//!
//! Script syntax, one step per line:
//! - `SET k v` — a command on connection A, split as redis-cli splits a line (quotes, `\xHH`);
//! - `@B SUBSCRIBE ch` — a command on connection B (opened on first use; C, D... likewise);
//! - `!raw <bytes>` / `@B !raw <bytes>` — raw bytes with `\r`, `\n`, `\xHH` escapes;
//! - `!sleep <ms>`, `!close B`, `!proto 2` (the script runs in RESP2 only), `# comment`;
//! - a trailing `#!times` compares the reply with its integers blanked (idle times); `#!idles`
//!   blanks only every other integer, from the first: XPENDING's idle times, not its delivery
//!   counts.
//!
//! After each step the runner waits for the connection's first reply (unless the step ends in
//! `#!noreply`), then collects every frame any connection receives until the servers go quiet,
//! so pushes to other connections are compared too.
//!
//! `redis-server` must be on PATH (`.ci/run` and `compat/run` install it).
mod common;

use std::collections::{BTreeMap, HashMap};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::TestServer;

/// A `redis-server` child on a free loopback port, stopped by its PID when dropped.
struct RedisServer {
    child: Child,
    addr: SocketAddr,
}

impl RedisServer {
    fn start() -> RedisServer {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server on PATH (apt-get install redis-server; .ci/run does)");
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(addr).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        RedisServer { child, addr }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One connection's socket and the bytes it has received but not yet framed.
struct Conn {
    stream: TcpStream,
    pending: Vec<u8>,
}

impl Conn {
    fn open(addr: SocketAddr, resp3: bool) -> Conn {
        let stream = TcpStream::connect(addr).expect("connect");
        stream.set_nodelay(true).ok();
        let mut conn = Conn {
            stream,
            pending: Vec::new(),
        };
        if resp3 {
            conn.send(b"HELLO 3\r\n");
            conn.frames(Duration::from_secs(5), Duration::from_millis(1));
        }
        conn
    }

    fn send(&mut self, bytes: &[u8]) {
        let _ = self.stream.write_all(bytes);
    }

    /// Reads whole frames: waits up to `first` for the first, then until `quiet` passes
    /// without more. A closed connection shows as a final `<closed>` frame.
    fn frames(&mut self, first: Duration, quiet: Duration) -> Vec<String> {
        let mut out = Vec::new();
        let mut wait = first;
        loop {
            while let Some(len) = common::frame_len(&self.pending, 0) {
                let frame: Vec<u8> = self.pending.drain(..len).collect();
                out.push(String::from_utf8_lossy(&frame).into_owned());
                wait = quiet;
            }
            self.stream.set_read_timeout(Some(wait)).unwrap();
            let mut chunk = [0u8; 65536];
            match self.stream.read(&mut chunk) {
                Ok(0) => {
                    if !self.pending.is_empty() {
                        out.push(String::from_utf8_lossy(&self.pending).into_owned());
                        self.pending.clear();
                    }
                    out.push("<closed>".into());
                    self.stream
                        .set_read_timeout(Some(Duration::from_millis(1)))
                        .ok();
                    return out;
                }
                Ok(n) => self.pending.extend_from_slice(&chunk[..n]),
                Err(_) => return out,
            }
        }
    }
}

/// The same session against one server: named connections.
struct Side {
    addr: SocketAddr,
    resp3: bool,
    conns: BTreeMap<String, Conn>,
    /// Stream ids seen, mapped to ordinals so generated ids compare equal.
    ids: HashMap<String, usize>,
}

impl Side {
    fn conn(&mut self, name: &str) -> &mut Conn {
        let (addr, resp3) = (self.addr, self.resp3);
        self.conns
            .entry(name.to_owned())
            .or_insert_with(|| Conn::open(addr, resp3))
    }
}

#[derive(Debug)]
enum Step {
    Send {
        conn: String,
        bytes: Vec<u8>,
        expect_reply: bool,
    },
    Sleep(u64),
    Close(String),
}

struct Line {
    number: usize,
    text: String,
    step: Step,
    known: Option<String>,
    /// What of the reply is not compared.
    scrub: Scrub,
}

/// Integers a reply carries that move with the clock.
#[derive(Clone, Copy, PartialEq)]
enum Scrub {
    Nothing,
    /// `#!times`: every integer.
    Integers,
    /// `#!idles`: the first, third, fifth... integer (XPENDING's idle time before each count).
    Alternate,
}

fn unescape(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' && i + 1 < bytes.len() {
            match bytes[i + 1] {
                b'r' => out.push(b'\r'),
                b'n' => out.push(b'\n'),
                b't' => out.push(b'\t'),
                b'\\' => out.push(b'\\'),
                b'x' if i + 3 < bytes.len() => {
                    let hex = std::str::from_utf8(&bytes[i + 2..i + 4]).unwrap_or("00");
                    out.push(u8::from_str_radix(hex, 16).unwrap_or(0));
                    i += 2;
                }
                other => {
                    out.push(b'\\');
                    out.push(other);
                }
            }
            i += 2;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    out
}

fn encode(args: &[Vec<u8>]) -> Vec<u8> {
    let refs: Vec<&[u8]> = args.iter().map(|a| a.as_slice()).collect();
    common::encode(&refs)
}

/// Parses a script; also returns whether it is limited to RESP2.
fn parse_script(path: &Path) -> (Vec<Line>, bool) {
    let text = std::fs::read_to_string(path).expect("read transcript");
    let mut lines = Vec::new();
    let mut resp2_only = false;
    for (index, raw) in text.lines().enumerate() {
        let mut body = raw.trim_end().to_owned();
        let mut known = None;
        let mut expect_reply = true;
        if let Some(at) = body.find(" #!known ") {
            known = Some(body[at + 9..].trim().to_owned());
            body.truncate(at);
        }
        if let Some(at) = body.find(" #!noreply") {
            expect_reply = false;
            body.truncate(at);
        }
        let mut scrub = Scrub::Nothing;
        for (marker, kind) in [
            (" #!times", Scrub::Integers),
            (" #!idles", Scrub::Alternate),
        ] {
            if let Some(at) = body.find(marker) {
                scrub = kind;
                body.truncate(at);
            }
        }
        let trimmed = body.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        if trimmed == "!proto 2" {
            resp2_only = true;
            continue;
        }
        let (conn, rest) = match trimmed.strip_prefix('@') {
            Some(r) => {
                let (name, rest) = r.split_once(' ').unwrap_or((r, ""));
                (name.to_owned(), rest.trim())
            }
            None => ("A".to_owned(), trimmed),
        };
        let step = if let Some(ms) = rest.strip_prefix("!sleep ") {
            Step::Sleep(ms.trim().parse().expect("sleep ms"))
        } else if let Some(name) = rest.strip_prefix("!close") {
            let name = name.trim();
            Step::Close(if name.is_empty() {
                conn
            } else {
                name.to_owned()
            })
        } else if let Some(raw) = rest.strip_prefix("!raw ") {
            Step::Send {
                conn,
                bytes: unescape(raw),
                expect_reply,
            }
        } else {
            let args = herald::protocol::split::split_args(rest.as_bytes())
                .unwrap_or_else(|_| panic!("{}:{}: unbalanced quotes", path.display(), index + 1));
            Step::Send {
                conn,
                bytes: encode(&args),
                expect_reply,
            }
        };
        lines.push(Line {
            number: index + 1,
            text: trimmed.to_owned(),
            step,
            known,
            scrub,
        });
    }
    (lines, resp2_only)
}

/// Replaces what legitimately differs between two servers with placeholders.
fn normalise(frame: &str, ids: &mut HashMap<String, usize>) -> String {
    let mut out = String::with_capacity(frame.len());
    let bytes = frame.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        // A stream id generated from the clock: 13 digits, '-', digits.
        if bytes[i].is_ascii_digit() && (i == 0 || !bytes[i - 1].is_ascii_alphanumeric()) {
            let start = i;
            let mut j = i;
            while j < bytes.len() && bytes[j].is_ascii_digit() {
                j += 1;
            }
            if j - start >= 13 && j < bytes.len() && bytes[j] == b'-' {
                let mut k = j + 1;
                while k < bytes.len() && bytes[k].is_ascii_digit() {
                    k += 1;
                }
                if k > j + 1 {
                    let id = &frame[start..k];
                    let next = ids.len();
                    let ordinal = *ids.entry(id.to_owned()).or_insert(next);
                    let placeholder = format!("<id{ordinal}>");
                    out.push_str(&placeholder);
                    i = k;
                    continue;
                }
            }
            out.push_str(&frame[start..j]);
            i = j;
            continue;
        }
        out.push(bytes[i] as char);
        i += 1;
    }
    let out = without_ports(&out);
    // Bulk lengths change when an id is replaced: drop them before ids are compared.
    let mut lines: Vec<String> = out.split("\r\n").map(str::to_owned).collect();
    for line in &mut lines {
        if line.starts_with('$') && line[1..].chars().all(|c| c.is_ascii_digit() || c == '-') {
            *line = "$".into();
        }
    }
    lines.join("\r\n")
}

/// Redis 7.0's reply reworded as 7.4 words it, where only the words changed (see `help-footer`
/// in KNOWN_DIFFERENCES.md), so that the rest of the reply is still compared.
fn as_in_7_4(frame: &str) -> String {
    frame.replace(
        "\r\n+    Prints this help.\r\n",
        "\r\n+    Print this help.\r\n",
    )
}

/// A client's address (SLOWLOG GET, CLIENT LIST) with its port, which differs per connection,
/// written `127.0.0.1:<port>`.
fn without_ports(frame: &str) -> String {
    const HOST: &str = "127.0.0.1:";
    let mut out = String::with_capacity(frame.len());
    let mut rest = frame;
    while let Some(at) = rest.find(HOST) {
        let after = &rest[at + HOST.len()..];
        let digits = after.bytes().take_while(u8::is_ascii_digit).count();
        out.push_str(&rest[..at + HOST.len()]);
        if digits > 0 {
            out.push_str("<port>");
        }
        rest = &after[digits..];
    }
    out.push_str(rest);
    out
}

/// Replaces RESP integers (`:123`) with `:<n>`, for replies that carry durations: every one,
/// or (`Scrub::Alternate`) every other one from the first.
fn scrub_integers(frame: &str, scrub: Scrub) -> String {
    let mut seen = 0;
    frame
        .split("\r\n")
        .map(|l| {
            if !l.starts_with(':') || scrub == Scrub::Nothing {
                return l;
            }
            seen += 1;
            if scrub == Scrub::Integers || seen % 2 == 1 {
                ":<n>"
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\r\n")
}

struct Mismatch {
    file: String,
    line: usize,
    text: String,
    resp3: bool,
    conn: String,
    redis: Vec<String>,
    herald: Vec<String>,
}

fn run_script(
    path: &Path,
    lines: &[Line],
    redis: SocketAddr,
    herald: SocketAddr,
    resp3: bool,
    mismatches: &mut Vec<Mismatch>,
    compared: &mut usize,
) {
    let mut sides = [redis, herald].map(|addr| Side {
        addr,
        resp3,
        conns: BTreeMap::new(),
        ids: HashMap::new(),
    });
    for side in sides.iter_mut() {
        let admin = side.conn("__admin");
        admin.send(
            b"FLUSHALL\r\nCONFIG SET notify-keyspace-events \"\"\r\nCONFIG SET maxmemory 0\r\nCONFIG SET slowlog-log-slower-than 10000\r\nCONFIG SET slowlog-max-len 128\r\nCONFIG SET latency-monitor-threshold 0\r\nLATENCY RESET\r\nCONFIG SET latency-tracking yes\r\nCONFIG SET latency-tracking-info-percentiles \"50 99 99.9\"\r\nCONFIG RESETSTAT\r\n",
        );
        admin.frames(Duration::from_secs(5), Duration::from_millis(20));
    }
    for line in lines {
        match &line.step {
            Step::Sleep(ms) => std::thread::sleep(Duration::from_millis(*ms)),
            Step::Close(name) => sides.iter_mut().for_each(|s| {
                s.conns.remove(name);
            }),
            Step::Send {
                conn,
                bytes,
                expect_reply,
            } => {
                for side in sides.iter_mut() {
                    side.conn(conn).send(bytes);
                }
                let first = if *expect_reply {
                    Duration::from_secs(5)
                } else {
                    Duration::from_millis(150)
                };
                let mut replies: [BTreeMap<String, Vec<String>>; 2] = Default::default();
                std::thread::scope(|scope| {
                    for (side, out) in sides.iter_mut().zip(replies.iter_mut()) {
                        scope.spawn(|| {
                            let frames = side.conn(conn).frames(first, Duration::from_millis(15));
                            out.insert(conn.clone(), frames);
                        });
                    }
                });
                // Pushes to the other connections.
                for (side, out) in sides.iter_mut().zip(replies.iter_mut()) {
                    for (name, c) in side.conns.iter_mut() {
                        if name != conn {
                            let frames =
                                c.frames(Duration::from_millis(1), Duration::from_millis(1));
                            if !frames.is_empty() {
                                out.insert(name.clone(), frames);
                            }
                        }
                    }
                }
                let [redis_replies, herald_replies] = replies;
                let names: std::collections::BTreeSet<&String> =
                    redis_replies.keys().chain(herald_replies.keys()).collect();
                for name in names {
                    let empty = Vec::new();
                    let r = redis_replies.get(name).unwrap_or(&empty);
                    let h = herald_replies.get(name).unwrap_or(&empty);
                    let scrub = |f: String| scrub_integers(&f, line.scrub);
                    let rn: Vec<String> = r
                        .iter()
                        .map(|f| scrub(normalise(&as_in_7_4(f), &mut sides[0].ids)))
                        .collect();
                    let hn: Vec<String> = h
                        .iter()
                        .map(|f| scrub(normalise(f, &mut sides[1].ids)))
                        .collect();
                    *compared += 1;
                    if rn != hn && line.known.is_none() && !name.starts_with("__") {
                        mismatches.push(Mismatch {
                            file: path.file_name().unwrap().to_string_lossy().into_owned(),
                            line: line.number,
                            text: line.text.clone(),
                            resp3,
                            conn: name.clone(),
                            redis: r.clone(),
                            herald: h.clone(),
                        });
                    }
                }
            }
        }
    }
}

fn transcripts() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("compat/transcripts");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("compat/transcripts")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    files.sort();
    if let Ok(only) = std::env::var("TRANSCRIPT") {
        files.retain(|p| p.to_string_lossy().contains(&only));
    }
    files
}

#[test]
fn transcripts_reply_as_redis_does() {
    let known = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("compat/KNOWN_DIFFERENCES.md"),
    )
    .expect("compat/KNOWN_DIFFERENCES.md");
    let redis = RedisServer::start();
    let herald = TestServer::start(&[]);
    let mut mismatches = Vec::new();
    let mut compared = 0;
    let mut commands = 0;
    for path in transcripts() {
        let (lines, resp2_only) = parse_script(&path);
        for line in &lines {
            if let Some(id) = &line.known {
                assert!(
                    known.contains(&format!("`{id}`")),
                    "{}:{} marks `{id}`, which compat/KNOWN_DIFFERENCES.md does not explain",
                    path.display(),
                    line.number
                );
            }
        }
        commands += lines.len();
        for resp3 in [false, true] {
            if resp3 && resp2_only {
                continue;
            }
            run_script(
                &path,
                &lines,
                redis.addr,
                herald.addr,
                resp3,
                &mut mismatches,
                &mut compared,
            );
        }
    }
    for m in &mismatches {
        eprintln!(
            "MISMATCH {}:{} [{}] conn {}: {}\n  redis:  {:?}\n  herald: {:?}",
            m.file,
            m.line,
            if m.resp3 { "RESP3" } else { "RESP2" },
            m.conn,
            m.text,
            m.redis,
            m.herald
        );
    }
    eprintln!(
        "differential: {commands} script lines, {compared} reply comparisons, {} mismatches",
        mismatches.len()
    );
    assert!(
        mismatches.is_empty(),
        "{} replies differ from Redis",
        mismatches.len()
    );
}
