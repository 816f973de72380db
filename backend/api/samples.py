"""``/workflow-samples/``: the bundled example graphs the editor offers for a new workflow."""

from __future__ import annotations

__all__ = ["bp"]

from flask import Blueprint, jsonify

from backend.api.spec import component, operation
from backend.services.bootstrap import sample_graphs

bp = Blueprint("samples", __name__)

SAMPLE_REF = component(
    "WorkflowSample",
    {
        "type": "object",
        "required": ["key", "name", "description", "graph"],
        "properties": {
            "key": {"type": "string"},
            "name": {"type": "string"},
            "description": {"type": "string"},
            "graph": {"type": "object"},
        },
    },
)


def _key(name: str) -> str:
    """``"Coupon request"`` -> ``"coupon"``: the first word, lower case."""
    return name.split()[0].lower()


@operation(bp, "/workflow-samples/", response={"type": "array", "items": SAMPLE_REF})
def list_samples():
    """The sample graphs (coupon, welcome) to start a new workflow from."""
    return jsonify(
        [
            {"key": _key(name), "name": name, "description": description, "graph": graph}
            for name, (description, graph) in sample_graphs().items()
        ]
    )
