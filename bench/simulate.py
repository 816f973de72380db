"""Simulate: events replayed per second through the coupon graph, SQLite and PostgreSQL.

Seeds (bulk inserts, not timed) ``--events`` MESSAGE_RECEIVED events spread over 30 days across
``--contacts`` contacts (half tagged ``interested``; two thirds of the messages ask for a
coupon), then calls :func:`backend.services.simulation.simulate` on the sample coupon graph
(trigger -> condition -> send -> tag -> wait 10 min -> e-mail, waits fast-forwarded) for the
whole window and prints events replayed per second (median of ``--repeat`` runs). Target:
≥ 5,000 events/s on this machine::

    .venv/bin/python bench/simulate.py [--quick] [--events 20000] [--contacts 2000]
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
SCRATCH = tempfile.mkdtemp(prefix="flowmarket-bench-simulate-")
os.environ["INSTANCE_PATH"] = SCRATCH

from apikit import coupon_graph  # noqa: E402
from support import RedisServer, create_pg_database, create_schema, drop_pg_database, make_app  # noqa: E402

TEXTS = ("سلام، کد تخفیف دارید؟", "coupon please", "hello, where is my order?")


def _seed(events: int, contacts: int) -> None:
    from sqlalchemy import insert, select

    from backend.extensions import db
    from backend.models import Contact, EventLog, Tag, utcnow

    db.session.execute(
        insert(Contact),
        [
            {
                "external_id": f"c{i}",
                "first_name": f"User{i}",
                "email": f"c{i}@example.com",
                "channel_ids": {},
                "fields": {},
            }
            for i in range(contacts)
        ],
    )
    tag = Tag(name="interested")
    db.session.add(tag)
    db.session.flush()
    ids = db.session.scalars(select(Contact.id).order_by(Contact.id)).all()
    db.session.execute(
        Contact.tags.property.secondary.insert(),
        [{"contact_id": cid, "tag_id": tag.id} for cid in ids[::2]],
    )
    now = utcnow()
    rows = []
    for i in range(events):
        user = f"c{i % contacts}"
        rows.append(
            {
                "event_type": "MESSAGE_RECEIVED",
                "idempotency_key": f"b{i}",
                "user_id": user,
                "payload": {
                    "event_type": "MESSAGE_RECEIVED",
                    "user_id": user,
                    "data": {"content": TEXTS[i % 3]},
                },
                "status": "processed",
                "received_at": now - timedelta(seconds=(i * 2_592_000) // events + 60),
            }
        )
    for start in range(0, len(rows), 10_000):
        db.session.execute(insert(EventLog), rows[start : start + 10_000])
    db.session.commit()


def bench(database_url: str, redis_url: str, args) -> tuple[float, float, dict]:
    app = make_app(database_url, redis_url)
    create_schema(app)
    with app.app_context():
        from backend.services.simulation import simulate

        _seed(args.events, args.contacts)
        rates, cpu_rates, result = [], [], None
        for _ in range(args.repeat):
            started, cpu = time.perf_counter(), time.process_time()
            result = simulate(coupon_graph(), 30)
            rates.append(result["events"] / (time.perf_counter() - started))
            cpu_rates.append(result["events"] / (time.process_time() - cpu))
        return statistics.median(rates), statistics.median(cpu_rates), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--contacts", type=int, default=2_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if args.quick:
        args.events, args.contacts, args.repeat = 3_000, 300, 1
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
        f"{args.events} events over 30 days, {args.contacts} contacts, coupon graph; "
        f"median of {args.repeat} (end to end: query + replay)"
    )
    print(
        f"load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs "
        "(events per CPU-second of this process = the rate on an idle core)"
    )
    print(
        "| database | events/s (wall) | events per CPU-s | runs | messages | contacts messaged | skipped |"
    )
    print("|---|---:|---:|---:|---:|---:|---|")
    for name, (rate, cpu_rate, r) in results.items():
        print(
            f"| {name} | {rate:,.0f} | {cpu_rate:,.0f} | {r['runs']} | {r['messages']} "
            f"| {r['contacts_messaged']} | {r['skipped']['reasons']} |"
        )


if __name__ == "__main__":
    main()
