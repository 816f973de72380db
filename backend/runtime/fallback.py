"""The AI fallback: what happens to a customer message that starts no workflow.

When a ``MESSAGE_RECEIVED`` event matches no trigger and its conversation is open, the
configured ``AI_FALLBACK`` is called: a dotted path to a function (enqueued as an RQ job with
the event log id) or an http(s) URL (the event is POSTed through the SSRF-guarded client by the
``call_fallback_webhook`` job). What happened is recorded in ``EventLog.fallback``:
``{"kind": "job" | "webhook", "target", "status": "pending" | "enqueued" | "sent" | "failed",
...}``.
"""

from __future__ import annotations

__all__ = ["prepare", "dispatch", "call_webhook"]

import logging

import redis
from flask import current_app

from backend.channels.http import safe_request
from backend.extensions import db
from backend.models import EventLog
from backend.queue import get_queue
from backend.runtime.clock import utcnow
from graph_engine import EffectError

log = logging.getLogger(__name__)


def _target() -> tuple[str, str] | None:
    target = (current_app.config.get("AI_FALLBACK") or "").strip()
    if not target:
        return None
    kind = "webhook" if target.startswith(("http://", "https://")) else "job"
    return kind, target


def prepare(ev: EventLog, conversation) -> bool:
    """Mark ``ev`` for the fallback when it qualifies (in the caller's transaction)."""
    target = _target()
    if (
        target is None
        or ev.event_type != "MESSAGE_RECEIVED"
        or conversation is None
        or conversation.status != "open"
    ):
        return False
    ev.fallback = {"kind": target[0], "target": target[1], "status": "pending"}
    return True


def dispatch(event_ids: list[int]) -> None:
    """Enqueue the fallback of each (committed) event; Redis errors leave it ``pending``."""
    for event_id in event_ids:
        ev = db.session.get(EventLog, event_id)
        info = dict(ev.fallback or {})
        try:
            func = info["target"] if info["kind"] == "job" else "backend.jobs.call_fallback_webhook"
            job = get_queue().enqueue(func, event_id, result_ttl=3600)
        except redis.RedisError as exc:
            log.warning("fallback of event %s not dispatched: %s", event_id, exc)
            continue
        info.update(status="enqueued", job_id=job.id, enqueued_at=utcnow().isoformat())
        ev.fallback = info
    if event_ids:
        db.session.commit()


def call_webhook(event_id: int) -> dict:
    """POST the event to the fallback URL; record the outcome on the event log."""

    ev = db.session.get(EventLog, event_id)
    info = dict(ev.fallback or {})
    body = {
        "event_id": ev.idempotency_key,
        "event_type": ev.event_type,
        "payload": ev.payload,
        "user_id": ev.user_id,
        "conversation_id": ev.conversation_id,
    }
    try:
        response = safe_request(
            "POST",
            info["target"],
            body=body,
            timeout=10,
            allow=current_app.config.get("HTTP_ALLOW_PRIVATE", ""),
        )
        info.update(status="sent", http_status=response["status"])
    except EffectError as exc:
        info.update(status="failed", error=str(exc)[:1000])
    info["finished_at"] = utcnow().isoformat()
    ev.fallback = info
    db.session.commit()
    return info
