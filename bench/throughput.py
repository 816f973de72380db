"""End-to-end throughput and latency: HTTP ingestion -> every coupon run recorded as succeeded.

PostgreSQL + a private redis-server, the web app under gunicorn (2 processes x 4 threads),
1 and then 2 ``flask --app backend worker`` processes. Prints a table::

    .venv/bin/python bench/throughput.py [--events 1500] [--workers 1,2] [--batch 20]

Latency (event received -> run finished, from the database timestamps) is measured at half
the measured throughput, paced.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [
    str(ROOT),
    str(ROOT / "tests"),
    str(ROOT / "tests" / "reliability"),
]
if "INSTANCE_PATH" not in os.environ:
    os.environ["INSTANCE_PATH"] = tempfile.mkdtemp(prefix="flowmarket-bench-")

import runtime_helpers  # noqa: E402
from harness import Workers, post_events, runtime_config, wait_until  # noqa: E402
from support import (  # noqa: E402
    RedisServer,
    clean_tables,
    create_pg_database,
    create_schema,
    drop_pg_database,
    free_port,
    make_app,
)

# The sample coupon workflow with local effects only: trigger, condition, 3 actions.
COUPON = runtime_helpers.COUPON
USERS = 300


def _seed(app) -> str:
    from backend.extensions import db
    from backend.models import ApiToken, User
    from backend.services import contacts
    from backend.services.bootstrap import seed_event_types
    from backend.services.workflows import activate, create_workflow

    with app.app_context():
        seed_event_types()
        user = User(email="bench@example.com", role="admin")
        user.set_password("bench-password")
        db.session.add(user)
        _, token = ApiToken.issue(user, "bench")
        for i in range(USERS):
            contacts.add_tag(
                contacts.get_or_create_contact(f"b{i}", {"first_name": "Sara"}), "interested"
            )
        db.session.commit()
        activate(create_workflow("Coupon", graph=COUPON))
    return token


def _events(n: int, offset: int = 0) -> list[dict]:
    return [
        {
            "event_type": "MESSAGE_RECEIVED",
            "data": {"content": "a coupon please"},
            "user_id": f"b{(i + offset) % USERS}",
            "conversation_id": f"c{(i + offset) % USERS}",
        }
        for i in range(n)
    ]


def _succeeded(app) -> int:
    from sqlalchemy import func, select

    from backend.extensions import db
    from backend.models import WorkflowExecution as WE

    with app.app_context():
        return db.session.scalar(select(func.count(WE.id)).where(WE.status == "succeeded"))


def _latencies(app) -> list[float]:
    from sqlalchemy import select

    from backend.extensions import db
    from backend.models import EventLog
    from backend.models import WorkflowExecution as WE

    with app.app_context():
        rows = db.session.execute(
            select(EventLog.received_at, WE.finished_at).join(WE, WE.event_id == EventLog.id)
        ).all()
    return sorted((f - r).total_seconds() * 1000 for r, f in rows)


def _pct(values: list[float], p: float) -> float:
    return values[min(len(values) - 1, int(len(values) * p))]


def _gunicorn(config: dict, port: int) -> subprocess.Popen:
    env = Workers(config).env()
    return subprocess.Popen(
        [
            str(ROOT / ".venv/bin/gunicorn"),
            "-w",
            "2",
            "--threads",
            "4",
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "backend:create_app()",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _paced(port, token, events, rate):
    """Post ``events`` at about ``rate`` per second (in small bursts)."""
    start, step = time.monotonic(), 10
    for i in range(0, len(events), step):
        post_events(port, token, events[i : i + step], threads=4)
        delay = start + (i + step) / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)


def run(n_workers: int, events: int, pg_url: str, redis_url: str, batch: int = 20) -> dict:
    config = runtime_config(pg_url, redis_url, RUN_LEASE_SECONDS=60, EVENT_BATCH_SIZE=batch)
    app = make_app(pg_url, redis_url, **config)
    clean_tables(app)
    token = _seed(app)
    port = free_port()
    web, workers = _gunicorn(config, port), Workers(config)
    try:
        assert wait_until(lambda: _try_health(port), 20)
        workers.start(n_workers)
        time.sleep(2)
        t0 = time.monotonic()
        post_events(port, token, _events(events), threads=8)
        ingest = time.monotonic() - t0
        assert wait_until(lambda: _succeeded(app) >= events, 300, interval=0.05)
        elapsed = time.monotonic() - t0
        throughput = events / elapsed
        clean_tables(app)
        token = _seed(app)
        half = max(10, int(events / 2))
        _paced(port, token, _events(half), throughput / 2)
        assert wait_until(lambda: _succeeded(app) >= half, 300, interval=0.05)
        lat = _latencies(app)
    finally:
        workers.kill()
        web.terminate()
        web.wait(10)
    return {
        "workers": n_workers,
        "events": events,
        "ingest_s": ingest,
        "total_s": elapsed,
        "eps": throughput,
        "p50": _pct(lat, 0.5),
        "p95": _pct(lat, 0.95),
        "p99": _pct(lat, 0.99),
    }


def _try_health(port: int) -> bool:
    import http.client

    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        conn.request("GET", "/api/v1/workflow/api/health/")
        return conn.getresponse().status < 500
    except OSError:
        return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1500)
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--batch", type=int, default=20, help="EVENT_BATCH_SIZE")
    args = parser.parse_args()
    redis_server = RedisServer(Path(tempfile.mkdtemp()))
    redis_server.start()
    pg_url = create_pg_database()
    try:
        create_schema(make_app(pg_url, redis_server.url))
        rows = [
            run(int(n), args.events, pg_url, redis_server.url, args.batch)
            for n in args.workers.split(",")
        ]
    finally:
        redis_server.stop()
        drop_pg_database(pg_url)
    print(
        f"\nEnd to end: HTTP ingestion -> coupon run succeeded ({args.events} events, "
        f"PostgreSQL + Redis, gunicorn 2x4 web, EVENT_BATCH_SIZE={args.batch})"
    )
    print(
        f"{'workers':>7} | {'ingest s':>8} | {'total s':>7} | {'events/s':>8} | "
        f"{'p50 ms':>7} | {'p95 ms':>7} | {'p99 ms':>7}  (latency at half load)"
    )
    for r in rows:
        print(
            f"{r['workers']:>7} | {r['ingest_s']:>8.2f} | {r['total_s']:>7.2f} | "
            f"{r['eps']:>8.1f} | {r['p50']:>7.1f} | {r['p95']:>7.1f} | {r['p99']:>7.1f}"
        )
    _ = statistics  # medians of repeated runs: run the script several times


if __name__ == "__main__":
    main()
