"""Issue 10, item 5: leases and due times follow the database's clock, not a worker's.

A worker with the right time starts a run that waits 45 seconds; then it stops and a worker
whose clock is 300 s ahead (libfaketime, Debian's ``faketime`` package) takes over. PostgreSQL
keeps the real time. The wait still takes 45 seconds (the skewed worker used to resume it at
once: by its clock it was long due).
"""

from __future__ import annotations

import glob
import signal
import time

import pytest
from harness import Workers, runtime_config, wait_until
from sqlalchemy import select
from support import clean_tables, create_schema, make_app, unavailable

pytestmark = [pytest.mark.reliability, pytest.mark.postgres, pytest.mark.redis]
WAIT_SECONDS = 45  # far longer than a worker takes to start, so an early resume shows


@pytest.fixture
def skewed(pg_url, redis_server):
    libs = glob.glob("/usr/lib/*/faketime/libfaketime.so.1")
    if not libs:
        unavailable("libfaketime is not installed (apt-get install faketime)")
    config = runtime_config(pg_url, redis_server.url)
    app = make_app(pg_url, redis_server.url, **config)
    create_schema(app)
    clean_tables(app)
    normal, ahead = Workers(config), Workers({**config, "LD_PRELOAD": libs[0], "FAKETIME": "+300s"})
    with app.app_context():
        yield normal, ahead
        normal.kill()
        ahead.kill()


def _setup() -> None:
    from backend.extensions import db
    from backend.models import EventType
    from backend.services.bootstrap import seed_event_types
    from backend.services.workflows import activate, create_workflow

    seed_event_types()
    db.session.add(EventType(name="PING", description=""))
    db.session.commit()
    wait = {"id": "wait", "type": "flow.wait", "params": {"seconds": WAIT_SECONDS}}
    tag = {"id": "tag", "type": "action.add_tag", "params": {"tag": "after"}}
    nodes = [{"id": "t", "type": "trigger.event", "params": {"event_type": "PING"}}, wait, tag]
    edges = [
        {"id": "e1", "source": "t", "target": "wait"},
        {"id": "e2", "source": "wait", "target": "tag"},
    ]
    activate(
        create_workflow(
            "skew",
            graph={"format": "workflow-graph/v1", "name": "skew", "nodes": nodes, "edges": edges},
        )
    )


def _status() -> str | None:
    from backend.extensions import db
    from backend.models import WorkflowExecution

    db.session.rollback()
    return db.session.scalar(select(WorkflowExecution.status))


def test_a_worker_ahead_of_the_database_does_not_resume_waits_early(skewed):
    from backend.runtime.ingest import accept_event

    normal, ahead = skewed
    _setup()
    normal.start(1)
    accepted = time.monotonic()
    accept_event({"event_type": "PING", "user_id": "u1"})
    assert wait_until(lambda: _status() == "waiting", 30)
    ahead.start(1)
    normal.kill(signal.SIGTERM)
    assert wait_until(lambda: _status() == "succeeded", 120, interval=0.1)
    elapsed = time.monotonic() - accepted
    assert elapsed >= WAIT_SECONDS, f"resumed after {elapsed:.1f} s"
    assert elapsed < WAIT_SECONDS + 20  # late by at most a few sweeps
