"""Contact adapters: user.* from a local lookup server; cached per run; failures on the step."""

from __future__ import annotations

import http.server
import json
import threading
import time

import pytest
from runtime_helpers import linear, setup, work
from sqlalchemy import select

from backend.extensions import db
from backend.models import Note, StepExecution, WorkflowExecution
from backend.runtime.ingest import accept_event

pytestmark = [pytest.mark.redis]

PEOPLE = {"/people/c1": {"first_name": "Sara", "tags": ["vip"], "fields": {"plan": "gold"}}}
NOTE = {
    "id": "note",
    "type": "action.add_note",
    "params": {"text": "{{ user.first_name }} {{ user.fields.plan }} {{ user.tags|join(',') }}"},
}


@pytest.fixture
def platform(app):
    calls: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            calls.append(self.path)
            if self.path.startswith("/slow"):
                time.sleep(2)
            body = PEOPLE.get(self.path)
            data = json.dumps(body or {"error": "no such person"}).encode()
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    app.config.update(CONTACT_LOOKUP_URL=url + "/people/{external_id}", CONTACT_LOOKUP_TIMEOUT=1)
    yield url, calls
    app.config.update(CONTACT_LOOKUP_URL="", CONTACT_LOOKUP_TIMEOUT=5)
    server.shutdown()
    server.server_close()


def _run(app, user: str) -> WorkflowExecution:
    accept_event({"event_type": "PING", "user_id": user})
    work(app)
    db.session.expire_all()
    return db.session.scalar(select(WorkflowExecution))


def test_user_comes_from_the_lookup_once_per_run(app, platform):
    wait = {"id": "wait", "type": "flow.wait", "params": {"seconds": 0}}
    setup(app, linear(NOTE, wait, {**NOTE, "id": "again"}))
    run = _run(app, "c1")
    assert run.status == "succeeded"
    assert [n for n in db.session.scalars(select(Note.text))] == ["Sara gold vip"] * 2
    assert platform[1] == ["/people/c1"]  # one lookup for the whole run


def test_a_failed_lookup_is_a_clear_error_on_the_trigger_step(app, platform):
    setup(app, linear(NOTE))
    run = _run(app, "nobody")
    assert run.status == "failed" and "contact lookup answered HTTP 404" in run.error
    step = db.session.scalar(select(StepExecution).filter_by(execution_id=run.id))
    assert step.node_id == "t" and step.status == "failed"
    assert db.session.scalar(select(Note.id)) is None


def test_a_slow_lookup_times_out(app, platform):
    app.config["CONTACT_LOOKUP_URL"] = platform[0] + "/slow/{external_id}"
    setup(app, linear(NOTE))
    run = _run(app, "c1")
    assert run.status == "failed" and "contact lookup failed" in run.error
