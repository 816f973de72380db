"""``/outbound-messages/``: every message, e-mail and webhook call workflows sent or captured."""

from __future__ import annotations

__all__ = ["bp", "message_json", "MESSAGE_REF"]

from flask import Blueprint, jsonify
from sqlalchemy import select

from backend.api.common import DATE_QUERY, ID, STR, get_or_404, paginate, within_dates
from backend.api.spec import component, operation
from backend.models import OutboundMessage, iso

bp = Blueprint("outbound_messages", __name__)

_NINT, _NSTR = {"type": ["integer", "null"]}, {"type": ["string", "null"]}
MESSAGE_REF = component(
    "OutboundMessage",
    {
        "type": "object",
        "required": ["id", "kind", "channel", "status", "text", "created_at"],
        "properties": {
            "id": {"type": "integer"},
            "contact_id": _NINT,
            "conversation_id": _NINT,
            "execution_id": _NINT,
            "node_id": _NSTR,
            "kind": {"type": "string"},
            "channel": {"type": "string"},
            "to": _NSTR,
            "subject": _NSTR,
            "text": {"type": "string"},
            "status": {
                "type": "string",
                "description": "captured (test mode) | queued | sent | failed | blocked | bounced",
            },
            "provider_message_id": _NSTR,
            "error": _NSTR,
            "response": {},
            "created_at": {"type": "string"},
        },
    },
)
FILTERS = {
    "contact_id": ID,
    "conversation_id": ID,
    "execution_id": ID,
    "channel": {**STR(20), "description": "capture, telegram, instagram, email, http"},
    "status": {**STR(20), "description": "captured, queued, sent, failed, blocked, bounced"},
    "kind": {"enum": ["message", "email", "webhook", "sms"]},
    **DATE_QUERY,
}


def message_json(m: OutboundMessage) -> dict:
    return {
        "id": m.id,
        "contact_id": m.contact_id,
        "conversation_id": m.conversation_id,
        "execution_id": m.execution_id,
        "node_id": m.node_id,
        "kind": m.kind,
        "channel": m.channel,
        "to": m.to,
        "subject": m.subject,
        "text": m.text or "",
        "status": m.status,
        "provider_message_id": m.provider_message_id,
        "error": m.error,
        "response": m.response,
        "created_at": iso(m.created_at),
    }


@operation(bp, "/outbound-messages/", paginated=True, query=FILTERS, response=MESSAGE_REF)
def list_messages(query):
    """List outbound messages, newest first (filter by contact, conversation, run, channel, status, date)."""
    stmt = select(OutboundMessage).order_by(OutboundMessage.id.desc())
    for name in ("contact_id", "conversation_id", "execution_id", "channel", "status", "kind"):
        if query.get(name) is not None:
            stmt = stmt.where(getattr(OutboundMessage, name) == query[name])
    stmt = within_dates(stmt, OutboundMessage.created_at, query)
    return jsonify(paginate(stmt, query, message_json))


@operation(bp, "/outbound-messages/<id:message_id>/", response=MESSAGE_REF, errors=(404,))
def get_message(message_id):
    """One outbound message."""
    return jsonify(message_json(get_or_404(OutboundMessage, message_id, "outbound message")))
