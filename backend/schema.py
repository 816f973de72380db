"""The database schema's migrations (Alembic, through Flask-Migrate), loaded where they run.

``flask db ...`` and ``serve``'s setup run them; a web process serving requests under gunicorn
never does, and Flask-Migrate brings Alembic, Mako and Pygments with it (~12 MB in every
process). So :func:`init_app` binds Flask-Migrate only when the app is built for a command of
the Flask CLI (a click context is active; the CLI has loaded Flask-Migrate for its ``db``
commands anyway), and :func:`upgrade` binds it on demand.
"""

from __future__ import annotations

__all__ = ["init_app", "upgrade"]

import click
from flask import Flask, current_app

from backend.config import ROOT
from backend.extensions import db


def _bind(app: Flask) -> None:
    from flask_migrate import Migrate

    Migrate(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)


def init_app(app: Flask) -> None:
    if click.get_current_context(silent=True) is not None:
        _bind(app)


def upgrade() -> None:
    """Apply the migrations to the current app's database (what ``flask db upgrade`` does)."""
    from flask_migrate import upgrade as apply_migrations

    if "migrate" not in current_app.extensions:
        _bind(current_app._get_current_object())
    apply_migrations()
