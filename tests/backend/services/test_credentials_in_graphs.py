"""Issue 10, item 6: credentials referenced by name, resolved only when a request is sent,
masked by value wherever they could land; viewers see graphs with secret-looking values masked.

A real local HTTP server that echoes what it got (so a response that repeats the secret is
exercised), the real runner and channels, SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import logging

import pytest
from apikit import make_user, simple_graph
from runtime_helpers import FlakyServer, linear, setup, work
from sqlalchemy import select

from backend.extensions import db
from backend.models import Credential, OutboundMessage, StepExecution, WorkflowExecution
from backend.runtime.ingest import accept_event

SECRET = "sk_live_7f3a9c2e11"
REF = "{{ credentials.shop_api }}"


@pytest.fixture
def echo(app):
    server = FlakyServer(echo=True)
    app.config["OUTBOUND_MODE"] = "live"
    yield server
    app.config["OUTBOUND_MODE"] = "capture"
    server.close()


def _credential(name="shop_api", secret=None):
    row = Credential(name=name, kind="http_headers")
    row.secret = secret or {"token": SECRET}
    db.session.add(row)
    db.session.commit()


def _hook(url: str) -> dict:
    return {
        "id": "hook",
        "type": "action.webhook",
        "params": {
            "url": url + "/orders?key=" + REF,
            "headers": {"X-Shop-Key": REF, "Authorization": "Bearer " + REF},
            "body": "user=bo&password=" + REF,
        },
    }


def _everything_stored() -> str:
    rows = [
        *[(s.input, s.output, s.error) for s in db.session.scalars(select(StepExecution))],
        *[(r.state, r.error) for r in db.session.scalars(select(WorkflowExecution))],
        *[(o.to, o.text, o.response, o.error) for o in db.session.scalars(select(OutboundMessage))],
    ]
    return json.dumps(rows, default=str)


def test_a_referenced_credential_is_sent_but_never_stored(app, echo, viewer, caplog):
    _credential()
    setup(app, linear(_hook(echo.url)))
    accept_event({"event_type": "PING", "user_id": "u1"})
    with caplog.at_level(logging.INFO):
        work(app)
        logging.getLogger("flowmarket.test").warning("about to leak %s", SECRET)
    run = db.session.scalars(select(WorkflowExecution)).one()
    assert run.status == "succeeded", run.error
    (got,) = echo.requests
    assert got["path"] == f"/orders?key={SECRET}"
    assert got["headers"]["X-Shop-Key"] == SECRET
    assert got["headers"]["Authorization"] == f"Bearer {SECRET}"
    assert got["body"] == f"user=bo&password={SECRET}"
    stored = _everything_stored()
    assert SECRET not in stored and "[credential:shop_api]" in stored
    assert "\u27e6" not in stored  # no marker (nor its nonce) is ever stored
    detail = viewer.get(f"/workflow-executions/{run.id}/").get_data(as_text=True)
    assert SECRET not in detail
    assert not [r for r in caplog.records if SECRET in r.getMessage()]


def test_an_unknown_credential_fails_validation_naming_the_node(api):
    graph = simple_graph()
    graph["nodes"][1] = {
        "id": "hook",
        "type": "action.webhook",
        "params": {"url": "https://api.example.com/?k={{ credentials.nope }}"},
    }
    graph["edges"][0]["target"] = "hook"
    wf = api.post("/workflows/", {"name": "w", "graph": graph}).json
    errors = api.get(f"/workflows/{wf['id']}/").json["validation"]["errors"]
    assert [(e["code"], e["node_id"]) for e in errors] == [("unknown_credential", "hook")]
    assert api.post(f"/workflows/{wf['id']}/activate/").status_code == 400


def test_viewers_see_literal_secrets_in_graphs_masked(api, viewer):
    graph = simple_graph()
    graph["nodes"][1] = {
        "id": "hook",
        "type": "action.webhook",
        "params": {
            "url": "https://api.example.com/x?api_token=tok-999&page=2",
            "headers": {
                "X-Shop-Key": "shop-key-888",
                "Accept": "application/json",
                "Authorization": REF,
            },
            "body": "user=bo&password=pw-777",
        },
    }
    graph["edges"][0]["target"] = "hook"
    wf = api.post("/workflows/", {"name": "w", "graph": graph}).json
    secrets = ("tok-999", "shop-key-888", "pw-777")
    as_editor = api.get(f"/workflows/{wf['id']}/").get_data(as_text=True)
    assert all(s in as_editor for s in secrets)
    for path in (
        f"/workflows/{wf['id']}/",
        f"/workflows/{wf['id']}/export/",
        f"/workflows/{wf['id']}/versions/",
        f"/workflows/{wf['id']}/versions/1/",
        f"/actions/{wf['id']}:hook/",
        "/actions/",
    ):
        resp = viewer.get(path)
        text = resp.get_data(as_text=True)
        assert resp.status_code == 200 and not [s for s in secrets if s in text], path
    params = viewer.get(f"/actions/{wf['id']}:hook/").json["params"]
    assert params["headers"] == {
        "X-Shop-Key": "***",
        "Accept": "application/json",
        "Authorization": REF,
    }
    assert params["url"] == "https://api.example.com/x?api_token=***&page=2"


def test_testing_an_action_returns_no_secret(api):
    graph = simple_graph()
    graph["nodes"][1] = {
        "id": "hook",
        "type": "action.webhook",
        "params": {
            "url": "https://api.example.com/x",
            "headers": {"Authorization": "Bearer abc-secret-1"},
        },
    }
    graph["edges"][0]["target"] = "hook"
    wf = api.post("/workflows/", {"name": "w", "graph": graph}).json
    resp = api.post(f"/actions/{wf['id']}:hook/test/")
    assert resp.status_code == 200 and "abc-secret-1" not in resp.get_data(as_text=True)


def test_credential_values_are_masked_for_viewers_in_other_places(app, echo, viewer):
    """A credential with several fields, one named explicitly; the echo holds it in the output."""
    _credential("crm", {"user": "svc", "password": "crm-pass-42"})
    hook = {
        "id": "hook",
        "type": "action.webhook",
        "params": {"url": echo.url + "/in", "body": {"pw": "{{ credentials.crm.password }}"}},
    }
    setup(app, linear(hook))
    accept_event({"event_type": "PING", "user_id": "u1"})
    work(app)
    assert json.loads(echo.requests[0]["body"]) == {"pw": "crm-pass-42"}
    assert "crm-pass-42" not in _everything_stored()
    make_user("viewer2@example.com", "viewer")
    listing = viewer.get("/workflow-executions/").get_data(as_text=True)
    assert "crm-pass-42" not in listing
