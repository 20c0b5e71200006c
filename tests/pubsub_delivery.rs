//! Pub/sub delivery guarantees, as the README states them: at most once, in publish order per
//! publisher connection; what a subscriber was sent before a reply to it (an unsubscribe
//! confirmation, a PONG) arrives before that reply, and nothing of a channel arrives after
//! its unsubscribe confirmation; a subscriber that leaves gets nothing published meanwhile.
mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::TestServer;

/// Publishes on `channel` in pipelined bursts until `stop` is set.
fn flood(
    server: &TestServer,
    channel: &'static str,
    stop: Arc<AtomicBool>,
) -> std::thread::JoinHandle<()> {
    let mut publisher = server.raw();
    std::thread::spawn(move || {
        let mut batch = Vec::new();
        for _ in 0..50 {
            batch.extend(common::encode(&[
                b"PUBLISH",
                channel.as_bytes(),
                b"payload",
            ]));
        }
        while !stop.load(Ordering::Relaxed) {
            publisher.send(&batch);
            for _ in 0..50 {
                publisher.reply();
            }
        }
    })
}

#[test]
fn nothing_of_a_channel_arrives_after_its_unsubscribe_confirmation() {
    let server = TestServer::start(&[]);
    let stop = Arc::new(AtomicBool::new(false));
    let publishers: Vec<_> = (0..3)
        .map(|_| flood(&server, "busy", stop.clone()))
        .collect();
    for _ in 0..300 {
        let mut sub = server.raw();
        sub.cmd(&["SUBSCRIBE", "busy"]);
        // Let messages flow for a moment, then leave while they still do.
        for _ in 0..20 {
            assert!(sub.reply().starts_with("*3\r\n$7\r\nmessage\r\n"));
        }
        sub.send(b"UNSUBSCRIBE busy\r\nPING\r\n");
        loop {
            let frame = sub.reply();
            if frame.starts_with("*3\r\n$11\r\nunsubscribe\r\n") {
                assert_eq!(frame, "*3\r\n$11\r\nunsubscribe\r\n$4\r\nbusy\r\n:0\r\n");
                break;
            }
            assert!(frame.starts_with("*3\r\n$7\r\nmessage\r\n"), "{frame}");
        }
        assert_eq!(
            sub.reply(),
            "+PONG\r\n",
            "a message followed the confirmation"
        );
    }
    stop.store(true, Ordering::Relaxed);
    publishers.into_iter().for_each(|p| p.join().unwrap());
}

/// The payload's sequence number from a `message`/`pmessage` frame whose payload is `p<n>-<i>`.
fn sequence(frame: &[u8]) -> (usize, usize) {
    let text = String::from_utf8_lossy(frame);
    let payload = text.trim_end().rsplit("\r\n").next().unwrap_or_default();
    let (publisher, i) = payload
        .strip_prefix('p')
        .and_then(|p| p.split_once('-'))
        .unwrap_or_else(|| panic!("unexpected frame {text:?}"));
    (publisher.parse().unwrap(), i.parse().unwrap())
}

#[test]
fn each_publisher_order_is_kept_and_nothing_is_lost_or_repeated() {
    const PUBLISHERS: usize = 4;
    const EACH: usize = 1000;
    let server = TestServer::start(&[]);
    // A RESP2 channel subscriber, a RESP3 channel subscriber and a pattern subscriber.
    let mut subscribers = [server.raw(), server.raw(), server.raw()];
    subscribers[0].cmd(&["SUBSCRIBE", "orders"]);
    subscribers[1].cmd(&["HELLO", "3"]);
    subscribers[1].cmd(&["SUBSCRIBE", "orders"]);
    subscribers[2].cmd(&["PSUBSCRIBE", "ord*"]);
    let publishers: Vec<_> = (0..PUBLISHERS)
        .map(|p| {
            let mut conn = server.raw();
            std::thread::spawn(move || {
                for chunk in (0..EACH).collect::<Vec<_>>().chunks(100) {
                    let mut batch = Vec::new();
                    for i in chunk {
                        let payload = format!("p{p}-{i}");
                        batch.extend(common::encode(&[b"PUBLISH", b"orders", payload.as_bytes()]));
                    }
                    conn.send(&batch);
                    for _ in chunk {
                        assert_eq!(conn.reply(), ":3\r\n");
                    }
                }
            })
        })
        .collect();
    for sub in subscribers.iter_mut() {
        let mut next = [0usize; PUBLISHERS];
        for _ in 0..PUBLISHERS * EACH {
            let (p, i) = sequence(&sub.reply_bytes());
            assert_eq!(i, next[p], "publisher {p}'s messages out of order or lost");
            next[p] += 1;
        }
        assert!(
            sub.is_silent(Duration::from_millis(50)),
            "a message was repeated"
        );
    }
    publishers.into_iter().for_each(|p| p.join().unwrap());
}

