"""The runner: advances workflow executions step by step, durably.

One call to :func:`advance` does, in order:

1. take the run's lease (a conditional UPDATE: only one worker advances a run at a time; a
   lease that expired because its worker died can be taken over). A run the drain created a
   moment ago is already leased to this thread and loaded: it skips this and step 2's read;
2. load the checkpointed :class:`graph_engine.RunState` and the (cached) interpreter of the
   workflow version the run started on;
3. step the interpreter; after *every* step write the new state and the step record in one
   transaction, together with the step's database effects (tags, notes, captured messages).
   The UPDATE is guarded by the lease owner and the expected step counter, so a step is never
   recorded twice, even by a worker whose lease was taken over. On PostgreSQL the UPDATE and
   the step INSERT are one statement (``_guarded_step``). A drain batch's fresh runs are
   checkpointed together instead (:mod:`backend.runtime.batch`). The session does not expire objects at commit
   (:func:`backend.runtime.session.worker_session`), so the contact is loaded once per run, not per step;
4. publish the step on Socket.IO (after the commit, so a client never sees an uncommitted step);
5. stop when the run finishes, or when it waits (a wait node, a retry backoff): then a resume
   job is scheduled with ``enqueue_at`` for the resume time. If Redis loses that job the sweeper
   finds the run past its ``resume_at`` and re-dispatches it.

A database outage during a step discards the step (nothing is half-written) and schedules a
retry of the run with backoff; the failed attempt is recorded once the database is back.
"""

from __future__ import annotations

__all__ = [
    "advance",
    "create_execution",
    "dispatch_execution",
    "LeaseLost",
    "LeftBatch",
    # the step machinery that backend.runtime.batch drives for a drain batch's runs
    "Run",
    "step_run",
    "finish_run",
    "CHECKPOINT_GUARD",
    "STEP_INSERT",
]

import dataclasses
import logging
from datetime import datetime, timedelta

import redis
from sqlalchemy import bindparam, insert, or_, select, text, update
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from backend.clock import to_local
from backend.events import emit_trace, is_watched
from backend.extensions import db
from backend.models import StepExecution, Workflow, WorkflowExecution
from backend.queue import get_queue
from backend.runtime import goals
from backend.runtime.clock import utcnow
from backend.runtime.effects import DbEffects
from backend.runtime.freshness import close_waits, refresh
from backend.runtime.interpreters import interpreter_for
from backend.runtime.leases import ACTIVE_STATUSES, DISPATCH, current_job_id, lease_length, owner
from backend.runtime.outage import on_db_error, record_outage, take_outage
from backend.runtime.session import ids_ahead, next_id, worker_session
from backend.services.redaction import has_secret, redact
from graph_engine import RunState

log = logging.getLogger(__name__)
WE = WorkflowExecution
_STATE_FIELDS = tuple(f.name for f in dataclasses.fields(RunState))

# Checkpoint statements, built once so SQLAlchemy reuses their compiled form (Core, on the
# tables: no ORM session synchronisation). The UPDATE's SET clause comes from the parameter
# names; ``b_*`` are the guard: this run, still leased to this thread, at the expected step,
# still active (the status list written out: an expanding IN cannot go into the executemany of
# backend.runtime.batch, which writes a batch's runs with this same guard).
_T, _ST = WE.__table__, StepExecution.__table__
CHECKPOINT_GUARD = update(_T).where(
    _T.c.id == bindparam("b_id"),
    _T.c.lease_owner == bindparam("b_owner"),
    _T.c.step_count == bindparam("b_count"),
    text(f"status IN ({', '.join(repr(s) for s in ACTIVE_STATUSES)})"),
)
_GUARDED = CHECKPOINT_GUARD.returning(_T.c.id)
# Every checkpoint commits with ``synchronous_commit`` on (PostgreSQL's default): a committed
# step survives a crash of the database server too. What makes checkpoints cheap is the batch
# (backend.runtime.batch: one commit for a drain batch's runs), not a weaker commit.
STEP_INSERT = insert(_ST)
_STEP_COLS = [c.name for c in _ST.columns if c.name != "id"]
_combined: dict = {}


