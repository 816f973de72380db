"""Contacts, tags, conversations, event types, node types and health."""

from __future__ import annotations

CONTACT = {
    "external_id": "customer123",
    "first_name": "سارا",
    "last_name": "Ahmadi",
    "email": "sara@example.com",
    "phone": "+98912",
    "channel": "telegram",
    "channel_ids": {"telegram": "5551"},
    "tags": ["interested", "vip"],
    "fields": {"city": "Tehran", "score": 3},
}


def test_contact_crud_round_trip(api):
    created = api.post("/contacts/", CONTACT)
    assert created.status_code == 201, created.json
    body = created.json
    assert {k: body[k] for k in CONTACT} == {**CONTACT, "tags": ["interested", "vip"]}
    cid = body["id"]
    patched = api.patch(f"/contacts/{cid}/", {"tags": ["vip"], "fields": {"city": "Shiraz"}}).json
    assert patched["tags"] == ["vip"] and patched["fields"] == {"city": "Shiraz"}
    replaced = api.put(f"/contacts/{cid}/", {"external_id": "customer123", "first_name": "S"}).json
    assert replaced["first_name"] == "S" and replaced["email"] == "sara@example.com"
    assert api.get(f"/contacts/{cid}/").json["first_name"] == "S"
    assert api.delete(f"/contacts/{cid}/").status_code == 204
    assert api.get(f"/contacts/{cid}/").status_code == 404


def test_contact_conflicts_and_validation(api):
    api.post("/contacts/", CONTACT)
    dup = api.post("/contacts/", {"external_id": "customer123"})
    assert dup.status_code == 409 and dup.json["field"] == "external_id"
    other = api.post("/contacts/", {"external_id": "other"}).json
    clash = api.patch(f"/contacts/{other['id']}/", {"external_id": "customer123"})
    assert clash.status_code == 409
    assert api.post("/contacts/", {"external_id": "x", "channel": "fax"}).json["field"] == "channel"
    assert api.post("/contacts/", {"external_id": "x", "email": "a" * 300}).status_code == 400
    assert api.post("/contacts/", {"first_name": "no id"}).json["field"] == "external_id"


def test_contact_filters(api):
    api.post("/contacts/", CONTACT)
    api.post(
        "/contacts/",
        {"external_id": "b", "first_name": "Bob", "channel": "email", "tags": ["cold"]},
    )

    def ids(**q):
        return [c["external_id"] for c in api.get("/contacts/", **q).json["results"]]

    assert ids(tag="vip") == ["customer123"]
    assert ids(channel="email") == ["b"]
    assert ids(search="bob") == ["b"]
    assert ids(search="سارا") == ["customer123"]
    assert ids(external_id="b") == ["b"]
    assert ids(email="sara@example.com") == ["customer123"]


def test_tags(api):
    api.post("/contacts/", CONTACT)
    tags = api.get("/tags/").json["results"]
    assert [(t["name"], t["contact_count"]) for t in tags] == [("interested", 1), ("vip", 1)]
    made = api.post("/tags/", {"name": "new"})
    assert made.status_code == 201 and made.json["contact_count"] == 0
    assert api.post("/tags/", {"name": "new"}).status_code == 409
    assert api.post("/tags/", {"name": "   "}).status_code == 400
    assert [t["name"] for t in api.get("/tags/", search="int").json["results"]] == ["interested"]
    vip = next(t for t in tags if t["name"] == "vip")
    assert api.delete(f"/tags/{vip['id']}/").status_code == 204
    cid = api.get("/contacts/").json["results"][0]["id"]
    assert api.get(f"/contacts/{cid}/").json["tags"] == ["interested"]


def test_conversations(api):
    contact = api.post("/contacts/", CONTACT).json
    conv = api.post(
        "/conversations/",
        {"external_id": "conv1", "contact_id": contact["id"], "channel": "telegram"},
    )
    assert conv.status_code == 201 and conv.json["status"] == "open"
    assert conv.json["contact_external_id"] == "customer123"
    closed = api.patch(f"/conversations/{conv.json['id']}/", {"status": "closed"}).json
    assert closed["status"] == "closed"
    assert api.get("/conversations/", status="closed").json["count"] == 1
    assert api.get("/conversations/", contact=contact["id"]).json["count"] == 1
    bad = api.post("/conversations/", {"external_id": "c2", "contact_id": 999})
    assert bad.status_code == 400 and bad.json["field"] == "contact_id"
    assert api.post("/conversations/", {"external_id": "conv1"}).status_code == 409
    assert api.delete(f"/conversations/{conv.json['id']}/").status_code == 204


def test_event_types(api):
    names = [t["name"] for t in api.get("/event-types/", page_size=50).json["results"]]
    assert {"MESSAGE_RECEIVED", "USER_CREATED", "TAG_ADDED", "CONVERSATION_STATUS_CHANGED"} <= set(
        names
    )
    made = api.post("/event-types/", {"name": "ORDER_PAID", "description": "paid"})
    assert made.status_code == 201 and made.json["is_builtin"] is False
    assert api.post("/event-types/", {"name": "ORDER_PAID"}).status_code == 409
    assert api.post("/event-types/", {"name": "order paid"}).json["field"] == "name"
    tid = made.json["id"]
    assert api.patch(f"/event-types/{tid}/", {"description": "x"}).json["description"] == "x"
    builtin = next(
        t
        for t in api.get("/event-types/", page_size=50).json["results"]
        if t["name"] == "MESSAGE_RECEIVED"
    )
    assert api.delete(f"/event-types/{builtin['id']}/").status_code == 409
    assert api.delete(f"/event-types/{tid}/").status_code == 204


def test_node_types(api):
    every = api.get("/node-types/").json
    assert {t["category"] for t in every} == {"trigger", "logic", "flow", "action"}
    triggers = api.get("/node-types/", category="trigger").json
    assert all(t["category"] == "trigger" for t in triggers) and triggers
    one = api.get("/node-types/logic.condition/").json
    assert one["outputs"] == ["true", "false"]
    assert api.get("/node-types/logic.nope/").status_code == 404


def test_health_needs_no_auth_and_reports_parts(anon):
    body = anon.get("/health/").json
    assert body == {
        "status": "ok",
        "database": {"ok": True},
        "redis": {"ok": True},
        "workers": {"ok": True, "workers": {}, "dead": []},
        "down": [],
        "outbound_mode": "capture",
    }


def test_health_reports_redis_down(anon, app, monkeypatch):
    import backend.queue as queue

    def broken():
        raise ConnectionError("down")

    monkeypatch.setattr(queue, "get_redis", broken)
    body = anon.get("/health/").json
    assert body["status"] == "degraded" and body["redis"]["ok"] is False
    assert body["database"] == {"ok": True} and body["down"] == ["redis"]
