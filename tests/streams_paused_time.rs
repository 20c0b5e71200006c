//! Blocking stream reads on a paused clock: the server and its clients share one current-thread
//! runtime whose time only moves when every task waits on a timer, so BLOCK timeouts are exact
//! to the millisecond, "for ever" can be an hour, and the order of wake-ups is deterministic.

mod common;

use std::time::Duration;

use common::{encode, frame_len};
use herald::config::Options;
use herald::server::Server;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

/// A raw client on the test's own runtime.
struct Client {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Client {
    async fn connect(addr: std::net::SocketAddr) -> Client {
        let stream = TcpStream::connect(addr).await.expect("connect");
        Client {
            stream,
            buf: Vec::new(),
        }
    }

    async fn send(&mut self, args: &[&str]) {
        let args: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        self.stream.write_all(&encode(&args)).await.expect("write");
    }

    /// The next whole reply, however long (virtual time) it takes.
    async fn reply(&mut self) -> String {
        loop {
            if let Some(n) = frame_len(&self.buf, 0) {
                let frame: Vec<u8> = self.buf.drain(..n).collect();
                return String::from_utf8_lossy(&frame).into_owned();
            }
            let mut chunk = [0u8; 4096];
            let n = self.stream.read(&mut chunk).await.expect("read");
            assert!(n > 0, "server closed the connection");
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    async fn cmd(&mut self, args: &[&str]) -> String {
        self.send(args).await;
        self.reply().await
    }

    /// Whether a reply arrives within `wait` of virtual time.
    async fn replies_within(&mut self, wait: Duration) -> bool {
        tokio::time::timeout(wait, async {
            let mut chunk = [0u8; 1];
            let n = self.stream.peek(&mut chunk).await.expect("peek");
            n > 0
        })
        .await
        .unwrap_or(false)
    }
}

/// Starts Herald on this runtime (port 0); it stops when the test's runtime ends.
async fn start() -> std::net::SocketAddr {
    let options =
        Options::from_args(["herald", "--port", "0", "--bind", "127.0.0.1"]).expect("options");
    let server = Server::bind(options).await.expect("bind");
    let addr = server.local_addr().expect("a TCP port");
    tokio::spawn(server.run(std::future::pending()));
    addr
}

fn info_blocked(info: &str) -> &str {
    info.split("\r\n")
        .find_map(|l| l.strip_prefix("blocked_clients:"))
        .expect("blocked_clients in INFO")
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn block_times_out_exactly_after_its_milliseconds_with_a_null() {
    let addr = start().await;
    let mut reader = Client::connect(addr).await;
    for (args, null) in [
        (
            &["XREAD", "BLOCK", "2500", "STREAMS", "s", "$"][..],
            "*-1\r\n",
        ),
        (
            &[
                "XREADGROUP",
                "GROUP",
                "g",
                "c",
                "BLOCK",
                "750",
                "STREAMS",
                "s",
                ">",
            ][..],
            "*-1\r\n",
        ),
    ] {
        if args[0] == "XREADGROUP" {
            assert_eq!(
                reader
                    .cmd(&["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"])
                    .await,
                "+OK\r\n"
            );
        }
        let block = args.iter().position(|a| *a == "BLOCK").expect("BLOCK") + 1;
        let wanted: u64 = args[block].parse().expect("milliseconds");
        let started = Instant::now();
        assert_eq!(reader.cmd(args).await, null);
        let waited = started.elapsed();
        assert!(
            waited >= Duration::from_millis(wanted) && waited < Duration::from_millis(wanted + 5),
            "{} waited {waited:?}",
            args[0]
        );
    }
    // RESP3 answers a timed-out read with its own null.
    reader.cmd(&["HELLO", "3"]).await;
    let started = Instant::now();
    assert_eq!(
        reader
            .cmd(&["XREAD", "BLOCK", "100", "STREAMS", "s", "$"])
            .await,
        "_\r\n"
    );
    assert!(started.elapsed() >= Duration::from_millis(100));
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn block_zero_waits_an_hour_and_still_wakes_on_xadd() {
    let addr = start().await;
    let mut reader = Client::connect(addr).await;
    let mut writer = Client::connect(addr).await;
    reader
        .send(&["XREAD", "BLOCK", "0", "STREAMS", "s", "$"])
        .await;
    assert!(!reader.replies_within(Duration::from_secs(3600)).await);
    let info = writer.cmd(&["INFO", "clients"]).await;
    assert_eq!(info_blocked(&info), "1");
    assert_eq!(
        writer.cmd(&["XADD", "s", "1-1", "f", "v"]).await,
        "$3\r\n1-1\r\n"
    );
    assert_eq!(
        reader.reply().await,
        "*1\r\n*2\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n"
    );
    let info = writer.cmd(&["INFO", "clients"]).await;
    assert_eq!(info_blocked(&info), "0");
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn a_wake_up_before_the_deadline_answers_at_once_and_the_deadline_is_not_extended() {
    let addr = start().await;
    let mut reader = Client::connect(addr).await;
    let mut writer = Client::connect(addr).await;
    let started = Instant::now();
    // An entry the read does not want (below its id) wakes it to look again; it waits on, and
    // still times out at its first deadline, not 1000 ms after the wake-up.
    reader
        .send(&["XREAD", "BLOCK", "1000", "STREAMS", "s", "100-0"])
        .await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    writer.cmd(&["XADD", "s", "50-0", "f", "v"]).await;
    assert_eq!(reader.reply().await, "*-1\r\n");
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(1000) && waited < Duration::from_millis(1005));
    // An entry at 300 ms of a 1000 ms block is delivered at 300 ms.
    reader
        .send(&["XREAD", "BLOCK", "1000", "STREAMS", "s", "$"])
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = Instant::now();
    writer.cmd(&["XADD", "s", "60-0", "f", "v"]).await;
    assert!(reader.reply().await.contains("60-0"));
    assert!(started.elapsed() < Duration::from_millis(5));
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn group_readers_are_served_in_the_order_they_blocked() {
    let addr = start().await;
    let mut admin = Client::connect(addr).await;
    admin
        .cmd(&["XGROUP", "CREATE", "q", "g", "$", "MKSTREAM"])
        .await;
    let mut readers = Vec::new();
    for name in ["c1", "c2", "c3"] {
        let mut reader = Client::connect(addr).await;
        reader
            .send(&[
                "XREADGROUP",
                "GROUP",
                "g",
                name,
                "COUNT",
                "1",
                "BLOCK",
                "60000",
                "STREAMS",
                "q",
                ">",
            ])
            .await;
        // Let the server register this reader before the next one blocks.
        tokio::time::sleep(Duration::from_millis(10)).await;
        readers.push(reader);
    }
    // One entry at a time: the oldest waiter gets each.
    for (i, reader) in readers.iter_mut().enumerate() {
        let id = format!("{}-0", i + 1);
        admin.cmd(&["XADD", "q", &id, "n", &i.to_string()]).await;
        let reply = reader.reply().await;
        assert!(reply.contains(&id), "reader {i} got {reply}");
    }
    let pending = admin.cmd(&["XPENDING", "q", "g"]).await;
    assert!(
        pending.starts_with("*4\r\n:3\r\n$3\r\n1-0\r\n$3\r\n3-0\r\n"),
        "{pending}"
    );
    // The three consumers each hold one.
    for name in ["c1", "c2", "c3"] {
        assert!(pending.contains(&format!("${}\r\n{name}\r\n$1\r\n1\r\n", name.len())));
    }
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn a_destroyed_group_or_deleted_key_fails_its_blocked_readers() {
    let addr = start().await;
    let mut admin = Client::connect(addr).await;
    admin
        .cmd(&["XGROUP", "CREATE", "q", "g", "$", "MKSTREAM"])
        .await;
    let mut reader = Client::connect(addr).await;
    let read = [
        "XREADGROUP",
        "GROUP",
        "g",
        "c",
        "BLOCK",
        "0",
        "STREAMS",
        "q",
        ">",
    ];
    reader.send(&read).await;
    tokio::time::sleep(Duration::from_secs(30)).await;
    assert_eq!(admin.cmd(&["XGROUP", "DESTROY", "q", "g"]).await, ":1\r\n");
    assert_eq!(
        reader.reply().await,
        "-NOGROUP No such key 'q' or consumer group 'g' in XREADGROUP with GROUP option\r\n"
    );
    admin.cmd(&["XGROUP", "CREATE", "q", "g", "$"]).await;
    reader.send(&read).await;
    tokio::time::sleep(Duration::from_secs(30)).await;
    assert_eq!(admin.cmd(&["DEL", "q"]).await, ":1\r\n");
    assert_eq!(
        reader.reply().await,
        "-NOGROUP No such key 'q' or consumer group 'g' in XREADGROUP with GROUP option\r\n"
    );
}
