"""Runs a database outage interrupted: the step is discarded, the run retried with backoff.

While the database is down nothing about the interrupted attempt can be written, so it is kept
in this process and in Redis (:func:`_remember_outage`) until a worker advancing the run again
records it as a failed step (:func:`record_outage`) once the database is back.
"""

from __future__ import annotations

__all__ = ["on_db_error", "record_outage", "take_outage"]

import contextlib
import json
import logging
from datetime import timedelta

import redis
from sqlalchemy import insert, update
from sqlalchemy.exc import SQLAlchemyError

from backend.extensions import db
from backend.models import StepExecution, WorkflowExecution
from backend.queue import get_queue
from backend.runtime.clock import utcnow
from backend.runtime.leases import owner

WE = WorkflowExecution
log = logging.getLogger("backend.runtime.runner")


def record_outage(execution_id: int, step_count: int, note: dict) -> None:
    """Record the attempt a database outage interrupted (as step ``step_count + 1``), now that
    the database is back."""
    db.session.execute(
        insert(StepExecution).values(
            execution_id=execution_id,
            seq=step_count + 1,
            node_id=note.get("node_id") or "?",
            node_type=note.get("node_type") or "",
            attempt=int(note.get("attempt", 1)),
            status="failed",
            error=str(note.get("error", ""))[:10_000],
            input=None,
            output=None,
            started_at=utcnow(),
            finished_at=utcnow(),
            duration_ms=0.0,
        )
    )
    db.session.execute(update(WE).where(WE.id == execution_id).values(step_count=step_count + 1))
    db.session.commit()


def on_db_error(execution_id: int, exc: Exception, node: str | None, note: dict | None) -> None:
    """Discard the interrupted step and schedule a retry of the run with backoff."""
    with contextlib.suppress(SQLAlchemyError):
        db.session.rollback()
    attempt = int((note or {}).get("attempt", 0)) + 1
    log.warning(
        "execution %s: database error (attempt %s), retrying: %s", execution_id, attempt, exc
    )
    retry_note = {
        "node_id": node or (note or {}).get("node_id"),
        "owner": owner(),
        "error": f"database unavailable: {exc}"[:2000],
        "attempt": attempt,
    }
    _remember_outage(execution_id, retry_note)
    delay = min(2 ** (attempt - 1), 30)
    # Redis down too: the lease expires and the sweeper re-dispatches the run.
    with contextlib.suppress(redis.RedisError):
        get_queue().enqueue_in(
            timedelta(seconds=delay),
            "backend.jobs.execute_workflow_action",
            args=(execution_id,),
            kwargs={"note": retry_note},
            result_ttl=0,
        )


_outages: dict[int, dict] = {}
_OUTAGE_KEY = "fm:outage:{}"


def _remember_outage(execution_id: int, note: dict) -> None:
    """Keep the interrupted attempt until some worker can record it (this process + Redis:
    the sweeper may hand the run to another worker before the retry job runs)."""
    _outages[execution_id] = note
    with contextlib.suppress(redis.RedisError):
        get_queue().connection.set(_OUTAGE_KEY.format(execution_id), json.dumps(note), ex=3600)


def take_outage(execution_id: int, note: dict | None) -> dict | None:
    """The interrupted attempt to record for this run, if any (``note`` wins)."""
    local = _outages.pop(execution_id, None)
    try:
        raw = get_queue().connection.getdel(_OUTAGE_KEY.format(execution_id))
    except redis.RedisError:
        raw = None
    stored = json.loads(raw) if raw else None
    return note or local or stored
