"""One clock for leases and due times: the database's.

Workers run on many machines whose clocks drift. A lease written by one worker is judged by
another, and a wait computed by one is resumed by another, so both are stated and compared in
database time: :func:`db_now` is this process's clock corrected by the offset to the database
server's clock (measured at most every ``REFRESH`` seconds: the shortest of a few ``SELECT``
round trips, halved). RQ promotes delayed jobs by the promoting worker's own clock, so a resume
job may arrive early on a skewed worker; the runner then refuses to take the run before its
``resume_at`` (database time) and the sweeper dispatches it once it is really due: never early,
late by at most a sweep interval.
"""

from __future__ import annotations

__all__ = ["db_now", "to_local", "offset"]

import threading
import time
from datetime import datetime, timedelta

from sqlalchemy import text

from backend.extensions import db
from backend.models import utcnow

REFRESH = 30.0
_cache: dict[int, tuple[float, timedelta]] = {}
_lock = threading.Lock()


#: Readings per measurement: a reading is off by at most half its round trip, and one taken
#: while this process stalled (a busy machine, another thread holding the GIL) by seconds.
SAMPLES = 3


def _measure() -> timedelta:
    """The offset by the reading with the shortest round trip of :data:`SAMPLES`."""
    if db.engine.dialect.name != "postgresql":
        return timedelta(0)  # SQLite: the database's clock is this machine's
    readings = []
    with db.engine.connect() as conn:
        for _ in range(SAMPLES):
            before = utcnow()
            server = conn.execute(text("SELECT clock_timestamp()")).scalar_one()
            after = utcnow()
            readings.append((after - before, server - (before + (after - before) / 2)))
    return min(readings, key=lambda reading: reading[0])[1]


def offset() -> timedelta:
    """How far the database's clock is ahead of this process's (cached)."""
    key = id(db.engine)  # not str(url): rendering the URL costs more than the rest, per call
    cached = _cache.get(key)
    if cached is None or time.monotonic() - cached[0] > REFRESH:
        with _lock:
            cached = _cache[key] = (time.monotonic(), _measure())
    return cached[1]


def db_now() -> datetime:
    """Now, in the database's time (aware UTC)."""
    return utcnow() + offset()


def to_local(moment: datetime) -> datetime:
    """A database-time moment in this process's clock (what RQ's ``enqueue_at`` expects)."""
    return moment - offset()
