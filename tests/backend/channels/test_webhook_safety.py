"""Issue 10, item 11: unsafe webhook URLs refused at validation, CR/LF headers, Idempotency-Key."""

from __future__ import annotations

import pytest
from apikit import simple_graph
from runtime_helpers import FlakyServer, linear, setup, work
from sqlalchemy import select

from backend.extensions import db
from backend.models import StepExecution, WorkflowExecution
from backend.runtime.ingest import accept_event

UNSAFE = {
    "file:///etc/passwd": "only http(s)",
    "gopher://example.com:70/_x": "only http(s)",
    "http://10.0.0.5/hook": "not public",
    "http://169.254.169.254/latest/meta-data": "not public",
    "http://[::ffff:127.0.0.1]/": "not public",
    "http://[::ffff:7f00:1]:8080/": "not public",
    "http://[64:ff9b::a9fe:a9fe]/": "not public",
    "http://[::127.0.0.1]/": "not public",
    "http://2130706433/": "not public",
    "http://127.1/": "not public",
    "https://user:secret@example.com/hook": "credentials",
    "https://{{ event.data.token }}@example.com/": "credentials",
}


def _webhook_graph(url: str, headers: dict | None = None) -> dict:
    graph = simple_graph()
    hook = {"id": "hook", "type": "action.webhook", "params": {"url": url}}
    if headers:
        hook["params"]["headers"] = headers
    graph["nodes"][1] = hook
    graph["edges"][0]["target"] = "hook"
    return graph


@pytest.mark.parametrize("url", sorted(UNSAFE))
def test_unsafe_webhook_urls_fail_validation_and_activation(api, app, monkeypatch, url):
    monkeypatch.setitem(app.config, "HTTP_ALLOW_PRIVATE", "")
    wf = api.post("/workflows/", {"name": "w", "graph": _webhook_graph(url)}).json
    validation = api.get(f"/workflows/{wf['id']}/").json["validation"]
    assert validation["ok"] is False
    (error,) = [e for e in validation["errors"] if e["code"] == "unsafe_url"]
    assert error["node_id"] == "hook" and UNSAFE[url] in error["message"]
    refused = api.post(f"/workflows/{wf['id']}/activate/")
    assert refused.status_code == 400 and refused.json["errors"][0]["node_id"] == "hook"


@pytest.mark.parametrize(
    "url",
    ["https://api.example.com/hook?x=1", "{{ event.data.url }}", "https://{{ event.data.host }}/x"],
)
def test_public_names_and_templates_pass_validation(api, app, monkeypatch, url):
    monkeypatch.setitem(app.config, "HTTP_ALLOW_PRIVATE", "")
    wf = api.post("/workflows/", {"name": "w", "graph": _webhook_graph(url)}).json
    assert api.get(f"/workflows/{wf['id']}/").json["validation"]["ok"] is True


def test_literal_header_with_a_line_break_fails_validation(api):
    graph = _webhook_graph("https://api.example.com/", {"X-A": "v\r\nX-Injected: 1"})
    wf = api.post("/workflows/", {"name": "w", "graph": graph}).json
    (error,) = api.get(f"/workflows/{wf['id']}/").json["validation"]["errors"]
    assert error["node_id"] == "hook" and error["field"] == "headers.X-A"


@pytest.fixture
def live(app):
    server = FlakyServer([])
    app.config["OUTBOUND_MODE"] = "live"
    yield server
    app.config["OUTBOUND_MODE"] = "capture"
    server.close()


def test_templated_header_with_a_line_break_is_a_step_error_not_retried(app, live):
    hook = {
        "id": "hook",
        "type": "action.webhook",
        "params": {"url": live.url + "/x", "headers": {"X-Name": "{{ event.data.name }}"}},
        "retry": {"max_attempts": 3, "backoff_seconds": 0, "backoff_factor": 1},
    }
    setup(app, linear(hook))
    accept_event({"event_type": "PING", "user_id": "u1", "data": {"name": "a\r\nX-Evil: 1"}})
    work(app)
    run = db.session.scalars(select(WorkflowExecution)).one()
    assert run.status == "failed" and "line break" in run.error
    steps = db.session.scalars(select(StepExecution).filter_by(node_id="hook")).all()
    assert [s.status for s in steps] == ["failed"]
    assert live.requests == []


def test_outbound_webhooks_carry_an_idempotency_key(app, live):
    hook = {"id": "hook", "type": "action.webhook", "params": {"url": live.url + "/x"}}
    setup(app, linear(hook))
    accept_event({"event_type": "PING", "user_id": "u1"})
    work(app)
    run = db.session.scalars(select(WorkflowExecution)).one()
    assert run.status == "succeeded"
    (request,) = live.requests
    key = request["headers"]["Idempotency-Key"]
    assert key.startswith(f"{run.id}:hook")
