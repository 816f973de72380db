"""Internal events: tag and conversation-status changes (actions, API) reach the event log and
start other workflows; cause chains are cut; unregistered trigger events refuse activation."""

from __future__ import annotations

import pytest
from runtime_helpers import linear, setup, work
from sqlalchemy import select

from backend.extensions import db
from backend.models import EventLog, Note, WorkflowExecution
from backend.runtime.ingest import accept_event
from backend.services import contacts

pytestmark = [pytest.mark.redis]


def _events(event_type: str) -> list[EventLog]:
    db.session.expire_all()
    return list(
        db.session.scalars(select(EventLog).filter_by(event_type=event_type).order_by(EventLog.id))
    )


def _tag_trigger(tag: str, node_type: str = "trigger.tag_added") -> dict:
    return {"id": "t", "type": node_type, "params": {"tag": tag}}


def test_a_tag_added_by_an_action_starts_another_workflow(app):
    tagger = linear({"id": "tag", "type": "action.add_tag", "params": {"tag": "coupon_sent"}})
    follow = linear(
        {"id": "note", "type": "action.add_note", "params": {"text": "thanks"}},
        trigger=_tag_trigger("coupon_sent"),
    )
    first, second = setup(app, tagger, follow)
    contacts.get_or_create_contact("c1")
    db.session.commit()
    accept_event({"event_type": "PING", "user_id": "c1"})
    work(app)
    (event,) = _events("TAG_ADDED")
    tagging_run = db.session.scalar(select(WorkflowExecution).filter_by(workflow_id=first.id))
    assert event.payload["data"]["tag"] == "coupon_sent" and event.user_id == "c1"
    assert event.payload["cause"] == {"execution_id": tagging_run.id, "depth": 1}
    assert event.source == "internal" and event.status == "processed"
    (run,) = db.session.scalars(select(WorkflowExecution).filter_by(workflow_id=second.id))
    assert run.status == "succeeded" and run.event_id == event.id
    assert db.session.scalar(select(Note.text)) == "thanks"


def test_tags_changed_through_the_api_emit_added_and_removed(editor, app):
    setup(app)
    contact = editor.post("/contacts/", {"external_id": "c9", "tags": ["vip"]}).get_json()
    editor.patch(f"/contacts/{contact['id']}/", {"tags": ["gold"]})
    added = [e.payload["data"]["tag"] for e in _events("TAG_ADDED")]
    removed = [e.payload["data"]["tag"] for e in _events("TAG_REMOVED")]
    assert added == ["vip", "gold"] and removed == ["vip"]
    assert all(e.payload["cause"] == {"depth": 0} for e in _events("TAG_ADDED"))
    assert _events("TAG_ADDED")[0].payload["data"]["contact_id"] == contact["id"]


def test_a_status_change_starts_the_trigger_with_the_same_field_names(editor, app):
    trigger = {
        "id": "t",
        "type": "trigger.conversation_status_changed",
        "params": {"from_status": "open", "to_status": "closed"},
    }
    (workflow,) = setup(
        app,
        linear(
            {
                "id": "note",
                "type": "action.add_note",
                "params": {"text": "{{ event.data.to_status }}"},
            },
            trigger=trigger,
        ),
    )
    contact = editor.post("/contacts/", {"external_id": "c2"}).get_json()
    conv = editor.post("/conversations/", {"external_id": "conv-2", "contact_id": contact["id"]})
    assert conv.status_code == 201, conv.get_json()
    editor.patch(f"/conversations/{conv.get_json()['id']}/", {"status": "closed"})
    (event,) = _events("CONVERSATION_STATUS_CHANGED")
    assert event.payload["data"] == {
        "from_status": "open",
        "to_status": "closed",
        "contact_id": contact["id"],
    }
    assert (event.user_id, event.conversation_id) == ("c2", "conv-2")
    work(app)
    run = db.session.scalar(select(WorkflowExecution).filter_by(workflow_id=workflow.id))
    assert run.status == "succeeded" and db.session.scalar(select(Note.text)) == "closed"


