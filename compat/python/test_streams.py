"""redis-py streams round trip against Herald and Redis: the same calls, the same answers."""
import time

import pytest
import redis


def test_stream_round_trip_with_a_group(server):
    r = server.client(decode_responses=True)
    ids = [r.xadd("orders", {"item": f"i{n}", "qty": n}) for n in range(5)]
    assert r.xlen("orders") == 5
    assert [e[0] for e in r.xrange("orders")] == ids
    assert r.xrevrange("orders", count=1)[0] == (ids[-1], {"item": "i4", "qty": "4"})
    assert r.xgroup_create("orders", "billing", id="0") is True
    with pytest.raises(redis.ResponseError, match="BUSYGROUP"):
        r.xgroup_create("orders", "billing", id="0")
    got = r.xreadgroup("billing", "alice", {"orders": ">"}, count=3)
    assert [e[0] for e in got[0][1]] == ids[:3]
    pending = r.xpending("orders", "billing")
    assert pending["pending"] == 3 and pending["min"] == ids[0] and pending["max"] == ids[2]
    assert pending["consumers"] == [{"name": "alice", "pending": 3}]
    rows = r.xpending_range("orders", "billing", min="-", max="+", count=10)
    assert [row["message_id"] for row in rows] == ids[:3]
    assert all(row["times_delivered"] == 1 for row in rows)
    assert r.xack("orders", "billing", ids[0]) == 1
    time.sleep(0.05)
    claimed = r.xautoclaim("orders", "billing", "bob", min_idle_time=10, start_id="0-0")
    assert [e[0] for e in claimed[1]] == ids[1:3]
    claimed_ids = r.xclaim("orders", "billing", "carol", 0, [ids[1]], justid=True)
    assert claimed_ids == [ids[1]]
    groups = r.xinfo_groups("orders")
    assert groups[0]["name"] == "billing" and groups[0]["pending"] == 2
    assert groups[0]["last-delivered-id"] == ids[2]
    assert groups[0]["lag"] == 2
    stream = r.xinfo_stream("orders")
    assert stream["length"] == 5 and stream["groups"] == 1
    assert stream["first-entry"][0] == ids[0] and stream["last-entry"][0] == ids[-1]
    names = sorted(c["name"] for c in r.xinfo_consumers("orders", "billing"))
    assert names == ["alice", "bob", "carol"]
    assert r.xtrim("orders", maxlen=2, approximate=False) == 3
    assert r.xdel("orders", ids[3]) == 1
    assert r.xlen("orders") == 1


def test_blocking_xreadgroup_times_out_then_receives(server):
    r = server.client(decode_responses=True)
    r.xgroup_create("jobs", "g", id="$", mkstream=True)
    started = time.time()
    assert r.xreadgroup("g", "w", {"jobs": ">"}, block=100) in (None, [], {})
    assert time.time() - started >= 0.09
    other = server.client(decode_responses=True)
    new_id = other.xadd("jobs", {"task": "x"})
    got = r.xreadgroup("g", "w", {"jobs": ">"}, block=1000)
    assert got[0][1][0][0] == new_id


def test_client_unblock_ends_a_blocked_group_read(server):
    """A worker stuck in XREADGROUP BLOCK 0 is released from another connection: as a
    timeout (redis-py returns an empty result), then with the UNBLOCKED error."""
    import threading
    admin = server.client(decode_responses=True)
    admin.xgroup_create("jobs", "g", id="$", mkstream=True)
    worker = server.client(decode_responses=True, single_connection_client=True)
    worker_id = worker.client_id()
    for error in (False, True):
        outcome = {}

        def read():
            try:
                outcome["reply"] = worker.xreadgroup("g", "w", {"jobs": ">"}, block=0)
            except redis.ResponseError as e:
                outcome["error"] = str(e)

        reader = threading.Thread(target=read)
        reader.start()
        deadline = time.time() + 5
        while admin.info("clients")["blocked_clients"] != 1 and time.time() < deadline:
            time.sleep(0.01)
        assert admin.client_unblock(worker_id, error=error) == 1
        reader.join(5)
        assert not reader.is_alive()
        if error:
            assert outcome == {"error": "UNBLOCKED client unblocked via CLIENT UNBLOCK"}
        else:
            assert outcome["reply"] in (None, [], {})
        assert admin.client_unblock(worker_id) == 0


def test_resp3_stream_replies(server):
    r = server.client(protocol=3, decode_responses=True)
    first = r.xadd("s3", {"a": "1"})
    got = r.xread({"s3": "0"})
    # RESP3 XREAD is a map of stream to entries; redis-py turns it into a dict.
    assert got == {"s3": [[(first, {"a": "1"})]]}
