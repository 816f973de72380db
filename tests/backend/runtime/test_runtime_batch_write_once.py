"""A drain batch's new executions are written once (PostgreSQL): the INSERT carries the run's
final state, no UPDATE follows. An execution that a query of the batch flushed earlier, or
one written on SQLite (whose INSERT gives the id), is updated with the lease guard instead;
either way the rows end the same."""

from __future__ import annotations

import contextlib

import pytest
from runtime_helpers import graph, message, setup, work
from sqlalchemy import func, select
from support import sql_statements

from backend.extensions import db
from backend.models import EventLog, Note, TagChange, Workflow, WorkflowExecution
from backend.runtime.ingest import accept_events
from backend.runtime.session import next_id
from backend.services import contacts

pytestmark = [pytest.mark.redis]
USERS = [f"u{i}" for i in range(6)]


@contextlib.contextmanager
def _execution_writes():
    """The INSERT / COPY / UPDATE statements on ``workflow_executions`` sent in the block (an
    executemany or a COPY counts once), filled in when it ends."""
    with sql_statements() as sent:
        seen: list[str] = []
        yield seen
    for statement in sent:
        verb, _, rest = statement.lstrip().partition(" ")
        if verb in ("INSERT", "COPY", "UPDATE") and "workflow_executions" in rest.split("(")[0]:
            seen.append(verb)


def _drain_coupons(app, **settings) -> list[str]:
    """Drain one batch of coupon events; the statements that wrote its executions. The tag
    the runs add exists already: a new tag's savepoint would flush the batch's runs early."""
    setup(app, graph(**settings))
    contacts.get_or_create_tag("coupon_sent")
    for user in USERS:
        contacts.add_tag(contacts.get_or_create_contact(user, {"first_name": "Sara"}), "interested")
    db.session.commit()
    accept_events([message("a coupon please", user) for user in USERS])
    with _execution_writes() as writes:
        work(app)
    return writes


def _check_runs_finished() -> None:
    db.session.expire_all()
    runs = db.session.scalars(select(WorkflowExecution).order_by(WorkflowExecution.id)).all()
    assert [(r.status, r.step_count, r.lease_owner) for r in runs] == [
        ("succeeded", 5, None)
    ] * len(USERS)
    for run in runs:
        assert run.state["status"] == "succeeded"
        assert set(run.state["context"]["nodes"]) >= {"send", "tag", "note"}
        assert run.started_at is not None and run.finished_at >= run.started_at
        assert run.duration_ms >= 0


def test_a_new_run_is_written_once_with_its_final_state(app):
    writes = _drain_coupons(app)
    if db.engine.dialect.name == "postgresql":
        assert writes == ["COPY"]  # the batch's runs, one bulk INSERT, final values
    else:  # SQLite: each INSERT gives an id (then the state is written), the guarded UPDATE
        assert writes.count("INSERT") == len(USERS) and writes[-1] == "UPDATE"
    _check_runs_finished()


def test_a_run_written_once_then_rolled_back_is_written_again_by_the_retry(app, monkeypatch):
    """The batch's flush writes its runs with their final state, then the transaction fails:
    nothing of it stays, and the batch done again (two steps) leaves each run once."""
    from backend.runtime import batch

    real = batch._write
    failed = []

    def write_then_fail(runs):
        if not failed:
            failed.append(len(runs))
            batch._insert_pending(runs, db.session.connection())
            db.session.flush()  # the runs' INSERTs reach the database...
            stored = db.session.scalar(select(func.count(WorkflowExecution.id)))
            assert stored == len(USERS), stored
            raise RuntimeError("...and the transaction fails")
        return real(runs)

    monkeypatch.setattr(batch, "_write", write_then_fail)
    _drain_coupons(app)
    assert failed == [len(USERS)]
    _check_runs_finished()
    events = db.session.scalars(select(WorkflowExecution.event_id)).all()
    assert len(events) == len(set(events)) == len(USERS)  # one run per event


def test_a_run_a_query_wrote_early_is_updated_under_the_guard(app):
    """A reentry limit counts the contact's runs: the query flushes the runs the batch
    created so far (so the count sees them), and those are then updated, not inserted again."""
    writes = _drain_coupons(app, reentry="once_per_hours", reentry_hours=1)
    assert "UPDATE" in writes
    _check_runs_finished()


def test_one_flush_writes_a_new_run_before_the_rows_that_point_at_it(app):
    """The unit of work orders INSERTs by relationships only: a pending run and its note and
    tag change in one flush must still reach PostgreSQL run first (foreign keys)."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("ids taken ahead: PostgreSQL only")
    setup(app, graph())
    contact = contacts.get_or_create_contact("u0")
    db.session.commit()
    workflow = db.session.scalar(select(Workflow))
    run_id = next_id(WorkflowExecution.__tablename__)
    db.session.add(Note(contact_id=contact.id, execution_id=run_id, text="n"))
    db.session.add(
        TagChange(
            contact_id=contact.id, tag="vip", action="added", source="runtime", execution_id=run_id
        )
    )
    db.session.add(
        WorkflowExecution(
            id=run_id, workflow_id=workflow.id, trigger_node_id="trigger", contact_id=contact.id
        )
    )
    db.session.commit()  # one flush: the run, its note and its tag change
    assert db.session.scalar(select(Note.execution_id)) == run_id
    assert db.session.scalar(select(TagChange.execution_id).filter_by(contact_id=contact.id)) == (
        run_id
    )


def test_each_event_of_the_batch_records_its_outcome(app):
    """Each event records what processing it found: its contact, the runs it started, its
    status, when, how many attempts."""
    setup(app, graph())
    for user in USERS:
        contacts.add_tag(contacts.get_or_create_contact(user, {"first_name": "Sara"}), "interested")
    db.session.commit()
    accept_events([message("a coupon please", user) for user in USERS])
    work(app)
    db.session.expire_all()
    messages = select(EventLog).filter_by(event_type="MESSAGE_RECEIVED").order_by(EventLog.id)
    events = db.session.scalars(messages).all()
    assert len(events) == len(USERS)
    runs = {r.event_id: r for r in db.session.scalars(select(WorkflowExecution))}
    for ev in events:
        assert (ev.status, ev.attempts, ev.error) == ("processed", 1, None)
        assert ev.processed_at >= ev.received_at
        assert ev.contact_id == runs[ev.id].contact_id is not None
        assert ev.matched_workflows == [
            {
                "workflow_id": runs[ev.id].workflow_id,
                "node_id": "trigger",
                "execution_id": runs[ev.id].id,
            }
        ]
