"""Goals (issue 13): an event, a tag or a rule ends a contact's waiting run as ``converted``,
counted in the statistics and on the node it waited at; nothing after the wait runs."""

from __future__ import annotations

import copy
from datetime import timedelta

from runtime_helpers import linear, setup, work

WAIT = {"id": "wait", "type": "flow.wait", "params": {"hours": 3}}
SEND = {"id": "send", "type": "action.send_message", "params": {"text": "come back!"}}
GOALS = [
    {"id": "bought", "event_type": "ORDER_PAID"},
    {"id": "vip", "tag": "vip"},
    {
        "id": "score",
        "rules": {"all": [{"field": "user.fields.score", "op": "greater", "value": 5}]},
    },
]


def _event(event_type: str, user: str):
    from backend.runtime.ingest import accept_event

    accept_event({"event_type": event_type, "user_id": user, "data": {}})


def _runs(user: str):
    from backend.extensions import db
    from backend.models import Contact, WorkflowExecution

    db.session.expire_all()
    contact = db.session.query(Contact).filter_by(external_id=user).one()
    return (
        db.session.query(WorkflowExecution)
        .filter_by(contact_id=contact.id)
        .order_by(WorkflowExecution.id)
        .all()
    )


def test_an_event_goal_ends_the_waiting_run_as_a_conversion(app, viewer):
    from backend.extensions import db
    from backend.models import OutboundMessage, StepExecution
    from backend.runtime.sweeper import sweep

    (wf,) = setup(app, linear(WAIT, SEND, goals=GOALS), event_types=("PING", "ORDER_PAID"))
    _event("PING", "a")
    _event("PING", "b")
    work(app)
    _event("ORDER_PAID", "a")
    work(app)
    (run_a,), (run_b,) = _runs("a"), _runs("b")
    assert (run_a.status, run_b.status) == ("converted", "waiting")
    last = (
        db.session.query(StepExecution)
        .filter_by(execution_id=run_a.id)
        .order_by(StepExecution.seq.desc())
        .first()
    )
    assert (last.node_id, last.status, last.output["goal"]) == ("wait", "converted", "bought")
    stats = viewer.get("/workflows/statistics/", workflow_id=wf.id).json
    assert stats["executions"]["conversions"] == 1
    nodes = viewer.get(f"/workflows/{wf.id}/node-stats/").json["nodes"]
    assert nodes["wait"] == {
        "entered": 2,
        "succeeded": 0,
        "failed": 0,
        "waiting": 1,
        "skipped": 0,
        "converted": 1,
    }
    # Time passes: the converted run does not resume; the other one sends.
    past = run_a.created_at - timedelta(minutes=1)
    for run in (run_a, run_b):
        state = copy.deepcopy(run.state)
        state["frontier"] = [{**i, "not_before": past.isoformat()} for i in state["frontier"]]
        run.state, run.resume_at = state, (past if run is run_b else None)
    db.session.commit()
    sweep(force=True)
    work(app)
    sent = [m.execution_id for m in db.session.query(OutboundMessage)]
    assert sent == [run_b.id] and _runs("a")[0].status == "converted"


def test_tag_and_rule_goals_are_checked_on_the_contacts_next_event(app):
    from backend.extensions import db
    from backend.services import contacts

    setup(app, linear(WAIT, SEND, goals=GOALS), event_types=("PING", "ORDER_PAID"))
    for user in ("a", "b", "c"):
        _event("PING", user)
    work(app)
    contacts.add_tag(contacts.get_or_create_contact("a", {}), "vip")
    contacts.get_or_create_contact("b", {}).fields = {"score": 9}
    db.session.commit()
    for user in ("a", "b", "c"):
        _event("MESSAGE_RECEIVED", user)  # any event of the contact re-checks the goals
    work(app)
    assert [r.status for r in _runs("a")] == ["converted"]
    assert [r.status for r in _runs("b")] == ["converted"]
    assert [r.status for r in _runs("c")] == ["waiting"]


def _due_now(run) -> None:
    """Make a waiting run due (its wait's time has come), as the clock moving on would."""
    past = run.created_at - timedelta(minutes=1)
    state = copy.deepcopy(run.state)
    state["frontier"] = [{**i, "not_before": past.isoformat()} for i in state["frontier"]]
    run.state, run.resume_at = state, past


