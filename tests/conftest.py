"""Shared fixtures: real PostgreSQL, real Redis, SQLite, and the Flask app on each database.

With ``CI=true`` a missing PostgreSQL / Redis / Chromium is a failure, never a skip.
"""

from __future__ import annotations

import pytest
from support import (  # noqa: F401  (re-exported for tests that import them from here)
    IN_CI,
    Api,
    RedisServer,
    clean_tables,
    create_pg_database,
    create_schema,
    drop_pg_database,
    free_port,
    make_app,
    make_user,
    unavailable,
)

# --doctest-modules would import every conftest.py as a module named "conftest"; they clash.
collect_ignore_glob = ["conftest.py", "*/conftest.py"]


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    try:
        server.start()
    except (OSError, RuntimeError) as exc:
        unavailable(f"cannot start redis-server: {exc}")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis_url(redis_server) -> str:
    return redis_server.url


@pytest.fixture(scope="session")
def pg_url():
    """A fresh PostgreSQL database for the session."""
    url = create_pg_database()
    yield url
    drop_pg_database(url)


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def database_url(request, tmp_path_factory):
    """Every backend test runs once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    else:
        yield request.getfixturevalue("pg_url")


@pytest.fixture(scope="session")
def app_session(database_url, redis_url):
    app = make_app(database_url, redis_url)
    create_schema(app)
    yield app
    from backend.extensions import db

    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def app(app_session):
    """The app on a clean database, with an application context pushed."""
    clean_tables(app_session)
    import redis

    redis.Redis.from_url(app_session.config["REDIS_URL"]).flushdb()
    with app_session.app_context():
        yield app_session
        from backend import api_limit
        from backend.extensions import db
        from backend.runtime import discovery, interpreters

        db.session.remove()
        api_limit.reset()  # its leases were counted in the Redis the next test flushes
        # The next test reuses workflow ids on truncated tables: no cached graph may survive.
        discovery.reset()
        interpreters.reset()
