"""The sweeper: re-dispatch what Redis lost. It runs every ``SWEEP_INTERVAL_SECONDS``.

Redis only carries dispatch, so after a worker is killed or Redis is flushed or restarted, the
database still says what is left to do:

1. events still ``received`` after ``EVENT_GRACE_SECONDS`` -> a ``process_event`` drain job;
2. runs ``pending`` / ``running`` whose lease expired (their worker died) -> re-dispatched;
3. runs ``waiting`` past their ``resume_at`` (+ grace) with no lease -> re-dispatched.

A re-dispatched run gets the ``dispatch`` lease for one lease period, so the next sweep does not
dispatch it again while its job is queued; if that job is lost too, the lease expires and the
run is swept again. Several workers may enqueue the sweep: a short Redis lock keeps one at work.
"""

from __future__ import annotations

__all__ = ["sweep"]

import logging
from datetime import timedelta

import redis
from flask import current_app
from sqlalchemy import and_, func, or_, select, update

from backend.extensions import db
from backend.models import EventLog, WorkflowExecution
from backend.queue import get_queue, get_redis
from backend.runtime.clock import utcnow
from backend.runtime.leases import DISPATCH
from backend.runtime.runner import dispatch_execution

log = logging.getLogger(__name__)
WE = WorkflowExecution
LOCK_KEY = "fm:sweep-lock"
BATCH = 500


def _locked(seconds: float) -> bool:
    try:
        return not get_redis().set(LOCK_KEY, b"1", nx=True, px=max(int(seconds * 1000), 100))
    except redis.RedisError:
        return False  # Redis down: sweep anyway (only dispatching needs Redis)


def _stale_runs(now, grace):
    expired = and_(WE.status.in_(("pending", "running")), WE.lease_expires_at < now)
    due = and_(
        WE.status == "waiting",
        WE.resume_at < now - grace,
        or_(WE.lease_owner.is_(None), WE.lease_expires_at < now),
    )
    return or_(expired, due)


def _redispatch_runs(now, grace) -> list[int]:
    condition = _stale_runs(now, grace)
    ids = list(db.session.scalars(select(WE.id).where(condition).order_by(WE.id).limit(BATCH)))
    if not ids:
        return []
    lease = timedelta(seconds=current_app.config.get("RUN_LEASE_SECONDS", 60))
    db.session.execute(
        update(WE)
        .where(WE.id.in_(ids), condition)
        .values(lease_owner=DISPATCH, lease_expires_at=now + lease),
        execution_options={"synchronize_session": False},
    )
    db.session.commit()
    for execution_id in ids:
        if not dispatch_execution(execution_id):
            break
    return ids


def sweep(*, force: bool = False) -> dict:
    """One reconciliation pass; returns what it found (``events``, ``runs`` ids)."""
    config = current_app.config
    if not force and _locked(config.get("SWEEP_INTERVAL_SECONDS", 5) * 0.8):
        return {"skipped": True}
    now = utcnow()  # leases and resume times are database time (backend.clock)
    grace = timedelta(seconds=config.get("EVENT_GRACE_SECONDS", 10))
    stale_events = db.session.scalar(
        select(func.count(EventLog.id)).where(
            EventLog.status.in_(("received", "processing")), EventLog.received_at < now - grace
        )
    )
    if stale_events:
        try:
            get_queue().enqueue("backend.jobs.process_event", result_ttl=0)
        except redis.RedisError as exc:
            log.warning("sweep: cannot dispatch %s events: %s", stale_events, exc)
    runs = _redispatch_runs(now, grace)
    if stale_events or runs:
        log.info("sweep: %s stale events, re-dispatched runs %s", stale_events, runs)
    return {"events": stale_events or 0, "runs": runs}