def _guarded_step(keys: frozenset):
    """PostgreSQL: the guarded UPDATE and the step INSERT in one statement (one round trip)::

        WITH u AS (UPDATE workflow_executions SET ... WHERE <guard> RETURNING id)
        INSERT INTO step_executions (...) SELECT <the step's values> FROM u RETURNING id

    No row comes back when the guard fails (nothing was written). One statement per set of
    updated columns (three: running, waiting, finished), built once."""
    stmt = _combined.get(keys)
    if stmt is None:
        u = CHECKPOINT_GUARD.values({k: bindparam(f"v_{k}", type_=_T.c[k].type) for k in keys})
        u = u.returning(_T.c.id.label("guarded")).cte("u")
        row = select(*[bindparam(f"s_{c}", type_=_ST.c[c].type) for c in _STEP_COLS])
        stmt = insert(_ST).from_select(_STEP_COLS, row.select_from(u)).returning(_ST.c.id)
        _combined[keys] = stmt
    return stmt


class LeaseLost(Exception):
    """Another worker owns the run now (or it was cancelled): stop advancing it."""


class LeftBatch(Exception):
    """Batch mode: the run reached a live send; it is advanced step by step instead."""


def create_execution(
    workflow: Workflow,
    trigger_node_id: str,
    context: dict,
    *,
    event_id=None,
    contact_id=None,
    lease_owner: str | None = None,
    defer_insert: bool = False,
) -> WorkflowExecution:
    """Add a pending execution (not committed) with its initial run state.

    ``workflow``: a :class:`Workflow` or any row with its ``id``, ``version`` and ``name``.

    ``lease_owner`` defaults to this thread: the caller runs it right after committing.
    Pass :data:`DISPATCH` when it is handed to the queue instead. ``defer_insert``
    (PostgreSQL): take the id from the sequence and leave the INSERT to the next flush. A
    drain batch flushes once its runs are done (:mod:`backend.runtime.batch`), so the one
    INSERT carries the run's final state; any query before that flushes it earlier (then the
    batch UPDATEs it), so the batch's own reads (limits counting runs) still see it.
    """
    now = utcnow()
    ex = WE(
        workflow_id=workflow.id,
        workflow_version=workflow.version,
        event_id=event_id,
        contact_id=contact_id,
        trigger_node_id=trigger_node_id,
        status="pending",
        step_count=0,  # a pending row has no column defaults yet, and the run reads it
        lease_owner=lease_owner or owner(),
        lease_expires_at=now + lease_length(),
        created_at=now,
        **_job(),
    )
    if defer_insert and ids_ahead():
        ex.id = next_id(WE.__tablename__)
        db.session.add(ex)
    else:
        db.session.add(ex)
        db.session.flush()
    interp = interpreter_for(workflow.id, workflow.version)
    # ``start`` fills in the context's ``workflow`` and ``execution`` entries: those two are
    # this run's own; the rest is shared with the event's other runs until ``redact`` copies
    # every dict and list of the state (no deepcopy needed, before or after).
    ctx = {
        **context,
        "workflow": {"id": workflow.id, "name": workflow.name, "timezone": interp.graph.timezone},
        "execution": dict(context.get("execution") or {}),
    }
    state = interp.start(trigger_node_id, ctx, execution_id=str(ex.id))
    ex.state = redact({f: getattr(state, f) for f in _STATE_FIELDS})
    return ex


def dispatch_execution(execution_id: int, *, at: datetime | None = None, **kwargs) -> bool:
    """Queue ``execute_workflow_action`` (or ``resume_workflow`` at ``at``); False if Redis is
    down (the sweeper re-dispatches the run when its lease expires)."""
    try:
        queue = get_queue()
        if at is None:
            queue.enqueue(
                "backend.jobs.execute_workflow_action",
                args=(execution_id,),
                kwargs=kwargs,
                result_ttl=0,
                failure_ttl=86400,
            )
        else:
            # ``at`` is database time; RQ promotes by the local clock (see backend.clock).
            queue.enqueue_at(
                to_local(at),
                "backend.jobs.resume_workflow",
                execution_id,
                result_ttl=0,
                failure_ttl=86400,
            )
        return True
    except redis.RedisError as exc:
        log.warning("cannot dispatch execution %s (the sweeper will): %s", execution_id, exc)
        return False


