"""Latency of the editor's read views on a populated database: the workflow list with its run
figures, per-node counts, a contact's timeline, and an in-memory test run.

Seeds (bulk inserts, not timed) ``--runs`` runs of 5 steps each spread over 30 days across 20
workflows, and one contact with ``--items`` timeline items (events, runs, messages, notes, tag
changes); then times each endpoint through the Flask test client with a bearer token
(``--repeat`` calls, after 3 warm-ups) and prints p50 / p95 in milliseconds, on SQLite and on
PostgreSQL::

    .venv/bin/python bench/run_views.py [--quick] [--runs 20000] [--items 2000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [
    str(BENCH.parent),
    str(BENCH.parent / "tests"),
]
SCRATCH = tempfile.mkdtemp(prefix="flowmarket-bench-views-")
os.environ["INSTANCE_PATH"] = SCRATCH

from apikit import coupon_graph, make_user  # noqa: E402
from support import (  # noqa: E402
    RedisServer,
    create_pg_database,
    create_schema,
    drop_pg_database,
    make_app,
)

NODES = ("trigger", "interested", "send", "tag", "wait")
EVENT = {"event_type": "MESSAGE_RECEIVED", "user_id": "u1", "data": {"content": "کد تخفیف"}}


def _seed_runs(workflow_ids: list[int], runs: int) -> None:
    from sqlalchemy import insert, select

    from backend.extensions import db
    from backend.models import StepExecution, WorkflowExecution, utcnow

    now, rows = utcnow(), []
    for i in range(runs):
        status = ("succeeded", "failed", "waiting")[i % 3]
        rows.append(
            {
                "workflow_id": workflow_ids[i % len(workflow_ids)],
                "trigger_node_id": "trigger",
                "status": status,
                "step_count": 5,
                "created_at": now - timedelta(minutes=(i * 43_200) // runs),
            }
        )
    db.session.execute(insert(WorkflowExecution), rows)
    ids = db.session.scalars(select(WorkflowExecution.id)).all()
    steps = [
        {
            "execution_id": run_id,
            "seq": seq,
            "node_id": node,
            "node_type": "x",
            "status": "waiting" if node == "wait" else "succeeded",
        }
        for run_id in ids
        for seq, node in enumerate(NODES, 1)
    ]
    for start in range(0, len(steps), 20_000):
        db.session.execute(insert(StepExecution), steps[start : start + 20_000])
    db.session.commit()


def _seed_contact(items: int) -> int:
    from sqlalchemy import insert

    from backend.extensions import db
    from backend.models import Contact, EventLog, Note, OutboundMessage, TagChange, utcnow

    contact = Contact(external_id="u1", channel_ids={}, fields={"city": "Tabriz"})
    db.session.add(contact)
    db.session.flush()
    now, per = utcnow(), max(items // 4, 1)
    at = [now - timedelta(seconds=i) for i in range(per)]
    db.session.execute(
        insert(EventLog),
        [
            {
                "event_type": "MESSAGE_RECEIVED",
                "idempotency_key": f"k{i}",
                "payload": {"data": {"content": "hi"}},
                "user_id": "u1",
                "contact_id": contact.id,
                "received_at": at[i],
            }
            for i in range(per)
        ],
    )
    db.session.execute(
        insert(OutboundMessage),
        [
            {
                "contact_id": contact.id,
                "kind": "message",
                "channel": "capture",
                "text": "سلام",
                "created_at": at[i],
            }
            for i in range(per)
        ],
    )
    db.session.execute(
        insert(Note),
        [{"contact_id": contact.id, "text": "n", "created_at": at[i]} for i in range(per)],
    )
    db.session.execute(
        insert(TagChange),
        [
            {
                "contact_id": contact.id,
                "tag": "vip",
                "action": "added",
                "source": "api",
                "created_at": at[i],
            }
            for i in range(per)
        ],
    )
    db.session.commit()
    return contact.id


def _time(call, repeat: int) -> tuple[float, float]:
    for _ in range(3):
        call()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        resp = call()
        samples.append((time.perf_counter() - started) * 1000)
        assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


def bench(database_url: str, redis_url: str, args) -> dict:
    app = make_app(database_url, redis_url, API_RATE_LIMIT_PER_MINUTE=0)
    create_schema(app)
    with app.app_context():
        from backend.services.workflows import create_workflow

        ids = [create_workflow(f"W{i}", graph=coupon_graph()).id for i in range(20)]
        _seed_runs(ids, args.runs)
        contact_id = _seed_contact(args.items)
        _, token = make_user("bench@example.com", "editor")
    client, base = app.test_client(), "/api/v1/workflow/api"
    headers = {"Authorization": f"Bearer {token}"}
    last_page = max(args.items // 20, 1)
    calls = {
        "GET /workflows/ (20 items + figures)": lambda: client.get(
            f"{base}/workflows/", headers=headers
        ),
        "GET node-stats 30d": lambda: client.get(
            f"{base}/workflows/{ids[0]}/node-stats/?window=30d", headers=headers
        ),
        "GET timeline page 1": lambda: client.get(
            f"{base}/contacts/{contact_id}/timeline/", headers=headers
        ),
        f"GET timeline page {last_page}": lambda: client.get(
            f"{base}/contacts/{contact_id}/timeline/?page={last_page}", headers=headers
        ),
        "POST test-run (coupon, fast-forward)": lambda: client.post(
            f"{base}/workflows/test-run/",
            headers=headers,
            json={
                "graph": coupon_graph(),
                "event": EVENT,
                "fast_forward": True,
                "contact": {"first_name": "سارا", "email": "s@example.com", "tags": ["interested"]},
            },
        ),
    }
    with app.app_context():
        return {name: _time(call, args.repeat) for name, call in calls.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--runs", type=int, default=20_000)
    parser.add_argument("--items", type=int, default=2_000)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    if args.quick:
        args.runs, args.items, args.repeat = 2_000, 400, 10
    redis = RedisServer(Path(SCRATCH))
    redis.start()
    pg_url = create_pg_database()
    try:
        results = {
            "sqlite": bench(f"sqlite:///{SCRATCH}/bench.db", redis.url, args),
            "postgres": bench(pg_url, redis.url, args),
        }
    finally:
        drop_pg_database(pg_url)
        redis.stop()
    print(
        f"{args.runs} runs x 5 steps over 30 days in 20 workflows; a contact with {args.items} "
        f"timeline items; {args.repeat} calls each (ms)"
    )
    print(f"| {'view':<40} | sqlite p50 | sqlite p95 | pg p50 | pg p95 |")
    print(f"|{'-' * 42}|-----------:|-----------:|-------:|-------:|")
    for name in results["sqlite"]:
        s, p = results["sqlite"][name], results["postgres"][name]
        print(f"| {name:<40} | {s[0]:10.1f} | {s[1]:10.1f} | {p[0]:6.1f} | {p[1]:6.1f} |")


if __name__ == "__main__":
    main()
