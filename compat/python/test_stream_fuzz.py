"""Differential fuzzing of streams and consumer groups: the same random sequence of XADD, XDEL,
XTRIM, XGROUP, XREADGROUP, XACK, XCLAIM, XAUTOCLAIM, XPENDING, XINFO, XRANGE and COPY (a whole
stream over the other key) commands goes to Herald and to a real redis-server, and every raw
reply must be the same byte for byte, in RESP2 and in RESP3 (maps, sets and nulls as Redis
sends them).

Explicit entry ids keep the runs deterministic. What is normalised, and why:
- XPENDING's idle times (every other integer of its extended form): they move with the clock;
  the delivery counts between them are compared.
- XINFO GROUPS `consumers` and `lag`: known differences `claim-creates-consumer` and `group-lag`
  (Herald follows Redis 7.4, the reference server is 7.0).
- XINFO STREAM `radix-tree-keys` and `radix-tree-nodes`: known difference `stream-internals`.
Consumers are created with the group (XCLAIM and XAUTOCLAIM create theirs differently in 7.0,
see `claim-creates-consumer`), but for a few that only XREADGROUP creates; min-idle times are 0
or far above the run's length, so nothing else depends on time or on the 7.0/7.4 differences.

A second test runs the same sequences with `notify-keyspace-events KEA` and a RESP3 client
subscribed to `__key*__:*` on another connection, and compares the keyspace events each command
publishes (a PING on the subscriber after each command fences them).

A failing seed prints the command, both replies and the commands before it on the same key, so
it can be replayed with redis-cli.
"""
import random
import re
import socket

import pytest

from conftest import Server

SEEDS = range(1, 13)
STEPS = 400
KEYS = ["s", "t"]
GROUPS = ["g", "h"]
CONSUMERS = ["c", "d", "e"]
READERS = ["r1", "r2"]


def encode(args):
    out = b"*%d\r\n" % len(args)
    for arg in args:
        arg = str(arg).encode()
        out += b"$%d\r\n%s\r\n" % (len(arg), arg)
    return out