def test_workflows_feeding_each_other_stop_at_the_depth_limit(editor, app):
    remove = linear(
        {"id": "off", "type": "action.remove_tag", "params": {"tag": "ping"}},
        trigger=_tag_trigger("ping"),
        reentry="always",
    )
    add = linear(
        {"id": "on", "type": "action.add_tag", "params": {"tag": "ping"}},
        trigger=_tag_trigger("ping", "trigger.tag_removed"),
        reentry="always",
    )
    setup(app, remove, add)
    app.config["RATE_LIMIT_PER_CONTACT_PER_MINUTE"] = 1000
    try:
        editor.post("/contacts/", {"external_id": "loop", "tags": ["ping"]})
        work(app)
    finally:
        app.config["RATE_LIMIT_PER_CONTACT_PER_MINUTE"] = 30
    limit = app.config["MAX_EVENT_CHAIN_DEPTH"]
    runs = db.session.scalars(select(WorkflowExecution)).all()
    assert len(runs) == limit + 1  # events of depth 0..limit start a run each
    events = _events("TAG_ADDED") + _events("TAG_REMOVED")
    deepest = max(events, key=lambda e: e.payload["cause"]["depth"])
    assert deepest.payload["cause"]["depth"] == limit + 1
    assert [m["skipped"] for m in deepest.matched_workflows] == ["cause_chain_too_deep"]


def test_activation_refuses_a_trigger_on_an_unregistered_event_type(editor, app):
    graph = linear(
        {"id": "note", "type": "action.add_note", "params": {"text": "x"}},
        trigger={"id": "start", "type": "trigger.event", "params": {"event_type": "ORDER_PAID"}},
    )
    created = editor.post("/workflows/", {"name": "orders", "graph": graph}).get_json()
    refused = editor.post(f"/workflows/{created['id']}/activate/")
    assert refused.status_code == 400
    (error,) = refused.get_json()["errors"]
    assert error["node_id"] == "start" and "ORDER_PAID" in error["message"]
    assert "not registered" in error["message"]
    editor.post("/event-types/", {"name": "ORDER_PAID", "description": "paid"})
    assert editor.post(f"/workflows/{created['id']}/activate/").status_code == 200


def test_an_internal_event_nothing_acts_on_is_stored_processed_without_a_drain(app):
    """No trigger listens to TAG_ADDED and the contact has no waiting run: the event is logged
    as processed at once and queues no drain job. A waiting run (its goals could see the
    event) or a trigger for the type (made active afterwards) makes the next one go the
    usual way: received, then drained."""
    from backend.queue import get_queue

    wait = {"id": "wait", "type": "flow.wait", "params": {"hours": 3}}
    setup(app, linear(wait, {"id": "later", "type": "action.add_note", "params": {"text": "x"}}))
    quiet, waiting = contacts.get_or_create_contact("quiet"), contacts.get_or_create_contact("w")
    db.session.commit()
    accept_event({"event_type": "PING", "user_id": "w"})
    work(app)  # "w" now has a waiting run
    contacts.add_tag(quiet, "vip")
    contacts.add_tag(waiting, "vip")
    db.session.commit()
    assert [(e.user_id, e.status) for e in _events("TAG_ADDED")] == [
        ("quiet", "processed"),
        ("w", "received"),
    ]
    assert _events("TAG_ADDED")[0].processed_at is not None
    queue = get_queue(app)
    work(app)
    assert [e.status for e in _events("TAG_ADDED")] == ["processed", "processed"]

    from backend.services.workflows import activate, create_workflow

    note = {"id": "n", "type": "action.add_note", "params": {"text": "vip"}}
    activate(create_workflow("gold", graph=linear(note, trigger=_tag_trigger("gold"))))
    contacts.add_tag(quiet, "gold")
    db.session.commit()
    assert _events("TAG_ADDED")[-1].status == "received"
    assert queue.count == 1  # the drain job it asked for
    work(app)
    assert db.session.scalars(select(Note.text)).all() == ["vip"]
