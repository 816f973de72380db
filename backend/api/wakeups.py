"""``/wake-ups/``: pending waits with their resume times, grouped by workflow and hour."""

from __future__ import annotations

__all__ = ["bp"]

from flask import Blueprint, jsonify

from backend.api.common import ID
from backend.api.spec import component, operation
from backend.services.wakeups import wakeups

bp = Blueprint("wakeups", __name__)

_COUNT = {"type": "integer", "minimum": 0}
WAKEUPS_REF = component(
    "WakeUps",
    {
        "type": "object",
        "required": ["now", "pending", "overdue", "workflows", "soonest"],
        "properties": {
            "now": {"type": "string"},
            "overdue_after_seconds": _COUNT,
            "pending": _COUNT,
            "overdue": _COUNT,
            "workflows": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "workflow_id": {"type": "integer"},
                        "workflow_name": {"type": "string"},
                        "pending": _COUNT,
                        "overdue": _COUNT,
                        "hours": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {
                                    "hour": {"type": "string"},
                                    "count": _COUNT,
                                    "overdue": _COUNT,
                                },
                            },
                        },
                    },
                },
            },
            "soonest": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "execution_id": {"type": "integer"},
                        "workflow_id": {"type": "integer"},
                        "contact_id": {"type": ["integer", "null"]},
                        "node_id": {"type": ["string", "null"]},
                        "resume_at": {"type": "string"},
                        "overdue": {"type": "boolean"},
                    },
                },
            },
        },
    },
)
QUERY = {
    "workflow_id": {**ID, "description": "only this workflow's waits"},
    "limit": {
        "type": "integer",
        "minimum": 0,
        "maximum": 500,
        "default": 50,
        "description": "how many of the soonest waits to list",
    },
}


@operation(bp, "/wake-ups/", query=QUERY, response=WAKEUPS_REF)
def list_wakeups(query):
    """Pending waits by workflow and hour, the soonest ones listed; overdue ones flagged."""
    return jsonify(wakeups(query.get("workflow_id"), query["limit"]))
