"""``/health/``: is the database reachable, is Redis? (no authentication)."""

from __future__ import annotations

__all__ = ["bp", "check", "outbound_mode"]

import logging

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from backend import queue
from backend.api.spec import component, operation
from backend.extensions import db

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)

_PART = {
    "type": "object",
    "required": ["ok"],
    "properties": {"ok": {"type": "boolean"}, "error": {"type": "string"}},
}
HEALTH_REF = component("Health", {
    "type": "object", "required": ["status", "database", "redis", "outbound_mode"],
    "properties": {"status": {"enum": ["ok", "degraded"]}, "database": _PART, "redis": _PART,
                   "outbound_mode": {"enum": ["capture", "live"], "description":
                                     "capture: messages are recorded, not sent (test mode)"}},
})  # fmt: skip


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


def check() -> dict:
    parts = {"database": _database(), "redis": _redis()}
    status = "ok" if all(p["ok"] for p in parts.values()) else "degraded"
    return {"status": status, **parts, "outbound_mode": outbound_mode()}


def outbound_mode() -> str:
    """``live`` when channels really send, else ``capture`` (the default test mode)."""
    return "live" if current_app.config.get("OUTBOUND_MODE") == "live" else "capture"


@operation(bp, "/health/", role=None, response=HEALTH_REF)
def health():
    """Reachability of the database and Redis (the API answers 200 either way)."""
    return jsonify(check())
