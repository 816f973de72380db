"""Schedules that target contacts: one run per tagged / matching contact, with the limits."""

from __future__ import annotations

from datetime import timedelta

import pytest
from runtime_helpers import linear, setup, work
from sqlalchemy import select, update

from backend.extensions import db
from backend.models import Contact, EventLog, Trigger, WorkflowExecution, utcnow
from backend.runtime.schedules import fire_schedules
from backend.services import contacts
from graph_engine import validate

pytestmark = [pytest.mark.redis]
GREET = {"id": "greet", "type": "action.add_tag", "params": {"tag": "greeted"}}


def _schedule(**params) -> dict:
    return {"id": "t", "type": "trigger.schedule", "params": {"cron": "0 10 * * *", **params}}


def _people(**tags_by_id) -> None:
    for external_id, (tags, fields) in tags_by_id.items():
        contact = contacts.get_or_create_contact(external_id)
        contact.fields = fields
        for tag in tags:
            contacts.add_tag(contact, tag)
    db.session.commit()


def _fire(app) -> None:
    db.session.execute(update(Trigger).values(next_fire_at=utcnow() - timedelta(minutes=1)))
    db.session.commit()
    fire_schedules()
    work(app)
    db.session.expire_all()


def _greeted() -> list[str]:
    rows = db.session.scalars(select(Contact).order_by(Contact.external_id))
    return [c.external_id for c in rows if "greeted" in c.tag_names]


def test_one_run_per_tagged_contact_read_in_pages(app):
    setup(app, linear(GREET, trigger=_schedule(target_tag="vip")))
    _people(a=(["vip"], {}), b=(["vip"], {}), c=([], {}), d=(["vip"], {}))
    app.config["SCHEDULE_BATCH_SIZE"] = 2
    try:
        _fire(app)
    finally:
        app.config["SCHEDULE_BATCH_SIZE"] = 500
    assert _greeted() == ["a", "b", "d"]
    runs = db.session.scalars(select(WorkflowExecution)).all()
    assert len(runs) == 3 and {r.status for r in runs} == {"succeeded"}
    users = sorted(
        e.user_id for e in db.session.scalars(select(EventLog).filter_by(event_type="SCHEDULE"))
    )
    assert users == ["a", "b", "d"]


def test_rules_choose_the_contacts_and_limits_apply_per_contact(app):
    rules = {"all": [{"field": "user.fields.city", "op": "equals", "value": "Tehran"}]}
    setup(app, linear(GREET, trigger=_schedule(target_rules=rules), reentry="once"))
    _people(a=([], {"city": "Tehran"}), b=([], {"city": "Shiraz"}), c=([], {"city": "Tehran"}))
    _fire(app)
    assert _greeted() == ["a", "c"]
    _fire(app)  # the next day's tick: re-entry "once" skips both
    assert db.session.scalar(select(db.func.count(WorkflowExecution.id))) == 2
    skipped = [
        m
        for e in db.session.scalars(select(EventLog))
        for m in e.matched_workflows
        if m.get("skipped")
    ]
    assert len(skipped) == 2


def test_a_schedule_without_target_runs_once_without_a_contact(app):
    note = {"id": "note", "type": "action.add_note", "params": {"text": "daily"}}
    setup(app, linear(note, trigger=_schedule()))
    _people(a=(["vip"], {}))
    _fire(app)
    (run,) = db.session.scalars(select(WorkflowExecution)).all()
    assert run.status == "succeeded" and run.contact_id is None


def test_contact_actions_after_a_target_less_schedule_fail_validation():
    report = validate(linear(GREET, trigger=_schedule()))
    (error,) = [e for e in report.errors if e.code == "needs_contact"]
    assert error.node_id == "greet" and "trigger t" in error.message
    assert validate(linear(GREET, trigger=_schedule(target_tag="vip"))).ok
