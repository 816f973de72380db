"""The API's rate limit (backend.api_limit): a busy bucket's calls are taken from Redis in
leases and counted out locally, the access version read with them and again once it is
VERSION_MAX_AGE old; revocation in this process shows on the next call, the limit and its 429
and headers are the ones Flask-Limiter gave, and a revoked token's calls count against the
caller's address, not the former owner. The leases' clock is the test's."""

from __future__ import annotations

import contextlib

import pytest
import redis
from redis.connection import Connection

pytestmark = [pytest.mark.redis]


@contextlib.contextmanager
def round_trips(monkeypatch):
    """The requests this process sends to Redis inside the block (a pipeline is one)."""
    sent: list[bytes] = []
    original = Connection.send_packed_command

    def send(self, command, check_health=True):
        sent.append(command if isinstance(command, bytes) else b"".join(command))
        return original(self, command, check_health)

    monkeypatch.setattr(Connection, "send_packed_command", send)
    yield sent
    monkeypatch.setattr(Connection, "send_packed_command", original)


def _bucket(app, name: str, amount: int) -> int | None:
    from backend.api_limit import redis_key

    value = redis.Redis.from_url(app.config["REDIS_URL"]).get(redis_key(name, amount))
    return None if value is None else int(value)


class Clock:
    def __init__(self, monkeypatch):
        from backend import api_limit

        self.now = 1000.0
        monkeypatch.setattr(api_limit, "_now", lambda: self.now)


def test_a_busy_bucket_takes_its_calls_in_leases(editor, app, monkeypatch):
    from backend.api_limit import LEASE_SHARE, MAX_LEASE

    amount = MAX_LEASE * LEASE_SHARE
    monkeypatch.setitem(app.config, "API_RATE_LIMIT_PER_MINUTE", amount)
    Clock(monkeypatch)
    assert editor.get("/workflows/").status_code == 200  # the token is looked up, then cached
    with round_trips(monkeypatch) as sent:
        answers = [editor.get("/workflows/") for _ in range(30)]
    assert {a.status_code for a in answers} == {200}
    # leases of 2, 4, 8 and 16 calls, each taken (with the access version) in one round trip
    assert len(sent) == 4 and all(b"EVALSHA" in command for command in sent)
    assert _bucket(app, f"user:{editor.user.id}", amount) == 1 + 2 + 4 + 8 + 16
    remaining = [int(a.headers["X-RateLimit-Remaining"]) for a in answers]
    assert remaining == [amount - n for n in range(2, 32)]  # exact within this process


def test_a_small_limit_is_counted_call_by_call(editor, app, monkeypatch):
    from backend.api_limit import LEASE_SHARE

    amount = 2 * LEASE_SHARE - 1
    monkeypatch.setitem(app.config, "API_RATE_LIMIT_PER_MINUTE", amount)
    Clock(monkeypatch)
    editor.get("/workflows/")
    with round_trips(monkeypatch) as sent:
        for _ in range(3):
            assert editor.get("/workflows/").status_code == 200
    assert len(sent) == 3 and _bucket(app, f"user:{editor.user.id}", amount) == 4


def test_the_access_version_is_read_again_once_it_is_old(editor, app, monkeypatch):
    """Another process's access change (here: a user deactivated in plain SQL, and the
    version bumped as that process's commit does) applies within VERSION_MAX_AGE."""
    from sqlalchemy import text

    from backend.api_limit import VERSION_MAX_AGE
    from backend.extensions import db
    from backend.token_cache import VERSION_KEY

    monkeypatch.setitem(app.config, "API_RATE_LIMIT_PER_MINUTE", 100_000)
    clock = Clock(monkeypatch)
    for _ in range(4):  # the token cached; a lease of 2 taken, then one of 4
        assert editor.get("/workflows/").status_code == 200
    with db.engine.begin() as conn:
        conn.execute(
            text("UPDATE users SET is_active_user = false WHERE id = :id"), {"id": editor.user.id}
        )
    redis.Redis.from_url(app.config["REDIS_URL"]).incr(VERSION_KEY)
    with round_trips(monkeypatch) as sent:
        assert editor.get("/workflows/").status_code == 200  # the version read just now holds
    assert sent == []
    clock.now += VERSION_MAX_AGE
    taken = _bucket(app, f"user:{editor.user.id}", 100_000)
    db.session.rollback()  # the test shares the requests' session: drop its loaded user
    assert editor.get("/workflows/").status_code == 401
    assert _bucket(app, f"user:{editor.user.id}", 100_000) < taken  # its calls given back


def test_revocation_shows_on_the_next_call_and_counts_against_the_address(editor, app, monkeypatch):
    from backend.extensions import db
    from backend.models import ApiToken, utcnow

    monkeypatch.setitem(app.config, "API_RATE_LIMIT_PER_MINUTE", 10)
    Clock(monkeypatch)
    assert [editor.get("/workflows/").status_code for _ in range(3)] == [200] * 3
    token = db.session.query(ApiToken).filter_by(user_id=editor.user.id).one()
    token.revoked_at = utcnow()
    db.session.commit()
    assert editor.get("/workflows/").status_code == 401
    assert _bucket(app, f"user:{editor.user.id}", 10) == 3  # the presumed hit was moved
    assert _bucket(app, "addr:127.0.0.1", 10) == 1
    assert editor.get("/workflows/").status_code == 401
    assert _bucket(app, "addr:127.0.0.1", 10) == 2


def test_the_limit_answers_429_with_the_same_headers(editor, app, monkeypatch):
    monkeypatch.setitem(app.config, "API_RATE_LIMIT_PER_MINUTE", 2)
    answers = [editor.get("/workflows/") for _ in range(3)]
    assert [r.status_code for r in answers] == [200, 200, 429]
    throttled = answers[-1]
    assert throttled.json == {"detail": "rate limit exceeded, retry later", "code": "throttled"}
    assert throttled.headers["X-RateLimit-Limit"] == "2"
    assert throttled.headers["X-RateLimit-Remaining"] == "0"
    assert 1 <= int(throttled.headers["Retry-After"]) <= 61
    assert int(throttled.headers["X-RateLimit-Reset"]) >= int(answers[0].headers["Retry-After"])
    ttl = redis.Redis.from_url(app.config["REDIS_URL"]).ttl(
        f"LIMITS:LIMITER/fm/user:{editor.user.id}/api/2/1/minute"
    )
    assert 0 < ttl <= 60  # Flask-Limiter's key and window, so both kinds of process agree


def test_a_session_call_is_limited_per_user(app, client, seeded, monkeypatch):
    from support import make_user

    monkeypatch.setitem(app.config, "API_RATE_LIMIT_PER_MINUTE", 2)
    user, _ = make_user("editor@example.com", "editor")
    assert (
        client.post("/login", data={"email": user.email, "password": "password123"}).status_code
        == 302
    )
    codes = [client.get("/api/v1/workflow/api/workflows/").status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    assert _bucket(app, f"user:{user.id}", 2) == 3


def test_limits_off_send_no_headers(editor, app, monkeypatch):
    monkeypatch.setitem(app.config, "API_RATE_LIMIT_PER_MINUTE", 0)
    answer = editor.get("/workflows/")
    assert answer.status_code == 200 and "X-RateLimit-Limit" not in answer.headers
