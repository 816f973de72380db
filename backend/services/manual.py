"""The API's door to the runtime: event intake and manual runs, with typed refusals.

The runtime's :mod:`backend.runtime.ingest` and :mod:`backend.runtime.runner` do the work;
this module checks what the API can check first (the graph is valid) and turns the runtime's
typed refusals (``IngestError``, ``RunControlError``: both carry ``status_code``) into
:class:`WorkflowError` so the API answers them as JSON.
"""

from __future__ import annotations

__all__ = ["run_manually", "accept_event", "cancel_run", "retry_run"]

from backend.models import Workflow, WorkflowExecution
from backend.runtime import ingest, run_control
from backend.runtime.run_control import RunControlError
from backend.services.workflows import WorkflowError, validation_report
from graph_engine import GraphError, ValidationError


def _refusal(exc: Exception) -> WorkflowError:
    return WorkflowError(getattr(exc, "status_code", 400), getattr(exc, "message", str(exc)),
                         field=getattr(exc, "field", None))  # fmt: skip


def accept_event(payload: dict, source: str = "api"):
    """Commit and dispatch an incoming event; returns ``(EventLog, created)``."""

    try:
        return ingest.accept_event(payload, source=source)
    except ingest.IngestError as exc:
        raise _refusal(exc) from None


def run_manually(workflow: Workflow, event: dict | None, contact_external_id,
                 trigger_node_id: str | None = None) -> WorkflowExecution:  # fmt: skip
    """Start a run of ``workflow`` now (a MANUAL event carrying ``event.data``) for a contact.

    The contact defaults to the event's ``user_id``; the trigger node to the workflow's
    ``trigger.manual`` node, else its first trigger.
    """

    report = validation_report(workflow.graph)
    if not report.ok:
        raise ValidationError(report.errors)
    event = event or {}
    if contact_external_id is None and event.get("user_id") is not None:
        contact_external_id = event["user_id"]
    contact = str(contact_external_id) if contact_external_id is not None else None
    try:
        return run_control.start_manual(workflow, dict(event.get("data") or {}), contact,
                                   trigger_node_id=trigger_node_id)  # fmt: skip
    except RunControlError as exc:
        raise _refusal(exc) from None
    except GraphError as exc:
        raise WorkflowError(400, str(exc), field="event") from None


def cancel_run(execution: WorkflowExecution) -> WorkflowExecution:

    try:
        return run_control.cancel(execution) or execution
    except RunControlError as exc:
        raise _refusal(exc) from None


def retry_run(execution: WorkflowExecution) -> WorkflowExecution:

    try:
        return run_control.retry(execution) or execution
    except RunControlError as exc:
        raise _refusal(exc) from None
