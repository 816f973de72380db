"""The REST API under ``/api/v1/workflow/api/``: one blueprint module per resource.

Each module declares its routes with :func:`backend.api.spec.operation`, which also feeds the
OpenAPI document served by :mod:`backend.api.openapi`. Errors are JSON everywhere below the
prefix (:mod:`backend.api.errors`).
"""

from __future__ import annotations

__all__ = ["PREFIX", "MODULES", "init_app"]

import importlib

from flask import has_request_context, request

from backend.api import errors
from backend.api.spec import IdConverter
from backend.auth import current_caller
from backend.extensions import csrf
from backend.models.history import use_author_provider

PREFIX = "/api/v1/workflow/api"
MODULES = (
    "workflows",
    "triggers",
    "actions",
    "node_types",
    "executions",
    "event_logs",
    "contacts",
    "tags",
    "conversations",
    "event_types",
    "users",
    "tokens",
    "credentials",
    "health",
    "openapi",
    "versions",
    "drafts",
    "samples",
    "authoring",
    "messages",
    "notes",
    "timeline",
    "node_stats",
    "templates",
    "wakeups",
    "explain",
    "simulations",
    "run_versions",
)


def _tag_author() -> dict:
    """Who made a tag change outside a run: the signed-in caller of this request, if any."""
    if not has_request_context():
        return {"source": "other"}
    path = request.path
    source = "api" if path.startswith(PREFIX) else "admin" if path.startswith("/admin") else "web"
    try:
        user = current_caller()
    except Exception:  # noqa: BLE001 - an unauthenticated write is still recorded
        user = None
    return {"source": source, "user_id": getattr(user, "id", None)}


def init_app(app) -> None:
    app.config["API_PREFIX"] = PREFIX  # where errors answer JSON (backend.api.errors)
    app.url_map.converters["id"] = IdConverter
    app.json.ensure_ascii = False  # Persian text stays readable in responses
    blueprints = [importlib.import_module(f"backend.api.{name}").bp for name in MODULES]
    for bp in blueprints:
        csrf.exempt(bp)  # the API checks X-CSRFToken itself, only for session-authenticated calls
        app.register_blueprint(bp, url_prefix=PREFIX)
    errors.init_app(app)
    use_author_provider(_tag_author)  # tag changes name the API / admin caller
    # The runtime's webhook-trigger endpoint: POST /hooks/<webhook_key> (outside the prefix).
    app.register_blueprint(importlib.import_module("backend.api.hooks").bp)
    # Prometheus scrapes: GET /metrics (token or loopback, see backend.api.metrics).
    app.register_blueprint(importlib.import_module("backend.api.metrics").bp)
