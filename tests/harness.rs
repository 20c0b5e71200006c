//! The harness itself: a server starts on a free port, answers both a raw socket and the
//! `redis` crate, and stops when dropped.
mod common;

use common::TestServer;

#[test]
fn server_answers_raw_and_client_connections() {
    let server = TestServer::start(&[]);
    let mut raw = server.raw();
    assert_eq!(raw.cmd(&["PING"]), "+PONG\r\n");
    let mut client = server.client();
    let pong: String = redis::cmd("PING").query(&mut client).unwrap();
    assert_eq!(pong, "PONG");
}

#[test]
fn two_servers_run_side_by_side_on_their_own_ports() {
    let a = TestServer::start(&[]);
    let b = TestServer::start(&[]);
    assert_ne!(a.addr, b.addr);
    a.raw().cmd(&["SET", "k", "a"]);
    assert_eq!(b.raw().cmd(&["GET", "k"]), "$-1\r\n");
}
