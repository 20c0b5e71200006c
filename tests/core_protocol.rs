//! The wire protocol: inline commands, pipelining, RESP3 via HELLO 3, malformed input (Redis's
//! exact `Protocol error` texts, then a close), limits, random bytes, and isolation between
//! clients. Expected replies were captured from a real redis-server (7.0.15) sent the same bytes.
mod common;

use common::{encode, TestServer};
use std::time::Duration;

#[test]
fn inline_commands() {
    let server = TestServer::start(&[]);
    let mut a = server.raw();
    a.send(b"PING\r\n");
    assert_eq!(a.reply(), "+PONG\r\n");
    a.send(b"ping\r\n");
    assert_eq!(a.reply(), "+PONG\r\n");
    a.send(b"PING\n");
    assert_eq!(a.reply(), "+PONG\r\n");
    a.send(b"SET \"a b\" 'c d'\r\n");
    assert_eq!(a.reply(), "+OK\r\n");
    a.send(b"GET \"a b\"\r\n");
    assert_eq!(a.reply(), "$3\r\nc d\r\n");
    a.send(b"ECHO \"\\x41\\x42\\n\\t\\\\\"\r\n");
    assert_eq!(a.reply(), "$5\r\nAB\n\t\\\r\n");
    a.send(b"ECHO 'it\\'s'\r\n");
    assert_eq!(a.reply(), "$4\r\nit's\r\n");
    a.send(b"ECHO \"\"\r\n");
    assert_eq!(a.reply(), "$0\r\n\r\n");
    a.send(b"   ECHO   spaced   out\r\n");
    assert_eq!(
        a.reply(),
        "-ERR wrong number of arguments for 'echo' command\r\n"
    );
    a.send(b"ECHO a\"b\"\r\n");
    assert_eq!(a.reply(), "$2\r\nab\r\n");
    a.send(b"SET k \"v1\" \r\n");
    assert_eq!(a.reply(), "+OK\r\n");
    a.send(b"GET k\r\n");
    assert_eq!(a.reply(), "$2\r\nv1\r\n");
    a.send(b"\r\n\r\n\r\nPING\r\n");
    assert_eq!(a.reply(), "+PONG\r\n");
    a.send(b"\"\" \"\"\r\n");
    assert_eq!(
        a.reply(),
        "-ERR unknown command '', with args beginning with: '' \r\n"
    );
    a.send(b"NOSUCH a \"b c\"\r\n");
    assert_eq!(
        a.reply(),
        "-ERR unknown command 'NOSUCH', with args beginning with: 'a' 'b c' \r\n"
    );
    a.send(b"GET\r\n");
    assert_eq!(
        a.reply(),
        "-ERR wrong number of arguments for 'get' command\r\n"
    );
    a.send(b"SET a b c d\r\n");
    assert_eq!(a.reply(), "-ERR syntax error\r\n");
    a.send(b"MGET \"a b\" k missing\r\n");
    assert_eq!(a.reply(), "*3\r\n$3\r\nc d\r\n$2\r\nv1\r\n$-1\r\n");
}

#[test]
fn inline_unbalanced_quotes_close_the_connection() {
    let server = TestServer::start(&[]);
    let mut a = server.raw();
    a.send(b"ECHO \"abc\r\n");
    assert_eq!(
        a.read_to_close(),
        "-ERR Protocol error: unbalanced quotes in request\r\n"
    );
    let mut b = server.raw();
    b.send(b"ECHO 'abc\r\n");
    assert_eq!(
        b.read_to_close(),
        "-ERR Protocol error: unbalanced quotes in request\r\n"
    );
    let mut c = server.raw();
    c.send(b"ECHO \"abc\"def\r\n");
    assert_eq!(
        c.read_to_close(),
        "-ERR Protocol error: unbalanced quotes in request\r\n"
    );
    let mut d = server.raw();
    d.send(b"ECHO 'x'y\r\n");
    assert_eq!(
        d.read_to_close(),
        "-ERR Protocol error: unbalanced quotes in request\r\n"
    );
    let mut e = server.raw();
    e.send(b"PING \"a\"b\r\n");
    assert_eq!(
        e.read_to_close(),
        "-ERR Protocol error: unbalanced quotes in request\r\n"
    );
    let mut f = server.raw();
    assert_eq!(f.cmd(&["PING"]), "+PONG\r\n");
}

