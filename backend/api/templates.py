"""``/workflow-templates/``: the gallery of ready workflows, each creatable in one click."""

from __future__ import annotations

__all__ = ["bp"]

from flask import Blueprint, jsonify

from backend.api.common import STR, created
from backend.api.errors import ApiError
from backend.api.spec import component, operation
from backend.api.workflows import WORKFLOW_REF, workflow_json
from backend.auth import current_principal
from backend.services.templates import create_from_template, get_template, templates

bp = Blueprint("templates", __name__)

TEMPLATE_REF = component(
    "WorkflowTemplate",
    {
        "type": "object",
        "required": ["key", "name", "description", "graph", "event_types"],
        "properties": {
            "key": {"type": "string"},
            "name": {"type": "string"},
            "description": {"type": "string"},
            "graph": {"type": "object"},
            "event_types": {
                "type": "array",
                "items": {"type": "string"},
                "description": "custom event types registered on create",
            },
        },
    },
)
CREATE_BODY = {
    "type": "object",
    "additionalProperties": False,
    "properties": {"name": {**STR(200, 1), "description": "default: the template's name"}},
}


@operation(bp, "/workflow-templates/", response={"type": "array", "items": TEMPLATE_REF})
def list_templates():
    """The templates gallery: coupon, welcome, abandoned cart, re-engagement, birthday, survey."""
    return jsonify(templates())


@operation(bp, "/workflow-templates/<key>/", response=TEMPLATE_REF, errors=(404,))
def get_one_template(key):
    """One template by its key."""
    return jsonify(_template_or_404(key))


@operation(
    bp,
    "/workflow-templates/<key>/create/",
    "POST",
    role="editor",
    body=CREATE_BODY,
    body_required=False,
    response=WORKFLOW_REF,
    status=201,
    errors=(404,),
)
def create_workflow_from_template(key, body):
    """Create a draft workflow from a template (its custom event types are registered)."""
    workflow = create_from_template(
        _template_or_404(key), (body or {}).get("name"), current_principal()
    )
    return created(workflow_json(workflow, detail=True))


def _template_or_404(key: str) -> dict:
    template = get_template(key)
    if template is None:
        raise ApiError(404, f"no template {key!r}", field="key")
    return template
