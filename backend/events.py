"""Socket.IO: live traces of runs, pushed to the clients watching a workflow or an execution.

Rooms are ``workflow:<id>`` and ``execution:<id>``. A client joins one by emitting ``watch``
with ``{"workflow_id": ...}`` or ``{"execution_id": ...}`` (and leaves with ``unwatch``); it must
be signed in (browser session, or ``auth={"token": "fm_..."}`` when connecting) and allowed to
read the workflow. Revoking the token, or deactivating the user or changing their role,
closes their sockets (:mod:`backend.socket_auth`). Every trace is emitted as the ``trace`` event::

    {"kind": "step_finished", "execution_id": 7, "workflow_id": 3, "node_id": "send",
     "status": "succeeded", "duration_ms": 1.2, "output_preview": "...", "ts": 1700000000.1}

``kind`` is one of ``run_started``, ``step_started``, ``step_finished``, ``run_waiting`` and
``run_finished``. Workers run in other processes: :func:`emit_trace` publishes through the
Redis message queue and the web process delivers. A Redis hash counts the watchers of each
workflow, so workers skip publishing traces that nobody is watching.
"""

from __future__ import annotations

__all__ = ["init_app", "emit_trace", "is_watched", "WATCHERS_KEY"]

import contextlib
import functools
import logging
import threading
import time

import redis
from flask import current_app, request, session
from flask_login import current_user
from flask_socketio import SocketIO, disconnect, join_room, leave_room

from backend import socket_auth
from backend.auth import can_read_workflow, token_row
from backend.extensions import db, socketio
from backend.models import ApiToken, User, Workflow, WorkflowExecution
from backend.queue import get_redis

log = logging.getLogger(__name__)
WATCHERS_KEY = "fm:watchers"
KINDS = ("run_started", "step_started", "step_finished", "run_waiting", "run_finished")
_WATCH_TTL = 0.5
_emitters: dict[str, SocketIO] = {}
_watch_cache: dict[str, tuple[float, set]] = {}
_sid_rooms: dict[str, set] = {}  # this web process: the workflow rooms each client counted in
_lock = threading.Lock()


def init_app(app) -> None:
    """Bind Socket.IO to the app. With ``REDIS_URL`` its message queue is that Redis (workers in
    other processes publish there); embedded, the worker shares the process and emits directly.

    A browser's ``Origin`` must be the app's own origin or one of ``SOCKETIO_ALLOWED_ORIGINS``:
    another site cannot open a socket with a signed-in user's cookie (cross-site WebSocket
    hijacking). Clients that send no ``Origin`` (scripts with a token) are not browsers.
    """
    socketio.init_app(
        app,
        async_mode="threading",
        message_queue=app.config.get("REDIS_URL"),
        cors_allowed_origins=functools.partial(origin_allowed, app.config),
    )
    socket_auth.init_app(app)  # revoked tokens, deactivated users: their sockets close


def origin_allowed(config: dict, origin: str | None, environ: dict) -> bool:
    """Whether a socket's ``Origin`` is this app's own origin or an allowed one.

    >>> env = {"wsgi.url_scheme": "https", "HTTP_HOST": "flow.example"}
    >>> origin_allowed({}, "https://flow.example", env)
    True
    >>> origin_allowed({}, "https://evil.example", env)
    False
    >>> origin_allowed({"SOCKETIO_ALLOWED_ORIGINS": ["https://evil.example"]}, "https://evil.example", env)
    True
    """
    own = f"{environ.get('wsgi.url_scheme', 'http')}://{environ.get('HTTP_HOST', '')}"
    return origin == own or origin in (config.get("SOCKETIO_ALLOWED_ORIGINS") or ())


# -- helpers used by the handlers ------------------------------------------------------------


def _principal(auth):
    """The connecting user and the id of the token they used (None for a browser session)."""
    token = (auth or {}).get("token") if isinstance(auth, dict) else None
    if token:
        row = token_row(str(token))
        return (row.user, row.id) if row is not None else (None, None)
    if current_user.is_authenticated:
        return current_user._get_current_object(), None
    return None, None


def _still_allowed(user, token_id) -> bool:
    """The user is active and the token they connected with is not revoked (re-checked per watch)."""
    if user is None or not user.is_active:
        return False
    token = db.session.get(ApiToken, token_id) if token_id else None
    return token_id is None or (token is not None and token.revoked_at is None)


def _count(workflow_id, delta: int) -> None:
    with contextlib.suppress(redis.RedisError):
        get_redis().hincrby(WATCHERS_KEY, str(workflow_id), delta)


# -- handlers ------------------------------------------------------------------------------


