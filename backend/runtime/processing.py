"""Event processing in batches: claim ``received`` events, discover, create runs, run them.

Why batches: RQ costs ~20 Redis round trips per job, so one job per event (or per step) caps
throughput far below the targets. A ``process_event`` job therefore drains the event log — the
source of truth — in batches of ``EVENT_BATCH_SIZE``:

1. claim a batch inside one transaction (PostgreSQL: ``FOR UPDATE SKIP LOCKED``, so several
   workers drain side by side; SQLite: a conditional UPDATE, which also takes SQLite's write
   lock first). Nothing is committed until the batch is done, so a worker killed mid-batch
   simply releases its events: they are still ``received`` for the next drain or the sweeper;
2. per event (in a savepoint): find/create the contact (PostgreSQL: loaded and row-locked in
   one query) and conversation, match the trigger index, apply the limits, create one
   execution per matched workflow, record the outcome on the event log; no match on an open
   conversation's message -> the AI fallback;
3. commit, then advance the new runs together until each finishes or waits, checkpointed
   once for the whole batch (:mod:`backend.runtime.batch`).
   The runs reuse what the batch loaded (execution rows, contacts, conversations: the drain
   runs in :func:`backend.runtime.session.worker_session`, and the batch keeps them referenced), so a
   run issues no read of its own before its first effect.

Events are handled in (contact, id) order so concurrent batches lock contacts in one order.
"""

from __future__ import annotations

__all__ = ["process_batch", "drain"]

import logging
import time

from flask import current_app
from sqlalchemy import select, update

from backend.extensions import db
from backend.models import Contact, EventLog, Workflow
from backend.queue import request_drain
from backend.runtime import adapters, discovery, fallback, goals, limits
from backend.runtime.batch import advance_batch
from backend.runtime.clock import utcnow
from backend.runtime.runner import create_execution
from backend.runtime.session import worker_session
from backend.services import contacts as contact_service
from graph_engine import build_context, event_from_payload

log = logging.getLogger(__name__)


