"""Workers: RQ ``SimpleWorker`` processes (scaled mode) or a thread inside ``serve`` (embedded).

Why ``SimpleWorker``: the default forking ``Worker`` drains ~85 jobs/s here (a fork per job,
~8 ms, and cold database connections every time); ``SimpleWorker`` ~250/s and keeps the
connection pool warm. Isolation comes from the runtime instead: each job gets a fresh app
context and session, user code runs in the sandbox's own child process, and a crashed worker is
recovered through leases and the sweeper.

Every ``worker`` process runs a scheduler process (``enqueue_at`` / ``enqueue_in`` for waits and retries)
and a cron process for the periodic jobs in :data:`CRON_JOBS`, both RQ's loops made to survive
Redis outages (:mod:`backend.loops`); a supervisor thread restarts either if it dies. Several
workers means several cron schedulers: the jobs are idempotent and the sweeper holds a short
Redis lock, so duplicates are cheap no-ops. Inside ``serve`` (:class:`EmbeddedWorker`) the same
worker and loops are threads of the one process.
"""

from __future__ import annotations

__all__ = ["FlowWorker", "Supervisor", "run_worker", "EmbeddedWorker", "start_cron", "CRON_JOBS"]

import contextlib
import functools
import logging
import multiprocessing
import os
import socket
import threading
import time

import redis
from flask import Flask
from rq import SimpleWorker
from rq.timeouts import TimerDeathPenalty

from backend.extensions import db
from backend.loops import Backoff, ResilientCron, ResilientScheduler, die_with_parent
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
    """A SimpleWorker that runs every job in a fresh app context (and database session), with
    the resilient scheduler loop of :mod:`backend.loops`."""

    flask_app: Flask | None = None

    def perform_job(self, job, queue, *args, **kwargs):
        with self.flask_app.app_context():
            try:
                return super().perform_job(job, queue, *args, **kwargs)
            finally:
                db.session.remove()

    def _start_scheduler(self, burst=False, logging_level="INFO", *args, **kwargs):
        """Burst: RQ's one pass. Otherwise a scheduler process that survives Redis outages
        and competes for the lock forever (started whether or not it holds the lock now)."""
        if burst:
            return super()._start_scheduler(burst, logging_level, *args, **kwargs)
        self.scheduler = ResilientScheduler(
            self.queues,
            connection=self.connection,
            logging_level=logging_level,
            serializer=self.serializer,
        )
        self.scheduler.worker_name = LOOPS_ID
        self.scheduler.start()
        return None

    def teardown(self):
        """Tell the supervisor not to restart the scheduler this worker is stopping."""
        self.tearing_down = True
        super().teardown()

    def run_maintenance_tasks(self):
        """RQ's registry cleaning, which must not stop the worker while Redis is unwell."""
        try:
            super().run_maintenance_tasks()
        except redis.RedisError as exc:
            log.warning("maintenance skipped: %s", exc)


class Supervisor(threading.Thread):
    """Restarts the worker's scheduler and cron processes if one of them died."""

    def __init__(self, worker: FlowWorker, start_cron_process, interval: float = 2.0):
        super().__init__(name="flowmarket-supervisor", daemon=True)
        self.worker, self.start_cron_process, self.interval = worker, start_cron_process, interval
        self.cron = start_cron_process() if start_cron_process else None
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(self.interval):
            if self.worker._stop_requested or getattr(self.worker, "tearing_down", False):
                continue
            scheduler = self.worker.scheduler
            proc = scheduler._process if scheduler is not None else None
            if proc is not None and not proc.is_alive():
                log.warning("scheduler process %s died; restarting it", proc.pid)
                scheduler.start()
            if self.cron is not None and not self.cron.is_alive():
                log.warning("cron process %s died; restarting it", self.cron.pid)
                self.cron = self.start_cron_process()

    def stop(self) -> None:
        self.stopped.set()
        if self.cron is not None and self.cron.is_alive():
            self.cron.terminate()
            self.cron.join(5)


def _make_worker(app: Flask, cls=FlowWorker) -> FlowWorker:
    with app.app_context():
        conn = worker_connection(app)
        worker = cls([get_queue(app, conn)], connection=conn)
    worker.flask_app = app
    return worker


