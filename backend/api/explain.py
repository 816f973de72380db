"""``/contacts/<id>/explain/``: why did / didn't a contact's events start each workflow."""

from __future__ import annotations

__all__ = ["bp"]

from flask import Blueprint, jsonify

from backend.api.common import ID, get_or_404
from backend.api.spec import component, operation
from backend.models import Contact
from backend.services.explain import MAX_EVENTS, explain_contact

bp = Blueprint("explain", __name__)

_LEAF = {
    "type": "object",
    "properties": {
        "field": {"type": "string"},
        "op": {"type": "string"},
        "expected": {},
        "actual": {},
        "missing": {"type": "boolean"},
        "result": {"type": "boolean"},
        "text": {"type": "string"},
    },
}
_TRIGGER = {
    "type": "object",
    "properties": {
        "node_id": {"type": ["string", "null"]},
        "matched": {"type": "boolean"},
        "reason": {"enum": ["event_type", "filter", "error", None]},
        "event_type": {"type": "string"},
        "failing": {"type": "array", "items": _LEAF},
    },
}
EXPLAIN_REF = component(
    "Explanation",
    {
        "type": "object",
        "required": ["contact", "events", "pending"],
        "properties": {
            "contact": {"type": "object"},
            "pending": {"type": "array", "items": {"type": "object"}},
            "events": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "event_id": {"type": "integer"},
                        "event_type": {"type": "string"},
                        "received_at": {"type": "string"},
                        "status": {"type": "string"},
                        "data": {},
                        "workflows": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {
                                    "workflow_id": {"type": "integer"},
                                    "workflow_name": {"type": "string"},
                                    "workflow_status": {"type": "string"},
                                    "outcome": {
                                        "enum": ["ran", "skipped", "matched_no_run", "not_matched"]
                                    },
                                    "reason": {
                                        "type": ["string", "null"],
                                        "description": "skip reason (limits) or why no trigger matched",
                                    },
                                    "triggers": {"type": "array", "items": _TRIGGER},
                                    "run": {
                                        "type": ["object", "null"],
                                        "description": "path, false conditions with failing rules, "
                                        "messages, pending wait",
                                    },
                                },
                            },
                        },
                    },
                },
            },
        },
    },
)
QUERY = {
    "event_id": {**ID, "description": "explain this event only (default: recent events)"},
    "days": {
        "type": "integer",
        "minimum": 1,
        "maximum": 366,
        "default": 30,
        "description": "how far back to look for the contact's events",
    },
    "limit": {"type": "integer", "minimum": 1, "maximum": MAX_EVENTS, "default": 10},
}


@operation(
    bp, "/contacts/<id:contact_id>/explain/", query=QUERY, response=EXPLAIN_REF, errors=(400, 404)
)
def explain(contact_id, query):
    """Why each recent event of this contact did or didn't start each workflow."""
    contact = get_or_404(Contact, contact_id)
    return jsonify(explain_contact(contact, query.get("event_id"), query["days"], query["limit"]))
