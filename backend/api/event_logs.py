"""``/trigger-event-logs/``: every incoming event, its status and the workflows it started."""

from __future__ import annotations

__all__ = ["bp", "event_json"]

from flask import Blueprint, jsonify
from sqlalchemy import select

from backend.api.common import DATE_QUERY, STR, get_or_404, paginate, within_dates
from backend.api.schemas import EVENT_TYPE_NAME
from backend.api.spec import component, operation
from backend.models import EVENT_STATUSES, EventLog, iso

bp = Blueprint("event_logs", __name__)

_TIME = {"type": ["string", "null"]}
EVENT_LOG_REF = component(
    "EventLog",
    {
        "type": "object",
        "required": ["id", "event_type", "status", "idempotency_key", "received_at"],
        "properties": {
            "id": {"type": "integer"},
            "event_type": {"type": "string"},
            "idempotency_key": {"type": "string"},
            "source": {"type": "string"},
            "payload": {},
            "user_id": {"type": ["string", "null"]},
            "conversation_id": {"type": ["string", "null"]},
            "contact_id": {"type": ["integer", "null"]},
            "status": {"type": "string"},
            "matched_workflows": {},
            "fallback": {},
            "error": {"type": ["string", "null"]},
            "attempts": {"type": "integer"},
            "received_at": {"type": "string"},
            "processed_at": _TIME,
        },
    },
)
LIST_QUERY = {
    "event_type": EVENT_TYPE_NAME,
    "status": {"enum": list(EVENT_STATUSES)},
    "user_id": STR(191),
    **DATE_QUERY,
}


def event_json(ev: EventLog) -> dict:
    return {
        "id": ev.id,
        "event_type": ev.event_type,
        "idempotency_key": ev.idempotency_key,
        "source": ev.source,
        "payload": ev.payload,
        "user_id": ev.user_id,
        "conversation_id": ev.conversation_id,
        "contact_id": ev.contact_id,
        "status": ev.status,
        "matched_workflows": ev.matched_workflows,
        "fallback": ev.fallback,
        "error": ev.error,
        "attempts": ev.attempts,
        "received_at": iso(ev.received_at),
        "processed_at": iso(ev.processed_at),
    }


@operation(bp, "/trigger-event-logs/", paginated=True, query=LIST_QUERY, response=EVENT_LOG_REF)
def list_event_logs(query):
    """List incoming events (filter by type, status, user and date)."""
    stmt = select(EventLog).order_by(EventLog.id.desc())
    for name in ("event_type", "status", "user_id"):
        if query.get(name):
            stmt = stmt.where(getattr(EventLog, name) == query[name])
    return jsonify(paginate(within_dates(stmt, EventLog.received_at, query), query, event_json))


@operation(bp, "/trigger-event-logs/<id:event_id>/", response=EVENT_LOG_REF, errors=(404,))
def get_event_log(event_id):
    """One event with its redacted payload and matched workflows."""
    return jsonify(event_json(get_or_404(EventLog, event_id, "event")))
