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
    "accept_events",
    "accept_single",
    "known_event_types",
]

import contextlib
import json
import time
import uuid

from flask import current_app
from sqlalchemy import bindparam, select
from sqlalchemy.orm import make_transient_to_detached

from backend.dbconn import mark_idle, may_be_stale
from backend.errors import ServiceError
from backend.extensions import db
from backend.models import EventLog, EventType, insert_for
from backend.queue import request_drain
from backend.runtime.event_group import Outcome, commit_together
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
_types_cache: dict[int, tuple[float, frozenset]] = {}


def known_event_types(*, refresh: bool = False) -> frozenset:
    """Names of the registered event types (cached per process for a few seconds)."""
    key = id(db.engine)  # per engine (rendering its URL per call would cost more than the rest)
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


def _row(
    payload,
    source: str,
    workflow_id: int | None = None,
    trigger_node_id: str | None = None,
) -> dict:
    """The ``event_logs`` row for ``payload`` (validated); raises :class:`IngestError`."""
    if not isinstance(payload, dict):
        raise InvalidEvent("event payload must be a JSON object")
    payload = dict(payload)
    if workflow_id is not None:
        data = dict(payload.get("data") or {})
        data.update(workflow_id=workflow_id, node_id=trigger_node_id)
        payload["data"] = data
    event = _validate(payload)
    stored = redact({k: v for k, v in payload.items() if k != "event_id"})
    stored["timestamp"] = event["timestamp"]
    return {
        "event_type": event["type"],
        "idempotency_key": str(payload.get("event_id") or uuid.uuid4().hex)[:191],
        "source": source,
        "payload": stored,
        "user_id": event["user_id"] or None,
        "conversation_id": event["conversation_id"],
        "status": "received",
        "matched_workflows": [],
    }


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
    values = _row(payload, source, workflow_id, trigger_node_id)
    row = _insert_one(values)
    db.session.commit()
    if row is None:
        key = values["idempotency_key"]
        existing = db.session.scalar(select(EventLog).filter_by(idempotency_key=key))
        if existing is None:  # pragma: no cover - the conflicting row vanished (retention)
            raise IngestError(f"event {key!r} conflicts with a row that is gone", "event_id")
        return existing, False
    if dispatch:
        request_drain()
    return row, True


def accept_single(
    payload: dict,
    *,
    source: str = "api",
    workflow_id: int | None = None,
    trigger_node_id: str | None = None,
) -> dict:
    """Validate and commit one event on its own, then dispatch it; the API's accepted body.

    ``{"event_id", "status", "duplicate", "idempotency_key"}``, as one result of
    :func:`accept_events`; raises :class:`IngestError` for bad input (nothing is stored then).
    ``workflow_id`` / ``trigger_node_id`` address one trigger, as for :func:`accept_event`.

    Why not :func:`accept_event` (whose callers may add to the event's transaction): the row
    is committed with those of the requests posting at the same moment in this process
    (:mod:`backend.runtime.event_group`: one multi-row INSERT in autocommit, so one round trip
    stores *and commits* them; ``synchronous_commit`` stays on, so each is durable when its
    answer leaves), and no ORM object is built for a body of four fields.
    """
    values = _row(payload, source, workflow_id, trigger_node_id)
    outcome = commit_together(values, _commit_rows)
    return {
        "event_id": outcome.event_id,
        "status": outcome.status,
        "duplicate": not outcome.created,
        "idempotency_key": values["idempotency_key"],
    }


def _commit_rows(rows: list[dict]) -> list[Outcome | IngestError]:
    """Store and commit ``rows`` (one statement; a key taken before, or by an earlier row of
    the list, stores nothing), then dispatch them; one :class:`Outcome` per row, in order."""
    fresh: dict[str, dict] = {}
    for values in rows:
        fresh.setdefault(values["idempotency_key"], values)
    pg = db.engine.dialect.name == "postgresql"
    with _held_connection() if pg else _autocommit() as conn:
        created = _insert_new(list(fresh.values()), conn)
        stored = created | _existing(set(fresh) - set(created), conn)
    if created:
        request_drain()
    return [_outcome(values, stored, created, fresh) for values in rows]


@contextlib.contextmanager
def _autocommit():
    """A pooled connection in autocommit, for one group."""
    with db.engine.connect() as conn:
        yield conn.execution_options(isolation_level="AUTOCOMMIT")


_HELD = "flowmarket_ingest_connection"


@contextlib.contextmanager
def _held_connection():
    """The group commit's own connection (PostgreSQL, autocommit), kept out of the pool between
    groups: only the leader of this app's group uses it, one group at a time.

    Why: a pool checkout and return per group (the Connection object, the isolation level set
    and reset, the pool's events) was about a twentieth of the web CPU of a posted event. It is
    checked as the pool checks its connections: one that may have died while idle (its socket
    readable, or idle for long) is closed and a fresh one taken; one that failed is dropped."""
    held = current_app.extensions
    conn = held.get(_HELD)
    if conn is not None and (
        conn.closed or conn.invalidated or may_be_stale(conn.connection.driver_connection)
    ):
        _drop(conn)
        conn = None
    if conn is None:
        conn = db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    held[_HELD] = None  # while in use: a failure leaves nothing behind
    try:
        yield conn
    except BaseException:
        _drop(conn)
        raise
    mark_idle(conn.connection.driver_connection)
    held[_HELD] = conn


