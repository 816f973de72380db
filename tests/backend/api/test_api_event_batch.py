"""/triggers/process_events/: many events in one request, each with its own key and result."""

from __future__ import annotations

from apikit import coupon_graph
from runtime_helpers import work

from backend.extensions import db
from backend.models import EventLog, WorkflowExecution

PATH = "/triggers/process_events/"


def _message(key: str | None, user: str = "customer1", **extra) -> dict:
    event = {
        "event_type": "MESSAGE_RECEIVED",
        "data": {"content": "a coupon please"},
        "user_id": user,
        "conversation_id": f"conv-{user}",
        **extra,
    }
    if key:
        event["event_id"] = key
    return event


def test_each_event_gets_its_own_result_in_order(api):
    before = api.post("/triggers/process_event/", _message("seen-before"))
    events = [
        _message("k1"),
        _message("seen-before"),
        {**_message("k2"), "event_type": "NOPE_EVENT"},
        _message("k1"),  # again in the same request
        _message(None, user="customer2"),  # no key: one is generated
    ]
    reply = api.post(PATH, {"events": events})
    assert reply.status_code == 202, reply.json
    results = reply.json["results"]
    assert len(results) == 5
    assert results[0]["duplicate"] is False and results[0]["idempotency_key"] == "k1"
    assert results[1] == {
        "event_id": before.json["event_id"],
        "status": before.json["status"],
        "duplicate": True,
        "idempotency_key": "seen-before",
    }
    assert results[2]["error"]["field"] == "event_type" and results[2]["error"]["status"] == 400
    assert results[3]["duplicate"] is True and results[3]["event_id"] == results[0]["event_id"]
    assert results[4]["duplicate"] is False and results[4]["idempotency_key"]
    keys = set(db.session.scalars(db.select(EventLog.idempotency_key)))
    assert keys == {"seen-before", "k1", results[4]["idempotency_key"]}


def test_accepted_events_are_processed_like_single_ones(api, app):
    wf = api.post("/workflows/", {"name": "Coupon", "graph": coupon_graph()}).json
    assert api.post(f"/workflows/{wf['id']}/activate/").status_code == 200
    events = [_message(f"b{i}", user=f"customer{i}") for i in range(30)]
    results = api.post(PATH, {"events": events}).json["results"]
    assert [r["duplicate"] for r in results] == [False] * 30
    work(app)
    db.session.expire_all()
    statuses = set(db.session.scalars(db.select(EventLog.status)))
    assert statuses == {"processed"}
    runs = db.session.scalars(db.select(WorkflowExecution.event_id)).all()
    assert sorted(runs) == sorted(r["event_id"] for r in results)


def test_bad_batches_are_refused_naming_the_field(api):
    not_a_list = api.post(PATH, {"events": {"event_type": "MESSAGE_RECEIVED"}})
    assert not_a_list.status_code == 400 and not_a_list.json["field"] == "events"
    bad_item = api.post(PATH, {"events": [_message("ok"), {**_message("x"), "colour": "red"}]})
    assert bad_item.status_code == 400 and bad_item.json["field"] == "events.1.colour"
    too_many = api.post(PATH, {"events": [_message(f"m{i}") for i in range(1001)]})
    assert too_many.status_code in (400, 413)
    assert api.post(PATH, {"events": []}).json == {"results": []}
