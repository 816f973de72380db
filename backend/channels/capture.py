"""The ``capture`` channel: record the outbound message on the conversation, send nothing.

It is the default until real channels are configured, and stays as the product's test mode.
Rows are written in the caller's transaction (the run's step checkpoint), and the unique
``idempotency_key`` (execution id + node id) makes a retried step find its earlier row instead
of recording the message twice.
"""

from __future__ import annotations

__all__ = ["CaptureChannel", "CAPTURE"]

from sqlalchemy import select

from backend.channels.base import CAPTURE_NAME, OutboundRequest, register
from backend.extensions import db
from backend.models import OutboundMessage, insert_for
from backend.services.redaction import redact


class CaptureChannel:
    name = CAPTURE_NAME

    def row(self, message: OutboundRequest) -> dict:
        """The ``outbound_messages`` row that records ``message``."""
        text = redact(message.text or "")  # credential references stay references
        if message.kind == "webhook":
            text = redact(f"{message.method} {message.to}")
        return dict(
            contact_id=message.contact_id,
            conversation_id=message.conversation_id,
            execution_id=message.execution_id,
            node_id=message.node_id,
            kind=message.kind,
            channel="capture",
            to=redact(message.to or "")[:500] or None,
            subject=(message.subject or "")[:500] or None,
            text=text or "",
            status="captured",
            response=redact(
                {
                    "requested_channel": message.channel,
                    "headers": message.headers,
                    "body": message.body,
                }
            )
            if message.url
            else {"requested_channel": message.channel},
            idempotency_key=message.idempotency_key,
        )

    def send(self, message: OutboundRequest) -> dict:
        """Record ``message``; return ``{"captured": True, "id": ...}`` (``duplicate`` on replay)."""
        values = self.row(message)
        # One statement: insert unless this step already recorded it (a retried step).
        row_id = db.session.scalar(
            insert_for(db.session.get_bind(), OutboundMessage)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["idempotency_key"])
            .returning(OutboundMessage.id)
        )
        if row_id is None:
            existing = db.session.scalar(
                select(OutboundMessage.id).filter_by(idempotency_key=message.idempotency_key)
            )
            return {"captured": True, "id": existing, "duplicate": True}
        return _result(message, values, row_id)

    def stage(self, message: OutboundRequest, keep) -> dict:
        """Batch mode (:mod:`backend.runtime.batch`): hand the row to ``keep(table, values)``,
        which returns the id it will have, instead of writing it now. The batch writes it with
        its other rows, in its one transaction: a fresh run has recorded nothing before, and
        a key that is taken after all fails the batch, whose runs then go step by step."""
        values = self.row(message)
        return _result(message, values, keep(OutboundMessage.__table__, values))


def _result(message: OutboundRequest, values: dict, row_id: int) -> dict:
    result = {"captured": True, "id": row_id, "channel": "capture", "text": values["text"]}
    if message.url:  # an HTTP request "answers" like a server would
        result.update(status=200, headers={}, body="")
    return result


CAPTURE = register(CaptureChannel())
