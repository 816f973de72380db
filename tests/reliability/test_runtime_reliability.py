"""Reliability: real ``flask worker`` processes on PostgreSQL + Redis, killed, flushed, cut off."""

from __future__ import annotations

import http.server
import signal
import threading
import time

import pytest
from harness import API, Proxy, Workers, post_events, runtime_config, wait_until
from sqlalchemy import func, select
from support import clean_tables, create_schema, make_app
from werkzeug.serving import make_server

pytestmark = [pytest.mark.reliability, pytest.mark.postgres, pytest.mark.redis]


class SlowServer:
    """A local webhook receiver that takes ``delay`` seconds per request."""

    def __init__(self, delay: float):
        self.count = 0
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                outer.count += 1
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                time.sleep(delay)
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *a):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture(scope="module")
def stack(pg_url, redis_server):
    config = runtime_config(pg_url, redis_server.url, OUTBOUND_MODE="live")
    app = make_app(pg_url, redis_server.url, **config)
    create_schema(app)
    web = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=web.serve_forever, daemon=True).start()
    yield {"app": app, "config": config, "port": web.server_port, "redis": redis_server}
    web.shutdown()


@pytest.fixture
def env(stack):
    import redis

    clean_tables(stack["app"])
    redis.Redis.from_url(stack["redis"].url).flushall()
    workers = Workers(stack["config"])
    with stack["app"].app_context():
        yield {**stack, "workers": workers}
    workers.kill()


def _setup(graph: dict) -> str:
    from backend.extensions import db
    from backend.models import ApiToken, EventType, User
    from backend.services.bootstrap import seed_event_types
    from backend.services.workflows import activate, create_workflow

    seed_event_types()
    db.session.add(EventType(name="PING", description=""))
    user = User(email="rel@example.com", role="admin")
    user.set_password("reliability-password")
    db.session.add(user)
    _, token = ApiToken.issue(user, "rel")
    db.session.commit()
    activate(create_workflow(graph["name"], graph=graph))
    return token


def _graph(*nodes) -> dict:
    trigger = {"id": "t", "type": "trigger.event", "params": {"event_type": "PING"}}
    chain = [trigger, *nodes]
    return {
        "format": "workflow-graph/v1",
        "name": "rel",
        "settings": {},
        "nodes": chain,
        "edges": [
            {"id": f"e{i}", "source": a["id"], "target": b["id"]}
            for i, (a, b) in enumerate(zip(chain, chain[1:], strict=False))
        ],
    }


TAG = {"id": "tag", "type": "action.add_tag", "params": {"tag": "seen"}}
NOTE = {"id": "note", "type": "action.add_note", "params": {"text": "done"}}


def _count(model, *where) -> int:
    from backend.extensions import db

    db.session.rollback()
    return db.session.scalar(select(func.count(model.id)).where(*where))


def _done(n: int):
    from backend.models import EventLog
    from backend.models import WorkflowExecution as WE

    # The runs' tag actions emit TAG_ADDED events after them: done = runs and events processed.
    return lambda: (
        _count(WE, WE.status == "succeeded") >= n
        and _count(EventLog, EventLog.status != "processed") == 0
    )


def _assert_consistent(expected_runs: int) -> None:
    """Every event processed, one run per event, no step recorded twice as succeeded, the
    step counter matches the rows (nothing half-written)."""
    from backend.extensions import db
    from backend.models import EventLog, StepExecution
    from backend.models import WorkflowExecution as WE

    assert _count(EventLog, EventLog.status != "processed") == 0
    assert _count(WE) == expected_runs == _count(WE, WE.status == "succeeded")
    dupes = db.session.execute(
        select(StepExecution.execution_id, StepExecution.node_id)
        .where(StepExecution.status == "succeeded")
        .group_by(StepExecution.execution_id, StepExecution.node_id)
        .having(func.count() > 1)
    ).all()
    assert dupes == []
    for run in db.session.scalars(select(WE)):
        assert run.step_count == _count(StepExecution, StepExecution.execution_id == run.id)


def test_sigkill_mid_run_then_recovery(env):
    slow = SlowServer(1.0)
    hook = {"id": "hook", "type": "action.webhook", "params": {"url": slow.url}}
    token = _setup(_graph(TAG, hook, NOTE))
    env["workers"].start(1)
    assert (
        post_events(
            env["port"], token, [{"event_type": "PING", "user_id": f"k{i}"} for i in range(5)]
        )
        == [202] * 5
    )
    assert wait_until(lambda: slow.count >= 1, 20)
    env["workers"].kill(signal.SIGKILL)  # in the middle of a webhook step
    env["workers"].start(1)
    assert wait_until(_done(5), 60)
    _assert_consistent(5)