def _claim(limit: int) -> list[EventLog]:
    if db.engine.dialect.name == "postgresql":
        query = (
            select(EventLog)
            .where(EventLog.status == "received")
            .order_by(EventLog.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return list(db.session.scalars(query))
    ids = (
        select(EventLog.id).where(EventLog.status == "received").order_by(EventLog.id).limit(limit)
    )
    db.session.execute(
        update(EventLog).where(EventLog.id.in_(ids.scalar_subquery())).values(status="processing"),
        execution_options={"synchronize_session": False},
    )
    return list(db.session.scalars(select(EventLog).where(EventLog.status == "processing")))


def _locked_contact(external_id: str, locked: set) -> Contact | None:
    """PostgreSQL: load the contact and lock its row in one query (limits.lock_contact's
    lock, taken up front: events are handled in contact order, so locks are taken in order)."""
    if db.engine.dialect.name != "postgresql":
        return None
    contact = db.session.scalar(
        select(Contact).filter_by(external_id=external_id).with_for_update(of=Contact)
    )
    if contact is not None:
        locked.add(contact.id)
    return contact


def _context(ev: EventLog, locked: set):
    payload = dict(ev.payload or {})
    payload["event_id"] = ev.idempotency_key
    event = event_from_payload(payload)
    data = payload.get("data") or {}
    contact = _locked_contact(ev.user_id, locked) if ev.user_id else None
    if contact is None and ev.user_id:
        contact = contact_service.get_or_create_contact(ev.user_id, data)
    conversation = (
        contact_service.get_or_create_conversation(ev.conversation_id, contact)
        if ev.conversation_id
        else None
    )
    context = build_context(
        event,
        contact_service.contact_to_context(contact) or None,
        contact_service.conversation_to_context(conversation) or None,
    )
    if adapters.enabled():  # user.* from the platform's API, once per event (kept by the run)
        context["user"] = adapters.lookup_user(ev.user_id, context.get("user") or {})
    return context, contact, conversation


def _start_runs(ev: EventLog, specs, context, contact, batch) -> tuple[list[dict], list]:
    pins, locked = batch
    entries, created = [], []
    contact_id = contact.id if contact else None
    if specs and contact_id and contact_id not in locked:
        limits.lock_contact(contact_id)
        locked.add(contact_id)
    for spec in specs:
        workflow = db.session.get(Workflow, spec.workflow_id)
        pins.append(workflow)
        entry = {"workflow_id": spec.workflow_id, "node_id": spec.node_id}
        if workflow is None or workflow.status != "active":
            entries.append({**entry, "skipped": "inactive"})
            continue
        settings = (workflow.graph or {}).get("settings") or {}
        reason = limits.skip_reason(settings, workflow.id, contact_id)
        if reason is None and limits.rate_limited(contact_id):
            reason = "rate_limited"
        if reason:
            entries.append({**entry, "skipped": reason})
            continue
        ex = create_execution(
            workflow, spec.node_id, context, event_id=ev.id, contact_id=contact_id
        )
        entries.append({**entry, "execution_id": ex.id})
        created.append(ex)
    return entries, created


def _chain_too_deep(ev: EventLog) -> bool:
    """Whether ``ev`` was caused by a chain of runs longer than ``MAX_EVENT_CHAIN_DEPTH``."""
    depth = ((ev.payload or {}).get("cause") or {}).get("depth") or 0
    return depth > current_app.config.get("MAX_EVENT_CHAIN_DEPTH", 5)


def _process_one(ev: EventLog, batch: tuple[list, set]) -> list:
    context, contact, conversation = _context(ev, batch[1])
    batch[0].extend((contact, conversation))
    specs = discovery.match(context)
    if _chain_too_deep(ev):  # an event caused by a run caused by a run ...: stop the loop
        entries, created = (
            [
                {
                    "workflow_id": s.workflow_id,
                    "node_id": s.node_id,
                    "skipped": "cause_chain_too_deep",
                }
                for s in specs
            ],
            [],
        )
    else:
        entries, created = _start_runs(ev, specs, context, contact, batch)
    goals.exit_reached_goals(contact.id if contact else None, context, ev.id)
    ev.contact_id = contact.id if contact else None  # set with the rest: one UPDATE
    ev.matched_workflows = entries
    ev.status, ev.processed_at, ev.error = "processed", utcnow(), None
    ev.attempts = (ev.attempts or 0) + 1
    if not specs:
        fallback.prepare(ev, conversation)
    return created


def process_batch(limit: int | None = None) -> tuple[int, list, list]:
    """Claim and process up to ``limit`` events; return ``(claimed, new executions, pins)``.

    The new runs are leased to this thread but not advanced yet (see :func:`drain`); ``pins``
    are the loaded contacts, conversations and workflows: keep them while the runs advance
    (the session holds clean objects only weakly; pinned, effects find them without a query).
    """
    limit = limit or current_app.config.get("EVENT_BATCH_SIZE", 20)
    db.session.expire_all()  # contacts are re-read (and locked) fresh for every batch
    events = _claim(limit)
    if not events:
        db.session.commit()
        return 0, [], []
    discovery.trigger_index(force_check=True)
    created: list = []
    pins: list = []
    locked: set = set()  # contacts this transaction holds a row lock on (PostgreSQL)
    for ev in sorted(events, key=lambda e: (e.user_id or "", e.id)):
        try:
            with db.session.begin_nested():
                created += _process_one(ev, (pins, locked))
        except (ValueError, TypeError, KeyError, LookupError) as exc:
            ev.status, ev.error, ev.processed_at = (
                "failed",
                f"{type(exc).__name__}: {exc}",
                utcnow(),
            )
            ev.attempts = (ev.attempts or 0) + 1
            locked.clear()  # rolling back the savepoint released the locks taken in it
            log.warning("event %s failed: %s", ev.id, exc)
    fallback_ids = [ev.id for ev in events if (ev.fallback or {}).get("status") == "pending"]
    db.session.commit()
    fallback.dispatch(fallback_ids)
    return len(events), created, pins


def drain(max_seconds: float = 5.0) -> int:
    """Process batches until the log has no ``received`` event left (or time is up, then
    request another drain job); run each batch's runs inline. Returns events processed."""
    deadline, total = time.monotonic() + max_seconds, 0
    with worker_session():
        while True:
            claimed, created, _pins = process_batch()
            total += claimed
            advance_batch(created)
            if not claimed:
                return total
            if time.monotonic() > deadline:
                request_drain()
                return total
