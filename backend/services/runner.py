"""The runner: advances workflow executions step by step, durably.

One call to :func:`advance` does, in order:

1. take the run's lease (a conditional UPDATE: only one worker advances a run at a time; a
   lease that expired because its worker died can be taken over);
2. load the checkpointed :class:`graph_engine.RunState` and the (cached) interpreter of the
   workflow version the run started on;
3. step the interpreter; after *every* step write the new state and the step record in one
   transaction, together with the step's database effects (tags, notes, captured messages).
   The UPDATE is guarded by the lease owner and the expected step counter, so a step is never
   recorded twice, even by a worker whose lease was taken over;
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
    "owner",
    "LeaseLost",
    "DISPATCH",
    "ACTIVE_STATUSES",
]

import contextlib
import copy
import json
import logging
import os
import socket
import threading
import uuid
from datetime import datetime, timedelta

import redis
from flask import current_app
from sqlalchemy import insert, or_, select, update
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from backend.events import emit_trace
from backend.extensions import db
from backend.models import StepExecution, Workflow, WorkflowExecution, WorkflowVersion, utcnow
from backend.queue import get_queue
from backend.services.effects import DbEffects
from backend.services.redaction import redact
from graph_engine.interpreter import Interpreter
from graph_engine.run_state import RunState

log = logging.getLogger(__name__)
WE = WorkflowExecution
ACTIVE_STATUSES = ("pending", "running", "waiting")
#: Lease owner of runs handed to the queue but not yet taken by a worker.
DISPATCH = "dispatch"
_PROCESS = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
_interpreters: dict = {}  # (db, workflow id, version, thread) -> Interpreter


class LeaseLost(Exception):
    """Another worker owns the run now (or it was cancelled): stop advancing it."""


def owner() -> str:
    """This thread's lease-owner name (host, pid, process nonce, thread)."""
    return f"{_PROCESS}:{threading.get_ident()}"


def _lease() -> timedelta:
    return timedelta(seconds=current_app.config.get("RUN_LEASE_SECONDS", 60))


def interpreter_for(workflow_id: int, version: int) -> Interpreter:
    """The interpreter of one workflow version, built once per process and thread."""
    from backend.services.discovery import cached_version

    key = (str(db.engine.url), workflow_id, version, threading.get_ident())
    seen = cached_version()
    if _interpreters.get("version") != seen:
        _interpreters.clear()
        _interpreters["version"] = seen
    interp = _interpreters.get(key)
    if interp is None:
        graph = db.session.scalar(
            select(WorkflowVersion.graph).filter_by(workflow_id=workflow_id, version=version)
        )
        if graph is None:
            graph = db.session.get(Workflow, workflow_id).graph
        interp = Interpreter(graph, workflow_id=workflow_id)
        if len(_interpreters) > 2000:
            _interpreters.clear()
        _interpreters[key] = interp
    return interp


def create_execution(
    workflow: Workflow, trigger_node_id: str, context: dict, *, event_id=None, contact_id=None,
    lease_owner: str | None = None,
) -> WorkflowExecution:  # fmt: skip
    """Add a pending execution (not committed) with its initial run state.

    ``lease_owner`` defaults to this thread: the caller runs it right after committing.
    Pass :data:`DISPATCH` when it is handed to the queue instead.
    """
    now = utcnow()
    ex = WE(
        workflow_id=workflow.id, workflow_version=workflow.version, event_id=event_id,
        contact_id=contact_id, trigger_node_id=trigger_node_id, status="pending",
        lease_owner=lease_owner or owner(), lease_expires_at=now + _lease(), created_at=now,
    )  # fmt: skip
    db.session.add(ex)
    db.session.flush()
    interp = interpreter_for(workflow.id, workflow.version)
    ctx = copy.deepcopy(context)
    ctx["workflow"] = {"id": workflow.id, "name": workflow.name,
                       "timezone": interp.graph.timezone}  # fmt: skip
    state = interp.start(trigger_node_id, ctx, execution_id=str(ex.id))
    ex.state = redact(state.to_dict())
    return ex


def dispatch_execution(execution_id: int, *, at: datetime | None = None, **kwargs) -> bool:
    """Queue ``execute_workflow_action`` (or ``resume_workflow`` at ``at``); False if Redis is
    down (the sweeper re-dispatches the run when its lease expires)."""
    try:
        queue = get_queue()
        if at is None:
            queue.enqueue("backend.jobs.execute_workflow_action", args=(execution_id,),
                          kwargs=kwargs, result_ttl=0, failure_ttl=86400)  # fmt: skip
        else:
            queue.enqueue_at(at, "backend.jobs.resume_workflow", execution_id, result_ttl=0,
                             failure_ttl=86400)  # fmt: skip
        return True
    except redis.RedisError as exc:
        log.warning("cannot dispatch execution %s (the sweeper will): %s", execution_id, exc)
        return False


