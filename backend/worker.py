"""Workers: RQ ``SimpleWorker`` processes (scaled mode) or a thread inside ``serve`` (embedded).

Why ``SimpleWorker``: the default forking ``Worker`` drains ~85 jobs/s here (a fork per job,
~8 ms, and cold database connections every time); ``SimpleWorker`` ~250/s and keeps the
connection pool warm. Isolation comes from the runtime instead: each job gets a fresh app
context and session, user code runs in the sandbox's own child process, and a crashed worker is
recovered through leases and the sweeper.

A ``worker`` is ONE process: the RQ worker in the main thread, and the scheduler loop
(``enqueue_at`` / ``enqueue_in`` for waits and retries) and the cron loop (the periodic jobs of
:data:`CRON_JOBS`) as threads beside it, both RQ's loops made to survive Redis outages
(:mod:`backend.loops`); :class:`Loops` restarts a loop whose thread died. Why threads, not
processes: each process would be another copy of the app in memory (~100 MB), for loops that
wake once a second. Several workers means several cron loops: the jobs are idempotent and the
sweeper holds a short Redis lock, so duplicates are cheap no-ops. Inside ``serve``
(:class:`EmbeddedWorker`) the RQ worker is a thread too.
"""

from __future__ import annotations

__all__ = ["FlowWorker", "Loops", "run_worker", "EmbeddedWorker", "CRON_JOBS"]

import contextlib
import logging
import os
import socket
import threading
import time

import redis
from flask import Flask
from rq import SimpleWorker
from rq.timeouts import TimerDeathPenalty

from backend.extensions import db
from backend.loops import Backoff, ResilientCron, ResilientScheduler
from backend.queue import get_queue, redis_url, worker_connection

log = logging.getLogger(__name__)
#: The name this process's loops report under in ``/health/`` (stable across RQ worker restarts).
LOOPS_ID = f"{socket.gethostname()}:{os.getpid()}"


def cron_jobs(config: dict) -> list[dict]:
    """The periodic jobs: function path + ``interval`` seconds or a ``cron`` expression."""
    return [
        {"func": "sweep", "interval": int(config.get("SWEEP_INTERVAL_SECONDS", 5))},
        {"func": "fire_schedules", "cron": "* * * * *"},
        {"func": "retry_failed_actions", "interval": 300},
        {"func": "cleanup_old_executions", "cron": "17 3 * * *"},
    ]


CRON_JOBS = cron_jobs({})


class FlowWorker(SimpleWorker):
    """A SimpleWorker that runs every job in a fresh app context (and database session).

    Its scheduler is the :class:`Loops` thread beside it; RQ's own scheduler runs only for
    ``--burst``'s single pass."""

    flask_app: Flask | None = None

    def perform_job(self, job, queue, *args, **kwargs):
        with self.flask_app.app_context():
            try:
                return super().perform_job(job, queue, *args, **kwargs)
            finally:
                db.session.remove()

    def run_maintenance_tasks(self):
        """RQ's registry cleaning, which must not stop the worker while Redis is unwell."""
        try:
            super().run_maintenance_tasks()
        except redis.RedisError as exc:
            log.warning("maintenance skipped: %s", exc)


class Loops:
    """The scheduler and cron loops of one worker process, each a thread; a watcher thread
    restarts a loop whose thread died (the loops survive Redis errors themselves)."""

    def __init__(self, app: Flask, names=("scheduler", "cron"), interval: float = 2.0):
        self.app, self.names, self.interval = app, names, interval
        self.running: dict[str, tuple] = {}  # name -> (loop, its thread)
        self.stopping = threading.Event()
        self.lock = threading.Lock()  # no restart between stop()'s request and its joins

    def _new(self, name: str):
        with self.app.app_context():
            url, queue = redis_url(self.app), self.app.config["RQ_QUEUE"]
        if name == "cron":
            return _cron(url, queue, cron_jobs(self.app.config), LOOPS_ID)
        conn = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)
        scheduler = ResilientScheduler([queue], connection=conn, logging_level="WARNING")
        scheduler.worker_name = LOOPS_ID
        return scheduler

    def _start(self, name: str) -> None:
        loop = self._new(name)
        self.running[name] = (loop, loop.start_thread())

    def _watch(self) -> None:
        while not self.stopping.wait(self.interval):
            with self.lock:
                for name, (_, thread) in list(self.running.items()):
                    if not self.stopping.is_set() and not thread.is_alive():
                        log.warning("%s loop died; restarting it", name)
                        self._start(name)

    def start(self) -> Loops:
        for name in self.names:
            self._start(name)
        threading.Thread(target=self._watch, name="flowmarket-loops", daemon=True).start()
        return self

    def stop(self, timeout: float = 2.0) -> None:
        """Stop the loops (each wakes within 0.1 s) and wait up to ``timeout`` for each."""
        with self.lock:
            self.stopping.set()
            for loop, _ in self.running.values():
                loop.request_stop()
        for _, thread in self.running.values():
            thread.join(timeout)