#[test]
fn malformed_multibulk_gets_protocol_errors_and_a_close() {
    let server = TestServer::start(&[]);
    let mut a = server.raw();
    a.send(b"*abc\r\n");
    assert_eq!(
        a.read_to_close(),
        "-ERR Protocol error: invalid multibulk length\r\n"
    );
    let mut b = server.raw();
    b.send(b"*\r\n");
    assert_eq!(
        b.read_to_close(),
        "-ERR Protocol error: invalid multibulk length\r\n"
    );
    let mut c = server.raw();
    c.send(b"*+1\r\n$4\r\nPING\r\n");
    assert_eq!(
        c.read_to_close(),
        "-ERR Protocol error: invalid multibulk length\r\n"
    );
    let mut d = server.raw();
    d.send(b"* 1\r\n$4\r\nPING\r\n");
    assert_eq!(
        d.read_to_close(),
        "-ERR Protocol error: invalid multibulk length\r\n"
    );
    let mut e = server.raw();
    e.send(b"*01\r\n$4\r\nPING\r\n");
    assert_eq!(
        e.read_to_close(),
        "-ERR Protocol error: invalid multibulk length\r\n"
    );
    let mut f = server.raw();
    f.send(b"*9999999999\r\n");
    assert_eq!(
        f.read_to_close(),
        "-ERR Protocol error: invalid multibulk length\r\n"
    );
    let mut g = server.raw();
    g.send(b"*1\nPING\r\n");
    assert_eq!(
        g.read_to_close(),
        "-ERR Protocol error: invalid multibulk length\r\n"
    );
    let mut h = server.raw();
    h.send(b"*2\r\n$x\r\n");
    assert_eq!(
        h.read_to_close(),
        "-ERR Protocol error: invalid bulk length\r\n"
    );
    let mut i = server.raw();
    i.send(b"*1\r\n$-1\r\n");
    assert_eq!(
        i.read_to_close(),
        "-ERR Protocol error: invalid bulk length\r\n"
    );
    let mut j = server.raw();
    j.send(b"*1\r\n$-5\r\n");
    assert_eq!(
        j.read_to_close(),
        "-ERR Protocol error: invalid bulk length\r\n"
    );
    let mut k = server.raw();
    k.send(b"*1\r\n$\r\n");
    assert_eq!(
        k.read_to_close(),
        "-ERR Protocol error: invalid bulk length\r\n"
    );
    let mut l = server.raw();
    l.send(b"*1\r\n$ 4\r\nPING\r\n");
    assert_eq!(
        l.read_to_close(),
        "-ERR Protocol error: invalid bulk length\r\n"
    );
    let mut m = server.raw();
    m.send(b"*1\r\n$+4\r\nPING\r\n");
    assert_eq!(
        m.read_to_close(),
        "-ERR Protocol error: invalid bulk length\r\n"
    );
    let mut n = server.raw();
    n.send(b"*1\r\n$536870913\r\n");
    assert_eq!(
        n.read_to_close(),
        "-ERR Protocol error: invalid bulk length\r\n"
    );
    let mut o = server.raw();
    o.send(b"*1\r\n*1\r\n");
    assert_eq!(
        o.read_to_close(),
        "-ERR Protocol error: expected '$', got '*'\r\n"
    );
    let mut p = server.raw();
    p.send(b"*1\r\n:1\r\n");
    assert_eq!(
        p.read_to_close(),
        "-ERR Protocol error: expected '$', got ':'\r\n"
    );
    let mut q = server.raw();
    q.send(b"*2\r\n$4\r\nECHO\r\n+x\r\n");
    assert_eq!(
        q.read_to_close(),
        "-ERR Protocol error: expected '$', got '+'\r\n"
    );
    let mut r = server.raw();
    r.send(b"*1\r\n$99999999999999999999\r\n");
    assert_eq!(
        r.read_to_close(),
        "-ERR Protocol error: invalid bulk length\r\n"
    );
    let mut s = server.raw();
    assert_eq!(s.cmd(&["PING"]), "+PONG\r\n");
}