@socketio.on("connect")
def on_connect(auth=None):
    """Refuse anonymous clients; remember the signed-in user for this connection."""
    user, token_id = _principal(auth)
    if user is None:
        return False
    session["fm_user_id"], session["fm_token_id"] = user.id, token_id
    socket_auth.remember(request.sid, user.id, token_id)
    return True


@socketio.on("watch")
def on_watch(data):
    """Join ``workflow:<id>`` or ``execution:<id>``; answers ``{"ok": bool, "room"?, "error"?}``."""

    data = data if isinstance(data, dict) else {}
    user = db.session.get(User, session.get("fm_user_id") or 0)
    try:
        if data.get("execution_id") is not None:
            ex = db.session.get(WorkflowExecution, int(data["execution_id"]))
            workflow_id, room = (
                (ex.workflow_id if ex else None),
                f"execution:{int(data['execution_id'])}",
            )
        else:
            workflow_id = int(data.get("workflow_id"))
            room = f"workflow:{workflow_id}"
    except (TypeError, ValueError):
        return {"ok": False, "error": "send {'workflow_id': id} or {'execution_id': id}"}
    if not _still_allowed(user, session.get("fm_token_id")):
        disconnect()
        return {"ok": False, "error": "not authenticated"}
    if workflow_id is None or db.session.get(Workflow, workflow_id) is None:
        return {"ok": False, "error": "not found"}
    if not can_read_workflow(user, workflow_id):
        return {"ok": False, "error": "forbidden"}
    join_room(room)
    with _lock:
        rooms = _sid_rooms.setdefault(request.sid, set())
        if room not in rooms:
            rooms.add(room)
            _count(workflow_id, 1)
    return {"ok": True, "room": room}


@socketio.on("unwatch")
def on_unwatch(data):
    """Leave a room joined with ``watch``."""
    data = data if isinstance(data, dict) else {}
    key = "execution_id" if data.get("execution_id") is not None else "workflow_id"
    room = f"{key.split('_')[0]}:{data.get(key)}"
    leave_room(room)
    _forget(request.sid, room)
    return {"ok": True}


@socketio.on("disconnect")
def on_disconnect(*_args):
    """Stop counting this client as a watcher."""
    socket_auth.forget(request.sid, session.get("fm_user_id"))
    for room in list(_sid_rooms.get(request.sid, ())):
        _forget(request.sid, room)
    _sid_rooms.pop(request.sid, None)


def _forget(sid: str, room: str) -> None:
    with _lock:
        rooms = _sid_rooms.get(sid, set())
        if room not in rooms:
            return
        rooms.discard(room)
    kind, _, ident = room.partition(":")
    workflow_id = ident
    if kind == "execution":
        ex = db.session.get(WorkflowExecution, int(ident))
        workflow_id = ex.workflow_id if ex else None
    if workflow_id is not None:
        _count(workflow_id, -1)


# -- the emit helper used by the runner ------------------------------------------------------


def is_watched(workflow_id) -> bool:
    """Whether a client watches ``workflow_id`` (the watcher hash is read at most every
    ``_WATCH_TTL`` seconds per process: no Redis round trip per step)."""
    url = current_app.config.get("REDIS_URL") or "embedded"
    now = time.monotonic()
    cached = _watch_cache.get(url)
    if cached is None or now - cached[0] > _WATCH_TTL:
        try:
            raw = get_redis().hgetall(WATCHERS_KEY)
            watched = {k.decode() for k, v in raw.items() if int(v) > 0}
        except redis.RedisError:
            watched = set()
        cached = _watch_cache[url] = (now, watched)
    return str(workflow_id) in cached[1]


def _emitter() -> SocketIO:
    url = current_app.config.get("REDIS_URL")
    if not url:  # embedded: the web server is in this process
        return socketio
    emitter = _emitters.get(url)
    if emitter is None:
        emitter = _emitters[url] = SocketIO(message_queue=url)
    return emitter


def emit_trace(kind: str, execution, **data) -> None:
    """Publish one trace event to ``workflow:<id>`` and ``execution:<id>``; never raises.

    ``execution`` is a ``WorkflowExecution`` or a dict with ``id`` and ``workflow_id``.
    """
    get = execution.get if isinstance(execution, dict) else lambda k: getattr(execution, k)
    execution_id, workflow_id = get("id"), get("workflow_id")
    if not is_watched(workflow_id):
        return
    payload = {
        "kind": kind,
        "execution_id": execution_id,
        "workflow_id": workflow_id,
        "ts": time.time(),
        **data,
    }
    try:
        _emitter().emit(
            "trace", payload, to=[f"workflow:{workflow_id}", f"execution:{execution_id}"]
        )
    except Exception as exc:  # Redis down: traces are best effort, the DB has the record
        log.debug("trace not published: %s", exc)
