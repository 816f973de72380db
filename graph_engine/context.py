"""The run context: what conditions, templates and custom code see.

:func:`event_from_payload` turns a process-event payload (what the API accepts and the CLI's
``EVENT.json`` holds) into the ``event`` part; :func:`build_context` assembles the whole context::

    {"event": {...}, "user": {...}, "conversation": {...} or {}, "nodes": {},
     "workflow": {"id", "name", "timezone"}, "execution": {"id", "started_at"}}

>>> event = event_from_payload({"event_type": "MESSAGE_RECEIVED", "data": {"content": "hi"},
...                             "user_id": "c1", "event_id": "ev1",
...                             "timestamp": "2024-01-01T10:00:00+00:00"})
>>> ctx = build_context(event, {"first_name": "Sara"})
>>> ctx["user"]["external_id"], ctx["user"]["first_name"], ctx["event"]["data"]["content"]
('c1', 'Sara', 'hi')
"""

from __future__ import annotations

__all__ = ["event_from_payload", "build_context", "EVENT_TYPE_RE"]

import re
import uuid
from datetime import UTC, datetime

from graph_engine.errors import GraphError

EVENT_TYPE_RE = re.compile(r"^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$")
_USER_DEFAULTS = {
    "external_id": None,
    "first_name": "",
    "last_name": "",
    "email": "",
    "phone": "",
    "channel": "",
}


def event_from_payload(payload: dict, *, now: datetime | None = None) -> dict:
    """Check a process-event payload and return the context's ``event`` dict.

    ``event_type`` (UPPER_SNAKE) is required; ``data`` must be an object if given;
    ``user_id`` / ``conversation_id`` are strings or integers; ``timestamp`` is ISO 8601
    (default: ``now``); ``event_id`` defaults to a fresh UUID. Raises :class:`GraphError`
    naming the offending field.
    """
    if not isinstance(payload, dict):
        raise GraphError("event payload must be a JSON object")
    event_type = payload.get("event_type")
    if not isinstance(event_type, str) or not EVENT_TYPE_RE.match(event_type):
        raise GraphError(f"event_type: expected an UPPER_SNAKE name, got {event_type!r}")
    data = payload.get("data", {})
    if not isinstance(data, dict):
        raise GraphError("data: must be an object")
    for key in ("user_id", "conversation_id", "event_id"):
        value = payload.get(key)
        if value is not None and (not isinstance(value, str | int) or isinstance(value, bool)):
            raise GraphError(f"{key}: must be a string or an integer")
    timestamp = payload.get("timestamp")
    if timestamp is None:
        timestamp = (now or datetime.now(UTC)).isoformat()
    else:
        try:
            datetime.fromisoformat(str(timestamp))
        except ValueError:
            raise GraphError(f"timestamp: not an ISO 8601 datetime: {timestamp!r}") from None
    return {
        "id": str(payload.get("event_id") or uuid.uuid4().hex),
        "type": event_type,
        "data": data,
        "user_id": _str_or_none(payload.get("user_id")),
        "conversation_id": _str_or_none(payload.get("conversation_id")),
        "timestamp": str(timestamp),
    }


def build_context(
    event: dict,
    contact: dict | None = None,
    conversation: dict | None = None,
    workflow: dict | None = None,
    execution: dict | None = None,
) -> dict:
    """Assemble a run context. The contact defaults to an empty one named by the event's
    ``user_id``; the conversation to ``{"external_id": conversation_id}`` when the event
    names one, else ``{}``. Missing ``workflow`` / ``execution`` keys are left for the
    interpreter to fill in."""
    user = {**_USER_DEFAULTS, "tags": [], "fields": {}}
    user["external_id"] = event.get("user_id")
    user.update(contact or {})
    if conversation is None:
        conv_id = event.get("conversation_id")
        conversation = {"external_id": conv_id} if conv_id else {}
    return {
        "event": event,
        "user": user,
        "conversation": conversation,
        "nodes": {},
        "workflow": dict(workflow or {}),
        "execution": dict(execution or {}),
    }


def _str_or_none(value) -> str | None:
    return None if value is None else str(value)