def test_a_goal_reached_while_waiting_ends_the_run_when_it_resumes(app, viewer):
    """No event of the contact comes while it waits: the resume itself checks the goals."""
    from backend.extensions import db
    from backend.models import OutboundMessage, StepExecution
    from backend.runtime.sweeper import sweep
    from backend.services import contacts

    (wf,) = setup(app, linear(WAIT, SEND, goals=GOALS), event_types=("PING", "ORDER_PAID"))
    _event("PING", "a")
    _event("PING", "b")
    work(app)
    contacts.get_or_create_contact("a", {}).fields = {"score": 9}  # no event: a direct change
    db.session.commit()
    (run_a,), (run_b,) = _runs("a"), _runs("b")
    _due_now(run_a)
    _due_now(run_b)
    db.session.commit()
    sweep(force=True)
    work(app)
    (run_a,), (run_b,) = _runs("a"), _runs("b")
    assert (run_a.status, run_b.status) == ("converted", "succeeded")
    assert [m.execution_id for m in db.session.query(OutboundMessage)] == [run_b.id]
    last = (
        db.session.query(StepExecution)
        .filter_by(execution_id=run_a.id)
        .order_by(StepExecution.seq.desc())
        .first()
    )
    assert (last.node_id, last.status, last.output["goal"]) == ("wait", "converted", "score")
    stats = viewer.get("/workflows/statistics/", workflow_id=wf.id).json
    assert stats["executions"]["conversions"] == 1


def test_an_event_goal_that_came_before_the_run_waited_ends_it_when_it_resumes(app):
    """The goal event is in the same drain batch as the event that starts the run, so the run
    is not waiting yet when it is processed: the resume finds it among the contact's events."""
    from backend.extensions import db
    from backend.models import EventLog, OutboundMessage, StepExecution
    from backend.runtime.sweeper import sweep

    setup(app, linear(WAIT, SEND, goals=GOALS), event_types=("PING", "ORDER_PAID"))
    _event("PING", "a")
    _event("ORDER_PAID", "a")  # before the run exists: one batch
    _event("PING", "b")
    _event("PING", "c")
    work(app)
    _event("ORDER_PAID", "b")  # while b's run waits: checked at once, as before
    work(app)
    (run_a,), (run_b,), (run_c,) = _runs("a"), _runs("b"), _runs("c")
    assert (run_a.status, run_b.status, run_c.status) == ("waiting", "converted", "waiting")
    _due_now(run_a)
    _due_now(run_c)
    db.session.commit()
    sweep(force=True)
    work(app)
    (run_a,), (run_c,) = _runs("a"), _runs("c")
    assert (run_a.status, run_c.status) == ("converted", "succeeded")
    assert [m.execution_id for m in db.session.query(OutboundMessage)] == [run_c.id]
    last = (
        db.session.query(StepExecution)
        .filter_by(execution_id=run_a.id)
        .order_by(StepExecution.seq.desc())
        .first()
    )
    paid = db.session.query(EventLog).filter_by(event_type="ORDER_PAID", user_id="a").one()
    assert (last.node_id, last.status, last.output["goal"]) == ("wait", "converted", "bought")
    assert last.input == {"event_id": paid.id}


def test_goal_settings_are_validated(api):
    graph = linear(
        WAIT,
        SEND,
        goals=[
            {"id": "x"},
            {"id": "y", "rules": {"all": [{"field": "user.tags", "op": "contans", "value": "a"}]}},
        ],
    )
    report = api.post("/workflows/validate/", graph).json
    fields = {e.get("field") for e in report["errors"]}
    assert (
        report["ok"] is False
        and {"settings.goals[0]", "settings.goals[1].rules.all[0].op"} <= fields
    )


def test_a_message_inside_quiet_hours_waits_in_the_runtime(app):
    from backend.extensions import db
    from backend.models import OutboundMessage, utcnow

    now = utcnow()
    window = {
        "start": (now - timedelta(hours=1)).strftime("%H:%M"),
        "end": (now + timedelta(hours=2)).strftime("%H:%M"),
    }
    setup(app, linear(SEND, quiet_hours=window, timezone="UTC"))
    _event("PING", "a")
    work(app)
    (run,) = _runs("a")
    assert run.status == "waiting" and db.session.query(OutboundMessage).count() == 0
    opens = now + timedelta(hours=2)
    assert abs((run.resume_at - opens).total_seconds()) < 120
