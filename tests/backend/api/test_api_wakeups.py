"""``/wake-ups/`` (issue 13): pending waits grouped by workflow and hour, overdue ones flagged."""

from __future__ import annotations

from datetime import timedelta

from runtime_helpers import linear, setup, work

WAIT = {"id": "wait", "type": "flow.wait", "params": {"hours": 3}}
SEND = {"id": "send", "type": "action.send_message", "params": {"text": "hi"}}


def _waiting_runs(app, n: int):
    from backend.extensions import db
    from backend.models import WorkflowExecution
    from backend.runtime.ingest import accept_event

    (wf,) = setup(app, linear(WAIT, SEND))
    for i in range(n):
        accept_event({"event_type": "PING", "user_id": f"c{i}", "data": {}})
    work(app)
    db.session.expire_all()
    runs = db.session.query(WorkflowExecution).order_by(WorkflowExecution.id).all()
    assert [r.status for r in runs] == ["waiting"] * n
    return wf, runs


def test_wakeups_group_pending_waits_by_workflow_and_hour(app, viewer):
    from backend.extensions import db
    from backend.models import utcnow

    wf, runs = _waiting_runs(app, 3)
    late = utcnow() - timedelta(hours=2)  # a worker outage: this one should have resumed
    runs[0].resume_at = late
    db.session.commit()
    out = viewer.get("/wake-ups/").json
    assert (out["pending"], out["overdue"]) == (3, 1)
    (group,) = out["workflows"]
    assert group["workflow_id"] == wf.id and group["workflow_name"] == wf.name
    assert sum(h["count"] for h in group["hours"]) == 3
    assert [h["overdue"] for h in group["hours"]][0] == 1 and len(group["hours"]) == 2
    first = out["soonest"][0]
    assert first["execution_id"] == runs[0].id and first["overdue"] is True
    assert first["node_id"] == "wait"
    assert [s["overdue"] for s in out["soonest"]] == [True, False, False]
    assert viewer.get("/wake-ups/", workflow_id=wf.id + 1).json["pending"] == 0
    assert len(viewer.get("/wake-ups/", limit=1).json["soonest"]) == 1


def test_wakeups_vanish_when_runs_resume_and_bad_query_is_400(app, viewer):
    from backend.extensions import db
    from backend.models import utcnow

    _, runs = _waiting_runs(app, 1)
    past = utcnow() - timedelta(minutes=1)  # as if the 3 hours had passed
    state = dict(runs[0].state)
    state["frontier"] = [{**item, "not_before": past.isoformat()} for item in state["frontier"]]
    runs[0].state, runs[0].resume_at = state, past
    db.session.commit()
    from backend.runtime.sweeper import sweep

    assert sweep(force=True)["runs"] == [runs[0].id]
    work(app)
    assert viewer.get("/wake-ups/").json["pending"] == 0
    bad = viewer.get("/wake-ups/", limit=9999)
    assert bad.status_code == 400 and bad.json["field"] == "limit"
    assert viewer.get("/wake-ups/", workflow_id="x").status_code == 400