def _job() -> dict:
    """``rq_job_id`` of the job taking a run (nothing outside a job: keep the last one)."""
    job_id = current_job_id()
    return {"rq_job_id": job_id} if job_id else {}


def _acquire(execution_id: int, also: tuple = ()) -> bool:
    now = utcnow()  # leases and resume times are database time, whichever worker wrote them
    stmt = (
        update(WE)
        .where(
            WE.id == execution_id,
            WE.status.in_(ACTIVE_STATUSES),
            or_(
                WE.status != "waiting",
                WE.resume_at.is_(None),
                WE.resume_at <= now + timedelta(seconds=1),
            ),
            or_(
                WE.lease_owner.is_(None),
                WE.lease_expires_at < now,
                WE.lease_owner.in_((owner(), DISPATCH, *also)),
            ),
        )
        .values(lease_owner=owner(), lease_expires_at=now + lease_length(), **_job())
    )
    taken = db.session.execute(stmt).rowcount == 1
    db.session.commit()
    return taken


def _error_text(error: dict | None) -> str | None:
    if not error:
        return None
    return f"{error.get('type', 'Error')}: {error.get('message', '')}"[:10_000]


def _step_row(execution_id: int, seq: int, record) -> dict:
    return {
        "execution_id": execution_id,
        "seq": seq,
        "node_id": record.node_id,
        "node_type": record.type,
        "attempt": record.attempt,
        "status": record.status,
        "port": record.port,
        "input": redact(record.input),
        "output": redact(record.output),
        "error": _error_text(record.error),
        "started_at": record.started_at,
        "finished_at": record.finished_at,
        "duration_ms": record.duration_ms,
    }


