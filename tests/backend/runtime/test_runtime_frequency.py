"""Frequency caps (issue 13): at most N messages per contact per day across workflows; capped
sends are recorded with the reason; a higher-priority journey keeps the last slot."""

from __future__ import annotations

import copy
from datetime import timedelta

from runtime_helpers import linear, setup, work

SEND = {"id": "send", "type": "action.send_message", "params": {"text": "hello"}}
WAIT = {"id": "wait", "type": "flow.wait", "params": {"hours": 3}}


def _event(event_type: str, user: str = "a"):
    from backend.runtime.ingest import accept_event

    accept_event({"event_type": event_type, "user_id": user, "data": {}})


def _messages():
    from backend.extensions import db
    from backend.models import OutboundMessage

    db.session.expire_all()
    return [
        (m.execution_id, m.status, m.error)
        for m in db.session.query(OutboundMessage).order_by(OutboundMessage.id)
    ]


def test_sends_over_the_cap_are_recorded_as_capped_not_sent(app):
    from backend.extensions import db
    from backend.models import WorkflowExecution

    app.config["FREQUENCY_CAPS"] = '{"message": 2}'
    try:
        setup(app, linear(SEND))
        for _ in range(3):
            _event("PING")
        _event("PING", "b")  # another contact has its own budget
        work(app)
    finally:
        app.config["FREQUENCY_CAPS"] = ""
    statuses = [status for _, status, _ in _messages()]
    assert sorted(statuses) == sorted(["captured", "captured", "captured", "capped"])
    (capped,) = [m for m in _messages() if m[1] == "capped"]
    assert capped[2] == "frequency cap: 2 of 2 message sends in the last 24 hours"
    runs = db.session.query(WorkflowExecution).all()
    assert [r.status for r in runs] == ["succeeded"] * 4  # a capped send is not a failure


def test_a_higher_priority_journey_keeps_the_last_slot(app):
    from backend.extensions import db
    from backend.models import WorkflowExecution, utcnow
    from backend.runtime.sweeper import sweep

    high = linear(
        WAIT,
        SEND,
        trigger={"id": "t", "type": "trigger.event", "params": {"event_type": "ORDER_PAID"}},
        priority=5,
    )
    high["name"] = "high"
    app.config["FREQUENCY_CAPS"] = '{"message": 1}'
    try:
        hi, low = setup(app, high, linear(SEND), event_types=("PING", "ORDER_PAID"))
        _event("ORDER_PAID")
        work(app)
        _event("PING")
        work(app)
        ((low_run, status, reason),) = _messages()
        assert status == "capped" and reason.endswith(f"kept for workflow {hi.id}")
        waiting = db.session.query(WorkflowExecution).filter_by(status="waiting").one()
        past = utcnow() - timedelta(minutes=1)
        state = copy.deepcopy(waiting.state)
        state["frontier"] = [{**i, "not_before": past.isoformat()} for i in state["frontier"]]
        waiting.state, waiting.resume_at = state, past
        db.session.commit()
        sweep(force=True)
        work(app)
    finally:
        app.config["FREQUENCY_CAPS"] = ""
    assert [(run, status) for run, status, _ in _messages()] == [
        (low_run, "capped"),
        (waiting.id, "captured"),
    ]
