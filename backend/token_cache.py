"""Bearer token -> user, remembered per process so an API call skips the token query.

Why: the token lookup (a SELECT joined to the user, then ORM objects) was the largest share of
the web CPU of a small API call. An entry is trusted only while

1. the access version in Redis (``fm:auth:version``) is the one read before the entry was
   loaded: every commit that revokes or deletes a token, or changes, deactivates or deletes a
   user (ORM objects or bulk UPDATE / DELETE, in any process) increments it after the commit,
   so the next call anywhere goes back to the database;
2. the token's ``last_used_at`` is under a minute old (then the slow path touches it again):
   a change made outside SQLAlchemy (plain SQL) is picked up within that minute.

Redis unreachable: no entry is trusted (every call queries the database, as before).
"""

from __future__ import annotations

__all__ = ["init_app", "lookup", "owner", "remember", "forget", "forget_all", "VERSION_KEY"]

import logging
import threading
from dataclasses import dataclass
from datetime import datetime

import redis
from sqlalchemy import event, inspect
from sqlalchemy.orm import Session, make_transient_to_detached

from backend.models import ApiToken, User, utcnow
from backend.queue import get_redis

log = logging.getLogger(__name__)
VERSION_KEY = "fm:auth:version"
_PENDING = "fm_auth_changed"
_QUIET = {"last_used_at", "last_login_at"}  # columns whose change grants or removes nothing
_MAX_ENTRIES = 10_000


@dataclass(frozen=True)
class Entry:
    """What a token resolved to, and under which access version."""

    version: bytes | None
    user: User  # detached snapshot: read as it is, or merged into a session; never modified
    fresh_until: datetime  # last_used_at + the touch interval


_entries: dict[tuple, Entry] = {}
_lock = threading.Lock()


def init_app(app) -> None:
    """Watch commits for access changes (once per process: the listeners are global)."""
    if not event.contains(Session, "after_flush", _collect):
        event.listen(Session, "after_flush", _collect)
        event.listen(Session, "do_orm_execute", _collect_bulk)
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_soft_rollback", _forget_pending)


def version() -> bytes | None | bool:
    """The current access version; ``False`` when Redis cannot say (trust no entry)."""
    try:
        return get_redis().get(VERSION_KEY)
    except redis.RedisError:
        return False


def lookup(key: tuple, current: bytes | None | bool) -> User | None:
    """The user behind ``key`` (engine, token hash), if still trusted: a detached snapshot,
    shared by every request of the process (read it, or merge it into a session)."""
    entry = _entries.get(key)
    if entry is None or current is False or entry.version != current:
        return None
    if utcnow() >= entry.fresh_until:
        return None
    return entry.user


def owner(key: tuple | None) -> int | None:
    """The id of the user ``key``'s token belongs to, if this process has seen the token: a
    token never changes hands, so this holds even when the entry is no longer trusted."""
    entry = _entries.get(key) if key is not None else None
    return None if entry is None else entry.user.id


def remember(key: tuple, current: bytes | None | bool, token: ApiToken, interval) -> None:
    """Keep what ``token`` resolved to (read under access version ``current``)."""
    if current is False or token.last_used_at is None:
        return
    with _lock:
        if len(_entries) >= _MAX_ENTRIES:
            _entries.clear()
        _entries[key] = Entry(current, _snapshot(token.user), token.last_used_at + interval)


def forget(key: tuple | None) -> None:
    """Drop ``key``'s entry (its token no longer resolves)."""
    with _lock:
        _entries.pop(key, None)


def forget_all() -> None:
    with _lock:
        _entries.clear()


def _snapshot(user: User) -> User:
    mapper = inspect(User)
    copy = User(**{attr.key: getattr(user, attr.key) for attr in mapper.column_attrs})
    make_transient_to_detached(copy)
    return copy


# -- invalidation ----------------------------------------------------------------------------


def _loud_change(obj) -> bool:
    state = inspect(obj)
    return any(attr.history.has_changes() for attr in state.attrs if attr.key not in _QUIET)


def _collect(session, _flush_context) -> None:
    changed = any(isinstance(o, (User, ApiToken)) for o in session.deleted) or any(
        isinstance(o, (User, ApiToken)) and _loud_change(o) for o in session.dirty
    )
    if changed:
        session.info[_PENDING] = True


def _collect_bulk(orm_execute_state) -> None:
    if not (orm_execute_state.is_update or orm_execute_state.is_delete):
        return
    mapper = orm_execute_state.bind_mapper
    if mapper is not None and mapper.class_ in (User, ApiToken):
        orm_execute_state.session.info[_PENDING] = True


def _after_commit(session) -> None:
    if not session.info.pop(_PENDING, False):
        return
    forget_all()  # this process at once, even if Redis cannot tell the others
    try:
        get_redis().incr(VERSION_KEY)
    except Exception:  # never fail the commit that already happened
        log.exception("could not publish an access change (other processes: within a minute)")


def _forget_pending(session, _previous_transaction) -> None:
    session.info.pop(_PENDING, None)
