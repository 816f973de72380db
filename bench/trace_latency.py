"""Live-trace latency: a step's commit in a worker -> the trace received by a Socket.IO client.

A throw-away PostgreSQL database, a private redis-server, the web app (werkzeug, threaded, the
Socket.IO server in threading mode as in the tests) in a subprocess, one
``flask --app backend worker`` subprocess, and a python-socketio client in this process that
watches the coupon workflow. Events are posted over HTTP at a steady rate; every run emits
``run_started``, ``step_started`` / ``step_finished`` per step and ``run_finished``::

    .venv/bin/python bench/trace_latency.py [--quick] [--events 300] [--rate 20]

Two clocks, both wall time on this machine:

- ``ts -> recv``: ``emit_trace`` stamps ``ts`` (``time.time()``) right after the step's
  checkpoint commit, then publishes through Redis; the client stamps receipt;
- ``finished_at -> recv`` (``step_finished`` only): the step's ``finished_at`` from the
  database, set when the node returns, i.e. just before the checkpoint transaction; this one
  includes the commit itself.

Target: p99 < 100 ms.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [
    str(BENCH.parent),
    str(BENCH.parent / "tests"),
    str(BENCH.parent / "tests" / "reliability"),
    str(BENCH),
]
SCRATCH = tempfile.mkdtemp(prefix="flowmarket-bench-trace-")  # instance dir + redis, removed
os.environ["INSTANCE_PATH"] = SCRATCH

from harness import ROOT, Workers, runtime_config, wait_until  # noqa: E402
from support import (  # noqa: E402
    RedisServer,
    create_pg_database,
    create_schema,
    drop_pg_database,
    free_port,
    make_app,
)
from throughput import _events, _paced, _pct, _seed, _succeeded, _try_health  # noqa: E402

#: The web process: the app factory under werkzeug's threaded server (websocket upgrades work
#: there through simple-websocket), configured from the environment like the workers.
SERVER = """
import sys
from werkzeug.serving import make_server
from backend import create_app
make_server("127.0.0.1", int(sys.argv[1]), create_app(), threaded=True).serve_forever()
"""
KINDS_PER_RUN = 12  # run_started + 5 x (step_started + step_finished) + run_finished


class Watcher:
    """A python-socketio client watching one workflow; records (receipt time, payload)."""

    def __init__(self, url: str, token: str, transport: str):
        import socketio

        self.received: list[tuple[float, dict]] = []
        self._lock = threading.Lock()
        self.sio = socketio.Client(reconnection=False)
        self.sio.on("trace", self._on_trace)
        self.lost: str | None = None  # why the server side went away, if it did
        self.sio.on("disconnect", self._on_disconnect)
        self.sio.connect(url, auth={"token": token}, transports=[transport], wait_timeout=10)
        self.transport = self.sio.transport()

    def _on_trace(self, payload: dict) -> None:
        now = time.time()
        with self._lock:
            self.received.append((now, payload))

    def _on_disconnect(self, reason=None) -> None:
        if reason != self.sio.reason.CLIENT_DISCONNECT:
            self.lost, self.lost_at = str(reason), time.monotonic()

    def watch(self, workflow_id: int) -> None:
        answer = self.sio.call("watch", {"workflow_id": workflow_id}, timeout=10)
        assert answer.get("ok"), answer

    def finished_runs(self) -> int:
        with self._lock:
            return sum(1 for _, p in self.received if p["kind"] == "run_finished")

    def take(self) -> list[tuple[float, dict]]:
        with self._lock:
            out, self.received = self.received, []
        return out

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.sio.disconnect()


def _connect(url: str, token: str, wanted: str) -> Watcher:
    """Websocket first (unless ``wanted`` says otherwise), polling as the fallback."""
    import socketio

    for transport in ("websocket", "polling") if wanted == "auto" else (wanted,):
        try:
            return Watcher(url, token, transport)
        except socketio.exceptions.ConnectionError as exc:
            print(f"    {transport} transport failed ({exc}); falling back", file=sys.stderr)
    raise RuntimeError("no Socket.IO transport connected")


def _workflow_id(app) -> int:
    from sqlalchemy import select

    from backend.extensions import db
    from backend.models import Workflow

    with app.app_context():
        return db.session.scalar(select(Workflow.id).where(Workflow.name == "Coupon"))


def _finished_at(app, execution_ids: set) -> dict:
    """``(execution id, seq) -> finished_at`` (epoch seconds) of the given runs' steps."""
    from sqlalchemy import select

    from backend.extensions import db
    from backend.models import StepExecution as SE

    with app.app_context():
        rows = db.session.execute(
            select(SE.execution_id, SE.seq, SE.finished_at).where(
                SE.execution_id.in_(execution_ids)
            )
        ).all()
    return {(e, s): f.timestamp() for e, s, f in rows}


def _stats(label: str, kind: str, values_ms: list[float]) -> dict:
    values = sorted(values_ms)
    row = {"transport": label, "kind": kind, "messages": len(values)}
    for name, p in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99)):
        row[name] = _pct(values, p) if values else float("nan")
    row["max"] = values[-1] if values else float("nan")
    return row


