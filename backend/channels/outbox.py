"""The outbox of live channels: one ``OutboundMessage`` row per step, written around the send.

Why its own transactions: the step's checkpoint commits *after* the node ran. If the row were
written in the step's transaction, a worker killed between the provider's "ok" and that commit
would roll the row back, and the retried step would send the message a second time. So
:func:`deliver` does, each in a short transaction of its own (a separate connection):

1. **reserve** the row by idempotency key (execution id + node id + visit) with status
   ``queued``; a row already ``sent`` means this step delivered before: its recorded answer is
   returned and nothing is sent (``duplicate``). A recorded permanent failure (``blocked``,
   ``bounced``) is raised again without contacting the provider;
2. **send** through the channel's function;
3. **finish** the row: ``sent`` with the provider's message id and answer, or ``failed`` /
   ``blocked`` / ``bounced`` with the error.

The only window left for a duplicate is between the provider accepting the message and the
commit of step 3 (one single-row UPDATE; measured in ``docs/channels.md``): a worker killed
exactly there leaves the row ``queued``, and the retry sends again (at least once, as promised).
A worker killed anywhere after step 3 -- notably before the step's checkpoint -- is replayed
without a second send.
"""

from __future__ import annotations

__all__ = ["DeliveryFailed", "Delivery", "deliver", "reserve", "finish", "mark_contact"]

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from backend.extensions import db
from backend.models import Contact, OutboundMessage, iso, utcnow
from backend.services.redaction import redact
from graph_engine import EffectError

_T = OutboundMessage.__table__
PERMANENT = ("blocked", "bounced")


class DeliveryFailed(EffectError):
    """The provider refused the message; ``status`` is what the row records
    (``failed`` -- maybe retried --, ``blocked`` or ``bounced`` -- never retried)."""

    def __init__(
        self,
        message: str,
        *,
        status: str = "failed",
        retryable: bool = True,
        retry_after: float | None = None,
        response: dict | None = None,
    ):
        super().__init__(
            message, retryable=retryable and status not in PERMANENT, retry_after=retry_after
        )
        self.status = status
        self.response = response


@dataclass
class Delivery:
    """The outbox row of one step's message."""

    id: int
    status: str
    response: dict | None = None
    provider_message_id: str | None = None
    error: str | None = None


def _load(conn, key: str) -> Delivery | None:
    cols = (_T.c.id, _T.c.status, _T.c.response, _T.c.provider_message_id, _T.c.error)
    row = conn.execute(select(*cols).where(_T.c.idempotency_key == key)).first()
    return Delivery(*row) if row else None


def reserve(message, channel: str, to: str, text: str, subject: str | None = None) -> Delivery:
    """The row of ``message`` (by its idempotency key), created ``queued`` if new."""
    key = message.idempotency_key
    with db.engine.begin() as conn:
        found = _load(conn, key)
        if found is not None:
            return found
        values = dict(
            contact_id=message.contact_id,
            conversation_id=message.conversation_id,
            execution_id=message.execution_id,
            node_id=message.node_id,
            kind=message.kind,
            channel=channel,
            to=(to or "")[:500] or None,
            subject=(subject or "")[:500] or None,
            text=text or "",
            status="queued",
            idempotency_key=key,
            created_at=utcnow(),
        )
        try:
            with conn.begin_nested():
                new_id = conn.execute(insert(_T).values(**values).returning(_T.c.id)).scalar()
        except IntegrityError:  # another worker reserved it a moment ago
            return _load(conn, key)
    return Delivery(new_id, "queued")


def finish(row_id: int, status: str, *, provider_message_id=None, response=None, error=None):
    """Record the outcome of a send on its row (committed at once)."""
    values = {
        "status": status,
        "response": redact(response) if response is not None else None,
        "provider_message_id": None
        if provider_message_id is None
        else str(provider_message_id)[:191],
        "error": None if error is None else str(error)[:2000],
    }
    with db.engine.begin() as conn:
        conn.execute(update(_T).where(_T.c.id == row_id).values(**values))


def deliver(
    message,
    channel: str,
    to: str,
    send: Callable[[], dict],
    *,
    text: str,
    subject: str | None = None,
) -> dict:
    """Reserve, send once, record; return the receipt the step stores as its output.

    ``send()`` returns ``{"provider_message_id", "response"}`` or raises
    :class:`DeliveryFailed` (any other :class:`EffectError` is recorded as ``failed``)."""
    row = reserve(message, channel, to, text, subject)
    if row.status == "sent":
        return _receipt(channel, row.id, row.provider_message_id, row.response, duplicate=True)
    if row.status in PERMANENT:
        raise DeliveryFailed(row.error or row.status, status=row.status)
    try:
        result = send()
    except DeliveryFailed as exc:
        finish(row.id, exc.status, response=exc.response, error=str(exc))
        raise
    except EffectError as exc:
        finish(row.id, "failed", error=str(exc))
        raise
    finish(
        row.id,
        "sent",
        provider_message_id=result.get("provider_message_id"),
        response=result.get("response"),
    )
    return _receipt(channel, row.id, result.get("provider_message_id"), result.get("response"))


def _receipt(channel, row_id, provider_id, response, duplicate: bool = False) -> dict:
    provider_id = None if provider_id is None else str(provider_id)
    out = {
        "channel": channel,
        "message_id": row_id,
        "provider_message_id": provider_id,
        "status": "sent",
        "response": redact(response),
    }
    if duplicate:
        out["duplicate"] = True
    return out


def mark_contact(contact_id: int | None, channel: str, status: str, error: str) -> None:
    """Record a permanent delivery problem on the contact (in the step's transaction, so the
    contact and the failed step record are committed together)."""
    contact = db.session.get(Contact, contact_id) if contact_id else None
    if contact is None:
        return
    entry = {"status": status, "error": error[:500], "at": iso(utcnow())}
    contact.delivery_status = {**(contact.delivery_status or {}), channel: entry}