def _job_named(name: str):
    """A stand-in for ``backend.jobs.<name>``: RQ enqueues a job by its function's dotted name,
    so the cron process need not import the app (a full copy of it costs ~100 MB)."""

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


def _cron_main(url: str, queue_name: str, jobs: list[dict], worker_name: str, parent: int) -> None:
    die_with_parent(parent)
    _cron(url, queue_name, jobs, worker_name).start()


def start_cron(app: Flask, worker_name: str = "") -> multiprocessing.Process:
    """Start RQ's cron scheduler for :data:`CRON_JOBS` in a child process (spawned, so no
    threads of this process are copied into it)."""
    with app.app_context():
        url = redis_url(app)
    proc = multiprocessing.get_context("spawn").Process(
        target=_cron_main,
        args=(url, app.config["RQ_QUEUE"], cron_jobs(app.config), worker_name, os.getpid()),
        name="flowmarket-cron",
        daemon=True,
    )
    proc.start()
    return proc


def run_worker(app: Flask, *, burst: bool = False, with_cron: bool = True) -> None:
    """Run one worker in this (main) thread until SIGTERM / SIGINT (or the queue is empty).

    RQ's worker quits when Redis fails in the middle of finishing a job; this loop starts a
    fresh one (with backoff) instead, so a Redis outage never ends the process.
    """
    if burst:
        _make_worker(app).work(burst=True, with_scheduler=True, logging_level="WARNING")
        return
    cron = functools.partial(start_cron, app, LOOPS_ID) if with_cron else None
    supervisor, backoff = None, Backoff(cap=15.0)
    while True:
        try:
            worker = _make_worker(app)
            if supervisor is None:
                supervisor = Supervisor(worker, cron)
                supervisor.start()
            supervisor.worker = worker
            worker.work(with_scheduler=True, logging_level="WARNING")
            break
        except redis.RedisError as exc:
            log.warning("worker stopped on a Redis error (%s); starting a new one", exc)
            time.sleep(backoff.next())
    supervisor.stop()


class _ThreadWorker(FlowWorker):
    # RQ's default job timeout uses SIGALRM, which only the main thread may set; a timer
    # thread enforces the same limit from a worker thread.
    death_penalty_class = TimerDeathPenalty

    def _install_signal_handlers(self):
        """Signals belong to the main thread (the web server); stop with ``request_stop``."""

    def _start_scheduler(self, *args, **kwargs):
        """The embedded scheduler is a thread of :class:`EmbeddedWorker`, not a process."""
        return None


class EmbeddedWorker:
    """The worker of ``serve``: an RQ worker thread, and the scheduler and cron loops as
    threads of the same process (not processes: each would be another copy of the app in
    memory). A watcher thread restarts a loop whose thread died, as :class:`Supervisor` does
    for the ``worker`` command's processes."""

    def __init__(self, app: Flask):
        self.app = app
        self.worker = _make_worker(app, _ThreadWorker)
        self.thread = threading.Thread(target=self._run, name="flowmarket-worker", daemon=True)
        self.loops: dict[str, tuple] = {}  # name -> (loop, its thread)
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

    def _new_loop(self, name: str):
        with self.app.app_context():
            url, queue = redis_url(self.app), self.app.config["RQ_QUEUE"]
        if name == "cron":
            return _cron(url, queue, cron_jobs(self.app.config), LOOPS_ID)
        conn = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)
        scheduler = ResilientScheduler([queue], connection=conn, logging_level="WARNING")
        scheduler.worker_name = LOOPS_ID
        return scheduler

    def _start_loop(self, name: str) -> None:
        loop = self._new_loop(name)
        self.loops[name] = (loop, loop.start_thread())

    def _watch(self, interval: float = 2.0) -> None:
        while not self.stopping:
            time.sleep(interval)
            for name, (_, thread) in list(self.loops.items()):
                if not self.stopping and not thread.is_alive():
                    log.warning("%s loop died; restarting it", name)
                    self._start_loop(name)

    def start(self) -> EmbeddedWorker:
        for name in ("scheduler", "cron"):
            self._start_loop(name)
        threading.Thread(target=self._watch, name="flowmarket-loops", daemon=True).start()
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
        for loop, _ in self.loops.values():
            loop.request_stop()
        for _, thread in self.loops.values():
            thread.join(2.0)