#[test]
fn replies_before_the_error_are_kept() {
    let server = TestServer::start(&[]);
    let mut a = server.raw();
    a.send(b"*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nECHO\r\n*1\r\n$x\r\n");
    assert_eq!(a.read_to_close(), "+PONG\r\n-ERR wrong number of arguments for 'echo' command\r\n-ERR Protocol error: invalid bulk length\r\n");
    let mut b = server.raw();
    b.send(b"PING\r\nECHO x\r\n*q\r\n");
    assert_eq!(
        b.read_to_close(),
        "+PONG\r\n$1\r\nx\r\n-ERR Protocol error: invalid multibulk length\r\n"
    );
    let mut c = server.raw();
    assert_eq!(c.cmd(&["PING"]), "+PONG\r\n");
}

#[test]
fn odd_but_valid_multibulk() {
    let server = TestServer::start(&[]);
    let mut a = server.raw();
    a.send(b"*-1\r\n*0\r\nPING\r\n");
    assert_eq!(a.reply(), "+PONG\r\n");
    a.send(b"*1\r\n$4\r\nPINGxx*1\r\n$4\r\nPING\r\n");
    assert_eq!(a.reply(), "+PONG\r\n");
    a.send(b"*2\r\n$4\r\nECHO\r\n$0\r\n\r\n");
    assert_eq!(a.reply(), "+PONG\r\n");
    a.send(b"*2\r\n$4\r\nECHO\r\n$3\r\na\r\n\r\n");
    assert_eq!(a.reply(), "$0\r\n\r\n");
    a.send(b"*3\r\n$3\r\nSET\r\n$1\r\n\x00\r\n$1\r\n\xff\r\n");
    assert_eq!(a.reply(), "$3\r\na\r\n\r\n");
    a.send(b"*2\r\n$6\r\nSTRLEN\r\n$1\r\n\x00\r\n");
    assert_eq!(a.reply(), "+OK\r\n");
}

#[test]
fn a_pipelined_batch_is_answered_in_order_and_small_batches_in_one_read() {
    let server = TestServer::start(&[]);
    let mut c = server.raw();
    // Mixed request styles and errors in one write; every reply comes back, in order.
    let mut batch = Vec::new();
    batch.extend(encode(&[b"SET", b"k", b"1"]));
    batch.extend_from_slice(b"INCR k\r\n");
    batch.extend(encode(&[b"NOSUCH"]));
    batch.extend_from_slice(b"GET k\r\n");
    batch.extend(encode(&[b"INCR"]));
    batch.extend(encode(&[b"ECHO", b"done"]));
    c.send(&batch);
    let expected = [
        "+OK\r\n",
        ":2\r\n",
        "-ERR unknown command 'NOSUCH', with args beginning with: \r\n",
        "$1\r\n2\r\n",
        "-ERR wrong number of arguments for 'incr' command\r\n",
        "$4\r\ndone\r\n",
    ];
    for e in expected {
        assert_eq!(c.reply(), e);
    }
    // 20 small commands written at once are answered with one write: one read gets them all.
    let mut batch = Vec::new();
    for _ in 0..20 {
        batch.extend(encode(&[b"PING"]));
    }
    c.send(&batch);
    let mut first = vec![0u8; 4096];
    let n = std::io::Read::read(&mut c.stream, &mut first).expect("read");
    assert_eq!(
        String::from_utf8_lossy(&first[..n]),
        "+PONG\r\n".repeat(20),
        "replies to one pipelined batch should arrive together"
    );
    // A large pipeline split across many TCP segments still gets every reply in order.
    let mut batch = Vec::new();
    for i in 0..5000 {
        batch.extend(encode(&[b"ECHO", i.to_string().as_bytes()]));
    }
    c.send(&batch);
    for i in 0..5000 {
        let s = i.to_string();
        assert_eq!(c.reply(), format!("${}\r\n{s}\r\n", s.len()));
    }
}

