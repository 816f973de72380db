"""Workflow statistics, computed with SQL aggregates (GROUP BY), never by loading rows.

``compute()`` answers the ``/workflows/statistics/`` endpoint: workflows by status, executions
by status, success rate, average duration, per-workflow and per-node counts, events by status.
"""

from __future__ import annotations

__all__ = ["compute"]

from datetime import datetime

from sqlalchemy import func, select

from backend.extensions import db
from backend.models import EventLog, StepExecution, Workflow, WorkflowExecution

Run = WorkflowExecution


def _run_filters(workflow_id: int | None, after: datetime | None, before: datetime | None):
    conds = []
    if workflow_id is not None:
        conds.append(Run.workflow_id == workflow_id)
    if after is not None:
        conds.append(Run.created_at >= after)
    if before is not None:
        conds.append(Run.created_at < before)
    return conds


def _by_status(column, *where) -> dict[str, int]:
    rows = db.session.execute(select(column, func.count()).where(*where).group_by(column))
    return {status: count for status, count in rows}


def _rate(by_status: dict[str, int]) -> float | None:
    done = by_status.get("succeeded", 0) + by_status.get("failed", 0)
    return round(by_status.get("succeeded", 0) / done, 4) if done else None


def _avg(value) -> float | None:
    return round(float(value), 2) if value is not None else None


def _per_workflow(conds) -> list[dict]:
    stmt = (
        select(Run.workflow_id, Workflow.name, Run.status, func.count(), func.avg(Run.duration_ms))
        .join(Workflow, Workflow.id == Run.workflow_id)
        .where(*conds)
        .group_by(Run.workflow_id, Workflow.name, Run.status)
    )
    out: dict[int, dict] = {}
    for wf_id, name, status, count, avg in db.session.execute(stmt):
        item = out.setdefault(
            wf_id,
            {
                "workflow_id": wf_id,
                "name": name,
                "total": 0,
                "by_status": {},
                "avg_duration_ms": None,
            },
        )
        item["total"] += count
        item["by_status"][status] = count
        if status in ("succeeded", "failed") and avg is not None:
            item["avg_duration_ms"] = _avg(avg)
    for item in out.values():
        item["success_rate"] = _rate(item["by_status"])
    return sorted(out.values(), key=lambda i: i["workflow_id"])


def _per_node(conds) -> list[dict]:
    stmt = (
        select(
            Run.workflow_id,
            StepExecution.node_id,
            StepExecution.node_type,
            StepExecution.status,
            func.count(),
            func.avg(StepExecution.duration_ms),
        )
        .join(Run, Run.id == StepExecution.execution_id)
        .where(*conds)
        .group_by(
            Run.workflow_id, StepExecution.node_id, StepExecution.node_type, StepExecution.status
        )
    )
    out: dict[tuple, dict] = {}
    for wf_id, node_id, node_type, status, count, avg in db.session.execute(stmt):
        key = (wf_id, node_id)
        item = out.setdefault(
            key,
            {
                "workflow_id": wf_id,
                "node_id": node_id,
                "node_type": node_type,
                "total": 0,
                "by_status": {},
                "avg_duration_ms": None,
            },
        )
        item["total"] += count
        item["by_status"][status] = count
        if status == "succeeded":
            item["avg_duration_ms"] = _avg(avg)
    return sorted(out.values(), key=lambda i: (i["workflow_id"], i["node_id"]))


def compute(
    workflow_id: int | None = None, after: datetime | None = None, before: datetime | None = None
) -> dict:
    """All statistics, optionally for one workflow and a creation-time window of the runs."""
    conds = _run_filters(workflow_id, after, before)
    wf_where = [Workflow.id == workflow_id] if workflow_id is not None else []
    executions = _by_status(Run.status, *conds)
    workflows = _by_status(Workflow.status, *wf_where)
    finished = [*conds, Run.status.in_(("succeeded", "failed"))]
    avg = db.session.scalar(select(func.avg(Run.duration_ms)).where(*finished))
    event_where = []
    if workflow_id is not None:  # only the events that started runs of this workflow
        event_where.append(
            EventLog.id.in_(select(Run.event_id).where(Run.workflow_id == workflow_id))
        )
    if after is not None:
        event_where.append(EventLog.received_at >= after)
    if before is not None:
        event_where.append(EventLog.received_at < before)
    return {
        "workflows": {"total": sum(workflows.values()), "by_status": workflows},
        "executions": {
            "total": sum(executions.values()),
            "by_status": executions,
            "success_rate": _rate(executions),
            "avg_duration_ms": _avg(avg),
            "conversions": executions.get("converted", 0),
        },
        "events": {"by_status": _by_status(EventLog.status, *event_where)},
        "per_workflow": _per_workflow(conds),
        "per_node": _per_node(conds),
    }
