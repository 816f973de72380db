"""``GET /metrics``: Prometheus text format (outside the API prefix, like ``/hooks/``).

Protected one of two ways: with ``METRICS_TOKEN`` set, a scrape must send
``Authorization: Bearer <METRICS_TOKEN>``; without it, only loopback callers are answered
(``METRICS_ALLOW=any`` opens it, e.g. behind a private network's firewall).
"""

from __future__ import annotations

__all__ = ["bp"]

import hmac
import ipaddress

from flask import Blueprint, Response, current_app, jsonify, request
from prometheus_client import CONTENT_TYPE_LATEST

from backend.extensions import csrf
from backend.services.metrics import render

bp = Blueprint("metrics", __name__)
csrf.exempt(bp)


def _loopback(address: str | None) -> bool:
    try:
        return ipaddress.ip_address(address or "").is_loopback
    except ValueError:
        return False


def _refusal():
    """Why this request may not scrape, as (status, detail), or None."""
    token = current_app.config.get("METRICS_TOKEN")
    if token:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given.encode(), token.encode()):
            return 401, "send Authorization: Bearer <METRICS_TOKEN>"
        return None
    if current_app.config.get("METRICS_ALLOW") == "any" or _loopback(request.remote_addr):
        return None
    return 403, "metrics are served to loopback callers only (set METRICS_TOKEN or METRICS_ALLOW)"


@bp.get("/metrics")
def metrics():
    """Prometheus metrics: events, runs, step latency, queue depth, outbound sends."""
    refusal = _refusal()
    if refusal:
        status, detail = refusal
        return jsonify({"detail": detail, "code": "metrics_forbidden"}), status
    return Response(render(), mimetype=CONTENT_TYPE_LATEST)
