"""Authentication and permissions: every operation's role rule, tokens, sessions, CSRF, limits."""

from __future__ import annotations

import re

from apikit import BASE, Api

ROLE_ORDER = ("viewer", "editor", "admin")


def _operations():
    import backend  # noqa: F401 - the app factory imports every API module
    from backend.api.spec import OPERATIONS

    return [op for op in OPERATIONS if op.role is not None]


def _url(op) -> str:
    path = re.sub(r"<id:\w+>", "1", op.rule)
    return BASE + re.sub(r"<\w+>", "1:x", path)


def test_every_operation_needs_credentials(anon):
    ops = _operations()
    assert len(ops) > 40
    for op in ops:
        resp = anon.call(op.method, _url(op))
        assert resp.status_code == 401, (op.method, op.rule)
        assert resp.json["code"] == "not_authenticated"
        assert resp.headers["WWW-Authenticate"] == "Bearer"


def test_every_operation_above_the_role_is_403(viewer, editor):
    for who, principal in (("viewer", viewer), ("editor", editor)):
        refused = 0
        for op in _operations():
            if ROLE_ORDER.index(op.role) > ROLE_ORDER.index(who):
                resp = principal.call(op.method, _url(op))
                assert resp.status_code == 403, (who, op.method, op.rule, resp.status_code)
                assert op.role in resp.json["detail"]
                refused += 1
        assert refused > 5


def test_role_rules_are_the_documented_ones():
    by_rule = {(op.method, op.rule): op.role for op in _operations()}
    assert by_rule[("GET", "/workflows/")] == "viewer"
    assert by_rule[("POST", "/workflows/")] == "editor"
    assert by_rule[("POST", "/triggers/process_event/")] == "editor"
    assert by_rule[("GET", "/users/")] == "admin"
    assert by_rule[("POST", "/tokens/")] == "admin"
    assert by_rule[("GET", "/credentials/")] == "admin"
    unsafe = [op for op in _operations() if op.method != "GET"]
    assert all(op.role in ("editor", "admin") for op in unsafe)


def test_viewer_reads(viewer):
    for path in (
        "/workflows/",
        "/triggers/",
        "/actions/",
        "/contacts/",
        "/node-types/",
        "/workflow-executions/",
        "/trigger-event-logs/",
        "/workflows/statistics/",
    ):
        assert viewer.get(path).status_code == 200, path


def test_bad_tokens(client, seeded):
    assert Api(client, "fm_not-a-real-token").get("/workflows/").status_code == 401
    resp = client.get(BASE + "/workflows/", headers={"Authorization": "Basic abc"})
    assert resp.status_code == 401 and resp.json["field"] == "Authorization"


def test_inactive_user_token_stops_working(editor):
    from backend.extensions import db

    editor.user.is_active_user = False
    db.session.commit()
    assert editor.get("/workflows/").status_code == 401


def test_last_used_is_recorded_at_most_once_a_minute(editor):
    from backend.extensions import db
    from backend.models import ApiToken

    editor.get("/workflows/")
    token = db.session.scalar(db.select(ApiToken).where(ApiToken.user_id == editor.user.id))
    first = token.last_used_at
    assert first is not None
    editor.get("/workflows/")
    db.session.refresh(token)
    assert token.last_used_at == first


def _login(client, email="editor@example.com", password="password123"):
    return client.post("/login", data={"email": email, "password": password})


def test_session_auth_and_csrf_for_unsafe_api_calls(editor, client, app, monkeypatch):
    assert _login(client).status_code == 302
    assert client.get(BASE + "/workflows/").status_code == 200
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    refused = client.post(BASE + "/workflows/", json={"name": "x"})
    assert refused.status_code == 403 and refused.json["field"] == "X-CSRFToken"
    page = client.get("/workflows").get_data(as_text=True)
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)
    ok = client.post(BASE + "/workflows/", json={"name": "x"}, headers={"X-CSRFToken": token})
    assert ok.status_code == 201
    assert editor.post("/workflows/", {"name": "token calls need no CSRF"}).status_code == 201


def test_rate_limit_answers_429_with_retry_after(editor, app, monkeypatch):
    monkeypatch.setitem(app.config, "API_RATE_LIMIT_PER_MINUTE", 3)
    codes = [editor.get("/workflows/").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    resp = editor.get("/workflows/")
    assert resp.json["code"] == "throttled" and 1 <= int(resp.headers["Retry-After"]) <= 60


def test_can_read_workflow():
    from backend.auth import can_read_workflow
    from backend.models import User

    assert can_read_workflow(User(role="viewer", is_active_user=True), 1)
    assert not can_read_workflow(User(role="viewer", is_active_user=False), 1)
    assert not can_read_workflow(None, 1)
