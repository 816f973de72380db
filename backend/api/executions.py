"""``/workflow-executions/``: runs with their step records; cancel and retry."""

from __future__ import annotations

__all__ = ["bp", "execution_json", "step_json", "ran_graph"]

from flask import Blueprint, jsonify
from sqlalchemy import select

from backend.api.common import DATE_QUERY, ID, STR, get_or_404, paginate, within_dates
from backend.api.errors import ApiError
from backend.api.spec import component, operation
from backend.models import EXECUTION_STATUSES, FINISHED, Contact, WorkflowExecution, iso
from backend.runtime import run_control
from backend.services.masking import visible
from backend.services.versions import get_version

bp = Blueprint("executions", __name__)

_NUM = {"type": ["number", "null"]}
_TIME = {"type": ["string", "null"]}
STEP_REF = component(
    "StepExecution",
    {
        "type": "object",
        "required": ["seq", "node_id", "node_type", "status", "attempt"],
        "properties": {
            "id": {"type": "integer"},
            "seq": {"type": "integer"},
            "node_id": {"type": "string"},
            "node_type": {"type": "string"},
            "attempt": {"type": "integer"},
            "status": {"type": "string"},
            "port": {"type": ["string", "null"]},
            "input": {},
            "output": {},
            "error": {"type": ["string", "null"]},
            "started_at": _TIME,
            "finished_at": _TIME,
            "duration_ms": _NUM,
            "attempts": {"type": "integer"},
            "resume_at": _TIME,
        },
    },
)
EXECUTION_REF = component(
    "WorkflowExecution",
    {
        "type": "object",
        "required": ["id", "workflow_id", "status", "trigger_node_id", "created_at"],
        "properties": {
            "id": {"type": "integer"},
            "workflow_id": {"type": "integer"},
            "workflow_name": {"type": ["string", "null"]},
            "workflow_version": {"type": "integer"},
            "event_id": {"type": ["integer", "null"]},
            "contact_id": {"type": ["integer", "null"]},
            "contact_external_id": {"type": ["string", "null"]},
            "trigger_node_id": {"type": "string"},
            "status": {"enum": list(EXECUTION_STATUSES)},
            "step_count": {"type": "integer"},
            "error": {"type": ["string", "null"]},
            "resume_at": _TIME,
            "created_at": {"type": "string"},
            "started_at": _TIME,
            "finished_at": _TIME,
            "duration_ms": _NUM,
            "steps": {"type": "array", "items": STEP_REF},
            "state": {},
            "graph": {"type": ["object", "null"]},
            "graph_version": {"type": "integer"},
        },
    },
)
component(
    "Statistics",
    {
        "type": "object",
        "required": ["workflows", "executions", "per_workflow", "per_node"],
        "properties": {
            "workflows": {"type": "object"},
            "executions": {"type": "object"},
            "events": {"type": "object"},
            "per_workflow": {"type": "array"},
            "per_node": {"type": "array"},
        },
    },
)
LIST_QUERY = {
    "workflow": {**ID, "description": "workflow id"},
    "workflow_id": {**ID, "description": "workflow id (same as workflow)"},
    "status": {"enum": list(EXECUTION_STATUSES)},
    "contact": {**STR(191), "description": "the contact's external id"},
    "contact_id": ID,
    "event": {**ID, "description": "event log id"},
    **DATE_QUERY,
}


def step_json(step) -> dict:
    return {
        "id": step.id,
        "seq": step.seq,
        "node_id": step.node_id,
        "node_type": step.node_type,
        "attempt": step.attempt,
        "status": step.status,
        "port": step.port,
        "input": step.input,
        "output": step.output,
        "error": step.error,
        "started_at": iso(step.started_at),
        "finished_at": iso(step.finished_at),
        "duration_ms": step.duration_ms,
        "attempts": step.attempt,
        "resume_at": _resume_at(step),
    }


