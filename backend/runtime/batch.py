"""Checkpoint per batch: the fresh runs of one drain batch advance in memory, then every
execution, step and internal effect of the batch is written in ONE transaction.

Why: a checkpoint per step costs a statement and a commit (a round trip and, with
``synchronous_commit`` on, a WAL flush) per step; the engine itself needs ~14 µs a step. The
drain (:mod:`backend.runtime.processing`) has claimed the batch's events, recorded their
outcomes and created the new executions (leased to this thread) in the transaction this
commits, so:

1. each run steps in memory up to its next wait or its end (``Run.batched``): its effects on
   contacts, tags and conversations go into the session as usual; its step rows, and on
   PostgreSQL its notes and captured messages (ids taken ahead from their sequences,
   :func:`backend.runtime.session.next_id`), are kept; its traces wait;
2. one bulk INSERT of the new executions, one flush, one bulk INSERT each of every step,
   note and captured message, one synchronous commit -- of the events' outcomes too. The bulk
   INSERTs are binary COPYs on PostgreSQL (:mod:`backend.runtime.bulk`). On PostgreSQL a new
   execution is still pending until then (its id came from the sequence), so it is written
   ONCE, with its run's final values, by :func:`_insert_pending`, which then hands it to the
   session as the stored row it is. One that was written earlier (a query in between flushed
   it) gets the guarded UPDATE (lease owner and step counter, as per step), as one
   executemany per shape. A pending execution needs no guard: no other transaction can see
   it. SQLite keeps the two writes for every run (an INSERT when the run is created, the
   UPDATE here): it has no sequence to take an id from ahead, and the gain sought was the
   scaled mode's. The rows that point at an execution (steps, notes, tag changes, captured
   messages) are written after it: by the flush or the bulk INSERTs that follow it;
3. after the commit (:func:`publish_batch`): the traces of watched workflows, then what each
   run does next (a resume job for a wait, a hand-over when its step budget ran out), then
   the runs that left the batch.

A run that reaches a live send (with live channels) leaves the batch: its changes are undone
(a savepoint per run) and it is advanced step by step after the commit, because the live
channels' outbox expects the steps before a send to be committed (see
:mod:`backend.channels.outbox`).

A crash before the commit rolls all of it back: the batch's events are ``received`` again and
its executions never existed, so the next drain (or the sweeper) claims the batch again. Any
error here (a lost lease, a database error, a fault of one run) rolls the transaction back and
raises :class:`BatchFailed`; the drain then does the batch again in two steps (events and runs
committed first, each run advanced on its own).
"""

from __future__ import annotations

__all__ = ["write_batch", "publish_batch", "BatchFailed", "Written"]

import dataclasses

from flask import current_app
from sqlalchemy import inspect
from sqlalchemy.orm import make_transient_to_detached

from backend.events import emit_trace
from backend.extensions import db
from backend.models import WorkflowExecution
from backend.runtime.bulk import insert_rows
from backend.runtime.runner import (
    CHECKPOINT_GUARD,
    STEP_INSERT,
    LeaseLost,
    LeftBatch,
    Run,
    advance,
    finish_run,
    step_run,
)
from backend.runtime.session import ids_ahead, worker_session


def _batched_run(ex: WorkflowExecution) -> Run:
    run = Run(ex, fresh=True)
    run.batched = run.effects.batched = True
    if ids_ahead():
        run.effects.kept = {}
    run.deferred = []
    return run


def _step_in_memory(run: Run, budget: int) -> Run:
    if run.first_start:
        run.trace("run_started", trigger_node_id=run.trigger_node_id)
    step_run(run, budget)
    return run


def _in_memory(created: list[WorkflowExecution], budget: int) -> tuple[list[Run], list[int]]:
    """Step 1 for every run; returns (the batch's runs, the ids of runs that left it).

    With live channels a run may reach a live send: its own changes are undone (each run has
    a savepoint then) and it is advanced step by step after the batch, as before. Without
    them nothing leaves the batch and no savepoint is needed."""
    if current_app.config.get("OUTBOUND_MODE") != "live":
        return [_step_in_memory(_batched_run(ex), budget) for ex in created], []
    runs, solo = [], []
    for ex in created:
        run = _batched_run(ex)
        try:
            with db.session.begin_nested():
                runs.append(_step_in_memory(run, budget))
        except LeftBatch:
            run.effects.forget_tags()
            solo.append(ex.id)
    return runs, solo


