"""gunicorn's settings for the web app in the scaled mode, read by ``.venv/bin/gunicorn`` when it
is started from the repository root (``gunicorn`` alone serves ``backend:create_app()``).

One worker process with threads (``gthread``, the server Flask-SocketIO supports without
eventlet or gevent; one thread per open WebSocket), as ``python -m backend serve`` runs it,
with its threads waiting a moment for a keep-alive connection's next request
(``backend.server.LingeringWorker``). Each process is a whole copy of the app (~100 MB), and
one process keeps up with the ingestion a worker drains (bench/throughput.py). Scale out with
more such servers behind a proxy with sticky sessions (Socket.IO goes through the Redis message
queue). The app is not preloaded in the arbiter: it would only add a second copy to the
arbiter's own memory.
"""

import os

wsgi_app = "backend:create_app()"
worker_class = "backend.server.LingeringWorker"
workers = int(os.environ.get("WEB_PROCESSES", 1))
threads = int(os.environ.get("WEB_THREADS", 32))
bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', 8000)}"
keepalive = 5


def post_worker_init(worker):
    """The app is loaded: keep its objects out of the garbage collector's full passes (imported
    here, in the worker that loaded the app, not in the arbiter)."""
    from backend.server import freeze_startup_heap

    freeze_startup_heap()