#[test]
fn a_command_split_across_writes_waits_for_the_rest() {
    let server = TestServer::start(&[]);
    let mut c = server.raw();
    let whole = encode(&[b"SET", b"key", b"a value"]);
    for byte in &whole[..whole.len() - 1] {
        c.send(&[*byte]);
    }
    assert!(c.is_silent(Duration::from_millis(100)));
    c.send(&whole[whole.len() - 1..]);
    assert_eq!(c.reply(), "+OK\r\n");
    c.send(b"GET k");
    assert!(c.is_silent(Duration::from_millis(100)));
    c.send(b"ey\r\n");
    assert_eq!(c.reply(), "$7\r\na value\r\n");
}

#[test]
fn resp3_after_hello_3_changes_reply_types_not_contents() {
    let server = TestServer::start(&[]);
    let mut c = server.raw();
    c.cmd(&["SET", "k", "v"]);
    let resp2 = [
        (
            &["CONFIG", "GET", "maxclients"][..],
            "*2\r\n$10\r\nmaxclients\r\n$5\r\n10000\r\n",
        ),
        (&["GET", "missing"][..], "$-1\r\n"),
        (&["MGET", "k", "missing"][..], "*2\r\n$1\r\nv\r\n$-1\r\n"),
        (&["COMMAND", "INFO", "nosuch"][..], "*1\r\n$-1\r\n"),
        (&["COMMAND", "DOCS", "nosuch"][..], "*0\r\n"),
    ];
    // Replies as redis-server 7.0.15 sends them in RESP2.
    for (args, expected) in resp2 {
        assert_eq!(c.cmd(args), expected, "{args:?}");
    }
    assert!(c.cmd(&["HELLO", "3"]).starts_with("%7\r\n"));
    // Replies as redis-server 7.0.15 sends them after HELLO 3.
    let resp3 = [
        (
            &["CONFIG", "GET", "maxclients"][..],
            "%1\r\n$10\r\nmaxclients\r\n$5\r\n10000\r\n",
        ),
        (&["GET", "missing"][..], "_\r\n"),
        (&["MGET", "k", "missing"][..], "*2\r\n$1\r\nv\r\n_\r\n"),
        (&["COMMAND", "INFO", "nosuch"][..], "*1\r\n_\r\n"),
        (&["COMMAND", "DOCS", "nosuch"][..], "%0\r\n"),
    ];
    for (args, expected) in resp3 {
        assert_eq!(c.cmd(args), expected, "{args:?}");
    }
    let info = c.cmd(&["INFO", "server"]);
    assert!(
        info.starts_with('=') && info.contains("\r\ntxt:# Server\r\n"),
        "{info}"
    );
}

#[test]
fn hello_errors_leave_the_protocol_unchanged() {
    let server = TestServer::start(&["--requirepass", "pw"]);
    let mut c = server.raw();
    assert_eq!(
        c.cmd(&["HELLO", "4"]),
        "-NOPROTO unsupported protocol version\r\n"
    );
    assert_eq!(
        c.cmd(&["HELLO", "3", "AUTH", "default", "wrong"]),
        "-WRONGPASS invalid username-password pair or user is disabled.\r\n"
    );
    assert_eq!(c.cmd(&["AUTH", "pw"]), "+OK\r\n");
    assert_eq!(c.cmd(&["GET", "missing"]), "$-1\r\n");
    assert_eq!(
        c.cmd(&["HELLO", "3", "FOO"]),
        "-ERR Syntax error in HELLO option 'FOO'\r\n"
    );
    assert_eq!(c.cmd(&["GET", "missing"]), "$-1\r\n");
}

