"""``statistics/?workflow_id=`` counts only that workflow's events (issue 8 fix)."""

from __future__ import annotations

from apikit import simple_graph


def test_statistics_for_one_workflow_count_only_its_events(api):
    from backend.extensions import db
    from backend.models import EventLog, WorkflowExecution

    ids = [
        api.post("/workflows/", {"name": n, "graph": simple_graph()}).json["id"] for n in ("A", "B")
    ]
    events = []
    for key, status in (
        ("a1", "processed"),
        ("a2", "failed"),
        ("b1", "processed"),
        ("none", "processed"),
    ):
        row = EventLog(
            event_type="MESSAGE_RECEIVED",
            idempotency_key=key,
            status=status,
            payload={"event_type": "MESSAGE_RECEIVED"},
        )
        db.session.add(row)
        events.append(row)
    db.session.flush()
    for workflow_id, event in ((ids[0], events[0]), (ids[0], events[1]), (ids[1], events[2])):
        db.session.add(
            WorkflowExecution(
                workflow_id=workflow_id,
                event_id=event.id,
                trigger_node_id="start",
                status="succeeded",
            )
        )
    db.session.commit()
    overall = api.get("/workflows/statistics/").json
    assert overall["events"]["by_status"] == {"processed": 3, "failed": 1}
    only_a = api.get("/workflows/statistics/", workflow_id=ids[0]).json
    assert only_a["events"]["by_status"] == {"processed": 1, "failed": 1}
    only_b = api.get("/workflows/statistics/", workflow_id=ids[1]).json
    assert only_b["events"]["by_status"] == {"processed": 1}
    assert api.get("/workflows/statistics/", workflow_id=999).json["events"]["by_status"] == {}
