"""Internal events: the product's own changes become events other workflows react to.

A tag added to or removed from a contact, and a conversation changing status, emit
``TAG_ADDED`` / ``TAG_REMOVED`` (``data.tag``) and ``CONVERSATION_STATUS_CHANGED``
(``data.from_status``, ``data.to_status`` -- the status-change trigger's param names) -- whoever
made the change: a workflow action, ``PATCH /contacts/<id>/``, the admin. How:

1. ORM attribute events on ``Contact.tags`` and ``Conversation.status`` queue the change on
   the session (the API and the admin change them through the ORM). The runtime tags and
   untags with statements that tolerate a concurrent worker
   (:func:`backend.services.contacts.link_tag`) and calls :func:`tag_changed` itself, which
   writes the event at once;
2. after each flush the queued events are inserted into the event log (status ``received``) on
   the flush's own connection: they commit or roll back with the change itself;
3. after the commit a drain is requested, so the events are processed like any other --
   except those nothing would act on (no trigger listens to their type and their contact has
   no waiting run, whose goals could see them): the runtime names them
   (:func:`backend.runtime.discovery.quiet_events`) and they are stored as processed, with
   no drain to pay for (every first tag a run adds emits one).

Each event records its ``cause``: the run that made the change (``execution_id``,
``workflow_id``) and the chain ``depth`` (the causing run's event depth + 1; 0 for changes made
by people). :mod:`backend.runtime.processing` starts no run for an event deeper than
``MAX_EVENT_CHAIN_DEPTH`` and records ``cause_chain_too_deep`` as the skip reason, so workflows
that trigger each other (or themselves) cannot loop forever.
"""

from __future__ import annotations

__all__ = ["init_app", "caused_by", "tag_changed", "INTERNAL_TYPES"]

import uuid
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime

from sqlalchemy import event, insert, select
from sqlalchemy.orm import Session, attributes, object_session

from backend.extensions import db
from backend.models import Contact, Conversation, EventLog, utcnow
from backend.queue import request_drain

INTERNAL_TYPES = ("TAG_ADDED", "TAG_REMOVED", "CONVERSATION_STATUS_CHANGED")
_KEY = "internal_events"
_cause: ContextVar[dict | None] = ContextVar("internal_event_cause", default=None)
_installed = False
#: ``(session, rows) -> indexes of the rows nothing would act on`` (set by :func:`init_app`).
_quiet = None


@contextmanager
def caused_by(cause: dict):
    """Attribute the changes made inside the block to a run (``execution_id``, ``depth``...)."""
    token = _cause.set(cause)
    try:
        yield
    finally:
        _cause.reset(token)


def _item(event_type: str, data: dict, contact=None, conversation=None) -> dict:
    return {
        "event_type": event_type,
        "data": data,
        "contact": contact,
        "conversation": conversation,
        "cause": _cause.get() or {"depth": 0},
    }


def _queue(target, event_type: str, data: dict, contact=None, conversation=None) -> None:
    session = object_session(target) or db.session()
    session.info.setdefault(_KEY, []).append(_item(event_type, data, contact, conversation))


def tag_changed(contact: Contact, tag: str, added: bool) -> None:
    """Emit ``TAG_ADDED`` / ``TAG_REMOVED`` for a change made without the ORM's collection
    events (:func:`backend.services.contacts.link_tag`), written now on the session's
    connection: no flush may follow to write a queued one (nothing else may be dirty)."""
    session = object_session(contact) or db.session()
    event_type = "TAG_ADDED" if added else "TAG_REMOVED"
    _store(session, [_item(event_type, {"tag": tag}, contact=contact)])


def _tag_added(contact, tag, initiator):
    _queue(contact, "TAG_ADDED", {"tag": tag.name}, contact=contact)


def _tag_removed(contact, tag, initiator):
    _queue(contact, "TAG_REMOVED", {"tag": tag.name}, contact=contact)


def _status_set(conversation, value, old, initiator):
    if old in (attributes.NO_VALUE, attributes.NEVER_SET, None) or old == value:
        return  # a new conversation, or no change
    _queue(
        conversation,
        "CONVERSATION_STATUS_CHANGED",
        {"from_status": old, "to_status": value},
        conversation=conversation,
    )


def _row(session, item: dict) -> dict:
    contact, conversation = item["contact"], item["conversation"]
    contact_id = contact.id if contact is not None else None
    user_id = contact.external_id if contact is not None else None
    if contact is None and conversation is not None and conversation.contact_id:
        # inside a flush: ask the flush's connection, not the session
        found = (
            session.connection()
            .execute(
                select(Contact.id, Contact.external_id).where(Contact.id == conversation.contact_id)
            )
            .first()
        )
        contact_id, user_id = found if found else (None, None)
    data = dict(item["data"])
    if contact_id is not None:
        data["contact_id"] = contact_id
    payload = {
        "event_type": item["event_type"],
        "data": data,
        "cause": item["cause"],
        "timestamp": datetime.now(UTC).isoformat(),
    }
    conv_id = conversation.external_id if conversation is not None else None
    payload.update({k: v for k, v in (("user_id", user_id), ("conversation_id", conv_id)) if v})
    return {
        "event_type": item["event_type"],
        "idempotency_key": f"internal-{uuid.uuid4().hex}",
        "source": "internal",
        "payload": payload,
        "user_id": user_id,
        "conversation_id": conv_id,
        "contact_id": contact_id,
        "status": "received",
        "matched_workflows": [],
        "attempts": 0,
        "received_at": utcnow(),
        "processed_at": None,
    }


def _after_flush(session, flush_context):
    items = session.info.pop(_KEY, None)
    if items:
        _store(session, items)


def _store(session, items: list[dict]) -> None:
    rows = [_row(session, item) for item in items]
    for index in _quiet(session, rows) if _quiet is not None else ():
        rows[index].update(status="processed", processed_at=rows[index]["received_at"])
    session.connection().execute(insert(EventLog.__table__), rows)
    if any(row["status"] == "received" for row in rows):
        session.info["internal_events_written"] = True


def _after_commit(session):
    if session.info.pop("internal_events_written", False):
        request_drain()


def _after_rollback(session):
    session.info.pop(_KEY, None)
    session.info.pop("internal_events_written", None)


def init_app(app, *, quiet=None) -> None:
    """Install the listeners (once per process); ``quiet`` names the rows nothing would act
    on (see the module docstring)."""
    global _installed, _quiet
    _quiet = quiet
    if _installed:
        return
    event.listen(Contact.tags, "append", _tag_added)
    event.listen(Contact.tags, "remove", _tag_removed)
    event.listen(Conversation.status, "set", _status_set)
    event.listen(Session, "after_flush", _after_flush)
    event.listen(Session, "after_commit", _after_commit)
    event.listen(Session, "after_soft_rollback", lambda session, previous: _after_rollback(session))
    _installed = True
