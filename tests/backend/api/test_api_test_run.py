"""POST /workflows/test-run/: a draft graph run in memory; nothing is sent or stored."""

from __future__ import annotations

from apikit import coupon_graph, simple_graph
from runtime_helpers import FlakyServer
from sqlalchemy import func, select

PERSIAN = {
    "event_type": "MESSAGE_RECEIVED",
    "user_id": "u1",
    "conversation_id": "conv1",
    "timestamp": "2026-03-01T10:00:00+00:00",
    "data": {"content": "سلام، کد تخفیف دارید؟"},
}
SARA = {
    "first_name": "سارا",
    "email": "sara@example.com",
    "tags": ["interested"],
    "fields": {"city": "Tabriz"},
}


def _counts():
    from backend.extensions import db
    from backend.models import Contact, EventLog, OutboundMessage, TagChange, WorkflowExecution

    return [
        db.session.scalar(select(func.count()).select_from(m))
        for m in (Contact, EventLog, OutboundMessage, TagChange, WorkflowExecution)
    ]


def test_coupon_test_run_stops_at_the_wait_with_the_persian_message(api):
    before = _counts()
    resp = api.post(
        "/workflows/test-run/", {"graph": coupon_graph(), "event": PERSIAN, "contact": SARA}
    )
    assert resp.status_code == 200, resp.json
    out = resp.json
    assert out["result"] == {"status": "waiting", "waiting_until": "2026-03-01T10:10:00+00:00"}
    assert [(s["node_id"], s["status"]) for s in out["steps"]] == [
        ("trigger", "succeeded"),
        ("interested", "succeeded"),
        ("send", "succeeded"),
        ("tag", "succeeded"),
        ("wait", "waiting"),
    ]
    wait = out["steps"][-1]
    assert wait["resume_at"] == "2026-03-01T10:10:00+00:00" and wait["attempts"] == 1
    assert {
        "seq",
        "node_type",
        "input",
        "output",
        "error",
        "started_at",
        "finished_at",
        "duration_ms",
    } <= set(wait)
    assert out["edges_taken"] == ["e1", "e2", "e3", "e4"]
    assert out["messages"] == [
        {
            "channel": "capture",
            "to": "u1",
            "node_id": "send",
            "text": "سارا عزیز، کد تخفیف شما: SAVE10 🎁",
        }
    ]
    assert [(e["effect"], e["node_id"]) for e in out["effects"]] == [
        ("send_message", "send"),
        ("add_tag", "tag"),
    ]
    assert _counts() == before  # no contact, event, message, tag change or run was stored


def test_fast_forward_runs_past_the_wait_and_shows_the_email(api):
    out = api.post(
        "/workflows/test-run/",
        {"graph": coupon_graph(), "event": PERSIAN, "contact": SARA, "fast_forward": True},
    ).json
    assert out["result"] == {"status": "succeeded"}
    assert out["steps"][-1]["node_id"] == "mail" and out["steps"][-1]["status"] == "succeeded"
    assert out["edges_taken"] == ["e1", "e2", "e3", "e4", "e5"]
    mail = out["messages"][1]
    assert mail["channel"] == "email" and mail["to"] == "sara@example.com"
    assert mail["subject"] == "Your coupon is waiting" and mail["node_id"] == "mail"
    assert mail["body"] == "Hi سارا, your code SAVE10 is valid this week." and mail["html"] is False


def test_condition_false_branch_takes_no_edge_and_sends_nothing(api):
    out = api.post(
        "/workflows/test-run/",
        {"graph": coupon_graph(), "event": PERSIAN, "contact": {"first_name": "Ali"}},
    ).json
    assert out["result"]["status"] == "succeeded"
    assert [s["node_id"] for s in out["steps"]] == ["trigger", "interested"]
    assert out["steps"][1]["port"] == "false"
    assert out["edges_taken"] == ["e1"] and out["messages"] == []


