"""Two editors saving at once: the second save waits for the first's row lock and then gets its
409 (PostgreSQL), and the migrations describe exactly the models (both databases)."""

from __future__ import annotations

import pytest
from apikit import simple_graph
from support import behind_a_lock


def test_migrations_match_the_models(app):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from backend.extensions import db

    with db.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), db.metadata) == []


def test_a_save_racing_another_one_gets_409_not_an_overwrite(app, api):
    from backend.extensions import db

    if db.engine.dialect.name != "postgresql":
        pytest.skip("row locks: PostgreSQL only (SQLite serialises writers itself)")
    wf = api.post("/workflows/", {"name": "Race", "graph": simple_graph()}).json
    result = {}

    def save():
        body = {"name": "Race", "graph": simple_graph("mine"), "base_version": 1}
        result["response"] = api.put(f"/workflows/{wf['id']}/", body)

    # Another editor's save, mid-transaction, holding the row.
    behind_a_lock("UPDATE workflows SET version = 2 WHERE id = %s", (wf["id"],), save)
    assert result["response"].status_code == 409
    assert result["response"].json["current_version"] == 2
