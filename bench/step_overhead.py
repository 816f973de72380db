"""Per-step overhead of the runtime (database checkpoint + trace publish) over the pure engine.

One run measures, on the coupon workflow (5 steps per run):

a) the graph_engine ``Interpreter`` with ``InMemoryEffects`` (µs/step, median of rounds);
b) the backend runner (``runner.advance``, in this process) on SQLite and on PostgreSQL, with
   real database effects and a checkpoint per step, with trace publishing off (nobody watches)
   and on (a watcher is counted in Redis, as the Socket.IO server does for a connected client,
   so every trace is published to the Redis message queue). µs/step = total advance time /
   steps recorded, over ``--runs`` runs (created by ``accept_event`` + ``process_batch``, not
   timed).

Breakdown (b): ``Interpreter.step`` (the engine + DbEffects' writes), the checkpoint
(``Run.checkpoint``, ``_Run`` in older trees) and ``emit_trace`` are timed by wrapping
them; "other" is the rest (lease, load, outage check, finish). Nested in those: the time in
every ``Session.commit`` and in ``runner.redact`` (state + step record), shown apart::

    .venv/bin/python bench/step_overhead.py [--quick] [--runs 200]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [
    str(BENCH.parent),
    str(BENCH.parent / "tests"),
    str(BENCH.parent / "tests" / "reliability"),
    str(BENCH),
]
SCRATCH = tempfile.mkdtemp(prefix="flowmarket-bench-steps-")  # instance dir, SQLite, redis
os.environ["INSTANCE_PATH"] = SCRATCH

from engine import _context  # noqa: E402
from harness import runtime_config  # noqa: E402
from runtime_helpers import COUPON  # noqa: E402
from stack import coupon_events, seed_app  # noqa: E402
from support import (  # noqa: E402
    RedisServer,
    clean_tables,
    create_pg_database,
    create_schema,
    drop_pg_database,
    make_app,
)

WARMUP = 10


def bench_engine(runs: int, rounds: int) -> dict:
    """(a): µs/step of the pure interpreter on COUPON with InMemoryEffects."""
    from graph_engine import InMemoryEffects, Interpreter

    effects = InMemoryEffects()
    engine = Interpreter(COUPON, effects=effects, workflow_id="w1")
    costs = []
    for _ in range(rounds + 1):  # the first round warms up
        start, steps = time.perf_counter_ns(), 0
        for i in range(runs):
            ctx = _context("a coupon please", ["interested"])
            state = engine.run(engine.start("trigger", ctx, execution_id=f"x{i}"))
            steps += state.steps
            effects.log.clear()
            effects.sent_keys.clear()
        costs.append((time.perf_counter_ns() - start) / 1000 / steps)
    assert state.status == "succeeded", state.status
    return {"us_per_step": statistics.median(costs[1:]), "steps_per_run": state.steps}


class Timers:
    """Wrap methods / module functions with cumulative perf_counter timers (restored on exit)."""

    def __init__(self):
        self.total: dict[str, float] = {}
        self._undo: list[tuple] = []

    def wrap(self, owner, attr: str, name: str) -> bool:
        original = getattr(owner, attr, None)
        if original is None:
            return False
        self.total[name] = 0.0

        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.total[name] += time.perf_counter() - start

        self._undo.append((owner, attr, original))
        setattr(owner, attr, timed)
        return True

    def restore(self) -> None:
        for owner, attr, original in reversed(self._undo):
            setattr(owner, attr, original)
        self._undo = []


def _prepare(app, runs: int, watch: bool) -> tuple[list[int], int]:
    """Seed, ingest ``runs`` events and create their runs (leased to this thread)."""
    import redis

    from backend.events import WATCHERS_KEY
    from backend.extensions import db
    from backend.models import Workflow
    from backend.runtime.ingest import accept_event
    from backend.runtime.processing import process_batch

    clean_tables(app)
    redis.Redis.from_url(app.config["REDIS_URL"]).flushdb()
    seed_app(app)
    created: list[int] = []
    with app.app_context():
        for payload in coupon_events(runs):
            accept_event(payload, dispatch=False)
        while (batch := process_batch())[0]:  # runs or their ids, depending on the version
            created += [getattr(ex, "id", ex) for ex in batch[1]]
        workflow_id = db.session.scalar(db.select(Workflow.id).filter_by(name="Coupon"))
        if watch:
            redis.Redis.from_url(app.config["REDIS_URL"]).hset(WATCHERS_KEY, workflow_id, 1)
        db.session.remove()
    assert len(created) == runs, f"created {len(created)} runs for {runs} events"
    time.sleep(0.6)  # emit_trace caches the watcher set for 0.5 s
    return created, workflow_id


def _steps_of(app, ids: list[int]) -> tuple[int, int]:
    """(steps recorded, runs succeeded) for ``ids``."""
    from sqlalchemy import func, select

    from backend.extensions import db
    from backend.models import StepExecution as SE
    from backend.models import WorkflowExecution as WE

    with app.app_context():
        steps = db.session.scalar(select(func.count(SE.id)).where(SE.execution_id.in_(ids)))
        ok = db.session.scalar(
            select(func.count(WE.id)).where(WE.id.in_(ids), WE.status == "succeeded")
        )
    return steps, ok


def bench_runner(app, label: str, runs: int, watch: bool) -> dict:
    """(b): advance ``runs`` runs in this process; µs/step and the wrapped breakdown."""
    from sqlalchemy.orm import Session

    from backend.extensions import db
    from backend.runtime import runner
    from graph_engine import Interpreter

    ids, _ = _prepare(app, runs + WARMUP, watch)
    warm, timed_ids = ids[:WARMUP], ids[WARMUP:]
    with app.app_context():
        for execution_id in warm:  # builds the cached interpreter, warms the pool
            runner.advance(execution_id)
        db.session.remove()
    timers = Timers()
    timers.wrap(Interpreter, "step", "engine step + DB effects")
    run_class = getattr(runner, "Run", None) or getattr(runner, "_Run", None)  # older trees
    timers.wrap(run_class, "checkpoint", "checkpoint")
    timers.wrap(runner, "emit_trace", "emit_trace")
    timers.wrap(Session, "commit", "commits")
    timers.wrap(runner, "redact", "redact")
    try:
        with app.app_context():
            start = time.perf_counter()
            statuses = [runner.advance(execution_id) for execution_id in timed_ids]
            elapsed = time.perf_counter() - start
            db.session.remove()
    finally:
        timers.restore()
    steps, ok = _steps_of(app, timed_ids)
    assert ok == runs, f"{label}: {ok}/{runs} succeeded ({set(statuses)})"
    parts = {name: secs * 1e6 / steps for name, secs in timers.total.items()}
    return {
        "label": label,
        "runs": runs,
        "steps": steps,
        "us_per_step": elapsed * 1e6 / steps,
        "parts": parts,
    }


def _apps(pg_url: str, redis_url: str) -> list[tuple[str, object]]:
    sqlite_url = f"sqlite:///{Path(SCRATCH) / 'bench.db'}"
    apps = []
    for name, url in (("SQLite", sqlite_url), ("PostgreSQL", pg_url)):
        app = make_app(url, redis_url, **runtime_config(url, redis_url, RUN_LEASE_SECONDS=60))
        create_schema(app)
        apps.append((name, app))
    return apps


def _cell(value: float | None, width: int) -> str:
    return f"{'n/a' if value is None else f'{value:.1f}':>{width}}"


def _print(engine: dict, rows: list[dict]) -> None:
    names = ["engine step + DB effects", "checkpoint", "emit_trace"]
    base = engine["us_per_step"]
    print(f"\nPer-step cost, coupon workflow ({engine['steps_per_run']} steps/run), µs/step")
    print(
        f"{'configuration':<34} | {'runs':>5} | {'steps':>6} | {'µs/step':>8} | "
        f"{'overhead':>8} || {'step+effects':>12} | {'checkpoint':>10} | {'emit_trace':>10} | "
        f"{'other':>7} || {'[commits]':>9} | {'[redact]':>8}"
    )
    print(
        f"{'(a) engine, InMemoryEffects':<34} | {'':>5} | {'':>6} | {base:>8.1f} | "
        f"{0:>8.1f} || {base:>12.1f} | {'-':>10} | {'-':>10} | {'-':>7} || {'-':>9} | "
        f"{'-':>8}"
    )
    for r in rows:
        parts = [r["parts"].get(n) for n in names]
        other = r["us_per_step"] - sum(p for p in parts if p is not None)
        cells = " | ".join(_cell(p, w) for p, w in zip(parts, (12, 10, 10), strict=True))
        print(
            f"{'(b) ' + r['label']:<34} | {r['runs']:>5} | {r['steps']:>6} | "
            f"{r['us_per_step']:>8.1f} | {r['us_per_step'] - base:>8.1f} || {cells} | "
            f"{other:>7.1f} || {_cell(r['parts'].get('commits'), 9)} | "
            f"{_cell(r['parts'].get('redact'), 8)}"
        )
    print(
        "overhead = (b) - (a) per step. 'step+effects' is Interpreter.step inside the runner "
        "(it includes DbEffects' writes: captured message, tag, note); 'other' = lease, load, "
        "outage check, run_started/finish. [commits] = time in Session.commit calls (connection-level commits not seen) and [redact] = "
        "runner.redact, both already counted in the columns to their left."
    )


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short run (50 runs per config)")
    parser.add_argument("--runs", type=int, default=200, help="runs per configuration (<= 290)")
    args = parser.parse_args(argv)
    runs = 50 if args.quick else max(1, min(args.runs, 290))
    engine = bench_engine(300 if args.quick else 2000, 3 if args.quick else 5)
    redis_server = RedisServer(Path(SCRATCH))
    redis_server.start()
    pg_url = create_pg_database()
    rows, apps = [], []
    try:
        apps = _apps(pg_url, redis_server.url)
        for name, app in apps:
            for watch in (False, True):
                label = f"{name}, trace {'on (watched)' if watch else 'off'}"
                rows.append(bench_runner(app, label, runs, watch))
    finally:
        from backend.extensions import db

        for _, app in apps:
            with contextlib.suppress(Exception), app.app_context():
                db.engine.dispose()
        redis_server.stop()
        drop_pg_database(pg_url)
        shutil.rmtree(SCRATCH, ignore_errors=True)
    _print(engine, rows)


if __name__ == "__main__":
    main()
