"""Runs true to the contact: a retry and a wait's resume re-read it; waits record the resume."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

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


def test_a_wait_due_between_two_readings_of_the_clock_is_closed_before_its_successor(
    app, monkeypatch
):
    """The clock ticks 1 ms at every reading, starting a few ms before the wait is over:
    whichever reading first passes that time, the run either waits on (its wait still
    ``waiting``) or its wait is closed before the step after it runs."""
    wait = {"id": "wait", "type": "flow.wait", "params": {"minutes": 10}}
    note = {"id": "note", "type": "action.add_note", "params": {"text": "after the wait"}}
    setup(app, linear(wait, note))
    for user in range(8):
        accept_event({"event_type": "PING", "user_id": f"c{user}"})
    work(app)
    runs = list(db.session.scalars(select(WorkflowExecution).order_by(WorkflowExecution.id)))
    assert [run.status for run in runs] == ["waiting"] * 8

    def steps(run_id: int) -> dict:
        db.session.expire_all()
        query = select(StepExecution).filter_by(execution_id=run_id)
        return {step.node_id: step for step in db.session.scalars(query)}

    for start, run in zip(range(-6, 2), runs, strict=True):
        due = datetime.fromisoformat(run.state["frontier"][0]["not_before"])
        ticks = itertools.count(start)
        clock = lambda due=due, ticks=ticks: due + timedelta(milliseconds=next(ticks))  # noqa: E731
        monkeypatch.setitem(app.config, "RUNTIME_CLOCK", clock)
        status = advance(run.id)
        recorded = steps(run.id)
        if "note" in recorded:  # the run went on: its wait was closed first
            resumed = datetime.fromisoformat(recorded["wait"].output["resumed_at"])
            assert status == "succeeded" and recorded["wait"].status == "succeeded"
            assert recorded["note"].started_at >= resumed
        else:  # taken a moment early: it waits on, and so does its record
            assert status == "waiting" and recorded["wait"].status == "waiting"
    later = utcnow() + timedelta(hours=1)
    monkeypatch.setitem(app.config, "RUNTIME_CLOCK", lambda: later)
    for run in runs:
        advance(run.id)
        recorded = steps(run.id)
        assert (recorded["wait"].status, recorded["note"].status) == ("succeeded", "succeeded")
