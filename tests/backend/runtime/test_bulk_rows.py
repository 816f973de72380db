"""A batch's new rows written in one go (binary COPY on PostgreSQL): read back as an INSERT
would have stored them, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError, OperationalError

from backend.extensions import db
from backend.models import Contact, Note, OutboundMessage
from backend.runtime.bulk import insert_rows


def _contact() -> int:
    contact = Contact(external_id="c1")
    db.session.add(contact)
    db.session.flush()
    return contact.id


def test_rows_read_back_as_written(app):
    contact_id = _contact()
    naive = datetime(2026, 1, 2, 3, 4, 5)  # UTCDateTime: a naive datetime is UTC
    rows = [
        {
            "contact_id": contact_id,
            "kind": "message",
            "channel": "capture",
            "to": f"chat-{i}",  # a reserved word as a column name
            "text": "کد تخفیف 10% \t tab, \\ backslash, \n newline",
            "response": {"ok": True, "n": [1, 2.5, None], "text": "سلام"},
            "idempotency_key": f"key-{i}",
            "created_at": naive,
        }
        for i in range(3)
    ]
    rows[2]["response"] = None
    insert_rows(db.session.connection(), OutboundMessage.__table__, rows)
    db.session.commit()

    stored = db.session.scalars(select(OutboundMessage).order_by(OutboundMessage.id)).all()
    assert [m.to for m in stored] == ["chat-0", "chat-1", "chat-2"]
    assert {m.text for m in stored} == {rows[0]["text"]}
    assert [m.response for m in stored] == [rows[0]["response"], rows[1]["response"], None]
    assert {m.created_at for m in stored} == {naive.replace(tzinfo=UTC)}
    # Columns the rows left out: their Python-side defaults, as an INSERT gives them.
    assert {m.status for m in stored} == {"captured"}
    assert len({m.id for m in stored}) == 3  # the serial column from its sequence


def test_missing_callable_default_is_computed(app):
    contact_id = _contact()
    before = datetime.now(UTC)
    insert_rows(db.session.connection(), Note.__table__, [{"contact_id": contact_id, "text": "a"}])
    db.session.commit()
    note = db.session.scalars(select(Note)).one()
    assert note.text == "a"
    assert before <= note.created_at <= datetime.now(UTC)


def test_a_constraint_fails_the_transaction(app):
    contact_id = _contact()
    db.session.commit()
    row = {"contact_id": contact_id, "kind": "message", "channel": "capture"}
    rows = [{**row, "idempotency_key": "same"}, {**row, "idempotency_key": "same"}]
    with pytest.raises(IntegrityError):
        insert_rows(db.session.connection(), OutboundMessage.__table__, rows)
        db.session.flush()
    db.session.rollback()
    assert db.session.scalars(select(OutboundMessage)).all() == []


def test_an_unknown_column_is_refused(app):
    with pytest.raises(KeyError) as caught:
        insert_rows(db.session.connection(), Note.__table__, [{"text": "a", "nope": 1}])
    assert "nope" in str(caught.value)
    db.session.rollback()


def test_a_lost_connection_is_the_error_sqlalchemy_raises(app):
    """The drain tells a database outage by SQLAlchemy's ``OperationalError``; COPY's own
    errors reach it as that, and the dead connection is not given back to the pool."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("COPY is PostgreSQL's")
    conn = db.session.connection()
    pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
    with db.engine.connect() as other:
        other.exec_driver_sql(f"SELECT pg_terminate_backend({pid})")
    with pytest.raises(OperationalError):
        insert_rows(conn, Note.__table__, [{"text": "a"}])
    assert conn.invalidated
    db.session.rollback()
    assert db.session.scalar(select(func.count(Note.id))) == 0  # a fresh connection works