#[test]
fn unauthenticated_clients_get_tighter_limits() {
    // Texts as redis-server 7.0.15 --requirepass sent them.
    let server = TestServer::start(&["--requirepass", "pw"]);
    let mut a = server.raw();
    a.send(b"*11\r\n");
    assert_eq!(
        a.read_to_close(),
        "-ERR Protocol error: unauthenticated multibulk length\r\n"
    );
    let mut b = server.raw();
    b.send(b"*1\r\n$16385\r\n");
    assert_eq!(
        b.read_to_close(),
        "-ERR Protocol error: unauthenticated bulk length\r\n"
    );
    let mut c = server.raw();
    c.send(b"*10\r\n");
    assert!(c.is_silent(Duration::from_millis(100)));
    let mut d = server.raw();
    assert_eq!(d.cmd(&["AUTH", "pw"]), "+OK\r\n");
    d.send(b"*11\r\n$4\r\nMGET\r\n");
    for _ in 0..10 {
        d.send(b"$1\r\nk\r\n");
    }
    assert_eq!(d.reply(), format!("*10\r\n{}", "$-1\r\n".repeat(10)));
}

#[test]
fn inline_requests_over_64kb_are_refused() {
    let server = TestServer::start(&[]);
    let mut c = server.raw();
    c.send(&vec![b'a'; 70_000]);
    assert_eq!(
        c.read_to_close(),
        "-ERR Protocol error: too big inline request\r\n"
    );
    // Under the limit an inline request is fine.
    let mut d = server.raw();
    let mut line = b"ECHO ".to_vec();
    line.extend(vec![b'x'; 60_000]);
    line.extend_from_slice(b"\r\n");
    d.send(&line);
    assert_eq!(d.reply(), format!("$60000\r\n{}\r\n", "x".repeat(60_000)));
}

#[test]
fn bulk_length_limit_follows_proto_max_bulk_len() {
    let server = TestServer::start(&["--proto-max-bulk-len", "1mb"]);
    let mut c = server.raw();
    c.send(b"*2\r\n$4\r\nECHO\r\n$1048577\r\n");
    assert_eq!(
        c.read_to_close(),
        "-ERR Protocol error: invalid bulk length\r\n"
    );
    let mut d = server.raw();
    let value = vec![b'v'; 1_048_576];
    d.send_cmd(&[b"SET", b"big", &value]);
    assert_eq!(d.reply(), "+OK\r\n");
    assert_eq!(d.cmd(&["STRLEN", "big"]), ":1048576\r\n");
    // CONFIG SET moves the limit for requests that follow.
    assert_eq!(
        d.cmd(&["CONFIG", "SET", "proto-max-bulk-len", "2mb"]),
        "+OK\r\n"
    );
    let mut e = server.raw();
    e.send(b"*2\r\n$4\r\nECHO\r\n$1048577\r\n");
    assert!(e.is_silent(Duration::from_millis(100)));
}

#[test]
fn a_huge_declared_count_allocates_nothing_up_front() {
    // Redis accepts counts up to INT_MAX and waits for the elements; so does Herald, without
    // reserving memory for them.
    let server = TestServer::start(&[]);
    let mut c = server.raw();
    c.send(b"*2000000000\r\n");
    assert!(c.is_silent(Duration::from_millis(100)));
    c.send(b"$536870912\r\n");
    assert!(c.is_silent(Duration::from_millis(100)));
    let mut other = server.raw();
    assert_eq!(other.cmd(&["PING"]), "+PONG\r\n");
    let info = other.cmd(&["INFO", "memory"]);
    let used: u64 = info
        .split("\r\n")
        .find_map(|l| l.strip_prefix("used_memory:"))
        .and_then(|n| n.parse().ok())
        .expect("used_memory");
    assert!(used < 256 * 1024 * 1024, "used_memory:{used}");
}

