"""``/workflows/``: CRUD, activate / pause, manual execute, statistics, import / export, versions."""

from __future__ import annotations

__all__ = ["bp", "workflow_json", "WORKFLOW_REF"]

from flask import Blueprint, jsonify
from sqlalchemy import select

from backend.api.common import DATE_QUERY, ID, STR, TEXT, created, get_or_404, paginate
from backend.api.errors import ApiError
from backend.api.executions import execution_json
from backend.api.schemas import EVENT, EXTERNAL_ID, GRAPH
from backend.api.spec import component, operation
from backend.auth import current_principal
from backend.extensions import db
from backend.models import WORKFLOW_STATUSES, Workflow, WorkflowVersion, iso
from backend.runtime.run_control import run_manually
from backend.services import run_stats, statistics, versions
from backend.services import workflows as service
from backend.services.masking import visible

bp = Blueprint("workflows", __name__)

WORKFLOW_REF = component(
    "Workflow",
    {
        "type": "object",
        "required": [
            "id",
            "name",
            "description",
            "status",
            "graph",
            "version",
            "created_at",
            "updated_at",
        ],
        "properties": {
            "id": {"type": "integer"},
            "name": {"type": "string"},
            "description": {"type": "string"},
            "status": {"enum": list(WORKFLOW_STATUSES)},
            "graph": {"type": "object"},
            "version": {"type": "integer"},
            "created_at": {"type": "string"},
            "updated_at": {"type": "string"},
            "activated_at": {"type": ["string", "null"]},
            "created_by": {"type": ["integer", "null"]},
            "updated_by": {"type": ["integer", "null"]},
            "trigger_count": {"type": "integer"},
            "node_count": {"type": "integer"},
            "validation": {"type": "object"},
            "last_run_at": {"type": ["string", "null"]},
            "runs_today": {"type": "integer"},
            "success_rate": {"type": ["number", "null"], "minimum": 0, "maximum": 1},
        },
    },
)
_FIELDS = {
    "name": STR(200, 1),
    "description": TEXT,
    "graph": GRAPH,
    "status": {"enum": list(WORKFLOW_STATUSES)},
}
CREATE = {
    "type": "object",
    "required": ["name"],
    "additionalProperties": False,
    "properties": {k: v for k, v in _FIELDS.items() if k != "status"},
}
BASE_VERSION = {
    "type": "integer",
    "minimum": 1,
    "maximum": 2**31 - 1,
    "description": "the version these changes start from; 409 if it is not current",
}
PUT = {
    "type": "object",
    "required": ["name", "graph"],
    "additionalProperties": False,
    "properties": {**_FIELDS, "base_version": BASE_VERSION},
}
PATCH = {
    "type": "object",
    "additionalProperties": False,
    "properties": {**_FIELDS, "base_version": BASE_VERSION},
}
EXECUTE = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "event": EVENT,
        "contact": {
            "type": "object",
            "required": ["external_id"],
            "additionalProperties": False,
            "properties": {"external_id": EXTERNAL_ID},
        },
        "trigger_node_id": {**STR(100, 1), "description": "default: the trigger.manual node"},
    },
}
LIST_QUERY = {
    "status": {"enum": list(WORKFLOW_STATUSES)},
    "search": {"type": "string", "maxLength": 200, "description": "part of the name"},
}
STATS_QUERY = {"workflow_id": ID, **DATE_QUERY}


def workflow_json(wf: Workflow, *, detail: bool = False) -> dict:
    out = {
        "id": wf.id,
        "name": wf.name,
        "description": wf.description,
        "status": wf.status,
        "graph": visible(wf.graph),
        "version": wf.version,
        "created_at": iso(wf.created_at),
        "updated_at": iso(wf.updated_at),
        "activated_at": iso(wf.activated_at),
        "created_by": wf.created_by_id,
        "updated_by": wf.updated_by_id,
        "node_count": len(wf.graph.get("nodes", [])),
        "trigger_count": len(wf.triggers),
    }
    if detail:
        out["validation"] = service.validation_report(wf.graph).to_dict()
    return out


@operation(bp, "/workflows/", paginated=True, query=LIST_QUERY, response=WORKFLOW_REF)
def list_workflows(query):
    """List workflows (filter by status, search by name)."""
    stmt = select(Workflow).order_by(Workflow.id.desc())
    if query.get("status"):
        stmt = stmt.where(Workflow.status == query["status"])
    if query.get("search"):
        stmt = stmt.where(Workflow.name.ilike(f"%{query['search']}%"))
    page = paginate(stmt, query, workflow_json)
    figures = run_stats.list_figures([item["id"] for item in page["results"]])
    for item in page["results"]:
        item.update(figures[item["id"]])
    return jsonify(page)


@operation(bp, "/workflows/", "POST", role="editor", body=CREATE, response=WORKFLOW_REF, status=201)
def create_workflow(body):
    """Create a draft workflow (no graph: an empty one)."""
    wf = service.create_workflow(
        body["name"], body.get("description", ""), body.get("graph"), current_principal()
    )
    return created(workflow_json(wf, detail=True))


@operation(bp, "/workflows/<id:wf_id>/", response=WORKFLOW_REF, errors=(404,))
def get_workflow(wf_id):
    """Retrieve a workflow with its graph and validation report."""
    return jsonify(workflow_json(get_or_404(Workflow, wf_id), detail=True))


