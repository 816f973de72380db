"""Two editors saving at once: the second save waits for the first's row lock and then gets its
409 (PostgreSQL), and the migrations describe exactly the models (both databases)."""

from __future__ import annotations

import threading
import time

import psycopg
import pytest
from apikit import simple_graph


def test_migrations_match_the_models(app):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from backend.extensions import db

    with db.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), db.metadata) == []


def _wait_for_lock_waiter(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    with psycopg.connect(url, autocommit=True) as conn:
        while time.monotonic() < deadline:
            waiting = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = "
                "'Lock' AND datname = current_database()"
            ).fetchone()[0]
            if waiting:
                return
            time.sleep(0.02)
    raise AssertionError("the save never waited for the row lock")


def test_a_save_racing_another_one_gets_409_not_an_overwrite(app, api):
    from backend.extensions import db

    if db.engine.dialect.name != "postgresql":
        pytest.skip("row locks: PostgreSQL only (SQLite serialises writers itself)")
    wf = api.post("/workflows/", {"name": "Race", "graph": simple_graph()}).json
    url = db.engine.url.render_as_string(hide_password=False).replace("+psycopg", "")
    other = psycopg.connect(url)  # another editor's save, mid-transaction, holding the row
    other.execute("UPDATE workflows SET version = 2 WHERE id = %s", (wf["id"],))
    result = {}

    def save():
        body = {"name": "Race", "graph": simple_graph("mine"), "base_version": 1}
        result["response"] = api.put(f"/workflows/{wf['id']}/", body)

    thread = threading.Thread(target=save)
    thread.start()
    try:
        _wait_for_lock_waiter(url)
    finally:
        other.commit()
        other.close()
        thread.join(60)
    assert result["response"].status_code == 409
    assert result["response"].json["current_version"] == 2
