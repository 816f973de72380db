"""Goals: a contact's event can end their waiting runs as ``converted``.

When an event of a contact is processed, each of the contact's waiting runs whose graph version
declares ``settings.goals`` is checked (:func:`graph_engine.reached_goal`) against the event's
context (the event, the contact as it is now). A run whose goal is reached is finished with
status ``converted``, its pending resume dropped, and a step ``goal`` recorded at the node it
was waiting on (output: the goal), so statistics and node-stats count the conversion there.
The update is guarded (still waiting, same step counter, no live lease): a worker resuming the
run at the same moment wins or loses cleanly.

A run is also checked when it resumes (:func:`exit_on_resume`, called by the runner once it
holds the run's lease, before any step):

- the contact may have reached a tag or rule goal while it waited with no event of theirs to
  notice it (a tag set by an operator or another workflow);
- an event goal may have been reached by an event that came while the run could not be checked:
  the run was not waiting yet (the goal event was in the same drain batch as the event that
  started it, or came while its first steps ran) or a worker held it. So the contact's events
  processed since the run's own event, of a type an event goal names, are checked too, each with
  the contact as it is now.
"""

from __future__ import annotations

__all__ = ["exit_reached_goals", "exit_on_resume"]

from sqlalchemy import or_, select, update

from backend.extensions import db
from backend.models import Contact, EventLog, StepExecution, WorkflowExecution, WorkflowVersion
from backend.runtime.clock import utcnow
from backend.runtime.leases import owner
from backend.services import contacts as contact_service
from graph_engine import GraphError, event_from_payload, reached_goal

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


def _convert(
    run_id: int, step_count: int, goal: dict, event_id: int | None, leased: bool = False
) -> bool:
    """Finish a waiting run as converted (guarded); ``leased``: this thread holds its lease."""
    now = utcnow()
    free = or_(Run.lease_owner.is_(None), Run.lease_expires_at < now)
    done = db.session.execute(
        update(Run)
        .where(
            Run.id == run_id,
            Run.status == "waiting",
            Run.step_count == step_count,
            Run.lease_owner == owner() if leased else free,
        )
        .values(
            status="converted",
            resume_at=None,
            finished_at=now,
            error=None,
            step_count=step_count + 1,
            lease_owner=None,
            lease_expires_at=None,
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


def exit_on_resume(run: WorkflowExecution, goals: list | None) -> dict | None:
    """The goal a resuming run's contact reached while it waited, the run then finished as
    ``converted`` (committed); None when it should go on. The caller holds the run's lease."""
    if not goals or run.status != "waiting" or run.contact_id is None:
        return None
    contact = db.session.get(Contact, run.contact_id, populate_existing=True)
    context = {**(run.state or {}).get("context", {}), "event": {}}
    context["user"] = contact_service.contact_to_context(contact)
    goal, event_id = reached_goal(goals, context), None
    if goal is None:
        goal, event_id = _event_goal(run, goals, context)
    if goal is None or not _convert(run.id, run.step_count, goal, event_id, leased=True):
        return None
    db.session.commit()
    return goal


def _event_goal(
    run: WorkflowExecution, goals: list, context: dict
) -> tuple[dict | None, int | None]:
    """The first event goal one of the contact's events since the run's own reaches, with that
    event's id (see the module docstring); ``(None, None)`` when none does."""
    types = {g["event_type"] for g in goals if isinstance(g, dict) and g.get("event_type")}
    if not types:
        return None, None
    since = (
        EventLog.id > run.event_id
        if run.event_id is not None
        else EventLog.received_at >= run.created_at
    )
    query = (
        select(EventLog.id, EventLog.idempotency_key, EventLog.payload)
        .where(
            EventLog.contact_id == run.contact_id,
            since,
            EventLog.event_type.in_(types),
            EventLog.status == "processed",
        )
        .order_by(EventLog.id)
    )
    for event_id, key, payload in db.session.execute(query):
        try:
            event = event_from_payload({**(payload or {}), "event_id": key})
        except GraphError:  # a stored payload that no longer reads as an event
            continue
        goal = reached_goal(goals, {**context, "event": event})
        if goal is not None:
            return goal, event_id
    return None, None