class Raw:
    """A RESP2 connection that returns each reply as its raw bytes."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.buf = b""

    def call(self, args):
        self.sock.sendall(encode(args))
        return self.call_pending()

    def call_pending(self):
        """The next whole frame, reading as needed."""
        while True:
            end = self.frame_end(0)
            if end is not None:
                reply, self.buf = self.buf[:end], self.buf[end:]
                return reply
            data = self.sock.recv(65536)
            assert data, "connection closed"
            self.buf += data

    def frame_end(self, at):
        line_end = self.buf.find(b"\r\n", at)
        if line_end < 0:
            return None
        kind, head = self.buf[at:at + 1], self.buf[at + 1:line_end]
        after = line_end + 2
        if kind in (b"+", b"-", b":"):
            return after
        if kind == b"$":
            n = int(head)
            if n < 0:
                return after
            return after + n + 2 if len(self.buf) >= after + n + 2 else None
        if kind in (b"_", b",", b"#", b"("):
            return after
        assert kind in (b"*", b">", b"%", b"~"), self.buf[at:at + 20]
        for _ in range(max(int(head), 0) * (2 if kind == b"%" else 1)):
            after = self.frame_end(after)
            if after is None:
                return None
        return after

    def close(self):
        self.sock.close()


def commands(seed):
    """A random, reproducible sequence of (command, normaliser name) pairs."""
    rnd = random.Random(seed)
    last_ms = {k: 1 for k in KEYS}
    ids = {k: [] for k in KEYS}

    def some_id(key):
        if ids[key] and rnd.random() < 0.8:
            return rnd.choice(ids[key])
        return f"{rnd.randint(1, 30)}-{rnd.randint(0, 3)}"

    out = []
    while len(out) < STEPS:
        key, group, consumer = rnd.choice(KEYS), rnd.choice(GROUPS), rnd.choice(CONSUMERS)
        r = rnd.random()
        if r < 0.25:
            last_ms[key] += rnd.randint(0, 2)
            entry = f"{last_ms[key]}-{rnd.randint(0, 2)}"
            ids[key].append(entry)
            trim = ["MAXLEN", "=", rnd.randint(0, 8)] if rnd.random() < 0.1 else []
            out.append(["XADD", key, *trim, entry, "f", rnd.randint(0, 9)])
        elif r < 0.32:
            out.append(["XDEL", key] + [some_id(key) for _ in range(rnd.randint(1, 3))])
        elif r < 0.36:
            if rnd.random() < 0.5:
                out.append(["XTRIM", key, "MAXLEN", "=", rnd.randint(0, 10)])
            else:
                out.append(["XTRIM", key, "MINID", "=", some_id(key)])
        elif r < 0.42:
            start = rnd.choice(["0", "$", some_id(key)])
            mkstream = ["MKSTREAM"] if rnd.random() < 0.5 else []
            out.append(["XGROUP", "CREATE", key, group, start, *mkstream])
            out += [["XGROUP", "CREATECONSUMER", key, group, c] for c in CONSUMERS]
        elif r < 0.45:
            out.append(["XGROUP", "SETID", key, group, rnd.choice(["0", "$", some_id(key)])])
        elif r < 0.47:
            out.append(["XGROUP", "DESTROY", key, group])
        elif r < 0.49:
            out.append(["XGROUP", "DELCONSUMER", key, group, consumer])
            out.append(["XGROUP", "CREATECONSUMER", key, group, consumer])
        elif r < 0.62:
            # Now and then a consumer only XREADGROUP creates: its reply, and its keyspace
            # event (xgroup-createconsumer), are the same in 7.0 and 7.4.
            reader = consumer if rnd.random() < 0.8 else rnd.choice(READERS)
            read = ["XREADGROUP", "GROUP", group, reader]
            if rnd.random() < 0.5:
                read += ["COUNT", rnd.randint(1, 4)]
            if rnd.random() < 0.2:
                read.append("NOACK")
            out.append(read + ["STREAMS", key, rnd.choice([">", ">", ">", "0", some_id(key)])])
        elif r < 0.70:
            out.append(["XACK", key, group] + [some_id(key) for _ in range(rnd.randint(1, 3))])
        elif r < 0.76:
            claim = ["XCLAIM", key, group, consumer, rnd.choice([0, 0, 100000])]
            claim += [some_id(key) for _ in range(rnd.randint(1, 3))]
            for option in (["FORCE"], ["JUSTID"], ["RETRYCOUNT", rnd.randint(-1, 5)],
                           ["TIME", rnd.choice([-5, 1000, 99999999999999])],
                           ["LASTID", some_id(key)]):
                if rnd.random() < 0.25:
                    claim += option
            out.append(claim)
        elif r < 0.81:
            start = rnd.choice(["0", some_id(key), "(" + some_id(key)])
            claim = ["XAUTOCLAIM", key, group, consumer, rnd.choice([0, 100000]), start]
            if rnd.random() < 0.5:
                claim += ["COUNT", rnd.randint(1, 4)]
            if rnd.random() < 0.3:
                claim.append("JUSTID")
            out.append(claim)
        elif r < 0.86:
            out.append(["XPENDING", key, group])
        elif r < 0.90:
            who = [consumer] if rnd.random() < 0.4 else []
            out.append(["XPENDING", key, group, "-", "+", 10, *who])
        elif r < 0.94:
            out.append(["XINFO", "GROUPS", key])
        elif r < 0.97:
            out.append(["XINFO", "STREAM", key])
        elif rnd.random() < 0.4:
            # A whole stream, groups and pending entries included, copied over the other key.
            other = "t" if key == "s" else "s"
            out.append(["COPY", key, other] + (["REPLACE"] if rnd.random() < 0.8 else []))
        elif rnd.random() < 0.5:
            out.append(["XRANGE", key, "-", "+"])
        else:
            out.append(["XREVRANGE", key, "+", "-", "COUNT", 3])
    return out


def normalise(command, reply):
    if command[0] == "XPENDING" and len(command) > 3:
        seen = 0
        lines = []
        for line in reply.split(b"\r\n"):
            if line.startswith(b":"):
                seen += 1
                if seen % 2 == 1:
                    line = b":<idle>"
            lines.append(line)
        return b"\r\n".join(lines)
    if command[:2] == ["XINFO", "GROUPS"]:
        reply = re.sub(rb"consumers\r\n:\d+", b"consumers", reply)
        return re.sub(rb"lag\r\n(:\d+|\$-1)", b"lag", reply)
    if command[:2] == ["XINFO", "STREAM"]:
        return re.sub(rb"radix-tree-(keys|nodes)\r\n:\d+", b"radix-tree", reply)
    return reply


@pytest.fixture(scope="module")
def both():
    herald, redis_server = Server("herald"), Server("redis")
    herald.start()
    redis_server.start()
    yield herald, redis_server
    herald.stop()
    redis_server.stop()


def assert_same_replies(both, sequence, normalise, key_of, label, protocol="2"):
    """Sends `sequence` to Herald and redis-server (after HELLO `protocol` and FLUSHALL) and
    fails at the first command whose normalised raw replies differ, showing both replies and
    the commands before it on the same key (`key_of(command)`)."""
    herald, redis_server = (Raw(s.port) for s in both)
    try:
        for conn in (herald, redis_server):
            conn.call(["HELLO", protocol])
            conn.call(["FLUSHALL"])
        for step, command in enumerate(sequence):
            got = normalise(command, herald.call(command))
            want = normalise(command, redis_server.call(command))
            if got != want:
                key = key_of(command)
                before = [c for c in sequence[:step] if key in c][-15:]
                history = "\n".join(" ".join(map(str, c)) for c in before)
                pytest.fail(f"{label} step {step}: {command}\n"
                            f"redis:  {want!r}\nherald: {got!r}\nbefore, on {key}:\n{history}")
    finally:
        herald.close()
        redis_server.close()


def stream_key(command):
    if command[0] == "XREADGROUP":
        return command[command.index("STREAMS") + 1]
    return command[2] if command[0] in ("XGROUP", "XINFO") else command[1]


@pytest.mark.parametrize("protocol", ["2", "3"])
@pytest.mark.parametrize("seed", SEEDS)
def test_stream_commands_reply_as_redis_does(both, seed, protocol):
    assert_same_replies(both, commands(seed), normalise, stream_key, f"seed {seed}",
                        protocol=protocol)


def events_until_pong(subscriber):
    """The pushes a RESP3 subscriber has received, up to the reply to a PING sent now."""
    subscriber.sock.sendall(encode(["PING"]))
    events = []
    while (frame := subscriber.call_pending()) != b"+PONG\r\n":
        events.append(frame)
    return events


def assert_same_events(both, sequence, label):
    """Runs `sequence` on each server with `notify-keyspace-events KEA` and a RESP3 client
    subscribed to `__key*__:*`, and fails at the first command whose events differ."""
    seen = []
    for server in both:
        main, subscriber = Raw(server.port), Raw(server.port)
        try:
            main.call(["FLUSHALL"])
            main.call(["CONFIG", "SET", "notify-keyspace-events", "KEA"])
            subscriber.call(["HELLO", "3"])
            subscriber.call(["PSUBSCRIBE", "__key*__:*"])
            seen.append([(main.call(c), events_until_pong(subscriber)) for c in sequence])
            main.call(["CONFIG", "SET", "notify-keyspace-events", ""])
        finally:
            main.close()
            subscriber.close()
    for step, ((_, herald), (_, redis_events)) in enumerate(zip(*seen)):
        assert herald == redis_events, f"{label} step {step}: {sequence[step]}"


@pytest.mark.parametrize("seed", SEEDS[:6])
def test_stream_commands_publish_the_keyspace_events_redis_does(both, seed):
    assert_same_events(both, commands(seed), f"seed {seed}")


@pytest.mark.parametrize("seed", SEEDS[:4])
def test_stream_commands_break_watch_as_redis_does(both, seed):
    """Which commands count as modifying their key: a client WATCHes both keys, another runs
    the command, and the first one's MULTI/EXEC runs (or is aborted, `*-1`) as on Redis. In
    seed 1 on redis-server, XADD, XDEL, XTRIM and COPY that change something abort it; XACK,
    XCLAIM, XAUTOCLAIM, XREADGROUP, XGROUP's subcommands and the reads never do."""
    sequence = commands(seed)
    seen = []
    for server in both:
        watcher, main = Raw(server.port), Raw(server.port)
        try:
            main.call(["FLUSHALL"])
            outcome = []
            for command in sequence:
                watcher.call(["WATCH", *KEYS])
                main.call(command)
                watcher.call(["MULTI"])
                watcher.call(["PING"])
                outcome.append(watcher.call(["EXEC"]))
            seen.append(outcome)
        finally:
            watcher.close()
            main.close()
    for step, (herald, redis_exec) in enumerate(zip(*seen)):
        assert herald == redis_exec, f"seed {seed} step {step}: {sequence[step]}"
