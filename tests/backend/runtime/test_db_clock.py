"""The offset to the database's clock is taken from the reading with the shortest round trip:
one reading during which this process stalled must not move every lease and due time."""

from __future__ import annotations

from datetime import timedelta

import pytest

from backend import clock
from backend.extensions import db
from backend.models import utcnow


def test_a_reading_taken_during_a_stall_does_not_set_the_offset(app, monkeypatch):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite: the database's clock is this machine's, nothing is measured")
    readings = iter([utcnow() - timedelta(seconds=5)])  # the first "before": 5 s of stall

    def stalled_once():
        return next(readings, None) or utcnow()

    monkeypatch.setattr(clock, "utcnow", stalled_once)
    offset = clock._measure()
    # That reading alone says +2.5 s (half its 5 s round trip); the database is this machine.
    assert abs(offset) < timedelta(milliseconds=500), offset
