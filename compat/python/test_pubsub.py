"""redis-py pub/sub against Herald and Redis: the same code must behave the same."""
import asyncio
import threading
import time

import redis
import redis.asyncio


def wait_message(p, timeout=5.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        m = p.get_message(ignore_subscribe_messages=True, timeout=0.1)
        if m:
            return m
    raise AssertionError("no message arrived")


def test_get_message_and_subscribe_confirmations(server):
    r = server.client()
    p = r.pubsub()
    p.subscribe("news")
    confirm = p.get_message(timeout=5)
    assert confirm == {"type": "subscribe", "pattern": None, "channel": b"news", "data": 1}
    assert r.publish("news", "hello") == 1
    m = wait_message(p)
    assert m == {"type": "message", "pattern": None, "channel": b"news", "data": b"hello"}
    p.close()


def test_listen_with_patterns(server):
    r = server.client(decode_responses=True)
    p = r.pubsub()
    p.psubscribe("news.*")
    r.publish("news.sport", "goal")
    got = []
    for m in p.listen():
        got.append(m)
        if m["type"] == "pmessage":
            break
    assert got[-1] == {"type": "pmessage", "pattern": "news.*", "channel": "news.sport", "data": "goal"}
    p.close()


def test_pattern_handlers_and_run_in_thread(server):
    r = server.client(decode_responses=True)
    p = r.pubsub()
    received = []
    done = threading.Event()

    def handler(message):
        received.append(message["data"])
        if len(received) == 3:
            done.set()

    p.psubscribe(**{"jobs.*": handler})
    worker = p.run_in_thread(sleep_time=0.01, daemon=True)
    time.sleep(0.2)
    for i in range(3):
        assert r.publish(f"jobs.{i}", str(i)) == 1
    assert done.wait(5)
    worker.stop()
    worker.join(5)
    assert received == ["0", "1", "2"]


def test_asyncio_pubsub(server):
    async def scenario():
        r = redis.asyncio.Redis(host="127.0.0.1", port=server.port, decode_responses=True)
        p = r.pubsub()
        await p.subscribe("async")
        await r.publish("async", "hi")
        deadline = time.time() + 5
        while time.time() < deadline:
            m = await p.get_message(ignore_subscribe_messages=True, timeout=0.5)
            if m:
                break
        await p.aclose()
        await r.aclose()
        return m

    m = asyncio.run(scenario())
    assert m["channel"] == "async" and m["data"] == "hi"


def test_resp3_pubsub_and_commands(server):
    r = server.client(protocol=3, decode_responses=True)
    assert r.set("k", "v") is True
    assert r.get("k") == "v"
    p = r.pubsub()
    p.subscribe("r3")
    r.publish("r3", "pushed")
    m = wait_message(p)
    assert m["data"] == "pushed"
    p.close()


def test_sharded_pubsub(server):
    r = server.client(decode_responses=True)
    p = r.pubsub()
    p.ssubscribe("orders")
    time.sleep(0.1)
    assert r.spublish("orders", "o1") == 1
    deadline = time.time() + 5
    while time.time() < deadline:
        m = p.get_sharded_message(ignore_subscribe_messages=True, timeout=0.1)
        if m:
            break
    assert m["type"] == "smessage" and m["data"] == "o1"
    p.close()


def test_pipelines_with_and_without_transactions(server):
    r = server.client(decode_responses=True)
    pipe = r.pipeline(transaction=False)
    for i in range(100):
        pipe.incr("n")
    assert pipe.execute() == list(range(1, 101))
    tx = r.pipeline(transaction=True)
    tx.set("a", "1").incr("a").get("a")
    assert tx.execute() == [True, 2, "2"]
    # WATCH conflict: another client changes the key, the transaction is not applied.
    other = server.client()
    with r.pipeline() as w:
        w.watch("a")
        other.set("a", "changed")
        w.multi()
        w.set("a", "mine")
        try:
            w.execute()
            raise AssertionError("WATCH should have aborted the transaction")
        except redis.WatchError:
            pass
    assert r.get("a") == "changed"


def test_reconnect_after_server_restart(server):
    r = server.client(decode_responses=True, retry_on_error=[redis.ConnectionError],
                      retry=redis.retry.Retry(redis.backoff.ConstantBackoff(0.2), 10))
    assert r.ping() is True
    server.restart()
    assert r.set("after", "restart") is True
    assert r.get("after") == "restart"