def _acquire(execution_id: int, also: tuple = ()) -> bool:
    now = utcnow()
    stmt = (
        update(WE)
        .where(
            WE.id == execution_id,
            WE.status.in_(ACTIVE_STATUSES),
            or_(WE.status != "waiting", WE.resume_at.is_(None),
                WE.resume_at <= now + timedelta(seconds=1)),
            or_(WE.lease_owner.is_(None), WE.lease_expires_at < now,
                WE.lease_owner.in_((owner(), DISPATCH, *also))),
        )
        .values(lease_owner=owner(), lease_expires_at=now + _lease())
    )  # fmt: skip
    taken = db.session.execute(stmt).rowcount == 1
    db.session.commit()
    return taken


def _error_text(error: dict | None) -> str | None:
    if not error:
        return None
    return f"{error.get('type', 'Error')}: {error.get('message', '')}"[:10_000]


def _step_row(execution_id: int, seq: int, record) -> dict:
    return {
        "execution_id": execution_id, "seq": seq, "node_id": record.node_id,
        "node_type": record.type, "attempt": record.attempt, "status": record.status,
        "port": record.port, "input": redact(record.input), "output": redact(record.output),
        "error": _error_text(record.error), "started_at": record.started_at,
        "finished_at": record.finished_at, "duration_ms": record.duration_ms,
    }  # fmt: skip


class _Run:
    """The in-memory side of one :func:`advance` call."""

    def __init__(self, ex: WorkflowExecution):
        self.id, self.workflow_id = ex.id, ex.workflow_id
        self.step_count, self.status = ex.step_count, ex.status
        self.started_at = ex.started_at or utcnow()
        self.first_start = ex.started_at is None
        self.interp = interpreter_for(ex.workflow_id, ex.workflow_version)
        self.effects = DbEffects(ex.id)
        self.interp.effects = self.effects
        self.state = RunState.from_dict(ex.state)

    def trace(self, kind: str, **data) -> None:
        emit_trace(kind, {"id": self.id, "workflow_id": self.workflow_id}, **data)

    def checkpoint(self, record=None) -> None:
        """Write state (+ the step record) in one transaction, guarded by lease and counter."""
        state, now = self.state, utcnow()
        status = state.status
        values = {"state": redact(state.to_dict()), "status": status,
                  "step_count": self.step_count + (1 if record else 0),
                  "started_at": self.started_at, "error": _error_text(state.error)}  # fmt: skip
        if status == "running":
            values.update(lease_expires_at=now + _lease(), resume_at=None)
        elif status == "waiting":
            resume = datetime.fromisoformat(state.resume_at) if state.resume_at else None
            values.update(lease_owner=None, lease_expires_at=None, resume_at=resume)
        else:
            values.update(lease_owner=None, lease_expires_at=None, resume_at=None, finished_at=now,
                          duration_ms=(now - self.started_at).total_seconds() * 1000)  # fmt: skip
        stmt = update(WE).where(
            WE.id == self.id, WE.lease_owner == owner(), WE.step_count == self.step_count,
            WE.status.in_(ACTIVE_STATUSES),
        )  # fmt: skip
        if db.session.execute(stmt.values(**values)).rowcount != 1:
            db.session.rollback()
            raise LeaseLost(f"execution {self.id}: lease lost")
        if record is not None:
            db.session.execute(insert(StepExecution).values(
                **_step_row(self.id, self.step_count + 1, record)))  # fmt: skip
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


def _record_outage(run: _Run, note: dict) -> None:
    """Record the attempt a database outage interrupted, now that the database is back."""
    db.session.execute(insert(StepExecution).values(
        execution_id=run.id, seq=run.step_count + 1, node_id=note.get("node_id") or "?",
        node_type=note.get("node_type") or "", attempt=int(note.get("attempt", 1)),
        status="failed", error=str(note.get("error", ""))[:10_000], input=None, output=None,
        started_at=utcnow(), finished_at=utcnow(), duration_ms=0.0,
    ))  # fmt: skip
    db.session.execute(update(WE).where(WE.id == run.id).values(step_count=run.step_count + 1))
    db.session.commit()
    run.step_count += 1


def _preview(output, limit: int = 500) -> str:
    text = repr(redact(output))
    return text if len(text) <= limit else text[:limit] + "…"


