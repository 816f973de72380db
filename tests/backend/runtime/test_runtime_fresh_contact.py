"""Runs true to the contact: a retry and a wait's resume re-read it; waits record the resume."""

from __future__ import annotations

from datetime import timedelta

import pytest
from runtime_helpers import linear, setup, work
from sqlalchemy import select, update

from backend.extensions import db
from backend.models import Note, OutboundMessage, StepExecution, WorkflowExecution, utcnow
from backend.runtime import run_control
from backend.runtime.ingest import accept_event
from backend.runtime.runner import advance
from backend.services import contacts

pytestmark = [pytest.mark.redis]


def _run() -> WorkflowExecution:
    db.session.expire_all()
    return db.session.scalar(select(WorkflowExecution))


def test_a_retry_reads_the_contact_as_it_is_now(app):
    mail = {
        "id": "mail",
        "type": "action.send_email",
        "params": {"subject": "Hi {{ user.first_name }}", "body": "x"},
    }
    setup(app, linear(mail))
    contacts.get_or_create_contact("c1", {"first_name": "Sara"})
    db.session.commit()
    accept_event({"event_type": "PING", "user_id": "c1"})
    work(app)
    run = _run()
    assert run.status == "failed" and "no email address" in run.error
    contact = contacts.get_or_create_contact("c1")
    contact.email, contact.first_name = "sara@example.com", "Sarah"  # the operator fixes it
    db.session.commit()
    run_control.retry(run)
    work(app)
    assert _run().status == "succeeded"
    sent = db.session.scalar(select(OutboundMessage))
    assert (sent.to, sent.subject) == ("sara@example.com", "Hi Sarah")


def test_a_resumed_wait_sees_new_tags_and_records_the_resume(app):
    wait = {"id": "wait", "type": "flow.wait", "params": {"minutes": 10}}
    vip = {
        "id": "vip",
        "type": "logic.condition",
        "params": {"rules": {"all": [{"field": "user.tags", "op": "contains", "value": "vip"}]}},
    }
    note = {"id": "note", "type": "action.add_note", "params": {"text": "vip now"}}
    graph = linear(wait, vip, note)
    graph["edges"][-1]["source_port"] = "true"
    setup(app, graph)
    contacts.get_or_create_contact("c1")
    db.session.commit()
    accept_event({"event_type": "PING", "user_id": "c1"})
    work(app)
    run = _run()
    assert run.status == "waiting"
    contacts.add_tag(contacts.get_or_create_contact("c1"), "vip")  # tagged while waiting
    # Ten minutes pass: move the wait's time into the past (the clock is not slept on).
    state = dict(run.state)
    past = (utcnow() - timedelta(seconds=1)).isoformat()
    state["frontier"] = [{**item, "not_before": past} for item in state["frontier"]]
    db.session.execute(update(WorkflowExecution).values(state=state, resume_at=utcnow()))
    db.session.commit()
    assert advance(run.id) == "succeeded"
    assert db.session.scalar(select(Note.text)) == "vip now"
    step = db.session.scalar(select(StepExecution).filter_by(node_id="wait"))
    assert step.status == "succeeded" and step.output["resumed_at"]
    assert step.output["resume_at"] and step.finished_at is not None
