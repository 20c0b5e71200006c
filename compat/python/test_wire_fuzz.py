"""Differential fuzzing of the wire: requests as bytes, most of them damaged, go to Herald and
to a real redis-server on fresh connections, and what comes back must be the same bytes, with
the connection closed by both or by neither.

Each case takes a few well-formed requests (RESP multibulk or inline, pipelined) and applies
one or two mutations: cutting them short, changing a byte, inserting junk, replacing a length
with a negative, huge, non-numeric or empty one, or adding one of the requests Redis's parser
refuses outright (a multibulk count past 1024*1024, a bulk past 512 MB, an inline line past
64 KB, unbalanced quotes). The server then answers what it could parse: replies, Redis's
`-ERR Protocol error: ...` and a close, or silence while it waits for the rest.

Each seed runs in RESP2 and again on connections that said HELLO 3 first (its reply, which
differs by design, is read and left out). Commands are chosen so that the replies do not depend
on time or on the server's identity (no HELLO among them, no INFO, CLIENT ID or `*` ids); the
two servers see the same bytes in the same order, so their keyspaces stay alike across cases.

A failing case prints the seed, the protocol, the case number and the bytes sent.
"""
import random
import re
import socket
import time

import pytest

from test_stream_fuzz import Raw, both  # noqa: F401  (fixture)

SEEDS = range(1, 4)
CASES = 120
# How long a server may stay silent before its answer is taken as complete; a case whose
# answers differ is sent again with the longer wait, so that a slow moment of a busy machine
# is not taken for a difference.
QUIET = 0.15
PATIENT = 1.5

BASE = [
    ["PING"], ["PING", "hello world"], ["ECHO", "x"], ["SET", "k", "v"], ["GET", "k"],
    ["DEL", "k", "nothing"], ["EXISTS", "k", "k"], ["INCR", "n"], ["APPEND", "a", "xy"],
    ["STRLEN", "a"], ["GETRANGE", "a", "0", "-1"], ["XADD", "s", "1-1", "f", "v"],
    ["XLEN", "s"], ["XRANGE", "s", "-", "+"], ["MULTI"], ["EXEC"], ["DISCARD"],
    ["SELECT", "1"], ["SELECT", "0"], ["NOSUCH", "a\x00b", "\xff"], ["SET", "sp", "a b"],
    ["GET", "sp"], ["TYPE", "s"], ["SET"], ["PUBLISH", "ch", "m"],
]


def multibulk(args):
    out = b"*%d\r\n" % len(args)
    for arg in args:
        arg = arg.encode("latin-1")
        out += b"$%d\r\n%s\r\n" % (len(arg), arg)
    return out


def inline(args, rnd):
    words = []
    for arg in args:
        raw = arg.encode("latin-1")
        if rnd.random() < 0.3 or not raw or any(c in raw for c in b' "\'\\\x00\xff'):
            quoted = "".join(c if c.isalnum() or c in " -+" else "\\x%02x" % ord(c) for c in arg)
            words.append(b'"' + quoted.encode() + b'"')
        else:
            words.append(raw)
    end = rnd.choice([b"\r\n", b"\r\n", b"\n"])
    return b" ".join(words) + end


NUMBERS = [b"-1", b"-2", b"0", b"99999999999999999999", b"1048577", b"536870913", b"abc",
           b"", b"+1", b"1 ", b"3"]
JUNK = [b"*", b"$", b"\r\n", b"\n", b"\r", b" ", b"\x00", b"\xff", b"x", b"'", b'"', b"*0\r\n",
        b"*-1\r\n", b"$-1\r\n", b"*1\r\n$0\r\n\r\n", b"+OK\r\n", b":1\r\n", b"\r\n\r\n"]
REFUSED = [
    b"*1048577\r\n",
    b"*1\r\n$536870913\r\n",
    b"a" * (64 * 1024 + 10),
    b'SET k "unbalanced\r\n',
    b"SET k 'open\r\n",
    b'SET k "a"b\r\n',
    b"*2\r\n$3\r\nGET\r\n:1\r\n",
    b"*1\r\n$4\r\nPING\r\nx",
    b"*12345678901\r\n",
    b"*1\r\n$12345678901234567890\r\n",
]