def _steps(run: _Run, budget: int) -> None:
    """Step until the run leaves ``running`` or the budget is spent; checkpoint each step."""
    state = run.state
    for _ in range(budget):
        now = run.effects.now()
        node = _next_node(state, now)
        if node is not None:
            run.trace("step_started", node_id=node, step=run.step_count + 1)
        record = run.interp.step(state)
        if run.effects.db_error is not None:
            raise run.effects.db_error
        run.checkpoint(record)
        if record is not None:
            run.trace("step_finished", node_id=record.node_id, step=run.step_count,
                      status=record.status, port=record.port, duration_ms=record.duration_ms,
                      attempt=record.attempt, error=_error_text(record.error),
                      output_preview=_preview(record.output))  # fmt: skip
        if state.status != "running":
            return


def _finish(run: _Run) -> None:
    state = run.state
    if state.status == "waiting":
        run.trace("run_waiting", resume_at=state.resume_at)
        if state.resume_at:
            dispatch_execution(run.id, at=datetime.fromisoformat(state.resume_at))
    elif state.status in ("succeeded", "failed"):
        run.trace("run_finished", status=state.status, error=_error_text(state.error),
                  steps=run.step_count)  # fmt: skip
    else:  # budget spent: hand over to a fresh job so other runs get a turn
        db.session.execute(update(WE).where(WE.id == run.id).values(lease_owner=DISPATCH))
        db.session.commit()
        dispatch_execution(run.id)


def _on_db_error(execution_id: int, exc: Exception, run: _Run | None, note: dict | None) -> None:
    with contextlib.suppress(SQLAlchemyError):
        db.session.rollback()
    attempt = int((note or {}).get("attempt", 0)) + 1
    node = _next_node(run.state, utcnow()) if run else None
    log.warning("execution %s: database error (attempt %s), retrying: %s", execution_id,
                attempt, exc)  # fmt: skip
    retry_note = {"node_id": node or (note or {}).get("node_id"), "owner": owner(),
                  "error": f"database unavailable: {exc}"[:2000], "attempt": attempt}  # fmt: skip
    _remember_outage(execution_id, retry_note)
    delay = min(2 ** (attempt - 1), 30)
    # Redis down too: the lease expires and the sweeper re-dispatches the run.
    with contextlib.suppress(redis.RedisError):
        get_queue().enqueue_in(timedelta(seconds=delay), "backend.jobs.execute_workflow_action",
                               args=(execution_id,), kwargs={"note": retry_note},
                               result_ttl=0)  # fmt: skip


_outages: dict[int, dict] = {}
_OUTAGE_KEY = "fm:outage:{}"


def _remember_outage(execution_id: int, note: dict) -> None:
    """Keep the interrupted attempt until some worker can record it (this process + Redis:
    the sweeper may hand the run to another worker before the retry job runs)."""
    _outages[execution_id] = note
    with contextlib.suppress(redis.RedisError):
        get_queue().connection.set(_OUTAGE_KEY.format(execution_id), json.dumps(note), ex=3600)


def _take_outage(execution_id: int, note: dict | None) -> dict | None:
    local = _outages.pop(execution_id, None)
    try:
        raw = get_queue().connection.getdel(_OUTAGE_KEY.format(execution_id))
    except redis.RedisError:
        raw = None
    stored = json.loads(raw) if raw else None
    return note or local or stored


def advance(execution_id: int, *, note: dict | None = None, budget: int = 500) -> str:
    """Run an execution until it finishes or waits; return its status (``busy`` if another
    worker holds it, ``gone`` if it does not exist or is finished)."""
    run = None
    try:
        also = (note["owner"],) if note and note.get("owner") else ()
        if not _acquire(execution_id, also):
            ex = db.session.get(WE, execution_id)
            return "busy" if ex is not None and ex.status in ACTIVE_STATUSES else "gone"
        ex = db.session.get(WE, execution_id, populate_existing=True)
        run = _Run(ex)
        note = _take_outage(execution_id, note)
        if note and note.get("node_id"):
            _record_outage(run, note)
        if run.first_start:
            run.trace("run_started", trigger_node_id=ex.trigger_node_id)
        _steps(run, budget)
        _finish(run)
        return run.state.status
    except LeaseLost as exc:
        log.info("%s", exc)
        return "busy"
    except (DBAPIError, SQLAlchemyError) as exc:
        _on_db_error(execution_id, exc, run, note)
        return "retrying"


# Cancel / retry / manual start live in run_control (they import this module).
from backend.services.run_control import cancel, retry, start_manual  # noqa: E402

__all__ += ["cancel", "retry", "start_manual"]