def _insert_pending(runs: list[Run], conn) -> list[Run]:
    """INSERT each still-pending execution with its run's final values (one bulk INSERT per
    shape of row, not the unit of work's executemany), then let the session hold it as the
    stored row it now is; return the runs whose execution was written already (they take the
    guarded UPDATE)."""
    written, shapes, pending = [], {}, []
    for run in runs:
        ex = run.row
        if not inspect(ex).pending:
            written.append(run)
            continue
        for key, value in run.values().items():
            if not key.startswith("b_"):
                setattr(ex, key, value)
        row = {name: ex.__dict__[key] for key, name in _COLUMNS if key in ex.__dict__}
        shapes.setdefault(frozenset(row), []).append(row)
        pending.append(ex)
    for rows in shapes.values():
        insert_rows(conn, WorkflowExecution.__table__, rows)
    for ex in pending:
        db.session.expunge(ex)
        make_transient_to_detached(ex)  # its values are what the row holds: nothing to flush
        db.session.add(ex)
    return written


_COLUMNS = [(attr.key, attr.columns[0].name) for attr in inspect(WorkflowExecution).column_attrs]


def _write(runs: list[Run]) -> None:
    """Step 2: every step and every execution of the batch, then one commit. The guarded
    UPDATEs go as one executemany per shape of row (running / waiting / finished); their
    summed row count tells whether every guard held."""
    conn = db.session.connection()
    written = _insert_pending(runs, conn)
    # The events' outcomes, the effects (tags, notes, internal events...) held by the session.
    db.session.flush()
    insert_rows(conn, STEP_INSERT.table, [row for run in runs for row in run.rows])
    kept: dict = {}  # the runs' notes and captured messages, by table
    for run in runs:
        for table, values in (run.effects.kept or {}).items():
            kept.setdefault(table, []).extend(values)
    for table, values in kept.items():
        insert_rows(conn, table, values)
    shapes: dict[frozenset, list[dict]] = {}
    for run in written:
        values = run.values()
        shapes.setdefault(frozenset(values), []).append(values)
    for group in shapes.values():
        if conn.execute(CHECKPOINT_GUARD, group).rowcount != len(group):
            raise LeaseLost("a run of the batch lost its lease")
    db.session.commit()


class BatchFailed(Exception):
    """The batch's transaction failed and was rolled back (the cause is chained)."""


@dataclasses.dataclass
class Written:
    """A committed batch: its runs (to publish) and the ids of the runs that left it."""

    runs: list[Run]
    solo: list[int]


def write_batch(created: list[WorkflowExecution], budget: int = 500) -> Written:
    """Steps 1 and 2 for the drain's fresh executions, and the commit of the transaction
    they were created in. On any error everything is rolled back and :class:`BatchFailed`
    raised: a lost lease, a database error, or a fault of one run, which must not hold the
    batch's events back (they are processed again, and that run advanced on its own)."""
    with worker_session():
        try:
            runs, solo = _in_memory(created, budget)
            _write(runs)
        except Exception as exc:
            db.session.rollback()
            raise BatchFailed(f"{type(exc).__name__}: {exc}") from exc
    return Written(runs, solo)


def _publish(run: Run) -> None:
    """Step 3 for one run: its traces (now committed), then its next move."""
    traces, run.deferred = run.deferred or [], None
    for kind, data in traces:
        emit_trace(kind, {"id": run.id, "workflow_id": run.workflow_id}, **data)
    finish_run(run)


def publish_batch(written: Written) -> None:
    """Step 3 (see the module docstring)."""
    with worker_session():
        for run in written.runs:
            _publish(run)
        for execution_id in written.solo:
            advance(execution_id)
