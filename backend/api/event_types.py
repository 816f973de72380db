"""``/event-types/``: the event names a platform may send (MESSAGE_RECEIVED, ...)."""

from __future__ import annotations

__all__ = ["bp"]

from flask import Blueprint, jsonify
from sqlalchemy import select

from backend.api.common import TEXT, commit, get_or_404, paginate
from backend.api.errors import ApiError
from backend.api.schemas import EVENT_TYPE_NAME
from backend.api.spec import component, operation
from backend.extensions import db
from backend.models import EventType, iso

bp = Blueprint("event_types", __name__)

EVENT_TYPE_REF = component(
    "EventType",
    {
        "type": "object",
        "required": ["id", "name", "description", "is_builtin"],
        "properties": {
            "id": {"type": "integer"},
            "name": {"type": "string"},
            "description": {"type": "string"},
            "is_builtin": {"type": "boolean"},
            "created_at": {"type": "string"},
        },
    },
)
CREATE = {
    "type": "object",
    "required": ["name"],
    "additionalProperties": False,
    "properties": {"name": EVENT_TYPE_NAME, "description": TEXT},
}
PATCH = {"type": "object", "additionalProperties": False, "properties": {"description": TEXT}}


def event_type_json(row: EventType) -> dict:
    return {
        "id": row.id,
        "name": row.name,
        "description": row.description,
        "is_builtin": row.is_builtin,
        "created_at": iso(row.created_at),
    }


@operation(bp, "/event-types/", paginated=True, response=EVENT_TYPE_REF)
def list_event_types(query):
    """List event types."""
    return jsonify(paginate(select(EventType).order_by(EventType.name), query, event_type_json))


@operation(
    bp,
    "/event-types/",
    "POST",
    role="editor",
    body=CREATE,
    response=EVENT_TYPE_REF,
    status=201,
    errors=(409,),
)
def create_event_type(body):
    """Register a custom event type (UPPER_SNAKE name)."""
    row = EventType(name=body["name"], description=body.get("description", ""), is_builtin=False)
    db.session.add(row)
    commit(f"event type {body['name']} already exists", field="name")
    return jsonify(event_type_json(row)), 201


@operation(bp, "/event-types/<id:type_id>/", response=EVENT_TYPE_REF, errors=(404,))
def get_event_type(type_id):
    """One event type."""
    return jsonify(event_type_json(get_or_404(EventType, type_id, "event type")))


@operation(
    bp,
    "/event-types/<id:type_id>/",
    "PATCH",
    role="editor",
    body=PATCH,
    response=EVENT_TYPE_REF,
    errors=(404,),
)
def update_event_type(type_id, body):
    """Change an event type's description."""
    row = get_or_404(EventType, type_id, "event type")
    if "description" in body:
        row.description = body["description"]
    commit()
    return jsonify(event_type_json(row))


@operation(bp, "/event-types/<id:type_id>/", "DELETE", role="editor", status=204, errors=(404, 409))
def delete_event_type(type_id):
    """Delete a custom event type (built-in ones stay)."""
    row = get_or_404(EventType, type_id, "event type")
    if row.is_builtin:
        raise ApiError(409, f"{row.name} is built in and cannot be deleted", field="name")
    db.session.delete(row)
    commit()
    return "", 204
