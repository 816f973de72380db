"""The web server's threads linger on a keep-alive connection for its next request
(backend.server.LingeringWorker), within bounds: never more than half of the threads, and a
stop ends every linger.

A real subprocess serving a tiny app with ``serve_forever`` (it installs signal handlers, so
it needs a main thread of its own), with a linger far longer than any test waits: what is
asserted does not depend on how fast the machine is.
"""

from __future__ import annotations

import http.client
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support import free_port

ROOT = Path(__file__).resolve().parents[3]
pytestmark = [pytest.mark.timeout(120)]

LONG = 60.0  # the linger in these tests: longer than any of them waits

_SERVER = """
import sys
from flask import Flask
import backend.server as server

server.LINGER = float(sys.argv[2])
app = Flask("linger")
app.get("/")(lambda: "ok")
print("serving", flush=True)
server.serve_forever(app, "127.0.0.1", int(sys.argv[1]), threads=int(sys.argv[3]))
print("stopped", flush=True)
"""


@pytest.fixture
def serve(tmp_path):
    """Start the tiny app with ``threads`` threads; yields a function returning (port, proc)."""
    started = []

    def start(threads: int) -> tuple[int, subprocess.Popen]:
        port = free_port()
        argv = [sys.executable, "-c", _SERVER, str(port), str(LONG), str(threads)]
        with open(tmp_path / "server.log", "wb") as log:
            proc = subprocess.Popen(argv, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        started.append(proc)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return port, proc
            except OSError:
                time.sleep(0.05)
        pytest.fail((tmp_path / "server.log").read_text())

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)


def _get(conn: http.client.HTTPConnection) -> bytes:
    conn.request("GET", "/")
    response = conn.getresponse()
    assert response.status == 200
    return response.read()


def test_requests_on_one_keep_alive_connection_are_answered(serve):
    port, _ = serve(threads=4)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    assert _get(conn) == b"ok"
    sock = conn.sock
    assert [_get(conn) for _ in range(3)] == [b"ok"] * 3
    assert conn.sock is sock  # one connection throughout
    conn.close()


def test_pipelined_requests_are_answered(serve):
    port, _ = serve(threads=4)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n" * 2)  # the second one is read early
        data = b""
        while data.count(b"HTTP/1.1 200") < 2:
            chunk = sock.recv(4096)
            assert chunk, data
            data += chunk


def test_lingering_keeps_half_the_threads_free_for_other_clients(serve):
    port, _ = serve(threads=2)
    idle = []
    for _ in range(4):  # the first one's thread lingers on it (one of two busy: allowed);
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        assert _get(conn) == b"ok"  # the others' thread must not (two of two busy)
        idle.append(conn)  # kept open and idle
    assert [_get(conn) for conn in idle] == [b"ok"] * 4
    for conn in idle:
        conn.close()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_stop_is_clean_while_a_connection_lingers(serve, tmp_path, sig):
    port, proc = serve(threads=4)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    _get(conn)  # its thread lingers on it
    began = time.monotonic()
    proc.send_signal(sig)
    proc.wait(LONG / 2)  # not held by the linger
    output = (tmp_path / "server.log").read_text()
    assert proc.returncode == 0, output
    assert time.monotonic() - began < LONG / 2
    assert "stopped" in output and "Traceback" not in output
    conn.close()
