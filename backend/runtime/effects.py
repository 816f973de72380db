"""DbEffects: the graph engine's :class:`graph_engine.effects.Effects` on the real database.

Contacts, tags, notes and conversation status change rows in the current session; the runner
commits them in the same transaction as the step's checkpoint, so a step's effects and its
record are written together or not at all. Messages, emails and webhooks go through
:mod:`backend.channels` (default: the ``capture`` channel, which records them).

A database error inside an effect is remembered in :attr:`DbEffects.db_error` before it is
re-raised: the interpreter would treat it as a node failure, but the runner discards that step
instead and retries it once the database is back (an outage is not the workflow's fault).
"""

from __future__ import annotations

__all__ = ["DbEffects"]

from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from backend.channels import OutboundRequest, channel_for
from backend.channels.capture import CAPTURE
from backend.clock import offset
from backend.extensions import db
from backend.models import Contact, Conversation, EventLog, Note, TagChange
from backend.models import utcnow as system_utcnow
from backend.runtime.frequency import cap_reason, caps, record_capped
from backend.runtime.session import next_id
from backend.services import contacts as contact_service
from backend.services import internal_events
from backend.services.internal_events import caused_by
from graph_engine import EffectError, Outbound, run_code

_ATTRS = ("first_name", "last_name", "email", "phone", "channel")
#: With a workflow's ``test_recipients_only`` setting, only contacts with this tag get live sends.
TEST_TAG = "test"


