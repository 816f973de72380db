"""The production web server of ``serve``: gunicorn's threaded (``gthread``) worker, run in
this very process.

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

__all__ = ["serve_forever", "freeze_startup_heap"]

import gc
import os
import signal

from flask import Flask
from gunicorn.app.base import BaseApplication
from gunicorn.sock import create_sockets
from gunicorn.workers.gthread import ThreadWorker


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


class _Worker(ThreadWorker):
    """gunicorn's gthread worker with Ctrl-C as a graceful stop (gunicorn's own SIGINT is an
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