class Run:
    """The in-memory side of one :func:`advance` call."""

    def __init__(self, ex: WorkflowExecution, *, fresh: bool = False):
        self.id, self.workflow_id, self.trigger_node_id = ex.id, ex.workflow_id, ex.trigger_node_id
        # A fresh run's row: a drain batch gives it the final values while it is pending.
        self.row = ex if fresh else None
        self.step_count, self.status = ex.step_count, ex.status
        self.started_at = ex.started_at or utcnow()
        self.first_start = ex.started_at is None
        self.interp = interpreter_for(ex.workflow_id, ex.workflow_version)
        self.effects = DbEffects(
            ex.id,
            event_id=ex.event_id,
            test_recipients_only=bool(self.interp.graph.settings.get("test_recipients_only")),
        )
        # A run created just now (``fresh``) takes its stored state without a copy: that state
        # is already create_execution's own redacted copy, and nothing else reads it.
        self.state = RunState.from_dict(ex.state, copy_data=not fresh)
        # The stored state was redacted; "clean" = no secret-looking key anywhere in it, so
        # checkpoints may store it as is (see _state_value).
        self.clean = not has_secret(ex.state)
        # user / conversation: the objects last checked (the interpreter replaces, never
        # mutates, them)
        self._seen = {k: self.state.context.get(k) for k in ("user", "conversation")}
        self.pg = db.engine.dialect.name == "postgresql"
        self.in_flight: str | None = None  # the node whose step is not committed yet
        # Batch mode (backend.runtime.batch): steps are kept here and written by the batch,
        # traces wait in ``deferred`` until the batch has committed.
        self.batched, self.base_count = False, self.step_count
        self.rows: list[dict] = []
        self.deferred: list[tuple[str, dict]] | None = None
        self.closed_waits: set[tuple[str, str]] = set()  # (wait node, its due time) closed

    @property
    def watched(self) -> bool:
        return is_watched(self.workflow_id)

    def trace(self, kind: str, **data) -> None:
        if self.deferred is not None:
            self.deferred.append((kind, data))
            return
        emit_trace(kind, {"id": self.id, "workflow_id": self.workflow_id}, **data)

    def _track_secrets(self, record) -> None:
        """Whether the state is still clean after ``record``'s step: only the step's own
        context entries can have changed (its output, ``user``, ``conversation``)."""
        if self.clean and record is not None:
            ctx = self.state.context
            for key, seen in self._seen.items():
                if ctx.get(key) is not seen and has_secret(ctx.get(key)):
                    self.clean = False
                self._seen[key] = ctx.get(key)
            if has_secret(ctx.get("nodes", {}).get(record.node_id)):
                self.clean = False

    def _state_value(self, record) -> dict:
        """The state to store, with no secret in it: while no step put a secret-looking key in
        it the state is stored without a copy (it is serialised right away), otherwise it is
        redacted as a whole, as before."""
        self._track_secrets(record)
        raw = {f: getattr(self.state, f) for f in _STATE_FIELDS}
        return raw if self.clean else redact(raw)

    def values(self, record=None) -> dict:
        """The execution row's new values for a checkpoint (``b_*``: the guard)."""
        state, now = self.state, utcnow()
        status = state.status
        values = {
            "state": self._state_value(record),
            "status": status,
            "step_count": self.step_count + (1 if record else 0),
            "started_at": self.started_at,
            "error": _error_text(state.error),
            "b_id": self.id,
            "b_owner": owner(),
            "b_count": self.base_count if self.batched else self.step_count,
        }
        if status == "running":
            values.update(lease_expires_at=now + lease_length(), resume_at=None)
        elif status == "waiting":
            resume = datetime.fromisoformat(state.resume_at) if state.resume_at else None
            values.update(lease_owner=None, lease_expires_at=None, resume_at=resume)
        else:
            values.update(
                lease_owner=None,
                lease_expires_at=None,
                resume_at=None,
                finished_at=now,
                duration_ms=(now - self.started_at).total_seconds() * 1000,
            )
        return values

    def checkpoint(self, record=None) -> None:
        """Write state (+ the step record) in one transaction, guarded by lease and counter.
        Batch mode: keep the step row for the batch's single write instead."""
        if self.batched:
            self._track_secrets(record)  # step by step; the state is built once, at the end
            if record is not None:
                self.rows.append(_step_row(self.id, self.step_count + 1, record))
                self.step_count += 1
            self.status = self.state.status
            return
        status, values = self.state.status, self.values(record)
        conn = db.session.connection()
        if self.pg and record is not None:
            params = {
                f"s_{k}": v for k, v in _step_row(self.id, self.step_count + 1, record).items()
            }
            params.update((k if k.startswith("b_") else f"v_{k}", v) for k, v in values.items())
            keys = frozenset(k for k in values if not k.startswith("b_"))
            written = len(conn.execute(_guarded_step(keys), params).all()) == 1
        else:
            written = len(conn.execute(_GUARDED, values).all()) == 1
            if written and record is not None:
                conn.execute(STEP_INSERT, _step_row(self.id, self.step_count + 1, record))
        if not written:
            db.session.rollback()
            raise LeaseLost(f"execution {self.id}: lease lost")
        db.session.commit()
        if record is not None:
            self.step_count += 1
        self.status = status


def _next_node(state: RunState, now: datetime) -> str | None:
    """The node the next step will most likely run (for the ``step_started`` trace)."""
    for item in state.frontier:
        nb = item.get("not_before")
        if nb is None or datetime.fromisoformat(nb) <= now:
            return item["node_id"]
    return None


def _preview(output, limit: int = 500) -> str:
    text = repr(redact(output))
    return text if len(text) <= limit else text[:limit] + "…"


