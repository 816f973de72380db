"""JSON columns through backend.json_codec (orjson): what a column is given, it gives back, on
both databases, read by another connection; what json refused is still refused."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import StatementError

from backend.extensions import db
from backend.models import EventLog

VALUE = {
    "content": "یک کد تخفیف لطفا 🎁",  # Persian text and an emoji
    "quote": 'a "quoted" \\ back\nslash',
    "numbers": [0, -1, 2**63 - 1, 2**70, 1.5, 1e-7, -0.0],
    "nested": {"empty": {}, "list": [], "none": None, "yes": True, "no": False},
    "order": {"z": 1, "a": 2, "m": 3},
    "phone": "09123456789012345678",  # a long run of digits in a string
}


def _store(payload) -> int:
    ev = EventLog(event_type="PING", idempotency_key="k1", payload=payload, status="processed")
    db.session.add(ev)
    db.session.commit()
    return ev.id


def test_a_json_column_gives_back_what_it_was_given(app):
    event_id = _store(VALUE)
    with db.engine.connect() as conn:  # another connection: no object cached anywhere
        payload = conn.scalar(select(EventLog.payload).where(EventLog.id == event_id))
    assert payload == VALUE
    if db.engine.dialect.name == "sqlite":  # JSONB keeps its own key order, whatever wrote it
        assert list(payload["order"]) == ["z", "a", "m"]
    assert type(payload["numbers"][3]) is int  # past 64 bits: still an exact integer


def test_the_database_reads_the_stored_text_as_the_same_json(app):
    event_id = _store(VALUE)
    if db.engine.dialect.name == "postgresql":
        query = "SELECT payload->>'content', (payload->'numbers'->>3) FROM event_logs WHERE id = :i"
    else:
        query = (
            "SELECT json_extract(payload, '$.content'), "
            "CAST(json_extract(payload, '$.numbers[3]') AS TEXT) FROM event_logs WHERE id = :i"
        )
    content, big = db.session.execute(text(query), {"i": event_id}).one()
    assert content == VALUE["content"]
    if db.engine.dialect.name == "postgresql":  # SQLite's json reads big integers as floats
        assert big == str(2**70)


@dataclasses.dataclass
class _Point:
    x: int


@pytest.mark.parametrize("value", [datetime.now(UTC), _Point(1), {1, 2}])
def test_what_json_refused_is_refused(app, value):
    with pytest.raises((StatementError, TypeError)):
        _store({"value": value})
    db.session.rollback()
