"""Which open sockets belong to whom, and dropping them when that access ends.

Each connection is recorded in Redis (``fm:sockets:user:<id>``: sid → token id, empty for a
browser session). When a commit revokes a token, deactivates or deletes a user, or changes a
user's role, the sockets opened with that token / by that user are disconnected, wherever
they are: Socket.IO's Redis message queue carries the disconnect to the web process that holds
the socket. The check runs on SQLAlchemy's commit, so the API, the admin and the CLI all
trigger it.
"""

from __future__ import annotations

__all__ = ["init_app", "remember", "forget", "drop"]

import contextlib
import logging

import redis
from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from backend.extensions import socketio
from backend.models import ApiToken, User
from backend.queue import get_redis

log = logging.getLogger(__name__)
KEY = "fm:sockets:user:{}"
_TTL = 7 * 24 * 3600
_PENDING = "fm_socket_drops"


def init_app(app) -> None:
    """Watch commits for access changes (once per process: the listeners are global)."""
    if not event.contains(Session, "after_flush", _collect):
        event.listen(Session, "after_flush", _collect)
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_soft_rollback", _forget_pending)


def remember(sid: str, user_id: int, token_id: int | None) -> None:
    """Record an open socket of ``user_id`` (opened with ``token_id``, or a session)."""
    with contextlib.suppress(redis.RedisError):
        pipe = get_redis().pipeline()
        pipe.hset(KEY.format(user_id), sid, str(token_id or ""))
        pipe.expire(KEY.format(user_id), _TTL)
        pipe.execute()


def forget(sid: str, user_id: int | None) -> None:
    """Forget a closed socket."""
    if user_id is not None:
        with contextlib.suppress(redis.RedisError):
            get_redis().hdel(KEY.format(user_id), sid)


def drop(user_id: int, token_id: int | None = None) -> int:
    """Disconnect the user's sockets (only those opened with ``token_id`` when given)."""
    try:
        sockets = get_redis().hgetall(KEY.format(user_id))
    except redis.RedisError as exc:
        log.warning("cannot look up the sockets of user %s: %s", user_id, exc)
        return 0
    dropped = 0
    for sid, token in sockets.items():
        if token_id is None or token.decode() == str(token_id):
            socketio.server.disconnect(sid.decode(), namespace="/")
            forget(sid.decode(), user_id)
            dropped += 1
    return dropped


def _changed(obj, *names) -> bool:
    state = inspect(obj)
    return any(state.attrs[name].history.has_changes() for name in names)


def _collect(session, _flush_context) -> None:
    pending = session.info.setdefault(_PENDING, set())
    for obj in session.dirty:
        if isinstance(obj, User) and _changed(obj, "role", "is_active_user"):
            pending.add((obj.id, None))
        elif (
            isinstance(obj, ApiToken) and obj.revoked_at is not None and _changed(obj, "revoked_at")
        ):
            pending.add((obj.user_id, obj.id))
    for obj in session.deleted:
        if isinstance(obj, User):
            pending.add((obj.id, None))
        elif isinstance(obj, ApiToken):
            pending.add((obj.user_id, obj.id))


def _after_commit(session) -> None:
    for user_id, token_id in session.info.pop(_PENDING, ()):
        try:
            drop(user_id, token_id)
        except Exception:  # never fail the commit that already happened
            log.exception("could not disconnect the sockets of user %s", user_id)


def _forget_pending(session, _previous_transaction) -> None:
    session.info.pop(_PENDING, None)
