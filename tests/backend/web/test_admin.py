"""Flask-Admin: admins only, read-only runs and events, no secrets, token revocation."""

from __future__ import annotations

import pytest
from apikit import simple_graph

VIEWS = ("workflow", "execution", "eventlog", "contact", "tag", "eventtype", "user", "apitoken")


def _login(client, email):
    resp = client.post("/login", data={"email": email, "password": "password123"})
    assert resp.status_code == 302
    return client


def test_admin_sees_every_view(admin, client):
    _login(client, "admin@example.com")
    home = client.get("/admin/")
    assert home.status_code == 302 and "/admin/workflow/" in home.headers["Location"]
    for view in VIEWS:
        resp = client.get(f"/admin/{view}/")
        assert resp.status_code == 200, view
    users = client.get("/admin/user/").get_data(as_text=True)
    assert "admin@example.com" in users
    assert "pbkdf2" not in users and "scrypt" not in users and "password_hash" not in users.lower()


def test_viewer_and_editor_are_refused_and_anonymous_redirected(viewer, editor, client):
    anonymous = client.get("/admin/workflow/")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    _login(client, "viewer@example.com")
    assert client.get("/admin/workflow/").status_code == 403
    assert client.get("/admin/user/").status_code == 403


def test_runs_and_events_are_read_only(admin, client):
    _login(client, "admin@example.com")
    assert client.get("/admin/execution/new/").status_code in (302, 403, 404)
    assert client.get("/admin/eventlog/new/").status_code in (302, 403, 404)
    page = client.get("/admin/execution/").get_data(as_text=True)
    assert "Create" not in page or "/admin/execution/new/" not in page


def test_token_list_shows_prefix_only_and_revoke_action(admin, client):
    from backend.extensions import db
    from backend.models import ApiToken

    made = admin.post("/tokens/", {"name": "ci"}).json
    _login(client, "admin@example.com")
    page = client.get("/admin/apitoken/").get_data(as_text=True)
    assert made["prefix"] in page and made["token"] not in page
    resp = client.post(
        "/admin/apitoken/action/", data={"action": "revoke", "rowid": [str(made["id"])]}
    )
    assert resp.status_code == 302
    assert db.session.get(ApiToken, made["id"]).revoked_at is not None


@pytest.mark.parametrize("verb,expected", [("activate", "active"), ("pause", "paused")])
def test_workflow_actions_go_through_the_service(admin, client, verb, expected):
    from backend.extensions import db
    from backend.models import Workflow

    wf = admin.post("/workflows/", {"name": "adm", "graph": simple_graph()}).json
    _login(client, "admin@example.com")
    resp = client.post("/admin/workflow/action/", data={"action": verb, "rowid": [str(wf["id"])]})
    assert resp.status_code == 302
    db.session.expire_all()
    assert db.session.get(Workflow, wf["id"]).status == expected


def test_invalid_workflow_is_not_activated_from_admin(admin, client):
    from backend.extensions import db
    from backend.models import Workflow

    wf = admin.post("/workflows/", {"name": "empty"}).json
    _login(client, "admin@example.com")
    client.post("/admin/workflow/action/", data={"action": "activate", "rowid": [str(wf["id"])]})
    db.session.expire_all()
    assert db.session.get(Workflow, wf["id"]).status == "draft"


def test_admin_creates_a_user_with_a_hashed_password(admin, client):
    from backend.extensions import db
    from backend.models import User

    _login(client, "admin@example.com")
    assert client.get("/admin/user/new/").status_code == 200
    resp = client.post(
        "/admin/user/new/",
        data={
            "email": "new@example.com",
            "role": "editor",
            "is_active_user": "y",
            "new_password": "a long password",
        },
    )
    assert resp.status_code == 302
    user = db.session.scalar(db.select(User).where(User.email == "new@example.com"))
    assert user.role == "editor" and user.check_password("a long password")
    assert "a long password" not in user.password_hash
