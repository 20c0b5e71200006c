"""Differential fuzzing of blocking stream reads: three clients block in XREAD and XREADGROUP
(one or two keys, COUNT, NOACK, `$` and `>`) while a fourth runs random XADDs (alone, with a
trim, or several in a MULTI), group creations and destructions, SETIDs, trims, deletes of the
key and overwrites of it with a string. After each of those the fourth client unblocks every
reader still blocked with CLIENT UNBLOCK (a reader already served answers 0), then each reader
is fenced with PING: which readers each command served, with what, and in which order, must be
Redis's byte for byte.

Normalised, where Redis 7.4 (which runs a woken blocked command again) differs from 7.0 (which
answered from its blocking code): the error a group reader gets when its group or stream goes
or its key changes type (known difference `blocked-nogroup`), and a reader woken for a stream
whose last id is past its last entry, which 7.0 answers with no entries and 7.4 keeps waiting
(`blocked-ran-dry`). Transactions add to one key only (`blocked-multi-key`).
"""
import random
import re
import select
import time

import pytest

from test_stream_fuzz import Raw, both, encode  # noqa: F401  (fixture)

SEEDS = range(1, 11)
STEPS = 150
READERS = 3
KEYS = ["s", "t"]
GROUPS = ["g", "h"]


def steps(seed):
    """A reproducible list of (reads started this step, the fourth client's command)."""
    rnd = random.Random(seed)
    ms = 0
    out = []
    for _ in range(STEPS):
        reads = []
        for reader in range(READERS):
            if rnd.random() < 0.5:
                continue
            keys = rnd.sample(KEYS, rnd.choice([1, 1, 2]))
            count = ["COUNT", str(rnd.randint(1, 3))] if rnd.random() < 0.4 else []
            if rnd.random() < 0.4:
                read = ["XREAD", *count, "BLOCK", "0", "STREAMS", *keys, *["$"] * len(keys)]
            else:
                noack = ["NOACK"] if rnd.random() < 0.2 else []
                read = ["XREADGROUP", "GROUP", rnd.choice(GROUPS), f"c{reader}", *count, *noack,
                        "BLOCK", "0", "STREAMS", *keys, *[">"] * len(keys)]
            reads.append((reader, read))

        def xadd(key):
            nonlocal ms
            ms += 1
            # At least 1: see `blocked-ran-dry` for a trim that takes the new entry itself.
            trim = ["MAXLEN", "=", str(rnd.randint(1, 3))] if rnd.random() < 0.15 else []
            return ["XADD", key, *trim, f"{ms}-1", "f", str(ms)]

        key, group = rnd.choice(KEYS), rnd.choice(GROUPS)
        r = rnd.random()
        if r < 0.45:
            commands = [xadd(key)]
        elif r < 0.55:
            # One key: a transaction adding to two keys a reader waits on is answered with
            # both by 7.4, with the first by 7.0 (known difference `blocked-multi-key`).
            commands = [["MULTI"], xadd(key), xadd(key), ["EXEC"]]
        elif r < 0.70:
            commands = [["XGROUP", "CREATE", key, group, rnd.choice(["$", "0"]), "MKSTREAM"]]
        elif r < 0.76:
            commands = [["XGROUP", "DESTROY", key, group]]
        elif r < 0.81:
            commands = [["XGROUP", "SETID", key, group, "0"]]
        elif r < 0.86:
            commands = [["XTRIM", key, "MAXLEN", "=", "0"]]
        elif r < 0.92:
            commands = [["DEL", key]]
        elif r < 0.95:
            commands = [["SET", key, "string"]]
        else:
            commands = [["XACK", key, group, f"{rnd.randint(1, max(ms, 1))}-1"]]
        out.append((reads, commands))
    return out


# What a group reader woken by the loss of its group or stream gets: Redis 7.4 runs XREADGROUP
# again (its own NOGROUP, or WRONGTYPE for a key now of another type), 7.0 answered from its
# blocking code (known difference `blocked-nogroup`).
GONE_7_0 = (b"-NOGROUP the consumer group this client was blocked on no longer exists\r\n",
            b"-UNBLOCKED the stream key no longer exists\r\n")