def test_flushall_and_redis_restart_with_waiting_runs_and_queued_events(env):
    import redis

    wait = {"id": "wait", "type": "flow.wait", "params": {"seconds": 2}}
    token = _setup(_graph(TAG, wait, NOTE))
    env["workers"].start(1)
    post_events(env["port"], token, [{"event_type": "PING", "user_id": f"w{i}"} for i in range(5)])
    from backend.models import WorkflowExecution as WE

    assert wait_until(lambda: _count(WE, WE.status == "waiting") == 5, 20)
    env["workers"].kill(signal.SIGTERM)
    post_events(env["port"], token, [{"event_type": "PING", "user_id": f"q{i}"} for i in range(5)])
    redis.Redis.from_url(env["redis"].url).flushall()
    env["redis"].stop()
    env["redis"].start()
    env["workers"].start(1)
    assert wait_until(_done(10), 60)
    _assert_consistent(10)


def test_same_event_posted_five_times_concurrently(env):
    token = _setup(_graph(TAG))
    payload = {"event_type": "PING", "user_id": "dup", "event_id": "same-event-1"}
    assert post_events(env["port"], token, [payload] * 5, threads=5) == [202] * 5
    env["workers"].start(1)
    assert wait_until(_done(1), 30)
    time.sleep(1)
    _assert_consistent(1)


def test_thousand_concurrent_events_all_run(env):
    token = _setup(_graph(TAG, NOTE))
    env["workers"].start(2)
    statuses = post_events(
        env["port"], token, [{"event_type": "PING", "user_id": f"m{i % 200}"} for i in range(1000)]
    )
    assert statuses == [202] * 1000
    from backend.models import EventLog

    # (the runs' tag actions add TAG_ADDED events of their own as they go)
    assert _count(EventLog, EventLog.event_type == "PING") == 1000
    assert wait_until(_done(1000), 120, interval=0.5)
    _assert_consistent(1000)


def test_database_briefly_unavailable_during_runs(env, pg_url):
    from urllib.parse import urlsplit

    from backend.models import StepExecution

    slow = SlowServer(0.8)
    hook = {"id": "hook", "type": "action.webhook", "params": {"url": slow.url}}
    token = _setup(_graph(TAG, hook, NOTE))
    parts = urlsplit(pg_url)
    proxy = Proxy((parts.hostname, parts.port or 5432))
    proxied = pg_url.replace(f"{parts.hostname}:{parts.port or 5432}", f"127.0.0.1:{proxy.port}")
    env["workers"].start(1, DATABASE_URL=proxied)
    post_events(env["port"], token, [{"event_type": "PING", "user_id": f"d{i}"} for i in range(3)])
    assert wait_until(lambda: slow.count >= 1, 20)
    proxy.cut()  # the webhook answers while the database is gone: the checkpoint fails
    time.sleep(2.5)
    proxy.restore()
    assert wait_until(_done(3), 60)
    _assert_consistent(3)
    failed = select(StepExecution.error).where(StepExecution.status == "failed")
    from backend.extensions import db

    errors = db.session.scalars(failed).all()
    assert errors and all("database unavailable" in e for e in errors)
    # The outage interrupted the webhook's checkpoint: the record names that node (a run that
    # was starting during the cut may name its trigger step too: it was interrupted as well).
    blamed = select(StepExecution.node_id).where(StepExecution.status == "failed")
    assert "hook" in set(db.session.scalars(blamed))


def test_bad_input_is_refused_and_nothing_is_enqueued(env):
    import http.client
    import json

    from backend.models import EventLog
    from backend.queue import get_queue

    token = _setup(_graph(TAG))
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    conn = http.client.HTTPConnection("127.0.0.1", env["port"], timeout=10)

    def post(path, body):
        conn.request("POST", API + path, body=json.dumps(body), headers=headers)
        resp = conn.getresponse()
        return resp.status, json.loads(resp.read() or b"{}")

    assert post("/triggers/process_event/", {"event_type": "NO_SUCH_TYPE"})[0] == 400
    assert (
        post("/triggers/process_event/", {"event_type": "PING", "data": {"x": "y" * 70_000}})[0]
        == 413
    )
    assert post("/triggers/process_event/", {"data": {}})[0] == 400
    status, body = post(
        "/workflows/", {"name": "bad", "graph": _graph({"id": "x", "type": "action.nope"})}
    )
    if status == 201:
        status, body = post(f"/workflows/{body['id']}/activate/", {})
    assert status == 400 and "x" in json.dumps(body)
    assert _count(EventLog) == 0 and get_queue().count == 0
