"""Explain: "why did / didn't this run for this contact?" from what was stored.

For each of a contact's recent events (or one event), every workflow that was active or that the
event matched is checked again with the engine's explain mode
(:func:`graph_engine.explain_match`): against the graph version in force when the event
arrived, the stored (redacted) event and the contact's tags as they were then (rebuilt from the
tag history). The event log's ``matched_workflows`` says which limits skipped a match; the runs
say which path they took (with the failing rules of each false condition), what they rendered
and what is still pending. This works for old events as long as the event log and the runs are
kept (``EXECUTION_RETENTION_DAYS``).
"""

from __future__ import annotations

__all__ = ["explain_contact", "ExplainError"]

from datetime import timedelta

from sqlalchemy import select

from backend.errors import ServiceError
from backend.extensions import db
from backend.models import (
    Contact,
    EventLog,
    OutboundMessage,
    StepExecution,
    TagChange,
    Workflow,
    WorkflowExecution,
    WorkflowVersion,
    iso,
    utcnow,
)
from backend.services import contacts as contact_service
from graph_engine import (
    GraphEngineError,
    build_context,
    event_from_payload,
    explain_match,
    explain_rules,
    trigger_specs,
)

MAX_EVENTS = 50


class ExplainError(ServiceError):
    """A bad explain request (unknown event, an event of another contact)."""


def _tags_at(contact: Contact, at) -> list[str]:
    """The contact's tags at ``at``: today's, with later changes undone (newest first)."""
    tags = list(contact.tag_names)
    later = db.session.scalars(
        select(TagChange)
        .where(TagChange.contact_id == contact.id, TagChange.created_at > at)
        .order_by(TagChange.created_at.desc(), TagChange.id.desc())
    )
    for change in later:
        if change.action == "added" and change.tag in tags:
            tags.remove(change.tag)
        elif change.action == "removed" and change.tag not in tags:
            tags.append(change.tag)
    return tags


def _context(ev: EventLog, contact: Contact) -> dict:
    payload = dict(ev.payload or {})
    payload.setdefault("event_type", ev.event_type)
    payload["event_id"] = ev.idempotency_key
    user = contact_service.contact_to_context(contact)
    user["tags"] = _tags_at(contact, ev.received_at)
    return build_context(event_from_payload(payload), user, None)


def _graph_at(workflow: Workflow, at) -> dict:
    """The graph of the version saved last before ``at`` (the current one if none)."""
    graph = db.session.scalar(
        select(WorkflowVersion.graph)
        .where(WorkflowVersion.workflow_id == workflow.id, WorkflowVersion.created_at <= at)
        .order_by(WorkflowVersion.version.desc())
        .limit(1)
    )
    return graph or workflow.graph or {}


def _triggers(graph: dict, workflow_id: int, context: dict) -> list[dict]:
    out = []
    try:
        specs = trigger_specs(graph, workflow_id)
    except (GraphEngineError, ValueError, KeyError) as exc:
        return [{"node_id": None, "matched": False, "reason": "error", "error": str(exc)}]
    for spec in specs:
        verdict = explain_match(spec, context, code_runner=_no_code)
        out.append({"node_id": spec.node_id, **verdict})
    return out


def _no_code(code, context):
    """Code leaves are not re-run when explaining (they may be slow or not repeatable)."""
    raise GraphEngineError("custom code is not re-run when explaining")


def _condition(step: StepExecution, graph: dict, context: dict) -> dict | None:
    node = next((n for n in graph.get("nodes", []) if n.get("id") == step.node_id), None)
    if node is None or node.get("type") != "logic.condition":
        return None
    try:
        verdict = explain_rules(
            (node.get("params") or {}).get("rules"), context, code_runner=_no_code
        )
    except GraphEngineError as exc:
        return {"node_id": step.node_id, "port": step.port, "error": str(exc)}
    return {"node_id": step.node_id, "port": step.port, "failing": verdict["failing"]}


def _run(ex: WorkflowExecution, context: dict) -> dict:
    graph = _graph_of(ex)
    steps = db.session.scalars(
        select(StepExecution).where(StepExecution.execution_id == ex.id).order_by(StepExecution.seq)
    )
    run_context = ((ex.state or {}).get("context")) or context
    path, conditions = [], []
    for step in steps:
        path.append(
            {
                "node_id": step.node_id,
                "node_type": step.node_type,
                "status": step.status,
                "port": step.port,
                "error": step.error,
            }
        )
        found = (
            _condition(step, graph, run_context) if step.node_type == "logic.condition" else None
        )
        if found:
            conditions.append(found)
    messages = db.session.scalars(
        select(OutboundMessage)
        .where(OutboundMessage.execution_id == ex.id)
        .order_by(OutboundMessage.id)
    )
    return {
        "execution_id": ex.id,
        "status": ex.status,
        "graph_version": ex.workflow_version,
        "created_at": iso(ex.created_at),
        "error": ex.error,
        "path": path,
        "conditions": conditions,
        "messages": [
            {
                "node_id": m.node_id,
                "kind": m.kind,
                "channel": m.channel,
                "to": m.to,
                "subject": m.subject,
                "text": m.text,
                "status": m.status,
            }
            for m in messages
        ],
        "pending": (
            {"resume_at": iso(ex.resume_at), "node_id": _waiting_node(path)}
            if ex.status == "waiting"
            else None
        ),
    }


