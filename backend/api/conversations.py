"""``/conversations/``: a contact's conversations (external id, channel, status)."""

from __future__ import annotations

__all__ = ["bp"]

from flask import Blueprint, jsonify
from sqlalchemy import select

from backend.api.common import ID, STR, commit, get_or_404, paginate
from backend.api.errors import ApiError
from backend.api.spec import component, operation
from backend.extensions import db
from backend.models import Contact, Conversation, iso

bp = Blueprint("conversations", __name__)

CONVERSATION_REF = component(
    "Conversation",
    {
        "type": "object",
        "required": ["id", "external_id", "status"],
        "properties": {
            "id": {"type": "integer"},
            "external_id": {"type": "string"},
            "contact_id": {"type": ["integer", "null"]},
            "contact_external_id": {"type": ["string", "null"]},
            "channel": {"type": ["string", "null"]},
            "status": {"type": "string"},
            "created_at": {"type": "string"},
            "updated_at": {"type": "string"},
        },
    },
)
_FIELDS = {
    "external_id": STR(191, 1),
    "contact_id": {"type": ["integer", "null"], **{k: v for k, v in ID.items() if k != "type"}},
    "channel": {"type": ["string", "null"], "maxLength": 20},
    "status": STR(20, 1),
}
CREATE = {
    "type": "object",
    "required": ["external_id"],
    "additionalProperties": False,
    "properties": _FIELDS,
}
PATCH = {"type": "object", "additionalProperties": False, "properties": _FIELDS}
LIST_QUERY = {"contact": ID, "status": STR(20), "external_id": STR(191)}


def conversation_json(c: Conversation) -> dict:
    return {
        "id": c.id,
        "external_id": c.external_id,
        "contact_id": c.contact_id,
        "contact_external_id": c.contact.external_id if c.contact else None,
        "channel": c.channel,
        "status": c.status,
        "created_at": iso(c.created_at),
        "updated_at": iso(c.updated_at),
    }


def _apply(conv: Conversation, body: dict) -> None:
    if body.get("contact_id") is not None and db.session.get(Contact, body["contact_id"]) is None:
        raise ApiError(400, f"contact {body['contact_id']} does not exist", field="contact_id")
    for key in ("external_id", "contact_id", "channel", "status"):
        if key in body:
            setattr(conv, key, body[key])


@operation(bp, "/conversations/", paginated=True, query=LIST_QUERY, response=CONVERSATION_REF)
def list_conversations(query):
    """List conversations (filter by contact id, status, external id)."""
    stmt = select(Conversation).order_by(Conversation.id.desc())
    columns = {
        "contact": Conversation.contact_id,
        "status": Conversation.status,
        "external_id": Conversation.external_id,
    }
    for name, column in columns.items():
        if query.get(name):
            stmt = stmt.where(column == query[name])
    return jsonify(paginate(stmt, query, conversation_json))


@operation(
    bp,
    "/conversations/",
    "POST",
    role="editor",
    body=CREATE,
    response=CONVERSATION_REF,
    status=201,
    errors=(409,),
)
def create_conversation(body):
    """Open a conversation."""
    conv = Conversation(status="open")
    _apply(conv, body)
    db.session.add(conv)
    commit(f"conversation {body['external_id']} already exists", field="external_id")
    return jsonify(conversation_json(conv)), 201


@operation(bp, "/conversations/<id:conv_id>/", response=CONVERSATION_REF, errors=(404,))
def get_conversation(conv_id):
    """One conversation."""
    return jsonify(conversation_json(get_or_404(Conversation, conv_id)))


@operation(
    bp,
    "/conversations/<id:conv_id>/",
    "PATCH",
    role="editor",
    body=PATCH,
    response=CONVERSATION_REF,
    errors=(404, 409),
)
def update_conversation(conv_id, body):
    """Change a conversation (e.g. its status)."""
    conv = get_or_404(Conversation, conv_id)
    _apply(conv, body)
    commit("another conversation has this external id", field="external_id")
    return jsonify(conversation_json(conv))


@operation(bp, "/conversations/<id:conv_id>/", "DELETE", role="editor", status=204, errors=(404,))
def delete_conversation(conv_id):
    """Delete a conversation."""
    db.session.delete(get_or_404(Conversation, conv_id))
    commit()
    return "", 204