def _resume_at(step) -> str | None:
    """When a waiting step's successors run (a wait node's output says so)."""
    output = step.output if isinstance(step.output, dict) else {}
    value = output.get("resume_at") if step.status in ("waiting", "retrying") else None
    return value if isinstance(value, str) else None


def execution_json(run: WorkflowExecution, *, detail: bool = False) -> dict:
    out = {
        "id": run.id,
        "workflow_id": run.workflow_id,
        "workflow_name": run.workflow.name if run.workflow else None,
        "workflow_version": run.workflow_version,
        "event_id": run.event_id,
        "contact_id": run.contact_id,
        "contact_external_id": run.contact.external_id if run.contact else None,
        "trigger_node_id": run.trigger_node_id,
        "status": run.status,
        "step_count": run.step_count,
        "error": run.error,
        "resume_at": iso(run.resume_at),
        "created_at": iso(run.created_at),
        "started_at": iso(run.started_at),
        "finished_at": iso(run.finished_at),
        "duration_ms": run.duration_ms,
    }
    if detail:
        out["steps"] = [step_json(s) for s in run.steps]
        out["state"] = run.state
        out["graph_version"] = run.workflow_version
        out["graph"] = visible(ran_graph(run))
    return out


def ran_graph(run: WorkflowExecution) -> dict | None:
    """The graph of the workflow version the run ran on (the current one if that is gone)."""

    version = get_version(run.workflow_id, run.workflow_version)
    if version is not None:
        return version.graph
    return run.workflow.graph if run.workflow else None


def _filtered(query: dict):
    stmt = select(WorkflowExecution).order_by(WorkflowExecution.id.desc())
    column = {
        "workflow": WorkflowExecution.workflow_id,
        "workflow_id": WorkflowExecution.workflow_id,
        "status": WorkflowExecution.status,
        "contact_id": WorkflowExecution.contact_id,
        "event": WorkflowExecution.event_id,
    }
    for name, col in column.items():
        if query.get(name) is not None:
            stmt = stmt.where(col == query[name])
    if query.get("contact"):
        stmt = stmt.join(Contact, Contact.id == WorkflowExecution.contact_id).where(
            Contact.external_id == query["contact"]
        )
    return within_dates(stmt, WorkflowExecution.created_at, query)


@operation(bp, "/workflow-executions/", paginated=True, query=LIST_QUERY, response=EXECUTION_REF)
def list_executions(query):
    """List runs (filter by workflow, status, contact, date)."""
    return jsonify(paginate(_filtered(query), query, execution_json))


@operation(bp, "/workflow-executions/<id:run_id>/", response=EXECUTION_REF, errors=(404,))
def get_execution(run_id):
    """A run with its step records and checkpointed state."""
    return jsonify(execution_json(get_or_404(WorkflowExecution, run_id, "execution"), detail=True))


@operation(
    bp,
    "/workflow-executions/<id:run_id>/cancel/",
    "POST",
    role="editor",
    response=EXECUTION_REF,
    errors=(404, 409),
)
def cancel_execution(run_id):
    """Cancel a pending, running or waiting run."""

    run = get_or_404(WorkflowExecution, run_id, "execution")
    if run.status in FINISHED:
        raise ApiError(409, f"execution {run.id} already {run.status}", field="status")
    run = run_control.cancel(run) or run
    return jsonify(execution_json(run, detail=True))


@operation(
    bp,
    "/workflow-executions/<id:run_id>/retry/",
    "POST",
    role="editor",
    response=EXECUTION_REF,
    status=202,
    errors=(404, 409),
)
def retry_execution(run_id):
    """Retry a failed (or cancelled) run from its failed step."""

    run = get_or_404(WorkflowExecution, run_id, "execution")
    if run.status not in ("failed", "cancelled"):
        raise ApiError(
            409,
            f"only failed or cancelled runs can be retried (this one is {run.status})",
            field="status",
        )
    run = run_control.retry(run) or run
    return jsonify(execution_json(run, detail=True)), 202
