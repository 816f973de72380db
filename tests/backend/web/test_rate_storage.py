"""The API's rate-limit counters (backend.rate_storage): the same limits and headers, with the
headers answered by the request's own hit instead of two more Redis commands."""

from __future__ import annotations

import time

import pytest
import redis

pytestmark = [pytest.mark.redis]


def _get_calls(app) -> int:
    stats = redis.Redis.from_url(app.config["REDIS_URL"]).info("commandstats")
    return stats.get("cmdstat_get", {}).get("calls", 0)


def test_headers_count_down_to_the_limit(editor, app, monkeypatch):
    monkeypatch.setitem(app.config, "API_RATE_LIMIT_PER_MINUTE", 4)
    answers = [editor.get("/workflows/") for _ in range(5)]
    assert [r.status_code for r in answers] == [200, 200, 200, 200, 429]
    remaining = [int(r.headers["X-RateLimit-Remaining"]) for r in answers[:4]]
    assert remaining == [3, 2, 1, 0]
    assert all(r.headers["X-RateLimit-Limit"] == "4" for r in answers)
    reset = int(answers[0].headers["X-RateLimit-Reset"])
    assert time.time() - 1 <= reset <= time.time() + 61


def test_the_headers_cost_no_extra_redis_read(editor, app, monkeypatch):
    """No GET for the headers (the limiter's GET + TTL): the only GETs are the token cache's
    access version, read in the scripts that take a lease (of 2, then 4 calls here)."""
    from backend import api_limit

    monkeypatch.setattr(api_limit, "_now", lambda: 1000.0)
    editor.get("/workflows/")
    before = _get_calls(app)
    for _ in range(3):
        assert editor.get("/workflows/").status_code == 200
    assert _get_calls(app) - before == 2
