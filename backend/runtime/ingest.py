"""Event ingestion: validate, commit to the event log, then dispatch.

The event row is committed (status ``received``, unique idempotency key) *before* anything is
enqueued, so an accepted event is never lost: if Redis is down the API still answers 202 and
the sweeper dispatches the event later. The same ``event_id`` posted twice (even concurrently)
yields one row; the second call returns it with ``created=False``.
"""

from __future__ import annotations

__all__ = [
    "IngestError",
    "InvalidEvent",
    "UnknownEventType",
    "PayloadTooLarge",
    "accept_event",
    "known_event_types",
]

import json
import time
import uuid

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from backend.errors import ServiceError
from backend.extensions import db
from backend.models import EventLog, EventType
from backend.queue import request_drain
from backend.services.redaction import redact
from graph_engine import GraphError, event_from_payload


class IngestError(ServiceError):
    """An event was refused (``status`` 400 unless a subclass says otherwise)."""

    status = 400
    code = "invalid_event"

    def __init__(self, message: str, field: str | None = None):
        super().__init__(None, message, field=field)


class InvalidEvent(IngestError):
    """The payload is not a valid event (missing / badly typed fields)."""


class UnknownEventType(IngestError):
    """The event type is not registered (``/event-types/``)."""

    code = "unknown_event_type"


class PayloadTooLarge(IngestError):
    """The serialised event exceeds ``MAX_EVENT_BYTES``."""

    status = 413
    code = "payload_too_large"


_TYPES_TTL = 5.0
_types_cache: dict[str, tuple[float, frozenset]] = {}


def known_event_types(*, refresh: bool = False) -> frozenset:
    """Names of the registered event types (cached per process for a few seconds)."""
    key = str(db.engine.url)
    cached = _types_cache.get(key)
    if cached and not refresh and time.monotonic() - cached[0] < _TYPES_TTL:
        return cached[1]
    names = frozenset(db.session.scalars(select(EventType.name)))
    _types_cache[key] = (time.monotonic(), names)
    return names


def _validate(payload: dict) -> dict:
    size = len(json.dumps(payload, default=str).encode())
    limit = current_app.config["MAX_EVENT_BYTES"]
    if size > limit:
        raise PayloadTooLarge(f"event is {size} bytes; the limit is {limit}")
    try:
        event = event_from_payload(payload)
    except GraphError as exc:
        field = str(exc).split(":", 1)[0] if ":" in str(exc) else None
        raise InvalidEvent(str(exc), field=field) from None
    for key in ("user_id", "conversation_id", "event_id"):
        if len(str(payload.get(key) or "")) > 191:
            raise InvalidEvent(f"{key}: longer than 191 characters", field=key)
    event_type = event["type"]
    if event_type not in known_event_types() and event_type not in known_event_types(refresh=True):
        raise UnknownEventType(f"unknown event type {event_type!r}", field="event_type")
    return event


def accept_event(
    payload: dict,
    *,
    source: str = "api",
    workflow_id: int | None = None,
    trigger_node_id: str | None = None,
    dispatch: bool = True,
) -> tuple[EventLog, bool]:
    """Validate and commit an event, then dispatch it; return ``(event_log, created)``.

    ``workflow_id`` / ``trigger_node_id`` address one trigger (webhook, schedule, manual):
    they are added to ``data`` where the trigger's scope filter looks for them.
    Raises :class:`IngestError` subclasses for bad input (nothing is stored then).
    """
    if not isinstance(payload, dict):
        raise InvalidEvent("event payload must be a JSON object")
    payload = dict(payload)
    if workflow_id is not None:
        data = dict(payload.get("data") or {})
        data.update(workflow_id=workflow_id, node_id=trigger_node_id)
        payload["data"] = data
    event = _validate(payload)
    key = str(payload.get("event_id") or uuid.uuid4().hex)[:191]
    stored = redact({k: v for k, v in payload.items() if k != "event_id"})
    stored["timestamp"] = event["timestamp"]
    row = EventLog(
        event_type=event["type"],
        idempotency_key=key,
        source=source,
        payload=stored,
        user_id=(event["user_id"] or None),
        conversation_id=event["conversation_id"],
        status="received",
        matched_workflows=[],
    )
    db.session.add(row)
    session = db.session()
    # The caller answers with the row's fields: keep them loaded (no SELECT after the commit).
    expire, session.expire_on_commit = session.expire_on_commit, False
    try:
        session.commit()
    except IntegrityError:
        db.session.rollback()
        existing = db.session.scalar(select(EventLog).filter_by(idempotency_key=key))
        if existing is None:  # pragma: no cover - the conflicting row vanished (retention)
            raise
        return existing, False
    finally:
        session.expire_on_commit = expire
    if dispatch:
        request_drain()
    return row, True