/// A publisher's pipeline is delivered in runs (one buffer of frames per subscriber, see
/// `pubsub::PublishRun`) bounded in messages and in bytes: pipelines longer than either bound
/// arrive whole, in order, with one reply per PUBLISH.
#[test]
fn long_pipelines_arrive_whole_and_in_order() {
    let server = TestServer::start(&[]);
    let mut resp2 = server.raw();
    resp2.cmd(&["SUBSCRIBE", "runs"]);
    let mut resp3 = server.raw();
    resp3.cmd(&["HELLO", "3"]);
    resp3.cmd(&["SUBSCRIBE", "runs"]);
    let mut publisher = server.raw();
    // 3000 small messages (past the bound in messages), then 300 of 8 KB (past it in bytes).
    let sizes = [(3000, 0), (300, 8192)];
    let mut sent = 0;
    for (count, padding) in sizes {
        let mut batch = Vec::new();
        for i in sent..sent + count {
            let payload = format!("p0-{i}-{}", "x".repeat(padding));
            batch.extend(common::encode(&[b"PUBLISH", b"runs", payload.as_bytes()]));
        }
        publisher.send(&batch);
        for _ in 0..count {
            assert_eq!(publisher.reply(), ":2\r\n");
        }
        sent += count;
    }
    for (sub, header) in [(&mut resp2, "*3\r\n"), (&mut resp3, ">3\r\n")] {
        for i in 0..sent {
            let frame = sub.reply_bytes();
            assert!(frame.starts_with(header.as_bytes()));
            let text = String::from_utf8_lossy(&frame);
            let payload = text.trim_end().rsplit("\r\n").next().unwrap_or_default();
            assert_eq!(
                payload.split('-').nth(1),
                Some(&*i.to_string()),
                "message {i}"
            );
        }
        assert!(
            sub.is_silent(Duration::from_millis(50)),
            "a message was repeated"
        );
    }
}

