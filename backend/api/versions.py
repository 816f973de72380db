"""``/workflows/<id>/versions/<n>/``: one saved version of a workflow, and restoring it."""

from __future__ import annotations

__all__ = ["bp"]

from flask import Blueprint, jsonify

from backend.api.common import get_or_404
from backend.api.errors import ApiError
from backend.api.spec import component, operation
from backend.api.workflows import WORKFLOW_REF, workflow_json
from backend.auth import current_principal
from backend.extensions import db
from backend.models import User, Workflow, iso
from backend.services import versions as service
from backend.services.masking import visible

bp = Blueprint("versions", __name__)

VERSION_DETAIL_REF = component(
    "WorkflowVersionDetail",
    {
        "type": "object",
        "required": ["version", "graph", "created_at", "created_by", "name"],
        "properties": {
            "version": {"type": "integer"},
            "graph": {"type": "object"},
            "created_at": {"type": "string"},
            "created_by": {"type": ["integer", "null"]},
            "created_by_email": {"type": ["string", "null"]},
            "name": {"type": "string"},
            "workflow_id": {"type": "integer"},
            "is_current": {"type": "boolean"},
        },
    },
)


def _version_or_404(wf_id: int, number: int):
    workflow = get_or_404(Workflow, wf_id)
    version = service.get_version(wf_id, number)
    if version is None:
        raise ApiError(404, f"workflow {wf_id} has no version {number}", field="version")
    return workflow, version


@operation(
    bp, "/workflows/<id:wf_id>/versions/<id:number>/", response=VERSION_DETAIL_REF, errors=(404,)
)
def get_version(wf_id, number):
    """One saved version of a workflow: its graph, when and by whom it was saved."""
    workflow, version = _version_or_404(wf_id, number)
    author = db.session.get(User, version.created_by_id) if version.created_by_id else None
    graph = version.graph if isinstance(version.graph, dict) else {}
    return jsonify(
        {
            "workflow_id": workflow.id,
            "version": version.version,
            "graph": visible(version.graph),
            "created_at": iso(version.created_at),
            "created_by": version.created_by_id,
            "created_by_email": author.email if author else None,
            "name": graph.get("name") or workflow.name,
            "is_current": version.version == workflow.version,
        }
    )


@operation(
    bp,
    "/workflows/<id:wf_id>/versions/<id:number>/restore/",
    "POST",
    role="editor",
    response=WORKFLOW_REF,
    errors=(404,),
)
def restore_version(wf_id, number):
    """Save version n's graph as a new version of the workflow (history is kept)."""
    workflow, version = _version_or_404(wf_id, number)
    workflow = service.restore_version(workflow, version, current_principal())
    return jsonify(workflow_json(workflow, detail=True))
