"""The Flask application: ``create_app`` reads like the table of contents of the server.

Importing the package loads nothing else: gunicorn's arbiter imports ``backend.server`` for its
worker class (``gunicorn.conf.py``) and must not hold a copy of Flask, SQLAlchemy and the
settings (~60 MB) that only its worker uses.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask


def create_app(config: dict | None = None) -> Flask:
    """Build the app. ``config`` overrides settings read from the environment (tests use it)."""
    from flask import Flask

    from backend.config import INSTANCE, ROOT, load_config
    from backend.extensions import csrf, db
    from backend.json_provider import FastJSONProvider

    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_path=str(INSTANCE),
    )
    app.json = FastJSONProvider(app)  # orjson writes the answers (same JSON, less CPU)
    app.config.update(load_config(config))

    # The parts load here, not at the top: a worker or a script importing `backend.models` or the
    # runtime must not pay for Flask-Admin, the API's schemas and the pages (memory, start time).
    from backend import (
        admin,
        api,
        auth,
        cli,
        dbconn,
        events,
        models,  # noqa: F401  (registers the tables)
        pages,
        queue,
        runtime_cli,
        schema,
        security,
    )
    from backend.runtime import discovery
    from backend.services import internal_events

    db.init_app(app)
    dbconn.init_app(app)  # PostgreSQL: connect, statement and answer deadlines
    schema.init_app(app)  # Flask-Migrate, for the CLI's `flask db` commands
    csrf.init_app(app)
    queue.init_app(app)  # Redis connection (embedded or REDIS_URL) and the RQ queue
    auth.init_app(app)  # sessions, bearer tokens, roles
    api.init_app(app)  # REST API under /api/v1/workflow/api/
    pages.init_app(app)  # login / logout / the editor shell
    admin.init_app(app)  # Flask-Admin at /admin/
    events.init_app(app)  # Socket.IO live traces
    # tag / conversation-status changes -> the event log (processed at once when unheard)
    internal_events.init_app(app, quiet=discovery.quiet_events)
    cli.init_app(app)  # flask commands: init-workflow-system, create-user, ...
    runtime_cli.init_app(app)  # flask commands: serve, worker, sweep
    security.init_app(app)  # rate limits on the blueprints, proxies, secure cookies
    return app
