"""The runtime end to end on SQLite and PostgreSQL: ingest -> drain job -> runs -> records."""

from __future__ import annotations

import pytest
from runtime_helpers import COUPON, graph, linear, message, setup, work
from sqlalchemy import func, select

from backend.extensions import db
from backend.models import (
    Contact,
    EventLog,
    Note,
    OutboundMessage,
    StepExecution,
    WorkflowExecution,
)
from backend.runtime.ingest import (
    InvalidEvent,
    PayloadTooLarge,
    UnknownEventType,
    accept_event,
)

pytestmark = [pytest.mark.redis]


def _interested(user="c1"):
    from backend.services import contacts

    contact = contacts.get_or_create_contact(user, {"first_name": "Sara"})
    contacts.add_tag(contact, "interested")
    db.session.commit()
    return contact


def test_coupon_event_runs_to_completion_with_real_effects(app):
    (wf,) = setup(app, graph())
    _interested()
    ev, created = accept_event(message("a coupon please"))
    assert created and ev.status == "received"
    work(app)
    db.session.expire_all()
    ev = db.session.get(EventLog, ev.id)
    assert ev.status == "processed"
    (entry,) = ev.matched_workflows
    assert entry["workflow_id"] == wf.id and entry["node_id"] == "trigger"
    run = db.session.get(WorkflowExecution, entry["execution_id"])
    assert run.status == "succeeded" and run.finished_at is not None
    steps = [(s.seq, s.node_id, s.status) for s in run.steps]
    assert steps == [
        (1, "trigger", "succeeded"),
        (2, "interested", "succeeded"),
        (3, "send", "succeeded"),
        (4, "tag", "succeeded"),
        (5, "note", "succeeded"),
    ]
    contact = db.session.scalar(select(Contact).filter_by(external_id="c1"))
    assert contact.tag_names == ["coupon_sent", "interested"]
    (out,) = db.session.scalars(select(OutboundMessage)).all()
    assert (out.status, out.channel, out.text) == ("captured", "capture", "Sara, your code: SAVE10")
    assert out.conversation_id is not None and out.execution_id == run.id
    assert db.session.scalar(select(Note.text)) == "coupon sent"


def test_non_matching_event_is_processed_without_runs(app):
    setup(app, graph())
    ev, _ = accept_event(message("hello there"))
    work(app)
    db.session.expire_all()
    ev = db.session.get(EventLog, ev.id)
    assert ev.status == "processed" and ev.matched_workflows == []
    assert db.session.scalar(select(func.count(WorkflowExecution.id))) == 0


def test_same_event_id_is_accepted_once(app):
    setup(app, graph())
    first, created1 = accept_event(message("coupon", event_id="ev-1"))
    again, created2 = accept_event(message("coupon", event_id="ev-1"))
    assert created1 and not created2 and first.id == again.id
    work(app)
    assert db.session.scalar(select(func.count(WorkflowExecution.id))) == 1


@pytest.mark.parametrize(
    ("payload", "error"),
    [
        ({"event_type": "NOPE_TYPE", "data": {}}, UnknownEventType),
        ({"event_type": "lower", "data": {}}, InvalidEvent),
        ({"event_type": "PING", "data": []}, InvalidEvent),
        ({"event_type": "PING", "data": {"x": "y" * 70_000}}, PayloadTooLarge),
        ({"event_type": "PING", "user_id": "u" * 300}, InvalidEvent),
    ],
)
def test_bad_events_are_refused_and_nothing_is_stored(app, payload, error):
    from backend.queue import get_queue

    setup(app)
    with pytest.raises(error) as info:
        accept_event(payload)
    assert info.value.status_code == (413 if error is PayloadTooLarge else 400)
    assert db.session.scalar(select(func.count(EventLog.id))) == 0
    assert get_queue(app).count == 0


def test_a_burst_of_events_needs_few_jobs(app):
    from backend.queue import get_queue

    setup(app, linear())
    for i in range(30):
        accept_event({"event_type": "PING", "user_id": f"u{i}"})
    assert get_queue(app).count == 1  # one drain job serves the whole burst
    work(app)
    statuses = db.session.scalars(select(WorkflowExecution.status)).all()
    assert statuses == ["succeeded"] * 30


def test_redis_down_at_ingestion_still_accepts_and_sweeper_dispatches(app, redis_server):
    from backend.queue import _clients
    from backend.runtime.sweeper import sweep

    setup(app, linear())
    app.config["EVENT_GRACE_SECONDS"] = 0
    original = app.config["REDIS_URL"]
    dead = "redis://127.0.0.1:1/0"
    app.config["REDIS_URL"] = dead
    try:
        ev, created = accept_event({"event_type": "PING", "user_id": "u1"})
        assert created and ev.status == "received"
    finally:
        app.config["REDIS_URL"] = original
        _clients.pop(dead, None)
    from backend.queue import get_queue

    assert get_queue(app).count == 0
    assert sweep(force=True)["events"] == 1
    work(app)
    db.session.expire_all()
    assert db.session.get(EventLog, ev.id).status == "processed"
    assert db.session.scalar(select(WorkflowExecution.status)) == "succeeded"


def test_step_records_are_unique_per_seq(app):
    setup(app, graph())
    _interested()
    accept_event(message("coupon"))
    work(app)
    rows = db.session.execute(select(StepExecution.execution_id, StepExecution.seq)).all()
    assert len(rows) == len(set(rows)) == 5


def test_redaction_of_secrets_in_event_log(app):
    setup(app, linear())
    ev, _ = accept_event(
        {
            "event_type": "PING",
            "user_id": "u",
            "data": {"api_key": "k1", "nested": {"password": "p"}, "ok": 1},
        }
    )
    assert ev.payload["data"] == {"api_key": "***", "nested": {"password": "***"}, "ok": 1}


def test_coupon_fixture_graph_runs(app):
    assert COUPON["nodes"][0]["type"] == "trigger.message_received"
