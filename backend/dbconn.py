"""Bounded waits on the database: nothing blocks on PostgreSQL for more than a few seconds.

Three limits, all configuration (``DB_CONNECT_TIMEOUT_SECONDS``, ``DB_STATEMENT_TIMEOUT_MS``):

1. connecting (TCP + start-up + authentication) gives up after the connect timeout;
2. the server cancels any statement running longer than the statement timeout;
3. the client stops waiting for an answer two seconds after that: a database whose packets
   vanish (a black-holed host, a frozen proxy) never answers, and only a client-side deadline
   notices. The connection is then closed, so the pool throws it away.

Kernel keepalives and ``tcp_user_timeout`` notice a peer that stopped acknowledging sooner.

A pooled connection is pinged before use only when it may be stale (:func:`_checkout`): when
its socket has something to read while idle (the server closed it or sent a termination notice:
a restart, an outage, ``pg_terminate_backend``) or when it sat idle in the pool for more than
``PING_AFTER_IDLE_SECONDS``. A busy process reuses connections within milliseconds, so it no
longer pays a round trip per checkout (``pool_pre_ping`` did), and a connection that died is
still replaced before a request sees it. SQLite keeps ``pool_pre_ping`` (no round trip there)
and needs none of the deadlines. A ``psycopg`` error from any of these is an ``OperationalError``,
which the API answers with 503 (:mod:`backend.api.errors`).
"""

from __future__ import annotations

__all__ = [
    "engine_options",
    "init_app",
    "may_be_stale",
    "mark_idle",
    "BoundedConnection",
    "PING_AFTER_IDLE_SECONDS",
    "POOL_SIZE",
]

import select
import time

import psycopg
from psycopg import errors as pg_errors
from sqlalchemy import event
from sqlalchemy.exc import DisconnectionError

from backend import json_codec
from backend.extensions import db


class BoundedConnection(psycopg.Connection):
    """A psycopg connection whose every wait for the server has a deadline."""

    answer_timeout: float = 7.0
    idle_since: float | None = None  # when the pool last took it back (None: never used)

    def wait(self, gen, interval=0.1, timeout=None):
        """Wait like psycopg, but at most ``answer_timeout`` seconds."""
        try:
            return super().wait(gen, interval, self.answer_timeout if timeout is None else timeout)
        except pg_errors._WaitTimeout:
            self.pgconn.finish()  # state unknown: never reuse this connection
            raise psycopg.OperationalError(
                f"the database did not answer within {self.answer_timeout:g} s"
            ) from None


#: Connections a process keeps open once it has used them. Why not SQLAlchemy's 5: the web
#: server answers several requests at once (bench/throughput.py: 8 connections), and every
#: connection past the pool's size was opened for one request and closed after it (a
#: PostgreSQL backend started and torn down, and the connect's CPU in the web process).
POOL_SIZE = 10


def engine_options(config: dict) -> dict:
    """SQLAlchemy engine options for ``config``'s database (timeouts for PostgreSQL)."""
    # JSON columns through orjson (backend.json_codec: why, and what stays as it was).
    codec = {"json_serializer": json_codec.dumps, "json_deserializer": json_codec.loads}
    if not config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        return {"pool_pre_ping": True, **codec}
    options = dict(codec)  # no pool_pre_ping: _checkout pings only a connection that may be stale
    connect = int(config["DB_CONNECT_TIMEOUT_SECONDS"])
    statement_ms = int(config["DB_STATEMENT_TIMEOUT_MS"])
    options["pool_timeout"] = connect + 2
    options["pool_size"] = POOL_SIZE
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
        engine = db.engine
        event.listen(engine, "do_connect", connect)
        event.listen(engine, "checkin", _checkin)
        event.listen(engine, "checkout", lambda conn, _r, _p: _checkout(engine.dialect, conn))


#: A connection idle in the pool longer than this is pinged before use even if its socket is
#: quiet (a middlebox may have dropped it silently); as long as the kernel's keepalive probe.
PING_AFTER_IDLE_SECONDS = 5.0


def _checkin(dbapi_connection, _record) -> None:
    if dbapi_connection is not None:
        mark_idle(dbapi_connection)


def mark_idle(connection: BoundedConnection) -> None:
    """``connection`` (psycopg's) goes idle now: the pool does this when it takes one back; a
    caller that keeps a connection out of the pool between uses does it after each use."""
    connection.idle_since = time.monotonic()


def _checkout(dialect, connection: BoundedConnection) -> None:
    """Ping ``connection`` if it may be stale; a failed ping makes the pool connect afresh."""
    if not may_be_stale(connection):
        return
    try:
        dialect.do_ping(connection)
    except psycopg.Error as exc:
        raise DisconnectionError(f"stale pooled connection: {exc}") from exc


def may_be_stale(connection: BoundedConnection) -> bool:
    """Whether ``connection`` (psycopg's, idle since :func:`mark_idle`) idled too long or
    heard from the server while idle, so it must not be used without a ping: the pool's check
    at checkout, and the check of a caller that keeps a connection out of the pool.

    An idle connection never has anything to read: a readable socket means the server closed
    it (EOF, a reset) or said why it is about to (``FATAL: terminating connection``).
    """
    if connection.idle_since is None:  # fresh from connect(): nothing to check
        return False
    if connection.closed or time.monotonic() - connection.idle_since > PING_AFTER_IDLE_SECONDS:
        return True
    try:
        poller = select.poll()  # not select.select: a descriptor may be past FD_SETSIZE
        poller.register(connection.fileno(), select.POLLIN)
        return bool(poller.poll(0))
    except (OSError, ValueError, psycopg.Error):
        return True
