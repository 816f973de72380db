"""``/workflows/<id>/waiting-runs/`` and ``/migrate-runs/``: after publishing a new version,
let runs waiting on older versions finish there, or move them where their node still exists."""

from __future__ import annotations

__all__ = ["bp"]

from flask import Blueprint, jsonify

from backend.api.common import get_or_404
from backend.api.spec import component, operation
from backend.models import Workflow
from backend.services.run_versions import migrate_waiting_runs, waiting_by_version

bp = Blueprint("run_versions", __name__)

_PINNED = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {
            "execution_id": {"type": "integer"},
            "version": {"type": "integer"},
            "missing_nodes": {"type": "array", "items": {"type": "string"}},
            "reason": {"type": "string"},
        },
    },
}
WAITING_REF = component(
    "WaitingRunsByVersion",
    {
        "type": "object",
        "required": ["current_version", "versions"],
        "properties": {
            "current_version": {"type": "integer"},
            "versions": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "version": {"type": "integer"},
                        "waiting": {"type": "integer"},
                        "movable": {"type": "integer"},
                        "pinned": _PINNED,
                    },
                },
            },
        },
    },
)
MIGRATED_REF = component(
    "MigratedRuns",
    {
        "type": "object",
        "required": ["current_version", "migrated", "pinned"],
        "properties": {
            "current_version": {"type": "integer"},
            "migrated": {"type": "array", "items": {"type": "integer"}},
            "pinned": _PINNED,
        },
    },
)
BODY = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "from_version": {
            "type": "integer",
            "minimum": 1,
            "maximum": 2**31 - 1,
            "description": "only runs of this version (default: every older one)",
        }
    },
}


@operation(bp, "/workflows/<id:wf_id>/waiting-runs/", response=WAITING_REF, errors=(404,))
def waiting_runs(wf_id):
    """Runs waiting on older versions: per version, how many can move to the current one."""
    return jsonify(waiting_by_version(get_or_404(Workflow, wf_id)))


@operation(
    bp,
    "/workflows/<id:wf_id>/migrate-runs/",
    "POST",
    role="editor",
    body=BODY,
    body_required=False,
    response=MIGRATED_REF,
    errors=(404,),
)
def migrate_runs(wf_id, body):
    """Move waiting runs of older versions to the current version where their nodes exist."""
    workflow = get_or_404(Workflow, wf_id)
    return jsonify(migrate_waiting_runs(workflow, (body or {}).get("from_version")))
