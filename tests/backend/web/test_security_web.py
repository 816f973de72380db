"""Issue 10, items 7 and 8: socket origins, cookie flags, sign-in throttle, API rate-limit keys.

Real Redis (Flask-Limiter's storage), a real threaded server and a real Socket.IO client.
"""

from __future__ import annotations

import threading

import pytest
import socketio as sio_client
from apikit import BASE, make_user
from werkzeug.serving import make_server

pytestmark = [pytest.mark.redis]


@pytest.fixture
def server_url(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


class _Client(sio_client.Client):
    def disconnect(self):
        """Drop the connection now (a clean polling disconnect waits for the long poll)."""
        self.eio.disconnect(abort=True)


def _connect(url: str, token: str, origin: str | None):
    client = _Client(reconnection=False)
    headers = {"Origin": origin} if origin else {}
    client.connect(
        url, auth={"token": token}, headers=headers, wait_timeout=5, transports=["polling"]
    )
    return client


def test_socket_refuses_a_foreign_origin_and_accepts_its_own(app, server_url, monkeypatch):
    _, token = make_user("viewer@example.com", "viewer")
    with pytest.raises(sio_client.exceptions.ConnectionError):
        _connect(server_url, token, "https://evil.example")
    _connect(server_url, token, server_url).disconnect()
    _connect(server_url, token, None).disconnect()  # no Origin: not a browser
    monkeypatch.setitem(app.config, "SOCKETIO_ALLOWED_ORIGINS", ["https://editor.example"])
    _connect(server_url, token, "https://editor.example").disconnect()
    with pytest.raises(sio_client.exceptions.ConnectionError):
        _connect(server_url, token, "https://evil.example")


def _login(client, email="editor@example.com", password="password123"):
    return client.post("/login", data={"email": email, "password": password})


def _cookie(resp, name: str) -> str:
    return next(c for c in resp.headers.getlist("Set-Cookie") if c.startswith(name + "="))


def test_session_cookie_is_lax_and_secure_over_https(app):
    make_user("editor@example.com", "editor")
    plain = _login(app.test_client())
    assert plain.status_code == 302
    cookie = _cookie(plain, "session")
    assert "SameSite=Lax" in cookie and "Secure" not in cookie
    https = app.test_client()
    resp = https.post(
        "/login",
        base_url="https://flow.example",
        data={"email": "editor@example.com", "password": "password123", "remember": "y"},
    )
    assert resp.status_code == 302
    for name in ("session", "remember_token"):
        cookie = _cookie(resp, name)
        assert "Secure" in cookie and "SameSite=Lax" in cookie, cookie


def test_behind_a_trusted_proxy_forwarded_https_makes_cookies_secure(app, monkeypatch):
    from werkzeug.middleware.proxy_fix import ProxyFix

    make_user("editor@example.com", "editor")
    monkeypatch.setattr(app, "wsgi_app", ProxyFix(app.wsgi_app, x_proto=1))
    resp = app.test_client().post(
        "/login",
        data={"email": "editor@example.com", "password": "password123"},
        headers={"X-Forwarded-Proto": "https"},
    )
    assert "Secure" in _cookie(resp, "session")


def test_wrong_passwords_are_throttled_per_account_even_the_right_one_waits(app, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_RATE_LIMIT_PER_ACCOUNT", "5 per 15 minutes")
    make_user("editor@example.com", "editor")
    client = app.test_client()
    codes = [_login(client, password=f"wrong-{i}").status_code for i in range(7)]
    assert codes == [401] * 5 + [429] * 2
    assert _login(client).status_code == 429  # the right password, too late
    page = _login(client).get_data(as_text=True)
    assert "Too many sign-in attempts" in page
    # Another account from the same address is not locked by this one's failures.
    make_user("viewer@example.com", "viewer")
    assert _login(client, email="viewer@example.com").status_code == 302


def test_failed_sign_ins_are_throttled_per_client_address(app, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_RATE_LIMIT_PER_ADDRESS", "4 per 15 minutes")
    make_user("editor@example.com", "editor")
    client = app.test_client()
    codes = [_login(client, email=f"u{i}@example.com").status_code for i in range(6)]
    assert codes == [401] * 4 + [429] * 2
    other = app.test_client()
    resp = other.post(
        "/login",
        environ_base={"REMOTE_ADDR": "10.1.2.3"},
        data={"email": "editor@example.com", "password": "password123"},
    )
    assert resp.status_code == 302


def test_successful_sign_ins_do_not_count(app, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_RATE_LIMIT_PER_ACCOUNT", "2 per 15 minutes")
    make_user("editor@example.com", "editor")
    assert [_login(app.test_client()).status_code for _ in range(4)] == [302] * 4


def test_a_fresh_bogus_token_per_request_shares_the_address_bucket(app, monkeypatch):
    monkeypatch.setitem(app.config, "API_RATE_LIMIT_PER_MINUTE", 3)
    client = app.test_client()
    codes = [
        client.get(
            BASE + "/workflows/", headers={"Authorization": f"Bearer fm_bogus{i}"}
        ).status_code
        for i in range(5)
    ]
    assert codes == [401, 401, 401, 429, 429]
    throttled = client.get(BASE + "/workflows/", headers={"Authorization": "Bearer fm_x"})
    assert throttled.json["code"] == "throttled"
    assert 1 <= int(throttled.headers["Retry-After"]) <= 60


def test_api_limit_follows_the_user_not_the_token_or_address(app, monkeypatch):
    from backend.extensions import db
    from backend.models import ApiToken

    monkeypatch.setitem(app.config, "API_RATE_LIMIT_PER_MINUTE", 4)
    user, first = make_user("editor@example.com", "editor")
    _, second = ApiToken.issue(user, "second")
    db.session.commit()
    _, other = make_user("viewer@example.com", "viewer")
    client = app.test_client()

    def get(token, addr="127.0.0.1"):
        return client.get(
            BASE + "/workflows/",
            headers={"Authorization": f"Bearer {token}"},
            environ_base={"REMOTE_ADDR": addr},
        ).status_code

    assert [get(first), get(second, "10.0.0.9"), get(first), get(second)] == [200] * 4
    assert get(second, "10.9.9.9") == 429  # same user, new token and address: same bucket
    assert get(other) == 200  # another user behind the same address is not throttled


def test_limits_fail_open_while_redis_is_down(app, redis_server, monkeypatch):
    monkeypatch.setitem(app.config, "API_RATE_LIMIT_PER_MINUTE", 1)
    monkeypatch.setitem(app.config, "LOGIN_RATE_LIMIT_PER_ACCOUNT", "1 per 15 minutes")
    _, token = make_user("editor@example.com", "editor")
    client = app.test_client()
    redis_server.stop()
    try:
        headers = {"Authorization": f"Bearer {token}"}
        codes = [client.get(BASE + "/workflows/", headers=headers).status_code for _ in range(3)]
        assert codes == [200, 200, 200]
        assert [_login(client, password="bad").status_code for _ in range(3)] == [401] * 3
    finally:
        redis_server.start()


def test_a_token_call_opens_no_session_and_a_signed_in_one_keeps_its_own(app):
    _, token = make_user("editor@example.com", "editor")
    client = app.test_client()
    api = client.get(BASE + "/workflows/", headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 200 and "Set-Cookie" not in api.headers
    assert _login(client).status_code == 302
    assert client.get(BASE + "/workflows/").status_code == 200  # the session cookie still works
    assert client.post("/logout").status_code in (302, 303)
    assert client.get(BASE + "/workflows/").status_code == 401
