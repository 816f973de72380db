"""The ingestion request path alone: requests/s and CPU µs per event of the web app.

No HTTP server and no worker: a fresh PostgreSQL database and a private redis-server (as in
``bench/throughput.py``), the seeded coupon workflow and token, then ``app.test_client()``
posting one event per request to ``/triggers/process_event/`` in this process (or, with
``--batch N``, N events per request to ``/triggers/process_events/``). CPU is this process's
(``time.process_time``), so PostgreSQL's and Redis's share is left out.

    .venv/bin/python bench/request_path.py [--requests 2000] [--batch N] [--profile out.prof]

Prints a table: events, seconds, events/s, CPU µs per event (median of 3 rounds).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from stack import API, HERE, USERS, Tree, wait_for  # noqa: E402


def _event(run: str, i: int) -> dict:
    return {
        "event_type": "MESSAGE_RECEIVED",
        "event_id": f"{run}-{i}",
        "user_id": f"b{i % USERS}",
        "conversation_id": f"c{i % USERS}",
        "data": {"content": "a coupon please"},
    }


def _round(client, headers, n: int, run: str, batch: int = 0) -> tuple[float, float]:
    """Post ``n`` events, one per request or ``batch`` per request; (wall s, CPU s)."""
    wall, cpu = time.perf_counter(), time.process_time()
    if batch:
        for start in range(0, n, batch):
            body = {"events": [_event(run, i) for i in range(start, min(start + batch, n))]}
            response = client.post(f"{API}/triggers/process_events/", json=body, headers=headers)
            assert response.status_code == 202, response.get_data(as_text=True)
    else:
        for i in range(n):
            response = client.post(
                f"{API}/triggers/process_event/", json=_event(run, i), headers=headers
            )
            assert response.status_code == 202, response.get_data(as_text=True)
    return time.perf_counter() - wall, time.process_time() - cpu


def measure(tree: Tree, token: str, n: int, profile: str | None, batch: int = 0) -> dict:
    os.environ.update(tree.env("web"))
    sys.path.insert(0, str(tree.root))
    from backend import create_app

    app = create_app()
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    _round(client, headers, 200, "warm", batch)
    rounds = [_round(client, headers, n, uuid.uuid4().hex[:8], batch) for _ in range(3)]
    if profile:
        profiler = cProfile.Profile(time.process_time)  # CPU, not waits
        profiler.runcall(_round, client, headers, n, "prof", batch)
        profiler.dump_stats(profile)
    wall = statistics.median(r[0] for r in rounds)
    cpu = statistics.median(r[1] for r in rounds)
    return {"requests": n, "seconds": wall, "rps": n / wall, "cpu_us": cpu / n * 1e6}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=0, help="events per request (batch endpoint)")
    parser.add_argument("--profile", help="write a cProfile of one more round here")
    args = parser.parse_args()
    tree = Tree(HERE)
    try:
        tree.start_redis()
        wait_for(lambda: _redis_up(tree.redis_port), 20, "redis")
        tree.create_database()
        token = tree.seed()
        row = measure(tree, token, args.requests, args.profile, args.batch)
    finally:  # FORCE ends this process's connections too
        tree.drop_database()
        tree.stop("redis")
    per = f"{args.batch} per request" if args.batch else "1 per request"
    print(f"| events ({per}) | seconds | events/s | web CPU µs/event |")
    print("|---:|---:|---:|---:|")
    print(f"| {row['requests']} | {row['seconds']:.2f} | {row['rps']:.0f} | {row['cpu_us']:.0f} |")


def _redis_up(port: int) -> bool:
    import socket

    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


if __name__ == "__main__":
    main()
