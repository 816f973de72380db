"""What a drain batch works on: its claimed events and the rows they need, loaded up front.

:func:`claim` takes up to ``limit`` ``received`` events in the current transaction;
:class:`BatchRows` loads their contacts (with tags and whether a run of theirs waits),
conversations and workflows in a few queries instead of a few per event. The drain
(:mod:`backend.runtime.processing`) then processes the events one by one from these rows.
"""

from __future__ import annotations

__all__ = ["claim", "BatchRows"]

from collections import Counter

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import joinedload

from backend.extensions import db
from backend.models import (
    Contact,
    Conversation,
    EventLog,
    Workflow,
    WorkflowExecution,
    insert_for,
)
from backend.runtime import limits
from backend.services import contacts as contact_service

# The batch's queries, built once with their parameters as bind parameters: SQLAlchemy then
# finds their compiled form by a cache key remembered on the statement, instead of building
# the statement and its cache key afresh (~30-100 us each) at every batch and empty claim.
_RECEIVED = select(EventLog.id).where(EventLog.status == "received").order_by(EventLog.id)
_CLAIM_LOCKED = (
    select(EventLog)
    .where(EventLog.status == "received")
    .order_by(EventLog.id)
    .limit(bindparam("limit"))
    .with_for_update(skip_locked=True)
)
_MARK_PROCESSING = (
    update(EventLog)
    .where(EventLog.id.in_(_RECEIVED.limit(bindparam("limit")).scalar_subquery()))
    .values(status="processing")
)
_PROCESSING = select(EventLog).where(EventLog.status == "processing")
_WAITS = (
    select(WorkflowExecution.id)
    .where(WorkflowExecution.contact_id == Contact.id, WorkflowExecution.status == "waiting")
    .exists()
)
_CONTACTS = (
    select(Contact, _WAITS)
    .where(Contact.external_id.in_(bindparam("users", expanding=True)))
    .options(joinedload(Contact.tags))
)
_CONVERSATIONS = select(Conversation).where(
    Conversation.external_id.in_(bindparam("keys", expanding=True))
)
_ACTIVE_WORKFLOW = select(Workflow.id, Workflow.version, Workflow.name).where(
    Workflow.id == bindparam("workflow_id"), Workflow.status == "active"
)


def claim(limit: int) -> list[EventLog]:
    """Up to ``limit`` ``received`` events, oldest first, taken by this transaction: locked
    (PostgreSQL, skipping those another worker holds) or marked ``processing`` (SQLite)."""
    if db.engine.dialect.name == "postgresql":
        return list(db.session.scalars(_CLAIM_LOCKED, {"limit": limit}))
    db.session.execute(
        _MARK_PROCESSING, {"limit": limit}, execution_options={"synchronize_session": False}
    )
    return list(db.session.scalars(_PROCESSING))


def _conversations(keys) -> dict[str, Conversation]:
    """The conversations with these external ids, by external id."""
    found = db.session.scalars(_CONVERSATIONS, {"keys": list(keys)})
    return {c.external_id: c for c in found}


class BatchRows:
    """What one batch loaded up front, in a few queries instead of a few per event.

    ``contacts`` / ``conversations``: by external id (not locked: a contact is locked only
    where a run's limits are checked, see :mod:`backend.runtime.processing`); ``waiting``: ids
    of those contacts with a waiting run (only they can reach a goal), loaded with them;
    ``rates``: the per-contact rate limit, counted for the whole batch at once
    (:class:`backend.runtime.limits.ContactRates`); ``pins``: rows to keep referenced while the
    runs advance; ``locked``: contact ids this transaction holds a row lock on."""

    def __init__(self, events: list[EventLog]):
        self.pins: list = []
        self.locked: set = set()
        self._workflows: dict = {}
        self.contacts, self.waiting = self._load_contacts(events)
        convs = {ev.conversation_id for ev in events if ev.conversation_id}
        self.conversations = _conversations(convs) if convs else {}
        self._open_conversations(events)
        per_user = Counter(ev.user_id for ev in events)
        self.rates = limits.ContactRates(
            {c.id: per_user.get(ext, 0) for ext, c in self.contacts.items()}
        )

    @staticmethod
    def _load_contacts(events: list[EventLog]) -> tuple[dict[str, Contact], set[int]]:
        """The events' known contacts with their tags, and which of them have a waiting run,
        in one query (the tags joined, not a second SELECT; the waiting run an EXISTS)."""
        users = {ev.user_id for ev in events if ev.user_id}
        if not users:
            return {}, set()
        rows = db.session.execute(_CONTACTS, {"users": list(users)}).unique().all()
        return {c.external_id: c for c, _ in rows}, {c.id for c, waiting in rows if waiting}

    def _open_conversations(self, events: list[EventLog]) -> None:
        """Open the batch's new conversations of known contacts together: one INSERT (a
        racing worker's row wins: ON CONFLICT DO NOTHING) and one SELECT, instead of a
        lookup, a savepoint and an INSERT each. A new contact's conversation is opened the
        careful way, once the contact exists (:meth:`conversation`)."""
        rows: dict[str, dict] = {}
        for ev in sorted(events, key=lambda e: (e.user_id or "", e.id)):  # as processed
            key = ev.conversation_id
            if not key or key in self.conversations or key in rows:
                continue
            contact = self.contacts.get(ev.user_id)
            if ev.user_id and contact is None:
                continue
            rows[key] = {
                "external_id": key,
                "contact_id": contact.id if contact else None,
                "channel": contact.channel if contact else None,
                "status": "open",
            }
        if not rows:
            return
        table = Conversation.__table__
        stmt = insert_for(db.session.get_bind(), table).on_conflict_do_nothing(
            index_elements=["external_id"]
        )
        db.session.execute(stmt, list(rows.values()))
        self.conversations.update(_conversations(rows))

    def workflow(self, workflow_id: int):
        """The workflow's ``id, version, name`` as this transaction sees it if it is active,
        else None: one light query per workflow and batch (no ORM object, no graph to parse:
        what the runs need of the graph comes with the cached interpreter)."""
        if workflow_id not in self._workflows:
            found = db.session.execute(_ACTIVE_WORKFLOW, {"workflow_id": workflow_id}).first()
            self._workflows[workflow_id] = found
        return self._workflows[workflow_id]

    def contact(self, ev: EventLog) -> Contact | None:
        contact = self.contacts.get(ev.user_id)
        if contact is None and ev.user_id:  # new (or created since): the careful way
            data = (ev.payload or {}).get("data") or {}
            contact = self.contacts[ev.user_id] = contact_service.get_or_create_contact(
                ev.user_id, data
            )
        return contact

    def conversation(self, ev: EventLog, contact: Contact | None) -> Conversation | None:
        if not ev.conversation_id:
            return None
        conv = self.conversations.get(ev.conversation_id)
        if conv is None:
            conv = contact_service.get_or_create_conversation(ev.conversation_id, contact)
            self.conversations[ev.conversation_id] = conv
        return conv
