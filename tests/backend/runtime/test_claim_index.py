"""The drain's claim reads the batch's rows, not the event log behind them.

The claim asks for the oldest ``received`` events by id. Before the (status, id) index,
PostgreSQL walked the primary key from the first event ever stored and filtered out every
processed one (2.1 ms a claim with 20,000 processed events, growing with the log); SQLite
scanned the whole log. The plans are read from the databases themselves.
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


def _sql(statement) -> str:
    return str(statement.compile(db.engine, compile_kwargs={"literal_binds": True}))


def _scanned(plan: dict) -> int:
    """Rows the plan's scans read: those they returned plus those their filters threw away."""
    own = 0
    if plan["Node Type"].endswith("Scan"):
        own = plan["Actual Rows"] + plan.get("Rows Removed by Filter", 0)
    return own + sum(_scanned(child) for child in plan.get("Plans", []))


def test_the_claim_reads_only_the_rows_it_takes(app):
    _fill()
    if _pg():
        claim = batch_rows._CLAIM_LOCKED.compile(db.engine)
        plan = (
            db.session.connection()
            .exec_driver_sql(
                f"EXPLAIN (ANALYZE, FORMAT JSON) {claim}", {**claim.params, "limit": 20}
            )
            .scalar()
        )
        plan = (json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"]
        db.session.rollback()
        assert _scanned(plan) <= 40, json.dumps(plan, indent=1)  # 20 taken, not thousands read
    else:
        claim = _sql(batch_rows._RECEIVED.limit(20))
        steps = [row[-1] for row in db.session.execute(text(f"EXPLAIN QUERY PLAN {claim}"))]
        assert any("ix_event_logs_status_id" in step for step in steps), steps
        assert not any("TEMP B-TREE" in step for step in steps), steps  # no sort of them all
