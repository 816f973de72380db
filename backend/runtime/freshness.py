"""Runs stay true to the contact: what a run reloads when it is taken up again.

(A contact looked up through ``CONTACT_LOOKUP_URL`` is kept as the run looked it up:
:mod:`backend.runtime.adapters`.) A run's context holds the contact (``user.*``) and conversation as they were when it last
stepped. When a run is resumed after a wait, retried after a failure (``retry/``) or taken
over from a dead worker, :func:`refresh` reloads both from the database first, so a retried
run sees the contact as it is *now* (the field an operator fixed, the tag another workflow
added) and a wait's successors see the tags set while it waited. :func:`close_waits` closes
the records of the waits that are over: a wait step recorded ``waiting`` becomes ``succeeded``
with its ``resumed_at`` in the output, so the run's history shows the resume.
"""

from __future__ import annotations

__all__ = ["refresh", "close_waits"]

from datetime import datetime

from sqlalchemy import select

from backend.extensions import db
from backend.models import Contact, Conversation, StepExecution, iso
from backend.services import contacts as contact_service
from graph_engine import RunState


def _reload_contact(state: RunState, contact_id: int | None) -> None:
    ctx = state.context
    if contact_id and (ctx.get("user") or {}).get("source") != "lookup":
        contact = db.session.get(Contact, contact_id, populate_existing=True)
        if contact is not None:
            ctx["user"] = contact_service.contact_to_context(contact)
    conversation_id = (ctx.get("conversation") or {}).get("id")
    if conversation_id:
        row = db.session.get(Conversation, conversation_id, populate_existing=True)
        if row is not None:
            ctx["conversation"] = contact_service.conversation_to_context(row)


def close_waits(run, now: datetime) -> None:
    """Close the records of the waits whose time has come at ``now`` (``run``: the runner's
    ``Run``, not imported: the runtime imports downwards): a wait step recorded
    ``waiting`` becomes ``succeeded`` with its ``resumed_at``. Called before each step of a
    resumed run, with the time that step decides by (:func:`backend.runtime.runner.step_run`),
    so a wait's successor never runs while its record still says ``waiting``. Each wait is
    closed once (``run.closed_waits``): the steps after it cost no query."""
    state, closed = run.state, run.closed_waits
    due = {
        (source, item["not_before"])
        for item in state.frontier
        if item.get("not_before") and datetime.fromisoformat(item["not_before"]) <= now
        for source in item.get("from") or ()
    } - closed
    if not due:
        return
    rows = db.session.scalars(
        select(StepExecution).where(
            StepExecution.execution_id == run.id,
            StepExecution.status == "waiting",
            StepExecution.node_id.in_({source for source, _ in due}),
        )
    )
    for row in rows:
        row.status, row.finished_at = "succeeded", now
        row.output = {**(row.output or {}), "resumed_at": iso(now)}
    # Committed now (this worker holds the run's lease): a step's transaction must hold no
    # write when a live channel commits its outbox row on another connection (SQLite has
    # one writer at a time).
    db.session.commit()
    closed |= due


def refresh(contact_id: int | None, state: RunState) -> None:
    """Reload the run's contact and conversation into ``state``."""
    _reload_contact(state, contact_id)
