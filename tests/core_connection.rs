//! Connection commands over the wire: PING, ECHO, HELLO, AUTH, SELECT, QUIT, RESET and CLIENT
//! (ID, SETNAME, GETNAME, SETINFO, INFO, LIST, KILL, REPLY, NO-EVICT, NO-TOUCH, HELP). Expected
//! replies were captured from a real redis-server (7.0.15) sent the same bytes; where Redis 7.4
//! answers differently the test says so and follows 7.4.
mod common;

use common::{encode, TestServer};
use std::time::Duration;

#[test]
fn ping_and_echo() {
    let server = TestServer::start(&[]);
    let mut a = server.raw();
    assert_eq!(a.cmd(&["PING"]), "+PONG\r\n");
    assert_eq!(a.cmd(&["PING", "hello"]), "$5\r\nhello\r\n");
    assert_eq!(a.cmd(&["PING", ""]), "$0\r\n\r\n");
    assert_eq!(
        a.cmd(&["PING", "a", "b"]),
        "-ERR wrong number of arguments for 'ping' command\r\n"
    );
    assert_eq!(a.cmd(&["ECHO", "x"]), "$1\r\nx\r\n");
    assert_eq!(a.cmd(&["ECHO", ""]), "$0\r\n\r\n");
    assert_eq!(
        a.cmd(&["ECHO"]),
        "-ERR wrong number of arguments for 'echo' command\r\n"
    );
    assert_eq!(
        a.cmd(&["ECHO", "a", "b"]),
        "-ERR wrong number of arguments for 'echo' command\r\n"
    );
    assert_eq!(a.cmd(&["ping"]), "+PONG\r\n");
    let _ = a.cmd(&["HELLO", "3"]); // "%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n$5\r\npro
    assert_eq!(a.cmd(&["PING"]), "+PONG\r\n");
    assert_eq!(a.cmd(&["PING", "hello"]), "$5\r\nhello\r\n");
    assert_eq!(a.cmd(&["ECHO", "x"]), "$1\r\nx\r\n");
}

#[test]
fn hello_errors_and_options() {
    let server = TestServer::start(&[]);
    let mut a = server.raw();
    assert_eq!(
        a.cmd(&["HELLO", "4"]),
        "-NOPROTO unsupported protocol version\r\n"
    );
    assert_eq!(
        a.cmd(&["HELLO", "1"]),
        "-NOPROTO unsupported protocol version\r\n"
    );
    assert_eq!(
        a.cmd(&["HELLO", "0"]),
        "-NOPROTO unsupported protocol version\r\n"
    );
    assert_eq!(
        a.cmd(&["HELLO", "-1"]),
        "-NOPROTO unsupported protocol version\r\n"
    );
    assert_eq!(
        a.cmd(&["HELLO", "abc"]),
        "-ERR Protocol version is not an integer or out of range\r\n"
    );
    assert_eq!(
        a.cmd(&["HELLO", "3", "FOO"]),
        "-ERR Syntax error in HELLO option 'FOO'\r\n"
    );
    assert_eq!(
        a.cmd(&["HELLO", "2", "AUTH"]),
        "-ERR Syntax error in HELLO option 'AUTH'\r\n"
    );
    assert_eq!(
        a.cmd(&["HELLO", "2", "AUTH", "default"]),
        "-ERR Syntax error in HELLO option 'AUTH'\r\n"
    );
    assert_eq!(
        a.cmd(&["HELLO", "2", "SETNAME"]),
        "-ERR Syntax error in HELLO option 'SETNAME'\r\n"
    );
    assert_eq!(
        a.cmd(&["HELLO", "2", "SETNAME", "a b"]),
        "-ERR Client names cannot contain spaces, newlines or special characters.\r\n"
    );
    assert_eq!(
        a.cmd(&["HELLO", "2", "SETNAME", "a", "SETNAME"]),
        "-ERR Syntax error in HELLO option 'SETNAME'\r\n"
    );
    let _ = a.cmd(&["HELLO", "2", "SETNAME", "first"]); // "*14\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n$5\r\npr
    assert_eq!(a.cmd(&["CLIENT", "GETNAME"]), "$5\r\nfirst\r\n");
    let _ = a.cmd(&["HELLO", "3", "SETNAME", "second"]); // "%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n$5\r\npro
    assert_eq!(a.cmd(&["CLIENT", "GETNAME"]), "$6\r\nsecond\r\n");
    let _ = a.cmd(&["HELLO"]); // "%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n$5\r\npro
    assert_eq!(a.cmd(&["CLIENT", "GETNAME"]), "$6\r\nsecond\r\n");
    let _ = a.cmd(&["HELLO", "2", "AUTH", "default", "anything"]); // "*14\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n$5\r\npr
}

