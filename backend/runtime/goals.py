"""Goals: a contact's event can end their waiting runs as ``converted``.

When an event of a contact is processed, each of the contact's waiting runs whose graph version
declares ``settings.goals`` is checked (:func:`graph_engine.reached_goal`) against the event's
context (the event, the contact as it is now). A run whose goal is reached is finished with
status ``converted``, its pending resume dropped, and a step ``goal`` recorded at the node it
was waiting on (output: the goal), so statistics and node-stats count the conversion there.
The update is guarded (still waiting, same step counter, no live lease): a worker resuming the
run at the same moment wins or loses cleanly.
"""

from __future__ import annotations

__all__ = ["exit_reached_goals"]

from sqlalchemy import or_, select, update

from backend.extensions import db
from backend.models import StepExecution, WorkflowExecution, WorkflowVersion
from backend.runtime.clock import utcnow
from graph_engine import reached_goal

Run = WorkflowExecution


def _goals(workflow_id: int, version: int, cache: dict) -> list:
    key = (workflow_id, version)
    if key not in cache:
        graph = (
            db.session.scalar(
                select(WorkflowVersion.graph).filter_by(workflow_id=workflow_id, version=version)
            )
            or {}
        )
        cache[key] = (graph.get("settings") or {}).get("goals") or []
    return cache[key]


def _waiting_node(run_id: int) -> str | None:
    return db.session.scalar(
        select(StepExecution.node_id)
        .where(StepExecution.execution_id == run_id, StepExecution.status == "waiting")
        .order_by(StepExecution.seq.desc())
        .limit(1)
    )


def _convert(run_id: int, step_count: int, goal: dict, event_id: int | None) -> bool:
    now = utcnow()
    done = db.session.execute(
        update(Run)
        .where(
            Run.id == run_id,
            Run.status == "waiting",
            Run.step_count == step_count,
            or_(Run.lease_owner.is_(None), Run.lease_expires_at < now),
        )
        .values(
            status="converted",
            resume_at=None,
            finished_at=now,
            error=None,
            step_count=step_count + 1,
        ),
        execution_options={"synchronize_session": False},
    ).rowcount
    if done:
        db.session.add(
            StepExecution(
                execution_id=run_id,
                seq=step_count + 1,
                node_id=_waiting_node(run_id) or "goal",
                node_type="goal",
                status="converted",
                attempt=1,
                port=None,
                input={"event_id": event_id},
                output={"goal": goal.get("id"), **goal},
                started_at=now,
                finished_at=now,
                duration_ms=0.0,
            )
        )
    return bool(done)


def exit_reached_goals(contact_id: int | None, context: dict, event_id: int | None) -> list[int]:
    """End the contact's waiting runs whose goal this event's context reaches; their ids."""
    if contact_id is None:
        return []
    runs = db.session.execute(
        select(Run.id, Run.workflow_id, Run.workflow_version, Run.step_count).where(
            Run.status == "waiting", Run.contact_id == contact_id
        )
    ).all()
    converted, cache = [], {}
    for run_id, workflow_id, version, step_count in runs:
        goal = reached_goal(_goals(workflow_id, version, cache), context)
        if goal is not None and _convert(run_id, step_count, goal, event_id):
            converted.append(run_id)
    return converted
