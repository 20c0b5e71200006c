"""redis-py over the Unix socket (`unixsocket`), on Herald and on redis-server alike: commands and
a pipeline, a subscriber on the socket receiving from a publisher on TCP, a consumer group read
and acknowledged, and the connection as CLIENT INFO shows it."""
import shutil
import tempfile
import time

import pytest
import redis

from conftest import Server


@pytest.fixture(params=["herald", "redis"])
def unix_server(request):
    # A short directory of its own: a socket path must fit in 107 bytes.
    directory = tempfile.mkdtemp(prefix="herald-unix-")
    path = f"{directory}/s.sock"
    s = Server(request.param, extra=["--unixsocket", path, "--unixsocketperm", "700"])
    s.start()
    s.path = path
    yield s
    s.stop()
    shutil.rmtree(directory, ignore_errors=True)


def test_commands_pubsub_and_groups_over_the_unix_socket(unix_server):
    path = unix_server.path
    c = redis.Redis(unix_socket_path=path, socket_timeout=5, decode_responses=True)
    assert c.ping()
    info = c.client_info()
    assert (info["addr"], info["laddr"], info["flags"]) == (f"{path}:0", f"{path}:0", "U")
    with c.pipeline(transaction=True) as p:
        p.set("k", "v").incr("n").get("k")
        assert p.execute() == [True, 1, "v"]

    sub = redis.Redis(unix_socket_path=path, socket_timeout=5).pubsub()
    sub.subscribe("ch")
    assert sub.get_message(timeout=5)["type"] == "subscribe"
    tcp = unix_server.client()
    assert tcp.publish("ch", b"over tcp") == 1
    message = sub.get_message(timeout=5)
    assert (message["channel"], message["data"]) == (b"ch", b"over tcp")
    sub.close()

    c.xadd("jobs", {"n": "1"}, id="1-1")
    c.xgroup_create("jobs", "workers", id="0")
    got = c.xreadgroup("workers", "w1", {"jobs": ">"}, count=10)
    assert got == [["jobs", [("1-1", {"n": "1"})]]]
    assert c.xack("jobs", "workers", "1-1") == 1
    assert c.xpending("jobs", "workers")["pending"] == 0
    # The other side of the socket, over TCP, sees the same data.
    assert tcp.xlen("jobs") == 1
    deadline = time.time() + 5
    while tcp.pubsub_numsub("ch") != [(b"ch", 0)] and time.time() < deadline:
        time.sleep(0.02)
    assert tcp.pubsub_numsub("ch") == [(b"ch", 0)]