#[test]
fn auth_without_requirepass() {
    let server = TestServer::start(&[]);
    let mut a = server.raw();
    assert_eq!(a.cmd(&["AUTH", "x"]), "-ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?\r\n");
    assert_eq!(a.cmd(&["AUTH", "default", "x"]), "+OK\r\n");
    assert_eq!(a.cmd(&["AUTH", "default"]), "-ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?\r\n");
    assert_eq!(
        a.cmd(&["AUTH", "nobody", "x"]),
        "-WRONGPASS invalid username-password pair or user is disabled.\r\n"
    );
    assert_eq!(a.cmd(&["AUTH", "a", "b", "c"]), "-ERR syntax error\r\n");
    assert_eq!(
        a.cmd(&["AUTH"]),
        "-ERR wrong number of arguments for 'auth' command\r\n"
    );
    assert_eq!(a.cmd(&["PING"]), "+PONG\r\n");
}

#[test]
fn auth_with_requirepass() {
    let server = TestServer::start(&["--requirepass", "pw"]);
    let mut a = server.raw();
    assert_eq!(a.cmd(&["PING"]), "-NOAUTH Authentication required.\r\n");
    assert_eq!(a.cmd(&["GET", "a"]), "-NOAUTH Authentication required.\r\n");
    assert_eq!(
        a.cmd(&["ECHO", "x"]),
        "-NOAUTH Authentication required.\r\n"
    );
    assert_eq!(
        a.cmd(&["SELECT", "1"]),
        "-NOAUTH Authentication required.\r\n"
    );
    assert_eq!(
        a.cmd(&["CLIENT", "ID"]),
        "-NOAUTH Authentication required.\r\n"
    );
    assert_eq!(
        a.cmd(&["FOO"]),
        "-ERR unknown command 'FOO', with args beginning with: \r\n"
    );
    assert_eq!(
        a.cmd(&["GET"]),
        "-ERR wrong number of arguments for 'get' command\r\n"
    );
    assert_eq!(a.cmd(&["MULTI"]), "-NOAUTH Authentication required.\r\n");
    assert_eq!(
        a.cmd(&["AUTH", "wrong"]),
        "-WRONGPASS invalid username-password pair or user is disabled.\r\n"
    );
    assert_eq!(
        a.cmd(&["AUTH", "default", "wrong"]),
        "-WRONGPASS invalid username-password pair or user is disabled.\r\n"
    );
    assert_eq!(
        a.cmd(&["AUTH", "nobody", "pw"]),
        "-WRONGPASS invalid username-password pair or user is disabled.\r\n"
    );
    assert_eq!(a.cmd(&["AUTH", "a", "b", "c"]), "-ERR syntax error\r\n");
    assert_eq!(
        a.cmd(&["HELLO", "2", "AUTH", "default", "wrong"]),
        "-WRONGPASS invalid username-password pair or user is disabled.\r\n"
    );
    assert_eq!(
        a.cmd(&["HELLO", "3", "AUTH", "nobody", "pw"]),
        "-WRONGPASS invalid username-password pair or user is disabled.\r\n"
    );
    // Redis 7.4 behaviour; 7.0.15 answers "-NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time\r\n"
    assert_eq!(a.cmd(&["HELLO", "2", "SETNAME", "x"]), "-NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time\r\n");
    // Redis 7.4 behaviour; 7.0.15 answers "-NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time\r\n"
    assert_eq!(a.cmd(&["HELLO"]), "-NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time\r\n");
    let mut b = server.raw();
    assert_eq!(b.cmd(&["AUTH", "pw"]), "+OK\r\n");
    assert_eq!(b.cmd(&["GET", "a"]), "$-1\r\n");
    assert_eq!(
        b.cmd(&["AUTH", "wrong"]),
        "-WRONGPASS invalid username-password pair or user is disabled.\r\n"
    );
    // a failed AUTH does not forget an earlier success
    assert_eq!(b.cmd(&["GET", "a"]), "$-1\r\n");
    assert_eq!(b.cmd(&["RESET"]), "+RESET\r\n");
    assert_eq!(b.cmd(&["GET", "a"]), "-NOAUTH Authentication required.\r\n");
    assert_eq!(b.cmd(&["AUTH", "default", "pw"]), "+OK\r\n");
    assert_eq!(b.cmd(&["GET", "a"]), "$-1\r\n");
    let mut c = server.raw();
    let _ = c.cmd(&["HELLO", "2", "AUTH", "default", "pw", "SETNAME", "named"]); // "*14\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n$5\r\npr
    assert_eq!(c.cmd(&["CLIENT", "GETNAME"]), "$5\r\nnamed\r\n");
    assert_eq!(c.cmd(&["GET", "a"]), "$-1\r\n");
    let mut d = server.raw();
    let _ = d.cmd(&["HELLO", "3", "AUTH", "default", "pw"]); // "%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n$5\r\npro
    assert_eq!(d.cmd(&["GET", "a"]), "_\r\n");
    assert_eq!(d.cmd(&["QUIT"]), "+OK\r\n");
}

