"""``/node-types/``: every node type (all categories) for the editor's palette and forms."""

from __future__ import annotations

__all__ = ["bp"]

import json

from flask import Blueprint, current_app

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
    # Keep each schema's property order (jsonify sorts keys): the editor's forms follow it.
    return current_app.response_class(json.dumps(types), mimetype="application/json")


@operation(
    bp,
    "/node-types/<type_name>/",
    response={"$ref": "#/components/schemas/NodeType"},
    errors=(404,),
)
def get_node_type(type_name):
    """One node type by name (e.g. ``action.send_message``)."""

    try:
        body = json.dumps(default_registry.get(type_name).to_json())
        return current_app.response_class(body, mimetype="application/json")
    except UnknownNodeTypeError:
        raise ApiError(404, f"unknown node type {type_name!r}") from None
