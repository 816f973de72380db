"""Frequency caps: at most N messages of a kind per contact per rolling day, across workflows.

``FREQUENCY_CAPS`` (JSON, e.g. ``{"message": 3, "email": 2}``; kinds as in the outbound
records; empty = off) caps what every workflow together may send one contact in 24 hours.
Workflow priorities (``settings.priority``, default 0) decide who gets the last slot: while the
contact waits in a workflow of higher priority, a lower-priority send leaves that slot to it.
A capped send is not sent; it is recorded as an outbound row with status ``capped`` and the
reason (the step succeeds with ``{"capped": true, "reason": ...}``).
"""

from __future__ import annotations

__all__ = ["cap_reason", "record_capped", "caps"]

import functools
import json
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select

from backend.extensions import db
from backend.models import OutboundMessage, WorkflowExecution, WorkflowVersion
from backend.runtime.clock import utcnow

Run = WorkflowExecution


def caps() -> dict[str, int]:
    """The configured caps by kind (``{}`` when off or unreadable). Asked twice per send:
    the setting's text is parsed once, not each time (off, it was a ``ValueError`` each
    time). The answer is shared: read it, do not change it."""
    raw = current_app.config.get("FREQUENCY_CAPS") or ""
    return _parsed(raw) if isinstance(raw, str) else _parse(raw)


@functools.lru_cache(maxsize=64)  # a setting's few texts (tests change it often)
def _parsed(raw: str) -> dict[str, int]:
    return _parse(raw)


def _parse(raw) -> dict[str, int]:
    try:
        value = json.loads(raw) if isinstance(raw, str) else dict(raw)
    except ValueError:
        return {}
    return {str(k): int(v) for k, v in value.items() if isinstance(v, int) and v >= 0}


def _priority(run_id: int | None) -> tuple[int | None, int]:
    """``(workflow id, priority)`` of a run (from the graph version it runs on)."""
    row = db.session.execute(
        select(Run.workflow_id, WorkflowVersion.graph)
        .join(
            WorkflowVersion,
            (WorkflowVersion.workflow_id == Run.workflow_id)
            & (WorkflowVersion.version == Run.workflow_version),
            isouter=True,
        )
        .where(Run.id == run_id)
    ).first()
    if row is None:
        return None, 0
    return row[0], int(((row[1] or {}).get("settings") or {}).get("priority") or 0)


def _higher_waiting(contact_id: int, workflow_id, priority: int) -> int | None:
    """A workflow of higher priority the contact is waiting in, if any."""
    rows = db.session.execute(
        select(Run.workflow_id, WorkflowVersion.graph)
        .join(
            WorkflowVersion,
            (WorkflowVersion.workflow_id == Run.workflow_id)
            & (WorkflowVersion.version == Run.workflow_version),
        )
        .where(
            Run.contact_id == contact_id, Run.status == "waiting", Run.workflow_id != workflow_id
        )
    )
    for other, graph in rows:
        if int(((graph or {}).get("settings") or {}).get("priority") or 0) > priority:
            return other
    return None


def cap_reason(kind: str, contact_id: int | None, execution_id: int | None) -> str | None:
    """Why this send must not go out now, or None."""
    cap = caps().get(kind)
    if cap is None or contact_id is None:
        return None
    sent = (
        db.session.scalar(
            select(func.count()).where(
                OutboundMessage.contact_id == contact_id,
                OutboundMessage.kind == kind,
                OutboundMessage.status != "capped",
                OutboundMessage.created_at >= utcnow() - timedelta(days=1),
            )
        )
        or 0
    )
    if sent >= cap:
        return f"frequency cap: {sent} of {cap} {kind} sends in the last 24 hours"
    if sent == cap - 1:
        workflow_id, priority = _priority(execution_id)
        other = _higher_waiting(contact_id, workflow_id, priority)
        if other is not None:
            return f"frequency cap: the last {kind} send of the day is kept for workflow {other}"
    return None


def record_capped(message, reason: str) -> dict:
    """Store the capped send (once per step) and return the step's answer."""
    existing = db.session.scalar(
        select(OutboundMessage.id).filter_by(idempotency_key=message.idempotency_key)
    )
    if existing is None:
        row = OutboundMessage(
            contact_id=message.contact_id,
            conversation_id=message.conversation_id,
            execution_id=message.execution_id,
            node_id=message.node_id,
            kind=message.kind,
            channel=message.channel[:20],
            to=(message.to or "")[:500] or None,
            subject=(message.subject or "")[:500] or None,
            text=message.text or "",
            status="capped",
            error=reason,
            idempotency_key=message.idempotency_key,
        )
        db.session.add(row)
        db.session.flush()
        existing = row.id
    return {"capped": True, "reason": reason, "id": existing}
