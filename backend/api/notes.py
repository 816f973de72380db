"""``/notes/``: the internal notes workflows attached to contacts and conversations."""

from __future__ import annotations

__all__ = ["bp", "note_json", "NOTE_REF"]

from flask import Blueprint, jsonify
from sqlalchemy import select

from backend.api.common import DATE_QUERY, ID, STR, get_or_404, paginate, within_dates
from backend.api.spec import component, operation
from backend.extensions import db
from backend.models import Conversation, Note, iso

bp = Blueprint("notes", __name__)

_NINT = {"type": ["integer", "null"]}
NOTE_REF = component(
    "Note",
    {
        "type": "object",
        "required": ["id", "text", "created_at"],
        "properties": {
            "id": {"type": "integer"},
            "contact_id": _NINT,
            "conversation_id": _NINT,
            "execution_id": _NINT,
            "text": {"type": "string"},
            "channel": {"type": ["string", "null"]},
            "created_at": {"type": "string"},
        },
    },
)
FILTERS = {
    "contact_id": ID,
    "conversation_id": ID,
    "execution_id": ID,
    "channel": {**STR(20), "description": "the channel of the note's conversation"},
    **DATE_QUERY,
}


def note_json(note: Note) -> dict:
    conv = db.session.get(Conversation, note.conversation_id) if note.conversation_id else None
    return {
        "id": note.id,
        "contact_id": note.contact_id,
        "conversation_id": note.conversation_id,
        "execution_id": note.execution_id,
        "text": note.text,
        "channel": conv.channel if conv else None,
        "created_at": iso(note.created_at),
    }


@operation(bp, "/notes/", paginated=True, query=FILTERS, response=NOTE_REF)
def list_notes(query):
    """List notes, newest first (filter by contact, conversation, run, channel, date)."""
    stmt = select(Note).order_by(Note.id.desc())
    for name in ("contact_id", "conversation_id", "execution_id"):
        if query.get(name) is not None:
            stmt = stmt.where(getattr(Note, name) == query[name])
    if query.get("channel"):
        stmt = stmt.join(Conversation, Conversation.id == Note.conversation_id).where(
            Conversation.channel == query["channel"]
        )
    stmt = within_dates(stmt, Note.created_at, query)
    return jsonify(paginate(stmt, query, note_json))


@operation(bp, "/notes/<id:note_id>/", response=NOTE_REF, errors=(404,))
def get_note(note_id):
    """One note."""
    return jsonify(note_json(get_or_404(Note, note_id, "note")))