GONE_7_4 = re.compile(rb"-NOGROUP No such key '[^']*' or consumer group '[^']*' in XREADGROUP "
                      rb"with GROUP option\r\n|-WRONGTYPE Operation against a key holding the "
                      rb"wrong kind of value\r\n")


def same_frame(herald, redis_frame):
    if redis_frame in GONE_7_0:
        return GONE_7_4.fullmatch(herald) is not None
    return herald == redis_frame


# 7.0 answers a reader woken for a stream whose last id is past its last entry with the key
# and no entries; 7.4 runs the read again, finds nothing and keeps it waiting, so CLIENT
# UNBLOCK then answers it with a timeout (known difference `blocked-ran-dry`).
RAN_DRY_7_0 = re.compile(rb"\*1\r\n\*2\r\n\$\d+\r\n[^\r]*\r\n\*0\r\n")


def same_reader(got, want):
    """One reader's CLIENT UNBLOCK answer and frames, Herald's against Redis's."""
    (unblocked, frames), (want_unblocked, want_frames) = got, want
    if (want_unblocked, len(want_frames), unblocked, frames) == (b":0\r\n", 1, b":1\r\n",
                                                                 [b"*-1\r\n"]):
        return RAN_DRY_7_0.fullmatch(want_frames[0]) is not None
    return (unblocked == want_unblocked and len(frames) == len(want_frames)
            and all(map(same_frame, frames, want_frames)))


def same_step(herald, redis_step):
    (replies, unblocked, frames), (want_replies, want_unblocked, want_frames) = herald, redis_step
    return (replies == want_replies
            and [r for r, _ in frames] == [r for r, _ in want_frames]
            and all(same_reader(got, want) for got, want in
                    zip(zip(unblocked, [f for _, f in frames]),
                        zip(want_unblocked, [f for _, f in want_frames]))))


def settle(producer, reader, client_id):
    """Waits until the reader's command has run: it is blocked (CLIENT LIST shows flag `b`) or
    its reply has arrived. Two connections' commands run in arrival order in Redis's one
    thread, not necessarily in Herald's; the fuzzer compares what the commands do, not that
    race."""
    deadline = time.time() + 5
    while time.time() < deadline:
        listed = producer.call(["CLIENT", "LIST", "ID", str(client_id)])
        if re.search(rb"flags=\w*b", listed) or select.select([reader.sock], [], [], 0)[0]:
            return
        time.sleep(0.001)
    raise AssertionError("a reader neither blocked nor answered")


def run(server, seed):
    """Every frame each connection received, step by step."""
    producer = Raw(server.port)
    readers = [Raw(server.port) for _ in range(READERS)]
    try:
        producer.call(["FLUSHALL"])
        ids = [int(r.call(["CLIENT", "ID"])[1:-2]) for r in readers]
        waiting = set()
        seen = []
        for reads, commands in steps(seed):
            for reader, read in reads:
                # One at a time: readers of one key are served in the order they blocked.
                readers[reader].sock.sendall(encode(read))
                settle(producer, readers[reader], ids[reader])
                waiting.add(reader)
            replies = [producer.call(c) for c in commands]
            unblocked = [producer.call(["CLIENT", "UNBLOCK", str(ids[r])]) for r in sorted(waiting)]
            frames = []
            for reader in sorted(waiting):
                readers[reader].sock.sendall(encode(["PING"]))
                got = []
                while (frame := readers[reader].call_pending()) != b"+PONG\r\n":
                    got.append(frame)
                frames.append((reader, got))
            waiting.clear()
            seen.append((replies, unblocked, frames))
        return seen
    finally:
        producer.close()
        for r in readers:
            r.close()


@pytest.mark.parametrize("seed", SEEDS)
def test_blocked_readers_are_served_as_redis_serves_them(both, seed):
    herald, redis_server = (run(server, seed) for server in both)
    for step, (got, want) in enumerate(zip(herald, redis_server)):
        assert same_step(got, want), (f"seed {seed} step {step}: {steps(seed)[step]}\n"
                                      f"redis:  {want}\nherald: {got}")
