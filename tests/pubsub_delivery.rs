//! Pub/sub delivery guarantees, as the README states them: at most once, in publish order per
//! publisher connection; what a subscriber was sent before a reply to it (an unsubscribe
//! confirmation, a PONG) arrives before that reply, and nothing of a channel arrives after
//! its unsubscribe confirmation; a subscriber that leaves gets nothing published meanwhile.
mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

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
