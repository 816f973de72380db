"""Event processing in batches: claim ``received`` events, discover, create runs, run them.

Why batches: RQ costs ~20 Redis round trips per job, so one job per event (or per step) caps
throughput far below the targets. A ``process_event`` job therefore drains the event log — the
source of truth — in batches of ``EVENT_BATCH_SIZE``:

1. claim a batch inside one transaction (PostgreSQL: ``FOR UPDATE SKIP LOCKED``, so several
   workers drain side by side; SQLite: a conditional UPDATE, which also takes SQLite's write
   lock first). Nothing is committed until the batch is done, so a worker killed mid-batch
   simply releases its events: they are still ``received`` for the next drain or the sweeper;
2. load the rows the events need, a few queries for the whole batch
   (:mod:`backend.runtime.batch_rows`); then per event (in a savepoint): find/create the
   contact and conversation, match the trigger index, apply the limits (the contact row
   locked where a limit reads the database), create one execution per matched workflow,
   record the outcome on the event log; no match on an open conversation's message -> the
   AI fallback;
3. advance the new runs together until each finishes or waits, then write and commit all of
   it at once (the events' outcomes, the new executions with their final state, the steps):
   ONE transaction per batch (:mod:`backend.runtime.batch`). The runs reuse what the batch
   loaded (execution rows, contacts, conversations: the drain runs in
   :func:`backend.runtime.session.worker_session`, and the batch keeps them referenced), so a
   run issues no read of its own before its first effect.

Why one transaction: a commit costs a round trip and, with ``synchronous_commit`` on, a WAL
flush; the batch's events and its runs' steps need not be two. A crash (or any error) before
the commit leaves every event of the batch ``received`` and no trace of its runs: the batch is
claimed again, nothing was sent (what leaves the machine goes through the outbox, written in
that transaction, or by a run that left the batch, after the commit). When the batch's
transaction fails, :func:`drain_batch` does the batch again in two steps, as before: events
and runs committed first (:func:`process_batch`), then each run advanced on its own
(:func:`backend.runtime.runner.advance`), so one bad run cannot hold up the others forever.

Events are handled in (contact, id) order so concurrent batches lock contacts in one order.
"""

from __future__ import annotations

__all__ = ["Claimed", "claim_batch", "process_batch", "drain_batch", "drain"]

import dataclasses
import logging
import time

from flask import current_app

from backend.extensions import db
from backend.models import EventLog
from backend.queue import call_for_help, hold_drain_flag, request_drain, wait_for_nudge
from backend.runtime import adapters, discovery, fallback, goals, limits
from backend.runtime.batch import BatchFailed, publish_batch, write_batch
from backend.runtime.batch_rows import BatchRows, claim
from backend.runtime.clock import utcnow
from backend.runtime.interpreters import interpreter_for
from backend.runtime.runner import advance, create_execution
from backend.runtime.session import worker_session
from backend.services import contacts as contact_service
from graph_engine import build_context, event_from_payload

log = logging.getLogger(__name__)


def _context(ev: EventLog, batch: BatchRows):
    payload = dict(ev.payload or {})
    payload["event_id"] = ev.idempotency_key
    event = event_from_payload(payload)
    contact = batch.contact(ev)
    conversation = batch.conversation(ev, contact)
    context = build_context(
        event,
        contact_service.contact_to_context(contact) or None,
        contact_service.conversation_to_context(conversation) or None,
    )
    if adapters.enabled():  # user.* from the platform's API, once per event (kept by the run)
        context["user"] = adapters.lookup_user(ev.user_id, context.get("user") or {})
    return context, contact, conversation


def _start_runs(ev: EventLog, specs, context, contact, batch: BatchRows) -> tuple[list[dict], list]:
    locked = batch.locked
    entries, created = [], []
    contact_id = contact.id if contact else None
    workflows = [batch.workflow(spec.workflow_id) for spec in specs]
    # The row lock serialises the database limit checks (reentry, runs per day) per contact;
    # without such a limit nothing needs it, and a lock would make batches that share a
    # contact wait for each other's runs.
    if contact_id and contact_id not in locked and any(map(_limited, workflows)):
        limits.lock_contact(contact_id)
        locked.add(contact_id)
    for spec, workflow in zip(specs, workflows, strict=True):
        entry = {"workflow_id": spec.workflow_id, "node_id": spec.node_id}
        if workflow is None:
            entries.append({**entry, "skipped": "inactive"})
            continue
        settings = _settings(workflow)
        reason = limits.skip_reason(settings, workflow.id, contact_id)
        if reason is None and batch.rates.limited(contact_id):
            reason = "rate_limited"
        if reason:
            entries.append({**entry, "skipped": reason})
            continue
        ex = create_execution(
            workflow,
            spec.node_id,
            context,
            event_id=ev.id,
            contact_id=contact_id,
            defer_insert=True,
        )
        entries.append({**entry, "execution_id": ex.id})
        created.append(ex)
    return entries, created


