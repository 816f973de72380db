"""Issue 10, item 12: contact custom fields have a size cap (API 413 naming the field; a step
that would set an oversized field fails without retrying)."""

from __future__ import annotations

import pytest
from runtime_helpers import linear, setup, work
from sqlalchemy import select

from backend.extensions import db
from backend.models import Contact, WorkflowExecution
from backend.runtime.ingest import accept_event


def test_a_900_kb_field_is_refused_naming_it(api):
    body = {"external_id": "c1", "fields": {"note": "ok", "blob": "x" * 900_000}}
    resp = api.post("/contacts/", body)
    assert resp.status_code == 413
    assert resp.json["field"] == "fields.blob" and "900002 bytes" in resp.json["detail"]
    assert db.session.scalar(select(Contact.id)) is None


def test_the_cap_is_configurable_and_applies_to_updates(api, app, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTACT_FIELD_BYTES", 100)
    contact = api.post("/contacts/", {"external_id": "c1", "fields": {"a": "x" * 98}}).json
    assert contact["fields"] == {"a": "x" * 98}
    resp = api.patch(f"/contacts/{contact['id']}/", {"fields": {"a": "x" * 99}})
    assert resp.status_code == 413 and resp.json["field"] == "fields.a"
    long_name = api.patch(f"/contacts/{contact['id']}/", {"fields": {"n" * 101: 1}})
    assert long_name.status_code == 400 and long_name.json["field"].startswith("fields")


@pytest.mark.redis
def test_a_workflow_cannot_write_an_oversized_field(app, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTACT_FIELD_BYTES", 1000)
    node = {
        "id": "set",
        "type": "action.update_user",
        "params": {"changes": {"fields.bio": "{{ event.data.bio }}"}},
        "retry": {"max_attempts": 3, "backoff_seconds": 0, "backoff_factor": 1},
    }
    setup(app, linear(node))
    accept_event({"event_type": "PING", "user_id": "u1", "data": {"bio": "b" * 5000}})
    work(app)
    run = db.session.scalars(select(WorkflowExecution)).one()
    assert run.status == "failed" and "fields.bio" in run.error
    assert (db.session.scalars(select(Contact)).one().fields or {}).get("bio") is None
