//! Herald against redis-server, side by side, in one run.
//!
//! `cargo bench` (or `cargo bench -- --quick`, under two minutes) builds the release binary,
//! starts Herald and `redis-server --save '' --appendonly no` on free loopback ports, pinned to
//! core 0 while this load generator pins itself to core 1, runs every scenario against both in
//! turn (A B A B ..., so drift on a shared machine cancels), stops both by PID, and prints a
//! table: scenario, Herald, Redis, ratio of the medians (five rounds each, two with `--quick`)
//! and the spread of the rounds' paired ratios. Throughputs are also given per second of
//! *server* CPU time (utime + stime from /proc), so a saturated load generator cannot hide the
//! server's efficiency. `--write` (implied without `--quick`) records the table in `benches/RESULTS.md`
//! and a chart of the ratios in `benches/ratios.svg`.
//!
//! Every loop here is bounded by a count or a deadline.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

// ---------------------------------------------------------------------------------------------
// Servers

struct Server {
    name: &'static str,
    child: Child,
    addr: SocketAddr,
    /// The AOF directory of a persistence scenario, removed with the server.
    dir: Option<PathBuf>,
}

impl Server {
    fn start(name: &'static str, program: &Path, extra: &[&str]) -> Server {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut args: Vec<String> = vec![
            "-c".into(),
            "0".into(),
            program.display().to_string(),
            "--port".into(),
            port.to_string(),
            "--bind".into(),
            "127.0.0.1".into(),
        ];
        if program.ends_with("redis-server") {
            args.extend(["--save", "", "--appendonly", "no"].map(String::from));
        } else {
            args.extend(["--loglevel", "warning"].map(String::from));
        }
        args.extend(extra.iter().map(|s| s.to_string()));
        let child = Command::new("taskset")
            .args(&args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("taskset (util-linux) and the server binary");
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(addr).is_err() {
            assert!(Instant::now() < deadline, "{name} did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        Server {
            name,
            child,
            addr,
            dir: None,
        }
    }

    /// A server with the AOF on under `fsync`, in a fresh directory on the disk (not tmpfs, so
    /// that an fsync costs what it costs).
    fn start_with_aof(name: &'static str, program: &Path, root: &Path, fsync: &str) -> Server {
        let dir = root.join(format!(
            "target/bench-aof/{name}-{fsync}-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("AOF directory");
        let dir_arg = dir.display().to_string();
        let args = [
            "--appendonly",
            "yes",
            "--appendfsync",
            fsync,
            "--dir",
            dir_arg.as_str(),
        ];
        let mut server = Server::start(name, program, &args);
        server.dir = Some(dir);
        server
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// utime + stime in seconds.
    fn cpu(&self) -> f64 {
        cpu_seconds(&format!("/proc/{}/stat", self.pid()))
    }

    fn rss(&self) -> u64 {
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap_or_default();
        status
            .lines()
            .find(|l| l.starts_with("VmRSS:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<u64>().ok())
            .map_or(0, |kb| kb * 1024)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(dir) = &self.dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

fn cpu_seconds(stat_path: &str) -> f64 {
    let stat = std::fs::read_to_string(stat_path).unwrap_or_default();
    // Fields after the command name, which is in parentheses and may contain spaces.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

// ---------------------------------------------------------------------------------------------
// A small RESP client: pre-encoded requests, replies counted (or parsed) without allocation
// where the scenario does not need their contents.

/// A command as a RESP array of bulk strings, by Herald's own encoder (its AOF's).
fn encode(args: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    herald::persistence::resp::encode_into(&mut out, args);
    out
}

/// The end of the line starting at `from` (past its `\n`). Header lines are a few bytes:
/// a plain loop beats a vectorised search on them, and the load generator is on the critical
/// path of every fan-out scenario.
fn line_end(buf: &[u8], from: usize) -> Option<usize> {
    buf.get(from..)?
        .iter()
        .position(|&b| b == b'\n')
        .map(|i| from + i + 1)
}

/// The integer of a header line `<type><digits>\r\n` (`from` after the type byte).
fn number(buf: &[u8], from: usize, to: usize) -> i64 {
    let digits = &buf[from..to.saturating_sub(2)];
    let (negative, digits) = match digits.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, digits),
    };
    let n = digits
        .iter()
        .fold(0i64, |n, &d| n * 10 + i64::from(d.wrapping_sub(b'0')));
    if negative {
        -n
    } else {
        n
    }
}

/// Length of the complete frame at the start of `buf`, if it is all there.
fn frame_len(buf: &[u8]) -> Option<usize> {
    fn at(buf: &[u8], pos: usize) -> Option<usize> {
        let end = line_end(buf, pos)?;
        match buf.get(pos)? {
            b'$' | b'=' | b'!' => {
                let n = number(buf, pos + 1, end);
                if n < 0 {
                    return Some(end);
                }
                let total = end + n as usize + 2;
                (buf.len() >= total).then_some(total)
            }
            b'*' | b'>' | b'~' | b'%' => {
                let n = number(buf, pos + 1, end);
                let n = if buf[pos] == b'%' { n * 2 } else { n };
                let mut p = end;
                for _ in 0..n.max(0) {
                    p = at(buf, p)?;
                }
                Some(p)
            }
            _ => Some(end),
        }
    }
    at(buf, 0)
}

/// Where the last bulk string's payload starts in `frame`, when `frame` is an array (or push)
/// of bulk strings only: everything before it (the headers, every other element, the last
/// one's length) is the frame's *shape*.
fn shape_len(frame: &[u8]) -> Option<usize> {
    if !matches!(frame.first(), Some(b'*' | b'>')) {
        return None;
    }
    let end = line_end(frame, 0)?;
    let count = usize::try_from(number(frame, 1, end)).ok()?;
    let mut pos = end;
    for i in 0..count {
        if frame.get(pos) != Some(&b'$') {
            return None;
        }
        let end = line_end(frame, pos)?;
        if i + 1 == count {
            return Some(end);
        }
        pos = end + usize::try_from(number(frame, pos + 1, end)).ok()? + 2;
    }
    None
}

struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
    start: usize,
    /// The shape (see `shape_len`) of the last frame parsed in full, and that frame's length.
    /// A frame that begins with the same bytes is the same length, the last bulk's length being
    /// part of them, so the fan-out subscribers' stream of like messages is framed by one
    /// comparison each instead of a parse: the load generator, not the server, was the limit.
    shape: Vec<u8>,
    shape_frame_len: usize,
}

impl Conn {
    async fn open(addr: SocketAddr) -> Conn {
        let stream = TcpStream::connect(addr).await.expect("connect");
        stream.set_nodelay(true).ok();
        Conn {
            stream,
            buf: Vec::with_capacity(1 << 16),
            start: 0,
            shape: Vec::new(),
            shape_frame_len: 0,
        }
    }

    async fn send(&mut self, bytes: &[u8]) -> bool {
        self.stream.write_all(bytes).await.is_ok()
    }

    /// Reads until at least one more frame is complete; returns the frames (as slices) that
    /// completed, via the callback. False when the connection closed.
    async fn frames(&mut self, mut each: impl FnMut(&[u8])) -> bool {
        loop {
            let mut got = false;
            loop {
                let rest = &self.buf[self.start..];
                let len = if !self.shape.is_empty()
                    && rest.len() >= self.shape_frame_len
                    && rest.starts_with(&self.shape)
                {
                    self.shape_frame_len
                } else if let Some(len) = frame_len(rest) {
                    self.shape.clear();
                    if let Some(shape) = shape_len(&rest[..len]) {
                        self.shape.extend_from_slice(&rest[..shape]);
                        self.shape_frame_len = len;
                    }
                    len
                } else {
                    break;
                };
                each(&self.buf[self.start..self.start + len]);
                self.start += len;
                got = true;
            }
            if self.start > 0 && (self.start == self.buf.len() || self.start > (1 << 20)) {
                self.buf.drain(..self.start);
                self.start = 0;
            }
            if got {
                return true;
            }
            if self.buf.capacity() - self.buf.len() < 16384 {
                self.buf.reserve(1 << 16);
            }
            match self.stream.read_buf(&mut self.buf).await {
                Ok(0) | Err(_) => return false,
                Ok(_) => {}
            }
        }
    }

    /// Sends one command and returns its reply.
    async fn call(&mut self, args: &[&[u8]]) -> Vec<u8> {
        self.send(&encode(args)).await;
        let mut reply = Vec::new();
        self.frames(|f| {
            if reply.is_empty() {
                reply = f.to_vec();
            }
        })
        .await;
        reply
    }
}

// ---------------------------------------------------------------------------------------------
// Measurements

#[derive(Default, Clone)]
struct Measure {
    /// Operations (or deliveries, or entries) per second.
    rate: f64,
    /// The same per second of server CPU time.
    per_cpu: f64,
    p50_us: f64,
    p99_us: f64,
    /// Scenario-specific value (bytes per entry, peak RSS...).
    value: f64,
    client_cpu: f64,
    note: String,
}

/// Runs `work` for a measured span, adding the server's and our own CPU use to its figures.
async fn measured<F, Fut>(server: &Server, work: F) -> Measure
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = (u64, Duration)>,
{
    let cpu0 = server.cpu();
    let me0 = cpu_seconds("/proc/self/stat");
    let (count, elapsed) = work().await;
    let cpu = (server.cpu() - cpu0).max(0.01);
    let me = cpu_seconds("/proc/self/stat") - me0;
    Measure {
        rate: count as f64 / elapsed.as_secs_f64(),
        per_cpu: count as f64 / cpu,
        client_cpu: me / elapsed.as_secs_f64(),
        ..Default::default()
    }
}

/// `connections` clients each keeping `pipeline` copies of `request` in flight for `span`.
async fn closed_loop(
    addr: SocketAddr,
    request: Vec<u8>,
    connections: usize,
    pipeline: usize,
    span: Duration,
) -> (u64, Duration) {
    let done = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let batch: Vec<u8> = request.repeat(pipeline);
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let (done, stop, batch) = (done.clone(), stop.clone(), batch.clone());
        tasks.push(tokio::spawn(async move {
            let mut c = Conn::open(addr).await;
            while !stop.load(Relaxed) {
                if !c.send(&batch).await {
                    return;
                }
                let mut left = pipeline;
                while left > 0 {
                    let mut n = 0;
                    if !c.frames(|_| n += 1).await {
                        return;
                    }
                    left = left.saturating_sub(n);
                    done.fetch_add(n as u64, Relaxed);
                }
            }
        }));
    }
    let started = Instant::now();
    tokio::time::sleep(span).await;
    let count = done.load(Relaxed);
    let elapsed = started.elapsed();
    stop.store(true, Relaxed);
    for t in tasks {
        let _ = tokio::time::timeout(Duration::from_secs(5), t).await;
    }
    (count, elapsed)
}

/// Microseconds since the run began, written into payloads for latency.
fn now_us(origin: Instant) -> u64 {
    origin.elapsed().as_micros() as u64
}

/// Traffic before a fan-out measurement starts.
const WARMUP: Duration = Duration::from_millis(300);

struct FanOut {
    publishers: usize,
    subscribers: usize,
    payload: usize,
    pattern: bool,
}

/// Publishers publish as fast as subscribers keep up (bounded in-flight deliveries, so no
/// output buffer grows without bound); returns deliveries per second. With `rate` set, publishes
/// at that total rate instead and records publish-to-receive latency.
async fn fan_out(server: &Server, f: &FanOut, span: Duration, rate: Option<u64>) -> Measure {
    let addr = server.addr;
    let origin = Instant::now();
    let delivered = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let latencies = Arc::new(std::sync::Mutex::new(Vec::<u64>::new()));
    let mut subs = Vec::new();
    let ready = Arc::new(AtomicU64::new(0));
    // Latencies count from the end of the warm-up (microseconds after `origin`).
    let measured_from = Arc::new(AtomicU64::new(u64::MAX));
    for _ in 0..f.subscribers {
        let (delivered, stop, latencies, ready, measured_from) = (
            delivered.clone(),
            stop.clone(),
            latencies.clone(),
            ready.clone(),
            measured_from.clone(),
        );
        let pattern = f.pattern;
        let record = rate.is_some();
        subs.push(tokio::spawn(async move {
            let mut c = Conn::open(addr).await;
            let req: &[&[u8]] = if pattern {
                &[b"PSUBSCRIBE", b"bench.*"]
            } else {
                &[b"SUBSCRIBE", b"bench.ch"]
            };
            c.call(req).await;
            ready.fetch_add(1, Relaxed);
            let mut local = Vec::new();
            while !stop.load(Relaxed) {
                let mut n = 0u64;
                // Bounded in a latency round, so that a subscriber waiting when the publishers
                // stop sees `stop` and hands in its samples rather than being aborted with them.
                let frames = c.frames(|frame| {
                    n += 1;
                    if record {
                        // The payload is the last bulk: 16 digits of microseconds, then padding.
                        if let Some(pos) = memchr::memmem::rfind(frame, b"\r\nT") {
                            let digits = &frame[pos + 3..(pos + 19).min(frame.len())];
                            if let Some(sent) = std::str::from_utf8(digits)
                                .ok()
                                .and_then(|s| s.parse::<u64>().ok())
                            {
                                if sent >= measured_from.load(Relaxed) {
                                    local.push(now_us(origin).saturating_sub(sent));
                                }
                            }
                        }
                    }
                });
                // Only a latency round has samples to hand in; a timer per read would cost
                // the throughput rounds a tenth of the load generator.
                let alive = if record {
                    tokio::time::timeout(Duration::from_millis(100), frames).await
                } else {
                    Ok(frames.await)
                };
                delivered.fetch_add(n, Relaxed);
                if alive == Ok(false) {
                    break;
                }
            }
            latencies.lock().unwrap().extend(local);
        }));
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    while (ready.load(Relaxed) as usize) < f.subscribers && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let published = Arc::new(AtomicU64::new(0));
    let per_publisher_rate = rate.map(|r| (r / f.publishers as u64).max(1));
    let window = (256 * 1024 / (f.payload.max(64) * f.subscribers.max(1))).clamp(1, 64) as u64;
    let mut pubs = Vec::new();
    for _ in 0..f.publishers {
        let (delivered, stop, published) = (delivered.clone(), stop.clone(), published.clone());
        let subscribers = f.subscribers as u64;
        let payload_len = f.payload;
        pubs.push(tokio::spawn(async move {
            let mut c = Conn::open(addr).await;
            let mut sent = 0u64;
            let started = Instant::now();
            while !stop.load(Relaxed) {
                if let Some(r) = per_publisher_rate {
                    let due = started + Duration::from_micros(sent * 1_000_000 / r);
                    tokio::time::sleep_until(due.into()).await;
                } else {
                    // Keep at most `window` messages per subscriber undelivered.
                    let guard = Instant::now() + Duration::from_secs(5);
                    while published.load(Relaxed) * subscribers
                        > delivered.load(Relaxed) + window * subscribers * 8
                        && !stop.load(Relaxed)
                        && Instant::now() < guard
                    {
                        tokio::task::yield_now().await;
                    }
                }
                let mut payload = format!("T{:016}", now_us(origin)).into_bytes();
                payload.resize(payload_len.max(17), b'x');
                let channel: &[u8] = b"bench.ch";
                let batch = if per_publisher_rate.is_some() {
                    1
                } else {
                    window as usize
                };
                let req = encode(&[b"PUBLISH", channel, &payload]).repeat(batch);
                if !c.send(&req).await {
                    return;
                }
                let mut left = batch;
                while left > 0 {
                    let mut n = 0;
                    if !c.frames(|_| n += 1).await {
                        return;
                    }
                    left = left.saturating_sub(n);
                }
                sent += batch as u64;
                published.fetch_add(batch as u64, Relaxed);
            }
        }));
    }
    // A warm-up, so that neither server is measured while it still grows its buffers.
    tokio::time::sleep(WARMUP).await;
    measured_from.store(now_us(origin), Relaxed);
    let mut m = measured(server, || async {
        let d0 = delivered.load(Relaxed);
        let started = Instant::now();
        tokio::time::sleep(span).await;
        (delivered.load(Relaxed) - d0, started.elapsed())
    })
    .await;
    stop.store(true, Relaxed);
    for t in pubs {
        let _ = tokio::time::timeout(Duration::from_secs(2), t).await;
    }
    // In a latency round subscribers see `stop` within their 100 ms read bound and hand in
    // their samples; only one stuck past that is aborted (aborting at once lost every sample
    // of a round). Otherwise they are aborted at once.
    let aborts: Vec<_> = subs.iter().map(|t| t.abort_handle()).collect();
    if rate.is_none() {
        aborts.iter().for_each(|a| a.abort());
    }
    let deadline = Instant::now() + Duration::from_secs(2);
    for t in subs {
        let _ = tokio::time::timeout_at(deadline.into(), t).await;
    }
    aborts.iter().for_each(|a| a.abort());
    let mut lat = latencies.lock().unwrap().clone();
    if rate.is_some() && lat.is_empty() {
        m.p50_us = f64::NAN;
        m.p99_us = f64::NAN;
    }
    if !lat.is_empty() {
        lat.sort_unstable();
        m.p50_us = lat[lat.len() / 2] as f64;
        m.p99_us = lat[(lat.len() * 99 / 100).min(lat.len() - 1)] as f64;
    }
    m
}

/// Parses the ids out of an XREADGROUP reply (one stream): every `$N\r\n<ms>-<seq>` that
/// follows a `*2\r\n` entry header.
fn entry_ids(reply: &[u8]) -> Vec<Vec<u8>> {
    let mut ids = Vec::new();
    let mut pos = 0;
    while let Some(i) = memchr::memmem::find(&reply[pos..], b"*2\r\n$") {
        let start = pos + i + 4;
        let Some(nl) = memchr::memchr(b'\n', &reply[start..]) else {
            break;
        };
        let len: usize = std::str::from_utf8(&reply[start + 1..start + nl - 1])
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let body = start + nl + 1;
        if body + len <= reply.len() {
            let id = &reply[body..body + len];
            if id.contains(&b'-') && id.iter().all(|b| b.is_ascii_digit() || *b == b'-') {
                ids.push(id.to_vec());
            }
        }
        pos = body;
    }
    ids
}

async fn fill_stream(addr: SocketAddr, key: &[u8], entries: u64) {
    let mut c = Conn::open(addr).await;
    let req = encode(&[b"XADD", key, b"*", b"f1", b"v1", b"f2", b"v2"]);
    let mut sent = 0;
    while sent < entries {
        let n = (entries - sent).min(1000) as usize;
        c.send(&req.repeat(n)).await;
        let mut left = n;
        while left > 0 {
            let mut got = 0;
            if !c.frames(|_| got += 1).await {
                return;
            }
            left = left.saturating_sub(got);
        }
        sent += n as u64;
    }
}

async fn group_loop(server: &Server, entries: u64) -> Measure {
    let addr = server.addr;
    fill_stream(addr, b"gl", entries).await;
    let mut admin = Conn::open(addr).await;
    admin.call(&[b"XGROUP", b"CREATE", b"gl", b"g", b"0"]).await;
    let consumed = Arc::new(AtomicU64::new(0));
    measured(server, || async {
        let started = Instant::now();
        let mut tasks = Vec::new();
        for n in 0..4 {
            let consumed = consumed.clone();
            tasks.push(tokio::spawn(async move {
                let mut c = Conn::open(addr).await;
                let name = format!("c{n}");
                let deadline = Instant::now() + Duration::from_secs(60);
                while Instant::now() < deadline {
                    let reply = c
                        .call(&[
                            b"XREADGROUP",
                            b"GROUP",
                            b"g",
                            name.as_bytes(),
                            b"COUNT",
                            b"100",
                            b"STREAMS",
                            b"gl",
                            b">",
                        ])
                        .await;
                    let ids = entry_ids(&reply);
                    if ids.is_empty() {
                        break;
                    }
                    let mut ack: Vec<&[u8]> = vec![b"XACK", b"gl", b"g"];
                    ack.extend(ids.iter().map(|i| i.as_slice()));
                    c.call(&ack).await;
                    consumed.fetch_add(ids.len() as u64, Relaxed);
                }
            }));
        }
        for t in tasks {
            let _ = t.await;
        }
        (consumed.load(Relaxed), started.elapsed())
    })
    .await
}

async fn memory_per_entry(server: &Server, entries: u64) -> Measure {
    let before = server.rss();
    fill_stream(server.addr, b"mem", entries).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let after = server.rss();
    Measure {
        value: after.saturating_sub(before) as f64 / entries as f64,
        ..Default::default()
    }
}

async fn slow_subscriber(server: &Server, span: Duration) -> Measure {
    let addr = server.addr;
    let before = server.rss();
    // One subscriber that never reads after subscribing.
    let mut stuck = Conn::open(addr).await;
    stuck.call(&[b"SUBSCRIBE", b"bench.ch"]).await;
    let fan = FanOut {
        publishers: 1,
        subscribers: 10,
        payload: 4096,
        pattern: false,
    };
    let peak = Arc::new(AtomicU64::new(before));
    let watcher = {
        let peak = peak.clone();
        let pid = server.pid();
        tokio::spawn(async move {
            for _ in 0..10_000 {
                let status =
                    std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
                let rss = status
                    .lines()
                    .find(|l| l.starts_with("VmRSS:"))
                    .and_then(|l| l.split_whitespace().nth(1))
                    .and_then(|kb| kb.parse::<u64>().ok())
                    .unwrap_or(0)
                    * 1024;
                peak.fetch_max(rss, Relaxed);
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };
    let mut m = fan_out(server, &fan, span, None).await;
    watcher.abort();
    // Was the stuck subscriber disconnected? Drain what the kernel held and look for EOF.
    let mut closed = false;
    for _ in 0..2000 {
        match tokio::time::timeout(
            Duration::from_millis(200),
            stuck.stream.read_buf(&mut stuck.buf),
        )
        .await
        {
            Ok(Ok(0)) | Ok(Err(_)) => {
                closed = true;
                break;
            }
            Ok(Ok(_)) => stuck.buf.clear(),
            Err(_) => break,
        }
    }
    m.value = peak.load(Relaxed).saturating_sub(before) as f64 / (1024.0 * 1024.0);
    m.note = if closed {
        "slow one disconnected".into()
    } else {
        "slow one still connected".into()
    };
    m
}

// ---------------------------------------------------------------------------------------------
// Driver

#[derive(Clone, Copy, PartialEq)]
enum Shown {
    Rate,
    PerCpu,
    P50,
    P99,
    Value,
}

struct Row {
    scenario: String,
    unit: &'static str,
    herald: Vec<f64>,
    redis: Vec<f64>,
    /// Whether a higher figure is better (throughput) or lower (latency, memory).
    higher_better: bool,
    notes: Vec<String>,
}

/// The median of the rounds that measured something (a round without latency samples reports
/// NaN rather than pulling the median down).
fn median(v: &[f64]) -> f64 {
    let mut s: Vec<f64> = v.iter().copied().filter(|x| !x.is_nan()).collect();
    s.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    if s.is_empty() {
        0.0
    } else {
        s[s.len() / 2]
    }
}

/// This tree's release build, or the binary HERALD_BIN names.
fn herald_binary(root: &Path) -> PathBuf {
    if let Some(bin) = std::env::var_os("HERALD_BIN") {
        return PathBuf::from(bin);
    }
    // `cargo bench` passes its own cargo in CARGO; run by hand, the `cargo` on PATH (rustup's
    // proxy) is the one that knows the toolchain. The path `env!("CARGO")` recorded at build
    // time bypasses the proxy, and rustup then takes a dependency's own rust-toolchain.toml
    // (dashmap pins 1.85) for every rustc it starts.
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .args(["build", "--release", "--quiet", "--bin", "herald"])
        .current_dir(root)
        .status()
        .expect("cargo build");
    assert!(status.success(), "building herald failed");
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| root.join("target"));
    target.join("release/herald")
}

fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|d| Path::new(d).join(program))
        .find(|p| p.exists())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let quick = args.iter().any(|a| a == "--quick");
    let write = args.iter().any(|a| a == "--write") || !quick;
    let only: Option<String> = args
        .iter()
        .position(|a| a == "--only")
        .and_then(|i| args.get(i + 1).cloned());
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    // HERALD_BASELINE=<a herald binary> puts that build in Redis's column: an A/B of two
    // Herald builds under the same scenarios.
    let baseline = std::env::var_os("HERALD_BASELINE").map(PathBuf::from);
    // Such a run only prints: its table would name a Herald build as Redis.
    let write = write && baseline.is_none();
    let Some(redis_bin) = baseline.or_else(|| which("redis-server")) else {
        eprintln!("redis-server is not installed: apt-get install redis-server");
        std::process::exit(1);
    };
    if which("taskset").is_none() {
        eprintln!("taskset is not installed: apt-get install util-linux");
        std::process::exit(1);
    }
    let herald_bin = herald_binary(&root);
    // The load generator gets core 1; servers get core 0.
    let _ = Command::new("taskset")
        .args(["-cp", "1", &std::process::id().to_string()])
        .stdout(Stdio::null())
        .status();
    let rounds = if quick { 2 } else { 5 };
    let span = if quick {
        Duration::from_millis(1500)
    } else {
        Duration::from_secs(3)
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut rows: Vec<Row> = Vec::new();
    let record = |rows: &mut Vec<Row>,
                  scenario: &str,
                  unit: &'static str,
                  higher_better: bool,
                  server: &str,
                  v: f64,
                  note: &str| {
        let row = match rows.iter_mut().position(|r| r.scenario == scenario) {
            Some(i) => &mut rows[i],
            None => {
                rows.push(Row {
                    scenario: scenario.into(),
                    unit,
                    herald: vec![],
                    redis: vec![],
                    higher_better,
                    notes: vec![],
                });
                rows.last_mut().unwrap()
            }
        };
        if server == "herald" {
            row.herald.push(v)
        } else {
            row.redis.push(v)
        }
        if !note.is_empty() {
            row.notes.push(format!("{server}: {note}"));
        }
    };
    let started = Instant::now();
    type Scenario = (&'static str, Vec<(&'static str, &'static str, Shown, bool)>);
    let scenarios: Vec<Scenario> = vec![
        (
            "ping",
            vec![
                ("PING, 50 conns × pipeline 16", "ops/s", Shown::Rate, true),
                ("PING per server CPU-s", "ops/cpu-s", Shown::PerCpu, true),
            ],
        ),
        (
            "publish",
            vec![
                ("PUBLISH no subscriber, 50 × 16", "ops/s", Shown::Rate, true),
                ("PUBLISH per server CPU-s", "ops/cpu-s", Shown::PerCpu, true),
            ],
        ),
        (
            "fan1",
            vec![
                ("fan-out 1→1 (64 B)", "msg/s", Shown::Rate, true),
                (
                    "fan-out 1→1 per server CPU-s",
                    "msg/cpu-s",
                    Shown::PerCpu,
                    true,
                ),
            ],
        ),
        (
            "fan100",
            vec![
                ("fan-out 4→100 (64 B)", "msg/s", Shown::Rate, true),
                (
                    "fan-out 4→100 per server CPU-s",
                    "msg/cpu-s",
                    Shown::PerCpu,
                    true,
                ),
            ],
        ),
        (
            "fan1000",
            vec![
                ("fan-out 1→1000 (64 B)", "msg/s", Shown::Rate, true),
                (
                    "fan-out 1→1000 per server CPU-s",
                    "msg/cpu-s",
                    Shown::PerCpu,
                    true,
                ),
            ],
        ),
        (
            "fan4k",
            vec![
                ("fan-out 4→100 (4 KB)", "msg/s", Shown::Rate, true),
                (
                    "fan-out 4→100 (4 KB) per server CPU-s",
                    "msg/cpu-s",
                    Shown::PerCpu,
                    true,
                ),
            ],
        ),
        (
            "pattern",
            vec![
                ("pattern fan-out 4→100", "msg/s", Shown::Rate, true),
                (
                    "pattern fan-out per server CPU-s",
                    "msg/cpu-s",
                    Shown::PerCpu,
                    true,
                ),
            ],
        ),
        (
            "latency",
            vec![
                ("latency p50, 4→100 at 2000 msg/s", "µs", Shown::P50, false),
                ("latency p99, 4→100 at 2000 msg/s", "µs", Shown::P99, false),
            ],
        ),
        (
            "xadd",
            vec![
                (
                    "XADD, 4 producers × pipeline 16",
                    "ops/s",
                    Shown::Rate,
                    true,
                ),
                ("XADD per server CPU-s", "ops/cpu-s", Shown::PerCpu, true),
            ],
        ),
        (
            "aof-always",
            vec![
                (
                    "XADD, appendfsync always, 50 conns × 1",
                    "ops/s",
                    Shown::Rate,
                    true,
                ),
                (
                    "XADD always per server CPU-s",
                    "ops/cpu-s",
                    Shown::PerCpu,
                    true,
                ),
            ],
        ),
        (
            "aof-everysec",
            vec![
                (
                    "XADD, appendfsync everysec, 50 conns × 1",
                    "ops/s",
                    Shown::Rate,
                    true,
                ),
                (
                    "XADD everysec per server CPU-s",
                    "ops/cpu-s",
                    Shown::PerCpu,
                    true,
                ),
            ],
        ),
        (
            "group",
            vec![
                (
                    "group loop, 4 consumers, COUNT 100 + XACK",
                    "entries/s",
                    Shown::Rate,
                    true,
                ),
                (
                    "group loop per server CPU-s",
                    "entries/cpu-s",
                    Shown::PerCpu,
                    true,
                ),
            ],
        ),
        (
            "xrange",
            vec![
                ("XRANGE 100, 50 × 16", "ops/s", Shown::Rate, true),
                ("XRANGE per server CPU-s", "ops/cpu-s", Shown::PerCpu, true),
            ],
        ),
        (
            "memory",
            vec![("memory per stream entry", "bytes", Shown::Value, false)],
        ),
        (
            "slow",
            vec![
                (
                    "slow subscriber: server RSS growth",
                    "MiB",
                    Shown::Value,
                    false,
                ),
                (
                    "slow subscriber: others' deliveries",
                    "msg/s",
                    Shown::Rate,
                    true,
                ),
            ],
        ),
    ];
    for (key, shows) in &scenarios {
        if only.as_deref().is_some_and(|o| o != *key) {
            continue;
        }
        for round in 0..rounds {
            for which_server in ["herald", "redis"] {
                // Alternate which server goes first each round.
                let name = if round % 2 == 0 {
                    which_server
                } else if which_server == "herald" {
                    "redis"
                } else {
                    "herald"
                };
                let program = if name == "herald" {
                    &herald_bin
                } else {
                    &redis_bin
                };
                let server = match key.strip_prefix("aof-") {
                    Some(fsync) => Server::start_with_aof(name, program, &root, fsync),
                    None => Server::start(name, program, &[]),
                };
                let m = runtime.block_on(async {
                    let addr = server.addr;
                    match *key {
                        "ping" => measured(&server, || closed_loop(addr, encode(&[b"PING"]), 50, 16, span)).await,
                        "publish" => measured(&server, || closed_loop(addr, encode(&[b"PUBLISH", b"nobody", b"0123456789012345678901234567890123456789012345678901234567890123"]), 50, 16, span)).await,
                        "fan1" => fan_out(&server, &FanOut { publishers: 1, subscribers: 1, payload: 64, pattern: false }, span, None).await,
                        "fan100" => fan_out(&server, &FanOut { publishers: 4, subscribers: 100, payload: 64, pattern: false }, span, None).await,
                        "fan1000" => fan_out(&server, &FanOut { publishers: 1, subscribers: 1000, payload: 64, pattern: false }, span, None).await,
                        "fan4k" => fan_out(&server, &FanOut { publishers: 4, subscribers: 100, payload: 4096, pattern: false }, span, None).await,
                        "pattern" => fan_out(&server, &FanOut { publishers: 4, subscribers: 100, payload: 64, pattern: true }, span, None).await,
                        "latency" => fan_out(&server, &FanOut { publishers: 4, subscribers: 100, payload: 64, pattern: false }, span, Some(2000)).await,
                        "xadd" => measured(&server, || closed_loop(addr, encode(&[b"XADD", b"s", b"*", b"f1", b"v1", b"f2", b"v2"]), 4, 16, span)).await,
                        "aof-always" | "aof-everysec" => measured(&server, || closed_loop(addr, encode(&[b"XADD", b"s", b"*", b"f1", b"v1", b"f2", b"v2"]), 50, 1, span)).await,
                        "group" => group_loop(&server, if quick { 200_000 } else { 500_000 }).await,
                        "xrange" => {
                            fill_stream(addr, b"r", 1000).await;
                            measured(&server, || closed_loop(addr, encode(&[b"XRANGE", b"r", b"-", b"+", b"COUNT", b"100"]), 50, 16, span)).await
                        }
                        "memory" => memory_per_entry(&server, if quick { 200_000 } else { 1_000_000 }).await,
                        "slow" => slow_subscriber(&server, span * 2).await,
                        _ => Measure::default(),
                    }
                });
                for (label, unit, shown, higher) in shows {
                    let v = match shown {
                        Shown::Rate => m.rate,
                        Shown::PerCpu => m.per_cpu,
                        Shown::P50 => m.p50_us,
                        Shown::P99 => m.p99_us,
                        Shown::Value => m.value,
                    };
                    record(
                        &mut rows,
                        label,
                        unit,
                        *higher,
                        server.name,
                        v,
                        if *shown == Shown::Value { &m.note } else { "" },
                    );
                }
                eprintln!("  {key:8} round {round} {:6}: {:>12.0} /s, {:>12.0} /cpu-s, p50 {:.0} µs p99 {:.0} µs, value {:.1}, client cpu {:.0}% {}", server.name, m.rate, m.per_cpu, m.p50_us, m.p99_us, m.value, m.client_cpu * 100.0, m.note);
                drop(server);
            }
        }
    }
    let mut table = String::new();
    let _ = writeln!(
        table,
        "| Scenario | Herald | Redis | Herald / Redis | Rounds' ratios |"
    );
    let _ = writeln!(table, "|---|---:|---:|---:|---:|");
    let mut ratios = Vec::new();
    for r in &rows {
        let (h, re) = (median(&r.herald), median(&r.redis));
        let ratio = if re > 0.0 { h / re } else { 0.0 };
        // Round i of each server ran back to back, so their ratio is one paired sample: the
        // spread says how far this machine's noise moves a line within one run.
        let paired: Vec<f64> = r
            .herald
            .iter()
            .zip(&r.redis)
            .filter(|(_, re)| **re > 0.0)
            .map(|(h, re)| h / re)
            .collect();
        let spread = match (
            paired.iter().copied().reduce(f64::min),
            paired.iter().copied().reduce(f64::max),
        ) {
            (Some(lo), Some(hi)) => format!("{lo:.2}–{hi:.2}×"),
            _ => String::new(),
        };
        let fmt = |v: f64| {
            if v >= 100.0 {
                format!("{v:.0}")
            } else {
                format!("{v:.1}")
            }
        };
        let better = if r.higher_better {
            "higher is better"
        } else {
            "lower is better"
        };
        let notes = if r.notes.is_empty() {
            String::new()
        } else {
            format!(" ({})", dedup(&r.notes))
        };
        let _ = writeln!(
            table,
            "| {} ({}, {}){} | {} | {} | {:.2}× | {} |",
            r.scenario,
            r.unit,
            better,
            notes,
            fmt(h),
            fmt(re),
            ratio,
            spread
        );
        ratios.push((r.scenario.clone(), ratio, r.higher_better));
    }
    println!("\n{table}");
    println!(
        "({} rounds per scenario, A/B alternating, medians; {:.0} s in all)",
        rounds,
        started.elapsed().as_secs_f64()
    );
    if write {
        let machine = machine();
        let commit = Command::new("git")
            .args(["rev-parse", "--short", "HEAD"])
            .current_dir(&root)
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_default();
        let date = Command::new("date")
            .arg("-u")
            .arg("+%Y-%m-%d %H:%M UTC")
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_default();
        let redis_version = Command::new(&redis_bin)
            .arg("--version")
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_default();
        let md = format!(
            "# Benchmark results\n\nHerald (commit {commit}) against {redis_version}, measured by `cargo bench{}` on {date}.\nMachine: {machine}. Each server pinned to core 0, the load generator to core 1; {rounds} rounds per scenario, alternating which server goes first; medians shown, and the lowest and highest of the rounds' paired ratios (round i of Herald over round i of Redis). Ratios above 1 favour Herald for throughput, below 1 for latency and memory.\n\n{table}\n![ratios](ratios.svg)\n",
            if quick { " -- --quick" } else { "" }
        );
        std::fs::write(root.join("benches/RESULTS.md"), md).expect("write RESULTS.md");
        std::fs::write(root.join("benches/ratios.svg"), chart(&ratios)).expect("write ratios.svg");
        println!("wrote benches/RESULTS.md and benches/ratios.svg");
    }
}

fn dedup(notes: &[String]) -> String {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for n in notes {
        *seen.entry(n.as_str()).or_default() += 1;
    }
    let mut v: Vec<String> = seen.into_iter().map(|(n, c)| format!("{n} ×{c}")).collect();
    v.sort();
    v.join("; ")
}

fn machine() -> String {
    // Counted from /proc/cpuinfo: this process is pinned to one core by now, which is all
    // `available_parallelism` would report.
    let cpus = std::fs::read_to_string("/proc/cpuinfo")
        .unwrap_or_default()
        .lines()
        .filter(|l| l.starts_with("processor"))
        .count();
    let mem = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let total = mem
        .lines()
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<u64>().ok())
        .unwrap_or(0);
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .unwrap_or("")
        .trim()
        .to_string();
    format!(
        "{cpus} CPUs ({model}), {:.1} GiB",
        total as f64 / 1024.0 / 1024.0
    )
}

/// A horizontal bar chart of Herald/Redis ratios (log scale), with a line at 1.0.
fn chart(ratios: &[(String, f64, bool)]) -> String {
    let (w, bar_h, left) = (900.0, 22.0, 330.0);
    let h = 40.0 + bar_h * ratios.len() as f64 + 30.0;
    let scale = |r: f64| left + (r.max(0.05).log10() + 1.3) / 2.3 * (w - left - 20.0);
    let mut svg = format!("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" font-family=\"sans-serif\" font-size=\"12\">\n<text x=\"10\" y=\"20\" font-size=\"14\">Herald / Redis (log scale; right of the line favours Herald for throughput)</text>\n");
    for (i, (name, ratio, higher)) in ratios.iter().enumerate() {
        let y = 35.0 + i as f64 * bar_h;
        let x1 = scale(1.0);
        let x2 = scale(*ratio);
        let good = if *higher {
            *ratio >= 1.0
        } else {
            *ratio <= 1.0
        };
        let color = if good { "#2e7d32" } else { "#c62828" };
        let (x, width) = if x2 >= x1 {
            (x1, x2 - x1)
        } else {
            (x2, x1 - x2)
        };
        let _ = writeln!(
            svg,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>",
            left - 6.0,
            y + 14.0,
            xml(name)
        );
        let _ = writeln!(
            svg,
            "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{color}\"/>",
            y + 3.0,
            width.max(1.0),
            bar_h - 6.0
        );
        let _ = writeln!(
            svg,
            "<text x=\"{:.1}\" y=\"{}\">{:.2}×</text>",
            x2.max(x1) + 4.0,
            y + 14.0,
            ratio
        );
    }
    let x1 = scale(1.0);
    let _ = writeln!(
        svg,
        "<line x1=\"{x1:.1}\" y1=\"30\" x2=\"{x1:.1}\" y2=\"{:.1}\" stroke=\"black\"/>",
        h - 25.0
    );
    let _ = writeln!(
        svg,
        "<text x=\"{x1:.1}\" y=\"{:.1}\" text-anchor=\"middle\">1.0</text>\n</svg>",
        h - 10.0
    );
    svg
}

fn xml(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