def test_webhook_in_a_test_run_is_captured_not_sent(api):
    server = FlakyServer()
    try:
        graph = simple_graph()
        graph["nodes"].append(
            {
                "id": "hook",
                "type": "action.webhook",
                "params": {"url": server.url + "/x", "body": {"a": 1}},
            }
        )
        graph["edges"].append({"id": "e2", "source": "send", "target": "hook"})
        event = {"event_type": "MESSAGE_RECEIVED", "data": {"content": "hello"}}
        out = api.post("/workflows/test-run/", {"graph": graph, "event": event}).json
    finally:
        server.close()
    assert out["result"]["status"] == "succeeded", out
    hook = next(e for e in out["effects"] if e["effect"] == "http_request")
    assert hook["url"] == server.url + "/x" and hook["node_id"] == "hook"
    assert server.requests == []
    assert out["messages"][0]["to"] == "test-contact"


def test_invalid_draft_is_400_naming_the_node(api):
    graph = simple_graph()
    graph["nodes"][1]["params"] = {}
    resp = api.post("/workflows/test-run/", {"graph": graph})
    assert resp.status_code == 400
    assert resp.json["code"] == "invalid_graph" and resp.json["node_id"] == "send"
    assert any(e.get("node_id") == "send" for e in resp.json["errors"])


def test_event_no_trigger_matches_is_reported(api):
    event = {"event_type": "MESSAGE_RECEIVED", "data": {"content": "nothing relevant"}}
    out = api.post("/workflows/test-run/", {"graph": simple_graph(), "event": event}).json
    assert out["result"]["status"] == "not_matched" and "no trigger" in out["result"]["error"]
    assert out["steps"] == [] and out["messages"] == []


def test_without_an_event_the_first_trigger_type_is_used(api):
    graph = {
        "format": "workflow-graph/v1",
        "name": "m",
        "nodes": [
            {"id": "t", "type": "trigger.manual"},
            {"id": "tag", "type": "action.add_tag", "params": {"tag": "vip"}},
        ],
        "edges": [{"id": "e", "source": "t", "target": "tag"}],
    }
    out = api.post("/workflows/test-run/", {"graph": graph}).json
    assert out["result"]["status"] == "succeeded" and out["trigger_node_id"] == "t"
    assert out["context"]["user"]["tags"] == ["vip"]


def test_bad_input_names_the_field_and_viewer_may_not_test_run(api, viewer):
    resp = api.post("/workflows/test-run/", {"graph": simple_graph(), "fast_forward": "yes"})
    assert resp.status_code == 400 and resp.json["field"] == "fast_forward"
    resp = api.post("/workflows/test-run/", {"event": PERSIAN})
    assert resp.status_code == 400 and resp.json["field"] == "graph"
    resp = api.post(
        "/workflows/test-run/",
        {"graph": simple_graph(), "event": {**PERSIAN, "timestamp": "yesterday"}},
    )
    assert resp.status_code == 400 and resp.json["field"] == "event.timestamp"
    resp = api.post("/workflows/test-run/", {"graph": simple_graph(), "contact": {"tags": "x"}})
    assert resp.status_code == 400 and resp.json["field"] == "contact.tags"
    assert viewer.post("/workflows/test-run/", {"graph": simple_graph()}).status_code == 403


def test_messages_of_any_outbound_kind_are_listed_and_webhook_calls_are_not(api):
    """The captured messages follow the outbound request, not a list of node names: an SMS
    (a kind added after the test run was written) is listed; a webhook call is only an effect."""
    graph = {
        "format": "workflow-graph/v1",
        "name": "sms",
        "nodes": [
            {"id": "start", "type": "trigger.message_received", "params": {}},
            {
                "id": "sms",
                "type": "action.send_sms",
                "params": {"text": "Hi {{ user.first_name }}"},
            },
            {"id": "hook", "type": "action.webhook", "params": {"url": "https://crm.example/x"}},
        ],
        "edges": [
            {"id": "e1", "source": "start", "target": "sms"},
            {"id": "e2", "source": "sms", "target": "hook"},
        ],
    }
    contact = {"first_name": "Sara", "phone": "+989121234567"}
    out = api.post("/workflows/test-run/", {"graph": graph, "event": PERSIAN, "contact": contact})
    assert out.status_code == 200, out.json
    assert out.json["messages"] == [
        {"channel": "sms", "to": "+989121234567", "text": "Hi Sara", "node_id": "sms"}
    ]
    assert [e["effect"] for e in out.json["effects"]] == ["send_sms", "http_request"]
