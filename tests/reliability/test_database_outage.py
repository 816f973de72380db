"""Issue 10, item 2: a database that refuses connections or swallows packets.

The real ``serve`` process talks to PostgreSQL through a TCP proxy; the proxy refuses, then
black-holes. Every call answers within a few seconds: 503 + ``Retry-After`` + a JSON body for
the API, and ``/health/`` names the part that is down.
"""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import tempfile
import time
from urllib.parse import urlsplit

import pytest
from harness import API, FLASK, ROOT, Proxy, wait_until
from support import create_schema, free_port, make_app

pytestmark = [pytest.mark.reliability, pytest.mark.postgres, pytest.mark.redis]
CONNECT, STATEMENT_MS = 2, 2000
BOUND = CONNECT + STATEMENT_MS / 1000 + 2 + 2  # the deadlines plus slack for a busy machine


@pytest.fixture(scope="module")
def served(pg_url, redis_server):
    app = make_app(pg_url, redis_server.url)
    create_schema(app)
    from backend.extensions import db
    from backend.models import ApiToken, User

    with app.app_context():
        user = User(email=f"outage-{time.time_ns()}@example.com", role="editor")
        user.set_password("password123")
        db.session.add(user)
        _, token = ApiToken.issue(user, "outage")
        db.session.commit()
    parts = urlsplit(pg_url)
    proxy = Proxy((parts.hostname, parts.port or 5432))
    proxied = pg_url.replace(f"{parts.hostname}:{parts.port or 5432}", f"127.0.0.1:{proxy.port}")
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": proxied,
        "REDIS_URL": redis_server.url,
        "PORT": str(port),
        "EMBEDDED_WORKER": "off",
        "SECRET_KEY": "outage",
        "INSTANCE_PATH": tempfile.mkdtemp(),
        "CREDENTIALS_KEY": "2Q0vPz0Eod1m6zHGbvPOY6c3r0n9oZpI0S5n7iBfS0w=",
        "DB_CONNECT_TIMEOUT_SECONDS": str(CONNECT),
        "DB_STATEMENT_TIMEOUT_MS": str(STATEMENT_MS),
    }
    proc = subprocess.Popen(
        [FLASK, "--app", "backend", "serve", "--no-setup"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert wait_until(lambda: _call(port, "GET", "/health/", token)[0] == 200, 60)
        yield {"port": port, "token": token, "proxy": proxy}
    finally:
        proc.terminate()
        proc.wait(15)


def _call(port: int, method: str, path: str, token: str, body=None):
    """(status, headers, JSON body, seconds); status 0 when the server is not up yet."""
    started = time.monotonic()
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        conn.request(
            method,
            API + path,
            body=json.dumps(body) if body is not None else None,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        resp = conn.getresponse()
        raw = resp.read()
    except OSError:
        return 0, {}, None, time.monotonic() - started
    data = (
        json.loads(raw)
        if raw and resp.getheader("Content-Type", "").startswith("application/json")
        else None
    )
    return resp.status, dict(resp.getheaders()), data, time.monotonic() - started


def _assert_unavailable(served):
    port, token = served["port"], served["token"]
    for method, path, body in (
        ("GET", "/workflows/", None),
        ("POST", "/triggers/process_event/", {"event_type": "PING"}),
    ):
        status, headers, data, seconds = _call(port, method, path, token, body)
        assert status == 503, (path, status, data)
        assert int(headers["Retry-After"]) >= 1 and data["code"] == "unavailable"
        assert seconds < BOUND, (path, seconds)
    status, _, health, seconds = _call(port, "GET", "/health/", token)
    assert status == 200 and seconds < BOUND
    assert "database" in health["down"] and health["database"]["ok"] is False
    assert health["redis"]["ok"] is True


def _recovers(served):
    served["proxy"].restore()
    ok = wait_until(
        lambda: _call(served["port"], "GET", "/workflows/", served["token"])[0] == 200, 30
    )
    assert ok


def test_refused_connections_answer_503_quickly(served):
    assert _call(served["port"], "GET", "/workflows/", served["token"])[0] == 200
    served["proxy"].cut()
    try:
        _assert_unavailable(served)
    finally:
        _recovers(served)


def test_a_black_holed_database_answers_503_within_the_deadlines(served):
    assert _call(served["port"], "GET", "/workflows/", served["token"])[0] == 200
    served["proxy"].blackhole()  # the pooled connection stops answering; new ones hang
    try:
        _assert_unavailable(served)
    finally:
        _recovers(served)
