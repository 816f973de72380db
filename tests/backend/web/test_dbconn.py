"""Pooled PostgreSQL connections (backend.dbconn): no ping per checkout while they are busy,
and a connection the server closed is still replaced before anything uses it."""

from __future__ import annotations

import psycopg
import pytest
from sqlalchemy import text
from support import make_app

from backend import dbconn

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


@pytest.fixture(scope="module")
def engine(pg_url, redis_url):
    app = make_app(pg_url, redis_url)
    from backend.extensions import db

    with app.app_context():
        yield db.engine
        db.engine.dispose()


@pytest.fixture
def pings(engine, monkeypatch):
    """The pings the pool sends (a list that grows by one per ping), on one pooled connection."""
    engine.dispose()
    seen: list[int] = []
    real = engine.dialect.do_ping

    def counting(connection):
        seen.append(1)
        return real(connection)

    monkeypatch.setattr(engine.dialect, "do_ping", counting)
    return seen


def _backend_pid(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT pg_backend_pid()")).scalar_one()


def test_a_busy_connection_is_reused_without_a_ping(engine, pings):
    first = _backend_pid(engine)
    assert [_backend_pid(engine) for _ in range(5)] == [first] * 5
    assert pings == []


def test_a_connection_idle_past_the_limit_is_pinged(engine, pings, monkeypatch):
    first = _backend_pid(engine)
    monkeypatch.setattr(dbconn, "PING_AFTER_IDLE_SECONDS", -1.0)
    assert _backend_pid(engine) == first  # pinged, alive, reused
    assert pings == [1]


def test_a_connection_the_server_closed_is_replaced_before_use(engine, pings, pg_url):
    first = _backend_pid(engine)
    with psycopg.connect(pg_url, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [first])
        gone = "SELECT count(*) FROM pg_stat_activity WHERE pid = %s"
        while admin.execute(gone, [first]).fetchone()[0]:  # the backend exits: the socket hears
            pass
    second = _backend_pid(engine)  # no error: the dead connection was swapped for a new one
    assert second != first
    assert pings == [1]


def test_the_connections_of_a_busy_moment_stay_open_for_the_next(engine):
    """As many requests at once as the pool's size: their connections are kept, not closed
    after one use each (a PostgreSQL backend started and stopped per request)."""
    engine.dispose()
    held = [engine.connect() for _ in range(dbconn.POOL_SIZE)]
    pids = {conn.execute(text("SELECT pg_backend_pid()")).scalar_one() for conn in held}
    for conn in held:
        conn.close()
    assert engine.pool.checkedin() == dbconn.POOL_SIZE
    again = [engine.connect() for _ in range(dbconn.POOL_SIZE)]
    assert {conn.execute(text("SELECT pg_backend_pid()")).scalar_one() for conn in again} == pids
    for conn in again:
        conn.close()
