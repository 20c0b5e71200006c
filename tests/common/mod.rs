//! The harness every integration test uses: a real Herald on a free loopback port (port 0), in
//! its own runtime thread so a test's own runtime cannot starve it, plus a raw RESP client for
//! exact-byte assertions and `redis` crate connections for the client's view; and the real
//! binary as a child process ([`spawn_binary`]), killed by its PID when dropped, for what only
//! a process shows (its log, exit status, memory).
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use herald::config::Options;
use herald::server::Server;
use herald::state::ServerState;

/// A running server; dropping it shuts the server down.
pub struct TestServer {
    pub addr: SocketAddr,
    pub state: Arc<ServerState>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl TestServer {
    /// Starts a server with redis-server style options, e.g. `&["--requirepass", "pw"]`, and
    /// waits (bounded) until its append only file, if any, is loaded.
    pub fn start(extra: &[&str]) -> TestServer {
        let server = TestServer::start_loading(extra);
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        let stopped = |s: &TestServer| s.thread.as_ref().is_none_or(|t| t.is_finished());
        while server.state.persistence.is_loading() && !stopped(&server) {
            assert!(
                std::time::Instant::now() < deadline,
                "the append only file took over a minute to load"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        server
    }

    /// Starts a server and returns as soon as it accepts clients, which may be while it still
    /// loads its append only file.
    pub fn start_loading(extra: &[&str]) -> TestServer {
        let mut args = vec!["herald", "--port", "0", "--bind", "127.0.0.1"];
        args.extend_from_slice(extra);
        let options = Options::from_args(args).expect("test options parse");
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async move {
                let server = Server::bind(options).await.expect("bind");
                ready_tx
                    .send((server.local_addr().expect("a TCP port"), server.state()))
                    .expect("ready");
                if let Err(e) = server
                    .run(async {
                        let _ = stop_rx.await;
                    })
                    .await
                {
                    eprintln!("test server stopped: {e}");
                }
            });
        });
        let (addr, state) = ready_rx
            .recv_timeout(Duration::from_secs(10))
            .expect("server started");
        TestServer {
            addr,
            state,
            stop: Some(stop_tx),
            thread: Some(thread),
        }
    }

    pub fn url(&self) -> String {
        format!("redis://{}/", self.addr)
    }

    pub fn url_resp3(&self) -> String {
        format!("redis://{}/?protocol=resp3", self.addr)
    }

    /// A synchronous `redis` crate connection (RESP2).
    pub fn client(&self) -> redis::Connection {
        redis::Client::open(self.url())
            .expect("client")
            .get_connection()
            .expect("connect")
    }

    /// A raw socket speaking bytes, for exact replies.
    pub fn raw(&self) -> Raw {
        Raw::connect(self.addr)
    }

    /// A raw connection whose socket receives into a buffer of about `bytes` (the kernel's
    /// minimum at least), so that the server's writes to it stop early once it stops reading.
    pub fn raw_with_small_receive_buffer(&self, bytes: u32) -> Raw {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .build()
            .expect("runtime");
        let stream = runtime.block_on(async {
            let socket = tokio::net::TcpSocket::new_v4().expect("socket");
            socket.set_recv_buffer_size(bytes).expect("SO_RCVBUF");
            socket.connect(self.addr).await.expect("connect")
        });
        let stream = stream.into_std().expect("std stream");
        stream.set_nonblocking(false).expect("blocking");
        Raw::from_stream(stream)
    }
}

impl TestServer {
    /// Stops the server as dropping it does; true if its thread ended without a panic.
    pub fn stop(mut self) -> bool {
        self.halt()
    }

    /// Asks the server to stop and waits for its thread; false if that thread panicked.
    fn halt(&mut self) -> bool {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.thread
            .take()
            .is_none_or(|thread| thread.join().is_ok())
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.halt();
    }
}

/// A raw RESP connection with a read timeout, so a missing reply fails the test instead of
/// hanging it.
pub struct Raw {
    pub stream: TcpStream,
    buffer: Vec<u8>,
}

impl Raw {
    pub fn connect(addr: SocketAddr) -> Raw {
        Raw::from_stream(TcpStream::connect(addr).expect("connect"))
    }

    pub fn from_stream(stream: TcpStream) -> Raw {
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        stream.set_nodelay(true).ok();
        Raw {
            stream,
            buffer: Vec::new(),
        }
    }

