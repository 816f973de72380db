"""/workflow-executions/ (filters, steps, cancel, retry) and /trigger-event-logs/."""

from __future__ import annotations

from datetime import timedelta

import pytest
from apikit import simple_graph


@pytest.fixture
def runs(api):
    """Two workflows, a contact and four runs in different states."""
    from backend.extensions import db
    from backend.models import Contact, StepExecution, WorkflowExecution, utcnow

    a = api.post("/workflows/", {"name": "A", "graph": simple_graph()}).json["id"]
    b = api.post("/workflows/", {"name": "B", "graph": simple_graph()}).json["id"]
    contact = Contact(external_id="c1", channel_ids={}, fields={})
    db.session.add(contact)
    db.session.flush()
    old = utcnow() - timedelta(days=3)
    rows = [
        WorkflowExecution(
            workflow_id=a,
            trigger_node_id="start",
            status="succeeded",
            contact_id=contact.id,
            duration_ms=12.5,
        ),
        WorkflowExecution(
            workflow_id=a,
            trigger_node_id="start",
            status="failed",
            error="boom",
            created_at=old,
            state={"status": "failed", "frontier": []},
        ),
        WorkflowExecution(
            workflow_id=b,
            trigger_node_id="start",
            status="waiting",
            resume_at=utcnow() + timedelta(minutes=10),
        ),
        WorkflowExecution(workflow_id=b, trigger_node_id="start", status="succeeded"),
    ]
    db.session.add_all(rows)
    db.session.flush()
    db.session.add(
        StepExecution(
            execution_id=rows[0].id,
            seq=1,
            node_id="start",
            node_type="trigger.message_received",
            status="succeeded",
            output={"event_type": "MESSAGE_RECEIVED"},
        )
    )
    db.session.add(
        StepExecution(
            execution_id=rows[0].id,
            seq=2,
            node_id="send",
            node_type="action.send_message",
            status="succeeded",
            input={"text": "Hi"},
            port="out",
            duration_ms=3.0,
        )
    )
    db.session.commit()
    return {"a": a, "b": b, "ids": [r.id for r in rows], "contact": contact.id}


def _ids(api, **query):
    return [r["id"] for r in api.get("/workflow-executions/", **query).json["results"]]


def test_filters(api, runs):
    ids = runs["ids"]
    assert _ids(api) == sorted(ids, reverse=True)
    assert _ids(api, workflow=runs["a"]) == [ids[1], ids[0]]
    assert _ids(api, status="waiting") == [ids[2]]
    assert _ids(api, contact="c1") == [ids[0]]
    assert _ids(api, contact_id=runs["contact"]) == [ids[0]]
    yesterday = "2000-01-01T00:00:00Z"
    assert len(_ids(api, created_after=yesterday)) == 4
    from backend.models import utcnow

    cutoff = (utcnow() - timedelta(days=1)).isoformat()
    assert _ids(api, created_before=cutoff) == [ids[1]]
    assert api.get("/workflow-executions/", created_after="yesterday").status_code == 400
    assert api.get("/workflow-executions/", status="exploded").status_code == 400


def test_detail_has_steps(api, runs):
    detail = api.get(f"/workflow-executions/{runs['ids'][0]}/").json
    assert [s["node_id"] for s in detail["steps"]] == ["start", "send"]
    assert detail["steps"][1]["input"] == {"text": "Hi"} and detail["contact_external_id"] == "c1"
    assert detail["workflow_name"] == "A"
    assert "steps" not in api.get("/workflow-executions/").json["results"][0]
    assert api.get("/workflow-executions/424242/").status_code == 404


def test_cancel_waiting_run_and_conflicts(api, runs):
    waiting, done = runs["ids"][2], runs["ids"][0]
    resp = api.post(f"/workflow-executions/{waiting}/cancel/")
    assert resp.status_code == 200 and resp.json["status"] == "cancelled"
    assert api.post(f"/workflow-executions/{waiting}/cancel/").status_code == 409
    assert api.post(f"/workflow-executions/{done}/cancel/").status_code == 409
    assert api.post(f"/workflow-executions/{done}/retry/").status_code == 409


def test_retry_failed_run(api, runs):
    failed = runs["ids"][1]
    resp = api.post(f"/workflow-executions/{failed}/retry/")
    assert resp.status_code == 202, resp.json
    assert resp.json["status"] in ("pending", "running", "succeeded")


def test_viewer_reads_but_cannot_cancel(viewer, runs):
    assert viewer.get("/workflow-executions/").status_code == 200
    assert viewer.post(f"/workflow-executions/{runs['ids'][2]}/cancel/").status_code == 403


def test_event_logs_filters(api):
    from backend.extensions import db
    from backend.models import EventLog, utcnow

    old = utcnow() - timedelta(days=2)
    db.session.add_all(
        [
            EventLog(
                event_type="MESSAGE_RECEIVED",
                idempotency_key="k1",
                payload={"data": {}},
                status="processed",
                user_id="u1",
                matched_workflows=[{"workflow_id": 1}],
            ),
            EventLog(
                event_type="USER_CREATED",
                idempotency_key="k2",
                payload={},
                status="received",
                received_at=old,
                matched_workflows=[],
            ),
        ]
    )
    db.session.commit()

    def keys(**q):
        return [e["idempotency_key"] for e in api.get("/trigger-event-logs/", **q).json["results"]]

    assert keys() == ["k2", "k1"]
    assert keys(event_type="USER_CREATED") == ["k2"]
    assert keys(status="processed") == ["k1"]
    assert keys(user_id="u1") == ["k1"]
    assert keys(created_after=(utcnow() - timedelta(days=1)).isoformat()) == ["k1"]
    first = api.get("/trigger-event-logs/").json["results"][1]
    detail = api.get(f"/trigger-event-logs/{first['id']}/").json
    assert detail["matched_workflows"] == [{"workflow_id": 1}]
    assert api.get("/trigger-event-logs/", status="weird").status_code == 400
    assert api.get("/trigger-event-logs/9999/").status_code == 404
