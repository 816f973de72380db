"""The templates gallery (issue 13): every template is valid, creatable in one click, activatable,
and does what it says on a sample event (a test run in memory)."""

from __future__ import annotations

EVENTS = {
    "coupon": (
        {"event_type": "MESSAGE_RECEIVED", "user_id": "u1", "data": {"content": "coupon?"}},
        {"first_name": "Sara", "email": "s@example.com", "tags": ["interested"]},
    ),
    "welcome": (
        {"event_type": "USER_CREATED", "user_id": "u1", "data": {}},
        {"first_name": "Sara"},
    ),
    "abandoned_cart": (
        {"event_type": "CART_ABANDONED", "user_id": "u1", "data": {}},
        {"first_name": "Sara"},
    ),
    "reengagement": (
        {"event_type": "ORDER_PAID", "user_id": "u1", "data": {"order_id": "o-7"}},
        {"first_name": "Sara"},
    ),
    "birthday": (
        {"event_type": "CONTACT_BIRTHDAY", "user_id": "u1", "data": {}},
        {"first_name": "Sara", "email": "sara@example.com"},
    ),
    "survey": (
        {
            "event_type": "CONVERSATION_STATUS_CHANGED",
            "user_id": "u1",
            "data": {"from_status": "open", "to_status": "closed"},
        },
        {"first_name": "Sara"},
    ),
}


def test_gallery_lists_at_least_six_valid_templates(api):
    items = api.get("/workflow-templates/").json
    keys = [t["key"] for t in items]
    assert set(EVENTS) <= set(keys) and len(keys) == len(set(keys)) >= 6
    for template in items:
        report = api.post("/workflows/validate/", template["graph"]).json
        assert report == {"ok": True, "errors": [], "warnings": []}, (template["key"], report)
        assert template["name"] and template["description"]


def test_each_template_sends_a_message_on_its_event(api):
    for key, (event, contact) in EVENTS.items():
        graph = api.get(f"/workflow-templates/{key}/").json["graph"]
        body = {"graph": graph, "event": event, "contact": contact, "fast_forward": True}
        out = api.post("/workflows/test-run/", body).json
        assert out["result"]["status"] == "succeeded", (key, out["result"])
        texts = [m.get("text") or m.get("subject") for m in out["messages"]]
        assert any("Sara" in (t or "") for t in texts), (key, out["messages"])


def test_create_from_template_in_one_click_then_activate(api):
    resp = api.post("/workflow-templates/abandoned_cart/create/")
    assert resp.status_code == 201, resp.json
    wf = resp.json
    assert wf["status"] == "draft" and wf["name"] == "Abandoned cart nudge"
    assert wf["validation"]["ok"] is True
    assert "CART_ABANDONED" in [t["name"] for t in api.get("/event-types/").json["results"]]
    assert api.post(f"/workflows/{wf['id']}/activate/").status_code == 200
    accepted = api.post(
        "/triggers/process_event/", {"event_type": "CART_ABANDONED", "user_id": "u9"}
    )
    assert accepted.status_code == 202, accepted.json
    named = api.post("/workflow-templates/birthday/create/", {"name": "Birthdays 2026"}).json
    assert named["name"] == "Birthdays 2026" and named["graph"]["name"] == "Birthdays 2026"


def test_template_errors_are_4xx_json(api, viewer):
    missing = api.post("/workflow-templates/nope/create/")
    assert missing.status_code == 404 and missing.json["field"] == "key"
    assert api.get("/workflow-templates/nope/").status_code == 404
    bad = api.post("/workflow-templates/coupon/create/", {"name": ""})
    assert bad.status_code == 400 and "name" in str(bad.json)
    assert api.post("/workflow-templates/coupon/create/", {"extra": 1}).status_code == 400
    assert viewer.post("/workflow-templates/coupon/create/").status_code == 403
    assert viewer.get("/workflow-templates/").status_code == 200
