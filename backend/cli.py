"""Flask CLI commands (``flask --app backend <command>``, ``python -m backend <command>`` or the
``flowmarket`` console script: :func:`main`).

``init-workflow-system``   seed the standard event types (idempotent)
``setup-sample-workflows`` create and activate the two standard example workflows (idempotent)
``create-user EMAIL --role admin|editor|viewer [--password PW]``
``create-api-token EMAIL [--name NAME]``  prints the token alone on its last line (shown once)

(``setup``, ``serve``, ``worker`` and ``sweep``: :mod:`backend.runtime_cli`.) On a database that
is not set up yet, these commands say to run ``setup`` first instead of failing with a
traceback.
"""

from __future__ import annotations

__all__ = [
    "init_app",
    "main",
    "ensure_first_admin",
    "seed_event_types",
    "setup_sample_workflows",
]

import functools
import secrets
import sys

import click
from psycopg import errors as pg_errors
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError, ProgrammingError

from backend import create_app
from backend.extensions import db
from backend.models import ROLES, ApiToken, User
from backend.services.bootstrap import (
    create_user,
    ensure_first_admin,
    seed_event_types,
    setup_sample_workflows,
)


def _needs_tables(command):
    """``command``, with a missing table (a database never set up) told as what to do."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except (OperationalError, ProgrammingError) as exc:
            if not _schema_missing(exc.orig):
                raise
            db.session.rollback()
            raise click.ClickException(
                "the database is not set up (or not migrated): run `python -m backend setup` "
                f"first ({str(exc.orig).splitlines()[0]})"
            ) from None

    return wrapper


def _schema_missing(error: Exception) -> bool:
    """Whether the driver's ``error`` says a table or column is missing."""
    if isinstance(error, pg_errors.UndefinedTable | pg_errors.UndefinedColumn):
        return True
    return str(error).startswith(("no such table", "no such column"))  # SQLite


@click.command("init-workflow-system")
@_needs_tables
def init_workflow_system_command():
    """Seed the standard event types (MESSAGE_RECEIVED, USER_CREATED, ...)."""
    created = seed_event_types()
    click.echo(f"event types: {created} created, the rest already existed")


@click.command("setup-sample-workflows")
@click.option("--no-activate", is_flag=True, help="Leave the samples as drafts.")
@_needs_tables
def setup_sample_workflows_command(no_activate: bool):
    """Create the coupon-request and welcome-new-users workflows (skips existing ones)."""
    created = setup_sample_workflows(activate=not no_activate)
    for workflow in created:
        click.echo(f"created workflow {workflow.id}: {workflow.name} ({workflow.status})")
    if not created:
        click.echo("sample workflows already exist")


@click.command("create-user")
@click.argument("email")
@click.option("--role", type=click.Choice(ROLES), default="viewer", show_default=True)
@click.option("--password", help="Default: a generated one, printed once.")
@_needs_tables
def create_user_command(email: str, role: str, password: str | None):
    """Create a user account."""
    generated = password is None
    password = password or secrets.token_urlsafe(12)
    try:
        user = create_user(email, password, role)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"created {user.role} {user.email} (id {user.id})")
    if generated:
        click.echo(f"password: {password}")


@click.command("create-api-token")
@click.argument("email")
@click.option("--name", default="cli", show_default=True, help="A label to tell tokens apart.")
@_needs_tables
def create_api_token_command(email: str, name: str):
    """Issue an API token for a user; the token is printed once, alone on the last line."""
    user = db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))
    if user is None:
        raise click.ClickException(f"no user with email {email}")
    _, plain = ApiToken.issue(user, name[:100])
    db.session.commit()
    click.echo(f"token for {user.email} ({user.role}); store it now, it is not shown again:")
    click.echo(plain)


@click.command("create-first-admin")
@_needs_tables
def create_first_admin_command():
    """Create an admin with a generated password when the database has no user yet."""
    message = ensure_first_admin()
    click.echo(message or "users already exist; nothing to do")


COMMANDS = (
    init_workflow_system_command,
    setup_sample_workflows_command,
    create_user_command,
    create_api_token_command,
    create_first_admin_command,
)


def init_app(app) -> None:
    for command in COMMANDS:
        app.cli.add_command(command)


def main(argv: list[str] | None = None) -> None:
    """``flowmarket COMMAND`` (the console script) and ``python -m backend COMMAND`` (what
    ``make run`` runs): the app's own commands (``serve``, ``worker``, ``create-user``...).

    Why not ``flask --app backend``: before it runs a command, the Flask CLI imports the
    commands of every installed Flask extension, and Flask-Migrate's bring Alembic, Mako and
    Pygments (~10 MB) into the process, where a long-lived ``serve`` would keep them. The
    migrations by hand stay ``flask --app backend db ...``."""
    app = create_app()
    with app.app_context():
        app.cli.main(args=argv if argv is not None else sys.argv[1:], prog_name="flowmarket")