@operation(
    bp,
    "/workflows/<id:wf_id>/",
    "PUT",
    role="editor",
    body=PUT,
    response=WORKFLOW_REF,
    errors=(404, 409),
)
def replace_workflow(wf_id, body):
    """Replace a workflow (name and graph required); a changed graph bumps the version."""
    return _save(wf_id, body)


@operation(
    bp,
    "/workflows/<id:wf_id>/",
    "PATCH",
    role="editor",
    body=PATCH,
    response=WORKFLOW_REF,
    errors=(404, 409),
)
def update_workflow(wf_id, body):
    """Update some fields of a workflow (``base_version``: 409 if someone saved meanwhile)."""
    return _save(wf_id, body)


def _save(wf_id: int, body: dict):
    """Apply a PUT / PATCH; with ``base_version``, refuse (409) a save over someone else's."""
    base = body.pop("base_version", None)
    wf = get_or_404(Workflow, wf_id) if base is None else versions.lock_workflow(wf_id)
    if wf is None:
        raise ApiError(404, f"Workflow {wf_id} not found")
    try:
        versions.check_base_version(wf, base)
    except versions.VersionConflict as conflict:
        db.session.rollback()
        return jsonify(conflict.body()), 409
    wf = service.update_workflow(wf, body, current_principal())
    return jsonify(workflow_json(wf, detail=True))


@operation(bp, "/workflows/<id:wf_id>/", "DELETE", role="editor", status=204, errors=(404,))
def delete_workflow(wf_id):
    """Delete a workflow with its versions, triggers and executions."""
    service.delete_workflow(get_or_404(Workflow, wf_id))
    return "", 204


@operation(
    bp,
    "/workflows/<id:wf_id>/activate/",
    "POST",
    role="editor",
    response=WORKFLOW_REF,
    errors=(404, 409),
)
def activate_workflow(wf_id):
    """Activate: validate the graph (400 naming each bad node) and start listening."""
    wf = service.activate(get_or_404(Workflow, wf_id), current_principal())
    return jsonify(workflow_json(wf, detail=True))


@operation(
    bp,
    "/workflows/<id:wf_id>/pause/",
    "POST",
    role="editor",
    response=WORKFLOW_REF,
    errors=(404, 409),
)
def pause_workflow(wf_id):
    """Pause: stop starting new runs."""
    wf = service.pause(get_or_404(Workflow, wf_id), current_principal())
    return jsonify(workflow_json(wf, detail=True))


@operation(
    bp,
    "/workflows/<id:wf_id>/execute/",
    "POST",
    role="editor",
    body=EXECUTE,
    body_required=False,
    status=202,
    response="WorkflowExecution",
    errors=(404, 422),
)
def execute_workflow(wf_id, body):
    """Run a workflow by hand with a given event payload and/or contact."""

    wf = get_or_404(Workflow, wf_id)
    contact = (body.get("contact") or {}).get("external_id")
    execution = run_manually(wf, body.get("event"), contact, body.get("trigger_node_id"))
    return jsonify(execution_json(execution, detail=True)), 202


@operation(bp, "/workflows/statistics/", query=STATS_QUERY, response="Statistics")
def workflow_statistics(query):
    """Counts by status, executions by status, success rate, durations, per workflow and node."""
    return jsonify(
        statistics.compute(
            query.get("workflow_id"), query.get("created_after"), query.get("created_before")
        )
    )


@operation(bp, "/workflows/<id:wf_id>/export/", response=GRAPH, errors=(404,))
def export_workflow(wf_id):
    """Export the graph JSON (a file the import/ endpoint accepts)."""
    wf = get_or_404(Workflow, wf_id)
    response = jsonify(visible(service.export_graph(wf)))
    slug = "".join(c if c.isalnum() else "-" for c in wf.name.lower())[:60] or "workflow"
    response.headers["Content-Disposition"] = f'attachment; filename="{slug}.workflow.json"'
    return response


@operation(
    bp, "/workflows/import/", "POST", role="editor", body=GRAPH, response=WORKFLOW_REF, status=201
)
def import_workflow(body):
    """Import an exported graph file as a new draft workflow."""
    return created(workflow_json(service.import_graph(body, current_principal()), detail=True))


VERSION_REF = component(
    "WorkflowVersion",
    {
        "type": "object",
        "required": ["version", "graph", "created_at"],
        "properties": {
            "version": {"type": "integer"},
            "graph": {"type": "object"},
            "created_at": {"type": "string"},
            "created_by": {"type": ["integer", "null"]},
        },
    },
)


@operation(
    bp, "/workflows/<id:wf_id>/versions/", paginated=True, response=VERSION_REF, errors=(404,)
)
def list_versions(wf_id, query):
    """The saved versions of a workflow, newest first."""
    get_or_404(Workflow, wf_id)
    stmt = (
        select(WorkflowVersion)
        .where(WorkflowVersion.workflow_id == wf_id)
        .order_by(WorkflowVersion.version.desc())
    )
    return jsonify(
        paginate(
            stmt,
            query,
            lambda v: {
                "version": v.version,
                "graph": visible(v.graph),
                "created_at": iso(v.created_at),
                "created_by": v.created_by_id,
            },
        )
    )
