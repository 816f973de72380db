"""/triggers/: materialised rows, adding trigger nodes, process_event/, test/."""

from __future__ import annotations

from apikit import coupon_graph, simple_graph

MESSAGE = {
    "event_type": "MESSAGE_RECEIVED",
    "data": {"content": "سلام، کد تخفیف دارید؟"},
    "user_id": "customer123",
    "conversation_id": "conv123",
}


def _workflow(api, graph=None, activate=False) -> dict:
    wf = api.post("/workflows/", {"name": "T", "graph": graph or coupon_graph()}).json
    if activate:
        assert api.post(f"/workflows/{wf['id']}/activate/").status_code == 200
    return wf


def _trigger_id(api, wf) -> int:
    return api.get("/triggers/", workflow=wf["id"]).json["results"][0]["id"]


def test_list_and_filter_trigger_rows(api):
    a = _workflow(api, activate=True)
    _workflow(api, simple_graph())
    assert api.get("/triggers/").json["count"] == 2
    active = api.get("/triggers/", is_active="true").json["results"]
    assert [(t["workflow_id"], t["node_type"]) for t in active] == [
        (a["id"], "trigger.message_received")
    ]
    assert active[0]["params"] == {"keywords": ["کد تخفیف", "coupon", "discount"]}
    assert api.get("/triggers/", event_type="USER_CREATED").json["count"] == 0
    assert api.get(f"/triggers/{active[0]['id']}/").json["id"] == active[0]["id"]
    assert api.get("/triggers/99999/").status_code == 404


def test_create_adds_a_trigger_node_to_the_graph(api):
    wf = _workflow(api, simple_graph())
    resp = api.post(
        "/triggers/",
        {
            "workflow_id": wf["id"],
            "type": "trigger.tag_added",
            "node_id": "on_vip",
            "params": {"tag": "vip"},
            "connect_to": "send",
        },
    )
    assert resp.status_code == 201, resp.json
    assert resp.json["node_id"] == "on_vip" and resp.json["event_type"] == "TAG_ADDED"
    saved = api.get(f"/workflows/{wf['id']}/").json
    assert saved["version"] == 2
    assert {"source": "on_vip", "target": "send"}.items() <= saved["graph"]["edges"][-1].items()


def test_create_rejects_bad_params_and_duplicates(api):
    wf = _workflow(api, simple_graph())
    bad = api.post(
        "/triggers/", {"workflow_id": wf["id"], "type": "trigger.tag_added", "params": {"tag": 5}}
    )
    assert bad.status_code == 400 and bad.json["field"] == "params.tag"
    dup = api.post(
        "/triggers/", {"workflow_id": wf["id"], "type": "trigger.manual", "node_id": "start"}
    )
    assert dup.status_code == 409 and dup.json["field"] == "node_id"
    assert (
        api.post("/triggers/", {"workflow_id": wf["id"], "type": "action.send_message"}).status_code
        == 400
    )
    assert (
        api.post("/triggers/", {"workflow_id": 4242, "type": "trigger.manual"}).status_code == 404
    )


def test_webhook_trigger_gets_a_stable_secret_path(api, viewer):
    wf = _workflow(api, simple_graph())
    hook = api.post(
        "/triggers/", {"workflow_id": wf["id"], "type": "trigger.webhook", "node_id": "hook"}
    ).json
    assert hook["webhook_path"].startswith("/hooks/")
    api.patch(f"/workflows/{wf['id']}/", {"name": "renamed"})
    again = api.get(f"/triggers/{hook['id']}/").json
    assert again["webhook_path"] == hook["webhook_path"]
    assert viewer.get(f"/triggers/{hook['id']}/").json["webhook_path"] is None


def test_schedule_trigger_gets_next_fire_time_when_active(api):
    graph = {
        "format": "workflow-graph/v1",
        "name": "cron",
        "settings": {"timezone": "Asia/Tehran"},
        "nodes": [
            {"id": "tick", "type": "trigger.schedule", "params": {"cron": "0 9 * * *"}},
            # no target: a contact-less run (a contact action here would not validate)
            {"id": "tag", "type": "action.add_note", "params": {"text": "daily"}},
        ],
        "edges": [{"id": "e", "source": "tick", "target": "tag"}],
    }
    wf = _workflow(api, graph)
    row = api.get("/triggers/", workflow=wf["id"]).json["results"][0]
    assert (row["cron"], row["timezone"], row["next_fire_at"]) == ("0 9 * * *", "Asia/Tehran", None)
    api.post(f"/workflows/{wf['id']}/activate/")
    row = api.get("/triggers/", workflow=wf["id"]).json["results"][0]
    assert row["next_fire_at"] and row["next_fire_at"].endswith(":30:00Z")  # 09:00 Tehran