#[test]
fn select_and_per_db_keyspaces() {
    let server = TestServer::start(&[]);
    let mut a = server.raw();
    assert_eq!(
        a.cmd(&["SELECT", "16"]),
        "-ERR DB index is out of range\r\n"
    );
    assert_eq!(
        a.cmd(&["SELECT", "-1"]),
        "-ERR DB index is out of range\r\n"
    );
    assert_eq!(
        a.cmd(&["SELECT", "abc"]),
        "-ERR value is not an integer or out of range\r\n"
    );
    assert_eq!(
        a.cmd(&["SELECT", "1.5"]),
        "-ERR value is not an integer or out of range\r\n"
    );
    assert_eq!(
        a.cmd(&["SELECT"]),
        "-ERR wrong number of arguments for 'select' command\r\n"
    );
    assert_eq!(
        a.cmd(&["SELECT", "1", "2"]),
        "-ERR wrong number of arguments for 'select' command\r\n"
    );
    assert_eq!(a.cmd(&["SELECT", "15"]), "+OK\r\n");
    assert_eq!(a.cmd(&["SET", "k", "fifteen"]), "+OK\r\n");
    assert_eq!(a.cmd(&["SELECT", "0"]), "+OK\r\n");
    assert_eq!(a.cmd(&["GET", "k"]), "$-1\r\n");
    assert_eq!(a.cmd(&["SET", "k", "zero"]), "+OK\r\n");
    assert_eq!(a.cmd(&["SELECT", "15"]), "+OK\r\n");
    assert_eq!(a.cmd(&["GET", "k"]), "$7\r\nfifteen\r\n");
    assert_eq!(a.cmd(&["DBSIZE"]), ":1\r\n");
    assert_eq!(a.cmd(&["SELECT", "0"]), "+OK\r\n");
    assert_eq!(a.cmd(&["DBSIZE"]), ":1\r\n");
    let mut b = server.raw();
    assert_eq!(b.cmd(&["GET", "k"]), "$4\r\nzero\r\n");
    assert_eq!(b.cmd(&["SELECT", "15"]), "+OK\r\n");
    assert_eq!(b.cmd(&["GET", "k"]), "$7\r\nfifteen\r\n");
}

#[test]
fn select_with_fewer_databases() {
    let server = TestServer::start(&["--databases", "4"]);
    let mut a = server.raw();
    assert_eq!(a.cmd(&["SELECT", "3"]), "+OK\r\n");
    assert_eq!(a.cmd(&["SELECT", "4"]), "-ERR DB index is out of range\r\n");
    assert_eq!(
        a.cmd(&["SELECT", "16"]),
        "-ERR DB index is out of range\r\n"
    );
    assert_eq!(
        a.cmd(&["CONFIG", "GET", "databases"]),
        "*2\r\n$9\r\ndatabases\r\n$1\r\n4\r\n"
    );
}

#[test]
fn quit_closes_after_its_reply() {
    let server = TestServer::start(&[]);
    let mut a = server.raw();
    assert_eq!(a.cmd(&["SET", "k", "v"]), "+OK\r\n");
    a.send(&encode(&[b"QUIT"]));
    assert_eq!(a.read_to_close(), "+OK\r\n");
    let mut b = server.raw();
    let _ = b.cmd(&["HELLO", "3"]); // "%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n$5\r\npro
    b.send(&encode(&[b"QUIT"]));
    assert_eq!(b.read_to_close(), "+OK\r\n");
    let mut c = server.raw();
    c.send(&encode(&[b"QUIT", b"extra", b"args"]));
    assert_eq!(c.read_to_close(), "+OK\r\n");
}

#[test]
fn reset_restores_a_fresh_connection() {
    let server = TestServer::start(&[]);
    let mut a = server.raw();
    let _ = a.cmd(&["HELLO", "3", "SETNAME", "named"]); // "%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n$5\r\npro
    assert_eq!(a.cmd(&["SELECT", "3"]), "+OK\r\n");
    assert_eq!(a.cmd(&["SET", "k", "v"]), "+OK\r\n");
    assert_eq!(a.cmd(&["MULTI"]), "+OK\r\n");
    assert_eq!(a.cmd(&["SET", "x", "y"]), "+QUEUED\r\n");
    assert_eq!(a.cmd(&["RESET"]), "+RESET\r\n");
    assert_eq!(a.cmd(&["EXEC"]), "-ERR EXEC without MULTI\r\n");
    assert_eq!(a.cmd(&["GET", "k"]), "$-1\r\n");
    assert_eq!(a.cmd(&["CLIENT", "GETNAME"]), "$-1\r\n");
    assert_eq!(a.cmd(&["SET", "w", "1"]), "+OK\r\n");
    assert_eq!(a.cmd(&["WATCH", "w"]), "+OK\r\n");
    let mut b = server.raw();
    assert_eq!(b.cmd(&["SET", "w", "2"]), "+OK\r\n");
    assert_eq!(a.cmd(&["RESET"]), "+RESET\r\n");
    assert_eq!(a.cmd(&["MULTI"]), "+OK\r\n");
    assert_eq!(a.cmd(&["PING"]), "+QUEUED\r\n");
    assert_eq!(a.cmd(&["EXEC"]), "*1\r\n+PONG\r\n");
    a.send(&encode(&[b"CLIENT", b"REPLY", b"OFF"]));
    a.send(&encode(&[b"SET", b"hidden", b"1"]));
    assert_eq!(a.cmd(&["RESET"]), "+RESET\r\n");
    assert_eq!(a.cmd(&["PING"]), "+PONG\r\n");
    let _ = a.cmd(&["SUBSCRIBE", "ch"]); // "*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n"
    assert_eq!(a.cmd(&["RESET"]), "+RESET\r\n");
    assert_eq!(a.cmd(&["PING"]), "+PONG\r\n");
    assert_eq!(
        a.cmd(&["RESET", "x"]),
        "-ERR wrong number of arguments for 'reset' command\r\n"
    );
}

