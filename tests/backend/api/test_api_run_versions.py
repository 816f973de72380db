"""Runs stay on the graph version they started on; waiting runs move to a newer version only on
request and only where their next node still exists (issue 13)."""

from __future__ import annotations

import copy
from datetime import timedelta

from runtime_helpers import linear, setup, work

WAIT = {"id": "wait", "type": "flow.wait", "params": {"hours": 3}}


def _send(node_id: str, text: str) -> dict:
    return {"id": node_id, "type": "action.send_message", "params": {"text": text}}


def _event(app, user: str):
    from backend.extensions import db
    from backend.models import WorkflowExecution
    from backend.runtime.ingest import accept_event

    event, _ = accept_event({"event_type": "PING", "user_id": user, "data": {}})
    work(app)
    db.session.expire_all()
    # The event's run (ids are taken from the sequence ahead, a chunk per process: the
    # highest id need not be the newest run)
    return db.session.query(WorkflowExecution).filter_by(event_id=event.id).one()


def _publish(api, wf_id: int, graph: dict) -> int:
    resp = api.patch(f"/workflows/{wf_id}/", {"graph": graph})
    assert resp.status_code == 200, resp.json
    return resp.json["version"]


def _resume_all(app):
    """As if the waits were over: move every waiting run's resume time to the past."""
    from backend.extensions import db
    from backend.models import WorkflowExecution, utcnow
    from backend.runtime.sweeper import sweep

    past = utcnow() - timedelta(minutes=1)
    for run in db.session.query(WorkflowExecution).filter_by(status="waiting"):
        state = copy.deepcopy(run.state)
        state["frontier"] = [{**i, "not_before": past.isoformat()} for i in state["frontier"]]
        run.state, run.resume_at = state, past
    db.session.commit()
    sweep(force=True)
    work(app)


def test_waiting_runs_finish_on_their_version_or_move_where_their_node_exists(app, api):
    from backend.extensions import db
    from backend.models import OutboundMessage

    (wf,) = setup(app, linear(WAIT, _send("send", "v1 text")))
    old = _event(app, "a")  # waits on v1, next node "send"
    graph = linear(WAIT, _send("greet", "v2 text"))
    assert _publish(api, wf.id, graph) == 2
    mid = _event(app, "b")  # waits on v2, next node "greet"
    assert (old.workflow_version, mid.workflow_version) == (1, 2)
    graph["nodes"][2]["params"]["text"] = "v3 text"
    assert _publish(api, wf.id, graph) == 3
    offer = api.get(f"/workflows/{wf.id}/waiting-runs/").json
    assert offer["current_version"] == 3
    v1, v2 = offer["versions"]
    assert (v1["version"], v1["waiting"], v1["movable"]) == (1, 1, 0)
    assert v1["pinned"] == [{"execution_id": old.id, "missing_nodes": ["send"]}]
    assert (v2["version"], v2["waiting"], v2["movable"], v2["pinned"]) == (2, 1, 1, [])
    moved = api.post(f"/workflows/{wf.id}/migrate-runs/").json
    assert moved["migrated"] == [mid.id]
    assert [p["execution_id"] for p in moved["pinned"]] == [old.id]
    _resume_all(app)
    texts = {m.execution_id: m.text for m in db.session.query(OutboundMessage)}
    assert texts == {old.id: "v1 text", mid.id: "v3 text"}
    assert api.get(f"/workflows/{wf.id}/waiting-runs/").json["versions"] == []


def test_runs_left_alone_finish_on_their_own_version(app, api):
    from backend.extensions import db
    from backend.models import OutboundMessage

    (wf,) = setup(app, linear(WAIT, _send("send", "v1 text")))
    run = _event(app, "a")
    _publish(api, wf.id, linear(WAIT, _send("send", "v2 text")))
    assert api.get(f"/workflows/{wf.id}/waiting-runs/").json["versions"][0]["movable"] == 1
    _resume_all(app)
    assert [m.text for m in db.session.query(OutboundMessage).filter_by(execution_id=run.id)] == [
        "v1 text"
    ]


def test_migrate_bad_input(app, api, viewer):
    (wf,) = setup(app, linear(WAIT, _send("send", "x")))
    assert api.post(f"/workflows/{wf.id + 99}/migrate-runs/").status_code == 404
    assert api.post(f"/workflows/{wf.id}/migrate-runs/", {"from_version": 0}).status_code == 400
    assert api.post(f"/workflows/{wf.id}/migrate-runs/", {"x": 1}).status_code == 400
    assert viewer.post(f"/workflows/{wf.id}/migrate-runs/").status_code == 403
    assert viewer.get(f"/workflows/{wf.id}/waiting-runs/").status_code == 200
