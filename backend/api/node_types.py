"""``/node-types/``: every node type (all categories) for the editor's palette and forms."""

from __future__ import annotations

__all__ = ["bp"]

from flask import Blueprint, jsonify

from backend.api.errors import ApiError
from backend.api.spec import operation
from graph_engine import CATEGORIES, UnknownNodeTypeError, default_registry

bp = Blueprint("node_types", __name__)


@operation(
    bp,
    "/node-types/",
    query={"category": {"enum": list(CATEGORIES)}},
    response={"type": "array", "items": {"$ref": "#/components/schemas/NodeType"}},
)
def list_node_types(query):
    """The node-type registry: ports, params JSON Schema, palette title / icon."""

    types = default_registry.to_json()
    if query.get("category"):
        types = [t for t in types if t["category"] == query["category"]]
    return jsonify(types)


@operation(bp, "/node-types/<type_name>/", response={"$ref": "#/components/schemas/NodeType"},
           errors=(404,))  # fmt: skip
def get_node_type(type_name):
    """One node type by name (e.g. ``action.send_message``)."""

    try:
        return jsonify(default_registry.get(type_name).to_json())
    except UnknownNodeTypeError:
        raise ApiError(404, f"unknown node type {type_name!r}") from None
