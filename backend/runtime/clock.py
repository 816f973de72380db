"""The runtime's clock: every "now" of the runtime (leases, waits, sweeps, limits) reads it.

It is the system clock unless the app config holds a ``RUNTIME_CLOCK`` callable returning an
aware UTC datetime: tests inject one to make a wait or a lease expire without sleeping.
"""

from __future__ import annotations

__all__ = ["utcnow"]

from datetime import datetime

from flask import current_app, has_app_context

from backend.models import utcnow as system_utcnow


def utcnow() -> datetime:
    """The current time (aware UTC) as the runtime sees it."""
    clock = current_app.config.get("RUNTIME_CLOCK") if has_app_context() else None
    return clock() if clock is not None else system_utcnow()
