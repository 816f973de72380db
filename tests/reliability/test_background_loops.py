"""Issue 10, items 1 and 4: a worker's background loops (scheduler, cron) outlive Redis
restarts, FLUSHALL and a write-refusing ``maxmemory``; ``/health/`` reports a loop that stopped
and the worker restarts it; a SIGKILLed worker leaves no scheduler behind holding the lock.

One real ``flask worker`` process (two for the lock hand-over) on PostgreSQL and a private
Redis server this module restarts at will. Nothing restarts the worker. The loops are threads
of the worker process (issue 12: one copy of the app per worker).
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
import redis as redis_lib
from harness import Workers, runtime_config, wait_until
from sqlalchemy import func, select
from support import RedisServer, clean_tables, create_schema, make_app

pytestmark = [pytest.mark.reliability, pytest.mark.postgres, pytest.mark.redis]
WAIT = {"id": "wait", "type": "flow.wait", "params": {"seconds": 2}}
TAG = {"id": "tag", "type": "action.add_tag", "params": {"tag": "seen"}}


@pytest.fixture
def rig(pg_url, tmp_path):
    server = RedisServer(tmp_path)
    server.start()
    config = runtime_config(pg_url, server.url, LOOP_STALE_SECONDS=3)
    app = make_app(pg_url, server.url, **config)
    create_schema(app)
    clean_tables(app)
    workers = Workers(config)
    with app.app_context():
        yield {"app": app, "redis": server, "workers": workers, "queue": config["RQ_QUEUE"]}
        workers.kill()
    server.stop()


def _setup() -> None:
    from backend.extensions import db
    from backend.models import EventType
    from backend.services.bootstrap import seed_event_types
    from backend.services.workflows import activate, create_workflow

    seed_event_types()
    db.session.add(EventType(name="PING", description=""))
    db.session.commit()
    nodes = [{"id": "t", "type": "trigger.event", "params": {"event_type": "PING"}}, TAG, WAIT]
    edges = [
        {"id": "e1", "source": "t", "target": "tag"},
        {"id": "e2", "source": "tag", "target": "wait"},
    ]
    graph = {"format": "workflow-graph/v1", "name": "loops", "nodes": nodes, "edges": edges}
    activate(create_workflow("loops", graph=graph))


def _events(prefix: str, n: int = 3) -> None:
    from backend.runtime.ingest import accept_event

    for i in range(n):  # committed whatever Redis says; dispatch may fail
        accept_event({"event_type": "PING", "user_id": f"{prefix}{i}"})


def _succeeded() -> int:
    from backend.extensions import db
    from backend.models import WorkflowExecution as WE

    db.session.rollback()
    return db.session.scalar(select(func.count(WE.id)).where(WE.status == "succeeded"))


def _health() -> dict:
    from backend.api.health import check

    return check()


def test_waits_resume_and_events_drain_after_restart_flushall_and_oom(rig):
    _setup()
    rig["workers"].start(1)
    worker = rig["workers"].procs[0]
    _events("a")
    assert wait_until(lambda: _succeeded() == 3, 30)
    conn = redis_lib.Redis.from_url(rig["redis"].url)

    _events("b")  # waiting runs and queued work, then Redis restarts empty
    rig["redis"].stop()
    time.sleep(3)
    rig["redis"].start()
    _events("c")
    assert wait_until(lambda: _succeeded() == 9, 60), _succeeded()

    _events("d")
    conn.flushall()  # a FLUSHALL after the restart
    assert wait_until(lambda: _succeeded() == 12, 60), _succeeded()

    conn.config_set("maxmemory-policy", "noeviction")
    conn.config_set("maxmemory", "1")  # every write refused: OOM
    _events("e")
    time.sleep(4)
    conn.config_set("maxmemory", "0")
    assert wait_until(lambda: _succeeded() == 15, 60), _succeeded()

    assert worker.poll() is None  # the same worker process did all of it

    # ...and health says so again once every loop has beaten since the outage.
    def recovered():
        h = _health()
        return h["workers"]["ok"] and h["workers"]["workers"] and not h["down"] and h

    health = wait_until(recovered, 20)  # the loops' beats are back (the OOM refused them)
    assert health, _health()


def _children(pid: int) -> list[int]:
    """The child processes of ``pid``."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            ppid = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if ppid == pid:
            found.append(int(proc.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _loops_of_one_worker() -> set:
    return set(next(iter(_health()["workers"]["workers"].values()), {}))


def test_health_reports_a_stopped_loop_and_the_worker_restarts_it(rig):
    conn = redis_lib.Redis.from_url(rig["redis"].url)
    rig["workers"].start(1)
    worker = rig["workers"].procs[0]
    assert wait_until(lambda: _loops_of_one_worker() == {"scheduler", "cron"}, 30)
    assert _children(worker.pid) == []  # the loops are threads: one process, one app

    # A due job whose hash RQ cannot read (no payload): the scheduler loop raises on it, which
    # is not a Redis error, so its thread ends (and ends again after each restart).
    conn.hset("rq:job:unreadable", mapping={"origin": rig["queue"]})
    conn.zadd(f"rq:scheduled:{rig['queue']}", {"unreadable": 0})
    health = wait_until(lambda: (h := _health())["workers"]["dead"] and h, 15)
    assert health and health["workers"]["dead"][0].endswith(":scheduler"), health
    assert health["down"] == ["workers"] and health["status"] == "degraded"

    conn.delete("rq:job:unreadable")  # now a missing job, which RQ drops from the registry
    assert wait_until(lambda: _health()["workers"]["ok"], 15), _health()
    assert worker.poll() is None  # the same process: the loop thread was restarted
    assert not conn.zscore(f"rq:scheduled:{rig['queue']}", "unreadable")


def test_sigkilled_worker_leaves_no_scheduler_holding_the_lock(rig):
    conn = redis_lib.Redis.from_url(rig["redis"].url)
    lock_key = f"rq:scheduler-lock:{rig['queue']}"
    rig["workers"].start(1)
    first = rig["workers"].procs[0].pid
    assert wait_until(lambda: conn.get(lock_key), 20)
    holder = conn.get(lock_key)
    rig["workers"].start(1)  # a second worker, waiting for the lock
    assert wait_until(lambda: len(_health()["workers"]["workers"]) == 2, 30)
    os.kill(first, signal.SIGKILL)  # the worker alone, not its process group
    assert wait_until(lambda: not _alive(first), 15)
    taken = wait_until(lambda: (v := conn.get(lock_key)) and v != holder and v, 20)
    assert taken, "the second worker's scheduler did not take the lock over"
