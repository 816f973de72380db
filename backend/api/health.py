"""``/health/``: is the database reachable, is Redis? (no authentication).

Each check is bounded (the database's connect and answer deadlines, Redis's socket timeouts),
so the endpoint answers within a few seconds whatever is down; ``down`` names the parts.
``workers`` reports each worker's background loops (scheduler, cron): one that has not beaten
for ``LOOP_STALE_SECONDS`` is listed in ``workers.dead`` (:mod:`backend.loops`).
"""

from __future__ import annotations

__all__ = ["bp", "check", "outbound_mode"]

import logging

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from backend import queue
from backend.api.spec import component, operation
from backend.extensions import db
from backend.loops import loop_health
from backend.queue import get_redis

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)

_PART = {
    "type": "object",
    "required": ["ok"],
    "properties": {"ok": {"type": "boolean"}, "error": {"type": "string"}},
}
HEALTH_REF = component(
    "Health",
    {
        "type": "object",
        "required": ["status", "database", "redis", "workers", "down", "outbound_mode"],
        "properties": {
            "status": {"enum": ["ok", "degraded"]},
            "database": _PART,
            "redis": _PART,
            "workers": {
                **_PART,
                "description": "the background loops of each worker: "
                "seconds since each beat; `dead` names the stale ones",
            },
            "down": {"type": "array", "items": {"type": "string"}},
            "outbound_mode": {
                "enum": ["capture", "live"],
                "description": "capture: messages are recorded, not sent (test mode)",
            },
        },
    },
)


def _database() -> dict:
    try:
        db.session.execute(text("SELECT 1"))
        return {"ok": True}
    except Exception as exc:
        db.session.rollback()
        return {"ok": False, "error": type(exc).__name__}


def _redis() -> dict:
    try:
        queue.get_redis().ping()
        return {"ok": True}
    except Exception as exc:
        return {"ok": False, "error": type(exc).__name__}


def _workers() -> dict:
    """Whether every worker's background loops (scheduler, cron) beat recently."""
    try:
        return loop_health(get_redis(), stale=current_app.config["LOOP_STALE_SECONDS"])
    except Exception as exc:  # Redis down: reported by the redis part
        return {"ok": True, "unknown": type(exc).__name__}


def check() -> dict:
    parts = {"database": _database(), "redis": _redis(), "workers": _workers()}
    down = [name for name, part in parts.items() if not part["ok"]]
    status = "degraded" if down else "ok"
    return {"status": status, **parts, "down": down, "outbound_mode": outbound_mode()}


def outbound_mode() -> str:
    """``live`` when channels really send, else ``capture`` (the default test mode)."""
    return "live" if current_app.config.get("OUTBOUND_MODE") == "live" else "capture"


@operation(bp, "/health/", role=None, response=HEALTH_REF)
def health():
    """Reachability of the database and Redis (the API answers 200 either way)."""
    return jsonify(check())
