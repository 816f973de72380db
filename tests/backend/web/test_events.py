"""Socket.IO live traces: authentication, rooms, and traces published through Redis.

A real server (werkzeug, threaded) and a real python-socketio client: traces travel from the
worker through the Redis message queue to the web process and the browser, as in production.
"""

from __future__ import annotations

import time

import pytest
import socketio as sio_client
from runtime_helpers import linear, setup, work
from socketkit import Client

from backend.extensions import db
from backend.models import ApiToken, User
from backend.runtime.ingest import accept_event

pytestmark = [pytest.mark.redis]
TAG = {"id": "tag", "type": "action.add_tag", "params": {"tag": "done"}}


def _token(role: str = "viewer") -> str:
    user = User(email=f"{role}@example.com", role=role)
    user.set_password("secret-password")
    db.session.add(user)
    _, plain = ApiToken.issue(user, "ws")
    db.session.commit()
    return plain


def test_anonymous_and_bad_tokens_are_refused(app, server_url):
    for token in (None, "fm_wrong"):
        with pytest.raises(sio_client.exceptions.ConnectionError):
            Client(server_url, token)


def test_watching_a_workflow_receives_every_step_transition(app, server_url):
    (wf,) = setup(app, linear(TAG))
    client = Client(server_url, _token())
    assert client.watch(workflow_id=wf.id) == {"ok": True, "room": f"workflow:{wf.id}"}
    accept_event({"event_type": "PING", "user_id": "u1"})
    work(app)
    traces = client.wait(6)
    kinds = [t["kind"] for t in traces]
    assert kinds == [
        "run_started",
        "step_started",
        "step_finished",
        "step_started",
        "step_finished",
        "run_finished",
    ]
    finished = traces[4]
    assert finished["node_id"] == "tag" and finished["status"] == "succeeded"
    assert "duration_ms" in finished and "done" in finished["output_preview"]
    assert traces[-1]["status"] == "succeeded"
    client.close()


def test_watch_of_unknown_workflow_or_bad_payload_is_refused(app, server_url):
    client = Client(server_url, _token())
    assert client.watch(workflow_id=999)["ok"] is False
    assert client.watch(workflow_id="x")["ok"] is False
    client.close()


def test_unwatched_workflows_publish_nothing(app, server_url):
    from backend.queue import get_redis

    (wf,) = setup(app, linear(TAG))
    (other,) = setup(app, linear(TAG), event_types=())
    client = Client(server_url, _token())
    client.watch(workflow_id=other.id)
    watchers = get_redis(app).hgetall("fm:watchers")
    assert watchers == {str(other.id).encode(): b"1"}
    accept_event({"event_type": "PING", "user_id": "u1"})
    work(app)
    traces = client.wait(12, timeout=1.5)
    assert traces and {t["workflow_id"] for t in traces} == {other.id}
    assert wf.id != other.id
    client.close()
    time.sleep(0.2)
    assert get_redis(app).hgetall("fm:watchers") == {str(other.id).encode(): b"0"}


def test_execution_room(app, server_url):
    from sqlalchemy import select

    from backend.models import WorkflowExecution
    from backend.runtime import run_control

    manual = {"id": "m", "type": "trigger.manual"}
    (wf,) = setup(app, linear(TAG, trigger=manual))
    ex = run_control.start_manual(wf, {}, "u1")
    client = Client(server_url, _token())
    assert client.watch(execution_id=ex.id)["ok"]
    work(app)
    traces = client.wait(6)
    assert {t["execution_id"] for t in traces} == {ex.id}
    assert traces[-1]["kind"] == "run_finished"
    assert db.session.scalar(select(WorkflowExecution.status)) == "succeeded"
    client.close()