def mutate(data, rnd):
    kind = rnd.random()
    if kind < 0.2 and data:
        return data[:rnd.randrange(len(data))]
    if kind < 0.4 and data:
        at = rnd.randrange(len(data))
        return data[:at] + rnd.choice(JUNK)[:1] + data[at + 1:]
    if kind < 0.55:
        at = rnd.randrange(len(data) + 1)
        return data[:at] + rnd.choice(JUNK) + data[at:]
    if kind < 0.8:
        # A length or count replaced.
        marks = [i for i, c in enumerate(data) if c in b"*$" and (i == 0 or data[i - 1] == 10)]
        if marks:
            at = rnd.choice(marks) + 1
            end = data.find(b"\r", at)
            if end > 0:
                return data[:at] + rnd.choice(NUMBERS) + data[end:]
        return data
    return data + rnd.choice(REFUSED)


def case(rnd):
    data = b""
    for _ in range(rnd.randint(1, 4)):
        args = rnd.choice(BASE)
        data += inline(args, rnd) if rnd.random() < 0.3 else multibulk(args)
    if rnd.random() < 0.9:
        data = mutate(data, rnd)
    if rnd.random() < 0.3:
        data = mutate(data, rnd)
    return data


def exchange(port, data, resp3=False, quiet=QUIET):
    """What the server sends back for `data`, and whether it closed the connection; with
    `resp3`, on a connection that said HELLO 3 first (its reply, which names the server, is
    read and left out)."""
    conn = Raw(port)
    sock = conn.sock
    try:
        if resp3:
            conn.call(["HELLO", "3"])
            assert not conn.buf, "nothing but HELLO's reply yet"
        sock.sendall(data)
        got = b""
        deadline = time.time() + 5
        sock.settimeout(quiet)
        while time.time() < deadline:
            try:
                chunk = sock.recv(65536)
            except socket.timeout:
                return got, False
            except ConnectionResetError:
                return got, True
            if not chunk:
                return got, True
            got += chunk
        return got, False
    finally:
        sock.close()


UNKNOWN = re.compile(rb"-ERR unknown command '([^']+)'")


def redis_knows(port, reply):
    """Whether `reply` (Herald's) calls unknown a command Redis has: damage can turn DISCARD
    into SCARD, and Herald has no sets. Such a case says nothing about the wire."""
    for name in UNKNOWN.findall(reply):
        known, _ = exchange(port, multibulk(["COMMAND", "INFO", name.decode("latin-1")]))
        if not known.startswith(b"*1\r\n*-1") and known.startswith(b"*1\r\n*"):
            return True
    return False


@pytest.mark.parametrize("protocol", ["2", "3"])
@pytest.mark.parametrize("seed", SEEDS)
def test_damaged_requests_get_what_redis_gives(both, seed, protocol):  # noqa: F811
    herald, redis_server = both
    resp3 = protocol == "3"
    for server in both:
        exchange(server.port, multibulk(["FLUSHALL"]))
    rnd = random.Random(seed)
    skipped = 0
    for n in range(CASES):
        data = case(rnd)
        want = exchange(redis_server.port, data, resp3)
        got = exchange(herald.port, data, resp3)
        if got != want:
            # Both run the case again, so their keyspaces stay alike.
            want = exchange(redis_server.port, data, resp3, PATIENT)
            got = exchange(herald.port, data, resp3, PATIENT)
        if got != want and redis_knows(redis_server.port, got[0]):
            # What Redis ran may have changed its keys: start both afresh.
            for server in both:
                exchange(server.port, multibulk(["FLUSHALL"]))
            skipped += 1
            assert skipped <= CASES // 20, f"seed {seed}: too many cases hit Redis-only commands"
            continue
        assert got == want, (f"seed {seed} RESP{protocol} case {n}: sent {data[:300]!r}\n"
                             f"redis:  {want[0][:500]!r} closed={want[1]}\n"
                             f"herald: {got[0][:500]!r} closed={got[1]}")
