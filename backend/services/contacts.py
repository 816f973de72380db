"""Contacts and conversations: find-or-create from events, tags, and the ``user.*`` context."""

from __future__ import annotations

import json

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from backend.extensions import db
from backend.models import Contact, Conversation, Tag, contact_tags, iso
from backend.models.base import insert_for

# Keys of an event's data that describe the user, and the contact attribute each fills.
_USER_KEYS = {
    "first_name": "first_name",
    "last_name": "last_name",
    "email": "email",
    "phone": "phone",
    "channel": "channel",
}


def oversized_field(fields: dict, cap: int) -> tuple[str, int] | None:
    """The first custom field whose JSON value exceeds ``cap`` bytes, with its size.

    >>> oversized_field({"a": "x" * 10, "b": "y"}, 8)
    ('a', 12)
    """
    for name, value in (fields or {}).items():
        size = len(json.dumps(value, ensure_ascii=False, default=str).encode())
        if size > cap:
            return str(name), size
    return None


def contact_to_context(contact: Contact | None) -> dict:
    """The ``user.*`` view of a contact that conditions, templates and code see."""
    if contact is None:
        return {}
    return {
        "id": contact.id,
        "external_id": contact.external_id,
        "first_name": contact.first_name or "",
        "last_name": contact.last_name or "",
        "email": contact.email,
        "phone": contact.phone,
        "channel": contact.channel,
        "channel_ids": dict(contact.channel_ids or {}),
        "tags": contact.tag_names,
        "fields": dict(contact.fields or {}),
        "created_at": iso(contact.created_at),
    }


def conversation_to_context(conversation: Conversation | None) -> dict:
    """The ``conversation.*`` view of a conversation."""
    if conversation is None:
        return {}
    return {
        "id": conversation.id,
        "external_id": conversation.external_id,
        "status": conversation.status,
        "channel": conversation.channel,
    }


def _user_attributes(data: dict) -> dict:
    """What an event's data says about its user: top-level keys or a nested ``user`` object."""
    source = dict(data or {})
    if isinstance(source.get("user"), dict):
        source.update(source["user"])
    return {attr: str(source[key])[:254] for key, attr in _USER_KEYS.items() if source.get(key)}


def _lookup(query):
    """The row ``query`` finds, without flushing the session first. Safe for the rows the
    ``get_or_create_*`` functions make: each new one is flushed at once (its savepoint), so
    none is pending unseen; and a run's lookup no longer writes out the batch's other pending
    rows in a round trip of their own (they go with the batch's flush)."""
    with db.session.no_autoflush:
        return db.session.scalar(query)


def get_or_create_contact(external_id: str, data: dict | None = None) -> Contact:
    """Find the contact with ``external_id`` or create it from what ``data`` says.

    Safe under concurrency: a racing insert of the same external id is retried as a lookup.
    """
    contact = _lookup(select(Contact).filter_by(external_id=external_id))
    if contact is not None:
        return contact
    attrs = _user_attributes(data or {})
    try:
        with db.session.begin_nested():
            contact = Contact(external_id=external_id, channel_ids={}, fields={}, **attrs)
            db.session.add(contact)
    except IntegrityError:
        contact = db.session.scalar(select(Contact).filter_by(external_id=external_id))
    return contact


def get_or_create_conversation(external_id: str, contact: Contact | None) -> Conversation:
    """Find the conversation with ``external_id`` or open a new one for ``contact``."""
    conv = _lookup(select(Conversation).filter_by(external_id=external_id))
    if conv is not None:
        return conv
    try:
        with db.session.begin_nested():
            conv = Conversation(
                external_id=external_id,
                contact_id=contact.id if contact else None,
                channel=contact.channel if contact else None,
                status="open",
            )
            db.session.add(conv)
    except IntegrityError:
        conv = db.session.scalar(select(Conversation).filter_by(external_id=external_id))
    return conv


def get_or_create_tag(name: str) -> Tag:
    tag = _lookup(select(Tag).filter_by(name=name))
    if tag is not None:
        return tag
    try:
        with db.session.begin_nested():
            tag = Tag(name=name)
            db.session.add(tag)
    except IntegrityError:
        tag = db.session.scalar(select(Tag).filter_by(name=name))
    return tag


def add_tag(contact: Contact, name: str) -> bool:
    """Tag a contact; True if the tag was new to it."""
    if name in contact.tag_names:
        return False
    contact.tags.append(get_or_create_tag(name))
    return True


def remove_tag(contact: Contact, name: str) -> bool:
    """Untag a contact; True if it had the tag."""
    before = len(contact.tags)
    contact.tags = [t for t in contact.tags if t.name != name]
    return len(contact.tags) != before


# -- tag changes that tolerate a concurrent writer (the runtime's) -----------------------------
# Why not ``contact.tags.append`` in the runtime: the unit of work INSERTs the link row, and when
# another worker tagged the same contact since this one loaded it (two messages of one customer
# in two drain batches at once), that INSERT fails on the primary key and the whole batch is
# rolled back and done again run by run. These two statements wait for the other transaction
# instead, then change nothing. They bypass the collection's ORM events, so the caller records
# the change (history, internal event) only when it happened. The contact's loaded ``tags``
# become what the database now holds, as its committed state: no flush writes them again.
# Neither flushes the session first (as ``_lookup``): the contact and the tag are stored rows
# already, and a drain batch's pending rows go with the batch's own flush.


def link_tag(contact: Contact, tag: Tag) -> bool:
    """Tag ``contact`` (loaded, without ``tag`` among its ``tags``) by ``INSERT ... ON
    CONFLICT DO NOTHING``; True if this transaction added the row."""
    stmt = (
        insert_for(db.session.get_bind(), contact_tags)
        .on_conflict_do_nothing()
        .returning(contact_tags.c.tag_id)
    )
    with db.session.no_autoflush:
        added = db.session.execute(stmt, {"contact_id": contact.id, "tag_id": tag.id}).first()
    set_committed_value(contact, "tags", sorted([*contact.tags, tag], key=lambda t: t.name))
    return added is not None


def unlink_tag(contact: Contact, name: str) -> bool:
    """Untag ``contact`` by ``DELETE ... RETURNING``; True if this transaction removed the
    row (False when the loaded contact did not have the tag, or a concurrent writer removed
    it first)."""
    tag = next((t for t in contact.tags if t.name == name), None)
    if tag is None:
        return False
    link = contact_tags.c
    stmt = (
        delete(contact_tags)
        .where(link.contact_id == contact.id, link.tag_id == tag.id)
        .returning(link.tag_id)
    )
    with db.session.no_autoflush:
        removed = db.session.execute(stmt).first()
    set_committed_value(contact, "tags", [t for t in contact.tags if t is not tag])
    return removed is not None
