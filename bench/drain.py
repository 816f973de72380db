"""The worker's drain in this process: CPU and SQL statements per event, per database.

bench/throughput.py measures the whole stack; this isolates the worker's side of it. Seeded as
throughput.py seeds (300 contacts tagged ``interested``, the coupon workflow: trigger,
condition, three actions), each round stores ``--events`` coupon events (one multi-row INSERT,
not timed) and then times :func:`backend.runtime.processing.drain` until the log is empty:

- CPU ms per event: this process's CPU time (``time.process_time``) over the drain / events;
- statements per event: every statement the drain sends (an executemany counts once), and
  commits per ``drain()`` call (its batch, then the empty claim that ends it: linger 0),
  counted with SQLAlchemy's engine events;
- the best of ``--rounds`` rounds (the least disturbed by other load), after a warm-up round.

    .venv/bin/python bench/drain.py [--events 400] [--rounds 5] [--sizes 50,4] [--profile]

``--sizes``: events stored before each drain, so the batch size (50 = ``EVENT_BATCH_SIZE``,
a backlog; 4 = events trickling in).
``--profile`` prints the top functions of one more PostgreSQL round (cProfile: cumulative,
then own time).
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import os
import pstats
import shutil
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH.parent), str(BENCH.parent / "tests"), str(BENCH)]
SCRATCH = tempfile.mkdtemp(prefix="flowmarket-bench-drain-")  # instance dir, SQLite, redis
os.environ["INSTANCE_PATH"] = SCRATCH

from stack import coupon_events, seed_app  # noqa: E402
from support import (  # noqa: E402
    RedisServer,
    create_pg_database,
    create_schema,
    drop_pg_database,
    make_app,
)


class Statements:
    """Counts the statements and commits an engine sends while it is attached."""

    def __init__(self, engine):
        from sqlalchemy import event

        self.engine, self.event = engine, event
        self.statements = self.commits = 0

    def _statement(self, *args, **kwargs) -> None:
        self.statements += 1

    def _commit(self, *args, **kwargs) -> None:
        self.commits += 1

    def __enter__(self):
        self.event.listen(self.engine, "before_cursor_execute", self._statement)
        self.event.listen(self.engine, "commit", self._commit)
        return self

    def __exit__(self, *exc) -> None:
        self.event.remove(self.engine, "before_cursor_execute", self._statement)
        self.event.remove(self.engine, "commit", self._commit)


def _store_events(app, n: int) -> None:
    """``n`` coupon events as bench/post_events.lua posts them, stored together."""
    from backend.extensions import db
    from backend.runtime.ingest import accept_events

    payloads = coupon_events(n)
    with app.app_context():
        for start in range(0, n, 500):
            accept_events(payloads[start : start + 500])
        db.session.remove()


def _round(app, n: int, size: int, profile: cProfile.Profile | None = None) -> dict:
    """``n`` events, stored ``size`` at a time and drained after each store (only the drains
    are timed): ``size`` sets the batches' size, as the rate of arrival does in a live burst."""
    from backend.extensions import db
    from backend.runtime.processing import drain

    cpu = wall = 0.0
    done = statements = commits = 0
    for start in range(0, n, size):
        _store_events(app, min(size, n - start))
        with app.app_context():
            with Statements(db.engine) as counted:
                cpu0, wall0 = time.process_time(), time.perf_counter()
                if profile is not None:
                    profile.enable()
                done += drain(max_seconds=600, linger=0)
                if profile is not None:
                    profile.disable()
                cpu += time.process_time() - cpu0
                wall += time.perf_counter() - wall0
            db.session.remove()
        statements, commits = statements + counted.statements, commits + counted.commits
    assert done == n, f"drained {done} of {n} events"
    drains = -(-n // size)
    return {
        "cpu_ms": cpu * 1000 / n,
        "wall_ms": wall * 1000 / n,
        "statements": statements / n,
        "commits": commits / drains,
    }


def _check(app, rounds: int, n: int, warmup: int) -> None:
    """Every event processed, every run succeeded with its 5 steps."""
    from sqlalchemy import func, select

    from backend.extensions import db
    from backend.models import EventLog, StepExecution, WorkflowExecution

    with app.app_context():
        events = db.session.scalar(
            select(func.count(EventLog.id)).where(
                EventLog.status == "processed", EventLog.event_type == "MESSAGE_RECEIVED"
            )
        )
        runs = db.session.scalar(
            select(func.count(WorkflowExecution.id)).where(WorkflowExecution.status == "succeeded")
        )
        steps = db.session.scalar(select(func.count(StepExecution.id)))
        db.session.remove()
    total = warmup + rounds * n
    assert (events, runs, steps) == (total, total, 5 * total), (events, runs, steps)


def bench(name: str, app, args) -> dict:
    seed_app(app)
    # Warm-up: interpreter cache, pool, first tag of each contact.
    _round(app, args.warmup or args.events, 20)
    out = {"name": name, "sizes": {}}
    for size in args.sizes:
        rows = [_round(app, args.events, size) for _ in range(args.rounds)]
        out["sizes"][size] = {k: min(r[k] for r in rows) for k in rows[0]}
    _check(app, args.rounds * len(args.sizes), args.events, args.warmup or args.events)
    if args.profile and name == "PostgreSQL":
        profile = cProfile.Profile(time.process_time)  # CPU time, not waits
        _round(app, args.events, args.sizes[-1], profile)
        text = io.StringIO()
        stats = pstats.Stats(profile, stream=text)
        stats.sort_stats("cumulative").print_stats(45)
        stats.sort_stats("tottime").print_stats(25)
        out["profile"] = text.getvalue()
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=400, help="events per round")
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds (best of)")
    parser.add_argument(
        "--sizes", default="50,4", help="events stored before each drain (the batch sizes)"
    )
    parser.add_argument("--warmup", type=int, help="events of the warm-up round (--events)")
    parser.add_argument("--profile", action="store_true", help="cProfile one PostgreSQL round")
    parser.add_argument("--only", choices=("sqlite", "postgresql"), help="one database only")
    args = parser.parse_args(argv)
    args.sizes = [int(x) for x in args.sizes.split(",")]
    redis_server = RedisServer(Path(SCRATCH))
    redis_server.start()
    pg_url = create_pg_database()
    rows = []
    try:
        targets = [
            ("SQLite", f"sqlite:///{Path(SCRATCH) / 'bench.db'}"),
            ("PostgreSQL", pg_url),
        ]
        for name, url in targets:
            if args.only and args.only != name.lower():
                continue
            app = make_app(
                url,
                redis_server.url,
                RUN_LEASE_SECONDS=60,
                RATE_LIMIT_PER_CONTACT_PER_MINUTE=1_000_000,
            )
            create_schema(app)
            try:
                rows.append(bench(name, app, args))
            finally:
                from backend.extensions import db

                with contextlib.suppress(Exception), app.app_context():
                    db.engine.dispose()
    finally:
        redis_server.stop()
        drop_pg_database(pg_url)
        shutil.rmtree(SCRATCH, ignore_errors=True)
    _print(rows, args)


def _print(rows: list[dict], args) -> None:
    print(
        f"\nDrain of {args.events} coupon events per round, stored N at a time and drained, "
        f"best of {args.rounds} rounds (one process)"
    )
    print(
        f"{'database':<11} | {'N':>3} | {'CPU ms/event':>12} | {'wall ms/event':>13} | "
        f"{'statements/event':>16} | {'commits/drain':>13}"
    )
    for r in rows:
        for size, m in r["sizes"].items():
            print(
                f"{r['name']:<11} | {size:>3} | {m['cpu_ms']:>12.2f} | {m['wall_ms']:>13.2f} | "
                f"{m['statements']:>16.2f} | {m['commits']:>13.2f}"
            )
    for r in rows:
        if "profile" in r:
            print(r["profile"])


if __name__ == "__main__":
    main()
