"""Starting, cancelling and retrying runs on request (the API, the CLI and the periodic retry
job call these)."""

from __future__ import annotations

__all__ = [
    "cancel",
    "retry",
    "start_manual",
    "RunControlError",
    "run_manually",
]

import logging
import uuid
from datetime import timedelta

from sqlalchemy import select, update

from backend.errors import ServiceError
from backend.events import emit_trace
from backend.extensions import db
from backend.models import EventLog, StepExecution, Workflow, WorkflowExecution
from backend.runtime.clock import utcnow
from backend.runtime.leases import ACTIVE_STATUSES, DISPATCH
from backend.runtime.runner import create_execution, dispatch_execution
from backend.services import contacts as contact_service
from backend.services.redaction import redact
from backend.services.trigger_rows import trigger_nodes
from backend.services.workflows import validation_report
from graph_engine import (
    GraphError,
    ValidationError,
    build_context,
    default_registry,
    event_from_payload,
)

WE = WorkflowExecution
log = logging.getLogger("backend.runtime.runner")


class RunControlError(ServiceError):
    """The request does not fit the run's state (409) or names no trigger (400)."""

    def __init__(self, message: str, status_code: int = 409):
        super().__init__(status_code, message)


def cancel(execution: WorkflowExecution) -> WorkflowExecution:
    """Stop a pending, running or waiting run; its worker notices at its next checkpoint."""
    now = utcnow()
    done = db.session.execute(
        update(WE)
        .where(WE.id == execution.id, WE.status.in_(ACTIVE_STATUSES))
        .values(
            status="cancelled",
            lease_owner=None,
            lease_expires_at=None,
            resume_at=None,
            finished_at=now,
            error="cancelled",
        )
    ).rowcount
    db.session.commit()
    if not done:
        raise RunControlError(f"execution {execution.id} is {execution.status}; nothing to cancel")
    db.session.refresh(execution)
    emit_trace("run_finished", execution, status="cancelled", steps=execution.step_count)
    return execution


def retry(execution: WorkflowExecution) -> WorkflowExecution:
    """Continue a failed or cancelled run from the step that failed (or where it stopped)."""
    if execution.status not in ("failed", "cancelled"):
        raise RunControlError(
            f"execution {execution.id} is {execution.status}; only failed or "
            "cancelled runs can be retried"
        )
    state = dict(execution.state or {})
    failed = db.session.scalar(
        select(StepExecution.node_id)
        .where(StepExecution.execution_id == execution.id, StepExecution.status == "failed")
        .order_by(StepExecution.seq.desc())
        .limit(1)
    )
    if not state.get("frontier"):
        node = failed or execution.trigger_node_id
        state["frontier"] = [{"node_id": node, "attempt": 1, "not_before": None, "from": []}]
    else:  # cancelled while waiting: run the pending items now
        state["frontier"] = [{**item, "not_before": None} for item in state["frontier"]]
    state.update(status="running", error=None, resume_at=None)
    execution.state = state
    execution.status, execution.error, execution.finished_at = "pending", None, None
    execution.lease_owner = DISPATCH
    execution.lease_expires_at = utcnow() + timedelta(seconds=10)
    db.session.commit()
    dispatch_execution(execution.id)
    return execution


def _event_type(node: dict) -> str | None:
    return default_registry.get(node["type"]).event_type_for(node.get("params"))


def _trigger_node(workflow: Workflow, node_id: str | None) -> str:
    triggers = trigger_nodes(workflow.graph)
    if node_id:
        if not any(n["id"] == node_id for n in triggers):
            raise RunControlError(f"node {node_id} is not a trigger of this workflow", 400)
        return node_id
    manual = [n["id"] for n in triggers if _event_type(n) == "MANUAL"]
    if not manual and not triggers:
        raise RunControlError("the workflow has no trigger node", 400)
    return (manual or [triggers[0]["id"]])[0]


def start_manual(
    workflow: Workflow,
    payload: dict | None = None,
    contact_external_id: str | None = None,
    *,
    trigger_node_id: str | None = None,
) -> WorkflowExecution:
    """Start ``workflow`` now for a contact (no trigger filter, no limits); returns the run.

    A ``MANUAL`` event is logged for the record; the run is dispatched to a worker.
    """
    node_id = _trigger_node(workflow, trigger_node_id)
    key = f"manual-{uuid.uuid4().hex}"
    raw = {
        "event_type": "MANUAL",
        "data": dict(payload or {}),
        "user_id": contact_external_id,
        "event_id": key,
    }
    event = event_from_payload(raw)
    contact = (
        contact_service.get_or_create_contact(str(contact_external_id), raw["data"])
        if contact_external_id
        else None
    )
    log_row = EventLog(
        event_type="MANUAL",
        idempotency_key=key,
        source="manual",
        payload=redact({k: v for k, v in raw.items() if k != "event_id"}),
        user_id=contact_external_id,
        contact_id=contact.id if contact else None,
        status="processed",
        processed_at=utcnow(),
        matched_workflows=[],
    )
    db.session.add(log_row)
    db.session.flush()
    context = build_context(event, contact_service.contact_to_context(contact) or None)
    execution = create_execution(
        workflow,
        node_id,
        context,
        event_id=log_row.id,
        contact_id=log_row.contact_id,
        lease_owner=DISPATCH,
    )
    log_row.matched_workflows = [
        {"workflow_id": workflow.id, "node_id": node_id, "execution_id": execution.id}
    ]
    db.session.commit()
    dispatch_execution(execution.id)
    return execution


def run_manually(
    workflow: Workflow,
    event: dict | None,
    contact_external_id=None,
    trigger_node_id: str | None = None,
) -> WorkflowExecution:
    """Start a run of a valid ``workflow`` now (a MANUAL event carrying ``event.data``).

    The contact defaults to the event's ``user_id``; the trigger node to the workflow's manual
    trigger, else its first trigger. An invalid graph raises the engine's ValidationError.
    """
    report = validation_report(workflow.graph)
    if not report.ok:
        raise ValidationError(report.errors)
    event = event or {}
    if contact_external_id is None and event.get("user_id") is not None:
        contact_external_id = event["user_id"]
    contact = str(contact_external_id) if contact_external_id is not None else None
    try:
        return start_manual(
            workflow, dict(event.get("data") or {}), contact, trigger_node_id=trigger_node_id
        )
    except GraphError as exc:
        raise ServiceError(400, str(exc), field="event") from None