def _drop(conn) -> None:
    with contextlib.suppress(Exception):
        conn.invalidate()
        conn.close()


def _outcome(values: dict, stored: dict, created: dict, fresh: dict) -> Outcome | IngestError:
    key = values["idempotency_key"]
    if key not in stored:  # pragma: no cover - the conflicting row vanished (retention)
        return IngestError(f"event {key!r} conflicts with a row that is gone", "event_id")
    return Outcome(*stored[key], created=key in created and fresh[key] is values)


_inserts: dict[tuple, object] = {}


def _insert_returning(*columns: str):
    """INSERT events unless their key is taken, RETURNING ``columns``: one statement object
    per dialect and shape, so SQLAlchemy compiles it and builds its cache key once (executed
    with one row, or with a list of rows as one multi-row INSERT)."""
    key = (db.engine.dialect.name, columns)
    stmt = _inserts.get(key)
    if stmt is None:
        table = EventLog.__table__
        stmt = _inserts[key] = (
            insert_for(db.engine, table)
            .on_conflict_do_nothing(index_elements=["idempotency_key"])
            .returning(*(table.c[name] for name in columns))
        )
    return stmt


def _insert_one(values: dict) -> EventLog | None:
    """INSERT one event unless its key is taken; the stored row (detached), else ``None``.

    Why a Core statement rather than ``session.add``: one round trip with RETURNING and none
    of the unit of work's bookkeeping, which cost more CPU than the rest of the request.
    """
    every_column = EventLog.__table__.c.keys()
    stored = db.session.execute(_insert_returning(*every_column), values).first()
    if stored is None:
        return None
    row = EventLog(**stored._mapping)
    make_transient_to_detached(row)  # a stored row, not a new one to add
    return row


def accept_events(payloads: list, *, source: str = "api") -> list[dict]:
    """Validate every payload and commit the valid ones together, then dispatch once.

    Why: one transaction, one multi-row INSERT and one Redis nudge for the whole request,
    instead of one each per event. Returns one result per payload, in order: ``{"event_id",
    "status", "duplicate", "idempotency_key"}``, or ``{"error": {...}}`` for a refused one
    (the others are still accepted). A repeated key (in this request or before) is a
    duplicate of the stored event, which is not processed twice.
    """
    results: list[dict] = [{} for _ in payloads]
    keys: dict[int, str] = {}  # index of a valid payload -> its idempotency key
    first: dict[str, int] = {}  # idempotency key -> index of its first valid payload
    rows = []
    for index, payload in enumerate(payloads):
        try:
            values = _row(payload, source)
        except IngestError as exc:
            results[index] = {"error": _error_body(exc)}
            continue
        key = keys[index] = values["idempotency_key"]
        if key not in first:
            first[key] = index
            rows.append(values)
    created = _insert_new(rows)
    stored = created | _existing(set(first) - set(created))
    db.session.commit()
    if created:
        request_drain()
    for index, key in keys.items():
        event_id, status = stored[key]
        results[index] = {
            "event_id": event_id,
            "status": status,
            "duplicate": key not in created or first[key] != index,
            "idempotency_key": key,
        }
    return results


def _insert_new(rows: list[dict], executor=None) -> dict[str, tuple[int, str]]:
    """INSERT the rows whose key is new, through ``executor`` (a connection; by default the
    session); ``key -> (id, status)`` of those.

    Why executemany rather than ``insert().values(rows)``: a statement built from the rows
    is compiled afresh for every request (1,000 bound parameters for 100 events: 80% of the
    request's CPU); one cached statement executed with the list of rows is expanded by
    SQLAlchemy's "insertmanyvalues" into the same multi-row INSERT ... RETURNING, batched,
    without compiling it again. One row goes as a plain INSERT: as a list of one it would
    take the executemany path, which costs more.
    """
    if not rows:
        return {}
    statement = _insert_returning("idempotency_key", "id", "status")
    params = rows[0] if len(rows) == 1 else rows
    stored = (executor or db.session).execute(statement, params)
    return {key: (id_, status) for key, id_, status in stored}


_BY_KEYS = select(EventLog.idempotency_key, EventLog.id, EventLog.status).where(
    EventLog.idempotency_key.in_(bindparam("keys", expanding=True))
)


def _existing(keys: set[str], executor=None) -> dict[str, tuple[int, str]]:
    """The stored events with these keys: ``key -> (id, status)``."""
    if not keys:
        return {}
    rows = (executor or db.session).execute(_BY_KEYS, {"keys": list(keys)})
    return {key: (id_, status) for key, id_, status in rows}


def _error_body(exc: IngestError) -> dict:
    """The API's error body for one refused event, with its HTTP status."""
    return {"status": exc.status, **exc.body()}