#[test]
fn the_query_buffer_limit_closes_only_the_offender_without_a_reply() {
    let server = TestServer::start(&["--client-query-buffer-limit", "1mb"]);
    let mut bystander = server.raw();
    assert_eq!(bystander.cmd(&["MULTI"]), "+OK\r\n");
    assert_eq!(bystander.cmd(&["SET", "k", "v"]), "+QUEUED\r\n");
    // Under the limit: a 900 KB value is fine.
    let mut fine = server.raw();
    let value = vec![b'x'; 900 * 1024];
    fine.send_cmd(&[b"SET", b"big", &value]);
    assert_eq!(fine.reply(), "+OK\r\n");
    // Over it: a bulk that keeps growing past 1 MB is cut off, as Redis does, with no reply.
    let mut c = server.raw();
    c.send(b"*2\r\n$4\r\nECHO\r\n$5000000\r\n");
    let chunk = vec![b'y'; 64 * 1024];
    for _ in 0..40 {
        if std::io::Write::write_all(&mut c.stream, &chunk).is_err() {
            break;
        }
    }
    assert_eq!(c.read_to_close(), "");
    assert_eq!(bystander.cmd(&["EXEC"]), "*1\r\n+OK\r\n");
    assert_eq!(fine.cmd(&["STRLEN", "big"]), ":921600\r\n");
}

#[test]
fn long_unknown_commands_and_arguments_are_cut_at_128_bytes() {
    let server = TestServer::start(&[]);
    let mut c = server.raw();
    let name = "x".repeat(200);
    let arg = "a".repeat(200);
    // As redis-server 7.0.15 answers: the name cut at 128 bytes, arguments until 128 are listed.
    assert_eq!(
        c.cmd(&[&name, &arg, "b"]),
        format!(
            "-ERR unknown command '{}', with args beginning with: '{}' \r\n",
            "x".repeat(128),
            "a".repeat(128)
        )
    );
    assert_eq!(
        c.cmd(&["nosuch", "one", "two"]),
        "-ERR unknown command 'nosuch', with args beginning with: 'one' 'two' \r\n"
    );
}

#[test]
fn errors_echo_names_and_arguments_byte_for_byte_up_to_a_nul() {
    let server = TestServer::start(&[]);
    let mut c = server.raw();
    // As redis-server 7.0.15 answers (its `%s` formatting): bytes that are not UTF-8 come back
    // as they were sent, and a NUL ends the name or argument.
    let cases: &[(&[&[u8]], &[u8])] = &[
        (
            &[b"A\xffB", b"x\x00y", b"\xfe"],
            b"-ERR unknown command 'A\xffB', with args beginning with: 'x' '\xfe' \r\n",
        ),
        (
            &[b"CONFIG", b"G\x00ET"],
            b"-ERR unknown subcommand 'G'. Try CONFIG HELP.\r\n",
        ),
        (
            &[b"CLIENT", b"G\xffET"],
            b"-ERR unknown subcommand 'G\xffET'. Try CLIENT HELP.\r\n",
        ),
        (
            &[b"PUBSUB", b"\xfe\xfd"],
            b"-ERR unknown subcommand '\xfe\xfd'. Try PUBSUB HELP.\r\n",
        ),
        (
            &[b"XINFO", b"F\x00O", b"k"],
            b"-ERR unknown subcommand 'F'. Try XINFO HELP.\r\n",
        ),
    ];
    for (request, expected) in cases {
        c.send_cmd(request);
        assert_eq!(
            c.reply_bytes(),
            expected.to_vec(),
            "{:?}",
            String::from_utf8_lossy(expected)
        );
    }
}

/// Sends `bytes` then half-closes; returns what came back before the server closed.
fn send_and_drain(server: &TestServer, bytes: &[u8]) -> Vec<u8> {
    let mut c = server.raw();
    c.send(bytes);
    let _ = c.stream.shutdown(std::net::Shutdown::Write);
    c.stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut out = Vec::new();
    std::io::Read::read_to_end(&mut c.stream, &mut out)
        .expect("the server closes a connection whose peer has finished writing");
    out
}

