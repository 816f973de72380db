"""Wake-ups: every run waiting to resume, grouped by workflow and hour, overdue ones flagged.

A run that waits (``flow.wait``, a retry backoff) is stored ``waiting`` with its ``resume_at``.
The scheduler or the sweeper resumes it on time; one still waiting well past its time means the
workers are behind (or down). Counts are SQL aggregates; only the soonest runs are listed.
"""

from __future__ import annotations

__all__ = ["OVERDUE_SECONDS", "wakeups"]

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from backend.extensions import db
from backend.models import StepExecution, Workflow, WorkflowExecution, iso, utcnow

Run = WorkflowExecution
#: A wait this far past its resume time is flagged overdue (the sweeper runs every few seconds).
OVERDUE_SECONDS = 60


def _hour(column):
    """The hour a datetime column falls in, as a dialect-specific SQL expression."""
    if db.engine.dialect.name == "postgresql":
        return func.date_trunc("hour", column)
    return func.strftime("%Y-%m-%d %H:00:00", column)


def _as_datetime(value) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _groups(where: list, overdue_at: datetime) -> list[dict]:
    hour = _hour(Run.resume_at)
    overdue = func.sum(func.cast(Run.resume_at < overdue_at, db.Integer))
    stmt = (
        select(Run.workflow_id, Workflow.name, hour, func.count(), overdue)
        .join(Workflow, Workflow.id == Run.workflow_id)
        .where(*where)
        .group_by(Run.workflow_id, Workflow.name, hour)
        .order_by(Run.workflow_id, hour)
    )
    groups: dict[int, dict] = {}
    for wf_id, name, at, count, late in db.session.execute(stmt):
        group = groups.setdefault(
            wf_id,
            {"workflow_id": wf_id, "workflow_name": name, "pending": 0, "overdue": 0, "hours": []},
        )
        group["pending"] += count
        group["overdue"] += int(late or 0)
        group["hours"].append(
            {"hour": iso(_as_datetime(at)), "count": count, "overdue": int(late or 0)}
        )
    return list(groups.values())


def _soonest(where: list, overdue_at: datetime, limit: int) -> list[dict]:
    waiting_node = (
        select(StepExecution.node_id)
        .where(StepExecution.execution_id == Run.id, StepExecution.status == "waiting")
        .order_by(StepExecution.seq.desc())
        .limit(1)
        .scalar_subquery()
    )
    stmt = (
        select(Run.id, Run.workflow_id, Run.contact_id, Run.resume_at, waiting_node)
        .where(*where)
        .order_by(Run.resume_at, Run.id)
        .limit(limit)
    )
    return [
        {
            "execution_id": run_id,
            "workflow_id": wf_id,
            "contact_id": contact_id,
            "node_id": node_id,
            "resume_at": iso(at),
            "overdue": at < overdue_at,
        }
        for run_id, wf_id, contact_id, at, node_id in db.session.execute(stmt)
    ]


def wakeups(workflow_id: int | None = None, limit: int = 50, now: datetime | None = None) -> dict:
    """Pending waits: totals, per workflow and hour, and the ``limit`` soonest runs."""
    now = now or utcnow()
    overdue_at = now - timedelta(seconds=OVERDUE_SECONDS)
    where = [Run.status == "waiting", Run.resume_at.is_not(None)]
    if workflow_id is not None:
        where.append(Run.workflow_id == workflow_id)
    groups = _groups(where, overdue_at)
    return {
        "now": iso(now),
        "overdue_after_seconds": OVERDUE_SECONDS,
        "pending": sum(g["pending"] for g in groups),
        "overdue": sum(g["overdue"] for g in groups),
        "workflows": groups,
        "soonest": _soonest(where, overdue_at, limit),
    }
