"""A contact's timeline: inbound events, runs, outbound messages, notes and tag changes, as one
list, newest first (Mautic's contact timeline is the model).

One ``UNION ALL`` of ``(kind, id, at)`` over the five tables picks the page in SQL; only that
page's rows are then loaded, one query per kind, and given links to their run, workflow and
event so "what did we send this customer, and why?" is one click from each item.
"""

from __future__ import annotations

__all__ = ["KINDS", "timeline_page"]

from datetime import UTC, datetime

from sqlalchemy import String, case, func, literal, or_, select, union_all

from backend.extensions import db
from backend.models import (
    Contact,
    EventLog,
    Note,
    OutboundMessage,
    TagChange,
    Workflow,
    WorkflowExecution,
    iso,
)

KINDS = ("event", "run", "message", "note", "tag_added", "tag_removed")


def _row(kind, model):
    """``(kind, id, at)`` of ``model``'s rows, labelled alike for the UNION."""
    if isinstance(kind, str):
        kind = literal(kind, String)
    at = model.received_at if model is EventLog else model.created_at
    return select(kind.label("kind"), model.id.label("id"), at.label("at"))


def _selects(contact: Contact, kinds: set[str]) -> list:
    parts = []
    if "event" in kinds:
        # Internal events (TAG_ADDED...) are the tag changes listed as tag_added / tag_removed.
        parts.append(
            _row("event", EventLog).where(
                or_(EventLog.contact_id == contact.id, EventLog.user_id == contact.external_id),
                EventLog.source != "internal",
            )
        )
    if "run" in kinds:
        parts.append(
            _row("run", WorkflowExecution).where(WorkflowExecution.contact_id == contact.id)
        )
    if "message" in kinds:
        parts.append(
            _row("message", OutboundMessage).where(OutboundMessage.contact_id == contact.id)
        )
    if "note" in kinds:
        parts.append(_row("note", Note).where(Note.contact_id == contact.id))
    actions = [a for a in ("added", "removed") if f"tag_{a}" in kinds]
    if actions:
        tag_kind = case((TagChange.action == "added", "tag_added"), else_="tag_removed")
        parts.append(
            _row(tag_kind, TagChange).where(
                TagChange.contact_id == contact.id, TagChange.action.in_(actions)
            )
        )
    return parts


def _event(row: EventLog) -> dict:
    payload = row.payload if isinstance(row.payload, dict) else {}
    return {
        "id": row.id,
        "event_type": row.event_type,
        "status": row.status,
        "source": row.source,
        "data": payload.get("data", {}),
        "conversation_id": row.conversation_id,
        "matched_workflows": row.matched_workflows,
        "links": {"event_id": row.id},
    }


def _run(row: WorkflowExecution, names: dict) -> dict:
    return {
        "id": row.id,
        "workflow_id": row.workflow_id,
        "workflow_name": names.get(row.workflow_id),
        "status": row.status,
        "trigger_node_id": row.trigger_node_id,
        "error": row.error,
        "duration_ms": row.duration_ms,
        "finished_at": iso(row.finished_at),
        "links": {"execution_id": row.id, "workflow_id": row.workflow_id, "event_id": row.event_id},
    }


def _message(row: OutboundMessage) -> dict:
    return {
        "id": row.id,
        "message_kind": row.kind,
        "channel": row.channel,
        "to": row.to,
        "subject": row.subject,
        "text": row.text,
        "status": row.status,
        "node_id": row.node_id,
        "links": {"execution_id": row.execution_id},
    }


def _note(row: Note) -> dict:
    return {
        "id": row.id,
        "text": row.text,
        "conversation_id": row.conversation_id,
        "links": {"execution_id": row.execution_id},
    }


def _tag(row: TagChange) -> dict:
    return {
        "id": row.id,
        "tag": row.tag,
        "source": row.source,
        "user_id": row.user_id,
        "links": {"execution_id": row.execution_id},
    }


_MODELS = {
    "event": (EventLog, _event),
    "run": (WorkflowExecution, _run),
    "message": (OutboundMessage, _message),
    "note": (Note, _note),
    "tag_added": (TagChange, _tag),
    "tag_removed": (TagChange, _tag),
}


def _details(page: list[tuple[str, int]]) -> dict[tuple[str, int], dict]:
    """Load the page's rows (one query per kind) and serialise them with their links."""
    rows: dict[tuple[str, int], object] = {}
    for kind in {k for k, _ in page}:
        model = _MODELS[kind][0]
        ids = [i for k, i in page if k == kind]
        for row in db.session.scalars(select(model).where(model.id.in_(ids))):
            rows[kind, row.id] = row
    runs = {r.id: r for (k, _), r in rows.items() if k == "run"}
    run_ids = {getattr(r, "execution_id", None) for (k, _), r in rows.items() if k != "run"}
    run_ids.discard(None)
    wf_of = dict(
        db.session.execute(
            select(WorkflowExecution.id, WorkflowExecution.workflow_id).where(
                WorkflowExecution.id.in_(run_ids)
            )
        ).all()
    )
    wf_ids = {r.workflow_id for r in runs.values()}
    names = dict(
        db.session.execute(select(Workflow.id, Workflow.name).where(Workflow.id.in_(wf_ids))).all()
    )
    out = {}
    for (kind, ident), row in rows.items():
        item = _run(row, names) if kind == "run" else _MODELS[kind][1](row)
        links = item["links"]
        if links.get("execution_id") and "workflow_id" not in links:
            links["workflow_id"] = wf_of.get(links["execution_id"])
        out[kind, ident] = item
    return out


def timeline_page(contact: Contact, page: int, size: int, kinds: set[str] | None = None):
    """``(count, items)``: one page of the contact's timeline, newest first."""
    parts = _selects(contact, kinds or set(KINDS))
    if not parts:
        return 0, []
    union = union_all(*parts).subquery()
    count = db.session.scalar(select(func.count()).select_from(union))
    stmt = (
        select(union.c.kind, union.c.id, union.c.at)
        .order_by(union.c.at.desc(), union.c.kind, union.c.id.desc())
        .limit(size)
        .offset((page - 1) * size)
    )
    rows = db.session.execute(stmt).all()
    details = _details([(kind, ident) for kind, ident, _ in rows])
    items = []
    for kind, ident, at in rows:
        detail = details.get((kind, ident))
        if detail is not None:
            items.append({"kind": kind, "at": iso(_aware(at)), **detail})
    return count, items


def _aware(value):
    """SQLite hands back naive datetimes from a UNION (no column type to convert them)."""

    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value is not None and value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value