def test_process_event_accepts_and_deduplicates(api):
    first = api.post("/triggers/process_event/", {**MESSAGE, "event_id": "evt-1"})
    assert first.status_code == 202, first.json
    again = api.post("/triggers/process_event/", {**MESSAGE, "event_id": "evt-1"})
    assert again.status_code == 202
    assert again.json["event_id"] == first.json["event_id"]
    assert (first.json["duplicate"], again.json["duplicate"]) == (False, True)
    logs = api.get("/trigger-event-logs/", event_type="MESSAGE_RECEIVED").json
    assert logs["count"] == 1 and logs["results"][0]["idempotency_key"] == "evt-1"


def test_process_event_bad_input(api, app):
    unknown_type = api.post("/triggers/process_event/", {**MESSAGE, "event_type": "NOPE_EVENT"})
    assert unknown_type.status_code == 400 and unknown_type.json["field"] == "event_type"
    extra = api.post("/triggers/process_event/", {**MESSAGE, "colour": "red"})
    assert extra.status_code == 400 and extra.json["field"] == "colour"
    wrong_type = api.post("/triggers/process_event/", {**MESSAGE, "data": "text"})
    assert wrong_type.status_code == 400 and wrong_type.json["field"] == "data"
    missing = api.post("/triggers/process_event/", {"data": {}})
    assert missing.status_code == 400 and missing.json["field"] == "event_type"
    huge = {**MESSAGE, "data": {"content": "x" * (app.config["MAX_EVENT_BYTES"] + 10)}}
    assert api.post("/triggers/process_event/", huge).status_code == 413


def test_trigger_test_explains_why(api):
    wf = _workflow(api, activate=True)
    trigger_id = _trigger_id(api, wf)
    fires = api.post(f"/triggers/{trigger_id}/test/", {"event": MESSAGE})
    assert fires.status_code == 200 and fires.json["fires"] is True
    assert fires.json["reason"]["result"] is True
    miss = api.post(
        f"/triggers/{trigger_id}/test/", {"event": {**MESSAGE, "data": {"content": "hello"}}}
    ).json
    assert miss["fires"] is False and miss["reason"]["result"] is False
    other = api.post(
        f"/triggers/{trigger_id}/test/", {"event": {"event_type": "USER_CREATED", "user_id": "u"}}
    ).json
    assert other == {
        "fires": False,
        "reason": {
            "result": False,
            "op": "event_type",
            "actual": "USER_CREATED",
            "expected": "MESSAGE_RECEIVED",
        },
    }


def test_trigger_test_uses_contact_for_user_filters(api):
    graph = simple_graph()
    graph["nodes"][0]["params"] = {
        "filter": {"all": [{"field": "user.tags", "op": "contains", "value": "vip"}]}
    }
    wf = _workflow(api, graph)
    trigger_id = _trigger_id(api, wf)
    event = {"event_type": "MESSAGE_RECEIVED", "data": {"content": "x"}, "user_id": "c9"}
    assert api.post(f"/triggers/{trigger_id}/test/", {"event": event}).json["fires"] is False
    api.post("/contacts/", {"external_id": "c9", "tags": ["vip"]})
    assert api.post(f"/triggers/{trigger_id}/test/", {"event": event}).json["fires"] is True
    inline = {"event": event, "contact": {"tags": []}}
    assert api.post(f"/triggers/{trigger_id}/test/", inline).json["fires"] is False


def test_process_event_commits_in_one_statement_before_answering(api, app):
    from sqlalchemy import func, select
    from support import sql_statements

    from backend.extensions import db
    from backend.models import EventLog

    assert api.post("/triggers/process_event/", {**MESSAGE, "event_id": "warm"}).status_code == 202
    with sql_statements() as seen:
        answer = api.post("/triggers/process_event/", {**MESSAGE, "event_id": "one-trip"})
    assert answer.status_code == 202 and answer.json["duplicate"] is False
    assert len(seen) == 1 and seen[0].startswith("INSERT INTO event_logs")
    with db.engine.connect() as other:  # committed: another connection sees the row
        key = EventLog.idempotency_key == "one-trip"
        assert other.execute(select(func.count()).where(key)).scalar_one() == 1


def test_process_event_validates_like_jsonschema(api):
    """A body the fast validator refuses but jsonschema accepts is accepted, as before
    (Python's ``$`` matches before a final newline); a bad one still names its field."""
    trailing = api.post("/triggers/process_event/", {**MESSAGE, "event_type": "PING\n"})
    assert trailing.status_code == 400 and trailing.json["code"] == "unknown_event_type"
    bad = api.post("/triggers/process_event/", {**MESSAGE, "user_id": ""})
    assert bad.status_code == 400 and bad.json["field"] == "user_id"
