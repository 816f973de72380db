"""The checkpoint per drain batch (backend.runtime.batch): the events of a batch and its runs
are written together, in one transaction, notes and captured messages included, and a batch
that fails to commit leaves nothing half-written: its events are claimed again and its runs
advanced one by one instead, each effect written once."""

from __future__ import annotations

import pytest
from runtime_helpers import graph, message, setup, work
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from backend.extensions import db
from backend.models import EventLog, Note, OutboundMessage, StepExecution, WorkflowExecution
from backend.runtime import batch, processing
from backend.runtime.ingest import accept_events
from backend.services import contacts

pytestmark = [pytest.mark.redis]
USERS = [f"u{i}" for i in range(6)]


def _coupon_events(app) -> None:
    setup(app, graph())
    for user in USERS:
        contacts.add_tag(contacts.get_or_create_contact(user, {"first_name": "Sara"}), "interested")
    db.session.commit()
    accept_events([message("a coupon please", user) for user in USERS])


def _check_every_run_wrote_its_effects_once() -> None:
    db.session.expire_all()
    runs = db.session.scalars(select(WorkflowExecution).order_by(WorkflowExecution.id)).all()
    assert [(r.status, r.step_count) for r in runs] == [("succeeded", 5)] * len(USERS)
    for run in runs:
        steps = {
            s.node_id: s
            for s in db.session.scalars(select(StepExecution).filter_by(execution_id=run.id))
        }
        assert [s.seq for s in steps.values()] == [1, 2, 3, 4, 5]
        # The step outputs name the rows the batch wrote with ids taken ahead.
        (note,) = db.session.scalars(select(Note).filter_by(execution_id=run.id)).all()
        assert steps["note"].output["note_id"] == note.id
        assert note.contact_id == run.contact_id
        (sent,) = db.session.scalars(select(OutboundMessage).filter_by(execution_id=run.id))
        assert steps["send"].output["id"] == sent.id
        assert (sent.status, sent.text) == ("captured", "Sara, your code: SAVE10")


def test_a_batch_writes_its_runs_notes_and_messages_together(app, monkeypatch):
    _coupon_events(app)
    commits = []
    real = batch._write
    monkeypatch.setattr(batch, "_write", lambda runs: (commits.append(len(runs)), real(runs))[1])
    work(app)
    assert commits == [len(USERS)]  # one write for the whole drain batch
    _check_every_run_wrote_its_effects_once()


def test_a_batch_whose_commit_fails_is_advanced_run_by_run(app, monkeypatch):
    _coupon_events(app)
    failed = []
    real = batch._write

    def write_then_lose_the_commit(runs):
        session = db.session()
        original = session.commit

        def lost():
            failed.append(len(runs))
            raise OperationalError("COMMIT", {}, Exception("server closed the connection"))

        session.commit = lost
        try:
            real(runs)
        finally:
            session.commit = original

    monkeypatch.setattr(batch, "_write", write_then_lose_the_commit)
    work(app)
    assert failed == [len(USERS)]
    _check_every_run_wrote_its_effects_once()
    assert db.session.scalar(select(func.count(Note.id))) == len(USERS)


def _committed() -> tuple[int, list[str]]:
    """(executions, statuses of the coupon events) as another connection sees them: what
    is committed."""
    query = select(EventLog.status).where(EventLog.event_type == "MESSAGE_RECEIVED")
    with db.engine.connect() as conn:
        runs = conn.scalar(select(func.count(WorkflowExecution.id)))
        statuses = sorted(set(conn.scalars(query)))
    return runs, statuses


def test_a_batch_is_one_transaction_events_and_runs_together(app, monkeypatch):
    _coupon_events(app)
    before_write = []
    real = batch._write

    def write(runs):
        before_write.append(_committed())  # the runs have stepped: nothing committed yet
        real(runs)

    monkeypatch.setattr(batch, "_write", write)
    with app.app_context():
        assert processing.drain(linger=0) == len(USERS)
    assert before_write == [(0, ["received"])]
    assert _committed() == (len(USERS), ["processed"])
    _check_every_run_wrote_its_effects_once()


def test_a_failed_batch_transaction_rolls_back_whole_and_is_claimed_again(app, monkeypatch):
    _coupon_events(app)
    seen_by_the_retry = []
    real_process = processing.process_batch

    def write_then_fail(runs):
        db.session.flush()  # the effects reach the database, then the connection is lost
        raise OperationalError("INSERT", {}, Exception("server closed the connection"))

    def process_again(limit=None, **kwargs):
        seen_by_the_retry.append(_committed())
        return real_process(limit, **kwargs)

    monkeypatch.setattr(batch, "_write", write_then_fail)
    monkeypatch.setattr(processing, "process_batch", process_again)
    work(app)
    # Rolled back whole: every event received again, no run of the failed transaction left.
    assert seen_by_the_retry == [(0, ["received"])]
    _check_every_run_wrote_its_effects_once()
    assert db.session.scalar(select(func.count(Note.id))) == len(USERS)


class _Killed(BaseException):
    """The worker process dies here (nothing of it runs on: no handler catches this)."""


def test_a_crash_before_the_batch_commits_leaves_its_events_to_the_next_drain(app, monkeypatch):
    _coupon_events(app)

    def crash(runs):
        raise _Killed()

    monkeypatch.setattr(batch, "_write", crash)
    with app.app_context(), pytest.raises(_Killed):
        processing.drain(linger=0)
    db.session.rollback()  # what the dead worker's connection closing does
    assert _committed() == (0, ["received"])
    monkeypatch.undo()
    work(app)
    _check_every_run_wrote_its_effects_once()


def test_a_run_that_breaks_holds_back_neither_the_events_nor_the_other_runs(app, monkeypatch):
    """A fault in one run (not a database error) fails the batch's transaction: the batch is
    processed again, its events and runs committed first, then each run advanced on its own."""
    from backend.runtime import runner

    _coupon_events(app)
    real_step = runner.step_run
    broken = []

    def step_run(run, budget):
        if run.batched and not broken:  # the first run of the batch, in the batch only
            broken.append(run.id)
            raise RuntimeError("a bug in one run")
        return real_step(run, budget)

    monkeypatch.setattr(batch, "step_run", step_run)
    work(app)
    assert len(broken) == 1
    assert _committed() == (len(USERS), ["processed"])
    _check_every_run_wrote_its_effects_once()


def test_a_batch_opens_the_new_conversations_of_its_events_once(app):
    from backend.models import Conversation, EventLog

    setup(app, graph())
    known = {u: contacts.get_or_create_contact(u, {"first_name": "Sara"}) for u in USERS[:3]}
    contacts.get_or_create_conversation("old", known["u0"])
    db.session.commit()
    events = [
        message("hi", "u0", conversation_id="old"),
        message("hi", "u0", conversation_id="new-0"),
        message("hi", "u1", conversation_id="new-0"),  # a second event of the same one
        message("hi", "u2", conversation_id="new-2"),
        message("hi", "stranger", conversation_id="new-3"),  # a contact the batch creates
    ]
    accept_events(events)
    work(app)
    db.session.expire_all()
    opened = {
        c.external_id: (c.contact.external_id if c.contact else None, c.status)
        for c in db.session.scalars(select(Conversation))
    }
    assert opened == {
        "old": ("u0", "open"),
        "new-0": ("u0", "open"),  # opened by the first event that named it
        "new-2": ("u2", "open"),
        "new-3": ("stranger", "open"),
    }
    statuses = db.session.scalars(select(EventLog.status)).all()
    assert statuses == ["processed"] * len(events)
