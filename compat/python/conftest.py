"""Fixtures: each test runs against Herald (HERALD_BIN) and against a real redis-server, on free
loopback ports, so the same client code is checked on both. Servers are stopped by PID."""
import os
import socket
import subprocess
import time

import pytest
import redis


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, kind, extra=()):
        self.kind = kind
        self.port = free_port()
        self.extra = list(extra)
        self.proc = None

    def command(self):
        if self.kind == "herald":
            return [os.environ["HERALD_BIN"], "--port", str(self.port), "--loglevel", "warning",
                    *self.extra]
        return ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", *self.extra]

    def start(self):
        self.proc = subprocess.Popen(self.command(), stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"{self.kind} did not start on {self.port}")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def restart(self):
        self.stop()
        self.start()

    def client(self, **kwargs):
        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=5, **kwargs)


@pytest.fixture(params=["herald", "redis"])
def server(request):
    s = Server(request.param)
    s.start()
    yield s
    s.stop()
