"""RQ jobs. Thin by design: each takes ids, runs inside the app, calls one service.

Workers are RQ ``SimpleWorker``s (no fork per job: a fork costs ~8 ms and throws away warm
database connections; see ``backend/worker.py``). Names are those users of the old system know.

- ``process_event``: drains the event log in batches (one job serves many events; the event id
  argument is accepted for compatibility, the drain picks that event up with the others).
- ``execute_workflow_action``: advances one run (after a dispatch, a retry or a sweep).
- ``resume_workflow``: advances a run whose wait is over (scheduled with ``enqueue_at``).
- ``sweep``, ``fire_schedules``, ``cleanup_old_executions``, ``retry_failed_actions``: periodic,
  registered with RQ's cron scheduler (``backend.worker.CRON_JOBS``).
"""

from __future__ import annotations

__all__ = [
    "process_event",
    "execute_workflow_action",
    "resume_workflow",
    "sweep",
    "fire_schedules",
    "cleanup_old_executions",
    "retry_failed_actions",
    "call_fallback_webhook",
    "app_context",
    "worker_session",
]

import contextlib
import threading

from flask import Flask, current_app, has_app_context

_local = threading.local()


def _app() -> Flask:
    app = getattr(_local, "app", None)
    if app is None:
        from backend import create_app

        app = _local.app = create_app()
    return app


def set_app(app: Flask) -> None:
    """Use ``app`` for the jobs run by this thread (the worker command and tests call this)."""
    _local.app = app


@contextlib.contextmanager
def app_context():
    """An app context for a job, reusing the caller's when there is one."""
    if has_app_context():
        yield current_app
        return
    app = _app()
    with app.app_context():
        from backend.extensions import db

        try:
            yield app
        finally:
            db.session.remove()


@contextlib.contextmanager
def worker_session():
    """The session as workers use it: objects are not expired at each commit, so a run's
    contact, tags and conversation are loaded once, not again after every step's commit (the
    runner's own writes go through Core statements and keep the in-memory state). Everything
    is expired on the way out of the outermost one, so the caller sees fresh rows again."""
    from backend.extensions import db

    session = db.session()
    outermost, session.expire_on_commit = session.expire_on_commit, False
    try:
        yield session
    finally:
        if outermost:
            session.expire_on_commit = True
            session.expire_all()


def process_event(event_id: int | None = None) -> int:
    """Drain the event log (see :mod:`backend.services.processing`); returns events handled."""
    from backend.queue import DRAIN_FLAG, get_redis
    from backend.services.processing import drain

    with app_context() as app:
        # Let ingestion queue another drain for events committed from now on (a Redis
        # hiccup here is harmless: the flag's TTL clears it).
        with contextlib.suppress(Exception):
            get_redis().delete(DRAIN_FLAG.format(queue=app.config["RQ_QUEUE"]))
        return drain()


def execute_workflow_action(execution_id: int, note: dict | None = None) -> str:
    """Advance one run until it finishes or waits."""
    from backend.services.runner import advance

    with app_context():
        return advance(execution_id, note=note)


def resume_workflow(execution_id: int) -> str:
    """Continue a run after its wait (or retry backoff)."""
    from backend.services.runner import advance

    with app_context():
        return advance(execution_id)


def sweep() -> dict:
    """Re-dispatch what Redis lost (stale events, expired leases, overdue waits)."""
    from backend.services.sweeper import sweep as run_sweep

    with app_context():
        return run_sweep()


def fire_schedules() -> list[int]:
    """Create the SCHEDULE events that are due."""
    from backend.services.schedules import fire_schedules as fire

    with app_context():
        return fire()


def cleanup_old_executions(days: int | None = None) -> dict:
    """Delete finished runs and events older than the retention setting."""
    from backend.services.maintenance import cleanup_old_executions as cleanup

    with app_context():
        return cleanup(days)


def retry_failed_actions() -> list[int]:
    """Retry recent runs that failed on a retryable error."""
    from backend.services.maintenance import retry_failed_actions as retry

    with app_context():
        return retry()


def call_fallback_webhook(event_id: int) -> dict:
    """POST an unmatched message to the AI fallback URL."""
    from backend.services.fallback import call_webhook

    with app_context():
        return call_webhook(event_id)
