"""The duplicate-send window of the outbox, measured: provider answered -> ``sent`` committed.

A live channel reserves its ``OutboundMessage`` row, sends, then records ``sent`` in a
transaction of its own (:mod:`backend.channels.outbox`). Only a worker killed inside that last
step (the provider has the message; the row still says ``queued``) makes the retried step send
again. This prints the duration of that step (``finish``: one single-row UPDATE + COMMIT on a
separate connection) on SQLite and on PostgreSQL, p50 / p99 / max over ``--n`` rows::

    .venv/bin/python bench/outbox_window.py [--n 500]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH.parent), str(BENCH.parent / "tests")]
os.environ["INSTANCE_PATH"] = tempfile.mkdtemp(prefix="flowmarket-bench-outbox-")

from support import create_pg_database, create_schema, drop_pg_database, make_app  # noqa: E402


def _measure(url: str, n: int) -> list[float]:
    from backend.channels.base import OutboundRequest
    from backend.channels.outbox import finish, reserve

    app = make_app(url, "redis://127.0.0.1:1/0")
    create_schema(app)
    times = []
    with app.app_context():
        for i in range(n):
            row = reserve(OutboundRequest("message", f"bench:{i}"), "telegram", "c1", "hi")
            start = time.perf_counter()
            finish(row.id, "sent", provider_message_id=i, response={"ok": True})
            times.append((time.perf_counter() - start) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=500)
    n = parser.parse_args().n
    sqlite = f"sqlite:///{Path(os.environ['INSTANCE_PATH']) / 'bench.db'}"
    pg = create_pg_database()
    try:
        rows = [("sqlite", _measure(sqlite, n)), ("postgresql", _measure(pg, n))]
    finally:
        drop_pg_database(pg)
    print(f"{'database':<12}{'p50 ms':>10}{'p99 ms':>10}{'max ms':>10}")
    for name, times in rows:
        times.sort()
        p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
        print(f"{name:<12}{statistics.median(times):>10.2f}{p99:>10.2f}{times[-1]:>10.2f}")


if __name__ == "__main__":
    main()
