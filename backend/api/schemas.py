"""JSON Schemas shared by several resources: the graph envelope, the event payload, errors.

The per-node-type params schemas are not repeated here: they come from the engine's registry
(``GET /node-types/`` and ``#/components/schemas/NodeParams.<type>`` in the OpenAPI document);
the graph envelope below checks the shape and the engine's ``validate`` checks the rest.
"""

from __future__ import annotations

__all__ = ["GRAPH", "EVENT", "ERROR_REF", "NODE", "EDGE", "EVENT_TYPE_NAME", "EXTERNAL_ID"]

from backend.api.common import STR, TEXT
from backend.api.spec import component
from graph_engine import FORMAT

EVENT_TYPE_NAME = {"type": "string", "pattern": "^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$", "maxLength": 64}
EXTERNAL_ID = {
    "type": ["string", "integer"],
    "minLength": 1,
    "maxLength": 191,
    "minimum": -(2**63),
    "maximum": 2**63 - 1,
}

NODE = component(
    "GraphNode",
    {
        "type": "object",
        "description": "A node; its params follow the schema of its type (see NodeParams.<type>).",
        "required": ["id", "type"],
        "properties": {
            "id": STR(100, 1),
            "type": STR(64, 1),
            "position": {
                "type": "object",
                "properties": {"x": {"type": "number"}, "y": {"type": "number"}},
            },
            "params": {"type": "object"},
            "title": STR(200),
            "retry": {"type": "object"},
            "disabled": {"type": "boolean"},
        },
        "additionalProperties": False,
    },
)

EDGE = component(
    "GraphEdge",
    {
        "type": "object",
        "required": ["id", "source", "target"],
        "properties": {
            "id": STR(100, 1),
            "source": STR(100, 1),
            "target": STR(100, 1),
            "source_port": STR(64, 1),
        },
        "additionalProperties": False,
    },
)

GRAPH = component(
    "Graph",
    {
        "type": "object",
        "description": "A workflow graph (format workflow-graph/v1).",
        "required": ["format", "nodes", "edges"],
        "properties": {
            "format": {"const": FORMAT},
            "name": STR(200),
            "description": TEXT,
            "settings": {"type": "object"},
            "nodes": {"type": "array", "maxItems": 2000, "items": NODE},
            "edges": {"type": "array", "maxItems": 5000, "items": EDGE},
            "ui": {
                "type": "object",
                "description": "The editor's own data (sticky notes under "
                "ui.notes); ignored by the engine, checked by the graph validator.",
            },
        },
        "additionalProperties": False,
    },
)

EVENT = component(
    "EventPayload",
    {
        "type": "object",
        "description": "An incoming event, as the platform sends it.",
        "required": ["event_type"],
        "properties": {
            "event_type": EVENT_TYPE_NAME,
            "data": {"type": "object"},
            "user_id": EXTERNAL_ID,
            "conversation_id": EXTERNAL_ID,
            "event_id": {
                **EXTERNAL_ID,
                "description": "Idempotency key: a repeat is not processed twice.",
            },
            "timestamp": {"type": "string", "format": "date-time", "maxLength": 64},
        },
        "additionalProperties": False,
    },
)

ERROR_REF = component(
    "Error",
    {
        "type": "object",
        "required": ["detail", "code"],
        "properties": {
            "detail": {"type": "string"},
            "code": {"type": "string"},
            "field": {"type": ["string", "null"]},
            "node_id": {"type": "string"},
            "errors": {"type": "array", "items": {"type": "object"}},
        },
    },
)
