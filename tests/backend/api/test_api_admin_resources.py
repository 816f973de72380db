"""Users, API tokens and credentials: admin only, secrets never echoed."""

from __future__ import annotations

import json

from apikit import Api


def test_users_crud_and_last_admin_protection(admin):
    made = admin.post(
        "/users/", {"email": "New@Example.com", "password": "longenough", "role": "editor"}
    )
    assert made.status_code == 201 and made.json["email"] == "new@example.com"
    assert "password" not in json.dumps(made.json)
    assert (
        admin.post("/users/", {"email": "new@example.com", "password": "longenough"}).status_code
        == 409
    )
    assert (
        admin.post("/users/", {"email": "x@y.z", "password": "short"}).json["field"] == "password"
    )
    uid = made.json["id"]
    assert admin.patch(f"/users/{uid}/", {"role": "viewer"}).json["role"] == "viewer"
    me = admin.get("/users/me/").json
    assert me["email"] == "admin@example.com"
    last = admin.patch(f"/users/{me['id']}/", {"role": "editor"})
    assert last.status_code == 409
    assert admin.delete(f"/users/{me['id']}/").status_code == 409
    assert admin.delete(f"/users/{uid}/").status_code == 204
    assert [u["email"] for u in admin.get("/users/").json["results"]] == ["admin@example.com"]


def test_tokens_are_shown_once_listed_by_prefix_and_revocable(admin, client):
    made = admin.post("/tokens/", {"name": "platform"})
    assert made.status_code == 201
    plain = made.json["token"]
    assert plain.startswith("fm_") and plain.startswith(made.json["prefix"])
    listed = admin.get("/tokens/").json["results"]
    assert all("token" not in t and "token_hash" not in t for t in listed)
    assert plain not in json.dumps(listed)
    other = Api(client, plain)
    assert other.get("/workflows/").status_code == 200
    assert admin.delete(f"/tokens/{made.json['id']}/").status_code == 204
    assert other.get("/workflows/").status_code == 401
    assert admin.get("/tokens/", include_revoked="true").json["count"] == len(listed)


def test_token_for_another_user(admin, viewer, client):
    made = admin.post("/tokens/", {"user_id": viewer.user.id}).json
    assert made["user_email"] == "viewer@example.com"
    assert Api(client, made["token"]).post("/workflows/", {"name": "x"}).status_code == 403
    assert admin.post("/tokens/", {"user_id": 999}).json["field"] == "user_id"


def test_credentials_are_encrypted_and_redacted(admin, app):
    made = admin.post(
        "/credentials/", {"name": "bot", "kind": "telegram", "secret": {"bot_token": "123:SECRET"}}
    )
    assert made.status_code == 201 and made.json["keys"] == ["bot_token"]
    assert "SECRET" not in made.get_data(as_text=True)
    cid = made.json["id"]
    assert "SECRET" not in admin.get("/credentials/").get_data(as_text=True)
    assert "SECRET" not in admin.get(f"/credentials/{cid}/").get_data(as_text=True)
    from backend.extensions import db
    from backend.models import Credential

    row = db.session.get(Credential, cid)
    assert b"SECRET" not in row.encrypted and row.secret == {"bot_token": "123:SECRET"}
    assert admin.patch(f"/credentials/{cid}/", {"secret": {"bot_token": "new"}}).status_code == 200
    assert (
        admin.post("/credentials/", {"name": "bot", "kind": "smtp", "secret": {}}).status_code
        == 409
    )
    assert admin.delete(f"/credentials/{cid}/").status_code == 204