#[test]
fn client_setname_and_getname() {
    let server = TestServer::start(&[]);
    let mut a = server.raw();
    assert_eq!(a.cmd(&["CLIENT", "GETNAME"]), "$-1\r\n");
    assert_eq!(a.cmd(&["CLIENT", "SETNAME", "myname"]), "+OK\r\n");
    assert_eq!(a.cmd(&["CLIENT", "GETNAME"]), "$6\r\nmyname\r\n");
    assert_eq!(
        a.cmd(&["CLIENT", "SETNAME", "a b"]),
        "-ERR Client names cannot contain spaces, newlines or special characters.\r\n"
    );
    assert_eq!(
        a.cmd(&["CLIENT", "SETNAME", "a\nb"]),
        "-ERR Client names cannot contain spaces, newlines or special characters.\r\n"
    );
    assert_eq!(
        a.cmd(&["CLIENT", "SETNAME", "del\x7f"]),
        "-ERR Client names cannot contain spaces, newlines or special characters.\r\n"
    );
    assert_eq!(
        a.cmd(&["CLIENT", "SETNAME", "tab\there"]),
        "-ERR Client names cannot contain spaces, newlines or special characters.\r\n"
    );
    assert_eq!(a.cmd(&["CLIENT", "GETNAME"]), "$6\r\nmyname\r\n");
    assert_eq!(a.cmd(&["CLIENT", "SETNAME", ""]), "+OK\r\n");
    assert_eq!(a.cmd(&["CLIENT", "GETNAME"]), "$-1\r\n");
    assert_eq!(
        a.cmd(&["CLIENT", "SETNAME", "a", "b"]),
        "-ERR wrong number of arguments for 'client|setname' command\r\n"
    );
    assert_eq!(
        a.cmd(&["CLIENT", "SETNAME"]),
        "-ERR wrong number of arguments for 'client|setname' command\r\n"
    );
    assert_eq!(
        a.cmd(&["CLIENT", "GETNAME", "x"]),
        "-ERR wrong number of arguments for 'client|getname' command\r\n"
    );
    let _ = a.cmd(&["HELLO", "3"]); // "%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n$5\r\npro
    assert_eq!(a.cmd(&["CLIENT", "GETNAME"]), "_\r\n");
    assert_eq!(a.cmd(&["CLIENT", "SETNAME", "x"]), "+OK\r\n");
    assert_eq!(a.cmd(&["CLIENT", "GETNAME"]), "$1\r\nx\r\n");
}

#[test]
fn client_reply_modes() {
    let server = TestServer::start(&[]);
    let mut a = server.raw();
    assert_eq!(a.cmd(&["CLIENT", "REPLY", "FOO"]), "-ERR syntax error\r\n");
    assert_eq!(
        a.cmd(&["CLIENT", "REPLY"]),
        "-ERR wrong number of arguments for 'client|reply' command\r\n"
    );
    assert_eq!(a.cmd(&["CLIENT", "REPLY", "ON"]), "+OK\r\n");
    a.send(&encode(&[b"CLIENT", b"REPLY", b"SKIP"]));
    a.send(&encode(&[b"SET", b"a", b"1"]));
    assert_eq!(a.cmd(&["PING"]), "+PONG\r\n");
    a.send(&encode(&[b"CLIENT", b"REPLY", b"OFF"]));
    a.send(&encode(&[b"SET", b"b", b"2"]));
    a.send(&encode(&[b"GET", b"b"]));
    a.send(&encode(&[b"CLIENT", b"REPLY", b"SKIP"]));
    assert_eq!(a.cmd(&["CLIENT", "REPLY", "ON"]), "+OK\r\n");
    assert_eq!(a.cmd(&["GET", "b"]), "$1\r\n2\r\n");
    a.send(&encode(&[b"CLIENT", b"REPLY", b"SKIP"]));
    a.send(&encode(&[b"GET", b"a"]));
    a.send(&encode(&[b"GET", b"b"]));
    assert_eq!(a.cmd(&["GET", "a"]), "$1\r\n2\r\n");
}