def step_run(run: Run, budget: int) -> None:
    """Step until the run leaves ``running`` or the budget is spent; checkpoint each step."""
    state = run.state
    for _ in range(budget):
        watched = run.watched  # trace data is only built when someone watches the workflow
        # One instant per step: the waits over by then are closed first, and the interpreter
        # picks the item to run by the same instant, so no wait's successor runs while its
        # record still says "waiting". (A fresh run of a drain batch has no wait over.)
        now = run.effects.now()
        if not run.batched:
            close_waits(run, now)
        # The node in flight: an outage before its checkpoint commits is recorded against it.
        run.in_flight = node = _next_node(state, now)
        if node is not None and watched:
            run.trace("step_started", node_id=node, step=run.step_count + 1)
        record = run.interp.step(state, run.effects, now)
        run.in_flight = record.node_id if record is not None else node
        if run.effects.db_error is not None:
            raise run.effects.db_error
        if run.effects.left_batch:
            raise LeftBatch(run.id)
        run.checkpoint(record)
        run.in_flight = None
        if record is not None and watched:
            run.trace(
                "step_finished",
                node_id=record.node_id,
                step=run.step_count,
                status=record.status,
                port=record.port,
                duration_ms=record.duration_ms,
                attempt=record.attempt,
                error=_error_text(record.error),
                output_preview=_preview(record.output),
            )
        if state.status != "running":
            return


def finish_run(run: Run) -> None:
    state = run.state
    if state.status == "waiting":
        run.trace("run_waiting", resume_at=state.resume_at)
        if state.resume_at:
            dispatch_execution(run.id, at=datetime.fromisoformat(state.resume_at))
    elif state.status in ("succeeded", "failed"):
        run.trace(
            "run_finished",
            status=state.status,
            error=_error_text(state.error),
            steps=run.step_count,
        )
    else:  # budget spent: hand over to a fresh job so other runs get a turn
        db.session.execute(update(WE).where(WE.id == run.id).values(lease_owner=DISPATCH))
        db.session.commit()
        dispatch_execution(run.id)


def _start(execution_id: int, note: dict | None, fresh: WorkflowExecution | None):
    """Lease the run and build its :class:`Run`; None when another worker has it.

    ``fresh``: a run this thread created and committed just now, leased to it and loaded
    (:func:`backend.runtime.processing.drain`): no lease to take, no row to reload, no
    interrupted attempt to record."""
    if fresh is not None and fresh.lease_owner == owner() and note is None:
        return Run(fresh, fresh=True), None
    also = (note["owner"],) if note and note.get("owner") else ()
    if not _acquire(execution_id, also):
        return None, None
    ex = db.session.get(WE, execution_id, populate_existing=True)
    graph = interpreter_for(ex.workflow_id, ex.workflow_version).graph
    if goals.exit_on_resume(ex, graph.settings.get("goals")):
        return None, None  # reached a goal while it waited: converted, nothing more runs
    run = Run(ex)
    refresh(ex.contact_id, run.state)  # the contact as it is now
    note = take_outage(execution_id, note)
    if note and note.get("node_id"):
        record_outage(run.id, run.step_count, note)
        run.step_count += 1
    return run, note


def advance(
    execution_id: int,
    *,
    note: dict | None = None,
    budget: int = 500,
    fresh: WorkflowExecution | None = None,
) -> str:
    """Run an execution until it finishes or waits; return its status (``busy`` if another
    worker holds it, ``gone`` if it does not exist or is finished)."""
    run = None
    with worker_session():
        try:
            run, note = _start(execution_id, note, fresh)
            if run is None:
                ex = db.session.get(WE, execution_id)
                return "busy" if ex is not None and ex.status in ACTIVE_STATUSES else "gone"
            if run.first_start:
                run.trace("run_started", trigger_node_id=run.trigger_node_id)
            step_run(run, budget)
            finish_run(run)
            return run.state.status
        except LeaseLost as exc:
            log.info("%s", exc)
            return "busy"
        except (DBAPIError, SQLAlchemyError) as exc:
            on_db_error(execution_id, exc, run.in_flight if run else None, note)
            return "retrying"
