"""Periodic upkeep: retention of old runs and events, and automatic retries of failed runs."""

from __future__ import annotations

__all__ = ["cleanup_old_executions", "retry_failed_actions"]

from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, func, select

from backend.extensions import db
from backend.models import FINISHED, EventLog, StepExecution, WorkflowExecution
from backend.runtime.clock import utcnow
from backend.runtime.run_control import retry

WE = WorkflowExecution


def cleanup_old_executions(days: int | None = None) -> dict:
    """Delete finished runs (and their steps) and processed events older than the retention
    (``EXECUTION_RETENTION_DAYS``); unfinished runs are kept whatever their age."""
    days = days if days is not None else current_app.config.get("EXECUTION_RETENTION_DAYS", 30)
    cutoff = utcnow() - timedelta(days=days)
    old = select(WE.id).where(WE.status.in_(FINISHED), WE.created_at < cutoff)
    ids = list(db.session.scalars(old))
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        db.session.execute(delete(StepExecution).where(StepExecution.execution_id.in_(chunk)))
        db.session.execute(delete(WE).where(WE.id.in_(chunk)))
    events = db.session.execute(
        delete(EventLog).where(
            EventLog.status.in_(("processed", "failed")), EventLog.received_at < cutoff
        )
    ).rowcount
    db.session.commit()
    return {"executions": len(ids), "events": events}


def retry_failed_actions(max_auto_retries: int | None = None, within_hours: int = 24) -> list[int]:
    """Retry recent runs that failed on a *retryable* error (a channel or HTTP outage that
    outlasted the node's own retry policy), at most ``RUN_AUTO_RETRIES`` times per run."""
    limit = (
        max_auto_retries
        if max_auto_retries is not None
        else current_app.config.get("RUN_AUTO_RETRIES", 1)
    )
    since = utcnow() - timedelta(hours=within_hours)
    runs = db.session.scalars(
        select(WE).where(WE.status == "failed", WE.finished_at >= since).limit(200)
    )
    retried = []
    for run in runs:
        error = (run.state or {}).get("error") or {}
        failures = db.session.scalar(
            select(func.count(StepExecution.id)).where(
                StepExecution.execution_id == run.id, StepExecution.status == "failed"
            )
        )
        if not error.get("retryable") or failures > limit:
            continue
        retry(run)
        retried.append(run.id)
    return retried
