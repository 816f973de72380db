"""Issue 10, item 10: ``POST /hooks/<key>`` answers like the API (JSON errors) and is rate-limited."""

from __future__ import annotations

import pytest
from runtime_helpers import linear, setup
from sqlalchemy import select

from backend.extensions import db
from backend.models import EventLog, Trigger

pytestmark = [pytest.mark.redis]
HOOK = {"id": "w", "type": "trigger.webhook"}
TAG = {"id": "tag", "type": "action.add_tag", "params": {"tag": "hooked"}}


@pytest.fixture
def hook_url(app):
    setup(app, linear(TAG, trigger=HOOK))
    return "/hooks/" + db.session.scalars(select(Trigger.webhook_key)).one()


@pytest.mark.parametrize("depth", [100, 30_000])
def test_deeply_nested_json_is_a_400_json_answer(client, hook_url, depth):
    body = "[" * depth + "]" * depth
    resp = client.post(hook_url, data=body, content_type="application/json")
    assert resp.status_code == 400 and resp.is_json
    assert resp.json["code"] == "bad_request" and "nested too deeply" in resp.json["detail"]
    assert db.session.scalar(select(EventLog.id)) is None


def test_malformed_json_and_nul_characters_are_400_json(client, hook_url):
    for body in ('{"a": ', '{"a": NaN}', '{"a": "\\u0000"}'):
        resp = client.post(hook_url, data=body, content_type="application/json")
        assert resp.status_code == 400 and resp.is_json, body
    assert client.get(hook_url).json["code"] == "method_not_allowed"
    too_big = client.post(hook_url, data="x" * 70_000, content_type="text/plain")
    assert too_big.status_code == 413 and too_big.json["code"] == "payload_too_large"


def test_webhook_calls_are_rate_limited_per_address_and_key(app, client, hook_url, monkeypatch):
    monkeypatch.setitem(app.config, "HOOK_RATE_LIMIT_PER_MINUTE", 5)
    codes = [client.post(hook_url, json={"n": i}).status_code for i in range(7)]
    assert codes == [202] * 5 + [429] * 2
    throttled = client.post(hook_url, json={})
    assert throttled.json["code"] == "throttled" and int(throttled.headers["Retry-After"]) >= 1
    other = client.post(hook_url, json={}, environ_base={"REMOTE_ADDR": "10.0.0.7"})
    assert other.status_code == 202
    assert db.session.query(EventLog).count() == 6