def _settings(workflow) -> dict:
    """The settings of the workflow's current version, from its cached interpreter (the same
    graph as the row's: every save makes a version)."""
    return interpreter_for(workflow.id, workflow.version).graph.settings


def _limited(workflow) -> bool:
    return workflow is not None and limits.checks_database(_settings(workflow))


def _chain_too_deep(ev: EventLog) -> bool:
    """Whether ``ev`` was caused by a chain of runs longer than ``MAX_EVENT_CHAIN_DEPTH``."""
    depth = ((ev.payload or {}).get("cause") or {}).get("depth") or 0
    return depth > current_app.config.get("MAX_EVENT_CHAIN_DEPTH", 5)


def _process_one(ev: EventLog, batch: BatchRows) -> list:
    context, contact, conversation = _context(ev, batch)
    batch.pins.extend((contact, conversation))
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
    if contact is not None and contact.id in batch.waiting:
        goals.exit_reached_goals(contact.id, context, ev.id)
    ev.contact_id = contact.id if contact else None  # set with the rest: one UPDATE
    ev.matched_workflows = entries
    ev.status, ev.processed_at, ev.error = "processed", utcnow(), None
    ev.attempts = (ev.attempts or 0) + 1
    if not specs:
        fallback.prepare(ev, conversation)
    return created


_EVENT_ERRORS = (ValueError, TypeError, KeyError, LookupError)


class _RetryCarefully(Exception):
    """An event failed in a batch without savepoints: do the batch again with them."""


def _process_all(events: list[EventLog], batch: BatchRows, careful: bool) -> list:
    """Process the events in (contact, id) order. ``careful``: each in a savepoint, so a bad
    event is marked ``failed`` and the others go on; otherwise no savepoint (two statements
    per event saved) and the first failure raises :class:`_RetryCarefully`."""
    created: list = []
    prefetched = set(batch.locked)
    for ev in sorted(events, key=lambda e: (e.user_id or "", e.id)):
        if not careful:
            try:
                created += _process_one(ev, batch)
            except _EVENT_ERRORS as exc:
                raise _RetryCarefully() from exc
            continue
        try:
            with db.session.begin_nested():
                created += _process_one(ev, batch)
        except _EVENT_ERRORS as exc:
            ev.status, ev.error, ev.processed_at = (
                "failed",
                f"{type(exc).__name__}: {exc}",
                utcnow(),
            )
            ev.attempts = (ev.attempts or 0) + 1
            batch.locked = set(prefetched)  # the savepoint's rollback released its own locks
            log.warning("event %s failed: %s", ev.id, exc)
    return created


@dataclasses.dataclass
class Claimed:
    """One batch, processed and not committed yet: how many events it claimed, the new
    executions (leased to this thread), the rows to keep referenced while they advance (the
    session holds clean objects only weakly; pinned, effects find them without a query), the
    events whose AI fallback is due once the batch has committed, and its per-contact rate
    counts (given back if its transaction rolls back)."""

    count: int = 0
    created: list = dataclasses.field(default_factory=list)
    pins: list = dataclasses.field(default_factory=list)
    fallback_ids: list = dataclasses.field(default_factory=list)
    rates: limits.ContactRates | None = None


def claim_batch(limit: int | None = None, *, careful: bool = False) -> Claimed:
    """Claim and process up to ``limit`` events in the current transaction, flushed, not
    committed: the caller commits (or rolls back, and the events are ``received`` again).

    A batch is first tried without a savepoint per event; if an event fails, the batch rolls
    back and is done again ``careful``-ly.
    """
    limit = limit or current_app.config["EVENT_BATCH_SIZE"]
    db.session.expire_all()  # contacts are re-read (and locked) fresh for every batch
    events = claim(limit)
    if not events:
        return Claimed()
    discovery.trigger_index(force_check=True)
    batch = BatchRows(events)
    batch.pins.extend(events)  # the runs' effects read their event (cause depth) by id
    try:
        created = _process_all(events, batch, careful)
    except _RetryCarefully:
        db.session.rollback()
        batch.rates.cancel()  # the runs counted are gone: the careful pass counts its own
        return claim_batch(limit, careful=True)
    batch.rates.settle()
    # Not flushed here: the events' outcomes and the new executions are written with the
    # runs' rows (backend.runtime.batch), so a new execution's one INSERT holds its final
    # state (PostgreSQL; a query in between flushes them, in a correct order, earlier).
    fallback_ids = [ev.id for ev in events if (ev.fallback or {}).get("status") == "pending"]
    return Claimed(len(events), created, batch.pins, fallback_ids, batch.rates)