def _make_worker(app: Flask, cls=FlowWorker) -> FlowWorker:
    with app.app_context():
        conn = worker_connection(app)
        worker = cls([get_queue(app, conn)], connection=conn)
    worker.flask_app = app
    return worker


def _job_named(name: str):
    """A stand-in for ``backend.jobs.<name>``: RQ enqueues a job by its function's dotted name,
    so the cron loop need not import the jobs (and the runtime behind them) to enqueue them."""

    def job(*args, **kwargs):  # pragma: no cover - only its name is used
        raise RuntimeError(f"backend.jobs.{name} runs in a worker")

    job.__module__, job.__name__, job.__qualname__ = "backend.jobs", name, name
    return job


def _cron(url: str, queue_name: str, jobs: list[dict], worker_name: str) -> ResilientCron:
    conn = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)
    cron = ResilientCron(connection=conn, logging_level=logging.WARNING)
    cron.worker_name = worker_name
    for spec in jobs:
        cron.register(
            _job_named(spec["func"]),
            queue_name,
            interval=spec.get("interval"),
            cron=spec.get("cron"),
            result_ttl=0,
            failure_ttl=3600,
        )
    return cron


def run_worker(app: Flask, *, burst: bool = False, with_cron: bool = True) -> None:
    """Run one worker in this (main) thread, its loops in threads, until SIGTERM / SIGINT (or,
    with ``burst``, until the queue is empty).

    RQ's worker quits when Redis fails in the middle of finishing a job; this loop starts a
    fresh one (with backoff) instead, so a Redis outage never ends the process.
    """
    if burst:
        _make_worker(app).work(burst=True, with_scheduler=True, logging_level="WARNING")
        return
    loops = Loops(app, ("scheduler", "cron") if with_cron else ("scheduler",)).start()
    backoff = Backoff(cap=15.0)
    try:
        while True:
            try:
                _make_worker(app).work(with_scheduler=False, logging_level="WARNING")
                break
            except redis.RedisError as exc:
                log.warning("worker stopped on a Redis error (%s); starting a new one", exc)
                time.sleep(backoff.next())
    finally:
        loops.stop()


class _ThreadWorker(FlowWorker):
    # RQ's default job timeout uses SIGALRM, which only the main thread may set; a timer
    # thread enforces the same limit from a worker thread.
    death_penalty_class = TimerDeathPenalty

    def _install_signal_handlers(self):
        """Signals belong to the main thread (the web server); stop with ``request_stop``."""


class EmbeddedWorker:
    """The worker of ``serve``: an RQ worker thread and the same :class:`Loops` as the
    ``worker`` command, all threads of the web process."""

    def __init__(self, app: Flask):
        self.app = app
        self.worker = _make_worker(app, _ThreadWorker)
        self.thread = threading.Thread(target=self._run, name="flowmarket-worker", daemon=True)
        self.loops = Loops(app)
        self.stopping = False

    def _run(self) -> None:
        backoff = Backoff(cap=15.0)
        while not self.stopping:
            try:
                self.worker.work(with_scheduler=False, logging_level="WARNING")
                return
            except redis.RedisError as exc:  # as in run_worker: a new worker, not the end
                log.warning("embedded worker stopped on a Redis error (%s); restarting", exc)
                time.sleep(backoff.next())
                with contextlib.suppress(redis.RedisError):
                    self.worker = _make_worker(self.app, _ThreadWorker)
            except Exception:  # pragma: no cover - logged; the sweeper recovers the work
                log.exception("embedded worker stopped")
                return

    def start(self) -> EmbeddedWorker:
        self.loops.start()
        self.thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Let a running job finish (up to ``timeout``), then stop the loops.

        An idle worker is not waited for: it sits in a blocking dequeue for minutes, and a
        job it might still take is safe anyway (a run's lease expires, the sweeper re-runs)."""
        self.stopping = self.worker._stop_requested = True
        # Redis goes away with ``serve`` next: the idle worker's reconnect attempts are noise.
        logging.getLogger("rq.worker").setLevel(logging.CRITICAL)
        deadline = time.monotonic() + timeout
        while self.thread.is_alive() and time.monotonic() < deadline:
            if self.worker.get_state() != "busy":
                break
            self.thread.join(0.1)
        self.loops.stop()
