"""A real threaded server for the app and a real python-socketio client that collects traces.

Used by the Socket.IO tests (``server_url`` fixture in tests/backend/conftest.py).
"""

from __future__ import annotations

import contextlib
import threading
import time

import socketio as sio_client
from werkzeug.serving import make_server


@contextlib.contextmanager
def serving(app):
    """``app`` on a free port in a background thread; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()


class Client:
    """A Socket.IO client (long-polling) that keeps every ``trace`` it receives."""

    def __init__(self, url: str, token: str | None):
        self.sio = sio_client.Client(reconnection=False)
        self.traces: list[dict] = []
        self.sio.on("trace", self.traces.append)
        self.sio.connect(
            url, auth={"token": token} if token else None, wait_timeout=5, transports=["polling"]
        )

    def watch(self, **room) -> dict:
        return self.sio.call("watch", room, timeout=5)

    def wait(self, want: int, timeout: float = 5.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        while len(self.traces) < want and time.monotonic() < deadline:
            time.sleep(0.02)
        return list(self.traces)

    def close(self):
        self.sio.disconnect()