/// Checks that `out` is a run of complete RESP frames and that a protocol error, if any, is
/// the last of them.
fn assert_well_formed(input: &[u8], out: &[u8]) {
    let mut at = 0;
    while at < out.len() {
        let len = common::frame_len(out, at).unwrap_or_else(|| {
            panic!(
                "incomplete reply {:?} to {:?}",
                String::from_utf8_lossy(out),
                input
            )
        });
        let frame = &out[at..at + len];
        assert!(
            matches!(
                frame[0],
                b'+' | b'-' | b':' | b'$' | b'*' | b'%' | b'_' | b'='
            ),
            "not a reply: {:?} to {input:?}",
            String::from_utf8_lossy(frame)
        );
        if frame.starts_with(b"-ERR Protocol error") {
            assert_eq!(
                at + len,
                out.len(),
                "replies after a protocol error to {input:?}"
            );
        }
        at += len;
    }
}

#[test]
fn random_and_mutated_input_never_breaks_the_server() {
    use proptest::prelude::*;
    use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

    let server = TestServer::start(&[]);
    let mut bystander = server.raw();
    assert_eq!(bystander.cmd(&["SET", "k", "v"]), "+OK\r\n");
    assert_eq!(bystander.cmd(&["WATCH", "k"]), "+OK\r\n");
    // No letters of FLUSH*, SHUTDOWN, DEBUG, QUIT, CLIENT or CONFIG, so fuzzing stays local.
    let alphabet: &[u8] = b"*$:+-_%~\r\n0123456789 \"'\\\x00\xffPINGECHOabcx";
    let valid = [
        encode(&[b"ECHO", b"hello"]),
        encode(&[b"PING"]),
        encode(&[b"GET", b"k"]),
        b"ECHO \"a b\" 'c'\r\n".to_vec(),
    ];
    let strategy = prop_oneof![
        prop::collection::vec(prop::sample::select(alphabet.to_vec()), 0..96),
        (
            prop::sample::select(valid.to_vec()),
            prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..4),
            any::<prop::sample::Index>(),
        )
            .prop_map(|(mut bytes, flips, cut)| {
                for (at, byte) in flips {
                    let i = at.index(bytes.len());
                    bytes[i] = byte;
                }
                bytes.truncate(cut.index(bytes.len() + 1));
                bytes
            }),
    ];
    let mut runner = TestRunner::new_with_rng(
        Config {
            cases: 300,
            failure_persistence: None,
            ..Config::default()
        },
        TestRng::deterministic_rng(RngAlgorithm::ChaCha),
    );
    runner
        .run(&strategy, |input| {
            let out = send_and_drain(&server, &input);
            assert_well_formed(&input, &out);
            Ok(())
        })
        .unwrap();
    assert_eq!(server.raw().cmd(&["PING"]), "+PONG\r\n");
    // The bystander's connection state survived: its watch still holds.
    assert_eq!(bystander.cmd(&["MULTI"]), "+OK\r\n");
    assert_eq!(bystander.cmd(&["GET", "k"]), "+QUEUED\r\n");
    assert_eq!(bystander.cmd(&["EXEC"]), "*1\r\n$1\r\nv\r\n");
}

#[test]
fn garbage_from_one_client_does_not_reach_another() {
    let server = TestServer::start(&[]);
    let mut good = server.raw();
    good.send(b"*2\r\n$4\r\nECHO\r\n$9\r\nhalf");
    let mut bad = server.raw();
    bad.send(b"*1\r\n$x\r\n");
    assert_eq!(
        bad.read_to_close(),
        "-ERR Protocol error: invalid bulk length\r\n"
    );
    good.send(b" done\r\n");
    assert_eq!(good.reply(), "$9\r\nhalf done\r\n");
}