    pub fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("write");
    }

    /// Sends a command as a RESP array of bulk strings.
    pub fn send_cmd(&mut self, args: &[&[u8]]) {
        self.send(&encode(args));
    }

    /// Sends a command and returns its one reply, as raw bytes.
    pub fn cmd(&mut self, args: &[&str]) -> String {
        let args: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        self.send_cmd(&args);
        self.reply()
    }

    /// Reads exactly one complete reply (any RESP2/RESP3 type), as a lossy string.
    pub fn reply(&mut self) -> String {
        String::from_utf8_lossy(&self.reply_bytes()).into_owned()
    }

    pub fn reply_bytes(&mut self) -> Vec<u8> {
        loop {
            if let Some(len) = frame_len(&self.buffer, 0) {
                return self.buffer.drain(..len).collect();
            }
            let mut chunk = [0u8; 65536];
            let n = self.stream.read(&mut chunk).expect("read reply");
            assert!(
                n > 0,
                "connection closed while waiting for a reply; have {:?}",
                String::from_utf8_lossy(&self.buffer)
            );
            self.buffer.extend_from_slice(&chunk[..n]);
        }
    }

    /// Reads until the server closes the connection; returns everything that arrived.
    pub fn read_to_close(&mut self) -> String {
        let mut all = std::mem::take(&mut self.buffer);
        let mut chunk = [0u8; 65536];
        loop {
            match self.stream.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => all.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break,
                Err(e) => panic!(
                    "read failed before close: {e}; have {:?}",
                    String::from_utf8_lossy(&all)
                ),
            }
        }
        String::from_utf8_lossy(&all).into_owned()
    }

    /// True if nothing arrives within `wait`.
    pub fn is_silent(&mut self, wait: Duration) -> bool {
        if !self.buffer.is_empty() {
            return false;
        }
        self.stream.set_read_timeout(Some(wait)).unwrap();
        let mut chunk = [0u8; 1024];
        let result = self.stream.read(&mut chunk);
        self.stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        match result {
            Ok(0) => false,
            Ok(n) => {
                self.buffer.extend_from_slice(&chunk[..n]);
                false
            }
            Err(_) => true,
        }
    }
}

/// A command as a RESP array of bulk strings, by Herald's own encoder (its AOF's).
pub fn encode(args: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    herald::persistence::resp::encode_into(&mut out, args);
    out
}

/// Length of the complete RESP2/RESP3 frame at `at`, if the buffer holds all of it.
pub fn frame_len(buf: &[u8], at: usize) -> Option<usize> {
    let line_end = buf[at..].windows(2).position(|w| w == b"\r\n")? + at;
    let header = &buf[at + 1..line_end];
    let after = line_end + 2;
    let number = || -> i64 {
        std::str::from_utf8(header)
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0)
    };
    match *buf.get(at)? {
        b'+' | b'-' | b':' | b'_' | b',' | b'#' | b'(' => Some(after - at),
        b'$' | b'=' | b'!' => {
            let n = number();
            if n < 0 {
                return Some(after - at);
            }
            let end = after + n as usize + 2;
            (buf.len() >= end).then_some(end - at)
        }
        b'*' | b'~' | b'>' | b'%' | b'|' => {
            let n = number();
            if n < 0 {
                return Some(after - at);
            }
            let items = if matches!(buf[at], b'%' | b'|') {
                n * 2
            } else {
                n
            };
            let mut pos = after;
            for _ in 0..items {
                pos += frame_len(buf, pos)?;
            }
            Some(pos - at)
        }
        _ => Some(after - at), // inline text or garbage: one line
    }
}

/// The value of an integer reply (`:n\r\n`).
pub fn int(reply: &str) -> i64 {
    reply
        .strip_prefix(':')
        .and_then(|r| r.strip_suffix("\r\n"))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("not an integer reply: {reply:?}"))
}

/// A counter of one command's INFO commandstats line
/// (`cmdstat_<command>:calls=N,usec=N,usec_per_call=N.NN,rejected_calls=N,failed_calls=N`).
pub fn cmdstat(stats: &str, command: &str, field: &str) -> u64 {
    let line = stats
        .split("\r\n")
        .find_map(|l| l.strip_prefix(&format!("cmdstat_{command}:")))
        .unwrap_or_else(|| panic!("no {command} in {stats}"));
    line.split(',')
        .find_map(|f| f.strip_prefix(field)?.strip_prefix('='))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no {field} for {command} in {stats}"))
}

/// The bulk strings of a flat array reply, sorted: for replies in hash-table order.
pub fn sorted_bulks(reply: &str) -> Vec<String> {
    let mut lines = reply.split("\r\n");
    let count: usize = lines
        .next()
        .and_then(|h| h.strip_prefix('*'))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("not an array: {reply:?}"));
    let mut items: Vec<String> = (0..count)
        .map(|_| {
            let header = lines.next().unwrap_or_default();
            assert!(header.starts_with('$'), "not a bulk string in {reply:?}");
            lines.next().unwrap_or_default().to_string()
        })
        .collect();
    items.sort();
    items
}

