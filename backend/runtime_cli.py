"""Runtime commands: ``python -m backend serve`` / ``worker`` / ``sweep`` (``flask --app backend``
runs them too).

``serve`` is command one of the README (``make run``): it applies the migrations, seeds the
event types and sample workflows, creates the first admin when there is no user, and serves
the app with Socket.IO on ``HOST:PORT`` under gunicorn's threaded worker (:mod:`backend.server`).
Without ``REDIS_URL`` it also starts the embedded Redis and a worker thread (with RQ's scheduler
and cron as threads), so everything works with zero setup. Ctrl-C or SIGTERM stops all of it,
the embedded redis-server included. The setup runs in a child process (:func:`_setup_apart`).

Scaled mode: ``REDIS_URL=redis://... DATABASE_URL=postgresql://... python -m backend worker``
in N processes (any machines), the web app under ``serve`` (or any WSGI server) with
``EMBEDDED_WORKER=off``.
"""

from __future__ import annotations

__all__ = ["init_app"]

import logging
import multiprocessing
import os
import sys
import traceback

import click
from flask import Flask, current_app

from backend.api import hooks
from backend.extensions import db
from backend.schema import upgrade
from backend.services.bootstrap import ensure_first_admin, seed_event_types, setup_sample_workflows

log = logging.getLogger(__name__)


def init_app(app: Flask) -> None:
    app.cli.add_command(setup_command)
    app.cli.add_command(serve)
    app.cli.add_command(worker)
    app.cli.add_command(sweep_command)
    if "hooks" not in app.blueprints:
        app.register_blueprint(hooks.bp)


def _setup() -> list[str]:
    """Migrate, seed, and make sure someone can log in; return lines to print."""
    upgrade()
    seed_event_types()
    setup_sample_workflows()
    message = ensure_first_admin()
    return [message] if message else []


def _setup_apart() -> list[str]:
    """:func:`_setup` in a forked child process, which ends with it.

    Why: the migrations bring Alembic, Mako and Pygments into the process that runs them, with
    what running them allocates (~10 MB). In a child, none of it stays in the long-lived
    ``serve``. A failure is raised here, with the child's traceback."""
    fork = multiprocessing.get_context("fork")
    receive, send = fork.Pipe(duplex=False)
    child = fork.Process(target=_setup_child, args=(send,), name="flowmarket-setup")
    child.start()
    send.close()  # the child's end: EOF here once the child is gone
    try:
        outcome = receive.recv()
    except EOFError:  # it died without a word
        outcome = ("died",)
    child.join()
    if outcome[0] == "failed":
        raise click.ClickException(f"setup failed: {outcome[1]}\n\n{outcome[2]}")
    if outcome[0] != "done" or child.exitcode != 0:
        raise click.ClickException(f"setup failed: its process ended with code {child.exitcode}")
    return outcome[1]


def _setup_child(send) -> None:
    from backend.queue import stop_embedded

    db.engine.dispose(close=False)  # the parent's pooled connections stay the parent's
    try:
        outcome = ("done", _setup())
    except Exception as exc:  # noqa: BLE001 - everything goes back to the parent, which raises it
        headline = (str(exc).strip().splitlines() or [""])[0]
        outcome = ("failed", f"{type(exc).__name__}: {headline}", traceback.format_exc())
    finally:
        # Activating the samples tells Redis that triggers changed: on the embedded defaults
        # that started a redis-server here, which would outlive this child (it ends with
        # os._exit, so no exit hook runs). Stopped, it has saved; serve starts its own.
        stop_embedded()
    send.send(outcome)
    send.close()
    if outcome[0] != "done":
        sys.exit(1)


def _embedded_worker_wanted(app: Flask) -> bool:
    setting = str(app.config.get("EMBEDDED_WORKER", "auto")).lower()
    if setting in ("on", "1", "true", "yes"):
        return True
    if setting in ("off", "0", "false", "no"):
        return False
    return not app.config.get("REDIS_URL")


@click.command("setup")
def setup_command():
    """Migrate the database, seed the event types and sample workflows, and make sure someone
    can sign in: what serve does first (idempotent)."""
    for line in _setup_apart():
        click.echo(line)
    click.echo("The database is ready.")


@click.command("serve")
@click.option("--host", default=None, help="Default: HOST (127.0.0.1).")
@click.option("--port", default=None, type=int, help="Default: PORT (8000).")
@click.option("--no-setup", is_flag=True, help="Skip migrations and seeding.")
def serve(host, port, no_setup):
    """Set up and serve everything on http://HOST:PORT (embedded Redis + worker by default)."""
    from backend.queue import redis_url, stop_embedded
    from backend.server import serve_forever
    from backend.worker import EmbeddedWorker

    app = current_app._get_current_object()
    host, port = host or app.config["HOST"], port or app.config["PORT"]
    app.config.update(HOST=host, PORT=port)  # what the setup's sign-in line says
    lines = [] if no_setup else _setup_apart()
    redis_where = redis_url(app)  # starts the embedded Redis when REDIS_URL is unset
    embedded = EmbeddedWorker(app).start() if _embedded_worker_wanted(app) else None
    click.echo(
        f"FlowMarket is running on http://{host}:{port}/  (Redis: {redis_where}; "
        f"worker: {'embedded' if embedded else 'external'})"
    )
    for line in lines:
        click.echo(line)
    if not lines:
        click.echo(
            f"Sign in at http://{host}:{port}/login (new users: python -m backend "
            "create-user EMAIL --role editor)."
        )
    click.echo("Stop with Ctrl-C.")
    try:
        serve_forever(app, host, port, threads=app.config.get("WEB_THREADS", 32))
    finally:
        if embedded is not None:
            embedded.stop()
        stop_embedded()
    click.echo("FlowMarket stopped.")
    # Threads of open WebSockets cannot be interrupted, and the interpreter would wait for
    # them at exit: everything this command started is stopped, so leave now.
    logging.shutdown()
    sys.stdout.flush()
    os._exit(0)


@click.command("worker")
@click.option("--burst", is_flag=True, help="Exit when the queue is empty.")
@click.option("--no-cron", is_flag=True, help="Do not start the periodic-job scheduler.")
def worker(burst, no_cron):
    """Run one RQ worker (SimpleWorker + scheduler + cron) for the scaled mode."""
    from backend.worker import run_worker

    logging.basicConfig(level=logging.WARNING)
    run_worker(current_app._get_current_object(), burst=burst, with_cron=not no_cron)


@click.command("sweep")
def sweep_command():
    """Run one sweeper pass now and print what it re-dispatched."""
    from backend.runtime.sweeper import sweep

    click.echo(sweep(force=True))
