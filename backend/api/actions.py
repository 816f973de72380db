"""``/actions/``: the action nodes of every workflow, the action-type registry, test a node.

An action's id is ``"<workflow_id>:<node_id>"`` (actions are nodes inside workflow graphs,
not rows of their own).
"""

from __future__ import annotations

__all__ = ["bp", "action_json"]

from flask import Blueprint, jsonify
from sqlalchemy import select

from backend.api.common import ID, STR, get_or_404, paginate_list
from backend.api.errors import ApiError
from backend.api.schemas import EVENT
from backend.api.spec import component, operation
from backend.auth import current_principal
from backend.extensions import db
from backend.models import Workflow
from backend.services import nodes
from backend.services.masking import visible
from backend.services.node_test import run_node
from backend.services.redaction import redact
from graph_engine import default_registry

bp = Blueprint("actions", __name__)
ACTION_CATEGORIES = ("action", "flow")


def _types() -> list:
    return [t for t in default_registry.all() if t.category in ACTION_CATEGORIES]


ACTION_REF = component(
    "Action",
    {
        "type": "object",
        "required": ["id", "workflow_id", "node_id", "type", "params"],
        "properties": {
            "id": {"type": "string", "description": "<workflow_id>:<node_id>"},
            "workflow_id": {"type": "integer"},
            "workflow_name": {"type": "string"},
            "node_id": {"type": "string"},
            "type": {"type": "string"},
            "category": {"type": "string"},
            "title": {"type": ["string", "null"]},
            "params": {"type": "object"},
            "disabled": {"type": "boolean"},
        },
    },
)
NODE_TYPE_REF = component(
    "NodeType",
    {
        "type": "object",
        "required": ["type", "category", "title", "params_schema"],
        "properties": {
            "type": {"type": "string"},
            "category": {"type": "string"},
            "title": {"type": "string"},
            "description": {"type": "string"},
            "icon": {"type": "string"},
            "inputs": {"type": "array"},
            "outputs": {"type": "array"},
            "params_schema": {"type": "object"},
        },
    },
)
CREATE = {
    "type": "object",
    "required": ["workflow_id", "type"],
    "additionalProperties": False,
    "properties": {
        "workflow_id": ID,
        "type": {"enum": [t.type for t in _types()]},
        "params": {"type": "object"},
        "node_id": STR(100, 1),
        "title": STR(200),
        "position": {
            "type": "object",
            "properties": {"x": {"type": "number"}, "y": {"type": "number"}},
        },
        "connect_from": {
            "type": "object",
            "required": ["node_id"],
            "additionalProperties": False,
            "properties": {"node_id": STR(100, 1), "port": STR(64, 1)},
        },
    },
}
TEST = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "event": EVENT,
        "contact": {"type": "object"},
        "params": {"type": "object", "description": "override the node's saved params"},
        "nodes": {"type": "object", "description": "outputs of earlier nodes (nodes.<id>.*)"},
    },
}
TEST_REF = component(
    "ActionTestResult",
    {
        "type": "object",
        "required": ["ok", "effects"],
        "properties": {
            "ok": {"type": "boolean"},
            "input": {},
            "output": {},
            "port": {"type": ["string", "null"]},
            "resume_at": {"type": ["string", "null"]},
            "effects": {"type": "array"},
            "error": {"type": ["string", "null"]},
        },
    },
)
LIST_QUERY = {"workflow": ID, "type": STR(64)}


def action_json(workflow, node: dict) -> dict:
    return {
        "id": f"{workflow.id}:{node['id']}",
        "workflow_id": workflow.id,
        "workflow_name": workflow.name,
        "node_id": node["id"],
        "type": node.get("type"),
        "category": default_registry.get(node["type"]).category,
        "title": node.get("title"),
        "params": visible(node.get("params") or {}),
        "disabled": bool(node.get("disabled")),
    }


def _action_nodes(workflow) -> list[dict]:
    kinds = {t.type for t in _types()}
    return [n for n in workflow.graph.get("nodes", []) if n.get("type") in kinds]


def _lookup(action_id: str):
    wf_id, sep, node_id = action_id.partition(":")
    if not sep or not wf_id.isdigit() or len(wf_id) > 10:
        raise ApiError(404, f"action {action_id} not found (ids look like 12:send)")
    workflow = db.session.get(Workflow, int(wf_id)) if int(wf_id) < 2**31 else None
    node = nodes.find_node(workflow, node_id) if workflow else None
    if node is None or node.get("type") not in {t.type for t in _types()}:
        raise ApiError(404, f"action {action_id} not found")
    return workflow, node


@operation(bp, "/actions/", paginated=True, query=LIST_QUERY, response=ACTION_REF)
def list_actions(query):
    """List the action nodes of all workflows (filter by workflow and type)."""
    stmt = select(Workflow).order_by(Workflow.id)
    if query.get("workflow"):
        stmt = stmt.where(Workflow.id == query["workflow"])
    items = [
        action_json(wf, node)
        for wf in db.session.scalars(stmt)
        for node in _action_nodes(wf)
        if not query.get("type") or node.get("type") == query["type"]
    ]
    return jsonify(paginate_list(items, query))


@operation(
    bp,
    "/actions/",
    "POST",
    role="editor",
    body=CREATE,
    response=ACTION_REF,
    status=201,
    errors=(404, 409),
)
def create_action(body):
    """Add an action node to a workflow (optionally with an edge from an existing node)."""
    workflow = get_or_404(Workflow, body["workflow_id"])
    node = nodes.add_node(
        workflow, body, current_principal(), connect_from=body.get("connect_from")
    )
    return jsonify(action_json(workflow, node)), 201


@operation(bp, "/actions/action_types/", response={"type": "array", "items": NODE_TYPE_REF})
def action_types():
    """The action (and flow) node types with the JSON Schemas of their params."""
    return jsonify([t.to_json() for t in _types()])


@operation(bp, "/actions/<action_id>/", response=ACTION_REF, errors=(404,))
def get_action(action_id):
    """One action node (id ``<workflow_id>:<node_id>``)."""
    return jsonify(action_json(*_lookup(action_id)))


@operation(
    bp,
    "/actions/<action_id>/test/",
    "POST",
    role="editor",
    body=TEST,
    body_required=False,
    response=TEST_REF,
    errors=(404,),
)
def test_action(action_id, body):
    """Run this one node against a sample context; nothing is really sent."""

    workflow, node = _lookup(action_id)
    context = nodes.sample_context(workflow, body.get("event"), body.get("contact"))
    context["nodes"] = dict(body.get("nodes") or {})
    params = body["params"] if "params" in body else node.get("params") or {}
    return jsonify(redact(run_node(workflow, node, params, context)))  # references, not values
