"""Bounded waits on the database: nothing blocks on PostgreSQL for more than a few seconds.

Three limits, all configuration (``DB_CONNECT_TIMEOUT_SECONDS``, ``DB_STATEMENT_TIMEOUT_MS``):

1. connecting (TCP + start-up + authentication) gives up after the connect timeout;
2. the server cancels any statement running longer than the statement timeout;
3. the client stops waiting for an answer two seconds after that: a database whose packets
   vanish (a black-holed host, a frozen proxy) never answers, and only a client-side deadline
   notices. The connection is then closed, so the pool throws it away.

Kernel keepalives and ``tcp_user_timeout`` notice a peer that stopped acknowledging sooner.
SQLite needs none of this. A ``psycopg`` error from any of these is an ``OperationalError``,
which the API answers with 503 (:mod:`backend.api.errors`).
"""

from __future__ import annotations

__all__ = ["engine_options", "init_app", "BoundedConnection"]

import psycopg
from psycopg import errors as pg_errors
from sqlalchemy import event

from backend.extensions import db


class BoundedConnection(psycopg.Connection):
    """A psycopg connection whose every wait for the server has a deadline."""

    answer_timeout: float = 7.0

    def wait(self, gen, interval=0.1, timeout=None):
        """Wait like psycopg, but at most ``answer_timeout`` seconds."""
        try:
            return super().wait(gen, interval, self.answer_timeout if timeout is None else timeout)
        except pg_errors._WaitTimeout:
            self.pgconn.finish()  # state unknown: never reuse this connection
            raise psycopg.OperationalError(
                f"the database did not answer within {self.answer_timeout:g} s"
            ) from None


def engine_options(config: dict) -> dict:
    """SQLAlchemy engine options for ``config``'s database (timeouts for PostgreSQL)."""
    options = {"pool_pre_ping": True}
    if not config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        return options
    connect = int(config["DB_CONNECT_TIMEOUT_SECONDS"])
    statement_ms = int(config["DB_STATEMENT_TIMEOUT_MS"])
    options["pool_timeout"] = connect + 2
    options["connect_args"] = {
        "connect_timeout": connect,
        "options": f"-c statement_timeout={statement_ms}",
        "keepalives": 1,
        "keepalives_idle": 5,
        "keepalives_interval": 2,
        "keepalives_count": 2,
        "tcp_user_timeout": (connect + 2) * 1000,
    }
    return options


def init_app(app) -> None:
    """Open PostgreSQL connections as :class:`BoundedConnection` with the configured deadline."""
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        return
    answer = int(app.config["DB_STATEMENT_TIMEOUT_MS"]) / 1000 + 2

    class _Connection(BoundedConnection):
        answer_timeout = answer

    def connect(_dialect, _record, cargs, cparams):
        return _Connection.connect(*cargs, **cparams)

    with app.app_context():
        event.listen(db.engine, "do_connect", connect)
