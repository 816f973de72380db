"""The REST API under ``/api/v1/workflow/api/``: one blueprint module per resource.

Each module declares its routes with :func:`backend.api.spec.operation`, which also feeds the
OpenAPI document served by :mod:`backend.api.openapi`. Errors are JSON everywhere below the
prefix (:mod:`backend.api.errors`).
"""

from __future__ import annotations

__all__ = ["PREFIX", "MODULES", "init_app"]

import importlib

from backend.api import errors
from backend.api.spec import IdConverter
from backend.extensions import csrf

PREFIX = "/api/v1/workflow/api"
MODULES = (
    "workflows", "triggers", "actions", "node_types", "executions", "event_logs", "contacts",
    "tags", "conversations", "event_types", "users", "tokens", "credentials", "health", "openapi",
    "versions", "drafts", "samples", "authoring", "messages", "notes", "timeline", "node_stats",
    "templates", "wakeups", "explain", "simulations", "run_versions",
)  # fmt: skip


def init_app(app) -> None:
    app.config["API_PREFIX"] = PREFIX  # where errors answer JSON (backend.api.errors)
    app.url_map.converters["id"] = IdConverter
    app.json.ensure_ascii = False  # Persian text stays readable in responses
    blueprints = [importlib.import_module(f"backend.api.{name}").bp for name in MODULES]
    for bp in blueprints:
        csrf.exempt(bp)  # the API checks X-CSRFToken itself, only for session-authenticated calls
        app.register_blueprint(bp, url_prefix=PREFIX)
    errors.init_app(app)
    # The runtime's webhook-trigger endpoint: POST /hooks/<webhook_key> (outside the prefix).
    app.register_blueprint(importlib.import_module("backend.api.hooks").bp)
    # Prometheus scrapes: GET /metrics (token or loopback, see backend.api.metrics).
    app.register_blueprint(importlib.import_module("backend.api.metrics").bp)
