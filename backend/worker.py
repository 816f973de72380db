"""Workers: RQ ``SimpleWorker`` processes (scaled mode) or a thread inside ``serve`` (embedded).

Why ``SimpleWorker``: the default forking ``Worker`` drains ~85 jobs/s here (a fork per job,
~8 ms, and cold database connections every time); ``SimpleWorker`` ~250/s and keeps the
connection pool warm. Isolation comes from the runtime instead: each job gets a fresh app
context and session, user code runs in the sandbox's own child process, and a crashed worker is
recovered through leases and the sweeper.

Every worker runs RQ's scheduler (``with_scheduler=True``: ``enqueue_at`` / ``enqueue_in`` for
waits and retries) and starts RQ's :class:`rq.cron.CronScheduler` in a child process for the
periodic jobs in :data:`CRON_JOBS`. Several workers means several cron schedulers: the jobs
are idempotent and the sweeper holds a short Redis lock, so duplicates are cheap no-ops.
"""

from __future__ import annotations

__all__ = ["FlowWorker", "run_worker", "EmbeddedWorker", "start_cron", "CRON_JOBS"]

import contextlib
import ctypes
import logging
import multiprocessing
import signal
import threading

from flask import Flask
from rq import SimpleWorker
from rq.timeouts import TimerDeathPenalty

from backend.queue import get_queue, redis_url, worker_connection

log = logging.getLogger(__name__)


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
    """A SimpleWorker that runs every job in a fresh app context (and database session)."""

    flask_app: Flask | None = None

    def perform_job(self, job, queue, *args, **kwargs):
        from backend.extensions import db

        with self.flask_app.app_context():
            try:
                return super().perform_job(job, queue, *args, **kwargs)
            finally:
                db.session.remove()


def _make_worker(app: Flask, cls=FlowWorker) -> FlowWorker:
    with app.app_context():
        conn = worker_connection(app)
        worker = cls([get_queue(app, conn)], connection=conn)
    worker.flask_app = app
    return worker


def _die_with_parent() -> None:
    # Linux: SIGTERM this process when the worker that started it dies (even by SIGKILL).
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _cron_main(url: str, queue_name: str, jobs: list[dict]) -> None:
    _die_with_parent()
    import redis
    from rq.cron import CronScheduler

    from backend import jobs as job_module

    cron = CronScheduler(connection=redis.Redis.from_url(url), logging_level=logging.WARNING)
    for spec in jobs:
        func = getattr(job_module, spec["func"])
        cron.register(func, queue_name, interval=spec.get("interval"), cron=spec.get("cron"),
                      result_ttl=0, failure_ttl=3600)  # fmt: skip
    cron.start()


def start_cron(app: Flask) -> multiprocessing.Process:
    """Start RQ's cron scheduler for :data:`CRON_JOBS` in a child process (spawned, so no
    threads of this process are copied into it)."""
    with app.app_context():
        url = redis_url(app)
    proc = multiprocessing.get_context("spawn").Process(
        target=_cron_main, args=(url, app.config["RQ_QUEUE"], cron_jobs(app.config)),
        name="flowmarket-cron", daemon=True,
    )  # fmt: skip
    proc.start()
    return proc


def run_worker(app: Flask, *, burst: bool = False, with_cron: bool = True) -> None:
    """Run one worker in this (main) thread until SIGTERM / SIGINT (or the queue is empty)."""
    cron = start_cron(app) if with_cron and not burst else None
    try:
        _make_worker(app).work(burst=burst, with_scheduler=True, logging_level="WARNING")
    finally:
        if cron is not None and cron.is_alive():
            cron.terminate()
            cron.join(5)


class _ThreadWorker(FlowWorker):
    # RQ's default job timeout uses SIGALRM, which only the main thread may set; a timer
    # thread enforces the same limit from a worker thread.
    death_penalty_class = TimerDeathPenalty

    def _install_signal_handlers(self):
        """Signals belong to the main thread (the web server); stop with ``request_stop``."""


class EmbeddedWorker:
    """A worker thread (plus the cron child process) inside the ``serve`` process."""

    def __init__(self, app: Flask):
        self.app = app
        self.worker = _make_worker(app, _ThreadWorker)
        self.thread = threading.Thread(target=self._run, name="flowmarket-worker", daemon=True)
        self.cron: multiprocessing.Process | None = None

    def _run(self) -> None:
        try:
            self.worker.work(with_scheduler=True, logging_level="WARNING")
        except Exception:  # pragma: no cover - logged; the sweeper recovers the work
            log.exception("embedded worker stopped")

    def start(self) -> EmbeddedWorker:
        self.cron = start_cron(self.app)
        self.thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Finish the current job (up to ``timeout``), then stop the worker and the cron."""
        self.worker._stop_requested = True
        if self.cron is not None and self.cron.is_alive():
            self.cron.terminate()
            self.cron.join(5)
        self.thread.join(timeout)
        if self.worker.scheduler is not None:
            self.worker.stop_scheduler()