def process_batch(limit: int | None = None, *, careful: bool = False) -> tuple[int, list, list]:
    """Claim, process and commit up to ``limit`` events; return ``(claimed, new executions,
    pins)``: the new runs are leased to this thread but not advanced yet (keep ``pins``
    while they advance). What :func:`drain_batch` falls back on; a tool for tests and benches too.
    """
    claimed = claim_batch(limit, careful=careful)
    db.session.commit()
    fallback.dispatch(claimed.fallback_ids)
    return claimed.count, claimed.created, claimed.pins


def drain_batch(limit: int | None = None) -> int:
    """Claim, process and advance one batch in one transaction; return events claimed.

    If that transaction fails (a database error, a lost lease, a fault of one run), it is
    rolled back whole and the batch is done again in two: :func:`process_batch`, then each
    run on its own."""
    claimed = claim_batch(limit)
    if not claimed.created:
        db.session.commit()
        fallback.dispatch(claimed.fallback_ids)
        return claimed.count
    try:
        written = write_batch(claimed.created)
    except BatchFailed as exc:
        log.warning(
            "batch of %d events rolled back (%s); processing it again, run by run",
            claimed.count,
            exc.__cause__,
        )
        claimed.rates.cancel()  # its runs never existed; the batch is counted again below
        count, created, _pins = process_batch(limit)
        for ex in created:
            advance(ex.id)
        return count
    fallback.dispatch(claimed.fallback_ids)
    publish_batch(written)
    return claimed.count


def drain(max_seconds: float = 5.0, linger: float | None = None) -> int:
    """Process batches until the log has no ``received`` event left (or time is up, then
    request another drain job); run each batch's runs inline. Returns events processed.

    ``linger`` (default ``DRAIN_LINGER_SECONDS``): when the log is empty, wait that long for
    the next event's nudge before ending (:func:`backend.queue.wait_for_nudge`), so a steady
    trickle of events is drained by one job instead of a new RQ job every few events.

    The drain flag (:func:`backend.queue.hold_drain_flag`) is held while this keeps up, so
    nudges wake it rather than queue jobs. After a full batch (a backlog) it makes sure a job
    waits in the queue (:func:`backend.queue.call_for_help`), so every idle worker joins in:
    on PostgreSQL they claim batches side by side (``SKIP LOCKED``). One job lingers at a
    time: another that finds the log empty ends and leaves the flag to it. The last to leave
    drops the flag *before* one last look at the log: an event committed while it was up was
    nudged into a drain (seen by that look), any later one queues a new job."""
    if linger is None:
        linger = float(current_app.config.get("DRAIN_LINGER_SECONDS", 0) or 0)
    limit = current_app.config["EVENT_BATCH_SIZE"]
    deadline, total, last_look = time.monotonic() + max_seconds, 0, False
    hold_drain_flag(True)
    with worker_session():
        while True:
            claimed = drain_batch(limit)
            total += claimed
            if time.monotonic() > deadline:
                # A fresh job goes on: it also covers any event nudged into this one (the
                # flag was up) since its last claim.
                hold_drain_flag(False)
                request_drain()
                return total
            if claimed == limit:  # more may be waiting: claim again, with help
                call_for_help()
                last_look = False
                continue
            if claimed:
                # The log held fewer than a batch: whatever came since was nudged, and the
                # nudge is waiting in the wake list, so no empty claim is spent to find out.
                hold_drain_flag(True)
                last_look = False
            elif last_look:
                return total
            left = min(linger, deadline - time.monotonic())
            outcome = wait_for_nudge(left) if left > 0 else "over"
            if outcome == "nudged":
                continue
            if outcome == "taken":  # the lingering job has the flag and every later nudge
                return total
            hold_drain_flag(False)
            last_look = True
