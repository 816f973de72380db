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
    "simulate_workflow",
    "app_context",
]

import contextlib
import threading

from flask import Flask, current_app, has_app_context

from backend import create_app
from backend.extensions import db
from backend.runtime.fallback import call_webhook
from backend.runtime.maintenance import cleanup_old_executions as cleanup
from backend.runtime.maintenance import retry_failed_actions as retry
from backend.runtime.processing import drain
from backend.runtime.runner import advance
from backend.runtime.schedules import fire_schedules as fire
from backend.runtime.sweeper import sweep as run_sweep
from backend.services.simulations import run as run_simulation

_local = threading.local()


def _app() -> Flask:
    app = getattr(_local, "app", None)
    if app is None:
        app = _local.app = create_app()
    return app


@contextlib.contextmanager
def app_context():
    """An app context for a job, reusing the caller's when there is one."""
    if has_app_context():
        yield current_app
        return
    app = _app()
    with app.app_context():
        try:
            yield app
        finally:
            db.session.remove()


def process_event(event_id: int | None = None) -> int:
    """Drain the event log (see :mod:`backend.runtime.processing`); returns events handled."""

    with app_context():
        return drain()  # it holds and drops the drain flag (see drain)


def execute_workflow_action(execution_id: int, note: dict | None = None) -> str:
    """Advance one run until it finishes or waits."""

    with app_context():
        return advance(execution_id, note=note)


def resume_workflow(execution_id: int) -> str:
    """Continue a run after its wait (or retry backoff)."""

    with app_context():
        return advance(execution_id)


def sweep() -> dict:
    """Re-dispatch what Redis lost (stale events, expired leases, overdue waits)."""

    with app_context():
        return run_sweep()


def fire_schedules() -> list[int]:
    """Create the SCHEDULE events that are due."""

    with app_context():
        return fire()


def cleanup_old_executions(days: int | None = None) -> dict:
    """Delete finished runs and events older than the retention setting."""

    with app_context():
        return cleanup(days)


def retry_failed_actions() -> list[int]:
    """Retry recent runs that failed on a retryable error."""

    with app_context():
        return retry()


def call_fallback_webhook(event_id: int) -> dict:
    """POST an unmatched message to the AI fallback URL."""

    with app_context():
        return call_webhook(event_id)


def simulate_workflow(simulation_id: str) -> str:
    """Replay stored events through a draft graph (capture only) and store the result."""
    with app_context():
        return run_simulation(simulation_id)