/// A PUBLISH that continues a run is run straight from the read buffer
/// (`command::pubsub::continue_run`), past the dispatcher. Everything the dispatcher does per
/// command must still happen per PUBLISH: each is counted in commandstats, past the length of a
/// run of fast commands (`timing::RUN_MAX`), and fed to a MONITOR; a run ends at another
/// spelling of the name, another kind, another channel, a wrong arity or a message too large
/// for the fast path, with every reply and delivery in order.
#[test]
fn a_run_read_from_the_buffer_is_counted_fed_and_delivered_per_publish() {
    let server = TestServer::start(&[]);
    let mut channel = server.raw();
    channel.cmd(&["SUBSCRIBE", "ch"]);
    let mut shard = server.raw();
    shard.cmd(&["SSUBSCRIBE", "ch"]);
    let mut publisher = server.raw();
    let big = "b".repeat(5000);
    // (name, channel, message): mostly one run, broken every so often.
    let mut requests: Vec<(&str, &str, String)> = Vec::new();
    for i in 0..400 {
        let (name, target) = match i % 100 {
            37 => ("publish", "ch"),
            38 => ("Publish", "ch"),
            61 => ("SPUBLISH", "ch"),
            62 => ("PUBLISH", "other"),
            _ => ("PUBLISH", "ch"),
        };
        let message = if i == 250 {
            big.clone()
        } else {
            format!("m{i}")
        };
        requests.push((name, target, message));
    }
    let mut pipeline = Vec::new();
    for (i, (name, target, message)) in requests.iter().enumerate() {
        pipeline.extend(common::encode(&[
            name.as_bytes(),
            target.as_bytes(),
            message.as_bytes(),
        ]));
        if i == 120 {
            pipeline.extend(common::encode(&[b"PUBLISH", b"ch"]));
        }
    }
    pipeline.extend(common::encode(&[b"INFO", b"commandstats"]));
    let mut monitor = None;
    for round in 0..2 {
        if round == 1 {
            // The second time a monitor watches: every PUBLISH must reach it.
            let mut m = server.raw();
            assert_eq!(m.cmd(&["MONITOR"]), "+OK\r\n");
            monitor = Some(m);
        }
        publisher.send(&pipeline);
        for (i, (_, target, _)) in requests.iter().enumerate() {
            let receivers = if *target == "ch" { ":1\r\n" } else { ":0\r\n" };
            assert_eq!(publisher.reply(), receivers, "reply {i}");
            if i == 120 {
                assert_eq!(
                    publisher.reply(),
                    "-ERR wrong number of arguments for 'publish' command\r\n"
                );
            }
        }
        let stats = publisher.reply();
        let field = |command: &str, name: &str| common::cmdstat(&stats, command, name);
        let rounds = round + 1;
        assert_eq!(field("publish", "calls"), 396 * rounds, "{stats}");
        assert_eq!(field("publish", "rejected_calls"), rounds, "{stats}");
        assert_eq!(field("spublish", "calls"), 4 * rounds, "{stats}");
        if let Some(m) = monitor.as_mut() {
            for (i, (name, target, message)) in requests.iter().enumerate() {
                let line = m.reply();
                let expected = format!("\"{name}\" \"{target}\" \"{message}\"\r\n");
                assert!(line.ends_with(&expected), "monitor line {i}: {line:?}");
            }
            let line = m.reply();
            assert!(line.ends_with("\"INFO\" \"commandstats\"\r\n"), "{line:?}");
        }
        for (i, (name, target, message)) in requests.iter().enumerate() {
            let (sub, kind) = match (*name, *target) {
                ("SPUBLISH", _) => (&mut shard, "smessage"),
                (_, "ch") => (&mut channel, "message"),
                _ => continue,
            };
            let frame = sub.reply_bytes();
            let expected = format!(
                "*3\r\n${}\r\n{kind}\r\n$2\r\nch\r\n${}\r\n{message}\r\n",
                kind.len(),
                message.len()
            );
            assert_eq!(String::from_utf8_lossy(&frame), expected, "delivery {i}");
        }
    }
    for sub in [&mut channel, &mut shard, monitor.as_mut().unwrap()] {
        assert!(sub.is_silent(Duration::from_millis(50)));
    }
}

