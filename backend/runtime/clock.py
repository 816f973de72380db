"""The runtime's clock: every "now" of the runtime (leases, waits, sweeps, limits) reads it.

It is the database's clock (:func:`backend.clock.db_now`: this process's clock corrected by its
measured offset to the database server, so workers with drifting clocks agree on leases and due
times) unless the app config holds a ``RUNTIME_CLOCK`` callable returning an aware UTC datetime:
tests inject one to make a wait or a lease expire without sleeping.
"""

from __future__ import annotations

__all__ = ["utcnow"]

from datetime import datetime

from flask import current_app, has_app_context

from backend.clock import db_now
from backend.models import utcnow as system_utcnow


def utcnow() -> datetime:
    """The current time (aware UTC) as the runtime sees it."""
    if not has_app_context():
        return system_utcnow()
    clock = current_app.config.get("RUNTIME_CLOCK")
    return clock() if clock is not None else db_now()
