"""``/contacts/``: the customers a platform syncs (external id, names, channels, tags, fields)."""

from __future__ import annotations

__all__ = ["bp", "contact_json", "CONTACT_REF"]

from flask import Blueprint, current_app, jsonify
from sqlalchemy import or_, select

from backend.api.common import STR, commit, get_or_404, paginate
from backend.api.errors import ApiError
from backend.api.spec import component, operation
from backend.extensions import db
from backend.models import Contact, Tag, iso
from backend.services.contacts import get_or_create_tag, oversized_field
from graph_engine import CHANNELS

bp = Blueprint("contacts", __name__)

_NSTR = {"type": ["string", "null"]}
CONTACT_REF = component(
    "Contact",
    {
        "type": "object",
        "required": [
            "id",
            "external_id",
            "first_name",
            "last_name",
            "email",
            "phone",
            "channel",
            "tags",
            "fields",
        ],
        "properties": {
            "id": {"type": "integer"},
            "external_id": {"type": "string"},
            "first_name": {"type": "string"},
            "last_name": {"type": "string"},
            "email": _NSTR,
            "phone": _NSTR,
            "channel": _NSTR,
            "channel_ids": {"type": "object"},
            "tags": {"type": "array", "items": {"type": "string"}},
            "fields": {"type": "object"},
            "created_at": {"type": "string"},
            "updated_at": {"type": "string"},
            "delivery_status": {
                "type": "object",
                "description": "per channel, the last permanent "
                "delivery problem: {status: blocked|failed|bounced, error, at}",
            },
        },
    },
)
_FIELDS = {
    "external_id": STR(191, 1),
    "first_name": STR(100),
    "last_name": STR(100),
    "email": {"type": ["string", "null"], "maxLength": 254},
    "phone": {"type": ["string", "null"], "maxLength": 40},
    "channel": {"enum": [*CHANNELS, None]},
    "channel_ids": {
        "type": "object",
        "maxProperties": 20,
        "propertyNames": {"maxLength": 20},
        "additionalProperties": {"type": "string", "maxLength": 191},
    },
    "tags": {"type": "array", "maxItems": 200, "items": {**STR(100, 1), "pattern": "\\S"}},
    "fields": {"type": "object", "maxProperties": 200, "propertyNames": {"maxLength": 100}},
}
CREATE = {
    "type": "object",
    "required": ["external_id"],
    "additionalProperties": False,
    "properties": _FIELDS,
}
PATCH = {"type": "object", "additionalProperties": False, "properties": _FIELDS}
LIST_QUERY = {
    "search": {**STR(200), "description": "name, email, phone or external id contains"},
    "external_id": STR(191),
    "email": STR(254),
    "channel": {"enum": list(CHANNELS)},
    "tag": {**STR(100), "description": "only contacts with this tag"},
}


def contact_json(c: Contact) -> dict:
    return {
        "id": c.id,
        "external_id": c.external_id,
        "first_name": c.first_name or "",
        "last_name": c.last_name or "",
        "email": c.email,
        "phone": c.phone,
        "channel": c.channel,
        "channel_ids": dict(c.channel_ids or {}),
        "tags": c.tag_names,
        "fields": dict(c.fields or {}),
        "created_at": iso(c.created_at),
        "updated_at": iso(c.updated_at),
        "delivery_status": dict(c.delivery_status or {}),
    }


def _check_unique(body: dict, contact_id: int | None = None) -> None:
    if "external_id" not in body:
        return
    clash = db.session.scalar(select(Contact.id).where(Contact.external_id == body["external_id"]))
    if clash is not None and clash != contact_id:
        raise ApiError(409, f"contact {body['external_id']} already exists", field="external_id")


def _check_field_sizes(fields: dict) -> None:
    """413 naming the custom field whose value is over ``MAX_CONTACT_FIELD_BYTES``."""
    cap = current_app.config["MAX_CONTACT_FIELD_BYTES"]
    too_big = oversized_field(fields, cap)
    if too_big is not None:
        name, size = too_big
        raise ApiError(
            413, f"fields.{name} is {size} bytes; the limit is {cap}", field=f"fields.{name}"
        )


def _apply(contact: Contact, body: dict) -> None:
    """Set fields; tags are resolved first so no half-built contact is flushed early."""
    _check_field_sizes(body.get("fields") or {})
    tags = [get_or_create_tag(n) for n in dict.fromkeys(t.strip() for t in body.get("tags", []))]
    for key in (
        "external_id",
        "first_name",
        "last_name",
        "email",
        "phone",
        "channel",
        "channel_ids",
        "fields",
    ):
        if key in body:
            setattr(contact, key, body[key])
    if "tags" in body:
        contact.tags = tags


@operation(bp, "/contacts/", paginated=True, query=LIST_QUERY, response=CONTACT_REF)
def list_contacts(query):
    """List contacts (search; filter by external id, email, channel, tag)."""
    stmt = select(Contact).order_by(Contact.id.desc())
    for name in ("external_id", "email", "channel"):
        if query.get(name):
            stmt = stmt.where(getattr(Contact, name) == query[name])
    if query.get("tag"):
        stmt = stmt.where(Contact.tags.any(Tag.name == query["tag"]))
    if query.get("search"):
        like = f"%{query['search']}%"
        stmt = stmt.where(
            or_(
                Contact.first_name.ilike(like),
                Contact.last_name.ilike(like),
                Contact.email.ilike(like),
                Contact.phone.ilike(like),
                Contact.external_id.ilike(like),
            )
        )
    return jsonify(paginate(stmt, query, contact_json))


@operation(
    bp,
    "/contacts/",
    "POST",
    role="editor",
    body=CREATE,
    response=CONTACT_REF,
    status=201,
    errors=(409,),
)
def create_contact(body):
    """Create a contact (409 when the external id exists)."""
    _check_unique(body)
    contact = Contact(external_id=body["external_id"], channel_ids={}, fields={})
    _apply(contact, body)
    db.session.add(contact)
    commit(f"contact {body['external_id']} already exists", field="external_id")
    return jsonify(contact_json(contact)), 201


@operation(bp, "/contacts/<id:contact_id>/", response=CONTACT_REF, errors=(404,))
def get_contact(contact_id):
    """One contact."""
    return jsonify(contact_json(get_or_404(Contact, contact_id)))


def _update(contact_id: int, body: dict):
    contact = get_or_404(Contact, contact_id)
    _check_unique(body, contact_id)
    _apply(contact, body)
    commit("another contact has this external id", field="external_id")
    return jsonify(contact_json(contact))


@operation(
    bp,
    "/contacts/<id:contact_id>/",
    "PUT",
    role="editor",
    body=CREATE,
    response=CONTACT_REF,
    errors=(404, 409),
)
def replace_contact(contact_id, body):
    """Replace a contact's fields."""
    return _update(contact_id, body)


@operation(
    bp,
    "/contacts/<id:contact_id>/",
    "PATCH",
    role="editor",
    body=PATCH,
    response=CONTACT_REF,
    errors=(404, 409),
)
def update_contact(contact_id, body):
    """Update some fields of a contact (``tags`` replaces the tag list)."""
    return _update(contact_id, body)


@operation(bp, "/contacts/<id:contact_id>/", "DELETE", role="editor", status=204, errors=(404,))
def delete_contact(contact_id):
    """Delete a contact."""
    db.session.delete(get_or_404(Contact, contact_id))
    commit()
    return "", 204