class DbEffects:
    """Effects of one execution (``execution_id``) acting on the database and channels."""

    def __init__(
        self, execution_id: int, *, event_id: int | None = None, test_recipients_only: bool = False
    ):
        self.execution_id = execution_id
        self.event_id = event_id  # the event that started the run (the cause's depth)
        self.db_error: Exception | None = None
        # Batch mode (backend.runtime.batch): a live send leaves the batch -- the outbox needs
        # the steps before it committed -- and the run is advanced step by step instead.
        self.batched = False
        self.left_batch = False
        # Batch mode on PostgreSQL: rows (notes, captured messages) kept for the batch's one
        # write, by table, their ids taken ahead from the sequences (see :meth:`_keep`).
        self.kept: dict | None = None
        self.tagged: list[Contact] = []  # contacts whose tags this run changed
        self.mode = current_app.config.get("OUTBOUND_MODE", "capture")
        # The workflow's "test recipients only" switch: live only for contacts tagged ``test``.
        self.test_recipients_only = test_recipients_only
        self._cause: dict | None = None  # this run as the cause of internal events
        # WAIT_SCALE shortens duration waits (flow.wait reads it): demos and end-to-end tests.
        self.wait_scale = float(current_app.config.get("WAIT_SCALE", 1) or 1)
        # Rows this run loaded. The session holds clean objects only weakly; with the workers'
        # expire_on_commit=False (``backend.runtime.session``) keeping them here means a contact,
        # its tags and the conversation are loaded once per run, not once per effect.
        self._rows: dict = {}
        # The runtime clock (backend.runtime.clock), read without its per-call lookups: the
        # interpreter asks for "now" a few times per step. The offset to the database's
        # clock is taken once per run (it is re-measured every 30 s at most anyway).
        self._config, self._offset = current_app.config, offset()

    def now(self) -> datetime:
        clock = self._config.get("RUNTIME_CLOCK")
        return clock() if clock is not None else system_utcnow() + self._offset

    # -- helpers ------------------------------------------------------------------------------

    def _guard(self, fn, *args):
        try:
            return fn(*args)
        except (DBAPIError, SQLAlchemyError) as exc:
            self.db_error = exc
            raise

    def _loaded(self, model, row_id):
        """The ``model`` row ``row_id``: the one this run holds while the session still has
        it (a dict lookup; the session's own identity lookup cost ~20 µs), else the session's."""
        row = self._rows.get((model, row_id))
        if row is None or row not in db.session:
            row = db.session.get(model, row_id)
        return row

    def _contact(self, contact: dict) -> Contact:
        row = None
        if contact.get("id"):
            row = self._loaded(Contact, contact["id"])
        elif contact.get("external_id"):
            row = contact_service.get_or_create_contact(str(contact["external_id"]))
        if row is None:
            raise EffectError("this run has no contact", retryable=False)
        self._rows[Contact, row.id] = row
        return row

    def _conversation(self, conversation: dict | None) -> Conversation | None:
        conversation = conversation or {}
        row = None
        if conversation.get("id"):
            row = self._loaded(Conversation, conversation["id"])
        elif conversation.get("external_id"):
            row = db.session.scalar(
                select(Conversation).filter_by(external_id=str(conversation["external_id"]))
            )
        if row is not None:
            self._rows[Conversation, row.id] = row
        return row

    def _keep(self, table, values: dict) -> int:
        """Batch mode: keep ``values`` for the batch to INSERT with its other rows; the id
        the row will have."""
        values["id"] = next_id(table.name)
        self.kept.setdefault(table, []).append(values)
        return values["id"]

    # -- contacts -----------------------------------------------------------------------------

    def _as_cause(self) -> dict:
        """This run as the cause of the internal events its changes emit (taken once, when a
        change first emits one)."""
        if self._cause is None:
            # From the session's identity map when the batch loaded it: no query then. Not
            # through the run's row: a drain batch's new run is not written yet.
            event = db.session.get(EventLog, self.event_id) if self.event_id else None
            payload = event.payload if event is not None else None
            depth = ((payload or {}).get("cause") or {}).get("depth") or 0
            self._cause = {"execution_id": self.execution_id, "depth": depth + 1}
        return self._cause

    def _caused(self, fn):
        """Run ``fn`` with this run as the cause of the internal events it emits."""
        with caused_by(self._as_cause()):
            return self._guard(fn)

    def add_tag(self, contact: dict, tag: str) -> dict:
        def run():
            row = self._contact(contact)
            if tag not in row.tag_names:
                added = contact_service.link_tag(row, contact_service.get_or_create_tag(tag))
                if added:
                    self._tag_changed(row, tag, "added")
            return contact_service.contact_to_context(row)

        return self._guard(run)

    def remove_tag(self, contact: dict, tag: str) -> dict:
        def run():
            row = self._contact(contact)
            if contact_service.unlink_tag(row, tag):
                self._tag_changed(row, tag, "removed")
            return contact_service.contact_to_context(row)

        return self._guard(run)

    def _tag_changed(self, row: Contact, tag: str, action: str) -> None:
        """Record a tag change this run made (not a concurrent worker): its history row and
        its internal event (see :func:`backend.services.contacts.link_tag`)."""
        self.tagged.append(row)
        values = {
            "contact_id": row.id,
            "tag": tag,
            "action": action,
            "source": "runtime",
            "execution_id": self.execution_id,
            "user_id": None,
            "created_at": system_utcnow(),
        }
        if self.kept is not None:
            self._keep(TagChange.__table__, values)
        else:
            db.session.add(TagChange(**values))
        with caused_by(self._as_cause()):
            internal_events.tag_changed(row, tag, added=action == "added")

    def forget_tags(self) -> None:
        """This run's changes were rolled back (a savepoint): the contacts it tagged read
        their tags again. Their loaded ``tags`` were set as committed, which a rollback does
        not expire."""
        for row in self.tagged:
            if row in db.session:
                db.session.expire(row, ["tags"])

    def update_user(self, contact: dict, changes: dict) -> dict:
        def run():
            row = self._contact(contact)
            fields = dict(row.fields or {})
            for key, value in changes.items():
                if key.startswith("fields."):
                    fields[key[len("fields.") :]] = value
                elif key in _ATTRS:
                    setattr(row, key, None if value is None else str(value)[:254])
            cap = current_app.config["MAX_CONTACT_FIELD_BYTES"]
            too_big = contact_service.oversized_field(fields, cap)
            if too_big is not None:
                message = f"fields.{too_big[0]} is {too_big[1]} bytes; the limit is {cap}"
                raise EffectError(message, retryable=False)
            row.fields = fields
            return contact_service.contact_to_context(row)

        return self._guard(run)

    def add_note(self, contact: dict, conversation: dict | None, text: str) -> dict:
        def run():
            row = (
                self._contact(contact) if contact.get("id") or contact.get("external_id") else None
            )
            conv = self._conversation(conversation)
            values = {
                "contact_id": row.id if row else None,
                "conversation_id": conv.id if conv else None,
                "execution_id": self.execution_id,
                "text": text,
            }
            if self.kept is not None:
                return {"note_id": self._keep(Note.__table__, values), "text": text}
            note = Note(**values)
            db.session.add(note)
            db.session.flush()
            return {"note_id": note.id, "text": text}

        return self._guard(run)

    def set_conversation_status(self, conversation: dict | None, status: str) -> dict:
        def run():
            conv = self._conversation(conversation)
            if conv is None:
                raise EffectError("this run has no conversation", retryable=False)
            conv.status = status
            return contact_service.conversation_to_context(conv)

        return self._caused(run)

    # -- outbound ---------------------------------------------------------------------------

    def send(self, request: Outbound) -> dict:
        """Hand ``request`` to the channel registered for it (capture unless live)."""
        conversation = self._guard(self._conversation, request.conversation)
        message = OutboundRequest(
            kind=request.kind,
            idempotency_key=request.idempotency_key,
            payload=dict(request.payload),
            options=dict(request.options),
            contact_id=(request.contact or {}).get("id"),
            conversation_id=conversation.id if conversation else None,
            execution_id=self.execution_id,
            node_id=request.node_id[:100],
        )
        reason = self._guard(cap_reason, message.kind, message.contact_id, self.execution_id)
        if reason:  # over the contact's frequency cap: recorded, not sent
            return self._guard(record_capped, message, reason)
        mode = self._mode_for(request)
        if self.batched and mode == "live":
            self.left_batch = True
            raise EffectError("a live send leaves the batch", retryable=False)
        channel = channel_for(message, mode)
        # Kept for the batch's write unless a frequency cap counts this kind: the cap's count
        # reads the rows, so a capped kind is written at once (in the batch's transaction).
        if self.kept is not None and channel is CAPTURE and message.kind not in caps():
            return self._guard(channel.stage, message, self._keep)
        return self._guard(channel.send, message)

    def _mode_for(self, request: Outbound) -> str:
        """``live`` only where allowed: with the switch on, a contact not tagged ``test`` (or
        a request for no contact, e.g. a webhook) gets the capture channel."""
        if self.mode != "live" or not self.test_recipients_only:
            return self.mode
        return "live" if TEST_TAG in ((request.contact or {}).get("tags") or ()) else "capture"

    def run_code(self, code: str, context: dict, *, timeout: float) -> Any:

        return run_code(code, context, timeout=timeout)
