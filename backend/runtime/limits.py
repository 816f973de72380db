"""Limits checked before an execution is created.

Per workflow (graph ``settings``): ``reentry`` — ``always``, ``once`` (never again for this
contact) or ``once_per_hours`` (not within ``reentry_hours`` of the contact's last run) — and
``max_runs_per_contact_per_day`` (a rolling 24 hours). Globally: ``RATE_LIMIT_PER_CONTACT_PER_MINUTE``
executions per contact (a Redis counter per minute; fails open when Redis is down, while the
database checks above still hold).

The database checks run inside the event's transaction after the contact row was locked
(:func:`lock_contact`), so two workers handling events of the same contact cannot both pass a
``once`` check.
"""

from __future__ import annotations

__all__ = ["skip_reason", "rate_limited", "lock_contact", "checks_database"]

from datetime import timedelta

import redis
from flask import current_app
from sqlalchemy import func, select

from backend.extensions import db
from backend.models import Contact, WorkflowExecution
from backend.queue import get_redis
from backend.runtime.clock import utcnow


def lock_contact(contact_id: int) -> None:
    """Serialise limit checks per contact (PostgreSQL row lock until the transaction ends)."""
    if db.engine.dialect.name == "postgresql":
        db.session.execute(select(Contact.id).where(Contact.id == contact_id).with_for_update())


def _runs_since(workflow_id: int, contact_id: int, since=None) -> int:
    query = select(func.count(WorkflowExecution.id)).where(
        WorkflowExecution.workflow_id == workflow_id, WorkflowExecution.contact_id == contact_id
    )
    if since is not None:
        query = query.where(WorkflowExecution.created_at >= since)
    return db.session.scalar(query) or 0


def checks_database(settings: dict | None) -> bool:
    """Whether :func:`skip_reason` reads the database for a workflow with these settings
    (then the contact's row lock must be held around it).

    >>> checks_database({"reentry": "always"}), checks_database({"reentry": "once"})
    (False, True)
    """
    settings = settings or {}
    return (settings.get("reentry") or "always") != "always" or (
        settings.get("max_runs_per_contact_per_day") is not None
    )


def skip_reason(settings: dict, workflow_id: int, contact_id: int | None) -> str | None:
    """Why this workflow must not start for this contact now, or None when it may.

    >>> skip_reason({}, 1, None) is None
    True
    """
    if contact_id is None:
        return None
    reentry = settings.get("reentry") or "always"
    now = utcnow()
    if reentry == "once" and _runs_since(workflow_id, contact_id):
        return "reentry_once"
    if reentry == "once_per_hours":
        hours = float(settings.get("reentry_hours") or 24)
        if _runs_since(workflow_id, contact_id, now - timedelta(hours=hours)):
            return f"reentry_once_per_{hours:g}_hours"
    daily = settings.get("max_runs_per_contact_per_day")
    if daily is not None and _runs_since(workflow_id, contact_id, now - timedelta(days=1)) >= int(
        daily
    ):
        return "max_runs_per_contact_per_day"
    return None


def rate_limited(contact_id: int | None) -> bool:
    """Count one execution for the contact; True when it exceeds the per-minute limit."""
    limit = current_app.config.get("RATE_LIMIT_PER_CONTACT_PER_MINUTE") or 0
    if contact_id is None or limit <= 0:
        return False
    minute = int(utcnow().timestamp() // 60)
    key = f"fm:rate:{contact_id}:{minute}"
    try:
        pipe = get_redis().pipeline()
        pipe.incr(key)
        pipe.expire(key, 120)
        count = pipe.execute()[0]
    except redis.RedisError:
        return False  # fail open: the database-backed limits still apply
    return count > limit
