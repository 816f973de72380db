"""Flask-Admin: outbound messages, notes and tag changes; an execution's steps as a table; tag
edits in the admin recorded for the contact's timeline."""

from __future__ import annotations

import re

import pytest
from runtime_helpers import coupon_run
from sqlalchemy import select

pytestmark = [pytest.mark.redis]


def _login(client, email="admin@example.com"):
    resp = client.post("/login", data={"email": email, "password": "password123"})
    assert resp.status_code == 302
    return client


def test_history_views_list_what_was_sent(app, admin, client):
    _, _, run = coupon_run(app)
    _login(client)
    messages = client.get("/admin/outboundmessage/").get_data(as_text=True)
    assert "Sara, your code: SAVE10" in messages and "captured" in messages
    assert "coupon sent" in client.get("/admin/note/").get_data(as_text=True)
    assert "coupon_sent" in client.get("/admin/tagchange/").get_data(as_text=True)
    assert client.get("/admin/outboundmessage/new/").status_code in (302, 403, 404)


def test_execution_detail_shows_steps_as_a_table(app, admin, client):
    _, _, run = coupon_run(app)
    _login(client)
    page = client.get(f"/admin/execution/details/?id={run.id}").get_data(as_text=True)
    assert 'class="table table-sm table-bordered steps"' in page
    assert re.findall(r'data-step-seq="(\d+)"', page) == ["1", "2", "3", "4", "5"]
    assert "<td>send</td>" in page and "<td>action.send_message</td>" in page


def test_history_details_pages_show_no_execution_relationship_row(app, admin, client):
    """The models' ``execution`` relationship is for the flush order only (models.Note)."""
    from backend.extensions import db
    from backend.models import Note, OutboundMessage, TagChange

    coupon_run(app)
    _login(client)
    for view, model in (
        ("note", Note),
        ("outboundmessage", OutboundMessage),
        ("tagchange", TagChange),
    ):
        row_id = db.session.scalar(select(model.id).limit(1))
        page = client.get(f"/admin/{view}/details/?id={row_id}").get_data(as_text=True)
        assert page.count("<td>") > 0, view
        assert "<b>Execution</b>" not in page, view


def test_viewer_cannot_open_history_views(viewer, client):
    _login(client, "viewer@example.com")
    for view in ("outboundmessage", "note", "tagchange"):
        assert client.get(f"/admin/{view}/").status_code == 403


def test_tag_edits_in_the_admin_are_recorded_as_admin_changes(admin, client):
    from backend.extensions import db
    from backend.models import Tag, TagChange

    contact = admin.post("/contacts/", {"external_id": "a1", "tags": ["vip"]}).json
    db.session.add(Tag(name="new"))
    db.session.commit()
    new_id = db.session.scalar(select(Tag.id).where(Tag.name == "new"))
    _login(client)
    resp = client.post(
        f"/admin/contact/edit/?id={contact['id']}",
        data={
            "external_id": "a1",
            "first_name": "",
            "last_name": "",
            "email": "",
            "phone": "",
            "channel": "",
            "tags": [str(new_id)],
        },
    )
    body = resp.get_data(as_text=True)
    assert resp.status_code == 302, re.findall(r"<li>([^<]*)</li>", body)
    db.session.expire_all()
    rows = db.session.scalars(select(TagChange).where(TagChange.source == "admin")).all()
    assert sorted((r.tag, r.action, r.user_id) for r in rows) == [
        ("new", "added", admin.user.id),
        ("vip", "removed", admin.user.id),
    ]
