"""``/workflows/simulate/`` and ``/simulations/<id>/``: replay the last N days through a draft.

Start returns 202 with the simulation's id; poll ``/simulations/<id>/`` for ``status`` and
``progress`` (``{done, total}`` events); when ``finished`` the record carries the ``result``.
"""

from __future__ import annotations

__all__ = ["bp"]

from flask import Blueprint, jsonify

from backend.api.common import ID
from backend.api.errors import ApiError
from backend.api.spec import component, operation
from backend.auth import current_principal
from backend.services import simulations

bp = Blueprint("simulations", __name__)

BODY = {
    "type": "object",
    "required": ["graph"],
    "additionalProperties": False,
    "properties": {
        "graph": {"type": "object", "description": "a workflow-graph/v1 graph (saved or not)"},
        "days": {
            "type": "integer",
            "minimum": 1,
            "maximum": 90,
            "default": 7,
            "description": "replay the events of the last N days",
        },
        "workflow_id": {**ID, "description": "the workflow this draft belongs to (for the UI)"},
    },
}
_COUNTS = {"type": "object", "additionalProperties": {"type": "integer"}}
SIMULATION_REF = component(
    "Simulation",
    {
        "type": "object",
        "required": ["id", "status", "progress"],
        "properties": {
            "id": {"type": "string"},
            "status": {"enum": ["queued", "running", "finished", "failed"]},
            "days": {"type": "integer"},
            "workflow_id": {"type": ["integer", "null"]},
            "progress": {
                "type": "object",
                "properties": {"done": {"type": "integer"}, "total": {"type": ["integer", "null"]}},
            },
            "error": {"type": "string"},
            "created_at": {"type": "string"},
            "result": {
                "type": "object",
                "description": "per-node counts, outcomes, contacts "
                "messaged, sample messages, skipped reasons and samples",
                "properties": {
                    "events": {"type": "integer"},
                    "runs": {"type": "integer"},
                    "nodes": {"type": "object", "additionalProperties": _COUNTS},
                    "edges": {
                        "type": "object",
                        "additionalProperties": {"type": "integer"},
                        "description": "runs that went along each edge (the funnel)",
                    },
                    "contacts_messaged": {"type": "integer"},
                    "sample_messages": {"type": "array", "items": {"type": "object"}},
                    "skipped": {"type": "object"},
                    "events_per_second": {"type": ["integer", "null"]},
                },
            },
        },
    },
)


def _public(record: dict) -> dict:
    return {k: v for k, v in record.items() if k not in ("graph", "created_by")}


@operation(
    bp,
    "/workflows/simulate/",
    "POST",
    role="editor",
    body=BODY,
    response=SIMULATION_REF,
    status=202,
    errors=(400, 503),
)
def start_simulation(body):
    """Replay the last N days of stored events through a graph in a background job (never sends)."""
    user = current_principal()
    record = simulations.start(
        body["graph"], body.get("days", 7), getattr(user, "id", None), body.get("workflow_id")
    )
    return jsonify(_public(record)), 202


@operation(bp, "/simulations/<sim_id>/", response=SIMULATION_REF, errors=(404,))
def get_simulation(sim_id):
    """A simulation's status and progress, with its result once finished."""
    record = simulations.load(sim_id) if sim_id.isalnum() and len(sim_id) <= 32 else None
    if record is None:
        raise ApiError(404, f"simulation {sim_id} not found (results are kept for a day)")
    return jsonify(_public(record))