def measure(app, received: list[tuple[float, dict]], transport: str) -> list[dict]:
    """One row for all traces (ts -> recv), one per kind, one for finished_at -> recv."""
    rows = [_stats(transport, "all (ts->recv)", [(r - p["ts"]) * 1000 for r, p in received])]
    for kind in ("run_started", "step_started", "step_finished", "run_finished"):
        rows.append(
            _stats(
                transport,
                f"{kind} (ts->recv)",
                [(r - p["ts"]) * 1000 for r, p in received if p["kind"] == kind],
            )
        )
    steps = [(r, p) for r, p in received if p["kind"] == "step_finished"]
    done = _finished_at(app, {p["execution_id"] for _, p in steps})
    commit = [
        (r - done[(p["execution_id"], p["step"])]) * 1000
        for r, p in steps
        if (p["execution_id"], p["step"]) in done
    ]
    rows.append(_stats(transport, "step_finished (finished_at->recv)", commit))
    return rows


def _start_web(config: dict, port: int) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", SERVER, str(port)],
        cwd=ROOT,
        env=Workers(config).env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def run(pg_url: str, redis_url: str, events: int, rate: float, transport: str) -> tuple:
    """Measure; return ``(rows, (run_finished traces, runs succeeded), seconds, lost)``."""
    config = runtime_config(pg_url, redis_url, RUN_LEASE_SECONDS=60, SWEEP_INTERVAL_SECONDS=5)
    app = make_app(pg_url, redis_url, **config)
    create_schema(app)
    token = _seed(app)
    workflow_id, port = _workflow_id(app), free_port()
    web, workers, client = _start_web(config, port), Workers(config), None
    try:
        assert wait_until(lambda: _try_health(port), 30), "web server did not start"
        workers.start(1)
        client = _connect(f"http://127.0.0.1:{port}", token, transport)
        client.watch(workflow_id)
        time.sleep(1.0)  # workers cache the watcher set for 0.5 s
        _paced(port, token, _events(10, offset=events), rate)  # warm-up, not measured
        assert wait_until(lambda: client.finished_runs() >= 10 or client.lost, 60, interval=0.05)
        time.sleep(0.3)
        client.take()
        t0 = time.monotonic()
        _paced(port, token, _events(events), rate)
        wait_until(lambda: client.finished_runs() >= events or client.lost, 60, interval=0.05)
        if client.lost:  # no reconnection: a reconnect would hide the lost traces
            print(
                f"    client disconnected mid-run ({client.lost}) after "
                f"{client.lost_at - t0:.1f} s",
                file=sys.stderr,
            )
            wait_until(lambda: _succeeded(app) - 10 >= events, 60, interval=0.1)
        elapsed = time.monotonic() - t0
        time.sleep(0.3)
        received = client.take()
        runs = sum(1 for _, p in received if p["kind"] == "run_finished")
        in_db = _succeeded(app) - 10  # minus the warm-up runs
        return measure(app, received, client.transport), (runs, in_db), elapsed, client.lost
    finally:
        if client is not None:
            client.close()
        workers.kill()
        web.terminate()
        web.wait(10)
        from backend.extensions import db

        with app.app_context():
            db.engine.dispose()


def _print(
    rows: list[dict], events: int, runs: tuple, rate: float, elapsed: float, lost: str | None
) -> None:
    print(
        f"\nLive traces: step commit -> Socket.IO client ({events} events posted at "
        f"{rate:g}/s; in {elapsed:.1f} s {runs[1]} runs succeeded in the database, "
        f"{runs[0]} run_finished traces received; PostgreSQL + Redis, "
        "werkzeug threaded web process, 1 worker process)"
    )
    print(
        f"{'transport':>9} | {'trace':<34} | {'messages':>8} | {'p50 ms':>7} | {'p95 ms':>7} | "
        f"{'p99 ms':>7} | {'max ms':>7}"
    )
    for r in rows:
        print(
            f"{r['transport']:>9} | {r['kind']:<34} | {r['messages']:>8} | {r['p50']:>7.1f} | "
            f"{r['p95']:>7.1f} | {r['p99']:>7.1f} | {r['max']:>7.1f}"
        )
    print(
        f"expected messages: {runs[1] * KINDS_PER_RUN} ({KINDS_PER_RUN} per run); "
        "target: p99 < 100 ms"
    )
    if lost:
        print(
            f"WARNING: the client was disconnected mid-run ({lost}); the traces after that "
            "were not received"
        )


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short run (60 events)")
    parser.add_argument("--events", type=int, default=300, help="events to post (max 2000)")
    parser.add_argument("--rate", type=float, default=20.0, help="events per second")
    parser.add_argument("--transport", choices=("auto", "websocket", "polling"), default="auto")
    args = parser.parse_args(argv)
    events = 60 if args.quick else max(1, min(args.events, 2000))
    redis_server = RedisServer(Path(SCRATCH))
    redis_server.start()
    pg_url = create_pg_database()
    try:
        rows, runs, elapsed, lost = run(pg_url, redis_server.url, events, args.rate, args.transport)
    finally:
        redis_server.stop()
        drop_pg_database(pg_url)
        shutil.rmtree(SCRATCH, ignore_errors=True)
    _print(rows, events, runs, args.rate, elapsed, lost)


if __name__ == "__main__":
    main()
