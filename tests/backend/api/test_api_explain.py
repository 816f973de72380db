"""``/contacts/<id>/explain/`` (issue 13): why did / didn't a contact's events start each workflow,
rebuilt from the stored event log, tag history and runs (also for a month-old event)."""

from __future__ import annotations

import copy
from datetime import timedelta

from runtime_helpers import COUPON, graph, message, setup, work

VIP = {
    "format": "workflow-graph/v1",
    "name": "VIP only",
    "settings": {"reentry": "once"},
    "nodes": [
        {
            "id": "t",
            "type": "trigger.message_received",
            "params": {
                "filter": {"all": [{"field": "user.tags", "op": "contains", "value": "vip"}]}
            },
        },
        {"id": "send", "type": "action.send_message", "params": {"text": "VIP hello"}},
    ],
    "edges": [{"id": "e1", "source": "t", "target": "send"}],
}


def _once_coupon() -> dict:
    out = graph(COUPON, reentry="once")
    out["name"] = "Coupon once"
    return out


def _scenario(app):
    """Two events of a contact without the ``interested`` tag: "coupon" (runs, condition
    false) and "hello" (matches nothing)."""
    from backend.extensions import db
    from backend.runtime.ingest import accept_event
    from backend.services import contacts

    coupon, vip = setup(app, graph(), VIP)
    contact = contacts.get_or_create_contact("c1", {"first_name": "Sara"})
    db.session.commit()
    accept_event(message("a coupon please"))
    accept_event(message("hello"))
    work(app)
    return coupon, vip, contact


def _by_workflow(event: dict) -> dict:
    return {w["workflow_id"]: w for w in event["workflows"]}


def test_explain_why_a_contact_without_the_tag_got_nothing(app, viewer):
    coupon, vip, contact = _scenario(app)
    out = viewer.get(f"/contacts/{contact.id}/explain/").json
    assert out["contact"]["external_id"] == "c1"
    hello, coupon_event = out["events"]  # newest first
    assert coupon_event["data"]["content"] == "a coupon please"
    ran = _by_workflow(coupon_event)[coupon.id]
    assert ran["outcome"] == "ran" and ran["run"]["status"] == "succeeded"
    assert [p["node_id"] for p in ran["run"]["path"]] == ["trigger", "interested"]
    (cond,) = ran["run"]["conditions"]
    assert cond["node_id"] == "interested" and cond["port"] == "false"
    assert [(f["field"], f["expected"], f["actual"]) for f in cond["failing"]] == [
        ("user.tags", "interested", [])
    ]
    assert ran["run"]["messages"] == []
    no_match = _by_workflow(hello)[coupon.id]
    assert (no_match["outcome"], no_match["reason"]) == ("not_matched", "filter")
    (leaf,) = no_match["triggers"][0]["failing"]
    assert (leaf["field"], leaf["actual"]) == ("event.data.content", "hello")
    vip_entry = _by_workflow(hello)[vip.id]
    assert (
        vip_entry["triggers"][0]["failing"][0]["text"] == "user.tags contains 'vip': no (value: [])"
    )


def test_month_old_event_is_explained_with_the_tags_the_contact_had_then(app, viewer):
    from backend.extensions import db
    from backend.models import EventLog, WorkflowExecution, WorkflowVersion, utcnow
    from backend.services import contacts

    coupon, vip, contact = _scenario(app)
    month_ago = utcnow() - timedelta(days=29)
    for model, column in (
        (EventLog, "received_at"),
        (WorkflowExecution, "created_at"),
        (WorkflowVersion, "created_at"),
    ):
        db.session.query(model).update(
            {column: month_ago - timedelta(minutes=5) if model is WorkflowVersion else month_ago}
        )
    contacts.add_tag(db.session.get(type(contact), contact.id), "vip")  # a tag added today
    db.session.commit()
    out = viewer.get(f"/contacts/{contact.id}/explain/").json
    # Today's tag change is an event of its own (TAG_ADDED); the two messages are a month old.
    messages = [e for e in out["events"] if e["event_type"] == "MESSAGE_RECEIVED"]
    assert len(messages) == 2 and "vip" in out["contact"]["tags"]
    assert [e["event_type"] for e in out["events"]].count("TAG_ADDED") == 1
    then = _by_workflow(messages[0])[vip.id]
    assert then["outcome"] == "not_matched"
    assert then["triggers"][0]["failing"][0]["actual"] == []  # the tags of 29 days ago
    recent = viewer.get(f"/contacts/{contact.id}/explain/", days=7).json["events"]
    assert [e["event_type"] for e in recent] == ["TAG_ADDED"]


def test_limits_that_skipped_a_match_and_pending_waits(app, viewer):
    from backend.extensions import db
    from backend.models import EventLog
    from backend.runtime.ingest import accept_event
    from backend.services import contacts

    waits = copy.deepcopy(_once_coupon())
    waits["nodes"][1] = {"id": "interested", "type": "flow.wait", "params": {"hours": 1}}
    waits["edges"][1].pop("source_port")
    (wf,) = setup(app, waits)
    contact = contacts.get_or_create_contact("c1", {"first_name": "Sara"})
    db.session.commit()
    accept_event(message("coupon one"))
    work(app)
    accept_event(message("coupon two"))
    work(app)
    second = db.session.query(EventLog).order_by(EventLog.id.desc()).first()
    out = viewer.get(f"/contacts/{contact.id}/explain/", event_id=second.id).json
    (event,) = out["events"]
    entry = _by_workflow(event)[wf.id]
    assert (entry["outcome"], entry["reason"]) == ("skipped", "reentry_once")
    assert entry["triggers"][0]["matched"] is True
    (pending,) = out["pending"]
    assert pending["workflow_id"] == wf.id and pending["resume_at"]
    first = viewer.get(f"/contacts/{contact.id}/explain/", event_id=second.id - 1).json
    run = _by_workflow(first["events"][0])[wf.id]["run"]
    assert run["status"] == "waiting" and run["pending"]["node_id"] == "interested"


def test_explain_bad_input_is_4xx(app, viewer):
    from backend.extensions import db
    from backend.services import contacts

    _, _, contact = _scenario(app)
    other = contacts.get_or_create_contact("c2", {})
    db.session.commit()
    assert viewer.get("/contacts/999999/explain/").status_code == 404
    missing = viewer.get(f"/contacts/{contact.id}/explain/", event_id=999999)
    assert missing.status_code == 404 and missing.json["field"] == "event_id"
    from backend.models import EventLog

    event_id = db.session.query(EventLog.id).filter_by(user_id="c1").first()[0]
    foreign = viewer.get(f"/contacts/{other.id}/explain/", event_id=event_id)
    assert foreign.status_code == 400 and foreign.json["field"] == "event_id"
    assert viewer.get(f"/contacts/{contact.id}/explain/", days=0).status_code == 400