#[test]
fn client_no_evict_and_help_and_errors() {
    let server = TestServer::start(&[]);
    let mut a = server.raw();
    assert_eq!(a.cmd(&["CLIENT", "NO-EVICT", "on"]), "+OK\r\n");
    assert_eq!(a.cmd(&["CLIENT", "NO-EVICT", "OFF"]), "+OK\r\n");
    assert_eq!(
        a.cmd(&["CLIENT", "NO-EVICT", "foo"]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(
        a.cmd(&["CLIENT", "NO-EVICT"]),
        "-ERR wrong number of arguments for 'client|no-evict' command\r\n"
    );
    assert_eq!(
        a.cmd(&["CLIENT", "FOO"]),
        "-ERR unknown subcommand 'FOO'. Try CLIENT HELP.\r\n"
    );
    assert_eq!(
        a.cmd(&["CLIENT"]),
        "-ERR wrong number of arguments for 'client' command\r\n"
    );
    assert_eq!(
        a.cmd(&["CLIENT", "ID", "x"]),
        "-ERR wrong number of arguments for 'client|id' command\r\n"
    );
    assert_eq!(
        a.cmd(&["CLIENT", "INFO", "x"]),
        "-ERR wrong number of arguments for 'client|info' command\r\n"
    );
    assert_eq!(a.cmd(&["CLIENT", "LIST", "FOO"]), "-ERR syntax error\r\n");
    assert_eq!(
        a.cmd(&["CLIENT", "LIST", "TYPE", "foo"]),
        "-ERR Unknown client type 'foo'\r\n"
    );
    assert_eq!(a.cmd(&["CLIENT", "LIST", "TYPE", "pubsub"]), "$0\r\n\r\n");
    assert_eq!(a.cmd(&["CLIENT", "LIST", "TYPE", "master"]), "$0\r\n\r\n");
    assert_eq!(a.cmd(&["CLIENT", "LIST", "TYPE", "replica"]), "$0\r\n\r\n");
    assert_eq!(a.cmd(&["CLIENT", "LIST", "ID"]), "-ERR syntax error\r\n");
    assert_eq!(
        a.cmd(&["CLIENT", "LIST", "ID", "abc"]),
        "-ERR Invalid client ID\r\n"
    );
    assert_eq!(a.cmd(&["CLIENT", "LIST", "ID", "999999"]), "$0\r\n\r\n");
}

#[test]
fn client_kill_errors() {
    let server = TestServer::start(&[]);
    let mut a = server.raw();
    assert_eq!(
        a.cmd(&["CLIENT", "KILL"]),
        "-ERR wrong number of arguments for 'client|kill' command\r\n"
    );
    assert_eq!(
        a.cmd(&["CLIENT", "KILL", "1.2.3.4:5"]),
        "-ERR No such client\r\n"
    );
    assert_eq!(
        a.cmd(&["CLIENT", "KILL", "nonsense"]),
        "-ERR No such client\r\n"
    );
    assert_eq!(a.cmd(&["CLIENT", "KILL", "ADDR", "1.2.3.4:5"]), ":0\r\n");
    assert_eq!(a.cmd(&["CLIENT", "KILL", "LADDR", "1.2.3.4:5"]), ":0\r\n");
    assert_eq!(a.cmd(&["CLIENT", "KILL", "ID", "999999"]), ":0\r\n");
    assert_eq!(
        a.cmd(&["CLIENT", "KILL", "ID", "abc"]),
        "-ERR client-id should be greater than 0\r\n"
    );
    assert_eq!(
        a.cmd(&["CLIENT", "KILL", "ID", "0"]),
        "-ERR client-id should be greater than 0\r\n"
    );
    assert_eq!(
        a.cmd(&["CLIENT", "KILL", "ID", "-5"]),
        "-ERR client-id should be greater than 0\r\n"
    );
    assert_eq!(
        a.cmd(&["CLIENT", "KILL", "TYPE", "foo"]),
        "-ERR Unknown client type 'foo'\r\n"
    );
    assert_eq!(a.cmd(&["CLIENT", "KILL", "TYPE", "master"]), ":0\r\n");
    assert_eq!(a.cmd(&["CLIENT", "KILL", "TYPE", "replica"]), ":0\r\n");
    assert_eq!(a.cmd(&["CLIENT", "KILL", "TYPE", "pubsub"]), ":0\r\n");
    assert_eq!(
        a.cmd(&["CLIENT", "KILL", "USER", "nobody"]),
        "-ERR No such user 'nobody'\r\n"
    );
    assert_eq!(
        a.cmd(&["CLIENT", "KILL", "USER", "default", "SKIPME", "yes"]),
        ":0\r\n"
    );
    assert_eq!(
        a.cmd(&["CLIENT", "KILL", "ID", "1", "SKIPME", "maybe"]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(
        a.cmd(&["CLIENT", "KILL", "ID", "1", "FOO", "bar"]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(a.cmd(&["CLIENT", "KILL", "ID"]), "-ERR No such client\r\n");
    assert_eq!(
        a.cmd(&["CLIENT", "KILL", "ID", "1", "SKIPME"]),
        "-ERR syntax error\r\n"
    );
}

/// The HELLO reply Redis 7.4 sends, for a client with id `id`, in RESP2 or RESP3.
fn hello_reply(proto: u8, id: &str) -> String {
    let header = if proto == 3 { "%7" } else { "*14" };
    format!(
        "{header}\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$5\r\n7.4.0\r\n$5\r\nproto\r\n:{proto}\r\n$2\r\nid\r\n:{id}\r\n$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*0\r\n"
    )
}

/// `n` from an integer reply `:n\r\n`.
fn id_of(reply: &str) -> String {
    reply
        .strip_prefix(':')
        .and_then(|r| r.strip_suffix("\r\n"))
        .unwrap_or_else(|| panic!("not an integer: {reply:?}"))
        .to_string()
}

/// The `key=value` fields of one CLIENT INFO / CLIENT LIST line.
fn fields(line: &str) -> Vec<(String, String)> {
    line.trim_end()
        .split(' ')
        .map(|f| {
            let (k, v) = f.split_once('=').unwrap_or_else(|| panic!("field {f:?}"));
            (k.to_string(), v.to_string())
        })
        .collect()
}

/// The text of a bulk (RESP2) or verbatim (RESP3) string reply.
fn text(reply: &str) -> String {
    let body = reply.split_once("\r\n").expect("header").1;
    let body = body.strip_suffix("\r\n").expect("trailer");
    body.strip_prefix("txt:").unwrap_or(body).to_string()
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> &'a str {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("no {name} in {fields:?}"))
}

#[test]
fn hello_replies_with_the_redis_7_map_in_both_protocols() {
    let server = TestServer::start(&[]);
    let mut a = server.raw();
    let id = id_of(&a.cmd(&["CLIENT", "ID"]));
    // Shape and values as redis-server 7.0.15 sends them, with version and id normalised.
    assert_eq!(a.cmd(&["HELLO"]), hello_reply(2, &id));
    assert_eq!(a.cmd(&["HELLO", "3"]), hello_reply(3, &id));
    assert_eq!(a.cmd(&["GET", "missing"]), "_\r\n");
    assert_eq!(a.cmd(&["HELLO"]), hello_reply(3, &id));
    assert_eq!(a.cmd(&["HELLO", "2"]), hello_reply(2, &id));
    assert_eq!(a.cmd(&["GET", "missing"]), "$-1\r\n");
    assert_eq!(
        a.cmd(&["HELLO", "3", "AUTH", "default", "any", "SETNAME", "lib"]),
        hello_reply(3, &id)
    );
    assert_eq!(a.cmd(&["CLIENT", "GETNAME"]), "$3\r\nlib\r\n");
    // RESET goes back to RESP2.
    assert_eq!(a.cmd(&["RESET"]), "+RESET\r\n");
    assert_eq!(a.cmd(&["GET", "missing"]), "$-1\r\n");
}

#[test]
fn resp3_through_the_redis_crate_the_way_libraries_connect() {
    let server = TestServer::start(&["--requirepass", "pw"]);
    let url = format!("redis://:pw@{}/3?protocol=resp3", server.addr);
    let mut con = redis::Client::open(url.as_str())
        .expect("client")
        .get_connection()
        .expect("connect with HELLO 3 AUTH and SELECT 3");
    let _: () = redis::cmd("SET").arg("k").arg("v").query(&mut con).unwrap();
    let missing: Option<String> = redis::cmd("GET").arg("nope").query(&mut con).unwrap();
    assert_eq!(missing, None);
    let info: String = redis::cmd("CLIENT").arg("INFO").query(&mut con).unwrap();
    let f = fields(&info);
    assert_eq!((field(&f, "db"), field(&f, "resp")), ("3", "3"));
    let mut raw = server.raw();
    assert_eq!(raw.cmd(&["AUTH", "pw"]), "+OK\r\n");
    assert_eq!(raw.cmd(&["SELECT", "3"]), "+OK\r\n");
    assert_eq!(raw.cmd(&["GET", "k"]), "$1\r\nv\r\n");
}

#[test]
fn client_setinfo_and_no_touch_follow_redis_7_4() {
    // Redis 7.0 answers "unknown subcommand" to both; they came in 7.2 and client libraries
    // send CLIENT SETINFO on connect.
    let server = TestServer::start(&[]);
    let mut a = server.raw();
    assert_eq!(
        a.cmd(&["CLIENT", "SETINFO", "lib-name", "redis-py"]),
        "+OK\r\n"
    );
    assert_eq!(a.cmd(&["CLIENT", "SETINFO", "LIB-VER", "5.0.1"]), "+OK\r\n");
    assert_eq!(
        a.cmd(&["CLIENT", "SETINFO", "lib-name", "a b"]),
        "-ERR lib-name cannot contain spaces, newlines or special characters.\r\n"
    );
    assert_eq!(
        a.cmd(&["CLIENT", "SETINFO", "foo", "bar"]),
        "-ERR Unrecognized option 'foo'\r\n"
    );
    assert_eq!(
        a.cmd(&["CLIENT", "SETINFO", "lib-name"]),
        "-ERR wrong number of arguments for 'client|setinfo' command\r\n"
    );
    let info = fields(&text(&a.cmd(&["CLIENT", "INFO"])));
    assert_eq!(field(&info, "lib-name"), "redis-py");
    assert_eq!(field(&info, "lib-ver"), "5.0.1");
    assert_eq!(a.cmd(&["CLIENT", "NO-TOUCH", "on"]), "+OK\r\n");
    assert_eq!(a.cmd(&["CLIENT", "NO-TOUCH", "OFF"]), "+OK\r\n");
    assert_eq!(
        a.cmd(&["CLIENT", "NO-TOUCH", "maybe"]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(
        a.cmd(&["CLIENT", "NO-TOUCH"]),
        "-ERR wrong number of arguments for 'client|no-touch' command\r\n"
    );
}

#[test]
fn client_info_and_list_have_redis_7_4_fields_in_order() {
    let server = TestServer::start(&[]);
    let mut a = server.raw();
    let mut b = server.raw();
    let a_id = id_of(&a.cmd(&["CLIENT", "ID"]));
    let b_id = id_of(&b.cmd(&["CLIENT", "ID"]));
    assert_eq!(a.cmd(&["CLIENT", "SETNAME", "alpha"]), "+OK\r\n");
    assert_eq!(a.cmd(&["SELECT", "2"]), "+OK\r\n");
    let _ = b.cmd(&["SUBSCRIBE", "ch1", "ch2"]);
    let line = text(&a.cmd(&["CLIENT", "INFO"]));
    assert!(line.ends_with('\n'), "{line:?}");
    let info = fields(&line);
    let names: Vec<&str> = info.iter().map(|(k, _)| k.as_str()).collect();
    // The field list of Redis 7.4's CLIENT INFO (7.0 lacks watch, lib-name and lib-ver).
    assert_eq!(
        names,
        [
            "id",
            "addr",
            "laddr",
            "fd",
            "name",
            "age",
            "idle",
            "flags",
            "db",
            "sub",
            "psub",
            "ssub",
            "multi",
            "watch",
            "qbuf",
            "qbuf-free",
            "argv-mem",
            "multi-mem",
            "rbs",
            "rbp",
            "obl",
            "oll",
            "omem",
            "tot-mem",
            "events",
            "cmd",
            "user",
            "redir",
            "resp",
            "lib-name",
            "lib-ver"
        ]
    );
    assert_eq!(field(&info, "id"), a_id);
    assert_eq!(field(&info, "name"), "alpha");
    assert_eq!(field(&info, "db"), "2");
    assert_eq!(field(&info, "flags"), "N");
    assert_eq!(field(&info, "cmd"), "client|info");
    assert_eq!(field(&info, "laddr"), server.addr.to_string());
    assert_eq!(field(&info, "user"), "default");
    assert_eq!(field(&info, "resp"), "2");
    let list = text(&a.cmd(&["CLIENT", "LIST"]));
    let lines: Vec<&str> = list.lines().collect();
    assert_eq!(lines.len(), 2, "{list:?}");
    let b_line = fields(
        lines
            .iter()
            .find(|l| l.contains(&format!("id={b_id} ")))
            .unwrap(),
    );
    assert_eq!(field(&b_line, "sub"), "2");
    assert_eq!(field(&b_line, "flags"), "P");
    assert_eq!(field(&b_line, "cmd"), "subscribe");
    // Filters.
    let only_b = text(&a.cmd(&["CLIENT", "LIST", "ID", &b_id]));
    assert_eq!(only_b.lines().count(), 1);
    assert!(only_b.starts_with(&format!("id={b_id} ")));
    let both = text(&a.cmd(&["CLIENT", "LIST", "ID", &a_id, &b_id, "999999"]));
    assert_eq!(both.lines().count(), 2);
    let pubsub = text(&a.cmd(&["CLIENT", "LIST", "TYPE", "pubsub"]));
    assert!(pubsub.starts_with(&format!("id={b_id} ")) && pubsub.lines().count() == 1);
    let normal = text(&a.cmd(&["CLIENT", "LIST", "TYPE", "NORMAL"]));
    assert!(normal.starts_with(&format!("id={a_id} ")) && normal.lines().count() == 1);
    // In RESP3 the list is a verbatim string.
    let _ = a.cmd(&["HELLO", "3"]);
    assert!(a.cmd(&["CLIENT", "LIST", "ID", &a_id]).starts_with("="));
}

/// `addr=` of a connection, from its own CLIENT INFO.
fn addr_of(c: &mut common::Raw) -> String {
    let info = fields(&text(&c.cmd(&["CLIENT", "INFO"])));
    field(&info, "addr").to_string()
}

#[test]
fn client_kill_old_and_new_styles() {
    // Replies and closes as redis-server 7.0.15 gave them for the same sequence.
    let server = TestServer::start(&[]);
    let mut a = server.raw();
    let a_id = id_of(&a.cmd(&["CLIENT", "ID"]));
    // SKIPME yes is the default: a client does not kill itself by id.
    assert_eq!(a.cmd(&["CLIENT", "KILL", "ID", &a_id]), ":0\r\n");
    assert_eq!(
        a.cmd(&["CLIENT", "KILL", "ID", &a_id, "SKIPME", "no"]),
        ":1\r\n"
    );
    assert_eq!(a.read_to_close(), "");
    let mut a = server.raw();
    // Old style: CLIENT KILL ip:port answers +OK.
    let mut b = server.raw();
    let b_addr = addr_of(&mut b);
    assert_eq!(a.cmd(&["CLIENT", "KILL", &b_addr]), "+OK\r\n");
    assert_eq!(b.read_to_close(), "");
    assert_eq!(
        a.cmd(&["CLIENT", "KILL", &b_addr]),
        "-ERR No such client\r\n"
    );
    // ...and it may name the caller itself.
    let a_addr = addr_of(&mut a);
    assert_eq!(a.cmd(&["CLIENT", "KILL", &a_addr]), "+OK\r\n");
    assert_eq!(a.read_to_close(), "");
    // New style filters count what they killed.
    let mut a = server.raw();
    let mut b = server.raw();
    let mut s = server.raw();
    assert_eq!(
        s.cmd(&["SUBSCRIBE", "x"]),
        "*3\r\n$9\r\nsubscribe\r\n$1\r\nx\r\n:1\r\n"
    );
    assert_eq!(a.cmd(&["CLIENT", "KILL", "TYPE", "normal"]), ":1\r\n");
    assert_eq!(b.read_to_close(), "");
    assert!(s.is_silent(Duration::from_millis(100)));
    assert_eq!(a.cmd(&["CLIENT", "KILL", "TYPE", "pubsub"]), ":1\r\n");
    assert_eq!(s.read_to_close(), "");
    let mut b = server.raw();
    let b_addr = addr_of(&mut b);
    assert_eq!(a.cmd(&["CLIENT", "KILL", "ADDR", &b_addr]), ":1\r\n");
    assert_eq!(b.read_to_close(), "");
    let mut b = server.raw();
    let _ = addr_of(&mut b);
    assert_eq!(a.cmd(&["CLIENT", "KILL", "USER", "default"]), ":1\r\n");
    assert_eq!(b.read_to_close(), "");
    let laddr = format!("127.0.0.1:{}", server.addr.port());
    let mut b = server.raw();
    let _ = addr_of(&mut b);
    assert_eq!(a.cmd(&["CLIENT", "KILL", "LADDR", &laddr]), ":1\r\n");
    assert_eq!(b.read_to_close(), "");
    // The killer is untouched.
    assert_eq!(a.cmd(&["PING"]), "+PONG\r\n");
}

#[test]
fn client_kill_maxage_follows_redis_7_4() {
    // MAXAGE came in Redis 7.4 (7.0 answers "syntax error"): kill clients older than n seconds.
    let server = TestServer::start(&[]);
    let mut a = server.raw();
    let mut old = server.raw();
    assert_eq!(old.cmd(&["PING"]), "+PONG\r\n");
    std::thread::sleep(Duration::from_millis(1100));
    let mut young = server.raw();
    assert_eq!(young.cmd(&["PING"]), "+PONG\r\n");
    assert_eq!(a.cmd(&["CLIENT", "KILL", "MAXAGE", "1000"]), ":0\r\n");
    // `a` is old too, but SKIPME yes spares it.
    assert_eq!(a.cmd(&["CLIENT", "KILL", "MAXAGE", "1"]), ":1\r\n");
    assert_eq!(old.read_to_close(), "");
    assert_eq!(young.cmd(&["PING"]), "+PONG\r\n");
}

#[test]
fn databases_option_sets_the_number_of_keyspaces() {
    let server = TestServer::start(&["--databases", "2"]);
    let mut a = server.raw();
    assert_eq!(a.cmd(&["SELECT", "1"]), "+OK\r\n");
    assert_eq!(a.cmd(&["SELECT", "2"]), "-ERR DB index is out of range\r\n");
    let url = format!("redis://{}/1", server.addr);
    let mut con = redis::Client::open(url.as_str())
        .unwrap()
        .get_connection()
        .unwrap();
    let _: () = redis::cmd("SET")
        .arg("k")
        .arg("one")
        .query(&mut con)
        .unwrap();
    assert_eq!(a.cmd(&["GET", "k"]), "$3\r\none\r\n");
    assert_eq!(a.cmd(&["SELECT", "0"]), "+OK\r\n");
    assert_eq!(a.cmd(&["GET", "k"]), "$-1\r\n");
}
