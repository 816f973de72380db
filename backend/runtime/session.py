"""The database session as the runtime's workers use it.

The bottom of the runtime package: the runner and the event drain hold a run's rows across many
commits, so they open :func:`worker_session` around their work. :func:`next_id` hands out row
ids ahead of the INSERT, so a drain batch can write its rows together (executemany) instead of
one INSERT ... RETURNING round trip per row.
"""

from __future__ import annotations

__all__ = ["worker_session", "next_id", "ids_ahead", "database_key"]

import contextlib
import threading
import weakref

from sqlalchemy import text

from backend.extensions import db


@contextlib.contextmanager
def worker_session():
    """The session as workers use it: objects are not expired at each commit, so a run's
    contact, tags and conversation are loaded once, not again after every step's commit (the
    runner's own writes go through Core statements and keep the in-memory state). Everything
    is expired on the way out of the outermost one, so the caller sees fresh rows again."""
    session = db.session()
    outermost, session.expire_on_commit = session.expire_on_commit, False
    try:
        yield session
    finally:
        if outermost:
            session.expire_on_commit = True
            session.expire_all()


_keys: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def database_key() -> str:
    """The current database's URL as text: what per-database caches of this process are keyed
    by. Remembered per engine, because rendering a URL costs more than the cache lookups it
    keys (several per run)."""
    engine = db.engine
    key = _keys.get(engine)
    if key is None:
        key = _keys[engine] = str(engine.url)
    return key


def ids_ahead() -> bool:
    """Whether :func:`next_id` works here (PostgreSQL's sequences; SQLite has none)."""
    return db.engine.dialect.name == "postgresql"


_NEXTVAL = "SELECT nextval(pg_get_serial_sequence('{table}', 'id')) FROM generate_series(1, :n)"


_pools: dict[tuple[int, str], list[int]] = {}
_pools_lock = threading.Lock()


def next_id(table: str, chunk: int = 100) -> int:
    """The next id of ``table``'s serial column, taken from its sequence ``chunk`` at a time
    (one query per chunk, in the caller's transaction; the pool is the process's, per
    database). Sequences ignore rollbacks, so an id handed out is never handed out again: an
    unused one is only a gap (at most ``chunk`` when the process ends)."""
    key = (id(db.engine), table)
    with _pools_lock:
        pool = _pools.setdefault(key, [])
        if pool:
            return pool.pop()
    # Without the session's autoflush: a sequence needs nothing written first, and a flush
    # here would write a drain batch's new runs before their final state (an UPDATE more).
    with db.session.no_autoflush:
        rows = sorted(db.session.scalars(text(_NEXTVAL.format(table=table)), {"n": chunk}))
    with _pools_lock:
        pool.extend(reversed(rows[1:]))
    return rows[0]
