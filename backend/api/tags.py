"""``/tags/``: contact tags with their usage counts."""

from __future__ import annotations

__all__ = ["bp"]

from flask import Blueprint, jsonify
from sqlalchemy import func, select

from backend.api.common import STR, commit, get_or_404, paginate
from backend.api.spec import component, operation
from backend.extensions import db
from backend.models import Tag, contact_tags, iso

bp = Blueprint("tags", __name__)

TAG_REF = component(
    "Tag",
    {
        "type": "object",
        "required": ["id", "name"],
        "properties": {
            "id": {"type": "integer"},
            "name": {"type": "string"},
            "contact_count": {"type": "integer"},
            "created_at": {"type": "string"},
        },
    },
)
CREATE = {
    "type": "object",
    "required": ["name"],
    "additionalProperties": False,
    "properties": {"name": {**STR(100, 1), "pattern": "\\S"}},
}


def _count(tag_id: int) -> int:
    return db.session.scalar(
        select(func.count()).select_from(contact_tags).where(contact_tags.c.tag_id == tag_id)
    )


def tag_json(tag: Tag) -> dict:
    return {
        "id": tag.id,
        "name": tag.name,
        "contact_count": _count(tag.id),
        "created_at": iso(tag.created_at),
    }


@operation(bp, "/tags/", paginated=True, query={"search": STR(100)}, response=TAG_REF)
def list_tags(query):
    """List tags (search by name)."""
    stmt = select(Tag).order_by(Tag.name)
    if query.get("search"):
        stmt = stmt.where(Tag.name.ilike(f"%{query['search']}%"))
    return jsonify(paginate(stmt, query, tag_json))


@operation(
    bp, "/tags/", "POST", role="editor", body=CREATE, response=TAG_REF, status=201, errors=(409,)
)
def create_tag(body):
    """Create a tag."""
    tag = Tag(name=body["name"].strip())
    db.session.add(tag)
    commit(f"tag {tag.name} already exists", field="name")
    return jsonify(tag_json(tag)), 201


@operation(bp, "/tags/<id:tag_id>/", response=TAG_REF, errors=(404,))
def get_tag(tag_id):
    """One tag."""
    return jsonify(tag_json(get_or_404(Tag, tag_id)))


@operation(bp, "/tags/<id:tag_id>/", "DELETE", role="editor", status=204, errors=(404,))
def delete_tag(tag_id):
    """Delete a tag (removed from every contact)."""
    db.session.delete(get_or_404(Tag, tag_id))
    commit()
    return "", 204
