"""The database session as the runtime's workers use it.

The bottom of the runtime package: the runner and the event drain hold a run's rows across many
commits, so they open :func:`worker_session` around their work.
"""

from __future__ import annotations

__all__ = ["worker_session"]

import contextlib

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
