"""``/contacts/<id>/timeline/``: everything that happened with one contact, newest first."""

from __future__ import annotations

__all__ = ["bp"]

from flask import Blueprint, jsonify

from backend.api.common import get_or_404, page_url
from backend.api.errors import ApiError
from backend.api.spec import component, operation
from backend.models import Contact
from backend.services.timeline import KINDS, timeline_page

bp = Blueprint("timeline", __name__)

ITEM_REF = component(
    "TimelineItem",
    {
        "type": "object",
        "required": ["kind", "at", "id", "links"],
        "properties": {
            "kind": {"enum": list(KINDS)},
            "at": {"type": ["string", "null"]},
            "id": {"type": "integer"},
            "links": {
                "type": "object",
                "properties": {
                    "execution_id": {"type": ["integer", "null"]},
                    "workflow_id": {"type": ["integer", "null"]},
                    "event_id": {"type": ["integer", "null"]},
                },
            },
        },
    },
)
QUERY = {
    "kind": {
        "type": "string",
        "maxLength": 100,
        "pattern": "^[a-z_]+(,[a-z_]+)*$",
        "description": f"comma-separated kinds to show: {', '.join(KINDS)}",
    }
}


def _kinds(raw: str | None) -> set[str] | None:
    if not raw:
        return None
    kinds = set(raw.split(","))
    unknown = kinds - set(KINDS)
    if unknown:
        raise ApiError(400, f"kind: unknown kind {sorted(unknown)[0]!r}", field="kind")
    return kinds


@operation(
    bp,
    "/contacts/<id:contact_id>/timeline/",
    paginated=True,
    query=QUERY,
    response=ITEM_REF,
    errors=(404,),
)
def contact_timeline(contact_id, query):
    """A contact's events, runs, messages, notes and tag changes, newest first."""
    contact = get_or_404(Contact, contact_id, "contact")
    page, size = query["page"], query["page_size"]
    count, items = timeline_page(contact, page, size, _kinds(query.get("kind")))
    return jsonify(
        {
            "count": count,
            "next": page_url(page + 1) if page * size < count else None,
            "previous": page_url(page - 1) if page > 1 and count else None,
            "results": items,
        }
    )
