//! String commands over the wire: GET, SET and every option combination, MGET, MSET, the
//! INCR/DECR family with overflow, APPEND, STRLEN and GETDEL. Every expected reply below was
//! first captured from a real redis-server (7.0.15) sent the same bytes.
mod common;

use common::{int, TestServer};

#[test]
fn set_options_and_their_errors() {
    let server = TestServer::start(&[]);
    let mut a = server.raw();
    assert_eq!(a.cmd(&["SET", "k", "v"]), "+OK\r\n");
    assert_eq!(a.cmd(&["GET", "k"]), "$1\r\nv\r\n");
    assert_eq!(
        a.cmd(&["SET", "k", "v", "EX", "10", "PX", "100"]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(
        a.cmd(&["SET", "k", "v", "NX", "XX"]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(
        a.cmd(&["SET", "k", "v", "EX", "10", "KEEPTTL"]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(
        a.cmd(&["SET", "k", "v", "PX", "10", "KEEPTTL"]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(
        a.cmd(&["SET", "k", "v", "EXAT", "10", "PXAT", "10"]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(a.cmd(&["SET", "k", "v", "EX", "10", "EX", "10"]), "+OK\r\n");
    assert_eq!(a.cmd(&["SET", "k", "v", "NX", "NX"]), "$-1\r\n");
    assert_eq!(a.cmd(&["SET", "k", "v", "FOO"]), "-ERR syntax error\r\n");
    assert_eq!(a.cmd(&["SET", "k", "v", "EX"]), "-ERR syntax error\r\n");
    assert_eq!(
        a.cmd(&["SET", "k", "v", "a", "b", "c"]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(
        a.cmd(&["SET", "k", "v", "EX", "0"]),
        "-ERR invalid expire time in 'set' command\r\n"
    );
    assert_eq!(
        a.cmd(&["SET", "k", "v", "EX", "-1"]),
        "-ERR invalid expire time in 'set' command\r\n"
    );
    assert_eq!(
        a.cmd(&["SET", "k", "v", "PX", "0"]),
        "-ERR invalid expire time in 'set' command\r\n"
    );
    assert_eq!(
        a.cmd(&["SET", "k", "v", "PXAT", "0"]),
        "-ERR invalid expire time in 'set' command\r\n"
    );
    assert_eq!(
        a.cmd(&["SET", "k", "v", "EXAT", "-5"]),
        "-ERR invalid expire time in 'set' command\r\n"
    );
    assert_eq!(
        a.cmd(&["SET", "k", "v", "EX", "abc"]),
        "-ERR value is not an integer or out of range\r\n"
    );
    assert_eq!(
        a.cmd(&["SET", "k", "v", "EX", "1.5"]),
        "-ERR value is not an integer or out of range\r\n"
    );
    assert_eq!(
        a.cmd(&["SET", "k", "v", "EX", "9223372036854775807"]),
        "-ERR invalid expire time in 'set' command\r\n"
    );
    assert_eq!(
        a.cmd(&["SET", "k", "v", "PX", "9223372036854775807"]),
        "-ERR invalid expire time in 'set' command\r\n"
    );
    assert_eq!(
        a.cmd(&["SET", "k", "v", "EXAT", "9223372036854775807"]),
        "-ERR invalid expire time in 'set' command\r\n"
    );
    assert_eq!(
        a.cmd(&["SET", "k", "v", "EX", "9223372036854775"]),
        "-ERR invalid expire time in 'set' command\r\n"
    );
    assert_eq!(a.cmd(&["GET", "k"]), "$1\r\nv\r\n");
    // lower-case options
    assert_eq!(a.cmd(&["SET", "k", "v", "ex", "100"]), "+OK\r\n");
    assert_eq!(a.cmd(&["TTL", "k"]), ":100\r\n");
    assert_eq!(a.cmd(&["SET", "k", "w", "keepttl"]), "+OK\r\n");
    assert_eq!(a.cmd(&["TTL", "k"]), ":100\r\n");
    assert_eq!(a.cmd(&["SET", "k", "x"]), "+OK\r\n");
    assert_eq!(a.cmd(&["TTL", "k"]), ":-1\r\n");
    assert_eq!(a.cmd(&["SET", "k", "v", "px", "100500"]), "+OK\r\n");
    let n = int(&a.cmd(&["PTTL", "k"]));
    assert!((100000..=100500).contains(&n), "{n}");
    assert_eq!(a.cmd(&["SET", "k", "v", "exat", "4102444800"]), "+OK\r\n");
    assert_eq!(a.cmd(&["EXPIRETIME", "k"]), ":4102444800\r\n");
    assert_eq!(
        a.cmd(&["SET", "k", "v", "pxat", "4102444800123"]),
        "+OK\r\n"
    );
    assert_eq!(a.cmd(&["PEXPIRETIME", "k"]), ":4102444800123\r\n");
    // an absolute time in the past deletes the key at once
    assert_eq!(a.cmd(&["SET", "k", "v", "EXAT", "1"]), "+OK\r\n");
    assert_eq!(a.cmd(&["EXISTS", "k"]), ":0\r\n");
    assert_eq!(a.cmd(&["SET", "k", "v", "PXAT", "1"]), "+OK\r\n");
    assert_eq!(a.cmd(&["EXISTS", "k"]), ":0\r\n");
    assert_eq!(
        a.cmd(&["SET"]),
        "-ERR wrong number of arguments for 'set' command\r\n"
    );
    assert_eq!(
        a.cmd(&["SET", "k"]),
        "-ERR wrong number of arguments for 'set' command\r\n"
    );
}

#[test]
fn set_nx_xx_get() {
    let server = TestServer::start(&[]);
    let mut a = server.raw();
    assert_eq!(a.cmd(&["SET", "k", "v", "NX"]), "+OK\r\n");
    assert_eq!(a.cmd(&["SET", "k", "w", "NX"]), "$-1\r\n");
    assert_eq!(a.cmd(&["GET", "k"]), "$1\r\nv\r\n");
    assert_eq!(a.cmd(&["SET", "k", "w", "XX"]), "+OK\r\n");
    assert_eq!(a.cmd(&["GET", "k"]), "$1\r\nw\r\n");
    assert_eq!(a.cmd(&["SET", "missing", "v", "XX"]), "$-1\r\n");
    assert_eq!(a.cmd(&["EXISTS", "missing"]), ":0\r\n");
    assert_eq!(a.cmd(&["SET", "k", "x", "GET"]), "$1\r\nw\r\n");
    assert_eq!(a.cmd(&["SET", "k", "y", "NX", "GET"]), "$1\r\nx\r\n");
    assert_eq!(a.cmd(&["GET", "k"]), "$1\r\nx\r\n");
    assert_eq!(a.cmd(&["SET", "k", "z", "XX", "GET"]), "$1\r\nx\r\n");
    assert_eq!(a.cmd(&["SET", "new", "v", "NX", "GET"]), "$-1\r\n");
    assert_eq!(a.cmd(&["GET", "new"]), "$1\r\nv\r\n");
    assert_eq!(a.cmd(&["SET", "new2", "v", "XX", "GET"]), "$-1\r\n");
    assert_eq!(a.cmd(&["EXISTS", "new2"]), ":0\r\n");
    assert_eq!(a.cmd(&["SET", "k", "v", "GET", "GET"]), "$1\r\nz\r\n");
    assert_eq!(a.cmd(&["SET", "k", "v", "GET", "EX", "100"]), "$1\r\nv\r\n");
    assert_eq!(a.cmd(&["TTL", "k"]), ":100\r\n");
}

#[test]
fn get_mget_mset() {
    let server = TestServer::start(&[]);
    let mut a = server.raw();
    assert_eq!(a.cmd(&["GET", "missing"]), "$-1\r\n");
    assert_eq!(
        a.cmd(&["GET"]),
        "-ERR wrong number of arguments for 'get' command\r\n"
    );
    assert_eq!(
        a.cmd(&["GET", "a", "b"]),
        "-ERR wrong number of arguments for 'get' command\r\n"
    );
    assert_eq!(a.cmd(&["MSET", "a", "1", "b", "2", "c", "3"]), "+OK\r\n");
    assert_eq!(
        a.cmd(&["MGET", "a", "b", "c", "missing", "a"]),
        "*5\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$-1\r\n$1\r\n1\r\n"
    );
    assert_eq!(
        a.cmd(&["MSET", "a"]),
        "-ERR wrong number of arguments for 'mset' command\r\n"
    );
    assert_eq!(
        a.cmd(&["MSET", "a", "1", "b"]),
        "-ERR wrong number of arguments for 'mset' command\r\n"
    );
    assert_eq!(
        a.cmd(&["MSET"]),
        "-ERR wrong number of arguments for 'mset' command\r\n"
    );
    assert_eq!(
        a.cmd(&["MGET"]),
        "-ERR wrong number of arguments for 'mget' command\r\n"
    );
    assert_eq!(a.cmd(&["MSET", "a", "x", "a", "y"]), "+OK\r\n");
    assert_eq!(a.cmd(&["GET", "a"]), "$1\r\ny\r\n");
    assert_eq!(a.cmd(&["MSET", "", "empty"]), "+OK\r\n");
    assert_eq!(a.cmd(&["GET", ""]), "$5\r\nempty\r\n");
}

#[test]
fn incr_decr_family() {
    let server = TestServer::start(&[]);
    let mut a = server.raw();
    assert_eq!(a.cmd(&["INCR", "n"]), ":1\r\n");
    assert_eq!(a.cmd(&["INCR", "n"]), ":2\r\n");
    assert_eq!(a.cmd(&["DECR", "n"]), ":1\r\n");
    assert_eq!(a.cmd(&["DECR", "n"]), ":0\r\n");
    assert_eq!(a.cmd(&["DECR", "n"]), ":-1\r\n");
    assert_eq!(a.cmd(&["INCRBY", "n", "10"]), ":9\r\n");
    assert_eq!(a.cmd(&["INCRBY", "n", "-20"]), ":-11\r\n");
    assert_eq!(a.cmd(&["DECRBY", "n", "5"]), ":-16\r\n");
    assert_eq!(a.cmd(&["DECRBY", "n", "-5"]), ":-11\r\n");
    assert_eq!(
        a.cmd(&["INCRBY", "n", "abc"]),
        "-ERR value is not an integer or out of range\r\n"
    );
    assert_eq!(
        a.cmd(&["INCRBY", "n", "1.5"]),
        "-ERR value is not an integer or out of range\r\n"
    );
    assert_eq!(
        a.cmd(&["INCRBY", "n", "9223372036854775808"]),
        "-ERR value is not an integer or out of range\r\n"
    );
    assert_eq!(
        a.cmd(&["DECRBY", "n", "-9223372036854775808"]),
        "-ERR decrement would overflow\r\n"
    );
    assert_eq!(
        a.cmd(&["INCRBY"]),
        "-ERR wrong number of arguments for 'incrby' command\r\n"
    );
    assert_eq!(
        a.cmd(&["INCR"]),
        "-ERR wrong number of arguments for 'incr' command\r\n"
    );
    assert_eq!(
        a.cmd(&["INCR", "a", "b"]),
        "-ERR wrong number of arguments for 'incr' command\r\n"
    );
    assert_eq!(a.cmd(&["SET", "big", "9223372036854775807"]), "+OK\r\n");
    assert_eq!(
        a.cmd(&["INCR", "big"]),
        "-ERR increment or decrement would overflow\r\n"
    );
    assert_eq!(
        a.cmd(&["INCRBY", "big", "1"]),
        "-ERR increment or decrement would overflow\r\n"
    );
    assert_eq!(a.cmd(&["GET", "big"]), "$19\r\n9223372036854775807\r\n");
    assert_eq!(a.cmd(&["SET", "small", "-9223372036854775808"]), "+OK\r\n");
    assert_eq!(
        a.cmd(&["DECR", "small"]),
        "-ERR increment or decrement would overflow\r\n"
    );
    assert_eq!(
        a.cmd(&["DECRBY", "small", "1"]),
        "-ERR increment or decrement would overflow\r\n"
    );
    assert_eq!(
        a.cmd(&["INCRBY", "small", "-1"]),
        "-ERR increment or decrement would overflow\r\n"
    );
    assert_eq!(
        a.cmd(&["DECRBY", "small", "-1"]),
        ":-9223372036854775807\r\n"
    );
    assert_eq!(a.cmd(&["SET", "n", "5"]), "+OK\r\n");
    assert_eq!(
        a.cmd(&["INCRBY", "n", "-9223372036854775808"]),
        ":-9223372036854775803\r\n"
    );
    assert_eq!(a.cmd(&["DECRBY", "n", "-9223372036854775807"]), ":4\r\n");
    assert_eq!(
        a.cmd(&["DECRBY", "n", "9223372036854775807"]),
        ":-9223372036854775803\r\n"
    );
    assert_eq!(a.cmd(&["SET", "s", "abc"]), "+OK\r\n");
    assert_eq!(
        a.cmd(&["INCR", "s"]),
        "-ERR value is not an integer or out of range\r\n"
    );
    assert_eq!(a.cmd(&["SET", "s", " 1"]), "+OK\r\n");
    assert_eq!(
        a.cmd(&["INCR", "s"]),
        "-ERR value is not an integer or out of range\r\n"
    );
    assert_eq!(a.cmd(&["SET", "s", "1 "]), "+OK\r\n");
    assert_eq!(
        a.cmd(&["INCR", "s"]),
        "-ERR value is not an integer or out of range\r\n"
    );
    assert_eq!(a.cmd(&["SET", "s", "01"]), "+OK\r\n");
    assert_eq!(
        a.cmd(&["INCR", "s"]),
        "-ERR value is not an integer or out of range\r\n"
    );
    assert_eq!(a.cmd(&["SET", "s", "+1"]), "+OK\r\n");
    assert_eq!(
        a.cmd(&["INCR", "s"]),
        "-ERR value is not an integer or out of range\r\n"
    );
    assert_eq!(a.cmd(&["SET", "s", "-0"]), "+OK\r\n");
    assert_eq!(
        a.cmd(&["INCR", "s"]),
        "-ERR value is not an integer or out of range\r\n"
    );
    assert_eq!(a.cmd(&["SET", "s", ""]), "+OK\r\n");
    assert_eq!(
        a.cmd(&["INCR", "s"]),
        "-ERR value is not an integer or out of range\r\n"
    );
    assert_eq!(a.cmd(&["SET", "s", "1.0"]), "+OK\r\n");
    assert_eq!(
        a.cmd(&["INCR", "s"]),
        "-ERR value is not an integer or out of range\r\n"
    );
    assert_eq!(a.cmd(&["SET", "s", "12345678901234567890"]), "+OK\r\n");
    assert_eq!(
        a.cmd(&["INCR", "s"]),
        "-ERR value is not an integer or out of range\r\n"
    );
    assert_eq!(a.cmd(&["SET", "s", "42"]), "+OK\r\n");
    assert_eq!(a.cmd(&["INCR", "s"]), ":43\r\n");
    assert_eq!(a.cmd(&["GET", "s"]), "$2\r\n43\r\n");
    assert_eq!(a.cmd(&["SET", "t", "7", "EX", "100"]), "+OK\r\n");
    assert_eq!(a.cmd(&["INCR", "t"]), ":8\r\n");
    assert_eq!(a.cmd(&["TTL", "t"]), ":100\r\n");
}

#[test]
fn append_strlen_getdel() {
    let server = TestServer::start(&[]);
    let mut a = server.raw();
    assert_eq!(a.cmd(&["APPEND", "k", "hello"]), ":5\r\n");
    assert_eq!(a.cmd(&["APPEND", "k", " world"]), ":11\r\n");
    assert_eq!(a.cmd(&["GET", "k"]), "$11\r\nhello world\r\n");
    assert_eq!(a.cmd(&["STRLEN", "k"]), ":11\r\n");
    assert_eq!(a.cmd(&["STRLEN", "missing"]), ":0\r\n");
    assert_eq!(a.cmd(&["APPEND", "k", ""]), ":11\r\n");
    assert_eq!(a.cmd(&["STRLEN", "k"]), ":11\r\n");
    assert_eq!(a.cmd(&["SET", "n", "100"]), "+OK\r\n");
    assert_eq!(a.cmd(&["APPEND", "n", "5"]), ":4\r\n");
    assert_eq!(a.cmd(&["INCR", "n"]), ":1006\r\n");
    assert_eq!(a.cmd(&["GETDEL", "k"]), "$11\r\nhello world\r\n");
    assert_eq!(a.cmd(&["GETDEL", "k"]), "$-1\r\n");
    assert_eq!(a.cmd(&["EXISTS", "k"]), ":0\r\n");
    assert_eq!(a.cmd(&["SET", "e", "v", "EX", "100"]), "+OK\r\n");
    assert_eq!(a.cmd(&["APPEND", "e", "x"]), ":2\r\n");
    assert_eq!(a.cmd(&["TTL", "e"]), ":100\r\n");
    assert_eq!(a.cmd(&["GETDEL", "e"]), "$2\r\nvx\r\n");
    assert_eq!(a.cmd(&["TTL", "e"]), ":-2\r\n");
    assert_eq!(
        a.cmd(&["STRLEN"]),
        "-ERR wrong number of arguments for 'strlen' command\r\n"
    );
    assert_eq!(
        a.cmd(&["APPEND", "k"]),
        "-ERR wrong number of arguments for 'append' command\r\n"
    );
    assert_eq!(
        a.cmd(&["GETDEL"]),
        "-ERR wrong number of arguments for 'getdel' command\r\n"
    );
    assert_eq!(
        a.cmd(&["GETDEL", "a", "b"]),
        "-ERR wrong number of arguments for 'getdel' command\r\n"
    );
    assert_eq!(
        a.cmd(&["STRLEN", "a", "b"]),
        "-ERR wrong number of arguments for 'strlen' command\r\n"
    );
}

/// Replies as redis-server 7.0.15 gives them on x86-64, where `long double` is the x87 80-bit
/// format: the sum's text shows that precision (0.1 + 0.2 is 0.3), `%.17Lf` rounding, and the
/// range and syntax `strtold` accepts.
#[test]
fn incrbyfloat_sums_as_redis_long_double() {
    let server = TestServer::start(&[]);
    let mut a = server.raw();
    assert_eq!(a.cmd(&["INCRBYFLOAT", "f", "0.1"]), "$3\r\n0.1\r\n");
    assert_eq!(a.cmd(&["INCRBYFLOAT", "f", "0.2"]), "$3\r\n0.3\r\n");
    assert_eq!(a.cmd(&["GET", "f"]), "$3\r\n0.3\r\n");
    assert_eq!(
        a.cmd(&["INCRBYFLOAT", "f", "5.0e3"]),
        "$22\r\n5000.29999999999999982\r\n"
    );
    assert_eq!(a.cmd(&["SET", "n", "10", "EX", "100"]), "+OK\r\n");
    assert_eq!(a.cmd(&["INCRBYFLOAT", "n", "0.5"]), "$4\r\n10.5\r\n");
    assert_eq!(a.cmd(&["TTL", "n"]), ":100\r\n", "the deadline is kept");
    assert_eq!(a.cmd(&["INCRBYFLOAT", "n", "-0.5"]), "$2\r\n10\r\n");
    assert_eq!(a.cmd(&["INCR", "n"]), ":11\r\n", "an integer again");
    assert_eq!(
        a.cmd(&["INCRBYFLOAT", "h", "0x1p-18"]),
        "$19\r\n0.00000381469726562\r\n",
        "2^-18 has 18 decimals; the tie rounds to even"
    );
    assert_eq!(
        a.cmd(&["INCRBYFLOAT", "z", "-0.0000000000000000001"]),
        "$1\r\n0\r\n"
    );
    assert_eq!(
        a.cmd(&["INCRBYFLOAT", "big", "123456789012345678901234567890"]),
        "$30\r\n123456789012345678899921813504\r\n"
    );
    let not_float = "-ERR value is not a valid float\r\n";
    for refused in [
        "abc", " 1", "1 ", "nan", "1e", "0x", "", "1e-5000", "1.5e4932",
    ] {
        assert_eq!(
            a.cmd(&["INCRBYFLOAT", "f", refused]),
            not_float,
            "{refused:?}"
        );
    }
    assert_eq!(a.cmd(&["SET", "s", "abc"]), "+OK\r\n");
    assert_eq!(a.cmd(&["INCRBYFLOAT", "s", "1"]), not_float);
    let nan_or_inf = "-ERR increment would produce NaN or Infinity\r\n";
    assert_eq!(a.cmd(&["INCRBYFLOAT", "f", "inf"]), nan_or_inf);
    assert_eq!(
        a.cmd(&["INCRBYFLOAT", "huge", "0x1.fffffffffffffffep16383"])
            .len(),
        "$4933\r\n".len() + 4933 + 2
    );
    assert_eq!(a.cmd(&["INCRBYFLOAT", "huge", "0x1p16320"]), nan_or_inf);
    assert_eq!(
        a.cmd(&["GET", "f"]),
        "$22\r\n5000.29999999999999982\r\n",
        "a refused sum changes nothing"
    );
    assert_eq!(
        a.cmd(&["INCRBYFLOAT", "f"]),
        "-ERR wrong number of arguments for 'incrbyfloat' command\r\n"
    );
    let _ = a.cmd(&["HELLO", "3"]);
    assert_eq!(
        a.cmd(&["INCRBYFLOAT", "f", "-5000"]),
        "$19\r\n0.29999999999999982\r\n",
        "a bulk string in RESP3 too"
    );
}

#[test]
fn wrongtype_on_a_stream() {
    let server = TestServer::start(&[]);
    let mut a = server.raw();
    assert_eq!(a.cmd(&["XADD", "s", "1-1", "f", "v"]), "$3\r\n1-1\r\n");
    assert_eq!(
        a.cmd(&["GET", "s"]),
        "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
    );
    assert_eq!(
        a.cmd(&["SET", "s", "x", "GET"]),
        "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
    );
    assert_eq!(
        a.cmd(&["INCR", "s"]),
        "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
    );
    assert_eq!(
        a.cmd(&["INCRBY", "s", "2"]),
        "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
    );
    assert_eq!(
        a.cmd(&["DECR", "s"]),
        "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
    );
    assert_eq!(
        a.cmd(&["DECRBY", "s", "2"]),
        "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
    );
    assert_eq!(
        a.cmd(&["INCRBYFLOAT", "s", "not a float either"]),
        "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
        "the type is checked before the increment is read"
    );
    assert_eq!(
        a.cmd(&["APPEND", "s", "x"]),
        "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
    );
    assert_eq!(
        a.cmd(&["STRLEN", "s"]),
        "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
    );
    assert_eq!(
        a.cmd(&["GETDEL", "s"]),
        "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
    );
    assert_eq!(a.cmd(&["MGET", "s", "missing"]), "*2\r\n$-1\r\n$-1\r\n");
    assert_eq!(a.cmd(&["TYPE", "s"]), "+stream\r\n");
    // SET replaces a value of any type
    assert_eq!(a.cmd(&["SET", "s", "x"]), "+OK\r\n");
    assert_eq!(a.cmd(&["TYPE", "s"]), "+string\r\n");
    assert_eq!(a.cmd(&["GET", "s"]), "$1\r\nx\r\n");
    assert_eq!(a.cmd(&["XADD", "s2", "1-1", "f", "v"]), "$3\r\n1-1\r\n");
    assert_eq!(a.cmd(&["SET", "s2", "x", "NX"]), "$-1\r\n");
    assert_eq!(a.cmd(&["SET", "s2", "x", "XX"]), "+OK\r\n");
    assert_eq!(a.cmd(&["GET", "s2"]), "$1\r\nx\r\n");
}

#[test]
fn string_nulls_in_resp3() {
    let server = TestServer::start(&[]);
    let mut a = server.raw();
    let _ = a.cmd(&["HELLO", "3"]); // "%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n$5\r\npro
    assert_eq!(a.cmd(&["GET", "missing"]), "_\r\n");
    assert_eq!(a.cmd(&["MGET", "missing", "also"]), "*2\r\n_\r\n_\r\n");
    assert_eq!(a.cmd(&["SET", "k", "v"]), "+OK\r\n");
    assert_eq!(a.cmd(&["MGET", "k", "missing"]), "*2\r\n$1\r\nv\r\n_\r\n");
    assert_eq!(a.cmd(&["SET", "k", "w", "NX"]), "_\r\n");
    assert_eq!(a.cmd(&["SET", "k", "w", "NX", "GET"]), "$1\r\nv\r\n");
    assert_eq!(a.cmd(&["SET", "other", "w", "XX", "GET"]), "_\r\n");
    assert_eq!(a.cmd(&["GETDEL", "missing"]), "_\r\n");
    assert_eq!(a.cmd(&["INCR", "n"]), ":1\r\n");
    assert_eq!(a.cmd(&["STRLEN", "missing"]), ":0\r\n");
}

#[test]
fn string_nulls_in_resp2() {
    let server = TestServer::start(&[]);
    let mut a = server.raw();
    assert_eq!(a.cmd(&["GET", "missing"]), "$-1\r\n");
    assert_eq!(a.cmd(&["MGET", "missing", "also"]), "*2\r\n$-1\r\n$-1\r\n");
    assert_eq!(a.cmd(&["SET", "k", "v", "NX"]), "+OK\r\n");
    assert_eq!(a.cmd(&["SET", "k", "w", "NX"]), "$-1\r\n");
    assert_eq!(a.cmd(&["SET", "other", "w", "XX", "GET"]), "$-1\r\n");
    assert_eq!(a.cmd(&["GETDEL", "missing"]), "$-1\r\n");
}
