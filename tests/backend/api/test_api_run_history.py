"""What was sent and why (issue 8): outbound messages, notes, the contact timeline with tag
changes, execution detail with its graph, run filters, and per-node counts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from apikit import coupon_graph
from runtime_helpers import coupon_run, graph
from sqlalchemy import select

pytestmark = [pytest.mark.redis]


def test_outbound_messages_and_notes_lists_filter_and_viewer_reads(app, viewer):
    wf, contact_id, run = coupon_run(app)
    page = viewer.get("/outbound-messages/", contact_id=contact_id).json
    assert page["count"] == 1
    (item,) = page["results"]
    assert (item["text"], item["status"], item["channel"], item["node_id"]) == (
        "Sara, your code: SAVE10",
        "captured",
        "capture",
        "send",
    )
    assert item["execution_id"] == run.id and item["kind"] == "message"
    for query, count in (
        ({"execution_id": run.id}, 1),
        ({"channel": "capture"}, 1),
        ({"status": "sent"}, 0),
        ({"contact_id": contact_id + 1}, 0),
        ({"created_after": "2999-01-01T00:00:00Z"}, 0),
        ({"conversation_id": item["conversation_id"]}, 1),
    ):
        assert viewer.get("/outbound-messages/", **query).json["count"] == count, query
    assert viewer.get(f"/outbound-messages/{item['id']}/").json == item
    notes = viewer.get("/notes/", execution_id=run.id).json
    assert [n["text"] for n in notes["results"]] == ["coupon sent"]
    assert notes["results"][0]["contact_id"] == contact_id
    assert viewer.get("/notes/", contact_id=contact_id, channel="telegram").json["count"] == 0
    bad = viewer.get("/outbound-messages/", contact_id="abc")
    assert bad.status_code == 400 and bad.json["field"] == "contact_id"
    bad = viewer.get("/notes/", created_before="soon")
    assert bad.status_code == 400 and bad.json["field"] == "created_before"
    assert viewer.get("/notes/999/").status_code == 404


def test_timeline_lists_event_run_message_note_and_tags_newest_first(app, viewer):
    wf, contact_id, run = coupon_run(app)
    page = viewer.get(f"/contacts/{contact_id}/timeline/").json
    kinds = [item["kind"] for item in page["results"]]
    assert sorted(kinds) == sorted(["tag_added", "event", "run", "message", "tag_added", "note"])
    assert page["count"] == 6
    times = [item["at"] for item in page["results"]]
    assert times == sorted(times, reverse=True)
    by_kind = {}
    for item in page["results"]:
        by_kind.setdefault(item["kind"], []).append(item)
    assert by_kind["run"][0]["links"] == {
        "execution_id": run.id,
        "workflow_id": wf.id,
        "event_id": run.event_id,
    }
    assert by_kind["run"][0]["workflow_name"] == "Coupon"
    assert by_kind["event"][0]["data"]["content"] == "a coupon please"
    assert by_kind["message"][0]["text"] == "Sara, your code: SAVE10"
    assert by_kind["message"][0]["links"] == {"execution_id": run.id, "workflow_id": wf.id}
    tags = {t["tag"]: t for t in by_kind["tag_added"]}
    assert tags["coupon_sent"]["source"] == "runtime"
    assert tags["coupon_sent"]["links"]["execution_id"] == run.id
    assert tags["interested"]["links"] == {"execution_id": None}
    second = viewer.get(f"/contacts/{contact_id}/timeline/", page_size=4, page=2).json
    assert [i["id"] for i in second["results"]] == [i["id"] for i in page["results"][4:]]
    only = viewer.get(f"/contacts/{contact_id}/timeline/", kind="message,note").json
    assert sorted(i["kind"] for i in only["results"]) == ["message", "note"]
    bad = viewer.get(f"/contacts/{contact_id}/timeline/", kind="email")
    assert bad.status_code == 400 and bad.json["field"] == "kind"
    assert viewer.get("/contacts/999/timeline/").status_code == 404


def test_tag_changes_through_the_api_are_recorded_with_the_user(api, viewer):
    from backend.extensions import db
    from backend.models import TagChange

    contact = api.post("/contacts/", {"external_id": "t1", "tags": ["a"]}).json
    api.patch(f"/contacts/{contact['id']}/", {"tags": ["a", "b"]})
    api.patch(f"/contacts/{contact['id']}/", {"tags": ["b"]})
    api.patch(f"/contacts/{contact['id']}/", {"first_name": "no tag change"})
    rows = db.session.scalars(select(TagChange).order_by(TagChange.id)).all()
    assert [(r.tag, r.action, r.source, r.user_id) for r in rows] == [
        ("a", "added", "api", api.user.id),
        ("b", "added", "api", api.user.id),
        ("a", "removed", "api", api.user.id),
    ]
    tag_id = api.get("/tags/", search="b").json["results"][0]["id"]
    assert api.delete(f"/tags/{tag_id}/").status_code == 204
    timeline = viewer.get(f"/contacts/{contact['id']}/timeline/").json["results"]
    assert [(i["kind"], i["tag"]) for i in timeline][:1] == [("tag_removed", "b")]
    assert len(timeline) == 4


def test_execution_detail_has_the_graph_it_ran_on_and_step_shape(app, viewer, api):
    wf, contact_id, run = coupon_run(app)
    changed = graph()
    changed["nodes"][2]["params"]["text"] = "changed later"
    api.put(f"/workflows/{wf.id}/", {"name": "Coupon", "graph": changed})
    detail = viewer.get(f"/workflow-executions/{run.id}/").json
    assert detail["graph_version"] == 1
    assert (
        detail["graph"]["nodes"][2]["params"]["text"] == "{{ user.first_name }}, your code: SAVE10"
    )
    step = detail["steps"][2]
    assert {
        "id",
        "seq",
        "node_id",
        "node_type",
        "status",
        "input",
        "output",
        "error",
        "attempts",
        "started_at",
        "finished_at",
        "duration_ms",
        "resume_at",
    } <= set(step)
    assert (step["node_id"], step["attempts"], step["resume_at"]) == ("send", 1, None)


def test_execution_list_filters(app, viewer):
    from backend.extensions import db
    from backend.models import WorkflowExecution, utcnow

    wf, contact_id, run = coupon_run(app)
    db.session.add(
        WorkflowExecution(
            workflow_id=wf.id,
            trigger_node_id="trigger",
            status="failed",
            created_at=utcnow() - timedelta(days=2),
        )
    )
    db.session.commit()
    get = lambda **q: [r["id"] for r in viewer.get("/workflow-executions/", **q).json["results"]]  # noqa: E731
    assert get(contact_id=contact_id) == [run.id]
    assert get(workflow_id=wf.id, status="succeeded") == [run.id]
    assert len(get(workflow_id=wf.id)) == 2 and get(workflow_id=wf.id + 1) == []
    yesterday = (utcnow() - timedelta(days=1)).isoformat()
    assert get(created_after=yesterday) == [run.id]
    assert get(created_before=yesterday, status="failed") != []


def _steps(workflow_id, run_status, step_count, *steps, age=timedelta(0)):
    from backend.extensions import db
    from backend.models import StepExecution, WorkflowExecution, utcnow

    run = WorkflowExecution(
        workflow_id=workflow_id,
        trigger_node_id="trigger",
        status=run_status,
        step_count=step_count,
        created_at=utcnow() - age,
    )
    db.session.add(run)
    db.session.flush()
    for seq, (node_id, status) in enumerate(steps, 1):
        db.session.add(
            StepExecution(
                execution_id=run.id, seq=seq, node_id=node_id, node_type="x", status=status
            )
        )
    db.session.commit()


def test_node_stats_count_entered_and_outcomes_per_window(api, viewer):
    wf = api.post("/workflows/", {"name": "N", "graph": coupon_graph()}).json["id"]
    ok = [("trigger", "succeeded"), ("send", "succeeded"), ("wait", "waiting")]
    _steps(wf, "waiting", 3, *ok)  # waits there now
    _steps(wf, "succeeded", 4, *ok, ("mail", "succeeded"))  # passed the wait
    _steps(wf, "failed", 3, ("trigger", "succeeded"), ("send", "retrying"), ("send", "failed"))
    _steps(wf, "succeeded", 2, ("trigger", "succeeded"), ("send", "skipped"))
    _steps(wf, "succeeded", 1, ("trigger", "succeeded"), age=timedelta(days=3))
    day = viewer.get(f"/workflows/{wf}/node-stats/").json
    assert day["window"] == "24h"
    nodes = day["nodes"]
    assert nodes["trigger"] == {
        "entered": 4,
        "succeeded": 4,
        "failed": 0,
        "waiting": 0,
        "skipped": 0,
        "converted": 0,
    }
    assert nodes["send"] == {
        "entered": 4,
        "succeeded": 2,
        "failed": 1,
        "waiting": 0,
        "skipped": 1,
        "converted": 0,
    }
    assert nodes["wait"] == {
        "entered": 2,
        "succeeded": 1,
        "failed": 0,
        "waiting": 1,
        "skipped": 0,
        "converted": 0,
    }
    assert nodes["mail"]["entered"] == 1 and "tag" not in nodes
    week = viewer.get(f"/workflows/{wf}/node-stats/", window="7d").json["nodes"]
    assert week["trigger"]["entered"] == 5
    bad = viewer.get(f"/workflows/{wf}/node-stats/", window="1y")
    assert bad.status_code == 400 and bad.json["field"] == "window"
    assert viewer.get("/workflows/999/node-stats/").status_code == 404