#[test]
fn a_subscriber_gets_nothing_published_while_it_was_away() {
    let server = TestServer::start(&[]);
    let mut publisher = server.raw();
    let mut sub = server.raw();
    sub.cmd(&["SUBSCRIBE", "news"]);
    assert_eq!(publisher.cmd(&["PUBLISH", "news", "p0-0"]), ":1\r\n");
    assert_eq!(sequence(&sub.reply_bytes()), (0, 0));
    sub.cmd(&["UNSUBSCRIBE", "news"]);
    assert_eq!(publisher.cmd(&["PUBLISH", "news", "p0-1"]), ":0\r\n");
    sub.cmd(&["SUBSCRIBE", "news"]);
    assert_eq!(publisher.cmd(&["PUBLISH", "news", "p0-2"]), ":1\r\n");
    assert_eq!(sequence(&sub.reply_bytes()), (0, 2));
    // The same across a reconnection: a new connection starts from what is published next.
    drop(sub);
    let deadline = Instant::now() + Duration::from_secs(5);
    while publisher.cmd(&["PUBLISH", "news", "p0-3"]) != ":0\r\n" {
        assert!(
            Instant::now() < deadline,
            "the closed subscriber was not forgotten"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    let mut again = server.raw();
    again.cmd(&["SUBSCRIBE", "news"]);
    assert_eq!(publisher.cmd(&["PUBLISH", "news", "p0-4"]), ":1\r\n");
    assert_eq!(sequence(&again.reply_bytes()), (0, 4));
    assert!(again.is_silent(Duration::from_millis(50)));
}

#[test]
fn a_disconnected_slow_subscriber_received_an_unbroken_prefix_and_nothing_after() {
    let server = TestServer::start(&["--client-output-buffer-limit", "pubsub", "1mb", "0", "0"]);
    let mut stuck = server.raw();
    stuck.cmd(&["SUBSCRIBE", "feed"]);
    let mut publisher = server.raw();
    let filler = "x".repeat(16 * 1024);
    // A first message reaches its socket before the flood (its bytes leave the output count),
    // so that the prefix received is not empty whatever the scheduling of the flood.
    let first = format!("p0-0-{filler}");
    assert_eq!(publisher.cmd(&["PUBLISH", "feed", &first]), ":1\r\n");
    let deadline = Instant::now() + Duration::from_secs(5);
    while !publisher
        .cmd(&["CLIENT", "LIST", "TYPE", "pubsub"])
        .contains(" omem=0 ")
    {
        assert!(
            Instant::now() < deadline,
            "the first message was never written"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    let mut published = 1;
    let deadline = Instant::now() + Duration::from_secs(20);
    // Publish until the server gives up on the subscriber that does not read.
    while publisher.cmd(&["PUBSUB", "NUMSUB", "feed"]) != "*2\r\n$4\r\nfeed\r\n:0\r\n" {
        assert!(
            Instant::now() < deadline,
            "the stuck subscriber was never disconnected"
        );
        let mut batch = Vec::new();
        for _ in 0..64 {
            let payload = format!("p0-{published}-{filler}");
            batch.extend(common::encode(&[b"PUBLISH", b"feed", payload.as_bytes()]));
            published += 1;
        }
        publisher.send(&batch);
        for _ in 0..64 {
            publisher.reply();
        }
    }
    // What reached its socket before the disconnection reads as whole messages 0, 1, 2... in
    // order; the stream may end inside the last one, which the kernel had only in part.
    let received = stuck.read_to_close();
    let mut rest = received.as_bytes();
    let mut expected = 0;
    while let Some(len) = common::frame_len(rest, 0) {
        let text = String::from_utf8_lossy(&rest[..len]);
        let payload = text.trim_end().rsplit("\r\n").next().unwrap_or_default();
        assert!(
            payload.starts_with(&format!("p0-{expected}-")),
            "message {expected} missing or out of order"
        );
        expected += 1;
        rest = &rest[len..];
    }
    assert!(
        expected > 0 && expected < published,
        "{expected} of {published}"
    );
    let info = publisher.cmd(&["INFO", "stats"]);
    assert!(
        info.contains("client_output_buffer_limit_disconnections:1\r\n"),
        "{info}"
    );
}

#[test]
fn a_subscriber_over_the_soft_limit_for_its_seconds_is_disconnected() {
    let server = TestServer::start(&["--client-output-buffer-limit", "pubsub", "0", "256kb", "1"]);
    let mut stuck = server.raw();
    stuck.cmd(&["SUBSCRIBE", "feed"]);
    let mut healthy = server.raw();
    healthy.cmd(&["SUBSCRIBE", "feed"]);
    let mut publisher = server.raw();
    let payload = vec![b'x'; 32 * 1024];
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut rounds = 0;
    // With no hard limit only the soft one can act: past 256 KB for over a second.
    while publisher.cmd(&["PUBSUB", "NUMSUB", "feed"]) != "*2\r\n$4\r\nfeed\r\n:1\r\n" {
        assert!(Instant::now() < deadline, "the soft limit never acted");
        let mut batch = Vec::new();
        for _ in 0..16 {
            batch.extend(common::encode(&[b"PUBLISH", b"feed", &payload]));
        }
        publisher.send(&batch);
        for _ in 0..16 {
            publisher.reply();
            assert!(healthy.reply().starts_with("*3\r\n$7\r\nmessage\r\n"));
        }
        rounds += 1;
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(rounds > 1);
    let info = publisher.cmd(&["INFO", "stats"]);
    assert!(
        info.contains("client_output_buffer_limit_disconnections:1\r\n"),
        "{info}"
    );
    assert_eq!(healthy.cmd(&["PING"]), "*2\r\n$4\r\npong\r\n$0\r\n\r\n");
}

#[test]
fn a_pathological_pattern_does_not_stall_publishing() {
    let server = TestServer::start(&[]);
    let mut sub = server.raw();
    let pattern = format!("{}b", "*a".repeat(40));
    sub.cmd(&["PSUBSCRIBE", &pattern]);
    let mut publisher = server.raw();
    let channel = "a".repeat(10_000);
    // Without Redis's cut-off this match takes exponential time; the raw client's read
    // timeout (5 s) would fail the test long before it finished.
    assert_eq!(publisher.cmd(&["PUBLISH", &channel, "x"]), ":0\r\n");
    let matching = format!("{channel}b");
    assert_eq!(publisher.cmd(&["PUBLISH", &matching, "x"]), ":1\r\n");
    assert!(sub.reply().starts_with("*4\r\n$8\r\npmessage\r\n"));
    assert_eq!(publisher.cmd(&["PUBSUB", "CHANNELS", &pattern]), "*0\r\n");
}

/// A subscriber that reads slowly while its channel never goes quiet: its socket stays full,
/// so there is always more queued for it after each write. Its commands must still be read, as
/// Redis reads a client's input whatever its output: the UNSUBSCRIBE takes effect (PUBSUB
/// NUMSUB, asked elsewhere, drops to 0) while the flood goes on and the backlog is still
/// being read.
#[test]
fn a_subscriber_whose_channel_never_goes_quiet_still_has_its_commands_read() {
    use std::io::Read;
    let server = TestServer::start(&["--client-output-buffer-limit", "pubsub", "0", "0", "0"]);
    let stop = Arc::new(AtomicBool::new(false));
    let mut sub = server.raw();
    sub.cmd(&["SUBSCRIBE", "busy"]);
    let publishers: Vec<_> = (0..3)
        .map(|_| flood(&server, "busy", stop.clone()))
        .collect();
    // A small read every millisecond, slower than the flood, keeps the socket full.
    let mut reading = sub.stream.try_clone().expect("clone");
    let reader = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut chunk = [0u8; 1024];
            let until = Instant::now() + Duration::from_secs(10);
            while !stop.load(Ordering::Relaxed) && Instant::now() < until {
                std::thread::sleep(Duration::from_millis(1));
                match reading.read(&mut chunk) {
                    Ok(n) if n > 0 => {}
                    _ => break,
                }
            }
        })
    };
    // Past what the socket buffers hold (a few MB on loopback).
    std::thread::sleep(Duration::from_millis(1500));
    let mut observer = server.raw();
    let numsub = "*2\r\n$4\r\nbusy\r\n:1\r\n";
    assert_eq!(observer.cmd(&["PUBSUB", "NUMSUB", "busy"]), numsub);
    sub.send(b"UNSUBSCRIBE busy\r\n");
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut left = false;
    while Instant::now() < deadline {
        if observer.cmd(&["PUBSUB", "NUMSUB", "busy"]) == numsub.replace(":1", ":0") {
            left = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    stop.store(true, Ordering::Relaxed);
    publishers.into_iter().for_each(|p| p.join().unwrap());
    reader.join().unwrap();
    assert!(
        left,
        "UNSUBSCRIBE not read within 5 s while the channel kept publishing"
    );
}

/// Large messages to many subscribers are written from the spool (`herald::spool`, with
/// `sendfile`) rather than from memory: every subscriber must still read exactly the frames
/// Redis would send, in order, however its writes are cut — one subscriber, with a small receive
/// buffer, reads nothing until the end, so its socket fills and writes stop mid-frame — and
/// mixed with small frames (written
/// from memory), with replies (a RESP3 PING), pattern frames, and a subscriber publishing to
/// itself (whose own frames are moved into its replies).
#[test]
fn large_messages_to_many_subscribers_arrive_exactly_and_in_order() {
    const MESSAGES: usize = 1200;
    const SUBSCRIBERS: usize = 36; // past herald::spool::MIN_RECEIVERS
    let server = TestServer::start(&[]);
    // The payload of message `i`: mostly larger than the spool's threshold, some small.
    let payload = |i: usize| {
        let len = if i % 7 == 3 {
            9
        } else {
            2100 + (i * 397) % 9000
        };
        let mut p = format!("{i}:").into_bytes();
        p.extend((0..len).map(|k| b'a' + ((i + k) % 26) as u8));
        p
    };
    let frame = |resp3: bool, pattern: bool, p: &[u8]| {
        let mut f = Vec::new();
        let head = if resp3 { ">" } else { "*" };
        if pattern {
            f.extend(format!("{head}4\r\n$8\r\npmessage\r\n$2\r\nb*\r\n").bytes());
        } else {
            f.extend(format!("{head}3\r\n$7\r\nmessage\r\n").bytes());
        }
        f.extend(b"$3\r\nbig\r\n");
        f.extend(format!("${}\r\n", p.len()).bytes());
        f.extend(p);
        f.extend(b"\r\n");
        f
    };
    // (connection, RESP3, pattern subscriber)
    let mut subscribers = Vec::new();
    for n in 0..SUBSCRIBERS {
        let mut sub = if n == 0 {
            server.raw_with_small_receive_buffer(4096)
        } else {
            server.raw()
        };
        let resp3 = n % 3 == 1;
        if resp3 {
            sub.cmd(&["HELLO", "3"]);
        }
        if n == SUBSCRIBERS - 1 {
            sub.cmd(&["PSUBSCRIBE", "b*"]);
        } else {
            sub.cmd(&["SUBSCRIBE", "big"]);
        }
        subscribers.push((sub, resp3, n == SUBSCRIBERS - 1));
    }
    // A RESP3 subscriber that publishes to itself, message by message.
    let mut own = server.raw();
    own.cmd(&["HELLO", "3"]);
    own.cmd(&["SUBSCRIBE", "big"]);
    let receivers = format!(":{}\r\n", subscribers.len() + 1);

    let mut publisher = server.raw();
    let stuck = 0; // reads nothing until everything is published
    let pinged = 1; // a RESP3 subscriber that sends a PING halfway
    for start in (0..MESSAGES).step_by(100) {
        if start == MESSAGES / 2 {
            subscribers[pinged].0.send_cmd(&[b"PING"]);
        }
        let mut batch = Vec::new();
        for i in start..start + 100 {
            batch.extend(common::encode(&[b"PUBLISH", b"big", &payload(i)]));
        }
        publisher.send(&batch);
        for _ in start..start + 100 {
            assert_eq!(publisher.reply(), receivers);
        }
        // Every subscriber but the stuck one keeps up.
        for (n, (sub, resp3, pattern)) in subscribers.iter_mut().enumerate() {
            if n == stuck {
                continue;
            }
            for i in start..start + 100 {
                let mut got = sub.reply_bytes();
                if n == pinged && got == b"+PONG\r\n" {
                    got = sub.reply_bytes();
                }
                assert!(
                    got == frame(*resp3, *pattern, &payload(i)),
                    "subscriber {n}, message {i}: {:?}",
                    String::from_utf8_lossy(&got[..got.len().min(60)])
                );
            }
        }
    }
    // The subscriber publishing to itself: what it was sent so far, then for each message its
    // frame and its reply.
    for i in 0..MESSAGES {
        assert!(
            own.reply_bytes() == frame(true, false, &payload(i)),
            "own, message {i}"
        );
    }
    for i in MESSAGES..MESSAGES + 20 {
        own.send_cmd(&[b"PUBLISH", b"big", &payload(i)]);
        assert!(
            own.reply_bytes() == frame(true, false, &payload(i)),
            "own frame {i}"
        );
        assert_eq!(own.reply(), receivers);
    }
    for (n, (sub, resp3, pattern)) in subscribers.iter_mut().enumerate() {
        let first = if n == stuck { 0 } else { MESSAGES };
        for i in first..MESSAGES + 20 {
            let got = sub.reply_bytes();
            assert!(
                got == frame(*resp3, *pattern, &payload(i)),
                "subscriber {n}, message {i}"
            );
        }
        assert!(sub.is_silent(Duration::from_millis(50)), "subscriber {n}");
    }
    // The stuck subscriber was sent more than its socket's buffers hold (the server's send
    // buffer grows to 4 MB at most by default).
    let total: usize = (0..MESSAGES)
        .map(|i| frame(false, false, &payload(i)).len())
        .sum();
    assert!(total > 6 << 20, "{total}");
}
