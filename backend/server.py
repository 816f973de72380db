"""The production web server of ``serve``: gunicorn's threaded (``gthread``) worker, run in
this very process, with threads that linger on a keep-alive connection (:class:`LingeringWorker`,
also gunicorn.conf.py's worker class).

Why gunicorn ``gthread``: it is the production server Flask-SocketIO supports without
eventlet or gevent (WebSockets through ``simple-websocket``, one thread per open socket).
Why in this process rather than under gunicorn's arbiter: the arbiter forks a child that holds
a second copy of the app, and ``serve`` also hosts the embedded worker and Redis, which must
stop with it. One process, one copy of the app; several web processes are several ``serve``
(or ``gunicorn`` with the repository's ``gunicorn.conf.py``: one such process under an arbiter)
behind a proxy with sticky sessions, sharing Socket.IO traffic through the Redis message queue.

Stopping: SIGTERM and Ctrl-C (SIGINT) both mean "stop gracefully": stop accepting, give
in-flight requests ``graceful`` seconds, return to the caller, which stops what it started.
"""

from __future__ import annotations

__all__ = ["serve_forever", "freeze_startup_heap", "LingeringWorker"]

import contextlib
import gc
import os
import select
import signal
import threading
from typing import TYPE_CHECKING

from gunicorn.app.base import BaseApplication
from gunicorn.sock import create_sockets
from gunicorn.workers.gthread import ThreadWorker

if TYPE_CHECKING:
    from flask import Flask


class _Config(BaseApplication):
    """gunicorn's configuration and app loader for an app object that already exists."""

    def __init__(self, app: Flask, options: dict):
        self.application, self.options = app, options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        return self.application


#: How long a thread that answered a keep-alive request waits on its connection for the next one
#: before handing the connection back to gunicorn's poller.
LINGER = 0.05


class LingeringWorker(ThreadWorker):
    """gunicorn's gthread worker whose thread, after answering a keep-alive request, waits a
    moment on that connection for the next request and answers it itself.

    Why: gunicorn hands every keep-alive connection back to its poller thread after each
    request (a future's done-callback, a byte through a wake-up pipe, the socket registered
    in the selector, then unregistered and submitted to the pool again when the next request
    arrives). For a client posting event after event on one connection, waiting on the socket
    in the thread that holds it (one ``poll`` call) saves about a sixth of the web process's
    CPU per request (bench/web_ingest.py: x1.12 to x1.33 in three runs).

    Bounded, so idle connections (a browser's, between clicks) do not hold threads: a thread
    lingers at most :data:`LINGER` seconds, only while at most half of the threads are busy
    (a WebSocket holds its thread as long as it is open), and the stop signal ends every
    linger at once. A connection with nothing to read by then goes back to the poller as
    gunicorn does it, with its keep-alive timeout. Everything else (max requests, keep-alive
    limits, HTTP/2, a request during the graceful stop answered with ``Connection: close``)
    is gunicorn's own ``handle``, run once per request.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._busy = 0  # threads inside handle(), lingering ones included
        self._busy_lock = threading.Lock()
        self._stopping = None  # a pipe, readable once the worker is told to stop

    def init_process(self) -> None:
        """Runs the worker (gunicorn's ``init_process`` returns when it has stopped)."""
        self._stopping = os.pipe()
        os.set_blocking(self._stopping[1], False)  # written from a signal handler
        try:
            super().init_process()
        finally:
            fds, self._stopping = self._stopping, None  # a late signal writes nowhere
            for fd in fds:
                os.close(fd)

    def handle_exit(self, sig, frame) -> None:
        super().handle_exit(sig, frame)
        self._wake_lingering()

    def handle_quit(self, sig, frame) -> None:
        self._wake_lingering()
        super().handle_quit(sig, frame)

    def _wake_lingering(self) -> None:
        if self._stopping is not None:
            with contextlib.suppress(BlockingIOError):  # full: readable already
                os.write(self._stopping[1], b"\0")  # never read: every later poll sees it

    def handle(self, conn):
        with self._busy_lock:
            self._busy += 1
        try:
            keepalive = super().handle(conn)
            while keepalive is True and self._next_request_arrives(conn):
                keepalive = super().handle(conn)
            return keepalive
        finally:
            with self._busy_lock:
                self._busy -= 1

    def _next_request_arrives(self, conn) -> bool:
        """Whether bytes of a next request are there within :data:`LINGER`; False at once when
        threads are scarce, and as soon as the worker is told to stop. Bytes already read past
        the last request (pipelined) count: the poller would not see those."""
        stopping = self._stopping
        if stopping is None or not self.alive or self._busy > self.cfg.threads // 2:
            return False
        if conn.parser.unreader.buf.getbuffer().nbytes:
            return True
        poller = select.poll()
        try:
            poller.register(conn.sock, select.POLLIN)
            poller.register(stopping[0], select.POLLIN)
            ready = poller.poll(LINGER * 1000)
        except (OSError, ValueError):  # closed under us: the poller path deals with it
            return False
        return any(fd != stopping[0] for fd, _ in ready)


class _Worker(LingeringWorker):
    """The lingering gthread worker with Ctrl-C as a graceful stop (gunicorn's own SIGINT is an
    immediate ``sys.exit`` from whatever the main thread was doing)."""

    def init_signals(self) -> None:
        super().init_signals()
        signal.signal(signal.SIGINT, self.handle_exit)
        signal.signal(signal.SIGQUIT, self.handle_exit)


def freeze_startup_heap() -> None:
    """Leave what is alive once the app is loaded out of the garbage collector's full passes.

    Why: the loaded app is ~150,000 tracked objects that live as long as the process; each
    full collection walked them all (~0.1 s of CPU here, every request of the process waiting
    on the GIL meanwhile: a latency spike). Frozen, a full pass walks only what came since.
    """
    gc.collect()
    gc.freeze()


def serve_forever(
    app: Flask, host: str, port: int, *, threads: int = 32, graceful: int = 2
) -> None:
    """Serve ``app`` on ``host:port`` until SIGTERM / SIGINT; returns once stopped."""
    config = _Config(
        app,
        {
            "bind": f"{host}:{port}",
            "worker_class": "gthread",
            "threads": threads,
            "graceful_timeout": graceful,
            "keepalive": 5,
            "loglevel": "warning",
        },
    )
    cfg = config.cfg
    log = cfg.logger_class(cfg)
    sockets = create_sockets(cfg, log)
    worker = _Worker(0, os.getppid(), sockets, config, cfg.timeout, cfg, log)
    worker.pid = os.getpid()
    freeze_startup_heap()
    try:
        worker.init_process()
    except SystemExit:  # gunicorn's exit paths (parent gone, max requests) end the loop
        pass
    finally:
        for sock in sockets:
            sock.close()
        worker.tmp.close()