def _graph_of(ex: WorkflowExecution) -> dict:
    graph = db.session.scalar(
        select(WorkflowVersion.graph).filter_by(
            workflow_id=ex.workflow_id, version=ex.workflow_version
        )
    )
    return graph or db.session.get(Workflow, ex.workflow_id).graph or {}


def _waiting_node(path: list[dict]) -> str | None:
    return next((p["node_id"] for p in reversed(path) if p["status"] == "waiting"), None)


def _outcome(triggers: list[dict], entries: list[dict], run: dict | None) -> tuple[str, str | None]:
    if run is not None:
        return "ran", None
    skipped = next((e.get("skipped") for e in entries if e.get("skipped")), None)
    if skipped:
        return "skipped", skipped
    if any(t["matched"] for t in triggers):
        return "matched_no_run", None
    return "not_matched", next((t["reason"] for t in triggers if t.get("reason")), "no_trigger")


def _workflow_entry(workflow: Workflow, ev: EventLog, context: dict, runs: dict) -> dict:
    triggers = _triggers(_graph_at(workflow, ev.received_at), workflow.id, context)
    entries = [e for e in ev.matched_workflows or [] if e.get("workflow_id") == workflow.id]
    ex = runs.get(workflow.id)
    run = _run(ex, context) if ex is not None else None
    outcome, reason = _outcome(triggers, entries, run)
    return {
        "workflow_id": workflow.id,
        "workflow_name": workflow.name,
        "workflow_status": workflow.status,
        "outcome": outcome,
        "reason": reason,
        "triggers": triggers,
        "run": run,
    }


def _event_entry(ev: EventLog, contact: Contact, workflows: list[Workflow]) -> dict:
    context = _context(ev, contact)
    runs = {
        ex.workflow_id: ex
        for ex in db.session.scalars(
            select(WorkflowExecution).where(WorkflowExecution.event_id == ev.id)
        )
    }
    matched_ids = {e.get("workflow_id") for e in ev.matched_workflows or []} | set(runs)
    chosen = [w for w in workflows if w.status == "active" or w.id in matched_ids]
    return {
        "event_id": ev.id,
        "event_type": ev.event_type,
        "received_at": iso(ev.received_at),
        "status": ev.status,
        "data": (ev.payload or {}).get("data"),
        "workflows": [_workflow_entry(w, ev, context, runs) for w in chosen],
    }


def _events(contact: Contact, event_id: int | None, days: int, limit: int) -> list[EventLog]:
    if event_id is not None:
        ev = db.session.get(EventLog, event_id)
        if ev is None:
            raise ExplainError(404, f"event {event_id} not found", field="event_id")
        if ev.contact_id != contact.id and ev.user_id != contact.external_id:
            raise ExplainError(400, f"event {event_id} is not this contact's", field="event_id")
        return [ev]
    since = utcnow() - timedelta(days=days)
    return list(
        db.session.scalars(
            select(EventLog)
            .where(EventLog.user_id == contact.external_id, EventLog.received_at >= since)
            .order_by(EventLog.received_at.desc(), EventLog.id.desc())
            .limit(limit)
        )
    )


def explain_contact(
    contact: Contact, event_id: int | None = None, days: int = 30, limit: int = 10
) -> dict:
    """Why each of the contact's recent events did or did not start each workflow."""
    workflows = list(db.session.scalars(select(Workflow).order_by(Workflow.id)))
    events = _events(contact, event_id, days, min(limit, MAX_EVENTS))
    waiting = db.session.scalars(
        select(WorkflowExecution).where(
            WorkflowExecution.contact_id == contact.id, WorkflowExecution.status == "waiting"
        )
    )
    return {
        "contact": {
            "id": contact.id,
            "external_id": contact.external_id,
            "first_name": contact.first_name,
            "tags": contact.tag_names,
        },
        "events": [_event_entry(ev, contact, workflows) for ev in events],
        "pending": [
            {"execution_id": ex.id, "workflow_id": ex.workflow_id, "resume_at": iso(ex.resume_at)}
            for ex in waiting
        ],
    }
