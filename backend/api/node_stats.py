"""``/workflows/<id>/node-stats/``: per node, how many runs entered it and how they left it."""

from __future__ import annotations

__all__ = ["bp"]

from flask import Blueprint, jsonify

from backend.api.common import get_or_404
from backend.api.spec import component, operation
from backend.models import Workflow
from backend.services.run_stats import WINDOWS, node_counts

bp = Blueprint("node_stats", __name__)

_COUNT = {"type": "integer", "minimum": 0}
NODE_STATS_REF = component(
    "NodeStats",
    {
        "type": "object",
        "required": ["window", "nodes"],
        "properties": {
            "window": {"enum": list(WINDOWS)},
            "since": {"type": "string"},
            "nodes": {
                "type": "object",
                "additionalProperties": {
                    "type": "object",
                    "required": ["entered", "succeeded", "failed", "waiting", "skipped"],
                    "properties": {
                        k: _COUNT
                        for k in (
                            "entered",
                            "succeeded",
                            "failed",
                            "waiting",
                            "skipped",
                            "converted",
                        )
                    },
                },
            },
        },
    },
)
QUERY = {
    "window": {
        "enum": list(WINDOWS),
        "default": "24h",
        "description": "runs created in the last 24h, 7d or 30d",
    }
}


@operation(
    bp, "/workflows/<id:wf_id>/node-stats/", query=QUERY, response=NODE_STATS_REF, errors=(404,)
)
def node_stats(wf_id, query):
    """Per node: runs that entered it, and how many succeeded, failed, wait or were skipped there."""
    get_or_404(Workflow, wf_id)
    return jsonify(node_counts(wf_id, query["window"]))
