"""The drain's queries read the rows they need, not the history behind them: the plans are
read from both databases, over a history that the old indexes had to walk.

The claim asks for the oldest ``received`` events by id. Before the (status, id) index,
PostgreSQL walked the primary key from the first event ever stored and filtered out every
processed one (2.1 ms a claim with 20,000 processed events, growing with the log); SQLite
scanned the whole log.

Whether a batch's contacts have a waiting run was two bitmaps ANDed on PostgreSQL: all the
contact's runs and everyone's waiting runs.
"""

from __future__ import annotations

import json

from sqlalchemy import text

from backend.extensions import db
from backend.runtime import batch_rows

PROCESSED, RECEIVED = 5000, 1000

_FILL = """
INSERT INTO event_logs (event_type, idempotency_key, source, status, payload, received_at,
                        user_id, matched_workflows, attempts)
VALUES ('MESSAGE_RECEIVED', :key, 'api', :status, '{}', CURRENT_TIMESTAMP, 'u1', '[]', 0)
"""


def _fill() -> None:
    rows = [
        {"key": f"k{i}", "status": "processed" if i < PROCESSED else "received"}
        for i in range(PROCESSED + RECEIVED)
    ]
    db.session.execute(text(_FILL), rows)
    db.session.commit()
    db.session.execute(text("ANALYZE event_logs" if _pg() else "ANALYZE"))
    db.session.commit()


def _pg() -> bool:
    return db.engine.dialect.name == "postgresql"


def _explained(statement, params: dict):
    """How this database runs ``statement`` with ``params``: PostgreSQL's plan, run
    (EXPLAIN ANALYZE, rolled back), or SQLite's list of steps."""
    expanded = statement.compile(db.engine).construct_expanded_state(params)
    conn = db.session.connection()
    if _pg():
        sql = f"EXPLAIN (ANALYZE, FORMAT JSON) {expanded.statement}"
        raw = conn.exec_driver_sql(sql, expanded.parameters).scalar()
        db.session.rollback()
        return (json.loads(raw) if isinstance(raw, str) else raw)[0]["Plan"]
    positional = tuple(expanded.parameters[name] for name in expanded.positiontup)
    rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {expanded.statement}", positional)
    return [row[-1] for row in rows]


def _scanned(plan: dict, table: str | None = None) -> int:
    """Rows the plan's scans (of ``table``, or of any) read: those they returned plus those
    their filters threw away, over all their loops."""
    own = 0
    if plan["Node Type"].endswith("Scan") and table in (None, plan.get("Relation Name")):
        read = plan["Actual Rows"] + plan.get("Rows Removed by Filter", 0)
        own = read * plan.get("Actual Loops", 1)
    return own + sum(_scanned(child, table) for child in plan.get("Plans", []))


def test_the_claim_reads_only_the_rows_it_takes(app):
    _fill()
    if _pg():
        plan = _explained(batch_rows._CLAIM_LOCKED, {"limit": 20})
        assert _scanned(plan) <= 40, json.dumps(plan, indent=1)  # 20 taken, not thousands read
    else:
        steps = _explained(batch_rows._MARK_PROCESSING, {"limit": 20})
        assert any("ix_event_logs_status_id" in step for step in steps), steps
        assert not any("TEMP B-TREE" in step for step in steps), steps  # no sort of them all


_RUNS = """
INSERT INTO workflow_executions (workflow_id, workflow_version, trigger_node_id, status,
                                 step_count, created_at, contact_id)
VALUES (:workflow, 1, 't', :status, 5, CURRENT_TIMESTAMP, :contact)
"""


def _history() -> list[str]:
    """Two contacts: one with 3,000 finished runs and one waiting, one with none; and 20,000
    waiting runs of 1,000 others. Returns the two contacts' external ids."""
    db.session.execute(
        text(
            "INSERT INTO workflows (name, description, status, graph, version, created_at,"
            " updated_at) VALUES ('w', '', 'active', '{}', 1, CURRENT_TIMESTAMP,"
            " CURRENT_TIMESTAMP)"
        )
    )
    db.session.execute(
        text(
            "INSERT INTO contacts (external_id, first_name, last_name, channel_ids, fields,"
            " created_at, updated_at) VALUES (:ext, '', '', '{}', '{}', CURRENT_TIMESTAMP,"
            " CURRENT_TIMESTAMP)"
        ),
        [{"ext": f"c{i}"} for i in range(1002)],
    )
    workflow = db.session.execute(text("SELECT max(id) FROM workflows")).scalar()
    ids = dict(db.session.execute(text("SELECT external_id, id FROM contacts")).all())
    runs = [{"status": "succeeded", "contact": ids["c0"]}] * 3000
    runs += [{"status": "waiting", "contact": ids["c0"]}]
    runs += [{"status": "waiting", "contact": ids[f"c{2 + i % 1000}"]} for i in range(20_000)]
    db.session.execute(text(_RUNS), [{**run, "workflow": workflow} for run in runs])
    db.session.commit()
    db.session.execute(text("ANALYZE workflow_executions" if _pg() else "ANALYZE"))
    db.session.commit()
    return ["c0", "c1"]


def test_a_batch_finds_its_contacts_waiting_runs_without_their_history(app):
    explained = _explained(batch_rows._CONTACTS, {"users": _history()})
    if _pg():
        # One waiting run: not the contact's 3,000 finished ones, nor the 20,000 of others.
        assert _scanned(explained, "workflow_executions") <= 10, json.dumps(explained, indent=1)
    else:
        assert any("ix_executions_contact_status" in step for step in explained), explained