/// A loopback port free at the time of asking (for servers started as a separate process).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

/// The herald binary cargo built for these tests.
pub const BIN: &str = env!("CARGO_BIN_EXE_herald");

/// The real binary, killed by its PID when dropped.
pub struct Binary {
    pub child: Child,
    pub port: u16,
    /// Log lines up to and including the start-up line.
    pub log: Vec<String>,
}

impl Drop for Binary {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What starting the binary came to.
pub enum Started {
    Running(Binary),
    /// It exited: its status and everything it printed.
    Exited(std::process::ExitStatus, String),
}

/// Starts `herald --port 0 <args>` (a config file leading `args` stays first, where
/// redis-server's command line has it) and waits for its start-up line (or its exit).
pub fn spawn_binary(args: &[&str]) -> Started {
    let (file, rest) = match args.split_first() {
        Some((first, rest)) if !first.starts_with('-') => (Some(*first), rest),
        _ => (None, args),
    };
    // Owned by a `Binary` from the start, so any early return still kills and reaps it.
    let mut binary = Binary {
        child: Command::new(BIN)
            .args(file)
            .args(["--port", "0"])
            .args(rest)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn herald"),
        port: 0,
        log: Vec::new(),
    };
    // Lines are read on a thread of their own (and drained there once the server runs, so it
    // never blocks on a full pipe), so that waiting for the start-up line is bounded: a server
    // that never logs it (a `loglevel` above notice) fails the test instead of hanging it.
    let stdout = binary.child.stdout.take().expect("stdout");
    let (lines_tx, lines) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stdout);
        let mut line = String::new();
        while reader.read_line(&mut line).unwrap_or(0) > 0 {
            // Once the test stops listening, the rest is drained and dropped.
            let _ = lines_tx.send(std::mem::take(&mut line));
        }
    });
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let mut log = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let line = match lines.recv_timeout(left) {
            Ok(line) => line,
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                panic!("herald {args:?} logged no start-up line in 30 s: {log:?}")
            }
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                let status = binary.child.wait().expect("wait");
                let mut err = String::new();
                if let Some(mut e) = binary.child.stderr.take() {
                    let _ = std::io::Read::read_to_string(&mut e, &mut err);
                }
                return Started::Exited(status, log.join("") + &err);
            }
        };
        // "... on <ip:port>", or "... at <path>" when only a Unix socket is served (port 0).
        let tcp = line.find("ready to accept connections on ");
        if tcp.is_some() || line.contains("ready to accept connections at ") {
            let port = tcp.map_or(0, |at| {
                let rest = &line[at + "ready to accept connections on ".len()..];
                let addr = rest.split_whitespace().next().unwrap_or_default();
                addr.rsplit(':')
                    .next()
                    .and_then(|p| p.parse().ok())
                    .expect("port")
            });
            log.push(line);
            binary.port = port;
            binary.log = log;
            return Started::Running(binary);
        }
        log.push(line);
    }
}

/// A redis-server of the test's own, stopped by its PID when dropped.
pub struct RedisServer(pub Child);

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `redis-server <args>` on loopback `port` with `dir` as its directory, in the
/// foreground, and waits until it accepts connections. `args` come first, so a config file
/// may lead them as redis-server requires.
pub fn start_redis_server(args: &[&str], port: u16, dir: &std::path::Path) -> RedisServer {
    let child = Command::new("redis-server")
        .args(args)
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--daemonize", "no", "--dir"])
        .arg(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("redis-server on PATH (apt-get install redis-server; .ci/run does)");
    let redis = RedisServer(child);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "redis-server {args:?} did not start"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    redis
}

pub fn running(started: Started) -> Binary {
    match started {
        Started::Running(b) => b,
        Started::Exited(status, out) => panic!("herald exited ({status}): {out}"),
    }
}

/// Polls `f` every 10 ms until it holds; fails the test after 5 s, naming `what`.
pub fn wait_until(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while !f() {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Sends `request` (one command or several pipelined) on `raw`, then waits until `admin` sees
/// one client blocked: the first command is waiting (XREAD BLOCK, WAIT, WAITAOF ...).
pub fn send_until_blocked(raw: &mut Raw, admin: &mut Raw, request: &[u8]) {
    raw.send(request);
    wait_until("the command to block", || {
        blocked_clients(admin) == "blocked_clients:1"
    });
}

/// INFO's `blocked_clients:<n>` line.
pub fn blocked_clients(c: &mut Raw) -> String {
    let info = c.cmd(&["INFO", "clients"]);
    info.lines()
        .find(|l| l.starts_with("blocked_clients:"))
        .unwrap_or("")
        .to_owned()
}
