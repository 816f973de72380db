"""/actions/: action nodes across workflows, action_types/, adding nodes, testing one node."""

from __future__ import annotations

from apikit import coupon_graph, simple_graph


def _workflow(api, graph=None) -> dict:
    return api.post("/workflows/", {"name": "A", "graph": graph or coupon_graph()}).json


def test_list_actions_across_workflows(api):
    a = _workflow(api)
    b = _workflow(api, simple_graph())
    everything = api.get("/actions/").json
    assert everything["count"] == 5  # send, tag, wait, mail + send
    ids = [x["id"] for x in everything["results"]]
    assert f"{a['id']}:send" in ids and f"{b['id']}:send" in ids
    only_b = api.get("/actions/", workflow=b["id"]).json["results"]
    assert [x["type"] for x in only_b] == ["action.send_message"]
    tags = api.get("/actions/", type="action.add_tag").json["results"]
    assert [x["params"] for x in tags] == [{"tag": "coupon_sent"}]
    page = api.get("/actions/", page_size=2, page=2).json
    assert len(page["results"]) == 2 and page["previous"] and page["next"]


def test_get_action_and_bad_ids(api):
    wf = _workflow(api)
    assert api.get(f"/actions/{wf['id']}:mail/").json["type"] == "action.send_email"
    for bad in ("nope", f"{wf['id']}:trigger", f"{wf['id']}:ghost", "99999999999:x", "1:"):
        assert api.get(f"/actions/{bad}/").status_code == 404, bad


def test_action_types_come_from_the_registry(api):
    types = api.get("/actions/action_types/").json
    names = {t["type"] for t in types}
    assert {"action.send_message", "action.add_tag", "flow.wait", "action.webhook"} <= names
    send = next(t for t in types if t["type"] == "action.send_message")
    assert send["params_schema"]["required"] == ["text"]
    assert not any(t["category"] == "trigger" for t in types)


def test_create_action_with_edge_from_a_node(api):
    wf = _workflow(api, simple_graph())
    resp = api.post(
        "/actions/",
        {
            "workflow_id": wf["id"],
            "type": "action.add_tag",
            "params": {"tag": "greeted"},
            "connect_from": {"node_id": "send"},
        },
    )
    assert resp.status_code == 201, resp.json
    node_id = resp.json["node_id"]
    graph = api.get(f"/workflows/{wf['id']}/").json["graph"]
    assert any(e["source"] == "send" and e["target"] == node_id for e in graph["edges"])
    missing = api.post(
        "/actions/",
        {
            "workflow_id": wf["id"],
            "type": "action.add_tag",
            "params": {"tag": "x"},
            "connect_from": {"node_id": "zz"},
        },
    )
    assert missing.status_code == 400 and missing.json["field"] == "connect_from.node_id"
    bad = api.post("/actions/", {"workflow_id": wf["id"], "type": "action.add_tag", "params": {}})
    assert bad.status_code == 400 and bad.json["errors"][0]["field"] == "params"


def test_test_action_renders_and_records_effects_without_sending(api):
    wf = _workflow(api)
    resp = api.post(
        f"/actions/{wf['id']}:send/test/",
        {
            "event": {
                "event_type": "MESSAGE_RECEIVED",
                "data": {"content": "coupon"},
                "user_id": "c1",
            },
            "contact": {
                "external_id": "c1",
                "first_name": "Sara",
                "channel": "telegram",
                "tags": [],
            },
        },
    )
    assert resp.status_code == 200, resp.json
    body = resp.json
    assert body["ok"] is True and body["input"]["text"].startswith("Sara")
    assert body["effects"][0]["effect"] == "send_message"
    assert body["effects"][0]["channel"] == "telegram"
    from backend.models import OutboundMessage

    assert OutboundMessage.query.count() == 0


def test_test_action_with_param_override_and_failure(api):
    wf = _workflow(api)
    tagged = api.post(f"/actions/{wf['id']}:tag/test/", {"params": {"tag": "{{ event.type }}"}})
    assert tagged.json["ok"] is True and tagged.json["output"]["tag"] == "MANUAL"
    empty = api.post(f"/actions/{wf['id']}:tag/test/", {"params": {"tag": "{{ nothing }}"}})
    assert empty.status_code == 200 and empty.json["ok"] is False and empty.json["error"]
    waited = api.post(f"/actions/{wf['id']}:wait/test/").json
    assert waited["ok"] is True and waited["resume_at"]
