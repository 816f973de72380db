"""Run counts for the editor: per-workflow list figures and per-node funnel counts.

Both are SQL aggregates (GROUP BY) over the runs of a window, never row loads.
:func:`list_figures` adds ``last_run_at``, ``runs_today`` and ``success_rate`` (last 7 days) to
the workflow list; :func:`node_counts` answers how many runs entered each node of a workflow and
how many succeeded, failed, wait or were skipped there.
"""

from __future__ import annotations

__all__ = ["WINDOWS", "list_figures", "node_counts"]

from datetime import datetime, timedelta

from sqlalchemy import case, func, select

from backend.extensions import db
from backend.models import StepExecution, WorkflowExecution, iso, utcnow

Run = WorkflowExecution
WINDOWS = {"24h": timedelta(hours=24), "7d": timedelta(days=7), "30d": timedelta(days=30)}


def _rate(succeeded: int, failed: int) -> float | None:
    done = succeeded + failed
    return round(succeeded / done, 4) if done else None


def list_figures(workflow_ids: list[int], now: datetime | None = None) -> dict[int, dict]:
    """``{workflow_id: {last_run_at, runs_today, success_rate}}`` (today = since UTC midnight)."""
    now = now or utcnow()
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    week = now - timedelta(days=7)
    out = {
        wf_id: {"last_run_at": None, "runs_today": 0, "success_rate": None}
        for wf_id in workflow_ids
    }
    if not workflow_ids:
        return out
    recent = Run.created_at >= week
    stmt = (
        select(
            Run.workflow_id,
            func.max(Run.created_at),
            func.sum(case((Run.created_at >= midnight, 1), else_=0)),
            func.sum(case((recent & (Run.status == "succeeded"), 1), else_=0)),
            func.sum(case((recent & (Run.status == "failed"), 1), else_=0)),
        )
        .where(Run.workflow_id.in_(workflow_ids))
        .group_by(Run.workflow_id)
    )
    for wf_id, last, today, succeeded, failed in db.session.execute(stmt):
        if last is not None and last.tzinfo is None:  # SQLite aggregates come back naive
            last = last.replace(tzinfo=now.tzinfo)
        out[wf_id] = {
            "last_run_at": iso(last),
            "runs_today": int(today or 0),
            "success_rate": _rate(int(succeeded or 0), int(failed or 0)),
        }
    return out


def _empty() -> dict:
    return {"entered": 0, "succeeded": 0, "failed": 0, "waiting": 0, "skipped": 0, "converted": 0}


def node_counts(workflow_id: int, window: str, now: datetime | None = None) -> dict:
    """Per node of ``workflow_id``: runs (created in the window) that entered it, and how they
    left it. A wait step counts as ``waiting`` while its run still waits there and as
    ``succeeded`` once later steps ran; retries count once, by their final outcome."""
    since = (now or utcnow()) - WINDOWS[window]
    step = StepExecution
    later = case((step.seq < Run.step_count, 1), else_=0)
    stmt = (
        select(
            step.node_id,
            step.status,
            Run.status,
            later,
            func.count(func.distinct(step.execution_id)),
        )
        .join(Run, Run.id == step.execution_id)
        .where(Run.workflow_id == workflow_id, Run.created_at >= since)
        .group_by(step.node_id, step.status, Run.status, later)
    )
    nodes: dict[str, dict] = {}
    for node_id, status, run_status, has_later, count in db.session.execute(stmt):
        item = nodes.setdefault(node_id, _empty())
        if status == "converted":  # a goal ended the run while it waited here
            item["converted"] += count
        elif status == "waiting":
            if has_later and run_status != "converted":
                item["succeeded"] += count
            elif run_status == "waiting":
                item["waiting"] += count
        elif status in ("succeeded", "failed", "skipped"):
            item[status] += count
    entered = (
        select(step.node_id, func.count(func.distinct(step.execution_id)))
        .join(Run, Run.id == step.execution_id)
        .where(Run.workflow_id == workflow_id, Run.created_at >= since)
        .group_by(step.node_id)
    )
    for node_id, count in db.session.execute(entered):
        nodes.setdefault(node_id, _empty())["entered"] = count
    return {"window": window, "since": iso(since), "nodes": nodes}
